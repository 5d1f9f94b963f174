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
                time_optional (a missing time column gives dates only), tz, column, zero_pad
                (digit strings that lost leading zeros are left-padded to the format's width);
                named formats "nypd_mddyyyy" (format) and "nypd_hhmm" (time_format).
                Formats with an unknown directive, no year or no month, or %I without %p are
                refused (DateFormatError); a value that touching fields (%m%d%Y, %H%M) read more
                than one way is ambiguous: rejected (required date) or blank, raw text kept.
                See docs/mapping.md.
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
for them ISO formats are also tried after the mapping's own. In a sheet read
without ``header_row``/``skip_rows``, leading rows with at most one value (titles,
often merged cells) above a wider header are skipped and noted in the ledger. Local times in a
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

import fnmatch
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._options import check_option
from ..areas import is_known_force, normalise_forces
from ..errors import FileFormatError, MissingColumnsError, OptionError
from ..ethnicity import BROAD_GROUPS, NOT_STATED, US_GROUPS, harmonise_ethnicity
from ..ledger import REJECT_COLUMNS, FileRecord, Ledger, ReadResult, Rejects
from ..schema import AGE_BANDS, conform
from ._mapped_dates import _TYPED_FALLBACK, _dates, _parse  # noqa: F401  (re-exported)
from ._mapping_spec import (  # noqa: F401  (re-exported: the names this module always offered)
    _DATE_DTYPES,
    _DEFAULT_FORMATS,
    _DEFAULT_NA,
    _DTYPES,
    _FALSE,
    _HISPANIC,
    _MANAGED,
    _TOP_KEYS,
    _TRUE,
    _VOCABS,
    DateSpec,
    MappedKind,
    MappingSpec,
    _builtin,
    _cands,
    _check_field,
    _fail,
    _formats,
    builtin_mapping,
    load_mapping,
    mapping_dict,
)
from ._raw_table import RawTable, _cell, _load_excel, _load_parquet, load_table  # noqa: F401  (re-exported)
from ._sources import iter_files

__all__ = ["read_mapped", "load_mapping", "MappingSpec", "MappedKind"]

_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm", ".xls")
_DEFAULT_SEX = {"m": "Male", "male": "Male", "man": "Male", "f": "Female", "female": "Female", "woman": "Female",
                "other": "Other", "not stated": "Not stated", "unknown": "Not stated", "u": "Not stated"}
_UNMAPPED = object()


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


_POLICEUK_TYPES = {"vehicle search": True, "person search": False, "person and vehicle search": False}


def _vehicle_only(search_type: pd.Series) -> tuple[pd.Series, int]:
    """police.uk rule: 'Vehicle search' -> True, 'Person search' / 'Person and Vehicle search' -> False, else NA."""
    key = search_type.map(lambda v: None if pd.isna(v) else " ".join(str(v).split()).casefold())
    vo = key.map(_POLICEUK_TYPES)
    odd = int((key.notna() & vo.isna()).sum())
    return vo.astype("boolean"), odd


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
    used = [c for c in [*src.values(), *tcols.values(), eth_col, hisp_col, id_col] if c is not None]
    twice = sorted({c for c in used if f"{c}.1" in header})
    if twice:
        raise FileFormatError(f"mapped column(s) {twice} appear more than once in the header (read as {twice[0]!r}, "
                              f"{twice[0] + '.1'!r}): which one holds the values is unknown", file=raw.name,
                              hint="Remove or rename the repeated column, or map the intended one by its renamed name")
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
    ambiguous: dict[str, np.ndarray] = {}  # date field -> values its formats read more than one way
    for f, col in src.items():
        dt = dtypes[f]
        t, m = text(col)
        u = np.zeros(n, bool)
        if dt in _DATE_DTYPES:
            tc = tcols.get(f)
            tt = text(tc) if tc else None
            dspec = spec.dates.get(f, DateSpec(_DEFAULT_FORMATS))
            vals, u, known, rawtxt, tu, odd, amb, tamb = _dates(t, m, tt, dspec, dt, raw.typed)
            for mask, what, fm, txt in ((amb, "date", dspec.formats, t), (tamb, "time", dspec.time_formats, tt[0] if tt else t)):
                if mask.any():
                    ambiguous[f if what == "date" else f"{f}_time"] = mask
                    eg = sorted(set(txt[mask].tolist()))[:5]
                    notes.append(f"{f}: {int(mask.sum())} {what}(s) that format(s) {list(fm)} can read more than one way, "
                                 f"e.g. {eg} ({'rejected if required, else' if what == 'date' else 'the date is kept,'} "
                                 "left blank; raw text kept). If the digits lost their leading zeros (NYPD writes 1012014 "
                                 "for 01012014), set zero_pad = true or use 'nypd_mddyyyy'/'nypd_hhmm'")
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
    if kind == "events" and "search_type" in out and "vehicle_only" not in out:
        out["vehicle_only"], n_odd = _vehicle_only(out["search_type"])
        notes.append("vehicle_only: derived from search_type as the police.uk reader does ('Vehicle search' = True"
                     + (f"; {n_odd} row(s) with another search type left blank: map them with values.search_type)"
                        if n_odd else ")"))
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
        amb = ambiguous.get(f, np.zeros(n, bool))
        for mask, why in ((m & free, f"missing required field {f!r}"),
                          (amb & free, f"ambiguous date in required field {f!r} (the format reads it more than one way)"),
                          (u & ~amb & free, f"unparseable or unmapped required field {f!r}")):
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
        if not unmapped[f]:  # every such row was rejected: nothing to list
            del unmapped[f]
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
                         if n in p.notes or n.startswith(("title rows", "not valid UTF-8", "duplicate column name")))
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
        ``"chicago_trr"``, ``"nypd_sqf"``, ...). See the module docstring for its keys.
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
    _check_read_args(sheet=sheet, header_row=header_row, encoding=encoding)
    spec = load_mapping(mapping, kind=kind)
    parts = [map_table(load_table(name, data, spec=spec, sheet=sheet, header_row=header_row, encoding=encoding), spec)
             for name, data in iter_files(sources, suffixes=_SUFFIXES)]
    return _normalise_forces(assemble(parts, spec))


