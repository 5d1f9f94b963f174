"""Worked example: officer-level internal benchmarking of Chicago use of force, 2004-2016.

Reads the tactical response reports (TRR) with
:func:`~equity_metrics.read_chicago_use_of_force` (officer, subject race, time,
beat, the officer's unit), derives the police district from the beat (a
Chicago beat number is its district followed by two digits: beat 1134 is in
district 11; the reader leaves ``district`` blank) and runs
:func:`~equity_metrics.measures.internal_benchmark.internal_benchmark` on the
share of subjects recorded as Black.

Use-of-force reports are sparse per officer (median 4 per officer in 12 years),
so the default minimum is 20 reports: about 550 officers. Each officer's
reports are compared with other officers' reports in the same district x shift
x year (propensity cells), adjusted for beat, hour, weekday, month and the
officer's unit of assignment (outcome regression). Two thirds of the reports
share an incident (``event_no``) with another officer's report, usually of the
same subject: those partner reports are left out of the officer's comparison.
"""

from __future__ import annotations

import os

import pandas as pd

from ..io.chicago import read_chicago_use_of_force
from ..measures.internal_benchmark import OfficerBenchmarkResult, internal_benchmark

__all__ = ["chicago_officer_events", "chicago_officer_benchmark"]

#: Propensity cells and outcome-model features of the worked example.
MATCH_ON = ("district", "shift", "year")
ADJUST_FOR = ("beat", "hour", "weekday", "month", "officer_unit")
#: Incident identifier: reports by partners at the same incident are not the officer's comparison.
INCIDENT = "event_no"


def chicago_officer_events(folder: str | os.PathLike) -> pd.DataFrame:
    """Chicago use-of-force events with ``district`` taken from the beat (first digits of the beat number).

    Examples
    --------
    >>> ev = chicago_officer_events("../shared/data/chicago")  # doctest: +SKIP
    >>> ev["district"].value_counts().index[0]  # doctest: +SKIP
    '11'
    """
    d = read_chicago_use_of_force(folder).data.copy()
    beat = d["beat"].astype("string").str.strip()
    from_beat = beat.str[:-2].where(beat.str.fullmatch(r"\d{3,4}").fillna(False))
    have = d["district"].astype("string").str.strip() if "district" in d.columns else pd.Series(pd.NA, index=d.index)
    d["district"] = have.where(have.notna() & (have != ""), from_beat).astype("string")
    return d


def chicago_officer_benchmark(
    folder: str | os.PathLike,
    *,
    target: str = "Black",
    min_encounters: int = 20,
    threshold: float = 0.2,
) -> OfficerBenchmarkResult:
    """Internal benchmarking of Chicago officers' use-of-force subjects (the worked example).

    Parameters
    ----------
    folder
        The folder with the Invisible Institute ``TRR-*`` files (``../shared/data/chicago``).
    target
        Subject group whose share is compared (default ``"Black"``).
    min_encounters
        Reports (with known subject race) an officer needs to be examined (default 20).
    threshold
        fdr below which officers are flagged (default 0.2).

    Returns
    -------
    OfficerBenchmarkResult

    Examples
    --------
    >>> res = chicago_officer_benchmark("../shared/data/chicago")  # doctest: +SKIP
    >>> res.n_officers  # doctest: +SKIP
    548
    """
    events = chicago_officer_events(folder)
    return internal_benchmark(events, target=target, match_on=MATCH_ON, adjust_for=ADJUST_FOR, incident=INCIDENT,
                              min_encounters=min_encounters, threshold=threshold)
