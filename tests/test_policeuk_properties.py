"""Property tests: hostile input to the police.uk readers either loads with a balanced
ledger or raises a library error (an ``EquityMetricsError`` subclass), never anything else."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from equity_metrics.errors import EquityMetricsError
from equity_metrics.io.policeuk import POLICEUK_COLUMNS, read_policeuk
from equity_metrics.io.policeuk_api import read_policeuk_api

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(A1:A2)", "-2+3", "@SUM(1)", "=HYPERLINK(\"http://x\")", "\t=1"]
DATES = [
    "2019-03-31T23:00:00+00:00", "2020-01-01T00:00:00+00:00", "2019-04-01T08:16:10.776666+00:00", "2019-04-01",
    "2019-04-01T10:00:00", "2019-04-01T10:00:00+05:30", "", " ", "junk", "2019-13-45T99:99:99+00:00",
    "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "2019-02-29T10:00:00+00:00", "１９９９-01-01", "NaT", "nan",
]  # fmt: skip
GOOD_DATES = ["2019-03-31T23:00:00+00:00", "2020-06-01T10:00:00+00:00", "2019-04-01T08:16:10.776666+00:00", "2020-06-30T23:30:00Z"]
GOOD = {
    "Type": ["Person search", "Vehicle search", "person and vehicle search", "Boat"],
    "Gender": ["Male", "Female", "Other", "", "X"],
    "Age range": ["18-24", "over 34", "under 10", "", "40-50"],
    "Latitude": ["51.5", "-91", "", "abc", "1e400", "nan", "inf"],
    "Longitude": ["-0.1", "181", "", "0x10"],
    "Part of a policing operation": ["True", "False", "", "yes"],
    "Self-defined ethnicity": ["White - Irish", "Other ethnic group - Not stated", "", "Martian"],
    "Officer-defined ethnicity": ["White", "Black", "Asian", "", "Purple"],
    "Outcome": ["Arrest", "A no further action disposal", ""],
}

text = st.text(max_size=20)
cell = st.one_of(
    st.sampled_from(DATES),
    st.sampled_from(FORMULAS),
    text,
    st.text(alphabet=st.sampled_from(list(',"\n\r ;=+-@é\u00a0\ufeff')), max_size=6),
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
)


@st.composite
def csv_files(draw) -> tuple[str, bytes, dict]:
    """A police.uk-like CSV (bytes) that may be broken in any of many ways."""
    cols = list(POLICEUK_COLUMNS)
    mode = draw(st.sampled_from(["full"] * 12 + ["drop", "shuffle", "extra", "random"]))
    if mode == "drop":
        cols = [c for c in cols if draw(st.booleans()) or c == "Date"] if draw(st.booleans()) else cols[1:]
    elif mode == "shuffle":
        cols = draw(st.permutations(cols))
    elif mode == "extra":
        cols = cols + [draw(st.sampled_from(["Force", "Notes", "Date"]))]
    elif mode == "random":
        cols = draw(st.lists(text, max_size=5))
    nrows = draw(st.integers(0, 6))
    rows = []
    for _ in range(nrows):
        row = []
        for c in cols:
            if c in GOOD and draw(st.booleans()):
                row.append(draw(st.sampled_from(GOOD[c])))
            elif c == "Force":
                row.append(draw(st.sampled_from(["Kent", "", "Metropolitan Police", "Atlantis"])))
            elif c == "Date" and draw(st.integers(0, 4)) > 0:
                row.append(draw(st.sampled_from(GOOD_DATES if draw(st.integers(0, 3)) else DATES)))
            else:
                row.append(draw(cell))
        if draw(st.integers(0, 9)) == 0:  # ragged
            row = row[:-1] if row and draw(st.booleans()) else row + ["x"]
        rows.append(row)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    if draw(st.integers(0, 24)) != 0:  # sometimes no header at all
        w.writerow(cols)
    w.writerows(rows)
    txt = buf.getvalue()
    enc = draw(st.sampled_from(["utf-8"] * 4 + ["utf-8-sig", "latin-1", "cp1252", "utf-16", "raw"]))
    if enc == "raw":
        data = draw(st.binary(max_size=200))
    else:
        data = txt.encode(enc, errors="replace")
    name = draw(st.sampled_from(["2020-06-kent-stop-and-search.csv", "2020-07-btp-stop-and-search.csv", "searches.csv", "2019-04-atlantis-stop-and-search.csv"]))
    kw = draw(st.sampled_from([{}, {}, {"force": "kent"}, {"fallback": "officer_defined"}, {"ethnicity_field": "officer_defined"}, {"months": "2020-06"}, {"forces": ["kent", "essex"]}]))
    return name, data, kw


def _check(res) -> None:
    led = res.ledger
    assert led.rows_read == led.rows_kept + led.rows_rejected
    assert led.rows_kept == len(res.data)
    assert len(res.rejects) == led.rows_rejected
    assert res.data["event_id"].is_unique
    for raw in res.rejects.frame["raw"]:
        json.loads(raw)


@SETTINGS
@given(files=st.lists(csv_files(), min_size=1, max_size=2))
def test_csv_reader_loads_balanced_or_raises_library_error(files):
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, (name, data, _) in enumerate(files):
            p = Path(tmp) / str(i) / name
            p.parent.mkdir()
            p.write_bytes(data)
            paths.append(p)
        try:
            res = read_policeuk(paths, **files[0][2])
        except EquityMetricsError as exc:
            assert str(exc)  # a message for the user
            event(type(exc).__name__)
            return
        event(f"loaded: {'rejects' if len(res.rejects) else 'no rejects'}, {'rows' if len(res.data) else 'no rows'}")
        _check(res)
        assert (res.rejects.frame["line"].dropna() >= 2).all()
        if len(res.rejects):
            out = res.write_rejects(Path(tmp) / "rejects.csv")
            back = pd.read_csv(out, dtype=str, keep_default_na=False)
            assert not back.map(lambda v: v.startswith(("=", "+", "@"))).any().any()


json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), text, st.sampled_from(DATES + FORMULAS))
json_value = st.recursive(json_scalar, lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(text, c, max_size=3)), max_leaves=6)
API_KEYS = [
    "age_range", "outcome", "involved_person", "self_defined_ethnicity", "gender", "legislation",
    "outcome_linked_to_object_of_search", "datetime", "removal_of_more_than_outer_clothing", "outcome_object",
    "location", "operation", "officer_defined_ethnicity", "type", "operation_name", "object_of_search",
]  # fmt: skip
record = st.one_of(
    st.dictionaries(st.sampled_from(API_KEYS), json_value, max_size=len(API_KEYS)),
    st.fixed_dictionaries({"datetime": st.sampled_from(DATES), "location": json_value, "gender": json_value, "outcome": json_value}),
    json_value,
)


@SETTINGS
@given(records=st.lists(record, max_size=8), as_file=st.sampled_from(["memory", "json", "bytes"]), junk=st.binary(max_size=60))
def test_api_reader_loads_balanced_or_raises_library_error(records, as_file, junk):
    try:
        if as_file == "memory":
            res = read_policeuk_api(records, force="kent")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                p = Path(tmp) / "r.json"
                p.write_bytes(json.dumps(records).encode() if as_file == "json" else junk)
                res = read_policeuk_api(p, force="kent")
    except EquityMetricsError as exc:
        assert str(exc)
        event(type(exc).__name__)
        return
    event(f"loaded: {'rejects' if len(res.rejects) else 'no rejects'}, {'rows' if len(res.data) else 'no rows'}")
    _check(res)
    assert res.ledger.rows_read == (len(records) if as_file != "bytes" else res.ledger.rows_read)
