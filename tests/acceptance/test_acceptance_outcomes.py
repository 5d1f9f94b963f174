"""Invariant 2: find, arrest and any-outcome rates equal the raw recount and fall in raw-derived ranges.

Definitions applied independently to the raw rows (``_raw.ForceRows.outcome_counts``):

* **find** (Home Office / HMICFRS): the outcome is recorded, is not "A no further action
  disposal", and "Outcome linked to object of search" is "True";
* **arrest**: the outcome is "Arrest";
* **any outcome**: the outcome is recorded and is not NFA;
* **denominator (assumed)**: searches of people (vehicle-only searches excluded) of the group,
  in the headline period, with a recorded outcome, under every legal power ("out of the total
  number carried out", HMICFRS). Searches with ethnicity not stated are not in any group's row;
* **not recorded**: when fewer than 90% of the force-period's searches of people with an
  outcome other than NFA fill the linked field, the force-period has no find rate.

Ranges: whatever the exact denominator, a group's find rate cannot be below
finds / searches-with-an-outcome nor above (finds + non-NFA outcomes with the linked field
blank) / searches-with-an-outcome, and it cannot exceed the any-outcome rate. West Yorkshire
(linked field True on 24,016 NFA rows) must show a find rate of 10-25%, not ~79%.
"""

from __future__ import annotations

import re

import pytest

from . import _raw
from ._expect import headline_months
from ._published import section
from .conftest import FORCES

pytestmark = [pytest.mark.shared]

ROUND = 5.01e-5


def _coverage(fr: _raw.ForceRows, months) -> float:
    return fr.linked_coverage(months)


def _outcomes(pub) -> dict[str, dict]:
    assert "outcomes" in pub.tables, f"{pub.force}: no outcomes.csv"
    return {r["group"]: r for r in pub.tables["outcomes"]}


def _rate_col(cols) -> str:
    for c in ("find_rate", "hit_rate"):
        if c in cols:
            return c
    raise AssertionError(f"outcomes.csv has no find-rate column: {sorted(cols)}")


def _count_col(cols, *names) -> str | None:
    return next((c for c in names if c in cols), None)


@pytest.mark.parametrize("force", FORCES)
def test_find_rate_equals_raw_recount(force, built, raw):
    pub = built(force)
    fr = raw[force]
    months = headline_months(pub)
    oc = fr.outcome_counts(months)
    cov = _coverage(fr, months)
    out = _outcomes(pub)
    cols = next(iter(out.values())).keys()
    rc = _rate_col(cols)
    nc = _count_col(cols, "searches", "searches_with_outcome", "denominator")
    hc = _count_col(cols, "finds", "hits")
    bad = []
    if cov < _raw.LINKED_COVERAGE_MIN:
        # no find rate: no rate, no finds count, and the report says "not recorded"
        for g, r in out.items():
            if isinstance(r[rc], float):
                bad.append(f"{g}: find rate published ({r[rc]}) although only {cov:.1%} of non-NFA outcomes say "
                           "whether they were linked (rule: 90%)")
            if hc and isinstance(r[hc], float) and r[hc] != oc["find"][g]:
                bad.append(f"{g}: finds published as {r[hc]:g} but the find is not recorded (raw linked-True finds: "
                           f"{oc['find'][g]}); a count that is not recorded must be blank, not a number")
            if nc and isinstance(r[nc], float) and r[nc] != oc["recorded"][g]:
                bad.append(f"{g}: searches published as {r[nc]:g}, raw searches with a recorded outcome "
                           f"{oc['recorded'][g]}")
        sec = section(pub.text, 4)
        if "not recorded" not in sec.lower():
            bad.append("the Outcomes section does not say the find rate is not recorded")
        assert not bad, f"{force} ({cov:.1%} linked coverage):\n" + "\n".join(bad)
        return
    for g, r in out.items():
        rec, fnd = oc["recorded"][g], oc["find"][g]
        blank_linked = oc["non_nfa"][g] - oc["non_nfa_linked_filled"][g]
        if r[rc] is None or not isinstance(r[rc], float):
            if rec >= 10:
                bad.append(f"{g}: no find rate published although the force records the linked field ({cov:.1%}) "
                           f"and there are {rec} searches with an outcome")
            continue
        if nc and isinstance(r[nc], float) and r[nc] != rec:
            bad.append(f"{g}: denominator expected {rec} (searches of people with a recorded outcome, all powers), "
                       f"published {r[nc]:g}")
        if hc and isinstance(r[hc], float) and r[hc] != fnd:
            bad.append(f"{g}: finds expected {fnd}, published {r[hc]:g}")
        if rec and abs(r[rc] - fnd / rec) > ROUND:
            bad.append(f"{g}: find rate expected {fnd / rec:.4f} ({fnd}/{rec}), published {r[rc]}")
        lo, hi = fnd / rec, (fnd + blank_linked) / rec
        if not (lo - ROUND <= r[rc] <= hi + ROUND) or r[rc] > oc["any"][g] / rec + ROUND:
            bad.append(f"{g}: find rate {r[rc]} outside the raw range [{lo:.4f}, {hi:.4f}] "
                       f"(any-outcome rate {oc['any'][g] / rec:.4f})")
    assert not bad, f"{force}:\n" + "\n".join(bad)


