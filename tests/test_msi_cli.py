"""`tmbcalc msi` command line: end to end, and bad inputs -> one-line error, exit code, no output."""
from __future__ import annotations

import json
import shutil

import pysam
import pytest

from tests._msi_reads import build_reference, write_bam
from tests.conftest import run_cli
from tmbcalc.msi.loci import read_loci

STUTTER = {0: 0.86, -1: 0.09, 1: 0.04, -2: 0.01}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("msicli")
    seq = build_reference(tmp / "ref.fa", 30, seed=9)
    r = run_cli("msi", "scan", "--reference", str(tmp / "ref.fa"), "-o", str(tmp / "loci.tsv"))
    assert r.returncode == 0, r.stderr
    loci = read_loci(tmp / "loci.tsv")
    n = len(loci)
    normal = write_bam(tmp / "normal.bam", seq, loci, [STUTTER] * n, 40, 1, "N")
    tumor = write_bam(tmp / "tumor.bam", seq, loci, [{-4: 0.5, **{k: v / 2 for k, v in STUTTER.items()}}] * n,
                      40, 2, "T")
    return {"tmp": tmp, "seq": seq, "loci": tmp / "loci.tsv", "normal": normal, "tumor": tumor,
            "ref": tmp / "ref.fa", "n": n}


def _one_line_error(r, code=1, contains=""):
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmbcalc: error:"), r.stderr
    assert contains in lines[0], lines[0]
    assert "Traceback" not in r.stderr


def _no_outputs(prefix):
    parent = prefix.parent
    assert not list(parent.glob(prefix.name + "*"))
    assert not list(parent.glob("." + prefix.name + "*"))


def test_end_to_end_paired_and_tumor_only(data, tmp_path):
    prefix = tmp_path / "T"
    r = run_cli("msi", "score", str(data["tumor"]), "--normal-bam", str(data["normal"]), "--loci", str(data["loci"]),
                "--min-evaluable", "10", "--threads", "2", "--reference", str(data["ref"]), "--write-dis",
                "-o", str(prefix))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "T.msi.json").read_text())
    assert doc["status"] == "MSI-H" and doc["evaluable_loci"] == data["n"] and doc["sample"] == "T"
    assert json.loads(r.stdout)["status"] == "MSI-H"
    assert (tmp_path / "T.msi_loci.tsv.gz").exists() and (tmp_path / "T.msi_dis").exists()
    base = tmp_path / "base.tsv"
    r = run_cli("msi", "baseline", str(data["normal"]), str(data["normal"]), "--loci", str(data["loci"]),
                "--min-support", "2", "-o", str(base))
    assert r.returncode == 0, r.stderr
    r = run_cli("msi", "score", str(data["tumor"]), "--baseline", str(base), "--loci", str(data["loci"]),
                "--min-evaluable", "10", "-o", str(tmp_path / "TO"))
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "TO.msi.json").read_text())["mode"] == "tumor-only"


def test_baseline_from_too_few_normals_is_an_error(data, tmp_path):
    """Issue #12: one normal with the default --min-support 5 used to exit 0 with '0 of N loci
    supported'; now usage error, and no file."""
    out = tmp_path / "b.tsv"
    r = run_cli("msi", "baseline", str(data["normal"]), "--loci", str(data["loci"]), "-o", str(out))
    _one_line_error(r, 2, "--min-support is 5")
    _no_outputs(out)
    # enough normals but none reaches the coverage: input error
    r = run_cli("msi", "baseline", str(data["normal"]), "--loci", str(data["loci"]), "--min-support", "1",
                "--min-coverage", "100000", "-o", str(out))
    _one_line_error(r, 1, "could score nothing")
    _no_outputs(out)


def test_missing_index(data, tmp_path):
    bam = tmp_path / "noidx.bam"
    shutil.copy(data["tumor"], bam)
    prefix = tmp_path / "out"
    r = run_cli("msi", "score", str(bam), "--normal-bam", str(data["normal"]), "--loci", str(data["loci"]),
                "-o", str(prefix))
    _one_line_error(r, 1, "samtools index")
    _no_outputs(prefix)


def test_cram_without_reference(data, tmp_path):
    cram = tmp_path / "t.cram"
    pysam.view("-C", "-T", str(data["ref"]), "-o", str(cram), str(data["tumor"]), catch_stdout=False)
    pysam.index(str(cram))
    prefix = tmp_path / "out"
    r = run_cli("msi", "score", str(cram), "--normal-bam", str(data["normal"]), "--loci", str(data["loci"]),
                "-o", str(prefix))
    _one_line_error(r, 1, "--reference")
    _no_outputs(prefix)
    r = run_cli("msi", "score", str(cram), "--normal-bam", str(data["normal"]), "--loci", str(data["loci"]),
                "--reference", str(data["ref"]), "--min-evaluable", "10", "-o", str(prefix))
    assert r.returncode == 0, r.stderr


