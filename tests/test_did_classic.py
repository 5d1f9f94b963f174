"""Tests for equity_metrics.models.did_classic (2x2 DiD, event studies, TWFE) and models._fe.

Reference values: tests/results/did_classic_reference.csv (each row names the R
call defining the number and where it comes from; see did_classic_reference.md).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from equity_metrics.errors import DataValidationError, EstimationError, OptionError
from equity_metrics.models.did_classic import did_2x2, event_study, twfe

from conftest import need_shared

REF = pd.read_csv(Path(__file__).parent / "results" / "did_classic_reference.csv")
MPDTA_KW = dict(outcome="lemp", unit="countyreal", time="year", first_treated="first.treat")


def ref(check: str, quantity: str, label: str) -> tuple[float, float]:
    row = REF[(REF.check == check) & (REF.quantity == quantity) & (REF.label.astype(str) == label)]
    assert len(row) == 1, (check, quantity, label)
    return float(row.value.iloc[0]), float(row.abs_tol.iloc[0])


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(need_shared("reference", "mpdta.csv"))


def simulate(n=600, T=10, cohorts=(4, 6, 8), never=0.25, effect=lambda e, g: 1.0 + 0.0 * e, seed=1, sd=1.0):
    """Staggered panel: y = a_i + l_t + effect(e, g) 1{t >= g} + noise; first_treated 0 = never."""
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < never, 0, rng.choice(cohorts, n))
    a = rng.normal(0, 1, n)
    lam = np.cumsum(rng.normal(0, 0.3, T))
    uid = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    gg = g[uid]
    e = t - gg
    tr = (gg > 0) & (t >= gg)
    tau = np.where(tr, effect(e, gg), 0.0)
    y = a[uid] + lam[t - 1] + tau + rng.normal(0, sd, n * T)
    return pd.DataFrame({"id": uid, "t": t, "g": gg, "y": y, "tau": tau, "cl": uid % 37})


# ----------------------------------------------------------------------------- references on mpdta
def test_twfe_mpdta_matches_reference(mpdta):
    with pytest.warns(UserWarning, match="staggered"):
        r = twfe(mpdta, **MPDTA_KW)
    v, tol = ref("twfe_mpdta", "estimate", "treated")
    assert r.estimate == pytest.approx(v, abs=tol)
    v, tol = ref("twfe_mpdta", "std_error", "treated")
    assert r.std_error == pytest.approx(v, abs=tol)
    assert r.staggered and r.comparison_only and r.n_cohorts == 3
    assert "COMPARISON" in r.summary() and "negative" in r.summary()


@pytest.mark.parametrize("e", [-4, -3, -2])
def test_sun_abraham_mpdta_pre_periods_match_reference(mpdta, e):
    es = event_study(mpdta, **MPDTA_KW, sun_abraham=True)
    v, tol = ref("sunab_mpdta", "estimate", str(e))
    got = es.table.set_index("event_time").loc[e, "estimate"]
    assert got == pytest.approx(v, abs=tol)


def test_sun_abraham_mpdta_post_equals_r_did_dynamic(mpdta, shared_reference):
    """Balanced panel: SA post coefficients = CS dynamic effects, never-treated comparison (R did 2.1.2)."""
    r = pd.read_csv(shared_reference / "mpdta_did_reference.csv")
    r = r[(r.spec == "dr_never_nocov") & (r.kind == "dynamic") & (r.label != "overall")]
    es = event_study(mpdta, **MPDTA_KW, sun_abraham=True).table.set_index("event_time")
    for lab, est in zip(r.label, r.estimate):
        if int(lab) >= 0:
            assert es.loc[int(lab), "estimate"] == pytest.approx(est, abs=1e-10)


# ----------------------------------------------------------------------------- against statsmodels
def _sm_cluster(y, X, groups, weights=None, correction=True):
    model = sm.WLS(y, X, weights=weights) if weights is not None else sm.OLS(y, X)
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": correction})


def _unbalanced(seed=3):
    d = simulate(n=60, T=6, cohorts=(3, 5), never=0.3, seed=seed)
    rng = np.random.default_rng(seed)
    d = d[rng.random(len(d)) > 0.15].reset_index(drop=True)
    d["w"] = rng.uniform(0.2, 1.0, len(d))
    return d


def test_twfe_matches_statsmodels_dummies_unbalanced_weighted():
    d = _unbalanced()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        r = twfe(d, outcome="y", unit="id", time="t", first_treated="g", weights="w")
    D = ((d.g > 0) & (d.t >= d.g)).astype(float)
    X = pd.concat([D.rename("D"), pd.get_dummies(d.t, prefix="t", drop_first=True, dtype=float),
                   pd.get_dummies(d.id, prefix="u", dtype=float)], axis=1)
    f = _sm_cluster(d.y, X, d.id, weights=d.w, correction=False)
    assert r.estimate == pytest.approx(f.params["D"], rel=1e-10)
    # CRV1 factor of fixest (unit effects nested in unit clusters: K = columns + 1)
    n, G, K = len(d), d.id.nunique(), X.shape[1] - d.id.nunique() + 1
    adj = G / (G - 1) * (n - 1) / (n - K)
    assert r.std_error == pytest.approx(np.sqrt(f.cov_params().loc["D", "D"] * adj), rel=1e-9)


def test_event_study_matches_statsmodels_with_non_nested_clusters():
    """Clusters that split units: K counts the unit effects, as statsmodels' dummy regression does."""
    d = _unbalanced(seed=5)
    d["cl2"] = (d.id + d.t) % 7  # varies within unit
    es = event_study(d, outcome="y", unit="id", time="t", first_treated="g", cluster="cl2", control="never_treated")
    e = np.where(d.g > 0, d.t - d.g, -999)
    ev = pd.get_dummies(pd.Series(e), prefix="e", dtype=float).drop(columns=["e_-999", "e_-1"])
    X = pd.concat([ev, pd.get_dummies(d.t, prefix="t", drop_first=True, dtype=float),
                   pd.get_dummies(d.id, prefix="u", dtype=float)], axis=1)
    f = _sm_cluster(d.y, X, d.cl2, correction=True)
    tab = es.table.set_index("event_time")
    for col in ev.columns:
        k = int(col[2:])
        assert tab.loc[k, "estimate"] == pytest.approx(f.params[col], abs=1e-10)
        assert tab.loc[k, "std_error"] == pytest.approx(f.bse[col], rel=1e-8)


