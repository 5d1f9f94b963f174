"""Building blocks of :func:`equity_metrics.models.panel.build_panel`.

Holds the private steps the panel builder chains together: parsing outcome
specifications (``"stops"``, ``"searches/stops"``, ``"disparity:Black"``...),
reading dates and periods, choosing the window, the courses and the officer or
area universe, dating each unit's first treatment, computing exposure and the
outcome columns, and the benchmark shares behind disparity outcomes. Each step
records what it drops and why in the notes and counters it is given; nothing
here is public, and every name is re-exported from ``models.panel``.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..areas import normalise_forces
from ..errors import DataValidationError
from ..ledger import ReadResult
from ..ethnicity import NOT_STATED
from ..measures._common import frame_of, need_columns
from ..schema import EVENT_TYPES

_LEVELS = ("officer", "unit", "force")


# ----------------------------------------------------------------------------- helpers
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).strip().lower()).strip("_")


@dataclass(frozen=True)
class _Spec:
    text: str
    kind: str  # event_type, searches, searches_of, hit_rate, share_of, disparity
    group: str | None
    column: str


def _parse_outcomes(outcome: str | list[str]) -> list[_Spec]:
    items = [outcome] if isinstance(outcome, str) else list(outcome)
    if not items:
        raise DataValidationError("outcome is empty; name at least one outcome, e.g. outcome='use_of_force'.")
    out = []
    for it in items:
        if not isinstance(it, str):
            raise DataValidationError(f"outcome entries must be strings, got {it!r}.")
        head, sep, group = it.partition(":")
        if sep:
            if head not in ("searches_of", "share_of", "disparity") or not group.strip():
                raise DataValidationError(
                    f"outcome {it!r} is not understood; use 'searches_of:<group>', 'share_of:<group>' or "
                    "'disparity:<group>' (e.g. 'share_of:Black')."
                )
            col = {"searches_of": "searches_of_", "share_of": "share_of_", "disparity": "disparity_"}[head]
            out.append(_Spec(it, head, group.strip(), col + _slug(group)))
        elif it in ("searches", "hit_rate"):
            out.append(_Spec(it, it, None, it))
        else:
            out.append(_Spec(it, "event_type", None, _slug(it)))
    cols = [s.column for s in out]
    if len(set(cols)) != len(cols):
        raise DataValidationError(f"outcome {items} names the same column twice ({cols}).")
    return out


def _to_periods(values: pd.Series, freq: str) -> pd.PeriodIndex:
    s = values
    if isinstance(s.dtype, pd.PeriodDtype):
        p = pd.PeriodIndex(s)
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        dt = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        p = pd.PeriodIndex(dt, freq="M")
    else:
        try:
            p = pd.PeriodIndex(s.astype(str), freq="M")
        except (ValueError, TypeError) as exc:
            raise DataValidationError(
                f"events 'month' values cannot be read as months (e.g. {s.iloc[0]!r}); use period[M] values."
            ) from exc
    return p.asfreq(freq) if freq != p.freqstr[0] else p


def _period(x, freq: str, name: str) -> pd.Period:
    try:
        p = pd.Period(x, freq="M") if not isinstance(x, pd.Period) else x
        return p.asfreq(freq)
    except (ValueError, TypeError) as exc:
        raise DataValidationError(f"{name}={x!r} is not a month or quarter such as '2019-01'.") from exc


def _dates(s: pd.Series | None, n: int) -> np.ndarray:
    if s is None:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    d = pd.to_datetime(s, errors="coerce")
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)
    return d.to_numpy(dtype="datetime64[ns]")


def _modal(keys: pd.Series, values: pd.Series, w: np.ndarray | None = None) -> pd.Series:
    """Most frequent non-missing ``values`` per key (ties: first in sort order); ``w``: events per row (counts)."""
    d = pd.DataFrame({"k": keys.astype("string").to_numpy(), "v": values.astype("string").to_numpy()})
    if w is not None:
        d["w"] = w
    d = d.dropna()
    if d.empty:
        return pd.Series(dtype="string")
    g = d.groupby(["k", "v"], sort=True)
    c = (g.size() if w is None else g["w"].sum()).rename("n").reset_index()
    c = c.sort_values(["k", "n"], ascending=[True, False], kind="stable").drop_duplicates("k")
    return pd.Series(c["v"].to_numpy(), index=c["k"].to_numpy())


def _training_levels(tr: pd.DataFrame) -> np.ndarray:
    if "level" in tr.columns and tr["level"].notna().any():
        lev = tr["level"].astype("string").str.lower().to_numpy(dtype=object, na_value=None)
    else:
        lev = np.full(len(tr), None, dtype=object)
    oid = tr["officer_id"].notna().to_numpy() if "officer_id" in tr.columns else np.zeros(len(tr), bool)
    uni = tr["unit"].notna().to_numpy() if "unit" in tr.columns else np.zeros(len(tr), bool)
    frc = tr["force"].notna().to_numpy() if "force" in tr.columns else np.zeros(len(tr), bool)
    inferred = np.where(oid, "officer", np.where(uni, "unit", np.where(frc, "force", None)))
    return np.array([lv if lv in _LEVELS else inf for lv, inf in zip(lev, inferred)], dtype=object)


def _first_completion(keys: pd.Series, completed: np.ndarray) -> pd.Series:
    d = pd.DataFrame({"k": keys.astype("string").to_numpy(), "c": completed})
    d = d.dropna()
    return d.groupby("k", sort=True)["c"].min() if len(d) else pd.Series(dtype="datetime64[ns]")


def _n(mask: np.ndarray, w: np.ndarray | None) -> int:
    """Events in ``mask``: rows, or the rows' counts ``w`` when the events are counts."""
    return int(mask.sum()) if w is None else int(w[mask].sum())


