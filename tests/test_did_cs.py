"""Tests of the Callaway & Sant'Anna (2021) estimator ``staggered_did``.

Reference values
----------------
``../shared/reference/mpdta_did_reference.csv`` (read in place, never copied)
holds R ``did`` 2.1.2 results (with the corrected group-aggregation standard
error of ``did`` >= 2.3.0) on the ``mpdta`` panel, produced by::

    library(did)
    out <- att_gt(yname = "lemp", tname = "year", idname = "countyreal",
                  gname = "first.treat", xformla = ~lpop,        # or NULL (nocov)
                  data = mpdta, est_method = "dr",               # "dr" | "ipw" | "reg"
                  control_group = "nevertreated",                # or "notyettreated"
                  bstrap = FALSE)
    aggte(out, type = "simple")     # likewise "dynamic", "group", "calendar"
    # (aggte(..., bstrap = FALSE): analytic standard errors)

for the six specifications dr_never_nocov, dr_never_lpop, dr_nyt_nocov,
ipw_never_lpop, reg_never_nocov and reg_never_lpop.  Point estimates must match
to 1e-8 and standard errors to 1e-6.

``tests/results/did_cs_mpdta_snapshot.csv`` holds self-generated values for the
universal base period and for anticipation (not covered by the R reference),
cross-checked against diff-diff 3.13.0 (see the header of that file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equity_metrics.errors import DataValidationError, EstimationError, OptionError
from equity_metrics.models.did import AggregateResult, PretrendTest, StaggeredDiDResult, staggered_did
from equity_metrics.models.did._drdid import logit_irls

REF_DIR = Path(__file__).parents[1].parent / "shared" / "reference"
RESULTS_DIR = Path(__file__).parent / "results"
MPDTA_ARGS = dict(outcome="lemp", unit="countyreal", time="year", first_treated="first.treat")

SPECS = {
    "dr_never_nocov": dict(method="dr", control="never_treated", covariates=None),
    "dr_never_lpop": dict(method="dr", control="never_treated", covariates=["lpop"]),
    "dr_nyt_nocov": dict(method="dr", control="not_yet_treated", covariates=None),
    "ipw_never_lpop": dict(method="ipw", control="never_treated", covariates=["lpop"]),
    "reg_never_nocov": dict(method="reg", control="never_treated", covariates=None),
    "reg_never_lpop": dict(method="reg", control="never_treated", covariates=["lpop"]),
}


# -- fixtures and helpers ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    path = REF_DIR / "mpdta.csv"
    if not path.exists():
        pytest.skip(f"R reference data not available: {path} is absent (needs the ../shared checkout)")
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    path = REF_DIR / "mpdta_did_reference.csv"
    if not path.exists():
        pytest.skip(f"R reference results not available: {path} is absent (needs the ../shared checkout)")
    return pd.read_csv(path, dtype={"label": str})


def simulate(
    n_units: int = 600,
    n_periods: int = 8,
    cohorts: tuple[int, ...] = (4, 6, 0),
    effect: float = 2.0,
    noise: float = 0.1,
    seed: int = 0,
    cov_trend: float = 0.0,
) -> pd.DataFrame:
    """Staggered panel: unit & time effects, a constant effect for treated periods.

    With ``cov_trend`` the outcome trend depends on a covariate ``x`` that also
    drives cohort membership, so only covariate-adjusted estimators are unbiased.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n_units)
    if cov_trend:
        treated_p = 1.0 / (1.0 + np.exp(-1.5 * x))
        is_t = rng.random(n_units) < treated_p
        g = np.where(is_t, rng.choice([c for c in cohorts if c], size=n_units), 0)
    else:
        g = rng.choice(cohorts, size=n_units)
    t = np.arange(1, n_periods + 1)
    y = (
        rng.normal(size=n_units)[:, None]
        + 0.3 * t[None, :]
        + cov_trend * x[:, None] * t[None, :]
        + np.where((g[:, None] > 0) & (t[None, :] >= g[:, None]), effect, 0.0)
        + rng.normal(scale=noise, size=(n_units, n_periods))
    )
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n_units), n_periods),
            "t": np.tile(t, n_units),
            "g": np.repeat(g, n_periods),
            "x": np.repeat(x, n_periods),
            "y": y.ravel(),
        }
    )


SIM_ARGS = dict(outcome="y", unit="id", time="t", first_treated="g")


