"""HonestDiD: robust inference when parallel trends may fail (Rambachan & Roth 2023).

A fast re-implementation of R ``HonestDiD`` (0.2.x): relative-magnitude
(Delta^RM, Delta^SDRM) and smoothness (Delta^SD) restrictions with optional
sign / monotonicity restrictions; FLCI, conditional (ARP), conditional-FLCI
and conditional-least-favourable hybrid confidence sets; the breakdown value.
The ARP test is vectorised over the whole grid (the dual polytope's vertices
are enumerated once), and R's simulation draws are reproduced exactly, so the
results match R's printed digits on its vignette example in well under a second.
"""

from ._api import breakdown_statement, honest_breakdown, honest_did
from ._inputs import EventStudyInputs, event_study_inputs
from ._result import BreakdownStatement, HonestDiDResult

__all__ = [
    "honest_did",
    "honest_breakdown",
    "breakdown_statement",
    "event_study_inputs",
    "EventStudyInputs",
    "HonestDiDResult",
    "BreakdownStatement",
]
