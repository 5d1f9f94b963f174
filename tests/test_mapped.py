"""The generic mapped reader on small inline CSV, gzip, Parquet and Excel fixtures."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from equity_metrics.errors import EmptyFileError, FileFormatError, MappingError, MissingColumnsError, OptionError
from equity_metrics.io.mapped import load_mapping, read_mapped
from equity_metrics.io.training import is_name_column, read_training_roster

CSV = (
    "Incident ID,Date,Time,Race,Sex,Age,Arrested,Beat\n"
    "A1,2020-01-05,13:45,Black,M,34,Y,0111\n"
    "A2,01/06/2020,,White,F,,N,0112\n"
    "A3,2020-02-30,10:00,Hispanic,M,20,Y,0111\n"  # impossible date: rejected
    "A4,2020-03-01,25:00,Martian,X,abc,maybe,0113\n"  # bad time, race, sex, age, bool: kept as NA/unknown
    "A5,,10:00,Black,M,40,N,0111\n"  # blank required date: rejected
    "A6,2020-03-08,02:30,ASIAN,F,19,N,0111\n"  # spring-forward gap in Chicago
    "A7,2020-11-01,01:30,black,M,19,N,0111\n"  # repeated hour in Chicago
    "A1,2020-01-05,13:45,Black,M,34,Y,0111\n"  # exact repeat of line 2: kept, flagged
)

MAPPING = {
    "name": "test",
    "columns": {"datetime": "Date", "sex": "Sex", "age": "Age", "arrest": "Arrested", "beat": "Beat"},
    "values": {"sex": {"M": "Male", "F": "Female"}, "arrest": {"Y": True, "N": False}},
    "dates": {"datetime": {"format": ["%Y-%m-%d", "%m/%d/%Y"], "time_column": "Time", "tz": "America/Chicago"}},
    "constants": {"event_type": "stop", "force": "testville"},
    "ethnicity": {"column": "Race", "scheme": "us"},
    "id": "Incident ID",
    "id_prefix": "t:",
}


@pytest.fixture()
def csv_file(tmp_path):
    p = tmp_path / "events.csv"
    p.write_text(CSV, encoding="utf-8")
    return p


def test_csv_rows_accounted_for(csv_file):
    res = read_mapped(csv_file, mapping=MAPPING)
    led = res.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (8, 6, 2)
    assert led.rejected_by_reason == {
        "missing required field 'datetime'": 1,
        "unparseable or unmapped required field 'datetime'": 1,
    }
    rej = res.rejects.frame.sort_values("line")
    assert rej["line"].tolist() == [4, 6]
    assert rej["column"].tolist() == ["Date", "Date"]
    assert rej["value"].tolist() == ["2020-02-30", ""]
    assert json.loads(rej["raw"].iloc[0])["Incident ID"] == "A3"
    assert res.data["event_id"].tolist() == ["t:A1", "t:A2", "t:A4", "t:A6", "t:A7", "t:A1"]
    assert res.data["source_line"].tolist() == [2, 3, 5, 7, 8, 9]


def test_csv_values_dates_and_unknowns(csv_file):
    d = read_mapped(csv_file, mapping=MAPPING).data
    assert str(d["datetime"].dt.tz) == "America/Chicago"
    assert d["datetime"].iloc[0] == pd.Timestamp("2020-01-05 13:45", tz="America/Chicago")
    assert d["datetime"].iloc[1] == pd.Timestamp("2020-01-06", tz="America/Chicago")  # second format
    assert d["time_known"].tolist() == [True, False, False, True, True, True]
    assert d["datetime_raw"].tolist()[:3] == ["2020-01-05 13:45", "01/06/2020", "2020-03-01 25:00"]
    # DST: the gap is shifted forward, the repeated hour takes the first (daylight) offset
    assert d["datetime"].iloc[3] == pd.Timestamp("2020-03-08 03:00", tz="America/Chicago")
    assert d["datetime"].iloc[4].utcoffset() == pd.Timedelta(hours=-5)
    assert d["month"].astype(str).tolist() == ["2020-01", "2020-01", "2020-03", "2020-03", "2020-11", "2020-01"]
    assert d["ethnicity"].astype(str).tolist() == ["Black", "White", "Not stated", "Asian/Pacific Islander", "Black", "Black"]
    assert d["sex"].astype(str).tolist()[:2] == ["Male", "Female"] and pd.isna(d["sex"].iloc[2])
    assert d["sex_raw"].astype(str).iloc[2] == "X"
    assert pd.isna(d["age"].iloc[2]) and d["age"].iloc[0] == 34.0
    assert d["age_band"].astype(str).iloc[0] == "25-34"
    assert d["arrest"].tolist()[:2] == [True, False] and pd.isna(d["arrest"].iloc[2])
    assert d["beat"].astype(str).iloc[0] == "0111"  # leading zero kept: nothing coerced
    assert d["duplicate"].tolist() == [False] * 5 + [True]
    assert d["event_type"].astype(str).unique().tolist() == ["stop"]
    assert str(d["force"].iloc[0]) == "testville"


def test_csv_ledger_counts(csv_file):
    led = read_mapped(csv_file, mapping=MAPPING).ledger
    assert led.unknown_by_field["sex"] == 1
    assert led.unknown_by_field["ethnicity"] == 1
    assert led.unknown_by_field["age"] == 1
    assert led.unknown_by_field["arrest"] == 1
    assert led.unknown_by_field["datetime_time"] == 1
    assert led.missing_by_field["age"] == 1
    assert led.duplicates == 1
    assert any("sex: 1 distinct value(s) not in the mapping" in n and "'X'" in n for n in led.notes)
    assert any("ethnicity" in n and "'Martian'" in n for n in led.notes)
    assert led.choices["timezone"] == "America/Chicago"
    assert led.months_covered == ["2020-01", "2020-03", "2020-11"]
    assert any("datetime: 2 local time(s) in a daylight-saving gap or repeated hour" in n for n in led.notes)


def test_toml_mapping_file_and_gzip(tmp_path, csv_file):
    toml = tmp_path / "m.toml"
    toml.write_text(
        """
