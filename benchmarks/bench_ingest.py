"""Benchmark: ``read_policeuk`` (everything included) against bare Polars and DuckDB reads, measured in the same run.

Usage::

    python benchmarks/bench_ingest.py [PATH_TO_ARCHIVE] [--repeats N] [--big-repeats N] [--no-big]

Cases (each contender in a fresh subprocess, so each has its own peak memory,
``ru_maxrss`` of that child; contenders alternate, so a busy machine slows all alike):

1. **folder**: the archive extracted once to a temporary folder (1,466 CSV files).
   ``read_policeuk(folder)`` against ``polars bare`` (``pl.scan_csv`` over all files,
   group by force (from the file name) x month (first 7 characters of Date) x
   self-defined ethnicity text) and ``duckdb bare`` (``read_csv`` over the same
   files, same group-by).
2. **tar.gz**: ``read_policeuk(archive.tar.gz)`` against ``polars bare (tar)``: the
   same members unpacked by Python's ``tarfile`` and parsed by one ``pl.read_csv``
   over the list of member bytes, same group-by (Polars cannot open a tar itself).
3. **one 5M-row file**: the archive's rows five times over in one CSV (written to
   the temporary folder), ``read_policeuk(file, force="west-yorkshire")`` against
   ``duckdb bare`` (``read_csv`` + count by month x ethnicity) and ``polars bare``,
   and the library's counting engine ``count_policeuk duckdb`` (the tool for a file
   this size when only counts are needed).

``polars table`` (folder and one file) is the floor of *returning the whole table*:
every field parsed by Polars (the reader's own parse: ``Date`` and the coordinates
as text, every other field a ``Categorical``) and handed to pandas, with nothing
checked or derived. The bare baselines parse 3 of the 15 fields and return a count;
``polars table`` shows what any reader returning the table pays before it does any
of the work below.

``read_policeuk`` does everything the library promises: ledger (rows read, rejects
with file, line and raw values), UTC -> Europe/London months, ethnicity
harmonisation, duplicates flagged, coverage and missing force-months, find/hit.
It prints best and median wall time, peak memory, the ratios against each
baseline, and the load average (the machine is shared).
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
BIG_COPIES = 5


# ----------------------------------------------------------------------------- contenders (run in a child)


def _read_policeuk(path: str) -> int:
    from equity_metrics.io.policeuk import read_policeuk

    force = "west-yorkshire" if path.endswith("big.csv") else None
    res = read_policeuk(path, force=force)
    return res.ledger.rows_read


def _polars_bare(path: str) -> int:
    import polars as pl

    files = [path] if os.path.isfile(path) else sorted(glob.glob(os.path.join(path, "**", "*.csv"), recursive=True))
    lf = pl.scan_csv(files, infer_schema=False, include_file_paths="path")
    out = lf.group_by(
        pl.col("path").str.extract(r"\d{4}-\d{2}-(.+)-stop-and-search", 1).alias("force"),
        pl.col("Date").str.slice(0, 7).alias("month"),
        "Self-defined ethnicity",
    ).len().collect()  # fmt: skip
    return int(out["len"].sum())


def _polars_bare_tar(path: str) -> int:
    import numpy as np
    import polars as pl

    datas, forces, counts = [], [], []
    with tarfile.open(path, mode="r:*") as tf:
        for m in tf:
            if m.isfile() and m.name.endswith("-stop-and-search.csv"):
                data = tf.extractfile(m).read()
                datas.append(data)
                forces.append(m.name.rsplit("/", 1)[-1][8:-len("-stop-and-search.csv")])
                counts.append(data.count(b"\n") - 1)
    df = pl.read_csv(datas, infer_schema=False)
    df = df.with_columns(pl.Series("force", np.repeat(np.array(forces, dtype=object), counts)))
    out = df.group_by("force", pl.col("Date").str.slice(0, 7).alias("month"), "Self-defined ethnicity").len()
    return int(out["len"].sum())


def _duckdb_bare(path: str) -> int:
    import duckdb

    src = path if os.path.isfile(path) else os.path.join(path, "**", "*.csv")
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    q = f"""SELECT regexp_extract(filename, '\\d{{4}}-\\d{{2}}-(.+)-stop-and-search', 1) AS force,
                   substr("Date", 1, 7) AS month, "Self-defined ethnicity" AS eth, count(*) AS n
            FROM read_csv('{src}', all_varchar = true, header = true, filename = true)
            GROUP BY ALL"""
    return int(sum(r[3] for r in con.execute(q).fetchall()))


def _polars_table(path: str) -> int:
    """The floor of returning the whole table: every field parsed by Polars and handed to pandas, nothing checked.

    ``Date``, ``Latitude`` and ``Longitude`` as text, every other field a ``Categorical``
    (the reader's own parse choice), then ``DataFrame.to_pandas()``: no ledger, no
    rejects, no time zones, no harmonisation, no duplicates, no hashing.
    """
    import polars as pl

    files = [path] if os.path.isfile(path) else sorted(glob.glob(os.path.join(path, "**", "*.csv"), recursive=True))
    text = ("Date", "Latitude", "Longitude")
    schema = {c: (pl.String if c in text else pl.Categorical) for c in pl.scan_csv(files[0]).collect_schema()}
    table = pl.scan_csv(files, schema=schema).collect().to_pandas()
    return len(table)


def _count_duckdb(path: str) -> int:
    """The library's counting engine: ``count_policeuk(engine="duckdb")`` (default 1GB limit), ledger included."""
    from equity_metrics.io.large import count_policeuk

    force = "west-yorkshire" if path.endswith("big.csv") else None
    return count_policeuk(path, force=force, engine="duckdb").ledger.rows_read


CONTENDERS = {"read_policeuk": _read_policeuk, "polars bare": _polars_bare, "polars bare (tar)": _polars_bare_tar,
              "duckdb bare": _duckdb_bare, "polars table": _polars_table, "count_policeuk duckdb": _count_duckdb}  # fmt: skip


def _one(which: str, path: str) -> None:
    """Child process: imports (not timed), one timed run, then a JSON line with seconds, rows and peak RSS."""
    if which == "read_policeuk":
        import equity_metrics.io.policeuk  # noqa: F401
    if which == "count_policeuk duckdb":
        import equity_metrics.io.large  # noqa: F401
    import polars  # noqa: F401

    t0 = time.perf_counter()
    rows = CONTENDERS[which](path)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(json.dumps({"which": which, "seconds": seconds, "rows": rows, "peak_mb": peak_mb}))


# ----------------------------------------------------------------------------- driver


def _run(which: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", which, path], capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": "0"})  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"{which} on {path} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _case(title: str, path: str, contenders: list[str], repeats: int) -> dict[str, tuple[float, float, float, int]]:
    runs: dict[str, list[dict]] = {w: [] for w in contenders}
    for _ in range(repeats):
        for w in contenders:
            runs[w].append(_run(w, path))
    print(f"\n== {title}: {path}")
    print(f"   load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPU(s)")
    summary = {}
    for w, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        summary[w] = (min(secs), statistics.median(secs), max(r["peak_mb"] for r in rs), rs[0]["rows"])
        best, med, peak, rows = summary[w]
        print(f"   {w:18s} rows {rows:>10,}  best {best:6.2f} s  median {med:6.2f} s  peak {peak:7.0f} MB"
              f"  (runs: {', '.join(f'{s:.2f}' for s in secs)})")  # fmt: skip
    ours = summary["read_policeuk"]
    for w in contenders[1:]:
        b = summary[w]
        print(f"   ratio read_policeuk / {w}: time best {ours[0] / b[0]:.2f}x, median {ours[1] / b[1]:.2f}x; "
              f"peak memory {ours[2] / b[2]:.2f}x")  # fmt: skip
    if "count_policeuk duckdb" in summary and "duckdb bare" in summary:
        c, b = summary["count_policeuk duckdb"], summary["duckdb bare"]
        print(f"   ratio count_policeuk duckdb / duckdb bare: time best {c[0] / b[0]:.2f}x, median {c[1] / b[1]:.2f}x; "
              f"peak memory {c[2] / b[2]:.2f}x")  # fmt: skip
    return summary


