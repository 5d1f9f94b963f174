"""Home Office published stop-and-search counts: the reader and the comparison with police.uk.

Unit tests on small hand-made files; real-data tests (marked ``shared``) on
``../shared/data/homeoffice`` and the police.uk archive: West Yorkshire 2020/21 White
searches are 10,433 (Home Office) vs 10,462 (police.uk, local month) or 10,465 (UTC
month); forces with months missing are partial, not discrepancies.
"""

from __future__ import annotations

import glob
import json

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from conftest import need_shared
from equity_metrics.errors import DataValidationError, FileFormatError, OptionError
from equity_metrics.measures.published import LARGE_GAP, TIDY_COLUMNS, compare_published

BY_ETH = "financial_year,police_force,ethnicity,total_searches\n"
TOTALS = "financial_year,police_force,region_clean,total_searches,missing_searches,pct_missing\n"
NFA = "financial_year,ethnicity,nfa_pct\n"


# ----------------------------------------------------------------------------- reader
def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_reader_three_layouts_one_long_table(tmp_path):
    a = _write(tmp_path, "ho_by_eth.csv", BY_ETH + '2020/21,Avon & Somerset,White," 1,234 "\n'
               '2020/21,"London, City of",Black,289\n2020/21,Metropolitan Police,Black,75651\n')
    b = _write(tmp_path, "ho_totals.csv", TOTALS + "2020/21,Avon & Somerset,South West,1400,166,11.9\n")
    c = _write(tmp_path, "ho_nfa.csv", NFA + "2020/21,Black,73.3\n")
    r = em.read_homeoffice_stop_search([a, b, c])
    d = r.data
    assert r.ledger.rows_read == 5 and r.ledger.rows_kept == 5 and r.ledger.balanced
    assert set(d["area"]) == {"avon-and-somerset", "city-of-london", "metropolitan", "england-and-wales"}
    got = {(x.area, x.group, x.measure): x.value for x in d.itertuples()}
    assert got[("avon-and-somerset", "White", "searches")] == 1234.0
    assert got[("avon-and-somerset", "All", "searches")] == 1400.0
    assert got[("avon-and-somerset", "Not stated", "searches")] == 166.0
    assert got[("england-and-wales", "Black", "nfa_pct")] == 73.3
    nfa = d[d["measure"] == "nfa_pct"]
    assert nfa["count"].isna().all() and (nfa["unit"] == "percent").all()
    assert set(d["source_table"]) == {"force_by_ethnicity", "force_total_and_not_stated", "national_nfa_pct"}
    assert (d["period_start"].dt.strftime("%Y-%m-%d") == "2020-04-01").all()
    assert any("pct_missing" in n for n in r.ledger.notes)


def test_reader_rejects_blank_keys_with_line_and_keeps_unparseable(tmp_path):
    p = _write(tmp_path, "ho.csv", BY_ETH + "2020/21,,White,12\n2020/21,Kent,White,n/a\n2020/21,Kent,Black,oops\n")
    r = em.read_homeoffice_stop_search(p)
    assert r.ledger.rows_read == 3 and r.ledger.rows_rejected == 1 and r.ledger.balanced
    rej = r.rejects.frame
    assert rej["line"].tolist() == [2] and "police_force" in rej["reason"].iloc[0]
    assert "White" in rej["raw"].iloc[0]
    d = r.data.set_index("group")
    assert np.isnan(d.loc["White", "value"]) and d.loc["White", "count_flag"] == "N/A"
    assert np.isnan(d.loc["Black", "value"]) and d.loc["Black", "count_flag"] == "unparseable"
    assert "oops" in d.loc["Black", "unparsed_raw"]


def test_reader_unknown_layout_says_what_to_pass(tmp_path):
    p = _write(tmp_path, "uof.csv", "Police Force,Type of force,Tactic\nKent,Restraint,Handcuffing\n")
    with pytest.raises(FileFormatError, match="ho_opendata"):
        em.read_homeoffice_stop_search(p)


# ----------------------------------------------------------------------------- measure on small tables
def _events(force="kent", months=("2020-04", "2021-03"), per_month=None, vehicle=False, ethnicity="White",
            outcome="A no further action disposal"):
    ms = pd.period_range(*months, freq="M")
    n = len(ms)
    return pd.DataFrame({"force": force, "month": ms, "file_month": ms, "ethnicity": ethnicity,
                         "vehicle_only": vehicle, "outcome": outcome, "ethnicity_source": "self_defined"},
                        index=range(n))


