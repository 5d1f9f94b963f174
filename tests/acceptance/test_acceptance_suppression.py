"""Invariant 4: small-number suppression holds and hidden cells cannot be recovered.

* Primary: every cell whose raw count is 1 to 9 (``suppress_below = 10``) is hidden (``[c]``)
  in every table (headline, by area, by power, by object, outcomes searches and finds,
  monthly trend, rolling-window trend).
* Unrecoverable: using only the published CSV tables, the feasibility interval ``[L, U]`` of
  every hidden cell (an integer programme linking the headline, by-area, by-power, by-object,
  monthly trend, rolling-window trend, outcomes and Home Office comparison tables, written
  independently in ``_attack.py``) must meet the rule of docs/real-data-rules.md
  ("Minimum protection interval"): ``L >= n``, or ``U >= n`` and ``U - L >= n - 1``
  (``n = suppress_below = 10``). A published set of tables with no consistent integer solution
  is a failure too (the tables contradict each other).
"""

from __future__ import annotations

import pytest

from . import _raw
from ._attack import build_attack, hidden_protection
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
    bad = []
    if att.solve() is None:
        diag = build_attack(pub, diagnose=True).notes
        bad.append(f"the published tables have no consistent integer solution ({'; '.join(diag)}); "
                   "a hidden monthly total must be >= 1 by the documented rule")
        att = build_attack(pub, month_lb=0.0)  # audit the rest with that relation relaxed
        assert att.solve() is not None, f"{force}: tables contradict each other: {bad}"
    prot = hidden_protection(att, THRESHOLD)
    for name, (ok, lo, hi) in prot.items():
        if lo is None:
            bad.append(f"{name}: could not be bounded")
        elif not ok:
            what = "a hidden zero, pinned at 0" if hi is not None and hi <= 0 else "pinned"
            bad.append(f"{name}: {what}: the published tables allow only {lo:g}..{hi:g} "
                       f"(rule: L >= {THRESHOLD}, or U >= {THRESHOLD} and U - L >= {THRESHOLD - 1})")
    assert not bad, (f"{force}: {len(bad)} problem(s) among {len(prot)} hidden cells"
                     f"{' (solver time limit hit: ' + str(len(att.inexact)) + ')' if att.inexact else ''}:\n"
                     + "\n".join(bad[:40]))


#: Columns that would give a hidden count back (rate x population, ratio x reference, bounds, share).
REVEALING = ("rate_per_1000", "rate_ci_low", "rate_ci_high", "ratio", "ci_low", "ci_high", "ratio_bound_low",
             "ratio_bound_high", "any_outcome_rate", "arrest_rate", "find_rate", "difference")
#: Flags that bound a hidden count (docs/real-data-rules.md: a hidden count's row carries none of them).
BOUNDING_FLAGS = ("small_count", "reference_small_count", "rate_above_1000_benchmark_implausible")


@pytest.mark.parametrize("force", FORCES)
def test_hidden_counts_reveal_nothing_in_their_row(force, built):
    pub = built(force)
    bad = []
    for name, rows in pub.tables.items():
        for r in rows:
            counts = [c for c in ("events", "searches", "police_uk") if c in r]
            if not any(r[c] is HID for c in counts):
                continue
            where = f"{name} {r.get('period', '')} {r.get('legal_power', r.get('object_of_search', ''))} {r.get('group', '')}"
            for c in REVEALING:
                if c in r and isinstance(r[c], float) and not (c == "ratio" and r.get("group") == "White"):
                    bad.append(f"{where}: count hidden but {c} = {r[c]} published")
            flags = str(r.get("flags", "")).split(";")
            for f in BOUNDING_FLAGS:
                if f in flags:
                    bad.append(f"{where}: count hidden but flagged {f}")
    assert not bad, f"{force}:\n" + "\n".join(bad[:30])
