"""Cross-panel TMB calibration: in-silico simulation, fitting, cut-point translation, application.

API (each returns a result object; nothing here prints or exits)::

    calibrate_simulate(mafs, panels, reference_profile="wes-merino", ...) -> SimulationResult
    calibrate_fit(table_or_path, panels=None, reference=None, options=FitOptions()) -> FitResult
    calibrate_translate(model_id_or_path, reference_cut=10, table=None) -> CutTranslation
    calibrate_apply(model_id_or_path, values=None, input_path=None) -> dict
    harmonize(panel_id, reference, tmb_values) -> (values, ci_low, ci_high, model_id)
    equivocal_zone(mb, cut, alpha=0.05) -> EquivocalZone;  prob_high(true_tmb, mb, cut)

See docs/calibration.md for the design, formats and citations.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .agreement import Agreement, agreement, agreement_from_counts, rmse_log
from .apply import calibrate_apply, harmonize
from .deming import DemingResult, deming_fit
from .fit import FitOptions, FitResult
from .fit import calibrate_fit as _fit_table
from .models import CalibrationModel, find_model, list_models, load_model
from .simulate import PanelSpec, SimulationResult, calibrate_simulate
from .table import read_simulated
from .translate import CutTranslation, translate_cut
from .uncertainty import EquivocalZone, equivocal_zone, prob_high


def calibrate_fit(table: str | Path | pd.DataFrame, provenance: dict[str, Any] | None = None, *,
                  panels: list[str] | None = None, reference: str | None = None,
                  options: FitOptions | None = None, **option_fields: Any) -> FitResult:
    """Fit calibration models from a simulation table (path or DataFrame).

    Options may be given as a :class:`FitOptions` or as keyword fields of it
    (``methods=("deming",), bootstrap=200, seed=1, holdout="cohort"``).
    """
    opts = options or FitOptions(**option_fields)
    name = sha = ""
    if not isinstance(table, pd.DataFrame):
        from ..provenance import sha256_file

        df, prov = read_simulated(table)
        name, sha = Path(table).name, sha256_file(table)
        provenance = provenance or prov
        table = df
    return _fit_table(table, provenance, panels=panels, reference=reference, options=opts,
                      table_name=name, table_sha256=sha)


def calibrate_translate(model: str | Path | CalibrationModel, reference_cut: float = 10.0, *,
                        table: str | Path | pd.DataFrame | None = None, alpha: float = 0.05) -> CutTranslation:
    """Panel cut equivalent to ``reference_cut`` (mut/Mb) with CI, agreement and equivocal zones."""
    m = model if isinstance(model, CalibrationModel) else load_model(model)
    if table is not None and not isinstance(table, pd.DataFrame):
        table, _ = read_simulated(table)
    return translate_cut(m, reference_cut, table=table, alpha=alpha)


__all__ = ["calibrate_simulate", "calibrate_fit", "calibrate_translate", "calibrate_apply", "harmonize",
           "FitOptions", "FitResult", "SimulationResult", "PanelSpec", "CalibrationModel", "CutTranslation",
           "EquivocalZone", "Agreement", "DemingResult", "load_model", "list_models", "find_model",
           "read_simulated", "equivocal_zone", "prob_high", "agreement", "agreement_from_counts",
           "rmse_log", "deming_fit"]
