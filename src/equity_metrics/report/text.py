"""Plain-language sentences of the command report, written from :class:`~.content.ReportData` numbers.

Presentation only: the numbers and whether a change is statistically clear come
from :mod:`.content`; this module chooses words and rounds. Returned strings are
plain text (the HTML template escapes them).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

__all__ = ["fmt", "ci", "headline_sentence", "change_sentence", "group_lines", "impact_verdict", "odds_sentence",
           "benchmark_text", "HIDDEN"]

#: What a hidden (suppressed) value shows.
HIDDEN = "[c]"


def _finite(v: Any) -> bool:
    try:
        return v is not None and not pd.isna(v) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def fmt(v: Any, digits: int = 2, *, hidden: bool = False, thousands: bool = False) -> str:
    """A number for readers: ``[c]`` when hidden, ``""`` when missing."""
    if hidden:
        return HIDDEN
    if not _finite(v):
        return ""
    if thousands:
        return f"{float(v):,.0f}"
    return f"{float(v):.{digits}f}"


def ci(lo: Any, hi: Any, digits: int = 2, *, hidden: bool = False) -> str:
    """``"a to b"`` or ``[c]`` / ``""``."""
    if hidden:
        return HIDDEN
    if not (_finite(lo) and _finite(hi)):
        return ""
    return f"{float(lo):.{digits}f} to {float(hi):.{digits}f}"


def benchmark_text(benchmark: str, vintage: str) -> str:
    """The benchmark's name with its vintage in brackets, unless the name already says it.

    ``"synthetic residential population"`` + ``"synthetic"`` -> the name alone;
    ``"2011 census residential population"`` + ``"census2011"`` -> the name alone (every
    word and number of the vintage is in the name); ``"residential population"`` +
    ``"census2021"`` -> ``"residential population (census2021)"``.

    Examples
    --------
    >>> benchmark_text("residential population", "census2021")
    'residential population (census2021)'
    >>> benchmark_text("2011 census residential population", "census2011")
    '2011 census residential population'
    """
    b, v = str(benchmark or "").strip(), str(vintage or "").strip()
    if not v:
        return b
    tokens = re.findall(r"[a-z]+|\d+", v.lower())
    words = set(re.findall(r"[a-z]+|\d+", b.lower()))
    if not b:
        return v
    if tokens and all(t in words for t in tokens):
        return b
    return f"{b} ({v})"


def _times(r: float) -> str:
    return f"{r:.1f} times" if r >= 1 else f"{r:.2f} times"


def headline_sentence(d) -> str:
    """The headline: the headline group's rate ratio in the headline period, benchmark named."""
    row = d.headline[d.headline["group"] == d.headline_group]
    period = "In " + d.period_desc
    if row.empty:
        return f"{period}: no searches of {d.headline_group} people were recorded in {d.area_name}."
    r = row.iloc[0]
    if bool(r["ratio_hidden"]) or not _finite(r["ratio"]):
        return (f"{period}, too few searches of {d.headline_group} or {d.reference} people were recorded in "
                f"{d.area_name} to publish a ratio (fewer than {d.suppress_below}).")
    s = (f"{period}, {d.headline_group} people were searched at {_times(float(r['ratio']))} the rate of "
         f"{d.reference} people ({d.level}% CI {ci(r['ci_low'], r['ci_high'], 1)}) in {d.area_name}, "
         f"against the {benchmark_text(d.benchmark, d.vintage)}")
    c = d.change
    if c is not None:
        word = "down" if c["change_ratio"] < 1 else "up"
        when = f"before training ({c['base_period_short']})" if c["base_desc"] == "before training" \
            else f"in {c['base_period_short']}"
        s += f"; {word} from {c['base_ratio']:.1f} {when}"
    return s + "."


def change_sentence(d) -> str:
    """Whether the change from the comparison period is statistically clear."""
    c = d.change
    if c is None:
        return "There is no earlier complete period of the same length to compare with."
    pct = (c["change_ratio"] - 1) * 100
    direction = "fell" if pct < 0 else "rose"
    size = (f"the ratio {direction} by about {abs(pct):.0f}% (ratio of the two ratios {c['change_ratio']:.2f}, "
            f"{d.level}% CI {c['change_ci_low']:.2f} to {c['change_ci_high']:.2f})")
    if c["clear"]:
        return (f"Compared with {c['base_period_desc']}, {size}: a statistically clear change at the {d.level}% level. "
                "This compares two periods; it does not show what caused the change.")
    return (f"Compared with {c['base_period_desc']}, {size}. The interval includes no change, so the data do not "
            "show a statistically clear change.")


def group_lines(d) -> list[str]:
    """One short line per compared group (other than the headline group)."""
    out = []
    for r in d.headline.itertuples():
        if r.group in (d.reference, d.headline_group):
            continue
        if r.ratio_hidden or not _finite(r.ratio):
            out.append(f"{r.group} people: too few searches to publish a ratio.")
        else:
            lo, hi = float(r.ci_low), float(r.ci_high)
            tail = (" The interval includes 1, so the data do not show a clear difference from "
                    f"{d.reference} people." if lo <= 1 <= hi else "")
            out.append(f"{r.group} people: {_times(float(r.ratio))} the {d.reference} rate "
                       f"({d.level}% CI {ci(r.ci_low, r.ci_high, 1)}).{tail}")
    return out


def odds_sentence(row: dict[str, Any], *, reference: str, level: int, area_effects: bool) -> str:
    """The outcome test's odds ratio in words, naming a direction only when the interval excludes 1."""
    orr, lo, hi = float(row["odds_ratio"]), float(row["ci_low"]), float(row["ci_high"])
    model = "logistic model with area effects" if area_effects else "logistic model"
    s = (f"Searches of {row['group']} people had {orr:.2f} times the odds of a find of searches of {reference} people "
         f"({level}% CI {lo:.2f} to {hi:.2f}; {model})")
    if not all(map(math.isfinite, (orr, lo, hi))):
        return s + "."
    if hi < 1:
        return s + ": finds were less likely, a statistically clear difference."
    if lo > 1:
        return s + ": finds were more likely, a statistically clear difference."
    return s + ": the interval includes 1, so no clear difference."


def impact_verdict(row: dict[str, Any] | pd.Series, *, kind: str, level: int) -> str:
    """A verdict that does not overclaim (see :func:`.training_text.impact_verdict`)."""
    from .training_text import impact_verdict as _verdict

    return _verdict(row, kind=kind, level=level)
