"""Per-force recording profiles of the synthetic generator: how each force fills the police.uk fields.

Real police.uk forces differ in *how they record* a search, not only in what happens
(measured on the 44-force archive, 2019-01..2021-11):

* ``Outcome linked to object of search``: some forces set it True on "A no further
  action disposal" rows (West Yorkshire 24,016 NFA rows, 91% of its NFA rows), some
  leave it blank on every row (Metropolitan, Lancashire, Humberside, Gwent), some fill
  it for about a third of the searches with another outcome (Merseyside 35%, West
  Midlands 34%) and leave it blank on NFA rows;
* ``Outcome`` blank on some rows (West Yorkshire 16%, Gwent 24%);
* self-defined ethnicity mostly blank (North Yorkshire ~59%), officer-defined
  ethnicity mostly blank (Gwent 94.6%), coordinates blank for a whole force;
* coverage: files that start or end mid-window and single missing force-months.

A profile is a dict with the keys of :data:`PROFILE_DEFAULTS`. ``linked`` is one of

``"home_office"``
    True exactly on the searches that found their object (whose outcome is never no
    further action), False otherwise, blank on ``linked_blank_share`` of rows at random;
``"linked_on_nfa"``
    as ``"home_office"``, and also True on ``linked_share`` of the NFA rows;
``"sparse"``
    filled (True/False as in ``"home_office"``) on ``linked_share`` of the rows with an
    outcome other than no further action, blank on every other row;
``"blank"``
    blank on every row.

Time-of-day keys (measured on the same archive; ``docs/synthetic-data.md``):
``clock`` is ``"24h"`` (default) or ``"12h_no_ampm"`` (local times written on a
12-hour clock without am/pm, as City of London: hour 0 becomes 12, 13..23 become
1..11, so no time falls after 12:59); ``time_recorded_share`` is the share of searches
written with a time of day, the rest at local midnight (a date without a time, as
Dyfed-Powys 0%, Sussex 11%, Wiltshire 27%, Dorset 35%); ``None`` (default) leaves the
generator's ``date_only_share``. See :func:`record_times`.

Coverage keys (``first_month``, ``last_month``, ``missing_months``,
``header_only_months``) are month strings; ``None`` means the window's edge.

Examples
--------
>>> p = resolve_profiles(["northshire"], pd.period_range("2019-01", "2021-12", freq="M"), None, gaps=True)
>>> p["northshire"]["linked"], p["northshire"]["linked_share"]
('linked_on_nfa', 0.8)
>>> expected_linked_coverage(p["northshire"]), find_rate_recorded(p["northshire"])
(0.95, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..outcome_codes import LINKED_COVERAGE_MIN

LINKED_MODES: tuple[str, ...] = ("home_office", "linked_on_nfa", "sparse", "blank")
CLOCKS: tuple[str, ...] = ("24h", "12h_no_ampm")
NFA = "A no further action disposal"

#: Every key of a profile and its value when neither the area's default nor the caller sets it.
PROFILE_DEFAULTS: dict[str, Any] = {
    "linked": "home_office",
    "linked_share": 0.0,
    "linked_blank_share": 0.05,
    "outcome_blank_share": 0.0,
    "self_defined_blank_share": None,  # None: the generator's global share (not_stated - label)
    "officer_blank_share": 0.05,
    "latlon_blank_share": 0.0,
    "first_month": None,
    "last_month": None,
    "missing_months": [],
    "header_only_months": [],
    # time of day (opt-in; the defaults draw nothing and change no byte of the output)
    "clock": "24h",
    "time_recorded_share": None,  # None: the generator's date_only_share decides
}

#: The recording defaults of each synthetic area (coverage defaults are placed by
#: :func:`default_coverage`, by position in the window, so they fit any window).
AREA_PROFILES: dict[str, dict[str, Any]] = {
    # like West Yorkshire: linked True on most NFA rows, 10% of outcomes blank
    "northshire": {"linked": "linked_on_nfa", "linked_share": 0.8, "outcome_blank_share": 0.10,
                   "officer_blank_share": 0.03, "latlon_blank_share": 0.02},
    # like Merseyside: linked filled on 35% of non-NFA rows, never on NFA rows; self-defined
    # ethnicity blank on 15% (a moderate North Yorkshire); no coordinates at all
    "southvale": {"linked": "sparse", "linked_share": 0.35, "self_defined_blank_share": 0.15,
                  "officer_blank_share": 0.20, "latlon_blank_share": 1.0},
    # clean: the Home Office recording; ends early (like West Midlands) by default coverage
    "eastmoor": {"linked": "home_office", "officer_blank_share": 0.05, "latlon_blank_share": 0.0},
    # like the Metropolitan Police: linked always blank
    "westfold": {"linked": "blank", "officer_blank_share": 0.05, "latlon_blank_share": 0.10},
    # like Gwent: officer-defined ethnicity mostly blank, some outcomes blank
    "highcombe": {"linked": "home_office", "outcome_blank_share": 0.05, "officer_blank_share": 0.90,
                  "latlon_blank_share": 0.05},
}

_SHARES = ("linked_share", "linked_blank_share", "outcome_blank_share", "officer_blank_share", "latlon_blank_share")


def default_coverage(areas: list[str], months: pd.PeriodIndex) -> dict[str, dict[str, Any]]:
    """Positional coverage gaps: a missing month (second area, ~60% through the window),
    a header-only month (third area, ~40%) and, for windows of a year or more, the third
    area's files end three months early."""
    out: dict[str, dict[str, Any]] = {a: {} for a in areas}
    n = len(months)
    if n < 3:
        return out
    miss_area = areas[1] if len(areas) > 1 else areas[0]
    hdr_area = areas[2] if len(areas) > 2 else areas[-1]
    miss_m, hdr_m = months[int(n * 0.6)], months[int(n * 0.4)]
    if miss_area == hdr_area and miss_m == hdr_m:
        hdr_m = months[int(n * 0.4) - 1]
    out[miss_area]["missing_months"] = [str(miss_m)]
    out[hdr_area]["header_only_months"] = [str(hdr_m)]
    if n >= 12:
        out[hdr_area]["last_month"] = str(months[-4])
    return out


