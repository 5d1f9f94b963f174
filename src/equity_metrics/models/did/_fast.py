"""Covariate-free Callaway & Sant'Anna without a loop over cells.

Without covariates the ``dr``, ``ipw`` and ``reg`` 2x2 estimators of every
ATT(g, t) all reduce to the difference between the mean outcome change of the
treated cohort and that of the comparison units (the propensity score is the
treated share and the outcome regression is the comparison mean; see
``_drdid._no_covariates``).  Every cell and its influence function is then a
linear map of the ``units x periods`` outcome matrix:

* cohort means ``ybar`` (cohorts x periods) give every mean change at once,
  ``ybar[:, cur] - ybar[:, base]``, and the comparison means are weighted sums
  of them over a cohort membership matrix;
* the influence functions are stored as :class:`~._linear.LinearInfluence`
  (cohort-centred outcomes times a sparse periods x cells map), so standard
  errors, aggregations, cluster sums and the multiplier bootstrap are a few
  matrix products.

Results are those of the per-block reference implementation
(``_attgt._estimate_att_gt_reference``) to rounding error
(``tests/test_did_fast.py``), including the cells it cannot estimate (no
comparison units; propensity score at or above 0.999, or trimmed at 0.995 for
``dr``/``ipw``) and its notes.

:func:`fast_staggered_did` is a lean private entry point (outcome matrix +
cohort vector -> cells and aggregations with standard errors) for repeated
fits such as power simulations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._aggregate import aggregation_plan
from ._aggregate_result import _clean_se
from ._attgt import GroupTimeEstimates, _enumerate_cells
from ._linear import LinearInfluence, single_thread_blas
from ._panel import PanelData, _fmt, panel_from_arrays

__all__ = ["estimate_att_gt_linear", "fast_staggered_did", "FastDiD", "FastAggregate"]

_TRIM_LEVEL = 0.995  # DRDID trims comparison units with a propensity score at or above this
_OVERLAP = 0.999  # R did refuses cells with a propensity score at or above this


@single_thread_blas
def estimate_att_gt_linear(
    panel: PanelData,
    *,
    control: str,
    method: str,
    base_period: str,
    anticipation: float,
) -> GroupTimeEstimates:
    """All ATT(g, t) of a covariate-free balanced panel at once (see module docstring)."""
    times = panel.times
    g_unit = panel.g
    n = panel.n_units
    cohorts = panel.cohorts
    cells = list(_enumerate_cells(times, cohorts, base_period, anticipation))
    n_cells = len(cells)
    grp = np.array([c[0] for c in cells], dtype=float)
    cur = np.array([c[1] for c in cells], dtype=np.intp)
    base = np.array([c[2] for c in cells], dtype=np.intp)
    reference = cur == base

    # --- table metadata, exactly as the reference implementation
    fin_sorted = np.sort(g_unit[np.isfinite(g_unit)])
    n_never = int(np.isinf(g_unit).sum())
    h = np.maximum(times[cur], times[base]) + anticipation
    ucoh, ucnt = np.unique(fin_sorted, return_counts=True)
    n_treated = ucnt[np.searchsorted(ucoh, grp)].astype(np.int64) if n_cells else np.zeros(0, np.int64)
    if control == "never_treated":
        ctrl_key = np.zeros(n_cells, dtype=np.int64)
        n_control = np.full(n_cells, n_never, dtype=np.int64)
    else:
        ctrl_key = np.searchsorted(cohorts, h, side="right")
        n_later = fin_sorted.size - np.searchsorted(fin_sorted, h, side="right")
        n_control = n_never + n_later - np.where(grp > h, n_treated, 0)

    # --- cohorts of units (never treated = inf, always present after prepare_panel) and moments
    cvals = np.unique(g_unit)  # sorted, inf last
    k = cvals.size
    cu = np.searchsorted(cvals, g_unit)
    order = np.argsort(cu, kind="stable")
    sizes = np.bincount(cu, minlength=k)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    # unit constants cancel in every change y[cur] - y[base]: removing them keeps the sums small
    yd = panel.y - panel.y.mean(axis=1, keepdims=True)
    ys = yd[order]
    ybar = np.add.reduceat(ys, bounds[:-1], axis=0) / sizes[:, None]
    zc = ys - np.repeat(ybar, sizes, axis=0)
    ss = np.empty((k, times.size, times.size))
    for c in range(k):
        blk = zc[bounds[c] : bounds[c + 1]]
        np.matmul(blk.T, blk, out=ss[c])

    gcell = np.searchsorted(cvals, grp)
    cols = np.arange(n_cells)
    if control == "never_treated":
        ctrl = np.zeros((k, n_cells), dtype=bool)
        ctrl[-1] = True
    else:
        ctrl = (cvals[:, None] > h[None, :]) & (np.arange(k)[:, None] != gcell[None, :])
    n_c = sizes @ ctrl  # comparison units per cell
    n_t = sizes[gcell]
    n1 = n_c + n_t

    att = np.full(n_cells, np.nan)
    att[reference] = 0.0
    notes: list[str] = []
    est_cells = ~reference
    no_ctrl = est_cells & (n_c < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_share = (n1 - n_c) / n1
    overlap = est_cells & ~no_ctrl & (method in ("dr", "ipw")) & (p_share >= _OVERLAP)
    trimmed = est_cells & ~no_ctrl & ~overlap & (method != "reg") & (p_share >= _TRIM_LEVEL)
    ok = est_cells & ~no_ctrl & ~overlap & ~trimmed

    if (no_ctrl | overlap).any():
        notes += _block_notes(grp, ctrl_key, cur, times, est_cells, no_ctrl, overlap)

    dybar = ybar[:, cur] - ybar[:, base]  # (k, cells) mean change of each cohort
    mu_t = dybar[gcell, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        mu_c = ((ctrl * sizes[:, None]) * dybar).sum(axis=0) / n_c
    att[ok] = (mu_t - mu_c)[ok]

    # influence function: coef * (zc . d_j) + a, coef = n/n_T (treated), -n/n_C (comparison)
    okf = ok.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c_t = np.where(ok, (n1 / n_t) * (n / n1), 0.0)
        c_c = np.where(ok, -(n1 / n_c) * (n / n1), 0.0)
    coef = ctrl * c_c[None, :]
    coef[gcell, cols] = c_t
    centre = np.where(ctrl, mu_c[None, :], 0.0)
    centre[gcell, cols] = mu_t
    with np.errstate(invalid="ignore"):
        a = np.where(coef != 0, coef * (dybar - centre), 0.0) * okf[None, :]
    nan_cols = np.flatnonzero(trimmed)
    support = ctrl[:, nan_cols].copy()
    support[gcell[nan_cols], np.arange(nan_cols.size)] = True
    inf = LinearInfluence(
        n_rows=n, zc=zc, w=np.ones(n), bounds=bounds, out_row=order, coef=coef, a=a, cur=cur, base=base,
        nan_cols=nan_cols, nan_support=support, ss=ss,
    )
    return GroupTimeEstimates(
        group=grp,
        time=times[cur],
        base_time=times[base],
        att=att,
        post=grp <= times[cur],
        reference=reference,
        n_treated=n_treated,
        n_control=n_control,
        inf=inf,
        notes=notes,
    )


def _block_notes(grp, ctrl_key, cur, times, est_cells, no_ctrl, overlap) -> list[str]:
    """The reference implementation's notes, one per block of cells, in its order."""
    idx = np.flatnonzero(est_cells)
    blocks: dict[tuple, list[int]] = {}
    for j in idx:
        blocks.setdefault((grp[j], int(ctrl_key[j])), []).append(int(j))
    notes = []
    for (g, _), js in blocks.items():
        j0 = js[0]
        if not (no_ctrl[j0] or overlap[j0]):
            continue
        label = f"group {_fmt(g)}, period(s) {', '.join(_fmt(times[cur[j]]) for j in js)}"
        if no_ctrl[j0]:
            notes.append(f"No comparison units for {label}: ATT(g,t) not estimated.")
        else:
            notes.append(f"Overlap violated (propensity score >= 0.999) for {label}: ATT(g,t) set to NaN.")
    return notes


