"""Deming regression (errors in both variables), closed form.

Model: observed ``x = X + e_x``, ``y = Y + e_y`` with ``Y = intercept + slope * X`` and independent
errors of variances ``s2_x``, ``s2_y``.  ``delta`` is the error-variance ratio
``s2_y / s2_x`` (Deming 1943; Linnet 1993 Clin Chem 39:424).  ``delta = 1`` is orthogonal (total
least squares) regression; ``delta -> inf`` tends to ordinary least squares of y on x and
``delta -> 0`` to the inverse of the regression of x on y.

With sample moments ``sxx = sum (x - mean x)^2``, ``syy`` and ``sxy`` the maximum-likelihood slope is::

    slope = (syy - delta*sxx + sqrt((syy - delta*sxx)^2 + 4*delta*sxy^2)) / (2*sxy)
    intercept = mean(y) - slope * mean(x)

In tmbcalc the default ratio for panel (x) vs exome (y) TMB is the Poisson one: at the same
true TMB ``t`` the counting variances are ``t/L_panel`` and ``t/L_exome``, so
``delta = L_panel / L_exome`` (footprints in Mb).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DemingResult:
    slope: float
    intercept: float
    delta: float
    n: int


def deming_moments(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float, float]:
    """(mean x, mean y, sxx, syy, sxy) of paired samples."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    mx, my = float(x.mean()), float(y.mean())
    dx, dy = x - mx, y - my
    return mx, my, float(dx @ dx), float(dy @ dy), float(dx @ dy)


def deming_slope(sxx, syy, sxy, delta: float):
    """Closed-form Deming slope from centred sums (scalars or numpy arrays of bootstrap sums)."""
    sxx, syy, sxy = np.asarray(sxx, float), np.asarray(syy, float), np.asarray(sxy, float)
    d = syy - delta * sxx
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (d + np.sqrt(d * d + 4.0 * delta * sxy * sxy)) / (2.0 * sxy)
    return slope


def deming_fit(x: np.ndarray, y: np.ndarray, delta: float = 1.0) -> DemingResult:
    """Fit ``y = intercept + slope * x`` by Deming regression with error-variance ratio ``delta``.

    Raises ValueError when there are fewer than 2 points, x or y is constant, or x and y are
    uncorrelated (the slope is undefined).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-d arrays of equal length")
    if x.size < 2:
        raise ValueError("Deming regression needs at least 2 points")
    if not (delta > 0 and np.isfinite(delta)):
        raise ValueError(f"error-variance ratio delta must be > 0, got {delta!r}")
    mx, my, sxx, syy, sxy = deming_moments(x, y)
    if sxy == 0.0:
        raise ValueError("x and y are uncorrelated (or constant): Deming slope undefined")
    slope = float(deming_slope(sxx, syy, sxy, delta))
    return DemingResult(slope=slope, intercept=my - slope * mx, delta=float(delta), n=int(x.size))


__all__ = ["DemingResult", "deming_fit", "deming_slope", "deming_moments"]
