"""Time-of-day quirks of the generators (recording keys ``clock`` and ``time_recorded_share``; national quirks).

The real 44-force police.uk archive (2019-01..2021-11), read with ``read_policeuk(forces=[...])``:
City of London 7,939 searches, all with a time, none after 12:59 local (hours 1..12: a
12-hour clock without am/pm); Dyfed-Powys 8,659 searches, none with a time; Sussex,
Wiltshire and Dorset with a time on 10.77%, 26.97% and 35.41% (docs/synthetic-data.md).
The generators must plant these so that the veil-of-darkness test meets them as it does
on the real archive (tests/test_veil_real.py), and must not change any default output.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics.datasets._vocab import POLICEUK_HEADER
from equity_metrics.datasets.national import NATIONAL_QUIRKS, write_national_archive
from equity_metrics.datasets.synthetic import generate, write
from equity_metrics.errors import OptionError
from equity_metrics.measures._veil_prep import TWELVE_HOUR

AREAS = ["northshire", "southvale", "eastmoor", "westfold"]
QUIRKS = {"northshire": {"clock": "12h_no_ampm"}, "southvale": {"time_recorded_share": 0.0},
          "eastmoor": {"time_recorded_share": 0.3}}  # fmt: skip
KW = dict(seed=3, areas=AREAS, months=("2019-01", "2020-12"), officers_per_area=2, gaps=False)
NATIONAL = ["city-of-london", "dorset", "dyfed-powys", "sussex", "wiltshire", "metropolitan"]


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(Path(folder).rglob("*")):
        if f.is_file():
            h.update(f.relative_to(folder).as_posix().encode() + f.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    sd = generate(**KW, recording=QUIRKS)
    folder = tmp_path_factory.mktemp("quirks")
    write(sd, folder)
    return sd, em.read_policeuk(folder / "policeuk").data


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    folder = tmp_path_factory.mktemp("national_quirks")
    archive = write_national_archive(folder, years=2, start="2019-01", rows_per_year=60_000, forces=NATIONAL, seed=9)
    return archive, em.read_policeuk(folder).data


def _after_1259(d: pd.DataFrame) -> pd.Series:
    known = d["time_known"].astype(bool)
    return (d["datetime"].dt.hour >= 13) & known


# ------------------------------------------------------------------ (1) read back shows the quirks
def test_synthetic_quirks_read_back(synthetic):
    sd, d = synthetic
    by = d.groupby("force", observed=True)
    known = by["time_known"].mean().astype(float)
    n = by.size()
    assert known["southvale"] == 0.0  # like Dyfed-Powys: every record a date without a time
    se = np.sqrt(0.3 * 0.7 / n["eastmoor"])
    assert abs(known["eastmoor"] - 0.3) < 4 * se  # time_recorded_share 0.3
    assert known["northshire"] > 0.9 and known["westfold"] > 0.9  # date_only_share 0.04 only
    late = _after_1259(d).groupby(d["force"], observed=True).sum()
    assert late["northshire"] == 0 and late["westfold"] > 100  # 12-hour clock: nothing after 12:59
    nh = d[(d["force"] == "northshire") & d["time_known"].astype(bool)]["datetime"].dt.hour
    assert set(nh) == set(range(1, 13))  # hours 1..12, as City of London (00:xx written 12:xx)
    # the truth columns agree with what the reader sees
    assert sd.stops.groupby("area")["date_only"].sum().to_dict() == (~d["time_known"].astype(bool)).groupby(
        d["force"], observed=True).sum().to_dict()  # fmt: skip
    assert sd.truth.recording["eastmoor"]["time_recorded_share"] == 0.3
    assert "clock" not in sd.truth.recording["westfold"]  # untouched profiles keep their old truth


def test_synthetic_quirks_change_only_the_time(synthetic):
    sd, _ = synthetic
    base = generate(**KW)
    keep = [c for c in sd.stops.columns if c not in ("Date", "local_datetime", "date_only", "_utc")]
    pd.testing.assert_frame_equal(sd.stops[keep], base.stops[keep])
    # the untouched area is identical in every column; a 12-hour row keeps its day, minute and second
    same = sd.stops["area"] == "westfold"
    pd.testing.assert_frame_equal(sd.stops[same], base.stops[same])
    north = (sd.stops["area"] == "northshire") & ~base.stops["date_only"]
    old = pd.to_datetime(base.stops.loc[north, "local_datetime"])
    new = pd.to_datetime(sd.stops.loc[north, "local_datetime"])
    moved = new.dt.hour != 2  # the spring-forward hour is shifted by the time zone, as the reader does
    assert (old.dt.date == new.dt.date).all() and (old.dt.minute[moved] == new.dt.minute[moved]).all()
    assert ((old.dt.hour % 12).replace(0, 12)[moved] == new.dt.hour[moved]).all()
    # planted exact duplicates stay exact: every copy of a row in the default data has the same copies here
    dup = base.stops.duplicated(list(POLICEUK_HEADER), keep=False) & (base.stops["area"] != "westfold")
    grp = base.stops[dup].groupby(list(POLICEUK_HEADER), sort=False).ngroup()
    assert sd.stops.loc[dup, list(POLICEUK_HEADER)].groupby(grp.to_numpy()).nunique().max().max() == 1


def test_national_quirks_read_back(national):
    archive, d = national
    by = d.groupby("force", observed=True)
    known = by["time_known"].mean().astype(float)
    n = by.size()
    for force, share in NATIONAL_QUIRKS["time_recorded"].items():
        tol = 4 * np.sqrt(max(share * (1 - share), 1e-9) / n[force])
        assert abs(known[force] - share) <= tol, force
    assert known["city-of-london"] == 1.0 and known["dyfed-powys"] == 0.0
    late = _after_1259(d).groupby(d["force"], observed=True).sum()
    assert late["city-of-london"] == 0 and late["metropolitan"] > 100 and late["sussex"] > 10


# ------------------------------------------------------------------ (2) veil of darkness meets them as on the real archive
def test_veil_marks_the_synthetic_quirk_forces(synthetic):
    _, d = synthetic
    t = em.veil_of_darkness_by_area(d, area="force").tidy().set_index("area")
    assert t.loc["southvale", "reason"] == "no times of day recorded"
    assert "12-hour clock" in t.loc["northshire", "reason"]
    assert t.loc["eastmoor", "reason"].startswith("times of day recorded for only")
    assert not t.loc[["southvale", "northshire", "eastmoor"], "applicable"].any()
    assert "12-hour" not in t.loc["westfold", "reason"] and t.loc["westfold", "share_time_known"] > 0.9
    # (the pooled fit, which drops the 12-hour rows, is checked on the national archive: this one is too small to fit)


def test_veil_marks_the_national_quirk_forces(national):
    _, d = national
    t = em.veil_of_darkness_by_area(d, area="force").tidy().set_index("area")
    # the same rules and reasons as tests/test_veil_real.py on the real archive
    assert t.loc["dyfed-powys", "reason"] == "no times of day recorded"
    assert "12-hour clock" in t.loc["city-of-london", "reason"]
    for force in ("sussex", "wiltshire", "dorset"):
        assert t.loc[force, "reason"].startswith("times of day recorded for only"), force
    assert t.loc["metropolitan", "share_time_known"] > 0.9 and "12-hour" not in t.loc["metropolitan", "reason"]
    pooled = em.veil_of_darkness(d, area="force", design="clock_change")
    assert pooled.dropped[TWELVE_HOUR] == int((d["force"] == "city-of-london").sum())  # all its rows, as 7,939 real


# ------------------------------------------------------------------ (3) default outputs unchanged
# 'before' hashes: the same calls run on commit 0afe647 (HEAD before these keys) in a temporary
# `git worktree add /tmp/wt HEAD` with PYTHONPATH=/tmp/wt/src, same venv (pandas/polars versions
# affect the bytes); the worktree was then removed.
HEAD_SYNTHETIC = "8eed685a8f25b2c013f4c203eecdb568fdcce9841596f7193eae1a50c9b39b18"
HEAD_NATIONAL = "806b2386f9b49d799d456ce8a4782092400b8e66afd9291e084b1bd30e3ecd22"


def test_default_synthetic_output_unchanged(tmp_path):
    write(generate(seed=11, areas=5, months=("2019-10", "2020-09"), officers_per_area=3), tmp_path)
    assert digest(tmp_path) == HEAD_SYNTHETIC
    # spelling out the defaults changes nothing either
    explicit = {a: {"clock": "24h", "time_recorded_share": None} for a in ("northshire", "eastmoor")}
    again = tmp_path / "explicit"
    write(generate(seed=11, areas=5, months=("2019-10", "2020-09"), officers_per_area=3, recording=explicit), again)
    assert digest(again) == HEAD_SYNTHETIC


def test_national_without_time_quirks_is_the_old_output(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    write_national_archive(old, years=1, start="2019-01", rows_per_year=3_000, seed=5, time_quirks=False)
    assert digest(old) == HEAD_NATIONAL
    write_national_archive(new, years=1, start="2019-01", rows_per_year=3_000, seed=5)
    quirky = set(NATIONAL_QUIRKS["time_recorded"]) | set(NATIONAL_QUIRKS["twelve_hour_clock"])
    changed = set()
    for f in sorted(old.rglob("*.csv")):
        force = f.name[8:-len("-stop-and-search.csv")]
        if f.read_bytes() != (new / f.relative_to(old)).read_bytes():
            changed.add(force)
    assert changed <= quirky and {"city-of-london", "dyfed-powys", "sussex"} <= changed  # other forces byte-identical


def test_bad_time_options():
    with pytest.raises(OptionError, match="clock"):
        generate(**KW, recording={"eastmoor": {"clock": "12h"}})
    with pytest.raises(OptionError, match="time_recorded_share"):
        generate(**KW, recording={"eastmoor": {"time_recorded_share": 1.5}})