def test_west_yorkshire_find_rate_is_plausible(built, raw):
    """24,016 NFA rows say 'linked = True': counted alone that is a ~79% 'find rate'."""
    pub = built("west-yorkshire")
    fr = raw["west-yorkshire"]
    assert fr.nfa_linked_true() == 24016
    out = _outcomes(pub)
    rc = _rate_col(next(iter(out.values())).keys())
    rates = {g: r[rc] for g, r in out.items() if isinstance(r[rc], float)}
    assert rates, "West Yorkshire: no find rate published"
    for g, v in rates.items():
        if g in ("White", "Asian", "Black"):  # groups with hundreds of searches: 10-25% (raw: 17.8% overall)
            assert 0.10 <= v <= 0.25, f"West Yorkshire {g}: find rate {v:.3f}, expected 10-25% (not ~79%)"
    sec = section(pub.text, 4)
    pct = [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)\s*%", sec)]
    assert not any(70 <= p <= 85 for p in pct), f"West Yorkshire outcomes text shows a ~79% figure: {pct}"


def test_merseyside_find_rate_not_recorded(built, raw):
    pub = built("merseyside")
    months = headline_months(pub)
    cov = _coverage(raw["merseyside"], months)
    assert cov < 0.9, f"Merseyside {months[0]}..{months[-1]}: raw linked coverage {cov:.1%} (expected mostly blank)"
    out = _outcomes(pub)
    rc = _rate_col(next(iter(out.values())).keys())
    assert all(not isinstance(r[rc], float) for r in out.values()), \
        f"Merseyside: a find rate is published: {[(g, r[rc]) for g, r in out.items()]}"
    assert "not recorded" in section(pub.text, 4).lower(), "Merseyside: the Outcomes section does not say 'not recorded'"


@pytest.mark.parametrize("force", FORCES)
def test_arrest_and_any_outcome_rates_equal_raw(force, built, raw):
    """The report publishes arrest and any-outcome rates by group, equal to the raw recount."""
    pub = built(force)
    months = headline_months(pub)
    oc = raw[force].outcome_counts(months)
    out = _outcomes(pub)
    cols = list(next(iter(out.values())).keys())
    want = {g: (oc["arrest"][g] / oc["recorded"][g] if oc["recorded"][g] else None,
                oc["any"][g] / oc["recorded"][g] if oc["recorded"][g] else None) for g in out}
    arr = next((c for c in cols if re.fullmatch(r"arrest_?rate", c)), None)
    anyc = next((c for c in cols if re.fullmatch(r"(any_outcome|any|outcome|positive_outcome)_?rate", c)), None)
    raw_txt = "; ".join(f"{g} arrest {a:.1%} any {b:.1%}" for g, (a, b) in want.items() if a is not None)
    assert arr and anyc, (f"{force}: outcomes.csv publishes no arrest rate and/or any-outcome rate (columns {cols}); "
                          f"raw {months[0]}..{months[-1]}: {raw_txt}")
    bad = []
    for g, r in out.items():
        a, b = want[g]
        for col, w in ((arr, a), (anyc, b)):
            if isinstance(r[col], float) and w is not None and abs(r[col] - w) > ROUND:
                bad.append(f"{g}: {col} expected {w:.4f}, published {r[col]}")
    assert not bad, f"{force}:\n" + "\n".join(bad)
