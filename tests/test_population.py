"""Tests of the census population reader.

Real-data tests read ../shared/data/population in place and skip when it is
absent. Expected figures are recomputed here from the raw CSVs with the ``csv``
module, independently of the reader.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from equity_metrics.areas import FORCES, normalise_force
from equity_metrics.errors import EmptyFileError, FileFormatError, MissingColumnsError, OptionError, ReadError
from equity_metrics.io.official import read_govuk_stop_search, read_homeoffice_use_of_force
from equity_metrics.io.population import age_band_of, read_population

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
POP = DATA / "population"
PFA18 = POP / "census2011_pfa_ethnic_group_18.csv"
POLICE6 = POP / "census2011_pfa_police_groups.csv"
LA11 = POP / "census2011_la_ethnic_group_with_pfa.csv"
LOOKUP = POP / "lad16_csp16_pfa16_lookup.csv"
SEX21 = POP / "census2021_la_sex_ethnic_group.csv"
AGE21 = POP / "census2021_ew_age_ethnic_group.csv"
TERRITORIAL = set(FORCES) - {"btp", "england-and-wales", "england-and-wales-including-btp"}


def _need(p: Path) -> Path:
    if not p.exists():
        pytest.skip(f"real data not available: {p} is absent (it lives beside the project root in ../shared/data)")
    return p


def _raw(p: Path) -> tuple[list[str], list[list[str]]]:
    with open(p, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _value(d: pd.DataFrame, **eq) -> float:
    m = np.ones(len(d), dtype=bool)
    for k, v in eq.items():
        m &= (d[k] == v).to_numpy(dtype=bool)
    assert m.sum() == 1, (eq, int(m.sum()))
    return float(d.loc[m, "population"].iloc[0])


@pytest.fixture(scope="module")
def pfa18():
    return read_population(_need(PFA18))


@pytest.fixture(scope="module")
def age21():
    return read_population(_need(AGE21))


# ----------------------------------------------------------------------------- census 2011 by force area
def test_pfa18_values_match_the_file(pfa18):
    head, raw = _raw(PFA18)
    met = next(r for r in raw if r[0] == "Metropolitan")
    black = int(met[head.index("Ethnic Group: Black; measures: Value")])
    assert black == 1088447
    assert _value(pfa18.data, area="metropolitan", group="Black") == black
    kent = next(r for r in raw if r[0] == "Kent")
    assert _value(pfa18.data, area="kent", group="Asian") == int(kent[head.index("Ethnic Group: Asian; measures: Value")])
    led = pfa18.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (43, 43, 0) and led.balanced
    assert len(pfa18.data) == 43 * 5 and set(pfa18.data["group_level"]) == {"broad"}
    assert set(pfa18.data["vintage"]) == {"census2011"} and set(pfa18.data["source"]) == {"ONS Census 2011 QS201EW"}
    # broad groups add up to the file's "All categories" column for every force
    tot = pfa18.data.groupby("area")["population"].sum()
    allcat = {normalise_force(r[0]): int(r[head.index("Ethnic Group: All categories: Ethnic group; measures: Value")]) for r in raw}
    assert len(allcat) == 43 and all(tot[a] == v for a, v in allcat.items())
    assert "258 of 258 cells" in " ".join(led.notes)


def test_pfa18_levels():
    r_all = read_population(_need(PFA18), level="all")
    assert len(r_all.data) == 43 * 24
    assert r_all.data.groupby("group_level", observed=True).size().to_dict() == {"total": 43, "broad": 215, "detailed": 774}
    met = r_all.data[r_all.data["area"] == "metropolitan"]
    assert _value(met, group_detailed="Black") == 1088447  # the broad total row
    assert _value(met, group_detailed="White: Irish") == 175794
    assert _value(met, group="All") == 8166566
    det = read_population(PFA18, level="detailed").data
    assert len(det) == 43 * 18 and set(det["group_level"]) == {"detailed"}
    assert det.loc[det["area"] == "metropolitan", "population"].sum() == 8166566
    with pytest.raises(OptionError):
        read_population(PFA18, level="borad")  # type: ignore[arg-type]


def test_every_2011_force_area_is_a_policeuk_force(pfa18):
    areas = set(pfa18.data["area"])
    assert len(areas) == 43 and areas == TERRITORIAL
    # not covered by a residential census: British Transport Police (no resident population)
    assert "btp" not in areas
    assert _value(pfa18.data, area="city-of-london", group="White") == 5799
    assert set(pfa18.data.loc[pfa18.data["area"] == "city-of-london", "area_name"]) == {"City of London"}


def test_police_six_groups_chinese_to_asian():
    r = read_population(_need(POLICE6))
    head, raw = _raw(POLICE6)
    met = next(x for x in raw if x[0] == "Metropolitan")
    asian, chinese, other = (int(met[head.index(c)]) for c in ("Asian (or Asian British)", "Chinese", "Other"))
    assert _value(r.data, area="metropolitan", group="Asian") == asian + chinese == 1510606
    assert _value(r.data, area="metropolitan", group="Other") == other
    assert r.ledger.choices["chinese_as"] == "Asian" and "police 6-group" in r.data["source"].iloc[0]
    o = read_population(POLICE6, chinese_as="Other")
    assert _value(o.data, area="metropolitan", group="Other") == other + chinese
    assert _value(o.data, area="metropolitan", group="Asian") == asian
    # the police scheme agrees with the 18-group file once Chinese is back in Asian
    full = read_population(_need(PFA18)).data.set_index(["area", "group"])["population"]
    six = r.data.set_index(["area", "group"])["population"]
    assert (full.sort_index() == six.sort_index()).all()
    d = read_population(POLICE6, level="detailed").data
    assert len(d) == 43 * 6 and _value(d, area="metropolitan", group_detailed="Asian: Chinese") == chinese


def test_area_keys_join_across_sources(pfa18):
    six = set(read_population(_need(POLICE6)).data["area"])
    gov = set(read_govuk_stop_search(_need(DATA / "govuk" / "ethnicity_facts_stop_and_search_2006-07_2017-18.csv")).data["area"])
    uof = set(read_homeoffice_use_of_force(_need(DATA / "homeoffice" / "use_of_force_by_ethnicity_force_2018-19.csv")).data["area"])
    pop = set(pfa18.data["area"])
    assert pop == six == TERRITORIAL
    assert gov - pop == {"btp", "england-and-wales", "england-and-wales-including-btp"}
    assert uof - pop == {"england-and-wales"}
    # "Metropolitan" (census), "Metropolitan Police" (gov.uk) and "London, City of" all become the slug
    assert {"metropolitan", "city-of-london", "avon-and-somerset", "devon-and-cornwall"} <= pop & gov & uof


# ----------------------------------------------------------------------------- local authorities -> forces
def test_la_2011_aggregates_to_the_force_file(pfa18):
    want = pfa18.data.set_index(["area", "group"])["population"].sort_index()
    for kw in ({}, {"lookup": _need(LOOKUP)}):
        r = read_population(_need(LA11), to="force", **kw)
        assert r.ledger.rows_read == 348 and r.ledger.rows_rejected == 0 and r.ledger.balanced
        got = r.data.set_index(["area", "group"])["population"].sort_index()
        assert list(got.index) == list(want.index) and (got == want).all()
        assert set(r.data["area_type"]) == {"force"}
        n_met = sum(x[-2] == "Metropolitan" for x in _raw(LA11)[1])
        assert n_met == 32 and r.data.groupby("area")["areas"].first()["metropolitan"] == n_met  # the 32 boroughs
    r = read_population(LA11, to="force", lookup=LOOKUP)
    # two LAs carry new names in the data but old ones in the 2016 lookup: matched through the file's LAD16NM column
    assert r.ledger.choices["force_assignment"] == {"name": 346, "the file's 'LAD16NM' column": 2}
    assert _value(r.data, area="city-of-london", group="Black") == _value(pfa18.data, area="city-of-london", group="Black")


def test_la_not_in_lookup_is_rejected_and_reported(tmp_path):
    lk = pd.read_csv(_need(LOOKUP), dtype=str, encoding="utf-8-sig")
    lk = lk[lk["LAD16NM"] != "Adur"]
    head, raw = _raw(_need(LA11))
    adur = next(r for r in raw if r[1] == "Adur")
    r = read_population(LA11, to="force", lookup=lk)
    assert r.ledger.rejected_by_reason == {"local authority not in the lookup": 1} and r.ledger.balanced
    rej = r.rejects.frame.iloc[0]
    assert rej["value"] == "Adur" and json.loads(rej["raw"])["geography"] == "Adur"
    assert rej["line"] == raw.index(adur) + 2
    full = read_population(LA11, to="force", lookup=LOOKUP)
    adur_white = int(adur[head.index("Ethnic Group: White; measures: Value")])
    assert _value(full.data, area="sussex", group="White") - _value(r.data, area="sussex", group="White") == adur_white
    assert any("Adur" in n for n in r.ledger.notes)


def test_la_2021_to_2016_forces_reports_what_does_not_match():
    r = read_population(_need(SEX21), to="force", lookup=_need(LOOKUP))
    led = r.ledger
    assert led.rows_read == 682 and led.balanced
    assert led.rejected_by_reason == {
        "combined local authorities in more than one police force area: cannot be split": 2,
        "local authority not in the lookup": 16,
        "not a local authority (region or country total): not summed into forces": 24,
    }
    unmatched = set(r.rejects.frame.loc[r.rejects.frame["reason"] == "local authority not in the lookup", "value"])
    assert unmatched == {"Bournemouth, Christchurch and Poole", "Buckinghamshire", "Dorset", "East Suffolk",
                         "North Northamptonshire", "Somerset West and Taunton", "West Northamptonshire", "West Suffolk"}
    assert set(r.rejects.frame.loc[r.rejects.frame["reason"].str.startswith("combined"), "value"]) == {"City of London and Westminster"}
    # Cornwall and Isles of Scilly: both parts are in Devon and Cornwall, so it is kept there
    assert led.choices["force_assignment"]["combined local authorities in one force area"] == 2
    assert TERRITORIAL - set(r.data["area"]) == {"city-of-london", "dorset", "northamptonshire"}


def test_lookup_alone_or_in_a_folder(tmp_path):
    with pytest.raises(FileFormatError, match="lookup="):
        read_population(_need(LOOKUP), vintage="census2011")
    with pytest.raises(ReadError, match="lookup"):
        read_population(_need(SEX21), to="force")
    d = tmp_path / "pop"
    d.mkdir()
    for p in (LA11, LOOKUP):
        (d / p.name).write_bytes(p.read_bytes())
    r = read_population(d, to="force")
    assert r.ledger.choices["force_lookup"] == "lad16_csp16_pfa16_lookup.csv" and len(r.ledger.files) == 1
    assert _value(r.data, area="metropolitan", group="Black") == 1088447


# ----------------------------------------------------------------------------- census 2021
def test_2021_sex_blanks_are_counted_and_read_as_zero():
    head, raw = _raw(_need(SEX21))
    blanks = sum(v == "" for r in raw for v in r[3:])
    assert blanks == 139 and len(raw) == 682
    r = read_population(SEX21, level="all")
    led = r.ledger
    assert led.missing_by_field == {"population": 139} and led.choices["blanks (census2021)"] == "read as 0"
    assert any("139 blank cell(s) read as 0" in n for n in led.notes)
    d = r.data
    assert int((d["population_flag"] == "blank").sum()) == 139 and (d.loc[d["population_flag"] == "blank", "population"] == 0).all()
    roma = _value(d, area="hartlepool", sex="Male", group_detailed="White: Roma")
    assert roma == 0
    assert _value(d, area="hartlepool", sex="Male", group_detailed="White: British") == 42480
    kept = read_population(SEX21, level="all", blanks="missing").data
    assert np.isnan(_value(kept, area="hartlepool", sex="Male", group_detailed="White: Roma"))
    # area typing from the ONS code
    types = r.data.drop_duplicates("area_code").groupby("area_type", observed=True).size().to_dict()
    assert types == {"country": 3, "local_authority": 329, "region": 9}
    ew = d[d["area"] == "england-and-wales"]
    assert ew["population"].sum() == sum(int(v or 0) for x in raw if x[0] == "K04000001" for v in x[3:]) == 59597540


def test_2021_age_sums_to_independent_total(age21):
    head, raw = _raw(AGE21)
    ew_rows = [r for r in raw if r[0] == "K04000001"]
    assert len(ew_rows) == 101
    suppressed = sum(v == "c" for r in ew_rows for v in r[3:])
    total = sum(int(v) for r in ew_rows for v in r[3:] if v != "c")
    assert (suppressed, total) == (28, 59597435)  # 28 cells in 7 rows, ages 93+
    ew = age21.data[age21.data["area"] == "england-and-wales"]
    assert len(ew) == 101 * 5 and ew["population"].sum() == total
    assert set(ew["population_flag"].dropna()) == {"partial"}  # ages with a suppressed cell
    assert _value(ew, age=0.0, group="Black") == 18525 + 3770 + 6695
    assert age21.ledger.missing_by_field["population"] == sum(v == "c" for r in raw for v in r[3:]) == 406398
    assert age21.ledger.rows_read == len(raw) == 34441 and age21.ledger.balanced
    top = ew[ew["age_band"] == "100 or over"]
    assert set(top["age"]) == {100.0}


def test_2021_age_bands(age21):
    r = read_population(AGE21, age_bands="policeuk")
    ew = r.data[r.data["area"] == "england-and-wales"]
    assert list(dict.fromkeys(ew["age_band"])) == ["under 10", "10-17", "18-24", "25-34", "over 34"]
    single = age21.data[age21.data["area"] == "england-and-wales"]
    assert ew["population"].sum() == single["population"].sum() == 59597435
    under10 = single[single["age"] < 10].groupby("group", observed=True)["population"].sum()
    assert (ew[ew["age_band"] == "under 10"].set_index("group")["population"] == under10).all()
    assert r.ledger.choices["age_bands"] == "policeuk"


def test_age_band_of_helper():
    assert list(age_band_of(pd.Series([0, 9, 10, 17, 24, 25, 34, 35, 90, np.nan]))) == [
        "under 10", "under 10", "10-17", "10-17", "18-24", "25-34", "25-34", "over 34", "over 34", np.nan]
    assert list(age_band_of([5, 70], bands={"young": (0, 29), "old": (30, None)})) == ["young", "old"]


# ----------------------------------------------------------------------------- vintage, source, malformed input
def test_vintage_inferred_given_or_asked_for(tmp_path):
    body = "Police force,White,Black (or Black British)\nKent,10,2\n"
    (tmp_path / "census2011_x.csv").write_text(body)
    assert set(read_population(tmp_path / "census2011_x.csv").data["vintage"]) == {"census2011"}
    (tmp_path / "pop.csv").write_text(body)
    with pytest.raises(ReadError, match="vintage="):
        read_population(tmp_path / "pop.csv")
    r = read_population(tmp_path / "pop.csv", vintage="mid2019", source="ONS MYE")
    assert set(r.data["vintage"]) == {"mid2019"} and set(r.data["source"]) == {"ONS MYE"}


def test_missing_area_column_names_closest(tmp_path):
    p = tmp_path / "census2011_x.csv"
    p.write_text("Polce frce,White\nKent,1\n")
    with pytest.raises(MissingColumnsError) as ei:
        read_population(p)
    assert "Polce frce" in str(ei.value) and str(p) in str(ei.value)


def test_empty_and_header_only(tmp_path):
    p = tmp_path / "census2011_x.csv"
    p.write_bytes(b"")
    with pytest.raises(EmptyFileError):
        read_population(p)
    p.write_text("Police force,White,Black\n")
    r = read_population(p)
    assert len(r.data) == 0 and r.ledger.rows_read == 0 and r.ledger.balanced


def test_junk_numbers_kept_as_nan_with_flag(tmp_path):
    p = tmp_path / "census2011_x.csv"
    p.write_text("Police force,White,Black\nKent,abc,-5\nSurrey,1,\n,3,4\nKent,1\nEssex,\u22122,x\n")
    r = read_population(p, level="all")
    led = r.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (5, 3, 2) and led.balanced
    assert led.unknown_by_field == {"population": 3} and led.missing_by_field == {"population": 2}
    d = r.data.set_index(["area", "group"])
    assert np.isnan(d.loc[("kent", "White"), "population"]) and d.loc[("kent", "White"), "population_flag"] == "unparseable"
    assert json.loads(d.loc[("kent", "White"), "unparsed_raw"]) == {"population": "abc"}
    assert d.loc[("kent", "Black"), "population_flag"] == "negative"
    assert d.loc[("essex", "Black"), "population_flag"] == "x" and d.loc[("surrey", "Black"), "population_flag"] == "blank"
    assert set(r.rejects.frame["line"]) == {4, 5}


def test_long_input_and_names_across_spellings(tmp_path):
    p = tmp_path / "census2011_long.csv"
    p.write_text("area,group,population\nMetropolitan Police,Black,5\nLondon, City of,Black,1\nmetropolitan,White,7\n"
                 .replace("London, City of", '"London, City of"'))
    r = read_population(p, area_type="force")
    assert set(r.data["area"]) == {"metropolitan", "city-of-london"}
    assert _value(r.data, area="metropolitan", group="Black") == 5 and _value(r.data, area="metropolitan", group="White") == 7
    q = tmp_path / "census2021_la.csv"
    q.write_text("Geography Code,Geography Name,White: Irish,Black: African\nE09000001,\"London, City of\",3,4\n")
    la = read_population(q)
    assert set(la.data["area"]) == {"city of london"} and set(la.data["area_type"]) == {"local_authority"}


def test_lookup_needs_to_force_and_city_of_london_caveat(pfa18):
    with pytest.raises(OptionError, match="to='force'"):
        read_population(_need(LA11), lookup=_need(LOOKUP))
    assert any("City of London has about 7,400 residents" in n for n in pfa18.ledger.notes)
    assert _value(pfa18.data, area="city-of-london", group="Black") + _value(pfa18.data, area="city-of-london", group="White") < 7375


def test_total_only_file_is_an_error_unless_level_all(tmp_path):
    p = tmp_path / "census2011_t.csv"
    p.write_text("Police force,All categories: Ethnic group\nKent,1727665\n")
    with pytest.raises(FileFormatError, match="level='all'"):
        read_population(p)
    r = read_population(p, level="all")
    assert r.data[["area", "group", "population"]].values.tolist() == [["kent", "All", 1727665.0]]


def test_partial_breakdown_keeps_broad_columns_without_detail(tmp_path):
    p = tmp_path / "census2011_mix.csv"
    p.write_text("Police force,White: Irish,White: Other White,Black (or Black British),Asian (or Asian British),Chinese\n"
                 "Kent,10,20,30,40,5\n")
    b = read_population(p).data.set_index("group")["population"]
    assert b.to_dict() == {"Asian": 45.0, "Black": 30.0, "White": 30.0}
    d = read_population(p, level="detailed").data
    assert len(d) == 5 and d["population"].sum() == 105


def test_suppression_undercounts_local_authority_sums(age21):
    """LA x single-year cells are mostly suppressed ('c'): LA sums fall short of the England and Wales row."""
    d = age21.data
    la = d[d["area_type"] == "local_authority"].groupby("group", observed=True)["population"].sum()
    ew = d[d["area"] == "england-and-wales"].groupby("group", observed=True)["population"].sum()
    short = 1 - la / ew
    assert 0.12 < short["Mixed"] < 0.14 and short["White"] < 0.005
    assert any("flag 'partial'" in n for n in age21.ledger.notes)


@pytest.mark.parametrize("header, row", [
    ("LAD,LAD_code,White,Black,Asian", "Hartlepool,E06000001,80000,500,1500"),
    ("LAD_code,LAD,White,Black,Asian", "E06000001,Hartlepool,80000,500,1500"),
    ("lad_name,lad_code,White,Black,Asian", "Hartlepool,E06000001,80000,500,1500"),
])
def test_census2021_la_files_keyed_lad_and_lad_code(tmp_path, header, row):
    """Issue 10 item 5: local-authority tables keyed ``LAD`` / ``LAD_code`` (used to be 'no area name column')."""
    p = tmp_path / "census2021_lad.csv"
    p.write_text(f"{header}\n{row}\n", encoding="utf-8")
    r = read_population(p)
    d = r.data
    assert set(d["area"]) == {"hartlepool"} and set(d["area_code"]) == {"E06000001"}
    assert set(d["area_type"].astype(str)) == {"local_authority"}
    assert dict(zip(d["group"].astype(str), d["population"])) == {"White": 80000.0, "Black": 500.0, "Asian": 1500.0}


def test_ons_2021_custom_dataset_long_layout(tmp_path):
    """ONS 'create a custom dataset' output: Lower tier local authorities (Code), Ethnic group (20 categories), Observation."""
    p = tmp_path / "census2021_custom.csv"
    p.write_text("Lower tier local authorities Code,Lower tier local authorities,Ethnic group (20 categories) Code,"
                 "Ethnic group (20 categories),Observation\n"
                 'E06000001,Hartlepool,1,"Asian, Asian British or Asian Welsh: Bangladeshi",100\n'
                 'E06000001,Hartlepool,13,"White: English, Welsh, Scottish, Northern Irish or British",80000\n', encoding="utf-8")
    d = read_population(p).data
    assert set(d["area_code"]) == {"E06000001"} and set(d["area_type"].astype(str)) == {"local_authority"}
    assert dict(zip(d["group"].astype(str), d["population"])) == {"Asian": 100.0, "White": 80000.0}


@pytest.mark.shared
def test_lad_keyed_file_to_force_with_the_official_lookup(tmp_path):
    lookup = _need(LOOKUP)
    p = tmp_path / "census2021_lad.csv"
    p.write_text("LAD,LAD_code,White,Black\nHartlepool,E06000001,80000,500\nCambridge,E07000008,90000,3000\n", encoding="utf-8")
    d = read_population(p, to="force", lookup=lookup).data
    assert set(d["area"]) == {"cleveland", "cambridgeshire"} and set(d["area_type"].astype(str)) == {"force"}