#: columns of the events the builder reads (besides the unit): what an engine counts them by
PANEL_COLUMNS = ("month", "event_type", "ethnicity", "hit", "vehicle_only", "search_conducted", "force", "unit")


def _engine_events(events, unit: str, engine: str, exclude_vehicle_only: bool) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The events as rows and their counts ``w``: counts from count_policeuk, or events counted on ``engine``.

    ``engine="pandas"`` (and no counts): the events themselves, ``w`` None (one event per row)."""
    from ..io._counts import EventCounts
    from ..io._engines import group_count

    if isinstance(events, EventCounts):
        if exclude_vehicle_only and "vehicle_only" not in events.by and events.vehicle_only_rows:
            events.to_events(exclude_vehicle_only=True)  # raises: say how to count them
        ev = events.data.drop(columns="n").copy()
        ev["event_type"] = pd.array(["search"] * len(ev), dtype="str")
        return ev, events.data["n"].to_numpy(dtype=np.int64)
    if engine == "pandas":
        return frame_of(events, "events"), None
    if isinstance(events, (pd.DataFrame, ReadResult)):
        ev = frame_of(events, "events")
        need_columns(ev, [unit, "month"], "events")
        cols = list(dict.fromkeys([unit, *[c for c in PANEL_COLUMNS if c in ev.columns]]))
        table = {}
        for c in cols:
            s = ev[c]
            if c == "month":
                table[c] = pa.array([None if pd.isna(x) else str(x) for x in _to_periods(s, "M")], type=pa.string())
            elif s.dtype == bool or isinstance(s.dtype, pd.BooleanDtype):
                table[c] = pa.array(s.astype("boolean").to_numpy(dtype=object, na_value=None), type=pa.bool_())
            else:
                table[c] = pa.array(s.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())
        source: Any = pa.table(table)
    else:  # a Parquet path, or a frame of the engine (Polars, DuckDB relation, Spark DataFrame)
        source = events
        if isinstance(events, (str, os.PathLike)):
            p = os.fspath(events)
            files = sorted(glob.glob(os.path.join(p, "*.parquet"))) if os.path.isdir(p) else sorted(glob.glob(p)) or [p]
            have = pq.read_schema(files[0]).names
        else:
            import narwhals as nw

            have = nw.from_native(events).columns
        cols = list(dict.fromkeys([unit, *[c for c in PANEL_COLUMNS if c in have]]))
    counts = group_count(source, cols, engine=engine)
    out = pd.DataFrame(index=range(len(counts)))
    for c in cols:
        vals = counts[c].tolist()
        if c == "month":
            out[c] = pd.PeriodIndex([None if v is None else str(v) for v in vals], freq="M")
        elif c in ("hit", "vehicle_only", "search_conducted"):
            out[c] = pd.array([None if v is None else bool(v) for v in vals], dtype="boolean")
        else:
            out[c] = pd.array([None if v is None else str(v) for v in vals], dtype="string")
    return out, counts["n"].to_numpy(dtype=np.int64)


# ----------------------------------------------------------------------------- steps
def _window(ev, ukey, unit, period, start, end, ev_dropped, w=None):
    """Period ordinals of the events, the in-window mask and the window's periods."""
    has_unit = ukey.notna().to_numpy()
    ev_dropped[f"no {unit}"] = _n(~has_unit, w)
    per = _to_periods(ev["month"], period)
    ok = has_unit & ~pd.isna(per)
    ev_dropped["no month"] = _n(has_unit & ~ok, w)
    if not ok.any():
        raise DataValidationError(f"no event has both a {unit!r} and a month; check the events table.")
    ords = np.where(ok, per.asi8, 0)
    p0 = _period(start, period, "start") if start is not None else pd.Period(ordinal=int(ords[ok].min()), freq=period)
    p1 = _period(end, period, "end") if end is not None else pd.Period(ordinal=int(ords[ok].max()), freq=period)
    if p1 < p0:
        raise DataValidationError(f"end {p1} is before start {p0}.")
    in_win = ok & (ords >= p0.ordinal) & (ords <= p1.ordinal)
    ev_dropped["outside the window"] = _n(ok & ~in_win, w)
    return ords, in_win, pd.period_range(p0, p1, freq=period)


