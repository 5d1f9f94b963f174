"""Helpers shared by the measures: table access, periods, population benchmarks, small-count flags."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..errors import DataValidationError, closest_matches
from ..ledger import ReadResult

PeriodKind = Literal["none", "month", "quarter", "FY", "year", "rolling12"]

#: Office for National Statistics practice: rates based on fewer than 20 events
#: are flagged as unreliable (ONS, "Guidance on small numbers" / mortality
#: statistics: "rates calculated from fewer than 20 events are unreliable").
UNRELIABLE_BELOW = 20


def frame_of(x: pd.DataFrame | ReadResult, what: str = "events") -> pd.DataFrame:
    """The DataFrame inside a :class:`ReadResult`, or ``x`` itself."""
    if isinstance(x, ReadResult):
        return x.data
    if isinstance(x, pd.DataFrame):
        return x
    raise DataValidationError(
        f"{what} must be a pandas DataFrame or the result of an equity_metrics reader, got {type(x).__name__}"
    )


def as_list(by) -> list[str]:
    """A column name, a sequence of names, or None, as a list of names."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def need_columns(df: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        hints = {m: closest_matches(m, df.columns) for m in missing}
        raise DataValidationError(
            f"the {what} table has no column(s) {missing} (closest: {hints}); columns are {list(df.columns)[:25]}"
        )


def fy_label(month: pd.PeriodIndex | pd.Series) -> pd.Series:
    """Financial year ending March, labelled like the Home Office: ``"2019/20"`` for April 2019 - March 2020."""
    m = pd.PeriodIndex(month, freq="M") if not isinstance(month, pd.PeriodIndex) else month
    start = np.where(m.month >= 4, m.year, m.year - 1)
    return pd.Series([f"{s}/{(s + 1) % 100:02d}" for s in start], dtype="string")


def assign_period(months: pd.Series, period: PeriodKind) -> pd.Series:
    """Map a ``period[M]`` series to period labels (strings sort chronologically)."""
    check_option("period", period, PeriodKind)
    if period == "none":
        return pd.Series("all", index=months.index, dtype="string")
    if not isinstance(months.dtype, pd.PeriodDtype):
        months = pd.PeriodIndex(months.astype(str), freq="M").to_series(index=months.index)
    if period == "month":
        return months.astype(str).astype("string")
    if period == "quarter":
        return months.dt.asfreq("Q").astype(str).astype("string")
    if period == "year":
        return months.dt.year.astype(str).astype("string")
    if period == "FY":
        lab = fy_label(pd.PeriodIndex(months))
        lab.index = months.index
        return lab
    raise DataValidationError("rolling12 periods are built by expand_rolling, not assign_period")  # pragma: no cover


def months_in_period(label: str, period: PeriodKind) -> list[pd.Period]:
    """The calendar months a period label covers."""
    if period == "month":
        return [pd.Period(label, "M")]
    if period == "quarter":
        q = pd.Period(label, "Q")
        return list(pd.period_range(q.asfreq("M", "start"), q.asfreq("M", "end"), freq="M"))
    if period == "year":
        return list(pd.period_range(f"{label}-01", f"{label}-12", freq="M"))
    if period == "FY":
        y = int(label[:4])
        return list(pd.period_range(f"{y}-04", f"{y + 1}-03", freq="M"))
    if period == "rolling12":
        end = pd.Period(label.split("..")[-1], "M")
        return list(pd.period_range(end - 11, end, freq="M"))
    return []


