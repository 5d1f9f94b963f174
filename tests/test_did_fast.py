"""The covariate-free fast path of ``staggered_did`` against the per-block reference implementation.

Without covariates ``staggered_did`` computes every ATT(g,t), its influence
function and the aggregations as a linear map of the outcome matrix
(``models/did/_fast.py``, ``_linear.py``).  The per-block implementation that
it replaced is kept as ``_attgt._estimate_att_gt_reference`` (it is still the
path with covariates, checked against R ``did`` in ``test_did_cs.py``); here
both paths must agree to 1e-12 on every cell, aggregation, standard error,
influence function, bootstrap draw and note, on random panels covering both
comparison groups, both base periods, anticipation, clusters, panels without
never-treated units, late and first-period cohorts, and the cells that the
2x2 estimators cannot estimate (overlap and propensity-score trimming).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from equity_metrics.models.did import _attgt, _estimator, staggered_did
from equity_metrics.models.did._fast import fast_staggered_did
from equity_metrics.models.did._linear import LinearInfluence

KINDS = ("simple", "dynamic", "group", "calendar")
COLS = dict(outcome="y", unit="id", time="t", first_treated="g")


def random_panel(seed: int, *, n: int = 240, T: int = 9, never: float = 0.2, n_cohorts: int = 4,
                 offset: float = 0.0) -> pd.DataFrame:
    """Unit effects, unit-specific trends, heterogeneous dynamic effects, a cluster variable,
    cohorts in the first period and after the last one."""
    rng = np.random.default_rng(seed)
    cohorts = rng.choice(np.arange(1, T + 3), size=n_cohorts, replace=False)
    g = np.where(rng.random(n) < never, 0, rng.choice(cohorts, n))
    t = np.arange(1, T + 1)
    e = t[None, :] - g[:, None]
    treated = (g[:, None] > 0) & (e >= 0)
    y = (offset + rng.normal(0, 3, n)[:, None] + rng.normal(0, 0.2, n)[:, None] * t[None, :]
         + rng.normal(size=(n, T)) + np.where(treated, 0.5 + 0.1 * e, 0.0))
    return pd.DataFrame({"id": np.repeat(rng.permutation(n) + 100, T), "t": np.tile(t, n), "g": np.repeat(g, T),
                         "state": np.repeat(rng.integers(0, 12, n), T), "y": y.ravel()})


def fit(df: pd.DataFrame, reference: bool, monkeypatch: pytest.MonkeyPatch, **kw):
    with monkeypatch.context() as m:
        if reference:
            m.setattr(_estimator, "estimate_att_gt", _attgt._estimate_att_gt_reference)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the reference divides 0/0 in trimmed cells
            return staggered_did(df, **COLS, **kw)


def close(a, b, what: str) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, what
    assert np.array_equal(np.isnan(a), np.isnan(b)), what
    scale = max(1.0, float(np.nanmax(np.abs(b), initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * scale, err_msg=what)


def compare(fast, ref, *, bootstrap: bool = False) -> None:
    assert isinstance(fast._est.inf, LinearInfluence)
    assert not isinstance(ref._est.inf, LinearInfluence)
    assert fast.notes == ref.notes
    pd.testing.assert_frame_equal(fast.att_gt.drop(columns=["att", "std_error", "ci_low", "ci_high"]),
                                  ref.att_gt.drop(columns=["att", "std_error", "ci_low", "ci_high"]))
    for col in ("att", "std_error", "ci_low", "ci_high"):
        close(fast.att_gt[col], ref.att_gt[col], col)
    close(fast.influence_functions(), ref.influence_functions(), "influence functions")
    for kind in KINDS:
        for kw in ({}, {"max_e": 2}) if kind != "calendar" else ({},):
            a, b = fast.aggregate(kind, **kw), ref.aggregate(kind, **kw)
            what = f"{kind} {kw}"
            assert a.notes == b.notes, what
            assert np.array_equal(a.levels["level"], b.levels["level"]), what
            for col in ("estimate", "std_error", "ci_low", "ci_high"):
                close(a.levels[col], b.levels[col], f"{what} {col}")
            close([a.overall.estimate, a.overall.std_error], [b.overall.estimate, b.overall.std_error], what)
            close(a.influence, b.influence, f"{what} influence")
            close(a.overall_influence, b.overall_influence, f"{what} overall influence")
            if bootstrap:
                assert a.crit_value == pytest.approx(b.crit_value, rel=1e-12), what
    for kind in ("event_time", "cells"):
        try:
            pa = fast.pretrend_test(kind)
        except Exception as exc:  # noqa: BLE001 - both paths must fail alike
            with pytest.raises(type(exc)):
                ref.pretrend_test(kind)
            continue
        pb = ref.pretrend_test(kind)
        assert pa.df == pb.df and pa.notes == pb.notes
        assert pa.statistic == pytest.approx(pb.statistic, rel=1e-9)


CASES = [
    dict(control="never_treated"),
    dict(control="not_yet_treated"),
    dict(control="not_yet_treated", base_period="universal"),
    dict(control="never_treated", base_period="universal", method="ipw"),
    dict(control="not_yet_treated", anticipation=1, method="reg"),
    dict(control="never_treated", anticipation=2),
    dict(control="not_yet_treated", cluster="state"),
    dict(control="never_treated", cluster="state", base_period="universal", anticipation=1),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_fast_path_equals_reference(case: int, monkeypatch: pytest.MonkeyPatch) -> None:
    kw = CASES[case]
    df = random_panel(case, offset=50.0 * (case % 2))
    fast, ref = fit(df, False, monkeypatch, **kw), fit(df, True, monkeypatch, **kw)
    compare(fast, ref)


def test_fast_path_without_never_treated_and_with_bootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    df = random_panel(11, never=0.0, n_cohorts=5)
    kw = dict(control="not_yet_treated", bootstrap=True, n_boot=199, seed=3)
    fast, ref = fit(df, False, monkeypatch, **kw), fit(df, True, monkeypatch, **kw)
    assert any("No never-treated units" in n for n in fast.notes)
    compare(fast, ref, bootstrap=True)
    kw = dict(control="not_yet_treated", bootstrap=True, n_boot=99, seed=4, cluster="state")
    compare(fit(df, False, monkeypatch, **kw), fit(df, True, monkeypatch, **kw), bootstrap=True)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_unestimable_cells_match_reference(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cohort of 300 against one never-treated unit: dr/ipw trim it (NaN cells, NaN influence functions);
    a cohort of 1,500 against it violates overlap (NaN cells with a note); reg estimates both."""
    rng = np.random.default_rng(5)
    T = 5
    for sizes in ((300, 100), (1500, 40)):
        g = np.r_[np.full(sizes[0], 3), np.full(sizes[1], 4), [0]]
        n = g.size
        df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                           "g": np.repeat(g, T), "y": rng.normal(size=n * T)})
        for control in ("never_treated", "not_yet_treated"):
            fast = fit(df, False, monkeypatch, control=control, method=method)
            ref = fit(df, True, monkeypatch, control=control, method=method)
            compare(fast, ref)
            nan_cells = fast.att_gt["att"].isna()
            assert nan_cells.any() == (method != "reg")
    assert any("Overlap violated" in n for n in ref.notes) == (method != "reg")


