"""The generic mapped reader: any CSV, gzip CSV, Parquet or Excel file, through a mapping.

A *mapping* (a Python dict or a TOML file) says which source column holds each
canonical field, how source values translate to the canonical vocabularies,
how dates are written and in which time zone they are local. The reader then
accounts for every input row exactly like the built-in readers: rows are kept
(values that cannot be interpreted become NA and are counted in
``ledger.unknown_by_field``) or rejected with their file, line, raw values and
a reason (a required field blank or unparseable).

Mapping keys (all optional except ``columns``)::

    columns     canonical field -> source column, or a list of candidates
    values      per field: source value -> canonical value (exact, then case-insensitive);
                unmapped values become NA, are counted in unknown_by_field and listed in the notes.
                ``values.ethnicity`` relabels raw ethnicity before harmonisation.
    dates       per date field: format (str or list, tried in order), time_column, time_format,
                time_optional (a missing time column gives dates only), tz, column
    constants   canonical field -> one value for every row (e.g. event_type = "stop")
    ethnicity   column, scheme ("uk"/"us"), label (-> ethnicity_source),
                hispanic_column / hispanic_values (US: Hispanic overrides race)
    required    canonical fields that must be present and parseable (else the row is rejected)
    optional    canonical fields whose source column may be absent from a file
    id          source column of the event id (``id_prefix`` is prepended)
    keep        extra source columns to carry through as text: list, or {output name = source column}
    skip_rows / header_row, sheet, delimiter, na_values, source, name, description, kind

Excel and Parquet cells are turned into text here (numbers without a spurious
``.0``, date-times as ``YYYY-MM-DD HH:MM:SS``), so nothing is coerced by pandas;
for them ISO formats are also tried after the mapping's own. Local times in a
daylight-saving gap are shifted forward and those in the repeated hour take the
first (daylight) occurrence; both are counted in the notes.

Example TOML::

    id = "Incident ID"
    [columns]
    datetime = "Date"
    sex = ["Sex", "Gender"]          # candidates: the first present wins
    [values.sex]
    M = "Male"
    F = "Female"
    [dates.datetime]
    format = ["%Y-%m-%d", "%m/%d/%Y"]
    time_column = "Time"
    tz = "America/Chicago"
    [constants]
    event_type = "stop"
    [ethnicity]
    column = "Race"
    scheme = "us"

The low-level steps (:func:`load_mapping`, :func:`load_table`, :func:`map_table`,
:func:`assemble`) are public within the package so that source-specific readers
(OPP, Chicago, training rosters) can join auxiliary tables before mapping.
"""

from __future__ import annotations

import copy
import datetime as _dt
import fnmatch
import gzip
import importlib.resources
import io
import json
import os
import re
import tomllib
import zlib
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..errors import EmptyFileError, FileFormatError, MappingError, MissingColumnsError, ReadError, closest_matches
from ..ethnicity import BROAD_GROUPS, NOT_STATED, US_GROUPS, harmonise_ethnicity
from ..ledger import REJECT_COLUMNS, FileRecord, Ledger, ReadResult, Rejects
from ..schema import AGE_BANDS, EVENT_TYPES, EVENTS, SEXES, TRAINING, conform
from ._sources import decode_bytes, iter_files, parse_csv_text, sha256_bytes

__all__ = ["read_mapped", "load_mapping", "MappingSpec", "MappedKind"]

MappedKind = Literal["events", "training"]
_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm", ".xls")
_TOP_KEYS = {"columns", "values", "dates", "constants", "ethnicity", "required", "optional", "id", "id_prefix",
             "keep", "skip_rows", "header_row", "sheet", "delimiter", "na_values", "source", "name", "description", "kind"}
_MANAGED = {"source_file", "source_line", "month", "datetime_raw", "time_known", "duplicate",
            "ethnicity", "ethnicity_detailed", "ethnicity_raw", "ethnicity_source"}
_DTYPES = {"events": {c.name: c.dtype for c in EVENTS}, "training": {c.name: c.dtype for c in TRAINING}}
_DATE_DTYPES = ("datetime64[ns, tz]", "datetime64[ns]", "period[M]")
_DEFAULT_NA = ("NA", "N/A", "NULL", "NaN", "#N/A")
_DEFAULT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d")
_TYPED_FALLBACK = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S%z")
_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")
_VOCABS: dict[str, tuple[str, ...]] = {"sex": SEXES, "event_type": EVENT_TYPES, "age_band": AGE_BANDS,
                                       "level": ("officer", "unit", "force")}
_DEFAULT_SEX = {"m": "Male", "male": "Male", "man": "Male", "f": "Female", "female": "Female", "woman": "Female",
                "other": "Other", "not stated": "Not stated", "unknown": "Not stated", "u": "Not stated"}
_HISPANIC = ("hispanic", "h", "latino", "latina", "hispanic or latino", "hispanic/latino", "yes", "y")
_UNMAPPED = object()


