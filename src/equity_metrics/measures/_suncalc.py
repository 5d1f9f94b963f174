"""Sunset and dusk times: a vectorised port of the suncalc algorithm (V. Agafonkin's suncalc.js).

R's ``suncalc::getSunlightTimes`` (used by the Stanford Open Policing Project's veil-of-darkness
code) evaluates suncalc.js's ``getTimes`` at 12:00 UTC of each date and prints times truncated to
the second; :func:`sun_times` does the same, so its values equal R's to the second. The formulas
(after aa.quae.nl, "Astronomy Answers: position of the Sun"): days since J2000 ``d``; Julian cycle
``n = round(d - 0.0009 - lw / 2pi)``; approximate transit; solar mean anomaly ``M``; ecliptic
longitude ``L`` (equation of centre, perihelion 102.9372 deg); declination with obliquity
23.4397 deg; hour angle for the sun's altitude ``h`` (-0.833 deg for sunset, -6 deg for dusk, the end
of civil twilight); set time from the transit with the equation-of-time terms 0.0053 sin M -
0.0069 sin 2L. Local clock time comes from the IANA time zone (zoneinfo, via pandas).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataValidationError, OptionError

__all__ = ["sun_times"]

RAD = np.pi / 180.0
DAY_SECONDS = 86400.0
J1970 = 2440588.0
J2000 = 2451545.0
OBLIQUITY = RAD * 23.4397
SUNSET_ALTITUDE = -0.833  # degrees: upper limb on the horizon, with refraction
DUSK_ALTITUDE = -6.0  # degrees: end of evening civil twilight


def _days_since_j2000(epoch_seconds: np.ndarray) -> np.ndarray:
    return epoch_seconds / DAY_SECONDS - 0.5 + J1970 - J2000


def _set_times(epoch_seconds, lat, lon, altitudes) -> list[np.ndarray]:
    """Epoch seconds (UTC, float) of the evening times at which the sun reaches each altitude (deg).

    ``epoch_seconds`` is the instant suncalc.js's ``getTimes`` receives (R: noon UTC of the date).
    NaN where the sun never reaches the altitude that day (polar day or night).
    """
    d = _days_since_j2000(np.asarray(epoch_seconds, float))
    lw = RAD * -np.asarray(lon, float)
    phi = RAD * np.asarray(lat, float)
    n = np.floor(d - 0.0009 - lw / (2 * np.pi) + 0.5)  # JavaScript Math.round: halves go up
    ds = 0.0009 + lw / (2 * np.pi) + n  # approximate transit
    m = RAD * (357.5291 + 0.98560028 * ds)  # solar mean anomaly
    centre = RAD * (1.9148 * np.sin(m) + 0.02 * np.sin(2 * m) + 0.0003 * np.sin(3 * m))
    ecl = m + centre + RAD * 102.9372 + np.pi  # ecliptic longitude
    dec = np.arcsin(np.sin(ecl) * np.sin(OBLIQUITY))  # declination (ecliptic latitude 0)
    out = []
    with np.errstate(invalid="ignore"):
        for h in altitudes:
            w = np.arccos((np.sin(h * RAD) - np.sin(phi) * np.sin(dec)) / (np.cos(phi) * np.cos(dec)))
            a = 0.0009 + (w + lw) / (2 * np.pi) + n
            j = J2000 + a + 0.0053 * np.sin(m) - 0.0069 * np.sin(2 * ecl)
            out.append((j + 0.5 - J1970) * DAY_SECONDS)
    return out


def _to_local(epoch_seconds: np.ndarray, tz: str) -> pd.DatetimeIndex:
    """Truncate to whole seconds (as R prints suncalc's times) and convert to local time in ``tz``."""
    secs = np.floor(epoch_seconds)
    ok = np.isfinite(secs)
    ns = np.where(ok, secs, 0).astype("int64") * 1_000_000_000
    idx = pd.DatetimeIndex(pd.to_datetime(ns, unit="ns", utc=True))
    idx = idx.where(ok, pd.NaT)
    return idx.tz_convert(tz)


def _check_tz(tz) -> str:
    from zoneinfo import ZoneInfo

    if not isinstance(tz, str):
        raise OptionError(f"tz must be an IANA time zone name such as 'Europe/London' (got {tz!r})")
    try:
        ZoneInfo(tz)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError for malformed keys
        raise OptionError(f"tz={tz!r} is not a known IANA time zone; use e.g. 'Europe/London' or "
                          "'America/New_York'") from exc
    return tz


def sun_times(dates, lat, lon, *, tz: str) -> pd.DataFrame:
    """Sunset and dusk (end of civil twilight, sun 6 degrees below the horizon), local time.

    The suncalc algorithm as R's ``suncalc::getSunlightTimes(date, lat, lon, keep = c("sunset",
    "dusk"), tz = tz)`` runs it (evaluated at 12:00 UTC of each date; times truncated to the second),
    so the results equal R's to the second.

    Parameters
    ----------
    dates
        Calendar dates (anything :func:`pandas.to_datetime` reads; a time of day is ignored).
    lat, lon
        Latitude and longitude in degrees (scalars or arrays broadcast against ``dates``).
    tz
        IANA time zone of the location, for the local clock times (e.g. ``"Europe/London"``).

    Returns
    -------
    pandas.DataFrame
        One row per input: ``date``, ``latitude``, ``longitude``, ``sunset``, ``dusk`` (tz-aware,
        NaT where the sun does not reach that altitude that day), ``sunset_minute`` and
        ``dusk_minute`` (local clock minutes after midnight, ``hour * 60 + minute``, as OPP uses).

    Examples
    --------
    >>> t = sun_times(["2017-06-26", "2017-12-06"], 39.9525839, -75.1652215, tz="America/New_York")
    >>> [str(x.time()) for x in t["dusk"]]
    ['21:07:26', '17:07:09']
    """
    tz = _check_tz(tz)
    day = pd.to_datetime(pd.Series(np.atleast_1d(np.asarray(dates, dtype=object))), errors="coerce")
    if getattr(day.dt, "tz", None) is not None:
        day = day.dt.tz_localize(None)
    day = day.dt.normalize()
    lat_a, lon_a = np.asarray(lat, float), np.asarray(lon, float)
    if np.any(np.abs(lat_a[np.isfinite(lat_a)]) > 90) or np.any(np.abs(lon_a[np.isfinite(lon_a)]) > 180):
        raise DataValidationError("latitude must lie in [-90, 90] and longitude in [-180, 180] degrees; "
                                  "check that the two columns are not swapped")
    noon = (day.to_numpy("datetime64[s]").astype("int64").astype(float) + 12 * 3600.0)
    noon[day.isna().to_numpy()] = np.nan
    noon, lat_b, lon_b = np.broadcast_arrays(noon, lat_a, lon_a)
    sunset, dusk = _set_times(noon, lat_b, lon_b, (SUNSET_ALTITUDE, DUSK_ALTITUDE))
    out = pd.DataFrame({"date": np.broadcast_to(day.dt.date.to_numpy(), noon.shape),
                        "latitude": lat_b, "longitude": lon_b})
    for name, secs in (("sunset", sunset), ("dusk", dusk)):
        local = _to_local(secs, tz)
        out[name] = local
        out[f"{name}_minute"] = pd.array(local.hour * 60 + local.minute, dtype="Int64")
    return out
