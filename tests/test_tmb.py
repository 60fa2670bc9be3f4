"""End-to-end TMB on real data; expectations from bcftools/bedtools/pandas written here."""
from __future__ import annotations

import gzip
import io
import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli, run_tool
from tmbcalc import compute_tmb
from tmbcalc.contigs import BUILD_LENGTHS
from tmbcalc.tmb.writers import VARIANT_COLUMNS, summary_columns

IMPACT = "panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed"
NONSYN_MERINO = {"Missense_Mutation", "Nonsense_Mutation", "Nonstop_Mutation", "Translation_Start_Site",
                 "Frame_Shift_Del", "Frame_Shift_Ins", "In_Frame_Del", "In_Frame_Ins"}


def bedtools_mb(bed) -> float:
    merged = run_tool("bash", "-c", f"grep -v '^#' {bed} | sort -k1,1 -k2,2n | bedtools merge -i -")
    return sum(int(l.split("\t")[2]) - int(l.split("\t")[1]) for l in merged.splitlines()) / 1e6


def genome_bed(tmp_path, build="GRCh37"):
    p = tmp_path / "genome.bed"
    p.write_text("".join(f"{c}\t0\t{n}\n" for c, n in BUILD_LENGTHS[build].items()))
    return p


def read_variants_report(path) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", comment="#", header=0, dtype={"chrom": str, "ref": str, "alt": str},
                     keep_default_na=False)
    assert list(df.columns) == list(VARIANT_COLUMNS)
    return df


