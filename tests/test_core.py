"""Tests of the core pieces every reader uses: errors, options, ethnicity, areas, ledger, CSV parsing."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics._options import check_option
from equity_metrics._security import defuse_cell, defuse_frame, safe_to_csv
from equity_metrics.areas import FORCES, force_name, normalise_area_name, normalise_force, normalise_forces
from equity_metrics.errors import EmptyFileError, EncodingError, FileFormatError, MissingColumnsError, OptionError
from equity_metrics.ethnicity import classify_label, harmonise_ethnicity
from equity_metrics.io._sources import decode_bytes, iter_files, parse_csv_text
from equity_metrics.ledger import FileRecord, Ledger, ReadResult, Rejects
from equity_metrics.schema import columns_of, conform, describe


# ----------------------------------------------------------------------------- options
def test_check_option_suggests_closest():
    assert check_option("method", "katz", Literal["katz", "exact"]) == "katz"
    with pytest.raises(OptionError, match="Did you mean 'katz'"):
        check_option("method", "kats", Literal["katz", "exact"])


# ----------------------------------------------------------------------------- ethnicity
@pytest.mark.parametrize(
    "label, broad, detailed",
    [
        ("White - English/Welsh/Scottish/Northern Irish/British", "White", "White: British"),
        ("White: English, Welsh, Scottish, Northern Irish or British", "White", "White: British"),
        ("White - Irish", "White", "White: Irish"),
        ("Black/African/Caribbean/Black British - Any other Black/African/Caribbean background", "Black", "Black: Other"),
        ("Black, Black British, Black Welsh, Caribbean or African: Caribbean", "Black", "Black: Caribbean"),
        ("Mixed/Multiple ethnic groups - White and Black Caribbean", "Mixed", "Mixed: White and Black Caribbean"),
        ("Mixed White and Black African", "Mixed", "Mixed: White and Black African"),
        ("Asian/Asian British - Chinese", "Asian", "Asian: Chinese"),
        ("Other ethnic group - Arab", "Other", "Other: Arab"),
        ("Other ethnic group - Not stated", "Not stated", "Not stated"),
        ("Unreported", "Not stated", "Not stated"),
        ("Black (or Black British)", "Black", "Black"),
        ("White: Roma", "White", "White: Roma"),
        ("Any other ethnic group", "Other", "Other: Any other"),
        ("", "Not stated", "Not stated"),
    ],
)
def test_uk_labels(label, broad, detailed):
    b, d, ok = classify_label(label)
    assert (b, d, ok) == (broad, detailed, True)


def test_chinese_choice_and_us_scheme():
    assert classify_label("Chinese", chinese_as="Other")[0] == "Other"
    assert classify_label("Chinese")[0] == "Asian"
    assert classify_label("WHITE HISPANIC", scheme="us")[0] == "Hispanic"
    assert classify_label("asian/pacific islander", scheme="us")[0] == "Asian/Pacific Islander"
    assert classify_label("klingon")[2] is False


def test_harmonise_vectorised_and_aligned():
    s = pd.Series(["White - Irish", None, "Black", "nonsense", ""], index=[10, 11, 12, 13, 14])
    h = harmonise_ethnicity(s)
    assert list(h.index) == [10, 11, 12, 13, 14]
    assert h["group"].tolist() == ["White", "Not stated", "Black", "Not stated", "Not stated"]
    assert h["blank"].tolist() == [False, True, False, False, True]
    assert h["recognised"].tolist() == [True, True, True, False, True]


# ----------------------------------------------------------------------------- areas
@pytest.mark.parametrize(
    "name, slug",
    [
        ("Metropolitan Police", "metropolitan"),
        ("Metropolitan", "metropolitan"),
        ("metropolitan", "metropolitan"),
        ("London, City of", "city-of-london"),
        ("City of London", "city-of-london"),
        ("Avon & Somerset", "avon-and-somerset"),
        ("Devon & Cornwall", "devon-and-cornwall"),
        ("Dyfed-Powys", "dyfed-powys"),
        ("British Transport Police", "btp"),
        ("Total England and Wales", "england-and-wales"),
        ("  West Yorkshire Police ", "west-yorkshire"),
        ("Kent Constabulary", "kent"),
    ],
)
def test_force_names(name, slug):
    assert normalise_force(name) == slug


def test_force_helpers():
    assert force_name("metropolitan") == "Metropolitan Police"
    assert normalise_forces(pd.Series(["Kent", None])).tolist() == ["kent", ""]
    assert normalise_area_name("London, City of") == normalise_area_name("City of London")
    assert len([k for k in FORCES if not k.startswith("england")]) == 44


# ----------------------------------------------------------------------------- ledger
def test_ledger_balance_and_combine():
    a = Ledger("x", files=[FileRecord("a.csv", 10, 9, 1)], rejected_by_reason={"bad date": 1})
    b = Ledger("x", files=[FileRecord("b.csv", 5, 5, 0)], duplicates=2, months_missing=[("kent", "2020-01")])
    c = Ledger.combine([a, b])
    assert (c.rows_read, c.rows_kept, c.rows_rejected, c.duplicates) == (15, 14, 1, 2)
    assert c.balanced
    assert "missing, not zero" in c.summary()
    broken = Ledger("x", files=[FileRecord("a.csv", 10, 9, 0)])
    with pytest.raises(em.EquityMetricsError, match="does not balance"):
        broken.check()
    with pytest.raises(em.EquityMetricsError, match="does not balance"):
        ReadResult(pd.DataFrame({"a": range(9)}), broken, Rejects())


def test_ledger_serialises_deterministically(tmp_path):
    led = Ledger("x", files=[FileRecord("a.csv", 1, 1, 0)], choices={"b": 1, "a": 2})
    assert led.to_json() == led.to_json()
    assert list(led.to_dict()["choices"]) == ["a", "b"]
    assert set(led.to_frame().columns) == {"section", "item", "value"}


def test_rejects_written_without_formulas(tmp_path):
    rej = Rejects(pd.DataFrame({"file": ["f"], "line": [3], "row": [2], "column": ["Date"], "value": ["=1+1"], "reason": ["bad"], "raw": ['{"Date": "=1+1"}']}))
    out = rej.to_csv(tmp_path / "r.csv")
    text = out.read_text()
    assert "'=1+1" in text and ",=1+1" not in text


# ----------------------------------------------------------------------------- security
def test_defuse(tmp_path):
    assert defuse_cell("@SUM(A1)") == "'@SUM(A1)"
    assert defuse_cell("-2") == "'-2"
    assert defuse_cell(-2) == -2
    df = defuse_frame(pd.DataFrame({"a": ["+x", "ok"], "n": [1, 2]}))
    assert df["a"].tolist() == ["'+x", "ok"] and df["n"].tolist() == [1, 2]
    p = safe_to_csv(pd.DataFrame({"=x": ["=y"]}), tmp_path / "x.csv")
    assert p.read_text().splitlines() == ["'=x", "'=y"]


# ----------------------------------------------------------------------------- parsing
def test_parse_fast_and_slow_paths_agree_on_lines():
    fast = parse_csv_text(b"a,b\n1,2\n3,4\n", "f.csv")
    assert fast.lines.tolist() == [2, 3] and fast.rows_read == 2
    slow = parse_csv_text(b'a,b\n"x\ny",2\n3,4,5\n\n6,7\n', "s.csv")
    assert slow.frame["a"].tolist() == ["x\ny", "6"]
    assert slow.lines.tolist() == [2, 6]
    assert slow.bad[0]["line"] == 4 and "expected 2, found 3" in slow.bad[0]["reason"]
    assert slow.rows_read == 3


def test_parse_bom_latin1_and_errors():
    p = parse_csv_text(b"\xef\xbb\xbfa , b\r\n1,2\r\n", "bom.csv")
    assert list(p.frame.columns) == ["a", "b"]
    p = parse_csv_text("a,b\ncaf\u00e9,1\n".encode("cp1252"), "l1.csv")
    assert p.frame["a"][0] == "café" and p.encoding == "cp1252" and "decoded as cp1252" in p.notes[0]
    with pytest.raises(EncodingError, match="line 2"):
        parse_csv_text("a,b\ncaf\u00e9,1\n".encode("cp1252"), "l1.csv", encoding="utf-8")
    with pytest.raises(EmptyFileError):
        parse_csv_text(b"", "e.csv")
    with pytest.raises(EmptyFileError):
        parse_csv_text(b"\n\n  \n", "e.csv")
    with pytest.raises(FileFormatError, match="zip container"):
        parse_csv_text(b"PK\x03\x04rest", "x.csv")
    with pytest.raises(MissingColumnsError) as ei:
        parse_csv_text(b"Dat,Type\n", "m.csv", required=["Date", "Type"])
    assert ei.value.suggestions["Date"] == ["Dat"]
    assert "m.csv" in str(ei.value)
    hdr = parse_csv_text(b"a,b\n", "h.csv")
    assert len(hdr.frame) == 0 and hdr.rows_read == 0


def test_iter_files_folder_zip_glob(tmp_path):
    import zipfile

    (tmp_path / "d" / "2020-01").mkdir(parents=True)
    (tmp_path / "d" / "2020-01" / "x.csv").write_text("a\n1\n")
    (tmp_path / "d" / "y.csv").write_text("a\n2\n")
    (tmp_path / "d" / "z.txt").write_text("no")
    names = [n for n, _ in iter_files(tmp_path / "d")]
    assert [n.split("/")[-1] for n in names] == ["x.csv", "y.csv"]
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("2020-01/x.csv", "a\n1\n")
    got = list(iter_files(tmp_path / "a.zip"))
    assert got[0][0].endswith("a.zip::2020-01/x.csv") and got[0][1] == b"a\n1\n"
    assert len(list(iter_files(str(tmp_path / "d" / "*.csv")))) == 1
    with pytest.raises(em.ReadError, match="not found"):
        list(iter_files(tmp_path / "nope.csv"))
    with pytest.raises(em.ReadError, match="no files match"):
        list(iter_files(str(tmp_path / "*.parquet")))


# ----------------------------------------------------------------------------- schema
def test_conform_orders_and_requires():
    t = conform(pd.DataFrame({"area": ["kent"], "area_type": ["force"], "group": ["Black"], "population": [1.0], "source": ["x"], "vintage": ["v"], "extra": [1]}), "population")
    assert list(t.columns)[: len(columns_of("population"))] == columns_of("population")
    assert t.columns[-1] == "extra"
    with pytest.raises(em.DataValidationError, match="needs column"):
        conform(pd.DataFrame({"area": ["kent"]}), "population")
    assert set(describe("events").columns) == {"column", "dtype", "required", "description"}


def test_data_model_doc_lists_every_column():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "data-model.md").read_text()
    for kind in ("events", "population", "training", "counts"):
        for col in columns_of(kind):
            assert f"`{col}`" in doc, f"docs/data-model.md does not describe {kind}.{col}"
