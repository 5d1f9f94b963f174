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

__all__ = ["fmt", "ci", "headline_sentence", "change_sentence", "change_lines", "change_note", "not_stated_sentence", "benchmark_warning", "group_lines",
           "impact_verdict", "odds_sentence", "benchmark_text", "vintage_words", "bound", "HIDDEN"]

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


def vintage_words(vintage: str, benchmark: str = "") -> str:
    """The population vintage in words: ``"census2011"`` -> ``"the 2011 census"``.

    Examples
    --------
    >>> vintage_words("census2011")
    'the 2011 census'
    >>> vintage_words("mid-2020 estimates")
    'mid-2020 estimates'
    >>> vintage_words("synthetic", "synthetic residential population")
    'a synthetic population (no real census)'
    """
    v = str(vintage or "").strip()
    m = re.fullmatch(r"(?i)census[ _-]?(\d{4})|(\d{4})[ _-]?census", v)
    if m:
        return f"the {m.group(1) or m.group(2)} census"
    if v.lower() == "synthetic":
        return "a synthetic population (no real census)"
    return v or "an unnamed population table"


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
        ref_row = d.headline[d.headline["group"] == d.reference]
        ref_hidden = ref_row.empty or bool(ref_row.iloc[0]["suppressed"])
        who = (f"{d.headline_group} or {d.reference}" if bool(r["suppressed"]) and ref_hidden
               else d.reference if ref_hidden else d.headline_group)
        return (f"{period}, too few searches of {who} people with a stated ethnicity were recorded in "
                f"{d.area_name} to publish a {d.headline_group}/{d.reference} ratio (a count below {d.suppress_below}, "
                "or one that would reveal such a count, is hidden).")
    s = (f"{period}, {d.headline_group} people were searched at {_times(float(r['ratio']))} the rate of "
         f"{d.reference} people ({d.level}% CI {ci(r['ci_low'], r['ci_high'], 1)}) in {d.area_name}, "
         f"against the {benchmark_text(d.benchmark, d.vintage)}")
    c = d.change
    if c is not None:
        when = f"before training ({c['base_period_short']})" if c["base_desc"] == "before training" \
            else f"in {c['base_period_short']}"
        s += f"; it was {c['base_ratio']:.1f} {when}"
    return s + "."


def not_stated_sentence(d) -> str:
    """The share of searches with ethnicity not stated, the bounds it implies on the headline ratio, and the denominator."""
    row = d.headline[d.headline["group"] == d.headline_group]
    den = f"Denominator: residents of each group in {d.area_name} from {d.vintage_words or vintage_words(d.vintage)}."
    if row.empty:
        return den
    r = row.iloc[0]
    share = r.get("not_stated_share")
    if not _finite(share):
        return den
    s = f"Ethnicity was not stated for {100 * float(share):.1f}% of searches of people in the period"
    if float(share) > 0.5:
        s += (" (more than half: the ethnic breakdown of these records cannot be relied on, and no ratio for this "
              "area should be read as a measure of disproportionality)")
    lo, hi = r.get("ratio_bound_low"), r.get("ratio_bound_high")
    if float(share) > 0 and _finite(lo) and _finite(hi) and not bool(r["ratio_hidden"]):
        s += (f"; had every one of them been of a {d.reference} person the ratio would be {float(lo):.1f}, had every one "
              f"been of a {d.headline_group} person {float(hi):.1f}")
    return s + ". " + den


def benchmark_warning(d) -> str:
    """A warning when the headline table flags the residential benchmark as not meaningful ("" otherwise)."""
    fl = " ".join(str(f) for f in d.headline["flags"].fillna("")) if "flags" in d.headline.columns else ""
    if "implausible" not in fl:
        return ""
    return (f"Warning: in {d.area_name} some groups were searched more than 200 times per 1,000 residents a year, "
            "so many of the people searched do not live there (commuters, visitors, people passing through). The "
            "residential benchmark is not meaningful here: these rates and ratios do not measure a disparity between "
            "residents and should not be compared with other areas'.")


def bound(x: float, digits: int = 2) -> str:
    """An interval bound, with more decimals when rounding would put it on 1 (1.004 -> "1.004", not "1.00").

    Examples
    --------
    >>> bound(1.004), bound(0.9996), bound(1.2345), bound(1.0)
    ('1.004', '0.9996', '1.23', '1.00')
    """
    x = float(x)
    for d in range(digits, 7):
        s = f"{x:.{d}f}"
        if x == 1 or float(s) != 1:
            return s
    return f"{x:.6f}"


