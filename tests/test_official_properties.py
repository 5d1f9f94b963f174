"""Property tests: hostile input to the aggregated-table and census readers.

Whatever the bytes (missing columns, junk numbers, BOMs, Latin-1, quoted
newlines, ragged rows, empty or header-only files), each reader either returns a
balanced ledger (rows read == kept + rejected, one reject per rejected row) or
raises an :class:`~equity_metrics.errors.EquityMetricsError` subclass: never
another exception.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equity_metrics.errors import EquityMetricsError
from equity_metrics.io._numbers import parse_counts
from equity_metrics.io.official import read_govuk_stop_search, read_homeoffice_use_of_force
from equity_metrics.io.population import read_population

GOV_COLS = ["Measure", "Time", "Time_type", "Ethnicity", "Ethnicity_type", "Geography", "Geography_type",
            " Number of stop and searches ", "Population by ethnicity", "Rate per 1,000 population by ethnicity",
            "Proportion of total stop and searches of this ethnicity in the financial year (excludes unreported)", "Notes"]
UOF_COLS = ["Police Force", "Type of force", "Tactic", "White", "Black (or Black British)", "Chinese", "Don't know",
            "Number of times tactic reported"]
POP_COLS = ["PFA16NM", "Ethnic Group: All categories: Ethnic group; measures: Value", "Ethnic Group: White; measures: Value",
            "Ethnic Group: White: Irish; measures: Value", "Ethnic Group: Black/African/Caribbean/Black British: African; measures: Value",
            "Ethnic Group: Asian/Asian British: Chinese; measures: Value"]
POP21_COLS = ["Geography Code", "Geography Name", "Sex", "Asian, Asian British or Asian Welsh: Chinese", "White: Roma",
              "Other ethnic group: Arab"]
POP21_AGE_COLS = ["Geography Code", "Geography Name", "Age", "Mixed or Multiple ethnic groups: White and Asian", "White: Irish"]
POP_LONG_COLS = ["area", "Sex", "group", "population"]

NUMBERS = st.sampled_from([" 365,068 ", "1,599,555", " -   ", "N/A", "..", "x", "*", "c", "", "0%", "9.39",
                           "447337.0", "-7", "\u22123", "1e999", "1,2,3", "abc", "NaN", "inf", "  ", "12 345", "5.", ".5"])
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
LABELS = st.sampled_from(["Kent", "Metropolitan Police", "London, City of", "All - excluding BTP", "Total England and Wales",
                          "E09000001", "K04000001", "E12000001", "W06000001", "Female", "Male", "All", "Chinese", "Unreported",
                          "White", "2017/18", "20x7/18", "*Total Tactics", "Handcuffing, of which", "Compliant handcuffing",
                          "Financial year", "ONS 2001 5+1", "ONS 2001 16+1", "Police Force Area", "line\nbreak", '"quoted"', ""])
CELL = st.one_of(NUMBERS, LABELS, TEXT)

# EM_HYPOTHESIS_EXAMPLES=500 for a longer hunt; 30 keeps the suite fast
SETTINGS = settings(max_examples=int(os.environ.get("EM_HYPOTHESIS_EXAMPLES", "30")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def csv_bytes(draw, columns: list[str]) -> bytes:
    cols = list(columns)
    if draw(st.booleans()):  # drop or rename a column
        i = draw(st.integers(0, len(cols) - 1))
        if draw(st.booleans()):
            del cols[i]
        else:
            cols[i] = cols[i].upper() + " "
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([b"", b"\n\n", b"\xef\xbb\xbf", b"   \n"]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    w.writerow(cols)
    for _ in range(draw(st.integers(0, 6))):
        n = len(cols) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        w.writerow(draw(st.lists(CELL, min_size=max(n, 0), max_size=max(n, 0))))
        if draw(st.integers(0, 5)) == 0:
            buf.write(draw(st.sampled_from(["\n", "junk without commas\n", ',,,\n', '"unterminated,1\n'])))
    text = buf.getvalue()
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252"]))
    try:
        return text.encode(enc)
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace")


def _check(reader, data: bytes, name: str, **kw) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        try:
            r = reader(p, **kw)
        except EquityMetricsError:
            return
        led = r.ledger
        assert led.balanced
        assert led.rows_read == led.rows_kept + led.rows_rejected
        assert len(r.rejects) == led.rows_rejected == sum(led.rejected_by_reason.values())
        assert set(r.rejects.frame.columns) >= {"file", "line", "reason", "raw"}


@SETTINGS
@given(csv_bytes(GOV_COLS))
def test_govuk_hostile_input(data):
    _check(read_govuk_stop_search, data, "govuk.csv")


@SETTINGS
@given(csv_bytes(GOV_COLS), st.sampled_from(["auto", "Asian", "Other"]))
def test_govuk_hostile_input_rows_kept(data, chinese):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "govuk.csv"
        p.write_bytes(data)
        try:
            r = read_govuk_stop_search(p, chinese_as=chinese)
        except EquityMetricsError:
            return
        assert len(r.data) == r.ledger.rows_kept  # one output row per kept input row


@SETTINGS
@given(csv_bytes(UOF_COLS))
def test_use_of_force_hostile_input(data):
    _check(read_homeoffice_use_of_force, data, "use_of_force_2018-19.csv")


@SETTINGS
@given(csv_bytes(POP_COLS), st.sampled_from(["broad", "detailed", "all"]))
def test_population_2011_hostile_input(data, level):
    _check(read_population, data, "census2011_pfa.csv", level=level)


@SETTINGS
@given(st.one_of(csv_bytes(POP21_COLS), csv_bytes(POP21_AGE_COLS), csv_bytes(POP_LONG_COLS)),
       st.sampled_from([None, "policeuk"]), st.sampled_from(["source", "force"]))
def test_population_2021_hostile_input(data, bands, to):
    lookup = None
    if to == "force":
        lookup = __import__("pandas").DataFrame({"LAD16CD": ["E09000001", "W06000001"], "LAD16NM": ["City of London", "Anglesey"],
                                                 "PFA16NM": ["London, City of", "North Wales"]})
    _check(read_population, data, "census2021_la.csv", age_bands=bands, to=to, lookup=lookup, area_type="local_authority")


@SETTINGS
@given(st.lists(st.one_of(NUMBERS, TEXT), max_size=30))
def test_parse_counts_never_raises_and_flags_every_nan(values):
    import pandas as pd

    v, f = parse_counts(pd.Series(values, dtype=object))
    assert len(v) == len(f) == len(values)
    assert (v.isna() == f.notna()).all()  # a value is missing exactly when it carries a flag


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n\n", b"\x00\x01\x02", b"PK\x03\x04zip"])
def test_readers_reject_empty_and_binary(data):
    for reader, name in ((read_govuk_stop_search, "g.csv"), (read_homeoffice_use_of_force, "u_2018-19.csv"),
                         (read_population, "census2011_p.csv")):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / name
            p.write_bytes(data)
            with pytest.raises(EquityMetricsError):
                reader(p)


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 10**6), min_size=4, max_size=4), min_size=1, max_size=8),
       st.sampled_from(["broad", "detailed"]))
def test_population_conserves_people(matrix, level):
    """Clean input: whatever the level, the people in the output are exactly the people in the file."""
    cols = ["Black, Black British, Black Welsh, Caribbean or African: African", "White: Irish", "White: Roma",
            "Asian, Asian British or Asian Welsh: Chinese"]
    lines = ["Geography Code,Geography Name," + ",".join(f'"{c}"' for c in cols)]
    lines += [f"E0600{i:04d},Area {i}," + ",".join(map(str, row)) for i, row in enumerate(matrix)]
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "census2021_x.csv"
        p.write_text("\n".join(lines) + "\n")
        r = read_population(p, level=level)
    assert r.data["population"].sum() == sum(map(sum, matrix))
    assert len(r.data) == len(matrix) * (3 if level == "broad" else 4)  # broad: Asian, Black, White
