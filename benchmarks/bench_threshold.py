"""Benchmark of the threshold test on a state-sized problem (issue 12): 150 counties x 3 groups.

Counts are simulated from each model with planted thresholds (seeded); both models are fitted with
the published settings by default (5 chains, 2,500 warm-up + 2,500 draws, sequential chains on one
core), and the script prints wall time, CPU time, the 1-minute load average before and after (the
machine is shared), leapfrog steps per iteration, the diagnostics and how many area x group
credible intervals cover the planted thresholds.

Baseline named in the output: the hierarchical (2020, normal-mixture) model, fitted in the same
run; the flat (2017, Beta) model's time is printed as a ratio to it (the 2017 model needs the
incomplete beta function and its derivatives at every leapfrog step).

Not measured: the same model in a second library (PyMC was not installed in time; see the issue 12
note). CmdStan cannot be used (no network at run time to fetch its toolchain).

Usage::

    python benchmarks/bench_threshold.py [--counties 150] [--chains 5] [--warmup 2500] [--draws 2500]
                                          [--only flat|hierarchical]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from equity_metrics.models.threshold import threshold_test
from equity_metrics.models.threshold._simulate import simulate_counts


def load() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def problem(model: str, counties: int, seed: int = 12):
    rng = np.random.default_rng(seed)
    stops = np.round(rng.lognormal(np.log(1500), 0.8, (counties, 1)) * np.array([[0.65, 0.2, 0.15]])).astype(int) + 50
    sim = simulate_counts(stops, model=model, seed=seed + 1)
    groups = ["White", "Black", "Hispanic"]
    rows = [dict(area=f"county {i:03d}", group=g, stops=int(stops[i, j]), searches=int(sim["searches"][i, j]),
                 hits=int(sim["hits"][i, j]), truth=float(sim["threshold"][i, j]))
            for i in range(counties) for j, g in enumerate(groups)]
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counties", type=int, default=150)
    ap.add_argument("--chains", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2500)
    ap.add_argument("--draws", type=int, default=2500)
    ap.add_argument("--only", choices=["flat", "hierarchical"])
    a = ap.parse_args()
    times = {}
    for model in ["hierarchical", "flat"]:
        if a.only and model != a.only:
            continue
        df = problem(model, a.counties)
        l0, c0, t0 = load(), os.times(), time.perf_counter()
        res = threshold_test(df, model=model, chains=a.chains, warmup=a.warmup, draws=a.draws, seed=1)
        wall, c1 = time.perf_counter() - t0, os.times()
        cpu = (c1.user - c0.user) + (c1.system - c0.system)
        times[model] = wall
        m = res.tidy().merge(df[["area", "group", "truth"]], on=["area", "group"])
        cover = float(((m["truth"] >= m["ci_low"]) & (m["truth"] <= m["ci_high"])).mean())
        print(f"{model}: {a.counties} counties x 3 groups, {a.chains} chains x ({a.warmup} + {a.draws}): "
              f"wall {wall:.0f} s (sampling {res.diagnostics.seconds:.0f} s), cpu {cpu:.0f} s, "
              f"load avg {l0} -> {load()}, {res.diagnostics.mean_leapfrog_steps:.0f} leapfrog steps/iteration")
        print(f"  {res.diagnostics.summary()}")
        print(f"  planted cell thresholds inside their 95% credible intervals: {cover:.1%} of {len(m)}")
        print("  " + res.table().round(4).to_string(index=False).replace("\n", "\n  "))
    if len(times) == 2:
        print(f"ratio flat / hierarchical (baseline) wall time: {times['flat'] / times['hierarchical']:.2f}")


if __name__ == "__main__":
    main()