@dataclass(frozen=True)
class DateSpec:
    formats: tuple[str, ...]
    time_column: tuple[str, ...] = ()
    time_formats: tuple[str, ...] = ("%H:%M:%S", "%H:%M", "%H%M")
    tz: str | None = None
    time_optional: bool = False


@dataclass(frozen=True)
class MappingSpec:
    """A validated mapping (see the module docstring for the keys)."""

    kind: str
    columns: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, Any]]
    dates: dict[str, DateSpec]
    constants: dict[str, Any]
    ethnicity: dict[str, Any] | None
    required: tuple[str, ...]
    optional: tuple[str, ...]
    id: tuple[str, ...] = ()
    id_prefix: str = ""
    keep: dict[str, tuple[str, ...]] = field(default_factory=dict)
    skip_rows: int = 0
    header_row: int | None = None
    sheet: str | int | None = None
    delimiter: str = ","
    na_values: frozenset[str] = frozenset(v.casefold() for v in _DEFAULT_NA)
    source: str = "mapped"
    name: str = "mapping"


# ============================================================================ the mapping


def _fail(msg: str, name: str) -> None:
    raise MappingError(f"mapping {name!r}: {msg}")


def _cands(value: Any, where: str, name: str) -> tuple[str, ...]:
    vals = [value] if isinstance(value, str) else value
    if not isinstance(vals, (list, tuple)) or not vals or not all(isinstance(v, str) and v.strip() for v in vals):
        _fail(f"{where} must be a column name or a non-empty list of column names, not {value!r}", name)
    return tuple(v.strip() for v in vals)


def _check_field(f: str, valid: list[str], where: str, name: str) -> None:
    if f not in valid:
        near = closest_matches(f, valid + sorted(_MANAGED))
        hint = ""
        if near and near[0] in _MANAGED:
            how = "the [ethnicity] section" if near[0].startswith("ethnicity") else "the reader"
            hint = f" (did you mean {near[0]!r}? It is set by {how}, not in {where})"
        elif near:
            hint = f" (did you mean {near[0]!r}?)"
        _fail(f"unknown canonical field {f!r} in {where}{hint}. Valid fields: {', '.join(valid)}", name)


def _builtin(name: str) -> Path | None:
    res = importlib.resources.files("equity_metrics.io").joinpath("mappings", f"{name}.toml")
    return Path(str(res)) if res.is_file() else None


def mapping_dict(mapping: dict | str | os.PathLike) -> dict[str, Any]:
    """The raw mapping as a fresh dict: from a dict, a TOML file, or a built-in name."""
    if isinstance(mapping, dict):
        return copy.deepcopy(mapping)
    if not isinstance(mapping, (str, os.PathLike)):
        raise MappingError(f"a mapping must be a dict or a TOML file path, not {type(mapping).__name__}")
    path = Path(mapping)
    if not path.is_file() and isinstance(mapping, str) and _builtin(mapping) is not None:
        path = _builtin(mapping)  # type: ignore[assignment]
    if not path.is_file():
        raise MappingError(f"mapping file not found: {str(mapping)!r}. Pass a dict, a TOML file path, or a built-in name")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {str(path)!r} is not valid TOML: {exc}") from None


