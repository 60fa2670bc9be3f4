"""Statistics on repeat-length histograms (vectorised over loci; no I/O).

Histograms are rows of counts over repeat lengths (bp) on a common column grid: column ``j``
of locus ``i`` is length ``ref_len[i] - W + j`` (see :mod:`tmbcalc.msi.profile`).
"""
from __future__ import annotations

import math

import numpy as np

# The special functions below use the C library (math.erfc, math.lgamma) rather than
# scipy.special: importing scipy costs ~0.3 s and ~25 MB per command.  tests/test_msi_score.py
# checks them against scipy.
_erfc = np.frompyfunc(math.erfc, 1, 1)
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def norm_sf(z: np.ndarray | float) -> np.ndarray | float:
    """Upper tail of the standard normal distribution, erfc(z / sqrt 2) / 2."""
    a = np.asarray(z, dtype=float)
    out = 0.5 * np.asarray(_erfc(a / math.sqrt(2.0)), dtype=float)
    return float(out) if out.ndim == 0 else out


def chi2_sf(x: float, dof: int) -> float:
    """Upper tail P(X >= x) of the chi-square distribution with an integer ``dof`` >= 1.

    Closed forms with y = x/2: even dof, e^-y sum_{i < dof/2} y^i / i!; odd dof,
    erfc(sqrt y) + e^-y sum_{i=1}^{(dof-1)/2} y^(i-1/2) / Gamma(i + 1/2).  All terms are positive
    (no cancellation); each is evaluated in log space.
    """
    if dof < 1 or dof != int(dof):
        raise ValueError(f"chi2_sf needs an integer dof >= 1, got {dof}")
    if x <= 0:
        return 1.0
    y = x / 2.0
    ly = math.log(y)
    if dof % 2 == 0:
        total = sum(math.exp(-y + i * ly - math.lgamma(i + 1)) for i in range(dof // 2))
    else:
        total = math.erfc(math.sqrt(y)) + sum(math.exp(-y + (i - 0.5) * ly - math.lgamma(i + 0.5))
                                              for i in range(1, (dof - 1) // 2 + 1))
    return min(1.0, total)


def _lnchoose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    return np.asarray(_lgamma(n + 1) - _lgamma(k + 1) - _lgamma(n - k + 1), dtype=float)


def hypergeom_sf(x: int, N: int, K: int, n: int) -> float:
    """P(X >= x) for X ~ Hypergeometric(population N, K successes, n draws)."""
    lo, hi = max(x, 0, n - (N - K)), min(K, n)
    if lo > hi:
        return 0.0 if x > hi else 1.0
    k = np.arange(lo, hi + 1, dtype=float)
    logp = _lnchoose(float(K), k) + _lnchoose(float(N - K), n - k) - _lnchoose(float(N), float(n))
    return float(min(1.0, np.exp(logp).sum()))


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries are ignored and kept NaN.

    q_(i) = min_{k >= i} (m / k) p_(k), capped at 1, with m = number of non-NaN p-values.
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    q[ok] = out
    return q


def core_mask(hist: np.ndarray, core_fraction: float) -> np.ndarray:
    """Columns holding >= ``core_fraction`` of a row's reads (the germline alleles); the modal
    column always counts.  Rows without reads have no core."""
    tot = hist.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(tot > 0, hist / np.maximum(tot, 1), 0.0)
    core = frac >= core_fraction
    mode = hist.argmax(axis=1)
    rows = np.nonzero(tot[:, 0] > 0)[0]
    core[rows, mode[rows]] = True
    core[tot[:, 0] == 0] = False
    return core


def fisher_greater(x_t: np.ndarray, n_t: np.ndarray, x_n: np.ndarray, n_n: np.ndarray) -> np.ndarray:
    """One-sided Fisher exact p that the tumor's share x_t/n_t exceeds the normal's x_n/n_n.

    Equals ``scipy.stats.fisher_exact([[x_t, n_t-x_t], [x_n, n_n-x_n]], 'greater')``: the
    hypergeometric upper tail P(X >= x_t), X ~ Hypergeom(N=n_t+n_n, K=x_t+x_n, draws=n_t).
    """
    x_t, n_t, x_n, n_n = (np.asarray(a, dtype=np.int64).reshape(-1) for a in (x_t, n_t, x_n, n_n))
    return np.array([hypergeom_sf(int(a), int(b + d), int(a + c), int(b))
                     for a, b, c, d in zip(x_t, n_t, x_n, n_n)], dtype=float)


def chisq_pooled(t: np.ndarray, n: np.ndarray, min_expected: float = 5.0) -> tuple[float, int, float]:
    """Pearson chi-square test of homogeneity of two length histograms (2 x k table).

    Columns empty in both samples are dropped; then, walking from shorter to longer lengths,
    adjacent columns are pooled until every pooled column has expected count >= ``min_expected``
    in both rows (a leftover small tail is merged into the last pooled column).  Returns
    (statistic, degrees of freedom, p); p = 1.0 with fewer than 2 pooled columns.
    """
    t = np.asarray(t, dtype=float)
    n = np.asarray(n, dtype=float)
    keep = (t + n) > 0
    t, n = t[keep], n[keep]
    T, N = t.sum(), n.sum()
    if T == 0 or N == 0:
        return 0.0, 0, 1.0
    ft, fn = T / (T + N), N / (T + N)
    groups_t: list[float] = []
    groups_n: list[float] = []
    at = an = 0.0
    for a, b in zip(t, n):
        at += a
        an += b
        if (at + an) * min(ft, fn) >= min_expected:
            groups_t.append(at)
            groups_n.append(an)
            at = an = 0.0
    if at + an > 0:
        if groups_t:
            groups_t[-1] += at
            groups_n[-1] += an
        else:
            groups_t.append(at)
            groups_n.append(an)
    if len(groups_t) < 2:
        return 0.0, 0, 1.0
    obs = np.array([groups_t, groups_n])
    col = obs.sum(axis=0)
    exp = np.outer([T, N], col) / (T + N)
    stat = float(((obs - exp) ** 2 / exp).sum())
    dof = len(groups_t) - 1
    return stat, dof, chi2_sf(stat, dof)


def total_variation(t: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per-row sum |t_j - n_j| / 2 of the normalised histograms (0 = identical, 1 = disjoint);
    NaN where a row has no reads in either sample.  (MANTIS-style stepwise difference.)"""
    t = np.asarray(t, dtype=float)
    n = np.asarray(n, dtype=float)
    st = t.sum(axis=1, keepdims=True)
    sn = n.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.abs(t / st - n / sn).sum(axis=1) / 2
    d[(st[:, 0] == 0) | (sn[:, 0] == 0)] = np.nan
    return d
