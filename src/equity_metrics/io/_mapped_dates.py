"""Date and time parsing for the mapped reader.

Holds the helpers that turn a text column (and an optional separate time
column) into canonical date values under a :class:`DateSpec`: formats are
tried in order, Excel/Parquet text also gets ISO fallbacks, local times are
localised to the mapping's time zone (daylight-saving gaps shifted forward,
repeated hours taken as the first occurrence), and the parse yields the
unparseable mask, the ``time_known`` flag and the raw text kept for the ledger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._mapping_spec import DateSpec

_TYPED_FALLBACK = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S%z")


def _parse(t: pd.Series, ok: np.ndarray, fmts: tuple[str, ...]) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Try formats in order: (naive wall times, UTC instants, has-time flag)."""
    wall = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us]")
    inst = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us, UTC]")
    has_time = np.zeros(len(t), bool)
    todo = ok.copy()
    for fmt in fmts:
        if not todo.any():
            break
        aware = "%z" in fmt
        p = pd.to_datetime(t[todo], format=fmt, errors="coerce", utc=aware)
        year = p.dt.year
        p = p.where((year >= 1678) & (year <= 2261))
        got = p.notna().to_numpy(bool)
        idx = t.index[todo][got]
        if aware:
            inst.loc[idx] = p[got].astype("datetime64[us, UTC]")
        else:
            wall.loc[idx] = p[got].astype("datetime64[us]")
        has_time[np.flatnonzero(todo)[got]] = "%H" in fmt or "%I" in fmt
        todo[np.flatnonzero(todo)[got]] = False
    return wall, inst, has_time


def _dates(t, m, tt, spec: DateSpec, dtype: str, typed: bool):
    fmts = spec.formats + tuple(f for f in _TYPED_FALLBACK if typed and f not in spec.formats)
    wall, inst, has_time = _parse(t, ~m, fmts)
    rawtxt = t.where(~m, None)
    tu = np.zeros(len(t), bool)
    if tt is not None:
        ttxt, tm = tt
        tp, _, _ = _parse("1970-01-01 " + ttxt, ~tm, tuple("%Y-%m-%d " + f for f in spec.time_formats))
        tok = tp.notna().to_numpy(bool)
        tu = ~tm & ~tok & ~m
        delta = tp - pd.Timestamp("1970-01-01")
        w_ok = wall.notna().to_numpy(bool) & tok
        wall[w_ok] = wall[w_ok].dt.normalize() + delta[w_ok]
        has_time = np.where(tok, True, has_time)
        rawtxt = rawtxt.where(tm | m, rawtxt + " " + ttxt)
    parsed = (wall.notna() | inst.notna()).to_numpy(bool)
    u = ~m & ~parsed
    if dtype == "datetime64[ns, tz]":
        tz = spec.tz or "UTC"
        loc = wall.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        odd = (wall.notna() & loc.isna()).to_numpy(bool)
        if odd.any():
            loc[odd] = wall[odd].dt.tz_localize(tz, ambiguous=np.ones(int(odd.sum()), bool), nonexistent="shift_forward")
        vals = loc.dt.tz_convert("UTC").where(wall.notna(), inst).dt.tz_convert(tz).astype(f"datetime64[ns, {tz}]")
    elif dtype == "period[M]":
        vals = wall.dt.to_period("M")
    else:
        vals = wall.astype("datetime64[ns]")
    known = pd.Series(np.where(parsed, has_time, False), dtype="boolean").where(parsed, pd.NA)
    return vals, u, known, rawtxt, tu, int(odd.sum()) if dtype == "datetime64[ns, tz]" else 0