@pytest.mark.parametrize("name", ["T001-COAD", "T001-BRCA"])
def test_pcgr_vcf_with_impact_bed(tmp_path, shared, name):
    vcf = shared / f"somatic/pcgr_examples/{name}.grch37.vcf.gz"
    bed = shared / IMPACT
    # independent: bcftools keeps PASS records whose changed bases overlap the BED, pandas applies
    # wes-merino's read thresholds (FORMAT/DPT >= 25, alt reads from ADT >= 3, INFO/TVAF >= 0.05)
    text = run_tool("bash", "-c", f"bcftools view -f PASS -R {bed} --regions-overlap variant {vcf} | "
                                  f"bcftools query -f '%POS\\t[%DPT]\\t[%ADT]\\t%INFO/TVAF\\n'")
    df = pd.read_csv(io.StringIO(text), sep="\t", header=None, names=["pos", "dpt", "adt", "tvaf"])
    alt = df.adt.str.split(",").str[1].astype(int)
    expected = int(((df.dpt >= 25) & (alt >= 3) & (df.tvaf >= 0.05)).sum())
    mb = bedtools_mb(bed)
    out = tmp_path / "o"
    r = run_cli("tmb", str(vcf), "--bed", str(bed), "--consequences", "all", "-o", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    s = doc["samples"][0]
    assert s["eligible_variants"] == expected
    assert s["footprint_bp"] == round(mb * 1e6)
    assert s["tmb"] == pytest.approx(expected / mb)
    assert doc["provenance"]["profile"]["min_depth"] == 25
    assert doc["provenance"]["inputs"]["input"]["sha256"] == run_tool("sha256sum", str(vcf)).split()[0]
    # every record is in the variants report, and its eligible rows are exactly the count
    rep = read_variants_report(tmp_path / "o.variants.tsv.gz")
    n_records = int(run_tool("bash", "-c", f"bcftools view -H {vcf} | wc -l").strip())
    assert len(rep) == n_records
    assert int((rep.eligible == "yes").sum()) == expected
    assert set(rep.loc[rep.eligible == "no", "first_failing_rule"]) <= set(s["excluded"])
    # the TSV summary has the documented columns
    tsv = (tmp_path / "o.tmb.tsv").read_text().splitlines()
    header = [l for l in tsv if not l.startswith("#")][0].split("\t")
    assert header == summary_columns([10.0])


def test_pcgr_coad_is_hypermutated(tmp_path, shared):
    # known biology: TCGA-A6-2686 is MSI-like/hypermutated (PCGR docs; MC3 total 3,960) -> TMB-high
    res = compute_tmb(shared / "somatic/pcgr_examples/T001-COAD.grch37.vcf.gz", bed=shared / IMPACT,
                      consequences=["all"])
    s = res.samples[0]
    assert s.status["10"] == "high" and s.p_tmb_ge_cut["10"] > 0.999


def test_strelka_demo(tmp_path, shared):
    snvs = shared / "bam/strelka_demo/somatic.snvs.vcf.gz"
    fai = (shared / "bam/strelka_demo/demo20.fa.fai").read_text().split("\t")
    bed = tmp_path / "demo.bed"
    bed.write_text(f"demo20\t0\t{fai[1]}\n")
    text = run_tool("bash", "-c", f"bcftools view -f PASS {snvs} | bcftools query -s TUMOR "
                                  f"-f '%REF\\t%ALT\\t[%AU\\t%CU\\t%GU\\t%TU]\\n'")
    rows = [l.split("\t") for l in text.splitlines()]
    expected = 0
    for ref, alt, *tiers in rows:
        t1 = {b: int(v.split(",")[0]) for b, v in zip("ACGT", tiers)}
        depth, a = sum(t1.values()), t1[alt]
        vaf = a / (t1[ref] + a)
        expected += depth >= 25 and a >= 3 and vaf >= 0.05
    res = compute_tmb(snvs, bed=bed, consequences=["all"])
    assert res.samples[0].eligible_variants == expected
    assert res.samples[0].records == 17


def _mc3_expected(df: pd.DataFrame, contigs: set[str]) -> pd.Series:
    depth = df.t_ref_count + df.t_alt_count
    ok = ((df.FILTER == "PASS") & (depth >= 25) & (df.t_alt_count >= 3) & (df.t_alt_count / depth >= 0.05)
          & df.Variant_Classification.isin(NONSYN_MERINO) & df.Chromosome.astype(str).isin(contigs))
    return df[ok].groupby("Tumor_Sample_Barcode").size()


def test_mc3_cohort_per_sample(tmp_path, shared):
    maf = shared / "somatic/tcga_mc3/TCGA_MC3_ACC.maf.tsv.gz"
    bed = genome_bed(tmp_path)
    r = run_cli("tmb", str(maf), "--bed", str(bed), "--profile", "wes-merino", "--cutpoints", "5,10",
                "-o", str(tmp_path / "acc"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "acc.tmb.json").read_text())
    df = pd.read_csv(maf, sep="\t", low_memory=False)
    expected = _mc3_expected(df, set(BUILD_LENGTHS["GRCh37"]))
    got = {s["sample"]: s["eligible_variants"] for s in doc["samples"]}
    assert len(got) == df.Tumor_Sample_Barcode.nunique()
    for sample, n in got.items():
        assert n == int(expected.get(sample, 0)), sample
    assert set(doc["samples"][0]["status"]) == {"5", "10"}
    tsv = pd.read_csv(tmp_path / "acc.tmb.tsv", sep="\t", comment="#")
    assert len(tsv) == len(got) and tsv.eligible_variants.sum() == expected.sum()


def test_mc3_with_panel_footprint_bedtools(tmp_path, shared):
    maf = shared / "somatic/tcga_mc3/TCGA_MC3_KICH.maf.tsv.gz"
    bed = shared / IMPACT
    df = pd.read_csv(maf, sep="\t", low_memory=False)
    # variant spans (documented convention) as BED, membership by bedtools intersect
    start0 = df.Start_Position - 1
    ins = df.Reference_Allele == "-"
    end = np.where(ins, df.Start_Position + 1, df.End_Position)
    vb = tmp_path / "v.bed"
    pd.DataFrame({"c": df.Chromosome.astype(str), "s": start0, "e": end, "i": np.arange(len(df))}).to_csv(
        vb, sep="\t", header=False, index=False)
    hits = run_tool("bedtools", "intersect", "-u", "-a", str(vb), "-b", str(bed))
    inside = np.zeros(len(df), dtype=bool)
    inside[[int(l.split("\t")[3]) for l in hits.splitlines()]] = True
    expected = _mc3_expected(df[inside], set(BUILD_LENGTHS["GRCh37"]))
    res = compute_tmb(maf, bed=bed, profile="wes-merino")
    mb = bedtools_mb(bed)
    for s in res.samples:
        assert s.eligible_variants == int(expected.get(s.sample, 0)), s.sample
        assert s.footprint_bp == round(mb * 1e6)


def test_mc3_totals_agree_with_maftools(tmp_path, shared):
    """maftools' tcga_cohort totals (MC3 non-silent calls per tumour) vs our non-silent count with
    every read/FILTER rule switched off.  maftools' table comes from a slightly different MC3
    build, so agreement is required for most, not all, tumours."""
    maf = shared / "somatic/tcga_mc3/TCGA_MC3_ACC.maf.tsv.gz"
    res = compute_tmb(maf, bed=genome_bed(tmp_path), profile="wes-merino", consequences=["nonsynonymous"],
                      min_depth="off", min_alt_reads="off", min_vaf="off", filter_missing_is_pass=True,
                      require_pass=False)
    cohort = pd.read_csv(shared / "somatic/maftools/tcga_cohort.txt.gz", sep="\t")
    totals = cohort[cohort.cohort == "ACC"].set_index("Tumor_Sample_Barcode")["total"]
    ours = pd.Series({s.sample: s.eligible_variants for s in res.samples})
    both = pd.concat([ours, totals], axis=1, join="inner").dropna()
    assert len(both) >= 85
    rel = (both.iloc[:, 0] - both.iloc[:, 1]).abs() / both.iloc[:, 1].clip(lower=1)
    assert (rel <= 0.05).mean() >= 0.9
    assert np.corrcoef(np.log1p(both.iloc[:, 0]), np.log1p(both.iloc[:, 1]))[0, 1] > 0.99


def test_hotspot_exclusion_mc3(tmp_path, shared):
    maf = shared / "somatic/tcga_mc3/TCGA_MC3_THCA.maf.tsv.gz"
    hs_path = shared / "popfreq_hotspots/maftools/cancerhotspots_v2_GRCh37.tsv"
    res = compute_tmb(maf, bed=genome_bed(tmp_path), profile="wes-merino", consequences=["all"],
                      exclude_hotspots=hs_path)
    df = pd.read_csv(maf, sep="\t", low_memory=False)
    hs = pd.read_csv(hs_path, sep="\t", header=None, usecols=[0, 1, 2, 3], names=["c", "p", "r", "a"],
                     dtype={"c": str})
    # SNV hotspots: exact (chrom, pos, ref, alt) match in pandas
    key = df.Chromosome.astype(str) + ":" + df.Start_Position.astype(str) + ":" + df.Reference_Allele + ":" + \
        df.Tumor_Seq_Allele2
    hkey = set(hs.c + ":" + hs.p.astype(str) + ":" + hs.r + ":" + hs.a)
    is_hot = key.isin(hkey) & (df.Variant_Type == "SNP")
    depth = df.t_ref_count + df.t_alt_count
    base = (df.FILTER == "PASS") & (depth >= 25) & (df.t_alt_count >= 3) & (df.t_alt_count / depth >= 0.05)
    assert is_hot[base].sum() > 50                                 # BRAF V600E-rich cohort: a real test
    total_hot_excluded = sum(s.excluded.get("hotspot", 0) for s in res.samples)
    snv_hot = int((base & is_hot & df.Chromosome.astype(str).isin(set(BUILD_LENGTHS["GRCh37"]))).sum())
    indel_rows = base & (df.Variant_Type != "SNP")
    assert snv_hot <= total_hot_excluded <= snv_hot + int(indel_rows.sum())


def test_maf_tumor_sample_and_no_filter_column(tmp_path, shared):
    maf = shared / "somatic/tcga_mc3/TCGA_MC3_BLCA_v2020.maf.tsv.gz"
    df = pd.read_csv(maf, sep="\t", low_memory=False, usecols=["Tumor_Sample_Barcode", "Variant_Classification",
                                                                "t_depth", "t_alt_count", "Chromosome"])
    sample = df.Tumor_Sample_Barcode.iloc[0]
    r = run_cli("tmb", str(maf), "--bed", str(genome_bed(tmp_path)), "--tumor-sample", sample,
                "--filter-missing-is-pass", "-o", str(tmp_path / "one"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "one.tmb.json").read_text())
    assert [s["sample"] for s in doc["samples"]] == [sample]
    d = df[df.Tumor_Sample_Barcode == sample]
    ok = (d.t_depth >= 25) & (d.t_alt_count >= 3) & (d.t_alt_count / d.t_depth >= 0.05) & \
        d.Variant_Classification.isin(NONSYN_MERINO)
    assert doc["samples"][0]["eligible_variants"] == int(ok.sum())


MERINO_RULES = {"classes": {"missense", "nonsense", "stop_lost", "start_lost", "frameshift", "inframe"},
                "min_depth": 25, "min_alt": 3, "min_vaf": 0.05, "max_normal_alt": None, "mnv": True}
MSK_RULES = {"classes": {"splice_site", "nonsense", "frameshift", "stop_lost", "start_lost", "inframe", "missense"},
             "min_depth": 20, "min_alt": 0, "min_vaf": 0.05, "max_normal_alt": 1, "mnv": True}


def _example_expected(vcf_path, bed_path, rules=MERINO_RULES) -> int:
    """Pure-Python reading of the bundled example (no htslib), VEP most severe term per allele."""
    from tmbcalc.annotation import CLASSES, most_severe

    targets = []
    for line in open(bed_path):
        if line.startswith("#"):
            continue
        c, s, e = line.split("\t")[:3]
        targets.append((c, int(s), int(e)))
    wanted = rules["classes"]
    n = 0
    for line in gzip.open(vcf_path, "rt"):
        if line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        chrom, pos, ref, alts, filt, info = f[0], int(f[1]), f[3], f[4].split(","), f[6], f[7]
        if filt != "PASS":
            continue
        keys = f[8].split(":")
        tumor = dict(zip(keys, f[9].split(":")))
        normal = dict(zip(keys, f[10].split(":")))
        n_ad = [int(x) for x in normal["AD"].split(",")]
        ad = [int(x) for x in tumor["AD"].split(",")]
        afs = [float(x) for x in tumor["AF"].split(",")]
        depth = int(tumor["DP"])
        csq = info.split("CSQ=")[1].split(";")[0].split(",")
        for i, alt in enumerate(alts):
            allele = alt if len(alt) == len(ref) else (alt[1:] or "-")
            terms = [e.split("|")[1] for e in csq if e.split("|")[0] == allele]
            cls = most_severe(terms)
            if cls < 0 or CLASSES[cls] not in wanted:
                continue
            if len(ref) > len(alt):
                span = (pos - 1 + len(alt), pos - 1 + len(ref))
            elif len(alt) > len(ref):
                span = (pos - 1, pos + 1)
            else:
                span = (pos - 1, pos - 1 + len(ref))
            if not any(c == chrom and s < span[1] and span[0] < e for c, s, e in targets):
                continue
            if rules["max_normal_alt"] is not None and n_ad[i + 1] > rules["max_normal_alt"]:
                continue
            if depth >= rules["min_depth"] and ad[i + 1] >= rules["min_alt"] and afs[i] >= rules["min_vaf"]:
                n += 1
    return n


def test_bundled_example_quick_start(tmp_path):
    from tmbcalc.resources import examples_dir

    vcf = examples_dir() / "example_tumor_normal.vcf.gz"
    bed = examples_dir() / "example_panel.bed"
    assert sum(p.stat().st_size for p in examples_dir().iterdir()) < 200_000
    r = run_cli("tmb", str(vcf), "--bed", str(bed), "-o", str(tmp_path / "ex"))
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "ex.tmb.json").read_text())["samples"][0]
    assert s["sample"] == "TUMOR"
    assert s["eligible_variants"] == _example_expected(vcf, bed)
    assert s["footprint_bp"] == round(bedtools_mb(bed) * 1e6)


