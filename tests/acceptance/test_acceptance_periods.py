"""Invariant 3: partial periods are flagged, never presented as complete.

A period is complete for a force when every one of its months has the force's police.uk file
(a missing force-month is missing, not zero). In every CSV table a row whose period is not
complete must be flagged (``incomplete_coverage`` or a flag naming partial / missing months)
or have no published count; in the HTML every "12 months to <month>" and every
"financial year YYYY/YY" must be complete unless the sentence says it is partial.
West Yorkshire's 2018/19 (only 2019-01..03 in the archive) is never shown as a complete
year; the Metropolitan Police (only 2019-01/02 and 2021-06..10) has no complete year, and
the report must say so.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from . import _raw
from ._published import months_of_label, section
from .conftest import FORCES

pytestmark = [pytest.mark.shared]

PARTIAL_WORDS = re.compile(r"partial|incomplete|missing|only \d+ months?|not complete|no complete|months? of data",
                           re.I)
FLAG_WORDS = re.compile(r"incomplete|partial|missing", re.I)
MONTHS = {datetime(2000, k, 1).strftime("%B"): k for k in range(1, 13)}


def _twelve_to(month_name: str, year: int) -> list[str]:
    k = MONTHS[month_name]
    out = []
    y, m = year, k
    for _ in range(12):
        out.append(f"{y}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return sorted(out)


@pytest.mark.parametrize("force", FORCES)
def test_partial_periods_flagged_in_tables(force, built, raw):
    pub = built(force)
    have = raw[force].file_months
    bad = []
    for name, rows in pub.tables.items():
        for r in rows:
            p = r.get("period")
            if not p:
                continue
            try:
                ms = months_of_label(p)
            except ValueError as exc:
                bad.append(f"{name}: {exc}")
                continue
            miss = [m for m in ms if m not in have]
            if isinstance(r.get("months_covered"), float) and r["months_covered"] != len(ms) - len(miss):
                bad.append(f"{name} {p} {r.get('group', '')}: months_covered {r['months_covered']:g}, raw "
                           f"{len(ms) - len(miss)} of {len(ms)}")
            if not miss:
                continue
            counts = [r.get(c) for c in ("events", "searches", "police_uk") if c in r]
            shown = any(isinstance(v, float) for v in counts)
            flagged = FLAG_WORDS.search(str(r.get("flags", ""))) or str(r.get("partial_period", "")) == "True" \
                or str(r.get("status", "")) in ("partial", "no_police_uk_data")
            if shown and not flagged:
                bad.append(f"{name} {p} {r.get('group', '')}: {len(miss)} of {len(ms)} months have no file "
                           f"({miss[0]}..{miss[-1]}) but the row is published unflagged")
    assert not bad, f"{force}:\n" + "\n".join(bad[:30])


@pytest.mark.parametrize("force", FORCES)
def test_text_never_calls_a_partial_period_complete(force, built, raw):
    pub = built(force)
    have = raw[force].file_months
    t = pub.text
    bad = []
    for m in re.finditer(r"12 months to (January|February|March|April|May|June|July|August|September|October|"
                         r"November|December) (\d{4})", t):
        ms = _twelve_to(m.group(1), int(m.group(2)))
        miss = [x for x in ms if x not in have]
        ctx = t[max(0, m.start() - 150): m.end() + 150]
        if miss and not PARTIAL_WORDS.search(ctx):
            bad.append(f"'{m.group(0)}' but {len(miss)} of its months have no file: ...{ctx}...")
    for m in re.finditer(r"financial year (\d{4})/(\d{2})", t):
        ms = months_of_label(f"{m.group(1)}/{m.group(2)}")
        miss = [x for x in ms if x not in have]
        ctx = t[max(0, m.start() - 150): m.end() + 150]
        if miss and not PARTIAL_WORDS.search(ctx):
            bad.append(f"'{m.group(0)}' but {len(miss)} of its months have no file: ...{ctx}...")
    assert not bad, f"{force}:\n" + "\n".join(bad[:10])


@pytest.mark.parametrize("force", FORCES)
def test_headline_period_is_complete_or_says_so(force, built, raw):
    pub = built(force)
    d = pub.report.data
    have = raw[force].file_months
    miss = [m for m in d.period_months if m not in have]
    head = pub.headline_text
    if miss:
        assert PARTIAL_WORDS.search(head), (f"{force}: headline period {d.period_label} lacks {miss} but the headline "
                                            f"does not say so: {head[:300]}")
    n = len(d.period_months)
    if n != 12:
        assert "12 months" not in head and "financial year" not in head.lower(), \
            f"{force}: the headline period has {n} months but the headline calls it 12 months / a financial year"


def test_west_yorkshire_2018_19_never_a_complete_year(built, raw):
    pub = built("west-yorkshire")
    have = raw["west-yorkshire"].file_months
    assert sorted(m for m in _raw.fy_months("2018/19") if m in have) == ["2019-01", "2019-02", "2019-03"]
    bad = []
    for name, rows in pub.tables.items():
        for r in rows:
            if r.get("period") == "2018/19" and not (FLAG_WORDS.search(str(r.get("flags", "")))
                                                     or str(r.get("partial_period", "")) == "True"):
                bad.append(f"{name}: {r}")
    for m in re.finditer(r"2018/19", pub.text):
        ctx = pub.text[max(0, m.start() - 150): m.end() + 150]
        if not PARTIAL_WORDS.search(ctx):
            bad.append(f"text: ...{ctx}...")
    assert pub.report.data.period_label != "2018/19"
    assert (pub.report.data.change or {}).get("base_label") != "2018/19"
    assert not bad, "West Yorkshire 2018/19 (3 months) shown as a year:\n" + "\n".join(bad[:10])


def test_metropolitan_says_no_complete_year(built, raw):
    pub = built("metropolitan")
    have = raw["metropolitan"].file_months
    assert sorted(have) == ["2019-01", "2019-02", "2021-06", "2021-07", "2021-08", "2021-09", "2021-10"]
    t = pub.text
    assert re.search(r"no (complete|full) (financial year|year|12.month|rolling 12.month)", t, re.I), \
        "Metropolitan: the report does not say there is no complete year"
    assert "12 months" not in section(t, 1), "Metropolitan: the headline speaks of 12 months"
    assert len(pub.report.data.period_months) < 12 or set(pub.report.data.period_months) <= have
