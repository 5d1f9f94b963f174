"""police.uk stop-and-search CSVs (the monthly bulk download) to the canonical events table.

:func:`read_policeuk` reads one file, a list, a glob, a folder, or the bulk
layout ``YYYY-MM/YYYY-MM-<force>-stop-and-search.csv`` (also inside a ``.zip``
or ``.tar.gz``). Every file is parsed to text with its physical line numbers,
the text tables are concatenated once, and every conversion is done once per
distinct value of a column, so a million rows read in seconds.

What the reader does about the quirks of these files (all recorded in the ledger):

* ``Date`` is UTC; it is converted to Europe/London and ``month`` is the local
  month, so the searches a summer file lists at 23:xx UTC on the last day of the
  previous month land in the file's month. Local midnight means "a date with no
  time" (``time_known`` is False).
* Exact duplicate rows are kept and flagged (``duplicate``), never dropped.
* Both ethnicity fields are kept raw; ``ethnicity`` comes from the chosen field,
  with an optional, recorded fallback; ``ethnicity_source`` says where each
  row's group came from.
* A force-month with no file is *missing* (``ledger.months_missing``), not zero;
  a header-only file is a month with zero searches.
"""

from __future__ import annotations

import os
import re
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..areas import is_known_force, normalise_force, normalise_forces
from .._options import check_option
from ..errors import FileFormatError, OptionError, ReadError, closest_matches
from ..ledger import FileRecord, Ledger, ReadResult, Rejects
from ..schema import conform
from ._sources import OnDamage, Sources, base_name, decode_bytes, iter_files, parse_csv_text, raw_json, sha256_bytes
from .policeuk_api import (
    _NAT,
    POLICEUK_COLUMNS,
    TIMEZONE,
    EthnicityField,
    Fallback,
    _check_ethnicity_options,
    _choices,
    _convert,
    _factor,
    _reject_frame,
)

__all__ = ["read_policeuk", "parse_policeuk_filename", "POLICEUK_COLUMNS", "EthnicityField", "Fallback"]

_NAME_RE = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9][a-z0-9-]*?)-(?P<kind>stop-and-search|street|outcomes)\.csv$", re.I
)
_MONTH_RE = re.compile(r"^\d{4}-(0?[1-9]|1[0-2])$")


def parse_policeuk_filename(name: str) -> tuple[str, pd.Period, str] | None:
    """Force slug, month and kind of a police.uk bulk file name, or None.

    Examples
    --------
    >>> parse_policeuk_filename("2019-04/2019-04-west-yorkshire-stop-and-search.csv")
    ('west-yorkshire', Period('2019-04', 'M'), 'stop-and-search')
    >>> parse_policeuk_filename("searches.csv") is None
    True
    """
    m = _NAME_RE.match(base_name(name))
    if not m or _bad_month(m["month"]):
        return None
    return m["force"].lower(), pd.Period(m["month"], freq="M"), m["kind"].lower()


def _bad_month(month: str) -> bool:
    """True for 'YYYY-MM' text that is no calendar month (year 0000, month 00 or 13..99)."""
    return not (1 <= int(month[:4]) and 1 <= int(month[5:]) <= 12)


def _misnamed(name: str) -> FileFormatError | None:
    """An error for a police.uk file name whose month is impossible (``0000-01-...``, ``2019-13-...``)."""
    m = _NAME_RE.match(base_name(name))
    if m is None or not _bad_month(m["month"]):
        return None
    return FileFormatError(
        f"the file name holds the month {m['month']!r}, which is not a calendar month",
        file=name,
        value=base_name(name),
        hint="Rename the file to its real month (YYYY-MM-<force>-stop-and-search.csv, month 01 to 12)",
    )


