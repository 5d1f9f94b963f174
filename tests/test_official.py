"""Tests of the aggregated official-table readers: gov.uk stop and search, Home Office use of force.

Real-data tests read ../shared/data in place and skip when it is absent; every
figure they assert is also recomputed here from the raw CSV with the ``csv``
module, independently of the reader.
"""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equity_metrics.areas import FORCES
from equity_metrics.errors import EmptyFileError, EquityMetricsError, MissingColumnsError, OptionError, ReadError
from equity_metrics.io._numbers import parse_counts
from equity_metrics.io.official import parse_period, read_govuk_stop_search, read_homeoffice_use_of_force

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GOVUK = DATA / "govuk" / "ethnicity_facts_stop_and_search_2006-07_2017-18.csv"
UOF18 = DATA / "homeoffice" / "use_of_force_by_ethnicity_force_2018-19.csv"
UOF19 = DATA / "homeoffice" / "use_of_force_by_ethnicity_force_2019-20.csv"


def _need(p: Path) -> Path:
    if not p.exists():
        pytest.skip(f"real data not available: {p} is absent (it lives beside the project root in ../shared/data)")
    return p


def _raw_rows(p: Path) -> tuple[list[str], list[list[str]]]:
    with open(p, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return [h.strip() for h in rows[0]], rows[1:]


@pytest.fixture(scope="module")
def gov():
    return read_govuk_stop_search(_need(GOVUK))


@pytest.fixture(scope="module")
def uof():
    return read_homeoffice_use_of_force([_need(UOF18), _need(UOF19)])


# ----------------------------------------------------------------------------- number parsing
def test_parse_counts_markers_and_numbers():
    s = pd.Series([" 365,068 ", "1,599,555", " -   ", "N/A", "..", "x", "*", "c", "", "0%", "9.39", "447337.0",
                   "-12", "\u221212", "1,23", "abc", None])
    v, f = parse_counts(s)
    assert v.iloc[0] == 365068 and v.iloc[1] == 1599555 and v.iloc[9] == 0 and v.iloc[10] == 9.39
    assert v.iloc[11] == 447337 and v.iloc[12] == -12 and v.iloc[13] == -12
    assert f.iloc[2:9].tolist() == ["-", "N/A", "..", "x", "*", "c", "blank"]
    assert f.iloc[14:17].tolist() == ["unparseable", "unparseable", "blank"]
    assert f.iloc[[0, 1, 9, 10, 11, 12]].isna().all()
    v, f = parse_counts(pd.Series(["5%", "-3"]), percent="reject", negative="flag")
    assert v.isna().all() and f.tolist() == ["unparseable", "negative"]
    with pytest.raises(OptionError):
        parse_counts(pd.Series(["1"]), percent="pct")  # type: ignore[arg-type]


def test_parse_period():
    assert parse_period("2017/18") == (pd.Timestamp("2017-04-01"), pd.Timestamp("2018-03-31"))
    assert parse_period("1999/00") == (pd.Timestamp("1999-04-01"), pd.Timestamp("2000-03-31"))
    assert parse_period("2017/19")[0] is pd.NaT
    assert parse_period("later") == (pd.NaT, pd.NaT)


# ----------------------------------------------------------------------------- gov.uk, real data
def test_govuk_ledger_and_shape(gov):
    _, raw = _raw_rows(GOVUK)
    assert len(raw) == 13104
    led = gov.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (13104, 13104, 0) and led.balanced
    assert len(gov.data) == 13104
    assert list(gov.data.columns[:3]) == ["area", "area_name", "area_type"]
    assert gov.data["period"].nunique() == 12
    assert gov.data["source_line"].min() == 2 and gov.data["source_line"].max() == 13105


def test_govuk_readme_figure(gov):
    d = gov.data
    ew = d[(d["area"] == "england-and-wales") & (d["period"] == "2017/18") & (d["group_level"] == "broad")].set_index("group")
    assert ew.loc["Black", "published_rate"] == pytest.approx(28.95)
    assert ew.loc["White", "published_rate"] == pytest.approx(3.03)
    assert ew.loc["Black", "count"] == 53985 and ew.loc["Black", "population"] == 1864890
    assert ew.loc["White", "count"] == 145886 and ew.loc["White", "population"] == 48209395
    assert round(ew.loc["Black", "count"] / ew.loc["Black", "population"] * 1000, 2) == 28.95
    assert round(ew.loc["White", "count"] / ew.loc["White", "population"] * 1000, 2) == 3.03
    assert ew.loc["Black", "period_start"] == pd.Timestamp("2017-04-01")
    assert ew.loc["Black", "period_end"] == pd.Timestamp("2018-03-31")


def test_govuk_rate_recomputed_within_rounding(gov):
    """Every published rate is count / population x 1000 to within half a unit of its last decimal."""
    head, raw = _raw_rows(GOVUK)
    ci, pi, ri = head.index("Number of stop and searches"), head.index("Population by ethnicity"), head.index(
        "Rate per 1,000 population by ethnicity"
    )
    with_rate = matched = 0
    for r in raw:
        rate = r[ri].strip()
        if not re.fullmatch(r"\d+(\.\d+)?", rate):
            continue
        with_rate += 1
        n, pop = Decimal(r[ci].strip().replace(",", "")), Decimal(r[pi].strip().replace(",", ""))
        places = len(rate.split(".")[1]) if "." in rate else 0
        matched += abs(n / pop * 1000 - Decimal(rate)) <= Decimal(5) / Decimal(10) ** (places + 1)
    assert (with_rate, matched) == (11424, 11424)
    # the reader's own columns agree, row for row
    d = gov.data[gov.data["published_rate"].notna()]
    assert len(d) == 11424
    dec = d["published_rate"].map(lambda x: 2)  # published with at most 2 decimals
    assert ((d["count"] / d["population"] * 1000 - d["published_rate"]).abs() <= 0.5 * 10.0**-dec + 1e-9).all()
    assert any("11,424 of the 11,424" in n for n in gov.ledger.notes)
    # the 1,680 rows without a rate: population N/A (1,554: all 'Unreported' rows and City of London) or count '-' (126)
    no_rate = gov.data[gov.data["published_rate"].isna()]
    assert len(no_rate) == 13104 - 11424 == 1680
    assert (no_rate["population_flag"].eq("N/A") | no_rate["count_flag"].eq("-")).all()


def test_govuk_missing_markers_counted(gov):
    head, raw = _raw_rows(GOVUK)
    ci, pi = head.index("Number of stop and searches"), head.index("Population by ethnicity")
    dashes = sum(r[ci].strip() == "-" for r in raw)
    pop_na = sum(r[pi].strip() == "N/A" for r in raw)
    assert (dashes, pop_na) == (126, 1554)
    d = gov.data
    assert int(d["count_flag"].eq("-").sum()) == dashes and d.loc[d["count_flag"].eq("-"), "count"].isna().all()
    assert int(d["population_flag"].eq("N/A").sum()) == pop_na
    assert gov.ledger.missing_by_field["count"] == 126 and gov.ledger.missing_by_field["population"] == 1554
    assert gov.ledger.unknown_by_field == {}
    prop = d.loc[d["published_proportion"].notna(), "published_proportion"]
    assert prop.between(0, 1).all() and len(prop) == 11466


def test_govuk_city_of_london_is_quoted_and_one_field(gov):
    text = GOVUK.read_text(encoding="utf-8")
    assert text.count('"London, City of"') == 288 and text.count(',London, City of,') == 0
    d = gov.data
    assert int((d["area"] == "city-of-london").sum()) == 288
    assert set(d.loc[d["area"] == "city-of-london", "area_name"]) == {"London, City of"}
    assert not d["area"].str.contains('"', regex=False).any() and "london" not in set(d["area"])


def test_govuk_areas_are_policeuk_slugs(gov):
    areas = set(gov.data["area"])
    assert areas == set(FORCES)  # 43 territorial forces, BTP and both national totals
    counts = gov.data["area"].value_counts()
    assert counts["england-and-wales"] == 288 and counts["england-and-wales-including-btp"] == 216 and counts["btp"] == 216
    assert set(gov.data.loc[gov.data["area"].str.startswith("england"), "area_type"]) == {"country"}


def test_govuk_chinese_goes_where_the_totals_put_it(gov):
    assert gov.ledger.choices["chinese_as"] == "Other"
    assert "in 481 area-year(s)" in gov.ledger.choices["chinese_as_evidence"]
    d = gov.data
    met = d[(d["area"] == "metropolitan") & (d["period"] == "2017/18")].set_index("group_raw")
    other_broad = met[met["group_level"] == "broad"].loc["Other", "count"]
    assert other_broad == 3662 == met.loc["Chinese", "count"] + met.loc["Any other ethnic group", "count"]
    assert met.loc["Chinese", "group"] == "Other" and met.loc["Chinese", "group_detailed"] == "Asian: Chinese"
    # detailed rows now add up to the broad rows for every group, force and year
    full = d[d["count"].notna()]
    det = full[full["group_level"] == "detailed"].groupby(["area", "period", "group"], observed=True)["count"].sum()
    br = full[full["group_level"] == "broad"].groupby(["area", "period", "group"], observed=True)["count"].sum()
    both = det.index.intersection(br.index)
    assert len(both) > 2000 and (det[both] == br[both]).mean() > 0.97


def test_govuk_chinese_override_is_recorded():
    r = read_govuk_stop_search(_need(GOVUK), chinese_as="Asian")
    assert r.ledger.choices["chinese_as"] == "Asian"
    assert set(r.data.loc[r.data["group_raw"] == "Chinese", "group"]) == {"Asian"}
    assert any("chinese_as was given" in n for n in r.ledger.notes)


def test_govuk_groups(gov):
    d = gov.data
    assert set(d.loc[d["group_raw"] == "All", "group"]) == {"All"}
    assert set(d.loc[d["group_raw"] == "Unreported", "group"]) == {"Not stated"}
    assert set(d["group_scheme"]) == {"All", "ONS 2001 16+1", "ONS 2001 5+1"}
    lv = d.groupby("group_level", observed=True).size().to_dict()
    assert lv == {"total": 546, "broad": 3276, "detailed": 9282}
    assert set(d.loc[d["group_raw"] == "Black Caribbean", "group_detailed"]) == {"Black: Caribbean"}


# ----------------------------------------------------------------------------- gov.uk, malformed
_GOV_HEAD = ('Measure,Time,Time_type,Ethnicity,Ethnicity_type,Geography,Geography_type, Number of stop and searches ,'
             'Population by ethnicity,"Rate per 1,000 population by ethnicity"\n')


def test_govuk_missing_column_names_closest(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("Measure,Time,Ethnicity,Ethnicity type,Geography,Number of stop and search,Population by ethnicity,"
                 "\"Rate per 1,000 population by ethnicity\"\nx,2017/18,White,5+1,Kent,1,2,3\n")
    with pytest.raises(MissingColumnsError) as ei:
        read_govuk_stop_search(p)
    assert "Ethnicity_type" in ei.value.missing and "Ethnicity type" in ei.value.suggestions["Ethnicity_type"]
    assert "Number of stop and search" in ei.value.suggestions["Number of stop and searches"]
    assert str(p) in str(ei.value)


def test_govuk_empty_and_header_only(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("")
    with pytest.raises(EmptyFileError):
        read_govuk_stop_search(p)
    p.write_text(_GOV_HEAD)
    r = read_govuk_stop_search(p)
    assert len(r.data) == 0 and r.ledger.rows_read == 0 and r.ledger.balanced


def test_govuk_junk_numbers_and_bad_rows(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text(
        _GOV_HEAD
        + 'S,2017/18,Financial year,Black,ONS 2001 5+1,Kent,Police Force Area,"1,2,3",abc,9.9\n'  # junk count and pop
        + "S,2017/18,Financial year,White,ONS 2001 5+1,Kent,Police Force Area,-5,100,x\n"  # negative, suppressed
        + "S,2017/18,Financial year,White,ONS 2001 5+1,,Police Force Area,1,100,10\n"  # blank area: rejected
        + "S,2017/18,Financial year,White,ONS 2001 5+1,Kent\n"  # ragged: rejected
        + "S,later,Financial year,Klingon,ONS 2001 5+1,Atlantis,Police Force Area,7,1000,7\n"
    )
    r = read_govuk_stop_search(p)
    led = r.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (5, 3, 2) and led.balanced
    assert len(r.rejects) == 2 and set(r.rejects.frame["line"]) == {4, 5}
    blank = r.rejects.frame[r.rejects.frame["line"] == 4].iloc[0]
    assert blank["column"] == "Geography" and json.loads(blank["raw"])["Time"] == "2017/18"
    d = r.data.set_index("source_line")
    assert np.isnan(d.loc[2, "count"]) and d.loc[2, "count_flag"] == "unparseable"
    assert json.loads(d.loc[2, "unparsed_raw"]) == {"count": "1,2,3", "population": "abc"}
    assert d.loc[3, "count_flag"] == "negative" and d.loc[3, "published_rate_flag"] == "x"
    assert led.unknown_by_field == {"area": 1, "count": 2, "group": 1, "period": 1, "population": 1}
    assert d.loc[6, "area"] == "atlantis" and d.loc[6, "group"] == "Not stated" and pd.isna(d.loc[6, "period_start"])


def test_govuk_latin1_and_bom(tmp_path):
    p = tmp_path / "g.csv"
    body = _GOV_HEAD + "Stops \xe9,2017/18,Financial year,Black,ONS 2001 5+1,Kent,Police Force Area,10,100,100\n"
    p.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert read_govuk_stop_search(p).data["measure"].iloc[0] == "Stops \xe9"
    p.write_bytes(body.encode("latin-1"))
    r = read_govuk_stop_search(p)
    assert r.data["measure"].iloc[0] == "Stops \xe9" and r.ledger.files[0].encoding == "cp1252"


# ----------------------------------------------------------------------------- Home Office use of force
def test_uof_shape_and_ledger(uof):
    led = uof.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (1540 + 1672, 3212, 0) and led.balanced
    # 8 ethnicity columns + total in 2018/19, 6 + total in 2019/20
    assert len(uof.data) == 1540 * 9 + 1672 * 7
    assert set(uof.data["period"]) == {"2018/19", "2019/20"}
    assert set(uof.data["measure"]) == {"use_of_force_tactics"}
    assert set(uof.data["area"]) == (set(FORCES) - {"btp", "england-and-wales-including-btp"})
    assert set(uof.data.loc[uof.data["area"] == "england-and-wales", "area_type"]) == {"country"}


def test_uof_real_values(uof):
    d = uof.data
    tot = d[(d["area"] == "england-and-wales") & (d["period"] == "2018/19") & (d["tactic"] == "Total Tactics")]
    by_raw = tot.set_index("group_raw")["count"]
    assert by_raw["White"] == 447337 and by_raw["Black (or Black British)"] == 94222
    assert by_raw["Chinese"] == 1234 and by_raw["Number of times tactic reported"] == 630793
    by_group = tot.groupby("group", observed=True)["count"].sum()
    assert by_group["Asian"] == 35817 + 1234  # Chinese -> Asian by default
    assert by_group["Not stated"] == 25539 + 1751  # Don't know + Not reported
    assert by_group["All"] == 630793
    assert uof.ledger.choices["chinese_as"] == "Asian"
    other = read_homeoffice_use_of_force(UOF18, chinese_as="Other")
    o = other.data[(other.data["group_raw"] == "Chinese")]
    assert set(o["group"]) == {"Other"} and other.ledger.choices["chinese_as"] == "Other"


def test_uof_ethnicities_sum_to_reported_total():
    """Recomputed from the raw files: every row with all values present adds up exactly."""
    for p, n_complete, n_blank in ((UOF18, 1540, 0), (UOF19, 1632, 40)):
        head, raw = _raw_rows(_need(p))
        eth = head[3:-1]
        complete = mismatch = blank = 0
        for r in raw:
            vals = r[3:]
            if any(v.strip() == "" for v in vals):
                blank += 1
                continue
            complete += 1
            mismatch += sum(float(v) for v in vals[:-1]) != float(vals[-1])
        assert (complete, mismatch, blank) == (n_complete, 0, n_blank), p.name
        assert len(eth) == (8 if "2018" in p.name else 6)


def test_uof_tactic_tree(uof):
    d = uof.data
    ew = d[(d["area"] == "england-and-wales") & (d["period"] == "2019/20") & (d["group"] == "All")].set_index("tactic")
    assert ew.loc["Total Tactics", "tactic_level"] == 0 and ew.loc["Total Tactics", "is_total"]
    assert ew.loc["Total Restraint", "tactic_level"] == 1 and ew.loc["Total Restraint", "is_total"]
    assert ew.loc["Handcuffing, of which", "tactic_level"] == 2 and pd.isna(ew.loc["Handcuffing, of which", "parent_tactic"])
    for kid in ("Compliant handcuffing", "Non-compliant handcuffing", "Handcuffing not stated"):
        assert ew.loc[kid, "tactic_level"] == 3 and ew.loc[kid, "parent_tactic"] == "Handcuffing, of which"
    assert ew.loc["Limb / Body restraints", "tactic_level"] == 2
    assert ew.loc["CED not stated", "parent_tactic"] == "CED of which"  # no comma in 2019/20
    assert ew.loc["Dog bite", "parent_tactic"] == "Dog use, of which"
    kids = ew[ew["parent_tactic"] == "Handcuffing, of which"]["count"].sum()
    assert kids == ew.loc["Handcuffing, of which", "count"] == 350470
    assert not d["tactic"].str.startswith("*").any()
    assert int(d.loc[d["group"] == "All", "is_total"].sum()) == 44 * 8 * 2
    notes = " ".join(uof.ledger.notes)
    assert "add up to their '..., of which' parent in 220 case(s), differ in 0" in notes
    assert "in 248 case(s), differ in 0" in notes


def test_uof_blanks_flagged_not_zero(uof):
    head, raw = _raw_rows(UOF19)
    blanks = sum(v.strip() == "" for r in raw for v in r[3:])
    assert blanks == 264
    d = uof.data
    b = d[d["count_flag"] == "blank"]
    assert len(b) == blanks and b["count"].isna().all() and set(b["period"]) == {"2019/20"}
    assert uof.ledger.missing_by_field == {"count": 264}
    kent = d[(d["area"] == "kent") & (d["period"] == "2019/20") & (d["tactic"] == "Irritant spray - drawn")]
    assert kent["count"].isna().all()


def test_uof_period_from_argument_and_error(tmp_path):
    body = "Police Force,Type of force,Tactic,White,Don't know,Number of times tactic reported\nKent,Restraint,Shield,1.0,2.0,3.0\n"
    p = tmp_path / "uof.csv"
    p.write_text(body)
    with pytest.raises(ReadError, match="period="):
        read_homeoffice_use_of_force(p)
    r = read_homeoffice_use_of_force(p, period="2020/21")
    assert set(r.data["period"]) == {"2020/21"} and r.data["period_start"].iloc[0] == pd.Timestamp("2020-04-01")
    assert set(r.data.loc[r.data["group_raw"] == "Don't know", "group"]) == {"Not stated"}


def test_uof_malformed(tmp_path):
    p = tmp_path / "uof_2018-19.csv"
    p.write_text("Police Force,Tactic,White,Number of times tactic reported\nKent,Shield,1,1\n")
    with pytest.raises(MissingColumnsError, match="Type of force"):
        read_homeoffice_use_of_force(p)
    p.write_text("Police Force,Type of force,Tactic,White,Black,Number of times tactic reported\n"
                 "Kent,R,Shield,1..0,N/A,3\n,R,Shield,1,1,2\nKent,R\n")
    r = read_homeoffice_use_of_force(p)
    assert r.ledger.balanced and (r.ledger.rows_read, r.ledger.rows_kept) == (3, 1)
    d = r.data.set_index("group_raw")
    assert d.loc["White", "count_flag"] == "unparseable" and d.loc["Black", "count_flag"] == "N/A"
    assert r.ledger.unknown_by_field == {"count": 1} and r.ledger.missing_by_field == {"count": 1}
    assert json.loads(d.loc["White", "unparsed_raw"]) == {"White": "1..0"}
    p.write_text("")
    with pytest.raises(EquityMetricsError):
        read_homeoffice_use_of_force(p)