def _select_courses(tr, course, notes):
    if "course" not in tr.columns:
        return tr, []
    courses_all = sorted(set(tr["course"].dropna().astype(str)))
    if course is None:
        if len(courses_all) > 1:
            notes.append(f"treatment = first completion of any of {len(courses_all)} courses "
                         f"({', '.join(courses_all[:5])}); pass course= to choose")
        return tr, courses_all
    want = [course] if isinstance(course, str) else list(course)
    missing = [c for c in want if c not in courses_all]
    if missing:
        raise DataValidationError(f"course(s) {missing} not in the training table; courses are {courses_all[:20]}.")
    return tr[tr["course"].astype("string").isin(want).fillna(False).to_numpy()], want


def _officers(ev, tr, ukey, in_win, ev_units, officers, units_dropped, ev_dropped, notes, w=None):
    """Officer universe, service dates (appointed, resigned) and each officer's force."""
    service = None
    if officers is not None:
        off = frame_of(officers, "officers")
        need_columns(off, ["officer_id"], "officers")
        off = off[off["officer_id"].notna()].drop_duplicates("officer_id")
        universe = pd.Index(off["officer_id"].astype("string").to_numpy(dtype=object))
        service = (_dates(off.get("appointed"), len(off)), _dates(off.get("resigned"), len(off)))
        outside = pd.Index(ev_units)[~pd.Index(ev_units).isin(universe)]
        if len(outside):
            units_dropped += [(str(u_), "not in the officers table") for u_ in outside]
            ev_dropped["officer not in the officers table"] = _n(in_win & ukey.isin(outside).to_numpy(bool), w)
        forces = (normalise_forces(off["force"]).replace("", pd.NA) if "force" in off.columns
                  else pd.Series(pd.NA, index=off.index, dtype="string"))
        forces = pd.Series(forces.to_numpy(), index=universe, dtype="string")
    else:
        tr_ids = tr["officer_id"].dropna().astype("string").unique() if "officer_id" in tr.columns else []
        universe = pd.Index(sorted(set(map(str, ev_units)) | set(map(str, tr_ids))))
        if len(universe) > len(ev_units):
            notes.append(f"{len(universe) - len(ev_units)} officer(s) appear only in the training table: counted with "
                         "zero events in every period in service (pass officers= with service dates to be exact)")
        if "officer_id" in tr.columns and ("appointed" in tr.columns or "resigned" in tr.columns):
            t2 = pd.DataFrame({"k": tr["officer_id"].astype("string").to_numpy(), "a": _dates(tr.get("appointed"), len(tr)),
                               "r": _dates(tr.get("resigned"), len(tr))}).dropna(subset=["k"]).groupby("k")
            service = (t2["a"].min().reindex(universe).to_numpy("datetime64[ns]"),
                       t2["r"].max().reindex(universe).to_numpy("datetime64[ns]"))
            notes.append("service dates taken from the training table's appointed/resigned")
        else:
            notes.append("no service dates: every officer counted as in service for the whole window (exposure 1)")
        forces = pd.Series(pd.NA, index=universe, dtype="string")
    if "force" in ev.columns and forces.isna().any():
        modal = _modal(ukey[in_win], normalise_forces(ev.loc[in_win, "force"]).replace("", pd.NA), None if w is None else w[in_win])
        forces = forces.fillna(modal.reindex(universe).astype("string"))
    return universe, service, forces


