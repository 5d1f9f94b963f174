"""equity_metrics.export.write_table: CSV / Parquet / XLSX, formula defusing, byte-identical output."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from equity_metrics.errors import OptionError
from equity_metrics.export import FIXED_DATETIME, write_table

EVIL = '=HYPERLINK("http://x","y")'


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district": [EVIL, "Coldbeck", "@SUM(A1)", None],
            "events": np.array([12, 3, -4, 0], dtype=np.int64),
            "rate": [1.5, np.nan, -0.25, np.inf],
            "period": pd.PeriodIndex(["2020-01", "2020-02", "2020-03", "2020-04"], freq="M"),
            "flag": [True, False, True, False],
            "=cmd": ["-1", "+x", "ok", "|pipe"],
        }
    )


def test_csv_defuses_text_not_numbers(tmp_path):
    p = write_table(_frame(), tmp_path / "t.csv")
    back = pd.read_csv(p, dtype=str, keep_default_na=False)
    assert list(back.columns)[-1] == "'=cmd"
    assert back["district"].tolist() == ["'" + EVIL, "Coldbeck", "'@SUM(A1)", ""]
    assert back["events"].tolist() == ["12", "3", "-4", "0"]  # numbers stay numbers, minus sign kept
    assert back["'=cmd"].tolist() == ["'-1", "'+x", "ok", "'|pipe"]
    assert b"\r\n" not in p.read_bytes()


def test_xlsx_cells_are_strings_not_formulas(tmp_path):
    from openpyxl import load_workbook

    p = write_table(_frame(), tmp_path / "t.xlsx")
    ws = load_workbook(p).active
    assert ws.title == "table"
    header = [c.value for c in ws[1]]
    assert header[-1] == "'=cmd"
    evil = ws.cell(row=2, column=1)
    assert evil.data_type != "f" and evil.data_type == "s"
    assert evil.value.startswith("'") and evil.value == "'" + EVIL
    assert ws.cell(row=4, column=1).value == "'@SUM(A1)"
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    # numbers are numbers, missing is empty, infinity is text, periods are text, booleans stay booleans
    assert ws.cell(row=4, column=2).value == -4 and ws.cell(row=4, column=2).data_type == "n"
    assert ws.cell(row=3, column=3).value is None
    assert ws.cell(row=5, column=3).value == "inf"
    assert ws.cell(row=2, column=4).value == "2020-01"
    assert ws.cell(row=2, column=5).value is True
    assert ws.cell(row=5, column=1).value is None


def test_xlsx_round_trip_values(tmp_path):
    df = pd.DataFrame({"force": ["kent", "essex"], "ratio": [1.2345678901234567, 0.1], "n": [5, 7]})
    p = write_table(df, tmp_path / "r.xlsx")
    back = pd.read_excel(p)
    pd.testing.assert_frame_equal(back, df)


def test_xlsx_is_byte_identical_with_fixed_dates(tmp_path):
    a = write_table(_frame(), tmp_path / "a.xlsx").read_bytes()
    b = write_table(_frame(), tmp_path / "b.xlsx").read_bytes()
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    stamp = FIXED_DATETIME.strftime("%Y-%m-%dT%H:%M:%S")
    assert core.count(stamp) == 2  # created and modified


def test_csv_and_parquet_are_deterministic(tmp_path):
    for ext in ("csv", "parquet"):
        a = write_table(_frame(), tmp_path / f"a.{ext}").read_bytes()
        b = write_table(_frame(), tmp_path / f"b.{ext}").read_bytes()
        assert a == b, ext


def test_parquet_keeps_values_raw(tmp_path):
    df = _frame()
    p = write_table(df, tmp_path / "t.parquet")
    back = pd.read_parquet(p)
    assert back["district"].tolist()[:3] == [EVIL, "Coldbeck", "@SUM(A1)"]
    assert list(back.columns) == list(df.columns)  # "=cmd" not defused either
    assert back["events"].tolist() == [12, 3, -4, 0]
    assert back["period"].astype(str).tolist() == ["2020-01", "2020-02", "2020-03", "2020-04"]


def test_parquet_mixed_object_column_becomes_text(tmp_path):
    df = pd.DataFrame({"level": pd.Series(["overall", 1, 2], dtype=object), "estimate": [0.5, 0.1, 0.2]})
    back = pd.read_parquet(write_table(df, tmp_path / "agg.parquet"))
    assert back["level"].tolist() == ["overall", "1", "2"]
    assert back["estimate"].tolist() == [0.5, 0.1, 0.2]


def test_format_from_suffix_or_option(tmp_path):
    p = write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.dat", format="csv")
    assert p.read_text() == "a\n1\n"
    with pytest.raises(OptionError, match="suffix"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.dat")
    with pytest.raises(OptionError, match="Did you mean 'xlsx'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.xlsx", format="xslx")
    with pytest.raises(OptionError, match="DataFrame"):
        write_table([1, 2], tmp_path / "x.csv")


def test_negative_numbers_stay_numbers_text_is_still_defused(tmp_path):
    """Rule "CSV export": defusing applies to text only. Numbers (int/float columns, and int/float cells of
    a mixed object column such as a report table with "[c]" cells) keep their minus sign; text that a
    spreadsheet would run, including text that looks like a negative number, gets the quote."""
    from equity_metrics._security import defuse_cell, defuse_frame, safe_to_csv

    df = pd.DataFrame({
        "diff": [-0.0724, 0.5, -3.0, np.nan],
        "n": np.array([-1, 2, 0, -40], dtype=np.int64),
        "nullable": pd.array([-1.5, None, 2.0, -0.25], dtype="Float64"),
        "mixed": pd.Series([-0.0724, "[c]", -12, ""], dtype=object),
        "text": pd.Series(["-0.5", "=cmd|' /C calc'!A0", "+1", "-1+2"], dtype="string"),
        "more": ["@x", "ok", "-", "a-b"],
    })
    out = defuse_frame(df)
    assert out["diff"].tolist()[:3] == [-0.0724, 0.5, -3.0] and out["n"].tolist() == [-1, 2, 0, -40]
    assert out["mixed"].tolist()[:3] == [-0.0724, "[c]", -12]
    assert out["text"].tolist() == ["'-0.5", "'=cmd|' /C calc'!A0", "'+1", "'-1+2"]
    assert out["more"].tolist() == ["'@x", "ok", "'-", "a-b"]
    assert defuse_cell(-0.0724) == -0.0724 and defuse_cell(np.float64(-2.5)) == -2.5 and defuse_cell(np.int64(-3)) == -3
    p = safe_to_csv(df, tmp_path / "o.csv")
    back = pd.read_csv(p, dtype=str, keep_default_na=False)
    assert back["diff"].tolist() == ["-0.0724", "0.5", "-3.0", ""]
    assert back["n"].tolist() == ["-1", "2", "0", "-40"]
    assert back["nullable"].tolist() == ["-1.5", "", "2.0", "-0.25"]
    assert back["mixed"].tolist() == ["-0.0724", "[c]", "-12", ""]
    assert back["text"].tolist()[0] == "'-0.5"
    num = pd.read_csv(p)
    assert num["diff"].dtype.kind == "f" and num["n"].dtype.kind == "i"
    # XLSX: the negative numbers are numeric cells
    from openpyxl import load_workbook

    ws = load_workbook(write_table(df, tmp_path / "o.xlsx")).active
    assert ws.cell(row=2, column=1).value == -0.0724 and ws.cell(row=2, column=1).data_type == "n"
    assert ws.cell(row=2, column=4).value == -0.0724 and ws.cell(row=2, column=4).data_type == "n"
    assert ws.cell(row=2, column=5).value == "'-0.5"


def test_report_csv_tables_keep_negative_numbers_numeric(tmp_path):
    """The report's outcomes.csv showed '-0.0724 (issue 9): its CSV tables now hold numbers as numbers."""
    from equity_metrics._security import safe_to_csv
    from equity_metrics.report.tables import _csv

    t = pd.DataFrame({"group": ["Black", "White"], "difference_from_reference": [-0.07241, 0.0],
                      "searches": [40, 2], "suppressed": [False, True]})
    out = _csv(t, ["group", "difference_from_reference", "searches"], ["searches"], [])
    text = safe_to_csv(out, tmp_path / "o.csv").read_text()
    assert "'-0.0724" not in text and "-0.0724" in text and "[c]" in text
