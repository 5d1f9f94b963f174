"""Sunset and dusk (suncalc port) against published values and an independent solar-position formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from equity_metrics.errors import DataValidationError, OptionError
from equity_metrics.measures import sun_times
from equity_metrics.measures._suncalc import _set_times

PHILADELPHIA = (39.9525839, -75.1652215)


@pytest.mark.parametrize("date, sunset, dusk", [
    ("2017-06-26", "20:34:39", "21:07:26"),
    ("2017-12-06", "16:36:56", "17:07:09"),
])
def test_opp_tutorial_philadelphia_to_the_second(date, sunset, dusk):
    # The Stanford Open Policing Project tutorial prints these from R:
    # suncalc::getSunlightTimes(date, lat = 39.9525839, lon = -75.1652215, keep = c("sunset", "dusk"),
    #                           tz = "America/New_York")
    t = sun_times([date], *PHILADELPHIA, tz="America/New_York")
    assert str(t["sunset"][0].time()) == sunset
    assert str(t["dusk"][0].time()) == dusk
    h, m, _ = map(int, dusk.split(":"))
    assert t["dusk_minute"][0] == h * 60 + m
    # (fractions of a second are dropped, as R prints them: rounding would give 21:07:27 and 17:07:10)


def test_suncalc_js_own_test_values():
    # mourner/suncalc test.js: SunCalc.getTimes(new Date('2013-03-05UTC'), 50.5, 30.5) gives
    # sunset '2013-03-05T15:46:57Z' and dusk '2013-03-05T16:19:36Z' (the JS receives midnight UTC there)
    instant = pd.Timestamp("2013-03-05", tz="UTC").timestamp()
    sunset, dusk = _set_times(np.array([instant]), 50.5, 30.5, (-0.833, -6.0))
    assert pd.Timestamp(np.floor(sunset[0]), unit="s") == pd.Timestamp("2013-03-05 15:46:57")
    assert pd.Timestamp(np.floor(dusk[0]), unit="s") == pd.Timestamp("2013-03-05 16:19:36")


def _noaa_elevation(ts: pd.Timestamp, lat: float, lon: float) -> float:
    """Solar elevation (deg, no refraction) from the NOAA Solar Calculator formulas (Meeus), independent of suncalc."""
    jd = ts.timestamp() / 86400 + 2440587.5
    t = (jd - 2451545) / 36525
    l0 = (280.46646 + t * (36000.76983 + t * 0.0003032)) % 360
    m = np.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    c = (np.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t)) + np.sin(2 * m) * (0.019993 - 0.000101 * t)
         + np.sin(3 * m) * 0.000289)
    omega = np.radians(125.04 - 1934.136 * t)
    app = np.radians(l0 + c - 0.00569 - 0.00478 * np.sin(omega))
    eps = np.radians(23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60
                     + 0.00256 * np.cos(omega))
    decl = np.arcsin(np.sin(eps) * np.sin(app))
    y = np.tan(eps / 2) ** 2
    l0r = np.radians(l0)
    eqt = 4 * np.degrees(y * np.sin(2 * l0r) - 2 * e * np.sin(m) + 4 * e * y * np.sin(m) * np.cos(2 * l0r)
                         - 0.5 * y * y * np.sin(4 * l0r) - 1.25 * e * e * np.sin(2 * m))
    minutes = ts.hour * 60 + ts.minute + ts.second / 60
    tst = (minutes + eqt + 4 * lon) % 1440
    ha = np.radians(tst / 4 - 180)
    cos_zen = np.sin(np.radians(lat)) * np.sin(decl) + np.cos(np.radians(lat)) * np.cos(decl) * np.cos(ha)
    return 90 - np.degrees(np.arccos(cos_zen))


def test_london_local_time_and_independent_sun_altitude():
    london = (51.5074, -0.1278)
    dates = ["2019-03-30", "2019-03-31", "2019-06-21", "2019-09-23", "2019-12-21", "2020-10-24", "2020-10-25"]
    t = sun_times(dates, *london, tz="Europe/London")
    # British Summer Time: +01:00 from 2019-03-31 (the clock change), GMT from 2020-10-25
    offsets = [x.utcoffset().total_seconds() / 3600 for x in t["dusk"]]
    assert offsets == [0, 1, 1, 1, 0, 1, 0]
    # the clock change moves dusk by about an hour of clock time overnight (the clock-change design relies on it)
    assert 55 <= t["dusk_minute"][1] - t["dusk_minute"][0] <= 65
    assert -65 <= t["dusk_minute"][6] - t["dusk_minute"][5] <= -55
    # midsummer dusk after 22:00 BST, midwinter dusk before 16:45 GMT
    assert t["dusk_minute"][2] > 22 * 60 and t["dusk_minute"][4] < 16 * 60 + 45
    # independent check: NOAA's solar elevation at the computed instants is about -0.833 and -6 degrees
    # (suncalc is a low-precision algorithm: within 0.5 degree, i.e. about 3 minutes at London)
    for col, target in (("sunset", -0.833), ("dusk", -6.0)):
        for stamp in t[col]:
            el = _noaa_elevation(stamp.tz_convert("UTC"), *london)
            assert abs(el - target) < 0.5, (col, stamp, el)


def test_vectorised_polar_and_errors():
    t = sun_times(pd.date_range("2019-06-01", periods=3), np.array([51.5, 78.2, -33.9]), np.array([-0.1, 15.6, 151.2]),
                  tz="UTC")
    assert t["dusk"].isna().tolist() == [False, True, False]  # Svalbard in June: the sun never sets
    assert t["dusk_minute"].isna().tolist() == [False, True, False]
    with pytest.raises(OptionError, match="IANA"):
        sun_times(["2019-01-01"], 51.5, -0.1, tz="Mars/Olympus")
    with pytest.raises(DataValidationError, match="swapped"):
        sun_times(["2019-01-01"], 151.2, -33.9, tz="UTC")
