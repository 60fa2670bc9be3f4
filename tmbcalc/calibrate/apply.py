"""Apply a calibration model to panel TMB values: harmonized (reference-scale) TMB beside raw.

For each input value ``x`` (panel TMB, mut/Mb) the output gives the calibrated value ``f(x)``,
the 95% bootstrap confidence band of the calibration curve at ``x`` (``ci_low``/``ci_high``:
uncertainty of the mapping only) and a 95% prediction interval (``pi_low``/``pi_high``: where
the reference TMB of such a tumour is expected to fall).  For v2 models the prediction interval
combines the panel's Poisson sampling error at the count the value implies on the model's
panel footprint (``k = round(x * L)``) with the mapping error (:mod:`.prediction`); v1 models
shift the value by the held-out residual quantiles.
Values above the largest panel TMB seen in training are flagged ``extrapolated``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UsageError, require_readable
from ..io.textfile import open_text
from .models import CalibrationModel, find_model, load_model


@dataclass
class Harmonized:
    """Calibrated values for a batch of panel TMB values (arrays, mut/Mb)."""

    model_id: str
    raw: np.ndarray
    calibrated: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray | None
    pi_high: np.ndarray | None
    extrapolated: np.ndarray


def apply_model(model: CalibrationModel, values: np.ndarray) -> Harmonized:
    x = np.asarray(values, float)
    if x.ndim != 1:
        x = x.reshape(-1)
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise UsageError("TMB values to calibrate must be finite and >= 0")
    cal = model.predict(x)
    lo, hi = model.band(x)
    lo, hi = np.minimum(lo, cal), np.maximum(hi, cal)
    q = (model.data.get("validation") or {}).get("residual_log_quantiles")
    pl = ph = None
    pi = model.data.get("prediction_interval")
    fp = ((model.definition or {}).get("panel") or {}).get("footprint") or {}
    if pi and fp.get("bp"):
        from . import prediction

        mb = fp["bp"] / 1e6
        p_lo, p_hi = prediction.poisson_log_halfwidths(np.rint(x * mb), mb, float(pi["level"]))
        pl, ph = prediction.interval(cal, p_lo, p_hi, *pi["mapping_log_halfwidth"])
    elif q and q[0] is not None and q[1] is not None:
        pl = np.maximum(np.expm1(np.log1p(cal) + q[0]), 0.0)
        ph = np.expm1(np.log1p(cal) + q[1])
    vmax = (model.data.get("valid_range") or {}).get("panel_tmb_max")
    extra = x > vmax if vmax is not None else np.zeros(x.size, bool)
    return Harmonized(model.id, x, cal, lo, hi, pl, ph, extra)


def harmonize(panel_id: str, reference: str, tmb_values, method: str | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Reference-scale TMB for panel TMB values: ``(values, low, high, model_id)``.

    ``low``/``high``: the 95% prediction interval (panel Poisson sampling + mapping) when the
    model has one (v2), else the mapping's confidence band.

    Uses the newest bundled model for (panel, reference): the recommended method unless
    ``method`` is given.  Raises UsageError when no model ships for the pair.
    """
    model = find_model(panel_id, reference, method)
    h = apply_model(model, np.atleast_1d(np.asarray(tmb_values, float)))
    if h.pi_low is not None and model.data.get("prediction_interval"):
        return h.calibrated, h.pi_low, h.pi_high, model.id
    return h.calibrated, h.ci_low, h.ci_high, model.id


def read_tmb_input(path: str | Path) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    """Samples, TMB values and provenance from ``tmbcalc tmb`` output (.tmb.json or a TSV).

    A TSV needs a header with ``sample`` and ``tmb`` columns (``#`` lines are skipped; a
    ``# parameters: {json}`` line, as ``tmbcalc tmb`` writes, supplies the panel id).
    """
    p = require_readable(path, "TMB input")
    if p.name.endswith(".json"):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg} at line {exc.lineno})", p) from None
        samples = data.get("samples") if isinstance(data, dict) else None
        if not isinstance(samples, list) or not samples:
            raise InputError("expected a tmbcalc TMB JSON with a non-empty 'samples' list", p)
        names, vals = [], []
        for i, s in enumerate(samples):
            if not isinstance(s, dict) or "tmb" not in s:
                raise InputError(f"samples[{i}] has no 'tmb'", p)
            if s["tmb"] is None:
                raise InputError(f"samples[{i}] ('{s.get('sample', i)}') has tmb null", p)
            names.append(str(s.get("sample", i)))
            vals.append(float(s["tmb"]))
        return names, np.asarray(vals, float), data.get("provenance") or {}
    header = None
    names, vals = [], []
    prov: dict[str, Any] = {}
    with open_text(p) as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("# parameters: "):  # tmbcalc tmb TSV: parameters name the panel
                try:
                    prov = {"parameters": json.loads(line[len("# parameters: "):])}
                except json.JSONDecodeError:
                    prov = {}
                continue
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            if header is None:
                header = fields
                if "tmb" not in header:
                    raise InputError(f"line {lineno}: TSV header has no 'tmb' column "
                                     f"(columns: {', '.join(header[:10])})", p)
                si = header.index("sample") if "sample" in header else None
                ti = header.index("tmb")
                continue
            if len(fields) != len(header):
                raise InputError(f"line {lineno}: {len(fields)} fields, header has {len(header)}", p)
            try:
                v = float(fields[ti])
            except ValueError:
                raise InputError(f"line {lineno}: tmb {fields[ti]!r} is not a number", p) from None
            if not np.isfinite(v) or v < 0:
                raise InputError(f"line {lineno}: tmb {fields[ti]!r} must be a finite value >= 0", p)
            names.append(fields[si] if si is not None else str(len(names)))
            vals.append(v)
    if header is None or not vals:
        raise InputError("TSV has no data rows", p)
    return names, np.asarray(vals, float), prov


