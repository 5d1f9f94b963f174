"""Group-time average treatment effects ATT(g, t) and their influence functions.

Follows R ``did::att_gt`` (Callaway & Sant'Anna 2021) for balanced panels:

* ``base_period="varying"``: pre-treatment cells compare period ``t`` with the
  period just before it; post-treatment cells (``g <= t``) compare ``t`` with the
  last period before ``g - anticipation``.  The first period has no cell.
* ``base_period="universal"``: every cell uses the last period before
  ``g - anticipation``; that reference cell itself is reported as 0.
* comparison group: the never treated, or the never treated plus the units
  first treated after ``max(t, base) + anticipation`` (other than ``g``).

Without covariates every cell is a difference in mean changes and all cells are
computed at once from the outcome matrix (``_fast.py``).  With covariates, cells
that share the same treated and comparison units (and covariate period) are
estimated together, vectorised over periods.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ._drdid import did_panel_2x2, logit_irls
from ._influence import InfluenceMatrix
from ._linear import LinearInfluence
from ._panel import PanelData, _fmt

__all__ = ["GroupTimeEstimates", "estimate_att_gt"]


@dataclass
class GroupTimeEstimates:
    """All ATT(g, t) cells of one fit (internal container).

    Attributes
    ----------
    group, time, base_time
        Cohort, period and base period of each cell.
    att
        Point estimates (``nan`` for cells that could not be estimated).
    post
        ``True`` when ``group <= time``.
    reference
        ``True`` for the universal-base reference cells (fixed to 0).
    n_treated, n_control
        Units in the treated cohort and in the comparison group.
    inf
        Influence functions ``(n_units, n_cells)`` (block-sparse, or linear
        in the outcomes without covariates), scaled so that the standard
        error of cell ``j`` is ``sqrt(sum(IF[:, j]**2)) / n_units``.
    notes
        What was skipped and why.
    """

    group: np.ndarray
    time: np.ndarray
    base_time: np.ndarray
    att: np.ndarray
    post: np.ndarray
    reference: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    inf: InfluenceMatrix | LinearInfluence
    notes: list[str] = field(default_factory=list)


def _enumerate_cells(times: np.ndarray, cohorts: np.ndarray, base_period: str, anticipation: float):
    """Yield ``(g, cur_idx, base_idx)`` for every cell, in R's order (by cohort, then time)."""
    for g in cohorts:
        pre_idx = np.flatnonzero(times + anticipation < g)
        if pre_idx.size == 0:  # pragma: no cover - such units are dropped in prepare_panel
            continue
        last_pre = int(pre_idx[-1])
        start = 1 if base_period == "varying" else 0
        for j in range(start, len(times)):
            if g <= times[j] or base_period == "universal":
                base = last_pre
            else:
                base = j - 1
            yield g, j, base


def estimate_att_gt(
    panel: PanelData,
    *,
    control: str,
    method: str,
    base_period: str,
    anticipation: float,
) -> GroupTimeEstimates:
    """Estimate every ATT(g, t) of a balanced panel (see module docstring).

    Without covariates all cells are computed at once as a linear map of the
    outcome matrix (:func:`~equity_metrics.models.did._fast.estimate_att_gt_linear`);
    with covariates each block of cells sharing treated and comparison units
    is fitted by :func:`~equity_metrics.models.did._drdid.did_panel_2x2`
    (:func:`_estimate_att_gt_reference`, also the reference implementation of
    the fast path in the tests).
    """
    if panel.x is None:
        from ._fast import estimate_att_gt_linear

        return estimate_att_gt_linear(
            panel, control=control, method=method, base_period=base_period, anticipation=anticipation
        )
    return _estimate_att_gt_reference(
        panel, control=control, method=method, base_period=base_period, anticipation=anticipation
    )


