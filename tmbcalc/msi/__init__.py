"""Microsatellite instability (MSI) from sequencing reads or somatic calls.

Public functions (each returns a result dataclass; nothing here prints or exits)::

    msi_scan(reference, ...)                 -> ScanResult      (tmbcalc.msi.scan)
    msi_baseline(loci, normal_bams, ...)     -> Baseline        (tmbcalc.msi.baseline)
    msi_score(tumor_bam, loci, ...)          -> MsiScore        (tmbcalc.msi.score, .result)
    msi_mutations(calls, ...)                -> MsiMutationsResult (tmbcalc.msi.mutations)

Every result has ``to_dict()`` and ``write(prefix)``; the API functions never write files.
Scorers of ``msi_score`` are a registry (``tmbcalc.msi.score.SCORERS``).

The loci file format is defined in :mod:`tmbcalc.msi.loci`; see ``docs/msi.md``.
Names are imported lazily so importing the package stays cheap.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "msi_scan": "tmbcalc.msi.scan",
    "ScanResult": "tmbcalc.msi.scan",
    "msi_baseline": "tmbcalc.msi.baseline",
    "Baseline": "tmbcalc.msi.baseline",
    "read_baseline": "tmbcalc.msi.baseline",
    "msi_score": "tmbcalc.msi.score",
    "MsiScore": "tmbcalc.msi.result",
    "profile_bam": "tmbcalc.msi.profile",
    "RepeatLengthHistogram": "tmbcalc.msi.profile",
    "ScoreSettings": "tmbcalc.msi.score",
    "SCORERS": "tmbcalc.msi.score",
    "LociTable": "tmbcalc.msi.loci",
    "read_loci": "tmbcalc.msi.loci",
    "write_loci": "tmbcalc.msi.loci",
    "msi_mutations": "tmbcalc.msi.mutations",
    "MsiMutationsResult": "tmbcalc.msi.mutations",
    "IndelRule": "tmbcalc.msi.indel_rule",
    "read_msisensor_sites": "tmbcalc.msi.msisensor_sites",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tmbcalc.msi' has no attribute {name!r}")
