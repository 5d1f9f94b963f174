"""Reader-facing tables of the command report: display tables (HTML) and CSV tables.

Formatting only. Hidden (suppressed) cells are already ``NaN`` in
:class:`~.content.ReportData`; here they become ``[c]``. CSV tables keep numbers
(rounded to 4 decimals) with ``[c]`` for hidden cells, and are written with
:func:`equity_metrics._security.safe_to_csv` (formula injection defused).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .text import HIDDEN, bound, ci, fmt
from ._outcomes import OUTCOME_COLUMNS, OUTCOME_HIDE

__all__ = ["display_tables", "csv_tables", "Table"]


class Table:
    """A display table: caption, column headers, rows of strings (escaped by the template).

    ``legend`` lists ``(marker, meaning)`` pairs printed under the table; ``details`` is
    a fuller table shown inside a closed ``<details>`` element ("All groups"); ``csv``
    names the CSV file with the complete table; ``omitted`` is a sentence about rows
    left out of the compact table; ``keep`` asks print layout not to split the table.
    """

    def __init__(self, key: str, caption: str, columns: list[str], rows: list[list[str]], note: str = "",
                 legend: list[tuple[str, str]] | None = None, details: "Table | None" = None, csv: str = "",
                 omitted: str = "") -> None:
        self.key, self.caption, self.columns, self.rows, self.note = key, caption, columns, rows, note
        self.legend = legend or []
        self.details, self.csv, self.omitted = details, csv, omitted
        self.keep = len(rows) <= 16


#: flag -> (marker, meaning); markers are printed in a table's Notes column and explained under it.
MARKERS = {
    "small_count": ("u", "fewer than 20 searches of the group: the rate is unreliable"),
    "reference_small_count": ("r", "fewer than 20 searches of the reference group: the ratio is unreliable"),
    "incomplete_coverage": ("m", "a month of data is missing from the period (rates are too low)"),
    "no_population": ("p", "no population figure for the group"),
    "find_not_recorded": ("f", "the force does not record, for most searches with an outcome, whether it was linked to "
                               "what was searched for: no find rate is shown"),
    "implausible_benchmark": ("b", "more than 200 searches per 1,000 residents a year in the area: the residential "
                                   "benchmark is not meaningful here (many of those searched do not live there)"),
    "rate_above_1000_benchmark_implausible": ("b", "more searches than residents: the residential benchmark is "
                                                   "not meaningful here"),
    "mostly_not_stated": ("n", "ethnicity not stated for more than half of the searches: the ratio is not reliable"),
}
_ORDER = list(MARKERS)


def _marks(s: object, *, count_shown: bool = True, ratio_shown: bool = True) -> list[str]:
    """Markers for a row's flags; reliability markers only for figures that are shown."""
    if not isinstance(s, str) or not s:
        return []
    fl = [f for f in s.split(";") if f]
    out = []
    for f in sorted(fl, key=lambda x: (_ORDER.index(x) if x in _ORDER else len(_ORDER), x)):
        if f == "small_count" and not count_shown:
            continue
        if f == "reference_small_count" and not ratio_shown:
            continue
        out.append(MARKERS[f][0] if f in MARKERS else f.replace("_", " "))
    return list(dict.fromkeys(out))


def _legend(rows: list[list[str]], *, threshold: int, reference: str) -> list[tuple[str, str]]:
    """The legend of the markers a table uses (and of ``[c]`` when a cell is hidden)."""
    notes = {m for r in rows for m in (r[-1].split(" ") if r and r[-1] else [])}
    out = []
    for f, (m, text) in MARKERS.items():
        if m in notes and m not in {x for x, _ in out}:
            out.append((m, text.replace("the reference group", f"{reference} people")))
    if any(HIDDEN in v for r in rows for v in r):
        out.append((HIDDEN, f"hidden: fewer than {threshold} searches, or a figure that would reveal such a number"))
    return out


def _ratio_ci(r: float, lo: float, hi: float, hidden: bool) -> str:
    if hidden:
        return HIDDEN
    v = fmt(r, 2)
    c = ci(lo, hi, 2)
    return f"{v} ({c})" if v and c else v