def test_example_msk_profile_and_bcf(tmp_path):
    """Normal alt-read rule + nonsynonymous group on the example; BCF and plain VCF give the same."""
    from tmbcalc.resources import examples_dir

    vcf = examples_dir() / "example_tumor_normal.vcf.gz"
    bed = examples_dir() / "example_panel.bed"
    expected = _example_expected(vcf, bed, MSK_RULES)
    res = compute_tmb(vcf, bed=bed, profile="msk-impact-like")
    assert res.samples[0].eligible_variants == expected
    bcf = tmp_path / "ex.bcf"
    plain = tmp_path / "ex.vcf"
    run_tool("bcftools", "view", "-Ob", "-o", str(bcf), str(vcf))
    run_tool("bcftools", "view", "-Ov", "-o", str(plain), str(vcf))
    for other in (bcf, plain):
        assert compute_tmb(other, bed=bed, profile="msk-impact-like").samples[0].eligible_variants == expected


def test_variants_report_content(tmp_path):
    from tmbcalc.resources import examples_dir

    vcf = examples_dir() / "example_tumor_normal.vcf.gz"
    res = compute_tmb(vcf, bed=examples_dir() / "example_panel.bed")
    res.write(tmp_path / "x")
    rep = read_variants_report(tmp_path / "x.variants.tsv.gz")
    # compare record-level fields with bcftools' own rendering of the same VCF (alleles split)
    text = run_tool("bash", "-c", f"bcftools norm -m -any {vcf} 2>/dev/null | bcftools query "
                                  f"-f '%CHROM\\t%POS\\t%REF\\t%ALT\\t%FILTER\\t[%DP]\\n' -s TUMOR")
    exp = pd.read_csv(io.StringIO(text), sep="\t", header=None, names=["chrom", "pos", "ref", "alt", "filter", "dp"],
                      dtype={"chrom": str})
    assert len(rep) == len(exp)
    assert list(rep.pos) == list(exp.pos) and list(rep.depth.astype(int)) == list(exp.dp)
    assert list(rep.chrom) == [c.removeprefix("chr") for c in exp.chrom]
    assert ((rep["filter"] == "PASS") == (exp["filter"] == "PASS")).all()
    assert set(rep.eligible) <= {"yes", "no"}
    assert (rep.loc[rep.eligible == "yes", "first_failing_rule"] == ".").all()
    assert int((rep.eligible == "yes").sum()) == res.samples[0].eligible_variants


