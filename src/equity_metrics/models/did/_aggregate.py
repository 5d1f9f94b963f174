"""Aggregation of ATT(g, t) into simple / dynamic / group / calendar effects.

Mirrors R ``did::aggte`` (``compute.aggte``), including the extra influence
function term ``wif`` for the estimated cohort-share weights, and the
corrected group-aggregation term of ``did`` >= 2.3.0 (the overall group effect
accounts for estimating the cohort shares ``P(G = g)``).

Weights are cohort shares ``pg = P(G = g)`` (all units, never treated included);
the ``wif`` term for a set ``K`` of cells with normalised weights
``pg_k / S`` reduces, per unit ``i`` of cohort ``c``, to::

    wif_i = (A_c - N_c * theta) / S

with ``A_c`` the sum of the ATTs of the cells of cohort ``c`` in ``K``, ``N_c``
their number and ``theta`` the aggregate; it is zero for never-treated units.
This avoids building R's ``n x |K|`` matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._attgt import GroupTimeEstimates
from ._panel import _fmt

__all__ = ["AggregationCore", "AggregationPlan", "aggregate_core", "aggregation_plan"]


@dataclass
class AggregationCore:
    """Raw output of one aggregation (internal).

    Attributes
    ----------
    kind
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    levels
        Event times, cohorts or periods ``(L,)`` (empty for ``simple``).
    estimates
        Level estimates ``(L,)``.
    inf
        Level influence functions ``(n_units, L)``.
    overall_estimate, overall_inf
        The overall summary and its influence function ``(n_units,)``.
    notes
        Remarks (cells left out, empty levels).
    """

    kind: str
    levels: np.ndarray
    estimates: np.ndarray
    inf: np.ndarray
    overall_estimate: float
    overall_inf: np.ndarray
    notes: list[str] = field(default_factory=list)


def _wif_per_cohort(
    cell_cohort_idx: np.ndarray, att_k: np.ndarray, pg_k: np.ndarray, theta: float, n_cohorts: int
) -> np.ndarray:
    """``wif @ att`` of R did for cells ``K``, per cohort (last slot: never treated = 0)."""
    s = pg_k.sum()
    a = np.bincount(cell_cohort_idx, weights=att_k, minlength=n_cohorts)
    cnt = np.bincount(cell_cohort_idx, minlength=n_cohorts).astype(float)
    return np.append((a - cnt * theta) / s, 0.0)


def aggregate_core(
    est: GroupTimeEstimates,
    g_unit: np.ndarray,
    kind: str,
    *,
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: int | None = None,
    first_period: float | None = None,
) -> AggregationCore:
    """Aggregate group-time effects as R ``aggte(type=kind)`` does.

    Builds the :class:`AggregationPlan` and applies its weights to the
    influence functions of the cells (one product for all levels and the
    overall summary).  Parameters as :func:`aggregation_plan`.
    """
    plan = aggregation_plan(
        est, g_unit, kind, min_e=min_e, max_e=max_e, balance_e=balance_e, first_period=first_period
    )
    inf_all = est.inf.combine(plan.weights)
    inf_all += plan.shift[plan.unit_idx]
    n_lv = plan.levels.size
    return AggregationCore(
        kind, plan.levels, plan.estimates, inf_all[:, :n_lv], plan.overall_estimate, inf_all[:, n_lv], plan.notes
    )


@dataclass
class AggregationPlan:
    """Weights of one aggregation (internal).

    The influence functions of the levels and of the overall summary are
    ``IF_cells @ weights + shift[unit_idx]`` (last column: overall).

    Attributes
    ----------
    kind, levels, estimates, overall_estimate, notes
        As :class:`AggregationCore`.
    weights
        ``(n_cells, L + 1)`` weights of the cells.
    shift
        ``(n_cohorts + 1, L + 1)`` estimated-weight term per aggregation cohort
        (last row: never treated / not aggregated, always 0).
    unit_idx
        ``(n_units,)`` row of ``shift`` of each unit.
    """

    kind: str
    levels: np.ndarray
    estimates: np.ndarray
    overall_estimate: float
    weights: np.ndarray
    shift: np.ndarray
    unit_idx: np.ndarray
    notes: list[str] = field(default_factory=list)


def aggregation_plan(
    est: GroupTimeEstimates,
    g_unit: np.ndarray,
    kind: str,
    *,
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: int | None = None,
    first_period: float | None = None,
) -> AggregationPlan:
    """Estimates and influence-function weights of ``aggte(type=kind)``.

    Parameters
    ----------
    est
        The group-time estimates.
    g_unit
        First treatment period per unit (``inf`` = never treated).
    kind
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    min_e, max_e
        Event-time window for ``dynamic``; ``max_e`` also limits the
        post-treatment cells used by ``simple`` and ``group`` (as in R).
    balance_e
        For ``dynamic``: keep only cohorts observed for at least ``balance_e``
        periods after treatment, and event times up to ``balance_e``.
    first_period
        First period of the panel (used by ``balance_e``).
    """
    notes: list[str] = []
    n = g_unit.size
    valid = ~np.isnan(est.att)
    if not valid.all():
        notes.append(f"{int((~valid).sum())} ATT(g,t) cells that could not be estimated were left out.")
    cohorts = np.unique(est.group[valid]) if valid.any() else np.array([])
    n_coh = cohorts.size
    unit_idx = np.full(n, n_coh, dtype=np.intp)  # n_coh = never treated / not aggregated
    if n_coh:
        pos = np.minimum(np.searchsorted(cohorts, g_unit), n_coh - 1)
        hit = cohorts[pos] == g_unit
        unit_idx[hit] = pos[hit]
    pg_cohort = np.bincount(unit_idx, minlength=n_coh + 1)[:n_coh] / n
    cell_idx = np.searchsorted(cohorts, est.group)
    cell_idx = np.minimum(cell_idx, max(n_coh - 1, 0))
    pg = pg_cohort[cell_idx] if n_coh else np.zeros(est.group.size)
    att = np.where(valid, est.att, 0.0)
    g, t = est.group, est.time
    e_all = t - g
    hi = np.inf if max_e is None else max_e
    lo = -np.inf if min_e is None else min_e
    n_cells = att.size

    def weighted(which: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Estimate, cell-weight column and per-cohort wif for cells ``which`` (pg weights)."""
        w = np.zeros(n_cells)
        if which.size == 0:
            return np.nan, w, np.zeros(n_coh + 1)
        s = pg[which].sum()
        w[which] = pg[which] / s
        theta = float(w[which] @ att[which])
        return theta, w, _wif_per_cohort(cell_idx[which], att[which], pg[which], theta, n_coh)

    def weighted_levels(level: np.ndarray, n_lv: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`weighted` for every level at once; ``level[j]`` is the level of cell ``j`` (-1: none)."""
        ests = np.full(n_lv, np.nan)
        wmat = np.zeros((n_cells, n_lv))
        wifs = np.zeros((n_coh + 1, n_lv))
        j = np.flatnonzero(level >= 0)
        if j.size == 0:
            return ests, wmat, wifs
        lv = level[j]
        s = np.bincount(lv, weights=pg[j], minlength=n_lv)
        wj = pg[j] / s[lv]
        wmat[j, lv] = wj
        hit = np.bincount(lv, minlength=n_lv) > 0
        ests[hit] = np.bincount(lv, weights=wj * att[j], minlength=n_lv)[hit]
        key = cell_idx[j] * n_lv + lv
        a_sum = np.bincount(key, weights=att[j], minlength=n_coh * n_lv).reshape(n_coh, n_lv)
        cnt = np.bincount(key, minlength=n_coh * n_lv).reshape(n_coh, n_lv)
        with np.errstate(invalid="ignore", divide="ignore"):
            wifs[:n_coh] = np.where(hit, (a_sum - cnt * np.where(hit, ests, 0.0)) / np.where(hit, s, 1.0), 0.0)
        return ests, wmat, wifs

    if kind == "simple":
        keep = np.flatnonzero(valid & (g <= t) & (e_all <= hi))
        theta, w, wif = weighted(keep)
        if keep.size == 0:
            notes.append("No post-treatment ATT(g,t) to aggregate.")
        return AggregationPlan(kind, np.array([]), np.array([]), theta, w[:, None], wif[:, None], unit_idx, notes)

    if kind == "dynamic":
        include = valid.copy()
        eseq = np.unique(e_all[valid])
        if balance_e is not None:
            tmax = t[valid].max()
            t1 = first_period if first_period is not None else t[valid].min()
            include &= (tmax - g) >= balance_e
            eseq = np.unique(e_all[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + t1)]
        eseq = eseq[(eseq >= lo) & (eseq <= hi)]
        pos_e = np.searchsorted(eseq, e_all)
        in_seq = include & (pos_e < eseq.size)
        in_seq[in_seq] = eseq[pos_e[in_seq]] == e_all[in_seq]
        ests, wmat, wifs = weighted_levels(np.where(in_seq, pos_e, -1), eseq.size)
        epos = eseq >= 0
        if epos.any():
            overall = float(ests[epos].mean())
            w_o, s_o = wmat[:, epos].mean(axis=1), wifs[:, epos].mean(axis=1)
        else:
            notes.append("No event time >= 0 in the window: the overall dynamic effect is undefined.")
            overall, w_o, s_o = np.nan, np.zeros(n_cells), np.zeros(n_coh + 1)
        return AggregationPlan(
            kind, eseq, ests, overall, np.column_stack([wmat, w_o]), np.column_stack([wifs, s_o]), unit_idx, notes
        )

    if kind == "group":
        glist = cohorts
        ests = np.full(glist.size, np.nan)
        wmat = np.zeros((n_cells, glist.size))
        for k, gg in enumerate(glist):
            which = np.flatnonzero(valid & (g == gg) & (gg <= t) & (t <= gg + hi))
            if which.size:
                wmat[which, k] = 1.0 / which.size
                ests[k] = float(att[which].mean())
        ok = ~np.isnan(ests)
        if not ok.all():
            notes.append(
                "Cohorts without post-treatment cells left out of the overall group effect: "
                + ", ".join(_fmt(v) for v in glist[~ok])
                + "."
            )
        pgg = pg_cohort[ok]
        if ok.any():
            s = pgg.sum()
            overall = float(ests[ok] @ pgg / s)
            wif = _wif_per_cohort(np.flatnonzero(ok), ests[ok], pgg, overall, n_coh)
            w_o = wmat[:, ok] @ (pgg / s)
        else:
            overall, w_o, wif = np.nan, np.zeros(n_cells), np.zeros(n_coh + 1)
        shift = np.zeros((n_coh + 1, glist.size + 1))
        shift[:, -1] = wif
        return AggregationPlan(kind, glist, ests, overall, np.column_stack([wmat, w_o]), shift, unit_idx, notes)

    if kind == "calendar":
        if not valid.any():
            return AggregationPlan(
                kind, np.array([]), np.array([]), np.nan, np.zeros((n_cells, 1)), np.zeros((n_coh + 1, 1)),
                unit_idx, notes,
            )
        min_g = g[valid].min()
        tlist = np.unique(t[valid])
        tlist = tlist[tlist >= min_g]
        pos_t = np.searchsorted(tlist, t)
        in_seq = valid & (g <= t) & (pos_t < tlist.size)
        in_seq[in_seq] = tlist[pos_t[in_seq]] == t[in_seq]
        ests, wmat, wifs = weighted_levels(np.where(in_seq, pos_t, -1), tlist.size)
        ok = ~np.isnan(ests)
        overall = float(ests[ok].mean()) if ok.any() else np.nan
        w_o = wmat[:, ok].mean(axis=1) if ok.any() else np.zeros(n_cells)
        s_o = wifs[:, ok].mean(axis=1) if ok.any() else np.zeros(n_coh + 1)
        return AggregationPlan(
            kind, tlist, ests, overall, np.column_stack([wmat, w_o]), np.column_stack([wifs, s_o]), unit_idx, notes
        )

    raise ValueError(kind)  # pragma: no cover - validated by the caller
