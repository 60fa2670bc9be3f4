"""Errors speak the caller's language: the API names parameters, the command line names options
(the CLI rewrites the parameters an error lists); renamed options keep their old spelling."""
from __future__ import annotations

import json
from pathlib import Path

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


# -- library code speaks the API's language ------------------------------------------------------
# Modules that build command lines on purpose (batch runs each sample as a 'tmbcalc ...' argv).
_ARGV_BUILDERS = {"tmbcalc/cli.py", "tmbcalc/batch/plan.py", "tmbcalc/batch/options.py"}
# Texts that name an option but are not error messages: they are written into result files, whose
# bytes stay as they are (a note in PREFIX.translate.json, the build reason in TMB provenance, a
# TMB warning), or the CLI's own spelling handed to a helper.
_NOT_ERRORS = {("tmbcalc/calibrate/translate.py", "--table"), ("tmbcalc/genome_build.py", "--genome-build"),
               ("tmbcalc/tmb/guards.py", "--min-coverage")}


def _long_options() -> set[str]:
    import argparse

    from tmbcalc.cli import build_parser

    out: set[str] = set()

    def walk(p):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for s in a.choices.values():
                    walk(s)
            else:
                out.update(o for o in a.option_strings if o.startswith("--"))

    walk(build_parser())
    return out - {"--help"}


def flags_in_library_messages(root: Path, options: set[str]) -> list[str]:
    """``path:line: --flag`` for every tmbcalc option named in a string of a library function
    that raises (its messages and the pieces they are built from; docstrings aside), outside
    commands/ and the modules that build command lines."""
    import ast
    import re

    pat = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(options, key=len, reverse=True))) + r")(?![\w-])")
    found = []
    for f in sorted(root.rglob("*.py")):
        rel = f"tmbcalc/{f.relative_to(root).as_posix()}"
        if rel in _ARGV_BUILDERS or rel.startswith("tmbcalc/commands/"):
            continue
        for fn in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or \
                    not any(isinstance(n, ast.Raise) for n in ast.walk(fn)):
                continue
            doc = ast.get_docstring(fn, clean=False)
            for n in ast.walk(fn):
                if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value != doc:
                    for m in pat.finditer(n.value):
                        if (rel, m.group(1)) not in _NOT_ERRORS:
                            found.append(f"{rel}:{n.lineno}: {m.group(1)}")
    return found


def test_library_messages_name_parameters_not_options():
    import tmbcalc

    assert flags_in_library_messages(Path(tmbcalc.__file__).parent, _long_options()) == []


def test_flag_check_catches_a_flag_in_a_message(tmp_path):
    pkg = tmp_path / "tmbcalc"
    (pkg / "msi").mkdir(parents=True)
    (pkg / "msi" / "x.py").write_text('def f(n):\n    """Use --loci here (a docstring)."""\n'
                                      '    if n < 1:\n        raise ValueError(f"--min-evaluable {n} must be >= 1")\n')
    (pkg / "commands").mkdir()
    (pkg / "commands" / "y.py").write_text('def g():\n    raise ValueError("--loci is fine in a command")\n')
    assert flags_in_library_messages(pkg, _long_options()) == ["tmbcalc/msi/x.py:4: --min-evaluable"]


def test_msi_scan_messages_api_and_cli(tmp_path):
    from tmbcalc.msi.scan import _validate

    with pytest.raises(UsageError) as exc:
        _validate(5, 12, 1, 60, 6, 10)
    assert str(exc.value) == "min_copies must be >= 2" and exc.value.params == ("min_copies",)
    fa = tmp_path / "r.fa"
    fa.write_text(">chrS\n" + "ACGT" * 50 + "\n")
    r = run_cli("msi", "scan", "--reference", str(fa), "--min-repeat-copies", "1", "-o", str(tmp_path / "l.tsv"))
    assert r.returncode == 2 and r.stderr.strip() == "tmbcalc: error: --min-repeat-copies must be >= 2"
    r = run_cli("msi", "scan", "--reference", str(fa), "--min-homopolymer", "1", "-o", str(tmp_path / "l.tsv"))
    assert r.returncode == 2
    assert r.stderr.strip() == "tmbcalc: error: --min-homopolymer must be >= 2 and <= --max-homopolymer"
    assert list(tmp_path.iterdir()) == [fa]


def test_calibrate_messages_api_and_cli(tmp_path):
    from tmbcalc.calibrate import calibrate_apply, calibrate_translate

    model = "f1cdx__to__exome-wes-merino__deming__v1"
    inp = tmp_path / "x.tmb.json"
    inp.write_text(json.dumps({"samples": [{"sample": "S1", "tmb": 7.0}], "provenance": {"panel": {"id": "tso500"}}}))
    with pytest.raises(UsageError, match=r"\(set allow_panel_mismatch to apply it anyway\)$") as exc:
        calibrate_apply(model, input_path=inp)
    assert exc.value.params == ("allow_panel_mismatch",)
    r = run_cli("calibrate", "apply", "--model", model, "--input", str(inp), "-o", str(tmp_path / "a"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert r.stderr.strip().endswith("(set --allow-panel-mismatch to apply it anyway)"), r.stderr
    with pytest.raises(UsageError, match=r"^reference_cut \(mut/Mb\): ") as exc:
        calibrate_translate(model, 0)
    assert exc.value.params == ("reference_cut",)
    r = run_cli("calibrate", "translate", "--model", model, "--cutpoints", "0")
    assert r.returncode == 2 and r.stderr.startswith("tmbcalc: error: --cutpoints (mut/Mb): "), r.stderr
    assert list(tmp_path.iterdir()) == [inp]