def _write_big(archive: str, out: Path, copies: int) -> Path:
    """The archive's rows ``copies`` times over, in one CSV with one header."""
    big = out / "big.csv"
    header = None
    with open(big, "wb") as fh:
        for _ in range(copies):
            with tarfile.open(archive, mode="r:*") as tf:
                for m in tf:
                    if m.isfile() and m.name.endswith(".csv"):
                        data = tf.extractfile(m).read()
                        head, _, body = data.partition(b"\n")
                        if header is None:
                            header = head
                            fh.write(head + b"\n")
                        fh.write(body if body.endswith(b"\n") or not body else body + b"\n")
    return big


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT), help="the police.uk archive (.tar.gz)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--big-repeats", type=int, default=1)
    ap.add_argument("--no-big", action="store_true", help="skip the one 5M-row file")
    ap.add_argument("--one", nargs=2, metavar=("WHICH", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        _one(*args.one)
        return 0
    if not Path(args.path).exists():
        print(f"archive not found: {args.path} (it lives in ../shared/data/policeuk beside the project root)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        folder = Path(tmp) / "extracted"
        with tarfile.open(args.path, mode="r:*") as tf:
            tf.extractall(folder, filter="data")
        _case("extracted folder", str(folder), ["read_policeuk", "polars bare", "duckdb bare", "polars table"], args.repeats)
        _case("tar.gz archive", args.path, ["read_policeuk", "polars bare (tar)"], args.repeats)
        if not args.no_big:
            big = _write_big(args.path, Path(tmp), BIG_COPIES)
            _case(f"one file, archive x{BIG_COPIES}", str(big),
                  ["read_policeuk", "duckdb bare", "polars bare", "polars table", "count_policeuk duckdb"], args.big_repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
