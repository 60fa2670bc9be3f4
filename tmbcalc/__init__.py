"""tmbcalc: tumor mutational burden, callable footprint, MSI and cross-panel TMB calibration.

Public API (each returns a result object; nothing here prints or exits)::

    compute_tmb(...)          # TMB from a VCF/BCF/MAF            -> TmbResult (tmbcalc.tmb)
    compute_callable(...)     # callable footprint from BAM/CRAM    -> CallableResult (tmbcalc.callable)
    load_panel(id), list_panels()                                   # panel registry (tmbcalc.panels)
    msi_scan(...), msi_baseline(...), msi_score(...), msi_mutations(...)   (tmbcalc.msi)
    calibrate_simulate(...), calibrate_fit(...), calibrate_translate(...), calibrate_apply(...),
    calibrate_uncertainty(...)                                      # (tmbcalc.calibrate)
    run_batch(sheet, outdir, ...)                                   # a whole sheet -> BatchResult (tmbcalc.batch)

Names are imported lazily so ``import tmbcalc`` stays fast.
"""
from __future__ import annotations

from ._lazy import lazy_getattr
from ._version import __version__
from .errors import ContigMismatchError, InputError, MissingFieldError, TmbcalcError, UsageError

_LAZY = {
    "compute_tmb": "tmbcalc.tmb",
    "TmbResult": "tmbcalc.tmb",
    "load_profile": "tmbcalc.tmb",
    "compute_callable": "tmbcalc.callable",
    "CallableResult": "tmbcalc.callable",
    "load_panel": "tmbcalc.panels",
    "list_panels": "tmbcalc.panels",
    "msi_scan": "tmbcalc.msi",
    "msi_baseline": "tmbcalc.msi",
    "msi_score": "tmbcalc.msi",
    "msi_mutations": "tmbcalc.msi",
    "calibrate_simulate": "tmbcalc.calibrate",
    "calibrate_fit": "tmbcalc.calibrate",
    "calibrate_translate": "tmbcalc.calibrate",
    "calibrate_apply": "tmbcalc.calibrate",
    "calibrate_uncertainty": "tmbcalc.calibrate",
    "harmonize_tmb": "tmbcalc.calibrate",
    "RegionSet": "tmbcalc.regions",
    "read_bed": "tmbcalc.io.bed",
    "run_batch": "tmbcalc.batch",
    "BatchResult": "tmbcalc.batch",
}

__all__ = ["__version__", "TmbcalcError", "InputError", "ContigMismatchError", "MissingFieldError",
           "UsageError", *_LAZY]
__getattr__ = lazy_getattr(__name__, _LAZY)
