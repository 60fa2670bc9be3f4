"""Compiled kernels (Cython over htslib).  Private: use the public API in :mod:`tmbcalc`.

pysam must be imported before the extension modules: they link to pysam's ``libchtslib`` by
name, and the already-loaded copy is what satisfies that link at import time.
"""
from __future__ import annotations

import importlib
from types import ModuleType

import pysam  # noqa: F401  (must precede kernel imports)


def load_kernel(name: str) -> ModuleType:
    """Import ``tmbcalc.ext.<name>`` and turn a build/ABI problem into a readable error."""
    try:
        return importlib.import_module(f"tmbcalc.ext.{name}")
    except ImportError as exc:  # pragma: no cover - depends on a broken install
        raise ImportError(
            f"tmbcalc's compiled kernel '{name}' could not be loaded ({exc}). It is built against "
            f"pysam's htslib; reinstall tmbcalc with the pysam version now installed "
            f"(pysam {pysam.__version__}): pip install --force-reinstall --no-deps ."
        ) from exc
