"""Issue 10, foreign exceptions in the mapped and population readers: each case raised a pandas,
codecs or Python error (or read silently wrong) and now raises the library's own error."""

from __future__ import annotations

import pandas as pd
import pytest

from equity_metrics.errors import EmptyFileError, FileFormatError, MappingError, OptionError, ReadError
from equity_metrics.io.mapped import read_mapped
from equity_metrics.io.population import read_population

M = {"columns": {"datetime": "Date"}, "constants": {"event_type": "stop"}, "ethnicity": {"column": "Race", "scheme": "us"}}


@pytest.fixture()
def csv(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("Date,Race\n2020-01-01,Black\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("kw, msg", [({"header_row": "3"}, "header_row='3'"), ({"header_row": 0}, "header_row=0"),
                                     ({"encoding": 5}, "encoding=5"), ({"sheet": [1]}, "sheet=[1]")])
def test_read_options_of_the_wrong_type(csv, kw, msg):
    with pytest.raises(OptionError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        read_mapped(csv, mapping=M, **kw)


@pytest.mark.parametrize("extra, msg", [
    ({"constants": {"event_type": "stop", "arrest": "maybe"}}, "constants.arrest='maybe' must be true or false"),
    ({"constants": {"event_type": "stop", "age": "old"}}, "constants.age='old' must be a number"),
    ({"keep": [5]}, "keep must list source column names"),
    ({"ethnicity": {"column": "Race", "scheme": "us", "hispanic_column": "Race", "hispanic_values": 5}},
     "hispanic_values must be a list"),
    ({"dates": {"datetime": {"time_optional": "no"}}}, "time_optional must be true or false"),
    ({"id": "Race", "id_prefix": [1]}, "id_prefix must be text"),
    ({"source": ["x"]}, "source must be text"),
    ({"sheet": 1.5}, "sheet must be a sheet name"),
    ({"dates": {"datetime": "%Q"}}, "dates.datetime.format = '%Q'"),
])
def test_mapping_values_of_the_wrong_type(csv, extra, msg):
    with pytest.raises(MappingError, match=msg.replace("[", r"\[")):
        read_mapped(csv, mapping={**M, **extra})


def test_constant_yes_no_words_become_booleans(csv):
    res = read_mapped(csv, mapping={**M, "constants": {"event_type": "stop", "arrest": "Yes"}})
    assert res.data["arrest"].tolist() == [True]


def test_header_row_past_the_end_says_so(csv):
    with pytest.raises(EmptyFileError, match="no header row at row 9: the file has 2 line"):
        read_mapped(csv, mapping=M, header_row=9)


def test_duplicate_mapped_column_is_refused_and_other_duplicates_noted(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("Date,Date,Race\n2020-01-01,2020-02-01,Black\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"mapped column\(s\) \['Date'\] appear more than once"):
        read_mapped(p, mapping=M)
    q = tmp_path / "e.csv"
    q.write_text("Date,Race,X,X\n2020-01-01,Black,1,2\n", encoding="utf-8")
    res = read_mapped(q, mapping=M)
    assert res.ledger.rows_kept == 1 and any("duplicate column name 'X'" in n for n in res.ledger.notes)


def test_no_empty_unmapped_note_when_every_unknown_row_is_rejected(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("Date,Race\nx,Martian\n2020-01-01,Black\n", encoding="utf-8")
    res = read_mapped(p, mapping={**M, "required": ["datetime", "ethnicity"]})
    assert not any("0 distinct value(s)" in n for n in res.ledger.notes)


@pytest.mark.parametrize("body", [b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n", b"\n\n\n"])
def test_empty_and_bom_only_files(tmp_path, body):
    p = tmp_path / "census2021_x.csv"
    p.write_bytes(body)
    with pytest.raises(EmptyFileError):
        read_mapped(p, mapping=M)
    with pytest.raises(EmptyFileError):
        read_population(p)


def test_population_duplicate_group_columns_refused(tmp_path):
    p = tmp_path / "census2021_dup.csv"
    p.write_bytes(b"LAD,White,White,Black\nHartlepool,1,2,3\n")  # used to sum White + White.1 = 3
    with pytest.raises(FileFormatError, match="count people twice"):
        read_population(p)


def test_population_lookup_dataframe_with_duplicate_columns(tmp_path):
    p = tmp_path / "census2021_la.csv"
    p.write_bytes(b"LAD,LAD_code,White\nHartlepool,E06000001,1\n")
    lk = pd.DataFrame([["Hartlepool", "Cleveland", "Cleveland"]], columns=["LAD16NM", "PFA16NM", "PFA16NM"])
    with pytest.raises(ReadError, match=r"duplicate column name\(s\) \['PFA16NM'\]"):  # was numpy's ValueError
        read_population(p, to="force", lookup=lk)


def test_excel_merged_title_rows_detected(tmp_path):
    """A merged title row (one value) above the header used to become the header: 'missing column Date, found Title'."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Stops by date"
    ws.merge_cells("A1:C1")
    ws.append([])
    ws.append(["Date", "Race", "X"])
    ws.append([dt.datetime(2020, 1, 1), "Black", 1])
    p = tmp_path / "merged.xlsx"
    wb.save(p)
    res = read_mapped(p, mapping=M)
    assert res.ledger.rows_kept == 1 and res.data["source_line"].tolist() == [4]
    assert any("title rows above the header detected" in n for n in res.ledger.notes)
    assert read_mapped(p, mapping=M, header_row=3).ledger.rows_kept == 1


def test_parquet_nested_and_binary_columns_as_json_text(tmp_path):
    """List/struct/map cells used to become numpy reprs ("{'a': array([...], dtype=object)}")."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.table({"Date": ["2020-01-01"], "Race": ["Black"], "deep": pa.array([{"a": [{"b": 1}]}]),
                  "tags": pa.array([[1, 2]]), "raw": pa.array([b"ab"], pa.binary(2)),
                  "m": pa.array([[("k", 1)]], type=pa.map_(pa.string(), pa.int64()))})
    p = tmp_path / "n.parquet"
    pq.write_table(t, p)
    res = read_mapped(p, mapping={**M, "keep": ["deep", "tags", "raw", "m"]})
    assert res.data[["deep", "tags", "raw", "m"]].values.tolist() == [['{"a": [{"b": 1}]}', "[1, 2]", "ab", '[["k", 1]]']]


def test_population_and_opp_options_of_the_wrong_type(tmp_path):
    from equity_metrics.io.opp import read_opp

    p = tmp_path / "census2021_la.csv"
    p.write_text("LAD,LAD_code,White,Black\nHartlepool,E06000001,1,2\n", encoding="utf-8")
    with pytest.raises(OptionError, match="encoding=5"):  # was codecs' TypeError
        read_population(p, encoding=5)
    with pytest.raises(OptionError, match="source=5"):
        read_population(p, source=5)
    o = tmp_path / "opp.csv"
    o.write_text("raw_row_number,date,time,subject_race\n1,2017-03-01,14:05:00,black\n", encoding="utf-8")
    with pytest.raises(OptionError, match="encoding=5"):
        read_opp(o, encoding=5)
    with pytest.raises(OptionError, match="hispanic_values='yes'"):  # was read as the letters y, e, s
        read_opp(o, hispanic_values="yes")
    with pytest.raises(OptionError, match="tz=5"):
        read_opp(o, tz=5)


@pytest.mark.parametrize("delim", ["\n", '"', ",,"])
def test_delimiter_that_cannot_split_a_csv_is_refused(csv, delim):
    with pytest.raises(MappingError, match="delimiter must be one character other than a quote or a line break"):
        read_mapped(csv, mapping={**M, "delimiter": delim})
