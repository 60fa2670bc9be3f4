"""``tmbcalc callable`` end to end: output files and their content, bad input -> exit 1/2,
one-line error, no output files.  Expected values come from mosdepth and samtools."""
from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pysam
import pytest

from tests.conftest import need_tool, run_cli

GHGA = "bam/ghga_seqc2_hcc1395/seqc2_somatic_calling"


def outputs(prefix: Path) -> list[Path]:
    return sorted(prefix.parent.glob(prefix.name + "*")) + sorted(prefix.parent.glob("." + prefix.name + "*"))


def mosdepth_depth(bam: Path, tmp: Path, chrom: str, lo: int, hi: int, mapq: int) -> np.ndarray:
    need_tool("mosdepth")
    subprocess.run(["mosdepth", "-c", chrom, "-F", "1796", "-Q", str(mapq), str(tmp / "md"), str(bam)],
                   check=True, capture_output=True)
    arr = np.zeros(hi - lo, dtype=np.int64)
    with gzip.open(tmp / "md.per-base.bed.gz", "rt") as fh:
        for line in fh:
            c, s, e, d = line.split("\t")
            s, e = max(int(s), lo), min(int(e), hi)
            if c == chrom and s < e:
                arr[s - lo:e - lo] = int(d)
    return arr


def test_cli_tumor_normal_outputs(shared, tmp_path):
    d = shared / GHGA
    tumor, normal, bed = d / "WES_LL_T_1_test.bam", d / "WES_LL_N_1_test.bam", d / "seqc2.bed"
    prefix = tmp_path / "s1"
    proc = run_cli("callable", str(tumor), "--normal-bam", str(normal), "--bed", str(bed), "--min-depth", "20",
                   "--min-normal-depth", "15", "--mapq", "20", "--mate-overlap", "mosdepth", "-o", str(prefix))
    assert proc.returncode == 0, proc.stderr
    for suffix in (".callable.bed.gz", ".callable.bed.gz.tbi", ".callable.json", ".coverage.tsv"):
        assert Path(str(prefix) + suffix).is_file()
    # expected callable bases from mosdepth per-base depth of both BAMs
    bed_rows = [ln.split("\t")[:3] for ln in bed.read_text().splitlines() if ln.strip()]
    exp_bp = 0
    exp_rows = []
    fp = set()
    for c, s, e in bed_rows:
        for p in range(int(s), int(e)):
            fp.add((c, p))
    by_chrom: dict[str, list[int]] = {}
    for c, p in fp:
        by_chrom.setdefault(c, []).append(p)
    for c, ps in by_chrom.items():
        lo, hi = min(ps), max(ps) + 1
        t = mosdepth_depth(tumor, tmp_path, c, lo, hi, 20)
        n = mosdepth_depth(normal, tmp_path, c, lo, hi, 20)
        for p in ps:
            if t[p - lo] >= 20 and n[p - lo] >= 15:
                exp_bp += 1
                exp_rows.append((c, p))
    summary = json.loads(Path(str(prefix) + ".callable.json").read_text())
    assert summary["callable_bp"] == exp_bp
    assert summary["footprint_bp"] == len(fp)
    assert summary["thresholds"] == {"min_depth": 20, "min_normal_depth": 15}
    assert summary["provenance"]["inputs"]["tumor_bam"]["sha256"] == hashlib.sha256(tumor.read_bytes()).hexdigest()
    assert summary["provenance"]["parameters"]["mapq"] == 20
    assert sum(r["callable_bp"] for r in summary["per_contig"]) == exp_bp
    # the BED is BGZF (tabix-indexed) and lists exactly those bases
    with pysam.TabixFile(str(prefix) + ".callable.bed.gz") as tbx:
        got = set()
        for c in tbx.contigs:
            for row in tbx.fetch(c, parser=pysam.asTuple()):
                got.update((row[0], p) for p in range(int(row[1]), int(row[2])))
    assert got == set(exp_rows)
    # coverage.tsv: one row per BED record, mean depth as mosdepth -b reports it
    subprocess.run(["mosdepth", "-n", "-F", "1796", "-Q", "20", "-b", str(bed), str(tmp_path / "reg"), str(tumor)],
                   check=True, capture_output=True)
    md_means = [float(ln.split("\t")[-1]) for ln in gzip.open(tmp_path / "reg.regions.bed.gz", "rt")]
    lines = Path(str(prefix) + ".coverage.tsv").read_text().splitlines()
    assert lines[0].startswith("# tmbcalc")
    body = [ln for ln in lines if not ln.startswith("#")]
    header = body[0].split("\t")
    assert header[:7] == ["chrom", "start", "end", "name", "mean_depth", "median_depth", "frac_ge_min_depth"]
    assert "normal_mean_depth" in header
    rows = [dict(zip(header, ln.split("\t"))) for ln in body[1:]]
    assert len(rows) == len(bed_rows) == len(md_means)
    for r, m in zip(rows, md_means):
        assert abs(float(r["mean_depth"]) - m) <= 0.0051


