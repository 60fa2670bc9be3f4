"""VCF/BCF reader (tmbcalc.io.vcf over the _vcfscan kernel).

Expectations come from: bcftools query output, pysam.VariantFile read through a small pure-Python
reference implementation written here, or values known by construction of generated VCFs.
"""
from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pysam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tmbcalc import annotation
from tmbcalc.contigs import canonical
from tmbcalc.errors import InputError
from tmbcalc.io.vcf import describe_missing, inspect_vcf, read_vcf
from tmbcalc.variants import COLUMNS, allele_key

from .conftest import run_tool

PCGR = "somatic/pcgr_examples"
STRELKA = "bam/strelka_demo"
EXAC = "popfreq_hotspots/vcfanno_exac_subset"

NAN = float("nan")


# ------------------------------------------------------------------------------------------------
# pure-Python reference pieces
# ------------------------------------------------------------------------------------------------
def ref_vtype(ref: str, alt: str) -> int:
    if alt.startswith("<") or alt == "*" or "[" in alt or "]" in alt:
        return 4
    if len(ref) == 1 and len(alt) == 1:
        return 0
    if len(ref) == len(alt):
        return 1
    if ref[0].upper() != alt[0].upper():
        return 4
    return 2 if len(alt) > len(ref) else 3


def ref_filter(keys: list[str]) -> int:
    if not keys:
        return 1
    return 0 if keys == ["PASS"] else 2


def num(x) -> float:
    if x is None or x == "." or x == "":
        return NAN
    return float(x)


def as_int(x: float) -> int:
    return -1 if x is None or (isinstance(x, float) and math.isnan(x)) else int(round(x))


def csq_fields(vf: pysam.VariantFile, tag: str) -> list[str]:
    desc = vf.header.info[tag].description
    text = desc.split("Format:")[1] if tag == "CSQ" else desc.split(":", 1)[1]
    return [f.strip().strip("'\" ") for f in text.strip().strip("'\"").split("|")]


def ref_csq(value, fields: list[str], alts: list[str], ref: str, pick: str, tag: str = "CSQ",
            pop_fields: tuple[str, ...] = ()) -> list[tuple[int, float]]:
    """(class code, max pop AF from sub-fields) per ALT, from a CSQ/ANN INFO value."""
    entries = list(value) if isinstance(value, tuple) else ([] if value is None else value.split(","))
    per = [[] for _ in alts]
    trim = all(a and a[0].upper() == ref[0].upper() and not a.startswith("<") and a != "*"
               for a in alts)
    for e in entries:
        f = dict(zip(fields, e.split("|")))
        if len(alts) == 1:
            target = [0]
        elif f.get("ALLELE_NUM"):
            target = [int(f["ALLELE_NUM"]) - 1]
        else:
            al = f.get("Allele", "")
            target = [i for i, a in enumerate(alts)
                      if al.upper() == a.upper() or (trim and al.upper() == (a[1:] or "-").upper())][:1]
            if not target:
                target = list(range(len(alts)))
        for t in target:
            per[t].append(f)
    out = []
    cons_key = "Consequence" if tag == "CSQ" else "Annotation"
    for ents in per:
        allc = annotation.most_severe([f.get(cons_key, "") for f in ents])
        code = allc
        if pick == "canonical":
            if tag == "CSQ":
                can = [f for f in ents if f.get("CANONICAL") == "YES"]
            else:
                can = ents[:1]
            if can:
                code = annotation.most_severe([can[0].get(cons_key, "")])
        afs = [float(v) for f in ents for p in pop_fields for v in f.get(p, "").split("&")
               if v not in ("", ".")]
        out.append((code, max(afs) if afs else NAN))
    return out


def assert_col(table, name, expected, atol=1e-7):
    got = table[name]
    exp = np.asarray(expected, dtype=COLUMNS[name])
    assert got.dtype == np.dtype(COLUMNS[name]), name
    if np.issubdtype(exp.dtype, np.floating):
        np.testing.assert_allclose(got, exp, rtol=1e-6, atol=atol, equal_nan=True, err_msg=name)
    else:
        np.testing.assert_array_equal(got, exp, err_msg=name)


def assert_basic_columns(table, rows):
    """rows: list of dicts with record, chrom, pos0, ref, alt, ai, n_alts, filter."""
    assert len(table) == len(rows)
    names = [table.contigs[i] for i in table["contig"]]
    assert names == [canonical(r["chrom"]) for r in rows]
    for col, key in (("record", "record"), ("pos", "pos0"), ("allele_index", "ai"),
                     ("n_alts", "n_alts"), ("filter", "filter")):
        assert_col(table, col, [r[key] for r in rows])
    assert_col(table, "ref_len", [len(r["ref"]) for r in rows])
    assert_col(table, "alt_len", [len(r["alt"]) for r in rows])
    assert_col(table, "vtype", [ref_vtype(r["ref"], r["alt"]) for r in rows])
    assert_col(table, "allele_key", [allele_key(r["ref"], r["alt"]) for r in rows])
    assert_col(table, "sample", [0] * len(rows))
    for i, r in enumerate(rows):
        assert table.alleles(i) == (r["ref"], r["alt"])


def pysam_rows(path: Path) -> list[dict]:
    rows = []
    with pysam.VariantFile(str(path)) as vf:
        for k, rec in enumerate(vf):
            for ai, alt in enumerate(rec.alts or (), 1):
                rows.append({"record": k, "chrom": rec.chrom, "pos0": rec.pos - 1, "ref": rec.ref,
                             "alt": alt, "ai": ai, "n_alts": len(rec.alts),
                             "filter": ref_filter(list(rec.filter.keys())), "rec": rec})
    return rows


