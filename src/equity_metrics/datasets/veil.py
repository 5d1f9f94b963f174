"""Synthetic searches with a planted darkness effect, for checking the veil-of-darkness test.

:func:`veil_stops` draws events uniformly over dates and over the evening clock hours; whether each
event is after dusk is decided by the same suncalc dusk the test uses, and the probability that the
person is Black follows ``logit p = logit(base_share) + time_effect(minute) + log(OR) * is_dark`` with
a smooth daily rhythm ``time_effect`` (so the spline in clock time is needed). The planted darkness
odds ratio ``OR`` is what the test should recover.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..measures._suncalc import DUSK_ALTITUDE, _set_times

__all__ = ["veil_stops"]


def veil_stops(
    n: int = 20_000,
    *,
    darkness_odds_ratio: float = 0.8,
    base_share: float = 0.15,
    rhythm: float = 0.4,
    forces: Mapping[str, tuple[float, float]] | None = None,
    start: str = "2019-01-01",
    end: str = "2020-12-31",
    tz: str = "Europe/London",
    other_share: float = 0.1,
    seed: int = 0,
) -> pd.DataFrame:
    """Generate ``n`` evening searches with a known darkness odds ratio (canonical events columns).

    Parameters
    ----------
    n
        Number of events.
    darkness_odds_ratio
        Planted odds ratio of being Black (vs White) after dusk compared with daylight at the same clock time.
    base_share
        Share of Black people among Black and White people searched in daylight at the reference time.
    rhythm
        Amplitude (log odds) of the smooth clock-time effect that the spline must absorb.
    forces
        ``{force: (lat, lon)}``; events are spread evenly over them (coordinates jittered by up to 0.05 deg).
    start, end
        Date range (inclusive).
    tz
        Time zone of the clock times.
    other_share
        Share of events of another group (Asian), which the test drops.
    seed
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        ``event_id``, ``datetime`` (tz-aware), ``time_known``, ``force``, ``latitude``, ``longitude``,
        ``ethnicity`` and ``is_dark_true`` (the darkness used to plant the effect; sunset-to-dusk counts as light).

    Examples
    --------
    >>> from equity_metrics.datasets.veil import veil_stops
    >>> veil_stops(100, seed=1).shape
    (100, 8)
    """
    rng = np.random.default_rng(seed)
    forces = dict(forces or {"northshire": (53.8, -1.55)})
    names = sorted(forces)
    which = rng.integers(0, len(names), n)
    lat = np.array([forces[names[i]][0] for i in which]) + rng.uniform(-0.05, 0.05, n)
    lon = np.array([forces[names[i]][1] for i in which]) + rng.uniform(-0.05, 0.05, n)
    days = pd.date_range(start, end, freq="D")
    day = days[rng.integers(0, len(days), n)]
    minute = rng.integers(15 * 60, 23 * 60, n)  # evenings: 15:00-22:59 local
    noon = day.to_numpy("datetime64[s]").astype("int64").astype(float) + 12 * 3600.0
    (dusk_s,) = _set_times(noon, lat, lon, (DUSK_ALTITUDE,))
    dusk_local = pd.to_datetime(np.floor(dusk_s).astype("int64"), unit="s", utc=True).tz_convert(tz)
    dusk_minute = dusk_local.hour * 60 + dusk_local.minute
    is_dark = minute > dusk_minute
    logit = (np.log(base_share / (1 - base_share)) + rhythm * np.sin(2 * np.pi * (minute - 15 * 60) / (8 * 60))
             + np.log(darkness_odds_ratio) * is_dark)
    black = rng.random(n) < 1 / (1 + np.exp(-logit))
    other = rng.random(n) < other_share
    ethnicity = np.where(other, "Asian", np.where(black, "Black", "White"))
    local = (pd.DatetimeIndex(day) + pd.to_timedelta(minute, unit="min")).tz_localize(tz, ambiguous="NaT",
                                                                                       nonexistent="shift_forward")
    out = pd.DataFrame({
        "event_id": [f"veil/{i}" for i in range(n)],
        "datetime": local,
        "time_known": pd.array(np.ones(n, bool), dtype="boolean"),
        "force": pd.Categorical([names[i] for i in which], categories=names),
        "latitude": lat,
        "longitude": lon,
        "ethnicity": pd.Categorical(ethnicity, categories=["Asian", "Black", "White"]),
        "is_dark_true": is_dark,
    })
    return out.sort_values("datetime", kind="stable").reset_index(drop=True)
