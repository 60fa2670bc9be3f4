"""Panel cut points equivalent to a reference cut, under several definitions, judged by agreement.

For panel TMB ``x`` and reference TMB ``y`` (mut/Mb) of the same tumours and a reference cut ``c``
(reference-high = ``y >= c``), each definition gives a panel cut ``t`` (panel-high = ``x >= t``):

* ``raw``: ``t = c`` (no translation);
* ``deming``: the inverse of the Deming line at ``c`` (structural relation, errors in both);
* ``median_ratio``: ``t = c * median(x / y)`` over tumours with ``x > 0`` and ``y > 0``;
* ``kappa_optimal``: the observed panel value maximising Cohen's kappa against ``y >= c``;
* ``agreement_preserving``: the same, among cuts whose PPA stays within ``PPA_MARGIN`` (0.02) of
  the raw cut's PPA (a translation must not lose the patients the raw cut finds);
* ``prevalence_matched``: the panel value calling as many tumours high as the reference does;
* ``fitted_mean_inverse``: the inverse of the isotonic fit of E[y | x] at ``c`` (regression to
  the mean puts it above the others).

:func:`holdout_cuts` computes every definition leave-one-cohort-out (each cohort is called with
cuts learnt without it) and the pooled agreement (PPA, NPA, kappa) each achieves.
:func:`recommend` chooses by held-out agreement at the cut: the highest kappa among definitions
whose PPA is within ``ppa_margin`` of the raw cut's, and only if that kappa is not below raw.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import mappings
from .agreement_stats import agreement

DEFINITIONS = ("raw", "deming", "median_ratio", "kappa_optimal", "agreement_preserving", "prevalence_matched",
               "fitted_mean_inverse")
PPA_MARGIN = 0.02      # acceptance: held-out PPA may fall at most this far below the raw cut's
ANCHOR_MARGIN = 0.01   # the anchored-log mapping keeps half of it on its training data (room for hold-out)


def _kappa_optimal(x: np.ndarray, y: np.ndarray, c: float) -> float:
    """Observed panel value t maximising kappa of (x >= t) vs (y >= c); vectorised over candidates."""
    truth = y >= c
    n = x.size
    order = np.argsort(-x, kind="stable")
    xs, ts = x[order], truth[order]
    # calling the top i tumours high: candidate cuts at distinct values only
    last = np.r_[xs[1:] != xs[:-1], True]
    tp = np.cumsum(ts)[last]
    called = (np.flatnonzero(last) + 1).astype(float)
    pos = float(truth.sum())
    fp = called - tp
    fn = pos - tp
    tn = n - called - fn
    po = (tp + tn) / n
    pe = (called * pos + (n - called) * (n - pos)) / n ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(pe < 1, (po - pe) / (1 - pe), np.nan)
    if not np.isfinite(kappa).any():
        return float("nan")
    return float(xs[last][int(np.nanargmax(kappa))])


def agreement_preserving(x: np.ndarray, y: np.ndarray, c: float, margin: float = PPA_MARGIN) -> float:
    """Panel cut with the highest kappa among cuts whose PPA is >= the raw cut's PPA - ``margin``.

    Candidates are the observed panel values and ``c`` itself (so the raw cut is always feasible).
    """
    truth = y >= c
    pos = float(truth.sum())
    if pos == 0 or pos == x.size:
        return float(c)
    n = x.size
    cands = np.unique(np.r_[x, c])
    xs = np.sort(x)
    tps = np.sort(x[truth])
    called = n - np.searchsorted(xs, cands, side="left")          # x >= t
    tp = tps.size - np.searchsorted(tps, cands, side="left")
    ppa = tp / pos
    fp = called - tp
    tn = (n - pos) - fp
    po = (tp + tn) / n
    pe = (called * pos + (n - called) * (n - pos)) / n ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(pe < 1, (po - pe) / (1 - pe), -np.inf)
    raw_ppa = float((x[truth] >= c).sum()) / pos
    kappa = np.where(ppa >= raw_ppa - margin - 1e-12, kappa, -np.inf)
    return float(cands[int(np.argmax(kappa))])


def _prevalence_matched(x: np.ndarray, y: np.ndarray, c: float) -> float:
    k = int((y >= c).sum())
    if k == 0:
        return float("nan")
    return float(np.sort(x)[::-1][k - 1])


def _median_ratio(x: np.ndarray, y: np.ndarray, c: float) -> float:
    ok = (x > 0) & (y > 0)
    return float(c * np.median(x[ok] / y[ok])) if ok.any() else float("nan")


def cut_for(definition: str, x: np.ndarray, y: np.ndarray, c: float, *, delta: float = 1.0,
            model_inverse: Callable[[np.ndarray, np.ndarray], float] | None = None) -> float:
    """Panel cut equivalent to reference cut ``c`` learnt from pairs (x, y) under ``definition``."""
    if definition == "raw":
        return float(c)
    if definition == "deming":
        return mappings.inverse("deming", mappings.fit("deming", x, y, delta=delta), c)
    if definition == "median_ratio":
        return _median_ratio(x, y, c)
    if definition == "kappa_optimal":
        return _kappa_optimal(x, y, c)
    if definition == "agreement_preserving":
        return agreement_preserving(x, y, c)
    if definition == "prevalence_matched":
        return _prevalence_matched(x, y, c)
    if definition == "fitted_mean_inverse":
        return mappings.inverse("isotonic", mappings.fit("isotonic", x, y), c)
    if definition == "model" and model_inverse is not None:
        return model_inverse(x, y)
    raise ValueError(f"unknown cut definition '{definition}'")


def _r(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(f"{v:.6g}")


def holdout_cuts(x: np.ndarray, y: np.ndarray, cohorts: np.ndarray, c: float, *, delta: float,
                 extra: dict[str, Callable[[np.ndarray, np.ndarray], float]] | None = None) -> dict[str, Any]:
    """Every definition's cut on all pairs and its leave-one-cohort-out agreement at ``c``.

    ``extra`` adds definitions given as ``fn(x_train, y_train) -> cut`` (e.g. a model's inverse).
    Returns ``{definition: {"panel_cut", "holdout": {tp, fp, fn, tn, n, ppa, npa, opa, kappa}}}``.
    """
    funcs: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
        d: (lambda xa, ya, d=d: cut_for(d, xa, ya, c, delta=delta)) for d in DEFINITIONS}
    funcs.update(extra or {})
    truth = y >= c
    uniq = np.unique(cohorts)
    out: dict[str, Any] = {}
    for name, fn in funcs.items():
        called = np.zeros(x.size, bool)
        for g in uniq:
            test = cohorts == g
            try:
                t = fn(x[~test], y[~test])
            except ValueError:
                t = float("nan")
            called[test] = x[test] >= t if np.isfinite(t) else False
        try:
            full = fn(x, y)
        except ValueError:
            full = float("nan")
        out[name] = {"panel_cut": _r(full), "holdout": agreement(truth, called).to_dict()}
    return out


def recommend(results: dict[str, Any], *, ppa_margin: float = PPA_MARGIN) -> dict[str, Any]:
    """The definition to use at this cut, chosen by held-out agreement (not by RMSE)."""
    raw = results["raw"]["holdout"]
    ok = []
    for name, r in results.items():
        h = r["holdout"]
        if name == "raw" or h["kappa"] is None or h["ppa"] is None or raw["ppa"] is None:
            continue
        if h["ppa"] >= raw["ppa"] - ppa_margin and h["kappa"] >= (raw["kappa"] or 0.0):
            ok.append((h["kappa"], h["ppa"], name))
    if not ok:
        return {"definition": "raw", "panel_cut": results["raw"]["panel_cut"],
                "reason": (f"no translated cut keeps held-out agreement: every definition has kappa below the raw "
                           f"cut's ({raw['kappa']}) or PPA more than {ppa_margin} below it ({raw['ppa']})")}
    kappa, ppa, name = max(ok)
    return {"definition": name, "panel_cut": results[name]["panel_cut"],
            "reason": (f"highest held-out kappa ({kappa:.3f}) among definitions with kappa >= raw "
                       f"({raw['kappa']:.3f}) and PPA >= raw - {ppa_margin} ({raw['ppa']:.3f})")}


__all__ = ["DEFINITIONS", "PPA_MARGIN", "agreement_preserving", "ANCHOR_MARGIN", "cut_for", "holdout_cuts", "recommend"]


recommend_cut = recommend
