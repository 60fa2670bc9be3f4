"""The calibration mappings: panel TMB (x, mut/Mb) -> reference TMB (y, mut/Mb).

Each method is three pure functions over a JSON-ready parameter dict:
``fit(x, y, **options) -> params``, ``predict(params, x) -> y`` and ``inverse(params, c) -> x``
(the panel value whose calibrated value equals ``c``; NaN when no panel value reaches it).

- ``ols``: ordinary least squares ``y = a + b x`` (scikit-learn ``LinearRegression``).
- ``deming``: Deming regression ``y = a + b x`` with error-variance ratio ``delta``
  (:mod:`tmbcalc.calibrate.deming`); default ``delta = L_panel / L_reference`` (Poisson).
- ``huber-log``: Huber-loss regression on the log scale, ``ln(1+y) = a + b ln(1+x)``
  (scikit-learn ``HuberRegressor``, epsilon 1.35, no penalty), robust to hypermutated outliers.
- ``anchored-log``: ``ln(1+y) = ln(1+c) + b (ln(1+x) - ln(1+t))`` through the agreement-preserving
  panel cut ``t`` of the reference cut ``c`` (:mod:`tmbcalc.calibrate.cuts`); ``b`` by least squares.
- ``anchored-log2``: the same anchor, one least-squares slope on each side of it (the panel can
  over- or under-estimate the reference differently below and above the cut).
- ``isotonic``: monotone non-decreasing step-linear fit (scikit-learn ``IsotonicRegression``),
  stored as its breakpoints; linear interpolation between them, flat beyond the ends.

Calibrated values are clipped at 0 (a TMB cannot be negative); :func:`inverse` uses the
unclipped curve.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .deming import deming_fit

METHODS = ("ols", "deming", "huber-log", "isotonic", "anchored-log", "anchored-log2")
DESCRIPTIONS = {
    "ols": "ordinary least squares, reference = intercept + slope * panel (linear scale)",
    "deming": "Deming regression (errors in both variables), reference = intercept + slope * panel; "
              "delta = error-variance ratio var(reference error) / var(panel error)",
    "huber-log": "Huber regression on the log scale: ln(1 + reference) = intercept + slope * ln(1 + panel)",
    "isotonic": "isotonic (monotone non-decreasing) regression, piecewise linear between breakpoints "
                "x (panel) -> y (reference), constant beyond the ends",
    "anchored-log": "log-linear through the agreement anchor: ln(1 + reference) = ln(1 + cut) + slope * "
                    "(ln(1 + panel) - ln(1 + panel_cut)), panel_cut = the agreement-preserving panel cut of "
                    "the reference cut (calls at the cut keep the raw cut's training PPA within 0.01, best kappa), "
                    "slope by least squares through that point",
    "anchored-log2": "log-linear through the agreement anchor with two slopes: ln(1 + reference) = ln(1 + cut) + "
                     "b * (ln(1 + panel) - ln(1 + panel_cut)), b = slope below panel_cut and slope_high at and above "
                     "it, each by least squares through the anchor on its side (intercept = the lower line's)",
}
_SIG = 10  # significant digits kept in stored parameters


def _r(v: float) -> float:
    return float(f"{float(v):.{_SIG}g}")


# -- linear (ols, deming) --------------------------------------------------------------------
def fit_ols(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import LinearRegression

    m = LinearRegression().fit(np.asarray(x, float).reshape(-1, 1), np.asarray(y, float))
    return {"intercept": _r(m.intercept_), "slope": _r(m.coef_[0])}


def fit_deming(x: np.ndarray, y: np.ndarray, delta: float = 1.0) -> dict[str, Any]:
    r = deming_fit(x, y, delta)
    return {"intercept": _r(r.intercept), "slope": _r(r.slope), "delta": _r(delta)}


def predict_linear(p: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return np.maximum(p["intercept"] + p["slope"] * np.asarray(x, float), 0.0)


def inverse_linear(p: dict[str, Any], c: float) -> float:
    if p["slope"] <= 0:
        return float("nan")
    return max((c - p["intercept"]) / p["slope"], 0.0)


# -- huber on ln(1+x) --------------------------------------------------------------------------
def fit_huber_log(x: np.ndarray, y: np.ndarray, epsilon: float = 1.35) -> dict[str, Any]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import HuberRegressor

    lx = np.log1p(np.asarray(x, float)).reshape(-1, 1)
    ly = np.log1p(np.asarray(y, float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = HuberRegressor(epsilon=epsilon, alpha=0.0, max_iter=500).fit(lx, ly)
    return {"intercept": _r(m.intercept_), "slope": _r(m.coef_[0]), "epsilon": epsilon, "scale": _r(m.scale_)}


def predict_huber_log(p: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return np.maximum(np.expm1(p["intercept"] + p["slope"] * np.log1p(np.asarray(x, float))), 0.0)


def inverse_huber_log(p: dict[str, Any], c: float) -> float:
    if p["slope"] <= 0:
        return float("nan")
    return max(float(np.expm1((np.log1p(c) - p["intercept"]) / p["slope"])), 0.0)


# -- isotonic -----------------------------------------------------------------------------------
def fit_isotonic(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from sklearn.isotonic import IsotonicRegression

    m = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0).fit(
        np.asarray(x, float), np.asarray(y, float))
    xt = [_r(v) for v in m.X_thresholds_]
    yt = [_r(v) for v in m.y_thresholds_]
    return {"x": xt, "y": yt}


def predict_isotonic(p: dict[str, Any], x: np.ndarray) -> np.ndarray:
    xt, yt = np.asarray(p["x"], float), np.asarray(p["y"], float)
    return np.interp(np.asarray(x, float), xt, yt)


def inverse_isotonic(p: dict[str, Any], c: float) -> float:
    """Smallest panel value whose calibrated value reaches ``c`` (linear between breakpoints)."""
    xt, yt = np.asarray(p["x"], float), np.asarray(p["y"], float)
    if c > yt[-1]:
        return float("nan")
    if c <= yt[0]:
        return float(xt[0])
    i = int(np.searchsorted(yt, c, side="left"))  # yt[i-1] < c <= yt[i]
    x0, x1, y0, y1 = xt[i - 1], xt[i], yt[i - 1], yt[i]
    return float(x0 + (c - y0) * (x1 - x0) / (y1 - y0))


# -- anchored log-linear -------------------------------------------------------------------------
def _anchor(x: np.ndarray, y: np.ndarray, cut: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(agreement-preserving panel cut t, ln(1+x) - ln(1+t), ln(1+y) - ln(1+cut))."""
    from .cuts import ANCHOR_MARGIN, agreement_preserving

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    t = agreement_preserving(x, y, float(cut), ANCHOR_MARGIN)
    if not t > 0:
        raise ValueError("no positive panel cut to anchor on")
    return t, np.log1p(x) - np.log1p(t), np.log1p(y) - np.log1p(cut)


