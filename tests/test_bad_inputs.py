"""Bad-input classes of issue #10 (items 3, 6, 7), one test per class, inputs generated at test time.

Every failure is checked the same way (:func:`refused`): the exit code, exactly one stderr line
``tmbcalc: error: ...`` naming the file (or the option), no traceback, no output files left next
to the prefix, and every input byte-identical afterwards.  The denominator guards (item 7) are
checked on the outputs, with expected values derived independently of the code under test.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, run_tool
from tmbcalc.resources import calibration_dir, examples_dir

VCF = examples_dir() / "example_tumor_normal.vcf.gz"
BED = examples_dir() / "example_panel.bed"
STRELKA = "bam/strelka_demo"
MAF_COLUMNS = ["Hugo_Symbol", "Chromosome", "Start_Position", "End_Position", "Reference_Allele",
               "Tumor_Seq_Allele2", "Tumor_Sample_Barcode", "Variant_Classification", "FILTER", "t_depth",
               "t_alt_count"]


def _digest(paths) -> dict[str, str]:
    out = {}
    for p in map(Path, paths):
        if p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def refused(tmp_path: Path, args: list, code: int, *fragments: str, inputs=()) -> str:
    """Run ``tmbcalc ARGS`` (outputs under tmp_path/out*) and check the failure contract."""
    args = [str(a) for a in args]
    named = [a for a in args if os.path.exists(a)] + [str(p) for p in inputs]
    before = _digest(named)
    r = run_cli(*args)
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmbcalc: error:"), r.stderr
    assert "Traceback" not in r.stderr
    assert lines[0].isprintable(), repr(lines[0])          # never echoes binary
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(("out", ".out", ".tmp", "tmbcalc-"))]
    assert left == [], left
    assert _digest(named) == before, "an input was modified"
    return lines[0]


def tmb(tmp_path: Path, inp, *extra) -> list:
    return ["tmb", inp, "--bed", BED, *extra, "-o", tmp_path / "out"]


def write_maf(path: Path, rows: list[list], columns=MAF_COLUMNS, gz: bool = False) -> Path:
    text = "\t".join(columns) + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def vcf_lines() -> list[str]:
    return gzip.decompress(VCF.read_bytes()).decode().splitlines()


def write_vcf(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# -- item 3: values, not only headers -------------------------------------------------------------
def _records_in_footprint(lines: list[str]) -> int:
    """Independent count (pure Python, 0-based half-open) of variant alleles (one per ALT) whose
    changed bases overlap the BED: SNV/MNV/complex the REF span, deletion the deleted bases,
    insertion its two flanks."""
    bed = [ln.split("\t")[:3] for ln in BED.read_text().splitlines() if ln and not ln.startswith("#")]
    ivs = [(c.removeprefix("chr"), int(s), int(e)) for c, s, e in bed]
    n = 0
    for ln in lines:
        if ln.startswith("#"):
            continue
        f = ln.split("\t")
        chrom, pos, ref = f[0].removeprefix("chr"), int(f[1]) - 1, f[3]
        for alt in f[4].split(","):
            if len(ref) > len(alt) and ref.startswith(alt):
                start, end = pos + len(alt), pos + len(ref)
            elif len(alt) > len(ref) and alt.startswith(ref):
                start, end = pos, pos + 2
            else:
                start, end = pos, pos + len(ref)
            n += any(c == chrom and s < end and start < e for c, s, e in ivs)
    return n


def test_rule_field_declared_but_absent_from_records(tmp_path):
    out = []
    for ln in vcf_lines():
        f = ln.split("\t")
        if not ln.startswith("#"):                         # keep GT only: header still declares AD/AF/DP
            f[8], f[9], f[10] = "GT", f[9].split(":")[0], f[10].split(":")[0]
        out.append("\t".join(f))
    vcf = write_vcf(tmp_path / "gt_only.vcf", out)
    n = _records_in_footprint(out)
    assert n > 0
    line = refused(tmp_path, tmb(tmp_path, vcf), 1, "gt_only.vcf", "tumor read depth",
                   f"absent from {n} of {n} variant alleles", "tumor VAF", "min_vaf")
    assert "min_depth" in line and "min_alt_reads" in line


@pytest.mark.parametrize("args, option", [
    (["tmb", VCF, "--bed", BED, "--min-vaf", "nan"], "--min-vaf"),
    (["tmb", VCF, "--bed", BED, "--cutpoints", "nan"], "--cutpoints"),
    (["tmb", VCF, "--bed", BED, "--cutpoints", "10,inf"], "--cutpoints"),
    (["tmb", VCF, "--bed", BED, "--min-depth", "-1"], "--min-depth"),
    (["tmb", VCF, "--bed", BED, "--min-depth", "99999999999"], "--min-depth"),
    (["tmb", VCF, "--bed", BED, "--footprint-mb", "0"], "--footprint-mb"),
    (["tmb", VCF, "--bed", BED, "--min-footprint-mb", "nan"], "--min-footprint-mb"),
    (["msi", "mutations", VCF, "--footprint-mb", "inf"], "--footprint-mb"),
    (["calibrate", "translate", "--model", "f1cdx__to__exome-wes-merino__ols__v1", "--reference-cut", "nan"],
     "--cutpoints"),
    (["calibrate", "translate", "--model", "f1cdx__to__exome-wes-merino__ols__v1", "--alpha", "inf"], "--alpha"),
    (["calibrate", "uncertainty", "--mb", "1,nan"], "--mb"),
    (["calibrate", "uncertainty", "--mb", "1", "--cut", "inf"], "--cut"),
    (["callable", "x.bam", "--bed", BED, "--min-depth", "-3"], "--min-depth"),
])
def test_numeric_options_finite_and_in_range(tmp_path, args, option):
    refused(tmp_path, [*args, "-o", tmp_path / "out"], 2, option)


@pytest.mark.parametrize("line, key", [("min_vaf = nan", "min_vaf"), ("min_depth = -5", "min_depth"),
                                       ("cutpoints = [10.0, inf]", "cutpoints")])
def test_profile_numbers(tmp_path, line, key):
    prof = tmp_path / "p.toml"
    prof.write_text(f'name = "p"\n{line}\n')
    refused(tmp_path, tmb(tmp_path, VCF, "--profile", prof), 1, "p.toml", key)


@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d["parameters"].__setitem__("slope", float("nan")), "NaN"),
    (lambda d: d["parameters"].__setitem__("slope", 0.0), "parameters.slope"),
    (lambda d: d.__setitem__("valid_range", {"panel_tmb_min": 50.0, "panel_tmb_max": 5.0}), "inverted"),
    (lambda d: d["bootstrap"]["band"]["low"].__setitem__(3, 1e9), "low <= high"),
])
def test_calibration_model_values(tmp_path, edit, fragment):
    d = json.loads((calibration_dir() / "f1cdx__to__exome-wes-merino__ols__v1.json").read_text())
    edit(d)
    model = tmp_path / "model.json"
    model.write_text(json.dumps(d))                      # json writes NaN literally, as a hand edit would
    refused(tmp_path, ["calibrate", "translate", "--model", model, "-o", tmp_path / "out"], 1, "model.json",
            fragment)


def _baseline_text(sd: str) -> str:
    cols = ("chrom", "start", "end", "unit", "ref_copies", "support", "mean_distant_fraction",
            "sd_distant_fraction", "mean_reads", "mean_adjacent_fraction")
    params = {"mapq": 20, "exclude_flags": 3844, "anchor": 5, "mate_dedup": True, "min_coverage": 20,
              "min_support": 1}
    return (f"# parameters: {json.dumps(params)}\n" + "\t".join(cols) + "\n"
            + f"chrM\t302\t312\tC\t10\t3\t0.01\t{sd}\t40\t0.1\n")


@pytest.mark.parametrize("sd", ["-0.2", "nan", "NA"])
def test_msi_baseline_sd(tmp_path, shared, sd):
    base = tmp_path / "base.tsv"
    base.write_text(_baseline_text(sd))
    loci = tmp_path / "loci.tsv"
    loci.write_text("##tmbcalc-msi-loci v1\nchrom\tstart\tend\tunit\tref_copies\tleft_flank\tright_flank\tname\n"
                    "chrM\t302\t312\tC\t10\tAAAAAAAAAA\tTTTTTTTTTT\tm1\n")
    bam = shared / STRELKA / "NA12878_chrM_200-200.bam"
    refused(tmp_path, ["msi", "score", bam, "--baseline", base, "--loci", loci, "-o", tmp_path / "out"], 1,
            "base.tsv", "line 3", "sd_distant_fraction")


@pytest.mark.parametrize("key, value", [("probability_cutoff", float("nan")), ("coef_log_snvs", float("inf")),
                                        ("pseudo", -1.0)])
def test_msi_indel_rule_values(tmp_path, key, value):
    d = json.loads((calibration_dir() / "msi_mutations_msiseq_tcga_v1.json").read_text())
    d[key] = value
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps(d))
    refused(tmp_path, ["msi", "mutations", VCF, "--footprint-mb", "30", "--rule", rule, "-o", tmp_path / "out"],
            1, "rule.json", key)


def test_vcf_position_beyond_int32(tmp_path):
    lines = vcf_lines()
    i = next(k for k, ln in enumerate(lines) if not ln.startswith("#"))
    f = lines[i].split("\t")
    f[1] = "99999999999999999999"                        # wrapped to a small number before
    lines[i] = "\t".join(f)
    vcf = write_vcf(tmp_path / "bigpos.vcf", lines)
    refused(tmp_path, tmb(tmp_path, vcf), 1, "bigpos.vcf", "2^31 - 1", f"record {1}")


def test_vcf_position_beyond_contig_length(tmp_path):
    lines = vcf_lines()
    length = next(int(ln.split("length=")[1].rstrip(">")) for ln in lines if ln.startswith("##contig=<ID=chr21,"))
    i = next(k for k, ln in enumerate(lines) if ln.startswith("chr21\t"))
    f = lines[i].split("\t")
    f[1] = str(length + 1)
    lines[i] = "\t".join(f)
    vcf = write_vcf(tmp_path / "pastend.vcf", lines)
    refused(tmp_path, tmb(tmp_path, vcf), 1, "pastend.vcf", f"{length:,} bp", "beyond the end")


@pytest.mark.parametrize("column, value", [("Start_Position", "1e20"), ("t_depth", "1e20"), ("t_depth", "-7")])
def test_maf_numbers_out_of_range(tmp_path, column, value):
    row = ["KRAS", "chr1", "68229585", "68229585", "A", "C", "S1", "Missense_Mutation", "PASS", "100", "20"]
    row[MAF_COLUMNS.index(column)] = value
    maf = write_maf(tmp_path / "big.maf", [row])
    refused(tmp_path, tmb(tmp_path, maf), 1, "big.maf", "line 2", column)


def test_header_only_maf(tmp_path):
    maf = write_maf(tmp_path / "empty.maf", [])
    line = refused(tmp_path, tmb(tmp_path, maf), 1, "empty.maf", "no variant records")
    assert "(no sample)" not in line


# -- item 6: one-line errors everywhere ----------------------------------------------------------
def _non_utf8_vcf(tmp_path: Path) -> list:
    lines = vcf_lines()
    lines = [ln.replace("\tTUMOR\tNORMAL", "\tTUM\udcffOR\tNORMAL") if ln.startswith("#CHROM") else ln
             for ln in lines]
    p = tmp_path / "name.vcf"
    p.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
    return tmb(tmp_path, p)


def _non_utf8_profile(tmp_path: Path) -> list:
    p = tmp_path / "prof.toml"
    p.write_bytes(b'name = "caf\xe9"\n')
    return tmb(tmp_path, VCF, "--profile", p)


def _non_utf8_panel(tmp_path: Path) -> list:
    d = tmp_path / "panels"
    d.mkdir()
    (d / "mine.toml").write_bytes(b'id = "mine"\nname = "caf\xe9"\n')
    return ["tmb", VCF, "--panel", "mine", "--panels-dir", d, "-o", tmp_path / "out"]


def _non_utf8_model(tmp_path: Path) -> list:
    p = tmp_path / "model.json"
    p.write_bytes(b'{"format": "caf\xe9"}')
    return ["calibrate", "translate", "--model", p]


@pytest.mark.parametrize("make, name", [(_non_utf8_vcf, "name.vcf"), (_non_utf8_profile, "prof.toml"),
                                        (_non_utf8_panel, "mine.toml"), (_non_utf8_model, "model.json")])
def test_non_utf8_text(tmp_path, make, name):
    refused(tmp_path, make(tmp_path), 1, name, "UTF-8")


def _flip(data: bytes, at: float, n: int = 16) -> bytes:
    b = bytearray(data)
    k = int(len(b) * at)
    for j in range(k, min(k + n, len(b))):
        b[j] ^= 0x5A
    return bytes(b)


def test_flipped_bytes_in_gzipped_maf(tmp_path):
    rows = [["G", "chr1", 1_000_000 + 37 * i, 1_000_000 + 37 * i, "A", "C", "S1", "Missense_Mutation", "PASS",
             100, 20] for i in range(3000)]
    good = write_maf(tmp_path / "good.maf.gz", rows, gz=True)
    bad = tmp_path / "flip.maf.gz"
    bad.write_bytes(_flip(good.read_bytes(), 0.5))
    refused(tmp_path, tmb(tmp_path, bad), 1, "flip.maf.gz")


@pytest.mark.parametrize("at", [0.02, 0.5, 0.8])
def test_flipped_bytes_in_bcf(tmp_path, shared, at):
    bcf = tmp_path / "calls.bcf"
    run_tool("bcftools", "view", "-Ob", "-o", str(bcf), str(shared / "somatic/pcgr_examples/T001-COAD.grch37.vcf.gz"))
    bad = tmp_path / "flip.bcf"
    bad.write_bytes(_flip(bcf.read_bytes(), at))
    impact = shared / "panels/msk_impact_gnomeR/IMPACT468_targets_GRCh37.bed"
    refused(tmp_path, ["tmb", bad, "--bed", impact, "--consequences", "all", "--filter-missing-is-pass",
                       "--min-depth", "off", "--min-alt", "off", "--min-vaf", "off", "-o", tmp_path / "out"],
            1, "flip.bcf", "corrupt")


def test_bed_integer_too_large(tmp_path):
    bed = tmp_path / "big.bed"
    bed.write_text("chr1\t100\t99999999999999999999999\n")
    refused(tmp_path, ["tmb", VCF, "--bed", bed, "-o", tmp_path / "out"], 1, "big.bed", "line 1", "2^31 - 1")


def test_truncated_bgzip_fasta(tmp_path, shared):
    fa = tmp_path / "chrM.fa"
    shutil.copy(shared / STRELKA / "chrM_hg19.fa", fa)
    run_tool("bgzip", "-f", str(fa))
    gz = tmp_path / "chrM.fa.gz"
    run_tool("samtools", "faidx", str(gz))
    cut = tmp_path / "cut.fa.gz"
    cut.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    for ext in (".fai", ".gzi"):
        shutil.copy(str(gz) + ext, str(cut) + ext)
    refused(tmp_path, ["msi", "scan", "--reference", cut, "-o", tmp_path / "out.loci"], 1, "cut.fa.gz",
            "truncated or corrupt")


def test_calibrate_fit_duplicate_rows(tmp_path):
    rows = ["sample\tcohort\tpanel\tprofile\tcount\tmb\ttmb"]
    for i in range(30):
        rows.append(f"s{i}\tC{i % 3}\texome-wes-merino\twes-merino\t{30 + 7 * i}\t30\t{(30 + 7 * i) / 30:.6g}")
        rows.append(f"s{i}\tC{i % 3}\tf1cdx\tf1cdx-like\t{1 + i // 3}\t0.8\t{(1 + i // 3) / 0.8:.6g}")
    rows.append(rows[7])                                  # the duplicate: line 32 of the file
    table = tmp_path / "sim.tsv"
    table.write_text("\n".join(rows) + "\n")
    outdir = tmp_path / "out"
    outdir.mkdir()
    line = refused_dir(tmp_path, ["calibrate", "fit", "--table", table, "--reference", "exome-wes-merino",
                                  "--bootstrap", "5", "--no-holdout", "-o", outdir], outdir)
    assert "sim.tsv" in line and "line 62: duplicate row" in line


def refused_dir(tmp_path: Path, args: list, outdir: Path) -> str:
    r = run_cli(*map(str, args))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmbcalc: error:"), r.stderr
    assert list(outdir.iterdir()) == []
    return lines[0]


def test_binary_file_given_as_maf(tmp_path):
    blob = tmp_path / "blob.maf"
    blob.write_bytes(bytes(range(256)) * 40)
    refused(tmp_path, tmb(tmp_path, blob), 1, "blob.maf", "binary data")


@pytest.mark.parametrize("damage, fragment", [("truncate", "corrupt or truncated"), ("stale", "stale index"),
                                              ("folder", "is a folder")])
def test_bam_index_problems(tmp_path, shared, damage, fragment):
    bam = tmp_path / "n.bam"
    shutil.copy(shared / STRELKA / "NA12891_demo20.bam", bam)
    bai = Path(str(bam) + ".bai")
    if damage == "truncate":             # a 40-byte .bai made htslib abort the process (free(): invalid pointer)
        bai.write_bytes((shared / STRELKA / "NA12891_demo20.bam.bai").read_bytes()[:40])
    elif damage == "stale":
        shutil.copy(shared / STRELKA / "NA12891_demo20.bam.bai", bai)
        os.utime(bai, (bam.stat().st_mtime - 3600,) * 2)
    else:
        bai.mkdir()
    bed = tmp_path / "d.bed"
    bed.write_text("demo20\t0\t5000\n")
    refused(tmp_path, ["callable", bam, "--bed", bed, "--min-depth", "1", "-o", tmp_path / "out"], 1, "n.bam",
            fragment)


def test_msi_mutations_maf_without_start(tmp_path):
    cols = [c for c in MAF_COLUMNS if c != "Start_Position"]
    maf = write_maf(tmp_path / "nostart.maf", [["K", "1", "1", "A", "C", "S1", "Missense_Mutation", "PASS", 9, 3]],
                    columns=cols)
    line = refused(tmp_path, ["msi", "mutations", maf, "--footprint-mb", "30", "-o", tmp_path / "out"], 1,
                   "nostart.maf", "Start_Position")
    assert "not a VCF" not in line


def test_all_missing_requirements_in_one_message(tmp_path):
    cols = ["Chromosome", "Start_Position", "Reference_Allele", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode"]
    maf = write_maf(tmp_path / "bare.maf", [["chr1", "68229585", "A", "C", "S1"]], columns=cols)
    line = refused(tmp_path, tmb(tmp_path, maf), 1, "bare.maf", "5 requirements")
    for what in ("consequence", "FILTER", "min_depth", "min_alt_reads", "min_vaf"):
        assert what in line, what


def _fasta_pair(tmp_path: Path, shared) -> Path:
    fa = tmp_path / "ref.fa"
    fa.write_bytes((shared / STRELKA / "chrM_hg19.fa").read_bytes() + (shared / STRELKA / "demo20.fa").read_bytes())
    run_tool("samtools", "faidx", str(fa))
    return fa


def test_msi_scan_stale_fai(tmp_path, shared):
    fa = _fasta_pair(tmp_path, shared)
    lines = fa.read_text().splitlines(keepends=True)
    fa.write_text("".join(lines[:5] + lines[6:]))       # one sequence line removed after indexing
    refused(tmp_path, ["msi", "scan", "--reference", fa, "-o", tmp_path / "out.loci"], 1, "ref.fa", "stale",
            inputs=[str(fa) + ".fai"])


def test_msi_scan_foreign_fai(tmp_path, shared):
    fa = _fasta_pair(tmp_path, shared)
    shutil.copy(shared / STRELKA / "demo20.fa.fai", str(fa) + ".fai")
    refused(tmp_path, ["msi", "scan", "--reference", fa, "-o", tmp_path / "out.loci"], 1, "ref.fa",
            "does not match")


@pytest.mark.parametrize("with_fai", [False, True])
def test_msi_scan_duplicate_contig_names(tmp_path, shared, with_fai):
    fa = tmp_path / "dup.fa"
    m = (shared / STRELKA / "chrM_hg19.fa").read_bytes()
    fa.write_bytes(m + m)
    if with_fai:                                          # samtools keeps the first and warns
        subprocess.run(["samtools", "faidx", str(fa)], capture_output=True, check=True)
    refused(tmp_path, ["msi", "scan", "--reference", fa, "-o", tmp_path / "out.loci"], 1, "dup.fa",
            "duplicate sequence name")


# -- item 7: denominator guards ------------------------------------------------------------------
def _merged_bp(bed: Path) -> int:
    ivs = sorted((ln.split("\t")[0], int(ln.split("\t")[1]), int(ln.split("\t")[2]))
                 for ln in bed.read_text().splitlines() if ln and not ln.startswith("#"))
    total, cur = 0, None
    for c, s, e in ivs:
        if cur and cur[0] == c and s <= cur[2]:
            cur = (c, cur[1], max(cur[2], e))
        else:
            total += (cur[2] - cur[1]) if cur else 0
            cur = (c, s, e)
    return total + ((cur[2] - cur[1]) if cur else 0)


def _run_ok(tmp_path: Path, *args) -> tuple[dict, str, str, str]:
    prefix = tmp_path / "res"
    r = run_cli("tmb", *map(str, args), "-o", str(prefix))
    assert r.returncode == 0, r.stderr
    doc = json.loads(Path(str(prefix) + ".tmb.json").read_text())
    tsv = Path(str(prefix) + ".tmb.tsv").read_text()
    variants = gzip.decompress(Path(str(prefix) + ".variants.tsv.gz").read_bytes()).decode()
    return doc, tsv, variants, r.stderr


def test_tiny_footprint_is_insufficient(tmp_path):
    small = tmp_path / "small.bed"
    small.write_text("".join(BED.read_text().splitlines(keepends=True)[1:8]))
    bp = _merged_bp(small)
    assert bp / 1e6 < 0.5
    doc, tsv, variants, err = _run_ok(tmp_path, VCF, "--bed", small)
    assert doc["footprint_status"] == "insufficient_footprint"
    assert doc["denominator"]["status"] == "insufficient_footprint"
    assert doc["denominator"]["footprint_bp"] == bp
    assert all(v == "insufficient_footprint" for s in doc["samples"] for v in s["status"].values())
    warn = next(w for w in doc["warnings"] if w.startswith("insufficient_footprint"))
    assert f"{bp:,} bp" in warn and "0.667 Mb" in warn
    assert f"# warning: {warn}" in tsv.splitlines()
    assert f"# warning: {warn}" in variants.splitlines()
    assert "tmbcalc: warning: insufficient_footprint" in err
    row = dict(zip(*[ln.split("\t") for ln in tsv.splitlines() if not ln.startswith("#")][:2]))
    assert row["status_10"] == "insufficient_footprint"


def test_min_footprint_option_and_clean_call(tmp_path):
    doc, *_ = _run_ok(tmp_path, VCF, "--bed", BED)
    assert doc["footprint_status"] == "ok" and doc["denominator"]["min_footprint_mb"] == 0.5
    doc, *_ = _run_ok(tmp_path, VCF, "--bed", BED, "--min-footprint-mb", "1.0")   # 0.75 Mb < 1.0
    assert doc["footprint_status"] == "insufficient_footprint"


def test_low_callable_fraction_is_insufficient(tmp_path):
    lines = [ln for ln in BED.read_text().splitlines() if ln and not ln.startswith("#")]
    part = tmp_path / "callable.bed"
    part.write_text("\n".join(lines[: len(lines) // 4]) + "\n")     # a quarter of the panel's targets
    doc, *_ = _run_ok(tmp_path, VCF, "--bed", BED, "--callable-bed", part, "--min-footprint-mb", "0")
    frac = _merged_bp(part) / _merged_bp(BED)
    assert doc["denominator"]["callable_fraction"] == pytest.approx(frac, rel=1e-12)
    assert doc["footprint_status"] == "insufficient_footprint"
    assert any("callable" in w for w in doc["warnings"])


def test_callable_depth_below_variant_depth_warned(tmp_path, shared):
    bed = tmp_path / "d.bed"
    bed.write_text("demo20\t0\t5000\n")
    doc, tsv, _, err = _run_ok(tmp_path, shared / STRELKA / "somatic.snvs.vcf.gz", "--bed", bed,
                               "--tumor-bam", shared / STRELKA / "NA12891_demo20.bam", "--min-coverage", "5",
                               "--consequences", "all", "--min-footprint-mb", "0")
    w = next(w for w in doc["warnings"] if "--min-coverage 5" in w)
    assert "min_depth 25" in w and f"# warning: {w}" in tsv.splitlines() and "--min-coverage 5" in err


def test_declared_denominator(tmp_path):
    doc, tsv, _, _ = _run_ok(tmp_path, VCF, "--bed", BED, "--footprint-mb", "1.2")
    measured = _merged_bp(BED)
    den = doc["denominator"]
    assert den["kind"] == "declared" and den["denominator_kind"] == "declared"
    assert den["footprint_bp"] == 1_200_000 and den["measured_footprint_bp"] == measured
    s = doc["samples"][0]
    assert s["tmb"] == s["eligible_variants"] / 1.2
    assert "# denominator declared: 1.2 Mb" in tsv
    # the same eligible set as the measured run: only the divisor changes
    doc2, *_ = _run_ok(tmp_path, VCF, "--bed", BED)
    assert doc2["samples"][0]["eligible_variants"] == s["eligible_variants"]
    assert doc2["denominator"]["denominator_kind"] == "measured"


def test_declared_denominator_api():
    from tmbcalc import compute_tmb

    res = compute_tmb(VCF, bed=BED, footprint_mb=2.5)
    s = res.samples[0]
    assert math.isclose(s.tmb, s.eligible_variants / 2.5, rel_tol=0, abs_tol=0)
    assert res.denominator["measured_footprint_bp"] == _merged_bp(BED)


@pytest.mark.parametrize("kw", [{"cutpoints": [float("nan")]}, {"cutpoints": [10.0, float("inf")]},
                                {"min_vaf": float("nan")}, {"footprint_mb": float("inf")},
                                {"min_footprint_mb": -1.0}, {"max_pop_af": 2.0}])
def test_api_numbers_checked(kw):
    from tmbcalc import compute_tmb
    from tmbcalc.errors import UsageError

    with pytest.raises(UsageError):
        compute_tmb(VCF, bed=BED, **kw)


# -- one open_alignment: MSI refuses the alignments that callable refuses -------------------------
@pytest.fixture(scope="module")
def msi_data(tmp_path_factory):
    """A synthetic reference, its loci ('msi scan') and a coordinate-sorted, indexed normal BAM."""
    from tests._msi_reads import build_reference, write_bam
    from tmbcalc.msi.loci import read_loci

    tmp = tmp_path_factory.mktemp("msi_bad")
    seq = build_reference(tmp / "ref.fa", 12, seed=3)
    r = run_cli("msi", "scan", "--reference", str(tmp / "ref.fa"), "-o", str(tmp / "loci.tsv"))
    assert r.returncode == 0, r.stderr
    loci = read_loci(tmp / "loci.tsv")
    normal = write_bam(tmp / "normal.bam", seq, loci, [{0: 0.9, -1: 0.1}] * len(loci), 20, 1, "N")
    (tmp / "all.bed").write_text(f"chrS\t0\t{len(seq)}\n")
    return {"loci": tmp / "loci.tsv", "normal": normal, "bed": tmp / "all.bed"}


def _damaged_bam(src: Path, dst: Path, damage: str) -> Path:
    """``unsorted``: the same records under a header saying SO:queryname (indexed: samtools does
    not read SO); ``no_eof``: the file without its last 28 bytes (the BGZF end-of-file block),
    with the original's index made newer than it (so the index is not what is wrong)."""
    import pysam

    if damage == "unsorted":
        with pysam.AlignmentFile(str(src)) as f:
            hdr = f.header.to_dict()
            hdr["HD"] = {"VN": "1.6", "SO": "queryname"}
            with pysam.AlignmentFile(str(dst), "wb", header=hdr) as out:
                for rec in f:
                    out.write(rec)
        pysam.index(str(dst))
    else:
        dst.write_bytes(src.read_bytes()[:-28])
        shutil.copy(str(src) + ".bai", str(dst) + ".bai")
        os.utime(str(dst) + ".bai", (dst.stat().st_mtime + 60,) * 2)
    return dst


@pytest.mark.parametrize("damage, fragment", [("unsorted", "is not coordinate-sorted (@HD SO:queryname)"),
                                              ("no_eof", "is truncated (no end-of-file marker)")])
def test_msi_refuses_what_callable_refuses(tmp_path, msi_data, damage, fragment):
    bad = _damaged_bam(msi_data["normal"], tmp_path / "bad.bam", damage)
    for args in (["callable", bad, "--bed", msi_data["bed"], "--min-coverage", "1"],
                 ["msi", "score", bad, "--normal-bam", msi_data["normal"], "--loci", msi_data["loci"]],
                 ["msi", "score", msi_data["normal"], "--normal-bam", bad, "--loci", msi_data["loci"]],
                 ["msi", "baseline", bad, "--loci", msi_data["loci"], "--min-support", "1"]):
        line = refused(tmp_path, [*args, "-o", tmp_path / "out"], 1, "bad.bam", fragment)
        assert line.startswith(f"tmbcalc: error: {bad}: "), line
