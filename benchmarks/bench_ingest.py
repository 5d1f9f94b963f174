"""Benchmark: read the 44-force police.uk archive into the canonical table vs a bare pandas read.

Usage::

    python benchmarks/bench_ingest.py [PATH_TO_ARCHIVE] [--repeats N]

Each run happens in a fresh subprocess (so each has its own peak memory), and the
two readers alternate (so a busy machine slows both alike):

* ``read_policeuk``: equity_metrics' reader, everything included (ledger, rejects,
  UTC -> Europe/London, ethnicity harmonisation, duplicates, coverage);
* ``bare pandas``: ``pd.read_csv(..., engine="pyarrow")`` on every member of the
  tar, then one ``pd.concat`` (no checks, no conversions).

It prints best and median wall time of each, their ratio, and peak resident memory.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "policeuk" / "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"


def _bare_pandas(path: str) -> int:
    import pandas as pd

    frames = []
    with tarfile.open(path, mode="r:*") as tf:
        for member in tf:
            if member.isfile() and member.name.endswith(".csv"):
                frames.append(pd.read_csv(io.BytesIO(tf.extractfile(member).read()), engine="pyarrow"))
    return len(pd.concat(frames, ignore_index=True))


def _equity_metrics(path: str) -> int:
    from equity_metrics.io.policeuk import read_policeuk

    res = read_policeuk(path)
    return len(res.data)


def _one(which: str, path: str) -> None:
    """Child process: one timed read, then a JSON line with seconds, rows and peak RSS."""
    fn = _equity_metrics if which == "read_policeuk" else _bare_pandas
    if which == "read_policeuk":
        import equity_metrics.io.policeuk  # noqa: F401  (imports are not timed, for either reader)
    else:
        import pandas  # noqa: F401
    t0 = time.perf_counter()
    rows = fn(path)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(json.dumps({"which": which, "seconds": seconds, "rows": rows, "peak_mb": peak_mb}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT), help="the police.uk archive (.tar.gz/.zip) or folder")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--one", choices=["read_policeuk", "bare_pandas"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not Path(args.path).exists():
        print(f"archive not found: {args.path} (it lives in ../shared/data/policeuk beside the project root)", file=sys.stderr)
        return 2
    if args.one:
        _one(args.one, args.path)
        return 0
    runs: dict[str, list[dict]] = {"read_policeuk": [], "bare_pandas": []}
    for _ in range(args.repeats):
        for which in runs:
            out = subprocess.run(
                [sys.executable, __file__, args.path, "--one", which],
                capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
            )  # fmt: skip
            runs[which].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"archive: {args.path}")
    print(f"machine: {os.cpu_count()} CPU(s), load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    summary = {}
    for which, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        summary[which] = (min(secs), statistics.median(secs), max(r["peak_mb"] for r in rs), rs[0]["rows"])
        best, med, peak, rows = summary[which]
        print(f"{which:14s} rows {rows:>10,}  best {best:6.2f} s  median {med:6.2f} s  peak RSS {peak:7.0f} MB  (runs: {', '.join(f'{s:.2f}' for s in secs)})")
    (b1, m1, p1, _), (b2, m2, p2, _) = summary["read_policeuk"], summary["bare_pandas"]
    print(f"ratio read_policeuk / bare pandas: best {b1 / b2:.2f}x, median {m1 / m2:.2f}x; peak memory {p1 / p2:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