def _slope_through(u: np.ndarray, v: np.ndarray, where: str = "") -> float:
    """Least-squares slope of v on u through the origin (must be positive)."""
    suu = float(np.dot(u, u))
    if suu <= 0:
        raise ValueError(f"panel values do not vary{where}")
    slope = float(np.dot(u, v)) / suu
    if slope <= 0:
        raise ValueError(f"non-increasing relation{where}")
    return slope


def fit_anchored_log(x: np.ndarray, y: np.ndarray, cut: float = 10.0) -> dict[str, Any]:
    """Least squares on the log scale through the point (agreement-preserving panel cut, ``cut``).

    Harmonized calls at ``cut`` are then exactly panel >= panel_cut: the mapping cannot lose the
    agreement at the clinical cut that the cut translation keeps (see :mod:`.cuts`).  ``panel_cut``
    is stored unrounded (it is one of the observed panel values, and tumours exactly at it must be
    called high); ``intercept`` is the same line written as ``intercept + slope ln(1+x)``, for reading.
    """
    t, u, v = _anchor(x, y, cut)
    slope = _slope_through(u, v)
    return {"intercept": _r(np.log1p(cut) - slope * np.log1p(t)), "slope": _r(slope), "cut": float(cut),
            "panel_cut": float(t)}


def fit_anchored_log2(x: np.ndarray, y: np.ndarray, cut: float = 10.0) -> dict[str, Any]:
    """:func:`fit_anchored_log` with one slope below the anchor (``slope``, ``intercept``) and one at
    and above it (``slope_high``), each by least squares through the anchor on its own side.

    One slope through the anchor can only tilt the line: when the panel overestimates the reference
    on both sides of the anchor (f1cdx-like: synonymous variants counted, a smaller footprint), a
    slope below 1 that pulls high values down pushes low values up, further from the reference.
    Two slopes keep the calls at the cut (still exactly panel >= panel_cut) and fit each side.
    """
    t, u, v = _anchor(x, y, cut)
    low = u < 0
    s_lo = _slope_through(u[low], v[low], " below the anchor")
    s_hi = _slope_through(u[~low], v[~low], " above the anchor")
    return {"intercept": _r(np.log1p(cut) - s_lo * np.log1p(t)), "slope": _r(s_lo), "slope_high": _r(s_hi),
            "cut": float(cut), "panel_cut": float(t)}


