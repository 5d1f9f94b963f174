"""Invariant 1: every published count equals the raw recount of its cell; rates and ratios follow.

For each force and each report table (headline, ratios_by_area, ratios_by_legal_power,
ratios_by_object_of_search, trend_searches, trend_ratio; outcomes are in
``test_acceptance_outcomes.py``), every cell that is not hidden (``[c]``) or blank is compared
with the count recomputed from the raw CSVs by ``_raw`` (tarfile + csv, Europe/London months,
vehicle-only searches excluded, self-defined ethnicity by census-label prefix). Rates per 1,000
must equal events / census population x 1,000 and ratios the ratio of the two rates, within the
CSV's rounding (4 decimals); ``not_stated_share`` must equal the raw share of searches of people
with ethnicity not stated in the same cell (area / power / object and period). Every legal power
and object of search with searches of people in the period must have its rows (searches with no
power / object recorded are in no row, as docs/real-data-rules.md documents). A month with no
police.uk file must be blank in the monthly trend (missing, not zero, not hidden).
"""

from __future__ import annotations

import pytest

from . import _raw
from ._expect import CATEGORY_ATTR, expected_row
from ._published import months_of_label
from .conftest import FORCES

pytestmark = [pytest.mark.shared]

ROUND = 5.01e-5  # CSV numbers are rounded to 4 decimals
TABLES = ["headline", "ratios_by_area", "ratios_by_legal_power", "ratios_by_object_of_search", "trend_searches",
          "trend_ratio"]


def _num(v) -> float | None:
    return v if isinstance(v, float) else None


def _label(table: str, row: dict) -> str:
    cat = CATEGORY_ATTR.get(table, (None,))[0]
    parts = [str(row.get("period", "")), str(row.get(cat, "")) if cat else "", str(row.get("group", ""))]
    return " / ".join(p for p in parts if p)


def _close(a: float, b: float, tol: float = ROUND) -> bool:
    return abs(a - b) <= tol + 1e-9 * max(1.0, abs(b))


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("force", FORCES)
def test_published_counts_equal_raw_recount(force, table, built, raw, census):
    pub = built(force)
    fr = raw[force]
    assert table in pub.tables, f"{force}: the report wrote no {table}.csv (tables: {sorted(pub.tables)})"
    rows = pub.tables[table]
    pop = census[_raw.CENSUS_NAME[force]]
    bad: list[str] = []
    checked = 0
    for row in rows:
        if table == "ratios_by_area":
            assert row["area_name"] == pub.report.data.area_name, row
        exp = expected_row(fr, table, row)
        where = f"{table} {_label(table, row)}"
        covered = set(exp["months"]) <= fr.file_months
        ev = row["events"]
        if table == "trend_searches" and not covered:
            if ev is not None:
                bad.append(f"{where}: month with no file published as {ev!r} (a missing month must be blank, not zero)")
            continue
        if table == "trend_ratio" and not covered:
            continue  # a window with missing months: test_acceptance_periods checks it is not shown as complete
        if _num(ev) is not None:
            checked += 1
            if ev != exp["events"]:
                bad.append(f"{where}: events expected {exp['events']} (raw), published {ev:g}")
        if table == "trend_searches":
            continue
        g = row["group"]
        if table != "trend_ratio":
            if _num(row["population"]) is not None and row["population"] != pop[g]:
                bad.append(f"{where}: population expected {pop[g]} (census 2011), published {row['population']:g}")
            if _num(row["rate_per_1000"]) is not None:
                want = exp["events"] / pop[g] * 1000
                if not _close(row["rate_per_1000"], want):
                    bad.append(f"{where}: rate_per_1000 expected {want:.4f}, published {row['rate_per_1000']}")
            if _num(row.get("reference_events")) is not None and row["reference_events"] != exp["reference_events"]:
                bad.append(f"{where}: reference_events expected {exp['reference_events']}, "
                           f"published {row['reference_events']:g}")
            ns = row.get("not_stated_share")
            if _num(ns) is not None and exp["category_total"]:
                want = exp["not_stated"] / exp["category_total"]
                if not _close(ns, want):
                    bad.append(f"{where}: not_stated_share expected {want:.4f} "
                               f"({exp['not_stated']}/{exp['category_total']}), published {ns}")
        if g != "White" and _num(row.get("ratio")) is not None and exp["reference_events"] > 0:
            want = (exp["events"] / pop[g]) / (exp["reference_events"] / pop["White"])
            if not _close(row["ratio"], want):
                bad.append(f"{where}: ratio expected {want:.4f}, published {row['ratio']}")
    if table in CATEGORY_ATTR:
        col, attr = CATEGORY_ATTR[table]
        months = sorted({m for r in rows for m in months_of_label(r["period"])}) if rows else []
        if not rows:
            from ._expect import headline_months

            months = headline_months(pub)
        # searches with no power / object recorded are in no row (docs/real-data-rules.md, "What the attacker knows")
        cats = {k for (k, gg), v in fr.count_by(months, attr).items() if v and gg in _raw.GROUPS and k != "not recorded"}
        missing = sorted(cats - {r[col] for r in rows})
        if missing:
            bad.append(f"{table}: categories with searches of people in {months[0]}..{months[-1]} missing from the "
                       f"table: {missing}")
    assert not bad, f"{force}: {len(bad)} of {len(rows)} rows disagree with the raw recount:\n" + "\n".join(bad[:40])
    assert checked or table in ("trend_ratio",) or not rows, f"{force} {table}: no published count to check"