# ------------------------------------------------------------------------------------------------
# real data
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["T001-BRCA.grch37.vcf.gz", "T001-BRCA.grch38.vcf.gz",
                                  "T001-COAD.grch37.vcf.gz", "T001-COAD.grch38.vcf.gz"])
def test_pcgr_against_bcftools_query(shared, name):
    path = shared / PCGR / name
    out = run_tool("bcftools", "query", "-f",
                   "%CHROM\t%POS\t%REF\t%ALT\t%FILTER\t%INFO/TVAF\t%INFO/TDP[\t%DPT\t%ADT\t%DPC\t%ADC]\n",
                   str(path))
    rows = []
    for k, line in enumerate(out.splitlines()):
        chrom, pos, ref, alts, filt, tvaf, tdp, dpt, adt, dpc, adc = line.split("\t")
        alts = alts.split(",")
        adt_v = [num(x) for x in adt.split(",")]
        adc_v = [num(x) for x in adc.split(",")]
        for ai, alt in enumerate(alts, 1):
            rows.append({"record": k, "chrom": chrom, "pos0": int(pos) - 1, "ref": ref, "alt": alt,
                         "ai": ai, "n_alts": len(alts),
                         "filter": ref_filter([] if filt == "." else filt.split(";")),
                         "t_vaf": num(tvaf.split(",")[0]),
                         "t_depth": as_int(num(dpt)) if dpt != "." else as_int(num(tdp)),
                         "t_alt": as_int(adt_v[ai]) if len(adt_v) == len(alts) + 1 else -1,
                         "n_depth": as_int(num(dpc)),
                         "n_alt": as_int(adc_v[ai]) if len(adc_v) == len(alts) + 1 else -1})
    table = read_vcf(path)
    assert len(rows) > 100
    assert_basic_columns(table, rows)
    for col in ("t_vaf", "t_depth", "t_alt", "n_depth", "n_alt"):
        assert_col(table, col, [r[col] for r in rows], atol=1e-6)  # bcftools prints 6 digits
    assert np.isnan(table["pop_af"]).all()
    assert (table["csq"] == annotation.UNANNOTATED).all()
    m = table.meta
    assert m["fields"]["t_vaf"].startswith("INFO/TVAF")
    assert m["fields"]["t_depth"].startswith("FORMAT/DPT")
    assert m["consequences"] is None and "csq" in m["missing_fields"]
    assert m["tumor_sample"] == pysam.VariantFile(str(path)).header.samples[0]


@pytest.mark.parametrize("name", ["somatic.snvs.vcf.gz", "somatic.indels.vcf.gz"])
def test_strelka_tier1_counts(shared, name, tmp_path):
    path = shared / STRELKA / name
    plain = tmp_path / "plain.vcf"   # the indel demo is plain gzip, which pysam cannot iterate
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    rows = pysam_rows(plain)
    for r in rows:
        rec = r["rec"]
        for role, s in (("t", "TUMOR"), ("n", "NORMAL")):
            smp = rec.samples[s]
            if "AU" in smp:
                counts = {b: smp[f"{b}U"][0] for b in "ACGT"}
                alt, depth = counts[r["alt"]], sum(counts.values())
                den = counts[r["ref"]] + alt
            else:  # indels: TAR = reads for the reference, TIR = reads for the indel (tier 1)
                alt, depth = smp["TIR"][0], smp["TAR"][0] + smp["TIR"][0]
                den = depth
            r[f"{role}_alt"], r[f"{role}_depth"] = alt, depth
            if role == "t":
                r["t_vaf"] = alt / den if den else NAN
    table = read_vcf(path)
    assert_basic_columns(table, rows)
    for col in ("t_vaf", "t_depth", "t_alt", "n_depth", "n_alt"):
        assert_col(table, col, [r[col] for r in rows])
    assert table.meta["caller"] == "strelka2"
    assert (table.meta["tumor_sample"], table.meta["normal_sample"]) == ("TUMOR", "NORMAL")
    assert table.contigs == ["demo20"] and table.meta["contig_lengths"] == {"demo20": 5000}
    if "snvs" in name:   # one LowEVS record in the SNV demo
        assert (table["filter"] == 2).sum() == 1


@pytest.mark.parametrize("pick", ["most_severe", "canonical"])
def test_exac_vep_csq_and_info_af(shared, pick):
    """Real VEP CSQ (ALLELE_NUM, CANONICAL) and a Number=A INFO AF used as population AF."""
    path = shared / EXAC / "exac.vcf.gz"
    rows = pysam_rows(path)
    with pysam.VariantFile(str(path)) as vf:
        fields = csq_fields(vf, "CSQ")
    for r in rows:
        rec = r["rec"]
        alts = list(rec.alts)
        r["csq"] = ref_csq(rec.info.get("CSQ"), fields, alts, rec.ref, pick)[r["ai"] - 1][0]
        r["pop_af"] = rec.info["AF"][r["ai"] - 1]
    table = read_vcf(path, pop_af_fields=("AF",), csq_pick=pick)
    assert_basic_columns(table, rows)
    assert_col(table, "csq", [r["csq"] for r in rows])
    assert_col(table, "pop_af", [r["pop_af"] for r in rows])
    assert table.meta["build"] == "GRCh37"
    assert table.meta["consequences"] == "CSQ"
    assert table.meta["fields"]["pop_af"] == "max of INFO/AF"
    assert len(set(table["csq"].tolist())) > 2  # the reference is not trivially constant


