"""Cost of the HonestDiD step of ``equity-metrics impact`` on the bundled samples.

Runs the command in-process (imports already loaded) on ``data/samples`` (180 officers x 36
months, not-yet-treated comparisons), alternating the baseline ``--no-honest`` with the default
(HonestDiD on: a second Callaway & Sant'Anna fit with ``base_period="universal"``, the event study
on -6..5, robust sets for Mbar 0..2 and the breakdown by bisection, a CSV and a PNG), and prints
medians of wall and CPU time, the ratio to the baseline and the 1-minute load average (the
machine is shared). With ``--planted`` the use-of-force reports of trained officers after their
course are thinned by 80% (seeded), so the breakdown bisection has work to do (the samples have
no effect: breakdown 0, no bisection).

Usage::

    python benchmarks/bench_impact_honest.py [--runs 5] [--planted]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from equity_metrics.cli import main
from equity_metrics.datasets import sample_path


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").exists() else float("nan")


def _planted(path: Path, s: Path) -> Path:
    ev = pd.read_csv(s / "officer_events.csv", dtype=str)
    tr = pd.read_csv(s / "training.csv", dtype=str)
    completed = ev["officer_id"].map(dict(zip(tr["officer_id"], tr["completed"])))
    after = completed.notna() & (ev["datetime"].str[:10] >= completed.fillna("9999"))
    drop = after & (ev["event_type"] == "use_of_force") & (np.random.default_rng(13).random(len(ev)) < 0.8)
    ev[~drop].to_csv(path, index=False)
    return path


def main_bench() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--planted", action="store_true")
    a = ap.parse_args()
    s = sample_path()
    with tempfile.TemporaryDirectory() as tmp:
        events = _planted(Path(tmp) / "events.csv", s) if a.planted else s / "officer_events.csv"
        argv = ["--quiet", "impact", "--events", str(events), "--mapping", str(s / "officer_events_mapping.toml"),
                "--training", str(s / "training.csv"), "--officers", str(s / "officers.csv"), "--treated-from",
                "completion", "--unbalanced", "drop", "--control", "not_yet_treated"]
        times: dict[str, list[tuple[float, float]]] = {"no_honest": [], "honest": []}
        main([*argv, "--out", str(Path(tmp) / "warm")])  # warm-up: imports, matplotlib
        for i in range(a.runs):
            for name, extra in (("no_honest", ["--no-honest"]), ("honest", [])):
                w0, c0 = time.perf_counter(), time.process_time()
                with contextlib.redirect_stdout(io.StringIO()):
                    assert main([*argv, *extra, "--out", str(Path(tmp) / f"{name}{i}")]) == 0
                times[name].append((time.perf_counter() - w0, time.process_time() - c0))
    base_w = statistics.median(t[0] for t in times["no_honest"])
    print(f"impact on the bundled samples{' (planted effect)' if a.planted else ''}; {a.runs} runs; "
          f"load average {_load():.2f}; {os.cpu_count()} cores")
    for name, ts in times.items():
        w = statistics.median(t[0] for t in ts)
        c = statistics.median(t[1] for t in ts)
        print(f"  {name:<10} wall {w:6.2f} s  cpu {c:6.2f} s  ratio to --no-honest {w / base_w:5.2f}x")


if __name__ == "__main__":
    main_bench()
