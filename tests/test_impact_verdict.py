"""Training verdict (issue 9 item 6): % of the untrained level, MDE, Holm, pre-trend wording, default outcome.

References used here:

* Bloom (1995), "Minimum detectable effects", Evaluation Review 19(5), eq. 1: the 80%-power,
  5%-two-sided multiplier is z_0.975 + z_0.80 = 1.959964 + 0.841621 = 2.801585 (the quantiles
  are from any normal table); checked by simulation below (power at the MDE ~ 80%).
* Holm (1979): hand computation of the step-down adjustment.
* The share change's delta-method interval is checked by simulation (coverage ~ 95%).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from equity_metrics.errors import OptionError
from equity_metrics.models._power import classify_effect, holm, minimum_detectable_effect, training_effects
from equity_metrics.models._untrained import share_change, untrained_level
from equity_metrics.models.did import staggered_did
from equity_metrics.report.training_text import impact_verdict, pretrend_sentence

BANNED = re.compile(r"reassur|no evidence of bias|no sign of|parallel trends (hold|were confirmed)|confirms? (the )?parallel",
                    re.I)


def _row(**kw):
    base = {"label": "use-of-force reports per officer per month", "role": "count", "estimate": -0.05,
            "ci_low": -0.15, "ci_high": 0.05, "std_error": 0.051, "p_value": np.nan, "base": 0.25}
    base.update(kw)
    return base


def _verdict_rows(rows, **kw):
    return training_effects(pd.DataFrame(rows), scale="difference", **kw).assign(meaningful=kw.get("meaningful", 0.10),
                                                                                  power=kw.get("power", 0.80))


# ----------------------------------------------------------------------------- models/_power
def test_mde_bloom_multiplier():
    assert minimum_detectable_effect(1.0) == pytest.approx(1.959964 + 0.841621, abs=1e-5)
    assert minimum_detectable_effect(1.0, power=0.9) == pytest.approx(1.959964 + 1.281552, abs=1e-5)
    # t-based: t_{0.975,10} + t_{0.80,10} = 2.228139 + 0.879058 (t table)
    assert minimum_detectable_effect(1.0, df=10) == pytest.approx(2.228139 + 0.879058, abs=1e-5)
    with pytest.raises(OptionError, match="power"):
        minimum_detectable_effect(1.0, power=80)


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(0.03, 2*0.03), max(0.06, 1*0.04)
    assert holm([0.04, 0.01, 0.03]) == pytest.approx([0.06, 0.03, 0.06])
    out = holm([0.2, np.nan])
    assert out[0] == pytest.approx(0.2) and np.isnan(out[1])


def test_classify_categories():
    assert classify_effect(-0.4, -0.15, meaningful=0.1) == "clear_decrease"
    assert classify_effect(0.02, 0.3, meaningful=0.1) == "clear_increase"
    assert classify_effect(-0.08, 0.09, meaningful=0.1) == "no_meaningful_change"
    assert classify_effect(-0.08, 0.12, meaningful=0.1) == "inconclusive"
    assert classify_effect(-0.4, -0.15, meaningful=0.1, p_adjusted=0.2) == "inconclusive"
    assert classify_effect(np.nan, 0.1, meaningful=0.1) == "not_estimable"
    with pytest.raises(OptionError, match="meaningful"):
        classify_effect(-0.1, 0.1, meaningful=0)


# ----------------------------------------------------------------------------- verdict words
def test_verdict_inconclusive_states_mde():
    t = _verdict_rows([_row()])
    r = t.iloc[0]
    assert r["verdict"] == "inconclusive"
    assert r["pct"] == pytest.approx(-0.2) and r["pct_low"] == pytest.approx(-0.6) and r["pct_high"] == pytest.approx(0.2)
    assert r["mde_fall"] == pytest.approx(2.801585 * 0.051 / 0.25, rel=1e-5)
    s = impact_verdict(r, kind="officer", level=95)
    assert s.startswith("Inconclusive: too few officers or months to tell.")
    assert "-20% of the untrained level (95% CI -60% to +20%)" in s
    assert "smallest effect this design could detect (80% power, 5% two-sided test) is a change of about 57%" in s


def test_verdict_clear_and_no_meaningful_change():
    t = _verdict_rows([_row(estimate=-0.10, ci_low=-0.15, ci_high=-0.05, std_error=0.0255),
                       _row(estimate=0.002, ci_low=-0.01, ci_high=0.014, std_error=0.006)])
    clear, flat = t.iloc[0], t.iloc[1]
    assert clear["verdict"] == "clear_decrease" and flat["verdict"] == "no_meaningful_change"
    s = impact_verdict(clear, kind="officer", level=95)
    assert s.startswith("A clear reduction") and "-40% of the untrained level" in s and "Holm-adjusted for 2 outcomes" in s
    s = impact_verdict(flat, kind="officer", level=95)
    assert s.startswith("No change large enough to matter") and "\u00b110%" in s
    assert "Inconclusive" not in s


def test_clear_before_but_not_after_holm():
    rows = [_row(estimate=-0.06, ci_low=-0.115, ci_high=-0.005, std_error=0.028)] + [_row()] * 4
    t = _verdict_rows(rows)
    r = t.iloc[0]
    assert r["p_value"] < 0.05 < r["p_holm"] and r["verdict"] == "inconclusive"
    s = impact_verdict(r, kind="officer", level=95)
    assert "not statistically clear once the 5 outcomes are adjusted for (Holm)" in s


def test_threshold_is_configurable():
    r = _verdict_rows([_row(estimate=0.01, ci_low=-0.03, ci_high=0.05, std_error=0.02)], meaningful=0.25).iloc[0]
    assert r["verdict"] == "no_meaningful_change"
    r = _verdict_rows([_row(estimate=0.01, ci_low=-0.03, ci_high=0.05, std_error=0.02)], meaningful=0.10).iloc[0]
    assert r["verdict"] == "inconclusive"


def test_ratio_scale_its_row():
    t = training_effects(pd.DataFrame([{"estimate": 0.9, "ci_low": 0.7, "ci_high": 1.15, "std_error": 0.126,
                                        "p_value": 0.4}]), scale="ratio")
    r = t.iloc[0].to_dict() | {"label": "step change in the Black/White rate ratio", "meaningful": 0.1, "power": 0.8}
    assert r["pct"] == pytest.approx(-0.1) and r["verdict"] == "inconclusive"
    m = 2.801585 * 0.126
    assert r["mde_fall"] == pytest.approx(1 - np.exp(-m), rel=1e-5) and r["mde_rise"] == pytest.approx(np.expm1(m), rel=1e-5)
    s = impact_verdict(r, kind="its", level=95)
    assert "a fall of about 30% or a rise of about 42% in the rate ratio" in s and "a change of -10% in the rate ratio" in s


def test_pretrend_wording_is_not_reassurance():
    t = pd.DataFrame({"label": ["use of force", "searches"], "pretrend_p": [0.8, 0.01]})
    s = pretrend_sentence(t)
    assert "did not detect a difference (p = 0.80)" in s
    assert "does not show that the trends were parallel" in s and "low power" in s
    assert "detected a difference before training (p = 0.01)" in s
    assert not BANNED.search(s)


# ----------------------------------------------------------------------------- the sample report
@pytest.fixture(scope="module")
def sample_inputs():
    from equity_metrics.report.config import sample_config
    from equity_metrics.report.content import read_inputs

    cfg = sample_config()
    return cfg, read_inputs(cfg)


def test_default_outcome_is_the_disparity_measure(sample_inputs):
    from equity_metrics.report.impact import assemble_impact

    cfg, inp = sample_inputs
    cfg = cfg.replace(impact_outcomes=[])
    assert cfg.impact_outcomes == ()
    imp = assemble_impact(cfg, inp, area="northshire", area_name="Northshire", groups=["Black"],
                          headline_group="Black", trend_fn=None)
    assert imp.error is None and imp.default_outcomes
    t = imp.table
    assert list(t["outcome"]) == ["share_of:Black", "use_of_force", "searches_of:Black"]
    assert list(t["role"]) == ["disparity", "count", "count"]
    share = t.iloc[0]
    # planted: Black share of a trained officer's searches x 0.75, search-weighted ATT -0.056 (data/samples/truth.json)
    from equity_metrics.datasets import load_sample_truth

    truth = load_sample_truth()
    if hasattr(truth, "att_black_share_search_weighted"):
        assert share["ci_low"] < truth.att_black_share_search_weighted < share["ci_high"]
    assert 0 < share["base"] < 1 and share["observed"] == pytest.approx(share["base"] + share["estimate"])
    assert (t["n_tests"] == 3).all() and (t["p_holm"] >= t["p_value"]).all()


def test_config_rejects_bad_threshold():
    from equity_metrics.report.config import sample_config

    with pytest.raises(OptionError, match="meaningful_change"):
        sample_config(meaningful_change=10)
    assert sample_config(meaningful_change=0.2, power=0.9).power == 0.9


def test_demo_training_section():
    from equity_metrics.report.build import build_report
    from equity_metrics.report.config import sample_config

    rep = build_report(sample_config())
    html = rep.html()
    sec = html[html.index('id="h-impact"'):html.index('id="h-quality"')]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", sec)).replace("&#39;", "'")
    t = rep.data.impact.table
    first = t.iloc[0]
    assert first["outcome"] == "share_of:Black"
    pct = f"{100 * first['pct']:+.0f}% of the untrained level (95% CI {100 * first['pct_low']:+.0f}% to {100 * first['pct_high']:+.0f}%)"
    assert pct in text
    assert "smallest effect this design could detect" in text or "No change large enough" in text or "clear" in text
    assert "Smallest detectable change (80% power)" in text and "Holm-adjusted p" in text
    assert "adjusted for testing 3 outcomes with Holm's method" in text
    assert "The first outcome is the disparity measure" in text
    assert "does not show that the trends were parallel" in text
    assert not BANNED.search(text)
    n_clear = int(t["verdict"].astype(str).str.startswith("clear_").sum())
    assert html.count('class="verdict clear"') == n_clear


def test_its_section_says_outcome_is_the_ratio():
    from equity_metrics.report.build import build_report
    from equity_metrics.report.config import sample_config

    r = build_report(sample_config(training="", officer_events="", training_date="2020-06",
                                   training_label="illustrative date for testing"))
    t = r.data.impact.table
    assert {"pct", "pct_low", "pct_high", "mde_fall", "p_holm", "verdict"} <= set(t.columns)
    assert t.iloc[0]["pct"] == pytest.approx(t.iloc[0]["estimate"] - 1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.html())).replace("&#39;", "'")
    assert "The outcome is itself a disparity measure" in text
    assert "no multiplicity adjustment is needed" in text


# ----------------------------------------------------------------------------- simulations
def _panel(rng, *, n=120, T=16, cohorts=(6, 9, 12), never=0.25, tau=0.0):
    g = np.where(rng.random(n) < never, 0, rng.choice(cohorts, n))
    unit = np.repeat(np.arange(n), T)
    time = np.tile(np.arange(1, T + 1), n)
    gg = np.repeat(g, T)
    d = (gg > 0) & (time >= gg)
    y = rng.normal(0, 1, n)[unit] + 0.1 * time + tau * d + rng.normal(0, 1, n * T)
    return pd.DataFrame({"officer_id": unit, "time": time, "first_treated": gg, "y": y})


def _fit(df, col="y"):
    return staggered_did(df, outcome=col, unit="officer_id", time="time", first_treated="first_treated",
                         control="not_yet_treated", method="reg")


@pytest.mark.slow
def test_power_at_the_mde_is_about_80_percent():
    """Bloom's MDE: a true effect equal to the MDE is detected in ~80% of replications."""
    rng = np.random.default_rng(20261202)
    se = np.mean([_fit(_panel(rng)).aggregate("simple").overall.std_error for _ in range(60)])
    mde = minimum_detectable_effect(se)
    hits = []
    for _ in range(300):
        o = _fit(_panel(rng, tau=mde)).aggregate("simple").overall
        hits.append(o.ci_low > 0)
    share = float(np.mean(hits))
    assert 0.80 - 0.07 < share < 0.80 + 0.07, share  # 3 binomial SEs at n=300 is 0.069


