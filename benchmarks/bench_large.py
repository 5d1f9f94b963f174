"""Benchmark: count_policeuk on every engine against bare Polars, bare DuckDB and read_policeuk (folder and .tar.gz).

Usage::

    python benchmarks/bench_large.py [ARCHIVE] [--folder FOLDER] [--repeats N] [--engines duckdb,polars,spark]
                                     [--cases folder,tar] [--memory-limit 1GB] [--previous SRC]
    python benchmarks/bench_large.py --apis        # Ibis vs Narwhals for the count query, same engine, same data

Two cases, each contender in a fresh subprocess (its own peak memory, ``VmHWM``; for
Spark that is the Python driver only, the JVM is a separate process), the
contenders alternating (a busy machine slows all alike), the load average printed:

1. **folder**: the archive extracted (``--folder``, else extracted once to a
   temporary folder): 1,466 CSV files. Baselines (the functions of
   ``benchmarks/bench_ingest.py``): ``polars bare`` (``pl.scan_csv`` over all files,
   group by force from the file name x first 7 characters of Date x self-defined
   ethnicity text: no ledger, no rules) and ``duckdb bare`` (``read_csv`` over the
   same files, same group-by, 2 threads).
2. **tar.gz**: the archive itself. Baseline ``polars bare (tar)``: the members
   unpacked by ``tarfile`` and parsed by one ``pl.read_csv``, same group-by.

Contenders: ``count_policeuk`` by force x month x ethnicity on ``duckdb``
(``memory_limit``, 2 threads), ``polars`` and ``spark`` (``local[2]``; the session is
started before the clock, as a cluster's would already be: its start-up is printed
separately), and ``read_policeuk`` (the in-memory reader) followed by the same
group-by. Each count gives the full ledger and rejects and applies the toolkit's
rules (Europe/London months, harmonised ethnicity). Ratios: each engine against its
bare counterpart and against ``read_policeuk``; peak memory against the memory limit.

``--previous SRC`` adds ``count_policeuk`` from another source tree (e.g. ``git archive
<commit> src | tar -x -C /tmp/prev`` then ``--previous /tmp/prev/src``) on DuckDB and
Polars, as contenders ``duckdb (previous)`` and ``polars (previous)``: before and
after, in the same run.

``--apis`` writes the archive's rows once as Parquet and times the core of the
count query (dates through the month table, ethnicity through its map, group by
force x month x group) written with Narwhals and with Ibis, both on DuckDB, and
checks they give the same table.
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
BARE = {"duckdb": "duckdb bare", "polars": "polars bare"}


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


def _one(which: str, path: str, memory_limit: str) -> None:
    """Child process: imports (not timed), one timed count, then a JSON line."""
    if which.endswith(" (previous)"):
        sys.path.insert(0, os.environ["BENCH_LARGE_PREVIOUS"])
        which = which.split(" ", 1)[0]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_ingest  # the bare baselines
    import duckdb  # noqa: F401
    import polars  # noqa: F401

    from equity_metrics.io._counts import counts_from_events
    from equity_metrics.io.large import count_policeuk
    from equity_metrics.io.policeuk import read_policeuk

    extra = {}
    if which == "spark":
        from equity_metrics.io._engines import local_spark_session

        t0 = time.perf_counter()
        local_spark_session()
        extra["startup_s"] = time.perf_counter() - t0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if which in ("polars bare", "duckdb bare", "polars bare (tar)"):
        fn = {"polars bare": bench_ingest._polars_bare, "duckdb bare": bench_ingest._duckdb_bare,
              "polars bare (tar)": bench_ingest._polars_bare_tar}[which]  # fmt: skip
        rows = fn(path)
        cells = events = None
    elif which == "read_policeuk":
        res = read_policeuk(path)
        counts = counts_from_events(res.data, BY)
        rows, cells, events = res.ledger.rows_read, len(counts), int(counts["n"].sum())
    else:
        c = count_policeuk(path, by=BY, engine=which, memory_limit=memory_limit, threads=2)
        rows, cells, events = c.ledger.rows_read, len(c.data), c.total
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "cells": cells, "events": events, "peak_mb": _peak_mb(), **extra}))


def _case(title: str, path: str, contenders: list[str], repeats: int, memory_limit: str) -> dict[str, tuple[float, float, float]]:
    runs: dict[str, list[dict]] = {k: [] for k in contenders}
    load0 = os.getloadavg()
    for _ in range(repeats):
        for name in contenders:
            out = subprocess.run([sys.executable, __file__, path, "--one", name, "--memory-limit", memory_limit],
                                 capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})  # fmt: skip
            if out.returncode:
                raise RuntimeError(f"{name} on {path} failed:\n{out.stderr[-2000:]}")
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    load1 = os.getloadavg()
    print(f"\n== {title}: {path}")
    print(f"   {os.cpu_count()} CPU(s); load average before {', '.join(f'{x:.1f}' for x in load0)}, "
          f"after {', '.join(f'{x:.1f}' for x in load1)}")  # fmt: skip
    summary = {}
    for name, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        summary[name] = (min(secs), statistics.median(secs), max(r["peak_mb"] for r in rs))
        best, med, peak = summary[name]
        cpu = min(r["cpu"] for r in rs)
        start = f"  (session start-up {min(r['startup_s'] for r in rs):.1f} s, not timed)" if "startup_s" in rs[0] else ""
        cells = f"cells {rs[0]['cells']:>6,}" if rs[0]["cells"] is not None else " " * 12
        print(f"   {name:18s} rows {rs[0]['rows']:>10,}  {cells}  best {best:6.2f} s  median {med:6.2f} s  cpu {cpu:6.2f} s  "
              f"peak {peak:6.0f} MB  (runs: {', '.join(f'{s:.2f}' for s in secs)}){start}")  # fmt: skip
    engines = [n for n in contenders if "bare" not in n and (n.split(" ")[0] in ("duckdb", "polars", "spark") or n == "read_policeuk")]
    same = {(runs[n][0]["rows"], runs[n][0]["cells"], runs[n][0]["events"]) for n in engines}
    print("   same rows, cells and events for every count: " + ("yes" if len(same) == 1 else f"NO {sorted(same)}"))
    for name in engines:
        if name == "read_policeuk":
            continue
        best, med, peak = summary[name]
        bases = [BARE.get(name), "polars bare (tar)" if name == "polars" else None, "read_policeuk", f"{name} (previous)"]
        for base in bases:
            if base in summary:
                b_best, b_med, b_peak = summary[base]
                print(f"   ratio {name} / {base}: time best {best / b_best:.2f}x, median {med / b_med:.2f}x; peak memory {peak / b_peak:.2f}x")
        if name == "duckdb":
            print(f"   duckdb peak {peak:.0f} MB with memory_limit={memory_limit}")
    return summary


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

    import polars as pl

    from equity_metrics.ethnicity import harmonise_ethnicity
    from equity_metrics.io._count_query import FAST_DATE, R, month_table
    from equity_metrics.io.policeuk import POLICEUK_COLUMNS, parse_policeuk_filename

    import pandas as pd

    tmp = tempfile.mkdtemp(prefix="bench_apis_")
    paths = sorted(glob.glob(_csvs(folder), recursive=True))
    forces = [parse_policeuk_filename(os.path.basename(p))[0] for p in paths]
    lf = pl.scan_csv(paths, schema={c: pl.String for c in POLICEUK_COLUMNS}, quote_char=None, empty_string_is_null=False,
                     include_file_paths="path", glob=False)  # fmt: skip
    fid = pl.col("path").replace_strict(paths, list(range(len(paths))), return_dtype=pl.Int32).alias("fid")
    parts = [os.path.join(tmp, "rows.parquet")]
    lf.select(fid, *[pl.col(c).alias(r) for c, r in R.items()]).sink_parquet(parts[0])
    files = pa.table({"fid": pa.array(range(len(paths)), pa.int32()), "force": pa.array(forces)})
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
    ap.add_argument("path", nargs="?", default=str(DEFAULT), help="the police.uk archive (.tar.gz)")
    ap.add_argument("--folder", help="the archive already extracted (default: extract it to a temporary folder)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--engines", default="duckdb,polars,spark")
    ap.add_argument("--cases", default="folder,tar")
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--previous", help="another source tree (its src folder): count_policeuk before, as extra contenders")
    ap.add_argument("--apis", action="store_true", help="compare Ibis and Narwhals for the count query")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        _one(args.one, args.path, args.memory_limit)
        return 0
    if not Path(args.path).exists():
        print(f"archive not found: {args.path} (it lives in ../shared/data/policeuk beside the project root)", file=sys.stderr)
        return 2
    engines = [e for e in args.engines.split(",") if e]
    cases = [c for c in args.cases.split(",") if c]
    if args.previous:
        os.environ["BENCH_LARGE_PREVIOUS"] = os.path.abspath(args.previous)
        engines += [f"{e} (previous)" for e in engines if e in ("duckdb", "polars")]
    with tempfile.TemporaryDirectory(prefix="bench_large_") as tmp:
        folder = args.folder or (_extract(args.path, tmp) if ("folder" in cases or args.apis) else None)
        if args.apis:
            _apis(folder)
            return 0
        if "folder" in cases:
            n = len(glob.glob(_csvs(folder), recursive=True))
            _case(f"extracted folder ({n:,} files)", folder, [*[BARE[e] for e in engines if e in BARE], *engines, "read_policeuk"],
                  args.repeats, args.memory_limit)  # fmt: skip
        if "tar" in cases:
            bare = ["polars bare (tar)"] if "polars" in engines else []
            _case("tar.gz archive", args.path, [*bare, *engines, "read_policeuk"], args.repeats, args.memory_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
