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

from ._date_formats import full_width, is_run_format, pad, resolve_values
from ._mapping_spec import DateSpec

_TYPED_FALLBACK = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S%z")


def _parse(t: pd.Series, ok: np.ndarray, fmts: tuple[str, ...], padded: frozenset[str] = frozenset(),
           prefix: tuple[str, str] = ("", "")) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """Try formats in order: (naive wall times, UTC instants, has-time flag, ambiguous flag).

    Formats in ``padded`` left-pad digit strings to their full width first; formats
    whose numeric fields touch (``%m%d%Y``) are resolved value by value and a value
    read more than one way is flagged ambiguous (and not tried by later formats).
    ``prefix`` = (text, format) is put before every value and format (time columns).
    """
    wall = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us]")
    inst = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us, UTC]")
    has_time = np.zeros(len(t), bool)
    amb = np.zeros(len(t), bool)
    todo = ok.copy()
    for fmt in fmts:
        if not todo.any():
            break
        aware = "%z" in fmt
        tt = t[todo]
        if fmt in padded:
            w = full_width(fmt)
            tt = tt.map({u: pad(str(u), w) for u in pd.unique(tt)})
        if is_run_format(fmt):
            res = resolve_values([str(u) for u in pd.unique(tt)], fmt)
            r = tt.map(res)
            is_amb = r.map(lambda x: isinstance(x, str)).to_numpy(bool)
            amb[np.flatnonzero(todo)[is_amb]] = True
            ok_vals = [x if x is not None and not isinstance(x, str) and 1678 <= x.year <= 2261 else None for x in r]
            p = pd.to_datetime(pd.Series(ok_vals, index=tt.index, dtype=object), utc=aware, errors="coerce")
            if prefix[0]:
                p = p - (p.dt.normalize() - pd.Timestamp(prefix[0].strip()))  # time of day on the prefix's date
            got = p.notna().to_numpy(bool)
            done = got | is_amb
        else:
            p = pd.to_datetime(prefix[0] + tt, format=prefix[1] + fmt, errors="coerce", utc=aware)
            year = p.dt.year
            p = p.where((year >= 1678) & (year <= 2261))
            got = p.notna().to_numpy(bool)
            done = got
        idx = tt.index[got]
        if aware:
            inst.loc[idx] = p[got].astype("datetime64[us, UTC]")
        else:
            wall.loc[idx] = p[got].astype("datetime64[us]")
        has_time[np.flatnonzero(todo)[got]] = "%H" in fmt or "%I" in fmt
        todo[np.flatnonzero(todo)[done]] = False
    return wall, inst, has_time, amb


def _dates(t, m, tt, spec: DateSpec, dtype: str, typed: bool):
    fmts = spec.formats + tuple(f for f in _TYPED_FALLBACK if typed and f not in spec.formats)
    wall, inst, has_time, amb = _parse(t, ~m, fmts, spec.padded)
    rawtxt = t.where(~m, None)
    tu = np.zeros(len(t), bool)
    tamb = np.zeros(len(t), bool)
    if tt is not None:
        ttxt, tm = tt
        tp, _, _, tamb = _parse(ttxt, ~tm, spec.time_formats, spec.padded, ("1970-01-01 ", "%Y-%m-%d "))
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
    odd_n = int(odd.sum()) if dtype == "datetime64[ns, tz]" else 0
    return vals, u, known, rawtxt, tu, odd_n, amb & u, tamb & tu
