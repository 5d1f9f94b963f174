"""Threshold test building blocks (fast): the differentiable Beta tail, the diagnostics, the counts helper,
the OPP-layout state generator, input checks. No MCMC here; fits are in test_threshold.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equity_metrics.errors import DataValidationError, OptionError
from equity_metrics.models.threshold import threshold_counts, threshold_test
from equity_metrics.models.threshold._data import prepare_counts
from equity_metrics.models.threshold._diagnostics import ess, ess_bulk, ess_tail, rank_rhat, rhat, split_chains
from equity_metrics.models.threshold._simulate import flat_rates, mixture_rates, mixture_threshold_probability

jax = pytest.importorskip("jax")
numpyro = pytest.importorskip("numpyro")


@pytest.fixture(scope="module")
def x64():
    numpyro.enable_x64()


def _grid(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    lam = np.exp(rng.uniform(-0.5, 5.5, n))
    phi = 1 / (1 + np.exp(-rng.uniform(-7, 1, n)))
    t = 1 / (1 + np.exp(-rng.uniform(-7, 2, n)))
    return t, lam * phi, lam * (1 - phi)


def test_beta_tail_matches_scipy_values_and_derivatives(x64):
    from scipy.special import betainc

    from equity_metrics.models.threshold._betainc import beta_upper_tail, beta_upper_tail_and_density_term

    t, a, b = _grid()
    ref = betainc(b, a, 1 - t)                     # P(X > t), X ~ Beta(a, b), by scipy (Boost)
    got = np.asarray(jax.jit(beta_upper_tail)(t, a, b))
    keep = ref > 1e-12
    assert np.max(np.abs(got - ref)[keep] / ref[keep]) < 1e-9
    # the recurrence term gives the tail of Beta(a + 1, b)
    s, dens = (np.asarray(v) for v in jax.jit(beta_upper_tail_and_density_term)(t, a, b))
    ref1 = betainc(b, a + 1, 1 - t)
    assert np.max(np.abs(s + dens - ref1)[keep] / ref1[keep]) < 1e-9
    # gradients in t, a and b against central differences of scipy (relative step 1e-6)
    g = jax.jit(jax.vmap(jax.grad(beta_upper_tail, argnums=(0, 1, 2))))(t[:600], a[:600], b[:600])
    t, a, b, k = t[:600], a[:600], b[:600], keep[:600]
    h = 1e-6
    fd = [(betainc(b, a, 1 - t * (1 + h)) - betainc(b, a, 1 - t * (1 - h))) / (2 * t * h),
          (betainc(b, a * (1 + h), 1 - t) - betainc(b, a * (1 - h), 1 - t)) / (2 * a * h),
          (betainc(b * (1 + h), a, 1 - t) - betainc(b * (1 - h), a, 1 - t)) / (2 * b * h)]
    for got_g, ref_g in zip(g, fd):
        got_g = np.asarray(got_g)
        # the finite differences themselves carry ~1e-8 absolute error (scipy's rounding / step)
        np.testing.assert_allclose(got_g[k], ref_g[k], rtol=1e-4, atol=1e-6)


def test_flat_rates_match_numerical_integration():
    from scipy import integrate, stats

    t, phi, lam = 0.12, 0.04, 9.0
    a, b = lam * phi, lam * (1 - phi)
    sr, hr = flat_rates(t, phi, lam)
    assert sr == pytest.approx(stats.beta.sf(t, a, b), rel=1e-10)
    mean_above = integrate.quad(lambda x: x * stats.beta.pdf(x, a, b), t, 1)[0] / stats.beta.sf(t, a, b)
    assert hr == pytest.approx(mean_above, rel=1e-8)


def test_mixture_rates_and_threshold_probability():
    from scipy.stats import norm

    thr, phi, delta = 1.8, 0.05, 1.6
    sr, hr = mixture_rates(thr, phi, delta)
    assert sr == pytest.approx(phi * norm.sf(thr - delta) + (1 - phi) * norm.sf(thr))
    assert hr == pytest.approx(phi * norm.sf(thr - delta) / sr)
    p = mixture_threshold_probability(thr, phi, delta)
    # Bayes' rule at the threshold signal
    assert p == pytest.approx(phi * norm.pdf(thr - delta) / (phi * norm.pdf(thr - delta) + (1 - phi) * norm.pdf(thr)))


def test_diagnostics_equal_numpyro_and_theory_on_ar1_chains():
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    rng = np.random.default_rng(0)
    p, c, n = 3, 4, 2000
    x = np.zeros((p, c, n))
    e = rng.normal(size=(p, c, n))
    rhos = [0.0, 0.5, 0.9]
    for i, r in enumerate(rhos):
        for t in range(1, n):
            x[i, :, t] = r * x[i, :, t - 1] + e[i, :, t]
    mine = ess(x)
    np.testing.assert_allclose(mine, [effective_sample_size(x[i]) for i in range(p)], rtol=1e-8)
    # AR(1): ESS = N (1 - rho) / (1 + rho)
    np.testing.assert_allclose(mine, [c * n * (1 - r) / (1 + r) for r in rhos], rtol=0.12)
    np.testing.assert_allclose(rhat(split_chains(x)), [split_gelman_rubin(x[i]) for i in range(p)], rtol=1e-10)
    assert (rank_rhat(x) < 1.02).all() and (ess_bulk(x) > 300).all() and (ess_tail(x) > 300).all()
    # chains stuck at different levels are flagged
    bad = x.copy()
    bad[:, 0] += 3
    assert (rank_rhat(bad) > 1.1).all()


def test_threshold_counts_from_read_opp(tmp_path):
    from equity_metrics import read_opp
    from equity_metrics.datasets import generate_opp_state

    st = generate_opp_state(counties=5, median_stops=150, seed=3)
    df = st.stops.copy()
    # unknown search flags, an unknown outcome of a search and another race are dropped and counted
    df.loc[0, "search_conducted"] = "NA"
    searched = df.index[df["search_conducted"].eq("TRUE") & (df.index > 1)]
    df.loc[searched[0], "contraband_found"] = "NA"
    df.loc[1, "subject_race"] = "asian/pacific islander"
    p = tmp_path / "xx_statewide.csv"
    df.to_csv(p, index=False)
    res = read_opp(p, tz="America/Chicago")
    assert "county_name" in res.data.columns
    c = threshold_counts(res)
    assert c.attrs["dropped"]["search_unknown"] == 1
    assert c.attrs["dropped"]["search_outcome_unknown"] == 1
    assert c.attrs["dropped"]["other_group"] == 1
    assert int(c["stops"].sum()) == len(df) - 3
    # everything else matches the generator's exact counts
    m = c.merge(st.truth, on=["area", "group"], suffixes=("", "_true"))
    assert len(m) == len(st.truth)
    assert ((m["stops_true"] - m["stops"]) <= 2).all() and ((m["searches_true"] - m["searches"]) <= 1).all()
    assert c["area"].tolist()[0] == st.truth.groupby("area")["stops"].sum().idxmax()
    assert list(c["group"].unique()) == ["White", "Black", "Hispanic"]


def test_state_generator_is_seeded_and_counts_are_exact():
    from equity_metrics.datasets import generate_opp_state

    a = generate_opp_state(counties=4, median_stops=100, seed=9)
    b = generate_opp_state(counties=4, median_stops=100, seed=9)
    pd.testing.assert_frame_equal(a.stops, b.stops)
    c = threshold_counts(a.stops.assign(ethnicity=a.stops["subject_race"].map({"white": "White", "black": "Black",
                                                                               "hispanic": "Hispanic"}),
                                        search_conducted=a.stops["search_conducted"].eq("TRUE"),
                                        hit=a.stops["contraband_found"].map({"TRUE": True, "FALSE": False})))
    m = c.merge(a.truth, on=["area", "group"], suffixes=("", "_true"))
    assert (m["stops"] == m["stops_true"]).all() and (m["searches"] == m["searches_true"]).all()
    assert (m["hits"] == m["hits_true"]).all()
    agg = a.aggregate_truth()
    assert agg["group"].tolist() == ["White", "Black", "Hispanic"] and agg["threshold"].between(0, 1).all()


def _counts():
    return pd.DataFrame({"area": ["a", "a", "b", "b"], "group": ["White", "Black"] * 2, "stops": [10, 10, 10, 10],
                         "searches": [2, 3, 1, 2], "hits": [1, 1, 0, 1]})


def test_input_errors_say_what_to_do():
    with pytest.raises(DataValidationError, match="exceeds"):
        prepare_counts(_counts().assign(hits=[5, 1, 0, 1]), area="area", group="group", stops="stops",
                       searches="searches", hits="hits", geography=None, reference_group="White")
    with pytest.raises(DataValidationError, match="reference_group"):
        threshold_test(_counts(), reference_group="white")
    with pytest.raises(DataValidationError, match="more than once"):
        threshold_test(pd.concat([_counts(), _counts().iloc[:1]]))
    with pytest.raises(DataValidationError, match="lacks column"):
        threshold_test(_counts().rename(columns={"hits": "finds"}))
    with pytest.raises(DataValidationError, match="at least two areas"):
        threshold_test(_counts().iloc[:2])
    with pytest.raises(OptionError, match="model="):
        threshold_test(_counts(), model="beta")
    with pytest.raises(OptionError, match="chains"):
        threshold_test(_counts(), chains=0)


def test_prepare_pins_first_area_in_input_order_and_puts_reference_first():
    c = _counts().iloc[[3, 2, 1, 0]]
    p = prepare_counts(c, area="area", group="group", stops="stops", searches="searches", hits="hits",
                       geography=None, reference_group="White")
    assert p.areas == ["b", "a"] and p.groups == ["White", "Black"]
    assert p.area_idx.tolist() == [0, 0, 1, 1] and p.group_idx.tolist() == [0, 1, 0, 1]
    assert p.table["area"].tolist() == ["b", "b", "a", "a"]