def resolve_profiles(
    areas: list[str],
    months: pd.PeriodIndex,
    recording: dict[str, dict[str, Any]] | None,
    *,
    gaps: bool,
) -> dict[str, dict[str, Any]]:
    """Area -> complete, checked profile: defaults, then the area's, then ``recording``'s.

    ``gaps=False`` drops the positional coverage defaults (full coverage) but keeps any
    coverage the caller sets in ``recording``.
    """
    recording = dict(recording or {})
    unknown = sorted(set(recording) - set(areas))
    if unknown:
        raise OptionError(f"recording: area(s) {unknown} are not among the generated areas {areas}")
    cov = default_coverage(areas, months) if gaps else {a: {} for a in areas}
    out: dict[str, dict[str, Any]] = {}
    for a in areas:
        user = dict(recording.get(a) or {})
        bad = sorted(set(user) - set(PROFILE_DEFAULTS))
        if bad:
            raise OptionError(f"recording[{a!r}]: unknown key(s) {bad}; allowed {sorted(PROFILE_DEFAULTS)}")
        prof = dict(PROFILE_DEFAULTS) | AREA_PROFILES.get(a, {}) | cov[a] | user
        if prof["clock"] not in CLOCKS:
            raise OptionError(f"recording[{a!r}]['clock'] must be one of {list(CLOCKS)}, got {prof['clock']!r}")
        trs = prof["time_recorded_share"]
        if trs is not None:
            if isinstance(trs, bool) or not isinstance(trs, (int, float)) or not 0 <= float(trs) <= 1:
                raise OptionError(f"recording[{a!r}]['time_recorded_share'] must be a share in [0, 1] or None, got {trs!r}")
            prof["time_recorded_share"] = float(trs)
        if prof["linked"] not in LINKED_MODES:
            raise OptionError(f"recording[{a!r}]['linked'] must be one of {list(LINKED_MODES)}, got {prof['linked']!r}")
        for k in _SHARES + ("self_defined_blank_share",):
            v = prof[k]
            if v is None and k == "self_defined_blank_share":
                continue
            if not isinstance(v, (int, float)) or not 0 <= float(v) <= 1:
                raise OptionError(f"recording[{a!r}][{k!r}] must be a share in [0, 1], got {v!r}")
            prof[k] = float(v)
        for k in ("first_month", "last_month"):
            prof[k] = _month_in(a, k, prof[k] if prof[k] is not None else (months[0] if k == "first_month" else months[-1]), months)
        if pd.Period(prof["last_month"], "M") < pd.Period(prof["first_month"], "M"):
            raise OptionError(f"recording[{a!r}]: last_month {prof['last_month']} is before first_month {prof['first_month']}")
        for k in ("missing_months", "header_only_months"):
            prof[k] = sorted({_month_in(a, k, m, months) for m in prof[k]})
        clash = set(prof["missing_months"]) & set(prof["header_only_months"])
        if clash:
            raise OptionError(f"recording[{a!r}]: month(s) {sorted(clash)} both missing and header-only")
        out[a] = prof
    return out


