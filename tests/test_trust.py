"""Trust surveys: readers account for every row of the real files, measures and the impact design
are checked by independent recomputation from the raw CSVs and by simulation with a planted effect.

Real files: ../shared/data/trust (README there lists the quirks). Independent path: the raw CSVs
are re-read with the standard library's csv module, not with the toolkit's readers.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics.datasets import make_trust_panel
from equity_metrics.models.trust_impact import _simple_att

from conftest import need_shared  # noqa: E402

CHI_PARTS = ("data", "trust", "chicago_police_sentiment_scores.csv")
LON_PARTS = ("data", "trust", "london_pas_borough_dashboard.csv")


def _raw_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ----------------------------------------------------------------------------- Chicago (real)
@pytest.mark.shared
def test_chicago_every_row_accounted_and_readme_figures():
    CHI = need_shared(*CHI_PARTS)
    r = em.read_chicago_sentiment(CHI)
    led = r.ledger
    raw = _raw_rows(CHI)
    assert led.rows_read == len(raw) == 6587
    assert led.rows_kept + led.rows_rejected == led.rows_read
    reasons = r.rejects.by_reason()
    dup = [k for k in reasons.index if k.startswith("exact duplicate")]
    con = [k for k in reasons.index if k.startswith("conflicting rows")]
    assert reasons[dup].sum() == 70  # README: 70 exact duplicate rows
    assert reasons[con].sum() == 2   # README: one city-week with two different rows (both rejected)
    d = r.data
    # README: city-wide trust Nov 2017 vs Feb 2023 by race
    city = d[(d.area_type == "city") & (d.period_type == "month") & (d.measure == "trust")]
    got = city.set_index(["period", "group"])["value"]
    for (per, grp), want in {("2017-11", "Black"): 53.2, ("2023-02", "Black"): 54.8, ("2017-11", "Hispanic"): 61.1,
                             ("2023-02", "Hispanic"): 58.6, ("2017-11", "White"): 66.7, ("2023-02", "White"): 62.2,
                             ("2017-11", "Asian"): 61.3, ("2023-02", "Asian"): 60.2}.items():
        assert round(got[(per, grp)], 1) == want
    # balanced: 22 districts x 64 months
    dist = d[(d.area_type == "district") & (d.measure == "trust") & (d.group == "All")]
    assert dist["area"].nunique() == 22 and dist.groupby("area")["period"].nunique().eq(64).all()
    assert sorted(dist["area"].unique(), key=int) == [str(x) for x in list(range(1, 13)) + list(range(14, 21)) + [22, 24, 25]]
    # every kept value equals the raw cell (independent csv path), e.g. district 25 Black trust per month
    want = {}
    seen = set()
    for row in raw:
        key = tuple(row.values())
        if key in seen:
            continue
        seen.add(key)
        if row["DISTRICT"] == "25" and not row["SECTOR"]:
            m, dd, y = row["START_DATE"].split("/")
            want[f"{y}-{m}"] = float(row["T_RACE_AFRICAN_AMERICAN"])
    mine = d[(d.area == "25") & (d.measure == "trust") & (d.group == "Black")].set_index("period")["value"]
    assert len(want) == 64 and all(abs(mine[k] - v) < 1e-12 for k, v in want.items())


@pytest.mark.shared
def test_chicago_gap_by_district_matches_raw():
    CHI = need_shared(*CHI_PARTS)
    r = em.read_chicago_sentiment(CHI)
    g = em.trust_gap(r, group="Black", reference="White", area_type="district")
    raw = _raw_rows(CHI)
    gaps = defaultdict(dict)
    for row in raw:
        if row["DISTRICT"] and not row["SECTOR"]:
            m, _, y = row["START_DATE"].split("/")
            gaps[f"{y}-{m}"][row["DISTRICT"]] = float(row["T_RACE_AFRICAN_AMERICAN"]) - float(row["T_RACE_WHITE"])
    t = g.tidy().set_index("period")
    for per in ("2017-11", "2020-06", "2023-02"):
        vals = np.array(list(gaps[per].values()))
        assert t.loc[per, "n_areas"] == len(vals) == 22
        assert abs(t.loc[per, "gap"] - vals.mean()) < 1e-9
        half = t.loc[per, "ci_high"] - t.loc[per, "gap"]
        from scipy import stats
        assert abs(half - stats.t.ppf(0.975, 21) * vals.std(ddof=1) / math.sqrt(22)) < 1e-9


# ----------------------------------------------------------------------------- London (real)
@pytest.mark.shared
def test_london_pas_decimal_commas_richmond_and_rolling_windows():
    LON = need_shared(*LON_PARTS)
    r = em.read_london_pas(LON)
    raw = _raw_rows(LON)
    assert r.ledger.rows_read == len(raw) == 9312 and r.ledger.rows_kept == 9312
    d = r.data
    boroughs = d[d.area_type == "borough"]
    assert boroughs["area"].nunique() == 32  # Richmond's two spellings are one borough
    assert boroughs["overlapping"].all() and (boroughs["window_months"] == 12).all()
    assert boroughs.groupby("area")["period"].nunique().max() == 37
    # decimal commas: compare every value with an independent parse of the raw text
    for row, line in zip(raw[:200], range(2, 202)):
        v = d[(d.source_line == line) & (d.area_type == "borough")]["value"].iloc[0]
        assert v == pytest.approx(float(row["Proportion"].replace(",", ".")))
    # the stray trailing text is noted with its line, not lost
    assert any("line 8034" in n and "Trust" in n for n in r.ledger.notes)
    # London-wide values: one per quarter x measure
    lon = d[d.area == "london"]
    assert not lon.duplicated(["period", "measure"]).any()
    # before/after on rolling windows uses only windows wholly on one side
    ch = em.gap_change(r, date="2020-01-01", months=24, measure="trust_mps", group="All", reference=None,
                       area_type="borough", period_type=None, n_boot=199)
    assert ch.tidy().loc[0, "n_areas"] == 32
    assert any("straddles" in n for n in ch.notes)


# ----------------------------------------------------------------------------- generated data
def test_generated_chicago_layout_with_quirks_every_row_accounted(tmp_path):
    p = make_trust_panel(n_areas=6, n_months=12, n_treated=2, effect=2.0, seed=4)
    path = p.write_chicago_layout(tmp_path / "s.csv")
    n_lines = sum(1 for _ in open(path)) - 1
    r = em.read_chicago_sentiment(path)
    assert r.ledger.rows_read == n_lines
    assert r.ledger.rows_kept + r.ledger.rows_rejected == n_lines
    reasons = r.rejects.by_reason()
    assert any(k.startswith("exact duplicate") for k in reasons.index)
    assert any(k.startswith("conflicting rows") for k in reasons.index)
    assert r.ledger.missing_by_field.get("T_EDUCATION_LOW", 0) > 0
    # ids written as floats come back as district numbers
    assert set(r.data["area"]) == {str(i) for i in range(1, 7)}


def test_survey_estimates_linearisation_equals_textbook_formula():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"area": "A", "q": "2023-Q1", "eth": rng.choice(["Black", "White"], 400),
                       "y": rng.integers(0, 2, 400), "w": 1.0})
    t = em.survey_estimates(df, outcome="y", weight="w", area="area", period="q", group="eth").tidy()
    for g, sub in df.groupby("eth"):
        row = t[t.group == g].iloc[0]
        assert row["value"] == pytest.approx(sub["y"].mean())
        # equal weights, one PSU per respondent: SE = sd / sqrt(n)
        assert row["se"] == pytest.approx(sub["y"].std(ddof=1) / math.sqrt(len(sub)))
    # unequal weights: effective n below n
    df["w"] = rng.uniform(0.5, 3, 400)
    t2 = em.survey_estimates(df, outcome="y", weight="w", area="area", period="q", group="eth").tidy()
    assert (t2["n_effective"] < t2["n"]).all()
    with pytest.raises(em.DataValidationError, match="missing or non-numeric"):
        em.survey_estimates(df.assign(y=["x"] + [1] * 399), outcome="y", weight="w", area="area", period="q")


def test_direct_att_equals_staggered_did():
    p = make_trust_panel(n_areas=10, n_months=20, n_treated=5, effect=3.0, seed=7)
    r = em.trust_impact(p.survey, p.rollout, inference="analytic")
    assert not any("internal check" in n for n in r.notes)
    gp = em.measures.trust.gap_panel(p.survey)
    wide = gp.pivot_table(index="area", columns="period_start", values="gap")
    wide = wide.loc[sorted(wide.index, key=int)]
    starts = dict(zip(p.rollout.area, p.rollout.start))
    cols = list(wide.columns)
    F = np.array([cols.index(starts[a]) + 1 if pd.notna(starts[a]) else 0 for a in wide.index])
    assert _simple_att(wide.to_numpy(), F, control="not_yet_treated") == pytest.approx(r.overall["estimate"], abs=1e-10)


def test_planted_gap_effect_recovered_and_rollout_errors():
    p = make_trust_panel(n_areas=22, n_months=48, n_treated=8, effect=6.0, seed=11)
    r = em.trust_impact(p.survey, p.rollout, n_perm=199)
    assert r.overall["ci_low"] <= 6.0 <= r.overall["ci_high"]
    assert r.verdict == "clear_narrowing"  # the Black-White gap is negative; +6 for Black narrows it
    assert "narrowed" in r.sentence
    assert list(r.tidy().columns) == ["outcome", "estimate", "std_error", "ci_low", "ci_high", "pretrend_p", "mde",
                                      "n_treated", "n_comparison", "verdict"]
    with pytest.raises(em.DataValidationError, match="not in the survey table"):
        em.trust_impact(p.survey, {"99": "2019-01-01"})
    with pytest.raises(em.DataValidationError, match="not a date"):
        em.trust_impact(p.survey, {"1": "soon"})


@pytest.mark.slow
def test_randomisation_intervals_cover_planted_effect_and_pretrend_is_calibrated():
    """60 generated 22-district panels (AR(1) noise, shared shocks), 7 districts in the programme:
    the randomisation interval covers the planted +4 points near 95%, and the pre-trend test
    rejects near 5% (analytic clustered intervals covered only ~80% on these panels)."""
    cover, reject = 0, 0
    n = 60
    for s in range(n):
        p = make_trust_panel(n_treated=7, effect=4.0, seed=100 + s)
        r = em.trust_impact(p.survey, p.rollout, n_perm=199, seed=s)
        cover += r.overall["ci_low"] <= 4.0 <= r.overall["ci_high"]
        reject += r.pretrend_p < 0.05
    assert cover / n >= 0.87
    assert reject / n <= 0.15
