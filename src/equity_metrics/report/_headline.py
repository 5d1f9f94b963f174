"""The command report's headline numbers: the headline window, its comparison window and every group's change.

Assembly only: the ratios come from :func:`~equity_metrics.disparity`, the change in
each group's ratio and its Holm adjustment from
:func:`~equity_metrics.measures.change.ratio_change`. :func:`headline_comparison` is
the one code path the report uses, callable without rendering anything (the
simulation test ``tests/test_report_simulation.py`` calls it on generated data with
a constant planted ratio and checks that it claims a clear change at most at its
nominal rate).

Rules (docs/report.md, "Periods" and "Headline change"):

* the headline is the latest period of the configured kind that the area's data
  cover completely (no force-month missing); without one, the longest unbroken run of
  covered months (at most 12), said in words;
* the change is measured against an equally long, completely covered window that does
  not overlap the headline window: the latest complete period of the same kind before
  it (or, with a force-wide training date, the latest complete one ending before that
  date); for a run of months, the same calendar months a whole number of years earlier;
* every compared group's change is tested; a change is "clear" when its Holm-adjusted
  p-value (across the groups compared) is below ``alpha``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._results import ResultBase
from ..measures.change import RatioChangeResult, ratio_change
from ._periods import SPAN, Window, choose_base, choose_headline, coverage, describe, short, window_of

__all__ = ["changes_table", "HeadlineComparison", "headline_comparison", "window_table"]


@dataclass
class HeadlineComparison(ResultBase):
    """The headline window, its comparison and the change of every group's ratio.

    Attributes
    ----------
    window, months_covered, note
        The headline window, how many of its months the area's data cover, and a
        sentence when it is not a complete period of the configured kind ("" otherwise).
    table
        :func:`~equity_metrics.disparity` rows of the area in the headline window (all groups).
    base, base_desc, base_table
        The comparison window (``None`` when there is none), ``"before training"`` or
        ``"the previous year"`` / ``"the same months earlier"``, and its rows.
    changes
        :class:`~equity_metrics.measures.change.RatioChangeResult` (``None`` without a comparison).
    no_change_reason
        Why there is no comparison (plain words).
    """

    window: Window
    months_covered: int
    note: str
    table: pd.DataFrame
    base: Window | None = None
    base_desc: str = ""
    base_table: pd.DataFrame | None = None
    changes: RatioChangeResult | None = None
    no_change_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        """One row per compared group: both windows, their months, and the change (empty without a comparison)."""
        if self.changes is None or self.base is None:
            return pd.DataFrame(columns=["group", "base_period", "period", "change_ratio", "clear"])
        t = self.changes.tidy()
        t.insert(1, "base_period", self.base.label)
        t.insert(2, "period", self.window.label)
        t.insert(3, "months_in_period", self.window.n)
        return t

    def summary(self) -> str:
        """The windows chosen and every group's change, in plain text."""
        lines = [f"Headline window: {describe(self.window, self.months_covered)}"]
        if self.note:
            lines.append(self.note)
        if self.changes is None:
            lines.append(f"No comparison: {self.no_change_reason}.")
        else:
            lines.append(f"Compared with: {describe(self.base)} ({self.base_desc})")
            lines.append(self.changes.summary())
        return "\n".join(lines)

    def __repr__(self) -> str:
        base = self.base.label if self.base is not None else None
        clear = self.changes.clear_groups() if self.changes is not None else []
        return f"<HeadlineComparison {self.window.label} vs {base}, clear: {clear}>"

    @property
    def any_clear(self) -> bool:
        """True when the report would name at least one group's change as statistically clear."""
        return self.changes is not None and bool(self.changes.table["clear"].any())

    def change_dict(self, group: str) -> dict[str, Any] | None:
        """The change of one group as the dict :class:`~.content.ReportData` keeps (``None`` when not estimable)."""
        if self.changes is None or self.base is None:
            return None
        t = self.changes.table
        r = t[t["group"] == group]
        if r.empty or not bool(r.iloc[0]["estimable"]):
            return None
        r = r.iloc[0]
        return {"base_label": self.base.label, "base_desc": self.base_desc, "base_period_desc": describe(self.base),
                "base_period_short": short(self.base), "base_ratio": float(r["base_ratio"]),
                "change_ratio": float(r["change_ratio"]), "change_ci_low": float(r["ci_low"]),
                "change_ci_high": float(r["ci_high"]), "p_value": float(r["p_value"]),
                "p_adjusted": float(r["p_adjusted"]), "clear": bool(r["clear"]),
                "n_compared": int(t["estimable"].sum())}


def window_table(events, population, w: Window, *, by: list[str], reference: str, alpha: float, benchmark: str,
                 cache: dict | None = None) -> pd.DataFrame:
    """:func:`~equity_metrics.disparity` rows for one window (a standard period, or a run of months)."""
    from ..measures.disparity import disparity

    if w.kind == SPAN:
        ev = events.data if hasattr(events, "data") else events
        sub = ev[ev["month"].astype(str).isin(set(w.months)).to_numpy()]
        if sub.empty:
            return pd.DataFrame(columns=by + ["period", "group", "events", "reference_events", "ratio"])
        t = disparity(sub, population, by=by or None, area="force", period="none", reference=reference, alpha=alpha,
                      benchmark=benchmark).tidy()
        t["period"] = w.label
        return t
    t = _all_periods(events, population, by=by, kind=w.kind, reference=reference, alpha=alpha, benchmark=benchmark,
                     cache={} if cache is None else cache)
    return t[t["period"].astype(str) == w.label]


