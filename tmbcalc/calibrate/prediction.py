"""Prediction intervals for harmonized TMB: panel Poisson sampling at the observed count + mapping error.

On the log scale ``u = ln(1 + TMB)``, a harmonized value ``f(x)`` for a panel that saw ``k``
eligible mutations on ``L`` Mb (``x = k / L``) gets the interval::

    lower = ln(1 + f(x)) - sqrt(p_lo(k)^2 + m_lo^2)      upper = ln(1 + f(x)) + sqrt(p_hi(k)^2 + m_hi^2)

back-transformed with ``exp(u) - 1`` (lower clipped at 0).  ``p_lo``/``p_hi`` are the half-widths
of the exact Garwood 95% interval of the panel rate at count ``k`` on the raw log scale
(``ln(1 + x) - ln(1 + rate_low)``, ``ln(1 + rate_high) - ln(1 + x)``): the panel's own sampling
error, large at low counts.  ``m_lo``/``m_hi`` are the mapping's error (footprint-to-footprint
biology, the reference's own sampling, lack of fit), estimated from held-out residuals
``r = ln(1 + y) - ln(1 + f_heldout(x))`` as the smallest values for which each tail leaves at
most ``(1 - level) / 2`` of the held-out tumours outside: ``m = quantile(sqrt(max(r^2 - p^2, 0))
over the tumours on that side, 1 - (1 - level) / 2)``.  :func:`holdout_coverage` reports how
often the interval covers the reference TMB on cohorts left out of both the mapping and ``m``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tmb.statistics import garwood_interval


def poisson_log_halfwidths(counts: np.ndarray, mb: float, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """(p_lo, p_hi): Garwood half-widths on the ln(1 + TMB) scale at each count (``mb`` in Mb)."""
    k = np.asarray(counts, float)
    lo, hi = garwood_interval(k, mb, 1 - level)
    x = np.log1p(k / mb)
    return x - np.log1p(lo), np.log1p(hi) - x


def mapping_halfwidths(resid: np.ndarray, p_lo: np.ndarray, p_hi: np.ndarray, level: float = 0.95
                       ) -> tuple[float, float]:
    """(m_lo, m_hi) such that each tail of the combined interval leaves out <= (1 - level)/2."""
    q = 1 - (1 - level) / 2
    need_lo = np.where(resid < 0, np.sqrt(np.maximum(resid ** 2 - p_lo ** 2, 0.0)), 0.0)
    need_hi = np.where(resid > 0, np.sqrt(np.maximum(resid ** 2 - p_hi ** 2, 0.0)), 0.0)
    return float(np.quantile(need_lo, q)), float(np.quantile(need_hi, q))


def interval(center: np.ndarray, p_lo: np.ndarray, p_hi: np.ndarray, m_lo: float, m_hi: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Prediction interval (mut/Mb) around harmonized values ``center`` (mut/Mb)."""
    u = np.log1p(np.asarray(center, float))
    lo = np.expm1(u - np.sqrt(p_lo ** 2 + m_lo ** 2))
    hi = np.expm1(u + np.sqrt(p_hi ** 2 + m_hi ** 2))
    return np.maximum(lo, 0.0), hi


def holdout_coverage(y: np.ndarray, oof: np.ndarray, counts: np.ndarray, mb: float, cohorts: np.ndarray,
                     level: float = 0.95) -> dict[str, Any]:
    """Coverage of the interval on each cohort, with ``m`` estimated from the other cohorts only.

    ``oof`` are out-of-fold harmonized values (each cohort's from a mapping fitted without it).
    """
    p_lo, p_hi = poisson_log_halfwidths(counts, mb, level)
    resid = np.log1p(y) - np.log1p(oof)
    covered = np.zeros(y.size, bool)
    per: dict[str, Any] = {}
    for g in np.unique(cohorts):
        t = cohorts == g
        m_lo, m_hi = mapping_halfwidths(resid[~t], p_lo[~t], p_hi[~t], level)
        lo, hi = interval(oof[t], p_lo[t], p_hi[t], m_lo, m_hi)
        covered[t] = (y[t] >= lo - 1e-9) & (y[t] <= hi + 1e-9)
        per[str(g)] = {"n": int(t.sum()), "coverage": round(float(covered[t].mean()), 4)}
    worst = min(per.items(), key=lambda kv: kv[1]["coverage"]) if per else (None, None)
    return {"level": level, "n": int(y.size), "coverage": round(float(covered.mean()), 4),
            "lowest_cohort": {"cohort": worst[0], **(worst[1] or {})}, "per_cohort": per}


__all__ = ["poisson_log_halfwidths", "mapping_halfwidths", "interval", "holdout_coverage"]
