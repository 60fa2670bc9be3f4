"""Start-up cost guards: what a command pulls in before doing any work.

Each check runs in a fresh interpreter (``sys.modules`` of the test process is already full).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return {m.split(".")[0] for m in json.loads(out.splitlines()[-1])}


@pytest.mark.parametrize("argv", [["--version"], ["-h"], ["panels", "list"], ["tmb", "-h"], ["msi", "scan", "-h"]])
def test_parser_building_stays_light(argv):
    mods = _modules_after(
        "from tmbcalc.cli import build_parser\n"
        f"build_parser({argv!r})"
    )
    assert not mods & {"numpy", "pandas", "pysam", "scipy", "sklearn"}


def test_unselected_commands_are_not_registered():
    from tmbcalc.cli import build_parser

    parser = build_parser(["panels", "list"])
    sub = next(a for a in parser._actions if a.dest == "command")
    registered = {name for name, p in sub.choices.items() if p._actions[1:]}  # beyond -h
    assert registered == {"panels"}
    full = build_parser()
    sub = next(a for a in full._actions if a.dest == "command")
    assert all(p._actions[1:] for p in sub.choices.values())


def test_vcf_kernel_loads_without_importing_pysam():
    mods = _modules_after("from tmbcalc.ext import load_kernel\nload_kernel('_vcfscan')")
    assert "pysam" not in mods


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "tmbcalc", "-h"], capture_output=True, text=True, check=True).stdout
    for name in ("tmb", "callable", "msi", "panels", "calibrate"):
        assert f"    {name}" in out


def test_provenance_versions_without_heavy_imports():
    mods = _modules_after("from tmbcalc.provenance import software_versions\nv = software_versions()\n"
                          "import re\nassert re.match(r'^\\d+\\.\\d+', v['htslib']), v\n"
                          "assert re.match(r'^\\d+\\.\\d+', v['pysam']) and 'numpy' not in v\n"
                          "import numpy\nassert software_versions()['numpy'] == numpy.__version__")
    assert not mods & {"pandas", "pysam"}


def test_no_checksums_option(tmp_path):
    """--no-checksums: inputs described by name, size and mtime, sha256 null; default hashes."""
    import hashlib
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent / "tmbcalc" / "examples"
    vcf, bed = repo / "example_tumor_normal.vcf.gz", repo / "example_panel.bed"
    for before, after, out in (([], [], "a"), (["--no-checksums"], [], "b"), ([], ["--no-checksums"], "c")):
        subprocess.run([sys.executable, "-m", "tmbcalc", *before, "tmb", str(vcf), "--bed", str(bed), "--quiet",
                        *after, "-o", str(tmp_path / out)], check=True, capture_output=True)
    c = json.loads((tmp_path / "c.tmb.json").read_text())["provenance"]["inputs"]
    assert c["input"]["sha256"] is None
    a = json.loads((tmp_path / "a.tmb.json").read_text())["provenance"]["inputs"]
    b = json.loads((tmp_path / "b.tmb.json").read_text())["provenance"]["inputs"]
    assert a["input"]["sha256"] == hashlib.sha256(vcf.read_bytes()).hexdigest()
    assert b["input"]["sha256"] is None and b["input"]["bytes"] == vcf.stat().st_size
    assert b["input"]["modified_utc"] == a["input"]["modified_utc"]