def _months_option(value: Any, name: str) -> list[pd.Period] | None:
    """Months given as 'YYYY-MM', a span 'YYYY-MM..YYYY-MM', Periods, or an iterable of them."""
    if value is None:
        return None
    items = [value] if isinstance(value, (str, pd.Period, pd.Timestamp)) else list(value)
    out: set[pd.Period] = set()
    for item in items:
        parts = [x.strip() for x in item.split("..", 1)] if isinstance(item, str) else [item]
        try:
            if any(isinstance(x, str) and not _MONTH_RE.match(x) for x in parts):
                raise ValueError("expected YYYY-MM")
            periods = [pd.Period(x, freq="M") for x in parts]
        except (ValueError, TypeError) as exc:
            raise OptionError(
                f"{name}: {item!r} is not a month ({exc}); give 'YYYY-MM', 'YYYY-MM..YYYY-MM' or a list"
            ) from None
        out.update(pd.period_range(periods[0], periods[-1], freq="M") if len(periods) == 2 else periods)
    if not out:
        raise OptionError(f"{name} is empty; give at least one month, or None for all")
    return sorted(out)


# ============================================================================ the CSV reader


@dataclass
class _File:
    name: str
    force: str | None  # None: per row, from a Force column
    month: pd.Period | None  # None: the name carries no month
    frame: pd.DataFrame
    lines: np.ndarray
    rows: np.ndarray  # data-record number (1-based) of each parsed record
    record: FileRecord
    bad: list[dict]


