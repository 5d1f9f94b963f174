"""efficient_staggered placebo (pre-treatment) event times, their covariance, and HonestDiD on the result.

The placebo estimates are checked against a direct computation from the unit-level outcomes (cohort
means written out by hand, not the module's weight matrices) and, with ``beta="cs"``, against
``staggered_did(..., control="not_yet_treated", base_period="universal")`` (which reproduces R ``did``;
R: ``did::att_gt(..., control_group = "notyettreated", base_period = "universal")`` then
``aggte(type = "dynamic")``). The design-based (Neyman) covariance is checked against the unit-level
formula ``sum_g cov_g(z_j, z_k) / N_g`` of Roth & Sant'Anna (2023), eq. (7).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics.errors import OptionError
from equity_metrics.models.did import staggered_did
from equity_metrics.models.efficient import efficient_staggered

KW = dict(outcome="y", unit="id", time="t", first_treated="g")
PRE = [-5, -4, -3, -2]
POST = [0, 1, 2]


def _data(seed=3, n=400, T=8, effect=0.1):
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < 0.3, 0, rng.choice([4, 6, 7], n))
    y = rng.normal(size=(n, T)).cumsum(1) * 0.3 + rng.normal(size=n)[:, None]
    y = y + effect * ((g[:, None] > 0) & (np.arange(1, T + 1)[None, :] >= g[:, None]))
    d = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                      "g": np.repeat(g, T), "y": y.ravel()})
    return d, y, np.where(g == 0, np.inf, g).astype(float)


def _unit_weights(y, g, ell):
    """Per-unit contributions ``(a_i, c_i)`` of the placebo at event time ``ell`` (periods 1..T): for each
    cohort h with a later cohort, weight N_h / N_eligible; h's units get +y(h+ell) (a) and +y(h-1) (c), units
    of cohorts g' > h (and never treated) get -N_g'/N_control times the same; the estimate is sum_i a_i / N_g(i)
    minus beta times sum_i c_i / N_g(i)."""
    cohorts = np.unique(g)
    n_g = {h: int(np.sum(g == h)) for h in cohorts}
    elig = [h for h in cohorts if np.isfinite(h) and h < cohorts.max() and h + ell >= 1]
    tot = sum(n_g[h] for h in elig)
    a, c = np.zeros(len(g)), np.zeros(len(g))
    for h in elig:
        w = n_g[h] / tot
        ctrl = g > h
        nc = ctrl.sum()
        t, b = int(h + ell) - 1, int(h - 1) - 1  # column index of period h + ell and h - 1
        own = g == h
        a[own] += w * y[own, t]
        c[own] += w * y[own, b]
        a[ctrl] -= w * np.array([n_g[x] for x in g[ctrl]]) / nc * y[ctrl, t]
        c[ctrl] -= w * np.array([n_g[x] for x in g[ctrl]]) / nc * y[ctrl, b]
    return a, c


def _cohort_sum(z, g):
    """sum_g mean of z over cohort g (the estimator is sum_g A_g' Ybar_g)."""
    return sum(z[g == h].mean() for h in np.unique(g))


def test_placebo_estimates_match_direct_computation_and_cs_universal():
    d, y, g = _data()
    cs = efficient_staggered(d, **KW, estimand="eventstudy", beta="cs", event_times=PRE + POST, n_fisher=0)
    eff = efficient_staggered(d, **KW, estimand="eventstudy", event_times=PRE + POST, n_fisher=0)
    assert cs.table["level"].tolist() == [str(e) for e in PRE + POST]
    ref = staggered_did(d, **KW, control="not_yet_treated", base_period="universal", method="reg").aggregate("dynamic")
    lv = ref.levels.set_index("level")["estimate"]
    for j, ell in enumerate(PRE):
        a, c = _unit_weights(y, g, ell)
        direct_a, direct_c = _cohort_sum(a, g), _cohort_sum(c, g)
        assert cs.table["estimate"].iloc[j] == pytest.approx(direct_a - direct_c, abs=1e-12)
        assert cs.table["estimate"].iloc[j] == pytest.approx(lv[ell], abs=1e-10)
        b = eff.table["beta"].iloc[j]
        assert 0 < b < 2 and b != pytest.approx(1.0, abs=1e-6)
        assert eff.table["estimate"].iloc[j] == pytest.approx(direct_a - b * direct_c, abs=1e-12)
    # post-treatment rows are unchanged by asking for placebos
    post_only = efficient_staggered(d, **KW, estimand="eventstudy", event_times=POST, n_fisher=0)
    np.testing.assert_allclose(eff.table["estimate"].iloc[len(PRE):], post_only.table["estimate"], rtol=1e-12)
    np.testing.assert_allclose(eff.table["std_error"].iloc[len(PRE):], post_only.table["std_error"], rtol=1e-12)


def test_placebo_neyman_covariance_matches_unit_level_formula():
    d, y, g = _data()
    cs = efficient_staggered(d, **KW, estimand="eventstudy", beta="cs", event_times=PRE, n_fisher=0)
    z = []
    for ell in PRE:
        a, c = _unit_weights(y, g, ell)
        z.append(a - c)
    z = np.array(z)  # (rows, units)
    want = np.zeros((len(PRE), len(PRE)))
    for h in np.unique(g):
        sel = g == h
        want += np.cov(z[:, sel], ddof=1) / sel.sum()
    np.testing.assert_allclose(cs.vcov_neyman.to_numpy(), want, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(cs.table["std_error_neyman"], np.sqrt(np.diag(want)), rtol=1e-10)
    assert (cs.table["std_error"] <= cs.table["std_error_neyman"] + 1e-15).all()


def test_honest_did_accepts_efficient_event_study():
    d, _, _ = _data()
    r = efficient_staggered(d, **KW, estimand="eventstudy", event_times=PRE + POST, n_fisher=0)
    inp = em.models.event_study_inputs(r)
    assert (inp.num_pre, inp.num_post) == (len(PRE), len(POST))
    assert inp.event_times.tolist() == PRE + POST
    np.testing.assert_allclose(inp.sigma, r.vcov.to_numpy(), rtol=0)
    h = em.honest_did(r, m=[0.5, 1.0], grid_points=200)
    o = h.original
    assert o["estimate"] == pytest.approx(r.table["estimate"].iloc[len(PRE)], rel=1e-12)
    assert o["std_error"] == pytest.approx(r.table["std_error"].iloc[len(PRE)], rel=1e-12)
    assert np.isfinite(h.table["lb"]).all() and (h.table["lb"] < h.table["ub"]).all()
    assert h.breakdown is not None and h.breakdown > 0


def test_placebo_options():
    d, _, _ = _data(n=200)
    with pytest.raises(OptionError, match="reference"):
        efficient_staggered(d, **KW, estimand="eventstudy", event_times=[-2, -1, 0], n_fisher=0)
    r = efficient_staggered(d, **KW, estimand="eventstudy", event_times=[-9, -2, 0], n_fisher=49, seed=1)
    assert r.table["level"].tolist() == ["-2", "0"]
    assert any("event time -9" in n for n in r.notes)
    assert r.table["fisher_p_value"].between(0, 1).all()
