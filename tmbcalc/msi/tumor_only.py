"""Tumor-only MSI scorer: contraction vs per-locus null distributions from baseline normals.

Per locus the statistic is the *contraction share* s: reads at least k units shorter than the
reference length (the baseline's ``direction``; ``both`` counts longer ones too), with k chosen
per locus by the baseline (:func:`tmbcalc.msi.baseline.locus_shift`: the smallest k >= 2, at most
4, at which the normals' mean share is <= 5%, so a stutter-heavy library is tested beyond its
stutter).  The baseline holds, per locus, the mean m0 and SD sd0 of that share over its normals
(the null distribution) and the mean stutter share.  With the stutter inflation f (median over
loci of tumor / baseline share of reads exactly +1 unit above the reference - expansion stutter,
which MSI contractions rarely reach - squared, >= 1; baselines of format v1 lack that column and
use the 1-unit share either side):

* expected share m = min(1, f m0); variance of the tumor's count x = n s at n reads:
  v = n m (1 - m) + n^2 f^2 (tau^2 + sd0^2 / k + 2.5e-5): binomial sampling, the between-person
  variance tau^2 = max(0, sd0^2 - m0 (1 - m0) / reads of the normals) (their SD less their own
  sampling), the uncertainty of the mean of k normals, and a floor (SD 0.005);
* per locus z = (x - n m) / sqrt(v), one-sided p, BH q; unstable when q < alpha and s - m >=
  ``min_excess``;
* sample statistic: pooled as in paired mode (:func:`tmbcalc.msi.paired.pooled`) over the
  evaluable loci except the 15% with the highest z (:func:`untrimmed`: the patient's own germline
  polymorphisms): Z = sum(x - n m) / sqrt(sum v), unstable read fraction w = sum(x - n m) /
  sum(n - n m) with a 95% interval (of the loci used, so an underestimate of the whole);
* calibration: the baseline stores the leave-one-out Z of each of its normals (each normal scored
  against the others).  Z is standardised as Z' = (Z - mean0) / max(1, sd0) of those null values
  before its p-value is taken, so the false-positive rate holds at the level the baseline
  normals show, not only under the model (stored under ``null`` in the baseline parameters).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .paired import Z95, pooled
from .statistics import bh_qvalues, norm_sf

SD_FLOOR2 = 2.5e-5  # variance floor (SD 0.005) of a locus' expected share
TRIM = 0.15  # share of evaluable loci with the highest z left out of the sample statistic


def untrimmed(ev: np.ndarray, z: np.ndarray, trim: float = TRIM) -> np.ndarray:
    """``ev`` without the ceil(trim x evaluable) loci of highest z (ties: the later locus goes).

    A patient's own germline length polymorphisms, absent from the baseline normals, look like
    strong contraction at a minority of loci; MSI moves reads at many loci.  Leaving the top
    ``trim`` share out keeps a germline-rich MSS tumor from reaching significance while an MSI
    tumor keeps most of its signal; the baseline's leave-one-out null uses the same trimming, so
    the calibration absorbs the downward bias this introduces."""
    idx = np.nonzero(ev)[0]
    k = int(math.ceil(trim * idx.size)) if idx.size > 1 else 0
    keep = ev.copy()
    if k:
        order = idx[np.argsort(z[idx], kind="stable")]
        keep[order[idx.size - k:]] = False
    return keep


def stutter_inflation(tumor_adjacent: np.ndarray, baseline_adjacent: np.ndarray) -> tuple[float, float]:
    """Stutter ratio R = median over loci of tumor / baseline adjacent share (loci where the
    baseline share is > 0 and the tumor's is known) and the inflation max(1, R)^2 (capped at 25).

    The median keeps the few loci where this patient carries a 1-unit germline polymorphism
    from inflating R."""
    t = np.asarray(tumor_adjacent, dtype=float)
    b = np.asarray(baseline_adjacent, dtype=float)
    ok = np.isfinite(t) & np.isfinite(b) & (b > 0)
    if not ok.any():
        return 1.0, 1.0
    r = np.sort(t[ok] / b[ok])  # median (np.median would import numpy.ma: ~12 ms per command)
    ratio = float((r[(r.size - 1) // 2] + r[r.size // 2]) / 2)
    return ratio, min(max(1.0, ratio) ** 2, 25.0)


def locus_terms(share: np.ndarray, reads: np.ndarray, mean0: np.ndarray, sd0: np.ndarray, infl: float,
                base_reads: np.ndarray, support: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, expected share m, variance v, z) per locus (see module docstring); NaN-safe.

    The normals' SD sd0 holds their own binomial sampling at ``base_reads`` reads; the
    between-person variance is tau^2 = max(0, sd0^2 - m0 (1-m0) / base_reads), and the mean
    itself is uncertain by sd0^2 / support."""
    n = np.asarray(reads, dtype=float)
    m0 = np.nan_to_num(mean0)
    m = np.minimum(1.0, m0 * infl)
    x = np.nan_to_num(share) * n
    sd2 = np.nan_to_num(sd0) ** 2
    tau2 = np.maximum(0.0, sd2 - m0 * (1 - m0) / np.maximum(np.nan_to_num(base_reads), 1.0))
    v = n * m * (1 - m) + n ** 2 * infl ** 2 * (tau2 + sd2 / np.maximum(support, 1) + SD_FLOOR2)
    z = (x - n * m) / np.sqrt(np.maximum(v, 1e-300))
    return x, m, v, z


def standardise(stat: dict[str, Any], null: dict[str, Any] | None) -> dict[str, Any]:
    """Apply the baseline's null calibration (mean, sd of leave-one-out Z) to a pooled statistic."""
    if not null or stat.get("z") is None or not null.get("n"):
        return {**stat, "z_raw": stat.get("z"), "null": None}
    mu, sd = float(null["z_mean"]), max(1.0, float(null["z_sd"]))  # sd: never narrower than the model
    z = (float(stat["z"]) - mu) / sd
    out = dict(stat)
    out.update({"z_raw": stat["z"], "z": z, "p": float(norm_sf(z)), "null": null})
    if stat.get("se") is not None:  # widen the fraction's interval alike
        se = float(stat["se"]) * sd
        w = float(stat["fraction"])
        out["ci95"] = [w - Z95 * se, w + Z95 * se]
        out["se"] = se
    return out


def score_tumor_only(share: np.ndarray, reads: np.ndarray, ev: np.ndarray, mean0: np.ndarray, sd0: np.ndarray,
                     infl: float, base_reads: np.ndarray, support: np.ndarray, *, alpha: float,
                     min_excess: float, null: dict[str, Any] | None) -> dict[str, Any]:
    """Per-locus columns and the calibrated sample statistic (see module docstring)."""
    x, m, v, z = locus_terms(share, reads, mean0, sd0, infl, base_reads, support)
    p = np.where(ev, norm_sf(np.where(ev, z, 0.0)), np.nan)
    q = bh_qvalues(p)
    unstable = ev & (q < alpha) & ((np.nan_to_num(share) - m) >= min_excess)
    n = np.asarray(reads, dtype=float)
    keep = untrimmed(ev, z)
    test = standardise(pooled(x[keep], n[keep], m[keep], v[keep]), null)
    whole = pooled(x[ev], n[ev], m[ev], v[ev])  # the fraction estimate uses every evaluable locus
    stat = {**test, "fraction": whole["fraction"], "ci95": whole["ci95"], "se": whole["se"],
            "loci_used": int(keep.sum())}
    cols = {"tumor_contraction_fraction": share, "expected_contraction_fraction": np.where(np.isfinite(mean0), m, np.nan),
            "statistic": np.where(ev, z, np.nan), "p_value": p, "q_value": q}
    return {"loci": cols, "evaluable": ev, "unstable": unstable, "sample": stat}


def null_statistics(shares: np.ndarray, reads: np.ndarray, min_coverage: int, min_support: int) -> dict[str, Any]:
    """Leave-one-out sample statistic Z of each baseline normal against the other normals.

    ``shares``/``reads``: (normals, loci).  Loci are used where the normal has >= min_coverage
    reads and the others supply >= max(2, min_support - 1) supporting normals.  Returns
    {"z": [...], "z_mean", "z_sd", "n"}; n = 0 with fewer than 3 usable normals."""
    S = np.asarray(shares, dtype=float)
    R = np.asarray(reads, dtype=float)
    ok = (R >= min_coverage) & np.isfinite(S)
    zs: list[float] = []
    for j in range(S.shape[0]):
        others = ok.copy()
        others[j] = False
        k = others.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            s1 = np.where(others, S, 0).sum(axis=0)
            s2 = np.where(others, S ** 2, 0).sum(axis=0)
            mean = s1 / np.maximum(k, 1)
            sd = np.sqrt(np.maximum(0.0, (s2 - k * mean ** 2) / np.maximum(k - 1, 1)))
            mreads = np.where(others, R, 0).sum(axis=0) / np.maximum(k, 1)
        ev = ok[j] & (k >= max(2, min_support - 1))
        if not ev.any():
            continue
        x, m, v, z = locus_terms(S[j], R[j], mean, sd, 1.0, mreads, k)
        keep = untrimmed(ev, z)
        st = pooled(x[keep], R[j][keep], m[keep], v[keep])
        if st["z"] is not None and math.isfinite(st["z"]):
            zs.append(float(st["z"]))
    if len(zs) < 3:
        return {"z": zs, "z_mean": 0.0, "z_sd": 1.0, "n": 0}
    a = np.array(zs)
    return {"z": [round(z, 6) for z in zs], "z_mean": float(a.mean()), "z_sd": float(a.std(ddof=1)), "n": len(zs)}