def read_policeuk(
    sources: Sources,
    *,
    forces: Iterable[str] | str | None = None,
    months: Any = None,
    force: str | None = None,
    ethnicity_field: EthnicityField = "self_defined",
    fallback: Fallback = "none",
    encoding: str = "auto",
    expected_months: Any = None,
    progress: bool = False,
    strict: bool = False,
    on_damage: OnDamage = "raise",
) -> ReadResult:
    """Read police.uk stop-and-search CSVs into the canonical events table.

    Parameters
    ----------
    sources
        A file, a list of files, a glob, a folder, or an archive (``.zip``, ``.tar.gz``)
        in the bulk layout ``YYYY-MM/YYYY-MM-<force>-stop-and-search.csv``. The
        ``-street.csv`` and ``-outcomes.csv`` files of the same download are skipped.
    forces
        Read only these forces (police.uk slugs or names: ``"west-yorkshire"``,
        ``"Metropolitan Police"``). Files are selected by name before being read.
    months
        Read only these file months: ``"2019-04"``, a span ``"2019-01..2019-06"``, or a list.
    force
        Force of files whose names carry none (otherwise their ``Force`` column is used).
    ethnicity_field
        Field ``ethnicity`` comes from: ``"self_defined"`` (as the Home Office does) or
        ``"officer_defined"``.
    fallback
        ``"officer_defined"`` takes the officer-defined group where the self-defined one
        is blank or not stated; ``"none"`` (default) never mixes the fields.
    encoding
        ``"auto"`` (UTF-8, BOM stripped, recorded Windows-1252 fallback) or a codec name.
    expected_months
        Months every force should have, for ``ledger.months_missing`` (same forms as
        ``months``). Default: ``months`` if given, else the first to the last file month read.
    progress
        Show a progress bar over the files on stderr when stderr is a terminal
        (off by default; see :func:`equity_metrics._progress.progress`).
    strict
        ``False`` (default): a file that cannot be read at all (not CSV, columns missing,
        undecodable, an impossible month in its name) is rejected whole and listed in
        ``ledger.files_rejected`` (file, reason, its row count when known) while the other
        files are kept; if no file can be read, the first file's error is raised.
        ``True``: any such file raises its error.
    on_damage
        ``"raise"`` (default): a damaged archive (a gzip checksum or length that does not
        match, a damaged tar header, a corrupt zip member) raises
        :class:`~equity_metrics.errors.FileFormatError` naming the archive and where it
        broke. ``"keep"``: keep the files read before the damage and record it in
        ``ledger.damage`` (archive, byte offset, files read, what is unknown) and the notes.

    Returns
    -------
    ReadResult
        ``data`` (canonical events sorted by force, file month and line; ``event_id`` is
        ``"<force>/<YYYY-MM>/<line>"``), ``ledger`` and ``rejects`` (rows with an unusable
        ``Date`` or the wrong number of fields, with file, line and raw values).

    Raises
    ------
    EmptyFileError, MissingColumnsError, FileFormatError, EncodingError, ReadError
        Naming the file (and line) and what to do: with ``strict=True`` for any file that
        cannot be read, otherwise when none can; and for a damaged archive unless
        ``on_damage="keep"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> row = ("Person search,2019-03-31T23:30:00+00:00,False,,53.8,-1.5,Male,18-24,"
    ...        "White - Irish,White,Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,True,False")
    >>> _ = (d / "2019-04-west-yorkshire-stop-and-search.csv").write_text(",".join(POLICEUK_COLUMNS) + "\\n" + row + "\\n")
    >>> res = read_policeuk(d)
    >>> res.data[["force", "month", "ethnicity", "arrest"]].astype(str).values.tolist()
    [['west-yorkshire', '2019-04', 'White', 'True']]
    >>> res.ledger.rows_read, res.ledger.rows_kept
    (1, 1)
    """
    _check_ethnicity_options(ethnicity_field, fallback)
    check_option("on_damage", on_damage, OnDamage)
    if not isinstance(strict, bool):
        raise OptionError(f"strict={strict!r} is not allowed; give True or False")
    want_forces = None
    if forces is not None:
        want_forces = sorted({normalise_force(f) for f in ([forces] if isinstance(forces, str) else forces)} - {""})
        if not want_forces:
            raise OptionError("forces is empty; give at least one force, or None for all")
    want_months = _months_option(months, "months")
    exp_months = _months_option(expected_months, "expected_months")
    force_opt = normalise_force(force) if force is not None else None
    if force is not None and not force_opt:
        raise OptionError(f"force={force!r} is not a force name")
    seen: set[tuple[str, str]] = set()
    skipped: Counter = Counter()

    def select(base: str) -> bool:
        p = parse_policeuk_filename(base)
        if p is None:
            return True
        if p[2] != "stop-and-search":
            skipped[p[2]] += 1
            return False
        seen.add((p[0], str(p[1])))
        return (want_forces is None or p[0] in want_forces) and (want_months is None or p[1] in want_months)

    damage: list[dict] = []
    items = iter_files(sources, select=select, on_damage=on_damage, damage=damage)
    if progress:
        from .._progress import progress as _progress_bar

        items = _progress_bar(items, desc="reading police.uk files")
    parsed = _parse_all(items, encoding, force_opt, strict)
    suspect = {d["suspect_file"] for d in damage if d.get("suspect_file")}
    parsed = [_suspect(f) if isinstance(f, _File) and f.name in suspect else f for f in parsed]
    files = [f for f in parsed if isinstance(f, _File)]
    failed = [f for f in parsed if isinstance(f, _Failed)]
    if not files:
        if failed:  # nothing at all could be read: say why, for the first file
            raise failed[0].error
        raise _nothing_selected(seen, want_forces, want_months)
    seen_forces = {f for f, _ in seen}
    res = _assemble(files, want_forces, want_months, exp_months, ethnicity_field, fallback, skipped, seen_forces)
    _record_failures(res.ledger, failed, damage)
    return res


@dataclass
class _Failed:
    """A file that could not be read at all (rejected whole unless strict)."""

    name: str
    error: ReadError
    rows: int | None
    sha256: str


def _suspect(f: _File) -> _Failed:
    """The file read just before the damage of its archive: rejected whole (its bytes may be damaged)."""
    err = FileFormatError(
        "read just before the damage of its archive: its bytes may be damaged, so it is not kept",
        file=f.name,
        hint="Download the archive again",
    )
    return _Failed(f.name, err, f.record.rows_read, f.record.sha256 or "")


