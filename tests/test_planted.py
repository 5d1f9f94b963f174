"""The library's measures recover the truth planted in the bundled synthetic samples (docs/synthetic-data.md)."""

from __future__ import annotations

import numpy as np
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


@pytest.mark.slow
def test_cs_intervals_cover_the_planted_training_effect_over_generated_samples(tmp_path):
    """Callaway & Sant'Anna (not-yet-treated, doubly robust) 95% intervals on officer-month panels from
    the project's own generator cover the planted use-of-force ATT at close to the nominal rate.

    Each replication draws a fresh synthetic world (seed 7000 + r: officers, staggered CIT-like cohorts,
    Poisson use-of-force counts with officer heterogeneity and selection of earlier cohorts on level),
    reads it back through the readers, builds the balanced officer x month panel and estimates the simple
    ATT. The target is the mean planted effect (uof_mean - uof_y0) over the treated officer-months of that
    panel, the estimand of the simple aggregation.
    """
    import equity_metrics as em
    from equity_metrics import datasets as ds

    n_rep, hits, errs = 60, 0, []
    for r in range(n_rep):
        folder = tmp_path / f"rep{r}"
        ds.write(ds.generate(seed=7000 + r, officers_per_area=80), folder)
        ev, tr = ds.load_sample_officer_events(folder=folder), ds.load_sample_training(folder=folder)
        off, pan = ds.load_sample_officers(folder=folder), ds.load_sample_panel(folder=folder)
        p = em.build_panel(ev, tr, officers=off, outcome="use_of_force", treated_from="completion", balanced=True)
        o = em.staggered_did(p, control="not_yet_treated", method="dr").aggregate("simple").overall
        m = p.data.merge(pan, left_on=["officer_id", "period"], right_on=["officer_id", "month"], how="inner",
                         suffixes=("", "_gen"))
        t = m[m["treated"]]
        target = float((t["uof_mean"] - t["uof_y0"]).mean())
        hits += o.ci_low <= target <= o.ci_high
        errs.append(o.estimate - target)
    rate = hits / n_rep
    print(f"CS 95% CI coverage of the planted ATT: {rate:.3f} over {n_rep} generated samples; mean error {np.mean(errs):+.4f}")
    # binomial(60, 0.95): 99% of coverage rates fall in [0.85, 1.0]
    assert rate >= 0.85, rate
    # and the estimator is centred on the truth: mean error within 3 standard errors of its mean
    errs = np.asarray(errs)
    assert abs(errs.mean()) < 3 * errs.std(ddof=1) / np.sqrt(n_rep), (errs.mean(), errs.std(ddof=1))
