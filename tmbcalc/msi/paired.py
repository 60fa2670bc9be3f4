"""Paired (tumor + matched normal) MSI scorer: contraction beyond the normal's stutter.

Conventions: histograms are rows of read counts over repeat lengths in bp on the common grid of
:mod:`tmbcalc.msi.profile` (column ``W`` = reference length); shares are fractions 0..1.

Per locus (evaluable: >= ``min_coverage`` measured fragments in tumor and normal):

* **germline alleles** = the normal's *core* lengths (>= ``core_fraction`` of its reads, plus
  its mode).  The normal's whole length distribution is the locus' stutter model: the tumor's
  stable cells are expected to show the same distribution.
* **contraction share** s = share of reads at lengths at least ``min_shift_units`` units shorter
  than the shortest germline allele (MSI in mononucleotide and most dinucleotide repeats is
  dominated by deletions).  The normal's contraction share q0 is the stutter expectation; a
  tumor library with stronger slippage scales it by the *expansion-stutter* ratio R (tumor /
  normal share of reads exactly +1 unit above the longest germline allele, pooled over loci):
  q = min(1, q0 * max(1, R_low)^2), R_low the lower 95% bound of R (2-unit stutter grows with
  the square of slippage; the +1 bin is used because MSI shifts rarely land there, so R does not
  absorb the signal it is meant to protect).
* per-locus **one-sided test** that s exceeds q: z = (x - n q) / sqrt(n q (1-q) + n^2 infl^2
  q0 (1-q0) / n_normal) (tumor binomial + normal sampling), normal upper tail, and - because that
  approximation is anti-conservative at a few reads - at least the one-sided Fisher exact p of
  the contraction counts; BH q-values; *unstable* when q-value < ``alpha`` and s - q >=
  ``min_excess``.
* **expansions** (lengths >= ``min_shift_units`` units above the longest germline allele) are
  tested the same way and reported (``expansion_p``) but never drive the call: with matched
  stutter they are rare in MSI, and one-sided contraction keeps a swapped pair from looking MSI.

Sample level (the call), over all evaluable loci: X = tumor contraction reads, E = sum n q,
V = sum of the per-locus variances; Z = (X - E) / sqrt(V), one-sided p.  The **unstable read
fraction** w (share of tumor reads carrying a contraction beyond stutter; mixture model
tumor = (1-w) normal + w contracted) is estimated as (X - E) / (sum n - E) with a Wald 95%
interval.  **Pair check**: the same statistic with tumor and normal exchanged; a normal
significantly more contracted than its tumor flags a swapped pair or a normal contaminated with
tumor.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .statistics import bh_qvalues, chisq_pooled, core_mask, fisher_greater, norm_sf, total_variation

DEFAULT_CORE_FRACTION = 0.2
DEFAULT_MIN_EXCESS = 0.02
Z95 = 1.959963984540054


def shift_masks(core: np.ndarray, unit_len: np.ndarray, min_shift_units: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(contraction, expansion, plus-one) column masks per row.

    contraction: columns <= shortest core column - ``min_shift_units`` units; expansion: >=
    longest core + ``min_shift_units`` units; plus-one: exactly longest core + 1 unit.  Rows
    without a core get empty masks.
    """
    n, w = core.shape
    cols = np.arange(w)[None, :]
    has = core.any(axis=1)
    lo = np.where(has, core.argmax(axis=1), 0)[:, None]
    hi = np.where(has, w - 1 - core[:, ::-1].argmax(axis=1), 0)[:, None]
    step = (np.asarray(unit_len, dtype=np.int64) * min_shift_units)[:, None]
    u = np.asarray(unit_len, dtype=np.int64)[:, None]
    h = has[:, None]
    return (cols <= lo - step) & h, (cols >= hi + step) & h, (cols == hi + u) & h


def stutter_ratio(plus_t: np.ndarray, n_t: np.ndarray, plus_n: np.ndarray, n_n: np.ndarray
                  ) -> tuple[float, float, float]:
    """Pooled ratio R of +1-unit stutter shares (tumor / normal) with the lower 95% bound
    (log-scale Wald); and the inflation max(1, R_low)^2 applied to 2-unit contraction stutter.
    Returns (R, R_low, inflation); (1, 1, 1) without stutter reads."""
    a, b, c, d = (float(np.sum(v)) for v in (plus_t, n_t, plus_n, n_n))
    if a <= 0 or c <= 0 or b <= 0 or d <= 0:
        return 1.0, 1.0, 1.0
    r = (a / b) / (c / d)
    se = math.sqrt(max(0.0, 1 / a - 1 / b + 1 / c - 1 / d))
    low = r * math.exp(-Z95 * se)
    return r, low, min(max(1.0, low) ** 2, 25.0)