@pytest.mark.slow
def test_share_change_interval_covers():
    """Delta-method interval of the change in a group's share of searches: coverage ~95%."""
    rng = np.random.default_rng(7)
    n, T, k = 150, 16, 0.75
    cover, lvl_ok = [], []
    for _ in range(200):
        g = np.where(rng.random(n) < 0.25, 0, rng.choice([6, 9, 12], n))
        lam = rng.gamma(4, 0.4, n)
        pi = rng.beta(6, 20, n)
        unit = np.repeat(np.arange(n), T)
        time = np.tile(np.arange(1, T + 1), n)
        gg = np.repeat(g, T)
        d = (gg > 0) & (time >= gg)
        mt = 1 + 0.2 * np.sin(time / 2)
        mu = lam[unit] * mt
        s = rng.poisson(mu)
        p_it = pi[unit] * (1 + 0.01 * time) * np.where(d, k, 1.0)
        b = rng.binomial(s, p_it)
        df = pd.DataFrame({"officer_id": unit, "time": time, "first_treated": gg, "b": b, "s": s})
        rb, rs = _fit(df, "b"), _fit(df, "s")
        sc = share_change(df, rb, rs)
        truth = (mu[d] * p_it[d]).sum() / mu[d].sum() - (mu[d] * p_it[d] / k).sum() / mu[d].sum()
        cover.append(sc.ci_low < truth < sc.ci_high)
        lvl = untrained_level(df, rs)
        lvl_ok.append(abs(lvl.observed - s[d].mean()) < 1e-9)
    assert all(lvl_ok)
    c = float(np.mean(cover))
    assert 0.95 - 0.05 < c <= 1.0, c  # 3 binomial SEs at n=200 is 0.046
