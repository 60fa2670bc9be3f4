"""Cross-panel TMB calibration: in-silico simulation, fitting, cut-point translation, application.

API (each returns a result object; nothing here prints or exits)::

    calibrate_simulate(mafs, panels, reference_profile="wes-merino", ...) -> SimulationResult
    calibrate_fit(table_or_path, panels=None, reference=None, options=FitOptions()) -> FitResult
    calibrate_translate(model_id_or_path, reference_cut=10, table=None) -> CutTranslation
    calibrate_apply(model_id_or_path, values=None, input_path=None) -> ApplyResult
    calibrate_uncertainty(panels=None, mb=None, cuts=(10,), alpha=0.05) -> UncertaintyResult

Each result carries its provenance (tool version, parameters, inputs with sha256) and has
``to_dict()`` (JSON-ready) and ``write(prefix)`` (``FitResult.write(out_dir, plots=None)``), which
publishes its files atomically through :class:`tmbcalc.output.OutputSet`::

    SimulationResult -> PREFIX.simulated.tsv.gz
    FitResult        -> DIR/<model-id>.json, DIR/fit_summary.tsv (+ PLOTS/<model-id>.png)
    CutTranslation   -> PREFIX.translate.json
    ApplyResult      -> PREFIX.calibrated.tsv, PREFIX.calibrated.json
    UncertaintyResult-> PREFIX.uncertainty.tsv

Other helpers::

    harmonize(panel_id, reference, tmb_values) -> (values, ci_low, ci_high, model_id)
    harmonize_tmb(tmb_result, reference) -> tmb_result with SampleTmb.harmonized filled (or a
        one-line UsageError when the result's panel value is not the model's definition)
    equivocal_panel_values(mb, cut) -> panel values where P(true TMB >= cut) is in [0.1, 0.9]
    equivocal_zone(mb, cut, alpha=0.05) -> EquivocalZone;  prob_high(true_tmb, mb, cut)

See docs/calibration.md for the design, formats and citations.
"""
from __future__ import annotations

import importlib
from typing import Any

# Imported lazily (PEP 562) so that ``tmbcalc tmb --calibrate-to`` and CLI start-up do not pay for
# pandas/scipy/scikit-learn unless calibration is actually used.
_LAZY = {
    "calibrate_fit": "api", "calibrate_translate": "api",
    "calibrate_simulate": "simulate", "SimulationResult": "simulate", "PanelSpec": "simulate",
    "calibrate_apply": "apply", "ApplyResult": "apply", "harmonize": "apply",
    "calibrate_uncertainty": "uncertainty", "UncertaintyResult": "uncertainty",
    "FitOptions": "fit", "FitResult": "fit",
    "CalibrationModel": "models", "load_model": "models", "list_models": "models", "find_model": "models",
    "CutTranslation": "translate", "translate_cut": "translate",
    "EquivocalZone": "uncertainty", "equivocal_zone": "uncertainty", "prob_high": "uncertainty",
    "equivocal_panel_values": "uncertainty",
    "harmonize_tmb": "harmonization", "definition_differences": "harmonization",
    "callable_restriction": "harmonization",
    "holdout_cuts": "cuts", "recommend_cut": "cuts",
    "Agreement": "agreement_stats", "agreement": "agreement_stats", "agreement_from_counts": "agreement_stats",
    "rmse_log": "agreement_stats",
    "DemingResult": "deming", "deming_fit": "deming",
    "read_simulated": "table",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
