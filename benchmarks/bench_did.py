"""Benchmark of the Callaway & Sant'Anna estimator (``staggered_did``) and of the Fisher test of
``efficient_staggered``, against baselines measured in the same run.

Two seeded balanced panels (``make_panel``):

* 10,000 units x 72 periods, 6 treated cohorts + never treated, never-treated comparisons;
* 8,000 units x 72 periods, 48 treated cohorts + never treated, not-yet-treated comparisons
  (the many-cohort officer rollout of issue 11).

On each: ``staggered_did`` (analytic SEs, covariate-free fast path) followed by the
simple/dynamic/group/calendar aggregations, against

* the per-block implementation it replaced (``_attgt._estimate_att_gt_reference``, still the
  path with covariates), fewer runs;
* ``diff_diff.CallawaySantAnna`` fit + simple/event_study/group aggregations
  (``pip install diff-diff``, the ``bench`` extra); target: ours <= 0.2x on the 48-cohort panel;
* ``csdid`` if it is importable (not installed by default).

Then the Fisher randomization test of ``efficient_staggered`` (default estimand) with
``--fisher`` permutations (default 5,000; target < 30 s) against the one-permutation-at-a-time
loop it replaced (``fisher_counts_reference``), timed on ``--fisher-ref`` permutations and
extrapolated linearly (its cost per permutation is constant).

The machine is shared: the 1-minute load average is printed next to every timing; medians of
``--runs`` runs; CPU time of the process is shown as well.

Usage::

    python benchmarks/bench_did.py [--runs 5] [--fisher 5000] [--fisher-ref 20] [--only cs|fisher]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from unittest import mock

import numpy as np
import pandas as pd

from equity_metrics.models import _efficient_fisher, efficient
from equity_metrics.models.did import _attgt, _estimator, staggered_did

PANELS = [
    ("10,000 x 72, 6 cohorts, never-treated controls", 10_000, 72, 6, "never_treated"),
    ("8,000 x 72, 48 cohorts, not-yet-treated controls", 8_000, 72, 48, "not_yet_treated"),
]


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


def run_ours(df: pd.DataFrame, control: str) -> dict[str, float]:
    res = staggered_did(df, outcome="y", unit="unit", time="period", first_treated="first_treat", control=control)
    out = {"n_cells": float(len(res.att_gt))}
    for kind in ("simple", "dynamic", "group", "calendar"):
        out[kind] = res.aggregate(kind).overall.estimate
    return out


def run_reference(df: pd.DataFrame, control: str) -> dict[str, float]:
    with mock.patch.object(_estimator, "estimate_att_gt", _attgt._estimate_att_gt_reference):
        return run_ours(df, control)


def run_diff_diff(df: pd.DataFrame, control: str) -> dict[str, object]:
    from diff_diff import CallawaySantAnna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CallawaySantAnna(control_group=control).fit(
            df, outcome="y", unit="unit", time="period", first_treat="first_treat"
        )
        return {kind: res.aggregate(kind) for kind in ("simple", "event_study", "group")}


def run_csdid(df: pd.DataFrame, control: str) -> object:
    from csdid.att_gt import ATTgt

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        att = ATTgt(yname="y", tname="period", idname="unit", gname="first_treat", data=df,
                    control_group="notyettreated" if control == "not_yet_treated" else "nevertreated").fit(
            est_method="dr", bstrap=False
        )
        for kind in ("simple", "dynamic", "group", "calendar"):
            att.aggte(typec=kind, bstrap=False)
    return att


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def time_it(fn, *args, runs: int) -> tuple[float, float, list[float], str]:
    """Median wall time, median CPU time, all wall times, load average before and after."""
    before = load()
    walls, cpus = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn(*args)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), walls, f"{before} -> {load()}"


def fmt(walls: list[float]) -> str:
    return ", ".join(f"{t:.3f}" for t in walls)


def bench_cs(runs: int) -> None:
    try:
        import diff_diff
    except ImportError:
        diff_diff = None
        print("diff_diff: not installed (pip install diff-diff, or the 'bench' extra) -- skipped")
    try:
        import csdid  # noqa: F401
    except ImportError:
        csdid = None
        print("csdid: not installed (pip install csdid) -- skipped")
    for label, n, t, k, control in PANELS:
        df = make_panel(n, t, k)
        print(f"\n== staggered_did on {label} ({len(df):,} rows): fit + simple/dynamic/group/calendar ==")
        check = run_ours(df, control)  # warm-up
        med, cpu, walls, ld = time_it(run_ours, df, control, runs=runs)
        print(f"  ours (fast path)       : median {med:.3f} s wall, {cpu:.3f} s CPU  [{fmt(walls)}]  ({ld})")
        print(f"    cells={int(check['n_cells'])}  simple={check['simple']:.4f}  dynamic={check['dynamic']:.4f}")
        med_r, cpu_r, walls_r, ld = time_it(run_reference, df, control, runs=max(1, runs // 2))
        print(f"  ours, per-block path   : median {med_r:.3f} s wall, {cpu_r:.3f} s CPU  [{fmt(walls_r)}]  ({ld})"
              f"  -> fast path is {med_r / med:.1f}x faster")
        peaks = []
        for fn in (run_ours, run_reference):
            tracemalloc.start()
            fn(df, control)
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
        print(f"  peak traced memory of one fit + aggregations: fast path {peaks[0]:.0f} MiB, "
              f"per-block path {peaks[1]:.0f} MiB")
        if diff_diff is not None:
            run_diff_diff(df, control)
            med_d, cpu_d, walls_d, ld = time_it(run_diff_diff, df, control, runs=runs)
            print(f"  diff_diff {diff_diff.__version__} CallawaySantAnna (fit + simple/event_study/group): median "
                  f"{med_d:.3f} s wall, {cpu_d:.3f} s CPU  [{fmt(walls_d)}]  ({ld})")
            print(f"  RATIO ours / diff_diff = {med / med_d:.3f} (wall), {cpu / cpu_d:.3f} (CPU)"
                  f"   [target <= 0.2 on the 48-cohort panel]")
        if csdid is not None:
            med_c, cpu_c, _, ld = time_it(run_csdid, df, control, runs=1)
            print(f"  csdid ATTgt + aggte x4: {med_c:.3f} s wall, {cpu_c:.3f} s CPU (1 run, {ld})"
                  f"  -> RATIO ours / csdid = {med / med_c:.3f}")


def bench_fisher(n_fisher: int, n_ref: int) -> None:
    kw = dict(outcome="y", unit="unit", time="period", first_treated="first_treat")
    for label, n, t, k, _ in PANELS:
        df = make_panel(n, t, k)
        print(f"\n== efficient_staggered Fisher test on {label}: {n_fisher:,} permutations ==")
        c0, t0 = time.process_time(), time.perf_counter()
        efficient.efficient_staggered(df, **kw, n_fisher=0)
        fit_w, fit_c = time.perf_counter() - t0, time.process_time() - c0
        ld = load()
        c0, t0 = time.process_time(), time.perf_counter()
        r = efficient.efficient_staggered(df, **kw, n_fisher=n_fisher, seed=1)
        wall, cpu = time.perf_counter() - t0 - fit_w, time.process_time() - c0 - fit_c
        print(f"  vectorised: {wall:.2f} s wall, {cpu:.2f} s CPU for the permutations (fit alone {fit_w:.2f} s)"
              f"  ({ld} -> {load()})   [target < 30 s]   p = {r.overall['fisher_p_value']:.4f}")
        if n_ref < 1:  # --fisher-ref 0: skip the (slow) previous implementation
            continue
        ld = load()
        with mock.patch.object(efficient, "fisher_counts", _efficient_fisher.fisher_counts_reference):
            c0, t0 = time.process_time(), time.perf_counter()
            efficient.efficient_staggered(df, **kw, n_fisher=n_ref, seed=1)
            ref_w, ref_c = time.perf_counter() - t0 - fit_w, time.process_time() - c0 - fit_c
        per = ref_w / n_ref
        print(f"  one permutation at a time (previous implementation): {per * 1000:.0f} ms per permutation "
              f"({ref_c / n_ref * 1000:.0f} ms CPU) "
              f"({n_ref} timed, {ld} -> {load()}) -> {per * n_fisher:.0f} s for {n_fisher:,}"
              f"   RATIO vectorised / loop = {wall / (per * n_fisher):.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fisher", type=int, default=5000)
    ap.add_argument("--fisher-ref", type=int, default=20)
    ap.add_argument("--only", choices=["cs", "fisher"], default=None)
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs; {load()} (1 min), /proc/loadavg: "
          + (open("/proc/loadavg").read().strip() if os.path.exists("/proc/loadavg") else "n/a"))
    if args.only in (None, "cs"):
        bench_cs(args.runs)
    if args.only in (None, "fisher"):
        bench_fisher(args.fisher, args.fisher_ref)
    print(f"\ndone; {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