def naive_att_gt(df: pd.DataFrame) -> pd.DataFrame:
    """Cell-by-cell 2x2 difference of mean changes vs never treated (varying base period)."""
    wide = df.pivot(index="id", columns="t", values="y")
    g = df.groupby("id")["g"].first().reindex(wide.index).to_numpy()
    times = wide.columns.to_numpy()
    y = wide.to_numpy()
    rows = []
    for gg in np.unique(g[g > 0]):
        last_pre = np.flatnonzero(times < gg)[-1]
        for j in range(1, len(times)):
            b = last_pre if gg <= times[j] else j - 1
            dy = y[:, j] - y[:, b]
            tr, co = dy[g == gg], dy[g == 0]
            att = tr.mean() - co.mean()
            se = np.sqrt(tr.var() / tr.size + co.var() / co.size)
            rows.append((gg, times[j], att, se))
    return pd.DataFrame(rows, columns=["group", "time", "att_naive", "se_naive"])


# -- R reference --------------------------------------------------------------------------------
@pytest.mark.shared
@pytest.mark.parametrize("spec", list(SPECS))
def test_matches_r_did_reference(spec: str, mpdta: pd.DataFrame, reference: pd.DataFrame) -> None:
    """All rows (att_gt and the four aggregations) of R did: estimates 1e-8, SEs 1e-6."""
    res = staggered_did(mpdta, **MPDTA_ARGS, **SPECS[spec])
    ref = reference[reference["spec"] == spec]
    assert len(ref) > 0

    att = res.att_gt.assign(label=lambda d: d["group"].astype(str) + "_" + d["time"].astype(str))
    r_att = ref[ref["kind"] == "attgt"].set_index("label")
    assert sorted(att["label"]) == sorted(r_att.index)
    att = att.set_index("label").loc[r_att.index]
    np.testing.assert_allclose(att["att"], r_att["estimate"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(att["std_error"], r_att["se"], rtol=0, atol=1e-6)

    for kind in ("simple", "dynamic", "group", "calendar"):
        tidy = res.aggregate(kind).tidy()
        tidy["label"] = tidy["level"].astype(str)
        r_k = ref[ref["kind"] == kind].set_index("label")
        assert sorted(tidy["label"]) == sorted(r_k.index), kind
        tidy = tidy.set_index("label").loc[r_k.index]
        np.testing.assert_allclose(tidy["estimate"], r_k["estimate"], rtol=0, atol=1e-8, err_msg=kind)
        np.testing.assert_allclose(tidy["std_error"], r_k["se"], rtol=0, atol=1e-6, err_msg=kind)


@pytest.mark.shared
def test_pretrend_test_matches_r_summary(mpdta: pd.DataFrame) -> None:
    """R ``summary(att_gt(...))`` on mpdta (dr, never treated, no covariates) reports
    "P-value for pre-test of parallel trends assumption: 0.16812" (did vignette)."""
    pt = staggered_did(mpdta, **MPDTA_ARGS).pretrend_test("cells")
    assert isinstance(pt, PretrendTest)
    assert pt.df == 5 and pt.n_cells == 5
    assert pt.p_value == pytest.approx(0.16812, abs=1e-5)
    assert "chi2(5)" in str(pt)


@pytest.mark.shared
def test_universal_event_study_equals_sun_abraham(mpdta: pd.DataFrame) -> None:
    """With never-treated controls, no covariates and a universal base period, the CS event
    study equals the Sun-Abraham saturated one (README cross-check: 0.00331, 0.02502, 0.02446)."""
    lv = staggered_did(mpdta, **MPDTA_ARGS, base_period="universal").aggregate("dynamic").levels
    pre = lv.set_index("level").loc[[-4, -3, -2], "estimate"].to_numpy()
    np.testing.assert_allclose(pre, [0.00331, 0.02502, 0.02446], atol=5e-6)
    ref_row = lv.set_index("level").loc[-1]
    assert ref_row["estimate"] == 0.0 and np.isnan(ref_row["std_error"])


@pytest.mark.shared
def test_snapshot_universal_and_anticipation(mpdta: pd.DataFrame) -> None:
    """Self-generated values cross-checked against diff-diff (see the CSV header)."""
    snap = pd.read_csv(RESULTS_DIR / "did_cs_mpdta_snapshot.csv", comment="#", dtype={"label": str})
    settings = {
        "dr_never_nocov_universal": dict(base_period="universal"),
        "dr_nyt_nocov_antic1": dict(anticipation=1, control="not_yet_treated"),
    }
    for spec, kw in settings.items():
        res = staggered_did(mpdta, **MPDTA_ARGS, **kw)
        s = snap[snap["spec"] == spec]
        att = res.att_gt.assign(label=lambda d: d["group"].astype(str) + "_" + d["time"].astype(str))
        r = s[s["kind"] == "attgt"].set_index("label").loc[att["label"]]
        np.testing.assert_allclose(att["att"], r["estimate"], atol=1e-10)
        np.testing.assert_allclose(att["std_error"], r["se"], atol=1e-10)  # NaN == NaN for reference cells
        dyn = res.aggregate("dynamic").tidy()
        r = s[s["kind"] == "dynamic"].set_index("label").loc[dyn["level"].astype(str)]
        np.testing.assert_allclose(dyn["estimate"], r["estimate"], atol=1e-10)
        np.testing.assert_allclose(dyn["std_error"], r["se"], atol=1e-10)
    # anticipation: the 2004 cohort has no period before 2004 - 1 and is dropped, with a note
    res = staggered_did(mpdta, **MPDTA_ARGS, anticipation=1, control="not_yet_treated")
    assert 2004 not in set(res.att_gt["group"]) and any("first period" in n for n in res.notes)
    post = res.att_gt[res.att_gt["post"]]
    assert (post["base_time"] == post["group"] - 2).all()


# -- simulations ----------------------------------------------------------------------------------
def test_planted_constant_effect_is_recovered() -> None:
    df = simulate(n_units=900, effect=2.0, noise=0.1, seed=1)
    for method in ("dr", "ipw", "reg"):
        res = staggered_did(df, **SIM_ARGS, method=method)
        post = res.att_gt[res.att_gt["post"]]
        pre = res.att_gt[~res.att_gt["post"]]
        np.testing.assert_allclose(post["att"], 2.0, atol=0.06)
        np.testing.assert_allclose(pre["att"], 0.0, atol=0.06)
        for kind in ("simple", "dynamic", "group", "calendar"):
            o = res.aggregate(kind).overall
            assert o.ci_low < 2.0 < o.ci_high or abs(o.estimate - 2.0) < 0.02, (method, kind)
    for ctrl in ("not_yet_treated",):
        res = staggered_did(df, **SIM_ARGS, control=ctrl)
        assert res.aggregate("simple").overall.estimate == pytest.approx(2.0, abs=0.02)


def test_covariate_adjustment_removes_confounded_trend() -> None:
    df = simulate(n_units=3000, n_periods=6, cohorts=(4, 5, 0), cov_trend=0.3, noise=0.2, seed=5)
    biased = staggered_did(df, **SIM_ARGS).aggregate("simple").overall.estimate
    assert abs(biased - 2.0) > 0.1
    for method in ("dr", "ipw", "reg"):
        est = staggered_did(df, **SIM_ARGS, method=method, covariates="x").aggregate("simple").overall
        assert est.estimate == pytest.approx(2.0, abs=4 * est.std_error + 0.02), method


def test_many_small_cohorts_match_naive_2x2() -> None:
    """45 cohorts of ~5 units: every cell equals the naive 2x2 and its closed-form SE."""
    n_periods = 50
    cohorts = tuple(range(3, 48)) + (0,) * 10
    df = simulate(n_units=300, n_periods=n_periods, cohorts=cohorts, seed=3, noise=1.0)
    res = staggered_did(df, **SIM_ARGS)
    n_coh = df.loc[df["g"] > 0, "g"].nunique()
    assert n_coh >= 40
    assert len(res.att_gt) == n_coh * (n_periods - 1)
    m = res.att_gt.merge(naive_att_gt(df), on=["group", "time"])
    assert len(m) == len(res.att_gt)
    np.testing.assert_allclose(m["att"], m["att_naive"], atol=1e-12)
    np.testing.assert_allclose(m["std_error"], m["se_naive"], atol=1e-12)
    for kind in ("simple", "dynamic", "group", "calendar"):
        agg = res.aggregate(kind)
        assert np.isfinite(agg.overall.estimate) and np.isfinite(agg.overall.std_error)
        assert np.isfinite(agg.levels["std_error"]).all()


def test_cohort_with_single_pre_period() -> None:
    df = simulate(n_units=400, n_periods=6, cohorts=(2, 4, 0), seed=2)
    res = staggered_did(df, **SIM_ARGS)
    g2 = res.att_gt[res.att_gt["group"] == 2]
    assert g2["post"].all() and (g2["base_time"] == 1).all() and len(g2) == 5
    assert np.isfinite(g2["att"]).all() and np.isfinite(g2["std_error"]).all()
    g4 = res.att_gt[res.att_gt["group"] == 4]
    assert list(g4["base_time"]) == [1, 2, 3, 3, 3]
    # universal base: one reference cell for cohort 2 (period 1), no other pre cell
    uni = staggered_did(df, **SIM_ARGS, base_period="universal")
    g2u = uni.att_gt[uni.att_gt["group"] == 2]
    assert list(g2u["time"]) == [1, 2, 3, 4, 5, 6] and g2u["att"].iloc[0] == 0.0


def test_no_never_treated_units() -> None:
    df = simulate(n_units=500, n_periods=8, cohorts=(3, 5, 7), seed=4)
    with pytest.raises(EstimationError, match="not_yet_treated"):
        staggered_did(df, **SIM_ARGS, control="never_treated")
    res = staggered_did(df, **SIM_ARGS, control="not_yet_treated")
    # as R: periods >= 7 dropped, cohort 7 becomes the comparison group
    assert set(res.att_gt["group"]) == {3, 5} and res.att_gt["time"].max() == 6
    assert any("No never-treated units" in n for n in res.notes)
    post = res.att_gt[res.att_gt["post"]]
    np.testing.assert_allclose(post["att"], 2.0, atol=0.1)
    assert np.isfinite(res.aggregate("dynamic").overall.std_error)


def test_units_treated_in_first_period_are_dropped() -> None:
    df = simulate(n_units=400, n_periods=6, cohorts=(1, 3, 5, 0), seed=6)
    res = staggered_did(df, **SIM_ARGS)
    assert any("first period" in n for n in res.notes)
    kept = df[df["g"] != 1]
    res2 = staggered_did(kept, **SIM_ARGS)
    assert res.n_units == res2.n_units
    pd.testing.assert_frame_equal(res.att_gt, res2.att_gt)


def test_never_treated_codes_and_late_cohorts() -> None:
    df = simulate(n_units=300, n_periods=6, seed=7)
    base = staggered_did(df, **SIM_ARGS).att_gt
    for code in (np.nan, np.inf):
        alt = df.assign(g=df["g"].where(df["g"] > 0, code))
        pd.testing.assert_frame_equal(staggered_did(alt, **SIM_ARGS).att_gt, base)
    alt = df.assign(g=df["g"].replace(0, -1))
    pd.testing.assert_frame_equal(staggered_did(alt, **SIM_ARGS, never_treated_value=-1).att_gt, base)
    late = df.assign(g=df["g"].replace(0, 99))
    res = staggered_did(late, **SIM_ARGS)
    pd.testing.assert_frame_equal(res.att_gt, base)
    assert any("after the last period" in n for n in res.notes)


def test_bootstrap_is_seeded_and_sup_t_exceeds_pointwise() -> None:
    df = simulate(n_units=500, n_periods=6, seed=8, noise=1.0)
    a = staggered_did(df, **SIM_ARGS, bootstrap=True, n_boot=499, seed=42)
    b = staggered_did(df, **SIM_ARGS, bootstrap=True, n_boot=499, seed=42)
    c = staggered_did(df, **SIM_ARGS, bootstrap=True, n_boot=499, seed=43)
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    assert not np.allclose(a.att_gt["std_error"], c.att_gt["std_error"])
    assert a.crit_value >= 1.96
    analytic = staggered_did(df, **SIM_ARGS)
    ratio = a.att_gt["std_error"] / analytic.att_gt["std_error"]
    assert ratio.between(0.8, 1.25).all()
    ea, eb = a.aggregate("dynamic"), b.aggregate("dynamic")
    pd.testing.assert_frame_equal(ea.tidy(), eb.tidy())
    assert ea.simultaneous and ea.crit_value >= 1.96 and (ea.levels["crit"] == ea.crit_value).all()
    # width of the band: sup-t intervals are wider than pointwise ones
    assert ((ea.levels["ci_high"] - ea.levels["ci_low"]) >= 2 * 1.959 * ea.levels["std_error"]).all()
    # bootstrap can be switched off per aggregation, and Rademacher weights work
    assert not a.aggregate("group", bootstrap=False).bootstrap
    r = staggered_did(df, **SIM_ARGS, bootstrap=True, n_boot=199, seed=1, bootstrap_weights="rademacher")
    assert r.crit_value >= 1.96


def test_invariance_to_row_order() -> None:
    df = simulate(n_units=300, n_periods=6, seed=9)
    df["x2"] = df["x"] ** 2
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    for kw in (dict(), dict(method="dr", covariates=["x", "x2"]), dict(control="not_yet_treated")):
        r1 = staggered_did(df, **SIM_ARGS, **kw)
        r2 = staggered_did(shuffled, **SIM_ARGS, **kw)
        pd.testing.assert_frame_equal(r1.att_gt, r2.att_gt, rtol=1e-12, atol=1e-13)
        for kind in ("simple", "dynamic", "group", "calendar"):
            pd.testing.assert_frame_equal(
                r1.aggregate(kind).tidy(), r2.aggregate(kind).tidy(), rtol=1e-12, atol=1e-13
            )


def test_clustered_standard_errors() -> None:
    df = simulate(n_units=400, n_periods=5, seed=10)
    df["state"] = df["id"] % 25
    df["unit_copy"] = df["id"]
    base = staggered_did(df, **SIM_ARGS)
    same = staggered_did(df, **SIM_ARGS, cluster="unit_copy")  # clusters of one unit each
    np.testing.assert_allclose(same.att_gt["std_error"], base.att_gt["std_error"], rtol=1e-12)
    cl = staggered_did(df, **SIM_ARGS, cluster="state")
    np.testing.assert_allclose(cl.att_gt["att"], base.att_gt["att"])
    # manual cluster-robust formula from the influence functions
    inf = base.influence_functions()
    state = df.groupby("id")["state"].first().to_numpy()
    sums = pd.DataFrame(inf).groupby(state).sum().to_numpy()
    np.testing.assert_allclose(cl.att_gt["std_error"], np.sqrt((sums**2).sum(0)) / base.n_units, rtol=1e-12)
    agg = cl.aggregate("dynamic")
    s2 = pd.Series(agg.overall_influence).groupby(state).sum().to_numpy()
    assert agg.overall.std_error == pytest.approx(np.sqrt((s2**2).sum()) / cl.n_units)
    boot = staggered_did(df, **SIM_ARGS, cluster="state", bootstrap=True, n_boot=299, seed=0)
    assert np.isfinite(boot.att_gt["std_error"]).all()
    bad = df.assign(state=np.arange(len(df)) % 7)
    with pytest.raises(DataValidationError, match="varies over time"):
        staggered_did(bad, **SIM_ARGS, cluster="state")


def test_time_varying_covariate_uses_earlier_period() -> None:
    df = simulate(n_units=500, n_periods=5, seed=11)
    rng = np.random.default_rng(0)
    df["xtv"] = df["x"] + rng.normal(scale=0.3, size=len(df))
    res = staggered_did(df, **SIM_ARGS, covariates="xtv")
    assert np.isfinite(res.att_gt["att"]).all()
    # the last period is never the earlier period of a comparison: changing it changes nothing
    changed = df.assign(xtv=np.where(df["t"] == 5, 100.0 * rng.normal(size=len(df)), df["xtv"]))
    pd.testing.assert_frame_equal(staggered_did(changed, **SIM_ARGS, covariates="xtv").att_gt, res.att_gt)


def test_dynamic_window_and_balance() -> None:
    df = simulate(n_units=500, n_periods=8, cohorts=(3, 5, 7, 0), seed=12)
    res = staggered_did(df, **SIM_ARGS)
    full = res.aggregate("dynamic")
    assert list(full.levels["level"]) == list(range(-5, 6))
    win = res.aggregate("dynamic", min_e=-2, max_e=2)
    assert list(win.levels["level"]) == [-2, -1, 0, 1, 2]
    lv = win.levels.set_index("level")
    assert win.overall.estimate == pytest.approx(lv.loc[[0, 1, 2], "estimate"].mean())
    pd.testing.assert_frame_equal(
        full.levels.set_index("level").loc[[-2, -1, 0, 1, 2]], lv, check_exact=False, rtol=1e-12
    )
    bal = res.aggregate("dynamic", balance_e=3)  # only cohorts 3 and 5 are observed 3 periods after
    assert bal.levels["level"].max() == 3
    e0 = res.att_gt[(res.att_gt["event_time"] == 0) & res.att_gt["group"].isin([3, 5])]
    expected = np.average(e0["att"], weights=e0["n_treated"])  # cohort-size weights
    assert bal.levels.set_index("level").loc[0, "estimate"] == pytest.approx(expected, rel=1e-12)
    capped = res.aggregate("simple", max_e=0)
    assert capped.overall.estimate == pytest.approx(full.levels.set_index("level").loc[0, "estimate"])
    with pytest.raises(OptionError):
        res.aggregate("group", balance_e=1)
    with pytest.raises(OptionError):
        res.aggregate("weekly")  # type: ignore[arg-type]


def test_input_errors() -> None:
    df = simulate(n_units=60, n_periods=4, seed=13)
    with pytest.raises(DataValidationError, match="'yy'"):
        staggered_did(df, **{**SIM_ARGS, "outcome": "yy"})
    with pytest.raises(DataValidationError, match="not a panel"):
        staggered_did(pd.concat([df, df.iloc[:1]]), **SIM_ARGS)
    with pytest.raises(EstimationError, match="unbalanced"):
        staggered_did(df.iloc[1:], **SIM_ARGS)
    with pytest.raises(EstimationError, match="unbalanced"):
        staggered_did(df.assign(y=df["y"].where(df.index != 5)), **SIM_ARGS)
    with pytest.raises(OptionError, match="method"):
        staggered_did(df, **SIM_ARGS, method="ols")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="control"):
        staggered_did(df, **SIM_ARGS, control="never")  # type: ignore[arg-type]
    with pytest.raises(OptionError):
        staggered_did(df, **SIM_ARGS, base_period="fixed")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="constant within each unit"):
        staggered_did(df.assign(g=np.where(df.index == 0, 3, df["g"])), **SIM_ARGS)
    with pytest.raises(DataValidationError, match="numeric"):
        staggered_did(df.assign(t=df["t"].astype(str)), **SIM_ARGS)
    with pytest.raises(OptionError, match="alpha"):
        staggered_did(df, **SIM_ARGS, alpha=5)
    with pytest.raises(OptionError, match="anticipation"):
        staggered_did(df, **SIM_ARGS, anticipation=-1)
    with pytest.raises(EstimationError, match="no treated cohort"):
        staggered_did(df.assign(g=0), **SIM_ARGS)


