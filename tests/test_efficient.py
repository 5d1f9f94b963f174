"""Tests for equity_metrics.models.efficient (Roth & Sant'Anna 2023).

Reference values: tests/results/did_classic_reference.csv, rows ``staggered_mpdta``
(R 4.5.2, staggered 1.2.2; each row names its R call). The mapping to
Callaway & Sant'Anna is checked against ``staggered_did`` (which reproduces R
``did``) and against R ``did`` output in ../shared/reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from equity_metrics.errors import DataValidationError, EstimationError, OptionError
from equity_metrics.models.did import staggered_did
from equity_metrics.models.efficient import EFFICIENT_COLUMNS, efficient_staggered

from conftest import need_shared

REF = pd.read_csv(Path(__file__).parent / "results" / "did_classic_reference.csv")
KW = dict(outcome="lemp", unit="countyreal", time="year", first_treated="first.treat")
AGG = {"simple": "simple", "cohort": "group", "calendar": "calendar"}


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(need_shared("reference", "mpdta.csv"))


def simulate(n=500, T=8, cohorts=(3, 5, 7), never=0.0, effect=0.5, seed=0, rho=0.7, hetero=0.0):
    """Random timing: cohorts drawn independently of outcomes; AR(1) errors; y = a_i + l_t + tau + e."""
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < never, 0, rng.choice(cohorts, n))
    a = rng.normal(0, 1, n)
    lam = rng.normal(0, 0.5, T)
    eps = np.zeros((n, T))
    eps[:, 0] = rng.normal(size=n)
    for t in range(1, T):
        eps[:, t] = rho * eps[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=n)
    t_ = np.arange(1, T + 1)
    treated = (g[:, None] > 0) & (t_[None, :] >= g[:, None])
    tau_i = effect + hetero * rng.normal(size=n)
    y = a[:, None] + lam[None, :] + eps + treated * tau_i[:, None]
    return pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t_, n), "g": np.repeat(g, T), "y": y.ravel()})


SIM_KW = dict(outcome="y", unit="id", time="t", first_treated="g")


# ----------------------------------------------------------------------------- R staggered on mpdta
@pytest.mark.parametrize("estimand", ["simple", "cohort", "calendar"])
@pytest.mark.parametrize("beta", ["efficient", "cs"])
def test_mpdta_matches_r_staggered(mpdta, estimand, beta):
    r = efficient_staggered(mpdta, **KW, estimand=estimand, beta=beta, n_fisher=0).overall
    label = f"{estimand}_{beta}"
    for qty in ("estimate", "std_error_neyman"):
        row = REF[(REF.check == "staggered_mpdta") & (REF.quantity == qty) & (REF.label == label)].iloc[0]
        assert r[qty] == pytest.approx(row.value, abs=row.abs_tol), (label, qty)
    assert r["std_error"] <= r["std_error_neyman"] + 1e-15


def test_mpdta_cs_equals_r_did_not_yet_treated(mpdta, shared_reference):
    """beta='cs', simple = R did::aggte(att_gt(control_group = 'notyettreated'), type = 'simple')."""
    ref = pd.read_csv(shared_reference / "mpdta_did_reference.csv")
    v = ref[(ref.spec == "dr_nyt_nocov") & (ref.kind == "simple")].estimate.item()
    r = efficient_staggered(mpdta, **KW, beta="cs", n_fisher=0)
    assert r.overall["estimate"] == pytest.approx(v, abs=1e-10)


# ----------------------------------------------------------------------------- mapping to staggered_did
@pytest.mark.parametrize("beta,control", [("cs", "not_yet_treated"), ("sa", "never_treated")])
def test_mpdta_mapping_to_staggered_did(mpdta, beta, control):
    cs = staggered_did(mpdta, **KW, control=control, method="reg")
    for est, agg in AGG.items():
        r = efficient_staggered(mpdta, **KW, estimand=est, beta=beta, n_fisher=0)
        assert r.overall["estimate"] == pytest.approx(cs.aggregate(agg).overall.estimate, abs=1e-12), est
    es = efficient_staggered(mpdta, **KW, estimand="eventstudy", beta=beta, n_fisher=0).table
    dyn = cs.aggregate("dynamic").levels.set_index("level")["estimate"]
    for lev, val in zip(es["level"], es["estimate"]):
        assert val == pytest.approx(dyn[int(lev)], abs=1e-12)


def test_cs_mapping_without_never_treated_and_per_level():
    d = simulate(n=400, T=8, cohorts=(3, 4, 6, 8), seed=3)
    cs = staggered_did(d, **SIM_KW, control="not_yet_treated", method="reg")
    for est, agg in AGG.items():
        r = efficient_staggered(d, **SIM_KW, estimand=est, beta="cs", n_fisher=0)
        assert r.overall["estimate"] == pytest.approx(cs.aggregate(agg).overall.estimate, abs=1e-12)
        if est != "simple":
            lv = cs.aggregate(agg).levels.set_index("level")["estimate"]
            for lab, val in zip(r.table["level"].iloc[1:], r.table["estimate"].iloc[1:]):
                assert val == pytest.approx(lv[int(float(lab))], abs=1e-12)
    assert any("no never-treated" in n for n in r.notes)


# ----------------------------------------------------------------------------- properties
def test_efficient_se_not_larger_than_cs_and_dim():
    d = simulate(n=600, seed=4, never=0.2)
    se = {b: efficient_staggered(d, **SIM_KW, beta=b, n_fisher=0).overall["std_error_neyman"] for b in ("efficient", "cs", "dim")}
    assert se["efficient"] <= se["cs"] + 1e-15 and se["efficient"] <= se["dim"] + 1e-15
    allc = efficient_staggered(d, **SIM_KW, comparisons="all", n_fisher=0).overall
    assert allc["std_error_neyman"] <= se["efficient"] + 1e-12  # larger class, at least as efficient (plug-in)
    fixed = efficient_staggered(d, **SIM_KW, beta=0.5, n_fisher=0).overall
    assert fixed["beta"] == 0.5


def test_planted_effect_recovered_and_fisher():
    d = simulate(n=800, T=8, cohorts=(3, 5, 7), never=0.25, effect=0.4, seed=5)
    r = efficient_staggered(d, **SIM_KW, estimand="eventstudy", n_fisher=199, seed=1)
    t = r.table
    assert list(t.columns) == EFFICIENT_COLUMNS
    assert np.all(np.abs(t["estimate"] - 0.4) < 4 * t["std_error"])
    assert (t["fisher_p_value"] <= 0.01).all()
    again = efficient_staggered(d, **SIM_KW, estimand="eventstudy", n_fisher=199, seed=1).table
    pd.testing.assert_frame_equal(t, again)  # seeded
    assert r.vcov.shape == (len(t), len(t))
    assert np.allclose(np.diag(r.vcov), t["std_error"] ** 2)


def test_many_small_cohorts():
    rng = np.random.default_rng(6)
    n, T = 500, 50
    g = rng.integers(2, 46, n)  # 44 cohorts of ~11 units
    d = simulate(n=n, T=T, cohorts=(2,), seed=6, effect=0.0)
    d["g"] = np.repeat(g, T)
    d["y"] = d["y"] + 0.3 * (d.t >= d.g)
    r = efficient_staggered(d, **SIM_KW, n_fisher=20)
    assert r.cohorts.shape[0] >= 40
    assert abs(r.overall["estimate"] - 0.3) < 4 * r.overall["std_error"]


def test_drops_and_errors():
    d = simulate(n=200, T=6, cohorts=(1, 3, 5), never=0.2, seed=7)
    d.loc[d.id == 0, "g"] = 4  # a singleton cohort
    with pytest.warns(UserWarning, match="single unit"):
        r = efficient_staggered(d, **SIM_KW, n_fisher=0)
    assert any("treated in or before the first period" in n for n in r.notes)
    assert 4.0 not in set(r.cohorts["cohort"])
    with pytest.raises(EstimationError, match="unbalanced"):
        efficient_staggered(d.iloc[1:], **SIM_KW, n_fisher=0)
    with pytest.raises(DataValidationError, match="consecutive"):
        efficient_staggered(d[d.t != 3], **SIM_KW, n_fisher=0)
    with pytest.raises(EstimationError, match="at least two cohorts"):
        efficient_staggered(d.assign(g=3), **SIM_KW, n_fisher=0)
    with pytest.raises(OptionError):
        efficient_staggered(d, **SIM_KW, beta="best")
    with pytest.raises(OptionError):
        efficient_staggered(d, **SIM_KW, estimand="eventstudy", event_times=[-1, 0])
    with pytest.raises(OptionError):
        efficient_staggered(d, **SIM_KW, event_times=[0])
    with pytest.raises(OptionError):
        efficient_staggered(d, **SIM_KW, n_fisher=-1)


def test_display_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    d = simulate(n=200, T=6, seed=8, never=0.3)
    r = efficient_staggered(d, **SIM_KW, estimand="cohort", n_fisher=0)
    assert "Roth & Sant'Anna" in str(r) and "<table" in r._repr_html_()
    assert r.plot() is not None
    es = efficient_staggered(d, **SIM_KW, estimand="eventstudy", n_fisher=0)
    assert es.plot() is not None
    import matplotlib.pyplot as plt

    plt.close("all")


# ----------------------------------------------------------------------------- simulations (slow)
@pytest.mark.slow
def test_sampling_variance_efficient_vs_cs():
    """Across random assignments of timing, the efficient estimator is unbiased and less variable than CS,
    and the Neyman standard error is conservative."""
    est = {"efficient": [], "cs": []}
    ses = []
    for s in range(300):
        d = simulate(n=300, T=6, cohorts=(3, 4, 5, 6), never=0.0, effect=0.5, seed=1000 + s, rho=0.9)
        for b in est:
            r = efficient_staggered(d, **SIM_KW, beta=b, n_fisher=0).overall
            est[b].append(r["estimate"])
            if b == "efficient":
                ses.append(r["std_error_neyman"])
    e, c = np.array(est["efficient"]), np.array(est["cs"])
    assert abs(e.mean() - 0.5) < 3 * e.std() / np.sqrt(e.size)
    assert e.std() < c.std()
    assert np.mean(ses) > 0.9 * e.std()


@pytest.mark.slow
def test_fisher_p_values_uniform_under_null():
    p = []
    for s in range(200):
        d = simulate(n=120, T=5, cohorts=(2, 3, 4, 5), never=0.0, effect=0.0, seed=5000 + s)
        p.append(efficient_staggered(d, **SIM_KW, n_fisher=99, seed=s).overall["fisher_p_value"])
    p = np.array(p)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert 0.01 <= np.mean(p <= 0.05) <= 0.10


# ----------------------------------------------------------------------------- vectorised Fisher test
def _fisher_inputs(d, **kw):
    """Arguments of the Fisher-test routine for a fit (captured from efficient_staggered)."""
    from equity_metrics.models import efficient as eff

    cap = {}
    orig = eff.fisher_counts

    def spy(*args, **kwargs):
        cap["args"] = args
        return orig(*args, **kwargs)

    eff.fisher_counts = spy
    try:
        efficient_staggered(d, **SIM_KW, n_fisher=1, **kw)
    finally:
        eff.fisher_counts = orig
    return list(cap["args"])


FISHER_CASES = [
    dict(estimand="simple"),
    dict(estimand="cohort", beta="cs"),
    dict(estimand="calendar", beta="sa"),
    dict(estimand="eventstudy", beta=0.5),
    dict(estimand="simple", beta="dim"),
]


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("case", range(len(FISHER_CASES)))
def test_vectorised_fisher_matches_permutation_loop(case, chunked, monkeypatch):
    """Same seed, same permutations: the batched test gives the counts of the one-at-a-time loop, and the
    whole permutation distribution agrees (counts at many thresholds, not only at the observed t)."""
    from equity_metrics.models import _efficient_fisher as ef

    if chunked:
        monkeypatch.setattr(ef, "_PROJ_MEMORY", 1)  # squares tables one row at a time (permutations replayed)
        monkeypatch.setattr(ef, "_CACHE", 1)  # outcomes gathered one permutation at a time
    kw = FISHER_CASES[case]
    d = simulate(n=240, T=7, cohorts=(3, 4, 6), never=0.2 if case % 2 else 0.0, effect=0.2, seed=40 + case)
    args = _fisher_inputs(d, **kw)
    fast = ef.fisher_statistics(*args[:8], 40, 7, memory=2**10, threads=2 if chunked else 1)  # several batches
    ref = ef.fisher_statistics_reference(*args[:8], 40, 7)
    for a, b in zip(fast, ref):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ef.fisher_counts(*args[:10], 40, 7), ef.fisher_counts_reference(*args[:10], 40, 7))
    if chunked:
        return
    r = efficient_staggered(d, **SIM_KW, n_fisher=49, seed=5, **kw).table
    monkeypatch.setattr("equity_metrics.models.efficient.fisher_counts", ef.fisher_counts_reference)
    r_ref = efficient_staggered(d, **SIM_KW, n_fisher=49, seed=5, **kw).table
    pd.testing.assert_frame_equal(r, r_ref)


MANY_COHORT_CASES = [
    dict(estimand="simple"),
    dict(estimand="cohort"),
    dict(estimand="cohort", beta="sa"),
    dict(estimand="calendar"),
    dict(estimand="calendar", beta=0.3),
    dict(estimand="eventstudy"),
    dict(estimand="eventstudy", beta="cs", event_times=[-6, -3, -2, 0, 1, 4]),
    dict(estimand="eventstudy", beta="dim", event_times=[-4, -2, 0, 2, 5]),
]


@pytest.mark.parametrize("case", range(len(MANY_COHORT_CASES)))
def test_vectorised_fisher_many_cohorts_matches_loop(case):
    """Many cohorts and periods (rows grouped by several earliest cohorts, leading-block solves of several
    sizes, both ways of gathering the refinement's columns): every estimand and beta gives the loop's
    statistics, and one or two threads give identical arrays."""
    from equity_metrics.models import _efficient_fisher as ef

    kw = MANY_COHORT_CASES[case]
    d = simulate(n=420, T=14, cohorts=(3, 4, 5, 7, 8, 10, 11, 13), never=0.15 if case % 2 else 0.0,
                 effect=0.3, seed=70 + case)
    args = _fisher_inputs(d, **kw)
    one = ef.fisher_statistics(*args[:8], 30, 11, memory=2**10, threads=1)
    two = ef.fisher_statistics(*args[:8], 30, 11, memory=2**10, threads=2)
    ref = ef.fisher_statistics_reference(*args[:8], 30, 11)
    for a, b, c in zip(one, two, ref):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)


def test_vectorised_fisher_reference_counts_default_size():
    """The public path (efficient_staggered, default batches and threads) gives the loop's p-values."""
    from equity_metrics.models import _efficient_fisher as ef

    d = simulate(n=300, T=10, cohorts=(3, 5, 6, 8), never=0.2, effect=0.1, seed=99)
    for est in ("cohort", "calendar", "eventstudy"):
        args = _fisher_inputs(d, estimand=est)
        np.testing.assert_array_equal(ef.fisher_counts(*args[:10], 60, 2),
                                      ef.fisher_counts_reference(*args[:10], 60, 2))


def test_vectorised_fisher_rank_deficient_cohorts():
    """Cohorts with fewer units than pre-periods: their pre-period covariance is singular and the refined
    variance goes through a pseudo-inverse whose cutoff (size x eps x largest eigenvalue) sits at rounding
    level, so which near-zero eigenvalues survive depends on rounding in either implementation (scipy's
    and numpy's eigensolvers already differ there). The Neyman statistics do not use it and must agree
    exactly; the refined counts may differ by a permutation or two."""
    from equity_metrics.models import _efficient_fisher as ef

    rng = np.random.default_rng(8)
    n, T = 120, 14
    d = simulate(n=n, T=T, cohorts=(2,), seed=8, effect=0.0)
    d["g"] = np.repeat(rng.choice([4, 9, 12, 13, 0], n, p=[0.05, 0.05, 0.3, 0.3, 0.3]), T)
    args = _fisher_inputs(d, estimand="cohort")
    fast = ef.fisher_statistics(*args[:8], 40, 3)
    ref = ef.fisher_statistics_reference(*args[:8], 40, 3)
    np.testing.assert_allclose(fast[1], ref[1], rtol=1e-9)
    n_g, des, times, glist = args[2], args[3], args[6], args[7]
    gmin = glist[np.argmax(np.abs(des.a).max(axis=2) > 0, axis=1)]
    full_rank = np.array([np.all(n_g[glist >= m] - 1 >= np.sum(times < m)) for m in gmin])
    assert full_rank.any() and not full_rank.all()
    np.testing.assert_allclose(fast[0][:, full_rank], ref[0][:, full_rank], rtol=1e-9)
    counts = ef.fisher_counts(*args[:10], 40, 3), ef.fisher_counts_reference(*args[:10], 40, 3)
    np.testing.assert_array_equal(counts[0][1], counts[1][1])
    assert np.abs(counts[0][0] - counts[1][0]).max() <= 2


LONG_PANEL_CASES = [
    dict(estimand="cohort"),
    dict(estimand="cohort", beta="cs"),
    dict(estimand="calendar"),
    dict(estimand="eventstudy", event_times=[-12, -5, -2, 0, 1, 3]),
]


@pytest.mark.parametrize("case", range(len(LONG_PANEL_CASES)))
def test_vectorised_fisher_long_pre_periods_matches_loop(case, monkeypatch):
    """Cohorts with 16+ pre-periods (rows solved in groups, each with a leading block of the inverse factor), rows
    weighting a cohort's pre-periods only and rows weighting its later periods (cov(pre, pa) split in two), the
    permutations kept between passes or drawn again, one or two threads: the loop's statistics every time."""
    from equity_metrics.models import _efficient_fisher as ef

    kw = LONG_PANEL_CASES[case]
    d = simulate(n=360, T=24, cohorts=(5, 9, 14, 18, 20, 22), never=0.15, effect=0.3, seed=90 + case)
    args = _fisher_inputs(d, **kw)
    des, times, glist = args[3], args[6], args[7]
    gmin = glist[np.argmax(np.abs(des.a).max(axis=2) > 0, axis=1)]
    if kw["estimand"] == "cohort":  # rows with many pre-periods: the half-factor path is exercised
        assert np.sum(times < gmin.max()) >= ef._HALF
    ref = ef.fisher_statistics_reference(*args[:8], 24, 13)
    one = ef.fisher_statistics(*args[:8], 24, 13, memory=2**10, threads=1)
    monkeypatch.setattr(ef, "_DRAWS_MEMORY", 0)  # permutations drawn again for the second pass
    two = ef.fisher_statistics(*args[:8], 24, 13, memory=2**10, threads=2)
    for a, b, c in zip(one, two, ref):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ef.fisher_counts(*args[:10], 24, 13), ef.fisher_counts_reference(*args[:10], 24, 13))


@pytest.mark.parametrize("case", [1, 2])
def test_vectorised_fisher_squares_row_chunks_replayed(case, monkeypatch):
    """Permutations not kept (drawn again) and squares tables one row at a time: each chunk of rows replays the
    permutations, and the statistics are those of the loop (and of the default path, bit for bit)."""
    from equity_metrics.models import _efficient_fisher as ef

    kw = FISHER_CASES[case]
    d = simulate(n=240, T=7, cohorts=(3, 4, 6), never=0.2, effect=0.2, seed=40 + case)
    args = _fisher_inputs(d, **kw)
    default = ef.fisher_statistics(*args[:8], 40, 7, memory=2**10, threads=1)
    monkeypatch.setattr(ef, "_PROJ_MEMORY", 1)
    monkeypatch.setattr(ef, "_DRAWS_MEMORY", 0)
    chunked = ef.fisher_statistics(*args[:8], 40, 7, memory=2**10, threads=2)
    ref = ef.fisher_statistics_reference(*args[:8], 40, 7)
    for a, b, c in zip(chunked, default, ref):
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
