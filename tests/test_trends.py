"""Tests of trend series (equity_metrics.measures.trends).

Rates and ratios must equal disparity()'s (which trend reuses); the pooled comparison must equal disparity()
run on the comparison areas alone (by=None pools them); counts are checked by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equity_metrics.errors import DataValidationError, OptionError
from equity_metrics.ledger import FileRecord, Ledger, ReadResult, Rejects
from equity_metrics.measures.disparity import disparity
from equity_metrics.measures.trends import TREND_COLUMNS, TrendResult, trend

POP = pd.DataFrame({
    "area": ["kent"] * 3 + ["surrey"] * 3 + ["essex"] * 3,
    "group": ["Black", "White", "Asian"] * 3,
    "population": [10_000.0, 500_000.0, 20_000.0, 5_000.0, 400_000.0, 10_000.0, 8_000.0, 600_000.0, 30_000.0],
    "vintage": "census2011",
})


def _events(seed: int = 0, months: int = 24) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per = pd.period_range("2019-01", periods=months, freq="M")
    rows = []
    for area, base in (("kent", 1.0), ("surrey", 1.5), ("essex", 0.8)):
        for g, lam in (("Black", 40), ("White", 300), ("Asian", 30)):
            for m in per:
                rows += [(area, m, g, False)] * int(rng.poisson(lam * base))
    rows += [("kent", per[0], "Black", True)] * 5
    df = pd.DataFrame(rows, columns=["force", "month", "ethnicity", "vehicle_only"])
    df["month"] = df["month"].astype("period[M]")
    return df


def test_counts_by_hand_with_zero_months_quarters_and_rolling():
    per = pd.PeriodIndex(["2020-01", "2020-01", "2020-03", "2020-03", "2020-03", "2020-04"], freq="M")
    ev = pd.DataFrame({"force": "kent", "month": per, "ethnicity": ["Black", "White", "White", "White", "Black", "White"]})
    t = trend(ev, measure="count").tidy()
    assert isinstance(trend(ev, measure="count"), TrendResult) and list(t.columns) == TREND_COLUMNS
    w = t.pivot(index="period", columns="group", values="events")
    assert w.loc["2020-02"].tolist() == [0.0, 0.0]  # a month with no events is a zero, not absent
    assert w["White"].tolist() == [1.0, 0.0, 2.0, 1.0]
    lo, hi = t.loc[t["events"] == 2, ["ci_low", "ci_high"]].iloc[0]
    assert (lo, hi) == pytest.approx((0.2422093, 7.2246883), abs=1e-6)  # Garwood exact interval for 2 events
    q = trend(ev, measure="count", period="quarter").tidy()
    assert q.set_index(["group", "period"])["events"].to_dict() == {("Black", "2020Q1"): 2, ("Black", "2020Q2"): 0,
                                                                   ("White", "2020Q1"): 3, ("White", "2020Q2"): 1}
    assert "incomplete_coverage" in q.loc[q["period"] == "2020Q2", "flags"].iloc[0]  # only 1 of 3 months
    ev2 = _events(months=14)
    r = trend(ev2, by="force", measure="count", period="rolling12").tidy()
    assert sorted(r["period"].unique()) == ["2019-01..2019-12", "2019-02..2020-01", "2019-03..2020-02"]
    people = ev2[~ev2["vehicle_only"]]
    n = ((people["force"] == "kent") & (people["ethnicity"] == "Black") & (people["month"] <= pd.Period("2019-12", "M"))).sum()
    assert r.set_index(["area", "group", "period"]).loc[("kent", "Black", "2019-01..2019-12"), "events"] == n


def test_rates_and_ratios_are_disparity_values():
    ev = _events()
    d = disparity(ev, POP, by="force", period="quarter").tidy().set_index(["force", "period", "group"])
    r = trend(ev, POP, period="quarter", measure="rate").tidy().set_index(["area", "period", "group"])
    np.testing.assert_allclose(r["value"], d.loc[r.index, "rate_per_1000"])
    np.testing.assert_allclose(r["ci_high"], d.loc[r.index, "rate_ci_high"])
    q = trend(ev, POP, period="quarter", measure="ratio").tidy().set_index(["area", "period", "group"])
    assert "White" not in set(q.index.get_level_values("group"))
    np.testing.assert_allclose(q["value"], d.loc[q.index, "ratio"])
    np.testing.assert_allclose(q["ci_low"], d.loc[q.index, "ci_low"])


@pytest.mark.parametrize("measure,col", [("rate", "rate_per_1000"), ("ratio", "ratio")])
def test_national_comparison_is_other_areas_pooled(measure, col):
    ev = _events(1)
    t = trend(ev, POP, measure=measure, comparison="national").tidy()
    others = disparity(ev[ev["force"] != "kent"], POP[POP["area"] != "kent"], by=None, period="month").tidy()
    ref = others.set_index(["period", "group"])[col]
    k = t[t["area"] == "kent"].set_index(["period", "group"])
    np.testing.assert_allclose(k["comparison_value"], ref.loc[k.index], rtol=1e-12)
    np.testing.assert_allclose(k["difference_from_comparison"], k["value"] - k["comparison_value"])


def test_listed_comparison_and_counts():
    ev = _events(2)
    t = trend(ev, POP, measure="rate", comparison=["surrey", "essex"]).tidy()
    sub = disparity(ev[ev["force"] == "essex"], POP[POP["area"] == "essex"], by=None, period="month").tidy()
    s = t[t["area"] == "surrey"].set_index(["period", "group"])  # surrey is left out of its own comparison
    np.testing.assert_allclose(s["comparison_value"], sub.set_index(["period", "group"]).loc[s.index, "rate_per_1000"])
    c = trend(ev, measure="count", comparison="national").tidy()
    k = c[(c["area"] == "kent") & (c["period"] == "2019-03") & (c["group"] == "Asian")].iloc[0]
    people = ev[~ev["vehicle_only"]]
    assert k["comparison_value"] == ((people["force"] != "kent") & (people["ethnicity"] == "Asian")
                                     & (people["month"] == pd.Period("2019-03", "M"))).sum()
    with pytest.raises(DataValidationError, match="comparison area"):
        trend(ev, POP, comparison=["sussex"])


def test_index_to_baseline():
    t = trend(_events(3), POP, measure="rate", index_to="2019-06").tidy()
    base = t[t["period"] == "2019-06"]
    np.testing.assert_allclose(base["indexed_value"], 100.0)
    row = t.iloc[30]
    b = t[(t["area"] == row["area"]) & (t["group"] == row["group"]) & (t["period"] == "2019-06")]["value"].iloc[0]
    assert row["indexed_value"] == pytest.approx(100 * row["value"] / b)
    with pytest.raises(DataValidationError, match="not a period of the series"):
        trend(_events(3), POP, index_to="2025-01")


def test_missing_months_are_explicit_rows_and_training_marks():
    ev = _events(4)
    ev = ev[~((ev["force"] == "kent") & (ev["month"] == pd.Period("2019-05", "M")))]
    led = Ledger("t", files=[FileRecord("x", len(ev), len(ev), 0)], months_missing=[("kent", "2019-05")])
    rr = ReadResult(ev, led, Rejects())
    t = trend(rr, POP, measure="rate", training_dates={"kent": "2019-09-14"}).tidy()
    k = t[t["area"] == "kent"]
    gap = k[k["period"] == "2019-05"]
    assert len(gap) == 3 and gap["events"].isna().all() and (gap["flags"] == "incomplete_coverage").all()
    assert k.groupby("group").size().eq(24).all()
    assert k.loc[k["period"] == "2019-09", "flags"].str.contains("training").all()
    assert not t.loc[t["area"] == "surrey", "flags"].str.contains("training").any()
    c = trend(rr, measure="count").tidy()
    assert c[(c["area"] == "kent") & (c["period"] == "2019-05")]["events"].isna().all()
    with pytest.raises(DataValidationError, match="training_dates names area"):
        trend(rr, POP, training_dates={"sussex": "2019-09-01"})


def test_series_feeds_interrupted_time_series():
    from equity_metrics.models.its import interrupted_time_series

    s = trend(_events(5), POP, measure="rate").series("kent", "Black")
    r = interrupted_time_series(s, time="period", outcome="events", offset="population", intervention="2020-01",
                                seasonality="none")
    assert r.n_obs == 24 and abs(r.level_change.estimate) < 0.5


def test_errors_and_options():
    ev = _events()
    with pytest.raises(DataValidationError, match="needs a population"):
        trend(ev, measure="rate")
    with pytest.raises(OptionError):
        trend(ev, POP, period="year")
    with pytest.raises(OptionError):
        trend(ev, POP, measure="share")
    with pytest.raises(DataValidationError, match="comparison needs areas"):
        trend(ev, POP, by=None, comparison="national")
    pooled = trend(ev, POP, by=None).tidy()
    assert set(pooled["area"]) == {"all areas"}


def test_summary_html_and_plot_with_training_lines():
    import matplotlib

    matplotlib.use("Agg")
    ev = _events(6)
    ev["force"] = ev["force"].replace({"kent": "<b>kent</b>"})
    pop = POP.replace({"kent": "<b>kent</b>"})
    r = trend(ev, pop, measure="ratio", comparison="national", training_dates={"<b>kent</b>": ["2019-06-01", "2020-02-01"]})
    assert "comparison" in r.summary() and "training" in str(r)
    assert "<b>kent</b>" not in r._repr_html_()
    ax = r.plot(area="<b>kent</b>", group="Black")
    xs = [ln for ln in ax.lines if ln.get_linestyle() == "--" and len(ln.get_xdata()) == 2]
    assert len(xs) >= 2  # one vertical line per training date
    with pytest.raises(DataValidationError, match="nothing to plot"):
        r.plot(area="sussex")
    assert len(r.plot(indexed=False).get_legend().get_texts()) >= 6  # 3 areas x 2 groups, with comparisons


def test_partial_and_overlapping_periods_are_marked_and_plotted():
    """Rule "Partial periods": every trend row says how many of its months the data cover; rolling windows
    are marked overlapping; the plot draws partial periods as hollow markers with a legend entry."""
    import matplotlib

    matplotlib.use("Agg")
    ev = _events(7, months=20)  # 2019-01 .. 2020-08
    assert {"months_in_period", "months_covered", "partial_period", "overlapping"} <= set(TREND_COLUMNS)
    for measure in ("count", "rate", "ratio"):
        q = trend(ev, POP, period="quarter", measure=measure).tidy()
        assert list(q.columns) == TREND_COLUMNS
        last = q[q["period"] == "2020Q3"]
        assert (last["months_covered"] == 2).all() and (last["months_in_period"] == 3).all()
        assert last["partial_period"].all() and last["flags"].str.contains("incomplete_coverage").all()
        assert not q.loc[q["period"] == "2020Q2", "partial_period"].any() and not q["overlapping"].any()
    r = trend(ev, POP, period="rolling12", measure="rate")
    t = r.tidy()
    assert t["overlapping"].all() and not t["partial_period"].any() and (t["months_in_period"] == 12).all()
    ax = r.plot(area="kent", group="Black")
    assert "overlap" in ax.get_xlabel()
    q = trend(ev, POP, period="quarter", measure="rate")
    ax = q.plot(area="kent", group="Black")
    labels = [x.get_text() for x in ax.get_legend().get_texts()]
    assert "partial period (2 of 3 months)" in labels
    hollow = [ln for ln in ax.lines if ln.get_markerfacecolor() == "white"]
    assert len(hollow) == 1 and len(hollow[0].get_xdata()) == 1
