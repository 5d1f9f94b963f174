"""Tests of the synthetic control (equity_metrics.models.synth).

No published data set is available offline (Abadie et al.'s Proposition 99 data is not invented here), so the
checks are: (a) a planted effect in simulated factor-model data is recovered by the post-intervention gap;
(b) a treated unit that is exactly a convex combination of donors gets exactly those weights; (c) under no
effect, with exchangeable units, the placebo-in-space p-value is uniform on {1, ..., J+1}/(J+1); and the
simplex least-squares solver agrees with an independent general-purpose optimiser.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from equity_metrics.errors import DataValidationError, OptionError
from equity_metrics.models.synth import SynthResult, simplex_least_squares, synthetic_control


def _panel(seed: int, *, n_donors: int = 19, T: int = 60, T0: int = 40, effect: float = 0.0, inside: bool = True,
           noise: float = 0.3):
    """Linear factor model y_it = 10 + lambda_i' F_t + e_it; unit u0 is treated from period T0."""
    rng = np.random.default_rng(seed)
    F = np.cumsum(rng.normal(size=(T, 3)), axis=0) * 0.3 + rng.normal(size=(T, 3))
    lam = rng.uniform(0, 1, size=(n_donors + 1, 3))
    if inside:  # treated loadings a convex combination of donors' (so a synthetic control exists)
        w = rng.dirichlet(np.ones(4))
        lam[0] = w @ lam[1:5]
    Y = 10 + lam @ F.T + rng.normal(0, noise, size=(n_donors + 1, T))
    Y[0, T0:] += effect
    months = pd.period_range("2015-01", periods=T, freq="M")
    df = pd.DataFrame([(f"u{i}", months[t], Y[i, t]) for i in range(n_donors + 1) for t in range(T)],
                      columns=["force", "month", "rate"])
    return df, months[T0]


def test_planted_effect_recovered_and_significant():
    df, iv = _panel(1, effect=2.0)
    r = synthetic_control(df, treated="u0", intervention=iv)
    assert isinstance(r, SynthResult)
    assert r.mean_post_gap == pytest.approx(2.0, abs=0.35)
    assert r.pre_rmspe < 0.5
    assert r.p_value == pytest.approx(1 / 20)  # largest RMSPE ratio of 20 units
    w = r.weights()
    assert list(w.columns) == ["unit", "weight"] and (w["weight"] >= 0).all() and w["weight"].sum() == pytest.approx(1)
    assert list(r.tidy().columns) == ["time", "treated", "synthetic", "gap"]
    np.testing.assert_allclose(r.tidy()["treated"] - r.tidy()["synthetic"], r.tidy()["gap"])
    assert set(r.placebos()["unit"]) == {f"u{i}" for i in range(1, 20)}


def test_effect_recovered_on_average_over_seeds():
    gaps = [synthetic_control(_panel(50 + s, effect=1.0)[0], treated="u0", intervention="2018-05", placebo=False).mean_post_gap
            for s in range(20)]
    assert np.mean(gaps) == pytest.approx(1.0, abs=0.15)


def test_exact_convex_combination_recovers_weights():
    rng = np.random.default_rng(3)
    months = pd.period_range("2019-01", periods=36, freq="M")
    donors = {f"d{i}": 5 + np.cumsum(rng.normal(size=36)) for i in range(8)}
    true = {"d1": 0.5, "d4": 0.3, "d6": 0.2}
    treated = sum(w * donors[d] for d, w in true.items())
    treated[24:] += 4.0
    rows = [(u, m, v) for u, vals in {**donors, "kent": treated}.items() for m, v in zip(months, vals)]
    df = pd.DataFrame(rows, columns=["force", "month", "rate"])
    r = synthetic_control(df, treated="kent", intervention="2021-01")
    w = r.weights().set_index("unit")["weight"]
    for d in donors:
        assert w[d] == pytest.approx(true.get(d, 0.0), abs=1e-8)
    assert r.pre_rmspe < 1e-8
    np.testing.assert_allclose(r.tidy()["gap"].iloc[24:], 4.0, atol=1e-7)
    assert r.p_value is None and any("exact" in n for n in r.notes)


