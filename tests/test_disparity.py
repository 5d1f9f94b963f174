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


# ----------------------------------------------------------------------------- issue 9: right on real data
def test_auto_interval_is_exact_below_20_and_katz_above():
    """Rule "Small-count intervals" (docs/real-data-rules.md): exact conditional interval when the smaller
    count is below 20, Katz at 20 and above; ci_method says which."""
    for n_black, expected in ((19, "exact"), (20, "katz")):
        ev = _events({("kent", "2020-05", "Black"): n_black, ("kent", "2020-05", "White"): 300})
        t = disparity(ev, POP, by="force").tidy().set_index("group")
        assert t.loc["Black", "ci_method"] == expected
        ref = rate_ratio_ci(n_black, 10_000, 300, 500_000, method=expected)
        assert t.loc["Black", "ci_low"] == pytest.approx(float(ref.ci_low), rel=1e-12)
        assert t.loc["Black", "ci_high"] == pytest.approx(float(ref.ci_high), rel=1e-12)
        assert t.loc["White", "ci_method"] == ""  # the reference row has no interval
    # a small reference count also switches (the smaller of the two counts decides)
    ev = _events({("kent", "2020-05", "Black"): 300, ("kent", "2020-05", "White"): 7})
    assert disparity(ev, POP, by="force").tidy().set_index("group").loc["Black", "ci_method"] == "exact"
    # an explicit method is used throughout
    assert set(disparity(ev, POP, by="force", method="katz").tidy()["ci_method"]) == {"katz", ""}
    # reference="all": exact for the small group
    t = disparity(ev, POP, by="force", reference="all").tidy().set_index("group")
    assert t.loc["White", "ci_method"] == "exact"


def test_riskratio_options_match_epitools_formulas():
    """R epitools::riskratio.wald and riskratio.small (CRAN epitools source, R/riskratio.wald.R and
    R/riskratio.small.R) on the table rows (no search, search) = White (29, 2), Black (64, 35):
    wald  est = (a1/n1)/(a0/n0) = (35/99)/(2/31)
    small est = (a1/(n1+1))/(a0/(n0+1)) = (35/100)/(2/32)
    both: SE(log) = sqrt(1/a1 - 1/n1 + 1/a0 - 1/n0), CI = est * exp(-+ qnorm(0.975) * SE).
    Values worked by hand from those formulas: wald 5.479798 (1.397111, 21.493061);
    small 5.600000 (1.427757, 21.964522)."""
    ev = _events({("kent", "2020-05", "Black"): 35, ("kent", "2020-05", "White"): 2})
    pop = pd.DataFrame({"area": ["kent", "kent"], "group": ["Black", "White"], "population": [99.0, 31.0]})
    w = disparity(ev, pop, by="force", method="riskratio_wald").tidy().set_index("group").loc["Black"]
    assert w["ci_method"] == "riskratio_wald"
    assert [w["ratio"], w["ci_low"], w["ci_high"]] == pytest.approx([5.479798, 1.397111, 21.493061], rel=1e-6)
    s = disparity(ev, pop, by="force", method="riskratio_small").tidy().set_index("group").loc["Black"]
    assert s["ci_method"] == "riskratio_small"
    assert [s["ratio"], s["ci_low"], s["ci_high"]] == pytest.approx([5.6, 1.427757, 21.964522], rel=1e-6)
    # more searches than residents: the risk ratio is undefined, and the table says why
    big = _events({("kent", "2020-05", "Black"): 150, ("kent", "2020-05", "White"): 2})
    u = disparity(big, pop, by="force", method="riskratio_wald").tidy().set_index("group").loc["Black"]
    assert np.isnan(u["ratio"]) and u["ci_method"].startswith("riskratio_undefined")
    with pytest.raises(DataValidationError, match="reference='all'"):
        disparity(ev, pop, by="force", method="riskratio_wald", reference="all")
    with pytest.raises(OptionError):
        disparity(ev, pop, by="force", method="wald")


def _monthly(first: str, last: str, per_month: int = 5, forces=("kent",)) -> pd.DataFrame:
    spec = {(f, str(m), g): per_month for f in forces for m in pd.period_range(first, last, freq="M")
            for g in ("Black", "White")}
    return _events(spec)