def _check_read_args(*, sheet, header_row, encoding) -> None:
    """Types of read_mapped's options, checked before any file is opened (else pandas/codecs raise their own errors)."""
    if header_row is not None and (isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1):
        raise OptionError(f"header_row={header_row!r}: give the 1-based row number of the header (e.g. header_row=6), or None")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
        raise OptionError(f"sheet={sheet!r}: give a sheet name or a 0-based sheet number, or None for the first sheet")
    if not isinstance(encoding, str):
        raise OptionError(f"encoding={encoding!r}: give 'auto' or a codec name such as 'utf-8' or 'cp1252'")


def _normalise_forces(res: ReadResult) -> ReadResult:
    """Force names keyed as the population reader keys them (the police.uk slug), raw names kept.

    ``"Metropolitan Police"``, ``"metropolitan"`` and ``"METROPOLITAN POLICE SERVICE"`` all become
    ``"metropolitan"`` (:func:`~equity_metrics.areas.normalise_force`; unknown names are slugified:
    lower case, punctuation to hyphens). When any name changes, the source's own spelling is kept
    in ``force_raw`` and the changes are listed in the ledger notes. Districts and beats keep the
    source's spelling (they are shown to readers); :func:`~equity_metrics.measures.disparity.disparity`
    matches them to population areas with the population reader's normalisation.
    """
    data = res.data
    if "force" not in data.columns or not data["force"].notna().any():
        return res
    raw = data["force"].astype("string")
    slug = normalise_forces(raw).where(raw.notna(), pd.NA)
    changed = (slug != raw).fillna(False).to_numpy(bool)
    if not changed.any():
        return res
    pairs = sorted({(str(a), str(b)) for a, b in zip(raw[changed], slug[changed])})
    res.ledger.notes.append(
        f"force: {len(pairs)} name(s) normalised to police.uk slugs as the population reader does (source spelling "
        f"kept in force_raw): {', '.join(f'{a!r} -> {b!r}' for a, b in pairs[:10])}{' ...' if len(pairs) > 10 else ''}")
    unknown = sorted({b for _, b in pairs if not is_known_force(b)})
    if unknown:
        res.ledger.notes.append(f"force: name(s) not among the police.uk forces, kept slugified: {unknown[:10]}")
    slug = slug.astype("string")
    data["force"] = pd.Categorical(slug) if isinstance(data["force"].dtype, pd.CategoricalDtype) else slug
    data["force_raw"] = raw  # an extra column: after the canonical ones
    res.ledger.areas_covered = sorted(map(str, res.data["force"].dropna().unique()))
    return res