def _officer_treatment(ev, tr, ukey, in_win, levels, completed, universe, unit_force, officers, notes, w=None):
    """First completion per officer: own course, their unit's and their force's (earliest)."""
    parts = []

    def key(col, m):
        return normalise_forces(tr.loc[m, col]).replace("", pd.NA) if col == "force" else tr.loc[m, col].astype("string")

    m = levels == "officer"
    if m.any():
        parts.append(_first_completion(key("officer_id", m), completed[m]).reindex(universe))
        n_unknown = int((~key("officer_id", m).isin(universe)).sum())
        if n_unknown:
            notes.append(f"{n_unknown} officer-level training record(s) are for officers not in the panel")
    m = levels == "unit"
    if m.any():
        unit_map = None
        if officers is not None and "unit" in frame_of(officers).columns:
            o = frame_of(officers)
            unit_map = pd.Series(o["unit"].astype("string").to_numpy(), index=o["officer_id"].astype("string").to_numpy())
        elif "unit" in tr.columns and "officer_id" in tr.columns and (tr["officer_id"].notna() & tr["unit"].notna()).any():
            both = tr["officer_id"].notna() & tr["unit"].notna()
            unit_map = _modal(tr.loc[both, "officer_id"], tr.loc[both, "unit"])
        elif "unit" in ev.columns:
            unit_map = _modal(ukey[in_win], ev.loc[in_win, "unit"], None if w is None else w[in_win])
        if unit_map is None:
            raise DataValidationError("the training table has unit-level records but no officer's unit is known: "
                                      "pass officers= with officer_id and unit columns.")
        unit_map = unit_map[~unit_map.index.duplicated()].reindex(universe)
        done_u = _first_completion(key("unit", m), completed[m])
        parts.append(pd.Series(unit_map.map(done_u).to_numpy(dtype="datetime64[ns]"), index=universe))
        if unit_map.isna().any():
            notes.append(f"{int(unit_map.isna().sum())} officer(s) have no known unit: unit-level training not applied to them")
    m = levels == "force"
    if m.any():
        done_f = _first_completion(key("force", m), completed[m])
        parts.append(pd.Series(unit_force.map(done_f).to_numpy(dtype="datetime64[ns]"), index=universe))
        if unit_force.isna().any():
            notes.append(f"{int(unit_force.isna().sum())} officer(s) have no known force: force-level training not applied to them")
    if not parts:
        return pd.Series(pd.NaT, index=universe, dtype="datetime64[ns]")
    return pd.concat(parts, axis=1).min(axis=1).astype("datetime64[ns]")


def _area_treatment(tr, unit, levels, completed, universe, notes):
    if unit not in tr.columns:
        raise DataValidationError(f"an area panel by {unit!r} needs a {unit!r} column in the training table naming the area trained.")
    m = tr[unit].notna().to_numpy() & ((levels == unit) if unit in ("force", "unit") else True)
    if (~m).sum():
        notes.append(f"{int((~m).sum())} training record(s) not at the {unit} level ignored (an area is treated by its own training)")
    k = tr.loc[m, unit]
    done = _first_completion(normalise_forces(k).replace("", pd.NA) if unit == "force" else k.astype("string"), completed[m])
    not_in = sorted(set(done.index) - set(universe))
    if not_in:
        notes.append(f"trained {unit} value(s) with no events are not in the panel: {not_in[:10]}")
    return done.reindex(universe).astype("datetime64[ns]")


def _exposure(periods, universe, service, notes) -> np.ndarray:
    """Fraction of each period in service, (units, periods); resigned is the last day of service."""
    if service is None:
        return np.ones((len(universe), len(periods)))
    a, r = (np.asarray(x, dtype="datetime64[ns]") for x in service)
    p0 = periods.start_time.to_numpy(dtype="datetime64[ns]")
    p1 = (periods.end_time.normalize() + pd.Timedelta(days=1)).to_numpy(dtype="datetime64[ns]")
    r_excl = np.where(np.isnat(r), p1[-1], r + np.timedelta64(1, "D"))
    lo = np.maximum(p0[None, :], np.where(np.isnat(a), p0[0], a)[:, None])
    hi = np.minimum(p1[None, :], r_excl[:, None])
    bad = ~np.isnat(a) & ~np.isnat(r) & (r < a)
    if bad.any():
        notes.append(f"{int(bad.sum())} officer(s) resigned before their appointment date: no period in service")
    secs = (p1 - p0).astype("timedelta64[s]").astype(float)
    return np.clip((hi - lo).astype("timedelta64[s]").astype(float) / secs[None, :], 0, 1)