# (file, tumor sample, convertible to BCF: needs ##contig lines and defined INFO tags)
REAL_VCFS = [
    (f"{PCGR}/T001-COAD.grch38.vcf.gz", None, False), (f"{STRELKA}/somatic.snvs.vcf.gz", None, True),
    (f"{STRELKA}/somatic.indels.vcf.gz", None, True), (f"{EXAC}/exac.vcf.gz", None, True),
    (f"{EXAC}/query.vcf.gz", "NA12877", False),
    ("reference/nucleus_hg19_chr20/test_nist.b37_chr20_100kbp_at_10mb.vcf.gz", None, True),
]


@pytest.mark.parametrize("rel,tumor,bcf_ok", REAL_VCFS)
def test_real_vcfs_record_columns_and_bcf(shared, tmp_path, rel, tumor, bcf_ok):
    """Record-level columns of every staged VCF against pysam; the same content as BCF agrees."""
    path = shared / rel
    plain = tmp_path / "plain.vcf"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    rows = pysam_rows(plain)
    table = read_vcf(path, tumor_sample=tumor)
    assert_basic_columns(table, rows)
    with pysam.VariantFile(str(plain)) as vf:
        assert table.meta["records"] == sum(1 for _ in vf)
    if "nucleus" in rel:   # generic single sample with FORMAT/DP only
        assert_col(table, "t_depth", [r["rec"].samples[0]["DP"] for r in rows])
        assert table.meta["build"] == "GRCh37" and table.contigs[table["contig"][0]] == "20"
    if not bcf_ok:
        return
    bcf = tmp_path / "same.bcf"
    run_tool("bcftools", "view", "-Ob", "-o", str(bcf), str(plain))
    other = read_vcf(bcf, tumor_sample=tumor)
    for col in COLUMNS:
        np.testing.assert_array_equal(table[col], other[col], err_msg=col)


def test_germline_multisample_needs_tumor_argument(shared):
    path = shared / EXAC / "query.vcf.gz"
    with pytest.raises(InputError, match=r"query.vcf.gz: has 3 samples .*tumor_sample.*NA12889"):
        read_vcf(path)
    table = read_vcf(path, tumor_sample="NA12890")
    rows = pysam_rows(path)
    exp_ao, exp_dp, exp_vaf = [], [], []
    for r in rows:   # freebayes: AO (Number=A) alt observations, DP depth
        smp = r["rec"].samples["NA12890"]
        ao = smp.get("AO")
        ao = None if ao is None or len(ao) < r["ai"] else ao[r["ai"] - 1]
        dp = smp.get("DP")
        exp_ao.append(-1 if ao is None else ao)
        exp_dp.append(-1 if dp is None else dp)
        exp_vaf.append(ao / dp if ao is not None and dp else NAN)
    assert_basic_columns(table, rows)
    assert_col(table, "t_alt", exp_ao)
    assert_col(table, "t_depth", exp_dp)
    assert_col(table, "t_vaf", exp_vaf)
    assert table.meta["fields"]["t_alt"] == "FORMAT/AO"
    assert (table["n_depth"] == -1).all() and table.meta["normal_sample"] is None
    assert table.samples == ["NA12890"]
    with pytest.raises(InputError, match="tumor sample 'nobody' is not in the file"):
        read_vcf(path, tumor_sample="nobody")
    sites = read_vcf(path, sites_only=True, pop_af_fields=("AF",))   # e.g. a population resource
    assert sites.samples == [] and (sites["t_depth"] == -1).all()
    assert_col(sites, "pop_af", [r["rec"].info["AF"][r["ai"] - 1] for r in rows])


