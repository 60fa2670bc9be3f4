"""Shared test fixtures.  Real data lives in ../shared/data (see its MANIFEST.md) and is used
by path, never copied.  External tools (bcftools, bedtools, samtools, mosdepth, bwa) give the
independent expectations; scripts/install-test-deps.sh installs them, and a missing tool fails
the test that needs it rather than skipping it silently."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared/data not found at {SHARED}: clone the project beside shared/")
    return SHARED


def need_tool(name: str) -> str:
    """Path of an external tool; fail (not skip) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"'{name}' is not installed: run scripts/install-test-deps.sh")
    return path


def run_tool(*args: str, **kw) -> str:
    """Run an external command, return stdout; fail the test with its stderr on error."""
    need_tool(args[0])
    proc = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``tmbcalc`` console script (as a user would)."""
    exe = shutil.which("tmbcalc")
    cmd = [exe, *args] if exe else ["python", "-m", "tmbcalc", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
