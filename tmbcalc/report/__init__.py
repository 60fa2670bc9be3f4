"""Reports people read and files other tools read, built from tmbcalc result files.

* HTML: :func:`write_report` / :func:`render_report` (one page per run, one section per sample)
  and :func:`write_batch_report` / :func:`render_batch_report` (the cohort page of a batch);
* MultiQC custom content, DRAGEN-style TMB/MSI metrics, cBioPortal clinical attributes:
  :mod:`tmbcalc.report.interop` (:func:`write_multiqc`, :func:`write_dragen`, :func:`write_cbioportal`).

Reports read result files and never recompute a result.  Names are imported lazily.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "render_report": "tmbcalc.report.render", "write_report": "tmbcalc.report.render",
    "render_batch_report": "tmbcalc.report.render", "write_batch_report": "tmbcalc.report.render",
    "load_results": "tmbcalc.report.load", "SampleView": "tmbcalc.report.load",
    "write_multiqc": "tmbcalc.report.interop", "write_dragen": "tmbcalc.report.interop",
    "write_cbioportal": "tmbcalc.report.interop",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tmbcalc.report' has no attribute {name!r}")
