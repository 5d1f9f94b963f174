"""police.uk-derived counts beside the Home Office's published counts.

The Home Office publishes each force's searches by self-defined ethnic group and
financial year (the forces' annual data returns). The police.uk files are a
different extract of the same records: small differences are normal, and for some
forces they are large (Thames Valley 2020/21: police.uk about 20% above the Home
Office). :func:`compare_published` recounts the police.uk events the way the Home
Office table is defined and puts the two side by side, saying where they differ and
by how much, and which differences are expected because police.uk has months
missing. The rule is in ``docs/real-data-rules.md`` ("Home Office published counts").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._results import ResultBase
from .._options import check_option
from .._security import escape_html
from ..areas import force_name
from ..errors import DataValidationError
from ..ethnicity import NOT_STATED
from ..ledger import ReadResult
from ..outcome_codes import is_nfa, outcome_known
from ._common import MOSTLY_NOT_STATED_ABOVE, Coverage, assign_period, frame_of, need_columns, period_coverage
from .intervals import wilson_ci
from .outcomes import searches_of_people

__all__ = ["compare_published", "PublishedComparison", "LARGE_GAP", "LARGE_GAP_MIN_SEARCHES", "TIDY_COLUMNS"]

#: A complete force-year whose police.uk count differs from the Home Office's by more than this
#: share of the Home Office count (and by at least :data:`LARGE_GAP_MIN_SEARCHES`) is a "large gap".
#: Complete forces are usually within 1-2% (West Yorkshire 2020/21: +0.3% on White searches).
LARGE_GAP = 0.05
#: ... and by at least this many searches, so that a cell of 40 searches is not flagged for 3.
LARGE_GAP_MIN_SEARCHES = 10
#: Groups compared: the five published groups, not stated, and the total.
GROUPS = ("Asian", "Black", "Mixed", "Other", "White", NOT_STATED, "All")
DateBasis = Literal["local_month", "file_month"]

TIDY_COLUMNS = [
    "force", "force_name", "period", "group", "police_uk", "home_office", "difference", "relative_difference",
    "months_in_period", "months_covered", "partial_period", "not_stated_share", "status", "sentence",
]
_STATUS_WORDS = {
    "close": "close",
    "large_gap": "large gap on a complete year",
    "partial": "police.uk months missing: a gap is expected",
    "no_police_uk_data": "no police.uk data for the year",
    "ethnicity_not_comparable": "police.uk ethnicity mostly not stated: group counts not comparable",
    "not_published": "no published figure",
}


@dataclass
class PublishedComparison(ResultBase):
    """police.uk-derived counts beside the Home Office's published counts.

    Use :meth:`tidy` (force x year x group), :meth:`by_force` (one line per force-year:
    the total and the largest group gap), :meth:`national` (share of searches with no
    further action vs the published national percentage), :meth:`summary`, :meth:`plot`.
    """

    table: pd.DataFrame
    national_table: pd.DataFrame
    large_gap: float
    min_searches: int
    date_basis: str
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """One row per force x financial year x group (``All`` = every search of a person,
        not stated included): ``force, force_name, period, group, police_uk, home_office,
        difference, relative_difference, months_in_period, months_covered, partial_period,
        not_stated_share, status, sentence``.

        ``difference`` is police.uk minus Home Office, ``relative_difference`` that over the
        Home Office count. ``status``: ``close``; ``large_gap`` (complete year, beyond the
        threshold); ``partial`` (police.uk has only ``months_covered`` of the months: the gap
        is expected, not a discrepancy); ``no_police_uk_data`` (police.uk count NaN: missing,
        not zero); ``ethnicity_not_comparable`` (group rows where police.uk self-defined
        ethnicity is mostly not stated); ``not_published``.
        """
        return self.table.copy()

    def by_force(self, *, complete_only: bool = False) -> pd.DataFrame:
        """One row per force-year: the total (``All``) compared, and the group with the largest gap.

        Sorted by the absolute relative difference of the total, largest first (complete
        years before partial ones).
        """
        t = self.table
        tot = t[t["group"] == "All"].copy()
        grp = t[~t["group"].isin(["All", NOT_STATED]) & t["relative_difference"].notna()
                & (t["status"] != "ethnicity_not_comparable")]
        worst = grp.loc[grp.assign(a=grp["relative_difference"].abs()).groupby(["force", "period"])["a"].idxmax()]
        worst = worst.set_index(["force", "period"])[["group", "relative_difference"]]
        worst.columns = ["largest_gap_group", "largest_gap_group_relative"]
        out = tot.join(worst, on=["force", "period"])
        if complete_only:
            out = out[~out["partial_period"]]
        out = out.assign(_p=out["partial_period"], _a=-out["relative_difference"].abs())
        out = out.sort_values(["_p", "_a", "force", "period"], na_position="last", kind="stable")
        return out.drop(columns=["_p", "_a", "group"]).reset_index(drop=True)

    def national(self) -> pd.DataFrame:
        """By financial year and group: ``period, group, searches, nfa, nfa_pct, ci_low, ci_high,
        home_office_nfa_pct, difference_pct_points, forces, forces_complete`` (percentages; Wilson
        95% interval; police.uk pools the forces compared, which is not all of England and Wales
        when forces have months missing)."""
        return self.national_table.copy()


    def summary(self, *, n: int = 10) -> str:
        t = self.table
        lines = [
            "police.uk-derived searches vs the Home Office's published counts "
            f"(self-defined ethnicity, vehicle-only excluded, financial years by {self.date_basis.replace('_', ' ')})",
            f"  large gap: complete year and |difference| > {self.large_gap:.0%} of the Home Office count "
            f"and >= {self.min_searches} searches",
        ]
        lines += [f"  note: {x}" for x in self.notes]
        counts = t.groupby("status").size()
        lines.append("  rows by status: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        bf = self.by_force(complete_only=True).head(n)
        if len(bf):
            lines.append(f"\nAll searches of people, complete years, largest gap first (top {len(bf)}):")
            lines += [f"  {s}" for s in bf["sentence"]]
        part = t[(t["group"] == "All") & (t["status"].isin(["partial", "no_police_uk_data"]))]
        if len(part):
            lines.append("\nNot comparable as complete years (police.uk months missing):")
            lines += [f"  {r.force_name} {r.period}: {r.months_covered} of {r.months_in_period} months in police.uk"
                      for r in part.itertuples()]
        if len(self.national_table):
            lines.append("\nShare of searches with no further action (%): police.uk (forces compared, pooled; Wilson 95%) "
                         "vs the Home Office's England and Wales figure:")
            nt = self.national_table[["period", "group", "nfa_pct", "ci_low", "ci_high", "home_office_nfa_pct",
                                      "difference_pct_points"]]
            lines.append(nt.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<PublishedComparison: {len(self.table)} rows, {self.table['force'].nunique()} forces>"

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{escape_html(x)}</li>" for x in self.notes)
        bf = self.by_force()[["force_name", "period", "police_uk", "home_office", "relative_difference", "months_covered",
                              "status"]]
        return (f"<p><b>police.uk vs Home Office published counts</b> (large gap: &gt; {self.large_gap:.0%} on a "
                f"complete year)</p><ul>{notes}</ul>" + bf.to_html(index=False, escape=True, float_format=lambda v: f"{v:,.3f}")
                + self.national_table.to_html(index=False, escape=True, float_format=lambda v: f"{v:.1f}"))

    def plot(self, *, group: str = "All", period: str | None = None, ax=None):
        """police.uk vs Home Office count per force (log scales), with the 45-degree line.

        Complete years are filled dots, partial years hollow; large gaps are labelled.
        Returns the matplotlib Axes.
        """
        from ..plots.comparison import comparison_plot

        t = self.table[(self.table["group"] == group) & self.table["police_uk"].notna() & self.table["home_office"].notna()]
        if period is not None:
            t = t[t["period"] == period]
        labels = (t["force_name"] + (" " + t["period"] if period is None else "")).tolist()
        return comparison_plot(
            t["home_office"].to_numpy(float), t["police_uk"].to_numpy(float), labels=labels,
            partial=t["partial_period"].to_numpy(bool), highlight=(t["status"] == "large_gap").to_numpy(bool), ax=ax,
            xlabel="Home Office published searches", ylabel="police.uk-derived searches",
            title=f"Searches by force{'' if period is None else ', ' + period}: {group}",
        )


def _ethnicity(ev: pd.DataFrame) -> None:
    if "ethnicity_source" in ev.columns and (ev["ethnicity_source"].astype(str) == "officer_defined").any():
        raise DataValidationError(
            "the Home Office counts use self-defined ethnicity, but these events take some groups from the "
            "officer-defined field; read them with ethnicity_field='self_defined', fallback='none'"
        )


def _sentence(r) -> str:
    who = f"{r.force_name} {r.period}, {'all searches' if r.group == 'All' else r.group}"
    if r.status == "no_police_uk_data":
        return f"{who}: no police.uk file for any month of the year (missing, not zero); Home Office {r.home_office:,.0f}."
    if r.status == "not_published":
        return f"{who}: police.uk {r.police_uk:,.0f}; the Home Office publishes no figure."
    core = (f"{who}: police.uk {r.police_uk:,.0f} vs Home Office {r.home_office:,.0f} "
            f"({r.difference:+,.0f}, {r.relative_difference:+.1%})")
    if r.status == "partial":
        return (f"{core}: police.uk has {r.months_covered} of {r.months_in_period} months, so a lower count is "
                "expected (not a discrepancy).")
    if r.status == "ethnicity_not_comparable":
        return f"{core}: police.uk self-defined ethnicity is {r.not_stated_share:.0%} not stated, so group counts differ."
    if r.status == "large_gap":
        return (f"{core}: a large gap on a complete year; the force's police.uk files and its return to the Home "
                "Office disagree (use the Home Office figure for official comparisons).")
    return f"{core}: close."


def compare_published(
    events: pd.DataFrame | ReadResult,
    published: pd.DataFrame | ReadResult,
    *,
    period: Literal["FY"] = "FY",
    date_basis: DateBasis = "local_month",
    large_gap: float = LARGE_GAP,
    min_searches: int = LARGE_GAP_MIN_SEARCHES,
    exclude: tuple[str, ...] = ("btp",),
) -> PublishedComparison:
    """Recount police.uk searches the way the Home Office table is defined and compare.

    Searches of people (vehicle-only searches left out) by force, financial year and
    self-defined group, British Transport Police left out, beside the published counts.
    A force-year with months missing in police.uk (from the reader's ledger) is
    ``partial``: its gap is expected. The national share of searches with no further
    action (:func:`equity_metrics.outcome_codes.is_nfa`, over searches with an outcome
    recorded: 1 - the any-outcome rate) is compared with the published percentage.

    Parameters
    ----------
    events
        Canonical police.uk events, best the :class:`~equity_metrics.ledger.ReadResult`
        of :func:`~equity_metrics.read_policeuk` (its ledger says which months each
        force has); read with ``ethnicity_field="self_defined"`` (the default).
    published
        :func:`~equity_metrics.io.read_homeoffice_stop_search` result (any of its tables).
    period
        ``"FY"``: financial years April-March, as published.
    date_basis
        Month a search counts in: ``"local_month"`` (UK local time, default) or
        ``"file_month"`` (the police.uk file it is in). They differ by a few searches.
    large_gap, min_searches
        A complete year is a ``large_gap`` when ``|difference| > large_gap x Home Office``
        and ``|difference| >= min_searches`` (defaults :data:`LARGE_GAP`, :data:`LARGE_GAP_MIN_SEARCHES`).
    exclude
        Forces left out (the Home Office table excludes British Transport Police).

    Returns
    -------
    PublishedComparison

    Examples
    --------
    >>> import pandas as pd
    >>> import equity_metrics as em
    >>> ev = pd.DataFrame({"force": "kent", "month": pd.period_range("2020-04", "2021-03", freq="M"),
    ...                    "ethnicity": ["Black"] * 2 + ["White"] * 10, "vehicle_only": False})
    >>> pub = pd.DataFrame({"area": "kent", "period": "2020/21", "group": ["Black", "White", "All"],
    ...                     "measure": "searches", "value": [2.0, 11.0, 12.0]})
    >>> t = em.compare_published(ev, pub).tidy()
    >>> t[["group", "police_uk", "home_office", "status"]].values.tolist()
    [['Black', 2.0, 2.0, 'close'], ['White', 10.0, 11.0, 'close'], ['All', 12.0, 12.0, 'close']]

    White differs by 9% but by one search only (under ``min_searches``): not a large gap.
    """
    check_option("period", period, Literal["FY"])
    check_option("date_basis", date_basis, DateBasis)
    notes: list[str] = []
    ev_all = frame_of(events, "events")
    month_col = "month" if date_basis == "local_month" else "file_month"
    need_columns(ev_all, ["force", "ethnicity", month_col], "events")
    _ethnicity(ev_all)
    pub = frame_of(published, "published")
    need_columns(pub, ["area", "period", "group", "measure", "value"], "published")
    ev = searches_of_people(ev_all, notes=notes)
    ex = ev["force"].astype(str).isin(list(exclude)).to_numpy()
    if ex.any():
        notes.append(f"{int(ex.sum()):,} searches by {', '.join(exclude)} left out (not in the Home Office table)")
        ev = ev.loc[~ex]
    per = assign_period(ev[month_col], "FY")
    force = ev["force"].astype(str)
    grp = ev["ethnicity"].astype(str)
    k = pd.DataFrame({"force": force.to_numpy(), "period": per.to_numpy(), "group": grp.to_numpy()})
    counts = k.groupby(["force", "period", "group"], sort=True).size().rename("police_uk")
    allc = k.groupby(["force", "period"], sort=True).size()
    ns = counts.xs(NOT_STATED, level="group") if NOT_STATED in set(k["group"]) else allc * 0
    ns_share = (ns.reindex(allc.index).fillna(0) / allc).rename("not_stated_share")
    allc = pd.concat({"All": allc}, names=["group"]).reorder_levels(["force", "period", "group"]).rename("police_uk")
    pu = pd.concat([counts, allc]).reset_index()

    ps = pub[(pub["measure"].astype(str) == "searches") & pub["group"].astype(str).isin(GROUPS)]
    ps = ps.assign(force=ps["area"].astype(str), period=ps["period"].astype(str), group=ps["group"].astype(str))
    ho = ps.groupby(["force", "period", "group"], sort=True)["value"].sum(min_count=1).rename("home_office").reset_index()
    cov = Coverage.of(events, ev_all, "force")
    forces = sorted((set(cov.covered) | set(k["force"])) - set(exclude))
    not_read = sorted(set(ho["force"]) - set(forces) - {"england-and-wales"})
    if not_read:
        notes.append(f"{len(not_read)} published force(s) not in the events, not compared: {not_read[:8]}"
                     + (" ..." if len(not_read) > 8 else ""))
    periods = sorted(set(ho["period"]))
    ho = ho[ho["force"].isin(forces)]
    pu = pu[pu["period"].isin(periods) & pu["group"].isin(set(ho["group"]))]  # groups the table publishes
    t = pu.merge(ho, on=["force", "period", "group"], how="outer")
    t = t.merge(ns_share.reset_index(), on=["force", "period"], how="left")
    if t.empty:
        notes.append("no force-year is both in the events and in the published table")
    n_in, n_cov = period_coverage(t["force"].to_numpy(), t["period"].to_numpy(), "FY", cov)
    t["months_in_period"], t["months_covered"] = n_in, n_cov
    t["partial_period"] = n_cov < n_in  # with 0 months: no police.uk data at all (status no_police_uk_data)
    nodata = n_cov == 0
    t["police_uk"] = t["police_uk"].astype(float).where(~nodata, np.nan)
    t.loc[~nodata & t["police_uk"].isna(), "police_uk"] = 0.0  # a covered force-year with no search of the group
    t["difference"] = t["police_uk"] - t["home_office"]
    t["relative_difference"] = t["difference"] / t["home_office"].where(t["home_office"] > 0)
    big = (t["relative_difference"].abs() > large_gap) & (t["difference"].abs() >= min_searches)
    mostly = (t["not_stated_share"] > MOSTLY_NOT_STATED_ABOVE) & ~t["group"].isin(["All", NOT_STATED])
    t["status"] = np.select(
        [nodata, t["home_office"].isna(), t["partial_period"], mostly, big],
        ["no_police_uk_data", "not_published", "partial", "ethnicity_not_comparable", "large_gap"], "close")
    t["force_name"] = t["force"].map(force_name)
    order = {g: i for i, g in enumerate(GROUPS)}
    t = t.assign(_g=t["group"].map(order)).sort_values(["force", "period", "_g"], kind="stable")
    t["sentence"] = [_sentence(r) for r in t.itertuples()]
    t = t[TIDY_COLUMNS].reset_index(drop=True)
    for c in ("months_in_period", "months_covered"):
        t[c] = t[c].astype("int64")
    n_part = int(((t["group"] == "All") & (t["status"] == "partial")).sum())
    if n_part:
        notes.append(f"{n_part} force-year(s) partial in police.uk: their gaps are expected, not discrepancies")
    nat = _national(ev, per, pub, t)
    return PublishedComparison(table=t, national_table=nat, large_gap=large_gap, min_searches=min_searches,
                               date_basis=date_basis, notes=notes)


def _national(ev: pd.DataFrame, per: pd.Series, pub: pd.DataFrame, t: pd.DataFrame) -> pd.DataFrame:
    """Share of searches with no further action by year and group: police.uk vs the published national %."""
    cols = ["period", "group", "searches", "nfa", "nfa_pct", "ci_low", "ci_high", "home_office_nfa_pct",
            "difference_pct_points", "forces", "forces_complete"]
    pn = pub[pub["measure"].astype(str) == "nfa_pct"]
    if not len(pn) or "outcome" not in ev.columns:
        return pd.DataFrame(columns=cols)
    pn = pn.assign(period=pn["period"].astype(str), group=pn["group"].astype(str))
    known = outcome_known(ev["outcome"])
    f = pd.DataFrame({"period": per.to_numpy(), "group": ev["ethnicity"].astype(str).to_numpy(),
                      "force": ev["force"].astype(str).to_numpy(), "known": known,
                      "nfa": known & is_nfa(ev["outcome"])})
    f = f[f["known"] & f["period"].isin(set(pn["period"])) & (f["group"] != NOT_STATED)]
    g = f.groupby(["period", "group"], sort=True).agg(searches=("known", "sum"), nfa=("nfa", "sum"),
                                                       forces=("force", "nunique")).reset_index()
    lo, hi = wilson_ci(g["nfa"].to_numpy(float), g["searches"].to_numpy(float))
    g["nfa_pct"] = 100 * g["nfa"] / g["searches"]
    g["ci_low"], g["ci_high"] = 100 * np.asarray(lo), 100 * np.asarray(hi)
    tot = t[t["group"] == "All"]
    comp = tot[~tot["partial_period"]].groupby("period")["force"].nunique()
    g["forces_complete"] = g["period"].map(comp).fillna(0).astype(int)
    g = g.merge(pn.groupby(["period", "group"])["value"].first().rename("home_office_nfa_pct").reset_index(),
                on=["period", "group"], how="left")
    g["difference_pct_points"] = g["nfa_pct"] - g["home_office_nfa_pct"]
    return g[cols]