def test_result_objects_and_display() -> None:
    df = simulate(n_units=300, n_periods=5, seed=14)
    res = staggered_did(df, **SIM_ARGS)
    assert isinstance(res, StaggeredDiDResult)
    cols = ["group", "time", "event_time", "att", "std_error", "ci_low", "ci_high", "n_treated", "n_control", "post"]
    assert list(res.att_gt.columns[: len(cols)]) == cols
    assert res.att_gt["post"].dtype == bool
    assert (res.att_gt["n_treated"] > 0).all() and (res.att_gt["n_control"] > 0).all()
    assert res.tidy() is not res.att_gt and res.tidy().equals(res.att_gt)
    text = res.summary()
    assert "Callaway" in text and "Pre-trend" in text and str(res) == text
    assert "<table" in res._repr_html_()
    assert res.influence_functions().shape == (res.n_units, len(res.att_gt))
    for kind in ("simple", "dynamic", "group", "calendar"):
        agg = res.aggregate(kind)
        assert isinstance(agg, AggregateResult)
        tidy = agg.tidy()
        assert list(tidy.columns) == ["level", "estimate", "std_error", "ci_low", "ci_high", "crit"]
        assert tidy["level"].iloc[0] == "overall"
        assert agg.overall.ci == (agg.overall.ci_low, agg.overall.ci_high)
        assert agg.overall.se == agg.overall.std_error
        assert "Overall" in str(agg) and "Overall" in agg._repr_html_()
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for kind in ("dynamic", "simple"):
        ax = res.aggregate(kind).plot()
        assert ax.get_ylabel() == "ATT"
        plt.close(ax.figure)