def _pub(rows):
    return pd.DataFrame([{"area": a, "period": p, "group": g, "measure": "searches", "value": float(v)} for a, p, g, v in rows])


def test_counts_exclude_vehicle_only_and_btp_and_compare():
    ev = pd.concat([_events(), _events(vehicle=True), _events(force="btp"),
                    _events(ethnicity="Not stated").iloc[:2]], ignore_index=True)
    pub = _pub([("kent", "2020/21", "White", 12), ("kent", "2020/21", "Not stated", 2), ("kent", "2020/21", "All", 14)])
    res = compare_published(ev, pub)
    t = res.tidy()
    assert list(t.columns) == TIDY_COLUMNS
    assert set(t["force"]) == {"kent"}  # BTP left out
    assert t.set_index("group")["police_uk"].to_dict() == {"White": 12.0, "Not stated": 2.0, "All": 14.0}
    assert (t["status"] == "close").all() and (t["months_covered"] == 12).all()
    assert any("vehicle-only" in n for n in res.notes) and any("btp" in n for n in res.notes)


def test_large_gap_rule_needs_share_and_count():
    ev = pd.concat([_events()] * 10, ignore_index=True)  # 120 White searches
    pub = _pub([("kent", "2020/21", "White", 100)])  # +20%, +20 searches
    assert compare_published(ev, pub).tidy()["status"].iloc[0] == "large_gap"
    assert compare_published(ev, pub, large_gap=0.25).tidy()["status"].iloc[0] == "close"
    assert compare_published(ev, pub, min_searches=21).tidy()["status"].iloc[0] == "close"
    s = compare_published(ev, pub).tidy()["sentence"].iloc[0]
    assert "police.uk 120 vs Home Office 100 (+20, +20.0%)" in s and "large gap" in s
    assert LARGE_GAP == 0.05


def test_partial_and_missing_years_are_not_discrepancies():
    ev = _events(months=("2020-04", "2020-09"))
    pub = _pub([("kent", "2020/21", "White", 12), ("kent", "2021/22", "White", 12)])
    t = compare_published(ev, pub).tidy().set_index("period")
    assert t.loc["2020/21", "status"] == "partial" and t.loc["2020/21", "months_covered"] == 6
    assert bool(t.loc["2020/21", "partial_period"]) and "6 of 12 months" in t.loc["2020/21", "sentence"]
    assert t.loc["2021/22", "status"] == "no_police_uk_data" and np.isnan(t.loc["2021/22", "police_uk"])
    assert "missing, not zero" in t.loc["2021/22", "sentence"]


def test_months_from_the_reader_ledger():
    """A force-month with no file (the reader's ledger) makes the year partial even if every other month has data."""
    from equity_metrics.ledger import FileRecord, Ledger, ReadResult, Rejects

    ev = _events().drop(index=2).reset_index(drop=True)  # 2020-06 absent
    months = [str(m) for m in pd.period_range("2020-04", "2021-03", freq="M")]
    led = Ledger(source="policeuk", files=[FileRecord(file="f.csv", rows_read=len(ev), rows_kept=len(ev))],
                 months_covered=months, months_missing=[("kent", "2020-06")], areas_covered=["kent"])
    res = compare_published(ReadResult(data=ev, ledger=led, rejects=Rejects()), _pub([("kent", "2020/21", "White", 12)]))
    r = res.tidy().iloc[0]
    assert r["months_covered"] == 11 and r["status"] == "partial"


def test_date_basis_and_options():
    ev = _events()
    ev.loc[0, "file_month"] = pd.Period("2020-03", "M")  # a search in the March file, local month April
    pub = _pub([("kent", "2020/21", "White", 12)])
    assert compare_published(ev, pub).tidy()["police_uk"].iloc[0] == 12
    assert compare_published(ev, pub, date_basis="file_month").tidy()["police_uk"].iloc[0] == 11
    with pytest.raises(OptionError, match="local_month"):
        compare_published(ev, pub, date_basis="utc")
    with pytest.raises(OptionError):
        compare_published(ev, pub, period="year")
    ev2 = ev.assign(ethnicity_source="officer_defined")
    with pytest.raises(DataValidationError, match="ethnicity_field='self_defined'"):
        compare_published(ev2, pub)


