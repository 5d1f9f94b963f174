"""Veil of darkness on the real police.uk archive (44 forces, 2019-01..2021-11): per-force results and their rules."""

from __future__ import annotations

import pytest

import equity_metrics as em

from conftest import need_shared

pytestmark = [pytest.mark.shared, pytest.mark.slow]


@pytest.fixture(scope="module")
def by_force():
    archive = need_shared("data", "policeuk", "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz")
    events = em.read_policeuk(archive).data
    return events, em.veil_of_darkness_by_area(events, area="force")


def test_every_force_gets_a_row_with_a_result_or_a_reason(by_force):
    events, res = by_force
    t = res.tidy().set_index("area")
    assert len(t) == 44 and t.index.is_monotonic_increasing
    assert (t.loc[~t["applicable"], "reason"] != "").all() and (t.loc[t["applicable"], "odds_ratio"] > 0).all()
    # the data's own quirks (../shared/data/README.md and what the test found):
    assert t.loc["dyfed-powys", "reason"] == "no times of day recorded"  # every record is date-only
    assert "12-hour clock" in t.loc["city-of-london", "reason"]  # no City of London search after 12:59
    for force in ("sussex", "wiltshire", "dorset"):  # mostly date-only records
        assert t.loc[force, "reason"].startswith("times of day recorded for only"), force
    assert "reference point: Sheffield" in t.loc["south-yorkshire", "location"]  # no coordinates published
    assert t.loc["south-yorkshire", "applicable"]
    assert t.loc["west-midlands", "location"] == "record coordinates"
    # forces with few Black searches in the window are not tested
    for force in ("durham", "north-wales", "cumbria"):
        assert t.loc[force, "reason"].startswith("too few Black searches"), force
    assert 30 <= t["applicable"].sum() <= 38
    ok = t[t["applicable"]]
    assert ((ok["ci_low"] < ok["odds_ratio"]) & (ok["odds_ratio"] < ok["ci_high"])).all()
    assert (ok["n_minority"] >= res.min_minority).all()
    # the Metropolitan Police has the most Black searches in the window
    assert ok["n_minority"].idxmax() == "metropolitan" and ok.loc["metropolitan", "n_minority"] > 5_000


def test_pooled_clock_change_design_runs_on_the_archive(by_force):
    events, _ = by_force
    r = em.veil_of_darkness(events, area="force", design="clock_change")
    assert r.n_in == len(events) == r.n_used + sum(r.dropped.values())
    assert r.dropped["times look like a 12-hour clock (none after 12:59 in the area)"] == 7_939  # City of London
    assert 10_000 < r.n_used < 40_000 and 0.5 < r.odds_ratio < 1.5
    assert set(r.counts["window"]) >= {"2019-spring", "2019-autumn", "2020-spring", "2020-autumn", "2021-spring"}