def _input_panel(prov: dict[str, Any]) -> str | None:
    panel = prov.get("panel")
    if isinstance(panel, dict):
        return panel.get("id")
    if isinstance(panel, str):
        return panel
    params = prov.get("parameters") or {}
    return params.get("panel") if isinstance(params.get("panel"), str) else None


APPLY_COLUMNS = ("sample", "tmb_raw", "tmb_calibrated", "ci_low", "ci_high", "pi_low", "pi_high", "extrapolated",
                 "model")


@dataclass
class ApplyResult:
    """Calibrated (reference-scale) TMB beside the raw panel values, one row per sample (mut/Mb;
    ``ci_*``: the mapping's 95% band, ``pi_*``: 95% prediction interval), with the provenance."""

    model: str
    panel: str
    reference: str
    method: str
    input_panel: str | None
    rows: list[dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: model, panel, reference, method, input_panel, rows, provenance (PREFIX.calibrated.json)."""
        return dict(self.__dict__)

    def table_text(self) -> str:
        """The rows as TSV with a header line (columns :data:`APPLY_COLUMNS`)."""
        from .outputs import tsv

        return tsv(APPLY_COLUMNS, ([*(r.get(c) for c in APPLY_COLUMNS[:-1]), self.model] for r in self.rows))

    def write(self, prefix: str | Path) -> list[Path]:
        """PREFIX.calibrated.tsv (provenance header + :meth:`table_text`) and PREFIX.calibrated.json."""
        from ..output import OutputSet
        from .outputs import provenance_header

        with OutputSet(prefix, inputs=self.provenance.get("inputs")) as outs:
            outs.write_text(".calibrated.tsv", provenance_header(self.provenance, "calibrate apply") + self.table_text())
            outs.write_json(".calibrated.json", self.to_dict())
        return [outs.path(".calibrated.tsv"), outs.path(".calibrated.json")]


def calibrate_apply(model: str | Path | CalibrationModel, values=None, *, input_path: str | Path | None = None,
                    samples: list[str] | None = None, allow_panel_mismatch: bool = False,
                    parameters: dict[str, Any] | None = None) -> ApplyResult:
    """Calibrate TMB values (mut/Mb, >= 0) or a ``tmbcalc tmb`` output (``input_path``) with a model.

    A TMB output computed with another panel than the model's is refused unless
    ``allow_panel_mismatch``.  ``parameters``: what the provenance records (default: these
    arguments).  Nothing is written: call ``.write(prefix)``.
    """
    from ..provenance import build_provenance
    from .outputs import record_parameters

    m = model if isinstance(model, CalibrationModel) else load_model(model)
    prov: dict[str, Any] = {}
    if input_path is not None:
        samples, vals, prov = read_tmb_input(input_path)
    elif values is not None:
        vals = np.atleast_1d(np.asarray(values, float))
        if np.any(vals < 0):
            raise UsageError("values must be >= 0", params=("values",))
        samples = samples or [str(i) for i in range(vals.size)]
    else:
        raise UsageError("give values or an input file to calibrate")
    ip = _input_panel(prov)
    if ip and ip != m.panel_id and not allow_panel_mismatch:
        raise UsageError(f"model '{m.id}' is for panel '{m.panel_id}' but the input was computed with "
                         f"panel '{ip}' (set allow_panel_mismatch to apply it anyway)",
                         params=("allow_panel_mismatch",))
    h = apply_model(m, vals)
    rows = []
    for i, s in enumerate(samples):
        rows.append({"sample": s, "tmb_raw": float(h.raw[i]), "tmb_calibrated": round(float(h.calibrated[i]), 4),
                     "ci_low": round(float(h.ci_low[i]), 4), "ci_high": round(float(h.ci_high[i]), 4),
                     "pi_low": None if h.pi_low is None else round(float(h.pi_low[i]), 4),
                     "pi_high": None if h.pi_high is None else round(float(h.pi_high[i]), 4),
                     "extrapolated": bool(h.extrapolated[i])})
    own = {"model": m.path or m.id, "values": None if values is None else vals.tolist(),
           "input_path": None if input_path is None else str(input_path), "samples": samples if values is not None
           else None, "allow_panel_mismatch": allow_panel_mismatch}
    provenance = build_provenance("calibrate apply", record_parameters(parameters, own),
                                  {"model": m.path, "input": input_path}, calibration_model=m.id)
    return ApplyResult(m.id, m.panel_id, m.reference, m.method, ip, rows, provenance)


__all__ = ["Harmonized", "ApplyResult", "APPLY_COLUMNS", "apply_model", "harmonize", "calibrate_apply", "read_tmb_input"]
