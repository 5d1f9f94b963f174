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

Then the Fisher randomization test of ``efficient_staggered`` for every estimand it supports
(``simple``, ``cohort``, ``calendar``, ``eventstudy``; ``--estimands``) with ``--fisher``
permutations (default 5,000; target < 30 s each) against, timed right after ours on fewer
permutations and extrapolated linearly (their cost per permutation is constant):

* the previous batched implementation (``benchmarks/_fisher_prev.py``, a frozen copy of commit
  bdf4e68), ``--fisher-prev`` permutations (it draws the same permutations, so the p-values on
  those draws are checked equal);
* the one-permutation-at-a-time loop (``fisher_counts_reference``), ``--fisher-ref`` permutations;
* optionally ``--fisher-baseline PATH``: a frozen copy of ``_efficient_fisher.py`` kept outside the
  repository (e.g. the version before a change), timed on all ``--fisher`` permutations right after
  ours; CPU and wall ratios are printed and the p-values checked identical.

The machine is shared: the 1-minute load average is printed next to every timing; medians of
``--runs`` runs; CPU time of the process is shown as well.

Usage::

    python benchmarks/bench_did.py [--runs 5] [--fisher 5000] [--fisher-prev 200] [--fisher-ref 5]
                                   [--fisher-baseline <a copy of _efficient_fisher.py>]
                                   [--estimands simple,cohort,calendar,eventstudy] [--only cs|fisher]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _fisher_prev.py, the previous implementation

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


FISHER_ESTIMANDS = ("simple", "cohort", "calendar", "eventstudy")


def _timed_fisher(df, kw, estimand, n_fisher, impl=None):
    """(wall, CPU, result): time spent in the Fisher test (``impl``, default ours) of one fit."""
    impl = impl or _efficient_fisher.fisher_counts
    spent = []

    def timed(*args, **kwargs):
        c0, t0 = time.process_time(), time.perf_counter()
        out = impl(*args, **kwargs)
        spent.append((time.perf_counter() - t0, time.process_time() - c0))
        return out

    with mock.patch.object(efficient, "fisher_counts", timed):
        r = efficient.efficient_staggered(df, **kw, estimand=estimand, n_fisher=n_fisher, seed=1)
    return spent[0][0], spent[0][1], r


