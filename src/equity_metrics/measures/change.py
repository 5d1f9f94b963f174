"""Change in a rate ratio between two periods, for several groups at once, with a multiplicity adjustment.

The change in a group's search rate ratio to a reference group between a base
period and a later period is the ratio of the two ratios. When the population
denominators are the same in both periods (one census benchmark), they cancel and
the ratio of ratios is the odds ratio of the 2x2 table of counts::

                 group   reference
    later          a        c
    base           b        d

    change = (a / c) / (b / d) = a d / (b c)

Its interval is the log-scale (Woolf) interval, ``SE = sqrt(1/a + 1/b + 1/c + 1/d)``,
which for one table equals the Robins-Breslow-Greenland interval of the
Mantel-Haenszel odds ratio; the p-value is the matching Wald test, so "the interval
excludes 1" and "p < alpha" always agree for one comparison.

When several groups are compared, some intervals exclude 1 by chance. The Holm
(1979) step-down adjustment controls the chance of naming *any* group's change
wrongly (the family-wise error rate) at ``alpha``, whatever the correlation between
the groups' tests (they share the reference group's counts); it is uniformly more
powerful than Bonferroni.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._results import ResultBase
from .._options import check_option
from ..errors import DataValidationError

__all__ = ["holm_adjust", "ratio_change", "RatioChangeResult"]

Adjust = Literal["holm", "none"]

_COLUMNS = ["group", "base_events", "base_reference_events", "base_ratio", "events", "reference_events", "ratio",
            "change_ratio", "ci_low", "ci_high", "p_value", "p_adjusted", "clear", "direction", "estimable"]


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (``NaN`` entries are left out of the family and stay ``NaN``).

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


@dataclass
class RatioChangeResult(ResultBase):
    """Change in each group's rate ratio between two periods.

    Attributes
    ----------
    table
        One row per group: counts in both periods, both ratios (when given), the ratio
        of ratios with its interval, the unadjusted and adjusted p-values, ``clear``
        (adjusted p below ``alpha``), ``direction`` (``"up"``, ``"down"`` or ``""`` when
        not clear) and ``estimable`` (``False`` when a count is zero or below ``min_count``).
    reference, alpha, adjust
        The reference group, the level and the multiplicity adjustment.
    notes
        Plain remarks (groups left out and why).
    """

    table: pd.DataFrame
    reference: str
    alpha: float
    adjust: str
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def clear_groups(self) -> list[str]:
        """The groups whose change is statistically clear after the adjustment, in table order."""
        return [str(g) for g in self.table.loc[self.table["clear"], "group"]]

    def summary(self) -> str:
        """One line per group."""
        lvl = int(round(100 * (1 - self.alpha)))
        adj = "Holm-adjusted" if self.adjust == "holm" else "unadjusted"
        lines = [f"Change in the rate ratio to {self.reference} ({lvl}% CI; {adj} p-values):"]
        for r in self.table.itertuples():
            if not r.estimable:
                lines.append(f"  {r.group}: not estimable (too few searches)")
                continue
            lines.append(f"  {r.group}: x{r.change_ratio:.2f} ({r.ci_low:.2f} to {r.ci_high:.2f}), p = {r.p_value:.3g}, "
                         f"adjusted p = {r.p_adjusted:.3g}" + (" [clear]" if r.clear else ""))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<RatioChangeResult {len(self.table)} groups, clear: {self.clear_groups()}>"


def ratio_change(
    base: pd.DataFrame,
    later: pd.DataFrame,
    *,
    groups: Sequence[str] | None = None,
    reference: str = "White",
    alpha: float = 0.05,
    adjust: Adjust = "holm",
    min_count: int = 1,
) -> RatioChangeResult:
    """Ratio of each group's rate ratio in ``later`` to that in ``base``, Holm-adjusted across groups.

    Parameters
    ----------
    base, later
        One row per group with ``group``, ``events`` and ``reference_events`` (as in
        :meth:`~equity_metrics.measures.disparity.DisparityResult.tidy` for one area
        and period), optionally ``ratio``. The two periods should be equally long,
        completely covered and not overlapping; the population benchmark should be
        the same in both (it then cancels).
    groups
        Groups to compare (default: every group in both tables except the reference).
    reference
        The reference group of the ratios.
    alpha
        ``1 - alpha`` intervals; a change is ``clear`` when its adjusted p-value is below ``alpha``.
    adjust
        ``"holm"`` (family-wise error rate across the groups compared) or ``"none"``.
    min_count
        Groups with a count below this in either period (or zero) are not estimable
        and are left out of the family.

    Returns
    -------
    RatioChangeResult

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"group": ["Black", "Asian"], "events": [64, 50], "reference_events": [281, 281]})
    >>> l = pd.DataFrame({"group": ["Black", "Asian"], "events": [88, 52], "reference_events": [263, 263]})
    >>> r = ratio_change(b, l)
    >>> round(float(r.tidy().loc[0, "change_ratio"]), 2), r.clear_groups()
    (1.47, [])
    """
    check_option("adjust", adjust, Adjust)
    if not 0 < float(alpha) < 1:
        raise DataValidationError(f"alpha must be between 0 and 1, got {alpha!r}")
    for name, t in (("base", base), ("later", later)):
        miss = [c for c in ("group", "events", "reference_events") if c not in t.columns]
        if miss:
            raise DataValidationError(f"ratio_change: the {name} table has no column(s) {miss}; pass one row per group "
                                      "from disparity(...).tidy() for one area and period")
    b = base.drop_duplicates("group").set_index(base["group"].astype(str).drop_duplicates().to_numpy())
    l_ = later.drop_duplicates("group").set_index(later["group"].astype(str).drop_duplicates().to_numpy())
    if groups is None:
        groups = [g for g in l_.index if g in b.index and g != reference]
    rows = []
    notes = []
    z = stats.norm.isf(alpha / 2)
    for g in groups:
        if g not in b.index or g not in l_.index:
            notes.append(f"{g}: not in both periods")
            rows.append({"group": g, "estimable": False})
            continue
        a_, c_ = float(l_.at[g, "events"]), float(l_.at[g, "reference_events"])
        b_, d_ = float(b.at[g, "events"]), float(b.at[g, "reference_events"])
        row = {"group": g, "base_events": b_, "base_reference_events": d_,
               "base_ratio": float(b.at[g, "ratio"]) if "ratio" in b.columns else np.nan,
               "events": a_, "reference_events": c_, "ratio": float(l_.at[g, "ratio"]) if "ratio" in l_.columns else np.nan}
        counts = np.array([a_, b_, c_, d_])
        if not np.all(np.isfinite(counts)) or counts.min() < max(min_count, 1):
            row["estimable"] = False
            rows.append(row)
            notes.append(f"{g}: too few searches in one of the periods to estimate a change")
            continue
        est = (a_ * d_) / (b_ * c_)
        se = float(np.sqrt((1 / counts).sum()))
        row.update(change_ratio=est, ci_low=est * np.exp(-z * se), ci_high=est * np.exp(z * se),
                   p_value=float(2 * stats.norm.sf(abs(np.log(est)) / se)), estimable=True)
        rows.append(row)
    t = pd.DataFrame(rows).reindex(columns=_COLUMNS)
    t["estimable"] = t["estimable"].fillna(False).astype(bool)
    p = t["p_value"].to_numpy(float)
    t["p_adjusted"] = holm_adjust(p) if adjust == "holm" else p
    t["clear"] = (t["p_adjusted"] < alpha).fillna(False).astype(bool) & t["estimable"]
    t["direction"] = np.where(t["clear"], np.where(t["change_ratio"] > 1, "up", "down"), "")
    return RatioChangeResult(table=t.reset_index(drop=True), reference=reference, alpha=float(alpha), adjust=adjust,
                             notes=notes)