def builtin_mapping(name: str) -> dict[str, Any]:
    """A built-in mapping (``equity_metrics/io/mappings/<name>.toml``) as a fresh dict."""
    path = _builtin(name)
    if path is None:
        raise MappingError(f"no built-in mapping named {name!r}")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def load_mapping(mapping: dict | str | os.PathLike, *, kind: MappedKind = "events") -> MappingSpec:
    """Validate a mapping (dict, TOML file, or the name of a built-in mapping such as ``"opp"``).

    Raises
    ------
    MappingError
        Unknown keys or canonical fields (with the closest valid name), wrong types,
        vocabulary values outside the canonical sets, bad time zones or formats.

    Examples
    --------
    >>> spec = load_mapping({"columns": {"datetime": "Date"}, "constants": {"event_type": "stop"},
    ...                      "ethnicity": {"column": "Race", "scheme": "us"}})
    >>> spec.columns["datetime"], spec.required
    (('Date',), ('datetime',))
    """
    check_option("kind", kind, MappedKind)
    name = str(mapping) if isinstance(mapping, (str, os.PathLike)) else "mapping"
    mapping = mapping_dict(mapping)
    name = str(mapping.get("name", name))
    for k in mapping:
        if k not in _TOP_KEYS:
            near = closest_matches(str(k), sorted(_TOP_KEYS))
            _fail(f"unknown key {k!r}" + (f" (did you mean {near[0]!r}?)" if near else "") + f"; valid keys: {sorted(_TOP_KEYS)}", name)
    if "kind" in mapping and mapping["kind"] != kind:
        _fail(f"it is for kind={mapping['kind']!r} but kind={kind!r} was requested", name)
    dtypes = _DTYPES[kind]
    valid = [c for c in dtypes if c not in _MANAGED or (kind == "training" and c not in ("source_file", "source_line"))]
    for sec in ("columns", "values", "dates", "constants", "keep"):
        if sec in mapping and not isinstance(mapping[sec], dict) and not (sec == "keep" and isinstance(mapping[sec], list)):
            _fail(f"{sec!r} must be a table (dict), not {type(mapping[sec]).__name__}", name)
    columns = {}
    for f, v in mapping.get("columns", {}).items():
        _check_field(f, valid, "columns", name)
        columns[f] = _cands(v, f"columns.{f}", name)
    constants = dict(mapping.get("constants", {}))
    for f, v in constants.items():
        _check_field(f, valid, "constants", name)
        if f in columns:
            _fail(f"field {f!r} is both a column and a constant; keep one", name)
        if not isinstance(v, (str, bool, int, float)):
            _fail(f"constants.{f} must be a single value, not {v!r}", name)
        if f in _VOCABS and v not in _VOCABS[f]:
            _fail(f"constants.{f}={v!r} is not one of {list(_VOCABS[f])}", name)
    values: dict[str, dict[str, Any]] = {}
    for f, vocab in mapping.get("values", {}).items():
        if f != "ethnicity":
            _check_field(f, valid, "values", name)
        if not isinstance(vocab, dict):
            _fail(f"values.{f} must be a table of source value -> canonical value", name)
        dt = dtypes.get(f, "category")
        if dt in ("float64", "Int64") or dt in _DATE_DTYPES:
            _fail(f"values.{f}: vocabularies apply to text and yes/no fields, not {dt} fields", name)
        clean = {}
        for src, dst in vocab.items():
            if dt == "boolean":
                if isinstance(dst, str) and dst.casefold() in _TRUE + _FALSE:
                    dst = dst.casefold() in _TRUE
                if not isinstance(dst, bool):
                    _fail(f"values.{f}.{src!r} must be true or false, not {dst!r}", name)
            elif not isinstance(dst, str):
                _fail(f"values.{f}.{src!r} must be text, not {dst!r}", name)
            elif f in _VOCABS and dst != "" and dst not in _VOCABS[f]:
                near = closest_matches(dst, _VOCABS[f])
                _fail(f"values.{f}.{src!r} = {dst!r} is not one of {list(_VOCABS[f])}"
                      + (f" (did you mean {near[0]!r}?)" if near else ""), name)
            clean[str(src).strip()] = dst
        values[f] = clean
    dates = {}
    for f, d in mapping.get("dates", {}).items():
        _check_field(f, valid, "dates", name)
        if dtypes[f] not in _DATE_DTYPES:
            _fail(f"dates.{f}: {f!r} is not a date field (date fields: "
                  f"{[c for c in valid if dtypes[c] in _DATE_DTYPES]})", name)
        if isinstance(d, str):
            d = {"format": d}
        if not isinstance(d, dict):
            _fail(f"dates.{f} must be a format string or a table", name)
        bad = set(d) - {"format", "time_column", "time_format", "tz", "column", "time_optional"}
        if bad:
            _fail(f"dates.{f}: unknown key(s) {sorted(bad)}; valid: format, time_column, time_format, time_optional, tz, column", name)
        if "column" in d:
            if f in columns:
                _fail(f"dates.{f}.column repeats columns.{f}; give it once", name)
            columns[f] = _cands(d["column"], f"dates.{f}.column", name)
        fmts = _formats(d.get("format", _DEFAULT_FORMATS), f"dates.{f}.format", name)
        tfmts = _formats(d.get("time_format", DateSpec.time_formats), f"dates.{f}.time_format", name)
        tz = d.get("tz")
        if tz is not None:
            if dtypes[f] != "datetime64[ns, tz]":
                _fail(f"dates.{f}.tz: only the event datetime is time-zone aware", name)
            try:
                zoneinfo.ZoneInfo(str(tz))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                _fail(f"dates.{f}.tz={tz!r} is not a known time zone (e.g. 'America/Chicago', 'UTC')", name)
        if dtypes[f] != "datetime64[ns, tz]" and any("%z" in x for x in fmts):
            _fail(f"dates.{f}: offsets (%z) are only allowed for the event datetime", name)
        tcol = _cands(d["time_column"], f"dates.{f}.time_column", name) if "time_column" in d else ()
        dates[f] = DateSpec(fmts, tcol, tfmts, tz, bool(d.get("time_optional", False)))
    eth = mapping.get("ethnicity")
    for key in ("ethnicity", "id", "id_prefix"):
        if kind == "training" and (key in mapping or (key == "ethnicity" and "ethnicity" in values)):
            _fail(f"{key!r} applies to events tables, not training (map officer_id under 'columns')", name)
    if eth is not None:
        if isinstance(eth, str):
            eth = {"column": eth}
        if not isinstance(eth, dict) or "column" not in eth:
            _fail("ethnicity must be a table with at least 'column'", name)
        bad = set(eth) - {"column", "scheme", "label", "hispanic_column", "hispanic_values"}
        if bad:
            _fail(f"ethnicity: unknown key(s) {sorted(bad)}", name)
        eth = dict(eth)
        eth["column"] = _cands(eth["column"], "ethnicity.column", name)
        eth["scheme"] = eth.get("scheme", "uk")
        if eth["scheme"] not in ("uk", "us"):
            _fail(f"ethnicity.scheme={eth['scheme']!r}: choose 'uk' or 'us'", name)
        eth["label"] = str(eth.get("label", "recorded"))
        if "hispanic_column" in eth:
            if eth["scheme"] != "us":
                _fail("ethnicity.hispanic_column needs scheme = 'us'", name)
            eth["hispanic_column"] = _cands(eth["hispanic_column"], "ethnicity.hispanic_column", name)
        eth["hispanic_values"] = tuple(str(v).casefold() for v in eth.get("hispanic_values", _HISPANIC))
    lists = {}
    for key in ("required", "optional"):
        lst = mapping.get(key, [])
        if isinstance(lst, str) or not isinstance(lst, list):
            _fail(f"{key!r} must be a list of canonical field names", name)
        for f in lst:
            _check_field(str(f), valid + ["ethnicity"], key, name)
        lists[key] = tuple(str(f) for f in lst)
    required = lists["required"] or (("datetime",) if kind == "events" else ("completed",))
    for f in (("datetime",) if kind == "events" else ("completed", "course")):
        if f not in columns and f not in constants:
            _fail(f"a {kind} table needs {f!r}: give columns.{f}" + (" or constants.course" if f == "course" else ""), name)
    if kind == "events" and "event_type" not in columns and "event_type" not in constants:
        _fail("give constants.event_type (one of " + ", ".join(EVENT_TYPES) + ") or columns.event_type", name)
    for f in required:
        if f not in columns and f not in constants and not (f == "ethnicity" and eth):
            _fail(f"required field {f!r} is not mapped to a column", name)
    keep = mapping.get("keep", {})
    keep = {k: (k,) for k in keep} if isinstance(keep, list) else {k: _cands(v, f"keep.{k}", name) for k, v in keep.items()}
    skip, header = mapping.get("skip_rows", 0), mapping.get("header_row")
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        _fail(f"skip_rows must be a whole number >= 0, not {skip!r}", name)
    if header is not None and (not isinstance(header, int) or isinstance(header, bool) or header < 1):
        _fail(f"header_row must be a row number >= 1, not {header!r}", name)
    na = mapping.get("na_values", list(_DEFAULT_NA))
    if not isinstance(na, list) or not all(isinstance(x, str) for x in na):
        _fail("na_values must be a list of strings", name)
    delim = mapping.get("delimiter", ",")
    if not isinstance(delim, str) or len(delim) != 1:
        _fail(f"delimiter must be one character, not {delim!r}", name)
    idc = _cands(mapping["id"], "id", name) if "id" in mapping else ()
    return MappingSpec(kind, columns, values, dates, constants, eth, required, lists["optional"], idc,
                       str(mapping.get("id_prefix", "")), keep, skip, header, mapping.get("sheet"), delim,
                       frozenset(x.casefold() for x in na) | {""}, str(mapping.get("source", "mapped")), name)