def _load_fisher_baseline(path: str):
    """A frozen copy of ``_efficient_fisher.py`` (outside the repository) as a module of the package."""
    name = "equity_metrics.models._fisher_baseline"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"--fisher-baseline: cannot load {path!r}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def bench_fisher(n_fisher: int, n_prev: int, n_ref: int, estimands: tuple[str, ...],
                 baseline: str | None = None) -> None:
    """Fisher test of efficient_staggered, every estimand, both panels.

    Baselines, timed in the same run just after ours, on fewer permutations and scaled linearly (their cost
    per permutation is constant): the previous batched implementation (``_fisher_prev.py``, a frozen copy)
    on ``n_prev`` permutations and the one-permutation-at-a-time loop (``fisher_counts_reference``) on
    ``n_ref``. Both draw the same permutations as ours, so the p-values on the first ``n_prev`` draws agree.
    """
    import _fisher_prev

    base = _load_fisher_baseline(baseline) if baseline else None
    if base is not None:
        print(f"baseline: {baseline} (timed on all {n_fisher:,} permutations right after ours)")
    kw = dict(outcome="y", unit="unit", time="period", first_treated="first_treat")
    rows = []
    for label, n, t, k, _ in PANELS:
        df = make_panel(n, t, k)
        print(f"\n== efficient_staggered Fisher test on {label}: {n_fisher:,} permutations per estimand ==")
        for est in estimands:
            ld = load()
            wall, cpu, r = _timed_fisher(df, kw, est, n_fisher)
            ld = f"{ld} -> {load()}"
            print(f"  {est:10s} ({len(r.table)} rows): ours {wall:6.2f} s wall, {cpu:6.2f} s CPU  ({ld})"
                  f"  [target < 30 s]  {'OK' if wall < 30 else 'OVER'}"
                  f"   p(overall) = {r.overall['fisher_p_value']:.4f}")
            line = dict(panel=label[:22], estimand=est, rows=len(r.table), ours=wall, cpu=cpu, load=ld)
            if base is not None:
                ld = load()
                bw, bc, rb = _timed_fisher(df, kw, est, n_fisher, base.fisher_counts)
                same = all(np.array_equal(r.table[c].to_numpy(), rb.table[c].to_numpy())
                           for c in ("fisher_p_value", "fisher_p_value_neyman"))
                line["base"], line["base_cpu"] = bw, bc
                print(f"  {'':10s} baseline: {bw:6.2f} s wall, {bc:6.2f} s CPU  ({ld} -> {load()})   RATIO ours / "
                      f"baseline = {wall / bw:.3f} (wall), {cpu / bc:.3f} (CPU)   (identical p-values: {same})")
            if n_prev > 0:
                ld = load()
                pw, pc, rp = _timed_fisher(df, kw, est, n_prev, _fisher_prev.fisher_counts)
                mine = efficient.efficient_staggered(df, **kw, estimand=est, n_fisher=n_prev, seed=1)
                same = np.allclose(mine.table["fisher_p_value"], rp.table["fisher_p_value"], rtol=0, atol=1e-12)
                line["prev"] = pw / n_prev * n_fisher
                print(f"  {'':10s} previous batched implementation: {pw / n_prev * 1000:.1f} ms per permutation "
                      f"({pc / n_prev * 1000:.1f} ms CPU; {n_prev} timed, {ld} -> {load()}) -> {line['prev']:.0f} s "
                      f"for {n_fisher:,}   RATIO ours / previous = {wall / line['prev']:.3f}"
                      f"   (same p-values on {n_prev} draws: {same})")
            if n_ref > 0:
                ld = load()
                rw, rc, _ = _timed_fisher(df, kw, est, n_ref, _efficient_fisher.fisher_counts_reference)
                line["loop"] = rw / n_ref * n_fisher
                print(f"  {'':10s} one permutation at a time (loop): {rw / n_ref * 1000:.0f} ms per permutation "
                      f"({rc / n_ref * 1000:.0f} ms CPU; {n_ref} timed, {ld} -> {load()}) -> {line['loop']:.0f} s "
                      f"for {n_fisher:,}   RATIO ours / loop = {wall / line['loop']:.4f}")
            rows.append(line)
    print(f"\n== summary: seconds for {n_fisher:,} permutations (baselines scaled from fewer) ==")
    print(f"  {'panel':22s} {'estimand':10s} {'rows':>4s} {'ours':>7s} {'(CPU)':>7s} {'baseline':>9s} {'(CPU)':>7s}"
          f" {'previous':>9s} {'loop':>8s}  load")
    for x in rows:
        bl = f"{x['base']:9.2f} {x['base_cpu']:7.2f}" if "base" in x else f"{'-':>9s} {'-':>7s}"
        prev = f"{x['prev']:9.1f}" if "prev" in x else f"{'-':>9s}"
        loop = f"{x['loop']:8.0f}" if "loop" in x else f"{'-':>8s}"
        print(f"  {x['panel']:22s} {x['estimand']:10s} {x['rows']:4d} {x['ours']:7.2f} {x['cpu']:7.2f} {bl} {prev} {loop}"
              f"  {x['load']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fisher", type=int, default=5000)
    ap.add_argument("--fisher-prev", type=int, default=200,
                    help="permutations timed with the previous batched implementation (0 skips it)")
    ap.add_argument("--fisher-ref", type=int, default=5,
                    help="permutations timed with the one-at-a-time loop (0 skips it)")
    ap.add_argument("--fisher-baseline", default=None, metavar="PATH",
                    help="frozen copy of _efficient_fisher.py (outside the repo) timed on all permutations")
    ap.add_argument("--estimands", default=",".join(FISHER_ESTIMANDS),
                    help="comma-separated efficient_staggered estimands for the Fisher benchmark")
    ap.add_argument("--only", choices=["cs", "fisher"], default=None)
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs; {load()} (1 min), /proc/loadavg: "
          + (open("/proc/loadavg").read().strip() if os.path.exists("/proc/loadavg") else "n/a"))
    if args.only in (None, "cs"):
        bench_cs(args.runs)
    if args.only in (None, "fisher"):
        bench_fisher(args.fisher, args.fisher_prev, args.fisher_ref, tuple(args.estimands.split(",")),
                     args.fisher_baseline)
    print(f"\ndone; {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
