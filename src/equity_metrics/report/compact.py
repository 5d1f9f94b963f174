"""Compact tables of the command report: headline group and reference group side by side.

Selection and reshaping of :class:`~.content.ReportData` tables only (no statistic is
computed), so a cell hidden by small-number suppression stays ``NaN`` here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["compact_table"]


_COMPACT_COLS = ["events", "population", "rate_per_1000", "rate_ci_low", "rate_ci_high", "suppressed", "flags"]


def compact_table(t: pd.DataFrame, label: str, *, group: str, reference: str) -> pd.DataFrame:
    """One row per ``label`` value: ``group`` and ``reference`` side by side (selection and reshaping only).

    Columns: ``label, group_events, group_population, group_rate_per_1000, group_rate_ci_low,
    group_rate_ci_high, group_suppressed, reference_events, reference_population,
    reference_rate_per_1000, ..., reference_suppressed, ratio, ci_low, ci_high, ratio_hidden,
    flags`` (the group row's flags). Rows keep the order of ``t``; hidden cells stay ``NaN``
    (nothing is recomputed, so nothing hidden in ``t`` can appear here).

    Examples
    --------
    >>> t = pd.DataFrame({"legal_power": ["s1", "s1"], "group": ["Black", "White"], "events": [30.0, 90.0],
    ...                   "population": [1e3, 9e3], "rate_per_1000": [30.0, 10.0], "rate_ci_low": [20.0, 8.0],
    ...                   "rate_ci_high": [43.0, 12.0], "ratio": [3.0, 1.0], "ci_low": [2.0, 1.0], "ci_high": [4.5, 1.0],
    ...                   "suppressed": [False, False], "ratio_hidden": [False, False], "flags": ["", ""]})
    >>> compact_table(t, "legal_power", group="Black", reference="White")[["legal_power", "group_events", "ratio"]]
      legal_power  group_events  ratio
    0          s1          30.0    3.0
    """
    order = list(dict.fromkeys(t[label].tolist())) if len(t) else []
    g = t[t["group"] == group].drop_duplicates(label).set_index(label)
    r = t[t["group"] == reference].drop_duplicates(label).set_index(label)
    out = pd.DataFrame({label: order})
    for prefix, part in (("group_", g), ("reference_", r)):
        for c in _COMPACT_COLS[:-1]:
            vals = part[c].reindex(order) if c in part.columns else pd.Series(np.nan, index=order, dtype=float)
            if c == "suppressed":
                out[prefix + c] = vals.astype(object).fillna(False).astype(bool).to_numpy()
            else:
                out[prefix + c] = vals.astype(float).to_numpy()
    for c in ("ratio", "ci_low", "ci_high"):
        out[c] = g[c].reindex(order).to_numpy(float) if c in g.columns else np.nan
    out["ratio_hidden"] = g["ratio_hidden"].reindex(order).astype(object).fillna(True).astype(bool).to_numpy() \
        if "ratio_hidden" in g.columns else True
    out["flags"] = g["flags"].reindex(order).fillna("").astype(str).to_numpy() if "flags" in g.columns else ""
    return out
