"""PREFIX.footprint.bed.gz: the denominator regions of every TMB run, written beside the other files
so that the footprint actually interrogated can be audited.  Expected regions come from bedtools
(merge / subtract / intersect) and from ``tmbcalc callable``'s own BED, never from the writer."""
from __future__ import annotations

import gzip
import json

import pysam

from tests.conftest import REPO, run_cli, run_tool
from tests.test_tmb_build_inputs import NO_ANNOTATION, PCGR, nochr_bed


def bed_rows(path) -> list[tuple[str, int, int]]:
    """Non-comment rows of a (possibly gzipped) BED, sorted by contig name then start."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as fh:
        rows = [ln.split("\t")[:3] for ln in fh if ln.strip() and not ln.startswith(("#", "track"))]
    return sorted((c, int(s), int(e)) for c, s, e in rows)


def bedtools_rows(script: str) -> list[tuple[str, int, int]]:
    text = run_tool("bash", "-c", script)
    return sorted((c, int(s), int(e)) for c, s, e in (ln.split("\t")[:3] for ln in text.splitlines() if ln))


def test_registry_panel_footprint_equals_the_merged_panel_bed(tmp_path, shared):
    vcf = shared / PCGR.format("grch38")
    expected_bed = nochr_bed(tmp_path, REPO / "panels/tso500.GRCh38.bed.gz", "fp.bed")   # sorted + merged
    r = run_cli("tmb", str(vcf), "--panel", "tso500", *NO_ANNOTATION, "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    out = tmp_path / "o.footprint.bed.gz"
    rows = bed_rows(out)
    assert rows == bed_rows(expected_bed)
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    assert sum(e - s for _, s, e in rows) == doc["denominator"]["footprint_bp"]
    assert doc["outputs"]["footprint_bed"].endswith("o.footprint.bed.gz")
    with gzip.open(out, "rt") as fh:
        head = fh.readline()
    assert head.startswith("# tmbcalc") and "GRCh38" in head and "0-based half-open" in head
    # the tabix index answers region queries as tabix itself does on the same file
    c, s, e = rows[len(rows) // 2]
    got = [tuple(x.split("\t")) for x in pysam.TabixFile(str(out)).fetch(c, s, e)]
    assert got == [(c, str(s), str(e))]
    assert run_tool("tabix", str(out), f"{c}:{s + 1}-{e}").strip() == f"{c}\t{s}\t{e}"


def test_bed_minus_excluded_with_the_call_files_contig_spelling(tmp_path, shared):
    """A chr-named VCF on a BED spelled without chr, minus an exclusion BED: the footprint is
    bedtools' subtraction, spelled like the VCF."""
    src = shared / PCGR.format("grch38")
    chrmap = tmp_path / "chrs.txt"
    chrmap.write_text("".join(f"{c}\tchr{c}\n" for c in [*map(str, range(1, 23)), "X", "Y"]))
    vcf = tmp_path / "chr.vcf.gz"
    run_tool("bash", "-c", f"bcftools annotate --rename-chrs {chrmap} {src} -Oz -o {vcf} && tabix -p vcf {vcf}")
    bed = nochr_bed(tmp_path, REPO / "panels/tso500.GRCh38.bed.gz", "fp.bed")
    excl = tmp_path / "excl.bed"
    rows = bed_rows(bed)
    excl.write_text("".join(f"{c}\t{s + 5}\t{e + 40}\n" for c, s, e in rows[::7]))
    r = run_cli("tmb", str(vcf), "--bed", str(bed), "--exclude-bed", str(excl), "--genome-build", "GRCh38",
                *NO_ANNOTATION, "--profile", "tso500-like", "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    expected = bedtools_rows(f"bedtools subtract -a {bed} -b {excl} | sed 's/^/chr/'")
    assert bed_rows(tmp_path / "o.footprint.bed.gz") == expected
    doc = json.loads((tmp_path / "o.tmb.json").read_text())
    assert doc["denominator"]["footprint_bp"] == sum(e - s for _, s, e in expected)


def test_callable_footprint_equals_the_callable_command_within_the_bed(tmp_path, shared):
    sd = shared / "bam/strelka_demo"
    length = int((sd / "demo20.fa.fai").read_text().split("\t")[1])
    bed = tmp_path / "part.bed"
    bed.write_text(f"demo20\t1000\t{length // 2}\ndemo20\t{length // 2 + 500}\t{length - 1000}\n")
    common = ["--tumor-bam", str(sd / "NA12891_demo20.bam"), "--normal-bam", str(sd / "NA12892_demo20.bam")]
    r = run_cli("tmb", str(sd / "somatic.snvs.vcf.gz"), "--bed", str(bed), *common, "--min-coverage", "30",
                "--consequences", "all", "--min-alt", "off", "--min-vaf", "off", "--min-depth", "off",
                "-o", str(tmp_path / "t"))
    assert r.returncode == 0, r.stderr
    whole = tmp_path / "whole.bed"
    whole.write_text(f"demo20\t0\t{length}\n")
    r = run_cli("callable", str(sd / "NA12891_demo20.bam"), "--normal-bam", str(sd / "NA12892_demo20.bam"),
                "--bed", str(whole), "--min-coverage", "30", "-o", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    expected = bedtools_rows(f"zcat {tmp_path / 'c.callable.bed.gz'} | grep -v '^#' | "
                             f"bedtools intersect -a - -b {bed}")
    got = bed_rows(tmp_path / "t.footprint.bed.gz")
    assert got == expected and got
    doc = json.loads((tmp_path / "t.tmb.json").read_text())
    assert doc["denominator"]["kind"].endswith("callable_from_bams")
    assert doc["denominator"]["footprint_bp"] == sum(e - s for _, s, e in expected)


def test_plain_tsv_leaves_the_bed_without_comment_lines(tmp_path):
    ex = REPO / "tmbcalc/examples"
    r = run_cli("tmb", str(ex / "example_tumor_normal.vcf.gz"), "--bed", str(ex / "example_panel.bed"),
                "--profile", "wes-merino", "--plain-tsv", "-o", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    with gzip.open(tmp_path / "p.footprint.bed.gz", "rt") as fh:
        text = fh.read()
    assert not text.startswith("#")
    expected = bedtools_rows(f"grep -v '^#' {ex / 'example_panel.bed'} | sort -k1,1 -k2,2n | bedtools merge -i -")
    assert bed_rows(tmp_path / "p.footprint.bed.gz") == expected
