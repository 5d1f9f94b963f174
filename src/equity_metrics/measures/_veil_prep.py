"""Veil of darkness, data preparation: locations, sun times, the inter-twilight window, counts.

The steps follow the Stanford Open Policing Project's tutorial and paper code
(stanford-policylab/opp ``lib/veil_of_darkness_test.R``; Pierson et al. 2020):

* clock minute of the event ``minute = hour * 60 + minute`` (local time);
* sunset and dusk of the event's local date at its location (:func:`sun_times`), as clock minutes;
* the inter-twilight window: ``min(dusk_minute) <= minute <= max(dusk_minute)`` over the window
  group (an area, or an area x clock-change window);
* drop the ambiguous minutes ``sunset_minute < minute < dusk_minute``;
* ``is_dark = minute > dusk_minute``; only the two compared groups are kept.

Every dropped row is counted under its reason, so ``rows in == rows used + rows dropped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataValidationError, MissingColumnsError
from ._suncalc import DUSK_ALTITUDE, SUNSET_ALTITUDE, _check_tz, _set_times

# Reference points for police force areas whose records carry no coordinates at all in the
# police.uk archive used here (South Yorkshire: 100% blank). Approximate city-centre coordinates of
# the force's largest city, rounded to 0.01 degree (as given by GeoNames / Wikipedia for Sheffield).
# A 0.1 degree error in longitude moves sunset by about 24 seconds.
FORCE_REFERENCE_POINTS: dict[str, tuple[float, float, str]] = {
    "south-yorkshire": (53.38, -1.47, "Sheffield city centre (approximate; the force's largest city)"),
}

MIN_COORDINATES_FOR_CENTROID = 30

TWELVE_HOUR = "times look like a 12-hour clock (none after 12:59 in the area)"
MIN_ROWS_FOR_CLOCK_CHECK = 50

REASONS = (
    "no time of day",
    TWELVE_HOUR,
    "not in the two compared groups",
    "no location",
    "outside the clock-change windows",
    "no dusk that day (polar day or night)",
    "outside the inter-twilight window",
    "between sunset and dusk (ambiguous light)",
)


@dataclass
class Prepared:
    """Rows used (one per event) plus what was dropped and how each area was located."""

    rows: pd.DataFrame
    dropped: dict[str, int]
    n_in: int
    locations: pd.DataFrame
    windows: pd.DataFrame
    time_known_share: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    twelve_hour_areas: list = field(default_factory=list)


def _season(month: np.ndarray) -> np.ndarray:
    return np.select([np.isin(month, (12, 1, 2)), np.isin(month, (3, 4, 5)), np.isin(month, (6, 7, 8))],
                     ["winter", "spring", "summer"], "autumn")


def clock_changes(first: pd.Timestamp, last: pd.Timestamp, tz: str) -> pd.DataFrame:
    """Local dates of the daylight-saving changes in ``tz`` between two dates: ``date``, ``kind`` (spring/autumn)."""
    days = pd.date_range(first.normalize() - pd.Timedelta(days=1), last.normalize() + pd.Timedelta(days=1), freq="D")
    noon = (days + pd.Timedelta(hours=12)).tz_localize(tz)
    offset = np.array([t.utcoffset().total_seconds() for t in noon])
    step = np.diff(offset)
    at = np.nonzero(step)[0] + 1
    return pd.DataFrame({"date": days[at].date, "kind": np.where(step[at - 1] > 0, "spring", "autumn")})


def _local_times(events: pd.DataFrame, time: str, tz: str) -> pd.Series:
    s = events[time]
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert(tz)
    return s


def _locate(events, *, lat, lon, area_values, location, centroids) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Latitude, longitude and source per row; a per-area table of how rows were located."""
    n = len(events)
    la = events[lat].to_numpy(float, na_value=np.nan) if lat else np.full(n, np.nan)
    lo = events[lon].to_numpy(float, na_value=np.nan) if lon else np.full(n, np.nan)
    has = np.isfinite(la) & np.isfinite(lo)
    src = np.where(has, "record", "")
    out_la, out_lo = la.copy(), lo.copy()
    table = []
    refs = dict(FORCE_REFERENCE_POINTS)
    if centroids:
        refs.update({k: (float(v[0]), float(v[1]), "given in centroids=") for k, v in centroids.items()})
    codes, levels = pd.factorize(pd.Series(area_values, dtype="object"), sort=True)
    for i, name in enumerate(levels):
        rows = codes == i
        with_coords = rows & has
        need = rows & ~has
        how, c_lat, c_lon = "", np.nan, np.nan
        if location is not None:
            c_lat, c_lon, how = float(location[0]), float(location[1]), "location= given"
        elif with_coords.sum() >= MIN_COORDINATES_FOR_CENTROID:
            c_lat, c_lon = float(np.median(la[with_coords])), float(np.median(lo[with_coords]))
            how = "median of the area's own record coordinates"
        elif str(name) in refs:
            c_lat, c_lon, note = refs[str(name)]
            how = f"reference point: {note}"
        if need.any() and how:
            out_la[need], out_lo[need] = c_lat, c_lon
            src[need] = "area_centroid"
        table.append({"area": name, "rows": int(rows.sum()), "rows_with_coordinates": int(with_coords.sum()),
                      "rows_located_by_centroid": int(need.sum()) if how else 0,
                      "centroid_latitude": c_lat, "centroid_longitude": c_lon,
                      "centroid_source": how or "none: rows without coordinates are dropped"})
    return out_la, out_lo, src, pd.DataFrame(table)