def test_simplex_solver_matches_general_optimiser():
    rng = np.random.default_rng(0)
    for _ in range(25):
        m, j = rng.integers(5, 30), rng.integers(2, 12)
        A, b = rng.normal(size=(m, j)), rng.normal(size=m) * 2
        w = simplex_least_squares(A, b)
        assert (w >= 0).all() and w.sum() == pytest.approx(1)
        best = min(
            (optimize.minimize(lambda v: np.sum((A @ v - b) ** 2), x0, method="SLSQP", bounds=[(0, 1)] * j,
                               constraints=[{"type": "eq", "fun": lambda v: np.sum(v) - 1}], options={"ftol": 1e-14})
             for x0 in [np.full(j, 1 / j), *rng.dirichlet(np.ones(j), size=4)]), key=lambda r: r.fun)
        assert np.sum((A @ w - b) ** 2) <= best.fun + 1e-7


def _null_pvalues(reps: int, n_donors: int, start: int) -> np.ndarray:
    out = []
    for s in range(reps):
        df, iv = _panel(start + s, n_donors=n_donors, T=30, T0=20, inside=False)
        out.append(synthetic_control(df, treated="u0", intervention=iv).p_value)
    return np.array(out)


def test_placebo_pvalue_uniform_under_no_effect():
    p = _null_pvalues(60, 9, 1000)
    assert set(np.round(p * 10)) <= set(range(1, 11))
    assert np.mean(p) == pytest.approx(0.55, abs=0.1)
    assert 0.25 <= np.mean(p <= 0.5) <= 0.75


@pytest.mark.slow
def test_placebo_pvalue_uniform_long_run():
    p = _null_pvalues(500, 9, 5000)
    counts = np.bincount(np.round(p * 10).astype(int), minlength=11)[1:]
    assert stats.chisquare(counts).pvalue > 0.001
    assert np.mean(p <= 0.1) == pytest.approx(0.1, abs=0.04)


def test_input_errors():
    df, iv = _panel(2, n_donors=5, T=30, T0=20)
    with pytest.raises(DataValidationError, match="treated unit 'kent'"):
        synthetic_control(df, intervention=iv)
    with pytest.raises(DataValidationError, match="not balanced"):
        synthetic_control(df.drop(index=[40]), treated="u0", intervention=iv)
    with pytest.raises(DataValidationError, match="outside the data"):
        synthetic_control(df, treated="u0", intervention="2030-01")
    with pytest.raises(DataValidationError, match="pre-intervention"):
        synthetic_control(df, treated="u0", intervention="2015-03")
    with pytest.raises(DataValidationError, match="donor"):
        synthetic_control(df, treated="u0", intervention=iv, donors=["u1", "zz"])
    with pytest.raises(DataValidationError, match="at least two donors"):
        synthetic_control(df, treated="u0", intervention=iv, donors=["u1"])
    r = synthetic_control(df.drop(index=[40]), treated="u0", intervention=iv, donors=["u2", "u3", "u4"])  # row 40 is u1's
    assert set(r.weights()["unit"]) == {"u2", "u3", "u4"}


def test_summary_html_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    df, iv = _panel(4, n_donors=6, T=30, T0=20, effect=1.0)
    df["force"] = df["force"].replace({"u0": "<i>kent</i>"})
    r = synthetic_control(df, treated="<i>kent</i>", intervention=iv)
    assert "placebo-in-space" in r.summary() and "donor weights" in str(r)
    assert "<i>kent</i>" not in r._repr_html_()
    assert len(r.plot().lines) >= 3
    ax = r.plot(kind="gaps")
    assert len(ax.lines) >= 7  # 6 placebos, the treated gap, zero and intervention lines
    with pytest.raises(OptionError):
        r.plot(kind="both")
    assert r.to_csv(tmp_path / "s.csv").exists()
