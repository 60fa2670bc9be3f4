"""Cut-point translation: the panel TMB equivalent to a reference cut, with CI and agreement.

``panel_cut = f^-1(c)`` for the model's calibrated curve ``f``.  Its 95% CI is the inverse of the
model's pointwise bootstrap band (exact for monotone curves: the alpha-quantile of the bootstrap
inverses equals the inverse of the (1 - alpha)-quantile of the bootstrap curves), see
:mod:`tmbcalc.calibrate.fit`.  Agreement at the cut (reference >= c vs panel >= panel_cut) comes
from a simulation table when one is given (in-sample, and hold-out by refitting without each
cohort), else from the model's record for that cut.  The Poisson equivocal zones of the panel cut
(panel footprint) and of the reference cut (reference footprint) are reported beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_number
from ..errors import UsageError
from . import mappings
from .agreement_stats import agreement
from .fit import CUT_CI_METHOD, first_crossing
from .models import CalibrationModel
from .table import paired
from .cuts import holdout_cuts, recommend
from .uncertainty import equivocal_panel_values, equivocal_zone


@dataclass
class CutTranslation:
    model: str
    reference_cut: float
    panel_cut: float | None
    ci_low: float | None
    ci_high: float | None
    agreement_source: str
    agreement_training: dict[str, Any] | None = None
    agreement_holdout: dict[str, Any] | None = None
    agreement_raw_cut: dict[str, Any] | None = None
    equivocal_panel: dict[str, Any] | None = None
    equivocal_reference: dict[str, Any] | None = None
    equivocal_panel_values: dict[str, Any] | None = None
    definitions: dict[str, Any] | None = None
    recommended_definition: dict[str, Any] | None = None
    model_recommended: bool | None = None
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field above, provenance last (the PREFIX.translate.json document)."""
        return dict(self.__dict__)

    def write(self, prefix: str | Path) -> list[Path]:
        """PREFIX.translate.json."""
        from ..output import OutputSet

        with OutputSet(prefix, inputs=self.provenance.get("inputs")) as outs:
            outs.write_json(".translate.json", self.to_dict())
        return [outs.path(".translate.json")]


def _f(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(f"{v:.6g}")


def _cut_ci(model: CalibrationModel, c: float) -> tuple[float, float]:
    """Bootstrap CI of the panel cut at reference cut ``c``: the exact one the fit stored for its own
    reference cuts (percentiles of the resamples' cuts), else where the stored pointwise band
    reaches ``c`` (read off the band's grid by linear interpolation)."""
    stored = (model.data.get("cut_translations") or {}).get(f"{c:g}") or {}
    if stored.get("ci_method") == CUT_CI_METHOD:
        return (np.nan if stored["ci_low"] is None else stored["ci_low"],
                np.nan if stored["ci_high"] is None else stored["ci_high"])
    gx, lo, hi = model.band_arrays()
    return first_crossing(gx, hi, c), first_crossing(gx, lo, c)


def translate_cut(model: CalibrationModel, reference_cut: float, *, table: pd.DataFrame | None = None,
                  alpha: float = 0.05) -> CutTranslation:
    check_number(reference_cut, "reference_cut (mut/Mb)", lo=0.0, lo_open=True)
    check_number(alpha, "alpha", lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    c = float(reference_cut)
    pc = model.inverse(c)
    ci_low, ci_high = _cut_ci(model, c)
    res = CutTranslation(model=model.id, reference_cut=c, panel_cut=_f(pc), ci_low=_f(ci_low), ci_high=_f(ci_high),
                         agreement_source="none")
    if res.panel_cut is None:
        res.notes.append(f"no panel TMB reaches a calibrated value of {c:g} within the model")
    if res.ci_high is None and res.panel_cut is not None:
        res.notes.append("upper CI end lies beyond the calibration range (band never reaches the cut)")
    vr = model.data.get("valid_range") or {}
    if res.panel_cut is not None and vr.get("panel_tmb_max") is not None and res.panel_cut > vr["panel_tmb_max"]:
        res.notes.append("panel cut lies beyond the largest panel TMB seen in training (extrapolation)")

    if table is not None:
        pairs = paired(table, model.panel_id, model.reference)
        if pairs.empty:
            raise UsageError(f"the table has no rows pairing panel '{model.panel_id}' with reference "
                             f"'{model.reference}'")
        x, y = pairs["x"].to_numpy(float), pairs["y"].to_numpy(float)
        cohorts = pairs["cohort"].to_numpy(str)
        res.agreement_source = "table"
        if res.panel_cut is not None:
            res.agreement_training = agreement(y >= c, x >= pc).to_dict()
        res.agreement_raw_cut = agreement(y >= c, x >= c).to_dict()
        uniq = np.unique(cohorts)
        if len(uniq) >= 2:
            high = np.zeros(x.size, bool)
            delta = model.params.get("delta")
            for g in uniq:
                test = cohorts == g
                try:
                    p = mappings.fit(model.method, x[~test], y[~test], delta=delta if delta else 1.0,
                                 cut=model.params.get("cut", c))
                except ValueError:  # degenerate training data without this cohort
                    high[test] = False
                    continue
                cut_g = mappings.inverse(model.method, p, c)
                high[test] = x[test] >= cut_g if np.isfinite(cut_g) else False
            res.agreement_holdout = agreement(y >= c, high).to_dict()
            res.definitions = holdout_cuts(x, y, cohorts, c, delta=float(delta) if delta else
                                           float(model.data["panel"]["mb"]) / float(model.data["reference"]["mb"]))
            res.recommended_definition = recommend(res.definitions)
    else:
        key = f"{c:g}"
        stored = (model.data.get("cut_translations") or {}).get(key)
        val = (model.data.get("validation") or {}).get("agreement", {}).get(key)
        if stored or val:
            res.agreement_source = "model"
            if stored:
                res.agreement_training = stored.get("agreement_training")
                res.agreement_raw_cut = stored.get("agreement_training_raw_cut")
            if val:
                res.agreement_holdout = val.get("calibrated")
            if stored:
                res.definitions = stored.get("definitions")
                res.recommended_definition = stored.get("recommended_definition")
        else:
            have = sorted((model.data.get("cut_translations") or {}).keys(), key=float)
            res.notes.append(f"the model stores agreement only at reference cut(s) {', '.join(have) or 'none'}; "
                             "give --table SIMULATED to compute it at this cut")

    _recommendation_note(model, res)
    pmb = _value_mb(model) or model.data["panel"].get("mb")
    rmb = model.data["reference"].get("mb")
    if res.panel_cut is not None and pmb:
        res.equivocal_panel = equivocal_zone(float(pmb), res.panel_cut, alpha).to_dict()
        if res.panel_cut > 0:
            res.equivocal_panel_values = equivocal_panel_values(float(pmb), res.panel_cut)
    if rmb:
        res.equivocal_reference = equivocal_zone(float(rmb), c, alpha).to_dict()
    return res


def _recommendation_note(model: CalibrationModel, res: CutTranslation) -> None:
    res.model_recommended = bool(model.data.get("recommended"))
    rec = model.data.get("recommendation") or {}
    if not res.model_recommended and rec.get("reason"):
        res.notes.append(f"model NOT recommended: {rec['reason']}")


def _value_mb(model: CalibrationModel) -> float | None:
    """Mb of the panel value's own footprint (the TMB region of the model's definition)."""
    fp = ((model.definition or {}).get("panel") or {}).get("footprint") or {}
    return fp["bp"] / 1e6 if fp.get("bp") else None


__all__ = ["CutTranslation", "translate_cut"]
