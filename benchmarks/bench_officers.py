"""Benchmark: officer-level internal benchmarking (vectorised) vs a per-officer loop baseline.

Baseline (named ``per_officer_loop``): for each officer, build the odds weights of
every other officer's encounter explicitly and take the weighted means - the
direct way to write Ridgeway & MacDonald's estimator with cell propensities
(the outcome model is fitted once and shared by both, so only the per-officer
part is compared). Also times the whole Chicago use-of-force worked example
when ``../shared/data/chicago`` is present, and locfdr on the R reference data.

Run: ``.venv/bin/python benchmarks/bench_officers.py``. Prints the load average.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from equity_metrics.measures._officer_design import cell_codes, dummies, feature_frame, ridge_logit
from equity_metrics.measures.internal_benchmark import internal_benchmark, simulate_officer_encounters
from equity_metrics.measures.locfdr import locfdr

ROOT = Path(__file__).resolve().parents[1]


def per_officer_loop(ev: pd.DataFrame, min_encounters: int) -> np.ndarray:
    y = (ev["ethnicity"] == "Black").to_numpy(float)
    cells = cell_codes(feature_frame(ev, ("district", "shift", "year"), datetime="datetime"))
    m = ridge_logit(dummies(feature_frame(ev, ("beat", "hour", "weekday", "month"), datetime="datetime")), y)
    r = y - m
    off = ev["officer_id"].to_numpy()
    counts = pd.Series(off).value_counts()
    zs = []
    for oid in counts.index[counts >= min_encounters]:
        mine = off == oid
        n_ic = np.bincount(cells[mine], minlength=cells.max() + 1)
        n_oth = np.bincount(cells[~mine], minlength=cells.max() + 1)
        wc = np.divide(n_ic, n_oth, out=np.zeros(len(n_ic)), where=n_oth > 0)
        w = np.where(mine, 0.0, wc[cells])
        ok = mine & (n_oth[cells] > 0)
        rbar_w = np.sum(w * r) / w.sum()
        var = np.sum(m[ok] * (1 - m[ok])) / ok.sum() ** 2 + np.sum(w**2 * (r - rbar_w) ** 2) / w.sum() ** 2
        zs.append((r[ok].mean() - rbar_w) / np.sqrt(var))
    return np.array(zs)


def timed(f, *a, **k):
    t = time.perf_counter()
    out = f(*a, **k)
    return out, time.perf_counter() - t


def main() -> None:
    print("load average:", Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "n/a")
    ev, _ = simulate_officer_encounters(n_officers=2000, n_biased=100, seed=1)
    res, t_vec = timed(internal_benchmark, ev, min_encounters=40)
    z_loop, t_loop = timed(per_officer_loop, ev, 40)
    assert np.allclose(np.sort(res.table["z"].to_numpy()), np.sort(z_loop))
    print(f"simulated {len(ev):,} encounters, {res.n_officers:,} officers: internal_benchmark {t_vec:.2f} s "
          f"(outcome model + locfdr included); per_officer_loop baseline {t_loop:.2f} s; ratio {t_loop / t_vec:.1f}x")
    ref = ROOT.parent / "shared" / "reference" / "locfdr_lfdrsim_z.csv"
    if ref.exists():
        z = pd.read_csv(ref)["z"].to_numpy()
        _, t = timed(locfdr, z)
        print(f"locfdr on lfdrsim (2,000 z): {t * 1000:.0f} ms")
    chicago = ROOT.parent / "shared" / "data" / "chicago"
    if chicago.exists():
        from equity_metrics.examples.chicago_officers import ADJUST_FOR, INCIDENT, MATCH_ON, chicago_officer_events

        ev, t_read = timed(chicago_officer_events, chicago)

        res, t_fit = timed(internal_benchmark, ev, match_on=MATCH_ON, adjust_for=ADJUST_FOR, incident=INCIDENT,
                           min_encounters=20)
        print(f"Chicago use of force: read {t_read:.1f} s, internal_benchmark {t_fit:.2f} s "
              f"({res.n_encounters:,} encounters, {res.n_officers:,} officers examined, {res.n_flagged} flagged)")


if __name__ == "__main__":
    main()