def _formats(v: Any, where: str, name: str) -> tuple[str, ...]:
    fmts = [v] if isinstance(v, str) else v
    if not isinstance(fmts, (list, tuple)) or not fmts or not all(isinstance(x, str) and "%" in x for x in fmts):
        _fail(f"{where} must be a strftime format like '%Y-%m-%d' or a list of them, not {v!r}", name)
    return tuple(fmts)


# ============================================================================ loading files


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
    return str(v)


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


# ============================================================================ mapping a table


def _norm(s: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", s.casefold()).strip("_")


def _resolve(cands: tuple[str, ...], header: list[str]) -> str | None:
    for c in cands:
        if c in header:
            return c
    by_norm = {_norm(h): h for h in header}
    for c in cands:
        if _norm(c) in by_norm:
            return by_norm[_norm(c)]
        if any(ch in c for ch in "*?["):
            hits = [h for h in header if fnmatch.fnmatch(h.casefold(), c.casefold())]
            if hits:
                return sorted(hits)[0]
    return None


def _lookup(txt: pd.Series, vocab: dict[str, Any]) -> pd.Series:
    fold = {k.casefold(): v for k, v in vocab.items()}
    uniq = pd.unique(txt)
    table = {u: vocab.get(u, fold.get(str(u).casefold(), _UNMAPPED)) for u in uniq}
    return txt.map(table)


@dataclass
class _Part:
    data: pd.DataFrame
    rejects: pd.DataFrame
    record: FileRecord
    missing: Counter
    unknown: Counter
    unmapped: dict[str, Counter]
    reasons: Counter
    duplicates: int
    notes: list[str]


def map_table(raw: RawTable, spec: MappingSpec, *, pre_reject: pd.Series | None = None) -> _Part:
    """Apply a mapping to one :class:`RawTable`; returns the part for :func:`assemble`.

    ``pre_reject`` (aligned with ``raw.frame``; a reason or NA per row) lets a
    caller reject rows for reasons found before mapping (e.g. no officer link).
    """
    df, kind = raw.frame.reset_index(drop=True), spec.kind
    dtypes, header = _DTYPES[kind], list(raw.frame.columns)
    n, notes = len(df), []
    # ---- resolve source columns
    src: dict[str, str] = {}
    missing_cols: list[str] = []
    eth_col = None

    def need(cands, label, optional=False):
        c = _resolve(cands, header)
        if c is None and not optional:
            missing_cols.append(cands[0] if len(cands) == 1 else " or ".join(cands))
        return c

    for f, cands in spec.columns.items():
        c = need(cands, f, f in spec.optional)
        if c is not None:
            src[f] = c
        elif f in spec.optional:
            notes.append(f"{f}: no column {' / '.join(cands)} in this file (left blank)")
    tcols = {f: need(d.time_column, f, f in spec.optional or d.time_optional) for f, d in spec.dates.items() if d.time_column}
    notes += [f"{f}: no time column {' / '.join(d.time_column)} in this file (dates only)"
              for f, d in spec.dates.items() if d.time_column and tcols[f] is None]
    if spec.ethnicity:
        eth_col = need(spec.ethnicity["column"], "ethnicity", "ethnicity" in spec.optional)
    hisp_col = _resolve(spec.ethnicity["hispanic_column"], header) if spec.ethnicity and "hispanic_column" in spec.ethnicity else None
    id_col = need(spec.id, "id") if spec.id else None
    keep = {k: need(c, k, True) for k, c in spec.keep.items()}
    if missing_cols:
        raise MissingColumnsError(file=raw.name, missing=missing_cols, found=header,
                                  hint=f"Fix the mapping {spec.name!r} (columns, dates, ethnicity or id), "
                                       "or list the field under 'optional'")
    na = spec.na_values

    cache: dict[str, tuple[pd.Series, np.ndarray]] = {}

    def text(col: str) -> tuple[pd.Series, np.ndarray]:
        if col not in cache:
            t = df[col].astype("str").fillna("").str.strip()
            codes, uniq = pd.factorize(t)
            isna = np.array([str(u).casefold() in na for u in uniq] + [True], bool)
            cache[col] = (t, isna[np.where(codes < 0, len(uniq), codes)])
        return cache[col]

    out: dict[str, Any] = {}
    miss: Counter = Counter()
    unk: Counter = Counter()
    unmapped: dict[str, Counter] = {}
    bad_masks: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}  # field -> (missing, unknown, column)
    for f, col in src.items():
        dt = dtypes[f]
        t, m = text(col)
        u = np.zeros(n, bool)
        if dt in _DATE_DTYPES:
            tc = tcols.get(f)
            tt = text(tc) if tc else None
            vals, u, known, rawtxt, tu, odd = _dates(t, m, tt, spec.dates.get(f, DateSpec(_DEFAULT_FORMATS)), dt, raw.typed)
            if odd:
                notes.append(f"{f}: {odd} local time(s) in a daylight-saving gap or repeated hour (gap: shifted "
                             "forward; repeated hour: first, daylight-time occurrence)")
            if f == "datetime":
                out["datetime_raw"], out["time_known"] = rawtxt, known
            if tc:
                bad_masks[f"{f}_time"] = (np.zeros(n, bool), tu, tc)
        elif dt == "float64":
            vals = pd.to_numeric(t.where(~m, None), errors="coerce").astype("float64")
            vals[~np.isfinite(vals.to_numpy())] = np.nan
            u = ~m & vals.isna().to_numpy()
        else:
            vocab = spec.values.get(f)
            if vocab is None and f == "sex":
                vocab = _DEFAULT_SEX
            if vocab is None and f in _VOCABS:
                vocab = {v: v for v in _VOCABS[f]}
            if vocab is None and dt == "boolean":
                vocab = {**{v: True for v in _TRUE}, **{v: False for v in _FALSE}}
            if vocab is not None:
                vals = _lookup(t, vocab)
                um = (vals.map(lambda v: v is _UNMAPPED)).to_numpy(bool) & ~m
                m = m | (vals.map(lambda v: v == "").to_numpy(bool))
                vals = vals.where(~(um | m), None)
                if um.any():
                    unmapped[f] = Counter(t[um].tolist())
                u = um
                if dt == "boolean":
                    vals = vals.astype("boolean")
            else:
                vals = t.where(~m, None)
            if f == "sex":
                out["sex_raw"] = t.where(t != "", None)
        out[f] = vals
        bad_masks[f] = (m, u, col)
    for f, v in spec.constants.items():
        out[f] = pd.Series([v] * n, dtype=object)
    # ---- ethnicity
    if kind == "events":
        if eth_col is not None:
            et, em = text(eth_col)
            lab = et
            if "ethnicity" in spec.values:
                mapped = _lookup(et, spec.values["ethnicity"])
                lab = mapped.where(mapped.map(lambda v: v is not _UNMAPPED), et).astype("str")
            h = harmonise_ethnicity(lab.where(~em, ""), scheme=spec.ethnicity["scheme"])
            grp, det = h["group"].astype(object), h["detailed"].astype(object)
            eu = ~em & ~h["recognised"].to_numpy(bool)
            if eu.any():
                unmapped["ethnicity"] = Counter(et[eu].tolist())
            if hisp_col is not None:
                ht, hm = text(hisp_col)
                is_h = ht.str.casefold().isin(spec.ethnicity["hispanic_values"]).to_numpy(bool) & ~hm
                change = is_h & (grp != "Hispanic").to_numpy(bool)
                grp[change], det[change] = "Hispanic", "Hispanic"
                notes.append(f"hispanic override: {int(change.sum())} row(s) set to Hispanic from column {hisp_col!r}")
            out["ethnicity"], out["ethnicity_detailed"] = grp, det
            out["ethnicity_raw"] = et.where(~em, None)
            out["ethnicity_source"] = pd.Series(np.where(em, "none", spec.ethnicity["label"]), dtype=object)
            bad_masks["ethnicity"] = (em, eu, eth_col)
        else:
            out["ethnicity"] = pd.Series([NOT_STATED] * n, dtype=object)
            out["ethnicity_source"] = pd.Series(["none"] * n, dtype=object)
    # ---- rejects: required fields missing or unparseable
    reason = pd.Series([None] * n, dtype=object) if pre_reject is None else pre_reject.reset_index(drop=True).astype(object)
    rcol = pd.Series([None] * n, dtype=object)
    rval = pd.Series([None] * n, dtype=object)
    reason = reason.where(reason.notna(), None)
    for f in spec.required + tuple(f for f in ("event_type", "level", "course") if f in src and f not in spec.required):
        if f not in bad_masks:
            continue
        m, u, col = bad_masks[f]
        free = reason.isna().to_numpy(bool)
        for mask, why in ((m & free, f"missing required field {f!r}"), (u & free, f"unparseable or unmapped required field {f!r}")):
            if mask.any():
                reason[mask], rcol[mask] = why, col
                rval[mask] = df.loc[mask, col].astype(object).to_numpy()
    rej = reason.notna().to_numpy(bool)
    keepm = ~rej
    # ---- counts over kept rows
    for f, (m, u, _) in bad_masks.items():
        if not f.endswith("_time"):
            miss[f] += int((m & keepm).sum())
        unk[f] += int((u & keepm).sum())
    for f, c in list(unmapped.items()):
        mask = bad_masks[f][1] & keepm
        unmapped[f] = Counter(df.loc[mask, bad_masks[f][2]].str.strip().tolist())
    # ---- duplicates, ids, provenance
    dup = df.duplicated(keep="first").to_numpy(bool) if len(df.columns) else np.zeros(n, bool)
    base = os.path.basename(raw.name.split("::")[-1])
    line_ids = pd.Series([f"{base}:{ln}" for ln in raw.lines], dtype=object)
    if id_col is not None:
        it, im = text(id_col)
        eid = (spec.id_prefix + it).where(~pd.Series(im), line_ids)
        if im.any():
            notes.append(f"{int(im.sum())} row(s) with a blank id {id_col!r}: event_id is file:line")
        ndup = int(eid[keepm].duplicated().sum())
        if ndup:
            notes.append(f"{ndup} kept row(s) repeat an id in column {id_col!r}")
    else:
        eid = line_ids
    if kind == "events":
        out["event_id"] = eid
        out["duplicate"] = pd.Series(dup, dtype="boolean")
        out.setdefault("source", pd.Series([spec.source] * n, dtype=object))
    out["source_file"] = pd.Series([raw.name] * n, dtype=object)
    out["source_line"] = pd.Series(raw.lines, dtype="Int64")
    for k, c in keep.items():
        name = k if k not in dtypes and k not in out else f"raw_{k}"
        out[name] = text(c)[0].where(~text(c)[1], None) if c is not None else pd.Series([None] * n, dtype=object)
    if kind == "training" and "level" not in out:
        out["level"] = pd.Series(["officer" if "officer_id" in out else "force"] * n, dtype=object)
    data = pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v) for k, v in out.items()}).loc[keepm]
    # ---- rejects frame
    parts = []
    if raw.bad:
        parts.append(pd.DataFrame({"file": raw.name, "line": [b["line"] for b in raw.bad], "row": None, "column": None,
                                   "value": None, "reason": [b["reason"] for b in raw.bad], "raw": [b["raw"] for b in raw.bad]}))
    if rej.any():
        sub = df.loc[rej]
        parts.append(pd.DataFrame({
            "file": raw.name, "line": raw.lines[rej], "row": np.flatnonzero(rej) + 1, "column": rcol[rej].to_numpy(),
            "value": rval[rej].to_numpy(), "reason": reason[rej].to_numpy(),
            "raw": [json.dumps(dict(zip(sub.columns, map(str, r))), ensure_ascii=False) for r in sub.itertuples(index=False, name=None)]}))
    rframe = pd.concat(parts, ignore_index=True)[REJECT_COLUMNS] if parts else pd.DataFrame(columns=REJECT_COLUMNS)
    reasons = Counter(rframe["reason"].tolist())
    rec = FileRecord(raw.name, raw.rows_read, int(keepm.sum()), len(rframe), raw.encoding, raw.sha256, raw.notes + notes)
    return _Part(data, rframe, rec, miss, unk, unmapped, reasons, int((dup & keepm).sum()), notes)