def _month_in(area: str, key: str, m: Any, months: pd.PeriodIndex) -> str:
    try:
        p = pd.Period(m, "M")
    except (ValueError, TypeError) as exc:
        raise OptionError(f"recording[{area!r}][{key!r}]: {m!r} is not a month such as '2020-10'") from exc
    if p not in months:
        raise OptionError(f"recording[{area!r}][{key!r}]: {p} falls outside {months[0]}..{months[-1]}")
    return str(p)


def file_months(prof: dict[str, Any], months: pd.PeriodIndex) -> list[str]:
    """Months (in the window) for which the force has a file, header-only ones included."""
    first, last = pd.Period(prof["first_month"], "M"), pd.Period(prof["last_month"], "M")
    miss = set(prof["missing_months"])
    return [str(m) for m in months if first <= m <= last and str(m) not in miss]


def search_months(prof: dict[str, Any], months: pd.PeriodIndex) -> list[str]:
    """Months with searches drawn: file months less header-only ones."""
    hdr = set(prof["header_only_months"])
    return [m for m in file_months(prof, months) if m not in hdr]


def expected_linked_coverage(prof: dict[str, Any]) -> float:
    """Expected share of searches with an outcome other than NFA whose linked field is filled."""
    mode = prof["linked"]
    if mode == "blank":
        return 0.0
    if mode == "sparse":
        return float(prof["linked_share"])
    return round(1.0 - float(prof["linked_blank_share"]), 10)


def find_rate_recorded(prof: dict[str, Any]) -> bool:
    """Whether a find rate can be published for the force (expected coverage >= LINKED_COVERAGE_MIN)."""
    return expected_linked_coverage(prof) >= LINKED_COVERAGE_MIN


def naive_linked_rate(prof: dict[str, Any], hit: float, nfa_if_miss: float) -> float | None:
    """Expected share of rows with the linked field True among rows that fill it (a naive "find rate").

    ``hit`` is the true find probability, ``nfa_if_miss`` P(NFA | no find). ``None``
    when the force never fills the field.
    """
    mode = prof["linked"]
    if mode == "blank":
        return None
    if mode == "sparse":  # only non-NFA rows are filled, at random
        return hit / (hit + (1 - hit) * (1 - nfa_if_miss))
    if mode == "linked_on_nfa":
        return hit + (1 - hit) * nfa_if_miss * float(prof["linked_share"])
    return hit


def record_outcomes(
    rng: np.random.Generator,
    area: np.ndarray,
    hit: np.ndarray,
    outcome: np.ndarray,
    profiles: dict[str, dict[str, Any]],
) -> tuple[np.ndarray, np.ndarray]:
    """The written ``Outcome`` and ``Outcome linked to object of search`` under each area's profile.

    ``outcome`` is the true outcome (a find's outcome is never NFA). Blank outcomes get
    a blank linked field. Draws a fixed number of random numbers whatever the profiles.
    """
    n = len(area)
    u_link, u_blank, u_out = rng.random(n), rng.random(n), rng.random(n)
    nfa = outcome == NFA
    linked = np.where(hit, "True", "False").astype(object)
    out = outcome.astype(object).copy()
    for a, prof in profiles.items():
        m = area == a
        mode = prof["linked"]
        if mode == "blank":
            linked[m] = ""
        elif mode == "sparse":
            linked[m & (nfa | (u_link >= prof["linked_share"]))] = ""
        else:
            if mode == "linked_on_nfa":
                linked[m & nfa & (u_link < prof["linked_share"])] = "True"
            linked[m & (u_blank < prof["linked_blank_share"])] = ""
        ob = m & (u_out < prof["outcome_blank_share"])
        out[ob] = ""
        linked[ob] = ""
    return out, linked


def area_share(area: np.ndarray, profiles: dict[str, dict[str, Any]], key: str, default: float = 0.0) -> np.ndarray:
    """Per-row value of a profile share (``default`` where the profile leaves it ``None``)."""
    vals = {a: (default if p[key] is None else float(p[key])) for a, p in profiles.items()}
    return pd.Series(area, dtype=object).map(vals).to_numpy(dtype=float)


def time_quirks_set(prof: dict[str, Any]) -> bool:
    """Whether a profile asks for a time-of-day quirk (a 12-hour clock or its own timed share)."""
    return prof.get("clock", "24h") != "24h" or prof.get("time_recorded_share") is not None


def profile_for_truth(prof: dict[str, Any]) -> dict[str, Any]:
    """The profile as recorded in the truth: the time-of-day keys only when set (so default truths are unchanged)."""
    if time_quirks_set(prof):
        return dict(prof)
    return {k: v for k, v in prof.items() if k not in ("clock", "time_recorded_share")}