def _pct(x: float) -> str:
    return f"{abs((x - 1) * 100):.0f}%"


def _pv(x: float) -> str:
    return "p < 0.001" if x < 0.001 else f"p = {x:.2g}" if x < 0.1 else f"p = {x:.2f}"


def _adj_text(c: dict[str, Any], n: int) -> str:
    if n <= 1:
        return _pv(c["p_value"])
    return f"{_pv(c['p_value'])}; allowing for the {n} groups compared, {_pv(c['p_adjusted'])}"


def change_lines(d) -> list[str]:
    """The change sentences: the headline group's, then every group whose change is statistically clear.

    A change is "statistically clear" when its Holm-adjusted p-value across the groups
    compared is below alpha (``ReportData.changes``); a single interval that excludes 1
    is not enough when several groups are compared.
    """
    c = d.change
    ch = getattr(d, "changes", None)
    if ch is None:
        why = getattr(d, "no_change_reason", "") or "there is no earlier complete period of the same length"
        return [f"No change is reported: {why}. Comparing windows of different lengths, partly covered windows or "
                "overlapping windows would show differences that are not changes."]
    base = ch["base_period"].iloc[0] if len(ch) else ""
    n = int(ch["estimable"].sum())
    out = []
    if c is not None:
        direction = "fell" if c["change_ratio"] < 1 else "rose"
        size = (f"the {d.headline_group}/{d.reference} ratio {direction} by about {_pct(c['change_ratio'])}, from "
                f"{c['base_ratio']:.2f} to {c['base_ratio'] * c['change_ratio']:.2f} (ratio of the two ratios "
                f"{c['change_ratio']:.2f}, {d.level}% CI {bound(c['change_ci_low'])} to {bound(c['change_ci_high'])}; "
                f"{_adj_text(c, n)})")
        lead = f"Compared with {c['base_period_desc']}, {size}"
        if c["clear"]:
            out.append(f"{lead}: a statistically clear change at the {d.level}% level. This compares two periods; it "
                       "does not show what caused the change.")
        elif c["change_ci_low"] > 1 or c["change_ci_high"] < 1:
            out.append(f"{lead}. This interval alone excludes no change, but with {n} groups compared some intervals "
                       "exclude 1 by chance; after allowing for that (Holm), the data do not show a statistically clear "
                       "change.")
        else:
            out.append(f"{lead}. The interval includes no change, so the data do not show a statistically clear change.")
    else:
        out.append(f"The {d.headline_group}/{d.reference} ratio's change since {base} cannot be estimated "
                   "(too few searches in one of the periods).")
    others = ch[ch["clear"] & (ch["group"] != d.headline_group)]
    if len(others):
        parts = [f"{r['group']} people ({'up' if r['change_ratio'] > 1 else 'down'} about {_pct(r['change_ratio'])}, "
                 f"from {r['base_ratio']:.2f} to {r['ratio']:.2f}; {d.level}% CI of the change {bound(r['ci_low'])} to "
                 f"{bound(r['ci_high'])})" for r in others.to_dict("records")]
        out.append("Other groups whose ratio to " + d.reference + " changed clearly over the same two periods: "
                   + "; ".join(parts) + ".")
    elif n > 1:
        out.append(f"No other group's ratio to {d.reference} changed clearly between the two periods.")
    return out


def change_note(d) -> str:
    """How changes are tested (one sentence; empty without a comparison or with one group)."""
    ch = getattr(d, "changes", None)
    n = int(ch["estimable"].sum()) if ch is not None else 0
    if n <= 1:
        return ""
    return (f"How changes are tested: the two periods are equally long, fully covered and do not overlap; every one of "
            f"the {n} groups is tested, and a change is called clear only when it stays clear after the Holm adjustment "
            f"for testing {n} groups, so that when nothing has changed the report names a change in any group at most "
            f"{100 - d.level}% of the time.")


def change_sentence(d) -> str:
    """Whether the change from the comparison period is statistically clear (all change lines, joined)."""
    return " ".join(change_lines(d) + ([change_note(d)] if change_note(d) else []))


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
