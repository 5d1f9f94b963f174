"""Small-number protection across all the command report's published tables.

:func:`protect_report_tables` takes the assembled tables (each already suppressed
on its own, hidden counts ``NaN`` with a ``suppressed`` column) and hides further
cells until no hidden count can be narrowed down by combining the tables: an
attacker who reads every published CSV, knows how the tables add up and that
counts are non-negative integers must not be able to pin any hidden count inside
the minimum protection interval (see docs/real-data-rules.md, "Small-number
suppression", and :mod:`equity_metrics.measures._linked_suppression`).

The links a reader can use, all given to the audit:

* the headline count of a group is its count in the by-area table (the sum over
  areas when the report covers all areas), equals the age x sex table's count, and
  is the sum of its months (the trend's rolling windows are sums of the same months);
* the by-legal-power and by-object-of-search counts of a group add up to at most its
  headline count (searches with no power/object recorded are not in those tables);
* a row's not-stated count is read off its ratio bounds and, with it, its searches over
  all groups off its not-stated share: both are counts (small ones are primary
  suppressions; hiding them blanks the share and the bounds); monthly searches of all
  people add up over the headline period to the headline searches plus not stated, and
  over all months to the data-quality table's total;
* the reference group's window counts are revealed by the published trend ratios;
* finds and arrests <= searches with any outcome other than NFA <= outcome searches <= headline
  searches of the group;
* the optional Home Office comparison's police.uk counts are sums of the same months by
  financial year ("All" = the monthly totals; "Not stated" of the headline year = the
  headline's); months with no data count 0 and are shown blank, not hidden.

Nothing is computed here beyond this bookkeeping and the audit; hidden cells carry
one marker (``suppressed``), with no primary/secondary label and no ``small_count``
(or other count-revealing) flag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._results import ResultBase
from ..measures._common import months_in_period
from ..measures._linked_suppression import LinkedCells, LinkedResult, protect_linked
from ..errors import DataValidationError

__all__ = ["protect_report_tables", "ProtectedTables", "HIDDEN_FLAGS"]

#: Flags that would say something about a hidden count (dropped where the count is hidden).
HIDDEN_FLAGS = ("small_count", "rate_above_1000_benchmark_implausible")
_REF_FLAGS = ("reference_small_count",)
_DISP_HIDE = ["events", "rate_per_1000", "rate_ci_low", "rate_ci_high", "ratio", "ci_low", "ci_high", "p_value",
              "ratio_bound_low", "ratio_bound_high"]
_RATIO_COLS = ["ratio", "ci_low", "ci_high", "p_value", "ratio_bound_low", "ratio_bound_high", "reference_events"]
_AGE_HIDE = ["events", "crude_rate_per_1000", "std_rate_per_1000", "std_ci_low", "std_ci_high", "crude_ratio",
             "std_ratio", "ci_low", "ci_high"]
_AGE_RATIO = ["crude_ratio", "std_ratio", "ci_low", "ci_high"]
from ._outcomes import OUTCOME_HIDE as _OUT_HIDE  # noqa: E402  (every count, rate and interval of a hidden row)
#: Price of hiding one more cell of each table (reference-group cells cost more: they hide a row's ratios).
_COST = {"headline": 60.0, "by_area": 12.0, "age_sex": 30.0, "by_power": 2.0, "by_object": 2.0, "outcomes": 3.0,
         "trend_ratio": 1.0, "trend_counts": 8.0, "published": 4.0}
_REF_COST = 5.0
_TOTAL_COST = 1.5
_DISP = {"headline": None, "by_area": "force", "by_power": "legal_power", "by_object": "object_of_search"}


@dataclass
class ProtectedTables(ResultBase):
    """What :func:`protect_report_tables` returns.

    ``tables`` are the input tables with the final hidden cells (reader-safe: one
    ``suppressed`` marker); ``result`` is the analyst-side
    :class:`~equity_metrics.measures._linked_suppression.LinkedResult` (which cells were
    primary, hidden on entry or added, and each hidden cell's attacker interval);
    ``notes`` are sentences for the report's notes.
    """

    tables: dict[str, pd.DataFrame | None]
    result: LinkedResult
    notes: list[str] = field(default_factory=list)

    @property
    def n_added(self) -> int:
        """Cells hidden by the linked protection on top of the tables' own suppression."""
        return int(self.result.secondary.sum())

    def tidy(self) -> pd.DataFrame:
        """Analyst-side table of hidden cells (``cell, kind, low, high``); never published."""
        return self.result.tidy()

    def summary(self) -> str:
        """One line: cells hidden on entry, added, and whether all are protected."""
        return self.result.summary()

    def _repr_html_(self) -> str:
        return self.result._repr_html_()


def _num(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return np.nan
    return f if np.isfinite(f) else np.nan


def _hidden_col(t: pd.DataFrame) -> np.ndarray:
    if "suppressed" in t.columns:
        return t["suppressed"].fillna(False).astype(bool).to_numpy()
    return np.zeros(len(t), bool)


def _row_total(t: pd.DataFrame) -> float:
    """Searches of all stated groups in a row, as a reader gets them from the not-stated share."""
    ns, sh = _num(t["not_stated_events"].iloc[0]), _num(t["not_stated_share"].iloc[0])
    if not (ns > 0 and 0 < sh < 1):
        return np.nan
    return float(round(ns * (1 - sh) / sh))


class _Builder:
    def __init__(self, reference: str, strict: bool, threshold: int) -> None:
        self.lc = LinkedCells()
        self.ref = reference
        self.n = threshold
        self.strict = strict  # row totals as equalities and the monthly-sum link
        self.row_totals: dict[str, list[tuple[list, float]]] = {}

    def cells(self, name: str, t: pd.DataFrame, label: str | None, value: str = "events", lower: int = 1) -> None:
        hid = _hidden_col(t)
        for i, r in enumerate(t.itertuples(index=False)):
            r = r._asdict()
            key = (name, r[label] if label else "", r["group"])
            v = _num(r[value])
            cost = _COST[name] * (_REF_COST if r["group"] == self.ref else 1.0)
            self.lc.cell(key, None if hid[i] else v, hidden=bool(hid[i]) or np.isnan(v), lower=lower, cost=cost)

    def totals(self, name: str, t: pd.DataFrame, label: str | None) -> None:
        if t is None or t.empty or "not_stated_share" not in t.columns:
            return
        parts = [(None, t)] if label is None else list(t.groupby(label, sort=False))
        rows, complete = [], True
        for cat, g in parts:
            s = _row_total(g)
            if np.isnan(s):
                continue
            keys = [(name, cat if label else "", grp) for grp in g["group"]]
            hid = _hidden_col(g)
            if not hid.any() and abs(float(pd.to_numeric(g["events"]).sum()) - s) > 0.5:
                complete = False  # groups not listed in the table: the row total is only an upper bound
            rows.append((keys, s, ("row_total", name, cat if label else ""), _num(g["not_stated_events"].iloc[0])))
        for keys, s, tk, ns in rows:
            # the row total and the not-stated count are published through the not-stated share and the ratio
            # bounds; hiding them (together) blanks those columns. Each is a count: 1 .. n - 1 is small.
            unit = ("not_stated_unit",) + tk[1:]
            self.lc.cell(tk, s, lower=0, cost=_COST[name] * _TOTAL_COST, primary=0 < s < self.n, unit=unit)
            self.lc.cell(("not_stated",) + tk[1:], ns, lower=1, cost=_COST[name] * _TOTAL_COST,
                         primary=0 < ns < self.n, unit=unit)
            if complete and self.strict:
                self.lc.equal(keys, [tk])
            else:
                self.lc.at_most(keys, [tk])
        self.row_totals[name] = rows


def _build(tables: Mapping[str, pd.DataFrame | None], *, reference: str, area: str | None,
           period_months: Sequence[str], trend_period: str, strict: bool,
           total_searches: float | None = None, threshold: int = 10) -> LinkedCells:
    b = _Builder(reference, strict, threshold)
    lc = b.lc
    head = tables["headline"]
    head_key = "force" if (area and "force" in head.columns) else None
    b.cells("headline", head, head_key)
    groups = list(head["group"])
    hk = {g: ("headline", (area if head_key else ""), g) for g in groups}
    b.totals("headline", head, head_key)
    ba = tables.get("by_area")
    if ba is not None and len(ba):
        b.cells("by_area", ba, "force")
        b.totals("by_area", ba, "force")
        for g in groups:
            if area:
                if ("by_area", area, g) in lc:
                    lc.equal([hk[g]], [("by_area", area, g)])
            else:
                lc.equal([("by_area", f, g) for f in ba.loc[ba["group"] == g, "force"]], [hk[g]])
    for name in ("by_power", "by_object"):
        t = tables.get(name)
        if t is None or t.empty or "events" not in t.columns:
            continue
        lab = _DISP[name]
        b.cells(name, t, lab)
        b.totals(name, t, lab)
        for g in groups:
            lc.at_most([(name, c, g) for c in t.loc[t["group"] == g, lab]], [hk[g]])
    _not_stated_links(lc, tables, area, head_key)
    ag = tables.get("age_sex")
    if ag is not None and len(ag):
        b.cells("age_sex", ag, None)
        for g in ag["group"]:
            if g in hk:
                lc.equal([("age_sex", "", g)], [hk[g]])
    o = tables.get("outcomes")
    if o is not None and len(o):
        hid = _hidden_col(o)
        for i, r in enumerate(o.itertuples(index=False)):
            r = r._asdict()
            g = r["group"]
            c = _COST["outcomes"] * (_REF_COST if g == reference else 1.0)
            if not hid[i] and not _num(r["searches"]) >= 1:
                c = np.inf  # a row of no searches is never hidden (a hidden row has at least one search)
            lc.cell(("outcomes", "searches", g), None if hid[i] else _num(r["searches"]), hidden=bool(hid[i]),
                    lower=1, cost=c, unit=("outcomes", g))
            # finds (where recorded) <= any outcome other than NFA <= searches; arrests <= any outcome
            counts = [("any_outcome", "any_outcome"), ("arrests", "arrests")]
            if r.get("find_recorded", True) and "finds" in r:
                counts.append(("finds", "finds"))
            for key, col in counts:
                lc.cell(("outcomes", key, g), None if hid[i] else _num(r[col]), hidden=bool(hid[i]),
                        lower=0, cost=c, unit=("outcomes", g))
            lc.at_most([("outcomes", "any_outcome", g)], [("outcomes", "searches", g)])
            lc.at_most([("outcomes", "arrests", g)], [("outcomes", "any_outcome", g)])
            if ("finds", "finds") in counts:
                lc.at_most([("outcomes", "finds", g)], [("outcomes", "any_outcome", g)])
            if g in hk:
                lc.at_most([("outcomes", "searches", g)], [hk[g]])
    # months: the trend's windows and the headline period are sums of the same monthly counts
    tr = tables.get("trend_ratio")
    tc = tables.get("trend_counts")
    pm = [str(m) for m in period_months]
    months = set(pm)
    windows: list[tuple[int, str, str, list[str]]] = []
    data_months = _data_months(tc)
    if tr is not None and len(tr):
        for i, (g, lab) in enumerate(zip(tr["group"], tr["period"])):
            ms = _label_months(str(lab), trend_period)
            if data_months is not None and not set(ms) & data_months:
                continue  # a window with no month of data is missing, not a count
            windows.append((i, g, str(lab), ms))
            months |= set(ms)
    if tc is not None and len(tc):
        months |= set(tc["period"].astype(str))
    months_sorted = sorted(months)
    mgroups = sorted(set(groups) | ({w[1] for w in windows}))
    for g in mgroups:
        for m in months_sorted:
            lc.internal_count(("month", g, m))
    for g in groups if pm else ():
        lc.equal([("month", g, m) for m in pm], [hk[g]])
    if windows:
        hid = _hidden_col(tr)
        pops = dict(zip(head["group"], pd.to_numeric(head["population"], errors="coerce")))
        ref_w: dict[str, float] = {}
        for i, g, lab, ms in windows:
            v = _num(tr["events"].iloc[i])
            lc.cell(("trend_ratio", lab, g), None if hid[i] else v, hidden=bool(hid[i]) or np.isnan(v), lower=1,
                    cost=_COST["trend_ratio"])
            lc.equal([("month", g, m) for m in ms], [("trend_ratio", lab, g)])
            rt = _num(tr["ratio"].iloc[i])
            if not hid[i] and v > 0 and rt > 0 and pops.get(g, 0) > 0 and pops.get(reference, 0) > 0 and lab not in ref_w:
                e_ref = v * (pops[reference] / pops[g]) / rt
                if abs(e_ref - round(e_ref)) < 0.01:
                    ref_w[lab] = float(round(e_ref))
        for _, g, lab, ms in windows:
            if lab in ref_w and reference in mgroups:
                lc.equal([("month", reference, m) for m in ms], (), ref_w.pop(lab))
    if tc is not None and len(tc):
        hid = _hidden_col(tc)
        data = set()
        for i, (m, v) in enumerate(zip(tc["period"].astype(str), tc["events"])):
            v = _num(v)
            if np.isnan(v) and not hid[i]:
                continue  # a month with no data is missing, not a hidden count
            data.add(m)
            lc.cell(("trend_counts", m, "all"), None if hid[i] else v, hidden=bool(hid[i]), lower=1,
                    cost=_COST["trend_counts"])
            lc.at_most([("month", g, m) for g in mgroups], [("trend_counts", m, "all")])
        for m in sorted(months - data):  # a reader sees which months have no data: their counts are 0
            for g in mgroups:
                lc.equal([("month", g, m)], (), 0.0)
        tk = ("row_total", "headline", area if head_key else "")
        if strict and tk in lc:
            lc.equal([("trend_counts", m, "all") for m in pm if m in data], [tk, ("not_stated",) + tk[1:]])
        if strict and total_searches is not None and np.isfinite(total_searches):
            lc.equal([("trend_counts", m, "all") for m in sorted(data)], (), float(total_searches))
    _published_cells(lc, tables.get("published"), mgroups, set(months), tc, strict,
                     pm, ("not_stated", "headline", area if head_key else ""))
    return lc


def _not_stated_links(lc: LinkedCells, tables: Mapping[str, pd.DataFrame | None], area: str | None,
                      head_key: str | None) -> None:
    """Not-stated counts: the headline's is the by-area one (or their sum), and bounds those by power / object."""
    nk = ("not_stated", "headline", area if head_key else "")
    if nk not in lc:
        return
    ba = tables.get("by_area")
    if ba is not None and len(ba):
        keys = [("not_stated", "by_area", f) for f in dict.fromkeys(ba["force"])]
        if area and ("not_stated", "by_area", area) in lc:
            lc.equal([nk], [("not_stated", "by_area", area)])
        elif not area and all(k in lc for k in keys):
            lc.equal(keys, [nk])
    for name in ("by_power", "by_object"):
        t = tables.get(name)
        if t is not None and len(t) and _DISP[name] in t.columns:
            keys = [k for k in (("not_stated", name, c) for c in dict.fromkeys(t[_DISP[name]])) if k in lc]
            if keys:
                lc.at_most(keys, [nk])


def _published_cells(lc: LinkedCells, pub: pd.DataFrame | None, mgroups: list[str], months: set[str],
                     tc: pd.DataFrame | None, strict: bool, pm: list[str], nk: tuple) -> None:
    """The Home Office comparison's police.uk counts: each year's group counts are sums of the same months."""
    if pub is None or not len(pub) or "police_uk" not in pub.columns:
        return
    hid = _hidden_col(pub)
    tmonths = set(tc["period"].astype(str)) if tc is not None and len(tc) else set()
    keep = []
    for i, (p, g, v) in enumerate(zip(pub["period"].astype(str), pub["group"].astype(str), pub["police_uk"])):
        v = _num(v)
        if np.isnan(v) and not hid[i]:
            continue  # no police.uk data for the year: missing, not a hidden count
        keep.append(i)
        lc.cell(("published", p, g), None if hid[i] else v, hidden=bool(hid[i]) or np.isnan(v),
                lower=1 if g in mgroups else 0,
                cost=np.inf if g == "All" else _COST["published"])  # the year's total is also in the notes
    if not strict:
        return  # the links below hold when police.uk is counted the same way in both tables
    kept = pub.iloc[keep]
    for p in dict.fromkeys(kept["period"].astype(str)):
        ms = [str(m) for m in months_in_period(p, "FY")]
        rows = set(kept.loc[kept["period"].astype(str) == p, "group"].astype(str))
        if ms == pm and "Not stated" in rows and nk in lc:
            lc.equal([("published", p, "Not stated")], [nk])  # the headline year's not-stated count
        for g in rows & set(mgroups):
            lc.equal([("month", g, m) for m in ms if m in months], [("published", p, g)])
        if "All" in rows:
            parts = [("published", p, g) for g in rows if g != "All"]
            if set(mgroups) <= rows and "Not stated" in rows:
                lc.equal(parts, [("published", p, "All")])
            else:
                lc.at_most(parts, [("published", p, "All")])
            if tmonths:
                lc.equal([("trend_counts", m, "all") for m in ms if ("trend_counts", m, "all") in lc],
                         [("published", p, "All")])


def _data_months(tc: pd.DataFrame | None) -> set[str] | None:
    """Months with data (a count, shown or hidden); ``None`` without the monthly table."""
    if tc is None or not len(tc):
        return None
    hid = _hidden_col(tc)
    ev = pd.to_numeric(tc["events"], errors="coerce").to_numpy(float)
    return {str(m) for m, h, v in zip(tc["period"], hid, ev) if h or np.isfinite(v)}


def _label_months(label: str, kind: str) -> list[str]:
    """Months of a trend label: ``a..b`` is every month from a to b (a partial window too)."""
    if ".." in label:
        a, b = label.split("..")
        return [str(m) for m in pd.period_range(a, b, freq="M")]
    return [str(m) for m in months_in_period(label, kind)]


def _strip(flags: pd.Series, mask: np.ndarray, drop: Sequence[str]) -> pd.Series:
    def one(s, hide):
        if not hide or not isinstance(s, str) or not s:
            return s
        return ";".join(f for f in s.split(";") if f and f not in drop)
    return pd.Series([one(s, bool(h)) for s, h in zip(flags, mask)], index=flags.index, dtype=object)


def _hide_disparity(t: pd.DataFrame, mask: np.ndarray, label: str | None, reference: str, hide: list[str],
                    ratio_cols: list[str]) -> pd.DataFrame:
    t = t.copy()
    mask = mask | _hidden_col(t)
    t["suppressed"] = mask
    for c in hide:
        if c in t.columns:
            t[c] = t[c].astype(float)
            t.loc[mask, c] = np.nan
    keys = t[label].astype(str) if label else pd.Series("", index=t.index)
    bad = set(keys[mask & (t["group"] == reference).to_numpy()])
    hit = keys.isin(bad).to_numpy()
    for c in ratio_cols:
        if c in t.columns:
            t[c] = t[c].astype(float)
            t.loc[hit, c] = np.nan
    rh = t["ratio_hidden"].astype(object).fillna(False).astype(bool).to_numpy() if "ratio_hidden" in t.columns \
        else np.zeros(len(t), bool)
    t["ratio_hidden"] = rh | hit | mask
    if "flags" in t.columns:
        t["flags"] = _strip(_strip(t["flags"], mask, HIDDEN_FLAGS), t["ratio_hidden"].to_numpy(), _REF_FLAGS)
    return t


def _mask_for(res: LinkedResult, name: str, t: pd.DataFrame, label: str | None, keycol: str = "group") -> np.ndarray:
    mk = res.mask()
    out = []
    for r in t.itertuples(index=False):
        r = r._asdict()
        out.append(bool(mk.get((name, r[label] if label else "", r[keycol]), False)))
    return np.asarray(out, bool)


def protect_report_tables(tables: Mapping[str, pd.DataFrame | None], *, threshold: int, reference: str,
                          area: str | None, period_months: Sequence[str], trend_period: str,
                          total_searches: float | None = None) -> ProtectedTables:
    """Make the report's hidden cells consistent across all its published tables.

    Parameters
    ----------
    tables
        The assembled tables, each suppressed on its own: ``headline``, ``by_area``,
        ``by_power``, ``by_object``, ``outcomes``, ``outcomes_pooled``,
        ``trend_counts`` (monthly searches, ``period``/``events``), ``trend_ratio``
        (``group``/``period``/``events``/``ratio``), ``age_sex`` and ``changes``
        (any may be ``None``; ``headline`` is required).
    threshold
        The report's ``suppress_below``: counts 1 to ``threshold - 1`` are small.
    reference
        The reference group (its hidden count hides its row's ratios).
    area
        The focal area's slug, or ``None`` when the report covers all areas.
    period_months
        The months (``"YYYY-MM"``) of the headline period.
    trend_period
        Period kind of ``trend_ratio`` labels (``"rolling12"``, ``"quarter"``, ``"month"``).
    total_searches
        Searches of people over all the months of ``trend_counts``, when the report
        publishes it elsewhere (the data-quality table's searches minus vehicle-only
        searches): the monthly counts must not be recoverable from it either.

    Returns
    -------
    ProtectedTables
        ``tables`` (same keys) with hidden cells ``NaN`` and ``suppressed = True``,
        rates, ratios and intervals that would reveal them hidden, and no
        ``small_count`` flag on a hidden count; ``result`` for the analyst.

    Examples
    --------
    >>> head = pd.DataFrame({"group": ["Other", "White"], "events": [13.0, 300.0], "population": [1e4, 3e5],
    ...                      "not_stated_events": [0, 0], "not_stated_share": [0.0, 0.0], "flags": ["small_count", ""]})
    >>> obj = pd.DataFrame({"object_of_search": ["drugs", "theft", "stolen"] * 2,
    ...                     "group": ["Other"] * 3 + ["White"] * 3, "events": [11.0, np.nan, np.nan, 270.0, 12.0, 18.0],
    ...                     "population": [1e4] * 3 + [3e5] * 3, "suppressed": [False, True, True, False, False, False],
    ...                     "not_stated_events": [0] * 6, "not_stated_share": [0.0] * 6, "flags": [""] * 6})
    >>> p = protect_report_tables({"headline": head, "by_object": obj}, threshold=10, reference="White",
    ...                           area=None, period_months=[], trend_period="rolling12")
    >>> p.tables["by_object"]["suppressed"].tolist()
    [True, True, True, False, False, False]
    """
    if tables.get("headline") is None:
        raise DataValidationError("protect_report_tables needs the 'headline' table.")
    notes: list[str] = []
    try:
        lc = _build(tables, reference=reference, area=area, period_months=period_months, trend_period=trend_period,
                    strict=True, total_searches=total_searches, threshold=threshold)
        res = protect_linked(lc, threshold=threshold)
    except DataValidationError:
        # a link assumed exact does not hold for these tables: keep it as an upper bound only
        notes.append("a link between the published tables assumed exact did not hold; the small-number audit "
                     "used it as an upper bound (row totals) or left it out (monthly totals)")
        lc = _build(tables, reference=reference, area=area, period_months=period_months, trend_period=trend_period,
                    strict=False, threshold=threshold)
        res = protect_linked(lc, threshold=threshold)
    if res.unprotected:
        notes.append(f"{len(res.unprotected)} hidden count(s) could still be narrowed down from the published tables; "
                     "consider combining small groups or categories")
    out: dict[str, pd.DataFrame | None] = dict(tables)
    head = tables["headline"]
    hlab = "force" if (area and "force" in head.columns) else None
    for name in ("headline", "by_area", "by_power", "by_object"):
        t = tables.get(name)
        if t is None or t.empty or "events" not in t.columns:
            continue
        lab = hlab if name == "headline" else _DISP[name]
        t = _hide_disparity(t, _mask_for(res, name, t, lab), lab, reference, _DISP_HIDE, _RATIO_COLS)
        mk = res.mask()
        gone = [bool(mk.get(("row_total", name, (r if lab else "")), False))
                for r in (t[lab] if lab else [""] * len(t))]
        for c in ("not_stated_share", "ratio_bound_low", "ratio_bound_high"):
            if any(gone) and c in t.columns:  # they would reveal the row's total and not-stated count
                t[c] = t[c].astype(float)
                t.loc[np.asarray(gone), c] = np.nan
        out[name] = t
    ag = tables.get("age_sex")
    if ag is not None and len(ag):
        out["age_sex"] = _hide_disparity(ag, _mask_for(res, "age_sex", ag, None), None, reference, _AGE_HIDE, _AGE_RATIO)
    o = tables.get("outcomes")
    if o is not None and len(o):
        o = o.copy()
        m = _mask_for(res, "outcomes", o.assign(kk="searches"), "kk") | _hidden_col(o)
        o["suppressed"] = m
        for c in _OUT_HIDE:
            if c in o.columns:
                o[c] = o[c].astype(float)
                o.loc[m, c] = np.nan
        if (m & (o["group"] == reference).to_numpy()).any() and "difference_from_reference" in o.columns:
            o["difference_from_reference"] = np.nan
        if "flags" in o.columns:
            o["flags"] = _strip(o["flags"], m, HIDDEN_FLAGS)
        out["outcomes"] = o
        pooled = tables.get("outcomes_pooled")
        if pooled is not None and "group" in pooled.columns:
            out["outcomes_pooled"] = pooled[~pooled["group"].isin(set(o.loc[m, "group"]))].reset_index(drop=True)
    tr = tables.get("trend_ratio")
    if tr is not None and len(tr):
        tr = tr.copy()
        m = _mask_for(res, "trend_ratio", tr, "period") | _hidden_col(tr)
        dm = _data_months(tables.get("trend_counts"))
        if dm is not None:  # no month of data: shown as missing (blank), not as a hidden count
            m &= np.array([bool(set(_label_months(str(lab), trend_period)) & dm) for lab in tr["period"]])
        tr["suppressed"] = m
        for c in ("events", "ratio", "ci_low", "ci_high"):
            if c in tr.columns:
                tr[c] = tr[c].astype(float)
                tr.loc[m, c] = np.nan
        if "flags" in tr.columns:
            tr["flags"] = _strip(tr["flags"], m, HIDDEN_FLAGS + _REF_FLAGS)
        out["trend_ratio"] = tr
    tc = tables.get("trend_counts")
    if tc is not None and len(tc):
        tc = tc.copy()
        m = _mask_for(res, "trend_counts", tc.assign(gg="all", period=tc["period"].astype(str)), "period", "gg")
        m |= _hidden_col(tc)
        tc["suppressed"] = m
        tc["events"] = tc["events"].astype(float)
        tc.loc[m, "events"] = np.nan
        out["trend_counts"] = tc
    pub = tables.get("published")
    if pub is not None and len(pub) and "police_uk" in pub.columns:
        pub = pub.copy()
        mk = res.mask()
        m = np.array([bool(mk.get(("published", str(p), str(g)), False)) for p, g in zip(pub["period"], pub["group"])])
        m |= _hidden_col(pub)
        pub["suppressed"] = m
        for c in ("police_uk", "difference", "relative_difference"):
            if c in pub.columns:
                pub[c] = pub[c].astype(float)
                pub.loc[m, c] = np.nan
        out["published"] = pub
    ch = tables.get("changes")
    if ch is not None and len(ch) and "group" in ch.columns:
        ch = ch.copy()
        h = out["headline"]
        bad = ch["group"].isin(set(h.loc[h["ratio_hidden"].astype(bool), "group"])).to_numpy()
        num = [c for c in ("base_ratio", "ratio", "change_ratio", "ci_low", "ci_high", "p_value", "p_adjusted")
               if c in ch.columns]
        ch.loc[bad, num] = np.nan
        if "clear" in ch.columns:
            ch.loc[bad, "clear"] = False
        if "direction" in ch.columns:
            ch.loc[bad, "direction"] = ""
        out["changes"] = ch
    return ProtectedTables(out, res, notes)