def test_callable_bed_and_coding_bed_stages(tmp_path):
    from tmbcalc.resources import examples_dir

    bed = examples_dir() / "example_panel.bed"
    half = tmp_path / "half.bed"
    lines = [l for l in bed.read_text().splitlines() if not l.startswith("#")]
    half.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    coding = tmp_path / "coding.bed"
    coding.write_text("\n".join(f"{l.split()[0]}\t{int(l.split()[1]) + 50}\t{l.split()[2]}" for l in lines) + "\n")
    res = compute_tmb(examples_dir() / "example_tumor_normal.vcf.gz", bed=bed, coding_bed=coding,
                      callable_bed=half)
    want = run_tool("bash", "-c", f"sort -k1,1 -k2,2n {coding} | bedtools merge | bedtools intersect -a "
                                  f"<(grep -v '^#' {bed} | sort -k1,1 -k2,2n | bedtools merge) -b - | "
                                  f"bedtools intersect -a - -b <(sort -k1,1 -k2,2n {half} | bedtools merge) | "
                                  f"awk '{{s+=$3-$2}} END {{print s}}'")
    assert res.denominator["footprint_bp"] == int(want)
    assert [st["stage"] for st in res.denominator["stages"]] == ["footprint", "intersect_coding",
                                                                  "intersect_callable_bed"]
    assert res.denominator["kind"] == "panel_bed+coding+callable_bed"


