"""Packaging as a user meets it: ``python -m build`` makes an sdist and a wheel without warnings,
the sdist carries sources (never generated C), the wheel carries the kernels, the data and the
LICENSE, and the wheel installed into a clean virtual environment (dependencies from the package
index) runs the README's example from outside the source tree with the same result."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

EXAMPLE = REPO / "tmbcalc" / "examples"
# lines a build may print that are not about this package (the sandbox disables byte-compiling)
BENIGN = re.compile(r"byte-compiling is disabled")


def clean_copy(dest: Path) -> Path:
    """The files git tracks (plus uncommitted edits), without build products of the working tree."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for name in files:
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    src = clean_copy(tmp_path_factory.mktemp("src"))
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "-o", str(out), str(src)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    return {"sdist": next(out.glob("*.tar.gz")), "wheel": next(out.glob("*.whl")), "log": log}


def test_build_prints_no_warning(dist):
    warnings = [ln for ln in dist["log"].splitlines()
                if re.search(r"(^|\s)warning\b|Warning:|absent from", ln, re.I) and not BENIGN.search(ln)]
    assert warnings == []


def test_sdist_has_sources_not_generated_code(dist):
    names = tarfile.open(dist["sdist"]).getnames()
    pyx = {Path(n).name for n in names if n.endswith(".pyx")}
    assert pyx == {p.name for p in (REPO / "tmbcalc" / "ext").glob("*.pyx")}
    assert not [n for n in names if n.endswith((".c", ".cpp", ".so"))]
    assert any(n.endswith("/LICENSE") for n in names)


def test_wheel_has_kernels_data_and_license(dist):
    names = zipfile.ZipFile(dist["wheel"]).namelist()
    kernels = {Path(n).name.split(".")[0] for n in names if n.endswith(".so")}
    assert kernels == {p.stem for p in (REPO / "tmbcalc" / "ext").glob("*.pyx")}
    assert not [n for n in names if n.endswith((".c", ".cpp"))]
    assert any(n.endswith("licenses/LICENSE") for n in names)
    for shipped in ("tmbcalc/_panels/tso500.toml", "tmbcalc/_calibration/README.md",
                    "tmbcalc/tmb/profile_files/wes-merino.toml", "tmbcalc/examples/example_panel.bed"):
        assert shipped in names
    meta = zipfile.ZipFile(dist["wheel"]).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in meta


def test_wheel_in_a_clean_venv_runs_the_example(dist, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)                 # no system site-packages
    py = env_dir / "bin" / "python"
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(dist["wheel"])],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    where = subprocess.run([str(py), "-c", "import tmbcalc, tmbcalc.ext._vcfscan as k; print(tmbcalc.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert str(env_dir) in where.stdout
    args = ["tmb", str(EXAMPLE / "example_tumor_normal.vcf.gz"), "--bed", str(EXAMPLE / "example_panel.bed"),
            "--profile", "wes-merino"]
    installed = subprocess.run([str(env_dir / "bin" / "tmbcalc"), *args, "-o", str(tmp_path / "installed")],
                               capture_output=True, text=True, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert run_cli(*args, "-o", str(tmp_path / "dev")).returncode == 0
    a = json.loads((tmp_path / "installed.tmb.json").read_text())["samples"]
    b = json.loads((tmp_path / "dev.tmb.json").read_text())["samples"]
    assert a == b
    panels = subprocess.run([str(env_dir / "bin" / "tmbcalc"), "panels", "list"], capture_output=True, text=True,
                            cwd=tmp_path)
    assert panels.returncode == 0 and "tso500" in panels.stdout