def test_cli_bad_inputs_exit_1_no_outputs(shared, tmp_path):
    d = shared / GHGA
    bed = d / "seqc2.bed"
    noidx = tmp_path / "noidx.bam"
    noidx.write_bytes((d / "WES_LL_T_1_test.bam").read_bytes())
    trunc = tmp_path / "trunc.bam"
    trunc.write_bytes((d / "WES_LL_T_1_test.bam").read_bytes()[:100_000])
    Path(str(trunc) + ".bai").write_bytes(Path(str(d / "WES_LL_T_1_test.bam") + ".bai").read_bytes())
    wrong_bed = tmp_path / "wrong.bed"
    wrong_bed.write_text("chrUnknown\t100\t200\n")
    empty_bed = tmp_path / "empty.bed"
    empty_bed.write_text("# nothing\n")
    cram = tmp_path / "x.cram"
    s = shared / "bam/strelka_demo"
    subprocess.run(["samtools", "view", "-C", "-T", str(s / "demo20.fa"), "-o", str(cram),
                    str(s / "NA12891_demo20.bam")], check=True)
    subprocess.run(["samtools", "index", str(cram)], check=True)
    demo_bed = tmp_path / "demo.bed"
    demo_bed.write_text("demo20\t0\t5000\n")
    cases = [
        ([str(noidx), "--bed", str(bed)], "samtools index"),
        ([str(trunc), "--bed", str(bed)], "truncated"),
        ([str(d / "WES_LL_T_1_test.bam"), "--bed", str(wrong_bed)], "no contig names"),
        ([str(d / "WES_LL_T_1_test.bam"), "--bed", str(empty_bed)], "no intervals"),
        ([str(cram), "--bed", str(demo_bed)], "--reference"),
        ([str(tmp_path / "missing.bam"), "--bed", str(bed)], "does not exist"),
    ]
    for args, msg in cases:
        prefix = tmp_path / "out"
        proc = run_cli("callable", *args, "--min-depth", "10", "-o", str(prefix))
        assert proc.returncode == 1, (args, proc.stderr)
        err = proc.stderr.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("tmbcalc: error:") and msg in err[0], (args, proc.stderr)
        assert outputs(prefix) == [], args
    # bad argument combinations: exit 2
    proc = run_cli("callable", str(d / "WES_LL_T_1_test.bam"), "--bed", str(bed), "--min-depth", "10",
                   "--min-normal-depth", "5", "-o", str(tmp_path / "o2"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert outputs(tmp_path / "o2") == []
    # CRAM with its reference works and equals the BAM result
    ok = run_cli("callable", str(cram), "--bed", str(demo_bed), "--min-depth", "10", "--reference",
                 str(s / "demo20.fa"), "-o", str(tmp_path / "cr"))
    assert ok.returncode == 0, ok.stderr
    ok2 = run_cli("callable", str(s / "NA12891_demo20.bam"), "--bed", str(demo_bed), "--min-depth", "10",
                  "-o", str(tmp_path / "bm"), "--threads", "2")
    assert ok2.returncode == 0, ok2.stderr
    a = json.loads((tmp_path / "cr.callable.json").read_text())
    b = json.loads((tmp_path / "bm.callable.json").read_text())
    assert a["callable_bp"] == b["callable_bp"] > 0


@pytest.mark.parametrize("extra", [["--count-deletions"], ["--mate-overlap", "none"], ["--exclude-flags", "0x4"]])
def test_cli_options_recorded(shared, tmp_path, extra):
    s = shared / "bam/strelka_demo"
    bed = tmp_path / "demo.bed"
    bed.write_text("demo20\t100\t4900\tseg\n")
    proc = run_cli("callable", str(s / "NA12891_demo20.bam"), "--bed", str(bed), "--min-depth", "5", *extra,
                   "-o", str(tmp_path / "x"))
    assert proc.returncode == 0, proc.stderr
    js = json.loads((tmp_path / "x.callable.json").read_text())
    p = js["parameters"]
    if "--count-deletions" in extra:
        assert p["count_deletions"] is True and p["mosdepth_equivalent"] is None
    if "none" in extra:
        assert p["mate_overlap"] == "none"
    if "0x4" in extra:
        assert p["exclude_flags"] == 4
    assert js["footprint_bp"] == 4800


def test_cli_panel_footprint_by_bam_build(shared, tmp_path):
    """--panel picks the panel build matching the BAM header (GRCh38 here); footprint size checked
    against bedtools merge of the panel's BED."""
    from tmbcalc.panels.registry import load_panel

    need_tool("bedtools")
    panel = load_panel("tso500")
    bed = panel.bed_path("GRCh38")
    merged = subprocess.run(f"zcat -f {bed} | grep -v '^#' | grep -v '^track' | sort -k1,1 -k2,2n | "
                            f"bedtools merge -i -", shell=True, capture_output=True, text=True, check=True).stdout
    exp_bp = sum(int(r.split("\t")[2]) - int(r.split("\t")[1]) for r in merged.splitlines() if r)
    bam = shared / GHGA / "WES_LL_T_1_test.bam"
    proc = run_cli("callable", str(bam), "--panel", "tso500", "--min-depth", "10", "-o", str(tmp_path / "p"))
    assert proc.returncode == 0, proc.stderr
    js = json.loads((tmp_path / "p.callable.json").read_text())
    assert js["footprint_bp"] == exp_bp
    assert js["provenance"]["panel"]["id"] == "tso500"