def test_overlapping_beds_are_merged(tmp_path):
    from tmbcalc.resources import examples_dir

    bed = examples_dir() / "example_panel.bed"
    res = compute_tmb(examples_dir() / "example_tumor_normal.vcf.gz", bed=[bed, bed])
    assert res.samples[0].footprint_bp == round(bedtools_mb(bed) * 1e6)


def test_python_module_entry(tmp_path):
    r = subprocess.run(["python", "-m", "tmbcalc", "tmb", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--min-coverage" in r.stdout and "--exclude-hotspots" in r.stdout


def test_panel_registry(tmp_path, shared):
    from tmbcalc.panels.registry import load_panel

    vcf = shared / "somatic/pcgr_examples/T001-COAD.grch37.vcf.gz"
    panel = load_panel("msk-impact-468")
    # `tmb --panel` divides by the panel's TMB region: the coding part of the targets (shipped BED)
    bed = panel.path.parent / panel.footprints["GRCh37"].tmb_bed
    plain = tmp_path / "panel.bed"
    plain.write_text(gzip.open(bed, "rt").read() if str(bed).endswith(".gz") else bed.read_text())
    # msk-impact-like: depth >= 20, VAF >= 0.05 (PCGR has no normal alt counts: that rule is switched off)
    text = run_tool("bash", "-c", f"bcftools view -f PASS -R {plain} --regions-overlap variant {vcf} | "
                                  f"bcftools query -f '[%DPT]\\t%INFO/TVAF\\n'")
    df = pd.read_csv(io.StringIO(text), sep="\t", header=None, names=["dpt", "tvaf"])
    expected = int(((df.dpt >= 20) & (df.tvaf >= 0.05)).sum())
    res = compute_tmb(vcf, panel="msk-impact-468", consequences=["all"], max_normal_alt_reads="off")
    s = res.samples[0]
    assert res.profile.name == "msk-impact-like" and s.eligible_variants == expected
    assert s.footprint_bp == round(bedtools_mb(plain) * 1e6)
    assert res.provenance["panel"]["id"] == "msk-impact-468" and res.cutpoints == [float(c) for c in panel.cutpoints]


def test_pop_af_resource_vcf(tmp_path, shared):
    d = shared / "popfreq_hotspots/vcfanno_exac_subset"
    query = tmp_path / "bi.vcf.gz"
    run_tool("bcftools", "view", "-M2", "-Oz", "-o", str(query), str(d / "query.vcf.gz"))
    bed = tmp_path / "r.bed"
    bed.write_text("1\t0\t1000000\n")
    # the ExAC subset has some split records whose Number=A AF still lists two values: leave those out
    import pysam

    resource = tmp_path / "exac_clean.vcf"
    with gzip.open(d / "exac.vcf.gz", "rt") as fh, open(resource, "w") as out:
        for line in fh:
            if not line.startswith("#"):
                f = line.split("\t")
                af = [x for x in f[7].split(";") if x.startswith("AF=")][0][3:]
                if len(af.split(",")) != len(f[4].split(",")):
                    continue
            out.write(line)
    pysam.tabix_index(str(resource), preset="vcf", force=True)
    resource = tmp_path / "exac_clean.vcf.gz"
    q = pd.read_csv(io.StringIO(run_tool("bcftools", "query", "-f", "%POS\t%REF\t%ALT\n", str(query))), sep="\t",
                    header=None, names=["pos", "ref", "alt"])
    ex = pd.read_csv(io.StringIO(run_tool("bcftools", "query", "-f", "%POS\t%REF\t%ALT\t%INFO/AF\n",
                                          str(resource))), sep="\t", header=None,
                     names=["pos", "ref", "alt", "af"])
    ex = ex.assign(alt=ex.alt.str.split(","), af=ex.af.astype(str).str.split(",")).explode(["alt", "af"])
    ex["af"] = ex.af.astype(float)
    q = q[~q.alt.str.startswith("<")]                        # symbolic alleles are not variants
    m = q.merge(ex, on=["pos", "ref", "alt"], how="left")
    matched = np.sort(m.af.dropna().to_numpy())
    assert matched.size >= 5                                  # the join really matches records
    cut = float(matched[matched.size // 2]) * 0.999           # about half of the matched ones are common
    expected = int((~(m.af > cut)).sum())
    assert 0 < len(q) - expected < matched.size
    res = compute_tmb(query, bed=bed, tumor_sample="NA12877", pop_af_vcf=resource,
                      max_pop_af=cut, consequences=["all"], filter_missing_is_pass=True, min_depth="off",
                      min_alt_reads="off", min_vaf="off")
    assert res.samples[0].eligible_variants == expected
    assert res.samples[0].excluded["max_pop_af"] == len(q) - expected


def test_callable_from_bams(tmp_path, shared):
    from tmbcalc.callable.api import compute_callable
    from tmbcalc.regions import RegionSet

    sd = shared / "bam/strelka_demo"
    length = int((sd / "demo20.fa.fai").read_text().split("\t")[1])
    bed = tmp_path / "demo.bed"
    bed.write_text(f"demo20\t0\t{length}\n")
    res = compute_tmb(sd / "somatic.snvs.vcf.gz", bed=bed, tumor_bam=sd / "NA12891_demo20.bam",
                      normal_bam=sd / "NA12892_demo20.bam", min_coverage=30, consequences=["all"],
                      min_alt_reads="off", min_vaf="off", min_depth="off")
    direct = compute_callable(sd / "NA12891_demo20.bam", RegionSet.from_tuples([("demo20", 0, length)]),
                              normal_bam=sd / "NA12892_demo20.bam", min_depth=30)
    assert res.denominator["kind"] == "callable_from_bams"
    assert res.denominator["footprint_bp"] == direct.callable_bp < length
    assert [s["stage"] for s in res.denominator["stages"]] == ["footprint", "intersect_callable_from_bams"]
    # variants counted = PASS SNVs inside the callable regions (membership checked here by hand)
    text = run_tool("bcftools", "query", "-i", 'FILTER="PASS"', "-f", "%POS\n", str(sd / "somatic.snvs.vcf.gz"))
    expected = sum(bool(direct.callable.contains("demo20", [int(p) - 1])[0]) for p in text.split())
    assert res.samples[0].eligible_variants == expected


def test_report_long_names_and_many_samples(tmp_path):
    # a 3,000-character sample name and 70,000 rows (more than one report chunk) survive the writer
    long_name = "S" * 3000
    lines = ["Chromosome\tStart_Position\tReference_Allele\tTumor_Seq_Allele2\tTumor_Sample_Barcode\t"
             "Variant_Classification"]
    for i in range(70_000):
        lines.append(f"1\t{1000 + i}\tA\tG\t{long_name if i % 2 else 'short'}\tMissense_Mutation")
    maf = tmp_path / "long.maf"
    maf.write_text("\n".join(lines) + "\n")
    bed = tmp_path / "b.bed"
    bed.write_text("1\t0\t50000\n")
    res = compute_tmb(maf, bed=bed, filter_missing_is_pass=True, min_depth="off", min_alt_reads="off",
                      min_vaf="off")
    res.write(tmp_path / "o")
    rep = read_variants_report(tmp_path / "o.variants.tsv.gz")
    assert len(rep) == 70_000 and set(rep["sample"]) == {long_name, "short"}
    assert list(rep.pos[:3]) == [1000, 1001, 1002] and list(rep.record[-2:]) == [69_999, 70_000]
    # positions 1000..50000 (1-based) are inside [0, 50000): 49,001 rows eligible
    assert int((rep.eligible == "yes").sum()) == 49_001 == sum(s.eligible_variants for s in res.samples)