name = "from toml"
id = "Incident ID"
[columns]
datetime = ["Datum", "Date"]   # candidates: the first present wins
sex = "Sex"
[values.sex]
M = "Male"
F = "Female"
[dates.datetime]
format = ["%Y-%m-%d", "%m/%d/%Y"]
time_column = "Time"
tz = "UTC"
[constants]
event_type = "search"
[ethnicity]
column = "Race"
scheme = "us"
label = "officer_defined"
""",
        encoding="utf-8",
    )
    gz = tmp_path / "events.csv.gz"
    gz.write_bytes(gzip.compress(CSV.encode()))
    res = read_mapped(gz, mapping=toml)
    assert (res.ledger.rows_read, res.ledger.rows_kept) == (8, 6)
    assert res.ledger.choices["mapping"] == "from toml"
    assert set(res.data["ethnicity_source"].astype(str)) == {"officer_defined"}
    assert str(res.data["datetime"].dt.tz) == "UTC"


def test_parquet_typed_columns(tmp_path):
    df = pd.DataFrame(
        {
            "when": pd.to_datetime(["2021-05-01 08:30", "2021-06-02 23:15", None]),
            "race": ["White", "Black", "White"],
            "age": [25, 41, 30],
            "searched": [True, False, True],
        }
    )
    p = tmp_path / "e.parquet"
    df.to_parquet(p)
    m = {"columns": {"datetime": "when", "age": "age", "search_conducted": "searched"},
         "constants": {"event_type": "search"}, "ethnicity": {"column": "race", "scheme": "us"},
         "dates": {"datetime": {"tz": "Europe/London"}}}
    res = read_mapped(p, mapping=m)
    assert (res.ledger.rows_read, res.ledger.rows_kept, res.ledger.rows_rejected) == (3, 2, 1)
    assert res.data["datetime"].tolist() == [pd.Timestamp("2021-05-01 08:30", tz="Europe/London"),
                                             pd.Timestamp("2021-06-02 23:15", tz="Europe/London")]
    assert res.data["age"].tolist() == [25.0, 41.0]
    assert res.data["search_conducted"].tolist() == [True, False]
    assert res.rejects.frame["line"].tolist() == [3]


def _workbook(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Roster"
    for r in rows:
        ws.append(r)
    wb.save(path)


def test_xlsx_title_rows_cells_as_text_and_ragged_rows(tmp_path):
    p = tmp_path / "r.xlsx"
    _workbook(p, [
        ["Report run: 1 Jan 2020"], ["Module= Test"], [],
        ["Star", "Completed", "Gender", "Code"],
        [],
        [18439, dt.datetime(2015, 3, 2, 16, 0), "Male", "007"],
        [2001.0, "2016-01-01", "Female", "12"],
        [77, "not a date", "Female", "x"],
        [78, dt.datetime(2016, 2, 2), "F", "y", "stray cell"],
    ])
    m = {"columns": {"officer_id": "Star", "completed": "Completed", "sex": "Gender"},
         "constants": {"course": "Test course"}, "header_row": 4, "keep": {"code": "Code"}}
    res = read_mapped(p, mapping=m, kind="training")
    led = res.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (4, 2, 2)
    assert res.data["officer_id"].tolist() == ["18439", "2001"]  # numbers as text, no '.0'
    assert res.data["code"].tolist() == ["007", "12"]  # text cells untouched
    assert res.data["completed"].tolist() == [pd.Timestamp("2015-03-02 16:00"), pd.Timestamp("2016-01-01")]
    assert res.data["source_line"].tolist() == [6, 7]  # sheet rows
    assert sorted(res.rejects.frame["line"].tolist()) == [8, 9]
    assert "wrong number of fields (expected 4, found 5)" in set(res.rejects.frame["reason"])
    notes = " ".join(led.files[0].notes)
    assert "title rows: Report run: 1 Jan 2020 | Module= Test" in notes and "1 blank row(s) skipped" in notes
    assert res.data["level"].astype(str).tolist() == ["officer", "officer"]


def test_xlsx_header_row_argument_and_sheet_errors(tmp_path):
    p = tmp_path / "r.xlsx"
    _workbook(p, [["title"], ["Star", "Completed"], [1, "2015-01-01"]])
    m = {"columns": {"officer_id": "Star", "completed": "Completed"}, "constants": {"course": "C"}}
    assert read_mapped(p, mapping=m, kind="training", header_row=2).ledger.rows_kept == 1
    # without header_row a one-cell title row above a wider header is detected and skipped (noted in the ledger)
    res = read_mapped(p, mapping=m, kind="training")
    assert res.ledger.rows_kept == 1 and any("title rows above the header detected" in n for n in res.ledger.files[0].notes)
    _workbook(p, [["Star", "Completed"], [1, "2015-01-01"]])
    with pytest.raises(MissingColumnsError):  # header_row=2 makes the data row the header
        read_mapped(p, mapping=m, kind="training", header_row=2)
    with pytest.raises(Exception, match="no sheet named 'Rostr'.*Did you mean 'Roster'"):
        read_mapped(p, mapping=m, kind="training", header_row=2, sheet="Rostr")


def test_mapping_errors_name_valid_fields():
    base = {"constants": {"event_type": "stop"}, "columns": {"datetime": "D"}}
    with pytest.raises(MappingError, match="unknown canonical field 'ethnicty'.*did you mean 'ethnicity"):
        load_mapping({**base, "columns": {"datetime": "D", "ethnicty": "R"}})
    with pytest.raises(MappingError, match="Valid fields: event_id, event_type"):
        load_mapping({**base, "columns": {"datetime": "D", "colour": "R"}})
    with pytest.raises(MappingError, match="unknown key 'colums'.*did you mean 'columns'"):
        load_mapping({**base, "colums": {}})
    with pytest.raises(MappingError, match="'male' is not one of.*did you mean 'Male'"):
        load_mapping({**base, "columns": {"datetime": "D", "sex": "S"}, "values": {"sex": {"M": "male"}}})
    with pytest.raises(MappingError, match="not a known time zone"):
        load_mapping({**base, "dates": {"datetime": {"tz": "Mars/Olympus"}}})
    with pytest.raises(MappingError, match="constants.event_type='patrol'"):
        load_mapping({"columns": {"datetime": "D"}, "constants": {"event_type": "patrol"}})
    with pytest.raises(MappingError, match="needs 'datetime'"):
        load_mapping({"constants": {"event_type": "stop"}})
    with pytest.raises(MappingError, match="both a column and a constant"):
        load_mapping({**base, "constants": {"event_type": "stop", "force": "x"}, "columns": {"datetime": "D", "force": "F"}})
    with pytest.raises(MappingError, match="strftime format"):
        load_mapping({**base, "dates": {"datetime": {"format": "YYYY-MM-DD"}}})
    with pytest.raises(MappingError, match="mapping file not found"):
        load_mapping("/no/such/mapping.toml")
    with pytest.raises(OptionError):
        load_mapping(base, kind="population")  # type: ignore[arg-type]


def test_bad_toml_is_a_mapping_error(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[columns\ndatetime = ", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid TOML"):
        read_mapped(p, mapping=p)


def test_missing_source_column_lists_closest(tmp_path, csv_file):
    m = {**MAPPING, "columns": {**MAPPING["columns"], "sex": "Gender", "age": "age "}}
    with pytest.raises(MissingColumnsError) as exc:
        read_mapped(csv_file, mapping=m)
    assert exc.value.missing == ["Gender"]  # 'age ' matched 'Age' ignoring case and spaces
    assert str(csv_file) in str(exc.value)
    ok = read_mapped(csv_file, mapping={**m, "optional": ["sex"]})
    assert ok.data["sex"].isna().all() and ok.ledger.rows_kept == 6


def test_latin1_bom_quoted_newline_and_empty(tmp_path):
    m = {"columns": {"datetime": "d"}, "constants": {"event_type": "other"}, "ethnicity": {"column": "e", "scheme": "uk"}}
    p = tmp_path / "l.csv"
    p.write_bytes(b"\xef\xbb\xbfd,e,note\n2020-01-01,White - Irish,\"two\nlines\"\n2020-01-02,Black,caf\xe9\n")
    res = read_mapped(p, mapping={**m, "keep": ["note"]})
    assert res.data["source_line"].tolist() == [2, 4]
    assert res.data["note"].tolist() == ["two\nlines", "café"]
    assert res.ledger.files[0].encoding == "cp1252"
    assert res.data["ethnicity_detailed"].astype(str).tolist() == ["White: Irish", "Black"]
    h = tmp_path / "h.csv"
    h.write_text("d,e\n", encoding="utf-8")
    assert read_mapped(h, mapping=m).ledger.rows_read == 0
    e = tmp_path / "e.csv"
    e.write_text("", encoding="utf-8")
    with pytest.raises(EmptyFileError):
        read_mapped(e, mapping=m)
    x = tmp_path / "x.xls"
    x.write_bytes(b"\xd0\xcf\x11\xe0junk")
    with pytest.raises(FileFormatError, match="legacy .xls"):
        read_mapped(x, mapping=m)


def test_folder_of_files_combined_in_sorted_order(tmp_path):
    m = {"columns": {"datetime": "d"}, "constants": {"event_type": "stop"}}
    (tmp_path / "b.csv").write_text("d\n2020-02-01\nbad\n", encoding="utf-8")
    (tmp_path / "a.csv").write_text("d\n2020-01-01\n", encoding="utf-8")
    res = read_mapped(tmp_path, mapping=m)
    assert [Path(f.file).name for f in res.ledger.files] == ["a.csv", "b.csv"]
    assert [(f.rows_read, f.rows_kept, f.rows_rejected) for f in res.ledger.files] == [(1, 1, 0), (2, 1, 1)]
    assert res.data["event_id"].tolist() == ["a.csv:2", "b.csv:2"]
    assert res.ledger.choices["timezone"] == "UTC"
    assert (res.data["ethnicity"].astype(str) == "Not stated").all()


def test_read_training_roster_drops_names(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text(
        "Badge,LAST NAME,First_Name,Completion Date,Gender,Unit\n"
        "101,SMITH,ANN,03/02/2015,F,A\n102,JONES,BOB,2015-13-01,M,B\n103,KHAN,ALI,,M,B\n",
        encoding="utf-8",
    )
    res = read_training_roster(p, course="De-escalation", date_format="%m/%d/%Y")
    assert (res.ledger.rows_read, res.ledger.rows_kept, res.ledger.rows_rejected) == (3, 1, 2)
    assert res.data[["officer_id", "course", "unit"]].values.tolist() == [["101", "De-escalation", "A"]]
    assert res.data["completed"].tolist() == [pd.Timestamp("2015-03-02")]
    assert res.data["sex"].astype(str).tolist() == ["Female"]
    text = res.data.to_csv() + res.rejects.frame.to_csv()
    assert "SMITH" not in text and "JONES" not in text and "KHAN" not in text
    named = read_training_roster(p, course="D", date_format="%m/%d/%Y", keep_names=True)
    assert named.data["LAST NAME"].tolist() == ["SMITH"]
    with pytest.raises(MissingColumnsError, match="pass course="):
        read_training_roster(p)
    with pytest.raises(MappingError, match="needs a course name"):
        read_training_roster(p, mapping={"columns": {"completed": "Completion Date"}})
    assert [is_name_column(c) for c in ("Officer Name", "unit_name", "NAME")] == [True, False, True]


def test_relabel_ethnicity_required_extra_field_delimiter_and_zip(tmp_path):
    import zipfile

    body = "when;who;eth;note\n2021-01-01;o1;B;-\n2021-01-02;;W;-\n2021-01-03;o3;Q;none given\n2021-01-04;o4;;x\n"
    z = tmp_path / "batch.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("inner/part.csv", body)
    m = {"columns": {"datetime": "when", "officer_id": "who"}, "constants": {"event_type": "use_of_force"},
         "ethnicity": {"column": "eth", "scheme": "uk"}, "values": {"ethnicity": {"B": "Black", "W": "White"}},
         "required": ["datetime", "officer_id"], "delimiter": ";", "na_values": ["-"], "keep": {"remark": "note"}}
    res = read_mapped(z, mapping=m)
    assert (res.ledger.rows_read, res.ledger.rows_kept, res.ledger.rows_rejected) == (4, 3, 1)
    assert res.rejects.frame[["line", "column", "reason"]].values.tolist() == [[3, "who", "missing required field 'officer_id'"]]
    assert res.data["ethnicity"].astype(str).tolist() == ["Black", "Not stated", "Not stated"]
    assert res.data["ethnicity_raw"].tolist()[:2] == ["B", "Q"]
    assert res.ledger.unknown_by_field["ethnicity"] == 1 and res.ledger.missing_by_field["ethnicity"] == 1
    assert res.data["remark"].tolist()[0] is pd.NA and res.data["remark"].tolist()[1:] == ["none given", "x"]
    assert res.data["source_file"].astype(str).iloc[0] == f"{z}::inner/part.csv"
    assert res.data["event_id"].tolist() == ["part.csv:2", "part.csv:4", "part.csv:5"]


def test_training_only_and_events_only_keys():
    with pytest.raises(MappingError, match="'id' applies to events"):
        load_mapping({"columns": {"completed": "c"}, "constants": {"course": "x"}, "id": "ID"}, kind="training")
    with pytest.raises(MappingError, match="'ethnicity' applies to events"):
        load_mapping({"columns": {"completed": "c"}, "constants": {"course": "x"}, "ethnicity": "E"}, kind="training")
    with pytest.raises(MappingError, match="it is for kind='training'"):
        load_mapping({"kind": "training", "columns": {"datetime": "d"}, "constants": {"event_type": "stop"}})


def test_force_names_keyed_as_the_population_reader_keys_them(tmp_path):
    """Rule "Area matching" (issue 9): mapped force names become police.uk slugs (the population reader's
    keys), the source spelling is kept in force_raw, and disparity() then joins them to the population;
    district names keep their spelling and are matched through the population reader's normalisation."""
    import equity_metrics as em
    from equity_metrics.areas import normalise_area_name

    p = tmp_path / "ev.csv"
    p.write_text("Date,Force,District,Race\n"
                 "2020-01-05,Metropolitan Police,\"LONDON, CITY OF\",Black\n"
                 "2020-01-06,METROPOLITAN POLICE SERVICE,Westminster,White\n"
                 "2020-01-07,metropolitan,westminster ,Black\n"
                 "2020-02-06,Kent Police,Westminster,White\n")
    m = {"columns": {"datetime": "Date", "force": "Force", "district": "District"},
         "constants": {"event_type": "stop"}, "ethnicity": {"column": "Race", "scheme": "uk"}}
    r = em.read_mapped(p, mapping=m)
    assert r.data["force"].astype(str).tolist() == ["metropolitan", "metropolitan", "metropolitan", "kent"]
    assert r.data["force_raw"].tolist() == ["Metropolitan Police", "METROPOLITAN POLICE SERVICE", "metropolitan", "Kent Police"]
    assert isinstance(r.data["force"].dtype, pd.CategoricalDtype)
    assert r.ledger.areas_covered == ["kent", "metropolitan"]
    assert any("force_raw" in n and "'Kent Police' -> 'kent'" in n for n in r.ledger.notes)
    assert r.ledger.rows_read == r.ledger.rows_kept == 4
    # force populations keyed by slug join directly
    pop = pd.DataFrame({"area": ["metropolitan", "metropolitan", "kent", "kent"], "group": ["Black", "White"] * 2,
                        "population": [1e6, 5e6, 3e4, 1.5e6]})
    t = em.disparity(r, pop, by="force").tidy().set_index(["force", "group"])
    assert t.loc[("metropolitan", "Black"), "events"] == 2 and t.loc[("kent", "White"), "events"] == 1
    # districts: population keyed like read_population keys local authorities
    lpop = pd.DataFrame({"area": [normalise_area_name(a) for a in ["London, City of"] * 2 + ["Westminster"] * 2],
                         "group": ["Black", "White"] * 2, "population": [500.0, 5000.0, 2e4, 1.5e5]})
    d = em.disparity(r, lpop, by="district", area="district").tidy().set_index(["district", "group"])
    assert d.loc[("city of london", "Black"), "events"] == 1 and d.loc[("westminster", "Black"), "events"] == 1
    assert d.loc[("westminster", "White"), "events"] == 2
    # names already slugs are left alone (no force_raw column)
    q = tmp_path / "ok.csv"
    q.write_text("Date,Race\n2020-01-05,Black\n")
    ok = em.read_mapped(q, mapping={**m, "columns": {"datetime": "Date"}, "constants": {"event_type": "stop", "force": "kent"}})
    assert "force_raw" not in ok.data.columns
