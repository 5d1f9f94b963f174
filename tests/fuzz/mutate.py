"""Mutations of seed tables as hypothesis strategies, and the independent record count.

A mutated input is a :class:`Case`: the bytes of one file plus ``expected``, the number of
data records the test counts on its own (``None`` when the mutation makes that
ill-defined: truncation, a stray quote or unquoted newline, a foreign delimiter, a
UTF-16 BOM glued onto UTF-8 bytes...).

Records are counted on the rows handed to :class:`csv.writer`: the first non-blank
record is the header, and a data record is one with at least one
non-blank field (blank lines are not records: the readers skip them, as documented in
equity_metrics.io._sources.read_header).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from hypothesis import strategies as st

from .seeds import Seed

HUGE = 131_072 + 7  # above csv's default field_size_limit (131,072)

FORMULAS = ["=1+1", "=cmd|' /C calc'!A0", "+SUM(A1:A2)", "-2+3", "@SUM(1)", '=HYPERLINK("http://x","y")', "\t=1"]
ODD_DATES = [
    "0000-01-01T00:00:00+00:00", "0000-01-01", "9999-12-31T23:59:59+00:00", "9999-12-31", "2020-02-30T10:00:00+00:00",
    "2020-02-30", "2019-02-29", "", " ", "2020-03-01T08:00:00+05:30", "2020-03-01T08:00:00-11:00",
    "2020-03-01T08:00:00.123456789+00:00", "2020-03-01T08:00:00.5Z", "2020-03-01T24:00:00+00:00",
    "2020-03-01T08:00:00+99:00", "1900-01-01", "1677-09-21", "2262-04-12", "20200301", "01/03/2020", "NaT", "NA",
    "２０２０-03-01", "2020-13-01", "-2020-03-01",
]  # fmt: skip
ODD_CELLS = ["", " ", "NA", "nan", "inf", "-1e400", "é", "Ünïcödé", "€", "😀", "\u00a0", "\ufeff", "\u2028", "a,b",
             'say "hi"', '"', "two\nlines", "cr\ronly", "crlf\r\nin", "\x00", "nul\x00mid", "\\", "\t", "'", "1.0", "0.0"]
SINGLE_BYTE = ["cp1252", "latin-1"]


@dataclass
class Case:
    """A mutated file: its bytes, the independently counted data records (or None) and what was done."""

    data: bytes
    expected: int | None
    steps: tuple[str, ...]


def count_records(records: list[list[str]]) -> int:
    """Data records among the records written (header excluded, blank records skipped).

    Counted on the structure handed to :class:`csv.writer`, not by re-parsing the text,
    so that the count does not depend on csv's field size limit.
    """
    filled = [r for r in records if any(c.strip() for c in r)]
    return max(len(filled) - 1, 0)


@st.composite
def tables(draw, seed: Seed, extra_rows: list[list[str]] | None = None) -> tuple[list[str], list[list[str]], list[str]]:
    """Structural and cell mutations that keep the record count well defined."""
    header = list(seed.header)
    rows = [list(r) for r in seed.rows] + [list(r) for r in (extra_rows or [])]
    steps: list[str] = []
    if rows and draw(st.booleans()):
        rows = draw(st.lists(st.sampled_from(rows), min_size=0, max_size=6))  # subset, order, duplicates
        steps.append("rows resampled")
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["drop_col", "add_col", "dup_col", "rename_col", "ragged", "header_only"]
                                  + ["cell"] * 4 + ["date"] * 4 + ["formula"] * 2 + ["huge"]))
        width = len(header)
        if op == "drop_col" and width > 1:
            i = draw(st.integers(0, width - 1))
            header.pop(i)
            rows = [r[:i] + r[i + 1:] for r in rows]
        elif op == "add_col":
            i = draw(st.integers(0, width))
            name = draw(st.sampled_from(["Extra", "", "Notes", header[0] if header else "x", "=1+1", "col;2"]))
            header.insert(i, name)
            rows = [r[:i] + [draw(st.sampled_from(["", "x", "1"]))] + r[i:] for r in rows]
        elif op == "dup_col" and width:
            i = draw(st.integers(0, width - 1))
            header.append(header[i])
            rows = [r + [r[i] if i < len(r) else ""] for r in rows]
        elif op == "rename_col" and width:
            i = draw(st.integers(0, width - 1))
            header[i] = draw(st.sampled_from([header[i].upper(), f" {header[i]} ", header[i] + "\ufeff", "\ufeff" + header[i],
                                              header[i].replace(" ", "_"), ""]))
        elif op == "ragged" and rows:
            j = draw(st.integers(0, len(rows) - 1))
            rows[j] = rows[j][:-1] if draw(st.booleans()) else rows[j] + ["extra"]
        elif op in ("cell", "date", "formula", "huge") and rows and width:
            j = draw(st.integers(0, len(rows) - 1))
            if op == "date" and any(c in header for c in seed.date_columns):
                i = header.index(draw(st.sampled_from([c for c in seed.date_columns if c in header])))
            else:
                i = draw(st.integers(0, width - 1))
            value = {
                "cell": lambda: draw(st.one_of(st.sampled_from(ODD_CELLS), st.text(max_size=8))),
                "date": lambda: draw(st.sampled_from(ODD_DATES)),
                "formula": lambda: draw(st.sampled_from(FORMULAS)),
                "huge": lambda: draw(st.sampled_from(["x", "é", ",", '"', "\n", "9"])) * HUGE,
            }[op]()
            if i < len(rows[j]):
                rows[j][i] = value
        elif op == "header_only":
            rows = []
        else:
            continue
        steps.append(op)
    return header, rows, steps


@st.composite
def csv_cases(draw, seed: Seed, extra_rows: list[list[str]] | None = None) -> Case:
    """A seed table mutated, written as CSV text, encoded, and perhaps damaged at the byte level."""
    special = draw(st.integers(0, 19))
    if special == 0:
        data = draw(st.sampled_from([b"", b"\n\n", b"\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"   \n", b"\x00" * 8]))
        return Case(data, None, ("degenerate",))
    header, rows, steps = draw(tables(seed, extra_rows))
    delimiter = draw(st.sampled_from([","] * 12 + [";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL] * 3 + [csv.QUOTE_ALL]))
    eol = draw(st.sampled_from(["\n", "\n", "\r\n", "\r\n", "\r", "mixed"]))
    buf = io.StringIO()
    records = [header] + rows
    for k, rec in enumerate(records):
        term = eol if eol != "mixed" else draw(st.sampled_from(["\n", "\r\n", "\r"]))
        # csv quotes a field only for the characters of its own line terminator: write with
        # "\r\n" so every field holding CR or LF is quoted, then put the chosen line end.
        one = io.StringIO()
        csv.writer(one, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerow(rec)
        buf.write(one.getvalue()[:-2] + term)
        if k and draw(st.integers(0, 9)) == 0:  # blank lines between records
            buf.write(draw(st.sampled_from(["\n", "\r\n", "\n\n", "   \n", "\r"])))
    if eol != "\n" or quoting == csv.QUOTE_ALL or delimiter != ",":
        steps.append(f"eol={eol!r} quoting={quoting} delimiter={delimiter!r}")
    text = buf.getvalue()
    expected = count_records(records) if delimiter == "," else None

    damage = draw(st.sampled_from(["none"] * 8 + ["nul", "stray_quote", "bare_newline", "trailing_junk"]))
    if damage != "none" and text:
        at = draw(st.integers(0, len(text)))
        ins = {"nul": "\x00", "stray_quote": '"', "bare_newline": "\n", "trailing_junk": ""}[damage]
        text = text + "junk,without,a header\n" if damage == "trailing_junk" else text[:at] + ins + text[at:]
        expected = None
        steps.append(damage)

    enc = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "utf-16-le+bom", "utf-16-be+bom", "cp1252",
                                                "latin-1", "utf-16-bom-on-utf-8"]))
    if enc == "utf-16-le+bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    elif enc == "utf-16-be+bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    elif enc == "utf-16-bom-on-utf-8":
        data = b"\xff\xfe" + text.encode("utf-8")
        expected = None
    elif enc in SINGLE_BYTE:
        data = text.encode(enc, errors="replace")  # replaces unencodable characters one for one: the count stands
    else:
        data = text.encode(enc)
    if enc != "utf-8":
        steps.append(enc)
    if data and draw(st.integers(0, 7)) == 0:
        cut = draw(st.integers(0, len(data) - 1))
        data = data[:cut]
        expected = None
        steps.append(f"truncated at byte {cut}")
    return Case(data, expected, tuple(steps))
