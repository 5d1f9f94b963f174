"""Simulation: with a constant planted ratio the report's headline claims a clear change at most at its nominal rate.

Each replication generates a one-force data set with :func:`equity_metrics.datasets.generate`
(seeded; every group's search rate ratio to White is constant over time), turns the planted
searches into the canonical events table the readers produce, and runs
:func:`equity_metrics.report._headline.headline_comparison`: the code path the command
report uses to pick the headline and comparison windows and to decide which groups' changes
are "statistically clear" (Holm across the groups). Nothing is rendered.

200 replications take about 40 s on one core, hence ``slow``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equity_metrics.datasets import generate
from equity_metrics.ethnicity import NOT_STATED
from equity_metrics.report._headline import headline_comparison

GROUPS = ["Asian", "Black", "Mixed", "Other"]
N_REP = 200
ALPHA = 0.05
# nominal rate + one-sided 99% Monte Carlo margin for N_REP replications
BOUND = ALPHA + 2.33 * np.sqrt(ALPHA * (1 - ALPHA) / N_REP)


def _events(sd) -> pd.DataFrame:
    """The planted searches as the canonical events table (self-defined ethnicity; not stated kept as such)."""
    s = sd.stops
    stated = s["self_defined_stated"].to_numpy(bool)
    return pd.DataFrame({
        "force": s["area"].astype(str).to_numpy(),
        "month": pd.PeriodIndex(s["month"].astype(str), freq="M"),
        "ethnicity": np.where(stated, s["group"].astype(str).to_numpy(), NOT_STATED),
        "vehicle_only": s["vehicle_only"].to_numpy(bool),
    })


def _one(seed: int, kind: str):
    sd = generate(seed=seed, areas=1, months=("2019-04", "2021-03"), officers_per_area=1, gaps=False)
    ev = _events(sd)
    covered = sorted(ev["month"].astype(str).unique())
    return headline_comparison(ev, sd.population, covered=covered, area="northshire", groups=GROUPS,
                               reference="White", kind=kind, alpha=ALPHA, min_count=10)


@pytest.mark.slow
def test_constant_ratio_gives_clear_change_at_most_at_nominal_rate():
    any_clear, black_alone = [], []
    for i in range(N_REP):
        hc = _one(10_000 + i, "FY")
        assert hc.window.label == "2020/21" and hc.base.label == "2019/20"  # two complete, non-overlapping years
        t = hc.changes.tidy().set_index("group")
        any_clear.append(hc.any_clear)
        black_alone.append(bool(t.loc["Black", "p_value"] < ALPHA))
    rate_any, rate_black = float(np.mean(any_clear)), float(np.mean(black_alone))
    # the report names a change in any group (Holm across 4 groups) at most at the nominal rate ...
    assert rate_any <= BOUND, rate_any
    # ... and the single unadjusted comparison is itself calibrated (not anti-conservative)
    assert rate_black <= BOUND, rate_black


def test_one_replication_uses_the_report_code_path():
    hc = _one(10_000, "rolling12")
    assert hc.window.label == "2020-04..2021-03" and hc.base.label == "2019-04..2020-03"
    assert not set(hc.window.months) & set(hc.base.months)
    assert set(hc.changes.tidy()["group"]) == set(GROUPS)
