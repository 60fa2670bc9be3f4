"""Shared set-up for the side-by-side benchmark scripts."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def precompile() -> None:
    """Byte-compile the tmbcalc package first.

    An installed wheel ships compiled bytecode; a source checkout run with
    ``PYTHONDONTWRITEBYTECODE=1`` (as some CI images set) recompiles every changed module on each
    start (~30 ms), which would be charged to tmbcalc in every timed run.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "tmbcalc")], check=True,
                   stdout=subprocess.DEVNULL)


def tmbcalc_cmd() -> list[str]:
    """The installed console script of this interpreter (not a pyenv shim, which adds its own
    start-up), else ``python -m tmbcalc``."""
    exe = Path(sys.executable).parent / "tmbcalc"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("tmbcalc")
    return [found] if found else [sys.executable, "-m", "tmbcalc"]
