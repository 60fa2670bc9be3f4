"""Convenience wrappers of the calibration API that accept paths as well as objects and return
results carrying their provenance."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from ..provenance import build_provenance
from .fit import FitOptions, FitResult
from .fit import calibrate_fit as _fit_table
from .models import CalibrationModel, load_model
from .outputs import record_parameters
from .table import read_simulated
from .translate import CutTranslation, translate_cut


def calibrate_fit(table: str | Path | pd.DataFrame, provenance: dict[str, Any] | None = None, *,
                  panels: list[str] | None = None, reference: str | None = None,
                  options: FitOptions | None = None, parameters: dict[str, Any] | None = None,
                  **option_fields: Any) -> FitResult:
    """Fit calibration models from a simulation table (path or DataFrame).

    Options may be given as a :class:`FitOptions` or as keyword fields of it
    (``methods=("deming",), bootstrap=200, seed=1, holdout="cohort"``).  ``provenance``: the
    table's own (read from the file when a path is given).  ``parameters``: what the result's
    provenance records as the run's parameters (default: these arguments).  Nothing is written:
    call ``.write(out_dir)``.
    """
    opts = options or FitOptions(**option_fields)
    name = sha = ""
    path = None
    if not isinstance(table, pd.DataFrame):
        from ..provenance import sha256_file

        path = table
        df, prov = read_simulated(table)
        name, sha = Path(table).name, sha256_file(table)
        provenance = provenance or prov
        table = df
    res = _fit_table(table, provenance, panels=panels, reference=reference, options=opts,
                     table_name=name, table_sha256=sha)
    own = {"table": None if path is None else str(path), "panels": panels, "reference": reference,
           **dataclasses.asdict(opts)}
    res.set_provenance(build_provenance("calibrate fit", record_parameters(parameters, own), {"table": path}))
    return res


def calibrate_translate(model: str | Path | CalibrationModel, reference_cut: float = 10.0, *,
                        table: str | Path | pd.DataFrame | None = None, alpha: float = 0.05,
                        parameters: dict[str, Any] | None = None) -> CutTranslation:
    """Panel cut equivalent to ``reference_cut`` (mut/Mb) with CI, agreement and equivocal zones.

    ``parameters``: what the result's provenance records (default: these arguments)."""
    m = model if isinstance(model, CalibrationModel) else load_model(model)
    path = None if table is None or isinstance(table, pd.DataFrame) else table
    if path is not None:
        table, _ = read_simulated(path)
    res = translate_cut(m, reference_cut, table=table, alpha=alpha)
    own = {"model": m.path or m.id, "reference_cut": reference_cut, "table": None if path is None else str(path),
           "alpha": alpha}
    res.provenance = build_provenance("calibrate translate", record_parameters(parameters, own),
                                      {"model": m.path, "table": path}, calibration_model=m.id)
    return res
