"""Invariant 4: small-number suppression holds and hidden cells cannot be recovered.

* Primary: every cell whose raw count is 1 to 9 (``suppress_below = 10``) is hidden (``[c]``)
  in every table (headline, by area, by power, by object, outcomes searches and finds,
  monthly trend, rolling-window trend).
* Unrecoverable: using only the published tables, the minimum and maximum of every hidden
  cell consistent with all the published totals (an integer program linking the headline,
  by-power, by-object, monthly trend and outcomes tables, ``_attack.py``) must not pin it.
  Protection rule assumed (docs/real-data-rules.md "Small-number suppression" is not written
  yet): the feasible interval must contain a value >= the threshold and be wider than one
  value, i.e. ``max >= 10`` and ``max > min``.
"""

from __future__ import annotations

import pytest

from . import _raw
from ._attack import build_attack, hidden_bounds
from ._expect import expected_row, headline_months
from ._published import HID
from .conftest import FORCES

pytestmark = [pytest.mark.shared]

THRESHOLD = 10


@pytest.mark.parametrize("force", FORCES)
def test_small_counts_are_hidden(force, built, raw):
    pub = built(force)
    fr = raw[force]
    bad = []
    for name in ("headline", "ratios_by_area", "ratios_by_legal_power", "ratios_by_object_of_search",
                 "trend_searches", "trend_ratio"):
        for r in pub.tables.get(name, []):
            exp = expected_row(fr, name, r)
            if not set(exp["months"]) <= fr.file_months:
                continue
            n = exp["events"]
            if 1 <= n < THRESHOLD and r["events"] is not HID:
                bad.append(f"{name} {r.get('period', '')} {r.get('legal_power', r.get('object_of_search', ''))} "
                           f"{r.get('group', '')}: raw count {n} published as {r['events']!r}")
    oc = fr.outcome_counts(headline_months(pub))
    for r in pub.tables.get("outcomes", []):
        g = r["group"]
        for col, key in (("searches", "recorded"), ("hits", "find")):
            n = oc[key][g]
            v = r.get(col)
            if 1 <= n < THRESHOLD and isinstance(v, float) and v == n:
                bad.append(f"outcomes {g} {col}: raw count {n} published")
    assert not bad, f"{force}: small counts published:\n" + "\n".join(bad[:30])


@pytest.mark.slow
@pytest.mark.parametrize("force", FORCES)
def test_hidden_cells_cannot_be_recovered(force, built):
    pub = built(force)
    att = build_attack(pub)
    assert att.solve({}, 1) is not None, f"{force}: the published tables contradict each other ({att.notes})"
    bounds = hidden_bounds(att)
    bad = []
    for name, (lo, hi) in bounds.items():
        if lo is None or hi is None:
            bad.append(f"{name}: could not bound (solver)")
        elif hi < THRESHOLD or hi - lo < 1:
            bad.append(f"{name}: hidden, but the published tables pin it to {lo:g}..{hi:g}")
    assert not bad, (f"{force}: {len(bad)} of {len(bounds)} hidden cells recoverable "
                     f"({'; '.join(att.notes) or 'tables linked exactly'}):\n" + "\n".join(bad[:30]))
