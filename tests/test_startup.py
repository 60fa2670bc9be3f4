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


def test_msi_score_run_imports_no_heavy_packages(tmp_path):
    """A whole ``msi score`` run (paired and tumor-only, one thread) needs numpy and the compiled
    kernel only: no pandas, scipy, sklearn, matplotlib, the pysam package, a thread pool or (small
    inputs) OpenSSL's hashes.
    (Start-up dominates a panel-sized run; scipy alone would add ~0.3 s per sample.)"""
    from tests._msi_reads import build_reference, write_bam
    from tmbcalc.msi.loci import read_loci
    from tmbcalc.msi.scan import msi_scan

    seq = build_reference(tmp_path / "ref.fa", 12, seed=4)
    msi_scan(tmp_path / "ref.fa").write(tmp_path / "loci.tsv")
    loci = read_loci(tmp_path / "loci.tsv")
    stutter = {0: 0.9, -1: 0.1}
    normal = write_bam(tmp_path / "n.bam", seq, loci, [stutter] * len(loci), 30, 1, "N")
    tumor = write_bam(tmp_path / "t.bam", seq, loci, [{-3: 0.5, 0: 0.45, -1: 0.05}] * len(loci), 30, 2, "T")
    base = tmp_path / "base.tsv"
    subprocess.run([sys.executable, "-m", "tmbcalc", "msi", "baseline", str(normal), str(normal), "--loci",
                    str(tmp_path / "loci.tsv"), "--min-support", "2", "-o", str(base)], check=True, capture_output=True)
    heavy = {"pandas", "scipy", "sklearn", "matplotlib", "pysam", "concurrent", "_hashlib"}  # _hashlib: OpenSSL
    for mode in (["--normal-bam", str(normal)], ["--baseline", str(base)]):
        argv = ["msi", "score", str(tumor), *mode, "--loci", str(tmp_path / "loci.tsv"), "-o", str(tmp_path / "o")]
        mods = _modules_after(f"from tmbcalc.cli import main\nassert main({argv!r}) == 0")
        assert "numpy" in mods and not mods & heavy, sorted(mods & heavy)
        assert json.loads((tmp_path / "o.msi.json").read_text())["status"] == "MSI-H"


def test_small_inputs_hashed_without_openssl(tmp_path, monkeypatch):
    """Provenance sha256: the built-in hash for small files (OpenSSL's libcrypto is not loaded:
    ~3.6 MB of memory), OpenSSL's above the threshold; the digests equal hashlib's either way."""
    import hashlib

    from tmbcalc import provenance

    f = tmp_path / "x.bin"
    f.write_bytes(bytes(range(256)) * 5000)
    want = hashlib.sha256(f.read_bytes()).hexdigest()
    mods = _modules_after(f"from tmbcalc.provenance import sha256_file\nassert sha256_file({str(f)!r}) == {want!r}")
    assert "_hashlib" not in mods and "hashlib" not in mods
    monkeypatch.setattr(provenance, "SMALL_FILE_BYTES", 1000)
    provenance._SHA_CACHE.clear()
    assert type(provenance.new_sha256(f.stat().st_size)).__module__ == "_hashlib"
    assert provenance.sha256_file(f) == want
    assert type(provenance.new_sha256(1000)).__module__ != "_hashlib"
