"""Input handling and design matrix of the interrupted time series model.

Holds the private helpers that read a series' time column as pandas periods,
parse the intervention date(s), check and sort one series (one row per period,
explicit gaps, optional offset), and build the segmented-regression design
(intercept, trend, level and slope changes, month or Fourier seasonality).
Re-exported from :mod:`equity_metrics.models.its`; :mod:`~equity_metrics.models.synth`
reuses the period parsing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError


# ----------------------------------------------------------------------------- input handling
def _periods(values: pd.Series, what: str) -> pd.PeriodIndex:
    if isinstance(values.dtype, pd.PeriodDtype):
        return pd.PeriodIndex(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        v = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        return pd.PeriodIndex(v.dt.to_period("M"))
    try:
        out = [pd.Period(str(v).split("..")[-1]) for v in values]
    except (ValueError, TypeError) as exc:
        raise DataValidationError(
            f"cannot read the {what} column as periods ({exc}); give months as '2020-06', quarters as "
            "'2020Q2', or a pandas period[M] column"
        ) from None
    freqs = {p.freqstr for p in out}
    if len(freqs) > 1:
        raise DataValidationError(f"the {what} column mixes frequencies {sorted(freqs)}; use one (e.g. months)")
    idx = pd.PeriodIndex(out)
    if idx.freqstr.startswith("D"):
        idx = idx.asfreq("M")
    return idx


def _parse_intervention(intervention: Any, freq: str) -> list[pd.Period]:
    items = list(intervention) if isinstance(intervention, (list, tuple)) else [intervention]
    if not items:
        raise DataValidationError("intervention is empty; give a date such as '2020-06' or a list of dates")
    out = []
    for it in items:
        try:
            p = it if isinstance(it, pd.Period) else pd.Period(pd.Timestamp(it)) if isinstance(it, (pd.Timestamp, np.datetime64)) else pd.Period(str(it))
            p = p.asfreq(freq, how="start") if p.freqstr != freq else p
        except (ValueError, TypeError):
            raise DataValidationError(f"intervention {it!r} is not a date; use e.g. '2020-06'") from None
        out.append(p)
    if len(set(out)) != len(out) or out != sorted(out):
        raise DataValidationError(f"interventions must be distinct and in time order, got {[str(p) for p in out]}")
    return out


def _prepare(df: pd.DataFrame, *, outcome: str, time: str, offset: str | None, what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"the {what} must be a DataFrame with a time column and an outcome column, got {type(df).__name__}")
    cols = [time, outcome] + ([offset] if offset else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataValidationError(f"the {what} has no column(s) {missing}; columns are {list(df.columns)[:20]}")
    per = _periods(df[time], time)
    out = pd.DataFrame({"time": per, "y": pd.to_numeric(df[outcome], errors="coerce").astype(float).to_numpy()})
    out["offset"] = pd.to_numeric(df[offset], errors="coerce").astype(float).to_numpy() if offset else np.nan
    out = out.sort_values("time", kind="stable").reset_index(drop=True)
    if out["time"].duplicated().any():
        dup = sorted({str(p) for p in out.loc[out["time"].duplicated(), "time"]})
        raise DataValidationError(f"the {what} has repeated periods {dup[:10]}: give one row per period (aggregate first)")
    pos = pd.PeriodIndex(out["time"]).asi8 - pd.PeriodIndex(out["time"]).asi8[0]
    absent = sorted(set(range(int(pos[-1]) + 1)) - set(pos.tolist()))
    if absent:
        first = out["time"].iloc[0]
        labels = [str(first + int(a)) for a in absent]
        raise DataValidationError(
            f"the {what} has no row for {len(labels)} period(s): {labels[:12]}. Gaps must be explicit: add rows "
            "for them with the outcome missing (NaN) if the data are missing, or 0 if there truly were no events"
        )
    out["pos"] = pos
    return out


def _season(per: pd.PeriodIndex, kind: str) -> tuple[np.ndarray, list[str]]:
    f = per.freqstr[0]
    if kind == "none" or f not in ("M", "Q"):
        return np.empty((len(per), 0)), []
    cyc = np.asarray(per.month if f == "M" else per.quarter)
    length = 12 if f == "M" else 4
    if kind == "month":
        levels = sorted(set(cyc.tolist()))[1:]
        return np.column_stack([(cyc == v).astype(float) for v in levels]) if levels else np.empty((len(per), 0)), [
            f"season_{v:02d}" for v in levels
        ]
    cols, names = [], []
    for fn in ("sin", "cos"):
        for k in range(1, min(2, length // 2) + 1):
            if fn == "sin" and 2 * k == length:
                continue
            cols.append(getattr(np, fn)(2 * np.pi * k * cyc / length))
            names.append(f"season_{fn}{k}")
    return np.column_stack(cols), names


def _design(pos: np.ndarray, per: pd.PeriodIndex, ipos: list[int], season: str, impact: str) -> tuple[np.ndarray, list[str], list[int]]:
    multi = len(ipos) > 1
    cols, names, inter = [np.ones(len(pos)), pos.astype(float)], ["intercept", "trend"], []
    for j, tp in enumerate(ipos, start=1):
        d = (pos >= tp).astype(float)
        sfx = f"_{j}" if multi else ""
        if impact in ("level_slope", "level"):
            inter.append(len(cols))
            cols.append(d)
            names.append(f"level_change{sfx}")
        if impact in ("level_slope", "slope"):
            inter.append(len(cols))
            cols.append(d * (pos - tp))
            names.append(f"slope_change{sfx}")
    S, sn = _season(per, season)
    X = np.column_stack(cols + ([S] if S.shape[1] else []))
    return X, names + sn, inter
