"""Counts from police.uk archives too big for memory: DuckDB reads, converts and groups.

:func:`count_policeuk` gives the same numbers, ledger and rejects as
:func:`~equity_metrics.io.policeuk.read_policeuk` followed by a group-by, without
ever holding the rows in pandas (``pip install "equity_metrics[large]"``):

* files are found as the reader finds them (a file, list, glob, folder, ``.zip`` or
  ``.tar.gz``; force and month from the file names), one at a time: each is decoded
  (UTF-8, BOM, recorded Windows-1252 fallback), its header checked, and written as
  UTF-8 to a temporary folder; batches of files are loaded by DuckDB's CSV reader
  (``store_rejects``) into a DuckDB table (spilled to a temporary folder beyond
  ``memory_limit``), then deleted;
* a file that DuckDB cannot read as one record per physical line (a ragged row, a
  quoted newline, blank lines) is parsed by the pandas reader's own parser instead,
  one file at a time, so its line numbers and rejects are the reader's exactly;
* dates are parsed and converted in SQL (``timezone('Europe/London', ...)``); the
  rare date text that is not plain ISO 8601 is parsed by the reader's own function,
  once per distinct value;
* every other field is mapped through a small table built in Python from its
  distinct raw values with the reader's functions (ethnicity harmonisation,
  booleans, search type, sex, age band), then joined and grouped in SQL.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from .._options import check_option
from ..areas import is_known_force, normalise_force
from ..errors import EquityMetricsError, FileFormatError, MissingColumnsError, OptionError
from ..ledger import FileRecord, Ledger, Rejects
from ._counts import DEFAULT_BY, CountBy, EventCounts, check_by, counts_from_events
from ._large_sql import FAST_DATE as _FAST_DATE
from ._large_sql import R as _R
from ._large_sql import coverage, field_maps, group_counts, odd_dates
from ._sources import Sources, decode_bytes, iter_files, parse_csv_text, raw_json, read_header, sha256_bytes
from .policeuk import _months_option, _nothing_selected, parse_policeuk_filename, read_policeuk
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

Engine = Literal["duckdb", "pandas"]

_BATCH_BYTES = 64 * 2**20
_INSTALL = 'pip install "equity_metrics[large]"'


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
) -> EventCounts:
    """Count police.uk stop-and-search records by force, month, ethnicity, ... without loading the rows.

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
        strip_search, policing_operation`` (the canonical events columns of that name).
        Add ``"vehicle_only"`` to use the counts in :func:`~equity_metrics.disparity`
        when some searches are vehicle-only.
    engine
        ``"duckdb"`` (needs ``pip install "equity_metrics[large]"``) or ``"pandas"``
        (:func:`read_policeuk` then a group-by: the reference, for data that fit in memory).
    memory_limit
        DuckDB's memory limit (``"1GB"``, ``"500MB"``); DuckDB spills to a temporary
        folder beyond it.
    threads
        DuckDB threads (default: up to 4).

    Returns
    -------
    EventCounts
        ``data`` (the ``by`` columns and ``n``), ``ledger`` and ``rejects``, equal to
        those of :func:`read_policeuk` on the same sources.

    Raises
    ------
    OptionError
        A bad option; ``engine="duckdb"`` without duckdb installed; files whose names
        carry no force and no ``force=`` (use ``engine="pandas"``: it reads their
        ``Force`` column).
    EmptyFileError, MissingColumnsError, FileFormatError, EncodingError, ReadError
        As :func:`read_policeuk`.

    Examples
    --------
    >>> import equity_metrics as em
    >>> c = count_policeuk(em.datasets.sample_path() / "policeuk", by=["force", "ethnicity"])
    >>> c.data.columns.tolist(), int(c.data["n"].sum()) == c.ledger.rows_kept
    (['force', 'ethnicity', 'n'], True)
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
    duckdb = _import_duckdb()
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise OptionError(f"threads={threads!r} must be a positive whole number, or None for the default")
    tmp = tempfile.mkdtemp(prefix="equity_metrics_large_")
    try:
        con = _connect(duckdb, tmp, memory_limit, threads)
        try:
            return _Run(con, tmp, by, **opts).run(sources)
        finally:
            con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _import_duckdb():
    try:
        import duckdb
    except ImportError:
        raise OptionError(f'engine="duckdb" needs the duckdb package: {_INSTALL}, or pass engine="pandas"') from None
    return duckdb