def _parse(t: pd.Series, ok: np.ndarray, fmts: tuple[str, ...]) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Try formats in order: (naive wall times, UTC instants, has-time flag)."""
    wall = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us]")
    inst = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us, UTC]")
    has_time = np.zeros(len(t), bool)
    todo = ok.copy()
    for fmt in fmts:
        if not todo.any():
            break
        aware = "%z" in fmt
        p = pd.to_datetime(t[todo], format=fmt, errors="coerce", utc=aware)
        year = p.dt.year
        p = p.where((year >= 1678) & (year <= 2261))
        got = p.notna().to_numpy(bool)
        idx = t.index[todo][got]
        if aware:
            inst.loc[idx] = p[got].astype("datetime64[us, UTC]")
        else:
            wall.loc[idx] = p[got].astype("datetime64[us]")
        has_time[np.flatnonzero(todo)[got]] = "%H" in fmt or "%I" in fmt
        todo[np.flatnonzero(todo)[got]] = False
    return wall, inst, has_time


def _dates(t, m, tt, spec: DateSpec, dtype: str, typed: bool):
    fmts = spec.formats + tuple(f for f in _TYPED_FALLBACK if typed and f not in spec.formats)
    wall, inst, has_time = _parse(t, ~m, fmts)
    rawtxt = t.where(~m, None)
    tu = np.zeros(len(t), bool)
    if tt is not None:
        ttxt, tm = tt
        tp, _, _ = _parse("1970-01-01 " + ttxt, ~tm, tuple("%Y-%m-%d " + f for f in spec.time_formats))
        tok = tp.notna().to_numpy(bool)
        tu = ~tm & ~tok & ~m
        delta = tp - pd.Timestamp("1970-01-01")
        w_ok = wall.notna().to_numpy(bool) & tok
        wall[w_ok] = wall[w_ok].dt.normalize() + delta[w_ok]
        has_time = np.where(tok, True, has_time)
        rawtxt = rawtxt.where(tm | m, rawtxt + " " + ttxt)
    parsed = (wall.notna() | inst.notna()).to_numpy(bool)
    u = ~m & ~parsed
    if dtype == "datetime64[ns, tz]":
        tz = spec.tz or "UTC"
        loc = wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        odd = (wall.notna() & loc.isna()).to_numpy(bool)
        if odd.any():
            loc[odd] = wall[odd].dt.tz_localize(tz, ambiguous=np.ones(int(odd.sum()), bool), nonexistent="shift_forward")
        vals = loc.dt.tz_convert("UTC").where(wall.notna(), inst).dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
    elif dtype == "period[M]":
        vals = wall.dt.to_period("M")
    else:
        vals = wall.astype("datetime64[ns]")
    known = pd.Series(np.where(parsed, has_time, False), dtype="boolean").where(parsed, pd.NA)
    return vals, u, known, rawtxt, tu, int(odd.sum()) if dtype == "datetime64[ns, tz]" else 0


# ============================================================================ assembling


def _typed(df: pd.DataFrame, kind: str, scheme: str | None, tz: str) -> pd.DataFrame:
    dtypes = _DTYPES[kind]
    for c in df.columns:
        s = df[c]
        dt = dtypes.get(c, "string" if s.dtype == object or pd.api.types.is_string_dtype(s) else None)
        if dt == "category":
            s = s.astype("string") if s.dtype == object else s
            present = sorted(map(str, pd.unique(s.dropna())))
            if c in ("ethnicity", "ethnicity_detailed"):
                groups = list(US_GROUPS if scheme == "us" else BROAD_GROUPS)
                cats = groups if c == "ethnicity" else [g for g in groups if g in present]
            elif c in _VOCABS and c != "level":
                cats = list(_VOCABS[c])
            else:
                cats = present
            cats += [p for p in present if p not in cats]
            df[c] = pd.Categorical(s, categories=cats, ordered=c == "age_band")
        elif dt == "datetime64[ns, tz]":
            df[c] = pd.to_datetime(s, utc=True).dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
        elif dt == "period[M]":
            df[c] = s.astype("period[M]")
        elif dt == "float64":
            df[c] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif dt in ("string", "boolean", "Int64", "datetime64[ns]"):
            df[c] = s.astype(dt) if s.dtype != object else s.where(s.notna(), None).astype(dt)
    return df


def _age_band(age: pd.Series) -> pd.Series:
    bins = [-np.inf, 10, 18, 25, 35, np.inf]
    return pd.Series(pd.cut(age, bins=bins, right=False, labels=list(AGE_BANDS)), index=age.index).astype(object)


def assemble(parts: list[_Part], spec: MappingSpec, *, source: str | None = None, choices: dict | None = None,
             notes: list[str] | None = None) -> ReadResult:
    """Combine mapped parts into a :class:`ReadResult` with canonical dtypes and a full ledger."""
    kind = spec.kind
    tz = spec.dates["datetime"].tz if "datetime" in spec.dates and spec.dates["datetime"].tz else "UTC"
    data = pd.concat([p.data for p in parts], ignore_index=True) if parts else pd.DataFrame()
    if kind == "events":
        if "datetime" not in data.columns:
            data["datetime"] = pd.Series([], dtype=f"datetime64[ns, {tz}]")
        if "age" in data.columns and "age_band" not in data.columns:
            data["age_band"] = _age_band(pd.to_numeric(data["age"], errors="coerce"))
    data = _typed(data, kind, spec.ethnicity["scheme"] if spec.ethnicity else None, tz)
    if kind == "events":
        data["month"] = data["datetime"].dt.tz_localize(None).dt.to_period("M")
    data = conform(data, kind)
    led = Ledger(source=source or spec.source)
    led.files = [p.record for p in parts]
    for attr, key in (("rejected_by_reason", "reasons"), ("missing_by_field", "missing"), ("unknown_by_field", "unknown")):
        tot: Counter = Counter()
        for p in parts:
            tot.update(getattr(p, key))
        setattr(led, attr, {k: int(v) for k, v in sorted(tot.items()) if v})
    led.duplicates = sum(p.duplicates for p in parts)
    if kind == "events":
        led.months_covered = sorted(data["month"].dropna().astype(str).unique())
    led.areas_covered = sorted(data["force"].dropna().astype(str).unique())
    un: dict[str, Counter] = {}
    for p in parts:
        for f, c in p.unmapped.items():
            un.setdefault(f, Counter()).update(c)
    for f in sorted(un):
        vals = sorted(un[f].items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{v!r} ({k:,})" for v, k in vals[:20]) + (f", ... ({len(vals) - 20} more)" if len(vals) > 20 else "")
        led.notes.append(f"{f}: {len(vals)} distinct value(s) not in the mapping, kept as NA/unknown: {shown}")
    led.choices = {"mapping": spec.name, **({"timezone": tz} if kind == "events" else {})}
    if spec.ethnicity:
        led.choices["ethnicity_field"] = f"{spec.ethnicity['column'][0]} ({spec.ethnicity['label']}, scheme {spec.ethnicity['scheme']})"
    for p in parts:  # mapping notes, title rows and encoding fallbacks also go to the ledger's own notes
        led.notes.extend(f"{os.path.basename(p.record.file)}: {n}" for n in p.record.notes
                         if n in p.notes or n.startswith(("title rows", "not valid UTF-8")))
    led.choices.update(choices or {})
    led.notes.extend(notes or [])
    rejects = Rejects.concat([p.rejects for p in parts])
    return ReadResult(data.reset_index(drop=True), led, rejects, kind)


def read_mapped(
    sources,
    *,
    mapping: dict | str | os.PathLike,
    kind: MappedKind = "events",
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str = "auto",
) -> ReadResult:
    """Read CSV (also ``.csv.gz``), Parquet or Excel files through a column/value mapping.

    Parameters
    ----------
    sources
        A file, a list of files, a glob, a folder, or a zip/tar archive.
    mapping
        A dict, a TOML file, or the name of a built-in mapping (``"opp"``,
        ``"chicago_trr"``, ...). See the module docstring for its keys.
    kind
        ``"events"`` or ``"training"``.
    sheet
        Excel sheet name or 0-based index (default: the mapping's, else the first).
    header_row
        1-based row of the header (overrides the mapping's ``header_row``/``skip_rows``);
        the rows above it are recorded in the ledger notes as title rows.
    encoding
        ``"auto"`` (UTF-8 with a recorded Windows-1252 fallback) or a codec name.

    Returns
    -------
    ReadResult
        Canonical table, ledger and rejects. Excel cells are read as values and
        turned into text here (dates as ``YYYY-MM-DD HH:MM:SS``), never coerced by pandas.

    Raises
    ------
    MappingError
        The mapping is malformed (unknown canonical field: the message lists valid ones).
    MissingColumnsError
        A mapped source column is not in a file (the message lists the closest matches).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "stops.csv"
    >>> _ = p.write_text("Date,Race,Sex\\n2020-01-05,Black,M\\nnot a date,White,F\\n")
    >>> res = read_mapped(p, mapping={"columns": {"datetime": "Date", "sex": "Sex"},
    ...     "constants": {"event_type": "stop"}, "ethnicity": {"column": "Race", "scheme": "us"},
    ...     "dates": {"datetime": {"format": "%Y-%m-%d", "tz": "America/Chicago"}}})
    >>> res.ledger.rows_read, res.ledger.rows_kept, res.ledger.rows_rejected
    (2, 1, 1)
    >>> res.data[["ethnicity", "sex"]].astype(str).values.tolist()
    [['Black', 'Male']]
    """
    check_option("kind", kind, MappedKind)
    spec = load_mapping(mapping, kind=kind)
    parts = [map_table(load_table(name, data, spec=spec, sheet=sheet, header_row=header_row, encoding=encoding), spec)
             for name, data in iter_files(sources, suffixes=_SUFFIXES)]
    return assemble(parts, spec)
