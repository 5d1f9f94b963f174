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