def test_national_nfa_share_uses_the_outcome_definitions():
    ev = pd.concat([_events(outcome="A no further action disposal"), _events(outcome="Arrest").iloc[:4],
                    _events(outcome=None).iloc[:3]], ignore_index=True)
    pub = pd.concat([_pub([("kent", "2020/21", "White", 19)]),
                     pd.DataFrame([{"area": "england-and-wales", "period": "2020/21", "group": "White",
                                    "measure": "nfa_pct", "value": 70.0}])], ignore_index=True)
    n = compare_published(ev, pub).national().set_index("group").loc["White"]
    assert n["searches"] == 16 and n["nfa"] == 12  # outcome blank: not in the denominator
    assert n["nfa_pct"] == pytest.approx(75.0) and n["difference_pct_points"] == pytest.approx(5.0)
    assert n["ci_low"] < 75 < n["ci_high"]


def test_results_object_displays_and_plots():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ev = pd.concat([_events(), _events(force="essex", months=("2020-04", "2020-10"))], ignore_index=True)
    pub = _pub([("kent", "2020/21", "White", 12), ("kent", "2020/21", "All", 12), ("essex", "2020/21", "All", 20)])
    res = compare_published(ev, pub)
    assert "police.uk-derived searches vs the Home Office" in str(res)
    assert "<table" in res._repr_html_()
    bf = res.by_force()
    assert bf["force"].tolist() == ["kent", "essex"]  # complete years first
    ax = res.plot()
    assert ax.get_xscale() == "log" and len(ax.lines) == 1  # the 45-degree line


# ----------------------------------------------------------------------------- real data
HO = ("data", "homeoffice")
ARCHIVE = ("data", "policeuk", "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz")
SOME = ["west-yorkshire", "metropolitan", "greater-manchester", "west-midlands", "thames-valley", "north-yorkshire", "btp"]


@pytest.fixture(scope="module")
def published():
    need_shared(*HO)
    files = sorted(glob.glob(str(need_shared(*HO) / "ho_opendata_*.csv")))
    return em.read_homeoffice_stop_search(files)


@pytest.fixture(scope="module")
def some_forces():
    return em.read_policeuk(need_shared(*ARCHIVE), forces=SOME, expected_months="2019-01..2021-11")


@pytest.mark.shared
def test_real_reader_totals_match_govuk(published):
    d = published.data
    assert published.ledger.rows_read == 428 + 86 + 25 and published.ledger.rows_rejected == 0
    five = d[(d["source_table"] == "force_by_ethnicity")].groupby("period")["value"].sum()
    assert five.to_dict() == {"2020/21": 555_915, "2021/22": 405_946}  # gov.uk "All - excluding BTP, unreported"
    tot = d[(d["group"] == "All")].groupby("period")["value"].sum()
    assert tot.to_dict() == {"2020/21": 684_348, "2021/22": 505_809}
    assert len(set(d.loc[d["area_type"] == "force", "area"])) == 43
    assert set(d["area"]) <= set(em.areas.FORCES)  # every Home Office name mapped to a police.uk slug
    assert "the five groups add up to total minus not stated in 86 of 86 force-years" in published.ledger.notes


@pytest.mark.shared
def test_real_west_yorkshire_and_partial_forces(published, some_forces):
    res = compare_published(some_forces, published)
    t = res.tidy().set_index(["force", "period", "group"])
    wy = t.loc[("west-yorkshire", "2020/21", "White")]
    assert wy["home_office"] == 10_433 and wy["police_uk"] == 10_462 and wy["status"] == "close"
    assert wy["months_covered"] == 12 and not wy["partial_period"]
    utc_like = compare_published(some_forces, published, date_basis="file_month").tidy().set_index(["force", "period", "group"])
    assert 10_462 <= utc_like.loc[("west-yorkshire", "2020/21", "White"), "police_uk"] <= 10_465
    # forces with months missing: partial or no data, never a "large gap"
    for key, status in [(("metropolitan", "2020/21"), "no_police_uk_data"), (("metropolitan", "2021/22"), "partial"),
                        (("greater-manchester", "2020/21"), "no_police_uk_data"),
                        (("west-midlands", "2021/22"), "no_police_uk_data"), (("west-yorkshire", "2021/22"), "partial")]:
        assert t.loc[key + ("All",), "status"] == status, key
    assert t.loc[("metropolitan", "2021/22", "All"), "months_covered"] == 5
    # a complete year with a real gap is said plainly, not hidden
    tv = t.loc[("thames-valley", "2020/21", "All")]
    assert tv["status"] == "large_gap" and tv["relative_difference"] == pytest.approx(0.198, abs=0.001)
    assert "22,658 vs Home Office 18,917" in tv["sentence"]
    # North Yorkshire's self-defined ethnicity is mostly blank: its group counts are not compared as gaps
    assert t.loc[("north-yorkshire", "2020/21", "White"), "status"] == "ethnicity_not_comparable"
    assert t.loc[("north-yorkshire", "2020/21", "All"), "status"] == "close"
    assert "btp" not in set(res.tidy()["force"])
    assert len(res.national()) == 10


