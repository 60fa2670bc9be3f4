"""Errors speak the caller's language: the API names parameters, the command line names options
(the CLI rewrites the parameters an error lists); renamed options keep their old spelling."""
from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tmbcalc import UsageError, compute_callable, compute_tmb
from tmbcalc.regions import RegionSet

EXAMPLE_VCF = "tmbcalc/examples/example_tumor_normal.vcf.gz"


def test_api_error_names_parameters():
    with pytest.raises(UsageError) as exc:
        compute_tmb(EXAMPLE_VCF)
    assert str(exc.value) == "give exactly one of panel or bed"
    assert exc.value.params == ("panel", "bed")


def test_cli_error_names_options(tmp_path):
    r = run_cli("tmb", EXAMPLE_VCF, "-o", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.strip() == "tmbcalc: error: give exactly one of --panel or --bed"
    r = run_cli("tmb", EXAMPLE_VCF, "--bed", "tmbcalc/examples/example_panel.bed", "--min-coverage", "10",
                "-o", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.strip() == "tmbcalc: error: --min-coverage/--min-normal-coverage need --tumor-bam"
    assert list(tmp_path.iterdir()) == []


def test_callable_api_and_cli_name_the_same_threshold_differently(shared, tmp_path):
    bam = shared / "bam/strelka_demo/NA12891_demo20.bam"
    with pytest.raises(UsageError, match=r"^min_depth must be >= 1 \(got 0\)$"):
        compute_callable(bam, RegionSet.from_tuples([("demo20", 0, 1000)]), min_depth=0)
    bed = tmp_path / "t.bed"
    bed.write_text("demo20\t0\t1000\n")
    r = run_cli("callable", str(bam), "--bed", str(bed), "--min-coverage", "0", "-o", str(tmp_path / "x"))
    assert r.returncode == 2
    assert r.stderr.strip() == "tmbcalc: error: --min-coverage must be >= 1 (got 0)"


def test_old_option_spelling_still_accepted(shared, tmp_path):
    bam = shared / "bam/strelka_demo/NA12891_demo20.bam"
    bed = tmp_path / "t.bed"
    bed.write_text("demo20\t0\t5000\n")
    new = run_cli("callable", str(bam), "--bed", str(bed), "--min-coverage", "8", "-o", str(tmp_path / "new"))
    old = run_cli("callable", str(bam), "--bed", str(bed), "--min-depth", "8", "-o", str(tmp_path / "old"))
    assert new.returncode == 0 and old.returncode == 0, new.stderr + old.stderr
    a = json.loads((tmp_path / "new.callable.json").read_text())
    b = json.loads((tmp_path / "old.callable.json").read_text())
    assert a["callable_bp"] == b["callable_bp"] and a["thresholds"] == b["thresholds"] == {
        "min_depth": 8, "min_normal_depth": None}
