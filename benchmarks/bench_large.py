"""Benchmark: the 44-force police.uk table (force x month x ethnicity) on every engine, against bare Polars and DuckDB.

Usage::

    python benchmarks/bench_large.py [PATH_TO_ARCHIVE] [--repeats N] [--engines duckdb,polars,spark,pandas]
    python benchmarks/bench_large.py --apis        # Ibis vs Narwhals for the count query, same engine, same data

The archive (``.tar.gz``) is extracted once to a temporary folder, so every
contender reads the same 1,466 CSV files. Each run happens in a fresh subprocess
(its own peak memory, ``VmHWM``; for Spark that is the Python driver only, the
JVM is a separate process) and the contenders alternate (a busy machine slows all
alike). Baselines, measured in the same run:

* ``polars bare``: ``pl.scan_csv`` over all files (all text), force from the file
  name, month = the first 7 characters of Date (UTC, no time-zone rule), group by
  force x month x self-defined ethnicity text: no ledger, no rules;
* ``duckdb bare``: DuckDB's ``read_csv`` over all files, the same group-by.

Contenders: ``count_policeuk`` on ``duckdb`` (``memory_limit=1GB``), ``polars``,
``spark`` (``local[2]``; the session is started before the clock, as a cluster's
would already be: its start-up is printed separately) and ``pandas``
(``read_policeuk`` then a group-by). Each gives the full ledger and rejects and
applies the toolkit's rules (Europe/London months, harmonised ethnicity).

``--apis`` stages the archive once (the rows as Parquet, as ``count_policeuk``
does) and times the core of the count query (dates through the month table,
ethnicity through its map, group by force x month x group) written with Narwhals
and with Ibis, both on DuckDB, and checks they give the same table.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "policeuk" / "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"
BY = ("force", "month", "ethnicity")
BASELINES = ("polars bare", "duckdb bare")


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _csvs(folder: str) -> str:
    return os.path.join(folder, "**", "*-stop-and-search.csv")


def _one(which: str, folder: str) -> None:
    """Child process: one timed count, then a JSON line."""
    import duckdb
    import polars as pl

    from equity_metrics.io._counts import counts_from_events
    from equity_metrics.io.large import count_policeuk
    from equity_metrics.io.policeuk import read_policeuk

    extra = {}
    if which == "spark":
        from equity_metrics.io._engines import local_spark_session

        t0 = time.perf_counter()
        local_spark_session()
        extra["startup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if which == "polars bare":
        files = sorted(glob.glob(_csvs(folder), recursive=True))
        lf = pl.scan_csv(files, infer_schema=False, include_file_paths="path")
        out = (lf.with_columns(force=pl.col("path").str.extract(r"\d{4}-\d{2}-(.+)-stop-and-search\.csv$"), month=pl.col("Date").str.slice(0, 7))
               .group_by("force", "month", "Self-defined ethnicity").len().collect())  # fmt: skip
        rows, cells, events = int(out["len"].sum()), out.height, int(out["len"].sum())
    elif which == "duckdb bare":
        con = duckdb.connect(config={"memory_limit": "1GB", "threads": 2})
        out = con.execute(
            "SELECT regexp_extract(filename, '\\d{4}-\\d{2}-(.+)-stop-and-search\\.csv$', 1) AS force, left(\"Date\", 7) AS month, "
            "\"Self-defined ethnicity\", count(*) AS n FROM read_csv(?, all_varchar = true, filename = true) GROUP BY ALL",
            [_csvs(folder)],
        ).fetchall()
        rows, cells, events = sum(r[3] for r in out), len(out), sum(r[3] for r in out)
    elif which == "pandas":
        res = read_policeuk(folder)
        counts = counts_from_events(res.data, BY)
        rows, cells, events = res.ledger.rows_read, len(counts), int(counts["n"].sum())
    else:
        c = count_policeuk(folder, by=BY, engine=which, memory_limit="1GB")
        rows, cells, events = c.ledger.rows_read, len(c.data), c.total
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "rows": rows, "cells": cells, "events": events, "peak_mb": _peak_mb(), **extra}))


def _extract(archive: str, tmp: str) -> str:
    if os.path.isdir(archive):
        return archive
    with tarfile.open(archive) as tf:
        tf.extractall(tmp, filter="data")
    return tmp


def _apis(folder: str) -> None:
    """Ibis vs Narwhals: the core of the count query on DuckDB, on the staged rows of the archive."""
    import ibis
    import narwhals as nw
    import pyarrow as pa
    import pyarrow.parquet as pq

    from equity_metrics.ethnicity import harmonise_ethnicity
    from equity_metrics.io import _engines
    from equity_metrics.io._count_query import FAST_DATE, R, month_table
    from equity_metrics.io._sources import iter_files
    from equity_metrics.io.large import _Run

    import pandas as pd

    tmp = tempfile.mkdtemp(prefix="bench_apis_")
    backend = _engines.Backend(tmp)
    run = _Run(backend, BY, forces=None, months=None, force=None, ethnicity_field="self_defined", fallback="none",
               expected_months=None, encoding="auto")  # fmt: skip
    for name, data in iter_files(folder, select=run._select):
        run._add(name, data)
    backend._flush()
    parts = backend._parts
    files = pa.table({"fid": pa.array([f.fid for f in run.files], pa.int32()), "force": pa.array([f.force for f in run.files])})
    eth_raw = sorted({v for p in parts for v in pq.read_table(p, columns=[R["Self-defined ethnicity"]]).column(0).unique().to_pylist()})
    h = harmonise_ethnicity(pd.Series([v.strip() for v in eth_raw], dtype=object))
    eth = pa.table({"es_raw": eth_raw, "es_grp": [str(g) for g in h["group"].astype(object)]})
    months = month_table()
    d, e = R["Date"], R["Self-defined ethnicity"]
    results = {}
    for api in ("narwhals", "ibis", "narwhals", "ibis"):
        import duckdb

        con = duckdb.connect(config={"threads": 2, "memory_limit": "1GB"})
        t0 = time.perf_counter()
        if api == "narwhals":
            rows = nw.from_native(con.read_parquet(parts))
            m = nw.from_native(con.from_arrow(months))
            lf = rows.with_columns(_ym=nw.col(d).str.slice(0, 7), _day=nw.col(d).str.slice(8, 2), _hms=nw.col(d).str.slice(11, 8),
                                   _fast=nw.col(d).str.contains(FAST_DATE)).join(m, left_on="_ym", right_on="ym", how="left")  # fmt: skip
            late = (nw.col("_day") == nw.col("last_day")) & (nw.col("_hms") >= nw.col("switch"))
            lf = lf.filter(nw.col("_fast")).with_columns(month=nw.when(late).then(nw.col("next_ym")).otherwise(nw.col("_ym")))
            lf = lf.join(nw.from_native(con.from_arrow(files)), on="fid").join(nw.from_native(con.from_arrow(eth)), left_on=e, right_on="es_raw", how="left")
            out = lf.group_by("force", "month", "es_grp").agg(nw.len().alias("n")).collect("pandas").to_native()
        else:
            ib = ibis.duckdb.from_connection(con)
            rows = ib.read_parquet(parts)
            m, f, et = ibis.memtable(months), ibis.memtable(files), ibis.memtable(eth)
            t = rows.mutate(_ym=rows[d].substr(0, 7), _day=rows[d].substr(8, 2), _hms=rows[d].substr(11, 8), _fast=rows[d].re_search(FAST_DATE))
            t = t.left_join(m, t._ym == m.ym).filter(lambda x: x._fast)
            late = (t._day == t.last_day) & (t._hms >= t.switch)
            t = t.mutate(month=ibis.ifelse(late, t.next_ym, t._ym))
            t = t.join(f, "fid")
            t = t.left_join(et, t[e] == et.es_raw)
            out = ib.to_pyarrow(t.group_by(["force", "month", "es_grp"]).aggregate(n=lambda x: x.count())).to_pandas()
        secs = time.perf_counter() - t0
        con.close()
        out = out.astype({"n": "int64"}).sort_values(["force", "month", "es_grp"], na_position="last").reset_index(drop=True)
        out["es_grp"] = out["es_grp"].astype(object)
        results.setdefault(api, []).append((secs, out))
    print(f"machine: {os.cpu_count()} CPU(s), load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for api, rs in results.items():
        print(f"{api:9s} core count query on DuckDB: best {min(s for s, _ in rs):.2f} s (runs: {', '.join(f'{s:.2f}' for s, _ in rs)}), "
              f"{len(rs[0][1]):,} cells, {int(rs[0][1]['n'].sum()):,} events")  # fmt: skip
    a, b = results["narwhals"][0][1], results["ibis"][0][1]
    same = a[["force", "month", "es_grp", "n"]].astype(str).equals(b[["force", "month", "es_grp", "n"]].astype(str))
    print("same table from both: " + ("yes" if same else "NO"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT), help="the police.uk archive (.tar.gz) or an extracted folder")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--engines", default="duckdb,polars,spark,pandas")
    ap.add_argument("--apis", action="store_true", help="compare Ibis and Narwhals for the count query")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        _one(args.one, args.path)
        return 0
    if not Path(args.path).exists():
        print(f"archive not found: {args.path} (it lives in ../shared/data/policeuk beside the project root)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_large_") as tmp:
        folder = _extract(args.path, tmp)
        if args.apis:
            _apis(folder)
            return 0
        contenders = [*BASELINES, *[e for e in args.engines.split(",") if e]]
        runs: dict[str, list[dict]] = {k: [] for k in contenders}
        for _ in range(args.repeats):
            for name in contenders:
                out = subprocess.run([sys.executable, __file__, folder, "--one", name], capture_output=True, text=True,
                                     env={**os.environ, "PYTHONHASHSEED": "0"})  # fmt: skip
                if out.returncode:
                    print(f"{name} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
                    return 1
                runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"archive: {args.path} (extracted: {len(glob.glob(_csvs(folder), recursive=True)):,} files)")
        print(f"machine: {os.cpu_count()} CPU(s), load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        summary = {}
        for name, rs in runs.items():
            secs = [r["seconds"] for r in rs]
            summary[name] = (min(secs), statistics.median(secs), max(r["peak_mb"] for r in rs))
            best, med, peak = summary[name]
            start = f"  (session start-up {min(r['startup_s'] for r in rs):.1f} s, not timed)" if "startup_s" in rs[0] else ""
            print(f"{name:14s} rows {rs[0]['rows']:>10,}  cells {rs[0]['cells']:>6,}  best {best:6.2f} s  median {med:6.2f} s  "
                  f"peak RSS {peak:6.0f} MB  (runs: {', '.join(f'{s:.2f}' for s in secs)}){start}")  # fmt: skip
        engines = [n for n in contenders if n not in BASELINES]
        same = {(runs[n][0]["rows"], runs[n][0]["cells"], runs[n][0]["events"]) for n in engines}
        print("same rows, cells and events on every engine: " + ("yes" if len(same) == 1 else f"NO {sorted(same)}"))
        for base in BASELINES:
            b_best, _, b_peak = summary[base]
            for name in engines:
                best, _, peak = summary[name]
                print(f"ratio {name} / {base}: time {best / b_best:.1f}x, peak memory {peak / b_peak:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
