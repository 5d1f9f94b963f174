"""Veil of darkness: the aggregated-count GLM against the row-level logistic regression (same estimate).

Baseline: statsmodels Logit on one row per search with R's ns(minute, df = 6) basis. Measured: the
library's fit on counts by is_dark x minute (binomial GLM, knots from the row-level quantiles).
Data: the police.uk archive in ../shared/data (all 44 forces, inter-twilight window, no area terms).
Run: .venv/bin/python benchmarks/bench_veil.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import equity_metrics as em
from equity_metrics.measures import _veil_prep as prep
from equity_metrics.measures._splines import NaturalSpline
from equity_metrics.measures._veil_fit import fit_counts

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "policeuk" / \
    "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"


def main() -> None:
    import statsmodels.api as sm

    print("load average:", open("/proc/loadavg").read().strip())
    events = em.read_policeuk(ARCHIVE).data
    p = prep.prepare(events, time="datetime", group="ethnicity", minority="Black", majority="White",
                     lat="latitude", lon="longitude", tz="Europe/London", area=None, location=None, centroids=None,
                     design="inter_twilight", weeks=3, time_known="time_known", round_minutes=1, split=None)
    rows = p.rows
    t0 = time.perf_counter()
    spl = NaturalSpline.from_data(rows["minute"].to_numpy(float), 6)
    x = np.column_stack([np.ones(len(rows)), rows["is_dark"].to_numpy(float), spl.basis(rows["minute"].to_numpy(float))])
    logit = sm.Logit(rows["is_minority"].to_numpy(float), x).fit(disp=0)
    t_rows = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts = prep.count_cells(rows, ["is_dark", "minute", "area", "window"])
    f = fit_counts(counts, spline_df=6, area=False, interact_time_area=False, season_year=False, level=0.95)
    t_counts = time.perf_counter() - t0
    print(f"rows {len(rows):,}; cells {len(counts):,}")
    print(f"row-level Logit (baseline): {t_rows:.3f} s, is_dark {logit.params[1]:.8f} (se {logit.bse[1]:.8f})")
    print(f"count GLM:                  {t_counts:.3f} s, is_dark {f.estimate:.8f} (se {f.std_error:.8f})")
    print(f"ratio baseline / counts: {t_rows / t_counts:.1f}x; |difference| {abs(logit.params[1] - f.estimate):.2e}")
    print("load average:", open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    main()