@pytest.mark.slow
@pytest.mark.shared
def test_real_all_forces_largest_gaps_listed(published):
    ev = em.read_policeuk(need_shared(*ARCHIVE), expected_months="2019-01..2021-11")
    res = compare_published(ev, published)
    bf = res.by_force(complete_only=True)
    bf = bf[bf["period"] == "2020/21"]
    assert len(bf) == 41  # 43 territorial forces less the Metropolitan Police and Greater Manchester
    top = bf.head(7).set_index("force")["relative_difference"].round(3).to_dict()
    assert top == {"essex": -0.255, "suffolk": -0.236, "norfolk": -0.224, "leicestershire": -0.203,
                   "gloucestershire": -0.201, "gwent": 0.199, "thames-valley": 0.198}, json.dumps(top)
    assert (bf["relative_difference"].abs() <= 0.06).sum() >= 25  # most complete forces are within a few percent
    n = res.national().set_index(["period", "group"])
    assert abs(n.loc[("2020/21", "Black"), "difference_pct_points"]) < 2


# ----------------------------------------------------------------------------- command report
def test_report_shows_home_office_comparison_when_configured(tmp_path):
    """The optional report table: numbers from compare_published, small police.uk counts hidden with their year's total."""
    from equity_metrics.report import run_report, sample_config
    from equity_metrics.report._published import PUBLISHED_HEADING

    stops = em.read_policeuk(em.datasets.sample_path() / "policeuk", expected_months="2019-01..2021-12")
    t = compare_published(stops, _pub([("northshire", "2020/21", "White", 1)])).tidy()
    have = {g: int(v) for g, v in zip(t["group"], t["police_uk"])}
    assert have["White"] > 100
    ho = _write(tmp_path, "ho_opendata_force_by_ethnicity.csv", BY_ETH + "".join(
        f"2020/21,Northshire,{g},{n}\n" for g, n in [("White", have["White"] - 3), ("Black", 250), ("Other", 40)]))
    cfg = sample_config(published_counts=str(ho), output=str(tmp_path / "out"))
    out = run_report(cfg, out=tmp_path / "out", formats=("html",))
    html = next(p for p in out.paths if str(p).endswith(".html")).read_text(encoding="utf-8")
    assert PUBLISHED_HEADING.replace("'", "&#39;") in html
    assert f"{have['White'] - 3:,}" in html and "Northshire 2020/21" not in html  # no total published: no sentence
    csv = (tmp_path / "out" / "home_office_comparison.csv").read_text(encoding="utf-8")
    assert "2020/21,White" in csv and str(tmp_path) not in html
    cfg2 = sample_config(output=str(tmp_path / "out2"))
    out2 = run_report(cfg2, out=tmp_path / "out2", formats=("html",))
    assert "Home Office&#39;s published figures" not in next(p for p in out2.paths if str(p).endswith(".html")).read_text()


def test_report_table_hides_small_police_uk_counts_and_their_year_total(tmp_path):
    from types import SimpleNamespace

    from equity_metrics.report._published import published_comparison

    ev = pd.concat([pd.concat([_events()] * 10, ignore_index=True), _events(ethnicity="Other").iloc[:3],
                    _events(ethnicity="Not stated")], ignore_index=True)
    ho = _write(tmp_path, "ho_by_eth.csv", BY_ETH + "2020/21,Kent,White,118\n2020/21,Kent,Other,4\n")
    tot = _write(tmp_path, "ho_totals.csv", TOTALS + "2020/21,Kent,South East,135,13,9.6\n")
    cfg = SimpleNamespace(published_counts=str(tmp_path / "ho_*.csv"))
    t, lines = published_comparison(cfg, ev, area="kent", groups=["Other", "White"], threshold=10)
    t = t.set_index("group")
    assert t.loc["White", "police_uk"] == 120 and not t.loc["White", "suppressed"]
    for g in ("Other", "Not stated", "All"):  # Other = 3 is hidden; so are the counts it could be recovered from
        assert t.loc[g, "suppressed"] and np.isnan(t.loc[g, "police_uk"]) and np.isnan(t.loc[g, "difference"])
    assert t.loc["All", "home_office"] == 135  # the published figure stays
    assert any("hidden to protect a small count" in s and "135" in s for s in lines)
    assert tot.exists() and published_comparison(SimpleNamespace(published_counts=None), ev, area="kent",
                                                 groups=["White"], threshold=10) == (None, [])
