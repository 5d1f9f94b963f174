"""Statistical core of disproportionality measures: pure functions on counts.

* :mod:`.intervals` - confidence intervals for rates, rate ratios, risk
  ratios and proportions (vectorised).
* :mod:`.pooled` - Mantel-Haenszel pooled rate and odds ratios across strata,
  with heterogeneity tests and I^2.
* :mod:`.suppression` - small-number suppression of published tables with
  complementary suppression, and small-count flags for rates.
"""

from ._common import complete_periods
from .intervals import (
    RatioResult,
    clopper_pearson_ci,
    poisson_rate_ci,
    rate_ratio_ci,
    risk_ratio,
    wilson_ci,
)
from .outcomes import find_coverage
from .locfdr import LocfdrResult, locfdr
from .internal_benchmark import (OfficerBenchmarkResult, internal_benchmark, officer_benchmark_overview,
                                 simulate_officer_encounters)
from .veil import (
    VeilByAreaResult,
    VeilResult,
    sun_times,
    veil_of_darkness,
    veil_of_darkness_by_area,
    veil_of_darkness_counts,
)
from .published import PublishedComparison, compare_published
from .pooled import PooledRatioResult, mantel_haenszel_odds_ratio, mantel_haenszel_rate_ratio
from .suppression import (
    DISCLOSURE_THRESHOLD,
    RATE_SUPPRESS_BELOW,
    RATE_UNRELIABLE_BELOW,
    SuppressionResult,
    feasible_intervals,
    flag_small_counts,
    suppress,
)

from .trust import GapChangeResult, SurveyEstimates, TrustGapResult, gap_change, survey_estimates, trust_gap

__all__ = [
    "trust_gap",
    "gap_change",
    "survey_estimates",
    "TrustGapResult",
    "GapChangeResult",
    "SurveyEstimates",
    "veil_of_darkness",
    "veil_of_darkness_by_area",
    "veil_of_darkness_counts",
    "VeilResult",
    "VeilByAreaResult",
    "sun_times",
    "complete_periods",
    "locfdr",
    "LocfdrResult",
    "internal_benchmark",
    "OfficerBenchmarkResult",
    "officer_benchmark_overview",
    "simulate_officer_encounters",
    "find_coverage",
    "compare_published",
    "PublishedComparison",
    "RatioResult",
    "poisson_rate_ci",
    "rate_ratio_ci",
    "risk_ratio",
    "wilson_ci",
    "clopper_pearson_ci",
    "PooledRatioResult",
    "mantel_haenszel_rate_ratio",
    "mantel_haenszel_odds_ratio",
    "DISCLOSURE_THRESHOLD",
    "RATE_SUPPRESS_BELOW",
    "RATE_UNRELIABLE_BELOW",
    "SuppressionResult",
    "suppress",
    "feasible_intervals",
    "flag_small_counts",
]
