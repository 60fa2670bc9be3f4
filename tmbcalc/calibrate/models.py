"""Versioned calibration models stored as JSON (never pickles).

A model maps TMB measured on one panel under that panel's counting profile to the reference
scale (e.g. exome TMB under the ``wes-merino`` profile).  File name = ``<id>.json`` with
``id = <panel>__to__<reference>__<method>__v<version>``.  Every key is documented in
``docs/calibration.md``.  :func:`load_model` validates the structure and raises a one-line
:class:`~tmbcalc.errors.InputError` on a malformed file.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..checks import check_number
from ..errors import InputError, UsageError
from ..resources import calibration_dir
from . import mappings

FORMAT = "tmbcalc-calibration-model"
FORMAT_VERSION = 2          # written; 2 adds the panel-value definition and the prediction interval
READABLE_VERSIONS = (1, 2)  # 1 = deprecated models (no definition): loadable, never used by `tmb`
_REQUIRED = ("format", "format_version", "id", "version", "panel", "reference", "method", "parameters",
             "bootstrap", "training")


def model_id(panel: str, reference: str, method: str, version: int) -> str:
    return f"{panel}__to__{reference}__{method}__v{version}"


@dataclass
class CalibrationModel:
    """One fitted panel -> reference mapping plus its uncertainty and validation record."""

    data: dict[str, Any]
    path: str | None = None
    _band: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    # -- identity --------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def method(self) -> str:
        return self.data["method"]

    @property
    def params(self) -> dict[str, Any]:
        return self.data["parameters"]

    @property
    def panel_id(self) -> str:
        return self.data["panel"]["id"]

    @property
    def reference(self) -> str:
        return self.data["reference"]["name"]

    @property
    def version(self) -> int:
        return int(self.data["version"])

    @property
    def definition(self) -> dict[str, Any] | None:
        """The exact panel value the model maps and its reference (format_version >= 2), else None."""
        return self.data.get("definition")

    @property
    def status(self) -> dict[str, str]:
        """``{"status": "current" | "deprecated", "reason": ...}`` from ``calibration/status.json``."""
        return model_status(self.id)

    # -- evaluation --------------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Calibrated (reference-scale) TMB for panel TMB values (mut/Mb)."""
        return mappings.predict(self.method, self.params, np.asarray(x, float))

    def inverse(self, c: float) -> float:
        """Panel TMB whose calibrated value equals reference TMB ``c`` (NaN if unreachable)."""
        return mappings.inverse(self.method, self.params, c)

    def band_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._band is None:
            b = self.data["bootstrap"]["band"]
            self._band = (np.asarray(b["x"], float), np.asarray(b["low"], float), np.asarray(b["high"], float))
        return self._band

    def band(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise bootstrap confidence band (low, high) of the calibrated value at panel TMB x.

        Linear interpolation on the stored grid; beyond the grid's end the band is extended by
        the calibrated curve's own change (offsets at the last grid point are kept).
        """
        gx, lo, hi = self.band_arrays()
        x = np.asarray(x, float)
        blo = np.interp(x, gx, lo)
        bhi = np.interp(x, gx, hi)
        beyond = x > gx[-1]
        if np.any(beyond):
            shift = self.predict(x[beyond]) - self.predict(np.array([gx[-1]]))[0]
            blo[beyond] = lo[-1] + shift
            bhi[beyond] = hi[-1] + shift
        return np.maximum(blo, 0.0), np.maximum(bhi, 0.0)

    def to_json(self) -> str:
        return json.dumps(self.data, indent=1, allow_nan=False) + "\n"


def _check(data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise InputError("calibration model must be a JSON object", where)
    if data.get("format") != FORMAT:
        raise InputError(f"not a tmbcalc calibration model (format is {data.get('format')!r}, "
                         f"expected {FORMAT!r})", where)
    if data.get("format_version") not in READABLE_VERSIONS:
        raise InputError(f"unsupported calibration model format_version {data.get('format_version')!r} "
                         f"(this tmbcalc reads {', '.join(map(str, READABLE_VERSIONS))})", where)
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise InputError(f"calibration model lacks key(s): {', '.join(missing)}", where)
    if data["method"] not in mappings.METHODS:
        raise InputError(f"unknown calibration method {data['method']!r}", where)
    p = data["parameters"]
    need = ("x", "y") if data["method"] == "isotonic" else ("intercept", "slope")
    if not isinstance(p, dict) or any(k not in p for k in need):
        raise InputError(f"parameters of a {data['method']} model need {', '.join(need)}", where)
    band = data["bootstrap"].get("band") if isinstance(data["bootstrap"], dict) else None
    if not band or any(k not in band for k in ("x", "low", "high")):
        raise InputError("bootstrap.band needs x, low and high", where)
    _check_values(data, band, where)


def _finite_list(value: Any, what: str, where: str) -> np.ndarray:
    if not isinstance(value, list) or not value or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise InputError(f"{what} must be a non-empty list of numbers", where)
    arr = np.asarray(value, float)
    if not np.isfinite(arr).all():
        raise InputError(f"{what} holds NaN or infinite values", where)
    return arr


def _check_values(data: dict[str, Any], band: dict[str, Any], where: str) -> None:
    """Numbers a hand-edited model could break: finite parameters, a positive slope (a zero or
    negative one inverts or flattens the mapping), increasing isotonic knots, an ordered band,
    a valid range with min < max, positive panel/reference Mb."""
    p = data["parameters"]
    if data["method"] == "isotonic":
        x, y = _finite_list(p["x"], "parameters.x", where), _finite_list(p["y"], "parameters.y", where)
        if x.size != y.size or x.size < 2 or np.any(np.diff(x) <= 0) or np.any(np.diff(y) < 0):
            raise InputError("isotonic parameters need x strictly increasing and y non-decreasing, of equal "
                             "length >= 2", where)
    else:
        for k, v in p.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                check_number(v, f"parameters.{k}", path=where, error=InputError)
        for k in ("slope", "slope_high") if "slope_high" in p else ("slope",):
            check_number(p[k], f"parameters.{k}", path=where, error=InputError, lo=0.0, lo_open=True)
    bx = _finite_list(band["x"], "bootstrap.band.x", where)
    lo = _finite_list(band["low"], "bootstrap.band.low", where)
    hi = _finite_list(band["high"], "bootstrap.band.high", where)
    if not (bx.size == lo.size == hi.size) or np.any(np.diff(bx) <= 0) or np.any(lo > hi):
        raise InputError("bootstrap.band needs x increasing and low <= high, of equal length", where)
    vr = data.get("valid_range")
    if vr is not None:
        if not isinstance(vr, dict):
            raise InputError("valid_range must be an object", where)
        vmin = check_number(vr.get("panel_tmb_min", 0.0), "valid_range.panel_tmb_min", path=where,
                            error=InputError, lo=0.0)
        vmax = check_number(vr.get("panel_tmb_max"), "valid_range.panel_tmb_max", path=where, error=InputError,
                            lo=0.0, lo_open=True)
        if vmin >= vmax:
            raise InputError(f"valid_range is empty or inverted (panel_tmb_min {vmin:g} >= panel_tmb_max "
                             f"{vmax:g})", where)
    for part in ("panel", "reference"):
        mb = data[part].get("mb") if isinstance(data[part], dict) else None
        if mb is not None:
            check_number(mb, f"{part}.mb", path=where, error=InputError, lo=0.0, lo_open=True)


def _refuse_constant(name: str):
    raise ValueError(name)


def load_model(id_or_path: str | Path) -> CalibrationModel:
    """Load a model by path or by id (looked up in the bundled ``calibration/`` folder)."""
    s = str(id_or_path)
    path = Path(s)
    if not path.is_file():
        cand = calibration_dir() / (s if s.endswith(".json") else f"{s}.json")
        if not cand.is_file():
            known = ", ".join(m["id"] for m in list_models()[:8])
            raise UsageError(f"unknown calibration model '{s}' (not a file and not a bundled id; "
                             f"see 'tmbcalc calibrate models'; e.g. {known})")
        path = cand
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"calibration model is not valid JSON ({exc.msg} at line {exc.lineno})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"calibration model is not UTF-8 text (byte {exc.start})", path) from None
    except ValueError as exc:
        raise InputError(f"calibration model holds {exc} (not valid JSON; a number must be finite)", path) from None
    except OSError as exc:
        raise InputError(f"cannot read calibration model: {exc.strerror}", path) from None
    _check(data, str(path))
    return CalibrationModel(data, str(path))


def model_status(mid: str) -> dict[str, str]:
    """Status of a bundled model id: current unless ``calibration/status.json`` deprecates it."""
    path = calibration_dir() / "status.json"
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        table = {}
    for entry in table.get("deprecated", []):
        if re.fullmatch(entry["ids"], mid):
            return {"status": "deprecated", "reason": entry["reason"]}
    return {"status": "current", "reason": ""}


def list_models(directory: str | Path | None = None) -> list[dict[str, Any]]:
    """Summaries (id, panel, reference, method, version, holdout RMSE) of the models in a folder."""
    d = Path(directory) if directory else calibration_dir()
    out = []
    for p in sorted(d.glob("*.json")):
        if not re.match(r".+__to__.+__.+__v\d+\.json$", p.name):
            continue
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            continue
        val = data.get("validation") or {}
        out.append({"id": data["id"], "panel": data["panel"]["id"], "reference": data["reference"]["name"],
                    "method": data["method"], "version": data["version"], "path": str(p),
                    "recommended": bool(data.get("recommended", False)),
                    "status": model_status(data["id"])["status"],
                    "rmse_log_raw": val.get("rmse_log_raw"), "rmse_log_calibrated": val.get("rmse_log_calibrated")})
    return out


def find_model(panel: str, reference: str, method: str | None = None,
               directory: str | Path | None = None) -> CalibrationModel:
    """The newest model for (panel, reference); the recommended method unless ``method`` is given."""
    cands = [m for m in list_models(directory) if m["panel"] == panel and m["reference"] == reference
             and m["status"] != "deprecated"]
    if method:
        cands = [m for m in cands if m["method"] == method]
    elif any(m["recommended"] for m in cands):
        cands = [m for m in cands if m["recommended"]]
    if not cands:
        raise UsageError(f"no calibration model for panel '{panel}' to reference '{reference}'"
                         + (f" with method '{method}'" if method else "") + _why_none(panel, reference, directory))
    newest = max(m["version"] for m in cands)
    cands = [m for m in cands if m["version"] == newest]
    if not method and not any(m["recommended"] for m in cands):
        # no model keeps the raw cut's agreement: use the one closest to it, flagged NOT recommended
        return min((load_model(m["path"]) for m in cands), key=_agreement_loss)
    best = max(cands, key=lambda m: (m["version"], m["recommended"], m["method"] == "deming"))
    return load_model(best["path"])


def _why_none(panel: str, reference: str, directory: str | Path | None) -> str:
    """The end of find_model's error: which references are current for the panel, or that only
    deprecated models map to this one."""
    mine = [m for m in list_models(directory) if m["panel"] == panel]
    current = sorted({m["reference"] for m in mine if m["status"] != "deprecated"})
    old = sorted(m["id"] for m in mine if m["reference"] == reference and m["status"] == "deprecated")
    if old and reference not in current:
        return (f" (only deprecated models, e.g. {old[-1]}: load one by id or path to reproduce an old report, "
                "see calibration/status.json)")
    if current:
        return f" (references with a current model for this panel: {', '.join(current)})"
    return " (no model ships for this panel; fit one with 'tmbcalc calibrate fit')"


def _agreement_loss(model: CalibrationModel) -> float:
    """How much held-out kappa the model loses against the raw cut at its first reference cut."""
    v = model.data.get("validation") or {}
    ag = next(iter((v.get("agreement") or {}).values()), None)
    if not ag or ag["calibrated"]["kappa"] is None or ag["raw"]["kappa"] is None:
        return float("inf")
    return float(ag["raw"]["kappa"] - ag["calibrated"]["kappa"])


__all__ = ["CalibrationModel", "FORMAT", "FORMAT_VERSION", "READABLE_VERSIONS", "model_status", "model_id", "load_model", "list_models",
           "find_model"]
