"""Locations of the data shipped with tmbcalc: panels, calibration models, counting profiles.

The repository's top-level ``panels/`` and ``calibration/`` folders are installed as
``tmbcalc/_panels`` and ``tmbcalc/_calibration``.  In a source checkout (or editable install)
the top-level folders are used directly.
"""
from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent
_REPO = _PKG.parent


def _locate(installed: str, repo: str) -> Path:
    p = _PKG / installed
    if p.is_dir():
        return p
    return _REPO / repo


def panels_dir() -> Path:
    """Folder of the bundled panel definitions (one TOML per panel, BEDs beside them)."""
    return _locate("_panels", "panels")


def user_panels_dirs() -> list[Path]:
    """Extra panel folders from ``$TMBCALC_PANELS_DIR`` (os.pathsep-separated)."""
    raw = os.environ.get("TMBCALC_PANELS_DIR", "")
    return [Path(x) for x in raw.split(os.pathsep) if x]


def calibration_dir() -> Path:
    """Folder of the bundled, versioned calibration models (JSON)."""
    return _locate("_calibration", "calibration")


def profiles_dir() -> Path:
    """Folder of the bundled counting profiles (TOML)."""
    return _PKG / "tmb" / "profile_files"


def examples_dir() -> Path:
    """Folder of small bundled example inputs used by the README quick start."""
    return _PKG / "examples"
