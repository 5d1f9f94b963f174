"""Reader-facing tables of the command report: display tables (HTML) and CSV tables.

Formatting only. Hidden (suppressed) cells are already ``NaN`` in
:class:`~.content.ReportData`; here they become ``[c]``. CSV tables keep numbers
(rounded to 4 decimals) with ``[c]`` for hidden cells, and are written with
:func:`equity_metrics._security.safe_to_csv` (formula injection defused).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .text import HIDDEN, ci, fmt

__all__ = ["display_tables", "csv_tables", "Table"]


class Table:
    """A display table: caption, column headers, rows of strings (escaped by the template)."""

    def __init__(self, key: str, caption: str, columns: list[str], rows: list[list[str]], note: str = "") -> None:
        self.key, self.caption, self.columns, self.rows, self.note = key, caption, columns, rows, note


_FLAG_WORDS = {
    "small_count": "under 20 searches: unreliable",
    "reference_small_count": "reference under 20 searches",
    "incomplete_coverage": "a month of data is missing",
    "no_population": "no population figure",
    "rate_above_1000_benchmark_implausible": "rate above 1,000 per 1,000: benchmark not meaningful",
}


def _flags(s: object) -> str:
    if not isinstance(s, str) or not s:
        return ""
    return "; ".join(_FLAG_WORDS.get(f, f.replace("_", " ")) for f in s.split(";") if f)


def _ratio_rows(t: pd.DataFrame, label: str | None, ref: str) -> list[list[str]]:
    rows = []
    for r in t.itertuples(index=False):
        r = r._asdict()
        hid, rh = bool(r["suppressed"]), bool(r["ratio_hidden"])
        is_ref = r["group"] == ref
        row = [str(r[label])] if label else []
        row += [str(r["group"]), fmt(r["events"], hidden=hid, thousands=True), fmt(r["population"], thousands=True),
                fmt(r["rate_per_1000"], 2, hidden=hid), ci(r["rate_ci_low"], r["rate_ci_high"], 2, hidden=hid),
                "1 (reference)" if is_ref and not rh else fmt(r["ratio"], 2, hidden=rh),
                "" if is_ref and not rh else ci(r["ci_low"], r["ci_high"], 2, hidden=rh), _flags(r["flags"])]
        rows.append(row)
    return rows


def display_tables(d) -> dict[str, Table]:
    """Every table of the report, formatted."""
    L = d.level
    ref = d.reference
    ratio_cols = ["Group", "Searches", "Residents", "Rate per 1,000", f"Rate {L}% CI", f"Ratio to {ref}",
                  f"Ratio {L}% CI", "Notes"]
    out: dict[str, Table] = {}
    out["headline"] = Table("headline", f"Searches per 1,000 residents and ratio to {ref}: {d.area_name}, {d.period_desc}",
                            ratio_cols, _ratio_rows(d.headline, None, ref))
    out["by_area"] = Table("by_area", f"By force area, {d.period_desc}", ["Area"] + ratio_cols,
                           _ratio_rows(d.by_area, "area_name", ref))
    if len(d.by_power):
        out["by_power"] = Table("by_power", f"By legal power, {d.area_name}, {d.period_desc}", ["Legal power"] + ratio_cols,
                                _ratio_rows(d.by_power, "legal_power", ref),
                                "Rates by power use all residents of the group as the denominator.")
    if len(d.by_object):
        out["by_object"] = Table("by_object", f"By object of search, {d.area_name}, {d.period_desc}",
                                 ["Object of search"] + ratio_cols, _ratio_rows(d.by_object, "object_of_search", ref))
    rows = []
    for r in d.outcomes.itertuples(index=False):
        r = r._asdict()
        h = bool(r["suppressed"])
        rows.append([str(r["group"]), fmt(r["searches"], hidden=h, thousands=True), fmt(r["hits"], hidden=h, thousands=True),
                     fmt(100 * r["hit_rate"], 1, hidden=h), ci(100 * r["ci_low"], 100 * r["ci_high"], 1, hidden=h),
                     "" if r["group"] == ref else fmt(100 * r["difference_from_reference"], 1, hidden=h), _flags(r["flags"])])
    out["outcomes"] = Table("outcomes", f"Searches that found what was searched for, {d.area_name}, {d.period_desc}",
                            ["Group", "Searches", "Finds", "Find rate %", f"{L}% CI (Wilson)", f"Difference from {ref} (points)", "Notes"],
                            rows)
    if d.age_sex is not None:
        rows = []
        for r in d.age_sex.itertuples(index=False):
            r = r._asdict()
            h, rh = bool(r["suppressed"]), bool(r["ratio_hidden"])
            is_ref = r["group"] == ref
            rows.append([str(r["group"]), fmt(r["events"], hidden=h, thousands=True), fmt(r["crude_rate_per_1000"], 2, hidden=h),
                         fmt(r["std_rate_per_1000"], 2, hidden=h), ci(r["std_ci_low"], r["std_ci_high"], 2, hidden=h),
                         "1 (reference)" if is_ref else fmt(r["crude_ratio"], 2, hidden=rh),
                         "1 (reference)" if is_ref else fmt(r["std_ratio"], 2, hidden=rh),
                         "" if is_ref else ci(r["ci_low"], r["ci_high"], 2, hidden=rh)])
        out["age_sex"] = Table("age_sex", f"Crude and age x sex standardised, {d.area_name}, {d.period_desc}",
                               ["Group", "Searches", "Crude rate per 1,000", "Standardised rate per 1,000", f"{L}% CI",
                                "Crude ratio", "Standardised ratio", f"Standardised ratio {L}% CI"], rows)
    imp = d.impact
    if imp.table is not None and len(imp.table):
        rows = []
        for r in imp.table.itertuples(index=False):
            r = r._asdict()
            dig = 2 if imp.kind == "its" else 3
            rows.append([str(r["label"]), fmt(r["estimate"], dig), ci(r["ci_low"], r["ci_high"], dig),
                         fmt(r["pretrend_p"], 2) if imp.kind == "officer" else "",
                         fmt(r["pre_mean"], 3) if imp.kind == "officer" else "", f"{int(r['units']):,}" if imp.kind == "officer" else "",
                         {"decrease": "decrease", "increase": "increase", "unclear": "no clear change"}.get(r["direction"], "")])
        out["impact"] = Table("impact", "Estimated effect of training",
                              ["Outcome", "Estimate" if imp.kind == "officer" else "Ratio after / before", f"{L}% CI",
                               "Pre-trend test p", "Average before training", "Officers", "Verdict"], rows)
    q = d.quality
    rows = [["Files read", f"{q['files']:,}"], ["Rows read", f"{q['rows_read']:,}"], ["Rows kept", f"{q['rows_kept']:,}"],
            ["Rows rejected", f"{q['rows_rejected']:,}"]]
    rows += [[f"Rejected: {k}", f"{v:,}"] for k, v in q["rejected_by_reason"].items()]
    rows += [["Exact duplicate rows (kept)", f"{q['duplicates']:,}"],
             ["Months covered", f"{q['months_first']} to {q['months_last']} ({q['n_months']})"],
             ["Area-months with no file (missing, not zero)",
              ", ".join(f"{a} {m}" for a, m in q["months_missing"]) or "none"],
             [f"Searches in {d.area_name}", f"{q['area_rows']:,}"],
             ["Ethnicity not stated", f"{q['not_stated']:,} ({100 * q['not_stated_share']:.1f}%)"],
             ["Vehicle-only searches (excluded from rates)", f"{q['vehicle_only']:,}"],
             ["Date given without a time", f"{q['date_only']:,}"],
             ["Population vintage", str(q["population_vintage"])]]
    out["quality"] = Table("quality", "Data quality ledger", ["Item", "Value"], rows)
    return out


def _csv(t: pd.DataFrame, cols: list[str], count_cols: list[str], ratio_cols: list[str]) -> pd.DataFrame:
    o = t[[c for c in cols if c in t.columns]].copy()
    hid = t["suppressed"].to_numpy(bool) if "suppressed" in t.columns else np.zeros(len(t), bool)
    rh = t["ratio_hidden"].to_numpy(bool) if "ratio_hidden" in t.columns else hid
    for c in o.columns:
        if pd.api.types.is_float_dtype(o[c]) or pd.api.types.is_integer_dtype(o[c]):
            vals = o[c].astype(float).round(4)
            s = vals.map(lambda v: "" if pd.isna(v) else (f"{v:.0f}" if float(v).is_integer() else repr(float(v)))).astype(object)
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
            "ratio", "ci_low", "ci_high", "not_stated_share", "ratio_bound_low", "ratio_bound_high", "flags"]
    out = {
        "headline": _csv(d.headline.assign(area=d.area_name, period=d.period_label), ["area", "period"] + base, rc,
                         rr + ["ratio_bound_low", "ratio_bound_high"]),
        "ratios_by_area": _csv(d.by_area.assign(period=d.period_label), ["area_name", "period"] + base, rc,
                               rr + ["ratio_bound_low", "ratio_bound_high"]),
        "ratios_by_legal_power": _csv(d.by_power.assign(period=d.period_label), ["legal_power", "period"] + base, rc,
                                      rr + ["ratio_bound_low", "ratio_bound_high"]),
        "ratios_by_object_of_search": _csv(d.by_object.assign(period=d.period_label), ["object_of_search", "period"] + base,
                                           rc, rr + ["ratio_bound_low", "ratio_bound_high"]),
        "outcomes": _csv(d.outcomes, ["group", "searches", "hits", "hit_rate", "ci_low", "ci_high",
                                      "difference_from_reference", "flags"],
                         ["searches", "hits", "hit_rate", "ci_low", "ci_high", "difference_from_reference"], []),
        "trend_ratio": _csv(d.trend_ratio, ["group", "period", "events", "ratio", "ci_low", "ci_high", "flags"],
                            ["events", "ratio", "ci_low", "ci_high"], []),
        "trend_searches": _csv(d.trend_counts, ["period", "events"], ["events"], []),
    }
    if d.age_sex is not None:
        out["age_sex_standardised"] = _csv(
            d.age_sex, ["group", "events", "crude_rate_per_1000", "std_rate_per_1000", "std_ci_low", "std_ci_high",
                        "crude_ratio", "std_ratio", "ci_low", "ci_high", "flags"],
            ["events", "crude_rate_per_1000", "std_rate_per_1000", "std_ci_low", "std_ci_high"],
            ["crude_ratio", "std_ratio", "ci_low", "ci_high"])
    if d.impact.table is not None and len(d.impact.table):
        out["training_impact"] = _csv(d.impact.table, ["outcome", "label", "estimate", "ci_low", "ci_high", "std_error",
                                                       "p_value", "pretrend_p", "pre_mean", "units", "cohorts", "direction"], [], [])
    return out
