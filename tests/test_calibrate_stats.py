"""Calibration statistics against hand-worked values and independent implementations
(scipy.odr for Deming, scipy.stats.poisson for sampling probabilities, sklearn's kappa,
numpy.polyfit for the bootstrap)."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmbcalc.calibrate import mappings
from tmbcalc.calibrate.agreement_stats import agreement, agreement_from_counts, rmse_log
from tmbcalc.calibrate.deming import deming_fit
from tmbcalc.calibrate.fit import FitOptions, calibrate_fit
from tmbcalc.calibrate.models import load_model
from tmbcalc.calibrate.uncertainty import equivocal_zone, min_count, prob_high
from tmbcalc.errors import InputError, UsageError


# -- Deming -----------------------------------------------------------------------------------------
def test_deming_hand_worked_example():
    # x = 1,2,3,4  y = 2,3,5,6: means 2.5, 4; sxx = 5, syy = 10, sxy = 7.
    # delta = 1: slope = (10 - 5 + sqrt(5^2 + 4*7^2)) / (2*7) = (5 + sqrt(221)) / 14
    r = deming_fit(np.array([1, 2, 3, 4.0]), np.array([2, 3, 5, 6.0]), delta=1.0)
    slope = (5 + math.sqrt(221)) / 14
    assert r.slope == pytest.approx(slope, rel=1e-12)
    assert r.intercept == pytest.approx(4 - 2.5 * slope, rel=1e-12)
    # delta = 4: d = 10 - 20 = -10; slope = (-10 + sqrt(100 + 16*49)) / 14 = (-10 + sqrt(884)) / 14
    r4 = deming_fit(np.array([1, 2, 3, 4.0]), np.array([2, 3, 5, 6.0]), delta=4.0)
    assert r4.slope == pytest.approx((-10 + math.sqrt(884)) / 14, rel=1e-12)


def test_deming_exact_line_and_errors():
    x = np.array([0.0, 1, 2, 3])
    r = deming_fit(x, 3 * x + 1, delta=0.3)
    assert r.slope == pytest.approx(3.0) and r.intercept == pytest.approx(1.0)
    with pytest.raises(ValueError):
        deming_fit(np.array([1.0]), np.array([2.0]))
    with pytest.raises(ValueError):
        deming_fit(np.array([1.0, 1, 1]), np.array([1.0, 2, 3]))


@pytest.mark.parametrize("delta", [0.02, 0.5, 1.0, 3.0])
def test_deming_matches_scipy_odr(delta):
    odr = pytest.importorskip("scipy.odr")
    rng = np.random.default_rng(7)
    t = rng.uniform(0, 20, 200)
    x = t + rng.normal(0, 1.0, t.size)
    y = 0.8 * t + 0.5 + rng.normal(0, math.sqrt(delta), t.size)
    r = deming_fit(x, y, delta)
    # ODRPACK: weighted orthogonal distance regression with sd_x = 1, sd_y = sqrt(delta)
    data = odr.RealData(x, y, sx=np.ones_like(x), sy=np.full_like(y, math.sqrt(delta)))
    out = odr.ODR(data, odr.unilinear, beta0=[1.0, 0.0], sstol=1e-15, partol=1e-15, maxit=1000).run()
    assert r.slope == pytest.approx(out.beta[0], rel=1e-6)
    assert r.intercept == pytest.approx(out.beta[1], rel=1e-5, abs=1e-8)


def test_deming_limits_are_the_two_ols_lines():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, 300)
    y = 0.7 * x + rng.normal(0, 1, 300)
    ols_yx = np.polyfit(x, y, 1)[0]
    ols_xy = np.polyfit(y, x, 1)[0]
    assert deming_fit(x, y, 1e9).slope == pytest.approx(ols_yx, rel=1e-6)
    assert deming_fit(x, y, 1e-9).slope == pytest.approx(1 / ols_xy, rel=1e-6)


# -- agreement ---------------------------------------------------------------------------------------
def test_agreement_hand_computed_2x2():
    # tp 20, fp 5, fn 10, tn 65 (n 100): PPA 20/30, NPA 65/70, OPA 85/100,
    # pe = (25*30 + 75*70)/100^2 = 0.6, kappa = (0.85 - 0.6)/(1 - 0.6) = 0.625
    a = agreement_from_counts(20, 5, 10, 65)
    assert a.ppa == pytest.approx(2 / 3) and a.npa == pytest.approx(65 / 70)
    assert a.opa == pytest.approx(0.85) and a.kappa == pytest.approx(0.625)
    ref = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 65, bool)
    pan = np.array([1] * 20 + [1] * 5 + [0] * 10 + [0] * 65, bool)
    b = agreement(ref, pan)
    assert (b.tp, b.fp, b.fn, b.tn) == (20, 5, 10, 65)
    from sklearn.metrics import cohen_kappa_score

    assert b.kappa == pytest.approx(cohen_kappa_score(ref, pan))


def test_agreement_degenerate_is_null_not_nan():
    a = agreement_from_counts(0, 0, 0, 10)
    assert a.ppa is None and a.npa == 1.0 and a.kappa is None
    json.dumps(a.to_dict(), allow_nan=False)


def test_rmse_log_by_hand():
    assert rmse_log(np.array([0.0, math.e - 1]), np.array([0.0, 0.0])) == pytest.approx(math.sqrt(0.5))


# -- Poisson sampling ---------------------------------------------------------------------------------
def test_min_count_rounding():
    assert min_count(10, 0.8) == 8            # 10 * 0.8 = 8.000000000000002 in floating point
    assert min_count(10, 1.33) == 14          # 13.3 -> 14
    assert min_count(10, 1.0) == 10


@pytest.mark.parametrize("mb,cut", [(0.8, 10), (1.14, 10), (1.33, 10), (33.0, 10), (0.8, 16), (1.0, 20)])
def test_prob_high_matches_scipy_poisson(mb, cut):
    from scipy.stats import poisson

    k = math.ceil(round(cut * mb, 9))
    for t in (0.5, 5.0, 9.0, 10.0, 12.0, 30.0):
        assert prob_high(t, mb, cut) == pytest.approx(poisson.sf(k - 1, t * mb), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("mb", [0.8, 1.14, 1.33, 33.0])
def test_equivocal_zone_bounds(mb):
    from scipy.stats import poisson

    z = equivocal_zone(mb, 10.0, 0.05)
    k = z.k_min
    assert poisson.sf(k - 1, z.low * mb) == pytest.approx(0.025, abs=1e-9)
    assert poisson.sf(k - 1, z.high * mb) == pytest.approx(0.975, abs=1e-9)
    assert z.low < 10 < z.high


def test_equivocal_zone_narrows_with_footprint():
    widths = [equivocal_zone(mb, 10).width for mb in (0.5, 0.8, 1.2, 5, 33)]
    assert widths == sorted(widths, reverse=True)


# -- mappings -----------------------------------------------------------------------------------------
def _synthetic(seed=0, cohorts=6, per=150, slope=0.75):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(cohorts):
        t = np.exp(rng.normal(0.8 + 0.2 * c, 1.1, per))
        kp = rng.poisson(t / slope * 1.2)
        kr = rng.poisson(t * 35)
        for i in range(per):
            rows.append((f"s{c}_{i}", f"C{c}", "ref", "wes", kr[i], 35.0, kr[i] / 35))
            rows.append((f"s{c}_{i}", f"C{c}", "p1", "x", kp[i], 1.2, kp[i] / 1.2))
    return pd.DataFrame(rows, columns=["sample", "cohort", "panel", "profile", "count", "mb", "tmb"])


@pytest.mark.parametrize("method", mappings.METHODS)
def test_inverse_inverts_predict(method):
    df = _synthetic()
    x = df[df.panel == "p1"].tmb.to_numpy()
    y = df[df.panel == "ref"].tmb.to_numpy()
    p = mappings.fit(method, x, y, delta=1.2 / 35)
    for c in (2.0, 5.0, 10.0):
        xc = mappings.inverse(method, p, c)
        assert mappings.predict(method, p, np.array([xc]))[0] == pytest.approx(c, rel=1e-6)


def test_isotonic_inverse_hand_example():
    p = {"x": [0.0, 2.0, 4.0], "y": [1.0, 5.0, 9.0]}
    assert mappings.inverse("isotonic", p, 7.0) == pytest.approx(3.0)
    assert mappings.inverse("isotonic", p, 0.5) == 0.0
    assert math.isnan(mappings.inverse("isotonic", p, 10.0))
    assert list(mappings.predict("isotonic", p, np.array([1.0, 9.0]))) == [3.0, 9.0]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.floats(0.3, 3.0), st.floats(0.5, 2.0), st.floats(0.3, 2.0),
       st.sampled_from([5.0, 10.0, 15.0, 16.0, 20.0]), st.sampled_from(["anchored-log", "anchored-log2"]))
def test_anchored_calls_are_exactly_panel_at_or_above_the_anchor(k, mb, s_lo, s_hi, cut, method):
    """Panel values are counts / Mb; the anchor is one of them.  Whatever the slopes, a tumour is
    called high (calibrated >= cut) exactly when its panel value is >= the anchor, including the
    tumours exactly at it (expm1(log1p(15)) = 14.999999999999998 must not call them low)."""
    t = k / mb
    p = {"slope": s_lo, "slope_high": s_hi, "cut": cut, "panel_cut": t, "intercept": 0.0}
    x = np.arange(0, 3 * k + 3) / mb
    y = mappings.predict(method, p, x)
    assert np.array_equal(y >= cut, x >= t)
    assert mappings.inverse(method, p, cut) == t
    assert np.all(np.diff(y) >= 0)


# -- fitting --------------------------------------------------------------------------------------------
def _strip_time(d):
    d = dict(d)
    d.pop("created_utc", None)
    return d


def test_fit_deterministic_under_seed():
    df = _synthetic()
    prov = {"reference": {"name": "ref"}}
    a = calibrate_fit(df, prov, options=FitOptions(bootstrap=60, seed=5))
    b = calibrate_fit(df, prov, options=FitOptions(bootstrap=60, seed=5))
    c = calibrate_fit(df, prov, options=FitOptions(bootstrap=60, seed=6))
    assert [_strip_time(m.data) for m in a.models] == [_strip_time(m.data) for m in b.models]
    assert [_strip_time(m.data) for m in a.models] != [_strip_time(m.data) for m in c.models]
    assert sum(m.data["recommended"] for m in a.models) == 1
    for m in a.models:
        json.loads(m.to_json())  # strict JSON (allow_nan=False in to_json)


def test_cut_ci_equals_percentile_bootstrap_of_the_cut():
    """CI of the translated cut = percentiles of bootstrap inverses computed here with numpy.polyfit
    on the same resamples (to the 6 significant digits the parameters are stored with; before v4
    the CI was read off the gridded band and agreed only to ~1%)."""
    df = _synthetic(seed=2)
    res = calibrate_fit(df, {"reference": {"name": "ref"}},
                        options=FitOptions(methods=("ols",), bootstrap=400, seed=11, band_points=400,
                                           holdout="none"))
    m = res.models[0]
    t = m.data["cut_translations"]["10"]
    from tmbcalc.calibrate.table import paired

    pr = paired(df, "p1", "ref")
    x, y = pr["x"].to_numpy(), pr["y"].to_numpy()
    rng = np.random.default_rng(11)
    cuts = []
    for _ in range(400):
        idx = rng.integers(0, x.size, x.size)
        b, a = np.polyfit(x[idx], y[idx], 1)
        cuts.append((10 - a) / b)
    lo, hi = np.quantile(cuts, [0.025, 0.975])
    assert t["ci_low"] == pytest.approx(lo, rel=1e-4)
    assert t["ci_high"] == pytest.approx(hi, rel=1e-4)
    assert t["ci_method"] == "percentiles of the bootstrap resamples' panel cuts"
    b, a = np.polyfit(x, y, 1)
    assert t["panel_cut"] == pytest.approx((10 - a) / b, rel=1e-5)  # stored to 6 significant digits


def test_holdout_is_leave_one_cohort_out():
    """Out-of-fold RMSE recomputed here with numpy.polyfit per held-out cohort."""
    df = _synthetic(seed=4)
    m = calibrate_fit(df, {"reference": {"name": "ref"}},
                      options=FitOptions(methods=("ols",), bootstrap=0)).models[0]
    from tmbcalc.calibrate.table import paired

    pr = paired(df, "p1", "ref")
    preds = np.empty(len(pr))
    for c in pr.cohort.unique():
        te = (pr.cohort == c).to_numpy()
        b, a = np.polyfit(pr.x[~te], pr.y[~te], 1)
        preds[te] = np.maximum(a + b * pr.x[te], 0)
    expect = np.sqrt(np.mean((np.log1p(preds) - np.log1p(pr.y)) ** 2))
    raw = np.sqrt(np.mean((np.log1p(pr.x) - np.log1p(pr.y)) ** 2))
    v = m.data["validation"]
    assert v["rmse_log_calibrated"] == pytest.approx(expect, rel=1e-5)
    assert v["rmse_log_raw"] == pytest.approx(raw, rel=1e-5)
    assert v["n_cohorts"] == 6


def test_model_roundtrip_and_bad_files(tmp_path):
    df = _synthetic()
    m = calibrate_fit(df, {"reference": {"name": "ref"}},
                      options=FitOptions(methods=("deming",), bootstrap=30)).models[0]
    p = tmp_path / f"{m.id}.json"
    p.write_text(m.to_json())
    back = load_model(p)
    xs = np.array([0.0, 3.0, 12.0, 80.0])
    assert np.allclose(back.predict(xs), m.predict(xs))
    assert m.data["parameters"]["delta"] == pytest.approx(1.2 / 35)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_model(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something"}))
    with pytest.raises(InputError, match="not a tmbcalc calibration model"):
        load_model(other)
    with pytest.raises(UsageError, match="unknown calibration model"):
        load_model("no-such-model__to__x__ols__v1")


@settings(max_examples=40, deadline=None)
@given(st.floats(0.1, 50), st.floats(0.2, 40), st.floats(0.01, 0.3))
def test_zone_contains_cut_and_is_ordered(mb, cut, alpha):
    z = equivocal_zone(mb, cut, alpha)
    assert 0 <= z.low <= z.high
    assert z.k_min >= cut * mb - 1e-6


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=2, max_size=30), st.floats(0.01, 150))
def test_first_crossing_inverts_a_monotone_curve(ys, c):
    from tmbcalc.calibrate.fit import first_crossing

    curve = np.maximum.accumulate(np.asarray(ys, float))
    gx = np.arange(curve.size, dtype=float) * 1.5
    x = first_crossing(gx, curve, c)
    if c > curve[-1]:
        assert math.isnan(x)
    elif c <= curve[0]:
        assert x == gx[0]
    else:
        assert np.interp(x, gx, curve) == pytest.approx(c, rel=1e-9, abs=1e-9)
        assert np.all(curve[gx < x - 1e-12] < c + 1e-9)


@pytest.mark.parametrize("method", mappings.METHODS)
def test_calibrated_curves_are_non_decreasing(method):
    df = _synthetic(seed=9)
    x = df[df.panel == "p1"].tmb.to_numpy()
    y = df[df.panel == "ref"].tmb.to_numpy()
    p = mappings.fit(method, x, y, delta=1.2 / 35)
    grid = np.linspace(0, 200, 2001)
    assert np.all(np.diff(mappings.predict(method, p, grid)) >= -1e-12)
