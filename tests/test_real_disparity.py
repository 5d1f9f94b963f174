"""Disproportionality on the real 44-force police.uk archive with 2011 census force-area populations.

One table of searches per 1,000 and Black/White, Asian/White, Mixed/White ratios by force for each
year ending March, with intervals (the figure the Home Office publishes).
"""

from __future__ import annotations

import numpy as np
import pytest

import equity_metrics as em

from conftest import need_shared

pytestmark = [pytest.mark.slow, pytest.mark.shared]


@pytest.fixture(scope="module")
def table():
    tar = need_shared("data", "policeuk", "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz")
    pop_file = need_shared("data", "population", "census2011_pfa_ethnic_group_18.csv")
    stops = em.read_policeuk(tar)
    pop = em.read_population(pop_file, vintage="census2011")
    return em.disparity(stops, pop, by="force", period="FY", reference="White").tidy()


def test_fy_table_by_force(table):
    t = table
    assert set(t["period"]) == {"2018/19", "2019/20", "2020/21", "2021/22"}
    assert {"Black", "Asian", "Mixed", "White"} <= set(t["group"])
    assert t["force"].nunique() == 44
    ratios = t[t["group"].isin(["Black", "Asian", "Mixed"]) & np.isfinite(t["ratio"])]
    with_ci = ratios[np.isfinite(ratios["ci_low"])]
    assert len(with_ci) > 400
    assert (with_ci["ci_low"] <= with_ci["ratio"]).all() and (with_ci["ratio"] <= with_ci["ci_high"]).all()
    # a Katz interval is undefined only where a count is zero
    no_ci = ratios[~np.isfinite(ratios["ci_low"])]
    assert ((no_ci["events"] == 0) | (no_ci["reference_events"] == 0)).all()
    # BTP has no census population: kept, flagged, not dropped
    assert t.loc[t["force"] == "btp", "flags"].str.contains("no_population").all()
    # City of London: a residential benchmark is not meaningful (rate above 1,000 per 1,000 for some group-year)
    assert t.loc[t["force"] == "city-of-london", "flags"].str.contains("rate_above_1000").any()
    # Forces with coverage gaps are flagged (Greater Manchester has only 2019-01..06)
    gm = t[(t["force"] == "greater-manchester") & (t["period"] == "2019/20")]
    assert gm.empty or gm["flags"].str.contains("incomplete_coverage").all()


def test_known_values_recomputed_independently(table):
    # West Yorkshire 2020/21 Black/White from raw counts: recompute the ratio from the table's own counts
    row = table[(table["force"] == "west-yorkshire") & (table["period"] == "2020/21") & (table["group"] == "Black")].iloc[0]
    expected = (row["events"] / row["population"]) / (row["reference_events"] / row["reference_population"])
    assert row["ratio"] == pytest.approx(expected)
    assert 1.5 < row["ratio"] < 10


# ----------------------------------------------------------------------------- issue 9: right on real data
def test_partial_financial_years_on_the_archive(table):
    """The archive runs 2019-01..2021-11: FY 2018/19 has 3 months, 2021/22 at most 8; the Metropolitan
    files cover only 2019-01/02 and 2021-06..10. None of these is called a year or ranked."""
    t = table
    wy = t[(t["force"] == "west-yorkshire") & (t["group"] == "Black")].set_index("period")
    assert wy.loc["2018/19", ["months_in_period", "months_covered"]].tolist() == [12, 3]
    assert wy.loc["2018/19", "partial_period"] and not wy.loc["2018/19", "rankable"]
    assert wy.loc["2019/20", "months_covered"] == 12 and not wy.loc["2019/20", "partial_period"]
    assert wy.loc["2021/22", "months_covered"] == 8 and wy.loc["2021/22", "partial_period"]
    met = t[(t["force"] == "metropolitan") & (t["group"] == "White")].set_index("period")
    assert met.loc["2018/19", "months_covered"] == 2 and met.loc["2021/22", "months_covered"] == 5
    assert met["partial_period"].all()
    # the old flag and the new columns agree everywhere
    assert (t["flags"].str.contains("incomplete_coverage") == t["partial_period"]).all()
    assert (t["partial_period"] == (t["months_covered"] < t["months_in_period"])).all()
    gm = t[(t["force"] == "greater-manchester") & (t["period"] == "2019/20")]
    assert (gm["months_covered"] == 3).all()  # 2019-04..06 only
    assert not t["overlapping"].any()


def test_benchmark_plausibility_on_the_archive(table):
    """City of London (commuter area: 1,834 searches of Black people per 1,000 Black residents in 2019/20)
    is a broken benchmark; North Yorkshire's self-defined ethnicity is mostly blank; neither is ranked.
    West Yorkshire is neither."""
    from equity_metrics.measures.disparity import rank_areas

    t = table
    col = t[t["force"] == "city-of-london"]
    assert col["implausible_benchmark"].all() and not col["rankable"].any()
    ny = t[(t["force"] == "north-yorkshire") & (t["period"].isin(["2020/21", "2021/22"]))]
    assert ny["mostly_not_stated"].all() and not ny["rankable"].any()
    wy = t[t["force"] == "west-yorkshire"]
    assert not wy["implausible_benchmark"].any() and not wy["mostly_not_stated"].any()
    ranked = rank_areas(t, group="Black")
    assert {"city-of-london", "btp"}.isdisjoint(ranked["force"])
    # North Yorkshire is ranked only in 2019/20, when its ethnicity was mostly stated (16.5% not stated)
    assert set(ranked.loc[ranked["force"] == "north-yorkshire", "period"]) == {"2019/20"}
    assert set(ranked["period"]) == {"2019/20", "2020/21"}  # the complete years
    assert ranked.groupby("period")["rank"].max().min() > 25
    assert "west-yorkshire" in set(ranked["force"])
    # no other force's rate reaches the implausibility threshold
    others = t[t["force"] != "city-of-london"]
    assert not others["implausible_benchmark"].any()


def test_small_counts_use_exact_intervals_on_the_archive(table):
    ratios = table[table["group"] != "White"]
    with_ratio = ratios[np.isfinite(ratios["ratio"])]
    small = np.minimum(with_ratio["events"], with_ratio["reference_events"]) < 20
    assert (with_ratio.loc[small, "ci_method"] == "exact").all() and small.sum() > 50
    assert (with_ratio.loc[~small, "ci_method"] == "katz").all()
    # exact intervals exist even where a count is zero
    zero = with_ratio[with_ratio["events"] == 0]
    assert len(zero) and (zero["ci_low"] == 0).all() and np.isfinite(zero["ci_high"]).all()
