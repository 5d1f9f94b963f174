"""The threshold test fitted by NUTS (NumPyro).

Fast tests fit a tiny problem with few draws (a smoke test of the fit and of the results protocol,
not of the statistics). The slow tests (``-m slow``) check recovery: counts simulated from each
model with planted thresholds (area effects drawn from the model's priors), fitted with modest
draws (2 chains x 400 + 400, fewer than the published 5 x 2,500 to keep CI short), must give 95%
credible intervals that cover the planted area x group thresholds at a near-nominal rate and
aggregate intervals that cover the planted aggregate thresholds; and identical data with a fixed
seed must give identical posteriors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("numpyro")

from equity_metrics.models import ThresholdTestResult, threshold_test  # noqa: E402
from equity_metrics.models.threshold._simulate import simulate_counts  # noqa: E402

GROUPS = ["White", "Black", "Hispanic"]


def simulated(model: str, areas: int, seed: int, lo: int = 400, hi: int = 3000):
    rng = np.random.default_rng(seed)
    stops = rng.integers(lo, hi, (areas, len(GROUPS)))
    sim = simulate_counts(stops, model=model, seed=seed + 1)
    return pd.DataFrame([dict(area=f"area {i:02d}", group=g, stops=int(stops[i, j]), searches=int(sim["searches"][i, j]),
                              hits=int(sim["hits"][i, j]), truth=float(sim["threshold"][i, j]))
                         for i in range(areas) for j, g in enumerate(GROUPS)])


@pytest.fixture(scope="module")
def tiny_flat():
    df = simulated("flat", 4, seed=2)
    return df, threshold_test(df, chains=2, warmup=80, draws=80, seed=3)


def test_tiny_flat_fit_gives_the_results_protocol(tiny_flat):
    df, res = tiny_flat
    assert isinstance(res, ThresholdTestResult) and res.model == "flat"
    t = res.tidy()
    assert t[["area", "group"]].values.tolist() == df[["area", "group"]].values.tolist()   # input order kept
    assert {"threshold", "ci_low", "ci_high", "search_rate", "hit_rate", "pred_search_rate", "ppc_ok",
            "small_count"} <= set(t.columns)
    assert ((t["ci_low"] <= t["threshold"]) & (t["threshold"] <= t["ci_high"])).all()
    assert t[["threshold", "ci_low", "ci_high"]].stack().between(0, 1).all()
    # aggregate = area-stop-weighted mean of the cell thresholds (model_flat.stan's generated quantities;
    # the mean of a per-draw weighted mean is the weighted mean of the posterior means)
    w = t.groupby("area", sort=False)["stops"].transform("sum")
    expect = (t["threshold"] * w).groupby(t["group"], sort=False).sum() / w.groupby(t["group"], sort=False).sum()
    agg = res.aggregate.set_index("group")["threshold"]
    np.testing.assert_allclose(agg[GROUPS].to_numpy(), expect[GROUPS].to_numpy(), rtol=1e-10)
    table = res.table()
    assert table.columns.tolist()[:8] == ["group", "threshold", "ci_low", "ci_high", "diff_vs_white", "diff_ci_low",
                                          "diff_ci_high", "stops"]
    assert table["diagnostics_ok"].dtype == bool and table["group"].tolist() == GROUPS
    assert np.isnan(table.loc[0, "diff_vs_white"]) and table["diff_vs_white"].iloc[1:].notna().all()
    d = res.diagnostics
    assert d.chains == 2 and d.draws == 80 and d.divergences >= 0 and np.isfinite(d.rhat_max)
    assert not d.converged      # 80 draws cannot give 100 x 2 effective draws: the flag must say so
    assert "NOT OK" in str(res) and "White" in str(res)
    assert "<table" in res._repr_html_()
    assert res.diagnostics.tidy()["diagnostic"].tolist()[:4] == ["rhat_max", "ess_bulk_min", "ess_tail_min", "divergences"]


def test_threshold_plot(tiny_flat):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, res = tiny_flat
    axes = res.plot()
    assert len(axes) == 2 and axes[0].get_xlabel() == "White threshold" and axes[1].get_ylabel() == "Hispanic threshold"
    assert "[" in axes[0].get_title()            # the aggregate difference with its interval
    plt.close("all")


@pytest.mark.slow  # the docstring example of threshold_test fits a tiny hierarchical model in the fast suite
def test_tiny_hierarchical_fit():
    df = simulated("hierarchical", 4, seed=4)
    res = threshold_test(df, model="hierarchical", chains=1, warmup=60, draws=60, seed=1)
    assert res.model == "hierarchical" and res.weights == "group"
    t = res.tidy()
    assert t["threshold"].between(0, 1).all() and len(t) == 12
    assert res.settings["target_accept"] == 0.95 and res.settings["prior_scaling_factor"] == 1.0


@pytest.mark.slow
def test_same_data_same_seed_same_posterior():
    # the hierarchical model (compiles faster); the flat model goes through the same sampler code
    df = simulated("hierarchical", 3, seed=8)
    kw = dict(model="hierarchical", chains=2, warmup=50, draws=50)
    a = threshold_test(df, seed=11, **kw)
    b = threshold_test(df, seed=11, **kw)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    np.testing.assert_array_equal(a.aggregate_draws, b.aggregate_draws)
    c = threshold_test(df, seed=12, **kw)
    assert not np.array_equal(a.aggregate_draws, c.aggregate_draws)


def _recovery(model: str, areas: int, seed: int):
    df = simulated(model, areas, seed=seed)
    res = threshold_test(df, model=model, chains=2, warmup=400, draws=400, seed=seed)
    m = res.tidy().merge(df[["area", "group", "truth"]], on=["area", "group"])
    cover = ((m["truth"] >= m["ci_low"]) & (m["truth"] <= m["ci_high"])).mean()
    return df, res, m, cover


@pytest.mark.slow
@pytest.mark.parametrize("model", ["flat", "hierarchical"])
def test_planted_thresholds_recovered_with_nominal_coverage(model):
    df, res, m, cover = _recovery(model, areas=30, seed=21 if model == "flat" else 31)
    # 90 area x group cells: 95% intervals should cover about 95% (binomial sd 2.3 points)
    assert 0.86 <= cover <= 1.0, cover
    assert np.corrcoef(m["truth"], m["threshold"])[0, 1] > 0.7
    # planted aggregate thresholds (weighted as the fit weights them) inside the aggregate intervals
    w = df.groupby("area", sort=False)["stops"].transform("sum") if res.weights == "area" else df["stops"]
    truth = (df["truth"] * w).groupby(df["group"]).sum() / w.groupby(df["group"]).sum()
    agg = res.aggregate.set_index("group")
    for g in GROUPS:
        assert agg.loc[g, "ci_low"] <= truth[g] <= agg.loc[g, "ci_high"], (g, truth[g], agg.loc[g].to_dict())
    assert res.diagnostics.rhat_max < 1.05 and res.diagnostics.ppc_ok
