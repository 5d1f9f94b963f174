"""The report's outcomes table: find, arrest and any-outcome rates by group, side by side.

Reshapes :meth:`equity_metrics.OutcomeTestResult.rates` (no statistics here). One row
per group:

``group, searches`` (searches of people with a recorded outcome, powers needing no
suspicion left out), ``any_outcome, any_outcome_rate, any_outcome_ci_low,
any_outcome_ci_high`` (an outcome other than no further action), ``arrests,
arrest_rate, arrest_ci_low, arrest_ci_high``, ``finds, find_rate, find_ci_low,
find_ci_high`` (outcome other than no further action and linked to the object of
search; rate over the searches whose find status is recorded), ``difference_from_reference``
(find rate minus the reference group's), ``linked_coverage``, ``find_recorded``, ``flags``.

Where the force does not record the linked field well enough (``find_recorded`` False)
the find columns are empty and the flag says ``find_not_recorded``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["outcome_table", "OUTCOME_HIDE", "OUTCOME_COLUMNS"]

OUTCOME_COLUMNS = [
    "group", "searches", "any_outcome", "any_outcome_rate", "any_outcome_ci_low", "any_outcome_ci_high",
    "arrests", "arrest_rate", "arrest_ci_low", "arrest_ci_high", "finds", "find_rate", "find_ci_low", "find_ci_high",
    "difference_from_reference", "linked_coverage", "find_recorded", "flags",
]
#: Columns hidden together when a group's outcome row is suppressed.
OUTCOME_HIDE = [c for c in OUTCOME_COLUMNS if c not in ("group", "linked_coverage", "find_recorded", "flags")]

_PREFIX = {"any_outcome": ("any_outcome", "any_outcome_rate", "any_outcome_ci_low", "any_outcome_ci_high"),
           "arrest": ("arrests", "arrest_rate", "arrest_ci_low", "arrest_ci_high"),
           "find": ("finds", "find_rate", "find_ci_low", "find_ci_high")}


def outcome_table(ot, groups: list[str]) -> pd.DataFrame:
    """Wide table of the three outcome measures for ``groups`` (in the order the rates table sorts them)."""
    rt = ot.rates()
    rt = rt[rt["group"].isin(groups)]
    out = pd.DataFrame({"group": sorted(set(rt["group"]), key=lambda g: (groups.index(g), g))})
    for m, (cnt, rate, lo, hi) in _PREFIX.items():
        part = rt[rt["measure"] == m].set_index("group")
        if part.empty:
            for c in (cnt, rate, lo, hi):
                out[c] = np.nan
            continue
        out[cnt] = out["group"].map(part["count"]).astype(float)
        out[rate] = out["group"].map(part["rate"]).astype(float)
        out[lo] = out["group"].map(part["ci_low"]).astype(float)
        out[hi] = out["group"].map(part["ci_high"]).astype(float)
        if m == "any_outcome":
            out["searches"] = out["group"].map(part["searches"]).astype(float)
        if m == "find":
            out["difference_from_reference"] = out["group"].map(part["difference_from_reference"]).astype(float)
            out["linked_coverage"] = out["group"].map(part["linked_coverage"]).astype(float)
            flags = out["group"].map(part["flags"]).fillna("")
            out["find_recorded"] = ~flags.str.contains("find_not_recorded").to_numpy()
            out.loc[~out["find_recorded"], "finds"] = np.nan
            out["flags"] = flags.to_numpy()
    if "searches" not in out.columns:  # no outcome column: the find denominator is the only one
        part = rt[rt["measure"] == "find"].set_index("group")
        out["searches"] = out["group"].map(part["searches"]).astype(float)
    for c in OUTCOME_COLUMNS:
        if c not in out.columns:
            out[c] = "" if c == "flags" else (True if c == "find_recorded" else np.nan)
    return out[OUTCOME_COLUMNS].reset_index(drop=True)