def _connect(duckdb, tmp: str, memory_limit: str, threads: int | None):
    config = {
        "memory_limit": str(memory_limit),
        "threads": threads or min(4, os.cpu_count() or 1),
        "temp_directory": os.path.join(tmp, "spill"),
        "autoinstall_known_extensions": False,  # never reach the network
        "autoload_known_extensions": False,
        "preserve_insertion_order": False,
    }
    try:
        con = duckdb.connect(":memory:", config=config)  # spills to temp_directory beyond memory_limit
    except duckdb.Error as exc:
        raise OptionError(f"DuckDB refused the settings memory_limit={memory_limit!r}, threads={threads!r} ({exc})") from None
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.execute("SELECT timezone('Europe/London', TIMESTAMPTZ '2020-01-01 00:00:00+00')").fetchall()
    except duckdb.Error as exc:  # pragma: no cover - the ICU extension ships inside the duckdb wheel
        raise OptionError(f"this duckdb build has no time zone support (ICU) ({exc}); use engine='pandas'") from None
    return con


class _Run:
    """One count: load files into DuckDB, then ledger, rejects and counts by SQL."""

    def __init__(self, con, tmp, by, *, forces, months, force, ethnicity_field, fallback, expected_months, encoding):
        self.con, self.tmp, self.by = con, tmp, by
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
        self.seen: set[tuple[str, str]] = set()
        self.skipped: Counter = Counter()
        self.pending: list[tuple[_Info, str, tuple[str, ...]]] = []
        self.pending_bytes = 0
        cols = ", ".join(f"{r} VARCHAR" for r in _R.values())
        con.execute(
            f"CREATE TABLE raw (fid INTEGER, {cols}, month VARCHAR, utc_month VARCHAR, filter_month VARCHAR, "
            "reason VARCHAR, odd BOOLEAN)"
        )

    def _insert(self, source: str, params: Any = None) -> None:
        """INSERT the rows of ``source`` (fid and the r0..r14 text columns) with their dates converted in SQL.

        Plain ISO 8601 dates within 1900-2100 get their local (Europe/London) and UTC months here;
        the others are flagged ``odd`` and settled once per distinct value in :meth:`_settle_dates`."""
        cols = ", ".join(_R.values())
        self.con.execute(
            f"""INSERT INTO raw
            WITH s AS (SELECT fid, {cols}, CASE WHEN regexp_full_match(r1, '{_FAST_DATE}') THEN try_cast(r1 AS TIMESTAMPTZ) END AS t0
                       FROM ({source})),
            u AS (SELECT s.* EXCLUDE (t0), CASE WHEN t0 >= TIMESTAMPTZ '1900-01-01 00:00:00+00'
                                          AND t0 < TIMESTAMPTZ '2101-01-01 00:00:00+00' THEN t0 END AS ts FROM s)
            SELECT fid, {cols}, strftime(timezone('{TIMEZONE}', ts), '%Y-%m') AS month,
                   strftime(timezone('UTC', ts), '%Y-%m') AS utc_month, strftime(timezone('{TIMEZONE}', ts), '%Y-%m'),
                   NULL, ts IS NULL FROM u""",
            params,
        )

    # ------------------------------------------------------------------ loading
    def _select(self, base: str) -> bool:
        p = parse_policeuk_filename(base)
        if p is None:
            return True
        if p[2] != "stop-and-search":
            self.skipped[p[2]] += 1
            return False
        self.seen.add((p[0], str(p[1])))
        return (self.want_forces is None or p[0] in self.want_forces) and (self.want_months is None or p[1] in self.want_months)

    def run(self, sources: Sources) -> EventCounts:
        for name, data in iter_files(sources, select=self._select):
            self._add(name, data)
        self._flush()
        if not self.files:
            raise _nothing_selected(self.seen, self.want_forces, self.want_months)
        self.files.sort(key=lambda f: (f.force or "\uffff", f.month or pd.Period("9999-12", freq="M"), f.name))
        return self._finish()

    def _add(self, name: str, data: bytes) -> None:
        """Decode and check one file as the reader does; queue it for DuckDB, or parse it here if it is odd."""
        dec = decode_bytes(data, name, encoding=self.encoding)
        text, notes = dec.text, list(dec.notes)
        reader, header_line, cols = read_header(text, name, notes)
        missing = [c for c in POLICEUK_COLUMNS if c not in cols]
        if missing:
            raise MissingColumnsError(file=name, missing=missing, found=cols)
        head = len(notes)
        rec = FileRecord(name, 0, encoding=dec.encoding, sha256=sha256_bytes(data), notes=notes)
        p = parse_policeuk_filename(name)
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
        if header_line != 1 or "\n\n" in text or "\n\r\n" in text:  # the reader's careful path
            self._python_file(info, body)
            return
        path = os.path.join(self.tmp, f"{info.fid}.csv")
        with open(path, "wb") as fh:
            fh.write(body)
        n_phys = text.count("\n") + (0 if text.endswith("\n") else 1)
        info.rows = n_phys - 1  # checked against what DuckDB reads
        self.pending.append((info, path, tuple(cols)))
        self.pending_bytes += len(body)
        if self.pending_bytes >= _BATCH_BYTES:
            self._flush()

    def _flush(self) -> None:
        """Load the queued files with DuckDB's CSV reader; files it reads differently go to the reader's parser."""
        if not self.pending:
            return
        by_header: dict[tuple[str, ...], list[tuple[_Info, str]]] = {}
        for info, path, cols in self.pending:
            by_header.setdefault(cols, []).append((info, path))
        odd: list[tuple[_Info, str]] = []
        for cols, items in by_header.items():
            pos = {c: i for i, c in reversed(list(enumerate(cols)))}
            spec = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(cols)))
            sel = ", ".join(f"coalesce(c{pos[c]}, '') AS {r}" for c, r in _R.items())
            paths = [p for _, p in items]
            try:
                self._insert(
                    f"SELECT CAST(parse_filename(filename, true) AS INTEGER) AS fid, {sel} "
                    f"FROM read_csv(?, header = true, auto_detect = false, columns = {{{spec}}}, delim = ',', quote = '\"', "
                    "escape = '\"', filename = true, store_rejects = true, strict_mode = true, encoding = 'utf-8')",
                    [paths],
                )
                bad = {r[0] for r in self.con.execute(
                    "SELECT DISTINCT s.file_path FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) "
                    "WHERE s.file_path IN (SELECT unnest(?))", [paths]).fetchall()}  # fmt: skip
            except Exception:  # noqa: BLE001 - any DuckDB failure: the reader's parser handles these files
                self.con.execute("DELETE FROM raw WHERE fid IN (SELECT unnest(?))", [[i.fid for i, _ in items]])
                odd += items
                continue
            fids = [i.fid for i, _ in items]
            got = dict(self.con.execute(
                "SELECT fid, count(*) FROM raw WHERE fid IN (SELECT unnest(?)) GROUP BY fid", [fids]).fetchall())  # fmt: skip
            odd += [(i, p) for i, p in items if p in bad or got.get(i.fid, 0) != i.rows]
        if odd:
            self.con.execute("DELETE FROM raw WHERE fid IN (SELECT unnest(?))", [[i.fid for i, _ in odd]])
            for info, path in odd:
                with open(path, "rb") as fh:
                    self._python_file(info, fh.read())
        # files with a date that is not plain ISO 8601: their rejects (line, raw record) come from the reader's parser
        ok = {i.fid for i, _ in odd}
        fids = [i.fid for i, _, _ in self.pending if i.fid not in ok]
        if fids:
            odd_dates = {r[0] for r in self.con.execute(
                "SELECT DISTINCT fid FROM raw WHERE odd AND fid IN (SELECT unnest(?))", [fids]).fetchall()}  # fmt: skip
            for info, path, _ in self.pending:
                if info.fid in odd_dates:
                    with open(path, "rb") as fh:
                        parsed = parse_csv_text(fh.read(), info.name, encoding="utf-8", required=POLICEUK_COLUMNS)
                    self._rejects(info, parsed)
        for _, path, _ in self.pending:
            os.remove(path)
        self.pending, self.pending_bytes = [], 0

    def _python_file(self, info: _Info, body: bytes) -> None:
        """Parse one file with the reader's parser (exact line numbers, ragged rows) and stage its rows."""
        parsed = parse_csv_text(body, info.name, encoding="utf-8", required=POLICEUK_COLUMNS)
        # the file record already holds the decoding and header notes; add what the careful parse found after them
        new = [n for n in parsed.notes if n not in info.record.notes]
        info.record.notes[info.head_notes : info.head_notes] = new
        info.rows = parsed.rows_read
        frame = parsed.frame
        table = pa.table({"fid": pa.array(np.full(len(frame), info.fid, dtype=np.int32)),
                          **{r: pa.array(frame[c].to_numpy(dtype=object), type=pa.string()) for c, r in _R.items()}})  # fmt: skip
        self.con.register("staged_file", table)
        self._insert("SELECT * FROM staged_file")
        self.con.unregister("staged_file")
        self._rejects(info, parsed)

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

    # ------------------------------------------------------------------ SQL
    def _q(self, sql: str, params: Any = None) -> list[tuple]:
        return self.con.execute(sql, params).fetchall() if params is not None else self.con.execute(sql).fetchall()

    def _table(self, name: str, columns: dict[str, pa.Array]) -> None:
        self.con.register(f"{name}_src", pa.table(columns))
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_src")
        self.con.unregister(f"{name}_src")

    def _finish(self) -> EventCounts:
        con = self.con
        order = {f.fid: i for i, f in enumerate(self.files)}
        self._table("files", {
            "fid": pa.array([f.fid for f in self.files], type=pa.int32()),
            "force": pa.array([f.force for f in self.files], type=pa.string()),
            "file_month": pa.array([str(f.month) if f.month is not None else None for f in self.files], type=pa.string()),
            "unnamed": pa.array([f.month is None for f in self.files], type=pa.bool_()),
        })  # fmt: skip
        # ---- dates: plain ISO 8601 in SQL, anything else once per distinct value with the reader's function
        odd = [r[0] for r in self._q("SELECT DISTINCT r1 FROM raw WHERE odd")]
        if odd:
            self._table("odd_dates", odd_dates(odd))
            con.execute(
                "UPDATE raw SET month = o.month, utc_month = o.utc_month, filter_month = o.filter_month, reason = o.reason "
                "FROM odd_dates o WHERE raw.odd AND raw.r1 = o.d"
            )
        months = [str(m) for m in self.want_months] if self.want_months is not None else None
        con.execute(f"""
            CREATE VIEW ev AS SELECT raw.* EXCLUDE (filter_month, odd), f.force, f.file_month, f.unnamed,
              coalesce(f.unnamed AND ({self._exclusion_sql(months)}), false) AS excluded
            FROM raw JOIN files f USING (fid)
        """)  # fmt: skip
        con.execute("CREATE VIEW k AS SELECT * FROM ev WHERE reason IS NULL AND NOT excluded")
        # ---- per-file accounting
        per = {fid: (kept, rej, exc) for fid, kept, rej, exc in self._q(
            "SELECT fid, count(*) FILTER (WHERE reason IS NULL AND NOT excluded), "
            "count(*) FILTER (WHERE reason IS NOT NULL AND NOT excluded), count(*) FILTER (WHERE excluded) FROM ev GROUP BY fid")}  # fmt: skip
        records: list[dict] = []
        notes: list[str] = []
        excluded_total = 0
        for f in self.files:
            kept, rej, exc = per.get(f.fid, (0, 0, 0))
            if rej != f.date_rejects:
                raise EquityMetricsError(
                    f"internal error: {f.name}: DuckDB rejected {rej} date(s) but the reader's parser {f.date_rejects}; "
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
        maps, missing, unknown = field_maps(self)
        ledger.missing_by_field = dict(sorted(missing.items()))
        ledger.unknown_by_field = dict(sorted(unknown.items()))
        dup_key = ", ".join(["fid", *_R.values()])
        ledger.duplicates = int(self._q(f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM k GROUP BY {dup_key})")[0][0])
        ledger.choices = _choices(self.ethnicity_field, self.fallback)
        coverage(self, ledger, notes)
        data, vehicle_only, fallback_used = group_counts(self, maps)
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
        return EventCounts(data, ledger, Rejects(_reject_frame(records)), self.by, "duckdb", vehicle_only)

    def _exclusion_sql(self, months: list[str] | None) -> str:
        parts = []
        if self.want_forces is not None and (self.force_opt or "") not in self.want_forces:
            parts.append("true")
        if months is not None:
            listed = ", ".join("'" + m + "'" for m in months)
            parts.append(f"(filter_month IS NOT NULL AND filter_month NOT IN ({listed}))")
        return " OR ".join(parts) or "false"
