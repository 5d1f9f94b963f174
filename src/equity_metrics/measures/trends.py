"""Trend series: counts, rates and disproportionality ratios by area, group and period.

:func:`trend` lays out, for each area and ethnic group, a series of monthly,
quarterly or rolling 12-month counts, rates per 1,000 or rate ratios, with
intervals, a comparison series (other areas pooled) and optional indexing to a
baseline period, ready for plotting against training dates or for
:func:`equity_metrics.models.its.interrupted_time_series`.

Rates and ratios come from :func:`equity_metrics.measures.disparity.disparity`
(same benchmark, intervals and flags); this module adds the comparison, the
index and the training marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd

from .._results import ResultBase
from .._options import check_option
from .._security import escape_html
from ..errors import DataValidationError
from ..io._counts import EventCounts
from ..ledger import ReadResult
from ._common import (
    UNRELIABLE_BELOW,
    Coverage,
    frame_of,
    months_in_period,
    need_columns,
    period_coverage,
    population_by_area_group,
)
from .disparity import disparity
from .intervals import poisson_rate_ci

__all__ = ["trend", "TrendResult", "TREND_COLUMNS"]

TrendPeriod = Literal["month", "quarter", "rolling12"]
TrendMeasure = Literal["count", "rate", "ratio"]

#: Stable column order of :meth:`TrendResult.tidy`.
TREND_COLUMNS = [
    "area", "group", "period", "events", "population", "value", "ci_low", "ci_high",
    "comparison_value", "difference_from_comparison", "indexed_value", "flags",
    "months_in_period", "months_covered", "partial_period", "overlapping",
]
_LABELS = {"count": "Events", "rate": "Events per 1,000 population", "ratio": "Rate ratio"}


@dataclass
class TrendResult(ResultBase):
    """Series of counts, rates or ratios by area, group and period.

    Use :meth:`tidy` for the table, :meth:`summary` for an account and :meth:`plot` for the
    lines (with intervals, the comparison dashed and training dates as vertical lines).
    """

    table: pd.DataFrame
    measure: str
    period: str
    reference: str
    comparison: str | None
    index_to: str | None
    training_dates: dict[str, list[pd.Period]]
    alpha: float
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """One row per ``area x group x period``: ``area, group, period, events, population, value, ci_low,
        ci_high, comparison_value, difference_from_comparison, indexed_value, flags, months_in_period,
        months_covered, partial_period, overlapping``.

        ``partial_period`` is True where the data cover only ``months_covered`` of the period's
        ``months_in_period`` months (also flagged ``incomplete_coverage``); ``overlapping`` is True
        for rolling 12-month windows, which share 11 months with their neighbours."""
        return self.table.copy()


    def series(self, area: str, group: str) -> pd.DataFrame:
        """The rows of one area and group, in time order (e.g. to pass to ``interrupted_time_series``
        with ``time="period"``, ``outcome="events"`` and ``offset="population"``)."""
        t = self.table
        out = t[(t["area"] == area) & (t["group"] == group)]
        if out.empty:
            raise DataValidationError(f"no rows for area {area!r} and group {group!r}; areas: {sorted(t['area'].unique())[:20]}, "
                                      f"groups: {sorted(t['group'].unique())}")
        return out.reset_index(drop=True)

    def _display(self) -> pd.DataFrame:
        t = self.table
        last = t[t["period"] == t.groupby("area")["period"].transform("max")]
        cols = ["area", "group", "period", "events", "value", "ci_low", "ci_high", "comparison_value", "indexed_value", "flags"]
        d = last[cols].copy()
        for c in ("value", "ci_low", "ci_high", "comparison_value", "indexed_value"):
            d[c] = d[c].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
        return d

    def summary(self) -> str:
        what = {"count": "counts", "rate": "rates per 1,000", "ratio": f"rate ratios vs {self.reference}"}[self.measure]
        n_p = self.table["period"].nunique()
        head = [f"Trends: {what} by area and group, {n_p} {self.period} period(s); latest period shown"]
        if self.comparison:
            head.append(f"  comparison: {self.comparison}")
        if self.index_to:
            head.append(f"  indexed to 100 at {self.index_to}")
        for a, ds in sorted(self.training_dates.items()):
            head.append(f"  training: {a}: {', '.join(str(d) for d in ds)}")
        head += [f"  note: {n}" for n in self.notes]
        return "\n".join(head) + "\n" + self._display().to_string(index=False)

    def __repr__(self) -> str:
        return f"<TrendResult {self.measure} by {self.period}: {self.table['area'].nunique()} area(s), {len(self.table)} rows>"

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{escape_html(n)}</li>" for n in self.notes)
        return (f"<p><b>Trends</b>: {escape_html(self.measure)} by {escape_html(self.period)}"
                f"{' vs ' + escape_html(self.comparison) if self.comparison else ''}</p><ul>{notes}</ul>"
                + self._display().to_html(index=False, escape=True))

    def plot(self, *, area: str | Sequence[str] | None = None, group: str | Sequence[str] | None = None,
             indexed: bool = False, ax=None, title: str | None = None):
        """Lines with interval bands for the chosen areas and groups, comparison dashed, training
        dates as vertical lines. ``indexed=True`` draws the indexed values (no bands). Returns the Axes."""
        from ..plots.timeseries import trend_plot

        t = self.table
        if area is not None:
            t = t[t["area"].isin([area] if isinstance(area, str) else list(area))]
        if group is not None:
            t = t[t["group"].isin([group] if isinstance(group, str) else list(group))]
        keys = list(dict.fromkeys(zip(t["area"], t["group"])))
        if not keys:
            raise DataValidationError("nothing to plot: no rows for that area/group")
        if len(keys) > 12:
            raise DataValidationError(f"{len(keys)} lines is too many for one plot; pass area= and/or group=")
        col = "indexed_value" if indexed else "value"
        series, comp = {}, {}
        for a, g in keys:
            s = t[(t["area"] == a) & (t["group"] == g)]
            lab = f"{a} | {g}" if len({k[0] for k in keys}) > 1 or len({k[1] for k in keys}) > 1 else f"{a} {g}"
            series[lab] = pd.DataFrame({"period": s["period"], "value": s[col],
                                        "ci_low": np.nan if indexed else s["ci_low"], "ci_high": np.nan if indexed else s["ci_high"]})
            if self.comparison and not indexed:
                comp[f"{lab} comparison"] = pd.DataFrame({"period": s["period"], "value": s["comparison_value"]})
            series[lab]["partial"] = s["partial_period"].to_numpy(bool)
            series[lab]["months_covered"] = s["months_covered"].to_numpy()
            series[lab]["months_in_period"] = s["months_in_period"].to_numpy()
        marks = sorted({d for a, _ in keys for d in self.training_dates.get(a, [])})
        ylabel = f"Index ({self.index_to} = 100)" if indexed else _LABELS[self.measure]
        return trend_plot(series, comparison=comp, markers=marks, ax=ax, ylabel=ylabel, title=title,
                          reference_line=1.0 if self.measure == "ratio" and not indexed else None,
                          overlapping=self.period == "rolling12")


# ----------------------------------------------------------------------------- helpers
def _training(training_dates: Any, areas: list[str]) -> dict[str, list[pd.Period]]:
    if training_dates is None:
        return {}

    def months(v: Any) -> list[pd.Period]:
        vals = list(v) if isinstance(v, (list, tuple, set)) else [v]
        try:
            return sorted(pd.Period(pd.Timestamp(x), "M") if not isinstance(x, pd.Period) else x.asfreq("M") for x in vals)
        except (ValueError, TypeError):
            raise DataValidationError(f"training dates must be dates such as '2020-06-15', got {vals!r}") from None

    if isinstance(training_dates, dict):
        unknown = sorted(set(map(str, training_dates)) - set(areas))
        if unknown:
            raise DataValidationError(f"training_dates names area(s) {unknown} with no data; areas are {areas[:20]}")
        return {str(a): months(v) for a, v in training_dates.items()}
    ms = months(training_dates)
    return {a: ms for a in areas}


def _counts(ev: pd.DataFrame, by: str | None, group_col: str, period: str, missing: set[tuple[str, str]]) -> pd.DataFrame:
    area = ev[by].astype(str) if by else pd.Series("all areas", index=ev.index)
    m = ev["month"]
    if not isinstance(m.dtype, pd.PeriodDtype):
        m = pd.PeriodIndex(m.astype(str), freq="M").to_series(index=ev.index)
    c = pd.DataFrame({"area": area.to_numpy(), "group": ev[group_col].astype(str).to_numpy(), "m": m.to_numpy()})
    c = c.groupby(["area", "group", "m"], observed=True).size().rename("n")
    months_all = pd.period_range(c.index.get_level_values("m").min(), c.index.get_level_values("m").max(), freq="M")
    areas = sorted(c.index.get_level_values("area").unique())
    groups = sorted(c.index.get_level_values("group").unique())
    full = c.reindex(pd.MultiIndex.from_product([areas, groups, months_all], names=["area", "group", "m"]), fill_value=0)
    full = full.astype(float).reset_index()
    gap = full.apply(lambda r: (r["area"], str(r["m"])) in missing, axis=1) if missing else pd.Series(False, index=full.index)
    full.loc[gap.to_numpy(), "n"] = np.nan
    full["incomplete"] = gap.to_numpy()
    if period == "month":
        full["period"] = full["m"].astype(str)
        return full[["area", "group", "period", "n", "incomplete"]]
    if period == "quarter":
        full["period"] = full["m"].map(lambda p: str(p.asfreq("Q")))
        out = full.groupby(["area", "group", "period"], sort=True).agg(n=("n", "sum"), incomplete=("incomplete", "any"),
                                                                         k=("m", "size")).reset_index()
        out["incomplete"] |= out["k"] < 3
        return out[["area", "group", "period", "n", "incomplete"]]
    parts = []
    for (a, g), s in full.groupby(["area", "group"], sort=True):
        s = s.sort_values("m")
        n = s["n"].rolling(12, min_periods=12).sum()
        inc = s["incomplete"].astype(float).rolling(12, min_periods=12).max()
        lab = [f"{p - 11}..{p}" for p in s["m"]]
        parts.append(pd.DataFrame({"area": a, "group": g, "period": lab, "n": n.to_numpy(), "incomplete": inc.to_numpy() > 0,
                                   "ok": np.arange(len(s)) >= 11}))
    if not parts or not any(p["ok"].any() for p in parts):
        raise DataValidationError("rolling12 needs at least 12 months of data; use period='month' or 'quarter'")
    out = pd.concat(parts, ignore_index=True)
    return out[out["ok"]].drop(columns="ok").reset_index(drop=True)


def _complete(tab: pd.DataFrame, period: str, measure: str, missing: set[tuple[str, str]], alpha: float) -> pd.DataFrame:
    """Add explicit rows for area-periods without any event: 0 events, or missing (NaN) when the
    reader reported the month absent, so that every series is gap-free (as ITS needs)."""
    if period == "rolling12" or tab.empty:
        return tab
    freq = "M" if period == "month" else "Q"
    per = pd.PeriodIndex([pd.Period(x, freq) for x in tab["period"].unique()])
    labels = [str(p) for p in pd.period_range(per.min(), per.max(), freq=freq)]
    pops = tab.groupby(["area", "group"], sort=True)["population"].first()
    grid = pd.DataFrame([(a, g, lab) for (a, g) in pops.index for lab in labels], columns=["area", "group", "period"])
    out = grid.merge(tab, on=["area", "group", "period"], how="left")
    new = out["events"].isna().to_numpy()
    if not new.any():
        return tab
    gone = np.array([any((a, str(m)) in missing for m in months_in_period(p, period)) for a, p in
                     zip(out["area"].to_numpy()[new], out["period"].to_numpy()[new])], bool)
    idx = np.flatnonzero(new)
    n = pops.reindex(list(zip(out["area"].to_numpy()[idx], out["group"].to_numpy()[idx]))).to_numpy(float)
    out.loc[idx, "population"] = n
    out.loc[idx, "events"] = np.where(gone, np.nan, 0.0)
    out.loc[idx, "flags"] = np.where(gone, "incomplete_coverage", "no_events")
    if measure == "rate":
        ok = ~gone & (n > 0)
        hi = np.full(len(idx), np.nan)
        if ok.any():
            hi[ok] = np.asarray(poisson_rate_ci(np.zeros(ok.sum()), n[ok], alpha=alpha)[1], float) * 1000
        out.loc[idx, "value"] = np.where(ok, 0.0, np.nan)
        out.loc[idx, "ci_low"] = np.where(ok, 0.0, np.nan)
        out.loc[idx, "ci_high"] = hi
    return out


def _coverage_columns(tab: pd.DataFrame, events: Any, ev: pd.DataFrame, by: str | None, period: str) -> pd.DataFrame:
    """``months_in_period``, ``months_covered``, ``partial_period`` and ``overlapping`` of each row
    (the reader's ledger where there is one, else the months with events; see ``Coverage``)."""
    cov = Coverage.of(events, ev, by)
    if not by:
        cov = cov.pooled(sorted(cov.covered)) if cov.from_ledger else cov
    n_in, n_cov = period_coverage(tab["area"].to_numpy(), tab["period"].to_numpy(), period, cov)
    if "months_covered" in tab.columns:  # from disparity (its areas may have been renamed to the population's)
        have = tab["months_covered"].notna().to_numpy()
        n_cov = np.where(have, tab["months_covered"].fillna(0).to_numpy(float), n_cov).astype(np.int64)
        n_in = np.where(have, tab["months_in_period"].fillna(0).to_numpy(float), n_in).astype(np.int64)
    tab["months_in_period"], tab["months_covered"] = n_in, n_cov
    tab["partial_period"] = n_cov < n_in
    tab["overlapping"] = period == "rolling12"
    add = tab["partial_period"].to_numpy(bool) & ~tab["flags"].astype(str).str.contains("incomplete_coverage").to_numpy()
    tab.loc[add, "flags"] = [f"{f};incomplete_coverage" if f else "incomplete_coverage" for f in tab.loc[add, "flags"]]
    return tab


def _baseline_label(index_to: str, labels: list[str], period: str) -> str:
    try:
        if period == "rolling12":
            end = pd.Period(str(index_to).split("..")[-1], "M")
            hits = [lab for lab in labels if pd.Period(lab.split("..")[-1], "M") == end]
            label = hits[0] if hits else str(index_to)
        else:
            label = str(pd.Period(str(index_to), "M" if period == "month" else "Q"))
    except (ValueError, TypeError):
        raise DataValidationError(f"index_to={index_to!r} is not a period such as '2019-06' or '2019Q2'") from None
    if label not in labels:
        raise DataValidationError(f"index_to={index_to!r} is not a period of the series (it runs {min(labels)} to {max(labels)})")
    return label


# ----------------------------------------------------------------------------- main entry
def trend(
    events: pd.DataFrame | ReadResult | EventCounts,
    population: pd.DataFrame | ReadResult | None = None,
    *,
    by: str | None = "force",
    group_col: str = "ethnicity",
    period: TrendPeriod = "month",
    measure: TrendMeasure = "rate",
    reference: str = "White",
    comparison: str | Sequence[str] | None = None,
    index_to: str | None = None,
    training_dates: dict[str, Any] | Sequence[Any] | Any | None = None,
    alpha: float = 0.05,
    exclude_vehicle_only: bool = True,
    vintage: str | None = None,
) -> TrendResult:
    """Counts, rates or ratios by area, group and period, with a comparison and an index.

    Parameters
    ----------
    events
        Canonical events table (``month`` and ``group_col`` columns, and ``by``), or
        :class:`~equity_metrics.EventCounts` from :func:`~equity_metrics.count_policeuk`
        on any engine (count by ``month``, the group, ``by`` and ``vehicle_only``).
    population
        Population table (needed for ``measure="rate"`` and ``"ratio"``; optional for counts,
        when it fills the ``population`` column).
    by
        Area column (``"force"``); ``None`` pools all areas into ``"all areas"``.
    period
        ``"month"``, ``"quarter"`` or ``"rolling12"`` (12 months ending each month).
    measure
        ``"count"`` (events, exact Poisson interval), ``"rate"`` (per 1,000, from
        :func:`~equity_metrics.measures.disparity.disparity`) or ``"ratio"`` (rate ratio to
        ``reference``; the reference group's own rows are left out).
    comparison
        Areas to benchmark against, pooled (each area's own data left out of its
        comparison), or ``"national"`` for all other areas pooled. Pooling sums events and
        populations, so the comparison is the pooled rate (or ratio of pooled rates); for
        counts it is the summed count of the comparison areas.
    index_to
        Baseline period (``"2019-06"``, ``"2019Q2"``; for rolling12 the window's last month):
        ``indexed_value`` is 100 at the baseline for each area and group.
    training_dates
        ``{area: date or [dates]}``, or dates applying to every area: drawn by :meth:`TrendResult.plot`
        and flagged ``training`` on the periods that contain them.

    Returns
    -------
    TrendResult

    Examples
    --------
    >>> import equity_metrics.datasets as ds  # doctest: +SKIP
    >>> t = trend(ds.load_sample_stops(), ds.load_sample_population(), measure="ratio",
    ...           comparison="national", training_dates={"kent": "2020-06-01"})  # doctest: +SKIP
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"force": ["kent"] * 3, "month": pd.PeriodIndex(["2020-01", "2020-01", "2020-02"], freq="M"),
    ...                    "ethnicity": ["Black", "White", "White"]})
    >>> trend(ev, measure="count").tidy()[["group", "period", "value"]].values.tolist()
    [['Black', '2020-01', 1.0], ['Black', '2020-02', 0.0], ['White', '2020-01', 1.0], ['White', '2020-02', 1.0]]
    """
    check_option("period", period, TrendPeriod)
    check_option("measure", measure, TrendMeasure)
    if isinstance(events, EventCounts) and measure == "count":  # counts from count_policeuk (any engine): a row per event
        events = events.to_events(exclude_vehicle_only=exclude_vehicle_only)
    ev = frame_of(events.data if isinstance(events, EventCounts) else events, "events")
    need_columns(ev, [group_col, "month"] + ([by] if by else []), "events")
    notes: list[str] = []
    pop_tab = None
    if population is not None:
        pop_tab, vintage = population_by_area_group(population, vintage=vintage)
    if measure == "count":
        evc = ev
        if exclude_vehicle_only and "vehicle_only" in ev.columns:
            vo = ev["vehicle_only"].fillna(False).to_numpy(bool)
            if vo.any():
                notes.append(f"{int(vo.sum()):,} vehicle-only searches excluded (counts are of people searched)")
            evc = ev.loc[~vo]
        missing = {(a, m) for a, m in events.ledger.months_missing} if isinstance(events, ReadResult) else set()
        c = _counts(evc, by, group_col, period, missing)
        tab = pd.DataFrame({"area": c["area"], "group": c["group"], "period": c["period"], "events": c["n"]})
        if pop_tab is not None:
            p = pop_tab.groupby("group")["population"].sum() if not by else pop_tab.set_index(["area", "group"])["population"]
            tab["population"] = [p.get(g, np.nan) if not by else p.get((a, g), np.nan) for a, g in zip(tab["area"], tab["group"])]
        else:
            tab["population"] = np.nan
        tab["value"] = tab["events"]
        lo, hi = poisson_rate_ci(tab["events"].to_numpy(float), 1.0, alpha=alpha)
        tab["ci_low"], tab["ci_high"] = np.asarray(lo, float), np.asarray(hi, float)
        fl = [";".join(f for f, on in (("small_count", n < UNRELIABLE_BELOW), ("incomplete_coverage", inc)) if on)
              for n, inc in zip(tab["events"].fillna(0), c["incomplete"])]
        tab["flags"] = fl
        ref_ev = None
    else:
        if population is None:
            raise DataValidationError(f"measure={measure!r} needs a population table; pass population=, or use measure='count'")
        d = disparity(events, population, by=by, area=by or "force", period=period, reference=reference,
                      group_col=group_col, alpha=alpha, exclude_vehicle_only=exclude_vehicle_only, vintage=vintage)
        notes += d.notes
        t = d.tidy()
        area = t[by].astype(str).to_numpy() if by else np.full(len(t), "all areas")
        tab = pd.DataFrame({"area": area, "group": t["group"].astype(str), "period": t["period"].astype(str),
                            "events": t["events"].astype(float), "population": t["population"]})
        if measure == "rate":
            tab["value"], tab["ci_low"], tab["ci_high"] = t["rate_per_1000"], t["rate_ci_low"], t["rate_ci_high"]
        else:
            tab["value"], tab["ci_low"], tab["ci_high"] = t["ratio"], t["ci_low"], t["ci_high"]
        tab["flags"] = t["flags"].astype(str)
        tab["months_in_period"], tab["months_covered"] = t["months_in_period"].to_numpy(), t["months_covered"].to_numpy()
        ref_ev = tab.loc[tab["group"] == reference].set_index(["area", "period"])["events"] if reference != "all" else None
        if measure == "ratio" and reference == "all":
            ref_ev = None
        if measure == "ratio":
            tab = tab[tab["group"] != reference]
        missing = {(a, m) for a, m in events.ledger.months_missing} if isinstance(events, (ReadResult, EventCounts)) else set()
        tab = _complete(tab, period, measure, missing, alpha)
    tab = tab.reset_index(drop=True)
    tab = _coverage_columns(tab, events, ev, by, period)
    areas = sorted(tab["area"].unique())

    # comparison: pooled other areas
    comp_desc = None
    tab["comparison_value"] = np.nan
    if comparison is not None:
        if not by:
            raise DataValidationError("comparison needs areas: pass by='force' (or another area column)")
        if isinstance(comparison, str) and comparison == "national":
            pools = {a: [b for b in areas if b != a] for a in areas}
            comp_desc = "all other areas pooled (national excluding the area)"
        else:
            listed = [comparison] if isinstance(comparison, str) else [str(x) for x in comparison]
            unknown = sorted(set(listed) - set(areas))
            if unknown:
                raise DataValidationError(f"comparison area(s) {unknown} have no data; areas are {areas[:20]} "
                                          "(or pass comparison='national')")
            pools = {a: [b for b in listed if b != a] for a in areas}
            comp_desc = f"{', '.join(listed)} pooled (each area left out of its own comparison)"
        tab["comparison_value"] = _comparison(tab, pools, measure, pop_tab, ref_ev, reference)
        if measure == "ratio" and reference == "all":
            notes.append("comparison ratios against reference='all' are not computed (comparison_value is empty)")
    tab["difference_from_comparison"] = tab["value"] - tab["comparison_value"]

    # index
    tab["indexed_value"] = np.nan
    base_label = None
    if index_to is not None:
        base_label = _baseline_label(index_to, sorted(tab["period"].unique()), period)
        base = tab[tab["period"] == base_label].set_index(["area", "group"])["value"]
        b = np.array([base.get((a, g), np.nan) for a, g in zip(tab["area"], tab["group"])], float)
        with np.errstate(divide="ignore", invalid="ignore"):
            tab["indexed_value"] = np.where(b > 0, 100 * tab["value"].to_numpy(float) / np.where(b > 0, b, 1), np.nan)
        nob = ~(b > 0)
        if nob.any():
            tab.loc[nob, "flags"] = [f"{f};no_baseline" if f else "no_baseline" for f in tab.loc[nob, "flags"]]

    # training marks
    train = _training(training_dates, areas)
    if train:
        hit = [any(m in months_in_period(p, period) for m in train.get(a, [])) for a, p in zip(tab["area"], tab["period"])]
        tab.loc[hit, "flags"] = [f"{f};training" if f else "training" for f in tab.loc[hit, "flags"]]
    tab = tab.sort_values(["area", "group", "period"], kind="stable").reset_index(drop=True)
    return TrendResult(table=tab[TREND_COLUMNS], measure=measure, period=period, reference=reference,
                       comparison=comp_desc, index_to=base_label, training_dates=train, alpha=alpha, notes=notes)


def _comparison(tab: pd.DataFrame, pools: dict[str, list[str]], measure: str, pop_tab: pd.DataFrame | None,
                ref_ev: pd.Series | None, reference: str) -> np.ndarray:
    """Pooled value of each row's comparison areas (sum of events over sum of populations)."""
    ev_w = tab.pivot_table(index=["period", "group"], columns="area", values="events", aggfunc="sum", fill_value=0.0)
    out = np.full(len(tab), np.nan)
    pop = pop_tab.set_index(["area", "group"])["population"] if pop_tab is not None else None
    ref_w = ref_ev.unstack("area").fillna(0.0) if ref_ev is not None else None
    for a, pool in pools.items():
        rows = np.flatnonzero((tab["area"] == a).to_numpy())
        cols = [c for c in pool if c in ev_w.columns]
        if not len(rows) or not cols:
            continue
        keys = list(zip(tab["period"].to_numpy()[rows], tab["group"].to_numpy()[rows]))
        e = ev_w[cols].sum(axis=1).reindex(keys).to_numpy(float)
        if measure == "count":
            out[rows] = e
            continue
        n = np.array([sum(pop.get((c, g), 0.0) for c in cols) for _, g in keys], float)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(n > 0, e / n * 1000, np.nan)
        if measure == "rate":
            out[rows] = rate
            continue
        rn = sum(pop.get((c, reference), 0.0) for c in cols)
        re = ref_w.reindex(columns=cols).fillna(0.0).sum(axis=1).reindex([p for p, _ in keys]).to_numpy(float) if ref_w is not None else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            out[rows] = rate / np.where((rn > 0) & (re > 0), re / rn * 1000, np.nan)
    return out
