"""Loading files into :class:`RawTable`: the all-text first step of the mapped reader.

Holds :class:`RawTable` (one file as a table of text cells with the physical
line of every record, its rejected lines, encoding, notes and SHA-256) and
:func:`load_table`, which reads one file's bytes (CSV, gzip CSV, Parquet or
Excel) into it, turning typed Parquet/Excel cells into text so that pandas
coerces nothing. Re-exported from :mod:`equity_metrics.io.mapped`.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import json
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EmptyFileError, FileFormatError, ReadError, closest_matches
from ._mapping_spec import MappingSpec
from ._sources import decode_bytes, parse_csv_text, sha256_bytes


@dataclass
class RawTable:
    """One file as an all-text table, with the physical line of every record."""

    name: str
    frame: pd.DataFrame
    lines: np.ndarray
    bad: list[dict]
    encoding: str
    notes: list[str]
    sha256: str | None
    typed: bool = False
    title: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.bad)


def _cell(v: Any) -> str:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float | np.floating) and np.isnan(v)):
        return ""
    if isinstance(v, bool | np.bool_):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    if isinstance(v, pd.Timestamp | _dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, _dt.date | _dt.time):
        return v.isoformat()
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return v.hex()
    if isinstance(v, list | tuple | dict | np.ndarray):  # Parquet nested types (list, struct, map) as JSON text
        return json.dumps(_plain(v), ensure_ascii=False, default=str)
    return str(v)


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray | list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    return v if isinstance(v, str | int | float | bool) or v is None else _cell(v)


def load_table(name: str, data: bytes, *, spec: MappingSpec, sheet: str | int | None = None,
               header_row: int | None = None, encoding: str = "auto") -> RawTable:
    """Read one file's bytes into a :class:`RawTable` (CSV, gzip CSV, Parquet or Excel)."""
    low = name.lower()
    sha = sha256_bytes(data)
    header_row = header_row if header_row is not None else spec.header_row
    skip = header_row - 1 if header_row is not None else spec.skip_rows
    if low.endswith(".xls"):
        raise FileFormatError("legacy .xls workbooks are not supported", file=name, hint="Re-save it as .xlsx or CSV")
    if low.endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(f"corrupt or truncated gzip file ({exc})", file=name) from None
        low = low.removesuffix(".gz")
    if low.endswith((".parquet", ".pq")) or data[:4] == b"PAR1":
        return _load_parquet(name, data, sha)
    if low.endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04":
        return _load_excel(name, data, sha, sheet if sheet is not None else spec.sheet, skip, header_row is not None)
    dec = decode_bytes(data, name, encoding=encoding)
    text, title = dec.text, []
    if skip:
        parts = text.split("\n")
        if not any(p.strip() for p in parts[skip:]):
            raise EmptyFileError(f"no header row at row {skip + 1}: the file has {len(parts) - (parts[-1] == '')} line(s)",
                                 file=name, hint="Check header_row / skip_rows (the header's 1-based row number)")
        title = [t.strip().strip(spec.delimiter).strip() for t in parts[:skip]]
        text = "\n".join(parts[skip:])
    parsed = parse_csv_text(text.encode("utf-8"), name, encoding="utf-8", delimiter=spec.delimiter)
    frame = parsed.frame
    bad = [dict(b, line=b["line"] + skip) for b in parsed.bad]
    notes = list(dec.notes) + parsed.notes
    if title:
        notes.append("title rows: " + " | ".join(t for t in title if t))
    return RawTable(name, frame, parsed.lines + skip, bad, dec.encoding, notes, sha, False, title)


def _load_parquet(name: str, data: bytes, sha: str) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        df = pq.read_table(io.BytesIO(data)).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FileFormatError(f"not a readable Parquet file ({exc})", file=name) from None
    frame = pd.DataFrame({str(c): df[c].astype(object).map(_cell).astype("str") for c in df.columns})
    return RawTable(name, frame, np.arange(1, len(frame) + 1, dtype=np.int64), [], "parquet", [], sha, True)


def _load_excel(name: str, data: bytes, sha: str, sheet, skip: int, explicit: bool) -> RawTable:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for damaged workbooks
        raise FileFormatError(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})", file=name,
                              hint="Open and re-save it in a spreadsheet program, or export it to CSV") from None
    names = wb.sheetnames
    if sheet is None:
        ws = wb.worksheets[0]
    elif isinstance(sheet, int) and not isinstance(sheet, bool):
        if not 0 <= sheet < len(names):
            raise ReadError(f"sheet index {sheet} out of range; the workbook has sheets {names}", file=name)
        ws = wb.worksheets[sheet]
    elif str(sheet) in names:
        ws = wb[str(sheet)]
    else:
        near = closest_matches(str(sheet), names)
        raise ReadError(f"no sheet named {sheet!r}; sheets are {names}", file=name,
                        hint=f"Did you mean {near[0]!r}?" if near else None)
    try:
        rows = [(i, [_cell(v) for v in r]) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
    except Exception as exc:  # damaged sheet XML
        raise FileFormatError(f"the sheet cannot be read ({type(exc).__name__}: {exc})", file=name) from None
    finally:
        wb.close()
    notes = [f"sheet {ws.title!r}"]
    title = [" ".join(c.strip() for c in r if c.strip()) for _, r in rows[:skip]]
    rest = rows[skip:]
    while rest and not explicit and not any(c.strip() for c in rest[0][1]):
        rest = rest[1:]
    if not explicit and not skip:  # title rows (often merged cells: one value) above a wider header
        width = [sum(1 for c in r if c.strip()) for _, r in rest[:60]]
        k = 0
        while k < len(width) and width[k] <= 1 and any(w >= 2 for w in width[k + 1:]):
            k += 1
        if k:
            title = [" ".join(c.strip() for c in r if c.strip()) for _, r in rest[:k]]
            notes.append(f"title rows above the header detected and skipped (rows 1-{rest[k][0] - 1}; "
                         "pass header_row= to choose the header yourself)")
            rest = rest[k:]
    if not rest or not any(c.strip() for c in rest[0][1]):
        raise EmptyFileError(f"sheet {ws.title!r} has no header row" + (f" at row {skip + 1}" if skip else ""), file=name,
                             hint="Check header_row / skip_rows")
    hline, hdr = rest[0]
    while hdr and not hdr[-1].strip():
        hdr = hdr[:-1]
    hdr = [h.strip() or f"column_{i + 1}" for i, h in enumerate(hdr)]
    seen: Counter = Counter()
    cols = []
    for h in hdr:
        seen[h] += 1
        cols.append(h if seen[h] == 1 else f"{h}.{seen[h] - 1}")
    ncol, out, lines, bad, blank = len(cols), [], [], [], 0
    for i, r in rest[1:]:
        if not any(c.strip() for c in r):
            blank += 1
            continue
        if any(c.strip() for c in r[ncol:]):
            found = max(j for j, c in enumerate(r) if c.strip()) + 1
            bad.append({"line": i, "reason": f"wrong number of fields (expected {ncol}, found {found})",
                        "raw": json.dumps(r, ensure_ascii=False)})
            continue
        out.append((r + [""] * ncol)[:ncol])
        lines.append(i)
    if blank:
        notes.append(f"{blank} blank row(s) skipped")
    if title:
        notes.append("title rows: " + " | ".join(t for t in title if t))
    frame = pd.DataFrame(out, columns=cols, dtype="str") if out else pd.DataFrame({c: pd.Series([], dtype="str") for c in cols})
    return RawTable(name, frame, np.asarray(lines, dtype=np.int64), bad, "xlsx", notes, sha, True, title)
