"""The suite's seven forces read together (configs/several-forces.toml, headline about West Yorkshire).

The by-area table then compares forces, and each of its rows is checked against the raw recount
of its own force: counts, census populations, rates, ratios and not-stated shares; every force
that was read is either in the table or named as having no data for the period (the
Metropolitan Police has no month of FY 2020/21: missing, not zero, and not silently dropped);
the City of London's rows carry ``implausible_benchmark`` and North Yorkshire's
``mostly_not_stated``; the headline equals the single-force West Yorkshire report's; small counts
are hidden, and hidden cells pass the protection rule against the integer-programming attacker.
"""

from __future__ import annotations

import re

import pytest

from . import _raw
from ._attack import build_attack, hidden_protection
from ._expect import headline_months
from ._published import HID, section
from .conftest import FORCES

pytestmark = [pytest.mark.shared]

SEVERAL = "several-forces"
#: the report's display names of the forces
DISPLAY = {"West Yorkshire": "west-yorkshire", "Merseyside": "merseyside", "Metropolitan Police": "metropolitan",
           "North Yorkshire": "north-yorkshire", "City of London": "city-of-london", "Kent": "kent",
           "Thames Valley": "thames-valley"}
ROUND = 5.01e-5


def test_by_area_rows_equal_raw_recount(built, raw, census):
    pub = built(SEVERAL)
    months = headline_months(pub)
    rows = pub.tables["ratios_by_area"]
    bad = []
    for r in rows:
        slug = DISPLAY.get(r["area_name"])
        if slug is None:
            bad.append(f"unknown area {r['area_name']!r}")
            continue
        fr, pop = raw[slug], census[_raw.CENSUS_NAME[slug]]
        c = fr.count_by_group(months)
        g = r["group"]
        where = f"{r['area_name']} {g}"
        if isinstance(r["events"], float) and r["events"] != c[g]:
            bad.append(f"{where}: events {r['events']:g}, raw {c[g]}")
        if isinstance(r["population"], float) and r["population"] != pop[g]:
            bad.append(f"{where}: population {r['population']:g}, census {pop[g]}")
        if isinstance(r["rate_per_1000"], float) and abs(r["rate_per_1000"] - 1000 * c[g] / pop[g]) > ROUND:
            bad.append(f"{where}: rate {r['rate_per_1000']}, raw {1000 * c[g] / pop[g]:.4f}")
        if g != "White" and isinstance(r.get("ratio"), float) and c["White"]:
            want = (c[g] / pop[g]) / (c["White"] / pop["White"])
            if abs(r["ratio"] - want) > ROUND:
                bad.append(f"{where}: ratio {r['ratio']}, raw {want:.4f}")
        ns = r.get("not_stated_share")
        if isinstance(ns, float) and abs(ns - c[_raw.NOT_STATED] / sum(c.values())) > ROUND:
            bad.append(f"{where}: not_stated_share {ns}, raw {c[_raw.NOT_STATED] / sum(c.values()):.4f}")
        flags = str(r.get("flags", "")).split(";")
        if ("implausible_benchmark" in flags) != (slug == "city-of-london"):
            bad.append(f"{where}: implausible_benchmark {'implausible_benchmark' in flags} (flags {r.get('flags')!r})")
        ns_share = c[_raw.NOT_STATED] / sum(c.values())
        if ("mostly_not_stated" in flags) != (ns_share > 0.5):
            bad.append(f"{where}: mostly_not_stated {'mostly_not_stated' in flags}, raw not stated {ns_share:.1%}")
        if isinstance(r["events"], float) and 1 <= c[g] < 10:
            bad.append(f"{where}: raw count {c[g]} published")
    assert not bad, "\n".join(bad[:40])


def test_every_force_read_is_shown_or_named_as_missing(built, raw):
    pub = built(SEVERAL)
    months = headline_months(pub)
    shown = {r["area_name"] for r in pub.tables["ratios_by_area"]}
    text3 = section(pub.text, 3)
    bad = []
    for name, slug in DISPLAY.items():
        have = [m for m in months if m in raw[slug].file_months]
        if name in shown:
            rows = [r for r in pub.tables["ratios_by_area"] if r["area_name"] == name]
            if len(have) < len(months) and not all(str(r.get("partial_period")) == "True" or
                                                   "incomplete" in str(r.get("flags", "")) for r in rows):
                bad.append(f"{name}: {len(have)} of {len(months)} months but rows not flagged partial")
            continue
        if not have:
            m = re.search(re.escape(name) + r"[^.]{0,200}(no data|no month|no search|not covered|missing|0 of \d+ months)",
                          text3)
            if not m:
                bad.append(f"{name}: read (areas = [...]) but has no month of {months[0]}..{months[-1]}; it is neither "
                           "in the by-area table nor named in section 3 as having no data (silently dropped)")
        else:
            bad.append(f"{name}: has {len(have)} months of data in the period but no by-area row")
    assert not bad, "\n".join(bad)


def test_headline_equals_single_force_report(built):
    several, single = built(SEVERAL), built("west-yorkshire")
    a = {r["group"]: r for r in several.tables["headline"]}
    b = {r["group"]: r for r in single.tables["headline"]}
    assert a.keys() == b.keys()
    bad = [f"{g} {c}: {a[g][c]!r} vs single-force {b[g][c]!r}" for g in a
           for c in ("events", "population", "ratio", "ci_low", "ci_high", "not_stated_share") if a[g][c] != b[g][c]]
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_several_forces_hidden_cells_cannot_be_recovered(built):
    pub = built(SEVERAL)
    att = build_attack(pub)
    assert att.solve() is not None, f"the published tables contradict each other: {build_attack(pub, diagnose=True).notes}"
    bad = [f"{name}: {lo}..{hi}" for name, (ok, lo, hi) in hidden_protection(att, 10).items() if not ok]
    assert not bad, "hidden cells pinned (rule: L >= 10, or U >= 10 and U - L >= 9):\n" + "\n".join(bad[:40])
