"""Build a unit x period panel of outcomes and training status from canonical tables.

:func:`build_panel` turns a canonical events table and a training table into the
long panel every training-impact estimator takes (officer x month by default,
or area x month / quarter), with exposure (the share of the period an officer
was in service), the period each unit is first treated, and a report of every
unit and event left out and why.

Treatment timing convention (shared with
:func:`equity_metrics.models.did.staggered_did`): ``time`` is a running integer
period index (1 = :attr:`PanelReport.time_origin`), ``first_treated`` is the
``time`` of the first *full* period after the unit's (first) course completion
(``treated_from="completion"``: the period of completion), and ``0`` for units
never treated, which is ``staggered_did``'s default ``never_treated_value``. Time 1 is the earlier of the window start and the
earliest first-treated period, so that every treated unit has
``first_treated >= 1`` and 0 can only mean "never treated".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._results import ResultBase
from .._options import check_option
from .._security import escape_html
from ..areas import normalise_forces
from ..errors import DataValidationError
from ..measures._common import frame_of, need_columns
from ..io._engines import Engine
from ._panel_build import _engine_events, _n
from ._panel_build import (  # noqa: F401  (re-exported: the names this module always offered)
    _LEVELS,
    _area_treatment,
    _benchmark,
    _dates,
    _exposure,
    _first_completion,
    _modal,
    _officer_treatment,
    _officers,
    _outcome_columns,
    _parse_outcomes,
    _period,
    _select_courses,
    _slug,
    _Spec,
    _to_periods,
    _training_levels,
    _window,
)

__all__ = ["build_panel", "PanelResult", "PanelReport"]

PeriodFreq = Literal["M", "Q"]
TreatedFrom = Literal["next", "completion"]


@dataclass
class PanelReport:
    """What went into a panel and what was left out (``summary()`` prints it).

    Attributes
    ----------
    unit, period, start, end, time_origin
        Unit column, frequency (``"M"``/``"Q"``), first and last period, and the period whose ``time`` is 1.
    n_units, n_periods, n_rows, balanced, balanced_requested
        Size; whether every unit is in every period; whether ``balanced=True`` was asked for.
    never_treated, treated_before_start, treated_after_end
        Units never treated, treated at or before the window start, and first treated after its end.
    cohorts
        ``first_treated, first_treated_period, units`` of the treated cohorts.
    units_dropped, events_dropped
        ``unit, reason`` for every unit left out; events not counted, by reason.
    outcomes, courses, treated_from, notes
        Outcome specification -> column; courses defining treatment; timing rule; analytic choices.
    """

    unit: str
    period: str
    start: pd.Period
    end: pd.Period
    time_origin: pd.Period
    n_units: int
    n_periods: int
    n_rows: int
    balanced: bool
    balanced_requested: bool
    never_treated: int
    treated_before_start: int
    treated_after_end: int
    cohorts: pd.DataFrame
    units_dropped: pd.DataFrame
    events_dropped: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    courses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    treated_from: str = "next"

    def summary(self) -> str:
        """A plain-text account of the panel."""
        lines = [
            f"Panel: {self.unit} x {'month' if self.period == 'M' else 'quarter'}, {self.start} .. {self.end}",
            f"  units {self.n_units:,}; periods {self.n_periods}; rows {self.n_rows:,}; "
            f"{'balanced' if self.balanced else 'unbalanced'}"
            + (" (balanced=True: units not in every period dropped)" if self.balanced_requested else ""),
            f"  time 1 = {self.time_origin}; first_treated = "
            + ("first full period after completion" if self.treated_from == "next" else "period of completion")
            + "; 0 = never treated",
            f"  courses: {', '.join(self.courses) if self.courses else 'none'}",
            f"  never treated {self.never_treated:,}; treated before the window {self.treated_before_start:,}; "
            f"treated after the window {self.treated_after_end:,}; cohorts {len(self.cohorts)}",
            "  outcomes: " + ", ".join(f"{k} -> {v}" for k, v in self.outcomes.items()),
        ]
        if len(self.cohorts):
            sizes = self.cohorts["units"]
            lines.append(f"  cohort sizes: min {int(sizes.min())}, median {float(sizes.median()):g}, max {int(sizes.max())}")
        if len(self.units_dropped):
            for reason, n in self.units_dropped["reason"].value_counts().items():
                lines.append(f"  units dropped: {reason}: {n:,}")
        for reason, n in self.events_dropped.items():
            if n:
                lines.append(f"  events not counted: {reason}: {n:,}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass
class PanelResult(ResultBase):
    """A unit x period panel with training status (see :func:`build_panel`).

    Attributes
    ----------
    data
        One row per unit and period in service: the unit column, ``period``, ``time`` (running index),
        the outcome columns (and their denominators), ``exposure``, ``first_treated`` (``time`` first
        treated; 0 = never), ``first_treated_period``, ``event_time`` (``time - first_treated``; NaN if
        never treated), ``treated`` (bool), ``cohort_size`` and, for officers, ``force`` where known.
    report
        The :class:`PanelReport`.
    unit, outcomes, time, first_treated
        Column names (estimators given a PanelResult use them as defaults).
    """

    data: pd.DataFrame
    report: PanelReport
    unit: str
    outcomes: list[str]
    time: str = "time"
    first_treated: str = "first_treated"

    def tidy(self) -> pd.DataFrame:
        """The panel (a copy)."""
        return self.data.copy()

    def summary(self) -> str:
        return self.report.summary()

    def __repr__(self) -> str:
        r = self.report
        return (
            f"<PanelResult {self.unit} x {r.period}: {r.n_units:,} units, {r.n_periods} periods, "
            f"{r.n_rows:,} rows, {len(r.cohorts)} cohorts, {r.never_treated:,} never treated>"
        )

    def _repr_html_(self) -> str:
        return "<pre>" + escape_html(self.summary()) + "</pre>" + self.data.head(10).to_html(escape=True)

    def plot(self, *, ax=None):
        """Share of units treated in each period (the rollout), with cohort sizes. Returns the Axes."""
        from ..plots.eventstudy import rollout_plot

        d = self.data
        share = d.groupby("time", sort=True)["treated"].mean()
        periods = d.groupby("time", sort=True)["period"].first().astype(str)
        return rollout_plot(periods.to_numpy(), share.to_numpy(float), ax=ax, title=f"Training rollout ({self.unit})")


# ----------------------------------------------------------------------------- main
def build_panel(
    events: pd.DataFrame | Any,
    training: pd.DataFrame,
    *,
    unit: str = "officer_id",
    period: PeriodFreq = "M",
    outcome: str | list[str] = "use_of_force",
    start=None,
    end=None,
    officers: pd.DataFrame | None = None,
    course: str | list[str] | None = None,
    balanced: bool = False,
    benchmark_share: float | dict[str, float] | None = None,
    exclude_vehicle_only: bool = True,
    treated_from: TreatedFrom = "next",
    engine: Engine = "pandas",
) -> PanelResult:
    """Build a unit x period panel of outcomes and training status.

    Parameters
    ----------
    events
        Canonical events table (or a reader's result) with ``month``,
        ``event_type``, the ``unit`` column, and ``ethnicity`` / ``hit`` for the
        search outcomes.
    training
        Canonical training table: ``officer_id`` / ``unit`` / ``force``,
        ``level`` (officer, unit or force), ``course``, ``completed``.
        Unit- and force-level records apply to every officer of that unit or
        force (officer panels), or to the area itself (area panels).
    unit
        ``"officer_id"`` for officer panels, or an area column of the events
        (``"force"``, ``"district"``, ...) for area panels, whose training comes
        from the training column of the same name (force-level records for
        ``"force"``).
    period
        ``"M"`` (months) or ``"Q"`` (quarters).
    outcome
        One or several of: an event type (``"use_of_force"``, ``"complaint"``,
        ``"stop"``, ...) counted per period; ``"searches"``;
        ``"searches_of:<group>"`` (searches of people of that ethnicity);
        ``"hit_rate"`` (share of searches with a known outcome that found the
        object; NaN without searches); ``"share_of:<group>"`` (the share of the
        unit's searches with a stated ethnicity that were of the group);
        ``"disparity:<group>"`` (that share minus ``benchmark_share``).
    start, end
        First and last period (e.g. ``"2019-01"``); default: the events' range.
    officers
        Officer table (``officer_id``, optional ``appointed``, ``resigned``,
        ``unit``, ``force``). Gives exposure (the fraction of each period in
        service: officer-periods out of service are not in the panel) and the
        officer's unit and force. Without it the training table's
        ``appointed``/``resigned`` are used where present.
    course
        Course name(s) that define treatment (default: every course).
    balanced
        Keep only units present in every period of the window.
    benchmark_share
        Benchmark share of the group for ``disparity:<group>``: one number, or
        a dict ``area -> share`` (areas are forces, as police.uk slugs, for
        officer panels: the officer's force).
    exclude_vehicle_only
        Leave vehicle-only searches out of the search outcomes.
    treated_from
        ``"next"`` (default): a unit is treated from the first full period after
        completion, so the period of completion counts as untreated; or
        ``"completion"``: from the period that contains the completion date
        (when courses end early in the period, as in the synthetic samples).
    engine
        Where the events are counted by unit x month x event type (x ethnicity, hit,
        vehicle-only, force): ``"pandas"`` (default: the rows in memory), or
        ``"duckdb"``, ``"polars"``, ``"spark"`` (the engine-neutral count of
        :func:`~equity_metrics.count_policeuk`); then ``events`` may also be a Parquet
        path or a frame of that engine (a Polars frame, a DuckDB relation, a Spark
        DataFrame). The panel is the same on every engine. ``events`` may also be
        :class:`~equity_metrics.EventCounts` (police.uk searches counted by ``force`` and
        ``month``, on any engine) for an area panel by force.

    Returns
    -------
    PanelResult
        ``.data`` (the panel) and ``.report`` (see :class:`PanelReport`).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"officer_id": ["a", "a", "b"], "event_type": ["use_of_force"] * 3,
    ...     "month": pd.PeriodIndex(["2020-01", "2020-03", "2020-02"], freq="M")})
    >>> tr = pd.DataFrame({"officer_id": ["a"], "level": ["officer"], "course": ["deescalation"],
    ...     "completed": pd.to_datetime(["2020-01-20"])})
    >>> p = build_panel(ev, tr, outcome="use_of_force")
    >>> p.data[["officer_id", "time", "use_of_force", "first_treated", "treated"]].head(3)
      officer_id  time  use_of_force  first_treated  treated
    0          a     1             1              2    False
    1          a     2             0              2     True
    2          a     3             1              2     True
    """
    check_option("period", period, PeriodFreq)
    check_option("treated_from", treated_from, TreatedFrom)
    check_option("engine", engine, Engine)
    ev, w = _engine_events(events, unit, engine, exclude_vehicle_only)  # w: events per row when counted (else None)
    tr = frame_of(training, "training")
    specs = _parse_outcomes(outcome)
    officer_panel = unit == "officer_id"
    kinds = {s.kind for s in specs}
    need = [unit, "month"] + ["event_type"] * ("event_type" in kinds) + ["hit"] * ("hit_rate" in kinds)
    need_columns(ev, need + ["ethnicity"] * bool(kinds & {"searches_of", "share_of", "disparity"}), "events")
    need_columns(tr, ["completed"], "training")
    notes: list[str] = []
    ev_dropped: dict[str, int] = {}

    ukey = normalise_forces(ev[unit]).replace("", pd.NA) if unit == "force" else ev[unit].astype("string")
    ords, in_win, periods = _window(ev, ukey, unit, period, start, end, ev_dropped, w)
    p_start, p_end, n_t = periods[0], periods[-1], len(periods)
    tr, courses = _select_courses(tr, course, notes)
    completed = _dates(tr["completed"], len(tr))
    if np.isnat(completed).any():
        notes.append(f"{int(np.isnat(completed).sum())} training record(s) without a completion date ignored")
    levels = _training_levels(tr)
    ev_units = pd.unique(ukey[in_win].dropna().to_numpy())
    units_dropped: list[tuple[str, str]] = []
    if officer_panel:
        universe, service, unit_force = _officers(ev, tr, ukey, in_win, ev_units, officers, units_dropped,
                                                  ev_dropped, notes, w)
        first_done = _officer_treatment(ev, tr, ukey, in_win, levels, completed, universe, unit_force, officers, notes, w)
    else:
        if officers is not None:
            notes.append("officers= is ignored for area panels (exposure is 1)")
        universe, service, unit_force = pd.Index(sorted(map(str, ev_units))), None, None
        first_done = _area_treatment(tr, unit, levels, completed, universe, notes)
    n_u = len(universe)
    if n_u == 0:
        raise DataValidationError("no units in the window; check start=, end= and the unit column.")
    expo = _exposure(periods, universe, service, notes)
    present = expo > 0
    units_dropped += [(str(u_), "not in service in any period of the window") for u_ in universe[~present.any(axis=1)]]
    if balanced:
        part = present.any(axis=1) & ~present.all(axis=1)
        units_dropped += [(str(u_), "not in service in every period (balanced=True)") for u_ in universe[part]]
        present &= present.all(axis=1)[:, None]
    if not present.any():
        raise DataValidationError(
            "no unit is in service " + ("in every period of the window (balanced=True); shorten the window with "
                                        "start=/end=" if balanced else "in any period of the window; check the service dates")
            + ".")

    # --- count events on the unit x period grid -----------------------------------------------
    ucode = universe.get_indexer(ukey.to_numpy(dtype=object, na_value=None))
    use = in_win & (ucode >= 0)
    flat = np.where(use, ucode * n_t + np.where(in_win, ords - p_start.ordinal, 0), -1)
    out_of_service = use & ~present.ravel()[np.where(use, flat, 0)]
    ev_dropped["outside the unit's service (or dropped unit)"] = _n(out_of_service, w)
    use &= ~out_of_service
    cols = _outcome_columns(ev, specs, use, flat, n_u * n_t, exclude_vehicle_only,
                            lambda grp: np.repeat(_benchmark(benchmark_share, universe, unit, unit_force, notes, grp), n_t), w)

    # --- assemble -------------------------------------------------------------------------------
    keep_flat = np.flatnonzero(present.ravel())
    ui, ti = np.divmod(keep_flat, n_t)
    fdone = first_done.to_numpy(dtype="datetime64[ns]")
    has_t = ~np.isnat(fdone)
    ft_ord = np.zeros(n_u, dtype=np.int64)
    if has_t.any():
        ft_ord[has_t] = pd.PeriodIndex(pd.DatetimeIndex(fdone[has_t]), freq=period).asi8 + (treated_from == "next")
    kept = np.unique(ui)
    origin_ord = min([p_start.ordinal] + ([int(ft_ord[kept][has_t[kept]].min())] if has_t[kept].any() else []))
    origin = pd.Period(ordinal=origin_ord, freq=period)
    if origin_ord < p_start.ordinal:
        notes.append(f"time is counted from {origin} (earliest first-treated period) so that first_treated > 0; "
                     f"the window starts at time {p_start.ordinal - origin_ord + 1}")
    first_t = np.where(has_t, ft_ord - origin_ord + 1, 0)
    time = (p_start.ordinal - origin_ord + 1) + ti
    ft_row = first_t[ui]
    data = pd.DataFrame({unit: pd.array(universe.to_numpy(dtype=object)[ui], dtype="str")})
    data["period"] = pd.PeriodIndex.from_ordinals(p_start.ordinal + ti, freq=period)
    data["time"] = time.astype(np.int64)
    for c, v in cols.items():
        data[c] = v[keep_flat]
    data["exposure"] = expo.ravel()[keep_flat]
    data["first_treated"] = ft_row.astype(np.int64)
    ftp = pd.PeriodIndex.from_ordinals(np.where(has_t, ft_ord, p_start.ordinal), freq=period).to_series()
    data["first_treated_period"] = ftp.where(has_t).to_numpy()[ui]
    data["event_time"] = np.where(ft_row > 0, time - ft_row, np.nan)
    data["treated"] = (ft_row > 0) & (time >= ft_row)
    data["cohort_size"] = pd.Series(ft_row).map(pd.Series(first_t[kept]).value_counts()).to_numpy(np.int64)
    if unit_force is not None and unit_force.notna().any():
        data["force"] = pd.array(unit_force.to_numpy(dtype=object)[ui], dtype="str")
    ft_k = first_t[kept]
    coh = pd.Series(ft_k[ft_k > 0]).value_counts().sort_index()
    cohorts = pd.DataFrame({
        "first_treated": coh.index.to_numpy(np.int64),
        "first_treated_period": [str(pd.Period(ordinal=int(c) + origin_ord - 1, freq=period)) for c in coh.index],
        "units": coh.to_numpy(np.int64),
    })
    report = PanelReport(
        unit=unit, period=period, start=p_start, end=p_end, time_origin=origin, n_units=int(kept.size),
        n_periods=n_t, n_rows=len(data), balanced=bool(kept.size and np.all(present[kept].sum(axis=1) == n_t)),
        balanced_requested=bool(balanced), never_treated=int((ft_k == 0).sum()),
        treated_before_start=int(((ft_k > 0) & (ft_k <= p_start.ordinal - origin_ord + 1)).sum()),
        treated_after_end=int((ft_k > p_end.ordinal - origin_ord + 1).sum()), cohorts=cohorts,
        units_dropped=pd.DataFrame(units_dropped, columns=["unit", "reason"]),
        events_dropped={k: v for k, v in ev_dropped.items() if v}, outcomes={s.text: s.column for s in specs},
        courses=list(courses), notes=notes, treated_from=treated_from,
    )
    return PanelResult(data=data, report=report, unit=unit, outcomes=[s.column for s in specs])

