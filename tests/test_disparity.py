"""Tests of rates per 1,000 and disproportionality ratios (equity_metrics.measures.disparity)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equity_metrics.errors import DataValidationError, OptionError
from equity_metrics.ledger import FileRecord, Ledger, ReadResult, Rejects
from equity_metrics.measures.disparity import TIDY_COLUMNS, disparity
from equity_metrics.measures.intervals import rate_ratio_ci


def _events(spec: dict[tuple[str, str, str], int], vehicle: int = 0) -> pd.DataFrame:
    """spec: (force, month, group) -> count."""
    rows = []
    for (force, month, group), n in spec.items():
        rows += [(force, pd.Period(month, "M"), group, False)] * n
    rows += [("kent", pd.Period("2020-05", "M"), "Black", True)] * vehicle
    df = pd.DataFrame(rows, columns=["force", "month", "ethnicity", "vehicle_only"])
    df["month"] = df["month"].astype("period[M]")
    return df


POP = pd.DataFrame(
    {
        "area": ["kent"] * 3 + ["surrey"] * 3,
        "group": ["Black", "White", "Asian"] * 2,
        "population": [10_000.0, 500_000.0, 20_000.0, 5_000.0, 400_000.0, 10_000.0],
        "vintage": "census2011",
    }
)


def test_rates_ratios_and_counts_exact():
    ev = _events({("kent", "2020-05", "Black"): 60, ("kent", "2020-05", "White"): 300, ("kent", "2020-06", "Asian"): 30,
                  ("kent", "2020-06", "Not stated"): 40}, vehicle=7)
    d = disparity(ev, POP, by="force")
    t = d.tidy().set_index("group")
    assert list(d.tidy().columns) == ["force"] + TIDY_COLUMNS
    assert t.loc["Black", "events"] == 60  # vehicle-only rows excluded
    assert t.loc["Black", "rate_per_1000"] == pytest.approx(6.0)
    assert t.loc["White", "rate_per_1000"] == pytest.approx(0.6)
    assert t.loc["Black", "ratio"] == pytest.approx(10.0)
    ref = rate_ratio_ci(60, 10_000, 300, 500_000)
    assert t.loc["Black", "ci_low"] == pytest.approx(float(ref.ci_low))
    assert t.loc["Black", "ci_high"] == pytest.approx(float(ref.ci_high))
    assert t.loc["Black", "not_stated_events"] == 40
    assert t.loc["Black", "not_stated_share"] == pytest.approx(40 / 430)
    # bounds: all unstated Black -> (100/10000)/(300/500000); all unstated White -> 60/10000 / (340/500000)
    assert t.loc["Black", "ratio_bound_high"] == pytest.approx((100 / 10_000) / (300 / 500_000))
    assert t.loc["Black", "ratio_bound_low"] == pytest.approx((60 / 10_000) / (340 / 500_000))
    assert "vehicle-only" in " ".join(d.notes)
    assert t.loc["Asian", "events"] == 30 and t.loc["White", "ratio"] == 1.0
    assert "small_count" not in t.loc["Black", "flags"]


def test_small_counts_and_implausible_benchmark_flagged():
    ev = _events({("surrey", "2020-05", "Black"): 5, ("surrey", "2020-05", "White"): 400, ("surrey", "2020-05", "Asian"): 12_000})
    t = disparity(ev, POP, by="force").tidy().set_index("group")
    assert "small_count" in t.loc["Black", "flags"]
    assert "rate_above_1000" in t.loc["Asian", "flags"]


def test_reference_all_and_exact_methods():
    ev = _events({("kent", "2020-05", "Black"): 60, ("kent", "2020-05", "White"): 300, ("kent", "2020-05", "Asian"): 30})
    d = disparity(ev, POP, by="force", reference="all", method="exact")
    t = d.tidy().set_index("group")
    overall = 390 / 530_000
    assert t.loc["Black", "ratio"] == pytest.approx((60 / 10_000) / overall)
    assert t.loc["Black", "ci_low"] < t.loc["Black", "ratio"] < t.loc["Black", "ci_high"]
    assert (t["reference"] == "all").all()
    k = disparity(ev, POP, by="force", reference="all", method="katz").tidy().set_index("group")
    assert k.loc["Black", "ci_low"] == pytest.approx(t.loc["Black", "ci_low"], rel=0.05)


def test_fy_and_rolling_periods():
    spec = {("kent", f"{y}-{m:02d}", g): 5 for y in (2019, 2020) for m in range(1, 13) for g in ("Black", "White")}
    ev = _events(spec)
    fy = disparity(ev, POP, by="force", period="FY").tidy()
    assert sorted(fy["period"].unique()) == ["2018/19", "2019/20", "2020/21"]
    assert fy.set_index(["period", "group"]).loc[("2019/20", "Black"), "events"] == 60
    r = disparity(ev, POP, by="force", period="rolling12").tidy()
    assert r["period"].nunique() == 13  # 24 months -> 13 complete windows
    assert (r["events"] == 60).all()


def test_missing_months_flagged_from_ledger():
    ev = _events({("kent", "2020-05", "Black"): 30, ("kent", "2020-05", "White"): 300})
    ev["source_file"] = "x"
    led = Ledger("t", files=[FileRecord("x", len(ev), len(ev), 0)], months_missing=[("kent", "2020-06")])
    rr = ReadResult(ev, led, Rejects())
    t = disparity(rr, POP, by="force", period="quarter").tidy()
    assert t["flags"].str.contains("incomplete_coverage").all()
    assert disparity(rr, POP, by="force", period="quarter", complete_periods_only=True).tidy().empty


def test_invariance_relabel_reorder_split():
    rng = np.random.default_rng(1)
    spec = {("kent", "2020-05", "Black"): 80, ("kent", "2020-05", "White"): 900, ("surrey", "2020-05", "Black"): 20,
            ("surrey", "2020-05", "White"): 500, ("kent", "2020-06", "Asian"): 44}
    ev = _events(spec)
    base = disparity(ev, POP, by="force").tidy()
    shuffled = disparity(ev.sample(frac=1, random_state=3), POP.sample(frac=1, random_state=4), by="force").tidy()
    pd.testing.assert_frame_equal(base, shuffled)
    # relabel a group consistently in events and population: numbers unchanged
    ev2 = ev.assign(ethnicity=ev["ethnicity"].replace({"Black": "Grp-B"}))
    pop2 = POP.assign(group=POP["group"].replace({"Black": "Grp-B"}))
    t2 = disparity(ev2, pop2, by="force").tidy().set_index(["force", "group"])
    t1 = base.set_index(["force", "group"])
    assert t2.loc[("kent", "Grp-B"), "ratio"] == pytest.approx(t1.loc[("kent", "Black"), "ratio"])
    # split in two halves and add counts: same rates
    idx = rng.permutation(len(ev))
    a, b = ev.iloc[idx[: len(ev) // 2]], ev.iloc[idx[len(ev) // 2 :]]
    ca = disparity(a, POP, by="force").tidy().set_index(["force", "group"])["events"]
    cb = disparity(b, POP, by="force").tidy().set_index(["force", "group"])["events"]
    assert (ca.add(cb, fill_value=0).sort_index() == t1["events"].sort_index()).all()


def test_pooled_over_areas_and_errors():
    ev = _events({("kent", "2020-05", "Black"): 60, ("kent", "2020-05", "White"): 300, ("surrey", "2020-05", "Black"): 10,
                  ("surrey", "2020-05", "White"): 100, ("nowhere", "2020-05", "White"): 5})
    t = disparity(ev, POP, by=None).tidy().set_index("group")
    assert t.loc["Black", "population"] == 15_000
    assert t.loc["Black", "rate_per_1000"] == pytest.approx(70 / 15)
    with pytest.raises(DataValidationError, match="reference group 'Chinese'"):
        disparity(ev, POP, reference="Chinese")
    with pytest.raises(OptionError):
        disparity(ev, POP, period="fortnight")
    with pytest.raises(DataValidationError, match="no column"):
        disparity(ev.drop(columns="month"), POP)
    with pytest.raises(DataValidationError, match="mixes vintages"):
        disparity(ev, pd.concat([POP, POP.assign(vintage="census2021")]))


def test_result_presentation(tmp_path):
    ev = _events({("kent", "2020-05", "Black"): 60, ("kent", "2020-05", "White"): 300})
    d = disparity(ev.assign(force="<script>alert(1)</script>"), POP.assign(area="<script>alert(1)</script>"), by="force")
    assert "<script>" not in d._repr_html_()
    assert "ratio to White" in str(d)
    p = d.to_csv(tmp_path / "d.csv")
    assert p.exists()
    import matplotlib

    matplotlib.use("Agg")
    ax = d.plot()
    assert len(ax.get_yticklabels()) == 1


def test_pooled_disparity_mantel_haenszel_by_hand():
    from equity_metrics.measures.disparity import pooled_disparity

    ev = _events({("kent", "2020-05", "Black"): 60, ("kent", "2020-05", "White"): 300, ("surrey", "2020-05", "Black"): 10,
                  ("surrey", "2020-05", "White"): 100})
    r = pooled_disparity(ev, POP, group="Black").tidy()
    # MH rate ratio: sum(a_i * N0_i / T_i) / sum(b_i * N1_i / T_i), T_i = N1_i + N0_i
    num = 60 * 500_000 / 510_000 + 10 * 400_000 / 405_000
    den = 300 * 10_000 / 510_000 + 100 * 5_000 / 405_000
    assert r["estimate"].iloc[0] == pytest.approx(num / den)
    assert r["n_strata"].iloc[0] == 2


def test_missing_periods_are_named_not_dropped_silently():
    """A month with no file has no row; the result says so (missing is not zero), and tidy has no index name."""
    from equity_metrics import datasets

    stops, pop = datasets.load_sample_stops(), datasets.load_sample_population()
    d = disparity(stops, pop, by="force", period="month")
    t = d.tidy()
    assert t.columns.name is None
    assert not ((t["force"] == "southvale") & (t["period"] == "2020-10")).any()
    note = [n for n in d.notes if "no data at all" in n]
    assert note and "southvale 2020-10" in note[0]
    # eastmoor 2020-03 had a header-only file: a true zero month, not missing, so not listed
    assert "eastmoor 2020-03" not in note[0]
    # a whole financial year is not missing on the samples: no note at FY level
    assert not any("no data at all" in n for n in disparity(stops, pop, by="force", period="FY").notes)
