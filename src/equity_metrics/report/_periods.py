"""Periods of the command report: which months an area's data cover, which windows are complete, and their names.

Bookkeeping only (no statistics). A window (a financial year, a calendar year, a
rolling 12 months, or a run of months) is *complete* for an area when the area has
a file for every month of it: the reader's ``ledger.months_missing`` lists the
force-months with no file, and those are missing, not zero. Completeness is judged
per area, never from the first and last month of the whole archive, because forces'
gaps differ (docs/report.md, "Periods").
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..measures._common import months_in_period

__all__ = ["with_coverage", "windows12", "trend_coverage", "Window", "window_of", "window_of_period", "covered_months", "coverage", "describe", "choose_headline", "choose_base", "SPAN"]

#: The kind of a window that is a run of months rather than a standard period.
SPAN = "span"


@dataclass(frozen=True)
class Window:
    """A period of the report: its label, kind (``FY``, ``year``, ``rolling12`` or ``span``) and months."""

    label: str
    kind: str
    months: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.months)

    @property
    def first(self) -> pd.Period:
        return pd.Period(self.months[0], "M")

    @property
    def last(self) -> pd.Period:
        return pd.Period(self.months[-1], "M")


def window_of(label: str, kind: str) -> Window:
    """The window of a period label (``"2020/21"`` + ``"FY"``; ``"2021-06..2021-10"`` + ``"span"``)."""
    if kind == SPAN:
        a, b = label.split("..")
        ms = pd.period_range(a, b, freq="M")
    else:
        ms = months_in_period(label, kind)
    return Window(label, kind, tuple(str(m) for m in ms))


def window_of_period(label: str, kind: str) -> Window:
    """The window of a ``month`` / ``quarter`` / ``FY`` / ``year`` / ``rolling12`` label (months from the measures' rules)."""
    return Window(label, kind, tuple(str(m) for m in months_in_period(label, kind)))


def covered_months(ledger, area: str | None, areas: list[str]) -> list[str]:
    """Months for which ``area`` (``None``: every area in ``areas``) has a file, sorted.

    The span is the first to last month any file covers (or the expected months the
    reader was given); a month is covered for an area unless the ledger lists that
    force-month as missing. For all areas pooled, a month is covered only when no
    area read is missing it (a pooled ratio over a changing set of forces is not comparable).
    """
    have = sorted(set(ledger.months_covered) | {m for _, m in ledger.months_missing})
    if not have:
        return []
    span = [str(m) for m in pd.period_range(have[0], have[-1], freq="M")]
    keep = {area} if area else set(areas)
    gone = {m for a, m in ledger.months_missing if a in keep}
    return [m for m in span if m not in gone]


def coverage(w: Window, covered: list[str] | set[str]) -> tuple[int, int, bool]:
    """``(months_covered, months_in_period, partial_period)`` of a window for an area."""
    cov = set(covered)
    k = sum(m in cov for m in w.months)
    return k, w.n, k < w.n


def _span_text(w: Window) -> str:
    a, b = w.first, w.last
    if a == b:
        return a.strftime("%B %Y")
    if a.year == b.year:
        return f"{a.strftime('%B')} to {b.strftime('%B %Y')}"
    return f"{a.strftime('%B %Y')} to {b.strftime('%B %Y')}"


def describe(w: Window, months_covered: int | None = None) -> str:
    """Plain words for a window; "the 12 months to ..." only when it has 12 months of data.

    Examples
    --------
    >>> describe(window_of("2020/21", "FY"))
    'the 12 months to March 2021 (financial year 2020/21)'
    >>> describe(window_of("2018/19", "FY"), 3)
    'financial year 2018/19 (April 2018 to March 2019; data for only 3 of its 12 months)'
    >>> describe(window_of("2021-06..2021-10", "span"))
    'the 5 months June to October 2021'
    """
    k = w.n if months_covered is None else months_covered
    if k < w.n:
        name = {"FY": f"financial year {w.label}", "year": f"the calendar year {w.label}"}.get(
            w.kind, f"the {w.n}-month window {_span_text(w)}")
        extra = f"{_span_text(w)}; " if w.kind in ("FY", "year") else ""
        return f"{name} ({extra}data for only {k} of its {w.n} months)"
    if w.kind == "FY":
        return f"the 12 months to {w.last.strftime('%B %Y')} (financial year {w.label})"
    if w.kind == "year":
        return f"the calendar year {w.label}"
    if w.kind == "rolling12":
        return f"the 12 months to {w.last.strftime('%B %Y')}"
    return f"the {w.n} month{'s' if w.n != 1 else ''} {_span_text(w)}" if w.n > 1 else f"the month {_span_text(w)}"


def short(w: Window) -> str:
    """The description without its bracketed part ("the 12 months to March 2020")."""
    return describe(w).split(" (")[0]


def _runs(covered: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    prev = None
    for m in covered:
        p = pd.Period(m, "M")
        if prev is not None and p == prev + 1:
            out[-1].append(m)
        else:
            out.append([m])
        prev = p
    return out


def choose_headline(labels: list[str], kind: str, covered: list[str]) -> tuple[Window | None, str]:
    """The headline window: the latest complete period of ``kind``, else the best run of covered months.

    Returns the window and a note ("" when a complete period of the kind exists).
    Fallback rule: when no ``kind`` period is completely covered, the headline uses
    the longest run of consecutive covered months (ties: the latest), its latest 12
    months at most, and the note says why; ``None`` when no month is covered.
    """
    cov = set(covered)
    done = [window_of(p, kind) for p in labels]
    done = sorted([w for w in done if all(m in cov for m in w.months)], key=lambda w: w.last)
    if done:
        return done[-1], ""
    runs = _runs(sorted(cov))
    if not runs:
        return None, "no month of data is covered"
    best = max(runs, key=lambda r: (len(r), r[-1]))[-12:]
    w = Window(f"{best[0]}..{best[-1]}", SPAN, tuple(best))
    word = {"FY": "year (April to March)", "year": "calendar year", "rolling12": "12-month window"}.get(kind, kind)
    note = (f"The data hold no complete {word} for this area (months with data: {_run_text(runs)}), so the "
            f"headline uses {describe(w)}, the longest unbroken run of months with data (at most 12). Figures for "
            "a shorter window are not annual figures and are not compared with 12-month figures.")
    return w, note


def _run_text(runs: list[list[str]]) -> str:
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs)


def choose_base(head: Window, labels: list[str], covered: list[str]) -> Window | None:
    """The comparison window: complete, as long as ``head``, not overlapping it, and the latest such.

    For a standard kind: the latest complete period of the kind that ends before the
    headline begins. For a run of months: the same calendar months 1, 2, ... years
    earlier, the first such that is completely covered (so seasonal patterns cannot
    pass for change).
    """
    cov = set(covered)
    if head.kind == SPAN:
        for k in range(1, 11):
            ms = tuple(str(pd.Period(m, "M") - 12 * k) for m in head.months)
            if ms[0] < min(cov, default="9999"):
                return None
            if all(m in cov for m in ms):
                return Window(f"{ms[0]}..{ms[-1]}", SPAN, ms)
        return None
    cands = [window_of(p, head.kind) for p in labels]
    cands = [w for w in cands if w.last < head.first and w.n == head.n and all(m in cov for m in w.months)]
    return max(cands, key=lambda w: w.last) if cands else None


def with_coverage(t: pd.DataFrame, w: Window, covered_of, col: str | None = None) -> pd.DataFrame:
    """Add ``months_covered``, ``months_in_period``, ``partial_period`` (and the ``incomplete_coverage`` flag)."""
    t = t.copy()
    keys = t[col].astype(str) if col else pd.Series("", index=t.index)
    cov = {k: coverage(w, covered_of(k)) for k in keys.unique()}
    t["months_covered"] = [cov[k][0] for k in keys]
    t["months_in_period"] = w.n
    t["partial_period"] = [cov[k][2] for k in keys]
    if "flags" in t.columns:
        t["flags"] = [f if not part or "incomplete_coverage" in str(f) else ";".join(x for x in (str(f), "incomplete_coverage") if x)
                      for f, part in zip(t["flags"].fillna(""), t["partial_period"])]
    return t


def windows12(covered: list[str]) -> list[Window]:
    if not covered:
        return []
    ends = pd.period_range(pd.Period(covered[0], "M") + 11, pd.Period(covered[-1], "M"), freq="M")
    return [Window(f"{e - 11}..{e}", "rolling12", tuple(str(m) for m in pd.period_range(e - 11, e, freq="M")))
            for e in ends]


def trend_coverage(t: pd.DataFrame, kind: str, covered: list[str]) -> pd.DataFrame:
    """Coverage columns of a trend table; ``overlapping`` is True for rolling windows (they share 11 of 12 months)."""
    t = t.copy()
    cov = set(covered)
    wins = {p: (window_of(str(p), "rolling12") if kind == "rolling12" else window_of_period(str(p), kind))
            for p in t["period"].astype(str).unique()}
    t["months_covered"] = [sum(m in cov for m in wins[str(p)].months) for p in t["period"]]
    t["months_in_period"] = [wins[str(p)].n for p in t["period"]]
    t["partial_period"] = t["months_covered"] < t["months_in_period"]
    t["overlapping"] = kind == "rolling12"
    return t
