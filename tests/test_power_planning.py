"""Power and minimum detectable effects for a planned rollout (issue 13, section 2).

References and checks:

* Burlig, Preonas & Woerman (2020), "Panel data and experimental design", J. Dev. Econ. 144,
  eq. 8 (true parameters) and eq. 10 (covariances estimated from residuals), as coded in the
  Stata package ``pcpanel`` 3.0 (``pc_dd_analytic``, ``pc_dd_covar``; SSC, 14apr2020).
  No Stata here: the formula is checked against its closed-form special cases (iid errors:
  the textbook ``sigma2 (m + r) / (m r)``; AR(1) averages by brute force) and against
  simulation of the actual estimators on panels with AR(1) errors (the analytic and simulated
  MDE agree within Monte Carlo error).
* The simulation: planted proportional effects recovered (bias ~ 0), interval coverage near
  nominal and size near alpha, on synthetic AR(1) panels, on the bundled samples and (shared)
  on the real Chicago officer-month panel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import equity_metrics as em
from equity_metrics.errors import EstimationError, OptionError
from equity_metrics.models.planning import ar1_covariances, design_mde, error_covariance, panel_mde

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
CHICAGO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "chicago"


def ar1_panel(n: int, t: int, rho: float, *, seed: int, sigma: float = 1.0, level: float = 5.0) -> np.ndarray:
    """Units x periods: level + unit effect + period effect + stationary AR(1) error (variance sigma^2)."""
    rng = np.random.default_rng(seed)
    e = np.empty((n, t))
    e[:, 0] = rng.normal(scale=sigma, size=n)
    innov = sigma * np.sqrt(1 - rho**2)
    for k in range(1, t):
        e[:, k] = rho * e[:, k - 1] + rng.normal(scale=innov, size=n)
    return level + rng.normal(scale=0.5, size=(n, 1)) + rng.normal(scale=0.3, size=(1, t)) + e


# ----------------------------------------------------------------------------- analytic formula
def test_iid_closed_form_true_parameters():
    # iid errors: V = sigma2 (m + r) / (m r); MDE = (t_{1-a/2} + t_pow) sqrt(V / (P (1-P) J)), df = J(m+r)-(J+m+r)
    r = panel_mde(None, pre=3, post=2, units=500, share_treated=0.3,
                  covariances={"sigma2": 2.0, "cov_pre": 0.0, "cov_post": 0.0, "cov_cross": 0.0})
    row = r.tidy().iloc[0]
    df = 500 * 5 - (500 + 5)
    want = (stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)) * np.sqrt(2.0 * 5 / 6 / (0.3 * 0.7 * 500))
    assert row["df"] == df
    assert row["mde"] == pytest.approx(want, rel=1e-12)


def test_ar1_average_covariances_brute_force():
    rho, s2, m, r = 0.7, 1.5, 4, 3
    c = ar1_covariances(rho, s2, pre=m, post=r)
    pairs = lambda a, b: [s2 * rho ** abs(i - j) for i in a for j in b if i < j or set(a) != set(b)]
    assert c["cov_pre"] == pytest.approx(np.mean(pairs(range(m), range(m))))
    assert c["cov_post"] == pytest.approx(np.mean(pairs(range(m, m + r), range(m, m + r))))
    assert c["cov_cross"] == pytest.approx(np.mean([s2 * rho ** (j - i) for i in range(m) for j in range(m, m + r)]))


def test_estimated_covariances_give_the_true_parameter_mde():
    # BPW eq. 10 (residual-based) on a large AR(1) panel reproduces eq. 8 with the true AR(1) covariances
    y = ar1_panel(20000, 8, 0.6, seed=11)
    for m, r in [(1, 4), (4, 4), (3, 5)]:
        est = panel_mde(y, pre=m, post=r, units=1000, share_treated=0.5).tidy().iloc[0]
        true = panel_mde(None, pre=m, post=r, units=1000, share_treated=0.5,
                         covariances=ar1_covariances(0.6, 1.0, pre=m, post=r)).tidy().iloc[0]
        assert est["mde"] == pytest.approx(true["mde"], rel=0.03), (m, r)
    # and the residual covariances are what pc_dd_covar's definitions give for iid data
    c = error_covariance(np.random.default_rng(2).normal(size=(50000, 5)), pre=2, post=3)
    assert c["sigma2"] == pytest.approx(4 / 5, rel=0.02)
    assert c["cov_cross"] == pytest.approx(-1 / 5, rel=0.05)


def test_grid_shapes_and_monotonicity():
    y = ar1_panel(500, 12, 0.5, seed=3)
    r = panel_mde(y, pre=[2, 4], post=[2, 6], units=[200, 800], share_treated=[0.2, 0.5])
    t = r.tidy()
    assert len(t) == 16 and list(t.columns) == em.models.planning.PANEL_MDE_COLUMNS
    # 4x the units halves the MDE (same df order of magnitude)
    a = t.set_index(["units", "pre", "post", "share_treated"])["mde"]
    assert a[(800, 4, 6, 0.5)] / a[(200, 4, 6, 0.5)] == pytest.approx(0.5, rel=0.01)
    assert a[(200, 4, 6, 0.5)] < a[(200, 4, 6, 0.2)]
    assert "Burlig" in r.summary() and "<table" in r._repr_html_()


def test_panel_mde_refuses_bad_requests():
    y = ar1_panel(50, 6, 0.2, seed=1)
    with pytest.raises(EstimationError, match="fewer than pre"):
        panel_mde(y, pre=4, post=4)
    with pytest.raises(OptionError, match="share_treated"):
        panel_mde(y, pre=2, post=2, share_treated=1.2)
    with pytest.raises(OptionError, match="pre"):
        panel_mde(y, pre=0, post=2)


# ----------------------------------------------------------------------------- simulation vs analytic
@pytest.mark.parametrize("estimator,m_expected", [pytest.param("twfe", 5, marks=pytest.mark.slow), ("cs", 1)])
def test_analytic_mde_agrees_with_simulation_ar1(estimator, m_expected):
    """One date, 5 pre and 5 post months, AR(1) errors rho = 0.6: the analytic MDE (BPW, with the
    estimator's periods: all 5 pre months for the fixed-effects DiD, the one before training for
    Callaway & Sant'Anna) equals the simulated one within Monte Carlo error, and power at the
    analytic MDE is 80% within Monte Carlo error."""
    y = ar1_panel(1000, 10, 0.6, seed=7)
    base = y.mean()
    an = panel_mde(y, pre=m_expected, post=5, units=1000, share_treated=0.4).tidy().iloc[0]
    eff = -float(an["mde"]) / base
    r = em.power(y, schedule={"6": 400}, effect=eff, n_sims=300, estimator=estimator, seed=5)
    assert (r.pre, r.post) == (m_expected, 5)
    assert r.mde_analytic == pytest.approx(float(an["mde_share"]), rel=1e-9)
    assert abs(r.mde_simulated - r.mde_analytic) < 3 * r.mde_simulated_mcse, r.summary()
    t = r.tidy().set_index("effect")
    hoped = t.loc[eff]
    assert abs(hoped["power"] - 0.80) < 3 * np.sqrt(0.8 * 0.2 / 300) + 0.01, r.summary()
    assert abs(t.loc[0.0, "power"] - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 300), r.summary()
    coverage = t["coverage"].mean()  # 600 replications (no effect and the MDE)
    assert abs(coverage - 0.95) < 3 * np.sqrt(0.05 * 0.95 / 600), r.summary()
    assert abs(hoped["bias"]) < 3 * hoped["sd_estimate"] / np.sqrt(300)


@pytest.mark.parametrize("estimator", ["cs", "efficient"])
def test_schedule_mde_agrees_with_simulation_staggered(estimator):
    """Staggered schedule (3 cohorts + never treated), AR(1) errors: the analytic MDE for the exact schedule
    (the estimator's linear weights on cohort means with the history's covariance) equals the simulated one
    within Monte Carlo error."""
    y = ar1_panel(800, 12, 0.5, seed=21)
    r = em.power(y, schedule={"4": 150, "7": 150, "10": 150}, effect=-0.05, n_sims=300, estimator=estimator, seed=8)
    assert abs(r.mde_simulated - r.mde_schedule) < 3 * r.mde_simulated_mcse, r.summary()
    t = r.tidy().set_index("effect")
    assert abs(t.loc[0.0, "power"] - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 300), r.summary()


def test_matrix_paths_equal_the_public_estimators():
    """The simulation's fast paths (vectorised CS, Roth-Sant'Anna on the outcome matrix) give the public
    functions' numbers."""
    from equity_metrics.models._rollout_sim import _Runner

    rng = np.random.default_rng(4)
    y = rng.poisson(0.4, size=(300, 10)).astype(float)
    g = np.zeros(300)
    g[:60], g[60:120] = 4, 7
    for est in ("cs", "efficient"):
        fast = _Runner(est, 300, 10, 0.05)
        slow = _Runner(est, 300, 10, 0.05)
        slow.fast, slow._efficient_matrix = None, lambda y, g: None
        assert fast(y, g) == pytest.approx(slow(y, g), rel=1e-9, abs=1e-12), est


