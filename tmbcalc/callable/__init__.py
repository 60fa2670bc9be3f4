"""Callable footprint: the bases of a footprint covered well enough in the tumor (and normal) BAM.

API::

    compute_callable(tumor_bam, footprint, normal_bam=None, min_depth=..., ...) -> CallableResult
    CallableResult.to_dict(), CallableResult.write(prefix)

Modules: ``api`` (the result type and the API over the engine), ``engine`` (planning, the
compiled depth kernel :mod:`tmbcalc.ext._depth`, per-target statistics, the lean CLI path and
its writers).  Conventions: 0-based half-open, canonical contigs, bp; Mb = 1,000,000 bp.
"""
from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "compute_callable": ".api", "CallableResult": ".api",
    "DEFAULT_MAPQ": ".engine", "DEFAULT_EXCLUDE_FLAGS": ".engine", "MATE_OVERLAP_MODES": ".engine",
}
__all__ = list(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY)