def test_malformed_loci_file(data, tmp_path):
    bad = tmp_path / "bad.tsv"
    lines = data["loci"].read_text().splitlines()
    idx = next(i for i, x in enumerate(lines) if x.startswith("chrS"))
    f = lines[idx].split("\t")
    f[2] = str(int(f[2]) + 1)
    lines[idx] = "\t".join(f)
    bad.write_text("\n".join(lines) + "\n")
    prefix = tmp_path / "out"
    r = run_cli("msi", "score", str(data["tumor"]), "--normal-bam", str(data["normal"]), "--loci", str(bad),
                "-o", str(prefix))
    _one_line_error(r, 1, f"line {idx + 1}")
    _no_outputs(prefix)


def test_contig_mismatch_names_contigs(data, tmp_path):
    loci = tmp_path / "other.tsv"
    text = data["loci"].read_text().replace("chrS\t", "chr7\t")
    loci.write_text(text)
    prefix = tmp_path / "out"
    r = run_cli("msi", "score", str(data["tumor"]), "--normal-bam", str(data["normal"]), "--loci", str(loci),
                "-o", str(prefix))
    _one_line_error(r, 1, "chr7")
    assert "chrS" in r.stderr
    _no_outputs(prefix)


def test_loci_not_matching_reference(data, tmp_path):
    other = tmp_path / "other.fa"
    seq = data["seq"]
    other.write_text(">chrS\n" + seq[::-1] + "\n")
    pysam.faidx(str(other))
    prefix = tmp_path / "out"
    r = run_cli("msi", "score", str(data["tumor"]), "--normal-bam", str(data["normal"]), "--loci",
                str(data["loci"]), "--reference", str(other), "-o", str(prefix))
    _one_line_error(r, 1, "does not match the reference")
    _no_outputs(prefix)


def test_bam_without_reads_at_loci(data, tmp_path):
    empty = tmp_path / "empty.bam"
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": "chrS", "LN": len(data["seq"])}]}
    with pysam.AlignmentFile(str(empty), "wb", header=header):
        pass
    pysam.index(str(empty))
    prefix = tmp_path / "out"
    r = run_cli("msi", "score", str(empty), "--normal-bam", str(data["normal"]), "--loci", str(data["loci"]),
                "-o", str(prefix))
    _one_line_error(r, 1, "no read spans")
    _no_outputs(prefix)


def test_argument_errors_exit_2(data, tmp_path):
    prefix = tmp_path / "out"
    r = run_cli("msi", "score", str(data["tumor"]), "--normal-bam", str(data["normal"]), "--baseline", "b",
                "--loci", str(data["loci"]), "-o", str(prefix))
    assert r.returncode == 2 and "not allowed with" in r.stderr
    r = run_cli("msi", "score", str(data["tumor"]), "--normal-bam", str(data["normal"]), "--loci",
                str(data["loci"]), "--threads", "0", "-o", str(prefix))
    _one_line_error(r, 2)
    r = run_cli("msi", "score", str(data["tumor"]), "--normal-bam", str(data["normal"]), "--loci",
                str(data["loci"]), "-o", str(tmp_path / "nodir") + "/")
    _one_line_error(r, 2, "names a folder")  # a missing parent folder is created (test_output_safety)
    _no_outputs(prefix)
    r = run_cli("msi")
    assert r.returncode == 2


def test_reference_problems(data, tmp_path):
    prefix = tmp_path / "out"
    unindexed = tmp_path / "plain.fa"
    unindexed.write_text(data["ref"].read_text())
    r = run_cli("msi", "score", str(data["tumor"]), "--normal-bam", str(data["normal"]), "--loci",
                str(data["loci"]), "--reference", str(unindexed), "-o", str(prefix))
    _one_line_error(r, 1, "samtools faidx")
    assert not (tmp_path / "plain.fa.fai").exists()
    other = tmp_path / "other.fa"
    other.write_text(">chr5\n" + data["seq"] + "\n")
    pysam.faidx(str(other))
    r = run_cli("msi", "baseline", str(data["normal"]), "--loci", str(data["loci"]), "--reference", str(other),
                "--min-support", "1", "-o", str(prefix))
    _one_line_error(r, 1, "chr5")
    assert "chrS" in r.stderr
    _no_outputs(prefix)
