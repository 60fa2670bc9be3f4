"""Compiled kernels (Cython over htslib).  Private: use the public API in :mod:`tmbcalc`.

The kernels link to pysam's ``libchtslib`` by its bare file name, so that library must already be
loaded *under that name* when a kernel is imported.  Importing pysam does that (its modules pull the
library in through their own rpath), but costs ~5 MB and ~40 ms that the lean commands never need.
:func:`_load_htslib` does the same with ``ctypes`` and no Python-level import: it maps
``libchtslib`` (symbols global) and then one small pysam library that depends on it, whose loading
registers the bare name.  If pysam's folder does not hold those files, it falls back to
``import pysam``.
"""
from __future__ import annotations

import ctypes
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

_htslib_loaded = False
_htslib: ctypes.CDLL | None = None


def pysam_dir() -> Path | None:
    spec = importlib.util.find_spec("pysam")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _load_htslib() -> None:
    """Make pysam's ``libchtslib`` loaded under its bare name (once per process)."""
    global _htslib_loaded, _htslib
    if _htslib_loaded:
        return
    folder = pysam_dir()
    try:
        if folder is None:
            raise OSError("pysam not found")
        htslib = sorted(folder.glob("libchtslib.*so"))
        dependent = sorted(folder.glob("libcsamtools.*so"))  # links libchtslib by bare name, via $ORIGIN
        if not htslib or not dependent:
            raise OSError("pysam's libchtslib not found")
        _htslib = ctypes.CDLL(str(htslib[0]), mode=ctypes.RTLD_GLOBAL)
        ctypes.CDLL(str(dependent[0]))
    except OSError:
        import pysam  # noqa: F401  (its import loads libchtslib)
    _htslib_loaded = True


def htslib_version() -> str:
    """Version of the htslib the kernels run on (``hts_version()``; pysam's, when imported)."""
    if _htslib is not None:
        fn = _htslib.hts_version
        fn.restype = ctypes.c_char_p
        return fn().decode()
    import pysam

    return str(getattr(pysam, "__htslib_version__", ""))


_load_htslib()  # lets `from tmbcalc.ext import _x` work as well as load_kernel("_x")


def _pysam_version() -> str:
    try:
        from importlib.metadata import version

        return version("pysam")
    except Exception:  # pragma: no cover - metadata missing
        return "unknown"


def load_kernel(name: str) -> ModuleType:
    """Import ``tmbcalc.ext.<name>`` and turn a build/ABI problem into a readable error."""
    try:
        return importlib.import_module(f"tmbcalc.ext.{name}")
    except ImportError as exc:  # pragma: no cover - depends on a broken install
        raise ImportError(
            f"tmbcalc's compiled kernel '{name}' could not be loaded ({exc}). It is built against "
            f"pysam's htslib; reinstall tmbcalc with the pysam version now installed "
            f"(pysam {_pysam_version()}): pip install --force-reinstall --no-deps ."
        ) from exc
