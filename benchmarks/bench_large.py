"""Benchmark: counts from the 44-force police.uk archive, DuckDB engine vs the pandas reader.

Usage::

    python benchmarks/bench_large.py [PATH_TO_ARCHIVE] [--repeats N] [--memory-limit 1GB ...]

Each run happens in a fresh subprocess (so each has its own peak memory, read from
``/proc/self/status`` VmHWM, falling back to ``ru_maxrss``), and the contenders
alternate (so a busy machine slows all alike):

* ``read_policeuk + groupby`` (the baseline): equity_metrics' reader loads every row
  into pandas (ledger, rejects, conversions), then ``groupby(force, month, ethnicity).size()``;
* ``count_policeuk duckdb <limit>``: the DuckDB engine, the same counts, ledger and
  rejects, with DuckDB's ``memory_limit`` set to each ``--memory-limit`` given.

It prints best and median wall time and peak resident memory of each, and their
ratios to the baseline measured in the same run. Imports are not timed; the peak
memory includes them (about 180 MB for pandas, pyarrow, scipy and duckdb).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "policeuk" / "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"
BASELINE = "read_policeuk + groupby"
BY = ("force", "month", "ethnicity")


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _one(which: str, path: str, memory_limit: str) -> None:
    """Child process: one timed count, then a JSON line with seconds, rows, cells and peak memory."""
    from equity_metrics.io._counts import counts_from_events
    from equity_metrics.io.large import count_policeuk
    from equity_metrics.io.policeuk import read_policeuk

    import duckdb  # noqa: F401  (imported before timing, for every contender)

    t0 = time.perf_counter()
    if which == "pandas":
        res = read_policeuk(path)
        counts = counts_from_events(res.data, BY)
        rows = res.ledger.rows_read
    else:
        c = count_policeuk(path, by=BY, engine="duckdb", memory_limit=memory_limit)
        counts, rows = c.data, c.ledger.rows_read
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "rows": rows, "cells": len(counts), "events": int(counts["n"].sum()), "peak_mb": _peak_mb()}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT), help="the police.uk archive (.tar.gz/.zip) or folder")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-limit", action="append", default=None, help="DuckDB memory_limit(s) to try (default: 1GB and 256MB)")
    ap.add_argument("--one", choices=["pandas", "duckdb"], help=argparse.SUPPRESS)
    ap.add_argument("--limit", default="1GB", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not Path(args.path).exists():
        print(f"archive not found: {args.path} (it lives in ../shared/data/policeuk beside the project root)", file=sys.stderr)
        return 2
    if args.one:
        _one(args.one, args.path, args.limit)
        return 0
    limits = args.memory_limit or ["1GB", "256MB"]
    contenders = {BASELINE: ("pandas", "1GB")} | {f"count_policeuk duckdb {lim}": ("duckdb", lim) for lim in limits}
    runs: dict[str, list[dict]] = {k: [] for k in contenders}
    for _ in range(args.repeats):
        for name, (which, lim) in contenders.items():
            out = subprocess.run(
                [sys.executable, __file__, args.path, "--one", which, "--limit", lim],
                capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
            )  # fmt: skip
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"archive: {args.path}")
    print(f"machine: {os.cpu_count()} CPU(s), load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    summary = {}
    for name, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        summary[name] = (min(secs), statistics.median(secs), max(r["peak_mb"] for r in rs))
        best, med, peak = summary[name]
        r0 = rs[0]
        print(
            f"{name:32s} rows {r0['rows']:>10,}  cells {r0['cells']:>6,}  best {best:6.2f} s  median {med:6.2f} s  "
            f"peak RSS {peak:6.0f} MB  (runs: {', '.join(f'{s:.2f}' for s in secs)})"
        )
    same = {(r["rows"], r["cells"], r["events"]) for rs in runs.values() for r in rs}
    print("same rows, cells and events in every run: " + ("yes" if len(same) == 1 else f"NO {sorted(same)}"))
    b_best, b_med, b_peak = summary[BASELINE]
    for name in contenders:
        if name == BASELINE:
            continue
        best, med, peak = summary[name]
        print(f"ratio {name} / {BASELINE}: time best {best / b_best:.2f}x, median {med / b_med:.2f}x; peak memory {peak / b_peak:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