def _ratio_rows(t: pd.DataFrame, label: str | None, ref: str) -> list[list[str]]:
    rows = []
    for r in t.itertuples(index=False):
        r = r._asdict()
        hid, rh = bool(r["suppressed"]), bool(r["ratio_hidden"])
        is_ref = r["group"] == ref
        row = [str(r[label])] if label else []
        rate = HIDDEN if hid else (f"{fmt(r['rate_per_1000'], 2)} ({ci(r['rate_ci_low'], r['rate_ci_high'], 2)})"
                                   if ci(r["rate_ci_low"], r["rate_ci_high"], 2) else fmt(r["rate_per_1000"], 2))
        row += [str(r["group"]), fmt(r["events"], hidden=hid, thousands=True), fmt(r["population"], thousands=True),
                rate, "1 (reference)" if is_ref and not rh else _ratio_ci(r["ratio"], r["ci_low"], r["ci_high"], rh),
                " ".join(_marks(r["flags"], count_shown=not hid, ratio_shown=not rh and not is_ref))]
        rows.append(row)
    return rows


def _compact(d, name: str, label: str, caption: str, note: str, csv: str) -> Table:
    """Headline group and reference side by side, one row per category; the full table in ``details``."""
    L, hg, ref = d.level, d.headline_group, d.reference
    c = d.compact(name)
    rows, omitted = [], []
    for r in c.to_dict("records"):
        gh, rh_ = bool(r["group_suppressed"]), bool(r["reference_suppressed"])
        rh = bool(r["ratio_hidden"])
        g_events = r["group_events"]
        no_ratio = rh or not fmt(r["ratio"], 2)
        if no_ratio and (gh or _is_zero(g_events)):
            omitted.append(str(r[label]))
            continue
        rows.append([str(r[label]), fmt(g_events, hidden=gh, thousands=True), fmt(r["group_rate_per_1000"], 2, hidden=gh),
                     fmt(r["reference_events"], hidden=rh_, thousands=True),
                     fmt(r["reference_rate_per_1000"], 2, hidden=rh_),
                     _ratio_ci(r["ratio"], r["ci_low"], r["ci_high"], rh),
                     " ".join(_marks(r["flags"], count_shown=not gh, ratio_shown=not rh))])
    head = {"by_area": "Area", "by_power": "Legal power", "by_object": "Object of search"}[name]
    cols = [head, f"{hg} searches", f"{hg} rate per 1,000", f"{ref} searches", f"{ref} rate per 1,000",
            f"{hg} / {ref} ratio ({L}% CI)", "Notes"]
    full = getattr(d, name)
    drows = _ratio_rows(full, label, ref)
    dcols = [head, "Group", "Searches", "Residents", f"Rate per 1,000 ({L}% CI)", f"Ratio to {ref} ({L}% CI)", "Notes"]
    details = Table(f"{name}_all", f"{caption}: all groups", dcols, drows,
                    legend=_legend(drows, threshold=d.suppress_below, reference=ref))
    om = ""
    if omitted:
        om = (f"Too few searches to publish a {hg} / {ref} ratio for: {'; '.join(omitted)}. "
              "Their counts, where they can be shown, are in the table of all groups.")
    return Table(name, caption, cols, rows, note, legend=_legend(rows, threshold=d.suppress_below, reference=ref),
                 details=details, csv=csv, omitted=om)


def _missing_text(pairs: list[tuple[str, str]]) -> str:
    """``[("Gwent", "2019-08"), ("Met", "2019-03"), ("Met", "2019-04")]`` -> ``"Gwent 2019-08; Met 2019-03 to 2019-04"``."""
    if not pairs:
        return "none"
    by: dict[str, list[pd.Period]] = {}
    for a, m in pairs:
        by.setdefault(str(a), []).append(pd.Period(m, "M"))
    out = []
    for a, ms in by.items():
        ms = sorted(set(ms))
        runs, start, prev = [], ms[0], ms[0]
        for m in ms[1:] + [None]:
            if m is not None and m == prev + 1:
                prev = m
                continue
            runs.append(str(start) if start == prev else f"{start} to {prev}")
            if m is not None:
                start = prev = m
        out.append(f"{a} {', '.join(runs)}")
    return "; ".join(out)


