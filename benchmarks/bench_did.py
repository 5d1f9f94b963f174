"""Benchmark of the Callaway & Sant'Anna estimator (``staggered_did``).

Builds a seeded balanced panel of 10,000 units x 72 periods with 6 treated
cohorts plus never-treated units, then times ``staggered_did`` (analytic
standard errors) followed by all four aggregations (median of several runs).
If ``diff_diff`` and/or ``csdid`` are importable they are timed on the same
data in the same run (``pip install diff-diff csdid``; they are not
dependencies of equity_metrics).  Peak memory is reported with tracemalloc
(Python allocations of one extra run) and the process max RSS.

Usage::

    python benchmarks/bench_did.py [--units 10000] [--periods 72] [--runs 5] [--no-csdid]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from equity_metrics.models.did import staggered_did


def make_panel(n_units: int = 10_000, n_periods: int = 72, n_cohorts: int = 6, seed: int = 12345) -> pd.DataFrame:
    """Seeded staggered panel: cohorts evenly spread, 1/(n_cohorts+1) never treated, effect 1 + 0.05 e."""
    rng = np.random.default_rng(seed)
    periods = np.arange(1, n_periods + 1)
    cohorts = np.linspace(n_periods // 6, n_periods - n_periods // 6, n_cohorts).round().astype(int)
    g = rng.choice(np.r_[cohorts, 0], size=n_units)
    unit_fe = rng.normal(size=n_units)
    time_fe = np.cumsum(rng.normal(scale=0.1, size=n_periods))
    e = periods[None, :] - g[:, None]
    treated = (g[:, None] > 0) & (e >= 0)
    y = unit_fe[:, None] + time_fe[None, :] + np.where(treated, 1.0 + 0.05 * e, 0.0)
    y = y + rng.normal(size=(n_units, n_periods))
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(1, n_units + 1), n_periods),
            "period": np.tile(periods, n_units),
            "first_treat": np.repeat(g, n_periods),
            "y": y.ravel(),
        }
    )


def run_ours(df: pd.DataFrame) -> dict[str, float]:
    res = staggered_did(df, outcome="y", unit="unit", time="period", first_treated="first_treat")
    out = {"n_cells": float(len(res.att_gt))}
    for kind in ("simple", "dynamic", "group", "calendar"):
        out[kind] = res.aggregate(kind).overall.estimate
    return out


def run_diff_diff(df: pd.DataFrame) -> dict[str, float]:
    from diff_diff import CallawaySantAnna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CallawaySantAnna().fit(df, outcome="y", unit="unit", time="period", first_treat="first_treat")
        out = {}
        for kind in ("simple", "event_study", "group"):
            out[kind] = res.aggregate(kind)
    return out


def run_csdid(df: pd.DataFrame) -> object:
    from csdid.att_gt import ATTgt

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        att = ATTgt(yname="y", tname="period", idname="unit", gname="first_treat", data=df).fit(
            est_method="dr", bstrap=False
        )
        for kind in ("simple", "dynamic", "group", "calendar"):
            att.aggte(typec=kind, bstrap=False)
    return att


def time_it(fn, df: pd.DataFrame, runs: int) -> tuple[float, list[float], float]:
    """Median wall time, all wall times, and median process CPU time (robust to other load)."""
    times, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn(df)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), times, statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--periods", type=int, default=72)
    ap.add_argument("--cohorts", type=int, default=6)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-csdid", action="store_true", help="skip csdid (slow)")
    args = ap.parse_args(argv)

    df = make_panel(args.units, args.periods, args.cohorts)
    print(
        f"panel: {args.units} units x {args.periods} periods, {args.cohorts} cohorts, {len(df):,} rows; "
        "analytic SEs + simple/dynamic/group/calendar aggregations"
    )
    run_ours(df)  # warm-up (imports, caches)
    med, all_t, cpu = time_it(run_ours, df, args.runs)
    print(f"machine load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(
        f"equity_metrics.staggered_did: median {med:.3f} s wall, {cpu:.3f} s CPU over {args.runs} runs "
        f"({', '.join(f'{t:.3f}' for t in all_t)})"
    )
    check = run_ours(df)
    print(f"  cells={int(check['n_cells'])}  simple ATT={check['simple']:.4f}  dynamic={check['dynamic']:.4f}")

    tracemalloc.start()
    run_ours(df)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak traced memory of one run: {peak / 2**20:.1f} MiB; process max RSS so far: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")

    try:
        import diff_diff  # noqa: F401
    except ImportError:
        print("diff_diff: not installed (pip install diff-diff) -- skipped")
    else:
        run_diff_diff(df)
        med_dd, all_dd, cpu_dd = time_it(run_diff_diff, df, args.runs)
        print(
            f"diff_diff {diff_diff.__version__} CallawaySantAnna (simple/event_study/group): median {med_dd:.3f} s "
            f"wall, {cpu_dd:.3f} s CPU ({', '.join(f'{t:.3f}' for t in all_dd)})  -> ours is "
            f"{med_dd / med:.1f}x faster (wall), {cpu_dd / cpu:.1f}x (CPU)"
        )

    if args.no_csdid:
        return 0
    try:
        import csdid  # noqa: F401
    except ImportError:
        print("csdid: not installed (pip install csdid) -- skipped")
    else:
        med_cs, _, cpu_cs = time_it(run_csdid, df, 1)
        print(
            f"csdid ATTgt + aggte x4: {med_cs:.3f} s wall, {cpu_cs:.3f} s CPU (1 run)  -> ours is "
            f"{med_cs / med:.1f}x faster (wall), {cpu_cs / cpu:.1f}x (CPU)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
