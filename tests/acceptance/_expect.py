"""Expected values of a published table cell, from the independent raw recount (``_raw``)."""

from __future__ import annotations

from . import _raw
from ._published import Published, months_of_label

#: table stem -> the raw attribute its category column counts by.
CATEGORY_ATTR = {"ratios_by_legal_power": ("legal_power", "legislation"),
                 "ratios_by_object_of_search": ("object_of_search", "object")}


def headline_months(pub: Published) -> list[str]:
    labels = {r["period"] for r in pub.tables["headline"]}
    assert len(labels) == 1, f"headline.csv has several periods: {labels}"
    return months_of_label(labels.pop())


def expected_row(fr: _raw.ForceRows, table: str, row: dict, *, period_months: list[str] | None = None) -> dict:
    """What the raw rows say a published row's counts should be.

    Returns ``{"events": n, "reference_events": n_ref, "not_stated": n_ns, "months": [...]}``
    (``events`` for the count column of the table; trend tables have no reference).
    """
    if table == "trend_searches":
        m = row["period"]
        return {"events": fr.monthly().get(m, 0), "months": [m]}
    months = months_of_label(row["period"]) if "period" in row and row["period"] else period_months
    g = row["group"]
    if table == "trend_ratio":
        mg = fr.monthly_by_group()
        return {"events": sum(mg.get((m, g), 0) for m in months),
                "reference_events": sum(mg.get((m, "White"), 0) for m in months), "months": months}
    if table in CATEGORY_ATTR:
        col, attr = CATEGORY_ATTR[table]
        c = fr.count_by(months, attr)
        cat = row[col]
        return {"events": c.get((cat, g), 0), "reference_events": c.get((cat, "White"), 0),
                "not_stated": c.get((cat, _raw.NOT_STATED), 0),
                "category_total": sum(v for (k, _), v in c.items() if k == cat), "months": months}
    c = fr.count_by_group(months)
    return {"events": c.get(g, 0), "reference_events": c.get("White", 0), "not_stated": c.get(_raw.NOT_STATED, 0),
            "category_total": sum(c.values()), "months": months}