# ----------------------------------------------------------------------------- lean entry point
@dataclass
class FastAggregate:
    """One aggregation of :func:`fast_staggered_did` (``did::aggte`` with analytic SEs).

    Attributes
    ----------
    kind
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    levels, estimates, std_error
        Event times / cohorts / periods and their estimates and standard
        errors (empty for ``simple``).
    overall, overall_se
        The overall summary and its standard error.
    """

    kind: str
    levels: np.ndarray
    estimates: np.ndarray
    std_error: np.ndarray
    overall: float
    overall_se: float


@dataclass
class FastDiD:
    """Output of :func:`fast_staggered_did`.

    Attributes
    ----------
    group, time, att, std_error
        The ATT(g, t) cells (R's order) with analytic standard errors.
    aggregations
        ``{kind: FastAggregate}`` for the requested kinds.
    estimates
        The internal group-time estimates (influence functions included), for
        further use with ``_aggregate.aggregate_core``.
    notes
        Sample and cell remarks (as ``staggered_did(...).notes``).
    """

    group: np.ndarray
    time: np.ndarray
    att: np.ndarray
    std_error: np.ndarray
    aggregations: dict[str, FastAggregate]
    estimates: GroupTimeEstimates
    notes: list[str] = field(default_factory=list)


@single_thread_blas
def fast_staggered_did(
    y: np.ndarray,
    first_treated: np.ndarray,
    *,
    periods: np.ndarray | None = None,
    control: str = "not_yet_treated",
    base_period: str = "varying",
    anticipation: float = 0,
    never_treated_value: float = 0,
    kinds: tuple[str, ...] = ("simple", "dynamic", "group", "calendar"),
    min_e: float | None = None,
    max_e: float | None = None,
) -> FastDiD:
    """Callaway & Sant'Anna (no covariates) from an outcome matrix, for repeated fits (private).

    The same estimates and analytic (unclustered) standard errors as
    ``staggered_did(df, method=...)`` without covariates followed by
    ``.aggregate(kind)`` (all three methods coincide without covariates), to
    rounding error, but without the long-format checks, the pandas tables and
    the ``units x levels`` influence functions: standard errors of the
    aggregations come from the within-cohort cross-products of the outcomes.
    Intended for power simulations (hundreds of fits of a 10,000-unit panel);
    use :func:`~equity_metrics.models.did.staggered_did` for analysis.

    Parameters
    ----------
    y
        Balanced outcomes, shape ``(units, periods)``, no missing values.
    first_treated
        First treatment period of each unit, shape ``(units,)``, on the scale
        of ``periods``; ``never_treated_value``, ``NaN`` or ``inf`` = never
        treated.
    periods
        Sorted numeric periods of the columns of ``y`` (default ``1..T``).
    control, base_period, anticipation
        As :func:`~equity_metrics.models.did.staggered_did` (note the
        default ``control="not_yet_treated"`` here).
    never_treated_value
        Code of never-treated units in ``first_treated``.
    kinds
        Aggregations to compute.
    min_e, max_e
        Event-time window (as ``aggregate(min_e=, max_e=)``).

    Returns
    -------
    FastDiD

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = rng.choice([3, 5, 0], size=400)
    >>> t = np.arange(1, 7)
    >>> y = rng.normal(size=(400, 6)) + 1.0 * ((g[:, None] > 0) & (t >= g[:, None]))
    >>> fit = fast_staggered_did(y, g, kinds=("simple", "dynamic"))
    >>> bool(abs(fit.aggregations["simple"].overall - 1.0) < 4 * fit.aggregations["simple"].overall_se)
    True
    >>> fit.aggregations["dynamic"].levels.tolist()
    [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ValueError("y must be a (units, periods) matrix")
    g = np.asarray(first_treated, dtype=float).copy()
    if g.shape != (y.shape[0],):
        raise ValueError("first_treated must have one value per row of y")
    times = np.arange(1.0, y.shape[1] + 1) if periods is None else np.asarray(periods, dtype=float)
    g[np.isnan(g) | np.isinf(g) | (g == never_treated_value)] = np.inf
    panel = panel_from_arrays(
        y, g, times, control=control, anticipation=anticipation, never_treated_value=never_treated_value
    )
    est = estimate_att_gt_linear(panel, control=control, method="reg", base_period=base_period,
                                 anticipation=anticipation)
    inf = est.inf
    n = panel.n_units
    se = _clean_se(np.sqrt(inf.col_sumsq()) / n)  # degenerate (e.g. reference cells) -> nan, as the tables
    se[np.isnan(est.att)] = np.nan
    first_row = inf.out_row[inf.bounds[:-1]]
    out: dict[str, FastAggregate] = {}
    t1 = float(np.min(panel.times))
    for kind in kinds:
        plan = aggregation_plan(est, panel.g, kind, min_e=min_e, max_e=max_e, first_period=t1)
        shift = plan.shift[plan.unit_idx[first_row]]
        sd = _clean_se(np.sqrt(np.maximum(inf.combine_sumsq(plan.weights, shift), 0.0)) / n)
        n_lv = plan.levels.size
        out[kind] = FastAggregate(kind, plan.levels, plan.estimates, sd[:n_lv], float(plan.overall_estimate),
                                  float(sd[n_lv]))
    return FastDiD(group=est.group, time=est.time, att=est.att, std_error=se, aggregations=out, estimates=est,
                   notes=list(panel.notes) + list(est.notes))