def _line_count(data: bytes, name: str, encoding: str) -> int | None:
    """Non-blank lines after the first of a file that could not be parsed, when its bytes decode."""
    try:
        text = decode_bytes(data, name, encoding=encoding).text
    except ReadError:
        return None
    lines = [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
    return max(len(lines) - 1, 0)


def _record_failures(ledger: Ledger, failed: list[_Failed], damage: list[dict]) -> None:
    for f in sorted(failed, key=lambda f: f.name):
        ledger.files_rejected.append({"file": f.name, "reason": str(f.error), "rows": f.rows, "sha256": f.sha256})
    if failed:
        known = sum(f.rows or 0 for f in failed)
        ledger.notes.append(
            f"{len(failed)} file(s) rejected whole (they cannot be read; see ledger.files_rejected), holding about "
            f"{known:,} row(s) not in rows_read; pass strict=True to stop at the first"
        )
    ledger.damage.extend(damage)
    for d in damage:
        ledger.notes.append(
            f"DAMAGED ARCHIVE {d['archive']}: {d['problem']} at byte {d['offset']:,} of the unpacked archive, after "
            f"{d['files_read']} file(s) read (last: {d['last_file_read']}); {d['unknown']}"
            if d["offset"] is not None
            else f"DAMAGED ARCHIVE {d['archive']}: {d['problem']}; {d['unknown']}"
        )


def _nothing_selected(seen: set[tuple[str, str]], want_forces, want_months) -> ReadError:
    forces_seen = sorted({f for f, _ in seen})
    months_seen = sorted({m for _, m in seen})
    what = f" forces={want_forces}" if want_forces else ""
    what += f" months={[str(m) for m in want_months][:6]}" if want_months else ""
    shown = ", ".join(forces_seen[:8]) + ("..." if len(forces_seen) > 8 else "")
    hint = f"The sources hold {len(forces_seen)} force(s) ({shown})"
    if months_seen:
        hint += f" and months {months_seen[0]}..{months_seen[-1]}"
    near = {f: closest_matches(f, forces_seen) for f in (want_forces or []) if f not in forces_seen}
    if any(near.values()):
        hint += f"; closest force names: {near}"
    return ReadError(f"no police.uk stop-and-search file matches{what}", hint=hint)


def _parse_all(items: Iterable[tuple[str, bytes]], encoding: str, force_opt: str | None, strict: bool = True) -> list:
    """Parse files in a few threads (Arrow's CSV parser and zlib release the GIL), in input order."""
    workers = min(4, os.cpu_count() or 1)
    out: list[_File | _Failed] = []
    pending: deque = deque()
    with ThreadPoolExecutor(workers) as pool:
        for name, data in items:
            pending.append(pool.submit(_read_or_reject, name, data, encoding, force_opt, strict))
            if len(pending) > 2 * workers:  # bounded read-ahead keeps memory flat
                out.append(pending.popleft().result())
        out += [f.result() for f in pending]
    return out


def _read_or_reject(name: str, data: bytes, encoding: str, force_opt: str | None, strict: bool) -> _File | _Failed:
    try:
        return _read_one(name, data, encoding, force_opt)
    except ReadError as exc:
        if strict:
            raise
        return _Failed(name, exc, _line_count(data, name, encoding), sha256_bytes(data))


_PANDAS_INDEX = re.compile(r"^(|Unnamed: 0)$")


def _read_one(name: str, data: bytes, encoding: str, force_opt: str | None) -> _File:
    bad_name = _misnamed(name)
    if bad_name is not None:
        raise bad_name
    parsed = parse_csv_text(data, name, encoding=encoding, required=POLICEUK_COLUMNS)
    rec = FileRecord(name, parsed.rows_read, encoding=parsed.encoding, sha256=sha256_bytes(data), notes=list(parsed.notes))
    cols = list(POLICEUK_COLUMNS)
    p = parse_policeuk_filename(name)
    fslug, month = (p[0], p[1]) if p else (force_opt, None)
    if p is None:
        if fslug is None and "Force" not in parsed.frame.columns:
            raise FileFormatError(
                "the file name does not say which force it is (expected YYYY-MM-<force>-stop-and-search.csv) "
                "and the file has no Force column",
                file=name,
                hint="Pass force='<force>' (e.g. force='west-yorkshire'), or keep the police.uk file name",
            )
        cols += [] if fslug else ["Force"]
        origin = "force=" if fslug else "the Force column"
        rec.notes.append(f"force from {origin}; month from the dates (the file name has none)")
    extra = [c for c in parsed.frame.columns if c not in cols]
    if extra and _PANDAS_INDEX.match(parsed.frame.columns[0]):  # DataFrame.to_csv wrote its index first
        extra = extra[1:]
        rec.notes.append(_INDEX_NOTE)
    if extra:
        rec.notes.append(f"column(s) not used: {extra[:10]}")
    if fslug is not None and not is_known_force(fslug):
        rec.notes.append(f"force {fslug!r} is not one of the 44 police.uk forces")
    rows = np.arange(1, len(parsed.lines) + 1, dtype=np.int64)
    if parsed.bad:  # number records among kept and ragged ones alike
        allrec = np.sort(np.concatenate([parsed.lines, np.array([b["line"] for b in parsed.bad], dtype=np.int64)]))
        rows = np.searchsorted(allrec, parsed.lines) + 1
        for b in parsed.bad:
            b["row"] = int(np.searchsorted(allrec, b["line"]) + 1)
    frame = parsed.frame if list(parsed.frame.columns) == cols else parsed.frame[cols]
    return _File(name, fslug, month, frame, parsed.lines, rows, rec, parsed.bad)


_INDEX_NOTE = "first column has no name: a pandas index (written by DataFrame.to_csv), ignored"


def _assemble(
    files: list[_File], want_forces, want_months, exp_months, ethnicity_field, fallback, skipped, seen_forces
) -> ReadResult:
    files.sort(key=lambda f: (f.force or "\uffff", f.month or pd.Period("9999-12", freq="M"), f.name))
    per_row_force = any(f.force is None for f in files)
    cols = list(POLICEUK_COLUMNS) + (["Force"] if per_row_force else [])
    frames = [f.frame.assign(Force=f.force) if per_row_force and f.force else f.frame for f in files]
    raw = pd.concat([fr if list(fr.columns) == cols else fr[cols] for fr in frames], ignore_index=True)
    group = np.repeat(np.arange(len(files), dtype=np.int32), [len(f.frame) for f in files])
    del frames
    for f in files:  # the concatenated table holds the text now
        f.frame = f.frame.iloc[:0]
    lines = np.concatenate([f.lines for f in files])
    rownos = np.concatenate([f.rows for f in files])
    notes: list[str] = []
    excluded = _row_filter(raw, files, group, want_forces, want_months)
    if excluded.any():
        for i, k in Counter(group[excluded].tolist()).items():
            files[i].record.rows_read -= k
            files[i].record.notes.append(f"{k} row(s) excluded by forces=/months=")
        notes.append(f"{int(excluded.sum())} row(s) of files without force and month in their names excluded by forces=/months=")
        raw = raw.loc[~excluded].reset_index(drop=True)
        group, lines, rownos = group[~excluded], lines[~excluded], rownos[~excluded]
    conv = _convert(raw, group=group, source="policeuk", ethnicity_field=ethnicity_field, fallback=fallback)
    keep, c = conv.keep, conv.columns

    # ---- rejects: ragged records, then rows whose Date is unusable
    records = [{"file": f.name, "column": None, "value": None, "_g": i, **b} for i, f in enumerate(files) for b in f.bad]
    if not keep.all():
        bad = np.flatnonzero(~keep)
        raws, dates = raw_json(raw, ~keep), raw["Date"].to_numpy(dtype=object)[bad]
        records += [
            {"file": files[group[i]].name, "line": int(lines[i]), "row": int(rownos[i]), "column": "Date", "value": str(d),
             "reason": conv.reason[i], "raw": r, "_g": int(group[i])}
            for i, d, r in zip(bad, dates, raws)
        ]
    g, lines = group[keep], lines[keep]

    # ---- provenance of kept rows
    if per_row_force:
        fcodes, _, fstrip = _factor(raw["Force"][keep].reset_index(drop=True))
        flabels = list(normalise_forces(pd.Series(fstrip, dtype=object)))
        forces_all = sorted({v for v in flabels if v})
        force_codes = np.array([forces_all.index(v) if v else -1 for v in flabels] + [-1], dtype=np.int32)[fcodes]
    else:
        forces_all = sorted({f.force for f in files})
        force_codes = np.array([forces_all.index(f.force) for f in files] + [-1], dtype=np.int32)[g]
    c["force"] = pd.Categorical.from_codes(force_codes, categories=forces_all)
    month_ord = np.array([f.month.ordinal if f.month else _NAT for f in files] + [_NAT])
    c["file_month"] = pd.PeriodIndex.from_ordinals(month_ord[g], freq="M")
    names = [f.name for f in files]
    if len(set(names)) == len(names):
        c["source_file"] = pd.Categorical.from_codes(g.astype(np.int32), categories=names)
    else:  # the same file given twice
        c["source_file"] = pd.Categorical(np.array(names, dtype=object)[g])
    c["source_line"] = pd.array(lines, dtype="Int64")
    c["event_id"] = _event_ids(files, g, lines, force_codes, forces_all)
    data = pd.DataFrame(c)
    if per_row_force:  # rows of one file may belong to several forces
        order = np.lexsort((lines, g, data["force"].cat.codes.to_numpy()))
        data, g = data.take(order).reset_index(drop=True), g[order]

    # ---- ledger
    kept_by_file = np.bincount(g, minlength=len(files))
    rejected_by_file = Counter(r["_g"] for r in records)
    for i, f in enumerate(files):
        f.record.rows_kept, f.record.rows_rejected = int(kept_by_file[i]), rejected_by_file.get(i, 0)
    ledger = Ledger(source="policeuk", files=[f.record for f in files])
    ledger.rejected_by_reason = dict(sorted(Counter(r["reason"] for r in records).items()))
    ledger.missing_by_field = dict(sorted(conv.missing.items()))
    if per_row_force:
        ledger.missing_by_field["force"] = int((force_codes < 0).sum())
    ledger.unknown_by_field = dict(sorted(conv.unknown.items()))
    ledger.duplicates = int(data["duplicate"].sum())
    ledger.choices = _choices(ethnicity_field, fallback)
    _coverage(ledger, files, data, want_forces, want_months, exp_months, notes, seen_forces)
    if fallback != "none":
        notes.append(
            f"ethnicity: officer-defined group used for {conv.fallback_used:,} row(s) whose self-defined group was blank or not stated"
        )
    if skipped:
        notes.append("skipped files that are not stop-and-search: " + ", ".join(f"{v} {k}" for k, v in sorted(skipped.items())))
    flags = ("UTF-8", "UTF-16", "not used")
    notes += [f"{f.name}: {n}" for f in files for n in f.record.notes if any(x in n for x in flags)]
    unknown_forces = sorted({n.split("'")[1] for f in files for n in f.record.notes if "not one of the" in n})
    if unknown_forces:  # once per force, not once per file
        notes.append(f"force(s) not among the 44 police.uk forces (kept as given): {', '.join(unknown_forces)}")
    indexed = sum(_INDEX_NOTE in f.record.notes for f in files)
    if indexed:  # once, not once per file
        notes.append(f"{indexed} file(s) start with an unnamed column, a pandas index (written by DataFrame.to_csv): ignored")
    twins = len(files) - len({f.record.sha256 for f in files})
    if twins:
        notes.append(f"{twins} file(s) have the same bytes as another file read: their searches are in the table twice")
    ledger.notes = notes
    return ReadResult(data=conform(data, "events"), ledger=ledger, rejects=Rejects(_reject_frame(records)), kind="events")


def _row_filter(raw: pd.DataFrame, files: list[_File], group: np.ndarray, want_forces, want_months) -> np.ndarray:
    """Rows of files without force/month in their names that forces=/months= exclude."""
    unnamed = np.array([f.month is None for f in files] + [False])[group]
    excluded = np.zeros(len(raw), dtype=bool)
    if not unnamed.any() or (want_forces is None and want_months is None):
        return excluded
    if want_forces is not None:
        fcol = raw["Force"] if "Force" in raw.columns else pd.Series(np.array([f.force for f in files], dtype=object)[group])
        excluded |= unnamed & ~normalise_forces(fcol).isin(want_forces).to_numpy()
    if want_months is not None:
        d = pd.to_datetime(raw["Date"].str.strip(), format="ISO8601", utc=True, errors="coerce")
        month = d.dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.to_period("M")
        excluded |= unnamed & d.notna().to_numpy() & ~month.isin(want_months).to_numpy()
    return excluded


def _event_ids(files: list[_File], g: np.ndarray, lines: np.ndarray, force_codes: np.ndarray, forces: list[str]):
    """'<force>/<YYYY-MM>/<line>' (or '<force>/<file stem>/<line>'), unique across files."""
    seen: Counter = Counter()
    parts = []
    for f in files:
        stem = str(f.month) if f.month is not None else os.path.basename(f.name.split("::")[-1]).rsplit(".", 1)[0]
        seen[(f.force, stem)] += 1
        parts.append(stem if seen[(f.force, stem)] == 1 else f"{stem}#{seen[(f.force, stem)]}")

    def decode(codes: np.ndarray, labels: list[str]) -> pa.Array:
        dictionary = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), pa.array(labels, type=pa.string()))
        return dictionary.dictionary_decode()

    ln = pc.cast(pa.array(lines, type=pa.int64()), pa.string())
    if all(f.force is not None for f in files):  # one prefix per file
        prefixes = [f"{f.force}/{part}/" for f, part in zip(files, parts)]
        return pd.arrays.ArrowStringArray(pc.binary_join_element_wise(decode(g.astype(np.int32), prefixes), ln, ""))
    fv = decode(np.where(force_codes < 0, len(forces), force_codes), list(forces) + ["unknown"])
    return pd.arrays.ArrowStringArray(pc.binary_join_element_wise(fv, decode(g.astype(np.int32), parts), ln, "/"))