def test_did_2x2_matches_statsmodels_and_means():
    d = simulate(n=200, T=2, cohorts=(2,), never=0.5, seed=7)
    d["treat"] = d.g > 0
    d["post"] = d.t == 2
    r = did_2x2(d, outcome="y", treated="treat", post="post", unit="id", time="t")
    X = sm.add_constant(pd.DataFrame({"treat": d.treat * 1.0, "post": d.post * 1.0, "did": (d.treat & d.post) * 1.0}))
    f = _sm_cluster(d.y, X, d.id, correction=True)
    assert r.estimate == pytest.approx(f.params["did"], rel=1e-10)
    assert r.std_error == pytest.approx(f.bse["did"], rel=1e-9)
    m = r.means.set_index(["group", "period"])["mean"]
    dm = (m["treated", "post"] - m["treated", "pre"]) - (m["comparison", "post"] - m["comparison", "pre"])
    assert r.estimate == pytest.approx(dm, abs=1e-12)
    assert list(r.tidy().columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    # post given as a time value, treated as a time-varying indicator
    d["D"] = d.treat & d.post
    r2 = did_2x2(d, outcome="y", treated="D", post=2, unit="id", time="t")
    assert r2.estimate == pytest.approx(r.estimate, abs=1e-12)
    assert any("varies within units" in n for n in r2.notes)


# ----------------------------------------------------------------------------- planted effects
def test_event_study_recovers_planted_dynamic_effect():
    eff = lambda e, g: 0.5 + 0.25 * np.minimum(e, 3)  # noqa: E731
    d = simulate(n=3000, T=12, cohorts=(4, 6, 8), effect=eff, seed=11)
    for sa in (False, True):
        es = event_study(d, outcome="y", unit="id", time="t", first_treated="g", leads=3, lags=4, sun_abraham=sa)
        tab = es.table.set_index("event_time")
        for e in range(0, 4):
            truth = 0.5 + 0.25 * min(e, 3)
            assert abs(tab.loc[e, "estimate"] - truth) < 4 * tab.loc[e, "std_error"], (sa, e)
        for e in (-3, -2):
            assert abs(tab.loc[e, "estimate"]) < 4 * tab.loc[e, "std_error"]
        assert es.pretrend is not None and es.pretrend.p_value > 1e-3
        assert bool(tab.loc[-3, "binned"]) and bool(tab.loc[4, "binned"])


def test_sun_abraham_robust_where_dynamic_twfe_is_not():
    """Effects that differ by cohort contaminate dynamic TWFE leads; SA stays unbiased (noise-free data)."""
    eff = lambda e, g: np.where(g == 3, 4.0, 0.5) * (e + 1)  # noqa: E731
    d = simulate(n=400, T=8, cohorts=(3, 5, 7), never=0.0, effect=eff, seed=2, sd=0.0)
    kw = dict(outcome="y", unit="id", time="t", first_treated="g", control="not_yet_treated", leads=2, lags=2)
    sa = event_study(d, **kw, sun_abraham=True).table.set_index("event_time")
    tw = event_study(d, **kw, bin_endpoints=False).table.set_index("event_time")
    assert abs(sa.loc[-2, "estimate"]) < 1e-8  # no pre-trend in the truth
    assert abs(tw.loc[-2, "estimate"]) > 0.05  # contaminated


def test_twfe_negative_weights_identity_and_warning():
    eff = lambda e, g: 0.2 * (e + 1)  # noqa: E731
    d = simulate(n=300, T=10, cohorts=(2, 5, 8), never=0.0, effect=eff, seed=4, sd=0.0)
    with pytest.warns(UserWarning, match="negative weight"):
        r = twfe(d, outcome="y", unit="id", time="t", first_treated="g")
    assert r.n_negative_weights > 0 and r.sum_negative_weights < 0
    # beta_TWFE = sum over treated unit-periods of weight x effect (de Chaisemartin & D'Haultfoeuille, Thm 1)
    tau = d.loc[(d.g > 0) & (d.t >= d.g), "tau"].to_numpy()
    assert r.estimate == pytest.approx(float(np.sum(r.weights["weight"].to_numpy() * tau)), abs=1e-10)
    assert r.weights["weight"].sum() == pytest.approx(1.0)


def test_twfe_single_cohort_no_warning():
    d = simulate(n=200, T=6, cohorts=(4,), never=0.5, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = twfe(d, outcome="y", unit="id", time="t", first_treated="g")
    assert not r.staggered and r.n_negative_weights == 0
    assert abs(r.estimate - 1.0) < 4 * r.std_error


# ----------------------------------------------------------------------------- designs and errors
def test_no_never_treated_requires_not_yet_treated():
    d = simulate(n=300, T=8, cohorts=(3, 5, 7), never=0.0, seed=9)
    with pytest.raises(EstimationError, match="not_yet_treated"):
        event_study(d, outcome="y", unit="id", time="t", first_treated="g")
    es = event_study(d, outcome="y", unit="id", time="t", first_treated="g", control="not_yet_treated")
    assert es.table["event_time"].max() < 7 - 3 + 1
    assert any("last-treated cohort" in n for n in es.notes)
    sa = event_study(d, outcome="y", unit="id", time="t", first_treated="g", control="not_yet_treated", sun_abraham=True)
    assert set(sa.cohort_effects["cohort"]) == {3.0, 5.0}


def test_many_small_cohorts_and_single_pre_period():
    rng = np.random.default_rng(12)
    n, T = 900, 60
    g = rng.integers(2, 50, n)  # ~48 cohorts of ~19 units; cohort 2 has one pre-period
    g[rng.random(n) < 0.2] = 0
    d = simulate(n=n, T=T, cohorts=(2,), seed=12)  # template, then overwrite timing
    d["g"] = np.repeat(g, T)
    d["y"] = d["y"] + 0.7 * ((d.g > 0) & (d.t >= d.g))
    t0 = time.perf_counter()
    sa = event_study(d, outcome="y", unit="id", time="t", first_treated="g", leads=6, lags=6, sun_abraham=True)
    assert time.perf_counter() - t0 < 20
    assert sa.cohort_effects["cohort"].nunique() >= 40
    post = sa.table[(sa.table.event_time >= 0)]
    assert np.all(np.abs(post.estimate - 0.7) < 4 * post.std_error + 0.1)


def test_option_and_data_errors():
    d = simulate(n=100, T=5, seed=1)
    kw = dict(outcome="y", unit="id", time="t", first_treated="g")
    with pytest.raises(OptionError):
        event_study(d, **kw, control="everyone")
    with pytest.raises(OptionError):
        event_study(d, **kw, base_period=0)
    with pytest.raises(OptionError):
        event_study(d, **kw, leads=-1)
    with pytest.raises(OptionError, match="outside the event window"):
        event_study(d, **kw, leads=1, base_period=-2)
    with pytest.raises(DataValidationError, match="constant within each unit"):
        event_study(d.assign(g=np.where(d.t > 3, d.g, 0)), **kw)
    with pytest.raises(DataValidationError, match="no column"):
        event_study(d, outcome="nope", unit="id", time="t", first_treated="g")
    with pytest.raises(DataValidationError, match="exactly one"):
        twfe(d, outcome="y", unit="id", time="t")
    with pytest.raises(DataValidationError, match="several rows"):
        twfe(pd.concat([d, d.head(1)]), outcome="y", unit="id", time="t", first_treated="g")
    with pytest.raises(EstimationError, match="no rows in the treated group"):
        did_2x2(d.assign(tr=False), outcome="y", treated="tr", post=3, unit="id", time="t")


def test_collinear_design_raises_clear_error():
    """One cohort, and the never-treated are not observed after it is treated: event-time dummies are
    collinear with the period effects."""
    d = simulate(n=100, T=6, cohorts=(3,), never=0.3, seed=2)
    d = d[(d.g > 0) | (d.t <= 2)]
    with pytest.raises(EstimationError, match="collinear"):
        event_study(d, outcome="y", unit="id", time="t", first_treated="g")
    d1 = simulate(n=100, T=6, cohorts=(3,), never=0.0, seed=2)
    with pytest.raises(EstimationError, match="no treated cohort"):
        event_study(d1, outcome="y", unit="id", time="t", first_treated="g", control="not_yet_treated")


def test_endpoints_drop_mode_and_cluster():
    d = simulate(n=500, T=10, seed=6)
    es = event_study(d, outcome="y", unit="id", time="t", first_treated="g", leads=2, lags=2, bin_endpoints=False,
                     cluster="cl")
    assert not es.table["binned"].any()
    assert es.n_clusters == 37
    assert any("dropped" in n for n in es.notes)


# ----------------------------------------------------------------------------- display
def test_results_display_and_plots():
    import matplotlib

    matplotlib.use("Agg")
    d = simulate(n=200, T=6, seed=3)
    d["<b>y</b>"] = d["y"]
    es = event_study(d, outcome="<b>y</b>", unit="id", time="t", first_treated="g")
    assert "Joint Wald test" in str(es) and "<table" in es._repr_html_()
    assert "<b>y</b>" not in es._repr_html_() and "&lt;b&gt;y&lt;/b&gt;" in es._repr_html_()
    assert list(es.tidy().columns)[:3] == ["event_time", "estimate", "std_error"]
    assert es.plot() is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tw = twfe(d, outcome="y", unit="id", time="t", first_treated="g")
    assert tw.tidy()["comparison_only"].all() and tw.plot() is not None
    r = did_2x2(d.assign(tr=d.g == 4), outcome="y", treated="tr", post=4, unit="id", time="t")
    assert r.plot() is not None and "DiD estimate" in r.summary()
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.slow
def test_large_panel_speed():
    """10,000 units x 72 periods (the size of a large force's officer panel)."""
    d = simulate(n=10_000, T=72, cohorts=tuple(range(6, 66, 3)), never=0.2, seed=13, sd=1.0)
    t0 = time.perf_counter()
    es = event_study(d, outcome="y", unit="id", time="t", first_treated="g", leads=12, lags=24, sun_abraham=True)
    assert time.perf_counter() - t0 < 120
    post = es.table[es.table.event_time >= 0]
    assert np.all(np.abs(post.estimate - 1.0) < 5 * post.std_error)
