"""Harmonized TMB: a panel TMB mapped to a reference scale by a calibration model (data types).

These are plain result types; the calibration layer (:mod:`tmbcalc.calibrate.harmonization`) fills
them in and the TMB result carries them (``SampleTmb.harmonized``, ``TmbResult.harmonization``).
Units: TMB in mutations per Mb; intervals are two-sided at ``level`` (0.95).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class HarmonizedTmb:
    """One sample's TMB on the reference scale, beside its raw panel value.

    ``pi_low``/``pi_high``: prediction interval for the tumour's reference-scale TMB, combining the
    panel's Poisson sampling error at the observed count with the mapping's own error (held-out
    residuals), see docs/calibration.md.  ``band_low``/``band_high``: bootstrap confidence band of
    the mapping curve at the raw value (mapping uncertainty only; narrower).  ``high`` and
    ``equivocal`` are keyed by reference cut label (``"10"``): the harmonized call and whether the
    raw panel value lies in the equivocal zone of the panel cut equivalent to that reference cut.
    """

    reference: str
    raw: float
    value: float
    pi_low: float
    pi_high: float
    band_low: float
    band_high: float
    level: float
    model: str
    model_version: int
    method: str
    recommended: bool
    extrapolated: bool
    high: dict[str, bool] = field(default_factory=dict)
    equivocal: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Harmonization:
    """What every harmonized value of one TMB result shares: the model, its definition, verdicts.

    ``definition``: the exact panel value the model maps (footprint, resolved profile, hotspot
    handling) and the reference it maps to.  ``equivocal_zones``: per reference cut, the panel cut
    equivalent to it and the panel values (this footprint) where P(true TMB >= that cut) lies in
    [0.10, 0.90].  ``notes``: plain-language caveats (e.g. not recommended, extrapolation).
    """

    reference: str
    model: str
    model_version: int
    method: str
    model_file: str | None
    model_sha256: str | None
    recommended: bool
    recommendation: str
    definition: dict[str, Any]
    interval: dict[str, Any]
    equivocal_zones: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["HarmonizedTmb", "Harmonization"]
