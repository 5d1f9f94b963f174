"""Rates per 1,000 and disproportionality ratios against a population benchmark.

:func:`disparity` is the figure the Home Office and inspectorates publish: the
number of people of a group searched per 1,000 residents of that group, and the
ratio of that rate to a reference group's (White, by Home Office practice), each
with its confidence interval, its counts and its caveats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from .._results import ResultBase
from .._options import check_option
from .._security import escape_html
from ..errors import DataValidationError
from ..ethnicity import NOT_STATED
from ..io._counts import EventCounts
from ..ledger import ReadResult
from ._common import (
    IMPLAUSIBLE_RATE_PER_1000_YEAR,
    MOSTLY_NOT_STATED_ABOVE,
    UNRELIABLE_BELOW,
    Coverage,
    PeriodKind,
    as_list,
    assign_period,
    frame_of,
    months_in_period,
    need_columns,
    period_coverage,
    population_by_area_group,
)
from ._disparity_checks import (
    RatioMethod,
    _ratio_vs_all,
    describe_unmatched,
    match_areas,
    plausibility,
    rank_areas,
    ratio_interval,
    unmatched_error,
)
from .intervals import EXACT_BELOW, poisson_rate_ci

__all__ = ["disparity", "DisparityResult", "TIDY_COLUMNS", "RatioMethod", "rank_areas"]
RateMethod = Literal["exact", "mid_p", "wald_log"]

#: Stable column order of :meth:`DisparityResult.tidy` (after the ``by`` columns).
TIDY_COLUMNS = [
    "period",
    "group",
    "events",
    "population",
    "rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "reference",
    "reference_events",
    "reference_population",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "ci_method",
    "not_stated_events",
    "not_stated_share",
    "ratio_bound_low",
    "ratio_bound_high",
    "benchmark",
    "flags",
    "months_in_period",
    "months_covered",
    "partial_period",
    "overlapping",
    "implausible_benchmark",
    "mostly_not_stated",
    "rankable",
]


@dataclass
class DisparityResult(ResultBase):
    """Rates and ratios by group, with intervals, counts and flags.

    Use :meth:`tidy` for the table, :meth:`summary` for a readable account,
    :meth:`plot` for a forest plot of the ratios.
    """

    table: pd.DataFrame
    by: list[str]
    reference: str
    method: str
    rate_method: str
    alpha: float
    period: str
    benchmark: str
    vintage: str
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """One row per ``by x period x group``; columns ``by..., period, group, events, population,
        rate_per_1000, rate_ci_low, rate_ci_high, reference, ..., ratio, ci_low, ci_high, p_value, ci_method,
        not_stated_events, not_stated_share, ratio_bound_low, ratio_bound_high, benchmark, flags,
        months_in_period, months_covered, partial_period, overlapping, implausible_benchmark,
        mostly_not_stated, rankable``.

        ``ci_method`` is the ratio interval each row used; ``partial_period`` is True when the
        data cover only ``months_covered`` of the ``months_in_period`` months (never compare such
        a period as if complete: see :func:`~equity_metrics.measures.complete_periods`);
        ``overlapping`` is True for rolling windows; ``rankable`` is False for rows that must not
        be ranked with the rest (broken benchmark, ethnicity mostly not stated, partial period,
        no ratio): see :func:`rank_areas`."""
        return self.table.copy()


    def _display(self) -> pd.DataFrame:
        t = self.table
        cols = self.by + ["period", "group", "events", "population", "rate_per_1000", "ratio", "ci_low", "ci_high", "flags"]
        d = t[[c for c in cols if c in t.columns]].copy()
        d["population"] = d["population"].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
        for c in ("rate_per_1000", "ratio", "ci_low", "ci_high"):
            d[c] = d[c].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        if (d["period"] == "all").all():
            d = d.drop(columns="period")
        return d

    def summary(self) -> str:
        level = int(round(100 * (1 - self.alpha)))
        head = [
            f"Disproportionality: events per 1,000 population by group, ratio to {self.reference}",
            f"  benchmark: {self.benchmark} ({self.vintage}); ratio interval: {self.method}, {level}% ; rate interval: {self.rate_method}",
        ]
        head += [f"  note: {n}" for n in self.notes]
        return "\n".join(head) + "\n" + self._display().to_string(index=False)

    def __repr__(self) -> str:
        return f"<DisparityResult: {len(self.table)} rows, reference {self.reference!r}, by {self.by}>"

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{escape_html(n)}</li>" for n in self.notes)
        return (
            f"<p><b>Disproportionality</b>: ratio to {escape_html(self.reference)}; benchmark "
            f"{escape_html(self.benchmark)} ({escape_html(self.vintage)})</p><ul>{notes}</ul>"
            + self._display().to_html(index=False, escape=True)
        )

    def plot(self, *, ax=None, group: str | None = None):
        """Forest plot of the ratios with their intervals (one row per ``by x period x group``).

        Returns the matplotlib Axes.
        """
        from ..plots import forest_plot
        from ..plots._ticks import row_label

        t = self.table[self.table["group"] != self.reference]
        if group is not None:
            t = t[t["group"] == group]
        labels = [row_label(r) for r in t[self.by + ["period", "group"]].itertuples(index=False)]
        part = t["partial_period"].to_numpy(bool)
        cover = sorted({f"{c} of {m}" for c, m in zip(t["months_covered"][part], t["months_in_period"][part])})
        overlap = " (rolling 12-month windows overlap)" if self.period == "rolling12" else ""
        return forest_plot(
            labels,
            t["ratio"].to_numpy(float),
            t["ci_low"].to_numpy(float),
            t["ci_high"].to_numpy(float),
            ax=ax,
            reference_line=1.0,
            xlabel=f"Rate ratio vs {self.reference} (log scale){overlap}",
            log=True,
            partial=part,
            partial_label=f"partial period ({', '.join(cover)} months)",
        )





def disparity(
    events: pd.DataFrame | ReadResult | EventCounts,
    population: pd.DataFrame | ReadResult,
    *,
    by: str | Sequence[str] | None = "force",
    area: str = "force",
    period: PeriodKind = "none",
    reference: str = "White",
    group_col: str = "ethnicity",
    method: RatioMethod = "auto",
    rate_method: RateMethod = "exact",
    alpha: float = 0.05,
    exclude_vehicle_only: bool = True,
    vintage: str | None = None,
    benchmark: str = "residential population",
    unreliable_below: int = UNRELIABLE_BELOW,
    complete_periods_only: bool = False,
    exact_below: int = EXACT_BELOW,
    implausible_above: float = IMPLAUSIBLE_RATE_PER_1000_YEAR,
    not_stated_above: float = MOSTLY_NOT_STATED_ABOVE,
) -> DisparityResult:
    """Events per 1,000 population by group, and the ratio to a reference group.

    Parameters
    ----------
    events
        Canonical events table (or a reader's result). Each row is one event. Or an
        :class:`~equity_metrics.io.large.EventCounts` (from ``count_policeuk``) counted
        by ``month``, the group column, ``area`` and the ``by`` columns (and
        ``vehicle_only`` when it holds vehicle-only searches): same result as from the events.
    population
        Long population (or other benchmark) table with ``area, group,
        population``; any denominator table works (arrests, suspect
        descriptions): name it in ``benchmark``.
    by
        Columns to break results down by (e.g. ``"force"``, ``["force",
        "legal_power"]``). ``None`` gives one figure over all areas present.
    area
        The events column whose values match ``population.area``.
    period
        ``"none"``, ``"month"``, ``"quarter"``, ``"FY"`` (financial year ending
        March, as the Home Office), ``"year"`` or ``"rolling12"`` (12 months
        ending each month; only windows with 12 months of data are returned).
    reference
        Group whose rate is the denominator of the ratio (``"White"`` by Home
        Office practice), or ``"all"`` for all people with a stated ethnicity.
    method
        Ratio interval. ``"auto"`` (default): exact conditional (Clopper-Pearson
        on the split of the two counts) where the smaller count is below
        ``exact_below`` (20), Katz's log interval elsewhere. ``"katz"``,
        ``"exact"`` or ``"mid_p"`` for one method throughout. ``"riskratio_wald"``
        / ``"riskratio_small"``: the binomial risk ratio of searches against
        residents not searched, as R ``epitools::riskratio.wald`` /
        ``riskratio.small`` compute it (to match tables published that way;
        undefined where searches exceed residents). ``ci_method`` in the table
        says which each row used.
    rate_method
        Interval for each rate: ``"exact"`` (Garwood), ``"mid_p"``, ``"wald_log"``.
    exclude_vehicle_only
        Drop vehicle-only searches (police.uk ``Type == "Vehicle search"``), as
        the Home Office does for rates of people searched.
    vintage
        Which population vintage to use when the table has several.
    unreliable_below
        Rates on fewer events than this are flagged ``small_count`` (ONS: 20).
    complete_periods_only
        Drop area-periods the data cover only in part (otherwise they are kept,
        with ``partial_period`` True and the flag ``incomplete_coverage``).
    exact_below
        Threshold of ``method="auto"``.
    implausible_above
        Rate per 1,000 per 12 months (scaled to the months covered) above which
        the benchmark is taken to be broken: ``implausible_benchmark`` (200).
    not_stated_above
        Share of events without a stated ethnicity above which an area-period is
        ``mostly_not_stated`` (0.5).

    Returns
    -------
    DisparityResult

    Notes
    -----
    Ethnicity not stated is excluded from the rates (as official statistics
    do); its count and share are reported with bounds on each ratio: the ratio
    if every not-stated record had been of the group (upper bound) or of the
    reference group (lower bound).

    Event areas are matched to the population's after normalising case and
    punctuation as the population reader does; if none match, a
    :class:`~equity_metrics.errors.DataValidationError` lists them with the
    closest population names. The rules for small counts, partial periods and
    implausible benchmarks are in docs/real-data-rules.md.

    Examples
    --------
    >>> import equity_metrics as em
    >>> stops = em.datasets.load_sample_stops()
    >>> pop = em.datasets.load_sample_population()
    >>> d = em.disparity(stops, pop, by="force", reference="White")
    >>> sorted(d.tidy()["group"].unique())[:2]
    ['Asian', 'Black']
    """
    check_option("period", period, PeriodKind)
    check_option("method", method, RatioMethod)
    if reference == "all" and method.startswith("riskratio_"):
        raise DataValidationError("risk-ratio intervals compare two separate groups; with reference='all' use "
                                  "method='auto', 'katz', 'exact' or 'mid_p'")
    check_option("rate_method", rate_method, RateMethod)
    by_cols = as_list(by)
    is_counts = isinstance(events, EventCounts)  # pre-aggregated: one row per cell with its count n
    ev = events.data if is_counts else frame_of(events, "events")
    need_columns(ev, [group_col, "month"] + by_cols + ([area] if area not in by_cols else []), "events")
    notes: list[str] = []
    if is_counts and exclude_vehicle_only and "vehicle_only" not in ev.columns and events.vehicle_only_rows:
        raise DataValidationError(
            f"these counts include {events.vehicle_only_rows:,} vehicle-only searches but have no vehicle_only column, "
            "so they cannot be left out; count with by=(..., 'vehicle_only') or pass exclude_vehicle_only=False"
        )
    if exclude_vehicle_only and "vehicle_only" in ev.columns:
        vo = ev["vehicle_only"].fillna(False).to_numpy(bool)
        if vo.any():
            n_vo = int(ev["n"].to_numpy()[vo].sum()) if is_counts else int(vo.sum())
            notes.append(f"{n_vo:,} vehicle-only searches excluded (rates are of people searched)")
        ev = ev.loc[~vo]
    pop, vint = population_by_area_group(population, vintage=vintage)
    pop_areas = set(pop["area"])
    cov = Coverage.of(events, ev, area)

    # 1. counts per by x area x group x month (small)
    keys = list(dict.fromkeys(by_cols + [area]))
    g = ev[group_col].astype(str)
    grouped = ev.assign(_g=g.to_numpy(), _m=ev["month"]).groupby(keys + ["_g", "_m"], observed=True, sort=True, dropna=False)
    counts = (grouped["n"].sum() if is_counts else grouped.size()).rename("n").reset_index()
    counts[area] = counts[area].astype(str)
    if len(counts) and not set(counts[area]) <= pop_areas:
        counts[area], match_notes, amap = match_areas(counts[area], pop, area=area)
        notes += match_notes
        if match_notes:
            merged: dict[str, set[str]] = {}
            for old, new in amap.items():
                merged.setdefault(new, set()).update(cov.months(old))
            cov = Coverage(cov.span, {**cov.covered, **merged}, cov.from_ledger)
            counts = counts.groupby(keys + ["_g", "_m"], observed=True, sort=True, dropna=False)["n"].sum().reset_index()
    if len(counts) and not set(counts[area]) & pop_areas:
        raise unmatched_error(sorted(set(counts[area])), sorted(pop_areas), area=area)
    missing: set[tuple[str, str]] = set()
    if isinstance(events, (ReadResult, EventCounts)):
        missing = {(a, m) for a, m in events.ledger.months_missing}
    if area not in by_cols:
        # one figure over all areas present: sum populations over those areas
        present = sorted(set(counts[area]) & pop_areas)
        absent = sorted(set(counts[area]) - pop_areas)
        if absent:
            notes.append(f"events in area(s) without a population were left out: "
                         f"{describe_unmatched(absent, sorted(pop_areas))}")
            counts = counts[counts[area].isin(present)]
        cov = cov.pooled(present)
        pop = pop[pop["area"].isin(present)].groupby("group", as_index=False)["population"].sum()
        pop["area"] = "all areas"
        pop_areas = {"all areas"}
        missing = {("all areas", m) for a, m in missing if a in present}
        counts[area] = "all areas"
        notes.append(f"{len(present)} area(s) pooled: {', '.join(present[:12])}{' ...' if len(present) > 12 else ''}")
    # 2. periods
    if period == "rolling12":
        counts = _rolling12(counts, keys)
    else:
        counts["period"] = assign_period(counts["_m"], period).to_numpy()
    cell = keys + ["period"]
    per = counts.groupby(cell + ["_g"], observed=True, sort=True)["n"].sum().reset_index()

    wide = per.pivot_table(index=cell, columns="_g", values="n", aggfunc="sum", fill_value=0, observed=True)
    wide = wide.rename_axis(columns=None)
    groups = [c for c in wide.columns if c != NOT_STATED]
    ns = wide[NOT_STATED] if NOT_STATED in wide.columns else pd.Series(0, index=wide.index)
    if reference != "all" and reference not in groups:
        raise DataValidationError(
            f"reference group {reference!r} has no events; groups present: {groups}. "
            "Pass reference='all' or one of these groups"
        )

    # 3. populations for each cell: by area, or summed over the areas in the cell
    cell_df = wide.reset_index()[cell]
    rows = []
    stated_total = wide[groups].sum(axis=1).to_numpy(float)
    pop_idx = pop.set_index(["area", "group"])["population"]
    area_vals = cell_df[area].astype(str).to_numpy()
    area_totals = pop.groupby("area")["population"].sum()
    pop_total = pd.Series(area_vals).map(area_totals).to_numpy(float)
    ref_e = stated_total if reference == "all" else wide[reference].to_numpy(float)
    ref_n = pop_total if reference == "all" else np.array([pop_idx.get((a, reference), np.nan) for a in area_vals])
    ns_v = ns.to_numpy(float)
    n_in, n_cov = period_coverage(area_vals, cell_df["period"].to_numpy(), period, cov)
    incomplete = n_cov < n_in

    for grp in groups:
        e = wide[grp].to_numpy(float)
        n = np.array([pop_idx.get((a, grp), np.nan) for a in area_vals], dtype=float)
        ok = np.isfinite(n) & (n > 0)
        rate = np.where(ok, e / np.where(ok, n, 1) * 1000, np.nan)
        lo, hi = np.full(len(e), np.nan), np.full(len(e), np.nan)
        if ok.any():
            l_, h_ = poisson_rate_ci(e[ok], n[ok], method=rate_method, alpha=alpha)
            lo[ok], hi[ok] = np.asarray(l_) * 1000, np.asarray(h_) * 1000
        ratio, clo, chi, pv = (np.full(len(e), np.nan) for _ in range(4))
        cim = np.full(len(e), "", dtype=object)
        refok = ok & np.isfinite(ref_n) & (ref_n > 0)
        if grp == reference:
            ratio[refok] = 1.0
        elif refok.any():
            if reference == "all":
                ratio, clo, chi, pv, cim = _ratio_vs_all(e, n, ref_e, ref_n, refok, method, alpha, exact_below)
            else:
                r = ratio_interval(e[refok], n[refok], ref_e[refok], ref_n[refok], method=method, alpha=alpha,
                                   exact_below=exact_below)
                ratio[refok], clo[refok], chi[refok], pv[refok] = r[:4]
                cim[refok] = r[4]
        with np.errstate(divide="ignore", invalid="ignore"):
            if reference == "all":
                b_low = (e / n) / ((ref_e + ns_v) / ref_n)
                b_high = ((e + ns_v) / n) / ((ref_e + ns_v) / ref_n)
            else:
                b_low = (e / n) / ((ref_e + ns_v) / ref_n)
                b_high = ((e + ns_v) / n) / (ref_e / ref_n)
        if grp == reference:
            b_low = b_high = np.where(refok, 1.0, np.nan)
        flags = []
        for i in range(len(e)):
            f = []
            if not ok[i]:
                f.append("no_population")
            if e[i] < unreliable_below:
                f.append("small_count")
            if grp != reference and ref_e[i] < unreliable_below:
                f.append("reference_small_count")
            if ok[i] and rate[i] > 1000:
                f.append("rate_above_1000_benchmark_implausible")
            if incomplete[i]:
                f.append("incomplete_coverage")
            flags.append(";".join(f))
        part = cell_df.copy()
        part["group"] = grp
        part["events"] = e.astype(np.int64)
        part["population"] = n
        part["rate_per_1000"] = rate
        part["rate_ci_low"], part["rate_ci_high"] = lo, hi
        part["reference"] = reference
        part["reference_events"] = ref_e.astype(np.int64)
        part["reference_population"] = ref_n
        part["ratio"], part["ci_low"], part["ci_high"], part["p_value"] = ratio, clo, chi, pv
        part["ci_method"] = cim
        part["not_stated_events"] = ns_v.astype(np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            part["not_stated_share"] = ns_v / (stated_total + ns_v)
        part["ratio_bound_low"], part["ratio_bound_high"] = b_low, b_high
        part["benchmark"] = f"{benchmark} ({vint})"
        part["flags"] = flags
        part["months_in_period"], part["months_covered"] = n_in, n_cov
        part["partial_period"] = incomplete
        part["overlapping"] = period == "rolling12"
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    if missing and period not in ("none", "rolling12"):
        # periods with no file at all for an area have no row: say so (missing is not zero)
        miss = pd.DataFrame(sorted(missing), columns=["a", "m"])
        miss["p"] = assign_period(pd.PeriodIndex(miss["m"], freq="M").to_series(index=miss.index), period).astype(str).to_numpy()
        have = set(zip(area_vals, cell_df["period"].astype(str)))
        empty = [
            f"{a} {p_}"
            for (a, p_), grp_ in miss.groupby(["a", "p"], sort=True)
            if (a, p_) not in have and len(grp_) >= len(months_in_period(p_, period))
        ]
        if empty:
            notes.append(f"no data at all (every month missing, not zero) for {len(empty)} area-period(s), which "
                         f"have no rows: {', '.join(empty[:12])}{' ...' if len(empty) > 12 else ''}")
    out = plausibility(out, cell, reference=reference, implausible_per_year=implausible_above,
                       not_stated_above=not_stated_above)
    if complete_periods_only:
        out = out[~out["partial_period"].to_numpy(bool)]
    unmatched = sorted(set(area_vals) - pop_areas)
    if unmatched:
        notes.append(f"no population for area(s) {describe_unmatched(unmatched, sorted(pop_areas))}: rates not "
                     "computed (check area names)")
    if (out["flags"].str.contains("rate_above_1000")).any():
        notes.append("some rates exceed 1,000 per 1,000: the residential benchmark cannot be meaningful there")
    for flag, say in (("implausible_benchmark", f"rates above {implausible_above:g} per 1,000 a year: the benchmark is "
                       "taken to be broken there (not ranked)"),
                      ("mostly_not_stated", f"ethnicity not stated for more than {not_stated_above:.0%} of events "
                       "(not ranked)")):
        hit = out.loc[out[flag].to_numpy(bool)]
        if len(hit):
            where = sorted(set(hit[cell].astype(str).agg(" ".join, axis=1)))
            notes.append(f"{say}: {', '.join(where[:10])}{' ...' if len(where) > 10 else ''}")
    if out["partial_period"].any():
        pp = out.loc[out["partial_period"].to_numpy(bool)].drop_duplicates(cell)
        desc = [f"{' '.join(map(str, r[cell]))} ({r['months_covered']} of {r['months_in_period']} months)"
                for _, r in pp.iterrows()]
        notes.append(f"partial periods (data cover only part of the period; not comparable with complete ones): "
                     f"{', '.join(desc[:10])}{' ...' if len(desc) > 10 else ''}")
    if period == "rolling12":
        notes.append("rolling 12-month windows overlap: neighbouring windows share 11 months, so they are not "
                     "independent observations")
    if ns_v.sum() > 0:
        share = ns_v.sum() / (stated_total.sum() + ns_v.sum())
        notes.append(f"ethnicity not stated: {int(ns_v.sum()):,} events ({share:.1%}) excluded from rates; see ratio bounds")
    order = {g_: i for i, g_ in enumerate(["Asian", "Black", "Mixed", "White", "Other"])}
    out["_o"] = out["group"].map(lambda x: order.get(x, 99))
    out = out.sort_values(cell + ["_o", "group"], kind="stable").drop(columns="_o").reset_index(drop=True)
    out = out[cell + [c for c in TIDY_COLUMNS if c not in cell]]
    if area not in by_cols:
        out = out.drop(columns=area)
    return DisparityResult(
        table=out,
        by=by_cols,
        reference=reference,
        method=method,
        rate_method=rate_method,
        alpha=alpha,
        period=period,
        benchmark=benchmark,
        vintage=vint,
        notes=notes,
    )


def _rolling12(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum monthly counts over the 12 months ending each month (complete windows only)."""
    m = pd.PeriodIndex(counts["_m"])
    counts = counts.assign(_mi=(m.year * 12 + m.month - 1))
    lo, hi = int(counts["_mi"].min()), int(counts["_mi"].max())
    out = []
    for end in range(lo + 11, hi + 1):
        win = counts[(counts["_mi"] > end - 12) & (counts["_mi"] <= end)]
        s = win.groupby(keys + ["_g"], observed=True, sort=True)["n"].sum().reset_index()
        y, mo = divmod(end, 12)
        s["period"] = f"{pd.Period(year=y, month=mo + 1, freq='M') - 11}..{pd.Period(year=y, month=mo + 1, freq='M')}"
        s["_m"] = pd.Period(year=y, month=mo + 1, freq="M")
        out.append(s)
    if not out:
        raise DataValidationError("rolling12 needs at least 12 months of data")
    return pd.concat(out, ignore_index=True)


def pooled_disparity(
    events: pd.DataFrame | ReadResult,
    population: pd.DataFrame | ReadResult,
    *,
    group: str,
    reference: str = "White",
    strata: str = "force",
    alpha: float = 0.05,
    **kwargs,
):
    """Mantel-Haenszel rate ratio of ``group`` vs ``reference`` pooled across areas.

    A force-wide figure computed this way is not dominated by one area's
    population mix; the result carries a heterogeneity test (Cochran's Q, I^2)
    that says whether a single pooled figure is a fair summary at all. Areas
    without a population or with no events in either group are left out (see
    the result's strata count). Extra keyword arguments go to :func:`disparity`
    (e.g. ``period="FY"`` is not allowed here: pool one period at a time).

    Returns
    -------
    equity_metrics.measures.pooled.PooledRatioResult

    Examples
    --------
    >>> import equity_metrics as em
    >>> r = em.pooled_disparity(em.datasets.load_sample_stops(), em.datasets.load_sample_population(), group="Black")
    >>> bool(r.tidy()["estimate"].iloc[0] > 1)
    True
    """
    from .pooled import mantel_haenszel_rate_ratio

    if kwargs.get("period", "none") != "none":
        raise DataValidationError("pooled_disparity pools one period: filter the events by period first")
    t = disparity(events, population, by=strata, area=strata, reference=reference, alpha=alpha, **kwargs).tidy()
    t = t[np.isfinite(t["population"]) & np.isfinite(t["reference_population"]) & (t["group"] == group)]
    if t.empty:
        raise DataValidationError(f"no area has both {group!r} and {reference!r} with a population")
    return mantel_haenszel_rate_ratio(
        t["events"].to_numpy(float),
        t["population"].to_numpy(float),
        t["reference_events"].to_numpy(float),
        t["reference_population"].to_numpy(float),
        alpha=alpha,
        strata=t[strata].astype(str).tolist(),
    )