def _through_anchor(p: dict[str, Any], x: np.ndarray, slope_high: float) -> np.ndarray:
    """``ln(1+y) = ln(1+cut) + b (ln(1+x) - ln(1+panel_cut))`` with ``b`` = slope below the anchor and
    ``slope_high`` at and above it; the result is pinned so that ``y >= cut`` exactly when
    ``x >= panel_cut`` (``expm1(log1p(15))`` is 14.999999999999998: without the pin a tumour exactly
    at the anchor could be called low, and one just below it high)."""
    x = np.asarray(x, float)
    t, c = float(p["panel_cut"]), float(p["cut"])
    lx, lt = np.log1p(x), np.log1p(t)
    y = np.expm1(np.log1p(c) + np.where(x < t, p["slope"], slope_high) * (lx - lt))
    y = np.where(x >= t, np.maximum(y, c), np.minimum(y, c - 1e-9))   # below: clear of callers' 1e-12 tolerance
    return np.maximum(y, 0.0)


def _inverse_through_anchor(p: dict[str, Any], c: float, slope_high: float) -> float:
    """Panel value whose anchored calibrated value is ``c`` (exactly ``panel_cut`` at ``cut``)."""
    cut, t = float(p["cut"]), float(p["panel_cut"])
    if c == cut:
        return t
    b = p["slope"] if c < cut else slope_high
    return max(float(np.expm1(np.log1p(t) + (np.log1p(c) - np.log1p(cut)) / b)), 0.0)


def predict_anchored_log(p: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return _through_anchor(p, x, p["slope"])


def inverse_anchored_log(p: dict[str, Any], c: float) -> float:
    return _inverse_through_anchor(p, c, p["slope"])


def predict_anchored_log2(p: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return _through_anchor(p, x, p["slope_high"])


def inverse_anchored_log2(p: dict[str, Any], c: float) -> float:
    return _inverse_through_anchor(p, c, p["slope_high"])


FIT: dict[str, Callable[..., dict[str, Any]]] = {
    "ols": fit_ols, "deming": fit_deming, "huber-log": fit_huber_log, "isotonic": fit_isotonic,
    "anchored-log": fit_anchored_log, "anchored-log2": fit_anchored_log2}
PREDICT: dict[str, Callable[[dict[str, Any], np.ndarray], np.ndarray]] = {
    "ols": predict_linear, "deming": predict_linear, "huber-log": predict_huber_log,
    "isotonic": predict_isotonic, "anchored-log": predict_anchored_log, "anchored-log2": predict_anchored_log2}
INVERSE: dict[str, Callable[[dict[str, Any], float], float]] = {
    "ols": inverse_linear, "deming": inverse_linear, "huber-log": inverse_huber_log,
    "isotonic": inverse_isotonic, "anchored-log": inverse_anchored_log, "anchored-log2": inverse_anchored_log2}


def fit(method: str, x: np.ndarray, y: np.ndarray, **options: Any) -> dict[str, Any]:
    if method not in FIT:
        raise ValueError(f"unknown calibration method '{method}' (known: {', '.join(METHODS)})")
    if method != "deming":
        options.pop("delta", None)
    if method not in ("anchored-log", "anchored-log2"):
        options.pop("cut", None)
    return FIT[method](x, y, **options)


def predict(method: str, params: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return PREDICT[method](params, x)


def inverse(method: str, params: dict[str, Any], c: float) -> float:
    return INVERSE[method](params, float(c))


def coefficient_names(method: str) -> tuple[str, ...]:
    """Scalar parameters that get bootstrap CIs (isotonic has none: its band is its CI)."""
    if method == "isotonic":
        return ()
    return ("intercept", "slope", "slope_high") if method == "anchored-log2" else ("intercept", "slope")


__all__ = ["METHODS", "DESCRIPTIONS", "fit", "predict", "inverse", "coefficient_names"]
