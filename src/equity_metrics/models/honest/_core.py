"""Confidence sets for ``l' tau_post`` under one Delta and one M (the engine behind :func:`honest_did`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._arp import ArpProblem, arp_accept, lf_critical_value
from ._deltas import a_monotone, a_rm, a_sd, a_sdrm, a_sign, identified_set, post_rows
from ._flci import FlciSolution, optimal_flci

__all__ = ["CsResult", "confidence_set", "gamma_matrix"]


@dataclass
class CsResult:
    lb: float
    ub: float
    grid: np.ndarray | None
    accept: np.ndarray | None
    open_ended: bool


def gamma_matrix(l_vec: np.ndarray) -> np.ndarray:
    """Invertible matrix with ``l'`` as its first row (R ``.construct_Gamma``: pivots of ``[l, I]``)."""
    n = len(l_vec)
    rows = [np.asarray(l_vec, float)]
    for j in range(n):
        cand = np.vstack(rows + [np.eye(n)[j]])
        if np.linalg.matrix_rank(cand) == len(cand):
            rows.append(np.eye(n)[j])
        if len(rows) == n:
            break
    return np.vstack(rows)


def _extra(num_pre, num_post, bias, monotone):
    if bias is not None:
        return a_sign(num_pre, num_post, bias)
    if monotone is not None:
        return a_monotone(num_pre, num_post, monotone)
    return None


def _problem(beta, sigma, a, d, num_pre, l_vec, rows):
    gam = gamma_matrix(l_vec)
    agi = a[:, num_pre:] @ np.linalg.inv(gam)
    y = a @ beta - d
    sy = a @ sigma @ a.T
    return ArpProblem(y=y[rows], a=agi[rows, 0], x=agi[rows, 1:], sigma=sy[np.ix_(rows, rows)])


def _grid_result(grid: np.ndarray, acc: np.ndarray, hybrid: str) -> CsResult:
    if not acc.any():
        return CsResult(np.nan, np.nan, grid, acc, False)
    open_ended = bool((acc[0] or acc[-1]) and hybrid != "FLCI")
    return CsResult(float(grid[acc].min()), float(grid[acc].max()), grid, acc, open_ended)


def confidence_set(
    beta: np.ndarray,
    sigma: np.ndarray,
    *,
    num_pre: int,
    num_post: int,
    l_vec: np.ndarray,
    delta: str,
    m: float,
    method: str,
    bias: str | None = None,
    monotone: str | None = None,
    alpha: float = 0.05,
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    seed: int = 0,
    quantile: str = "r",
    post_moments_only: bool = True,
) -> CsResult:
    """One robust confidence set. ``delta``: ``"SD"``, ``"RM"`` or ``"SDRM"``; ``method``: ``FLCI``,
    ``Conditional``, ``C-F`` or ``C-LF`` (R names)."""
    kappa = alpha / 10
    post = slice(num_pre, num_pre + num_post)
    sd_theta = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
    hybrid = {"Conditional": "ARP", "C-LF": "LF", "C-F": "FLCI", "FLCI": "FLCI"}[method]
    extra = _extra(num_pre, num_post, bias, monotone)

    if delta == "SD":
        if method == "FLCI":
            f = optimal_flci(sigma, m=m, num_pre=num_pre, num_post=num_post, l_vec=l_vec, alpha=alpha, quantile=quantile)
            est = float(f.weights @ beta)
            return CsResult(est - f.half_length, est + f.half_length, None, None, False)
        a, d = a_sd(num_pre, num_post, m)
        if extra is not None:
            a, d = np.vstack([a, extra[0]]), np.concatenate([d, extra[1]])
        rows = post_rows(a, num_pre) if (post_moments_only and num_post > 1) else np.arange(a.shape[0])
        prob = _problem(beta, sigma, a, d, num_pre, l_vec, rows)
        flci_info = lf_cv = None
        if hybrid == "FLCI":
            f: FlciSolution = optimal_flci(sigma, m=m, num_pre=num_pre, num_post=num_post, l_vec=l_vec,
                                           alpha=kappa, quantile=quantile)
            est = float(f.weights @ beta)
            flci_info = (est, f.half_length, a[rows] @ sigma @ f.weights)
            lo = est - f.half_length if grid_lb is None else grid_lb
            hi = est + f.half_length if grid_ub is None else grid_ub
        else:
            id_lb, id_ub = identified_set(a, d, np.zeros(num_pre + num_post), l_vec, num_pre)
            id_lb, id_ub = min(id_lb, -id_ub), max(id_ub, -id_lb)
            lo = id_lb - 20 * sd_theta if grid_lb is None else grid_lb
            hi = id_ub + 20 * sd_theta if grid_ub is None else grid_ub
            if hybrid == "LF":
                lf_cv = lf_critical_value(prob, kappa, seed=seed)
        grid = np.linspace(lo, hi, grid_points)
        acc = arp_accept(prob, grid, alpha=alpha, hybrid=hybrid, kappa=kappa, lf_cv=lf_cv, flci=flci_info)
        return _grid_result(grid, acc, hybrid)

    if delta not in ("RM", "SDRM"):
        raise ValueError(delta)
    if method not in ("Conditional", "C-LF"):
        raise ValueError(method)
    builder, s_min = (a_rm, -(num_pre - 1)) if delta == "RM" else (a_sdrm, -(num_pre - 2))
    lo = -20 * sd_theta if grid_lb is None else grid_lb
    hi = 20 * sd_theta if grid_ub is None else grid_ub
    grid = np.linspace(lo, hi, grid_points)
    acc = np.zeros(grid_points, dtype=bool)
    for s in range(s_min, 1):
        for positive in (True, False):
            a, d = builder(num_pre, num_post, m, s, positive)
            if extra is not None:
                a, d = np.vstack([a, extra[0]]), np.concatenate([d, extra[1]])
            if num_post == 1:
                keep = np.flatnonzero(a[:, -1] != 0) if post_moments_only else np.arange(a.shape[0])
                a, d = a[keep], d[keep]
                rows = np.arange(a.shape[0])
            else:
                rows = post_rows(a, num_pre) if post_moments_only else np.arange(a.shape[0])
            prob = _problem(beta, sigma, a, d, num_pre, l_vec, rows)
            lf_cv = lf_critical_value(prob, kappa, seed=seed) if hybrid == "LF" else None
            todo = ~acc
            if todo.any():
                acc[todo] = arp_accept(prob, grid[todo], alpha=alpha, hybrid=hybrid, kappa=kappa, lf_cv=lf_cv)
    return _grid_result(grid, acc, hybrid)