def test_partial_periods_are_marked_with_months_covered():
    """Rule "Partial periods": a period the data cover only in part says so, with its months."""
    ev = _monthly("2019-01", "2020-12")
    t = disparity(ev, POP, by="force", period="FY").tidy().drop_duplicates("period").set_index("period")
    assert t.loc["2018/19", ["months_in_period", "months_covered"]].tolist() == [12, 3]
    assert t.loc["2019/20", ["months_in_period", "months_covered"]].tolist() == [12, 12]
    assert t.loc["2020/21", ["months_in_period", "months_covered"]].tolist() == [12, 9]
    assert t["partial_period"].tolist() == [True, False, True]
    # the incomplete_coverage flag agrees with partial_period, and partial periods are not ranked
    assert (t["flags"].str.contains("incomplete_coverage") == t["partial_period"]).all()
    assert not t.loc["2018/19", "rankable"] and t.loc["2019/20", "rankable"]
    assert t["months_covered"].dtype.kind == "i" and t["partial_period"].dtype == bool
    q = disparity(ev, POP, by="force", period="quarter").tidy()
    assert not q["partial_period"].any() and (q["months_in_period"] == 3).all()
    y = disparity(ev, POP, by="force", period="year").tidy()
    assert not y["partial_period"].any() and not y["overlapping"].any()
    r = disparity(ev, POP, by="force", period="rolling12").tidy()
    assert r["overlapping"].all() and (r["months_covered"] == 12).all()
    assert any("overlap" in n for n in disparity(ev, POP, by="force", period="rolling12").notes)
    d = disparity(ev, POP, by="force", period="FY")
    assert any("2018/19 (3 of 12 months)" in n for n in d.notes)
    assert set(disparity(ev, POP, by="force", period="FY", complete_periods_only=True).tidy()["period"]) == {"2019/20"}


def test_partial_periods_from_the_ledger():
    """With a reader's ledger: covered = the ledger's months less the area's missing months."""
    ev = _monthly("2019-04", "2020-03", forces=("kent", "surrey"))
    ev = ev[~((ev["force"] == "surrey") & (ev["month"] == pd.Period("2019-08", "M")))]
    ev["source_file"] = "x"
    led = Ledger("t", files=[FileRecord("x", len(ev), len(ev), 0)],
                 months_covered=[str(m) for m in pd.period_range("2019-04", "2020-03", freq="M")],
                 months_missing=[("surrey", "2019-08")])
    t = disparity(ReadResult(ev, led, Rejects()), POP, by="force", period="FY").tidy()
    got = t.drop_duplicates("force").set_index("force")[["months_covered", "partial_period"]]
    assert got.loc["kent"].tolist() == [12, False] and got.loc["surrey"].tolist() == [11, True]
    # pooled over areas: a month counts only when every area has it
    p = disparity(ReadResult(ev, led, Rejects()), POP, by=None, period="FY").tidy()
    assert (p["months_covered"] == 11).all() and p["partial_period"].all()


def test_complete_periods_helper():
    from equity_metrics.measures import complete_periods

    ev = _monthly("2019-01", "2021-12")
    fy = disparity(ev, POP, by="force", period="FY").tidy()
    assert sorted(complete_periods(fy)["period"].unique()) == ["2019/20", "2020/21"]
    r = disparity(ev, POP, by="force", period="rolling12").tidy()
    kept = sorted(complete_periods(r)["period"].unique())
    assert kept == ["2019-01..2019-12", "2020-01..2020-12", "2021-01..2021-12"]  # non-overlapping, back from the latest
    with pytest.raises(DataValidationError, match="partial_period"):
        complete_periods(fy.drop(columns="partial_period"))


def test_benchmark_plausibility_and_ranking():
    """Rule "Benchmark plausibility": > 200 per 1,000 a year (scaled to the months covered) is a broken
    benchmark; > 50% not stated is mostly not stated; neither is ranked."""
    from equity_metrics.measures.disparity import rank_areas

    pop = pd.DataFrame({"area": ["a"] * 2 + ["b"] * 2 + ["c"] * 2 + ["d"] * 2, "group": ["Black", "White"] * 4,
                        "population": [1_000.0, 10_000.0] * 4})
    spec = {("a", "2020-01", "Black"): 30, ("a", "2020-01", "White"): 30,      # 30 per 1,000 in one month: > 200/12
            ("b", "2020-01", "Black"): 10, ("b", "2020-01", "White"): 10,
            ("c", "2020-01", "Black"): 8, ("c", "2020-01", "White"): 10, ("c", "2020-01", "Not stated"): 40,
            ("d", "2020-01", "Black"): 16, ("d", "2020-01", "White"): 10}       # 16 per 1,000: just under 16.67
    ev = _events(spec)
    t = disparity(ev, pop, by="force", period="month").tidy().set_index(["force", "group"])
    assert t.loc[("a", "Black"), "implausible_benchmark"] and t.loc[("a", "White"), "implausible_benchmark"]
    assert not t.loc[("d", "Black"), "implausible_benchmark"]
    assert "implausible_benchmark" in t.loc[("a", "Black"), "flags"]
    assert t.loc[("c", "Black"), "mostly_not_stated"] and not t.loc[("b", "Black"), "mostly_not_stated"]
    assert t.xs("Black", level="group")["rankable"].to_dict() == {"a": False, "b": True, "c": False, "d": True}
    ranked = rank_areas(t.reset_index(), group="Black")
    assert ranked["force"].tolist() == ["d", "b"] and ranked["rank"].tolist() == [1, 2]
    # the thresholds are parameters
    t2 = disparity(ev, pop, by="force", period="month", implausible_above=400, not_stated_above=0.9).tidy()
    assert not t2["implausible_benchmark"].any() and not t2["mostly_not_stated"].any()