def prepare(events: pd.DataFrame, *, time: str, group: str, minority: str, majority: str, lat: str | None,
            lon: str | None, tz: str, area: str | None, location, centroids, design: str, weeks: int,
            time_known: str | None, round_minutes: int, split: str | None) -> Prepared:
    """The rows the veil-of-darkness model uses, with the reasons the others were dropped."""
    tz = _check_tz(tz)
    if not isinstance(events, pd.DataFrame):
        raise DataValidationError("events must be a pandas DataFrame of events (e.g. read_policeuk(...).data)")
    need = [c for c in (time, group, lat, lon, area, split) if c]
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise MissingColumnsError(file=None, missing=missing, found=[str(c) for c in events.columns],
                                  hint="name the right columns with time=, group=, lat=, lon=, area= (lat=None, "
                                       "lon=None and location=(lat, lon) when there are no coordinates)")
    n_in = len(events)
    dropped = dict.fromkeys(REASONS, 0)
    local = _local_times(events, time, tz)
    ok = local.notna().to_numpy().copy()
    if time_known and time_known in events.columns:
        ok &= events[time_known].fillna(False).to_numpy(bool)
    area_values = events[area].astype("object").to_numpy() if area else np.full(n_in, "all", dtype=object)
    known = pd.Series(ok).groupby(pd.Series(area_values, dtype="object")).mean()
    dropped["no time of day"] = int((~ok).sum())
    # an area whose timed rows never fall after 12:59 publishes a 12-hour clock without am/pm
    # (police.uk City of London 2019-2021): evening times cannot be told from morning ones
    afternoon = pd.Series(np.where(ok, local.dt.hour.to_numpy(float, na_value=np.nan) >= 13, False))
    by_area = pd.DataFrame({"area": pd.Series(area_values, dtype="object"), "ok": ok, "pm": afternoon})
    stats_ = by_area.groupby("area", sort=True).agg(timed=("ok", "sum"), pm=("pm", "sum"))
    twelve = set(stats_.index[(stats_["timed"] >= MIN_ROWS_FOR_CLOCK_CHECK) & (stats_["pm"] == 0)])
    if twelve:
        bad = ok & pd.Series(area_values, dtype="object").isin(twelve).to_numpy()
        dropped[TWELVE_HOUR] = int(bad.sum())
        ok &= ~bad
    twelve_hour_areas = sorted(twelve, key=str)
    grp = events[group].astype("object")
    in_groups = grp.isin([minority, majority]).to_numpy()
    dropped["not in the two compared groups"] = int((ok & ~in_groups).sum())
    la, lo, src, locations = _locate(events, lat=lat, lon=lon, area_values=area_values, location=location,
                                     centroids=centroids)
    located = np.isfinite(la) & np.isfinite(lo)
    dropped["no location"] = int((ok & in_groups & ~located).sum())

    # the window is computed on every timed, located row (as OPP, before keeping the two groups)
    base = ok & located
    idx = np.nonzero(base)[0]
    t = local.iloc[idx]
    day = t.dt.tz_localize(None).dt.normalize() if getattr(t.dt, "tz", None) is not None else t.dt.normalize()
    frame = pd.DataFrame({
        "row": idx, "area": area_values[idx], "date": day.to_numpy(),
        "minute": (t.dt.hour * 60 + t.dt.minute).to_numpy(np.int64),
        "is_minority": (grp.iloc[idx] == minority).to_numpy(bool), "in_groups": in_groups[idx],
        "location_source": src[idx],
    })
    if split:
        frame["split"] = events[split].astype("object").to_numpy()[idx]
    months = frame["date"].dt.month.to_numpy()
    frame["window"] = frame["date"].dt.year.astype(str).to_numpy() + "-" + _season(months)
    if design == "clock_change":
        if frame.empty:
            changes = pd.DataFrame(columns=["date", "kind"])
        else:
            changes = clock_changes(frame["date"].min(), frame["date"].max(), tz)
        if changes.empty:
            raise DataValidationError(f"no daylight-saving clock change in {tz} within the data's dates; "
                                      "use design='inter_twilight'")
        label = np.full(len(frame), None, dtype=object)
        for ch in changes.itertuples(index=False):
            c = pd.Timestamp(ch.date)
            inside = (frame["date"] >= c - pd.Timedelta(weeks=weeks)) & (frame["date"] < c + pd.Timedelta(weeks=weeks))
            label[inside.to_numpy()] = f"{c.year}-{ch.kind}"
        keep = pd.notna(label)
        dropped["outside the clock-change windows"] = int((~keep & frame["in_groups"].to_numpy()).sum())
        frame = frame[keep].assign(window=label[keep])

    noon = frame["date"].to_numpy("datetime64[s]").astype("int64").astype(float) + 12 * 3600.0
    sunset_s, dusk_s = _set_times(noon, la[frame["row"]], lo[frame["row"]], (SUNSET_ALTITUDE, DUSK_ALTITUDE))
    for name, secs in (("sunset_minute", sunset_s), ("dusk_minute", dusk_s)):
        good = np.isfinite(secs)
        stamp = pd.to_datetime(np.where(good, np.floor(secs), 0).astype("int64"), unit="s", utc=True).tz_convert(tz)
        frame[name] = np.where(good, stamp.hour * 60 + stamp.minute, np.nan)
    has_dusk = frame["dusk_minute"].notna().to_numpy() & frame["sunset_minute"].notna().to_numpy()
    dropped["no dusk that day (polar day or night)"] = int((~has_dusk & frame["in_groups"].to_numpy()).sum())
    frame = frame[has_dusk]

    wkey = ["area", "window"] if design == "clock_change" else ["area"]
    lim = frame.groupby(wkey, sort=True)["dusk_minute"].agg(min_dusk_minute="min", max_dusk_minute="max")
    frame = frame.join(lim, on=wkey)
    inside = ((frame["minute"] >= frame["min_dusk_minute"]) & (frame["minute"] <= frame["max_dusk_minute"])).to_numpy()
    g = frame["in_groups"].to_numpy()
    dropped["outside the inter-twilight window"] = int((~inside & g).sum())
    ambiguous = ((frame["minute"] > frame["sunset_minute"]) & (frame["minute"] < frame["dusk_minute"])).to_numpy()
    dropped["between sunset and dusk (ambiguous light)"] = int((inside & ambiguous & g).sum())
    rows = frame[inside & ~ambiguous & g].copy()
    rows["is_dark"] = (rows["minute"] > rows["dusk_minute"]).to_numpy()
    rows["minutes_after_dusk"] = rows["minute"] - rows["dusk_minute"]
    if round_minutes > 1:  # the model's time variable only (OPP's paper used 5-minute rounding)
        rows["minute"] = (np.round(rows["minute"] / round_minutes) * round_minutes).astype(np.int64)
    rows = rows.drop(columns=["in_groups"]).sort_values("row", kind="stable").reset_index(drop=True)
    windows = lim.reset_index()
    used = len(rows)
    if used + sum(dropped.values()) != n_in:  # pragma: no cover - bookkeeping invariant
        raise RuntimeError(f"veil of darkness bookkeeping: {used} used + {sum(dropped.values())} dropped != {n_in}")
    return Prepared(rows=rows, dropped=dropped, n_in=n_in, locations=locations, windows=windows,
                    time_known_share=known, twelve_hour_areas=twelve_hour_areas)


def count_cells(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Aggregate the row-level data to counts: ``n_minority``, ``n_majority`` per cell of ``keys``."""
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "n_minority", "n_majority"])
    g = rows.groupby(keys, sort=True, observed=True)["is_minority"]
    out = g.agg(n_minority="sum", n="size").reset_index()
    out["n_minority"] = out["n_minority"].astype(np.int64)
    out["n_majority"] = (out.pop("n") - out["n_minority"]).astype(np.int64)
    return out