def _p(v: object) -> str:
    """A p-value for readers: two significant figures, ``<0.001`` below that."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    if x != x:
        return ""
    return "<0.001" if x < 0.001 else f"{x:.2g}" if x < 0.1 else f"{x:.2f}"


def _is_zero(v: object) -> bool:
    try:
        return float(v) == 0.0
    except (TypeError, ValueError):
        return False


def display_tables(d) -> dict[str, Table]:
    """Every table of the report, formatted."""
    L = d.level
    ref = d.reference
    thr = d.suppress_below
    ratio_cols = ["Group", "Searches", "Residents", f"Rate per 1,000 ({L}% CI)", f"Ratio to {ref} ({L}% CI)", "Notes"]
    out: dict[str, Table] = {}
    rows = _ratio_rows(d.headline, None, ref)
    span_note = (f"Rates are searches per 1,000 residents in these {len(d.period_months)} months, not per year."
                 if len(d.period_months) != 12 else "")
    out["headline"] = Table("headline", f"Searches per 1,000 residents and ratio to {ref}: {d.area_name}, {d.period_desc}",
                            ratio_cols, rows, span_note, legend=_legend(rows, threshold=thr, reference=ref),
                            csv="headline.csv")
    if d.changes is not None and len(d.changes):
        crow = []
        for r in d.changes.to_dict("records"):
            if not r["estimable"] or not fmt(r["change_ratio"], 2):
                crow.append([str(r["group"]), "", "", "", "", "", "too few searches to compare"])
                continue
            crow.append([str(r["group"]), fmt(r["base_ratio"], 2), fmt(r["ratio"], 2),
                         f"{fmt(r['change_ratio'], 2)} ({bound(r['ci_low'])} to {bound(r['ci_high'])})", _p(r["p_value"]),
                         _p(r["p_adjusted"]), "clear " + ("rise" if r["change_ratio"] > 1 else "fall")
                         if r["clear"] else "no clear change"])
        b, p = d.changes["base_period"].iloc[0], d.changes["period"].iloc[0]
        out["changes"] = Table("changes", f"Change in each group's ratio to {ref}, {b} to {p}, {d.area_name}",
                               ["Group", f"Ratio {b}", f"Ratio {p}", f"Ratio of ratios ({L}% CI)", "p", "p (Holm)",
                                "Verdict"], crow,
                               "p (Holm): the p-value adjusted for testing every group listed; a change is clear when it "
                               f"is below {1 - L / 100:.2f}.", csv="headline_change.csv")
    if d.by_area["force"].nunique() > 1:
        out["by_area"] = _compact(d, "by_area", "area_name", f"By force area, {d.period_desc}",
                                  "", "ratios_by_area.csv")
    if len(d.by_power):
        out["by_power"] = _compact(d, "by_power", "legal_power", f"By legal power, {d.area_name}, {d.period_desc}",
                                   "Rates by power use all residents of the group as the denominator.",
                                   "ratios_by_legal_power.csv")
    if len(d.by_object):
        out["by_object"] = _compact(d, "by_object", "object_of_search",
                                    f"By object of search, {d.area_name}, {d.period_desc}",
                                    "Rates by object use all residents of the group as the denominator.",
                                    "ratios_by_object_of_search.csv")
    rows = []
    for r in d.outcomes.itertuples(index=False):
        r = r._asdict()
        h = bool(r["suppressed"])
        rec = bool(r["find_recorded"])

        def rate(c: str, lo: str, hi: str, shown: bool = True) -> str:
            if not shown:
                return "not recorded"
            return f"{fmt(100 * r[c], 1, hidden=h)} ({ci(100 * r[lo], 100 * r[hi], 1, hidden=h)})" if not h else HIDDEN

        rows.append([str(r["group"]), fmt(r["searches"], hidden=h, thousands=True),
                     rate("any_outcome_rate", "any_outcome_ci_low", "any_outcome_ci_high"),
                     rate("arrest_rate", "arrest_ci_low", "arrest_ci_high"),
                     rate("find_rate", "find_ci_low", "find_ci_high", rec),
                     "" if r["group"] == ref or not rec else fmt(100 * r["difference_from_reference"], 1, hidden=h),
                     " ".join(_marks(r["flags"], count_shown=not h))])
    out["outcomes"] = Table("outcomes", f"What searches led to, {d.area_name}, {d.period_desc}",
                            ["Group", "Searches", f"Any outcome other than no further action % ({L}% CI)",
                             f"Arrest % ({L}% CI)", f"Find % ({L}% CI): outcome linked to what was searched for",
                             f"Find: difference from {ref} (percentage points)", "Notes"],
                            rows, legend=_legend(rows, threshold=thr, reference=ref), csv="outcomes.csv")
    if d.age_sex is not None:
        rows = []
        for r in d.age_sex.itertuples(index=False):
            r = r._asdict()
            h, rh = bool(r["suppressed"]), bool(r["ratio_hidden"])
            is_ref = r["group"] == ref
            std_rate = HIDDEN if h else (f"{fmt(r['std_rate_per_1000'], 2)} ({ci(r['std_ci_low'], r['std_ci_high'], 2)})"
                                         if ci(r["std_ci_low"], r["std_ci_high"], 2) else fmt(r["std_rate_per_1000"], 2))
            rows.append([str(r["group"]), fmt(r["events"], hidden=h, thousands=True), fmt(r["crude_rate_per_1000"], 2, hidden=h),
                         std_rate, "1 (reference)" if is_ref else fmt(r["crude_ratio"], 2, hidden=rh),
                         "1 (reference)" if is_ref else _ratio_ci(r["std_ratio"], r["ci_low"], r["ci_high"], rh),
                         " ".join(_marks(r["flags"], count_shown=not h))])
        out["age_sex"] = Table("age_sex", f"Crude and age x sex standardised, {d.area_name}, {d.period_desc}",
                               ["Group", "Searches", "Crude rate per 1,000", f"Standardised rate per 1,000 ({L}% CI)",
                                f"Crude ratio to {ref}", f"Standardised ratio to {ref} ({L}% CI)", "Notes"], rows,
                               legend=_legend(rows, threshold=thr, reference=ref), csv="age_sex_standardised.csv")
    imp = d.impact
    if imp.table is not None and len(imp.table):
        from .training_text import impact_table_parts

        cols, rows, note = impact_table_parts(imp, level=L)
        out["impact"] = Table("impact", "Estimated effect of training", cols, rows, note, csv="training_impact.csv")
    from ._published import published_display
    if (pt := published_display(d)) is not None:
        out["published"] = pt
    q = d.quality
    rows = [["Files read", f"{q['files']:,}"], ["Rows read", f"{q['rows_read']:,}"], ["Rows kept", f"{q['rows_kept']:,}"],
            ["Rows rejected", f"{q['rows_rejected']:,}"]]
    rows += [[f"Rejected: {k}", f"{v:,}"] for k, v in q["rejected_by_reason"].items()]
    rows += [["Exact duplicate rows (kept)", f"{q['duplicates']:,}"],
             [f"Months with data for {d.area_name}", f"{q['n_months']} of the {q['span_first']} to {q['span_last']} span"
              + (f" (first {q['months_first']}, last {q['months_last']})" if q["n_months"] else "")],
             ["Area-months with no file (missing, not zero)",
              _missing_text(q["months_missing"])],
             [f"Searches in {d.area_name}", f"{q['area_rows']:,}"],
             ["Ethnicity not stated (all months, all rows; vehicle-only searches have no person)",
              f"{q['not_stated']:,} ({100 * q['not_stated_share']:.1f}%)"],
             ["Vehicle-only searches (excluded from rates)", f"{q['vehicle_only']:,}"],
             ["Date given without a time", f"{q['date_only']:,}"],
             ["Population vintage", str(q["population_vintage"])]]
    out["quality"] = Table("quality", f"Data quality ledger: {d.area_name}", ["Item", "Value"], rows,
                           "Files, rows, rejects and duplicates count the files of this area only." if d.area != "all areas"
                           else "")
    return out


def _csv(t: pd.DataFrame, cols: list[str], count_cols: list[str], ratio_cols: list[str]) -> pd.DataFrame:
    o = t[[c for c in cols if c in t.columns]].copy()
    hid = t["suppressed"].to_numpy(bool) if "suppressed" in t.columns else np.zeros(len(t), bool)
    rh = t["ratio_hidden"].to_numpy(bool) if "ratio_hidden" in t.columns else hid
    for c in o.columns:
        if pd.api.types.is_float_dtype(o[c]) or pd.api.types.is_integer_dtype(o[c]):
            vals = o[c].astype(float).round(4)
            # numbers stay numbers (int/float cells), so CSV defusing never turns -0.07 into text '-0.07
            s = vals.map(lambda v: "" if pd.isna(v) else (int(v) if float(v).is_integer() else float(v))).astype(object)
            mask = hid if c in count_cols else (rh if c in ratio_cols else np.zeros(len(o), bool))
            s[mask] = HIDDEN
            o[c] = s
        else:
            o[c] = o[c].astype(object).where(o[c].notna(), "")
    return o


def csv_tables(d) -> dict[str, pd.DataFrame]:
    """The reader-facing CSV tables (numbers as text, hidden cells ``[c]``), by file stem."""
    rc = ["events", "rate_per_1000", "rate_ci_low", "rate_ci_high"]
    rr = ["ratio", "ci_low", "ci_high", "reference_events"]
    base = ["group", "events", "population", "rate_per_1000", "rate_ci_low", "rate_ci_high", "reference_events",
            "ratio", "ci_low", "ci_high", "not_stated_share", "ratio_bound_low", "ratio_bound_high", "flags",
            "months_covered", "months_in_period", "partial_period"]
    out = {
        "headline": _csv(d.headline.assign(area=d.area_name, period=d.period_label), ["area", "period"] + base, rc,
                         rr + ["ratio_bound_low", "ratio_bound_high"]),
        "ratios_by_area": _csv(d.by_area.assign(period=d.period_label), ["area_name", "period"] + base, rc,
                               rr + ["ratio_bound_low", "ratio_bound_high"]),
        "ratios_by_legal_power": _csv(d.by_power.assign(period=d.period_label), ["legal_power", "period"] + base, rc,
                                      rr + ["ratio_bound_low", "ratio_bound_high"]),
        "ratios_by_object_of_search": _csv(d.by_object.assign(period=d.period_label), ["object_of_search", "period"] + base,
                                           rc, rr + ["ratio_bound_low", "ratio_bound_high"]),
        "outcomes": _csv(d.outcomes.assign(area=d.area_name, period=d.period_label),
                         ["area", "period"] + [c for c in OUTCOME_COLUMNS if c != "find_recorded"], OUTCOME_HIDE, []),
        "trend_ratio": _csv(d.trend_ratio, ["group", "period", "events", "ratio", "ci_low", "ci_high", "flags",
                                            "months_covered", "months_in_period", "partial_period", "overlapping"],
                            ["events", "ratio", "ci_low", "ci_high"], []),
        "trend_searches": _csv(d.trend_counts, ["period", "events"], ["events"], []),
    }
    if d.changes is not None:
        chg = d.changes.assign(**{c: [("" if pd.isna(v) else f"{float(v):.3g}") for v in d.changes[c]]
                                  for c in ("p_value", "p_adjusted")})
        out["headline_change"] = _csv(chg, ["group", "base_period", "period", "base_ratio", "ratio", "change_ratio",
                                                  "ci_low", "ci_high", "p_value", "p_adjusted", "clear", "estimable"],
                                      [], [])
    if d.age_sex is not None:
        out["age_sex_standardised"] = _csv(
            d.age_sex, ["group", "events", "crude_rate_per_1000", "std_rate_per_1000", "std_ci_low", "std_ci_high",
                        "crude_ratio", "std_ratio", "ci_low", "ci_high", "flags"],
            ["events", "crude_rate_per_1000", "std_rate_per_1000", "std_ci_low", "std_ci_high"],
            ["crude_ratio", "std_ratio", "ci_low", "ci_high"])
    if d.impact.table is not None and len(d.impact.table):
        out["training_impact"] = _csv(d.impact.table, ["outcome", "label", "estimate", "ci_low", "ci_high", "std_error",
                                                       "p_value", "pretrend_p", "pre_mean", "units", "cohorts", "direction",
                                                       "role", "base", "observed", "pct", "pct_low", "pct_high", "mde",
                                                       "mde_fall", "mde_rise", "p_holm", "n_tests", "verdict",
                                                       "meaningful", "power"], [], [])
    from ._published import published_csv
    if (pc := published_csv(d)) is not None:
        out["home_office_comparison"] = pc
    from .extras import extra_tables

    thr = d.suppress_below
    for name, t in extra_tables(getattr(d, "extras", {}) or {}).items():
        t = t.copy()
        counts = [c for c in t.columns if c.startswith("n_") and pd.api.types.is_numeric_dtype(t[c])]
        if counts and thr > 1:  # small counts hidden as everywhere else in the report ([c])
            small = np.zeros(len(t), bool)
            for c in counts:
                v = t[c].astype(float)
                small |= ((v > 0) & (v < thr)).to_numpy()
            t = t.astype({c: object for c in counts})
            for c in counts:
                v = pd.to_numeric(t[c], errors="coerce")
                t.loc[(v > 0) & (v < thr), c] = "[c]"
            t["suppressed"] = small
        out[name] = t
    return out