def record_times(
    stops: pd.DataFrame,
    profiles: dict[str, dict[str, Any]],
    rng: np.random.Generator,
    *,
    hour_weights: np.ndarray,
    tz: str,
) -> pd.DataFrame:
    """Rewrite the searches' times of day under each area's ``clock`` and ``time_recorded_share``.

    ``stops`` is the generator's table (``area``, ``local_datetime``, ``date_only``,
    ``_utc``, ``Date``). Areas whose profile keeps the defaults are returned untouched
    and ``rng`` is not used at all unless some area sets a key, so default output is
    unchanged. Draws are made once per distinct (area, local time), so the planted
    exact duplicate rows stay exact duplicates.

    * ``time_recorded_share = s``: a search keeps (or, if it was date-only, gets a
      time drawn from ``hour_weights``) a time of day with probability ``s`` and is
      otherwise written at local midnight (a date without a time);
    * ``clock = "12h_no_ampm"``: a timed search at local hour ``h`` is written at hour
      ``h % 12`` or 12 for ``h % 12 == 0`` (same day, minute and second).

    Examples
    --------
    >>> st = pd.DataFrame({"area": ["a", "a"], "local_datetime": ["2020-06-01T18:30:00.000000", "2020-06-02T00:00:00.000000"],
    ...                    "date_only": [False, True], "_utc": [None, None], "Date": ["", ""]})
    >>> prof = {"a": dict(PROFILE_DEFAULTS, clock="12h_no_ampm")}
    >>> record_times(st, prof, np.random.default_rng(0), hour_weights=np.ones(24), tz="Europe/London")["Date"].tolist()
    ['2020-06-01T05:30:00+00:00', '2020-06-01T23:00:00+00:00']
    """
    todo = [a for a, pr in profiles.items() if time_quirks_set(pr)]
    if not todo or stops.empty:
        return stops
    out = stops.copy()
    area = out["area"].astype(str).to_numpy()
    rows = np.flatnonzero(np.isin(area, todo))
    if not len(rows):
        return out
    sub = out.iloc[rows]
    key = pd.Series(area[rows], dtype=object) + "|" + sub["local_datetime"].astype(str).to_numpy()
    uniq, inv = np.unique(key.to_numpy(dtype=str), return_inverse=True)
    k = len(uniq)
    u = rng.random(k)[inv]
    new_hour = rng.choice(24, size=k, p=hour_weights / hour_weights.sum())[inv]
    new_min = rng.integers(0, 60, size=k)[inv]
    local = pd.to_datetime(sub["local_datetime"].to_numpy(), format="%Y-%m-%dT%H:%M:%S.%f")
    day = local.normalize()
    tod = (local - day).to_numpy()
    date_only = sub["date_only"].to_numpy(dtype=bool).copy()
    frac = sub["Date"].astype(str).str.contains(".", regex=False).to_numpy()
    a_rows = area[rows]
    share = np.array([np.nan if profiles[a]["time_recorded_share"] is None else profiles[a]["time_recorded_share"]
                      for a in a_rows], dtype=float)
    twelve = np.array([profiles[a]["clock"] == "12h_no_ampm" for a in a_rows], dtype=bool)
    set_share = ~np.isnan(share)
    timed = np.where(set_share, u < np.nan_to_num(share), ~date_only)
    gets_time = timed & date_only  # was date-only, now drawn a time (never exactly midnight)
    drawn = new_hour.astype("timedelta64[h]") + np.maximum(new_min, (new_hour == 0)).astype("timedelta64[m]")
    tod = np.where(gets_time, drawn.astype(tod.dtype), tod)
    tod = np.where(timed, tod, np.timedelta64(0, "ns"))
    hours = (tod // np.timedelta64(1, "h")).astype(int)
    h12 = np.where(hours % 12 == 0, 12, hours % 12)
    tod = np.where(timed & twelve, tod - (hours - h12).astype("timedelta64[h]").astype(tod.dtype), tod)
    new_local = pd.DatetimeIndex(day.to_numpy() + tod)
    aware = new_local.tz_localize(tz, ambiguous=np.zeros(len(rows), dtype=bool), nonexistent="shift_forward")
    utc = aware.tz_convert("UTC")
    date_s = np.where(frac & timed, utc.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), utc.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    col = out.columns
    out.iloc[rows, col.get_loc("local_datetime")] = aware.tz_localize(None).strftime("%Y-%m-%dT%H:%M:%S.%f").to_numpy()
    out.iloc[rows, col.get_loc("date_only")] = ~timed
    out.iloc[rows, col.get_loc("_utc")] = utc.tz_localize(None).to_numpy()
    out.iloc[rows, col.get_loc("Date")] = date_s.astype(object)
    return out
