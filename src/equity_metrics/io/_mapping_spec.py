"""Mapping parsing and validation for the generic mapped reader.

Holds the mapping data classes (:class:`MappingSpec`, :class:`DateSpec`), the
canonical-field tables the mapping is checked against (dtypes, vocabularies,
yes/no words, default formats and NA strings), and the functions that turn a
dict, a TOML file or a built-in mapping name into a validated spec
(:func:`mapping_dict`, :func:`builtin_mapping`, :func:`load_mapping`). The keys a
mapping may hold are documented in :mod:`equity_metrics.io.mapped`; everything
here is re-exported from there.
"""

from __future__ import annotations

import copy
import importlib.resources
import os
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._options import check_option
from ..errors import MappingError, OptionError, closest_matches
from ._date_formats import NAMED_FORMATS, check_format, full_width
from ..schema import AGE_BANDS, EVENT_TYPES, EVENTS, SEXES, TRAINING

MappedKind = Literal["events", "training"]
_TOP_KEYS = {"columns", "values", "dates", "constants", "ethnicity", "required", "optional", "id", "id_prefix",
             "keep", "skip_rows", "header_row", "sheet", "delimiter", "na_values", "source", "name", "description", "kind"}
_MANAGED = {"source_file", "source_line", "month", "datetime_raw", "time_known", "duplicate",
            "ethnicity", "ethnicity_detailed", "ethnicity_raw", "ethnicity_source"}
_DTYPES = {"events": {c.name: c.dtype for c in EVENTS}, "training": {c.name: c.dtype for c in TRAINING}}
_DATE_DTYPES = ("datetime64[ns, tz]", "datetime64[ns]", "period[M]")
_DEFAULT_NA = ("NA", "N/A", "NULL", "NaN", "#N/A")
_DEFAULT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d")
_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")
_VOCABS: dict[str, tuple[str, ...]] = {"sex": SEXES, "event_type": EVENT_TYPES, "age_band": AGE_BANDS,
                                       "level": ("officer", "unit", "force")}
_HISPANIC = ("hispanic", "h", "latino", "latina", "hispanic or latino", "hispanic/latino", "yes", "y")


@dataclass(frozen=True)
class DateSpec:
    formats: tuple[str, ...]
    time_column: tuple[str, ...] = ()
    time_formats: tuple[str, ...] = ("%H:%M:%S", "%H:%M", "%H%M")
    tz: str | None = None
    time_optional: bool = False
    padded: frozenset[str] = frozenset()  # formats whose digit strings are left-padded with zeros first (zero_pad)


@dataclass(frozen=True)
class MappingSpec:
    """A validated mapping (see :mod:`equity_metrics.io.mapped` for the keys)."""

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