def _coverage(
    ledger: Ledger, files: list[_File], data: pd.DataFrame, want_forces, want_months, exp_months, notes, seen_forces
) -> None:
    """months_covered, areas_covered, months_missing (force-months with no file), month attribution check.

    Forces expected: those asked for, else every force named by a file in the sources
    (even when ``months=`` left none of its files to read)."""
    have = {(f.force, f.month) for f in files if f.month is not None}
    areas = {f.force for f in files if f.force}
    unnamed = data["file_month"].isna().to_numpy()
    if unnamed.any():
        sub = data.loc[unnamed, ["force", "month"]].dropna().drop_duplicates()
        have.update((str(a), m) for a, m in zip(sub["force"], sub["month"]))
        areas.update(str(a) for a in sub["force"])
        notes.append("files without a month in their names cover the months of their rows only")
    months_have = sorted({m for _, m in have})
    ledger.months_covered = [str(m) for m in months_have]
    ledger.areas_covered = sorted(areas)
    span = list(pd.period_range(months_have[0], months_have[-1], freq="M")) if months_have else []
    expected = exp_months or want_months or span
    exp_forces = sorted(set(want_forces) if want_forces is not None else areas | seen_forces)
    ledger.months_missing = sorted((a, str(m)) for a in exp_forces for m in expected if (a, m) not in have)
    absent = [f for f in (want_forces or []) if f not in areas]
    if absent:
        notes.append(f"no file at all for requested force(s) {absent}: every expected month is missing")
    named = ~unnamed
    if named.any():
        fm = data["file_month"][named]
        local_diff = int((data["month"][named] != fm).sum())
        utc_month = data["datetime"][named].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
        utc_diff = int((utc_month != fm).sum())
        ledger.choices["month_attribution"] = {
            "rule": f"month = local ({TIMEZONE}) calendar month of Date; file_month = month in the file name",
            "rows_local_month_not_file_month": local_diff,
            "rows_utc_month_not_file_month": utc_diff,
        }
        notes.append(
            f"{local_diff:,} row(s) fall in a local month other than their file's month ({utc_diff:,} would by the "
            "UTC month: summer files start at 23:xx UTC on the previous month's last day)"
        )
