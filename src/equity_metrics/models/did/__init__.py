"""Callaway & Sant'Anna (2021) difference-in-differences with staggered adoption.

Main entry point: :func:`staggered_did`, which returns a
:class:`StaggeredDiDResult` (group-time ATTs) whose ``aggregate`` method gives
simple / dynamic (event study) / group / calendar summaries
(:class:`AggregateResult`).  Results reproduce R ``did`` (``att_gt`` +
``aggte``) with analytic standard errors.
"""

from ._estimator import staggered_did
from .results import AggregateResult, OverallEstimate, PretrendTest, StaggeredDiDResult

__all__ = [
    "staggered_did",
    "StaggeredDiDResult",
    "AggregateResult",
    "OverallEstimate",
    "PretrendTest",
]