def _locus_z(x: np.ndarray, n: np.ndarray, q0: np.ndarray, nn: np.ndarray, infl: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected share q, variance of x and z of x vs n q (see module docstring)."""
    q = np.minimum(1.0, q0 * infl)
    var = n * q * (1 - q) + n ** 2 * infl ** 2 * q0 * (1 - q0) / np.maximum(nn, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (x - n * q) / np.sqrt(np.where(var > 0, var, 1)),
                     np.where(x > n * q, np.inf, 0.0))
    return q, var, z


def pooled(x: np.ndarray, n: np.ndarray, q: np.ndarray, var: np.ndarray) -> dict[str, Any]:
    """Sample-level one-sided test and unstable read fraction over loci (see module docstring)."""
    x, n, q, var = (np.asarray(a, dtype=float) for a in (x, n, q, var))
    N, E, V, X = float(n.sum()), float((n * q).sum()), float(var.sum()), float(x.sum())
    if N == 0:
        return {"z": None, "p": None, "fraction": None, "ci95": [None, None], "reads": 0}
    denom = max(N - E, 1.0)
    w = (X - E) / denom
    se = math.sqrt(V) / denom if V > 0 else 0.0
    z = (X - E) / math.sqrt(V) if V > 0 else (math.inf if X > E else 0.0)
    return {"z": z, "p": float(norm_sf(z)), "fraction": w, "ci95": [w - Z95 * se, w + Z95 * se],
            "se": se, "reads": int(N), "observed": X, "expected": E}


def score_paired(tumor: np.ndarray, normal: np.ndarray, unit_len: np.ndarray, *, min_coverage: int,
                 alpha: float, min_excess: float = DEFAULT_MIN_EXCESS,
                 core_fraction: float = DEFAULT_CORE_FRACTION, min_shift_units: int = 2) -> dict[str, Any]:
    """Per-locus columns and sample-level statistics of the paired scorer.

    Returns {"loci": {column: array}, "evaluable": bool array, "unstable": bool array,
    "sample": pooled(...) dict, "pair_check": pooled(...) of the exchanged pair,
    "stutter": {...}}.
    """
    tumor = np.asarray(tumor, dtype=np.int64)
    normal = np.asarray(normal, dtype=np.int64)
    nt, nn = tumor.sum(axis=1), normal.sum(axis=1)
    ev = (nt >= min_coverage) & (nn >= min_coverage)
    con, exp_, plus = shift_masks(core_mask(normal, core_fraction), unit_len, min_shift_units)
    xt, xn = (tumor * con).sum(axis=1), (normal * con).sum(axis=1)
    et, en = (tumor * exp_).sum(axis=1), (normal * exp_).sum(axis=1)
    r, r_low, infl = stutter_ratio((tumor * plus).sum(axis=1)[ev], nt[ev], (normal * plus).sum(axis=1)[ev], nn[ev])
    with np.errstate(invalid="ignore", divide="ignore"):
        st = np.where(nt > 0, xt / np.maximum(nt, 1), np.nan)
        sn = np.where(nn > 0, xn / np.maximum(nn, 1), np.nan)
        en_share = np.where(nn > 0, en / np.maximum(nn, 1), 0.0)
    q, var, z = _locus_z(xt, nt, np.nan_to_num(sn), nn, infl)
    fisher = np.full(len(nt), np.nan)
    fisher[ev] = fisher_greater(xt[ev], nt[ev], xn[ev], nn[ev])
    # the normal approximation is anti-conservative at a few reads: the locus p is the larger of
    # it and the exact (uninflated) Fisher p
    p = np.where(ev, np.maximum(norm_sf(np.where(ev, z, 0.0)), np.nan_to_num(fisher, nan=1.0)), np.nan)
    qv = bh_qvalues(p)
    unstable = ev & (qv < alpha) & ((st - q) >= min_excess)
    _, _, ze = _locus_z(et, nt, en_share, nn, infl)
    exp_p = np.where(ev, norm_sf(np.where(ev, ze, 0.0)), np.nan)
    # pair check: the normal scored against the tumor's distribution (tumor's core alleles)
    con_t, _, _ = shift_masks(core_mask(tumor, core_fraction), unit_len, min_shift_units)
    xn_s, xt_s = (normal * con_t).sum(axis=1), (tumor * con_t).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        st_s = np.where(nt > 0, xt_s / np.maximum(nt, 1), 0.0)
    qs, vs, _ = _locus_z(xn_s, nn, st_s, nt, 1.0)
    chisq = np.full(len(nt), np.nan)
    for i in np.nonzero(ev)[0]:
        chisq[i] = chisq_pooled(tumor[i], normal[i])[2]
    cols = {"tumor_contraction_fraction": st, "normal_contraction_fraction": sn,
            "expected_contraction_fraction": np.where(ev | (nn > 0), q, np.nan), "statistic": np.where(ev, z, np.nan),
            "expansion_p": exp_p, "fisher_p": fisher, "chisq_p": chisq,
            "mantis_difference": total_variation(tumor, normal), "p_value": p, "q_value": qv}
    return {"loci": cols, "evaluable": ev, "unstable": unstable,
            "sample": pooled(xt[ev], nt[ev], q[ev], var[ev]),
            "pair_check": pooled(xn_s[ev], nn[ev], qs[ev], vs[ev]),
            "stutter": {"ratio": r, "ratio_low95": r_low, "inflation": infl}}
