"""Counts from police.uk archives of any size, on the engine of your choice: one query, several engines.

:func:`count_policeuk` gives the same numbers, ledger and rejects as
:func:`~equity_metrics.io.policeuk.read_policeuk` followed by a group-by, without
ever holding the rows in pandas. The engine reads the files itself:

* files are found as the reader finds them (a file, list, glob, folder, ``.zip`` or
  ``.tar.gz``; force and month from the file names). Python only reads each file's
  bytes once, hashes them (SHA-256, in a background thread) and checks them with
  the reader's own test (:func:`~equity_metrics.io._policeuk_scan.fast_body`: the
  police.uk header, no quotes, CR, NUL or blank lines, 14 commas a record, UTF-8;
  DuckDB and Spark drop blank lines and ragged records themselves, so for them the
  file's row count on the engine, against its number of lines, checks those two);
* such a plain file's records are parsed by the engine, every field as text: for
  DuckDB and Polars joined into chunks of about 64 MB (:class:`._direct.Joiner`,
  :meth:`Backend.add_joined <equity_metrics.io._engines.Backend.add_joined>`: one
  CSV per chunk with the file id as first field for DuckDB's ``read_csv``, one
  ``read_csv`` call per chunk of bytes for Polars), since an engine parses one big
  input much faster than many small files; Spark's ``read.csv`` reads the files
  where they are (:meth:`Backend.scan_csv <equity_metrics.io._engines.Backend.scan_csv>`;
  archive members are first unpacked into a temporary folder). Their duplicates
  are counted from their lines as the bytes go by (equal lines, equal rows);
* any other file (quotes, another header, CR line ends, another encoding, ragged
  records, a file name without force and month) is decoded and parsed by the
  reader's own careful parser, so line numbers, rejects and notes are the reader's,
  and its rows go to the engine as Arrow batches (Polars memory, a DuckDB table, or
  Parquet parts for Spark); so does a plain-looking file whose records the engine
  drops or refuses (a short and a long record whose commas add up);
* one engine-neutral query written with Narwhals (:mod:`._count_query`) then turns
  the rows into the ledger (rows kept, rejected and excluded per file, missing and
  unknown values, duplicates, local-vs-UTC month attribution) and the counts, on the
  chosen engine (:mod:`._engines`): Polars, DuckDB (``memory_limit``, spills to
  disk) or Spark (a local ``local[2]`` session, or the caller's ``spark=`` session);
* the rare rows whose date is not plain ISO 8601 in UTC get their reject reason and
  month from the reader's own function, once per distinct value, and their file and
  line from the reader's parser.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .._options import check_option
from ..areas import is_known_force, normalise_force
from ..errors import EquityMetricsError, FileFormatError, MissingColumnsError, OptionError
from ..ledger import FileRecord, Ledger, Rejects
from ._count_query import R as _R
from ._count_query import FAST_DATE, CountQuery, _valid_days, coverage, dates_all_fast
from ._counts import DEFAULT_BY, CountBy, EventCounts, check_by, counts_from_events
from ._direct import Joiner, checked_body, duplicate_lines, engine_file, large_pieces, ragged_files, stream_large
from ._policeuk_scan import prefetch
from ._engines import Engine, backend_for
from ._sources import LargeFile, Sources, base_name, decode_bytes, iter_files, parse_csv_text, raw_json, read_header, sha256_bytes
from .policeuk import LARGE_FILE, _months_option, _nothing_selected, parse_policeuk_filename, read_policeuk
from .policeuk_api import (
    POLICEUK_COLUMNS,
    TIMEZONE,
    EthnicityField,
    Fallback,
    _check_ethnicity_options,
    _choices,
    _parse_dates,
    _reject_frame,
)

__all__ = ["count_policeuk", "EventCounts", "Engine"]

_BATCH_BYTES = 32 * 2**20
_SCHEMA = pa.schema([pa.field("fid", pa.int32()), *[pa.field(r, pa.string()) for r in _R.values()]])


@dataclass
class _Info:
    """One input file: what the reader would know about it."""

    fid: int
    name: str
    force: str | None
    month: pd.Period | None
    record: FileRecord
    rows: int = 0  # data records parsed (kept + ragged), before forces=/months= exclusion
    records: list[dict] = field(default_factory=list)  # rejects (ragged rows, bad dates)
    date_rejects: int = 0  # of which Date rejects
    head_notes: int = 0  # notes from decoding and the header (the careful parse's own notes go after them)
    dups: int = 0  # duplicate records among its lines (a file the engine reads itself)


def count_policeuk(
    sources: Sources,
    *,
    forces: Iterable[str] | str | None = None,
    by: str | Iterable[CountBy] = DEFAULT_BY,
    months: Any = None,
    force: str | None = None,
    ethnicity_field: EthnicityField = "self_defined",
    fallback: Fallback = "none",
    expected_months: Any = None,
    encoding: str = "auto",
    engine: Engine = "duckdb",
    memory_limit: str = "1GB",
    threads: int | None = None,
    spark: Any = None,
) -> EventCounts:
    """Count police.uk stop-and-search records by force, month, ethnicity, ... on DuckDB, Polars or Spark.

    Parameters
    ----------
    sources
        As :func:`~equity_metrics.io.policeuk.read_policeuk`: a file, list, glob, folder,
        ``.zip`` or ``.tar.gz`` in the bulk layout ``YYYY-MM/YYYY-MM-<force>-stop-and-search.csv``.
    forces, months, force, ethnicity_field, fallback, expected_months, encoding
        As :func:`~equity_metrics.io.policeuk.read_policeuk` (the same choices, recorded
        in the ledger the same way).
    by
        Columns to count by, any of ``force, month, file_month, ethnicity,
        ethnicity_detailed, officer_defined_ethnicity, ethnicity_source, sex, age_band,
        search_type, vehicle_only, legal_power, object_of_search, outcome, arrest, hit,
        outcome_linked, strip_search, policing_operation`` (the canonical events columns
        of that name). Add ``"vehicle_only"`` to use the counts in
        :func:`~equity_metrics.disparity` when some searches are vehicle-only.
    engine
        Where the count query runs (the same query, the same answer):
        ``"duckdb"`` (default; embedded, for data bigger than memory: ``pip install
        "equity_metrics[large]"``), ``"polars"`` (in memory), ``"spark"`` (``pip install
        "equity_metrics[spark]"`` and Java 17+: a local ``local[2]`` session, or the
        session given as ``spark=``), or ``"pandas"`` (:func:`read_policeuk` then a
        group-by: the reference, with the rows in memory).
    memory_limit
        DuckDB's memory limit (``"1GB"``, ``"500MB"``); DuckDB spills to a temporary
        folder beyond it.
    threads
        DuckDB threads (default: up to 4).
    spark
        An existing ``SparkSession`` (a cluster's, Databricks') for ``engine="spark"``;
        default: a local session created once per process.

    Returns
    -------
    EventCounts
        ``data`` (the ``by`` columns and ``n``), ``ledger`` and ``rejects``, equal to
        those of :func:`read_policeuk` on the same sources, whatever the engine.

    Raises
    ------
    OptionError
        A bad option; an engine whose package (or Java, for Spark) is missing; files
        whose names carry no force and no ``force=`` (use ``engine="pandas"``: it reads
        their ``Force`` column).
    EmptyFileError, MissingColumnsError, FileFormatError, EncodingError, ReadError
        As :func:`read_policeuk`.

    Examples
    --------
    >>> import equity_metrics as em
    >>> c = count_policeuk(em.datasets.sample_path() / "policeuk", by=["force", "ethnicity"])
    >>> c.data.columns.tolist(), int(c.data["n"].sum()) == c.ledger.rows_kept
    (['force', 'ethnicity', 'n'], True)
    >>> p = count_policeuk(em.datasets.sample_path() / "policeuk", by=["force", "ethnicity"], engine="polars")
    >>> p.data.equals(c.data), p.ledger.to_dict() == c.ledger.to_dict()
    (True, True)
    """
    by = check_by(by)
    check_option("engine", engine, Engine)
    _check_ethnicity_options(ethnicity_field, fallback)
    opts = dict(forces=forces, months=months, force=force, ethnicity_field=ethnicity_field, fallback=fallback,
                expected_months=expected_months, encoding=encoding)  # fmt: skip
    if engine == "pandas":
        res = read_policeuk(sources, **opts)
        vo = int(res.data["vehicle_only"].fillna(False).to_numpy(bool).sum())
        return EventCounts(counts_from_events(res.data, by), res.ledger, res.rejects, by, "pandas", vo)
    if spark is not None and engine != "spark":
        raise OptionError(f"spark= is a SparkSession for engine='spark'; engine is {engine!r}")
    tmp = tempfile.mkdtemp(prefix="equity_metrics_large_")
    try:
        backend = backend_for(engine, tmp, memory_limit=memory_limit, threads=threads, spark=spark)
        try:
            return _Run(backend, by, **opts).run(sources)
        finally:
            backend.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _plain(text: str, header_line: int) -> bool:
    """Whether a file may be one record per physical line (else the reader's careful parser reads it)."""
    if header_line != 1 or "\n\n" in text or "\n\r\n" in text:
        return False
    cr = text.count("\r")
    return cr == 0 or cr == text.count("\r\n")  # a lone CR (not part of CRLF) is a line end pyarrow and we count apart


def _read_plain(body: bytes, cols: list[str], skip: int, threads: bool = False) -> tuple[pa.Table | None, bool]:
    """pyarrow's read of CSV bytes as all text (the reader's fast path); (table, whether a row was ragged)."""
    bad: list = []
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=cols, skip_rows=skip, use_threads=threads, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: bad.append(row) or "skip", ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(POLICEUK_COLUMNS), column_types={c: pa.string() for c in POLICEUK_COLUMNS},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None, True
    return table, bool(bad)


def _fast_table(text: str, body: bytes, header_line: int, cols: list[str], fid: int) -> pa.Table | None:
    """The staged rows of a file that is one record per physical line (as the reader's fast path), else None."""
    if not _plain(text, header_line):
        return None
    n_phys = text.count("\n") + (0 if text.endswith("\n") else 1)
    table, ragged = _read_plain(body, cols, 1)
    if table is None or ragged or table.num_rows != n_phys - 1:
        return None
    columns = {"fid": pa.array(np.full(table.num_rows, fid, dtype=np.int32))}
    columns.update({r: table.column(c) for c, r in _R.items()})
    return pa.table(columns, schema=_SCHEMA)


class _Run:
    """One count: stage the files' rows on the engine, then ledger, rejects and counts by the neutral query."""

    def __init__(self, backend, by, *, forces, months, force, ethnicity_field, fallback, expected_months, encoding):
        self.backend, self.by = backend, by
        self.ethnicity_field, self.fallback, self.encoding = ethnicity_field, fallback, encoding
        self.want_forces = None
        if forces is not None:
            self.want_forces = sorted({normalise_force(f) for f in ([forces] if isinstance(forces, str) else forces)} - {""})
            if not self.want_forces:
                raise OptionError("forces is empty; give at least one force, or None for all")
        self.want_months = _months_option(months, "months")
        self.exp_months = _months_option(expected_months, "expected_months")
        self.force_opt = normalise_force(force) if force is not None else None
        if force is not None and not self.force_opt:
            raise OptionError(f"force={force!r} is not a force name")
        self.files: list[_Info] = []
        self.direct: dict[int, str] = {}  # fid -> the path the engine reads (plain files with rows)
        self.folder = None
        if backend.reads_files and encoding == "auto":
            self.folder = os.path.join(backend.tmp, "files")
            os.makedirs(self.folder, exist_ok=True)
        self.seen: set[tuple[str, str]] = set()
        self.skipped: Counter = Counter()
        self.pending: list[tuple] = []
        self.pending_bytes = 0
        self._names: dict[str, Any] = {}
        self.left_out: list[int] = []  # files handed over joined, then read the careful way
        self.joiner = None
        if self.folder is not None and backend.joins_files:
            self.joiner = Joiner(lambda fids, bodies, counts: backend.add_joined(fids, bodies, counts, list(_R.values())))

    def _name(self, name: str) -> Any:
        """:func:`parse_policeuk_filename`, once per base name."""
        base = base_name(name)
        if base not in self._names:
            self._names[base] = parse_policeuk_filename(base)
        return self._names[base]

    # ------------------------------------------------------------------ loading
    def _select(self, base: str) -> bool:
        p = self._name(base)
        if p is None:
            return True
        if p[2] != "stop-and-search":
            self.skipped[p[2]] += 1
            return False
        self.seen.add((p[0], str(p[1])))
        return (self.want_forces is None or p[0] in self.want_forces) and (self.want_months is None or p[1] in self.want_months)

    def run(self, sources: Sources) -> EventCounts:
        for name, data, sha, _ in prefetch(iter_files(sources, select=self._select, large=LARGE_FILE), depth=16):
            if isinstance(data, LargeFile):  # streamed: never held whole unless it needs the careful path
                if self._direct_large(name, data):
                    continue
                data = data.read()
                sha = sha256_bytes(data)
            if not self._direct(name, data, sha):
                self._add(name, data, sha)
        if self.joiner is not None:
            self._refused(self.joiner.flush() + self.backend.joined_refused())
        self._flush()
        if not self.files:
            raise _nothing_selected(self.seen, self.want_forces, self.want_months)
        self.files.sort(key=lambda f: (f.force or "\uffff", f.month or pd.Period("9999-12", freq="M"), f.name))
        return self._finish()

    def _direct(self, name: str, data: bytes, sha: str) -> bool:
        """A named file whose physical lines are its records (the reader's byte checks): the engine reads it itself."""
        if self.folder is None:
            return False
        p = self._name(name)
        if p is None and self.force_opt is None:  # the force would come from a Force column, row by row
            return False
        n = checked_body(data, engine_counts=self.backend.drops_bad_records)
        if n is None:
            return False
        info = self._direct_info(name, p, sha, n)
        if n:
            if self.joiner is not None and "::" not in name and not data.startswith(b"\xef\xbb\xbf"):
                self.direct[info.fid] = name  # read again from where it is, if ever (rejects, a refused file)
            else:
                self.direct[info.fid] = engine_file(self.folder, info.fid, name, data, id_names=self.backend.needs_id_names)
            info.dups = duplicate_lines(data)
            if self.joiner is not None:
                self._refused(self.joiner.add(info.fid, data, n))
        return True

    def _direct_large(self, name: str, large: LargeFile) -> bool:
        """:meth:`_direct` for a plain file too big to hold: checked, hashed and its duplicates counted as it is
        streamed (:func:`~._direct.stream_large`), then handed to the engine piece by piece (or by its path)."""
        if self.folder is None:
            return False
        p = self._name(name)
        if p is None and self.force_opt is None:
            return False
        with open(large.path, "rb") as fh:
            bom = fh.read(3) == b"\xef\xbb\xbf"
        if bom and self.joiner is None:  # the engine would read the mark as text: the careful path
            return False
        streamed = stream_large(large)
        if streamed is None:
            return False
        n, dups, sha = streamed
        info = self._direct_info(name, p, sha, n)
        info.dups = dups
        if n:
            self.direct[info.fid] = name if self.joiner is not None else engine_file(
                self.folder, info.fid, name, b"", id_names=self.backend.needs_id_names)  # fmt: skip
            if self.joiner is not None:
                for body, k in large_pieces(large):
                    self._refused(self.joiner.add_records(info.fid, body, k))
        return True

    def _direct_info(self, name: str, p: Any, sha: str, n: int) -> _Info:
        """The file record of a file the engine reads itself."""
        fslug, month = (p[0], p[1]) if p is not None else (self.force_opt, None)
        info = _Info(len(self.files), name, fslug, month, FileRecord(name, 0, encoding="utf-8", sha256=sha, notes=[]), rows=n)
        if p is None:  # one force, named by force=; months from the dates (as the careful path)
            info.record.notes.append("force from force=; month from the dates (the file name has none)")
        if not is_known_force(fslug):
            info.record.notes.append(f"force {fslug!r} is not one of the 44 police.uk forces")
        self.files.append(info)
        return info

    def _refused(self, fids: list[int]) -> None:
        """Files the engine refused in a joined chunk (a ragged record): read the careful way.

        Their records in other chunks (a big file comes in pieces) are left out of the joined rows."""
        self.left_out += [f for f in fids if f not in self.left_out]
        for fid in fids:
            with open(self.direct.pop(fid), "rb") as fh:
                self._stage(self.files[fid], fh.read())

    def _add(self, name: str, data: bytes, sha: str) -> None:
        """Decode and check one file as the reader does, then stage its rows."""
        dec = decode_bytes(data, name, encoding=self.encoding)
        text, notes = dec.text, list(dec.notes)
        reader, header_line, cols = read_header(text, name, notes)
        missing = [c for c in POLICEUK_COLUMNS if c not in cols]
        if missing:
            raise MissingColumnsError(file=name, missing=missing, found=cols)
        head = len(notes)
        rec = FileRecord(name, 0, encoding=dec.encoding, sha256=sha, notes=notes)
        p = self._name(name)
        fslug, month = (p[0], p[1]) if p else (self.force_opt, None)
        if p is None:
            if fslug is None:
                if "Force" not in cols:
                    raise FileFormatError(
                        "the file name does not say which force it is (expected YYYY-MM-<force>-stop-and-search.csv) "
                        "and the file has no Force column",
                        file=name,
                        hint="Pass force='<force>' (e.g. force='west-yorkshire'), or keep the police.uk file name",
                    )
                raise OptionError(
                    f"{name}: the file name carries no force, so its Force column would be read row by row, which "
                    "engine='duckdb' does not do; pass force='<force>' if the file holds one force, or engine='pandas'"
                )
            rec.notes.append("force from force=; month from the dates (the file name has none)")
        info = _Info(len(self.files), name, fslug, month, rec, head_notes=head)
        self.files.append(info)
        extra = [c for c in cols if c not in POLICEUK_COLUMNS]
        if extra:
            rec.notes.append(f"column(s) not used: {extra[:10]}")
        if fslug is not None and not is_known_force(fslug):
            rec.notes.append(f"force {fslug!r} is not one of the 44 police.uk forces")
        body = data if dec.encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf") else text.encode("utf-8")
        if not _plain(text, header_line):  # not one record per physical line: the reader's careful parser
            self._stage(info, body)
            return
        key = tuple(cols)
        if self.pending and self.pending[0][2] != key:
            self._flush()
        n_rows = text.count("\n") + (0 if text.endswith("\n") else 1) - 1
        cut = body.find(b"\n") + 1 if n_rows else len(body)
        data_part = body[cut:] if cut else b""
        if data_part and not data_part.endswith(b"\n"):
            data_part += b"\n"
        self.pending.append((info, body, key, n_rows, data_part))
        self.pending_bytes += len(data_part)
        if self.pending_bytes >= _BATCH_BYTES:
            self._flush()

    def _flush(self) -> None:
        """Parse the queued plain files in one pyarrow read; if any is not one record per line, file by file."""
        items, self.pending, self.pending_bytes = self.pending, [], 0
        if not items:
            return
        cols = list(items[0][2])
        table, ragged = _read_plain(b"".join(it[4] for it in items), cols, 0, threads=True)
        want = np.array([it[3] for it in items], dtype=np.int64)
        if table is None or ragged or table.num_rows != int(want.sum()):
            for info, body, key, _, _ in items:
                one = _fast_table(body.decode("utf-8"), body, 1, list(key), info.fid)
                if one is None:
                    self._stage(info, body)
                else:
                    self._take(info, body, one)
            return
        fids = np.repeat(np.array([it[0].fid for it in items], dtype=np.int32), want)
        columns = {"fid": pa.array(fids)}
        columns.update({r: table.column(c) for c, r in _R.items()})
        staged = pa.table(columns, schema=_SCHEMA)
        dates = staged.column(_R["Date"]).combine_chunks()
        slow = np.zeros(len(dates), dtype=bool)
        if len(dates):
            slow = ~np.asarray(pc.match_substring_regex(dates, FAST_DATE), dtype=bool)
            days = pc.utf8_slice_codeunits(dates, 0, 10)
            bad_days = [d for d in pc.unique(days).to_pylist() if d not in _valid_days()]
            if bad_days:
                slow |= np.asarray(pc.is_in(days, value_set=pa.array(bad_days)), dtype=bool)
        odd = set(np.unique(fids[slow]).tolist()) if slow.any() else set()
        for info, body, _, n, _ in items:
            info.rows = n
            if info.fid in odd:  # rejects (file, line, raw record) as the reader
                self._rejects(info, parse_csv_text(body, info.name, encoding="utf-8", required=POLICEUK_COLUMNS))
        if staged.num_rows:
            self.backend.add(staged)

    def _take(self, info: _Info, body: bytes, table: pa.Table) -> None:
        info.rows = table.num_rows
        if not dates_all_fast(table[_R["Date"]].combine_chunks()):  # rejects (file, line, raw record) as the reader
            self._rejects(info, parse_csv_text(body, info.name, encoding="utf-8", required=POLICEUK_COLUMNS))
        if table.num_rows:
            self.backend.add(table)

    def _stage(self, info: _Info, body: bytes) -> None:
        """Parse one file with the reader's parser (exact line numbers, ragged rows) and stage its rows."""
        parsed = parse_csv_text(body, info.name, encoding="utf-8", required=POLICEUK_COLUMNS)
        # the file record already holds the decoding and header notes; add what the careful parse found after them
        new = [n for n in parsed.notes if n not in info.record.notes]
        info.record.notes[info.head_notes : info.head_notes] = new
        info.rows = parsed.rows_read
        frame = parsed.frame
        n = len(frame)
        cols = {r: pa.array(frame[c], type=pa.string()) if n else pa.array([], type=pa.string()) for c, r in _R.items()}
        table = pa.table({"fid": pa.array(np.full(n, info.fid, dtype=np.int32)), **cols}, schema=_SCHEMA)
        if parsed.bad or not dates_all_fast(table[_R["Date"]].combine_chunks()):
            self._rejects(info, parsed)  # ragged rows, and dates the query leaves to the reader's function
        if n:
            self.backend.add(table)

    def _rejects(self, info: _Info, parsed) -> None:
        """Reject records of one file, exactly as the reader builds them (ragged rows, then unusable dates)."""
        rows = np.arange(1, len(parsed.lines) + 1, dtype=np.int64)
        records = []
        if parsed.bad:
            allrec = np.sort(np.concatenate([parsed.lines, np.array([b["line"] for b in parsed.bad], dtype=np.int64)]))
            rows = np.searchsorted(allrec, parsed.lines) + 1
            for b in parsed.bad:
                records.append({"file": info.name, "column": None, "value": None, **b, "row": int(np.searchsorted(allrec, b["line"]) + 1)})
        frame = parsed.frame[list(POLICEUK_COLUMNS)]
        dates = frame["Date"].to_numpy(dtype=object)
        uniq = sorted({str(d).strip() for d in dates})
        _, reason_u = _parse_dates(uniq)
        reason_of = dict(zip(uniq, reason_u))
        reason = np.array([reason_of[str(d).strip()] for d in dates], dtype=object)
        bad = np.array([r is not None for r in reason], dtype=bool) & ~self._excluded(info, frame)
        if bad.any():
            raws = raw_json(frame, bad)
            for i, r in zip(np.flatnonzero(bad), raws):
                records.append({"file": info.name, "line": int(parsed.lines[i]), "row": int(rows[i]), "column": "Date",
                                "value": str(dates[i]), "reason": reason[i], "raw": r})  # fmt: skip
        info.records = records
        info.date_rejects = int(bad.sum())

    def _excluded(self, info: _Info, frame: pd.DataFrame) -> np.ndarray:
        """Rows of a file without force and month in its name that forces=/months= leave out (as the reader)."""
        out = np.zeros(len(frame), dtype=bool)
        if info.month is not None or (self.want_forces is None and self.want_months is None):
            return out
        if self.want_forces is not None and info.force not in self.want_forces:
            out[:] = True
        if self.want_months is not None:
            d = pd.to_datetime(frame["Date"].str.strip(), format="ISO8601", utc=True, errors="coerce")
            month = d.dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.to_period("M")
            out |= d.notna().to_numpy() & ~month.isin(self.want_months).to_numpy()
        return out

    # ------------------------------------------------------------------ the query
    def _query(self, files: pa.Table) -> tuple[CountQuery, dict[int, tuple[int, int, int]]]:
        """The checked rows on the engine; a file the engine read otherwise than the reader goes to the careful path."""
        header = list(POLICEUK_COLUMNS)
        self.by_fid = {f.fid: f for f in self.files}
        while True:
            paths = {} if self.joiner is not None else {f: self.direct[f] for f in sorted(self.direct)}
            rows = self.backend.rows(_SCHEMA, paths, header, leave_out=self.left_out)
            try:
                q = CountQuery(self, self.backend, rows, files)
            except Exception:  # Polars refuses a record with too many fields: find the files, read them carefully
                bad = ragged_files(self.direct)
                if not bad:
                    raise
                self._restage(bad)
                continue
            per = q.per_file()
            # a record with another number of fields (its file's total of commas being right) is dropped by DuckDB/Spark
            bad = [f for f in self.direct if sum(per.get(f, (0, 0, 0))) != self.by_fid[f].rows]
            if not bad:
                break
            q.close()
            self._restage(bad)
        self.backend.release()
        for fid in self.direct:
            if per[fid][1]:  # rejected dates: file, line and raw record from the reader's parser
                with open(self.direct[fid], "rb") as fh:
                    body = fh.read()
                f = self.by_fid[fid]
                self._rejects(f, parse_csv_text(body, f.name, encoding="utf-8", required=POLICEUK_COLUMNS))
                f.dups = duplicate_lines(body, [r["line"] for r in f.records])  # among the kept rows
        return q, per

    def _restage(self, fids: list[int]) -> None:
        self.left_out += fids
        for fid in fids:
            with open(self.direct.pop(fid), "rb") as fh:
                self._stage(self.by_fid[fid], fh.read())
        self._flush()

    def _finish(self) -> EventCounts:
        order = {f.fid: i for i, f in enumerate(self.files)}
        files = pa.table({
            "fid": pa.array([f.fid for f in self.files], type=pa.int32()),
            "force": pa.array([f.force for f in self.files], type=pa.string()),
            "file_month": pa.array([str(f.month) if f.month is not None else None for f in self.files], type=pa.string()),
            "unnamed": pa.array([f.month is None for f in self.files], type=pa.bool_()),
        })  # fmt: skip
        q, per = self._query(files)
        records: list[dict] = []
        notes: list[str] = []
        excluded_total = 0
        for f in self.files:
            kept, rej, exc = per.get(f.fid, (0, 0, 0))
            if rej != f.date_rejects:
                raise EquityMetricsError(
                    f"internal error: {f.name}: the {self.backend.name} engine rejected {rej} date(s) but the reader's parser {f.date_rejects}; "
                    "please report this with the file (engine='pandas' reads it)"
                )
            f.record.rows_read = f.rows - exc
            f.record.rows_kept = kept
            f.record.rows_rejected = len(f.records)
            if exc:
                f.record.notes.append(f"{exc} row(s) excluded by forces=/months=")
                excluded_total += exc
            records += [{**r, "_g": order[f.fid]} for r in f.records]
        if excluded_total:
            notes.append(f"{excluded_total} row(s) of files without force and month in their names excluded by forces=/months=")
        ledger = Ledger(source="policeuk", files=[f.record for f in self.files])
        ledger.rejected_by_reason = dict(sorted(Counter(r["reason"] for r in records).items()))
        maps, missing, unknown = q.field_maps()
        ledger.missing_by_field = dict(sorted(missing.items()))
        ledger.unknown_by_field = dict(sorted(unknown.items()))
        # a file the engine read itself: equal lines are equal rows (counted as its bytes went by), unless
        # forces=/months= left some of its rows out (a file without force and month in its name)
        lines = [f for f in self.direct if not per.get(f, (0, 0, 0))[2]]
        ledger.duplicates = q.duplicates(skip=lines) + sum(self.by_fid[f].dups for f in lines)
        ledger.choices = _choices(self.ethnicity_field, self.fallback)
        coverage(self, ledger, notes, q.attribution())
        data, vehicle_only, fallback_used = q.group_counts(maps)
        if self.fallback != "none":
            notes.append(
                f"ethnicity: officer-defined group used for {fallback_used:,} row(s) whose self-defined group was blank or not stated"
            )
        if self.skipped:
            notes.append("skipped files that are not stop-and-search: " + ", ".join(f"{v} {k}" for k, v in sorted(self.skipped.items())))
        flags = ("UTF-8", "UTF-16", "not used")
        notes += [f"{f.name}: {n}" for f in self.files for n in f.record.notes if any(x in n for x in flags)]
        unknown_forces = sorted({n.split("'")[1] for f in self.files for n in f.record.notes if "not one of the" in n})
        if unknown_forces:
            notes.append(f"force(s) not among the 44 police.uk forces (kept as given): {', '.join(unknown_forces)}")
        twins = len(self.files) - len({f.record.sha256 for f in self.files})
        if twins:
            notes.append(f"{twins} file(s) have the same bytes as another file read: their searches are in the table twice")
        ledger.notes = notes
        return EventCounts(data, ledger, Rejects(_reject_frame(records)), self.by, self.backend.name, vehicle_only)
