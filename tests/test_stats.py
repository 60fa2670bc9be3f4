"""Exact TMB statistics against published values and pure-Python reference computations."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmbcalc.tmb.statistics import cut_label, garwood_interval, prob_rate_at_least, status


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu), summed in log space (pure Python)."""
    if mu == 0:
        return 1.0
    return sum(math.exp(i * math.log(mu) - mu - math.lgamma(i + 1)) for i in range(k + 1))


def _bisect(f, lo: float, hi: float) -> float:
    for _ in range(200):
        mid = (lo + hi) / 2
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _garwood_reference(k: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact limits by definition: P(X >= k | L) = alpha/2 and P(X <= k | U) = alpha/2."""
    upper = _bisect(lambda mu: _poisson_cdf(k, mu) - alpha / 2, 0.0, 10 * k + 50)
    lower = 0.0 if k == 0 else _bisect(lambda mu: alpha / 2 - (1 - _poisson_cdf(k - 1, mu)), 0.0, 10 * k + 50)
    return lower, upper


def test_published_values():
    # Garwood / standard Poisson tables: k=0 -> (0, 3.689); k=10 -> (4.795, 18.39)
    low, high = garwood_interval([0, 10], 1.0)
    assert low[0] == 0.0 and high[0] == pytest.approx(3.689, abs=5e-4)
    assert low[1] == pytest.approx(4.795, abs=5e-4) and high[1] == pytest.approx(18.39, abs=5e-3)


def test_per_mb_scaling():
    # 10 mutations in 0.8 Mb: the Poisson-mean limits divided by 0.8
    low, high = garwood_interval(10, 0.8)
    assert float(low) == pytest.approx(4.795 / 0.8, abs=1e-3)
    assert float(high) == pytest.approx(18.39 / 0.8, abs=1e-2)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=300))
def test_garwood_matches_definition(k):
    ref_low, ref_high = _garwood_reference(k)
    low, high = garwood_interval(k, 1.0)
    assert float(low) == pytest.approx(ref_low, rel=1e-6, abs=1e-9)
    assert float(high) == pytest.approx(ref_high, rel=1e-6)


def _jeffreys_tail_reference(k: int, mb: float, cut: float, steps: int = 20000) -> float:
    """P(lambda >= cut) with posterior density ~ lambda^(k-1/2) exp(-lambda*mb), by numerical
    integration of x^(k-1/2) e^-x (x = lambda*mb) with the substitution x = t^2 (smooth at 0)."""
    def dens(t: float) -> float:  # density in t where x = t^2: 2 t * x^(k-1/2) e^-x = 2 t^(2k) e^(-t^2)
        return 2.0 * math.exp(2 * k * math.log(t) - t * t) if t > 0 else (2.0 if k == 0 else 0.0)
    top = math.sqrt(k + 60 + 12 * math.sqrt(k + 1))
    tc = math.sqrt(cut * mb)

    def simpson(a: float, b: float) -> float:
        if b <= a:
            return 0.0
        h = (b - a) / steps
        s = dens(a) + dens(b) + sum((4 if i % 2 else 2) * dens(a + i * h) for i in range(1, steps))
        return s * h / 3
    total = simpson(0.0, top)
    return simpson(min(tc, top), top) / total


@pytest.mark.parametrize("k,mb,cut", [(0, 1.0, 1.0), (3, 1.2, 2.0), (10, 1.0, 10.0), (12, 0.8, 10.0),
                                      (40, 1.1, 30.0)])
def test_cut_probability_jeffreys(k, mb, cut):
    assert float(prob_rate_at_least(k, mb, cut)) == pytest.approx(_jeffreys_tail_reference(k, mb, cut), abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 200), st.floats(0.1, 50.0), st.floats(0.2, 3.0))
def test_cut_probability_monotone(k, cut, mb):
    p = float(prob_rate_at_least(k, mb, cut))
    assert 0.0 <= p <= 1.0
    assert float(prob_rate_at_least(k + 1, mb, cut)) >= p - 1e-12      # more mutations -> more likely high
    assert float(prob_rate_at_least(k, mb, cut * 1.1)) <= p + 1e-12    # higher cut -> less likely


def test_status_and_labels():
    assert status(10.5, 20.0, 10) == "high"
    assert status(10.0, 20.0, 10) == "high"      # lower bound at the cut counts as high
    assert status(3.0, 9.99, 10) == "low"
    assert status(8.0, 12.0, 10) == "equivocal"
    assert cut_label(10.0) == "10" and cut_label(7.5) == "7.5"


def test_same_as_scipy_stats_chi2_formula():
    # the formula of the issue: lower = chi2.ppf(a/2, 2k)/2, upper = chi2.ppf(1-a/2, 2k+2)/2
    import numpy as np
    from scipy.stats import chi2

    k = np.arange(1, 500)
    low, high = garwood_interval(k, 1.0)
    assert np.allclose(low, chi2.ppf(0.025, 2 * k) / 2, rtol=1e-10)
    assert np.allclose(high, chi2.ppf(0.975, 2 * k + 2) / 2, rtol=1e-10)
