"""Sampling uncertainty of a panel TMB call from the footprint size alone (Poisson).

A panel interrogating ``L`` Mb of a tumour whose true TMB is ``t`` mut/Mb observes
``K ~ Poisson(t * L)`` eligible mutations and reports ``K / L``.  It calls TMB-high at cut ``c``
when ``K / L >= c``, i.e. ``K >= k_min = ceil(c * L)``, so::

    P(high | t) = P(K >= k_min) = P(Gamma(k_min, 1) <= t L) = gammainc(k_min, t L)

(regularised lower incomplete gamma; exact, no normal approximation).  This is increasing in
``t``.  The **equivocal zone** of a cut is the range of true TMB over which the call is not
reproducible at level ``alpha``: ``{t : alpha/2 <= P(high | t) <= 1 - alpha/2}``, i.e.
``[t_low, t_high]`` with ``t_low = gammaincinv(k_min, alpha/2) / L`` and
``t_high = gammaincinv(k_min, 1 - alpha/2) / L``.  A tumour whose true TMB lies below ``t_low``
is called low (and above ``t_high`` high) with probability >= 1 - alpha/2.  Counting
(biological/technical) noise beyond Poisson sampling is not included, so the zone is a lower
bound on the real one.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import gammainc, gammaincinv


def min_count(cut: float, mb: float) -> int:
    """Smallest count K with K / mb >= cut (robust to float round-off in cut * mb)."""
    if mb <= 0:
        raise ValueError(f"footprint must be > 0 Mb, got {mb}")
    if cut <= 0:
        return 0
    return max(int(math.ceil(round(cut * mb, 9))), 0)


def prob_high(true_tmb: float | np.ndarray, mb: float, cut: float) -> np.ndarray | float:
    """P(panel of ``mb`` Mb reports TMB >= ``cut``) when the true TMB is ``true_tmb`` mut/Mb."""
    k = min_count(cut, mb)
    mu = np.asarray(true_tmb, float) * mb
    if k == 0:
        out = np.ones_like(mu)
    else:
        out = gammainc(k, mu)
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class EquivocalZone:
    """Equivocal zone of one cut point for one footprint (TMB in mut/Mb, footprint in Mb)."""

    mb: float
    cut: float
    alpha: float
    k_min: int
    low: float             # true TMB where P(high) = alpha/2
    high: float            # true TMB where P(high) = 1 - alpha/2
    p_high_at_cut: float   # P(high) when the true TMB equals the cut

    @property
    def width(self) -> float:
        return self.high - self.low

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["width"] = self.width
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}


def equivocal_zone(mb: float, cut: float, alpha: float = 0.05) -> EquivocalZone:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not (math.isfinite(mb) and mb > 0 and math.isfinite(cut) and cut > 0):
        raise ValueError(f"footprint Mb and cut must be finite and > 0, got {mb}, {cut}")
    k = min_count(cut, mb)
    if k == 0:
        return EquivocalZone(mb, cut, alpha, 0, 0.0, 0.0, 1.0)
    lo = float(gammaincinv(k, alpha / 2)) / mb
    hi = float(gammaincinv(k, 1 - alpha / 2)) / mb
    return EquivocalZone(float(mb), float(cut), float(alpha), k, lo, hi, float(prob_high(cut, mb, cut)))


def equivocal_panel_values(mb: float, cut: float, low: float = 0.10, high: float = 0.90) -> dict[str, Any]:
    """Panel values (mut/Mb, on an ``mb`` Mb footprint) where P(true TMB >= cut | count) lies in [low, high].

    P(true TMB >= cut | k) is the Jeffreys posterior probability ``Q(k + 1/2, cut * mb)`` that
    ``tmbcalc tmb`` reports as ``p_tmb_ge_cut`` (:func:`tmbcalc.tmb.statistics.prob_rate_at_least`); it
    increases with the count k.  Returns the smallest and largest count in the zone, their panel
    values ``k / mb`` (``low``/``high``) and the probabilities there; ``None`` bounds when no count
    falls in the zone (a footprint so large that one mutation moves P across it).
    """
    from ..tmb.statistics import prob_rate_at_least

    if mb <= 0 or cut <= 0:
        raise ValueError("footprint and cut must be > 0")
    top = int(math.ceil(cut * mb * 4 + 50))
    k = np.arange(top + 1)
    p = prob_rate_at_least(k, mb, cut)
    inside = np.flatnonzero((p >= low) & (p <= high))
    if inside.size == 0:
        return {"mb": mb, "cut": cut, "k_low": None, "k_high": None, "low": None, "high": None,
                "probability_range": [low, high]}
    k0, k1 = int(inside[0]), int(inside[-1])
    return {"mb": round(mb, 6), "cut": cut, "k_low": k0, "k_high": k1, "low": round(k0 / mb, 4),
            "high": round(k1 / mb, 4), "p_at_low": round(float(p[k0]), 4), "p_at_high": round(float(p[k1]), 4),
            "probability_range": [low, high]}


__all__ = ["min_count", "prob_high", "EquivocalZone", "equivocal_zone", "equivocal_panel_values"]