def test_power_result_protocol_and_determinism(tmp_path):
    y = ar1_panel(200, 8, 0.4, seed=2)
    kw = dict(schedule=[("4", 40), ("6", 40)], effect=-0.2, effects=[0.1], n_sims=30, seed=3)
    r1, r2 = em.power(y, **kw), em.power(y, **kw)
    pd.testing.assert_frame_equal(r1.tidy(), r2.tidy())
    t = r1.tidy()
    assert list(t.columns) == em.models._rollout_sim.POWER_COLUMNS
    assert t["effect"].tolist() == [-0.2, 0.0, 0.1]
    assert r1.verdict.startswith(("Yes", "No")) and "Monte Carlo" in r1.summary()
    assert "<table" in r1._repr_html_()
    assert r1.design()["units_trained"].iloc[0] == 80
    import matplotlib

    matplotlib.use("Agg")
    ax = r1.plot()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("simulated" in s for s in labels) and any("analytic" in s for s in labels)
    assert "200 units" in ax.get_title()
    r1.to_csv(tmp_path / "p.csv")
    assert (tmp_path / "p.csv").read_text().startswith("effect,")


def test_power_refuses_bad_schedules():
    y = ar1_panel(50, 6, 0.2, seed=1)
    with pytest.raises(OptionError, match="not a period"):
        em.power(y, schedule={"2099-01": 5}, effect=-0.1, n_sims=10)
    with pytest.raises(OptionError, match="first period"):
        em.power(y, schedule={"1": 5}, effect=-0.1, n_sims=10)
    with pytest.raises(OptionError, match="trains 60"):
        em.power(y, schedule={"3": 60}, effect=-0.1, n_sims=10)
    with pytest.raises(OptionError, match="estimator"):
        em.power(y, schedule={"3": 5}, effect=-0.1, n_sims=10, estimator="ols")
    with pytest.raises(OptionError, match="effect"):
        em.power(y, schedule={"3": 5}, effect=0, n_sims=10)