def population_by_area_group(
    population: pd.DataFrame | ReadResult,
    *,
    vintage: str | None = None,
    group_col: str = "group",
) -> tuple[pd.DataFrame, str]:
    """Reduce a long population table to one count per ``area x group``.

    Uses the ``All`` rows for sex and age band when present (else sums the
    breakdown), and the broad-group total rows when both broad and detailed rows
    are present. Returns the table (``area, group, population``) and the vintage
    used.
    """
    pop = frame_of(population, "population").copy()
    need_columns(pop, ["area", group_col, "population"], "population")
    if "vintage" in pop.columns:
        vints = sorted(pop["vintage"].dropna().astype(str).unique())
        if vintage is None:
            if len(vints) > 1:
                raise DataValidationError(
                    f"the population table mixes vintages {vints}; pass vintage= to choose one"
                )
            vintage = vints[0] if vints else "unknown"
        elif vintage not in vints:
            raise DataValidationError(f"vintage {vintage!r} not in the population table (has {vints})")
        pop = pop[pop["vintage"].astype(str) == vintage]
    vintage = vintage or "unknown"
    for col in ("sex", "age_band"):
        if col in pop.columns:
            s = pop[col].astype("string")
            is_all = s.isna() | s.str.lower().isin(["all", "total", "persons"])
            if is_all.any() and (~is_all).any():
                pop = pop[is_all.to_numpy()]
    if "group_detailed" in pop.columns:
        det = pop["group_detailed"].astype("string")
        broad_total = det.isna() | (det == pop[group_col].astype("string"))
        # areas x groups that have a broad total row use it; others sum their detail rows
        key = pop["area"].astype(str) + "\x00" + pop[group_col].astype(str)
        has_total = key.isin(set(key[broad_total.to_numpy()]))
        pop = pop[(~has_total | broad_total).to_numpy()]
    out = (
        pop.assign(area=pop["area"].astype(str), group=pop[group_col].astype(str))
        .groupby(["area", "group"], observed=True, sort=True)["population"]
        .sum(min_count=1)
        .reset_index()
    )
    return out, vintage


def small_count_flags(events: np.ndarray, *, unreliable_below: int = UNRELIABLE_BELOW) -> np.ndarray:
    """``"small_count"`` where events are below the reliability threshold, else ``""``."""
    return np.where(np.asarray(events) < unreliable_below, "small_count", "")


def join_flags(*flag_arrays: np.ndarray) -> np.ndarray:
    """Join several string flag arrays elementwise with ``;`` (empty parts skipped)."""
    n = len(flag_arrays[0])
    out = []
    for i in range(n):
        parts = [str(a[i]) for a in flag_arrays if a[i]]
        out.append(";".join(parts))
    return np.array(out, dtype=object)


# ----------------------------------------------------------------------------- period coverage
#: Rates above this many events per 1,000 residents per 12 months are a broken benchmark,
#: not a finding (flag ``implausible_benchmark``). The highest rate for a broad ethnic group
#: in any police force area other than the City of London in the gov.uk Ethnicity Facts and
#: Figures series 2006/07-2017/18 is 191 (Black, Metropolitan Police, 2008/09). Scaled by
#: ``months_covered / 12`` for shorter periods. See docs/real-data-rules.md.
IMPLAUSIBLE_RATE_PER_1000_YEAR = 200.0
#: Area-periods where more than this share of events have no stated ethnicity are flagged
#: ``mostly_not_stated`` and not ranked (North Yorkshire's self-defined field is ~59% blank).
MOSTLY_NOT_STATED_ABOVE = 0.5