def test_area_names_matched_after_normalising_or_named_in_the_error():
    """Rule "Area matching": district names that differ in case/punctuation still match; if none match
    the error says the areas did not match (not that the reference group has no events)."""
    pop = pd.DataFrame({"area": ["city of london", "city of london", "westminster", "westminster"],
                        "group": ["Black", "White"] * 2, "population": [500.0, 5_000.0, 20_000.0, 150_000.0]})
    rows = [("LONDON, CITY OF", "Black")] * 3 + [("London, City of", "White")] * 9 + [("Westminster ", "Black")] * 40 + \
        [("WESTMINSTER", "White")] * 60
    ev = pd.DataFrame(rows, columns=["district", "ethnicity"]).assign(month=pd.Period("2020-05", "M"))
    d = disparity(ev, pop, by="district", area="district")
    t = d.tidy().set_index(["district", "group"])
    assert t.loc[("city of london", "Black"), "events"] == 3 and t.loc[("westminster", "White"), "events"] == 60
    assert t.loc[("westminster", "Black"), "population"] == 20_000
    assert any("matched to the population after normalising" in n for n in d.notes)
    pooled = disparity(ev, pop, by=None, area="district").tidy().set_index("group")
    assert pooled.loc["Black", "events"] == 43
    bad = ev.assign(district=ev["district"].map(lambda s: s.strip() + " Borough"))
    for by in ("district", None):
        with pytest.raises(DataValidationError, match="did not match|matched an area") as e:
            disparity(bad, pop, by=by, area="district")
        msg = str(e.value)
        assert "Westminster Borough" in msg and "'westminster'" in msg and "reference group" not in msg


def test_forest_plot_marks_partial_periods():
    import matplotlib

    matplotlib.use("Agg")
    ev = _monthly("2019-01", "2020-12")
    ax = disparity(ev, POP, by="force", period="FY").plot()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["partial period (3 of 12, 9 of 12 months)"]
    hollow = [ln for ln in ax.lines if ln.get_markerfacecolor() == "white"]
    assert len(hollow) == 1 and len(hollow[0].get_xdata()) == 2
    assert "overlap" in disparity(ev, POP, by="force", period="rolling12").plot().get_xlabel()


def test_published_table_hides_what_would_reveal_a_suppressed_count():
    """ci_method 'exact' says a count is below 20 and mostly_not_stated bounds the not-stated count:
    both are blanked wherever the CLI's suppression hides the counts they describe."""
    from equity_metrics.cli_commands.disparity import publish_disparity

    ev = _events({("kent", "2020-05", "Black"): 3, ("kent", "2020-05", "White"): 300, ("kent", "2020-05", "Asian"): 40,
                  ("kent", "2020-05", "Not stated"): 2})
    t = disparity(ev, POP, by="force").tidy()
    pub = publish_disparity(t, threshold=10, reference="White", notes=[]).set_index("group")
    assert pd.isna(pub.loc["Black", "ci_method"]) and pd.isna(pub.loc["Black", "mostly_not_stated"])
    assert t.set_index("group").loc["Black", "ci_method"] == "exact"


def test_standardised_disparity_says_which_areas_are_partial():
    from equity_metrics.measures.standardise import standardised_disparity

    ev = _monthly("2020-01", "2020-12", forces=("kent", "surrey"))
    ev = ev[~((ev["force"] == "surrey") & (ev["month"] >= pd.Period("2020-10", "M")))]
    ev = ev.assign(sex="Male", age_band="18-24")
    pop = POP.assign(sex="Male", age_band="18-24")
    s = standardised_disparity(ev, pop, by="force")
    t = s.tidy().drop_duplicates("force").set_index("force")
    assert t.loc["kent", ["months_in_period", "months_covered", "partial_period"]].tolist() == [12, 12, False]
    assert t.loc["surrey", ["months_in_period", "months_covered", "partial_period"]].tolist() == [12, 9, True]
    assert "incomplete_coverage" in t.loc["surrey", "flags"]
    assert any("surrey (9 of 12 months)" in n for n in s.notes)
    pooled = standardised_disparity(ev, pop, by=None).tidy()
    assert (pooled["months_covered"] == 9).all() and pooled["partial_period"].all()


def test_partly_unmatched_areas_are_listed_with_closest_names():
    ev = _events({("kent", "2020-05", "Black"): 30, ("kent", "2020-05", "White"): 300, ("surey", "2020-05", "White"): 9})
    d = disparity(ev, POP, by="force")
    note = [n for n in d.notes if "no population for area" in n][0]
    assert "'surey' (closest population areas: 'surrey')" in note
    p = disparity(ev, POP, by=None)
    assert any("'surey' (closest population areas: 'surrey')" in n for n in p.notes)