def _focal(t: pd.DataFrame, area: str | None) -> pd.DataFrame:
    return t[t["force"].astype(str) == area].reset_index(drop=True) if area and "force" in t.columns else t.reset_index(drop=True)


def headline_comparison(events, population, *, covered: list[str], area: str | None, groups: list[str],
                        reference: str, kind: str, alpha: float = 0.05, benchmark: str = "residential population",
                        min_count: int = 1, training_date: str | None = None,
                        cache: dict | None = None) -> HeadlineComparison | None:
    """Choose the headline and comparison windows for an area and test every group's change.

    Parameters
    ----------
    events, population
        A reader's result (or canonical events table with ``force``, ``month``,
        ``ethnicity``) and the population table.
    covered
        Months the area's data cover (:func:`~._periods.covered_months`).
    area
        The force (``None``: all areas pooled).
    groups, reference, kind, alpha, benchmark
        As in the report config (``kind``: ``"FY"``, ``"year"`` or ``"rolling12"``).
    min_count
        A group's change is estimated only when each of its four counts is at least this
        (the report passes its suppression threshold, so no change rests on a hidden count).
    training_date
        A force-wide training date (``YYYY-MM``): when the headline window starts on or
        after it, the comparison is the latest complete period ending before it.

    Returns
    -------
    HeadlineComparison or None
        ``None`` when no month of the area is covered.
    """
    by = ["force"] if area else []
    cache = {} if cache is None else cache
    if not covered:
        return None
    t_all = _focal(_all_periods(events, population, by=by, kind=kind, reference=reference, alpha=alpha,
                                benchmark=benchmark, cache=cache), area)
    labels = sorted(set(t_all["period"].astype(str)))
    head, note = choose_headline(labels, kind, covered)
    if head is None:
        return None
    k, _, _ = coverage(head, covered)
    table = _focal(window_table(events, population, head, by=by, reference=reference, alpha=alpha, benchmark=benchmark,
                                cache=cache), area)
    out = HeadlineComparison(window=head, months_covered=k, note=note, table=table)
    base, desc = None, ""
    if training_date and head.kind != SPAN:
        td = pd.Period(training_date, "M")
        if head.first >= td:
            before = [w for w in (window_of(p, kind) for p in labels)
                      if w.last < td and all(m in set(covered) for m in w.months)]
            if before:
                base, desc = max(before, key=lambda w: w.last), "before training"
    if base is None:
        base = choose_base(head, labels, covered)
        desc = ("the same months earlier" if head.kind == SPAN else "the previous year") if base is not None else ""
    if base is None:
        out.no_change_reason = (f"there is no earlier, completely covered window of the same {head.n} months that does "
                                "not overlap it" if head.kind == SPAN else
                                "there is no earlier complete period of the same length that does not overlap it")
        return out
    bt = _focal(window_table(events, population, base, by=by, reference=reference, alpha=alpha, benchmark=benchmark,
                             cache=cache), area)
    cmp_groups = [g for g in groups if g != reference]
    out.base, out.base_desc, out.base_table = base, desc, bt
    out.changes = ratio_change(bt, table, groups=cmp_groups, reference=reference, alpha=alpha, adjust="holm",
                               min_count=min_count)
    return out


def _all_periods(events, population, *, by, kind, reference, alpha, benchmark, cache) -> pd.DataFrame:
    from ..measures.disparity import disparity

    key = (tuple(by), kind)
    if key not in cache:
        cache[key] = disparity(events, population, by=by or None, area="force", period=kind, reference=reference,
                               alpha=alpha, benchmark=benchmark).tidy()
    return cache[key]


def changes_table(hc: HeadlineComparison, groups: list[str], head: pd.DataFrame) -> pd.DataFrame | None:
    """Every compared group's change (Holm-adjusted across the groups), or ``None`` without a comparison.

    Counts are not kept (the change needs each count at or above the suppression
    threshold); a group whose headline count or ratio is hidden shows no change either.
    """
    if hc.changes is None or hc.base is None:
        return None
    t = hc.changes.tidy()
    t = t[t["group"].isin(groups)].reset_index(drop=True)
    hidden = set(head.loc[head["ratio_hidden"].astype(bool), "group"]) if "ratio_hidden" in head.columns else set()
    bad = t["group"].isin(hidden).to_numpy() | ~t["estimable"].to_numpy(bool)
    num = ["base_ratio", "ratio", "change_ratio", "ci_low", "ci_high", "p_value", "p_adjusted"]
    t.loc[bad, num] = np.nan
    t.loc[bad, "clear"] = False
    t.loc[bad, "direction"] = ""
    t = t.drop(columns=["base_events", "base_reference_events", "events", "reference_events"])
    t.insert(1, "base_period", hc.base.label)
    t.insert(2, "period", hc.window.label)
    return t