class Coverage:
    """Which months of data each area has: from a reader's ledger, else from the events.

    ``span`` is every month of the read (first to last month covered); ``covered[area]`` the
    months (``"YYYY-MM"``) the data actually cover for that area. With a ledger, an area covers
    the ledger's ``months_covered`` less its ``months_missing``; without one, the months in
    which the area has any event.
    """

    def __init__(self, span: list[str], covered: dict[str, set[str]], from_ledger: bool) -> None:
        self.span, self.covered, self.from_ledger = span, covered, from_ledger

    @classmethod
    def of(cls, events: object, ev: pd.DataFrame, area: str | None) -> Coverage:
        ledger = getattr(events, "ledger", None)
        # distinct (area, month) pairs first, then text: cheap on a million rows
        key = [ev[area]] if area and area in ev.columns else []
        pairs = ev.groupby(key + [ev["month"]], observed=True, sort=False).size().index.to_frame(index=False)
        months = pairs.iloc[:, -1]
        if not isinstance(months.dtype, pd.PeriodDtype):
            months = pd.Series(pd.PeriodIndex(months.astype(str), freq="M"))
        areas = pairs.iloc[:, 0].astype(str) if key else pd.Series("all areas", index=pairs.index)
        present = pd.DataFrame({"a": areas.to_numpy(), "m": months.astype(str).to_numpy()}).drop_duplicates()
        if ledger is not None and getattr(ledger, "months_covered", None):
            glob = {str(m) for m in ledger.months_covered}
            missing: dict[str, set[str]] = {}
            for a, m in ledger.months_missing:
                missing.setdefault(str(a), set()).add(str(m))
            names = set(present["a"]) | {str(a) for a in getattr(ledger, "areas_covered", [])}
            covered = {a: glob - missing.get(a, set()) for a in names}
            span_src = glob
            from_ledger = True
        else:
            covered = {a: set(g["m"]) for a, g in present.groupby("a", sort=True)}
            for a, m in getattr(ledger, "months_missing", None) or []:  # a ledger without months_covered
                covered.get(str(a), set()).discard(str(m))
            span_src = set(present["m"])
            from_ledger = False
        if span_src:
            p = sorted(pd.Period(m, "M") for m in span_src)
            span = [str(x) for x in pd.period_range(p[0], p[-1], freq="M")]
        else:
            span = []
        return cls(span, covered, from_ledger)

    def pooled(self, areas: list[str], name: str = "all areas") -> Coverage:
        """Coverage of several areas pooled: a month counts only if every area covers it."""
        sets = [self.covered.get(a, set()) for a in areas]
        both = set.intersection(*sets) if sets else set()
        return Coverage(self.span, {**self.covered, name: both}, self.from_ledger)

    def months(self, area: str) -> set[str]:
        return self.covered.get(str(area), set())


def period_coverage(areas: np.ndarray, labels: np.ndarray, period: PeriodKind, cov: Coverage) -> tuple[np.ndarray, np.ndarray]:
    """``(months_in_period, months_covered)`` of each ``area x period label``.

    ``period="none"`` is the whole span read: its length is the span's, and an area covers
    the months of the span it has data for.
    """
    n_in = np.zeros(len(areas), np.int64)
    n_cov = np.zeros(len(areas), np.int64)
    cache: dict[tuple[str, str], tuple[int, int]] = {}
    for i, (a, lab) in enumerate(zip(areas, labels)):
        key = (str(a), str(lab))
        if key not in cache:
            ms = cov.span if period == "none" else [str(m) for m in months_in_period(str(lab), period)]
            have = cov.months(str(a))
            cache[key] = (len(ms), sum(m in have for m in ms))
        n_in[i], n_cov[i] = cache[key]
    return n_in, n_cov


def complete_periods(table: pd.DataFrame, *, period_col: str = "period", months: int | None = None) -> pd.DataFrame:
    """Rows of a tidy table for complete, equally long, non-overlapping periods only.

    Keeps rows whose period the data cover in full (``partial_period`` False), of one
    length (``months``, default the longest ``months_in_period`` present, so 12 for
    financial or calendar years), and, for rolling windows (``overlapping`` True), only
    windows that do not overlap: every twelfth window counting back from the latest.
    Use it before comparing periods or areas with each other.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"period": ["2018/19", "2019/20"], "months_in_period": [12, 12],
    ...                   "months_covered": [3, 12], "partial_period": [True, False], "overlapping": [False, False]})
    >>> complete_periods(t)["period"].tolist()
    ['2019/20']
    """
    need_columns(table, [period_col, "months_in_period", "months_covered", "partial_period"], "tidy")
    t = table[~table["partial_period"].astype(bool).to_numpy()]
    if t.empty:
        return t.copy()
    length = int(t["months_in_period"].max()) if months is None else int(months)
    t = t[t["months_in_period"].to_numpy() == length]
    if "overlapping" in t.columns and t["overlapping"].astype(bool).any():
        ends = sorted({pd.Period(str(p).split("..")[-1], "M") for p in t[period_col]})
        keep = {str(e) for e in ends if (ends[-1] - e).n % length == 0}
        t = t[[str(p).split("..")[-1] in keep for p in t[period_col]]]
    return t.copy()