def test_pretrend_test_needs_pre_periods() -> None:
    df = simulate(n_units=200, n_periods=4, cohorts=(2, 0), seed=15)
    with pytest.raises(EstimationError, match="No pre-treatment"):
        staggered_did(df, **SIM_ARGS).pretrend_test("cells")
    with pytest.raises(EstimationError, match="No event-study lead"):
        staggered_did(df, **SIM_ARGS).pretrend_test()
    res = staggered_did(simulate(n_units=400, n_periods=6, seed=16), **SIM_ARGS)
    pt = res.pretrend_test("cells")
    assert pt.df == pt.n_cells == int((~res.att_gt["post"]).sum()) and 0 <= pt.p_value <= 1


def test_logit_matches_statsmodels_mle() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(500), rng.normal(size=(500, 2))])
    y = (rng.random(500) < 1 / (1 + np.exp(-(x @ [0.2, 1.0, -0.5])))).astype(float)
    fit = logit_irls(x, y)
    ref = sm.Logit(y, x).fit(disp=0, tol=1e-14, maxiter=100)
    assert fit.converged
    np.testing.assert_allclose(fit.coef, ref.params, atol=1e-7)
    np.testing.assert_allclose(fit.cov_unscaled, ref.cov_params(), rtol=1e-5)


@pytest.mark.slow
def test_analytic_confidence_intervals_cover() -> None:
    """Coverage of the analytic 95% intervals for the overall effects over 150 replications."""
    hits = {k: 0 for k in ("simple", "dynamic", "group", "calendar")}
    n_rep = 150
    for rep in range(n_rep):
        res = staggered_did(simulate(n_units=400, n_periods=6, noise=1.0, seed=1000 + rep), **SIM_ARGS)
        for k in hits:
            o = res.aggregate(k).overall
            hits[k] += o.ci_low <= 2.0 <= o.ci_high
    for k, h in hits.items():
        assert 0.88 <= h / n_rep <= 0.99, (k, h / n_rep)


