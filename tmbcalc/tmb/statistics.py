"""Exact statistics for a TMB count: Garwood interval, cut-point probability, status.

Model: the number of eligible mutations ``k`` in a footprint of ``mb`` megabases is a Poisson
count with mean ``lambda * mb``, ``lambda`` being the true TMB (mutations per Mb).

* Confidence interval: the exact (Garwood 1936) central interval for a Poisson mean,
  ``lower = chi2.ppf(alpha/2, 2k) / 2`` (0 when k = 0) and ``upper = chi2.ppf(1 - alpha/2, 2k + 2) / 2``,
  divided by ``mb`` (Garwood F. Fiducial limits for the Poisson distribution. Biometrika
  1936;28:437-442).  Computed with the identity ``chi2.ppf(q, 2a) / 2 = gammaincinv(a, q)``
  (:mod:`tmbcalc.tmb.incgamma`, a pure-Python implementation of the scipy.special functions, agreeing
  with them to ~1e-12 relative; importing scipy.special alone costs ~0.7 s at start-up).
* Cut-point probability: the posterior probability that ``lambda >= cut`` under the Jeffreys
  prior ``p(lambda) ~ lambda^(-1/2)``, for which ``lambda * mb | k ~ Gamma(k + 1/2, 1)``, so
  ``P(lambda >= cut | k) = Q(k + 1/2, cut * mb)`` (regularised upper incomplete gamma).  The
  Jeffreys interval for a Poisson rate is discussed by Brown, Cai & DasGupta, Ann Stat
  2003;31:160-201.
* Status per cut point (from the exact interval): ``high`` when the lower 95% bound is >= cut,
  ``low`` when the upper bound is < cut, otherwise ``equivocal``.
"""
from __future__ import annotations

import numpy as np
from . import incgamma as special   # pure Python: the CLI need not import scipy (~0.7 s)


def garwood_interval(k: np.ndarray | int, mb: float, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact two-sided (1 - alpha) interval for the rate (per Mb) given count(s) ``k``."""
    if mb <= 0:
        raise ValueError("footprint must be > 0 Mb")
    k = np.asarray(k, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, special.gammaincinv(np.maximum(k, 1e-300), alpha / 2), 0.0)
    high = special.gammaincinv(k + 1, 1 - alpha / 2)
    return low / mb, high / mb


def prob_rate_at_least(k: np.ndarray | int, mb: float, cut: float) -> np.ndarray:
    """P(true TMB >= cut | k mutations in mb Mb) under the Jeffreys prior (see module doc)."""
    k = np.asarray(k, dtype=np.float64)
    if cut <= 0:
        return np.ones_like(k)
    return special.gammaincc(k + 0.5, cut * mb)


def status(low: float, high: float, cut: float) -> str:
    """'high' if the interval lies at/above cut, 'low' if wholly below, else 'equivocal'."""
    if low >= cut:
        return "high"
    if high < cut:
        return "low"
    return "equivocal"


def cut_label(cut: float) -> str:
    """JSON/TSV key of a cut point: ``10`` for 10.0, ``7.5`` for 7.5."""
    return f"{cut:g}"


__all__ = ["garwood_interval", "prob_rate_at_least", "status", "cut_label"]