def _estimate_att_gt_reference(
    panel: PanelData,
    *,
    control: str,
    method: str,
    base_period: str,
    anticipation: float,
) -> GroupTimeEstimates:
    """Per-block estimation of every ATT(g, t) (any covariates; the reference implementation)."""
    times = panel.times
    g_unit = panel.g
    n = panel.n_units
    cohorts = panel.cohorts
    cells = list(_enumerate_cells(times, cohorts, base_period, anticipation))
    n_cells = len(cells)
    grp = np.array([c[0] for c in cells], dtype=float)
    cur = np.array([c[1] for c in cells], dtype=np.intp)
    base = np.array([c[2] for c in cells], dtype=np.intp)
    att = np.full(n_cells, np.nan)
    reference = cur == base
    att[reference] = 0.0
    notes: list[str] = []

    # the comparison set is determined by the cohorts later than h = max(t, base) + anticipation
    fin_sorted = np.sort(g_unit[np.isfinite(g_unit)])
    cohort_size = {float(c): int(k) for c, k in zip(*np.unique(fin_sorted, return_counts=True))}
    n_never = int(np.isinf(g_unit).sum())
    h = np.maximum(times[cur], times[base]) + anticipation
    n_treated = np.array([cohort_size[float(c)] for c in grp], dtype=np.int64)
    if control == "never_treated":
        ctrl_key = np.zeros(n_cells, dtype=np.int64)
        n_control = np.full(n_cells, n_never, dtype=np.int64)
    else:
        # number of cohorts <= h identifies the set {G > h}; remove the own cohort if later than h
        ctrl_key = np.searchsorted(cohorts, h, side="right")
        n_later = fin_sorted.size - np.searchsorted(fin_sorted, h, side="right")
        n_control = n_never + n_later - np.where(grp > h, n_treated, 0)

    # covariates: R uses the earlier period of the two (first row in panel2cs2)
    x_key = np.minimum(cur, base) if panel.x_time_varying else np.zeros(n_cells, dtype=np.intp)
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for j in np.flatnonzero(~reference):
        blocks[(grp[j], int(ctrl_key[j]), int(x_key[j]))].append(int(j))

    inf = InfluenceMatrix(n, n_cells)
    n_min = 1
    for (g, key, xk), idx in blocks.items():
        idx_arr = np.asarray(idx, dtype=np.intp)
        treat_mask = g_unit == g
        if control == "never_treated":
            ctrl_mask = np.isinf(g_unit)
        else:
            hh = h[idx_arr[0]]
            ctrl_mask = (g_unit > hh) & ~treat_mask
        rows = np.flatnonzero(treat_mask | ctrl_mask)
        n1 = rows.size
        d = treat_mask[rows]
        n_c = int(n1 - d.sum())
        label = f"group {_fmt(g)}, period(s) {', '.join(_fmt(times[cur[j]]) for j in idx_arr)}"
        if n_c < n_min:
            notes.append(f"No comparison units for {label}: ATT(g,t) not estimated.")
            continue
        x = None
        if panel.x is not None:
            xv = panel.x[xk][rows] if panel.x_time_varying else panel.x[rows]
            x = np.column_stack([np.ones(n1), xv])
        ps_fit = None
        if x is None and method in ("dr", "ipw") and (n1 - n_c) / n1 >= 0.999:
            notes.append(f"Overlap violated (propensity score >= 0.999) for {label}: ATT(g,t) set to NaN.")
            continue
        if x is not None:
            # the checks of R did: overlap (pscore >= 0.999) and a well-posed regression on controls
            if method in ("dr", "ipw"):
                ps_fit = logit_irls(x, d.astype(float))
                if not ps_fit.converged:
                    notes.append(f"Propensity-score logit did not converge for {label}.")
                if ps_fit.fitted.max() >= 0.999:
                    notes.append(
                        f"Overlap violated (propensity score >= 0.999) for {label}: ATT(g,t) set to NaN."
                    )
                    continue
            if method in ("dr", "reg"):
                xc = x[~d]
                xtx = xc.T @ xc
                if not np.all(np.isfinite(xtx)) or 1.0 / np.linalg.cond(xtx, 1) < np.finfo(float).eps:
                    notes.append(
                        f"Not enough comparison units to run the outcome regression for {label}: "
                        "ATT(g,t) set to NaN."
                    )
                    continue
        yr = panel.y[rows]
        dy = yr[:, cur[idx_arr]] - yr[:, base[idx_arr]]
        res = did_panel_2x2(dy, d, x, method=method, ps_fit=ps_fit)
        att[idx_arr] = res.att
        inf.add_block(rows, idx_arr, res.inf_func * (n / n1))

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
