"""What a search's outcome fields mean: the one definition of a "find" used everywhere.

police.uk publishes two fields about what a search led to: ``Outcome`` (no further
action, arrest, community resolution, ...) and ``Outcome linked to object of search``
(True/False/blank). Real files use the second field in ways that make it unusable on
its own:

* several forces (West Yorkshire, Warwickshire, Derbyshire, West Mercia, ...) set it
  True on most "A no further action disposal" rows (24,016 such rows in West Yorkshire
  2019-01..2021-11): counted alone, West Yorkshire's "find rate" is ~79%;
* others (Metropolitan, Lancashire, Humberside, Gwent) leave it blank on every row, and
  Merseyside, West Midlands and Leicestershire fill it for under half of the searches
  with an outcome other than no further action.

The Home Office and HMICFRS count a search as finding what was searched for when its
outcome is **other than no further action and is linked to the object of search**.
That is the canonical ``hit`` column every reader fills (:func:`derive_find`); the raw
field is kept as ``outcome_linked``. Whether a force records the field well enough for
a find rate to mean anything is measured by :func:`linked_coverage` (the share of
searches with an outcome other than no further action whose linked field is filled);
below :data:`LINKED_COVERAGE_MIN` the measures report "not recorded" instead of a rate.
See ``docs/real-data-rules.md`` ("Find rate").

Examples
--------
>>> import pandas as pd
>>> outcome = pd.Series(["A no further action disposal", "Arrest", "Arrest", "Arrest", None])
>>> linked = pd.array([True, True, False, None, True], dtype="boolean")
>>> derive_find(outcome, linked).tolist()
[False, True, False, <NA>, <NA>]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NFA_OUTCOMES", "ARREST_OUTCOMES", "LINKED_COVERAGE_MIN", "is_nfa", "is_arrest", "derive_find",
           "outcome_known", "linked_coverage"]

#: Outcome texts (lower case, stripped) meaning "no further action" in police.uk CSVs
#: ("A no further action disposal") and the police.uk API's older labels.
NFA_OUTCOMES = frozenset({"a no further action disposal", "nothing found - no further action", "no further action"})

#: Outcome texts meaning an arrest (police.uk CSV and API labels).
ARREST_OUTCOMES = frozenset({"arrest", "suspect arrested", "offender arrested"})

#: A find rate is shown for a force-period only when at least this share of its searches
#: with an outcome other than no further action say whether the outcome was linked to the
#: object of search. 0.9 keeps the unknown part small enough that, even if every unknown
#: were a find (or none were), the rate moves by at most ~2-3 points at typical find rates
#: (about a quarter of searches have an outcome other than NFA); below it the bounds are too
#: wide to publish a figure (Merseyside: 35%, West Midlands: 34%, Metropolitan: 0%).
LINKED_COVERAGE_MIN = 0.9


def _text(outcome) -> pd.Series:
    s = pd.Series(outcome, copy=False) if not isinstance(outcome, pd.Series) else outcome
    return s.astype("string").str.strip().str.lower()


def outcome_known(outcome) -> np.ndarray:
    """True where the outcome is recorded (not blank/NA)."""
    t = _text(outcome)
    return (t.fillna("") != "").to_numpy(bool)


def is_nfa(outcome) -> np.ndarray:
    """True where the outcome is no further action (False where blank: see :func:`outcome_known`)."""
    return _text(outcome).isin(NFA_OUTCOMES).to_numpy(bool)


def is_arrest(outcome) -> np.ndarray:
    """True where the outcome is an arrest."""
    return _text(outcome).isin(ARREST_OUTCOMES).to_numpy(bool)


def derive_find(outcome, linked) -> pd.arrays.BooleanArray:
    """The canonical ``hit``: an outcome other than no further action, linked to the object of search.

    ``False`` for no further action (whatever the linked field says) and for other
    outcomes marked not linked; ``<NA>`` where the outcome is blank, or where it is other
    than no further action and the linked field is blank (not recorded).
    """
    known = outcome_known(outcome)
    nfa = is_nfa(outcome)
    lk = pd.array(linked, dtype="boolean")
    lval = lk.fillna(False).to_numpy(bool)
    lna = lk.isna()
    value = known & ~nfa & lval
    na = ~known | (~nfa & lna)
    return pd.arrays.BooleanArray(value & ~na, na)


def linked_coverage(outcome, linked) -> tuple[int, int]:
    """``(filled, eligible)``: searches with an outcome other than NFA, and how many of them fill the linked field."""
    elig = outcome_known(outcome) & ~is_nfa(outcome)
    filled = elig & ~pd.array(linked, dtype="boolean").isna()
    return int(filled.sum()), int(elig.sum())
