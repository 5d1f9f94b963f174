"""Validation of a long panel and reshaping into unit x period arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...errors import DataValidationError, EstimationError, closest_matches

__all__ = ["PanelData", "panel_from_arrays", "prepare_panel"]


@dataclass
class PanelData:
    """A balanced panel as arrays, units sorted by identifier.

    Attributes
    ----------
    unit_ids
        Sorted unit identifiers ``(n,)``.
    times
        Sorted periods ``(T,)`` (float).
    y
        Outcomes ``(n, T)``.
    g
        First treatment period per unit ``(n,)``; ``inf`` for never treated.
    x
        Covariates without intercept: ``(n, k)`` when constant within units,
        ``(T, n, k)`` when some vary over time, ``None`` without covariates.
    x_time_varying
        Whether ``x`` is the ``(T, n, k)`` form.
    covariate_names
        Names of the covariate columns.
    cluster_codes, n_clusters
        Cluster index ``0..n_clusters-1`` per unit, or ``None``.
    integer_time
        Whether all periods (and cohorts) are whole numbers.
    notes
        Messages about units or periods dropped or recoded on the way.
    """

    unit_ids: np.ndarray
    times: np.ndarray
    y: np.ndarray
    g: np.ndarray
    x: np.ndarray | None
    x_time_varying: bool
    covariate_names: list[str]
    cluster_codes: np.ndarray | None
    n_clusters: int
    integer_time: bool
    notes: list[str] = field(default_factory=list)

    @property
    def n_units(self) -> int:
        return int(self.y.shape[0])

    @property
    def cohorts(self) -> np.ndarray:
        """Sorted treated cohorts (first-treatment periods)."""
        return np.unique(self.g[np.isfinite(self.g)])


def _require_columns(data: pd.DataFrame, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in data.columns]
    if missing:
        found = [str(c) for c in data.columns]
        parts = []
        for m in missing:
            near = closest_matches(str(m), found)
            parts.append(f"{m!r}" + (f" (did you mean {', '.join(map(repr, near))}?)" if near else ""))
        raise DataValidationError(
            f"staggered_did: column(s) {', '.join(parts)} not found in the data. "
            f"Columns present: {found[:30]}. Pass the right names with outcome=, unit=, time=, "
            "first_treated=, covariates= or cluster=."
        )


def _numeric(series: pd.Series, name: str, role: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise DataValidationError(
            f"staggered_did: the {role} column {name!r} must be numeric (found dtype {series.dtype}). "
            + (
                "Convert periods to integers (e.g. years or a running period index)."
                if role in ("time", "first_treated")
                else "Encode categories as 0/1 dummy columns first."
            )
        )
    return series.to_numpy(dtype=float, na_value=np.nan)


def _factorize(values: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted factorisation; a fast counting path for integer-valued codes (ids, periods)."""
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iuf" and arr.size:
        lo, hi = arr.min(), arr.max()
        if np.isfinite(lo) and np.isfinite(hi) and hi - lo < max(4 * arr.size, 1 << 16):
            off = arr - lo
            ioff = off.astype(np.int64)
            if arr.dtype.kind in "iu" or np.array_equal(ioff, off):
                present = np.zeros(int(hi - lo) + 1, dtype=bool)
                present[ioff] = True
                pos = np.flatnonzero(present)
                mapping = np.cumsum(present) - 1
                return mapping[ioff], (pos + lo).astype(arr.dtype)
    codes, uniq = pd.factorize(values, sort=True, use_na_sentinel=True)
    return codes, np.asarray(uniq)


