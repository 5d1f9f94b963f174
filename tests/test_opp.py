"""Stanford Open Policing Project reader on realistic inline fixtures (no OPP file is available offline)."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from equity_metrics.errors import MissingColumnsError
from equity_metrics.io.mapped import read_mapped
from equity_metrics.io.opp import read_opp

# Shaped like the OPP standardized files (e.g. il_chicago_2020_04_01.csv): NA strings,
# TRUE/FALSE booleans, a missing time, an unknown race, a search without contraband info.
FULL = """raw_row_number,date,time,location,lat,lng,district,beat,subject_age,subject_race,subject_sex,officer_id_hash,type,violation,arrest_made,citation_issued,warning_issued,outcome,contraband_found,contraband_drugs,contraband_weapons,frisk_performed,search_conducted,search_person,search_vehicle,search_basis,reason_for_stop,raw_subject_ethnicity
101,2016-01-03,00:05:00,"800 S STATE ST, CHICAGO",41.871,-87.627,1,0133,27,black,male,5f2a1b9c0d,vehicular,SPEEDING,FALSE,TRUE,FALSE,citation,NA,NA,NA,FALSE,FALSE,NA,NA,NA,SPEEDING,NA
102,2016-01-03,NA,NA,NA,NA,NA,NA,NA,white,female,5f2a1b9c0d,pedestrian,NA,FALSE,FALSE,TRUE,warning,TRUE,NA,NA,NA,FALSE,NA,NA,NA,NA,HISPANIC
103,2016-03-13,02:30:00,"1 W MADISON ST",41.882,-87.628,1,0111,45,hispanic,male,77ab00ef31,vehicular,EQUIPMENT,TRUE,FALSE,FALSE,arrest,FALSE,FALSE,FALSE,TRUE,TRUE,TRUE,FALSE,probable cause,EQUIPMENT,NA
104,2016-11-06,01:30:00,"1 W MADISON ST",41.882,-87.628,1,0111,16,asian/pacific islander,female,77ab00ef31,vehicular,EQUIPMENT,FALSE,FALSE,TRUE,warning,TRUE,TRUE,FALSE,FALSE,TRUE,FALSE,TRUE,consent,EQUIPMENT,NON-HISPANIC
105,NA,12:00:00,X,NA,NA,2,0222,33,other,male,aa,vehicular,NA,FALSE,FALSE,FALSE,NA,NA,NA,NA,NA,FALSE,NA,NA,NA,NA,NA
106,2016-12-31,23:59:00,X,NA,NA,2,0222,NA,unknown,NA,aa,vehicular,NA,NA,NA,NA,NA,NA,NA,NA,maybe,NA,NA,NA,NA,NA,NA
"""

MINIMAL = """raw_row_number,date,subject_race
1,2019-07-01,black
2,2019-07-02,NA
"""


@pytest.fixture()
def full(tmp_path):
    p = tmp_path / "il_test_2020_04_01.csv"
    p.write_text(FULL, encoding="utf-8")
    return p


def test_opp_counts_and_rejects(full):
    res = read_opp(full, tz="America/Chicago", force="il-test")
    assert (res.ledger.rows_read, res.ledger.rows_kept, res.ledger.rows_rejected) == (6, 5, 1)
    rej = res.rejects.frame.iloc[0]
    assert (rej["line"], rej["column"], rej["reason"]) == (6, "date", "missing required field 'datetime'")
    assert '"raw_row_number": "105"' in rej["raw"]
    d = res.data
    assert d["event_id"].tolist() == ["opp:101", "opp:102", "opp:103", "opp:104", "opp:106"]
    assert set(d["event_type"].astype(str)) == {"stop"} and set(d["source"].astype(str)) == {"opp"}
    assert set(d["force"].astype(str)) == {"il-test"}


def test_opp_race_sex_and_hispanic_override(full):
    res = read_opp(full, tz="America/Chicago")
    d = res.data
    # row 102 is "white" but its raw ethnicity says HISPANIC: Hispanic overrides race (OPP standard)
    assert d["ethnicity"].astype(str).tolist() == ["Black", "Hispanic", "Hispanic", "Asian/Pacific Islander", "Not stated"]
    assert d["ethnicity_raw"].tolist()[:2] == ["black", "white"]
    assert "1 row(s) changed" in res.ledger.choices["hispanic_override"]
    assert d["sex"].astype(str).tolist()[:4] == ["Male", "Female", "Male", "Female"] and pd.isna(d["sex"].iloc[4])
    assert res.ledger.missing_by_field["sex"] == 1
    assert res.ledger.missing_by_field["age"] == 2
    assert [x if pd.notna(x) else None for x in d["age_band"].tolist()[:4]] == ["25-34", None, "over 34", "10-17"]


def test_opp_times_booleans_and_hits(full):
    d = read_opp(full, tz="America/Chicago").data
    assert d["time_known"].tolist() == [True, False, True, True, True]
    assert d["datetime"].iloc[1] == pd.Timestamp("2016-01-03", tz="America/Chicago")
    assert d["datetime"].iloc[2] == pd.Timestamp("2016-03-13 03:00", tz="America/Chicago")  # DST gap
    assert d["datetime"].iloc[4].month == 12 and str(d["month"].iloc[4]) == "2016-12"
    assert d["arrest"].tolist()[:4] == [False, False, True, False]
    assert d["search_conducted"].tolist()[:4] == [False, False, True, True]
    # hit is contraband_found only where a search was conducted: row 102 (no search) -> NA
    assert pd.isna(d["hit"].iloc[1]) and d["hit"].iloc[2] == False and d["hit"].iloc[3] == True  # noqa: E712
    assert d["legal_power"].astype(str).tolist()[2:4] == ["probable cause", "consent"]
    assert d["citation_issued"].dtype == "boolean" and d["citation_issued"].tolist()[0] is True
    assert d["frisk_performed"].tolist()[2] is True and pd.isna(d["frisk_performed"].iloc[4])
    assert d["stop_type"].tolist()[:2] == ["vehicular", "pedestrian"]
    assert d["officer_id"].tolist()[0] == "5f2a1b9c0d"
    assert d["beat"].astype(str).iloc[0] == "0133"


def test_opp_ledger_notes(full):
    led = read_opp(full, tz="America/Chicago").ledger
    assert led.unknown_by_field["frisk_performed"] == 1
    assert led.choices["timezone"] == "America/Chicago"
    assert any("1 contraband_found value(s) on rows without a search set to NA" in n for n in led.notes)
    assert led.months_covered == ["2016-01", "2016-03", "2016-11", "2016-12"]


def test_opp_minimal_file_gzip_and_default_utc(tmp_path):
    p = tmp_path / "wa_seattle.csv.gz"
    p.write_bytes(gzip.compress(MINIMAL.encode()))
    res = read_opp(p)
    assert (res.ledger.rows_read, res.ledger.rows_kept) == (2, 2)
    assert str(res.data["datetime"].dt.tz) == "UTC"
    assert res.data["time_known"].tolist() == [False, False]
    assert res.data["ethnicity"].astype(str).tolist() == ["Black", "Not stated"]
    assert res.data["arrest"].isna().all()
    assert any("no time column" in n for n in res.ledger.files[0].notes)


def test_opp_without_subject_race_is_an_error(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("raw_row_number,date,subject_sex\n1,2019-07-01,male\n", encoding="utf-8")
    with pytest.raises(MissingColumnsError, match="subject_race"):
        read_opp(p)


def test_opp_mapping_by_name_in_read_mapped(full):
    res = read_mapped(full, mapping="opp")
    assert res.ledger.rows_kept == 5 and res.ledger.choices["mapping"] == "opp"
