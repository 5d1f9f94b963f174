"""Statistical models of equity_metrics."""

from .did import AggregateResult, OverallEstimate, PretrendTest, StaggeredDiDResult, staggered_did

__all__ = [
    "staggered_did",
    "StaggeredDiDResult",
    "AggregateResult",
    "OverallEstimate",
    "PretrendTest",
]
