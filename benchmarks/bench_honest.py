"""HonestDiD speed on R's Benzarti & Carloni example, against a per-grid-point linear-programming baseline.

Baseline ("per-point LP"): the same tests with the dual-vertex enumeration switched off, so each grid
point and each least-favourable draw solves its own HiGHS linear programs, as R and the Python ports
do (R's vignette example takes minutes in R and about 5 minutes in the PyPI port ``honestdid``).

Run: .venv/bin/python benchmarks/bench_honest.py   (prints timings, the ratio and the load average)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from equity_metrics.models.honest import _arp, honest_did

REF = json.loads((Path(__file__).resolve().parents[1] / "tests" / "results" / "honestdid_benzarti_carloni.json").read_text())
B, S = np.array(REF["betahat"]), np.array(REF["sigma"])


def run() -> float:
    t0 = time.perf_counter()
    honest_did(B, S, num_pre=4, num_post=4, bound="linear_trend", m=[0, 0.5, 1, 1.5, 2], grid_points=100,
               grid_lb=-1, grid_ub=1, breakdown=False)
    honest_did(B, S, num_pre=4, num_post=4, restriction="smoothness", bias="negative", m=[0, 0.1, 0.2, 0.3],
               breakdown=False)
    return time.perf_counter() - t0


if __name__ == "__main__":
    run()  # warm-up (R random stream, imports)
    fast = min(run() for _ in range(3))
    _arp.MAX_BASES = 0  # force the per-point LP path
    slow = run()
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    print(f"vertex enumeration: {fast:.2f} s; per-point LP baseline: {slow:.2f} s; ratio {slow / fast:.0f}x")
