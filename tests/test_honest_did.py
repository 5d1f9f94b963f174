"""HonestDiD (Rambachan & Roth 2023): R reference numbers, closed-form checks, properties, adapters, coverage.

Reference: tests/results/honestdid_benzarti_carloni.json (R HonestDiD 0.2.8 vignette, Benzarti &
Carloni 2019 event study; the R calls are in tests/results/honestdid_benzarti_carloni.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import equity_metrics as em
from equity_metrics.errors import DataValidationError, OptionError
from equity_metrics.models.honest import EventStudyInputs, breakdown_statement, honest_breakdown, honest_did
from equity_metrics.models.honest._flci import folded_normal_quantile, optimal_flci
from equity_metrics.models.honest._rng import r_rnorm

REF = json.loads((Path(__file__).parent / "results" / "honestdid_benzarti_carloni.json").read_text())
B = np.array(REF["betahat"])
S = np.array(REF["sigma"])
R = REF["r_results"]
BC = dict(num_pre=4, num_post=4)


def _sdrm():
    # createSensitivityResults_relativeMagnitudes(..., bound = "deviation from linear trend",
    #   Mbarvec = seq(0, 2, by = 0.5), gridPoints = 100, grid.lb = -1, grid.ub = 1)
    return honest_did(B, S, **BC, bound="linear_trend", m=R["relative_magnitudes_SDRM_CLF"]["Mbar"],
                      grid_points=100, grid_lb=-1, grid_ub=1, breakdown=False)


def _sdnb():
    # createSensitivityResults(..., biasDirection = "negative", Mvec = seq(0, 0.3, by = 0.1))
    return honest_did(B, S, **BC, restriction="smoothness", bias="negative",
                      m=R["smoothness_negative_bias_SDNB_CF"]["M"], breakdown=False)


def test_r_random_stream():
    # R: set.seed(0); rnorm(5)
    np.testing.assert_allclose(r_rnorm(5, 0), [1.2629543, -0.3262334, 1.3297993, 1.2724293, 0.4146414], atol=5e-8)


def test_original_ci_matches_r():
    res = _sdrm()
    np.testing.assert_allclose([res.original["lb"], res.original["ub"]], R["original_ci_first_post_period"], atol=5e-9)


def test_sdrm_clf_matches_r_printed_digits():
    ref = R["relative_magnitudes_SDRM_CLF"]
    tab = _sdrm().table
    assert list(tab["method"].unique()) == ["C-LF"] and list(tab["delta"].unique()) == ["DeltaSDRM"]
    # printed to 7 digits: half a unit of the last digit (the grid step is 2/99)
    np.testing.assert_allclose(tab["lb"], ref["lb"], atol=5e-8)
    np.testing.assert_allclose(tab["ub"], ref["ub"], atol=5e-8)


def test_sdnb_cf_matches_r():
    ref = R["smoothness_negative_bias_SDNB_CF"]
    tab = _sdnb().table
    assert list(tab["method"].unique()) == ["C-F"] and list(tab["delta"].unique()) == ["DeltaSDNB"]
    # M = 0.1, 0.2 and the M = 0.3 lower bound: all printed digits (half a unit of the 8th decimal)
    np.testing.assert_allclose(tab["lb"][1:], ref["lb"][1:], atol=5e-9)
    np.testing.assert_allclose(tab["ub"][1:3], ref["ub"][1:3], atol=5e-9)
    # M = 0 lower bound: within 1e-6, far below the grid step (1.2e-4): R's CVXR weights of the
    # minimum-variance estimator carry solver tolerance (its grid sits 8.3e-7 above ours), ours do not
    assert tab["lb"][0] == pytest.approx(ref["lb"][0], abs=1e-6)
    # M = 0 upper bound: a grid tie in R. The grid is [est - hl, est + hl] (1000 points, step
    # 2 hl / 999 = 1.2123e-4) and its last point est + hl is the FLCI's upper end, where R's
    # first-stage statistic |theta - vbar'A betahat| - hl is 0 up to CVXR's residual in vbar: R
    # rejected its last point here (it prints the one before) but accepted it at M = 0.3 (0.64683954
    # is that grid's end). On the closed FLCI the end passes the first stage and the conditional
    # test accepts it (statistic 1.14898, critical value 2.53229 on [1.14898, 8.97496]); it used to
    # turn on the last bit of est + hl, which differed between BLAS kernels (CPUs) - see
    # test_sdnb_m0_upper_end_does_not_depend_on_rounding. So: ours is the grid end, and R's printed
    # bound is its own grid end (ours + R's 8.3e-7 offset) minus one step, to its printed digits.
    f = optimal_flci(S, m=0, **BC, l_vec=np.eye(4)[0], alpha=0.005)
    est, hl = f.weights @ B, f.half_length
    assert tab["ub"][0] == pytest.approx(est + hl, abs=1e-15)
    offset = ref["lb"][0] - tab["lb"][0]  # R's grid minus ours (8.25e-7)
    assert ref["ub"][0] == pytest.approx(tab["ub"][0] + offset - 2 * hl / 999, abs=1e-8)


def test_sdnb_m0_upper_end_does_not_depend_on_rounding(monkeypatch):
    """The C-F set's ends do not turn on the last bits of the FLCI centre and half-length."""
    from equity_metrics.models.honest import _core

    seen = {}
    real = _core.arp_accept

    def spy(prob, thetas, **kw):
        seen.update(prob=prob, kw=kw)
        return real(prob, thetas, **kw)

    monkeypatch.setattr(_core, "arp_accept", spy)
    honest_did(B, S, **BC, restriction="smoothness", bias="negative", m=[0.0], breakdown=False)
    est, hl, qvec = seen["kw"]["flci"]
    kw = {k: v for k, v in seen["kw"].items() if k != "flci"}
    base = None
    for i in range(-6, 7, 2):  # before the fix about a third of these flipped the last grid point
        for j in range(-6, 7, 3):
            e, h = est + i * np.spacing(est), hl + j * np.spacing(hl)
            acc = real(seen["prob"], np.linspace(e - h, e + h, 1000), flci=(e, h, qvec), **kw)
            base = acc if base is None else base
            assert acc[-1] and not acc[0] and np.array_equal(acc, base), (i, j)