def _sorted_layout(units: pd.Series, t_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(unit ids, periods)`` if the rows are a complete panel sorted by (numeric) unit then period, else None."""
    u = units.to_numpy()
    if u.dtype.kind not in "iu" or t_raw.size == 0:
        return None
    steps = np.flatnonzero(np.diff(t_raw) <= 0)
    n_t = int(steps[0]) + 1 if steps.size else t_raw.size
    if t_raw.size % n_t:
        return None
    tm = t_raw.reshape(-1, n_t)
    um = u.reshape(-1, n_t)
    if not (np.all(tm == tm[0]) and np.all(um == um[:, :1])):
        return None
    first = um[:, 0]
    if not np.all(first[1:] > first[:-1]):
        return None
    return first.copy(), tm[0].copy()


def prepare_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    covariates: list[str],
    cluster: str | None,
    never_treated_value: float,
    control: str,
    anticipation: float,
) -> PanelData:
    """Check a long panel and pivot it to arrays (see :class:`PanelData`)."""
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(
            f"staggered_did: data must be a pandas DataFrame in long format (one row per unit and "
            f"period), got {type(data).__name__}."
        )
    needed = [outcome, unit, time, first_treated, *covariates] + ([cluster] if cluster else [])
    _require_columns(data, needed)
    if len(data) == 0:
        raise DataValidationError("staggered_did: the data has no rows.")
    notes: list[str] = []

    t_raw = _numeric(data[time], time, "time")
    if np.isnan(t_raw).any():
        raise DataValidationError(f"staggered_did: the time column {time!r} has missing values; drop those rows.")
    layout = _sorted_layout(data[unit], t_raw)
    if layout is not None:
        # one row per unit and period, sorted by unit then period (build_panel's layout): no factorising
        uniq_units, uniq_times = layout
        n, n_t = len(uniq_units), len(uniq_times)
        ucodes = np.repeat(np.arange(n), n_t)
        flat = np.arange(n * n_t)
    else:
        ucodes, uniq_units = _factorize(data[unit])
        if (ucodes < 0).any():
            raise DataValidationError(f"staggered_did: the unit column {unit!r} has missing values; drop those rows.")
        tcodes, uniq_times = _factorize(t_raw)
        n, n_t = len(uniq_units), len(uniq_times)
        flat = ucodes.astype(np.int64) * n_t + tcodes
        counts = np.bincount(flat, minlength=n * n_t)
        if counts.max() > 1:
            k = int(np.argmax(counts > 1))
            raise DataValidationError(
                f"staggered_did: the data is not a panel: unit {uniq_units[k // n_t]!r} appears "
                f"{counts[k]} times in period {uniq_times[k % n_t]!r} ({int((counts > 1).sum())} duplicated "
                f"(unit, time) pairs in total). Keep one row per unit and period, e.g. aggregate first."
            )
        if counts.min() == 0:
            n_bad = int((counts.reshape(n, n_t) == 0).any(axis=1).sum())
            raise EstimationError(
                f"staggered_did: the panel is unbalanced: {n_bad} of {n} units are not observed in all "
                f"{n_t} periods. Pass unbalanced='drop' to keep only the units observed in every period "
                "(as R did does), or build a balanced panel (build_panel(..., balanced=True))."
            )

    y_raw = _numeric(data[outcome], outcome, "outcome")
    if np.isnan(y_raw).any():
        n_bad = int(pd.unique(ucodes[np.isnan(y_raw)]).size)
        raise EstimationError(
            f"staggered_did: the outcome {outcome!r} is missing for {n_bad} units in some periods, which "
            "makes the panel unbalanced. Pass unbalanced='drop' to drop those units, or impute the "
            "outcome first."
        )
    y = np.empty(n * n_t)
    y[flat] = y_raw
    y = y.reshape(n, n_t)

    g_raw = _numeric(data[first_treated], first_treated, "first_treated")
    never = np.isnan(g_raw) | np.isinf(g_raw) | (g_raw == never_treated_value)
    g_raw = np.where(never, np.inf, g_raw)
    g = np.empty(n)
    g[ucodes] = g_raw
    if not np.array_equal(g[ucodes], g_raw):
        bad = uniq_units[ucodes[g[ucodes] != g_raw][0]]
        raise DataValidationError(
            f"staggered_did: {first_treated!r} must be constant within each unit (unit {bad!r} has "
            "several values). It is the period the unit is first treated, not a treatment dummy."
        )

    x = None
    x_tv = False
    if covariates:
        mats = []
        for c in covariates:
            v = _numeric(data[c], c, "covariate")
            if np.isnan(v).any():
                raise EstimationError(
                    f"staggered_did: covariate {c!r} has missing values, which would make the panel "
                    "unbalanced. Drop those units or impute the covariate first."
                )
            m = np.empty(n * n_t)
            m[flat] = v
            mats.append(m.reshape(n, n_t))
        x_tv = any(not np.array_equal(m, np.broadcast_to(m[:, :1], m.shape)) for m in mats)
        if x_tv:
            x = np.stack([m.T for m in mats], axis=-1)  # (T, n, k)
        else:
            x = np.column_stack([m[:, 0] for m in mats])

    cluster_codes = None
    n_clusters = 0
    if cluster and cluster != unit:
        ccodes, cuniq = pd.factorize(data[cluster], sort=True, use_na_sentinel=True)
        if (ccodes < 0).any():
            raise DataValidationError(f"staggered_did: the cluster column {cluster!r} has missing values.")
        cl = np.empty(n, dtype=np.int64)
        cl[ucodes] = ccodes
        if not np.array_equal(cl[ucodes], ccodes):
            raise DataValidationError(
                f"staggered_did: the cluster variable {cluster!r} varies over time within a unit; "
                "clusters must contain whole units (e.g. the state of a county)."
            )
        cluster_codes = cl
        n_clusters = len(cuniq)

    return panel_from_arrays(
        y, g, np.asarray(uniq_times, dtype=float), unit_ids=np.asarray(uniq_units), x=x, x_time_varying=x_tv,
        covariate_names=list(covariates), cluster_codes=cluster_codes, n_clusters=n_clusters, control=control,
        anticipation=anticipation, first_treated=first_treated, never_treated_value=never_treated_value, notes=notes,
    )


def panel_from_arrays(
    y: np.ndarray,
    g: np.ndarray,
    times: np.ndarray,
    *,
    unit_ids: np.ndarray | None = None,
    x: np.ndarray | None = None,
    x_time_varying: bool = False,
    covariate_names: list[str] | None = None,
    cluster_codes: np.ndarray | None = None,
    n_clusters: int = 0,
    control: str = "never_treated",
    anticipation: float = 0,
    first_treated: str = "first_treated",
    never_treated_value: float = 0,
    notes: list[str] | None = None,
) -> PanelData:
    """Apply R ``did``'s sample rules to a balanced ``(units, periods)`` outcome matrix.

    ``g`` is the first treatment period per unit with ``inf`` for never
    treated and ``times`` the sorted periods.  Units treated in (or before)
    the first period are dropped, cohorts after the last period count as never
    treated, and without never-treated units the last cohort becomes the
    comparison group (periods from its treatment on are dropped).
    """
    notes = [] if notes is None else notes
    x_tv = x_time_varying
    covariates = [] if covariate_names is None else covariate_names
    uniq_units = np.arange(y.shape[0]) if unit_ids is None else unit_ids
    n = y.shape[0]
    times = np.asarray(times, dtype=float)
    g = np.asarray(g, dtype=float)
    keep = np.ones(n, dtype=bool)
    # units treated in (or before) the first period (+ anticipation) have no untreated period
    early = np.isfinite(g) & (g <= times[0] + anticipation)
    if early.any():
        notes.append(
            f"Dropped {int(early.sum())} units first treated in or before the first period "
            f"({_fmt(times[0])}{' + anticipation' if anticipation else ''}): they have no pre-treatment "
            f"period (cohorts {', '.join(_fmt(v) for v in np.unique(g[early]))})."
        )
        keep &= ~early
    late = np.isfinite(g) & (g > times[-1] + anticipation)
    if late.any():
        notes.append(
            f"{int(late.sum())} units first treated after the last period ({_fmt(times[-1])}) are "
            "treated as never treated."
        )
        g = np.where(late, np.inf, g)

    if not np.isfinite(g[keep]).any():
        raise EstimationError(
            "staggered_did: no treated cohort with a pre-treatment period remains: every unit is never "
            f"treated or treated from the first period on. Check {first_treated!r} and never_treated_value."
        )
    if not np.isinf(g[keep]).any():
        if control == "never_treated":
            raise EstimationError(
                "staggered_did: there are no never-treated units, so control='never_treated' is not "
                "possible. Use control='not_yet_treated' (the last-treated cohort then serves as the "
                f"comparison group), or check never_treated_value={never_treated_value!r}."
            )
        gmax = g[keep].max()
        tkeep = times < gmax - anticipation
        if tkeep.sum() < 2:
            raise EstimationError(
                "staggered_did: with no never-treated units, periods from the last cohort's treatment on "
                "are dropped, and fewer than two periods remain."
            )
        notes.append(
            f"No never-treated units: periods from {_fmt(gmax - anticipation)} on were dropped and the "
            f"last-treated cohort ({_fmt(gmax)}) is used as the never-treated comparison group."
        )
        g = np.where(g == gmax, np.inf, g)
        times = times[tkeep]
        y = y[:, tkeep]
        if x is not None and x_tv:
            x = x[tkeep]
    if not keep.all():
        y, g = y[keep], g[keep]
        uniq_units = uniq_units[keep]
        if x is not None:
            x = x[:, keep] if x_tv else x[keep]
        if cluster_codes is not None:
            cluster_codes, cuniq = pd.factorize(cluster_codes[keep], sort=True)
            n_clusters = len(cuniq)
    if len(times) < 2:
        raise EstimationError("staggered_did: at least two periods are needed.")
    fin = g[np.isfinite(g)]
    integer_time = bool(np.all(times == np.round(times)) and np.all(fin == np.round(fin)))
    return PanelData(
        unit_ids=np.asarray(uniq_units),
        times=times,
        y=np.ascontiguousarray(y),
        g=g,
        x=x,
        x_time_varying=x_tv,
        covariate_names=list(covariates),
        cluster_codes=cluster_codes,
        n_clusters=n_clusters,
        integer_time=integer_time,
        notes=notes,
    )


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
