"""Tests of the police.uk API (stops-force / stops-street JSON) reader, with small inline fixtures."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from equity_metrics.errors import EmptyFileError, FileFormatError, OptionError, ReadError
from equity_metrics.io.policeuk import POLICEUK_COLUMNS, read_policeuk
from equity_metrics.io.policeuk_api import read_policeuk_api
from equity_metrics.schema import columns_of

# Shaped like https://data.police.uk/api/stops-force?force=avon-and-somerset&date=2021-05
RECORDS = [
    {
        "age_range": "18-24",
        "outcome": "A no further action disposal",
        "involved_person": True,
        "self_defined_ethnicity": "White - English/Welsh/Scottish/Northern Irish/British",
        "gender": "Male",
        "legislation": "Misuse of Drugs Act 1971 (section 23)",
        "outcome_linked_to_object_of_search": False,
        "datetime": "2021-05-01T09:15:00+00:00",
        "removal_of_more_than_outer_clothing": False,
        "outcome_object": {"id": "bu-no-further-action", "name": "A no further action disposal"},
        "location": {"latitude": "51.454513", "street": {"id": 1738842, "name": "On or near Park Street"}, "longitude": "-2.597849"},
        "operation": False,
        "officer_defined_ethnicity": "White",
        "type": "Person search",
        "operation_name": None,
        "object_of_search": "Controlled drugs",
    },
    {
        "age_range": "over 34",
        "outcome": "Arrest",
        "involved_person": True,
        "self_defined_ethnicity": "Other ethnic group - Not stated",
        "gender": "Female",
        "legislation": "Police and Criminal Evidence Act 1984 (section 1)",
        "outcome_linked_to_object_of_search": True,
        "datetime": "2021-04-30T23:00:00+00:00",
        "removal_of_more_than_outer_clothing": None,
        "outcome_object": {"id": "bu-arrest", "name": "Arrest"},
        "location": None,
        "operation": True,
        "officer_defined_ethnicity": "Black",
        "type": "Person and Vehicle search",
        "operation_name": "Operation Remedy",
        "object_of_search": "Stolen goods",
    },
    {
        "age_range": None,
        "outcome": False,
        "involved_person": False,
        "self_defined_ethnicity": None,
        "gender": None,
        "legislation": None,
        "outcome_linked_to_object_of_search": None,
        "datetime": "2021-05-20T14:02:11.500000+00:00",
        "removal_of_more_than_outer_clothing": None,
        "outcome_object": {"id": "bu-summons", "name": "Summons / charged by post"},
        "location": {"latitude": "51.4", "street": {"id": 1, "name": "On or near Petrol Station"}, "longitude": "-2.5"},
        "operation": None,
        "officer_defined_ethnicity": None,
        "type": "Vehicle search",
        "operation_name": None,
        "object_of_search": "Article for use in theft",
    },
]


def _csv_equivalent(tmp_path: Path) -> Path:
    """The same three searches as a police.uk CSV, to check both readers agree."""
    rows = [
        ["Person search", "2021-05-01T09:15:00+00:00", "False", "", "51.454513", "-2.597849", "Male", "18-24",
         "White - English/Welsh/Scottish/Northern Irish/British", "White", "Misuse of Drugs Act 1971 (section 23)",
         "Controlled drugs", "A no further action disposal", "False", "False"],
        ["Person and Vehicle search", "2021-04-30T23:00:00+00:00", "True", "Operation Remedy", "", "", "Female", "over 34",
         "Other ethnic group - Not stated", "Black", "Police and Criminal Evidence Act 1984 (section 1)", "Stolen goods",
         "Arrest", "True", ""],
        ["Vehicle search", "2021-05-20T14:02:11.500000+00:00", "", "", "51.4", "-2.5", "", "", "", "", "",
         "Article for use in theft", "Summons / charged by post", "", ""],
    ]  # fmt: skip
    p = tmp_path / "2021-05-avon-and-somerset-stop-and-search.csv"
    p.write_text(",".join(POLICEUK_COLUMNS) + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    return p


def test_in_memory_records():
    res = read_policeuk_api(RECORDS, force="Avon and Somerset")
    d = res.data
    assert list(d.columns[: len(columns_of("events"))]) == columns_of("events")
    assert (res.ledger.rows_read, res.ledger.rows_kept, res.ledger.rows_rejected) == (3, 3, 0)
    assert d["force"].astype(str).tolist() == ["avon-and-somerset"] * 3
    assert d["source"].astype(str).unique().tolist() == ["policeuk_api"]
    assert d["event_id"].tolist() == ["avon-and-somerset/records/0", "avon-and-somerset/records/1", "avon-and-somerset/records/2"]
    assert d["month"].astype(str).tolist() == ["2021-05"] * 3  # 23:00 UTC on 30 April is local midnight 1 May
    assert d["time_known"].tolist() == [True, False, True]
    assert d["datetime"].iloc[2] == pd.Timestamp("2021-05-20 15:02:11.5", tz="Europe/London")
    assert d["outcome"].astype(str).tolist() == ["A no further action disposal", "Arrest", "Summons / charged by post"]
    assert d["arrest"].tolist() == [False, True, False]
    assert d["policing_operation"].tolist() == [False, True, pd.NA]
    assert d["policing_operation_name"].tolist() == [pd.NA, "Operation Remedy", pd.NA]
    assert d["latitude"].iloc[0] == pytest.approx(51.454513) and pd.isna(d["latitude"].iloc[1])
    assert d["street_name"].tolist() == ["On or near Park Street", pd.NA, "On or near Petrol Station"]
    assert d["involved_person"].tolist() == [True, True, False]
    assert d["vehicle_only"].tolist() == [False, False, True]
    assert d["ethnicity"].tolist() == ["White", "Not stated", "Not stated"]
    assert d["sex"].tolist() == ["Male", "Female", "Not stated"]
    assert d["source_index"].tolist() == [0, 1, 2] and d["source_line"].isna().all()
    assert res.ledger.missing_by_field["latitude"] == 1 and res.ledger.missing_by_field["strip_search"] == 2
    assert res.ledger.months_covered == ["2021-05"] and res.ledger.areas_covered == ["avon-and-somerset"]
    assert res.ledger.months_missing == [] and any("months_missing is not computed" in n for n in res.ledger.notes)


def test_api_and_csv_readers_agree(tmp_path):
    api = read_policeuk_api(RECORDS, force="avon-and-somerset").data
    csv = read_policeuk(_csv_equivalent(tmp_path)).data
    same = [c for c in columns_of("events") if c not in ("event_id", "source", "source_file", "source_line", "file_month")]
    pd.testing.assert_frame_equal(api[same], csv[same], check_categorical=False)


def test_fallback_choice_is_recorded():
    res = read_policeuk_api(RECORDS, force="avon-and-somerset", fallback="officer_defined")
    assert res.data["ethnicity"].tolist() == ["White", "Black", "Not stated"]
    assert res.data["ethnicity_source"].tolist() == ["self_defined", "officer_defined", "none"]
    assert res.ledger.choices["fallback"] == "officer_defined"
    with pytest.raises(OptionError):
        read_policeuk_api(RECORDS, ethnicity_field="officer", force="kent")


def test_bad_records_are_rejected_with_index_and_raw():
    recs = copy.deepcopy(RECORDS)
    recs[1]["datetime"] = "yesterday"
    del recs[2]["datetime"]
    recs += ["not an object", 42, None, {"type": "Person search", "datetime": None}, {"datetime": "   "}]
    res = read_policeuk_api(recs, force="kent")
    led = res.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (8, 1, 7)
    assert led.rejected_by_reason == {"missing datetime": 3, "record is not a JSON object": 3, "unparseable Date": 1}
    rj = res.rejects.frame.sort_values("row")
    assert rj["row"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert rj["line"].isna().all() and set(rj["file"]) == {"<records>"}
    bad_date = rj[rj["reason"] == "unparseable Date"].iloc[0]
    assert bad_date["value"] == "yesterday" and json.loads(bad_date["raw"])["gender"] == "Female"
    assert json.loads(rj[rj["row"] == 3]["raw"].iloc[0]) == "not an object"
    assert res.data["event_id"].tolist() == ["kent/records/0"]


def test_wrong_types_are_unknown_not_errors():
    rec = copy.deepcopy(RECORDS[0])
    rec.update({"gender": 5, "location": ["x"], "operation": "perhaps", "involved_person": "?", "age_range": {"a": 1}})
    res = read_policeuk_api([rec], force="kent")
    d = res.data
    assert pd.isna(d["sex"].iloc[0]) and d["sex_raw"].iloc[0] == "5"
    assert pd.isna(d["latitude"].iloc[0]) and pd.isna(d["policing_operation"].iloc[0]) and pd.isna(d["age_band"].iloc[0])
    assert pd.isna(d["involved_person"].iloc[0])
    u = res.ledger.unknown_by_field
    assert (u["sex"], u["latitude"], u["longitude"], u["policing_operation"], u["age_band"], u["involved_person"]) == (1, 1, 1, 1, 1, 1)
    unparsed = json.loads(d["raw_unparsed"].iloc[0])
    assert unparsed["Gender"] == "5" and unparsed["involved_person"] == "?" and unparsed["Latitude"] == '["x"]'


def test_json_files_and_folder(tmp_path):
    (tmp_path / "2021-05.json").write_text(json.dumps(RECORDS[:2]))
    (tmp_path / "2021-06.json").write_text(json.dumps(RECORDS[2:] + [RECORDS[2]]))
    res = read_policeuk_api(tmp_path, force="avon-and-somerset")
    assert len(res.ledger.files) == 2 and [f.rows_read for f in res.ledger.files] == [2, 2]
    assert res.data["event_id"].tolist()[-2:] == ["avon-and-somerset/2021-06/0", "avon-and-somerset/2021-06/1"]
    assert res.data["duplicate"].tolist() == [False, False, False, True] and res.ledger.duplicates == 1
    assert all(f.sha256 for f in res.ledger.files)
    one = read_policeuk_api(str(tmp_path / "2021-05.json"))
    assert one.data["force"].isna().all() and any("force not given" in n for n in one.ledger.notes)
    both = read_policeuk_api([tmp_path / "2021-05.json", tmp_path / "2021-06.json"], force="avon-and-somerset")
    assert both.data["event_id"].tolist() == res.data["event_id"].tolist()


def test_bad_json_files(tmp_path):
    p = tmp_path / "r.json"
    p.write_text("")
    with pytest.raises(EmptyFileError):
        read_policeuk_api(p)
    p.write_text('[{"datetime": "2021-05-01T00:00:00+00:00",}')
    with pytest.raises(FileFormatError, match="not valid JSON"):
        read_policeuk_api(p)
    p.write_text('{"error": "rate limited"}')
    with pytest.raises(FileFormatError, match="expected a JSON list"):
        read_policeuk_api(p)
    p.write_text("[]")
    empty = read_policeuk_api(p, force="kent")
    assert len(empty.data) == 0 and empty.ledger.rows_read == 0
    with pytest.raises(ReadError, match="single record"):
        read_policeuk_api(RECORDS[0])
    with pytest.raises(ReadError, match="not found"):
        read_policeuk_api(tmp_path / "missing.json")
