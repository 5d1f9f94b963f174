"""Chicago readers on the real Invisible Institute files in ../shared/data/chicago (skipped when absent).

Expected numbers are checked against independent computations on the raw files
with plain pandas / openpyxl, not only against constants.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from equity_metrics.errors import ReadError
from equity_metrics.io.chicago import (
    CIT_FILE,
    read_chicago_cit_roster,
    read_chicago_complaints,
    read_chicago_use_of_force,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "chicago"
_SKIP = pytest.mark.skipif(not (DATA / "TRR-main_2004-2016_2016-09.csv.gz").is_file(),
                           reason=f"Chicago data not found at {DATA} (a fresh clone has no ../shared)")


def real(test):
    """Mark a test that reads the real files in ../shared/data/chicago."""
    return pytest.mark.shared(_SKIP(test))

RAW = {"dtype": str, "keep_default_na": False}


def _raw(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, **RAW)


@pytest.fixture(scope="module")
def uof():
    return read_chicago_use_of_force(DATA)


@pytest.fixture(scope="module")
def complaints():
    return read_chicago_complaints(DATA)


@pytest.fixture(scope="module")
def roster():
    return read_chicago_cit_roster(DATA / CIT_FILE, link_to=DATA)


@pytest.fixture(scope="module")
def roster_rows():
    ws = openpyxl.load_workbook(DATA / CIT_FILE, read_only=True).worksheets[0]
    rows = [r for r in ws.iter_rows(min_row=7, values_only=True) if any(c is not None for c in r)]
    return pd.DataFrame(rows, columns=["last", "first", "star", "appt", "gender", "end"])


@functools.cache
def _names() -> frozenset[str]:
    """Officer names, less any that are also ordinary values of the non-name columns (BLACK, WHITE, ...)."""
    p = _raw("TRR-officers_2004-2016_2016-09_profiles.csv.gz")
    names = {n for n in set(p["last_name"]) | set(p["first_name"]) if len(n) > 3}
    main = pd.read_csv(DATA / "TRR-main_2004-2016_2016-09.csv.gz", usecols=["location", "street"], **RAW)
    words = set(main["location"]) | set(main["street"]) | {"BLACK", "WHITE", "HISPANIC", "MALE", "FEMALE"}
    return frozenset(names - words - set(p["race"]) - set(p["gender"]))


def _assert_no_names(frame: pd.DataFrame, names: frozenset[str]) -> None:
    assert not [c for c in frame.columns if "name" in c.lower() and c != "policing_operation_name"]
    for c in frame.columns:
        col = frame[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            values = set(map(str, col.cat.categories))
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            values = set(map(str, col.dropna().unique()))
        else:
            continue
        hits = values & names
        assert not hits, f"officer names in column {c}: {sorted(hits)[:3]}"


# ----------------------------------------------------------------------------- use of force


@real
def test_uof_every_report_accounted_for(uof):
    main = _raw("TRR-main_2004-2016_2016-09.csv.gz")
    assert len(main) == 67_019
    led = uof.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (67_019, 67_019, 0)
    assert led.balanced and len(uof.data) == 67_019
    assert uof.data["event_id"].tolist()[:3] == ["trr:" + t for t in main["trr_id"][:3]]
    assert uof.data["event_id"].is_unique
    assert set(uof.data["event_type"].astype(str)) == {"use_of_force"}
    assert led.months_covered[0] == "2004-01" and led.months_covered[-1] == "2016-04"
    assert str(uof.data["datetime"].dt.tz) == "America/Chicago"
    first = uof.data.iloc[0]
    assert first["datetime"] == pd.Timestamp(f"{main['trr_date'][0]} {main['trr_time'][0]}", tz="America/Chicago")


@real
def test_uof_subject_ethnicity_matches_raw_counts(uof):
    subj = _raw("TRR-subjects_2004-2016_2016-09.csv.gz")
    raw = subj["race"].value_counts()
    got = uof.data["ethnicity"].value_counts()
    assert got["Black"] == raw["BLACK"] == 49_747
    assert got["Hispanic"] == raw["HISPANIC"]
    assert got["White"] == raw["WHITE"]
    assert got["Asian/Pacific Islander"] == raw["ASIAN/PACIFIC ISLANDER"]
    assert got["Other"] == raw["NATIVE AMERICAN/ALASKAN NATIVE"]
    assert got["Not stated"] == raw[""] == uof.ledger.missing_by_field["ethnicity"] == 878


@real
def test_uof_officer_keys_and_link_rate(uof):
    off = _raw("TRR-officers_2004-2016_2016-09.csv.gz")
    prof = _raw("TRR-officers_2004-2016_2016-09_profiles.csv.gz")
    j = off.merge(prof, on="TRR-officers_2004-2016_2016-09_ID", how="left")
    with_star = int((j["current_star"] != "").sum())
    assert with_star == 66_804
    assert int(uof.data["officer_id"].str.startswith("star:").sum()) == with_star
    assert int(uof.data["officer_id"].str.startswith("trr-profile:").sum()) == 67_019 - with_star
    row = j[j["trr_id"] == "4"].iloc[0]
    expect = f"star:{row['current_star'].removesuffix('.0')}|appt:{row['appointed_date']}"
    assert uof.data.loc[uof.data["event_id"] == "trr:4", "officer_id"].item() == expect == "star:21565|appt:1994-01-18"
    assert any("officer link rate: 67,019 of 67,019 reports (100.0%)" in n and "66,804" in n for n in uof.ledger.notes)


@real
def test_uof_has_no_officer_names(uof):
    _assert_no_names(uof.data, _names())
    assert not [c for c in uof.data.columns if c.startswith("officer_") and "name" in c]


# ----------------------------------------------------------------------------- complaints


@real
def test_complaints_accounted_for_and_accused_rule(complaints):
    main = _raw("complaints-complaints_2000-2016_2016-11.csv.gz")
    acc = _raw("complaints-accused_2000-2016_2016-11.csv.gz")
    assert len(main) == 109_339
    led = complaints.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (109_339, 109_339, 0)
    n_acc = acc.groupby("cr_id").size()
    assert int(complaints.data["officer_id"].notna().sum()) == int((n_acc == 1).sum()) == 34_782
    counts = complaints.data["accused_count"].astype(int)
    assert int((counts == 0).sum()) == len(main) - acc["cr_id"].nunique() == 41_893
    multi = complaints.data[counts > 1]
    assert multi["officer_id"].isna().all()
    assert (multi["officer_ids"].str.count(";") >= 1).all()
    assert set(complaints.data["event_type"].astype(str)) == {"complaint"}


@real
def test_complaints_complainant_rule(complaints):
    comp = _raw("complaints-complainants_2000-2016_2016-11.csv.gz")
    first = comp[comp["race"] != ""].drop_duplicates("cr_id")["race"].value_counts()
    got = complaints.data["ethnicity"].value_counts()
    assert got["Black"] == first["BLACK"] == 28_617
    assert got["White"] == first["WHITE"] and got["Hispanic"] == first["HISPANIC"]
    assert got["Not stated"] == 109_339 - first.sum()
    several = comp.groupby("cr_id").size()
    assert int((complaints.data["complainant_count"].astype(int) > 1).sum()) == int((several > 1).sum()) == 1_086
    assert any("341 with different recorded races" in n for n in complaints.ledger.notes)
    assert complaints.data.loc[complaints.data["event_id"] == "cr:106213", "beat"].astype(str).item() == "1631"


# ----------------------------------------------------------------------------- CIT roster and the link


@real
def test_roster_rows_repeats_and_titles(roster, roster_rows):
    assert len(roster_rows) == 2_236
    led = roster.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (2_236, 2_236, 0)
    stars = Counter(roster_rows["star"])
    repeated = {s for s, k in stars.items() if k > 1}
    assert len(repeated) == 74
    same = roster_rows[roster_rows["star"].isin(repeated)].groupby("star")["appt"].nunique()
    assert int((same == 1).sum()) == 73 and int((same > 1).sum()) == 1
    assert "74 star number(s) appear on more than one row (148 rows): 73 with the same officer (star + appointment " \
           "date) listed again, 1 shared by different officers" in " ".join(led.notes)
    assert int(roster.data["repeat_completion"].sum()) == 73
    assert roster.data["officer_id"].nunique() == 2_236 - 73
    assert led.choices["module_id"] == "Crisis Intervention Team (CIT) 40 Hour Certification"
    assert led.choices["date_run"] == "Aug 19, 2016"
    assert set(roster.data["course"]) == {"CIT 40-hour"}
    assert roster.data["source_line"].min() == 8  # five title rows, header on row 6, blank row 7


@real
def test_roster_repeat_keeps_earliest_completion(roster, roster_rows):
    d = roster.data
    rows = d[d["star"] == "1010"].sort_values("source_line")
    assert rows["completed"].tolist() == [pd.Timestamp("2008-01-18 16:00")] * 2
    assert rows["session_end"].tolist() == [pd.Timestamp("2008-01-18 16:00"), pd.Timestamp("2016-02-12 16:00")]
    assert rows["repeat_completion"].tolist() == [False, True]
    reissued = d[d["star"] == "1066"]
    assert reissued["officer_id"].nunique() == 2 and not reissued["repeat_completion"].any()
    first_only = read_chicago_cit_roster(DATA / CIT_FILE, repeats="first")
    assert (first_only.ledger.rows_kept, first_only.ledger.rows_rejected) == (2_163, 73)
    assert first_only.data["officer_id"].is_unique


@real
def test_roster_has_no_names(roster):
    _assert_no_names(roster.data, _names())
    assert "ALLEN" not in roster.rejects.frame.to_csv()
    named = read_chicago_cit_roster(DATA / CIT_FILE, keep_names=True)
    assert named.data["last_name"].iloc[0] == "ALLEN"


@real
def test_training_links_to_use_of_force(uof, roster, roster_rows):
    uof_officers = set(uof.data["officer_id"].dropna())
    # independent: star + appointment date against the TRR officer profiles
    prof = _raw("TRR-officers_2004-2016_2016-09_profiles.csv.gz")
    prof_keys = set(prof["current_star"].str.removesuffix(".0") + "|" + prof["appointed_date"])
    raw_keys = set(roster_rows["star"].astype(str) + "|" + roster_rows["appt"].dt.strftime("%Y-%m-%d"))
    assert len(raw_keys) == 2_163
    assert len(raw_keys & prof_keys) == 1_631
    # reader without link_to: the same 1,631 officers join on officer_id
    plain = read_chicago_cit_roster(DATA / CIT_FILE)
    assert len(set(plain.data["officer_id"]) & uof_officers) == 1_631
    # with link_to: name + appointment date adds officers whose star changed
    officers = roster.data.drop_duplicates("officer_id")
    linked = set(officers["officer_id"]) & uof_officers
    assert len(linked) == 1_761
    assert Counter(officers["officer_link"]) == {"star+appointment": 1_631, "name+appointment": 130, "unlinked": 402}
    assert any("1,631 linked by star + appointment date, 130 by name + appointment date" in n for n in roster.ledger.notes)
    rows_linked = int(roster.data["officer_id"].isin(uof_officers).sum())
    assert rows_linked == 1_761 + int(roster.data.loc[roster.data["repeat_completion"], "officer_id"].isin(uof_officers).sum())


def test_missing_folder_is_a_read_error(tmp_path):
    with pytest.raises(ReadError, match="TRR-main"):
        read_chicago_use_of_force(tmp_path)


# ----------------------------------------------------------------------------- synthetic Chicago folder (no real data needed)


def _gz(path: Path, text: str) -> None:
    import gzip

    path.write_bytes(gzip.compress(text.encode()))


@pytest.fixture()
def fake(tmp_path):
    """A miniature release with the same file names and columns (fictional officers)."""
    _gz(tmp_path / "TRR-main_2004-2016_2016-09.csv.gz",
        "trr_id,beat,location,trr_date,trr_time\n"
        "1,0111,STREET,2010-05-01,10:00:00\n2,0112,ALLEY,2010-05-02,11:00:00\n"
        "3,0113,STREET,2010-05-03,12:00:00\n4,0114,STREET,2010-13-01,12:00:00\n5,0115,PARK,2010-05-05,\n")
    _gz(tmp_path / "TRR-officers_2004-2016_2016-09.csv.gz",
        "row_id,TRR-officers_2004-2016_2016-09_ID,trr_id,injured,unit,rank,in_uniform,unit_detail,duty_status\n"
        "1,1,1,No,13,PO,Yes,,Yes\n2,9,2,No,13,PO,Yes,,Yes\n3,2,4,No,13,PO,Yes,,Yes\n4,3,5,No,13,PO,Yes,,Yes\n")
    _gz(tmp_path / "TRR-officers_2004-2016_2016-09_profiles.csv.gz",
        "TRR-officers_2004-2016_2016-09_ID,first_name,last_name,appointed_date,gender,race,current_star\n"
        "1,ZEBEDEE,QUIXOTEWOOD,1999-01-04,MALE,WHITE,1234.0\n2,YOLANDA,XYLOPHONIA,2001-02-05,FEMALE,BLACK,77.0\n"
        "3,WALTER,VORTIGERN,2003-03-06,MALE,HISPANIC,\n")
    _gz(tmp_path / "TRR-subjects_2004-2016_2016-09.csv.gz",
        "trr_id,gender,race,age,armed,injured,alleged_injury\n"
        "1,MALE,BLACK,22.0,No,No,No\n2,FEMALE,WHITE,30.0,No,No,No\n4,MALE,HISPANIC,,No,No,No\n5,,,40.0,No,No,No\n")
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in (["", "Date Run:\xa0Jan 2, 2017"], ["Module ID=", "Crisis Intervention Team (CIT) 40 Hour Certification"],
              ["Overall Status=", "Completed"], ["Current Status=", "Active "], [],
              ["LAST NAME", "FIRST NAME", "STAR/BADGE", "DATE OF APPOINTMENT", "GENDER", "SESSION END DATE"], [],
              ["QUIXOTEWOOD", "ZEBEDEE", 1234, pd.Timestamp("1999-01-04").to_pydatetime(), "Male", pd.Timestamp("2012-05-04 16:00").to_pydatetime()],
              ["QUIXOTEWOOD", "ZEBEDEE", 1234, pd.Timestamp("1999-01-04").to_pydatetime(), "Male", pd.Timestamp("2009-01-09 16:00").to_pydatetime()],
              ["XYLOPHONIA", "YOLANDA", 88, pd.Timestamp("2001-02-05").to_pydatetime(), "Female", pd.Timestamp("2010-01-01 16:00").to_pydatetime()],
              ["UNTRAINED", "ULF", 1234, pd.Timestamp("2015-06-07").to_pydatetime(), "Male", pd.Timestamp("2016-01-01 16:00").to_pydatetime()],
              ["NOSTAR", "NED", None, pd.Timestamp("2015-06-07").to_pydatetime(), "Male", "not a date"]):
        ws.append(r)
    wb.save(tmp_path / CIT_FILE)
    return tmp_path


def test_fake_uof_rejects_unlinked_reports_with_reasons(fake):
    res = read_chicago_use_of_force(fake)
    led = res.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (5, 2, 3)
    assert led.rejected_by_reason == {
        "no officer record in TRR-officers for this trr_id": 1,
        "officer id not found in the TRR officer profiles": 1,
        "unparseable or unmapped required field 'datetime'": 1,
    }
    rej = res.rejects.frame.set_index("line")
    assert rej.loc[3, "reason"].startswith("officer id not found") and rej.loc[4, "reason"].startswith("no officer record")
    assert "QUIXOTEWOOD" not in res.rejects.frame.to_csv() + res.data.to_csv()
    assert res.data["officer_id"].tolist() == ["star:1234|appt:1999-01-04", "trr-profile:3"]
    assert res.data["time_known"].tolist() == [True, False]
    assert res.data["ethnicity"].astype(str).tolist() == ["Black", "Not stated"]
    assert any("officer link rate: 3 of 5 reports (60.0%)" in n for n in led.notes)
    named = read_chicago_use_of_force(fake, keep_names=True)
    assert named.data["officer_last_name"].tolist() == ["QUIXOTEWOOD", "VORTIGERN"]
    assert named.ledger.choices["officer_names"] == "kept (keep_names=True)"


def test_fake_roster_repeats_link_and_names(fake):
    res = read_chicago_cit_roster(fake / CIT_FILE, link_to=fake)
    led = res.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (5, 4, 1)
    assert led.rejected_by_reason == {"unparseable or unmapped required field 'completed'": 1}
    assert led.choices["date_run"] == "Jan 2, 2017"
    d = res.data.set_index("source_line")
    # the same officer twice: completed = earliest, later row (by date, not by position) flagged
    assert d.loc[[8, 9], "completed"].tolist() == [pd.Timestamp("2009-01-09 16:00")] * 2
    assert d.loc[[8, 9], "repeat_completion"].tolist() == [True, False]
    # star 1234 reissued: a different officer (appointed 2015) keeps a separate key
    assert d.loc[11, "officer_id"] == "star:1234|appt:2015-06-07" and d.loc[11, "officer_link"] == "unlinked"
    # star changed 77 -> 88: linked through name + appointment date, takes the TRR key
    assert d.loc[10, "officer_id"] == "star:77|appt:2001-02-05" and d.loc[10, "officer_link"] == "name+appointment"
    assert any("1 with the same officer" in n and "1 shared by different officers" in n for n in led.notes)
    text = res.data.to_csv() + res.rejects.frame.to_csv() + led.to_json()
    assert not any(n in text for n in ("QUIXOTEWOOD", "XYLOPHONIA", "UNTRAINED", "NOSTAR", "ZEBEDEE"))
    first = read_chicago_cit_roster(fake / CIT_FILE, repeats="first")
    assert first.ledger.rejected_by_reason["repeat completion of an officer already listed (earliest kept)"] == 1
    assert first.rejects.frame.loc[first.rejects.frame["reason"].str.startswith("repeat"), "line"].tolist() == [8]
