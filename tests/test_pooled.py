"""Tests for equity_metrics.measures.pooled.

References: tests/results/doll_hill_coronary.csv and
tests/results/mantel_haenszel_reference.csv (Stata [R] Epitab `ir` example),
a hand computation in exact rational arithmetic, statsmodels StratifiedTable
(odds ratios) and a Poisson GLM (close, not identical, to the MH estimate).
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy import stats

from equity_metrics.errors import DataValidationError, EstimationError, OptionError
from equity_metrics.measures.intervals import rate_ratio_ci
from equity_metrics.measures.pooled import (
    PooledRatioResult,
    mantel_haenszel_odds_ratio,
    mantel_haenszel_rate_ratio,
)

RESULTS = Path(__file__).parent / "results"
DOLL = pd.read_csv(RESULTS / "doll_hill_coronary.csv", comment="#")
STATA = pd.read_csv(RESULTS / "mantel_haenszel_reference.csv", comment="#")
TIDY = [
    "estimate",
    "ci_low",
    "ci_high",
    "std_error_log",
    "heterogeneity_q",
    "heterogeneity_df",
    "heterogeneity_p",
    "i_squared",
    "n_strata",
]


def _doll(**kw):
    return mantel_haenszel_rate_ratio(
        DOLL.deaths_smokers, DOLL.pyears_smokers, DOLL.deaths_nonsmokers, DOLL.pyears_nonsmokers,
        strata=DOLL.age, alpha=0.10, **kw,
    )


def _stata(quantity, stratum=None):
    sel = STATA[STATA.quantity == quantity]
    if stratum is not None:
        sel = sel[sel.stratum == stratum]
    assert len(sel) == 1, (quantity, stratum)
    return float(sel.value.iloc[0]), float(sel.abs_tolerance.iloc[0]) * 1.0001


# ---------------------------------------------------------------------------
# published example (Stata ir, Doll & Hill British doctors)
# ---------------------------------------------------------------------------
def test_pooled_estimate_and_interval_match_stata():
    res = _doll(heterogeneity="mh_q")
    for q, got in [("mh_irr", res.estimate), ("mh_ci_low", res.ci_low), ("mh_ci_high", res.ci_high)]:
        val, tol = _stata(q)
        assert abs(got - val) <= tol, (q, got, val)


def test_homogeneity_test_matches_stata():
    res = _doll(heterogeneity="mh_q")
    val, tol = _stata("homogeneity_chi2")
    assert abs(res.heterogeneity_q - val) <= tol
    val, tol = _stata("homogeneity_p")
    assert abs(res.heterogeneity_p - val) <= tol
    assert res.heterogeneity_df == 4


def test_stratum_table_matches_stata():
    table = _doll().strata.set_index("stratum")
    for age in DOLL.age:
        for q, col in [("irr", "rate_ratio"), ("exact_ci_low", "ci_low"), ("exact_ci_high", "ci_high"), ("mh_weight", "mh_weight")]:
            val, tol = _stata(q, age)
            assert abs(table.at[age, col] - val) <= tol, (q, age, table.at[age, col], val)


def test_crude_exact_interval_matches_stata():
    res = rate_ratio_ci(
        DOLL.deaths_smokers.sum(), DOLL.pyears_smokers.sum(), DOLL.deaths_nonsmokers.sum(),
        DOLL.pyears_nonsmokers.sum(), method="exact", alpha=0.10,
    )
    for q, got in [("crude_irr", res.ratio), ("crude_exact_ci_low", res.ci_low), ("crude_exact_ci_high", res.ci_high)]:
        val, tol = _stata(q)
        assert abs(got - val) <= tol, (q, got, val)


# ---------------------------------------------------------------------------
# independent computations
# ---------------------------------------------------------------------------
SMALL = {  # a hand-sized example: 3 strata
    "a": [4, 9, 1],
    "n1": [1000, 2500, 400],
    "b": [2, 3, 5],
    "n0": [1500, 1200, 2600],
}


def test_matches_hand_computation_in_exact_arithmetic():
    a, n1, b, n0 = (list(map(Fraction, SMALL[k])) for k in ("a", "n1", "b", "n0"))
    t = [x + y for x, y in zip(n1, n0)]
    r = sum(ai * n0i / ti for ai, n0i, ti in zip(a, n0, t))
    s = sum(bi * n1i / ti for bi, n1i, ti in zip(b, n1, t))
    v = sum((ai + bi) * n1i * n0i / ti**2 for ai, bi, n1i, n0i, ti in zip(a, b, n1, n0, t))
    est = r / s
    var = v / (r * s)
    # r = 4*1500/2500 + 9*1200/3700 + 1*2600/3000 = 12/5 + 108/37 + 13/15
    assert r == Fraction(12, 5) + Fraction(108, 37) + Fraction(13, 15)
    res = mantel_haenszel_rate_ratio(SMALL["a"], SMALL["n1"], SMALL["b"], SMALL["n0"])
    assert_allclose(res.estimate, float(est), rtol=1e-14)
    assert_allclose(res.std_error_log, math.sqrt(float(var)), rtol=1e-14)
    z = stats.norm.isf(0.025)
    assert_allclose(res.ci_low, float(est) * math.exp(-z * math.sqrt(float(var))), rtol=1e-13)
    # MH test of RR = 1: (sum a - sum M N1/T)^2 / sum M N1 N0 / T^2
    e = sum((ai + bi) * n1i / ti for ai, bi, n1i, ti in zip(a, b, n1, t))
    chi = (sum(a) - e) ** 2 / v
    assert_allclose(res.p_value, stats.chi2.sf(float(chi), 1), rtol=1e-12)


def test_single_stratum_reduces_to_crude_katz():
    res = mantel_haenszel_rate_ratio([30], [12000], [20], [10000])
    katz = rate_ratio_ci(30, 12000, 20, 10000, method="katz")
    assert_allclose([res.estimate, res.ci_low, res.ci_high], [katz.ratio, katz.ci_low, katz.ci_high], rtol=1e-13)
    assert res.heterogeneity_df == 0 and np.isnan(res.heterogeneity_p)


def test_close_to_poisson_glm_with_stratum_effects():
    rows = []
    for i, r in DOLL.iterrows():
        rows.append({"stratum": i, "exposed": 1, "events": r.deaths_smokers, "pt": r.pyears_smokers})
        rows.append({"stratum": i, "exposed": 0, "events": r.deaths_nonsmokers, "pt": r.pyears_nonsmokers})
    d = pd.DataFrame(rows)
    x = pd.get_dummies(d["stratum"], prefix="s", dtype=float)
    x["exposed"] = d["exposed"].astype(float)
    fit = sm.GLM(d["events"], x, family=sm.families.Poisson(), offset=np.log(d["pt"])).fit()
    glm_rr = math.exp(fit.params["exposed"])
    res = _doll()
    assert abs(res.estimate / glm_rr - 1) < 0.02  # close ...
    assert res.estimate != pytest.approx(glm_rr, rel=1e-6)  # ... but not the same estimator
    assert abs(res.std_error_log / fit.bse["exposed"] - 1) < 0.05


def test_uninformative_strata_do_not_change_estimate():
    base = mantel_haenszel_rate_ratio(SMALL["a"], SMALL["n1"], SMALL["b"], SMALL["n0"])
    more = mantel_haenszel_rate_ratio(
        SMALL["a"] + [0, 0, 0], SMALL["n1"] + [500, 0, 300], SMALL["b"] + [0, 0, 0], SMALL["n0"] + [700, 900, 0]
    )
    assert_allclose([more.estimate, more.ci_low, more.ci_high], [base.estimate, base.ci_low, base.ci_high], rtol=1e-14)
    assert more.n_strata == 3
    assert list(more.strata["informative"]) == [True] * 3 + [False] * 3


def test_cochran_q_formula_and_zero_strata_excluded():
    a, n1, b, n0 = [10, 20, 0, 15], [1000, 1500, 800, 900], [8, 12, 4, 9], [900, 1800, 700, 1100]
    res = mantel_haenszel_rate_ratio(a, n1, b, n0, heterogeneity="cochran_q")
    # stratum 2 has a = 0, so its log ratio is -inf and it is left out of Q
    aa = np.array(a, float)[[0, 1, 3]]
    bb = np.array(b, float)[[0, 1, 3]]
    lr = np.log(aa / np.array(n1, float)[[0, 1, 3]] / (bb / np.array(n0, float)[[0, 1, 3]]))
    w = 1 / (1 / aa + 1 / bb)
    q = np.sum(w * (lr - np.sum(w * lr) / w.sum()) ** 2)
    assert_allclose(res.heterogeneity_q, q, rtol=1e-12)
    assert res.heterogeneity_df == 2
    assert_allclose(res.heterogeneity_p, stats.chi2.sf(q, 2), rtol=1e-12)
    assert res.i_squared == pytest.approx(max(0.0, (q - 2) / q))
    # the conditional score test uses the zero stratum too
    assert mantel_haenszel_rate_ratio(a, n1, b, n0, heterogeneity="score").heterogeneity_df == 3


def test_heterogeneity_detects_opposite_effects_and_not_homogeneous_data():
    rng = np.random.default_rng(3)
    n1 = np.full(8, 20_000.0)
    n0 = np.full(8, 20_000.0)
    homo = mantel_haenszel_rate_ratio(rng.poisson(150, 8), n1, rng.poisson(100, 8), n0)
    hetero = mantel_haenszel_rate_ratio([300, 100] * 4, n1, [100, 300] * 4, n0)
    assert homo.heterogeneity_p > 0.01 and hetero.heterogeneity_p < 1e-10
    assert hetero.i_squared > 0.9
    for method in ["cochran_q", "mh_q", "score"]:
        r = mantel_haenszel_rate_ratio([300, 100] * 4, n1, [100, 300] * 4, n0, heterogeneity=method)
        assert r.heterogeneity_p < 1e-10 and r.heterogeneity_method == method


# ---------------------------------------------------------------------------
# odds ratio helper against statsmodels StratifiedTable
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_odds_ratio_matches_statsmodels_stratified_table(seed):
    rng = np.random.default_rng(seed)
    tabs = rng.integers(1, 60, size=(2, 2, 7)).astype(float)
    st = sm.stats.StratifiedTable(tabs)
    a, b, c, d = tabs[0, 0], tabs[0, 1], tabs[1, 0], tabs[1, 1]
    res = mantel_haenszel_odds_ratio(a, b, c, d, heterogeneity="breslow_day")
    assert_allclose(res.estimate, st.oddsratio_pooled, rtol=1e-12)
    assert_allclose(res.std_error_log, st.logodds_pooled_se, rtol=1e-12)
    assert_allclose([res.ci_low, res.ci_high], st.oddsratio_pooled_confint(), rtol=1e-12)
    assert_allclose(res.p_value, st.test_null_odds(correction=False).pvalue, rtol=1e-10)
    bd = st.test_equal_odds(adjust=False)
    assert_allclose(res.heterogeneity_q, bd.statistic, rtol=1e-9)
    assert_allclose(res.heterogeneity_p, bd.pvalue, rtol=1e-5, atol=1e-12)  # far tail amplifies 1e-9 in Q


def test_odds_ratio_woolf_q():
    a, b, c, d = [10, 20, 30], [90, 80, 70], [5, 10, 25], [95, 90, 75]
    res = mantel_haenszel_odds_ratio(a, b, c, d)
    lor = np.log(np.array(a) * np.array(d) / (np.array(b) * np.array(c)))
    w = 1 / (1 / np.array(a) + 1 / np.array(b) + 1 / np.array(c) + 1 / np.array(d))
    q = np.sum(w * (lor - np.sum(w * lor) / w.sum()) ** 2)
    assert_allclose(res.heterogeneity_q, q, rtol=1e-12)
    assert res.measure == "odds_ratio" and res.n_strata == 3


# ---------------------------------------------------------------------------
# result object
# ---------------------------------------------------------------------------
def test_tidy_summary_str_html():
    res = _doll()
    tidy = res.tidy()
    assert list(tidy.columns) == TIDY and len(tidy) == 1
    assert tidy.n_strata.iloc[0] == 5 and tidy.heterogeneity_df.iloc[0] == 4
    summ = res.summary()
    assert len(summ) == 6 and summ.stratum.iloc[-1] == "Mantel-Haenszel pooled"
    assert summ.rate_ratio.iloc[-1] == res.estimate
    text = str(res)
    assert "1.425" in text and "90% CI" in text and "I^2" in text and "75-84" in text
    html = res._repr_html_()
    assert "<table" in html and "Mantel-Haenszel" in html
    assert isinstance(res, PooledRatioResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 1.0  # type: ignore[misc]


def test_series_index_used_as_stratum_labels():
    s = pd.Series([4, 9], index=["Leeds", "York"])
    res = mantel_haenszel_rate_ratio(s, [1000, 2000], [2, 3], [1500, 1200])
    assert list(res.strata.stratum) == ["Leeds", "York"]


def test_infinite_estimate_when_comparison_has_no_events():
    res = mantel_haenszel_rate_ratio([3, 4], [100, 100], [0, 0], [100, 100])
    assert res.estimate == np.inf and np.isnan(res.ci_low)


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ([1, 2], [10, 10], [1], [10]),
        ([1, -2], [10, 10], [1, 1], [10, 10]),
        ([1, np.nan], [10, 10], [1, 1], [10, 10]),
        ([1, 2], [10, 0], [1, 1], [10, 10]),
        ([], [], [], []),
        ([[1, 2]], [[1, 2]], [[1, 2]], [[1, 2]]),
    ],
)
def test_invalid_inputs(args):
    with pytest.raises(DataValidationError):
        mantel_haenszel_rate_ratio(*args)


def test_no_information_raises_estimation_error():
    with pytest.raises(EstimationError, match="undefined"):
        mantel_haenszel_rate_ratio([0, 0], [10, 10], [0, 0], [10, 10])


def test_bad_options():
    with pytest.raises(OptionError):
        mantel_haenszel_rate_ratio([1], [10], [1], [10], heterogeneity="breslow_day")
    with pytest.raises(OptionError):
        mantel_haenszel_odds_ratio([1], [10], [1], [10], heterogeneity="score")
    with pytest.raises(DataValidationError):
        mantel_haenszel_rate_ratio([1], [10], [1], [10], strata=["a", "b"])
    with pytest.raises(DataValidationError):
        mantel_haenszel_rate_ratio([1], [10], [1], [10], alpha=0)


def test_pooled_result_plot_shows_strata_and_pooled_row():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from equity_metrics.measures.pooled import mantel_haenszel_rate_ratio

    res = mantel_haenszel_rate_ratio([10, 20, 7], [1000, 2000, 900], [5, 8, 3], [1000, 1500, 800],
                                     strata=["a", "b", "c"])
    ax = res.plot()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["a", "b", "c", "Mantel-Haenszel pooled"]
    assert ax.get_xscale() == "log" and "pooled" in ax.get_title()
    plt.close(ax.figure)
