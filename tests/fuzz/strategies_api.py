"""Mutations of police.uk API records (JSON) for the fuzz campaign."""

from __future__ import annotations

import copy
import json

from hypothesis import strategies as st

from .mutate import FORMULAS, HUGE, ODD_CELLS, ODD_DATES, Case
from .seeds import API_RECORDS

DEEP = "__deep__"
KEYS = sorted(API_RECORDS[0])
odd_value = st.one_of(
    st.sampled_from(ODD_DATES + FORMULAS + ODD_CELLS),
    st.sampled_from([None, True, False, 0, 1.0, 0.0, -1, 2**70, [], {}, [1, 2], {"name": None}, {"latitude": "91"}]),
    st.just("x" * HUGE),
    st.just(DEEP),
    st.text(max_size=8),
)


@st.composite
def api_records(draw) -> list:
    records = [copy.deepcopy(r) for r in draw(st.lists(st.sampled_from(API_RECORDS), max_size=5))]
    for _ in range(draw(st.integers(0, 4))):
        if not records:
            break
        j = draw(st.integers(0, len(records) - 1))
        op = draw(st.sampled_from(["set", "set", "date", "drop", "add", "replace"]))
        rec = records[j]
        if not isinstance(rec, dict):
            continue
        if op == "replace":
            records[j] = draw(st.sampled_from([None, 1, "not an object", [], [API_RECORDS[0]], DEEP]))
        elif op == "drop":
            rec.pop(draw(st.sampled_from(KEYS)), None)
        elif op == "add":
            rec[draw(st.sampled_from(["extra", "", "=1", "datetime ", "force"]))] = draw(odd_value)
        elif op == "date":
            rec["datetime"] = draw(st.sampled_from(ODD_DATES + [None, 20200301, "2021-05-01"]))
        else:
            rec[draw(st.sampled_from(KEYS))] = draw(odd_value)
    return records


@st.composite
def api_cases(draw) -> tuple[list, Case]:
    """The records (for the in-memory call) and a JSON file made of them, perhaps damaged."""
    records = draw(api_records())
    depth = draw(st.sampled_from([3, 100, 2_000, 100_000]))
    text = json.dumps(records, ensure_ascii=False, allow_nan=True).replace(json.dumps(DEEP), "[" * depth + "]" * depth)
    steps = [f"deep={depth}"] if DEEP in json.dumps(records) else []
    expected: int | None = len(records)
    top = draw(st.sampled_from(["list"] * 8 + ["object", "scalar", "lines", "empty"]))
    if top == "object":
        text = json.dumps({"records": "x"})  # not a list of records
        expected = None
    elif top == "scalar":
        text = draw(st.sampled_from(["null", "1", '"text"', "true"]))
        expected = None
    elif top == "lines":
        text = "\n".join(json.dumps(r) for r in records if not isinstance(r, str)) + "\n"
        expected = None
    elif top == "empty":
        text = draw(st.sampled_from(["", "   ", "\n"]))
        expected = None
    steps.append(top)
    enc = draw(st.sampled_from(["utf-8"] * 5 + ["utf-8-sig", "utf-16", "utf-16-le+bom", "cp1252", "latin-1", "bom-on-utf-8"]))
    if enc == "utf-16-le+bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    elif enc == "utf-8-sig":
        data = b"\xef\xbb\xbf" + text.encode("utf-8")
    elif enc == "bom-on-utf-8":
        data = b"\xff\xfe" + text.encode("utf-8")
        expected = None
    else:
        data = text.encode(enc, errors="replace")
    steps.append(enc)
    if data and draw(st.integers(0, 6)) == 0:
        cut = draw(st.integers(0, len(data) - 1))
        data = data[:cut]
        expected = None
        steps.append(f"truncated at byte {cut}")
    if draw(st.integers(0, 15)) == 0:
        data = draw(st.binary(max_size=64))
        expected = None
        steps.append("random bytes")
    return records, Case(data, expected, tuple(steps))
