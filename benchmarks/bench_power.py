"""Benchmark of the rollout power simulation (``equity_metrics.power``).

Times ``power(..., n_sims=N)`` (effects 0 and the hoped-for one: 2 x N fits) on a
10,000-officer x 72-month untreated panel (seeded Poisson-gamma counts like use of
force per officer-month; or the real Chicago never-trained officers with ``--chicago``)
with a staggered schedule of 18 monthly cohorts of 67 officers, for each estimator,
and prints the ratio against the baseline measured in the same run: one fit of the
public ``staggered_did`` + ``aggregate("simple")`` on the same panel, times 2 x N.
Records the load average (the machine is shared).

Usage::

    python benchmarks/bench_power.py [--sims 500] [--units 10000] [--periods 72] [--chicago ../shared/data/chicago]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=500)
    ap.add_argument("--units", type=int, default=10000)
    ap.add_argument("--periods", type=int, default=72)
    ap.add_argument("--estimators", nargs="+", default=["cs", "efficient"])
    ap.add_argument("--chicago", help="folder of the Chicago files: use the never-trained officers' history")
    a = ap.parse_args()

    import equity_metrics as em
    from equity_metrics.models.did import staggered_did

    if a.chicago:
        from equity_metrics.examples.chicago_cit import chicago_cit_panel

        data = chicago_cit_panel(a.chicago, period="M")
        kw = {}
        labels = data.data.groupby("time")["period"].first().astype(str).tolist()
        what = "Chicago never-trained officers x 75 months"
    else:
        rng = np.random.default_rng(2026)
        rate = rng.gamma(0.5, 0.08, size=(a.units, 1))
        data = rng.poisson(rate, size=(a.units, a.periods)).astype(float)
        kw = {}
        labels = [str(i) for i in range(1, a.periods + 1)]
        what = f"synthetic {a.units:,} officers x {a.periods} months"
    starts = labels[len(labels) // 3: len(labels) // 3 + 18]
    schedule = {s: 67 for s in starts}

    # baseline: one public staggered_did + aggregate("simple") fit on a panel of the same size
    y, _, _ = em.models.planning.untreated_matrix(data) if not isinstance(data, np.ndarray) else (data, None, None)
    n, t = y.shape
    g = np.zeros(n)
    g[: 67 * 18] = np.repeat(np.arange(t // 3 + 1, t // 3 + 19), 67)
    f = pd.DataFrame({"unit": np.repeat(np.arange(n), t), "time": np.tile(np.arange(1, t + 1), n),
                      "g": np.repeat(g, t), "y": y.ravel()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        staggered_did(f, outcome="y", unit="unit", time="time", first_treated="g",
                      control="not_yet_treated").aggregate("simple")
        one = time.perf_counter() - t0
    print(f"{what}; {n:,} units x {t} periods in the history; 18 cohorts x 67 officers")
    print(f"baseline: one staggered_did + aggregate('simple') fit {one:.2f} s -> {2 * a.sims} fits would take "
          f"{2 * a.sims * one:.0f} s")
    for est in a.estimators:
        load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"] * 3
        t0 = time.perf_counter()
        r = em.power(data, schedule=schedule, effect=-0.10, n_sims=a.sims, estimator=est, seed=1, **kw)
        sec = time.perf_counter() - t0
        row = r.tidy().set_index("effect")
        print(f"power(estimator={est!r}, n_sims={a.sims}): {sec:.1f} s for {2 * a.sims} fits "
              f"({sec / (2 * a.sims) * 1000:.1f} ms/fit; {2 * a.sims * one / sec:.1f}x faster than the baseline); "
              f"load average before {' '.join(load)}")
        print(f"  power at -10%: {row.loc[-0.1, 'power']:.3f} (MC se {row.loc[-0.1, 'power_mcse']:.3f}); size "
              f"{row.loc[0.0, 'power']:.3f}; coverage {row['coverage'].round(3).tolist()}; MDE simulated "
              f"{r.mde_simulated:.1%} +/- {r.mde_simulated_mcse:.1%}, analytic for the schedule {r.mde_schedule:.1%}, "
              f"BPW one-date {r.mde_analytic:.1%}")


if __name__ == "__main__":
    main()