def test_event_time_pretrend_matches_dynamic_leads(mpdta):
    """pretrend_test('event_time') is the Wald test of the dynamic aggregation's leads.

    With a single lead (min_e=-1) the statistic is (estimate / std_error)^2 of
    aggte(type="dynamic") at e=-1, whose R values are in the mpdta reference.
    """
    res = staggered_did(mpdta, **MPDTA_ARGS)
    dyn = res.aggregate("dynamic").levels.set_index("level")
    one = res.pretrend_test("event_time", min_e=-1)
    assert one.n_cells == 1 and one.kind == "event_time"
    assert one.statistic == pytest.approx((dyn.loc[-1, "estimate"] / dyn.loc[-1, "std_error"]) ** 2, rel=1e-9)
    allp = res.pretrend_test("event_time")
    assert allp.n_cells == int((dyn.index < 0).sum()) == 3
    assert "event-study leads" in str(allp)
    # a joint test of 3 leads is at least as large as any single squared z of them (Wald property)
    assert allp.statistic >= one.statistic - 1e-12


def test_event_time_pretrend_size_under_null():
    """Under parallel trends, the event-time pre-trend test rejects near its nominal 5% rate."""
    reps = 200
    pvals = np.array([
        staggered_did(simulate(n_units=300, n_periods=8, cohorts=(4, 5, 6, 7, 0), noise=1.0, seed=5000 + s),
                      **SIM_ARGS, control="not_yet_treated").pretrend_test("event_time").p_value
        for s in range(reps)
    ])
    rate = float((pvals < 0.05).mean())
    # binomial(200, 0.05): 99.9% of rejection rates fall in [0.01, 0.11]
    assert 0.01 <= rate <= 0.11, rate


def test_bootstrap_progress_bar_changes_nothing(capsys):
    """progress=True draws a bar on stderr only; the bootstrap results are identical."""
    df = simulate(n_units=300, seed=21)
    quiet = staggered_did(df, **SIM_ARGS, bootstrap=True, n_boot=300, seed=5)
    shown = staggered_did(df, **SIM_ARGS, bootstrap=True, n_boot=300, seed=5, progress=True)
    pd.testing.assert_frame_equal(quiet.att_gt, shown.att_gt)
    a, b = quiet.aggregate("dynamic"), shown.aggregate("dynamic")
    pd.testing.assert_frame_equal(a.levels, b.levels)
    cap = capsys.readouterr()
    assert cap.out == "" and "bootstrap" in cap.err
