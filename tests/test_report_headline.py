"""The command report's headline: periods complete per area, honest names, every group's change, and --area scoping."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics.cli import EXIT_OK, main
from equity_metrics.ethnicity import NOT_STATED
from equity_metrics.measures.change import holm_adjust, ratio_change
from equity_metrics.report import build_report, report_config, sample_config
from equity_metrics.report._headline import headline_comparison
from equity_metrics.report._periods import (choose_base, choose_headline, covered_months, describe, window_of)
from equity_metrics.report.config import retitle
from equity_metrics.report.text import change_lines, vintage_words

from conftest import ROOT, SAMPLES, need_shared

GROUPS = ["Asian", "Black", "Mixed", "Other"]


# ----------------------------------------------------------------------------- periods
def test_covered_months_are_per_area():
    led = SimpleNamespace(months_covered=[str(m) for m in pd.period_range("2019-01", "2021-11", freq="M")],
                          months_missing=[("gwent", "2019-08"), ("metropolitan", "2019-03"), ("cumbria", "2021-04")])
    gw = covered_months(led, "gwent", ["gwent", "metropolitan", "cumbria"])
    assert "2019-08" not in gw and "2019-03" in gw and len(gw) == 34
    pooled = covered_months(led, None, ["gwent", "metropolitan", "cumbria"])
    assert not {"2019-08", "2019-03", "2021-04"} & set(pooled)
    # FY 2019/20 is complete for Cumbria but not for Gwent: judged per area, not from the archive's first/last month
    fy = window_of("2019/20", "FY")
    assert choose_headline(["2019/20"], "FY", covered_months(led, "cumbria", ["cumbria"]))[0] == fy
    w, note = choose_headline(["2019/20", "2020/21"], "FY", gw)
    assert w == window_of("2020/21", "FY") and note == ""


def test_partial_windows_are_never_called_12_months():
    assert describe(window_of("2018/19", "FY"), 3) == (
        "financial year 2018/19 (April 2018 to March 2019; data for only 3 of its 12 months)")
    assert "12 months" not in describe(window_of("2020-01..2020-12", "rolling12"), 9).split("(")[0]
    assert describe(window_of("2020-01..2020-12", "rolling12")) == "the 12 months to December 2020"
    assert describe(window_of("2021-06..2021-10", "span")) == "the 5 months June to October 2021"


def test_metropolitan_like_coverage_falls_back_to_the_longest_run():
    cov = ["2019-01", "2019-02"] + [str(m) for m in pd.period_range("2021-06", "2021-10", freq="M")]
    labels = ["2018/19", "2019/20", "2020/21", "2021/22"]
    w, note = choose_headline(labels, "FY", cov)
    assert w.kind == "span" and w.months[0] == "2021-06" and w.n == 5
    assert "no complete year (April to March)" in note and "2019-01 to 2019-02" in note
    assert choose_base(w, labels, cov) is None  # no same-months window a year or two earlier is covered
    cov2 = cov + [str(m) for m in pd.period_range("2020-06", "2020-10", freq="M")]
    b = choose_base(choose_headline(labels, "FY", cov2)[0], labels, cov2)
    assert b is not None and b.months == tuple(str(m) for m in pd.period_range("2020-06", "2020-10", freq="M"))


def test_rolling_base_does_not_overlap():
    cov = [str(m) for m in pd.period_range("2019-01", "2021-12", freq="M")]
    labels = [f"{e - 11}..{e}" for e in pd.period_range("2019-12", "2021-12", freq="M")]
    head, _ = choose_headline(labels, "rolling12", cov)
    base = choose_base(head, labels, cov)
    assert head.label == "2021-01..2021-12" and base.label == "2020-01..2020-12"
    assert not set(head.months) & set(base.months)


# ----------------------------------------------------------------------------- change for every group
def test_holm_and_ratio_change():
    assert holm_adjust([0.01, 0.04, np.nan, 0.03]).round(3).tolist()[:2] == [0.03, 0.06]
    assert np.isnan(holm_adjust([0.01, np.nan])[1])
    b = pd.DataFrame({"group": ["Black", "Asian", "Other"], "events": [64, 500, 3], "reference_events": [281] * 3})
    later = pd.DataFrame({"group": ["Black", "Asian", "Other"], "events": [88, 470, 4], "reference_events": [263] * 3})
    r = ratio_change(b, later, min_count=10)
    t = r.tidy().set_index("group")
    assert t.loc["Black", "change_ratio"] == pytest.approx((88 / 263) / (64 / 281))
    assert not t.loc["Other", "estimable"] and not t.loc["Other", "clear"]
    assert t.loc["Black", "p_value"] < 0.05 and r.clear_groups() == []  # p = 0.04 alone; Holm over 2 groups: 0.08
    assert t.loc["Black", "p_adjusted"] == pytest.approx(min(1, 2 * t.loc["Black", "p_value"]))
    later.loc[1, "events"] = 800  # a large Asian rise: Holm then tests Black at the full alpha
    assert ratio_change(b, later, min_count=10).clear_groups() == ["Black", "Asian"]


def _sample_events() -> pd.DataFrame:
    return em.datasets.load_sample_stops().data


def test_every_group_with_a_clear_change_is_named():
    ev = _sample_events().copy()
    pop = em.datasets.load_sample_population()
    # plant a rise for Asian only: every Asian search of FY 2020/21 in Northshire counted twice
    m = ev["month"].astype(str)
    extra = ev[(ev["force"] == "northshire") & (ev["ethnicity"] == "Asian") & (m >= "2020-04") & (m <= "2021-03")]
    ev2 = pd.concat([ev, extra], ignore_index=True)
    cov = [str(x) for x in pd.period_range("2019-01", "2021-12", freq="M")]
    hc = headline_comparison(ev2, pop, covered=cov, area="northshire", groups=GROUPS, reference="White", kind="FY",
                             min_count=10)
    assert hc.window.label == "2020/21" and hc.base.label == "2019/20"
    assert "Asian" in hc.changes.clear_groups()
    t = hc.changes.tidy()
    d = SimpleNamespace(change=hc.change_dict("Black"), changes=t.assign(base_period="2019/20", period="2020/21"),
                        headline_group="Black", reference="White", level=95, no_change_reason="")
    text = " ".join(change_lines(d))
    assert "Asian people (up about" in text and "changed clearly" in text


def test_report_headline_fields_on_samples():
    rep = build_report(sample_config())
    d = rep.data
    assert d.changes is not None and set(d.changes["group"]) == set(GROUPS)
    assert {"p_adjusted", "clear", "base_period"} <= set(d.changes.columns)
    assert d.change["clear"] == (d.change["p_adjusted"] < d.alpha)
    for t in (d.headline, d.by_power, d.by_object, d.trend_ratio):
        assert {"months_covered", "months_in_period", "partial_period"} <= set(t.columns)
    assert d.trend_ratio["overlapping"].all()  # rolling windows are labelled as overlapping
    html = rep.html()
    assert "Ethnicity was not stated for" in html and "had every one of them been of a White person" in html
    assert "The windows overlap" in html and "a synthetic population" in html
    assert vintage_words("census2011") == "the 2011 census"


# ----------------------------------------------------------------------------- --area scopes every section
def test_area_override_retitles():
    assert retitle("Stop and search in Northshire", "northshire", "southvale") == "Stop and search in Southvale"
    assert retitle("Force report: {area}", "northshire", "southvale") == "Force report: {area}"
    assert retitle("Stop and search in Northshire", "northshire", None) == "Stop and search in all areas"
    assert "all areas" in sample_config(area="").title
    cfg = sample_config(area="southvale")
    assert "Southvale" in cfg.title and "Northshire" not in cfg.title
    assert report_config(stops=[str(SAMPLES / "policeuk")], population=str(SAMPLES / "population.csv"),
                         title="Searches in {area}", area="eastmoor").title == "Searches in {area}"


def test_area_southvale_scopes_every_section(tmp_path):
    out = tmp_path / "sv"
    assert main(["--quiet", "report", str(ROOT / "reports" / "sample.toml"), "--area", "southvale",
                 "--out", str(out)]) == EXIT_OK
    html = (out / "report.html").read_text(encoding="utf-8")
    title = html[html.index("<h1>") + 4:html.index("</h1>")]
    assert "Southvale" in title and "Northshire" not in title
    rep = build_report(sample_config(area="southvale"))
    d = rep.data
    stops = em.datasets.load_sample_stops()
    ev = stops.data
    sv = ev[ev["force"] == "southvale"]
    pmonths = set(d.period_months)
    # headline: Southvale's own FY (its 2020-10 file is missing, so 2020/21 is not complete)
    assert d.area == "southvale" and d.period_label == "2019/20" and d.change is None
    direct = em.disparity(stops, em.datasets.load_sample_population(), by="force", period="FY").tidy()
    row = direct[(direct["force"] == "southvale") & (direct["period"] == "2019/20") & (direct["group"] == "Black")]
    assert d.headline.set_index("group").loc["Black", "ratio"] == pytest.approx(row["ratio"].iloc[0])
    # by power / object: the Southvale counts of the period (shown cells)
    in_p = sv[sv["month"].astype(str).isin(pmonths) & ~sv["vehicle_only"].fillna(False).astype(bool)]
    for tab, col in ((d.by_power, "legal_power"), (d.by_object, "object_of_search")):
        shown = tab[~tab["suppressed"]]
        for r in shown.itertuples():
            val = getattr(r, col)
            n = int(((in_p[col].astype("string").fillna("not recorded") == val) & (in_p["ethnicity"] == r.group)).sum())
            assert r.events == n, (col, val, r.group)
    # outcomes: searches of the period in Southvale only
    o = d.outcomes[~d.outcomes["suppressed"]]
    assert o["searches"].sum() <= len(in_p)
    assert o.set_index("group").loc["White", "searches"] == pytest.approx(
        d.outcomes.set_index("group").loc["White", "searches"])
    # trend: Southvale's monthly searches
    c = d.trend_counts.dropna(subset=["events"])
    mon = sv[~sv["vehicle_only"].fillna(False).astype(bool)].groupby(sv["month"].astype(str)).size()
    for r in c.itertuples():
        assert r.events == mon.get(str(r.period), 0)
    assert "2020-10" not in set(c["period"].astype(str))
    # training: Southvale officers only
    off = em.datasets.load_sample_officers()
    assert "in 1 force" in d.impact.scope and "force(s)" not in d.impact.scope
    assert int(d.impact.table["units"].max()) <= int((off["force"] == "southvale").sum())
    # data quality: Southvale's files and rows only
    q = d.quality
    assert q["files"] == sum("-southvale-" in str(f.file) for f in stops.ledger.files)
    assert q["rows_read"] == sum(f.rows_read for f in stops.ledger.files if "-southvale-" in str(f.file))
    assert q["months_missing"] == [("Southvale", "2020-10")] and q["area_rows"] == len(sv)
    man = json.loads((out / "manifest.json").read_text())
    assert man["parameters"]["area"] == "southvale"


# ----------------------------------------------------------------------------- no complete period (Metropolitan-like)
def test_report_without_a_complete_year_says_so(tmp_path):
    src = SAMPLES / "policeuk"
    months = ["2019-01", "2019-02"] + [str(m) for m in pd.period_range("2021-06", "2021-10", freq="M")]
    for m in months:
        (tmp_path / "policeuk" / m).mkdir(parents=True)
        f = f"{m}-northshire-stop-and-search.csv"
        shutil.copy(src / m / f, tmp_path / "policeuk" / m / f)
    cfg = report_config(stops=[str(tmp_path / "policeuk")], population=str(SAMPLES / "population.csv"),
                        population_vintage="synthetic", area="northshire", expected_months="2019-01..2021-12",
                        title="Stop and search in {area}", benchmark="synthetic residential population")
    rep = build_report(cfg)
    d = rep.data
    assert d.title == "Stop and search in Northshire"
    assert d.period_kind == "span" and d.period_months == months[2:] and d.change is None and d.changes is None
    assert d.period_desc == "the 5 months June to October 2021" and "12 months" not in d.period_desc
    assert "no complete year (April to March)" in d.period_note
    assert d.trend_period == "month"  # no complete rolling 12-month window to draw
    html = rep.html()
    assert "no complete year" in html and "not per year" in html and "No change is reported" in html


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared
@pytest.mark.slow
def test_west_yorkshire_names_the_asian_rise(tmp_path):
    need_shared("data", "policeuk", "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz")
    rep = build_report(ROOT / "reports" / "west-yorkshire.toml")
    d = rep.data
    ch = d.changes.set_index("group")
    assert ch.loc["Asian", "clear"] and ch.loc["Asian", "base_ratio"] == pytest.approx(2.57, abs=0.01)
    assert ch.loc["Asian", "ratio"] == pytest.approx(3.24, abs=0.01)
    text = " ".join(change_lines(d))
    assert "Asian people (up about 26%, from 2.57 to 3.24" in text
    assert "the 2011 census" in rep.html()


@pytest.mark.shared
@pytest.mark.slow
def test_metropolitan_has_no_complete_year(tmp_path):
    need_shared("data", "policeuk", "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz")
    rep = build_report(ROOT / "reports" / "metropolitan.toml")
    d = rep.data
    assert d.period_kind == "span" and d.period_label == "2021-06..2021-10" and d.change is None
    assert "no complete year" in d.period_note and "12 months" not in d.period_desc
    assert not d.headline["partial_period"].any() and (d.headline["months_covered"] == 5).all()
    assert d.vintage_words == "the 2011 census" and NOT_STATED


def test_report_coverage_agrees_with_the_measures():
    """The report's per-area coverage equals disparity()'s months_covered / partial_period columns."""
    from equity_metrics.report._periods import coverage

    s, p = em.datasets.load_sample_stops(), em.datasets.load_sample_population()
    t = em.disparity(s, p, by="force", period="FY").tidy()
    areas = sorted(t["force"].unique())
    for r in t[t["group"] == "Black"].itertuples():
        k, n, part = coverage(window_of(r.period, "FY"), covered_months(s.ledger, r.force, areas))
        assert (k, n, part) == (r.months_covered, r.months_in_period, r.partial_period), (r.force, r.period)


def test_headline_comparison_result_api():
    s, p = em.datasets.load_sample_stops(), em.datasets.load_sample_population()
    hc = headline_comparison(s, p, covered=covered_months(s.ledger, "northshire", ["northshire"]), area="northshire",
                             groups=GROUPS, reference="White", kind="FY", min_count=10)
    t = hc.tidy()
    assert set(t["group"]) == set(GROUPS) and (t["base_period"] == "2019/20").all() and (t["period"] == "2020/21").all()
    assert "Headline window: the 12 months to March 2021" in hc.summary() and "Holm" in hc.summary()
    assert "2020/21 vs 2019/20" in repr(hc)
