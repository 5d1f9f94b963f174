"""The report's "How these counts compare with the Home Office's published figures" table.

Optional: built only when the config names the published file(s) (``[inputs]
published_counts``, a path or a glob of the ``ho_opendata_*`` CSVs read by
:func:`equity_metrics.io.read_homeoffice_stop_search`). The numbers come from
:func:`equity_metrics.measures.published.compare_published` (no statistics here): for
the report's area, each financial year the Home Office publishes, the police.uk count
beside the published count by group, the difference, and whether police.uk has every
month of the year.

Small numbers: a police.uk count from 1 to ``suppress_below - 1`` is hidden (``[c]``)
with its difference; when one group of a year is hidden, that year's total and "not
stated" police.uk counts are hidden too, so that the hidden count cannot be recovered by
subtraction. The Home Office's own figures are published and are shown as they are. The
report's one protection (:mod:`equity_metrics.report.protection`) then links this table's yearly
counts to the other tables' monthly counts and hides more cells where needed.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError

__all__ = ["published_comparison", "published_display", "published_csv", "PUBLISHED_HEADING", "PUBLISHED_COLUMNS"]

PUBLISHED_HEADING = "How these counts compare with the Home Office's published figures"
PUBLISHED_COLUMNS = ["area", "period", "group", "police_uk", "home_office", "difference", "relative_difference",
                     "months_covered", "months_in_period", "partial_period", "status", "suppressed"]
_HIDE = ["police_uk", "difference", "relative_difference"]


def _files(spec: str) -> list[str]:
    hits = sorted(glob.glob(spec)) if any(ch in spec for ch in "*?[") else [spec]
    hits = [h for h in hits if Path(h).is_file()]
    if not hits:
        raise DataValidationError(f"report config key 'published_counts': {spec!r} matches no file; give the Home "
                                  "Office ho_opendata_*.csv file(s) (a path or a glob; relative paths are relative to "
                                  "the config file's folder), or remove the key")
    return hits


def published_comparison(cfg: Any, stops: Any, *, area: str | None, groups: list[str],
                         threshold: int) -> tuple[pd.DataFrame | None, list[str]]:
    """``(table, lines)`` for the report, or ``(None, [])`` when the config names no published file.

    ``table`` has :data:`PUBLISHED_COLUMNS` (one row per year x group of the area, hidden
    cells ``NaN`` with ``suppressed`` True); ``lines`` are the plain sentences shown under it.
    """
    spec = getattr(cfg, "published_counts", None)
    if not spec:
        return None, []
    from ..io.homeoffice_searches import read_homeoffice_stop_search
    from ..measures.published import compare_published

    res = compare_published(stops, read_homeoffice_stop_search(_files(spec)))
    t = res.tidy()
    if area:
        t = t[t["force"] == area]
    keep = list(groups) + ["Not stated", "All"]
    t = t[t["group"].isin(keep)].copy()
    if t.empty:
        return None, [f"The Home Office file(s) named in the config publish no figure for {area or 'these areas'}."]
    t["area"] = t["force_name"]
    small = t["police_uk"].between(1, max(threshold - 1, 0)).to_numpy() if threshold > 1 else np.zeros(len(t), bool)
    hidden_years = set(zip(t.loc[small, "force"], t.loc[small, "period"]))
    comp = np.array([(f, p) in hidden_years and g in ("All", "Not stated")
                     for f, p, g in zip(t["force"], t["period"], t["group"])], bool)
    t["suppressed"] = small | comp
    t.loc[t["suppressed"], _HIDE] = np.nan
    lines = []
    for r in t[t["group"] == "All"].itertuples():
        if r.suppressed:
            lines.append(f"{r.force_name} {r.period}: the police.uk total is hidden to protect a small count; "
                         f"the Home Office published {r.home_office:,.0f} searches.")
        else:
            lines.append(_plain(r))
    lines.append("The Home Office figures are each force's annual return; police.uk holds the force's monthly uploads. "
                 "Small differences between them are normal. A difference of more than 5% on a year police.uk covers "
                 "in full means the two sources disagree: official comparisons should use the Home Office figure.")
    return t[PUBLISHED_COLUMNS].reset_index(drop=True), lines


def _plain(r) -> str:
    if r.status == "no_police_uk_data":
        return (f"{r.force_name} {r.period}: police.uk has no month of this year (missing, not zero); the Home Office "
                f"published {r.home_office:,.0f} searches.")
    diff = f"{r.difference:+,.0f} searches, {r.relative_difference:+.1%}"
    s = (f"{r.force_name} {r.period}: police.uk {r.police_uk:,.0f} searches of people, Home Office {r.home_office:,.0f} "
         f"({diff}).")
    if r.status == "partial":
        return s + f" police.uk has only {r.months_covered} of the {r.months_in_period} months, so its count is lower."
    if r.status == "large_gap":
        return s + " A large difference on a complete year: the sources disagree."
    return s + " The sources agree closely."


def published_display(d: Any):
    """The display :class:`~equity_metrics.report.tables.Table` of ``d.published`` (``None`` when absent)."""
    t = getattr(d, "published", None)
    if t is None or not len(t):
        return None
    from .tables import Table
    from .text import HIDDEN, fmt

    status = {"close": "", "large_gap": "large difference", "partial": "police.uk months missing",
              "no_police_uk_data": "no police.uk data", "ethnicity_not_comparable": "ethnicity mostly not stated",
              "not_published": "not published"}
    rows = []
    for r in t.itertuples(index=False):
        h = bool(r.suppressed)
        rel = "" if pd.isna(r.relative_difference) else f"{100 * r.relative_difference:+.1f}%"
        rows.append([str(r.period), "All searches of people" if r.group == "All" else str(r.group),
                     HIDDEN if h else fmt(r.police_uk, thousands=True), fmt(r.home_office, thousands=True),
                     HIDDEN if h else ("" if pd.isna(r.difference) else f"{r.difference:+,.0f}"), HIDDEN if h else rel,
                     f"{r.months_covered} of {r.months_in_period}", status.get(str(r.status), str(r.status))])
    return Table("published", f"{PUBLISHED_HEADING}: {d.area_name}",
                 ["Year", "Group", "police.uk", "Home Office", "Difference", "Difference %", "Months in police.uk",
                  "Notes"], rows,
                 "Searches of people (vehicle-only searches left out), self-defined ethnicity, financial years "
                 "April to March.", csv="home_office_comparison.csv")


def published_csv(d: Any) -> pd.DataFrame | None:
    """The CSV form (hidden cells ``[c]``), or ``None``."""
    t = getattr(d, "published", None)
    if t is None or not len(t):
        return None
    from .text import HIDDEN

    o = t.drop(columns=["suppressed"]).astype(object)
    for c in ("police_uk", "home_office", "difference", "relative_difference"):
        o[c] = pd.Series([("" if pd.isna(v) else (int(v) if float(v).is_integer() else round(float(v), 4))) for v in t[c]],
                         index=o.index, dtype=object)
    hid = t["suppressed"].to_numpy(bool)
    for c in _HIDE:
        o[c] = o[c].where(~hid, HIDDEN)
    return o