def test_methods_coincide_without_covariates(monkeypatch: pytest.MonkeyPatch) -> None:
    df = random_panel(21)
    tabs = [fit(df, True, monkeypatch, method=m, control="not_yet_treated").att_gt for m in ("dr", "ipw", "reg")]
    for t in tabs[1:]:
        close(t["att"], tabs[0]["att"], "att")
        close(t["std_error"], tabs[0]["std_error"], "se")


@pytest.mark.parametrize("control,base_period", [("not_yet_treated", "varying"), ("never_treated", "universal")])
def test_private_entry_point_matches_staggered_did(control: str, base_period: str) -> None:
    df = random_panel(31, n=400, T=10, n_cohorts=6)
    res = staggered_did(df, **COLS, control=control, base_period=base_period)
    wide = df.pivot(index="id", columns="t", values="y")
    g = df.groupby("id")["g"].first().loc[wide.index].to_numpy()
    out = fast_staggered_did(wide.to_numpy(), g, periods=wide.columns.to_numpy(), control=control,
                             base_period=base_period)
    assert out.notes == res.notes
    close(out.att, res.att_gt["att"], "att")
    ok = ~res.att_gt["std_error"].isna().to_numpy()
    close(out.std_error[ok], res.att_gt["std_error"][ok], "cell se")
    for kind in KINDS:
        agg, mine = res.aggregate(kind), out.aggregations[kind]
        np.testing.assert_array_equal(mine.levels, agg.levels["level"].to_numpy(float))
        close(mine.estimates, agg.levels["estimate"], kind)
        # standard errors from within-cohort cross-products: same numbers up to their rounding
        np.testing.assert_allclose(mine.std_error, agg.levels["std_error"], rtol=1e-9)
        assert mine.overall == pytest.approx(agg.overall.estimate, rel=1e-12, abs=1e-12)
        assert mine.overall_se == pytest.approx(agg.overall.std_error, rel=1e-9)