class DateFormatError(MappingError, OptionError):
    """A date or time format in a mapping that cannot be read safely (both a MappingError and an OptionError)."""


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
        if dtypes[f] == "boolean":
            if isinstance(v, str) and v.strip().casefold() in _TRUE + _FALSE:
                constants[f] = v = v.strip().casefold() in _TRUE
            if not isinstance(v, bool):
                _fail(f"constants.{f}={v!r} must be true or false", name)
        elif dtypes[f] in ("float64", "Int64") and (isinstance(v, bool) or not isinstance(v, (int, float))):
            _fail(f"constants.{f}={v!r} must be a number", name)
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
        bad = set(d) - {"format", "time_column", "time_format", "tz", "column", "time_optional", "zero_pad"}
        if bad:
            _fail(f"dates.{f}: unknown key(s) {sorted(bad)}; valid: format, time_column, time_format, time_optional, "
                  "tz, column, zero_pad", name)
        if not isinstance(d.get("zero_pad", False), bool):
            _fail(f"dates.{f}.zero_pad must be true or false, not {d['zero_pad']!r}", name)
        if "column" in d:
            if f in columns:
                _fail(f"dates.{f}.column repeats columns.{f}; give it once", name)
            columns[f] = _cands(d["column"], f"dates.{f}.column", name)
        fmts, pad_d = _checked(d.get("format", _DEFAULT_FORMATS), f"dates.{f}.format", name, False, d.get("zero_pad", False))
        tfmts, pad_t = _checked(d.get("time_format", DateSpec.time_formats), f"dates.{f}.time_format", name, True,
                                d.get("zero_pad", False))
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
        if d.get("zero_pad", False) and not pad_d | pad_t:
            raise DateFormatError(f"mapping {name!r}: dates.{f}.zero_pad needs a digits-only format with no separators "
                                  "(e.g. '%m%d%Y', '%H%M') under format or time_format")
        if not isinstance(d.get("time_optional", False), bool):
            _fail(f"dates.{f}.time_optional must be true or false, not {d['time_optional']!r}", name)
        dates[f] = DateSpec(fmts, tcol, tfmts, tz, bool(d.get("time_optional", False)), pad_d | pad_t)
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
        hv = eth.get("hispanic_values", _HISPANIC)
        if isinstance(hv, str) or not isinstance(hv, (list, tuple)) or not all(isinstance(v, str) for v in hv):
            _fail(f"ethnicity.hispanic_values must be a list of text values (e.g. [\"Y\", \"Hispanic\"]), not {hv!r}", name)
        eth["hispanic_values"] = tuple(str(v).casefold() for v in hv)
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
    if isinstance(keep, list) and not all(isinstance(k, str) and k.strip() for k in keep):
        _fail(f"keep must list source column names (text), not {keep!r}", name)
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
    if not isinstance(delim, str) or len(delim) != 1 or delim in "\r\n\"":
        _fail(f"delimiter must be one character other than a quote or a line break (e.g. ',', ';', '\\t', '|'), "
              f"not {delim!r}", name)
    idc = _cands(mapping["id"], "id", name) if "id" in mapping else ()
    for key in ("id_prefix", "source", "description"):
        if key in mapping and not isinstance(mapping[key], str):
            _fail(f"{key} must be text, not {mapping[key]!r}", name)
    sheet = mapping.get("sheet")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
        _fail(f"sheet must be a sheet name or a 0-based sheet number, not {sheet!r}", name)
    return MappingSpec(kind, columns, values, dates, constants, eth, required, lists["optional"], idc,
                       str(mapping.get("id_prefix", "")), keep, skip, header, mapping.get("sheet"), delim,
                       frozenset(x.casefold() for x in na) | {""}, str(mapping.get("source", "mapped")), name)


def _formats(v: Any, where: str, name: str) -> tuple[str, ...]:
    fmts = [v] if isinstance(v, str) else v
    if not isinstance(fmts, (list, tuple)) or not fmts or not all(isinstance(x, str) and "%" in x for x in fmts):
        _fail(f"{where} must be a strftime format like '%Y-%m-%d' or a list of them, not {v!r}", name)
    return tuple(fmts)


def _checked(v: Any, where: str, name: str, time_only: bool, zero_pad: bool) -> tuple[tuple[str, ...], frozenset[str]]:
    """Formats with named ones expanded, each checked; and the set to zero-pad."""
    raw = [v] if isinstance(v, str) else v
    if isinstance(raw, (list, tuple)):
        for x in raw:
            if isinstance(x, str) and x.strip().casefold() in NAMED_FORMATS and NAMED_FORMATS[x.strip().casefold()][0].startswith(
                    "%H") != time_only:
                raise DateFormatError(f"mapping {name!r}: {where}: {x!r} is a {'date' if time_only else 'time'} format; "
                                      f"give it under {'format' if time_only else 'time_format'}")
        raw = [NAMED_FORMATS.get(x.strip().casefold(), (x, False)) if isinstance(x, str) else (x, False) for x in raw]
        v = [x for x, _ in raw]
    fmts = _formats(v, where, name)
    padded = {x for x, p in raw if p} if isinstance(raw, list) else set()
    for x in fmts:
        why = check_format(x, time_only=time_only)
        if why:
            eg = "'%H:%M' or 'nypd_hhmm'" if time_only else "'%Y-%m-%d', '%d/%m/%Y' or 'nypd_mddyyyy'"
            raise DateFormatError(f"mapping {name!r}: {where} = {x!r} cannot be used: {why}. Use e.g. {eg} "
                                  "(see docs/mapping.md, 'Dates and times')")
        if zero_pad and full_width(x) is not None:
            padded.add(x)
    return fmts, frozenset(padded)
