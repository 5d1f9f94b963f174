"""Tests of the outcome test, stage RRI and age x sex standardisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from equity_metrics.errors import DataValidationError
from equity_metrics.measures.intervals import risk_ratio, wilson_ci
from equity_metrics.measures.outcomes import outcome_test, stage_rri
from equity_metrics.measures.standardise import fay_feuer_ci, standardised_disparity


def _searches(spec):
    """spec: list of (force, group, n, hits, arrests, power)."""
    rows = []
    for force, group, n, hits, arrests, power in spec:
        for i in range(n):
            rows.append((force, group, i < hits, i < arrests, power))
    return pd.DataFrame(rows, columns=["force", "ethnicity", "hit", "arrest", "legal_power"]).astype({"hit": "boolean"})


def test_outcome_test_rates_wilson_and_glm():
    ev = _searches([("kent", "White", 400, 120, 40, "PACE s1"), ("kent", "Black", 100, 20, 10, "PACE s1"),
                    ("surrey", "White", 300, 60, 30, "PACE s1"), ("surrey", "Black", 50, 5, 2, "PACE s1"),
                    ("kent", "Black", 30, 0, 0, "Criminal Justice and Public Order Act 1994 (section 60)")])
    res = outcome_test(ev, by="force")
    t = res.tidy().set_index(["force", "group"])
    assert t.loc[("kent", "Black"), "searches"] == 100  # s60 searches excluded
    assert t.loc[("kent", "Black"), "hit_rate"] == pytest.approx(0.2)
    lo, hi = wilson_ci(20, 100)
    assert t.loc[("kent", "Black"), "ci_low"] == pytest.approx(lo)
    assert t.loc[("kent", "Black"), "difference_from_reference"] == pytest.approx(0.2 - 0.3)
    # pooled odds ratio equals an independent statsmodels logit on individual rows with force effects
    e = ev[ev["legal_power"] == "PACE s1"]
    X = pd.DataFrame({"const": 1.0, "black": (e["ethnicity"] == "Black").astype(float), "surrey": (e["force"] == "surrey").astype(float)})
    fit = sm.Logit(e["hit"].astype(float).to_numpy(), X).fit(disp=0)
    por = res.pooled_tidy().set_index("group").loc["Black", "odds_ratio"]
    assert por == pytest.approx(np.exp(fit.params["black"]), rel=1e-6)
    assert any("section 60" in n or "s60" in n for n in res.notes)


def test_outcome_unknown_hits_left_out_and_reported():
    ev = _searches([("kent", "White", 10, 5, 0, "x"), ("kent", "Black", 10, 2, 0, "x")])
    ev.loc[0, "hit"] = pd.NA
    res = outcome_test(ev, by=None)
    assert res.tidy().set_index("group").loc["White", "searches"] == 9
    assert any("left out of the find rate" in n for n in res.notes)


def test_stage_rri_against_risk_ratio():
    ev = _searches([("kent", "White", 1000, 200, 50, "x"), ("kent", "Black", 200, 30, 15, "x")])
    r = stage_rri(ev, stages=["search", "hit", "arrest"]).tidy().set_index(["stage", "group"])
    assert r.loc[("hit", "Black"), "rate"] == pytest.approx(0.15)
    assert r.loc[("hit", "Black"), "rri"] == pytest.approx(0.15 / 0.2)
    ref = risk_ratio(15, 30, 50, 200)
    assert r.loc[("arrest", "Black"), "rri"] == pytest.approx(float(ref.ratio))
    assert r.loc[("arrest", "Black"), "ci_low"] == pytest.approx(float(ref.ci_low))
    assert np.isnan(r.loc[("arrest", "White"), "ci_low"]) and r.loc[("arrest", "White"), "rri"] == 1.0
    pop = pd.DataFrame({"area": ["kent", "kent"], "group": ["White", "Black"], "population": [100_000.0, 5_000.0]})
    r2 = stage_rri(ev, stages=["search", "arrest"], population=pop, by="force").tidy()
    first = r2[(r2["previous_stage"] == "population") & (r2["group"] == "Black")].iloc[0]
    assert first["rri"] == pytest.approx((200 / 5000) / (1000 / 100_000))
    with pytest.raises(DataValidationError, match="boolean column 'charge'"):
        stage_rri(ev, stages=["search", "charge"])


def _age_data():
    # Two groups with opposite age structure but identical age-specific rates.
    pop = pd.DataFrame({
        "area": "kent", "group": ["A", "A", "B", "B"], "sex": "Male", "age_band": ["18-24", "over 34"] * 2,
        "population": [1000.0, 9000.0, 9000.0, 1000.0],
    })
    rates = {"18-24": 0.1, "over 34": 0.01}
    rows = []
    for r in pop.itertuples():
        rows += [("kent", r.group, "Male", r.age_band)] * int(r.population * rates[r.age_band])
    ev = pd.DataFrame(rows, columns=["force", "ethnicity", "sex", "age_band"])
    return ev, pop


def test_standardisation_removes_age_structure():
    ev, pop = _age_data()
    s = standardised_disparity(ev, pop, by="force", reference="A").tidy().set_index("group")
    assert s.loc["B", "crude_ratio"] == pytest.approx((900 + 10) / (100 + 90))
    assert s.loc["B", "std_ratio"] == pytest.approx(1.0)
    assert s.loc["B", "ci_low"] < 1.0 < s.loc["B", "ci_high"]
    # standard = total population: weights 0.5 / 0.5 -> DSR = 0.5*0.1 + 0.5*0.01
    assert s.loc["A", "std_rate_per_1000"] == pytest.approx(55.0)


def test_unknown_strata_counted():
    ev, pop = _age_data()
    ev.loc[0, "age_band"] = None
    s = standardised_disparity(ev, pop, by="force", reference="A").tidy()
    assert s["events_unknown_strata"].sum() == 1


def test_fay_feuer_matches_exact_poisson_for_single_stratum():
    # one stratum, weight 1: the gamma interval is the exact (Garwood) Poisson interval
    from scipy import stats

    dsr, lo, hi = fay_feuer_ci(np.array([12]), np.array([1000]), np.array([1.0]))
    assert lo == pytest.approx(stats.chi2.ppf(0.025, 24) / 2 / 1000)
    assert hi == pytest.approx(stats.chi2.ppf(0.975, 26) / 2 / 1000)
