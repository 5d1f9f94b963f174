"""Invariant 6: police.uk-derived 2020/21 counts against the Home Office's published counts.

The Home Office figures (``../shared/data/homeoffice/``) are the forces' returns, not the
police.uk files: small differences are expected. The check uses each force's total searches
of people including "Not stated" (``ho_opendata_force_total_and_not_stated``; vehicle-only
searches excluded on both sides) and, where police.uk self-defined ethnicity is mostly filled,
the sum over the five groups (``ho_opendata_force_by_ethnicity``). Force names differ
("Metropolitan Police" vs the police.uk slug ``metropolitan``; "London, City of").

Documented differences (measured on the archive by the independent path, 2020/21):
West Yorkshire +0.5%, Kent -0.4%, North Yorkshire -0.5%, City of London +6.5%, Merseyside
+9.8%; Thames Valley +19.8% (police.uk 22,658 vs Home Office 18,917: more than the 15% a
complete force is expected to be within, a data difference recorded here rather than hidden);
the Metropolitan Police has no 2020/21 month in the archive. North Yorkshire's police.uk
self-defined ethnicity is 95% blank in 2020/21, so its group counts are not comparable.
"""

from __future__ import annotations

import re

import pytest

from . import _raw
from .conftest import FORCES

pytestmark = [pytest.mark.shared]

FY = "2020/21"
TOLERANCE = 0.15
#: complete forces whose police.uk total differs from the Home Office's by more than 15% (see docstring)
KNOWN_GAPS = {"thames-valley": 0.198}


@pytest.mark.parametrize("force", FORCES)
def test_police_uk_counts_close_to_home_office(force, raw, home_office, home_office_totals):
    fr = raw[force]
    ms = _raw.fy_months(FY)
    ho_name = _raw.HO_NAME[force]
    ho_total, ho_missing = home_office_totals[(FY, ho_name)]
    ho_groups = {g: home_office[(FY, ho_name, g)] for g in _raw.GROUPS}
    have = [m for m in ms if m in fr.file_months]
    if len(have) < 12:
        assert force == "metropolitan" and not have, f"{force}: {len(have)} of 12 months of {FY} in police.uk"
        return
    c = fr.count_by_group(ms)
    pu_total = sum(c.values())
    gap = pu_total / ho_total - 1
    if force in KNOWN_GAPS:
        assert gap == pytest.approx(KNOWN_GAPS[force], abs=0.005), f"{force}: documented gap changed: {gap:+.1%}"
    else:
        assert abs(gap) <= TOLERANCE, f"{force}: police.uk {pu_total:,} vs Home Office {ho_total:,} ({gap:+.1%})"
    if c[_raw.NOT_STATED] / pu_total < 0.3 and force not in KNOWN_GAPS:
        stated = pu_total - c[_raw.NOT_STATED]
        ho_stated = sum(ho_groups.values())
        assert abs(stated / ho_stated - 1) <= TOLERANCE, \
            f"{force}: police.uk five groups {stated:,} vs Home Office {ho_stated:,}"


@pytest.mark.parametrize("force", FORCES)
def test_report_states_difference_from_home_office(force, built, raw, home_office, home_office_totals):
    """The report's comparison table (``home_office_comparison.csv``, docs/real-data-rules.md "Home Office
    published counts") equals the raw recount and the Home Office files, with the documented status:
    ``close`` / ``large_gap`` (|difference| > 5% and >= 10 searches) for a complete year, ``partial``
    (1-11 months), ``no_police_uk_data`` (none), ``ethnicity_not_comparable`` for groups when police.uk
    self-defined ethnicity is more than half not stated."""
    pub = built(force)
    rows = [r for r in pub.tables.get("home_office_comparison", []) if r.get("period") == FY]
    if not rows:
        pytest.xfail("the report does not show the police.uk vs Home Office difference "
                     f"(no home_office_comparison.csv rows for {FY})")
    fr = raw[force]
    ms = _raw.fy_months(FY)
    have = [m for m in ms if m in fr.file_months]
    c = fr.count_by_group(ms)
    ho_name = _raw.HO_NAME[force]
    ho_total, ho_ns = home_office_totals[(FY, ho_name)]
    ns_share = c[_raw.NOT_STATED] / sum(c.values()) if sum(c.values()) else 0.0
    bad = []
    for r in rows:
        g = r["group"]
        pu = {"All": sum(c.values()), "Not stated": c[_raw.NOT_STATED]}.get(g, c[g])
        ho = {"All": ho_total, "Not stated": ho_ns}.get(g, home_office.get((FY, ho_name, g)))
        if isinstance(r.get("home_office"), float) and r["home_office"] != ho:
            bad.append(f"{g}: home_office {r['home_office']:g}, file {ho}")
        if not have:
            if isinstance(r.get("police_uk"), float):
                bad.append(f"{g}: police_uk {r['police_uk']:g} published although police.uk has no month of {FY}")
            want = "no_police_uk_data"
        else:
            if isinstance(r.get("police_uk"), float) and r["police_uk"] != pu:
                bad.append(f"{g}: police_uk {r['police_uk']:g}, raw recount {pu}")
            if isinstance(r.get("difference"), float) and r["difference"] != pu - ho:
                bad.append(f"{g}: difference {r['difference']:g}, raw {pu - ho}")
            if len(have) < 12:
                want = "partial"
            elif g not in ("All", "Not stated") and ns_share > 0.5:
                want = "ethnicity_not_comparable"
            else:
                want = "large_gap" if abs(pu - ho) > 0.05 * ho and abs(pu - ho) >= 10 else "close"
        if r.get("status") != want:
            bad.append(f"{g}: status {r.get('status')!r}, expected {want!r} (police.uk {pu}, Home Office {ho})")
    if have and len(have) == 12:
        gap = sum(c.values()) / ho_total - 1
        if abs(gap) > 0.05 and f"{ho_total:,}" not in pub.text:
            bad.append(f"the report text does not state the Home Office total {ho_total:,} (gap {gap:+.1%})")
    assert not bad, f"{force} {FY}:\n" + "\n".join(bad)
