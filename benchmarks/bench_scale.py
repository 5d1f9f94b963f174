"""Benchmark: time and peak memory from 1 to 10 years of a national police.uk archive.

Usage::

    python benchmarks/bench_scale.py [--years 1,2,5,10] [--memory-limit 1GB] [--engines duckdb] [--keep FOLDER]
                                     [--previous SRC]

A seeded national-size archive (44 forces, ~600,000 searches a year, the real files'
quirks; :func:`equity_metrics.datasets.national.write_national_archive`) is written
once to a temporary folder for the largest number of years; each smaller case reads
its first N years (``months=``, so only those files are opened). Each run is a fresh
subprocess (peak memory is that child's ``ru_maxrss``):

* ``read_policeuk``: the in-memory reader (the whole canonical table, ledger and
  rejects in memory): time and memory should grow linearly with the rows;
* ``count_policeuk``: the counting engine (``--engines``, default DuckDB with
  ``memory_limit``: the engine reads the CSV files itself and spills to disk beyond
  the limit): counts by force x month x ethnicity with the full ledger; its memory
  should stay bounded (near the limit plus the Python process, whatever the years).

``--previous SRC`` adds ``count_policeuk`` from another source tree (``git archive
<commit> src | tar -x -C /tmp/prev`` then ``--previous /tmp/prev/src``): before and
after, in the same run. It prints rows, seconds, CPU seconds (all threads of the
child; on a shared machine steadier than the wall time), peak MB, and seconds and MB per million rows (flat when
growth is linear), with the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = "2012-01"


def _span(years: int) -> str:
    import numpy as np

    return f"{START}..{np.datetime64(START, 'M') + 12 * years - 1}"


def _one(which: str, folder: str, years: int, memory_limit: str) -> None:
    """Child: one timed run, then a JSON line (seconds, rows, peak MB)."""
    from equity_metrics.io.large import count_policeuk
    from equity_metrics.io.policeuk import read_policeuk

    t0, c0 = time.perf_counter(), time.process_time()
    if which == "read_policeuk":
        rows = read_policeuk(folder, months=_span(years)).ledger.rows_read
    else:  # count_policeuk:<engine>
        engine = which.split(":", 1)[1]
        rows = count_policeuk(folder, months=_span(years), engine=engine, memory_limit=memory_limit, threads=2).ledger.rows_read
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"which": which, "years": years, "rows": rows, "seconds": seconds, "cpu": cpu, "peak_mb": peak}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--years", default="1,2,5,10", help="comma-separated numbers of years")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory limit of count_policeuk")
    ap.add_argument("--engines", default="duckdb", help="engines of count_policeuk (comma-separated)")
    ap.add_argument("--no-reader", action="store_true", help="skip read_policeuk")
    ap.add_argument("--keep", help="write (or reuse) the archive here instead of a temporary folder")
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--previous", help="another source tree (its src folder): count_policeuk before, as extra contenders")
    ap.add_argument("--one", nargs=4, metavar=("WHICH", "FOLDER", "YEARS", "LIMIT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        which, folder, years, limit = args.one
        _one(which, folder, int(years), limit)
        return 0
    years = sorted({int(y) for y in args.years.split(",")})
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        folder = Path(args.keep or tmp) / "national"
        if not (folder.exists() and any(folder.iterdir())):
            from equity_metrics.datasets.national import write_national_archive

            t0 = time.perf_counter()
            a = write_national_archive(folder, years=max(years), start=START, seed=args.seed)
            print(f"wrote {a.rows:,} rows in {a.files:,} files ({max(years)} years, 44 forces) in {time.perf_counter() - t0:.0f} s")
        print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPU(s); "
              f"count_policeuk memory_limit={args.memory_limit} (DuckDB)")
        print(f"{'contender':32s} {'years':>5s} {'rows':>11s} {'seconds':>8s} {'CPU s':>7s} {'peak MB':>8s} {'s/M rows':>9s} "
              f"{'MB/M rows':>10s}")  # fmt: skip
        engines = [e for e in args.engines.split(",") if e]
        contenders = ([] if args.no_reader else ["read_policeuk"]) + [f"count_policeuk:{e}" for e in engines]
        if args.previous:
            contenders += [f"count_policeuk:{e} (previous)" for e in engines]
        for y in years:  # the contenders of each size one after the other (a busy spell slows all alike)
            for which in contenders:
                env = dict(os.environ)
                if which.endswith(" (previous)"):
                    env["PYTHONPATH"] = os.pathsep.join([os.path.abspath(args.previous), env.get("PYTHONPATH", "")])
                out = subprocess.run([sys.executable, __file__, "--one", which.split(" ")[0], str(folder), str(y), args.memory_limit],
                                     capture_output=True, text=True, env=env)  # fmt: skip
                if out.returncode:
                    print(f"{which} {y} years failed:\n{out.stderr[-1500:]}", file=sys.stderr)
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                m = r["rows"] / 1e6
                print(f"{which:32s} {y:5d} {r['rows']:11,} {r['seconds']:8.1f} {r['cpu']:7.1f} {r['peak_mb']:8.0f} "
                      f"{r['seconds'] / m:9.2f} {r['peak_mb'] / m:10.0f}", flush=True)  # fmt: skip
        print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
