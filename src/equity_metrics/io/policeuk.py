"""police.uk stop-and-search CSVs (the monthly bulk download) to the canonical events table.

:func:`read_policeuk` reads one file, a list, a glob, a folder, or the bulk
layout ``YYYY-MM/YYYY-MM-<force>-stop-and-search.csv`` (also inside a ``.zip``
or ``.tar.gz``). A columnar engine (Polars, :mod:`._policeuk_scan`) parses the
files in batches and codes every column as integers into its distinct values;
every conversion is then done once per distinct value and spread to the rows
with vectorised takes (:mod:`._policeuk_convert`), and the table, ledger and
rejects are assembled from the codes (:mod:`._policeuk_assemble`). Files that
are not plainly police.uk-shaped (quotes, other headers or encodings, ragged
records) take the careful path of :mod:`._sources`, with the same result. A plain
file over 64 MB (``LARGE_FILE``) is streamed in pieces, never held whole; the table
itself takes about 190 bytes per search in memory (``count_policeuk`` counts without it).

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

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from ..areas import is_known_force, normalise_force
from .._options import check_option
from ..errors import FileFormatError, OptionError, ReadError, closest_matches
from ..ledger import FileRecord, Ledger, ReadResult
from ._sources import LargeFile, OnDamage, Sources, base_name, decode_bytes, iter_files, parse_csv_text, sha256_bytes
from ._policeuk_assemble import INDEX_NOTE, PoliceukFile, assemble
from ._policeuk_scan import BATCH_BYTES, Encoder, Hasher, ahead, chunks, count_byte, fast_body, parse_bodies, prefetch, stream_pieces
from .policeuk_api import _FIELD_OF, POLICEUK_COLUMNS, EthnicityField, Fallback, _check_ethnicity_options, _choices

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


_File = PoliceukFile


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
    def order(path: str) -> tuple:  # a folder's files in output order (force, month, name): no reordering later
        p = parse_policeuk_filename(base_name(path))
        return (p[0], p[1].ordinal, path) if p else (force_opt or "\uffff", 1 << 40, path)

    items = iter_files(sources, select=select, on_damage=on_damage, damage=damage, order=order, large=LARGE_FILE)
    if progress:
        from .._progress import progress as _progress_bar

        items = _progress_bar(items, desc="reading police.uk files")
    files, failed, enc = _read_all(items, encoding, force_opt, strict)
    suspect = {d["suspect_file"] for d in damage if d.get("suspect_file")}
    failed += [_suspect(f) for f in files if f.name in suspect]
    files = [f for f in files if f.name not in suspect]
    if not files:
        if failed:  # nothing at all could be read: say why, for the first file
            raise failed[0].error
        raise _nothing_selected(seen, want_forces, want_months)
    res = assemble(
        files, enc, columns=POLICEUK_COLUMNS, field_of=_FIELD_OF, want_forces=want_forces, want_months=want_months,
        exp_months=exp_months, ethnicity_field=ethnicity_field, fallback=fallback, skipped=skipped,
        seen_forces={f for f, _ in seen}, choices=_choices(ethnicity_field, fallback),
    )
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


def _read_all(items: Iterable[tuple[str, bytes]], encoding: str, force_opt: str | None, strict: bool):
    """Every file parsed and coded: fast files in batches, the others one by one; files that fail are listed."""
    enc = Encoder()
    files: list[_File] = []
    failed: list[_Failed] = []
    batch: list[tuple[_File, bytes, bytes]] = []
    cols = list(POLICEUK_COLUMNS)

    def careful(name: str, data: bytes, sha: str) -> None:
        try:
            f, frame = _read_one(name, data, sha, encoding, force_opt)
        except ReadError as exc:
            if strict:
                raise
            failed.append(_Failed(name, exc, _line_count(data, name, encoding), sha))
            return
        f.start = enc.add(frame)
        files.append(f)

    def flush() -> None:
        df = parse_bodies([b for _, _, b in batch], cols, sum(f.n for f, _, _ in batch), enc)
        if df is None:  # a record the byte checks did not catch: read these files one by one
            for f, data, _ in batch:
                careful(f.name, data, f.record.sha256 or "")
        else:
            start = enc.add(df)
            for f, _, _ in batch:
                f.start, start = start, start + f.n
                files.append(f)
        batch.clear()

    def big(f: _File, data: bytes, body) -> None:
        f.start = enc.rows
        for part in chunks(body, BATCH_BYTES):
            piece = bytes(part)
            df = parse_bodies([piece], cols, count_byte(piece, b"\n"), enc)
            if df is None:  # rows already coded stay unreferenced
                careful(f.name, data, f.record.sha256 or "")
                return
            enc.add(df)
        files.append(f)

    def stream(name: str, large: LargeFile) -> None:
        """A file too big to hold whole: read, checked, parsed and coded piece by piece."""
        start, n, hasher = enc.rows, 0, Hasher()
        if _misnamed(name) is None:
            for piece in ahead(stream_pieces(large.blocks(BATCH_BYTES), _HEADER, hasher)):  # read and checked ahead
                df = None if piece is None else parse_bodies([piece[0]], cols, piece[1], enc)
                if df is None:
                    break
                enc.add(df)
                n += piece[1]
            else:
                sha = hasher.hexdigest()
                try:
                    f = _fast_file(name, n, sha, force_opt)
                except ReadError:
                    f = None
                if f is not None:
                    f.start = start
                    files.append(f)
                    return
        hasher.hexdigest()
        data = large.read()  # not police.uk-plain: the careful path, whole (rows coded so far stay unreferenced)
        careful(name, data, sha256_bytes(data))

    size = 0

    def check(name: str, data: bytes):
        return fast_body(data, _HEADER) if _misnamed(name) is None else None

    for name, data, sha, fast in prefetch(items, check):
        if isinstance(data, LargeFile):
            if batch:
                flush()
                size = 0
            stream(name, data)
            continue
        f = None
        if fast is not None:
            body, n = fast
            try:
                f = _fast_file(name, n, sha, force_opt)
            except ReadError:
                f = None  # the careful path raises (or records) the same error
        if f is None:
            careful(name, data, sha)
            continue
        if len(body) > BATCH_BYTES:  # a big file: parsed in pieces, its rows stay consecutive
            if batch:
                flush()
                size = 0
            big(f, data, body)
            continue
        batch.append((f, data, body))
        size += len(body)
        if size >= BATCH_BYTES:
            flush()
            size = 0
    if batch:
        flush()
    return files, failed, enc


_HEADER = ",".join(POLICEUK_COLUMNS).encode()
#: Plain files bigger than this are streamed in pieces of BATCH_BYTES, never held whole
LARGE_FILE = 64 << 20
_PANDAS_INDEX = re.compile(r"^(|Unnamed: 0)$")


def _describe(name: str, rec: FileRecord, columns: list[str], force_opt: str | None) -> tuple[str | None, pd.Period | None, bool]:
    """Force and month of a file (from its name, or force=), checked; notes added to ``rec``."""
    p = parse_policeuk_filename(name)
    fslug, month = (p[0], p[1]) if p else (force_opt, None)
    has_force = False
    if p is None:
        if fslug is None and "Force" not in columns:
            raise FileFormatError(
                "the file name does not say which force it is (expected YYYY-MM-<force>-stop-and-search.csv) "
                "and the file has no Force column",
                file=name,
                hint="Pass force='<force>' (e.g. force='west-yorkshire'), or keep the police.uk file name",
            )
        has_force = not fslug
        origin = "force=" if fslug else "the Force column"
        rec.notes.append(f"force from {origin}; month from the dates (the file name has none)")
    return fslug, month, has_force


def _known(fslug: str | None, rec: FileRecord) -> None:
    if fslug is not None and not is_known_force(fslug):
        rec.notes.append(f"force {fslug!r} is not one of the 44 police.uk forces")


def _fast_file(name: str, n: int, sha: str, force_opt: str | None) -> _File:
    rec = FileRecord(name, n, encoding="utf-8", sha256=sha, notes=[])
    fslug, month, _ = _describe(name, rec, list(POLICEUK_COLUMNS), force_opt)
    _known(fslug, rec)
    return _File(name, fslug, month, rec, [], n)


def _read_one(name: str, data: bytes, sha: str, encoding: str, force_opt: str | None) -> tuple[_File, pl.DataFrame]:
    """The careful path (quotes, odd headers, other encodings, ragged records): one file, fully checked."""
    bad_name = _misnamed(name)
    if bad_name is not None:
        raise bad_name
    parsed = parse_csv_text(data, name, encoding=encoding, required=POLICEUK_COLUMNS)
    rec = FileRecord(name, parsed.rows_read, encoding=parsed.encoding, sha256=sha, notes=list(parsed.notes))
    fslug, month, has_force = _describe(name, rec, list(parsed.frame.columns), force_opt)
    cols = list(POLICEUK_COLUMNS) + (["Force"] if has_force else [])
    extra = [c for c in parsed.frame.columns if c not in cols]
    if extra and _PANDAS_INDEX.match(parsed.frame.columns[0]):  # DataFrame.to_csv wrote its index first
        extra = extra[1:]
        rec.notes.append(INDEX_NOTE)
    if extra:
        rec.notes.append(f"column(s) not used: {extra[:10]}")
    _known(fslug, rec)
    rows = None
    if parsed.bad:  # number records among kept and ragged ones alike
        allrec = np.sort(np.concatenate([parsed.lines, np.array([b["line"] for b in parsed.bad], dtype=np.int64)]))
        rows = np.searchsorted(allrec, parsed.lines) + 1
        for b in parsed.bad:
            b["row"] = int(np.searchsorted(allrec, b["line"]) + 1)
    frame = pl.DataFrame({c: parsed.frame[c].astype(object).tolist() for c in cols}, schema={c: pl.String for c in cols})
    f = _File(name, fslug, month, rec, parsed.bad, len(frame), lines=np.asarray(parsed.lines, dtype=np.int64),
              rows=rows, has_force=has_force)  # fmt: skip
    return f, frame
