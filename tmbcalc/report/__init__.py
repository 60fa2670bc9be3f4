"""Reports people read and files other tools read, built from tmbcalc result files.

* HTML: :func:`write_report` / :func:`render_report` (one page per run, one section per sample)
  and :func:`write_batch_report` / :func:`render_batch_report` (the cohort page of a batch);
* MultiQC custom content, DRAGEN-style TMB/MSI metrics, cBioPortal clinical attributes:
  :mod:`tmbcalc.report.interop` (:func:`write_multiqc`, :func:`write_dragen`, :func:`write_cbioportal`).

Reports read result files and never recompute a result.  Names are imported lazily.
"""
from __future__ import annotations

from .._lazy import lazy_getattr

_LAZY = {
    "render_report": ".render", "write_report": ".render",
    "render_batch_report": ".render", "write_batch_report": ".render",
    "load_results": ".load", "SampleView": ".load",
    "write_multiqc": ".interop", "write_dragen": ".interop", "write_cbioportal": ".interop",
}

__all__ = list(_LAZY)
__getattr__ = lazy_getattr(__name__, _LAZY)
