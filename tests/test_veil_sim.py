"""Veil of darkness by simulation: interval coverage under no effect and under a planted effect (slow)."""

from __future__ import annotations

import pytest

import equity_metrics as em
from equity_metrics.datasets.veil import veil_stops

REPS = 100


def _coverage(odds_ratio: float, seed0: int) -> tuple[float, float]:
    covered, rejected = 0, 0
    for k in range(REPS):
        s = veil_stops(5_000, darkness_odds_ratio=odds_ratio, seed=seed0 + k)
        r = em.veil_of_darkness(s)
        covered += r.ci_low < odds_ratio < r.ci_high
        rejected += not (r.ci_low < 1 < r.ci_high)
    return covered / REPS, rejected / REPS


@pytest.mark.slow
def test_null_no_darkness_effect_interval_covers_one_at_nominal_rate():
    cover, reject = _coverage(1.0, 10_000)
    print(f"no effect: coverage {cover:.2f}")
    # 95% intervals over 100 replications: binomial sd about 2.2 points
    assert 0.89 <= cover <= 0.995, cover
    assert reject == pytest.approx(1 - cover)


@pytest.mark.slow
def test_planted_effect_recovered_at_nominal_rate():
    cover, reject = _coverage(0.7, 20_000)
    assert 0.89 <= cover <= 0.995, cover
    assert reject >= 0.5, reject  # the planted effect is usually detected at n = 5,000 (about 3,000 used)
    print(f"planted OR 0.7: coverage {cover:.2f}, power {reject:.2f}")
