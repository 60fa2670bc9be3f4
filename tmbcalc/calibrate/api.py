"""Convenience wrappers of the calibration API that accept paths as well as objects."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .fit import FitOptions, FitResult
from .fit import calibrate_fit as _fit_table
from .models import CalibrationModel, load_model
from .table import read_simulated
from .translate import CutTranslation, translate_cut


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