def _outcome_columns(ev, specs, use, flat, size, exclude_vehicle_only, bench, w=None) -> dict[str, np.ndarray]:
    def count(mask):
        if w is not None:  # events given as counts: exact integer sums
            return np.rint(np.bincount(flat[use & mask], weights=w[use & mask], minlength=size)).astype(np.int64)
        return np.bincount(flat[use & mask], minlength=size).astype(np.int64)

    def ratio(num, den):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    cols: dict[str, np.ndarray] = {}
    etype = ev["event_type"].astype("string").to_numpy(dtype=object, na_value="") if "event_type" in ev.columns else None
    if any(s.kind != "event_type" for s in specs):
        search = np.zeros(len(ev), bool) if etype is None else etype == "search"
        if "search_conducted" in ev.columns:
            search |= ev["search_conducted"].astype("boolean").fillna(False).to_numpy(bool)
        if exclude_vehicle_only and "vehicle_only" in ev.columns:
            search &= ~ev["vehicle_only"].astype("boolean").fillna(False).to_numpy(bool)
        cols["searches"] = count(search)
    if "ethnicity" in ev.columns:
        eth = ev["ethnicity"].astype("string").to_numpy(dtype=object, na_value=None)
        groups = sorted({g for g in eth[use] if g is not None})
    for s in specs:
        if s.kind == "event_type":
            seen = set(pd.unique(etype[use])) if etype is not None else set()
            if s.text not in seen and s.text not in EVENT_TYPES:
                raise DataValidationError(
                    f"outcome {s.text!r} is not an event type of the data ({sorted(seen)}) nor a special outcome "
                    "('searches', 'searches_of:<group>', 'hit_rate', 'share_of:<group>', 'disparity:<group>')."
                )
            cols[s.column] = count(etype == s.text)
        elif s.kind in ("searches_of", "share_of", "disparity"):
            if s.group not in groups:
                raise DataValidationError(f"group {s.group!r} not found in events 'ethnicity'; groups are {groups}.")
            n_g = count(search & (eth == s.group))
            if s.kind == "searches_of":
                cols[s.column] = n_g
                continue
            cols["searches_stated"] = count(search & pd.notna(eth) & (eth != NOT_STATED))
            share = ratio(n_g, cols["searches_stated"])
            cols[s.column] = share if s.kind == "share_of" else share - bench(s.group)
        elif s.kind == "hit_rate":
            hit = ev["hit"].astype("boolean")
            known = search & hit.notna().to_numpy()
            cols["hits"] = count(known & hit.fillna(False).to_numpy(bool))
            cols["searches_hit_known"] = count(known)
            cols["hit_rate"] = ratio(cols["hits"], cols["searches_hit_known"])
    return cols


def _benchmark(bench, universe: pd.Index, unit: str, unit_force, notes: list[str], group: str) -> np.ndarray:
    if bench is None:
        raise DataValidationError(
            f"outcome 'disparity:{group}' needs benchmark_share= (the group's share of the benchmark "
            "population: one number, or a dict area -> share)."
        )
    if isinstance(bench, (int, float)):
        if not 0 <= float(bench) <= 1:
            raise DataValidationError(f"benchmark_share must be a share between 0 and 1, got {bench!r}.")
        return np.full(len(universe), float(bench))
    if not isinstance(bench, dict):
        raise DataValidationError("benchmark_share must be a number or a dict area -> share.")
    keys = pd.Series(list(bench.keys()))
    norm = dict(zip(normalise_forces(keys), bench.values())) if unit in ("force", "officer_id") else {str(k): v for k, v in bench.items()}
    areas = unit_force if unit == "officer_id" else pd.Series(universe.to_numpy(), index=universe)
    if areas is None:
        raise DataValidationError("a per-area benchmark_share needs each officer's force (officers= with a force column, or events with force).")
    vals = areas.map(norm).to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(vals).any():
        notes.append(f"{int(np.isnan(vals).sum())} unit(s) have no benchmark share for {group}: disparity is NaN for them")
    return vals