def test_flci_m0_weights_same_on_every_blas_kernel():
    """At M = 0 the FLCI is the minimum-variance estimator: OpenBLAS kernels (CPUs) used to give weights
    1e-8 apart (the square root of rounding noise) and so C-F grids 1e-9 apart."""
    import os
    import subprocess
    import sys

    code = ("import json, numpy as np, sys; sys.path[:0] = [%r];"
            "from test_honest_did import B, S, BC, optimal_flci;"
            "f = optimal_flci(S, m=0, **BC, l_vec=np.eye(4)[0], alpha=0.005);"
            "print(json.dumps([float(f.weights @ B), f.half_length]))") % str(Path(__file__).parent)
    out = []
    for core in (None, "Prescott", "Haswell"):  # unknown core types fall back to the detected one
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        if core:
            env["OPENBLAS_CORETYPE"] = core
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        out.append(json.loads(run.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(out, [out[0]] * len(out), rtol=1e-14, atol=0)


def test_sdnb_upper_bound_at_m03_is_the_hybrid_test_bound():
    """Closed form: above the FLCI centre the binding moment is -(delta_2007 + delta_2009) <= M, the one
    the first-stage FLCI (weights on 2007 and 2009) also uses; the second-stage critical value is the
    normal quantile truncated above at (half-length - M) / sd, so the bound is est + M + q * sd."""
    m, alpha, kappa = 0.3, 0.05, 0.005
    f = optimal_flci(S, m=m, **BC, l_vec=np.eye(4)[0], alpha=kappa)
    w = np.zeros(8)
    w[[3, 4]] = 1.0
    np.testing.assert_allclose(f.weights, w, atol=1e-9)
    sd = np.sqrt(w @ S @ w)
    est = w @ B
    size = (alpha - kappa) / (1 - kappa)
    zup = (f.half_length - m) / sd
    q = norm.ppf((1 - size) * norm.cdf(zup))  # lower truncation point (-8.2) is negligible
    grid = np.linspace(est - f.half_length, est + f.half_length, 1000)
    expected = grid[grid <= est + m + q * sd].max()
    assert _sdnb().table["ub"].iloc[3] == pytest.approx(expected, abs=1e-12)


@pytest.mark.xfail(strict=True, reason="R prints the grid end 0.64683954 (its LP-based test accepts there); "
                   "the hybrid test rejects above 0.6181 (see the closed-form test above)")
def test_sdnb_upper_bound_at_m03_equals_r():
    assert _sdnb().table["ub"].iloc[3] == pytest.approx(R["smoothness_negative_bias_SDNB_CF"]["ub"][3], abs=5e-9)


def test_bc_reference_is_fast():
    t0 = time.perf_counter()
    _sdrm()
    _sdnb()
    seconds = time.perf_counter() - t0
    print(f"BC reference (SDRM C-LF x5 + SDNB C-F x4): {seconds:.2f} s")
    assert seconds < 20  # ~0.6 s measured on an idle core; generous for a loaded CI machine


def test_folded_normal_r_simulation_close_to_exact():
    for p, mu in [(0.95, 0.0), (0.995, 1.3), (0.95, 4.0)]:
        assert folded_normal_quantile(p, mu) == pytest.approx(folded_normal_quantile(p, mu, mode="exact"), rel=2e-3)


def test_flci_m0_is_minimum_variance_and_widens_with_m():
    res = honest_did(B, S, **BC, restriction="smoothness", m=[0, 0.05, 0.1], breakdown=False)
    width = (res.table["ub"] - res.table["lb"]).to_numpy()
    assert np.all(np.diff(width) > 0)
    # M = 0: the shortest interval of any unbiased linear estimator (z * minimal sd)
    f = optimal_flci(S, m=0, **BC, l_vec=np.eye(4)[0], alpha=0.05, quantile="exact")
    assert width[0] == pytest.approx(2 * norm.ppf(0.975) * f.sd, rel=2e-3)


def test_breakdown_properties():
    kw = dict(**BC, grid_points=200)
    res = honest_did(B, S, m=[0, 1, 2], **kw)
    bd = res.breakdown
    assert 0 < bd < 5
    below = honest_did(B, S, m=[max(bd - 0.02, 0)], breakdown=False, **kw).table.iloc[0]
    at = honest_did(B, S, m=[bd], breakdown=False, **kw).table.iloc[0]
    assert below["excludes_zero"] and not at["excludes_zero"]
    # a larger effect (same pre-trends) survives larger violations; a null effect breaks at 0
    bigger = B.copy()
    bigger[4:] *= 1.5
    assert honest_breakdown(bigger, S, **kw) > bd
    null = B.copy()
    null[4:] = 0.0
    assert honest_breakdown(null, S, **kw) == 0.0
    # robust sets grow with Mbar
    w = (res.table["ub"] - res.table["lb"]).to_numpy()
    assert np.all(np.diff(w) >= 0)
    assert "times the largest pre-training difference" in res.statement()


def test_breakdown_statement_for_the_report():
    st = breakdown_statement(EventStudyInputs(B, S, 4, 4, np.array([-5, -4, -3, -2, 0, 1, 2, 3])), grid_points=200)
    assert st.mbar == st.sensitivity.breakdown > 0
    assert st.sentence.startswith("The conclusion holds unless post-training differences in trends were more than")
    tidy = st.tidy()
    assert list(tidy.columns) == ["m", "lb", "ub", "method", "delta", "excludes_zero", "open_ended"]
    assert tidy["method"].iloc[0] == "original" and len(tidy) == 6


def test_targets_and_restrictions_run():
    avg = honest_did(B, S, **BC, target="average", m=[0, 0.5], grid_points=200, breakdown=False)
    assert avg.original["estimate"] == pytest.approx(B[4:].mean())
    for kw in [dict(restriction="smoothness", monotonicity="increasing"), dict(restriction="smoothness", method="C-LF"),
               dict(restriction="smoothness", method="conditional"), dict(bias="positive"),
               dict(monotonicity="decreasing", method="conditional"), dict(bound="linear_trend", bias="negative")]:
        res = honest_did(B, S, **BC, m=[0, 0.1], grid_points=200, breakdown=False, **kw)
        assert np.all(np.isfinite(res.table[["lb", "ub"]].to_numpy())), kw
        assert np.all(res.table["lb"] <= res.table["ub"])


def test_validation_errors():
    with pytest.raises(OptionError):
        honest_did(B, S, **BC, restriction="wiggle")
    with pytest.raises(OptionError):
        honest_did(B, S, **BC, method="FLCI")  # relative magnitudes: C-LF or conditional
    with pytest.raises(OptionError):
        honest_did(B, S, **BC, bias="negative", monotonicity="increasing")
    with pytest.raises(OptionError):
        honest_did(B)
    with pytest.raises(DataValidationError):
        honest_did(B, S[:7, :7], **BC)
    with pytest.raises(DataValidationError):
        honest_did(B[:4], S[:4, :4], num_pre=4, num_post=0)


def test_result_protocol(tmp_path):
    res = honest_did(B, S, **BC, m=[0, 1], grid_points=200)
    assert "HonestDiD" in str(res) and "<pre>" in res._repr_html_()
    tidy = res.tidy()
    assert tidy["method"].iloc[0] == "original"
    back = pd.read_csv(res.to_csv(tmp_path / "h.csv"))
    assert list(back.columns) == list(tidy.columns) and len(back) == len(tidy) == 3
    assert len(pd.read_excel(res.to_excel(tmp_path / "h.xlsx"), sheet_name="table")) == 3
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    assert ax.get_ylabel().startswith("95%")


# ----------------------------------------------------------------------------- adapters (bundled sample)
@pytest.fixture(scope="module")
def sample_panel():
    from equity_metrics.datasets.samples import sample_path

    off = pd.read_csv(sample_path() / "officers.csv", dtype=str, keep_default_na=False).replace("", pd.NA)
    return em.build_panel(em.datasets.load_sample_officer_events(), em.datasets.load_sample_training(),
                          officers=off, treated_from="completion", balanced=True)


def test_adapter_staggered_did_dynamic(sample_panel):
    dyn = em.staggered_did(sample_panel, base_period="universal").aggregate("dynamic")
    inp = em.models.event_study_inputs(dyn, max_pre=5, max_post=3)
    assert (inp.num_pre, inp.num_post) == (5, 3)
    assert inp.event_times.tolist() == [-6, -5, -4, -3, -2, 0, 1, 2]
    lv = dyn.levels.set_index("level")
    np.testing.assert_allclose(inp.betahat, lv.loc[inp.event_times, "estimate"])
    np.testing.assert_allclose(np.sqrt(np.diag(inp.sigma)), lv.loc[inp.event_times, "std_error"], rtol=1e-10)
    res = honest_did(dyn, max_pre=5, max_post=3, m=[0, 0.5, 1], grid_points=300)
    assert res.original["estimate"] == pytest.approx(lv.loc[0, "estimate"])
    assert np.all(np.isfinite(res.table[["lb", "ub"]].to_numpy()))
    assert res.breakdown is not None


def test_adapter_event_study_and_efficient(sample_panel):
    es = em.event_study(sample_panel, outcome="use_of_force", leads=4, lags=2)
    inp = em.models.event_study_inputs(es)
    tab = es.table[~es.table["reference"]]
    assert inp.num_pre == int((tab["event_time"] < -1).sum()) and inp.num_post == int((tab["event_time"] >= 0).sum())
    np.testing.assert_allclose(np.sqrt(np.diag(inp.sigma)), tab["std_error"], rtol=1e-10)
    res = honest_did(es, restriction="smoothness", m=[0, 0.05], breakdown=False)
    assert np.all(res.table["lb"] < res.table["ub"])
    eff = em.efficient_staggered(sample_panel, outcome="use_of_force", estimand="eventstudy",
                                 event_times=[0, 1], n_fisher=0)
    with pytest.raises(DataValidationError, match="pre-period"):
        honest_did(eff)


# ----------------------------------------------------------------------------- coverage by simulation
@pytest.mark.slow
def test_coverage_under_parallel_trends():
    """Delta = 0 (exact parallel trends), M = Mbar = 0: the FLCI and the conditional / hybrid sets cover the
    true first post-period effect at about the nominal 95% (MC s.e. ~1.5 points with 200 draws)."""
    rng = np.random.default_rng(20260613)
    n_pre, n_post, tau = 3, 2, 0.5
    a = rng.normal(size=(5, 5))
    sigma = (a @ a.T + 5 * np.eye(5)) * 1e-3
    mu = np.r_[np.zeros(n_pre), tau, tau]
    chol = np.linalg.cholesky(sigma)
    specs = {"FLCI": dict(restriction="smoothness"), "ARP-SD": dict(restriction="smoothness", method="conditional"),
             "C-LF-RM": dict(), "conditional-RM": dict(method="conditional")}
    cover = {k: 0 for k in specs}
    n = 200
    for _ in range(n):
        b = mu + chol @ rng.normal(size=5)
        for k, kw in specs.items():
            r = honest_did(b, sigma, num_pre=n_pre, num_post=n_post, m=[0.0], grid_points=200,
                           breakdown=False, **kw).table.iloc[0]
            cover[k] += r["lb"] <= tau <= r["ub"]
    rates = {k: v / n for k, v in cover.items()}
    print(rates)
    for k, v in rates.items():
        assert 0.91 <= v <= 0.995, (k, v)


@pytest.mark.slow
def test_lp_fallback_agrees_with_vertex_enumeration(monkeypatch):
    """Problems too large to enumerate use per-point HiGHS LPs and Newton steps for the truncation."""
    from equity_metrics.models.honest import _arp

    kw = dict(num_pre=3, num_post=2, m=[0.5], grid_points=40, breakdown=False)
    b, s = np.r_[B[1:4], B[4:6]], S[np.ix_([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])]
    fast = [honest_did(b, s, method="conditional", **kw).table, honest_did(b, s, **kw).table]
    monkeypatch.setattr(_arp, "MAX_BASES", 0)
    slow = [honest_did(b, s, method="conditional", **kw).table, honest_did(b, s, **kw).table]
    for f, sl in zip(fast, slow):
        np.testing.assert_allclose(f[["lb", "ub"]], sl[["lb", "ub"]], atol=1e-12)


# ----------------------------------------------------------------------------- more R numbers (3 digits)
CONS = json.loads((Path(__file__).parent / "results" / "honestdid_bc_r_consistency.json").read_text())


def _half_unit(v: float) -> float:
    """Half a unit of the 3rd significant digit of a printed value."""
    return 0.5 * 10 ** (np.floor(np.log10(abs(v))) - 2) + 1e-12


def _assert_printed(ours, printed, slack: float = 0.0):
    for o, p in zip(ours, printed):
        assert abs(o - p) <= _half_unit(p) + slack, (list(ours), printed)


@pytest.mark.parametrize("method", ["C-LF", "conditional"])
@pytest.mark.parametrize("k", [1, 3])
def test_rm_grid100_matches_r(method, k):
    ref = CONS["rm_grid100"]
    res = honest_did(B, S, **BC, target=np.eye(4)[k - 1], m=ref["Mbar"], grid_points=100, grid_lb=-1, grid_ub=1,
                     method=method, breakdown=False)
    _assert_printed(res.table["lb"], ref[f"l{k}"]["lb"])
    _assert_printed(res.table["ub"], ref[f"l{k}"]["ub"])


def test_rm_default_close_to_r():
    """R's default C-LF grid (1000 points, step 7.6e-4): within 0.002 (R's least-favourable draws in the
    version that printed these differ from 0.2.8's); R's last two upper bounds are its grid end, which we
    widen instead (reported in the notes)."""
    ref = CONS["rm_default"]
    res = honest_did(B, S, **BC, breakdown=False)
    np.testing.assert_allclose(res.table["m"], np.linspace(0, 2, 10))
    np.testing.assert_allclose(res.table["lb"], ref["lb"], atol=2e-3)
    np.testing.assert_allclose(res.table["ub"][:8], ref["ub"][:8], atol=2e-3)
    assert (res.table["ub"][8:] > 0.379).all() and any("widened" in n for n in res.notes)


def test_sd_flci_matches_r():
    ref = CONS["sd_flci_default"]
    res = honest_did(B, S, **BC, restriction="smoothness", breakdown=False)
    _assert_printed(res.table["m"][1:], ref["M"][1:])  # R's default Mvec (DeltaSD_upperBound_Mpre)
    # M = 0.0225 has a flat optimum in the estimator's sd: R's derivative bisection on its simulated
    # half-length stops somewhere in it (Stata's port: 0.183/0.327), moving the centre by ~0.001
    keep = [0, *range(2, 10)]
    _assert_printed(res.table["lb"][keep], [ref["lb"][i] for i in keep])
    _assert_printed(res.table["ub"][keep], [ref["ub"][i] for i in keep])
    _assert_printed(res.table["lb"][1:2], ref["lb"][1:2], slack=2e-3)
    _assert_printed(res.table["ub"][1:2], ref["ub"][1:2], slack=2e-3)
    ref = CONS["sd_flci_m03"]
    for k in (1, 3):
        res = honest_did(B, S, **BC, restriction="smoothness", target=np.eye(4)[k - 1], m=ref["M"], breakdown=False)
        _assert_printed(res.table["lb"], ref[f"l{k}"]["lb"])
        _assert_printed(res.table["ub"], ref[f"l{k}"]["ub"])


# ----------------------------------------------------------------------------- estimates far from 0
# R's default grid is +-20 SE around 0 (plus the identified set): an estimate 50 SE away used to give an
# empty robust set (NaN bounds) at M = 0 and a breakdown of 0. The grid is now centred on the estimate.
FAR = np.array([0.01, -0.01, 0.0, 1.0, 1.0])  # flat pre-trends, post effect 50 SE from 0
FAR_S = np.eye(5) * 0.02 ** 2


@pytest.mark.parametrize("kw", [
    dict(),  # relative magnitudes, C-LF
    dict(method="conditional"),
    dict(bound="linear_trend"),
    dict(restriction="smoothness", method="C-LF"),
    dict(restriction="smoothness", method="conditional"),
    dict(restriction="smoothness", bias="positive"),  # C-F
    dict(restriction="smoothness"),  # FLCI (analytic)
])
def test_far_estimate_gives_a_finite_set_around_it(kw):
    res = honest_did(FAR, FAR_S, num_pre=3, num_post=2, m=[0.0], grid_points=200, breakdown=False, **kw)
    row = res.table.iloc[0]
    assert np.isfinite(row["lb"]) and np.isfinite(row["ub"])
    # at M = 0 the robust set is close to the original CI 1 +- 1.96 * 0.02
    assert 0.9 < row["lb"] < 1.0 < row["ub"] < 1.1
    assert row["excludes_zero"] and not row["open_ended"]


def test_far_estimate_breakdown_is_positive_and_finite():
    res = honest_did(FAR, FAR_S, num_pre=3, num_post=2, m=[0.0, 1.0], grid_points=200, breakdown_max=200)
    bd = res.breakdown
    # max pre-period difference 0.01 against an effect of 1.0: the breakdown Mbar is large but finite
    assert 10 < bd < 200
    kw = dict(num_pre=3, num_post=2, grid_points=200, breakdown=False)
    assert honest_did(FAR, FAR_S, m=[0.95 * bd], **kw).table["excludes_zero"].iloc[0]
    assert not honest_did(FAR, FAR_S, m=[1.05 * bd], **kw).table["excludes_zero"].iloc[0]
    assert any("centred on the estimate" in n for n in res.notes)
    st = breakdown_statement(EventStudyInputs(FAR, FAR_S, 3, 2, np.array([-4, -3, -2, 0, 1])), grid_points=200)
    assert st.mbar > 0
    assert st.sentence.startswith("The conclusion holds")


def test_default_grid_unchanged_when_estimate_is_inside_it():
    # no retry (and no note) when the R default grid already accepts points: R's numbers are kept
    res = honest_did(B, S, **BC, m=[0.0, 0.5], grid_points=100, breakdown=False)
    assert not any("centred on the estimate" in n for n in res.notes)


def test_far_estimate_from_staggered_did_universal():
    rng = np.random.default_rng(7)
    n, periods = 90, 8
    g = np.repeat([0, 5, 6], n // 3)
    rows = []
    for i in range(n):
        a = rng.normal()
        for t in range(1, periods + 1):
            rows.append((i, t, g[i], a + 0.1 * t + rng.normal(0, 0.5) + (20.0 if g[i] and t >= g[i] else 0.0)))
    df = pd.DataFrame(rows, columns=["id", "t", "g", "y"])
    dyn = em.staggered_did(df, outcome="y", unit="id", time="t", first_treated="g",
                           base_period="universal").aggregate("dynamic")
    lv = dyn.levels.set_index("level")
    assert lv.loc[0, "estimate"] / lv.loc[0, "std_error"] > 100  # far outside +-20 SE
    res = honest_did(dyn, m=[0, 0.5, 1], grid_points=200, breakdown_max=500)
    t = res.table
    assert np.all(np.isfinite(t[["lb", "ub"]].to_numpy())) and t["excludes_zero"].all()
    assert t["lb"].iloc[0] < lv.loc[0, "estimate"] < t["ub"].iloc[0]
    assert 5 < res.breakdown < 500
    st = breakdown_statement(dyn, grid_points=200)
    assert st.mbar > 0
    assert st.sentence.startswith("The conclusion holds")