# ----------------------------------------------------------------------------- real (bundled) data
def test_sample_panel_never_treated_history_and_design_mde():
    panel = pd.read_csv(SAMPLES / "panel.csv")
    r = em.power(panel, outcome="uof", unit="officer_id", time="month", first_treated="cohort",
                 untreated="pre_period", schedule={"2019-04": 30, "2019-07": 30}, effect=-0.5, n_sims=40, seed=1)
    assert r.n_periods < 36 and r.n_units > 100  # every officer, months before the first training only
    assert any("before any was treated" in n for n in r.notes)
    assert 0 < r.base < 1 and np.isfinite(r.mde_analytic) and np.isfinite(r.mde_simulated)

    from equity_metrics.io.training import read_training_roster

    events = em.read_mapped(SAMPLES / "officer_events.csv", mapping=SAMPLES / "officer_events_mapping.toml")
    tr = read_training_roster(SAMPLES / "training.csv", mapping=SAMPLES / "training_mapping.toml")
    officers = pd.read_csv(SAMPLES / "officers.csv", dtype=str)
    p = em.build_panel(events, tr, unit="officer_id", outcome="use_of_force", officers=officers, balanced=True,
                       treated_from="completion")
    d = design_mde(p)
    assert d.pre == 1 and d.post >= 1 and 0 < d.share_treated < 1
    assert f"{d.mde_share:.0%}" in d.sentence and "untrained level" in d.sentence
    assert d.tidy()["mde_share"].iloc[0] == pytest.approx(d.mde / d.base)


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.skipif(not CHICAGO.exists(), reason=f"Chicago data not found at {CHICAGO}")
def test_chicago_design_mde_and_planned_rollout():
    """The real officer-month panel: the CIT design's MDE, and a planned rollout replayed on the
    never-trained officers' history recovers the planted effect with near-nominal coverage."""
    from equity_metrics.examples.chicago_cit import chicago_cit_panel

    panel = chicago_cit_panel(CHICAGO, period="M")
    d = design_mde(panel)
    assert d.units == 9189 and 0.5 < d.mde_share < 0.8 and d.cohorts == 41
    r = em.power(panel, schedule={"2014-01": 300, "2014-07": 300, "2015-01": 300}, effect=-0.3, n_sims=60,
                 estimator="cs", seed=2)
    t = r.tidy().set_index("effect")
    assert abs(t.loc[-0.3, "bias"]) < 3 * t.loc[-0.3, "sd_estimate"] / np.sqrt(60)
    assert t.loc[-0.3, "coverage"] > 0.8 and t.loc[0.0, "power"] < 0.2
