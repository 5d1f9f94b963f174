"""Tests for equity_metrics.measures.locfdr (port of R locfdr 1.1-8).

Reference values: tests/results/locfdr_lfdrsim_reference.csv (each row names the R
call, ``locfdr(lfdrsim$zex)`` with defaults; see locfdr_lfdrsim_reference.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import BSpline

from equity_metrics.errors import DataValidationError, EstimationError, OptionError
from equity_metrics.measures.locfdr import _glm_poisson, _hist_counts, _ns_basis, locfdr

from conftest import need_shared

REF = pd.read_csv(Path(__file__).parent / "results" / "locfdr_lfdrsim_reference.csv")


def ref(quantity: str, null: str) -> tuple[float, float]:
    row = REF[(REF.quantity == quantity) & (REF.null == null)]
    assert len(row) == 1, (quantity, null)
    return float(row.value.iloc[0]), float(row.abs_tol.iloc[0])


@pytest.fixture(scope="module")
def lfdrsim() -> np.ndarray:
    return pd.read_csv(need_shared("reference", "locfdr_lfdrsim_z.csv"))["z"].to_numpy()


@pytest.mark.shared
def test_null_estimates_match_r_locfdr(lfdrsim):
    # R: w <- locfdr(lfdrsim$zex); w$fp0
    res = locfdr(lfdrsim)
    for null in ("theoretical", "ml", "central"):
        for q in ("delta", "sigma", "p0"):
            value, tol = ref(q, null)
            assert res.estimates.loc[null, q] == pytest.approx(value, abs=tol + 1e-12), (null, q)


@pytest.mark.shared
def test_flags_tail_fdp_and_fdrright_match_r_locfdr(lfdrsim):
    # R: which(w$fdr < .2); sum(which(w$fdr < .2) > 200) / sum(w$fdr < .2);
    #    w$mat[which(w$mat[, "fdr"] < .2)[1], "Fdrright"]
    res = locfdr(lfdrsim)
    flagged = np.flatnonzero(res.fdr < 0.2)
    assert len(flagged) == ref("n_fdr_below_0.2", "ml")[0]
    value, tol = ref("tail_fdp", "ml")
    assert (flagged >= 200).sum() / len(flagged) == pytest.approx(value, abs=tol)
    value, tol = ref("fdr_right", "ml")
    first = np.flatnonzero(res.bins["fdr"].to_numpy() < 0.2)[0]
    assert res.bins["fdr_right"].iloc[first] == pytest.approx(value, abs=tol)
    assert res.tail_fdr("right") == pytest.approx(value, abs=tol)


@pytest.mark.shared
def test_standard_errors_match_r_locfdr(lfdrsim):
    # R: w$fp0[c("theSD", "mleSD", "cmeSD"), ]
    res = locfdr(lfdrsim)
    for null in ("theoretical", "ml", "central"):
        for q in ("sd_delta", "sd_sigma", "sd_p0"):
            row = REF[(REF.quantity == q) & (REF.null == null)]
            if len(row):
                assert res.estimates.loc[null, q] == pytest.approx(float(row.value.iloc[0]),
                                                                   abs=float(row.abs_tol.iloc[0])), (null, q)


@pytest.mark.shared
def test_bin_table_matches_r_mat_including_lfdrse(lfdrsim):
    # R: w$mat[1:5, ] (printed to 7 significant digits)
    mat = pd.read_csv(Path(__file__).parent / "results" / "locfdr_lfdrsim_mat.csv")
    b = locfdr(lfdrsim).bins.head(5)
    ours = {"x": b["x"], "fdr": b["fdr"], "Fdrleft": b["fdr_left"], "Fdrright": b["fdr_right"], "f": b["f"],
            "f0": b["f0"], "f0theo": b["f0_theoretical"], "fdrtheo": b["fdr_theoretical"], "counts": b["count"],
            "lfdrse": b["lfdr_se"], "p1f1": b["p1f1"]}
    for col, values in ours.items():
        np.testing.assert_allclose(values.to_numpy(), mat[col].to_numpy(), rtol=6e-7, atol=1e-12, err_msg=col)


@pytest.mark.shared
def test_flagged_cases_are_r_s(lfdrsim):
    # R: which(w$fdr < .2)
    text = (Path(__file__).parent / "results" / "locfdr_lfdrsim_flagged.txt").read_text()
    r_cases = [int(v) for line in text.splitlines() if not line.startswith("#") for v in line.split()]
    assert len(r_cases) == 110
    assert (np.flatnonzero(locfdr(lfdrsim).fdr < 0.2) + 1).tolist() == r_cases


def test_lfdr_se_for_every_null():
    rng = np.random.default_rng(8)
    z = np.r_[rng.normal(size=1800), rng.normal(3, 1, size=200)]
    for null in ("ml", "central", "theoretical"):
        se = locfdr(z, null=null).bins["lfdr_se"].to_numpy()
        assert np.isfinite(se).all() and (se > 0).all(), null


@pytest.mark.shared
def test_cases_beyond_the_last_midpoint_take_its_fdr_as_r_approx_rule_2(lfdrsim):
    res = locfdr(lfdrsim)
    top = int(np.argmax(lfdrsim))
    assert lfdrsim[top] > res.bins["x"].iloc[-1]
    assert res.fdr[top] == res.bins["fdr"].iloc[-1]
    assert np.isfinite(res.fdr).all()
    # the case a NaN extrapolation would lose (109 vs 110) is among the flagged
    assert res.flagged[top]


def test_hist_counts_follow_r_right_closed_bins():
    breaks = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    z = np.array([0.0, 1.0, 1.0 + 1e-9, 1.5, 2.0, 6.0, 5.5])
    # R: hist(z, breaks, plot = FALSE)$counts (right = TRUE, include.lowest = TRUE, 1e-7 fuzz)
    np.testing.assert_array_equal(_hist_counts(z, breaks), [3, 2, 0, 0, 0, 2])


def test_ns_basis_is_a_natural_spline_and_the_fit_does_not_depend_on_its_parametrisation():
    x = np.linspace(-3, 4, 119)
    B = _ns_basis(x, 7)
    assert B.shape == (119, 7)
    # another basis of the natural cubic splines with the same knots: truncated powers (ESL eq. 5.4-5.5)
    knots = np.r_[x.min(), np.quantile(x, np.linspace(0, 1, 8)[1:-1]), x.max()]
    d = lambda k: (np.maximum(x - knots[k], 0) ** 3 - np.maximum(x - knots[-1], 0) ** 3) / (knots[-1] - knots[k])  # noqa: E731
    N = np.column_stack([x] + [d(k) - d(len(knots) - 2) for k in range(len(knots) - 2)])
    rng = np.random.default_rng(3)
    y = rng.poisson(200 * np.exp(-0.5 * x**2) + 5).astype(float)
    f1 = _glm_poisson(y, np.column_stack([np.ones_like(x), B]))
    f2 = _glm_poisson(y, np.column_stack([np.ones_like(x), N / np.abs(N).max(axis=0)]))
    np.testing.assert_allclose(f1, f2, rtol=1e-6)
    # a natural spline: linear beyond the boundary knots -> zero second differences at the ends
    # checked through the B-spline construction: second derivative of each column at the boundaries is 0
    t = np.r_[[x.min()] * 4, knots[1:-1], [x.max()] * 4]
    full = BSpline.design_matrix(x, t, 3).toarray()[:, 1:]
    coef, *_ = np.linalg.lstsq(full, B, rcond=None)
    for j in range(7):
        spl = BSpline(t, np.r_[0.0, coef[:, j]], 3).derivative(2)
        np.testing.assert_allclose(spl(np.array([x.min(), x.max()])), 0.0, atol=1e-8)


def test_empirical_null_recovers_an_overdispersed_null():
    rng = np.random.default_rng(11)
    z = np.r_[rng.normal(0.2, 1.3, size=4500), rng.normal(5, 1, size=500)]
    res = locfdr(z)
    assert res.delta == pytest.approx(0.2, abs=0.1)
    assert res.sigma == pytest.approx(1.3, abs=0.1)
    assert res.p0 == pytest.approx(0.9, abs=0.04)
    theo = locfdr(z, null="theoretical")
    # the theoretical N(0,1) null over-flags an over-dispersed null: many null cases flagged
    assert (theo.flagged[:4500]).sum() > 5 * max(1, res.flagged[:4500].sum())


def test_flags_control_the_false_discovery_proportion_on_simulated_data():
    rng = np.random.default_rng(5)
    fdps = []
    for _ in range(5):
        z = np.r_[rng.normal(3.5, 1, size=200), rng.normal(size=1800)]
        res = locfdr(z)
        flagged = np.flatnonzero(res.flagged)
        fdps.append((flagged >= 200).mean() if len(flagged) else 0.0)
        assert len(flagged) > 40
    # flagging at fdr < 0.2 keeps the tail FDP well below 0.2 (Efron 2010, ch. 5)
    assert np.mean(fdps) < 0.15


def test_summary_tidy_and_html():
    rng = np.random.default_rng(2)
    res = locfdr(np.r_[rng.normal(size=900), rng.normal(4, 1, size=100)], bre=60)
    assert "null used for fdr: ml" in str(res)
    t = res.tidy()
    assert list(t.columns) == ["case", "z", "fdr", "flagged"]
    assert len(t) == 1000
    assert "<pre>" in res._repr_html_()
    assert set(res.bins.columns) >= {"x", "count", "f", "f0", "fdr", "fdr_left", "fdr_right"}


def test_helpful_errors():
    with pytest.raises(OptionError, match="null"):
        locfdr(np.arange(300.0), null="mle")
    with pytest.raises(DataValidationError, match="finite"):
        locfdr(np.r_[np.arange(300.0), np.nan])
    with pytest.raises(EstimationError, match="at least 200"):
        locfdr(np.arange(5.0))