def test_truncated_real_vcf_gz(shared, tmp_path):
    src = (shared / PCGR / "T001-COAD.grch37.vcf.gz").read_bytes()
    bad = tmp_path / "cut.vcf.gz"
    bad.write_bytes(src[: len(src) // 2])
    with pytest.raises(InputError, match=r"cut.vcf.gz: compressed data is truncated or corrupt"):
        read_vcf(bad)


# ------------------------------------------------------------------------------------------------
# generated VCFs
# ------------------------------------------------------------------------------------------------
M2_HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=germline,Description="germline">
##FILTER=<ID=weak_evidence,Description="weak">
##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 -R ref.fa -I t.bam -I n.bam",Version="4.2.0.0">
##INFO=<ID=gnomADg_AF,Number=A,Type=Float,Description="gnomAD genomes AF">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Feature|CANONICAL|gnomADe_AF|MAX_AF">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr2,length=242193529>
##contig=<ID=chrX,length=156040895>
##contig=<ID=chrM,length=16569>
##normal_sample=NOR
##tumor_sample=TUM
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNOR\tTUM
"""

# (chrom, pos, ref, alts, filter, gnomADg_AF per alt or None,
#  CSQ entries [(alt index 1-based, consequence, canonical, gnomADe_AF, MAX_AF)],
#  normal (AD, AF, DP), tumor (AD, AF, DP))
M2_RECORDS = [
    ("chr1", 1000, "A", ["G"], "PASS", [0.0001], [(1, "missing_variant", "YES", "", ""),
                                                  (1, "intron_variant&non_coding_transcript_variant", "", "0.002", "0.003")],
     ([30, 0], [0.0], 30), ([20, 10], [0.333], 31)),
    ("chr1", 2000, "C", ["T", "CA"], ".", [0.5, None],
     [(1, "synonymous_variant", "YES", "0.1&0.2", ""), (2, "frameshift_variant", "", "", "0.05"),
      (2, "intron_variant", "YES", "", "")],
     ([40, 0, 1], [0.0, 0.02], 41), ([30, 5, 7], [0.12, 0.16], 42)),
    ("chr2", 3000, "ACGT", ["A"], "germline;weak_evidence", None,
     [(1, "splice_region_variant&intron_variant", "", "", ""),
      (1, "inframe_deletion", "YES", "", "")],
     ([25, 2], [0.07], None), ([10, 12], [0.55], None)),
    ("chr2", 6000, "AT", ["GC"], "weak_evidence", None,
     [(1, "missense_variant&splice_region_variant", "YES", "", "1e-05")],
     ([12, 0], [0.0], 12), ([8, 4], [0.33], 12)),
    ("chr2", 7000, "gA", ["tAA"], "PASS", None, [(1, "stop_gained", "", "", "")],
     ([12, 0], [0.0], 12), ([8, 4], [0.33], 12)),
    ("chrX", 3500, "A", ["AT", "AGG"], "PASS", [0.01, 0.02],      # VEP alleles "T", "GG"
     [(2, "frameshift_variant", "", "", ""), (1, "inframe_insertion", "YES", "", "0.3"),
      (2, "synonymous_variant", "YES", "0.4", "")],
     ([20, 0, 0], [0.0, 0.0], 20), ([10, 6, 4], [0.3, 0.2], 20)),
    ("chrX", 3600, "ACG", ["A", "AC"], "PASS", None,                 # VEP alleles "-", "C"
     [(1, "intron_variant", "", "", ""), (2, "stop_lost", "", "", ""), (1, "3_prime_UTR_variant", "YES", "", "")],
     ([20, 0, 0], [0.0, 0.0], 20), ([10, 6, 4], [0.3, 0.2], 20)),
    ("chrX", 4000, "G", ["<DEL>"], "PASS", None, [], ([20, 0], [0.0], 20), ([15, 5], [0.25], 20)),
    ("chrM", 5000, "T", ["C", "*"], "PASS", None,
     [(1, "upstream_gene_variant", "", "", ""), (2, "missense_variant", "", "", "")],
     ([9, 1, 0], [0.1, 0.0], 10), ([5, 3, 2], [0.3, 0.2], 10)),
]


def vep_allele(ref: str, alts: list[str], alt: str) -> str:
    if all(a[0].upper() == ref[0].upper() and not a.startswith("<") and a != "*" for a in alts):
        return alt[1:] or "-"
    return alt


def fmt_sample(s) -> str:
    ad, af, dp = s
    return "0/1:" + ",".join(map(str, ad)) + ":" + ",".join(map(str, af)) + ":" + \
        ("." if dp is None else str(dp))


def write_m2(path: Path) -> None:
    lines = [M2_HEADER]
    for chrom, pos, ref, alts, filt, gaf, csq, nor, tum in M2_RECORDS:
        info = []
        if gaf is not None:
            info.append("gnomADg_AF=" + ",".join("." if x is None else str(x) for x in gaf))
        if csq:
            info.append("CSQ=" + ",".join(
                f"{vep_allele(ref, alts, alts[ai - 1])}|{cons}|MODERATE|GENE|ENST{k}|{can}|{ge}|{mx}"
                for k, (ai, cons, can, ge, mx) in enumerate(csq)))
        lines.append("\t".join([chrom, str(pos), ".", ref, ",".join(alts), ".", filt,
                                ";".join(info) or ".", "GT:AD:AF:DP", fmt_sample(nor),
                                fmt_sample(tum)]) + "\n")
    path.write_text("".join(lines))


def m2_expected(pick: str, pop_fields=("gnomAD_AF", "gnomADe_AF", "gnomADg_AF", "ExAC_AF",
                                       "AF_POPMAX", "MAX_AF")) -> list[dict]:
    rows = []
    for k, (chrom, pos, ref, alts, filt, gaf, csq, nor, tum) in enumerate(M2_RECORDS):
        for ai, alt in enumerate(alts, 1):
            ents = [e for e in csq if e[0] == ai]
            code = annotation.most_severe([e[1] for e in ents])
            if pick == "canonical":
                can = [e for e in ents if e[2] == "YES"]
                if can:
                    code = annotation.most_severe([can[0][1]])
            afs = []
            if gaf is not None and gaf[ai - 1] is not None and "gnomADg_AF" in pop_fields:
                afs.append(gaf[ai - 1])
            for e in ents:
                for val, name in ((e[3], "gnomADe_AF"), (e[4], "MAX_AF")):
                    if name in pop_fields:
                        afs += [float(x) for x in val.split("&") if x]
            t_dp = tum[2] if tum[2] is not None else sum(tum[0])
            n_dp = nor[2] if nor[2] is not None else sum(nor[0])
            rows.append({"record": k, "chrom": chrom, "pos0": pos - 1, "ref": ref, "alt": alt,
                         "ai": ai, "n_alts": len(alts),
                         "filter": ref_filter([] if filt == "." else filt.split(";")),
                         "t_depth": t_dp, "t_alt": tum[0][ai], "t_vaf": tum[1][ai - 1],
                         "n_depth": n_dp, "n_alt": nor[0][ai], "csq": code,
                         "pop_af": max(afs) if afs else NAN})
    return rows


def bgzip_and_bcf(vcf: Path) -> tuple[Path, Path]:
    gz = vcf.with_suffix(".vcf.gz")
    bcf = vcf.with_suffix(".bcf")
    run_tool("bcftools", "view", "-Oz", "-o", str(gz), str(vcf))
    run_tool("bcftools", "index", "-t", str(gz))
    run_tool("bcftools", "view", "-Ob", "-o", str(bcf), str(vcf))
    run_tool("bcftools", "index", str(bcf))
    return gz, bcf


@pytest.fixture(scope="module")
def m2_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("m2")
    vcf = d / "m2.vcf"
    write_m2(vcf)
    gz, bcf = bgzip_and_bcf(vcf)
    return vcf, gz, bcf


@pytest.mark.parametrize("pick", ["most_severe", "canonical"])
@pytest.mark.parametrize("kind", [0, 1, 2])
def test_mutect2_generated_every_column(m2_files, pick, kind):
    path = m2_files[kind]
    table = read_vcf(path, csq_pick=pick)
    rows = m2_expected(pick)
    assert_basic_columns(table, rows)
    for col in ("t_depth", "t_alt", "t_vaf", "n_depth", "n_alt", "csq", "pop_af"):
        assert_col(table, col, [r[col] for r in rows])
    m = table.meta
    assert m["caller"] == "mutect2"
    assert (m["tumor_sample"], m["normal_sample"]) == ("TUM", "NOR")
    assert m["tumor_sample_source"] == "##tumor_sample header"
    assert m["fields"]["t_alt"] == "FORMAT/AD"
    assert m["fields"]["t_depth"] == "FORMAT/DP, else sum of FORMAT/AD"
    assert m["fields"]["t_vaf"].startswith("FORMAT/AF")
    assert m["symbolic_alleles"] == 2
    assert m["build"] == "GRCh38"
    assert table.contigs[:4] == ["1", "2", "X", "MT"]
    assert m["native_contigs"]["MT"] == "chrM" and m["native_contigs"]["1"] == "chr1"
    assert m["contig_lengths"]["MT"] == 16569
    assert m["consequences"] == "CSQ"
    assert m["format"] == ("bcf" if kind == 2 else "vcf")


def test_intron_noncoding_is_not_coding(m2_files):
    table = read_vcf(m2_files[1])
    first = table["csq"][0]
    # intron_variant -> intronic, non_coding_transcript_variant -> noncoding (more severe)
    assert annotation.CLASSES[first] == "noncoding"
    assert first not in annotation.class_codes(["coding"])


def test_vcf_gz_and_bcf_identical(m2_files):
    a = read_vcf(m2_files[1])
    b = read_vcf(m2_files[2])
    for col in COLUMNS:
        np.testing.assert_array_equal(a[col], b[col], err_msg=col)
    np.testing.assert_array_equal(a.allele_text[0], b.allele_text[0])
    np.testing.assert_array_equal(a.allele_text[1], b.allele_text[1])
    assert a.contigs == b.contigs


def test_threads_and_no_alleles_same_result(m2_files):
    a = read_vcf(m2_files[1])
    b = read_vcf(m2_files[1], threads=3, keep_alleles=False)
    assert b.allele_text is None
    for col in COLUMNS:
        np.testing.assert_array_equal(a[col], b[col], err_msg=col)


def test_pop_af_fields_restrict(m2_files):
    table = read_vcf(m2_files[1], pop_af_fields=("gnomADg_AF",))
    rows = m2_expected("most_severe", pop_fields=("gnomADg_AF",))
    assert_col(table, "pop_af", [r["pop_af"] for r in rows])
    assert table.meta["fields"]["pop_af"] == "max of INFO/gnomADg_AF"


def test_tumor_normal_override(m2_files):
    table = read_vcf(m2_files[1], tumor_sample="NOR", normal_sample="TUM")
    rows = m2_expected("most_severe")
    assert_col(table, "t_alt", [r["n_alt"] for r in rows])
    assert_col(table, "n_alt", [r["t_alt"] for r in rows])
    assert table.samples == ["NOR"]


SNPEFF = """##fileformat=VCFv4.2
##SnpEffVersion="5.1"
##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' ">
##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">
##contig=<ID=1,length=249250621>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
1\t100\t.\tA\tT\t.\tPASS\tDP=5;ANN=T|intron_variant|MODIFIER|G|G|transcript|T1|protein_coding||||||||,T|stop_gained|HIGH|G|G|transcript|T2|protein_coding||||||||
1\t200\t.\tC\tG,CTT\t.\tPASS\tANN=G|synonymous_variant|LOW|G|G|transcript|T1|protein_coding||||||||,CTT|frameshift_variant&splice_region_variant|HIGH|G|G|transcript|T1|protein_coding||||||||,G|missense_variant|MODERATE|G|G|transcript|T2|protein_coding||||||||
1\t300\t.\tG\tA\t.\tPASS\tDP=3
"""


@pytest.mark.parametrize("pick,expected", [
    ("most_severe", ["nonsense", "missense", "frameshift", None]),
    ("canonical", ["intronic", "synonymous", "frameshift", None]),   # SnpEff: first annotation
])
def test_snpeff_ann(tmp_path, pick, expected):
    p = tmp_path / "ann.vcf"
    p.write_text(SNPEFF)
    table = read_vcf(p, csq_pick=pick)
    got = [None if c < 0 else annotation.CLASSES[c] for c in table["csq"]]
    assert got == expected
    assert table.meta["consequences"] == "ANN"
    assert table.samples == [] and (table["t_depth"] == -1).all()
    assert "t_vaf" in table.meta["missing_fields"]


VARDICT = """##fileformat=VCFv4.2
##source=VarDict_v1.8.2
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Total Depth">
##FORMAT=<ID=VD,Number=1,Type=Integer,Description="Variant Depth">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=1,Type=Float,Description="Allele Frequency">
##FILTER=<ID=PASS,Description="pass">
##FILTER=<ID=q22.5,Description="low q">
##contig=<ID=chr7,length=159345973>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1-T\tS1-N
chr7\t55191822\t.\tT\tG\t99\tPASS\t.\tGT:DP:VD:AD:AF\t0/1:200:50:150,50:0.25\t0/0:100:1:99,1:0.01
chr7\t55191830\t.\tGA\tG\t99\tq22.5\t.\tGT:DP:VD:AD:AF\t0/1:80:8:72,8:0.1\t0/0:90:0:90,0:0
"""


def test_vardict_paired(tmp_path):
    p = tmp_path / "vd.vcf"
    p.write_text(VARDICT)
    t = read_vcf(p)
    assert t.meta["caller"] == "vardict"
    assert (t.meta["tumor_sample"], t.meta["normal_sample"]) == ("S1-T", "S1-N")
    assert t["t_depth"].tolist() == [200, 80] and t["t_alt"].tolist() == [50, 8]
    np.testing.assert_allclose(t["t_vaf"], [0.25, 0.1], rtol=1e-6)
    assert t["n_depth"].tolist() == [100, 90] and t["n_alt"].tolist() == [1, 0]
    assert t["filter"].tolist() == [0, 2] and t["vtype"].tolist() == [0, 3]
    assert t.contigs == ["7"] and t.meta["build"] == "GRCh38"


def test_inspect_vcf_header(m2_files, shared):
    vi = inspect_vcf(m2_files[0])
    assert vi.caller == "mutect2" and vi.samples == ["NOR", "TUM"]
    assert (vi.tumor_sample, vi.normal_sample) == ("TUM", "NOR")
    assert vi.format["AD"].number == "R" and vi.format["AF"].number == "A"
    assert vi.info["gnomADg_AF"].type == "Float"
    assert vi.annotation == "CSQ" and vi.annotation_fields[:2] == ["Allele", "Consequence"]
    assert vi.contigs["chrM"] == 16569 and vi.build == "GRCh38"
    vi2 = inspect_vcf(shared / STRELKA / "somatic.snvs.vcf.gz")
    assert vi2.caller == "strelka2" and (vi2.tumor_sample, vi2.normal_sample) == ("TUMOR", "NORMAL")


def test_describe_missing(tmp_path, shared):
    t = read_vcf(shared / STRELKA / "somatic.snvs.vcf.gz")
    assert describe_missing(t, {"t_vaf", "t_depth"}) == ""
    msg = describe_missing(t, {"t_vaf", "csq"})
    assert "somatic.snvs.vcf.gz" in msg and "consequence annotation (csq)" in msg and "VEP" in msg
    assert "t_vaf" not in msg
    p = tmp_path / "ann.vcf"
    p.write_text(SNPEFF)
    msg = describe_missing(read_vcf(p), {"t_vaf"})
    assert "tumor VAF (t_vaf)" in msg and "FORMAT/AF" in msg and "Mutect2" in msg


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope.vcf: VCF file does not exist"):
        read_vcf(tmp_path / "nope.vcf")


def test_garbage_files(tmp_path, shared):
    g = tmp_path / "garbage.vcf"
    g.write_text("this is not a vcf\n1\t2\t3\n")
    with pytest.raises(InputError, match=r"garbage.vcf: not a VCF or BCF file"):
        read_vcf(g)
    z = tmp_path / "garbage.vcf.gz"
    with gzip.open(z, "wt") as fh:
        fh.write("hello\n")
    with pytest.raises(InputError, match=r"garbage.vcf.gz: not a VCF or BCF file"):
        read_vcf(z)
    with pytest.raises(InputError, match=r"NA12891_demo20.bam: not a VCF or BCF file \(htslib sees: BAM"):
        read_vcf(shared / STRELKA / "NA12891_demo20.bam")
    b = tmp_path / "random.bcf"
    b.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InputError, match=r"random.bcf: "):
        read_vcf(b)


def test_malformed_record_line_number(tmp_path):
    lines = SNPEFF.splitlines(keepends=True)
    n_header = sum(1 for ln in lines if ln.startswith("#"))
    bad = lines[:n_header + 1] + ["1\tabc\t.\tA\tT\t.\tPASS\t.\n"] + lines[n_header + 1:]
    p = tmp_path / "bad.vcf"
    p.write_text("".join(bad))
    with pytest.raises(InputError, match=rf"bad.vcf: malformed VCF record at line {n_header + 2}"):
        read_vcf(p)
    short = lines[:n_header + 2] + ["1\t400\t.\tA\tT\n"]          # 5 columns
    p.write_text("".join(short))
    with pytest.raises(InputError, match=rf"bad.vcf: malformed VCF record at line {n_header + 3}"):
        read_vcf(p)


def test_truncated_generated_bgzf(tmp_path):
    vcf = tmp_path / "big.vcf"
    body = [M2_HEADER.split("#CHROM")[0] + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"]
    body += [f"chr1\t{i}\t.\tA\tG\t.\tPASS\t.\n" for i in range(1, 200001)]
    vcf.write_text("".join(body))
    gz = tmp_path / "big.vcf.gz"
    run_tool("bcftools", "view", "-Oz", "-o", str(gz), str(vcf))
    data = gz.read_bytes()
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: len(data) - 5000])
    with pytest.raises(InputError, match="cut.vcf.gz: compressed data is truncated or corrupt after record"):
        read_vcf(cut)
    bcf = tmp_path / "big.bcf"
    run_tool("bcftools", "view", "-Ob", "-o", str(bcf), str(vcf))
    data = bcf.read_bytes()
    cut_bcf = tmp_path / "cut.bcf"
    cut_bcf.write_bytes(data[: len(data) - 3000])
    with pytest.raises(InputError, match="cut.bcf: compressed data is truncated or corrupt after record"):
        read_vcf(cut_bcf)


def test_undefined_contig_is_kept(tmp_path):
    p = tmp_path / "nohdr.vcf"
    p.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                 "chr5\t10\t.\tA\tC\t.\tPASS\t.\nchr6\t20\t.\tAC\tA\t.\t.\t.\n")
    t = read_vcf(p)
    assert t.contigs == ["5", "6"] and t["contig"].tolist() == [0, 1]
    assert t["pos"].tolist() == [9, 19] and t["filter"].tolist() == [0, 1]
    assert t.meta["native_contigs"] == {"5": "chr5", "6": "chr6"}


# ------------------------------------------------------------------------------------------------
# property tests: consequence ranking and allele keys computed in C
# ------------------------------------------------------------------------------------------------
TERMS = sorted(annotation.SO_TERMS) + ["unknown_term", "feature_elongationX", "intron"]

transcript = st.tuples(st.lists(st.sampled_from(TERMS), min_size=1, max_size=3), st.booleans())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.lists(transcript, min_size=1, max_size=4), min_size=1, max_size=15))
def test_random_csq_terms_match_python(tmp_path, records):
    header = M2_HEADER.split("##FORMAT")[0] + "##contig=<ID=1,length=1000>\n" + \
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    lines = [header]
    for i, txs in enumerate(records):
        csq = ",".join(f"G|{'&'.join(terms)}|X|S|T{j}|{'YES' if can else ''}||"
                       for j, (terms, can) in enumerate(txs))
        lines.append(f"1\t{i + 1}\t.\tA\tG\t.\tPASS\tCSQ={csq}\n")
    p = tmp_path / "rand.vcf"
    p.write_text("".join(lines))
    most = read_vcf(p)["csq"].tolist()
    canon = read_vcf(p, csq_pick="canonical")["csq"].tolist()
    for i, txs in enumerate(records):
        assert most[i] == annotation.most_severe(["&".join(t) for t, _ in txs])
        can = [t for t, c in txs if c]
        exp = annotation.most_severe(["&".join(can[0])]) if can else most[i]
        assert canon[i] == exp


allele = st.text(alphabet="ACGTNacgtn", min_size=1, max_size=12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(allele, allele).filter(lambda p: p[0] != p[1]), min_size=1, max_size=20))
def test_allele_key_matches_python(tmp_path, pairs):
    lines = ["##fileformat=VCFv4.2\n##contig=<ID=1,length=100000>\n"
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"]
    lines += [f"1\t{i + 1}\t.\t{r}\t{a}\t.\t.\t.\n" for i, (r, a) in enumerate(pairs)]
    p = tmp_path / "keys.vcf"
    p.write_text("".join(lines))
    t = read_vcf(p)
    assert t["allele_key"].tolist() == [allele_key(r, a) for r, a in pairs]
    assert t["vtype"].tolist() == [ref_vtype(r, a) for r, a in pairs]
    assert [t.alleles(i) for i in range(len(t))] == pairs


field_text = st.text(alphabet="abcXYZ019_.-:/>&", min_size=0, max_size=20)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_fields=st.integers(3, 70), data=st.data())
def test_csq_sub_field_layouts(tmp_path, n_fields, data):
    """Consequence / CANONICAL / population-AF sub-fields at random positions among random text."""
    pos = data.draw(st.permutations(range(n_fields)))[:3]
    names = [f"F{i}" for i in range(n_fields)]
    names[pos[0]], names[pos[1]], names[pos[2]] = "Consequence", "CANONICAL", "gnomADe_AF"
    n_tx = data.draw(st.integers(1, 4))
    entries, expect_terms, afs, canon = [], [], [], None
    for t in range(n_tx):
        vals = [data.draw(field_text) for _ in range(n_fields)]
        terms = data.draw(st.lists(st.sampled_from(TERMS), min_size=1, max_size=3))
        vals[pos[0]] = "&".join(terms)
        is_can = data.draw(st.booleans())
        vals[pos[1]] = "YES" if is_can else ""
        af = data.draw(st.one_of(st.none(), st.floats(0, 1, allow_nan=False, width=32)))
        vals[pos[2]] = "" if af is None else repr(float(af))
        entries.append("|".join(vals))
        expect_terms.append("&".join(terms))
        if af is not None:
            afs.append(float(af))
        if is_can and canon is None:
            canon = "&".join(terms)
    header = ("##fileformat=VCFv4.2\n##contig=<ID=1,length=1000>\n"
              f'##INFO=<ID=CSQ,Number=.,Type=String,Description="VEP. Format: {"|".join(names)}">\n'
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    p = tmp_path / "layout.vcf"
    p.write_text(header + f"1\t5\t.\tC\tT\t.\tPASS\tCSQ={','.join(entries)}\n")
    t = read_vcf(p, pop_af_fields=("gnomADe_AF",))
    assert t["csq"][0] == annotation.most_severe(expect_terms)
    if afs:
        assert t["pop_af"][0] == np.float32(max(afs))
    else:
        assert np.isnan(t["pop_af"][0])
    c = read_vcf(p, csq_pick="canonical", pop_af_fields=())["csq"][0]
    assert c == (annotation.most_severe([canon]) if canon is not None
                 else annotation.most_severe(expect_terms))


def test_number_parsing_matches_python(tmp_path):
    """INFO numbers in many spellings parse like Python's float()."""
    values = ["0.5", "1e-05", "3.2E-7", "0.000123456789012", "12", "-0.25", "+0.125", "7.", ".5",
              "1.23456789012345678", "5e-30", "0.1234567890123456789"]
    lines = ["##fileformat=VCFv4.2\n##contig=<ID=1,length=1000>\n",
             '##INFO=<ID=MAX_AF,Number=1,Type=Float,Description="x">\n',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"]
    lines += [f"1\t{i + 1}\t.\tA\tC\t.\tPASS\tMAX_AF={v}\n" for i, v in enumerate(values)]
    p = tmp_path / "nums.vcf"
    p.write_text("".join(lines))
    got = read_vcf(p)["pop_af"]
    np.testing.assert_array_equal(got, np.array([float(v) for v in values], dtype=np.float32))
    gz, bcf = bgzip_and_bcf(p)
    np.testing.assert_array_equal(read_vcf(bcf)["pop_af"], got)


SITES_ONLY = """##fileformat=VCFv4.2
##INFO=<ID=TVAF,Number=.,Type=Float,Description="tumor VAF">
##INFO=<ID=TDP,Number=.,Type=Integer,Description="tumor depth">
##contig=<ID=chr17,length=83257441>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
chr17\t7675088\t.\tC\tT\t.\tPASS\tTVAF=0.31;TDP=120
chr17\t7675100\t.\tG\tA\t.\tPASS\tTDP=80
"""


def test_sites_only_info_tumor_fields(tmp_path):
    p = tmp_path / "sites.vcf"
    p.write_text(SITES_ONLY)
    t = read_vcf(p)
    assert t["t_depth"].tolist() == [120, 80]
    np.testing.assert_allclose(t["t_vaf"], [0.31, NAN], rtol=1e-6)
    assert (t["t_alt"] == -1).all()
    assert t.meta["fields"]["t_vaf"] == "INFO/TVAF" and "t_alt" in t.meta["missing_fields"]


DRAGEN = """##fileformat=VCFv4.2
##DRAGENVersion=<ID=dragen,Version="SW: 07.021.624.3.10.4">
##DRAGENCommandLine=<ID=dragen,Version="SW: 07.021.624.3.10.4",CommandLineOptions="--tumor-fastq1 t.fq">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##contig=<ID=chr1,length=248956422>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tN1\tT1
chr1\t100\t.\tA\tG\t.\tPASS\t.\tGT:AD:AF:DP\t0/0:30,0:0:30\t0/1:20,5:0.2:25
chr1\t200\t.\tA\tG\t.\tPASS\t.\tGT:AD\t0/0:30,1\t0/1:20,6
"""


def test_dragen_and_missing_trailing_format(tmp_path):
    p = tmp_path / "dragen.vcf"
    p.write_text(DRAGEN)
    assert inspect_vcf(p).caller == "dragen"
    with pytest.raises(InputError, match="pass tumor_sample"):
        read_vcf(p)
    t = read_vcf(p, tumor_sample="T1")
    assert t.meta["normal_sample"] == "N1"   # two-sample somatic caller: the other one
    assert t["t_depth"].tolist() == [25, 26]          # second record: no DP -> sum of AD
    assert t["t_alt"].tolist() == [5, 6] and t["n_alt"].tolist() == [0, 1]
    np.testing.assert_allclose(t["t_vaf"], [0.2, 6 / 26], rtol=1e-6)  # no AF -> AD ratio
    gz, bcf = bgzip_and_bcf(p)
    b = read_vcf(bcf, tumor_sample="T1")
    for col in COLUMNS:
        np.testing.assert_array_equal(t[col], b[col], err_msg=col)


VARSCAN = """##fileformat=VCFv4.1
##source=VarScan2
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read Depth">
##FORMAT=<ID=RD,Number=1,Type=Integer,Description="Depth of reference-supporting bases (reads1)">
##FORMAT=<ID=AD,Number=1,Type=Integer,Description="Depth of variant-supporting bases (reads2)">
##FORMAT=<ID=FREQ,Number=1,Type=String,Description="Variant allele frequency">
##contig=<ID=1,length=249250621>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNORMAL\tTUMOR
1\t1000\t.\tG\tA\t.\tPASS\t.\tGT:DP:RD:AD:FREQ\t0/0:40:40:0:0%\t0/1:50:38:12:24%
1\t2000\t.\tG\tT\t.\tPASS\t.\tGT:DP:RD:AD\t0/0:40:39:1\t0/1:.:30:10
"""


def test_varscan2_alt_only_ad(tmp_path):
    """VarScan2: AD (Number=1) is the ALT read count, RD the REF count, FREQ a percentage."""
    p = tmp_path / "varscan.vcf"
    p.write_text(VARSCAN)
    t = read_vcf(p)
    assert (t.meta["tumor_sample"], t.meta["normal_sample"]) == ("TUMOR", "NORMAL")
    assert t["t_alt"].tolist() == [12, 10] and t["n_alt"].tolist() == [0, 1]
    assert t["t_depth"].tolist() == [50, 40]          # DP, else RD+AD
    np.testing.assert_allclose(t["t_vaf"], [0.24, 10 / 40], rtol=1e-6)   # FREQ, else AD/(RD+AD)
    assert t["n_depth"].tolist() == [40, 40]
