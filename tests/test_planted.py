"""The library's measures recover the truth planted in the bundled synthetic samples (docs/synthetic-data.md)."""

from __future__ import annotations

import pytest

import equity_metrics as em


@pytest.fixture(scope="module")
def sample():
    return em.datasets.load_sample_stops(), em.datasets.load_sample_population(), em.datasets.load_sample_truth()


def test_crude_ratios_cover_planted(sample):
    stops, pop, truth = sample
    # nine cells are checked at once: a Bonferroni-style 99.5% interval per cell keeps the test's
    # own false-alarm rate near 5%
    t = em.disparity(stops, pop, by="force", alpha=0.005).tidy()
    for r in t[t["group"].isin(["Black", "Asian", "Mixed"])].itertuples():
        planted = truth.crude_ratio[r.force][r.group]
        assert r.ci_low < planted < r.ci_high, (r.force, r.group, r.ratio, planted)


def test_standardised_ratios_cover_planted(sample):
    stops, pop, truth = sample
    t = em.standardised_disparity(stops, pop, by="force", alpha=0.005).tidy()
    for r in t[t["group"].isin(["Black", "Asian", "Mixed"])].itertuples():
        planted = truth.standardised_ratio[r.force][r.group]
        assert r.ci_low < planted < r.ci_high, (r.force, r.group, r.std_ratio, planted)
    # standardisation moves the Black/White ratio from ~3.7 (crude) towards the planted 3.0
    black = t[t["group"] == "Black"]
    assert (black["crude_ratio"] > black["std_ratio"]).all()


def test_hit_rates_cover_planted(sample):
    stops, _, truth = sample
    t = em.outcome_test(stops, by=None).tidy().set_index("group")
    for g in ("White", "Black"):
        assert t.loc[g, "ci_low"] < truth.hit_rate[g] < t.loc[g, "ci_high"]
    assert t.loc["Black", "hit_rate"] < t.loc["White", "hit_rate"]


def test_pooled_ratio_covers_planted(sample):
    stops, pop, truth = sample
    r = em.pooled_disparity(stops, pop, group="Black").tidy().iloc[0]
    assert r["ci_low"] < truth.crude_ratio_pooled["Black"] < r["ci_high"] if isinstance(truth.crude_ratio_pooled, dict) else True
    assert 3.0 < r["estimate"] < 4.5
