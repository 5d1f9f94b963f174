"""Linear restrictions ``A delta <= d`` that define the sets Delta of Rambachan & Roth (2023).

``delta`` stacks the pre-period then the post-period violations of parallel
trends (the reference period, ``delta_0 = 0``, dropped), as R ``HonestDiD``
orders them. Each builder returns ``(A, d)``; the relative-magnitude families
are a union over the period ``s`` and the sign of the largest pre-period change,
so their builders take ``s`` and ``max_positive`` and the caller takes the union.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

__all__ = ["a_sd", "a_sign", "a_monotone", "a_rm", "a_sdrm", "post_rows", "identified_set"]


def _second_differences(num_pre: int, num_post: int) -> np.ndarray:
    t = num_pre + num_post + 1
    a = np.zeros((t - 2, t))
    for r in range(t - 2):
        a[r, r:r + 3] = (1.0, -2.0, 1.0)
    return a


def a_sd(num_pre: int, num_post: int, m: float) -> tuple[np.ndarray, np.ndarray]:
    """Delta^SD(M): every second difference of delta (with delta_0 = 0) within [-M, M]."""
    at = np.delete(_second_differences(num_pre, num_post), num_pre, axis=1)
    a = np.vstack([at, -at])
    return a, np.full(a.shape[0], float(m))


def a_sign(num_pre: int, num_post: int, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """Sign restriction on the post-period bias: ``positive`` (delta_post >= 0) or ``negative``."""
    a = -np.eye(num_pre + num_post)[num_pre:]
    if direction == "negative":
        a = -a
    return a, np.zeros(num_post)


def a_monotone(num_pre: int, num_post: int, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """Monotone delta (``increasing`` or ``decreasing``) through delta_0 = 0."""
    n = num_pre + num_post
    a = np.zeros((n, n))
    for r in range(num_pre - 1):
        a[r, r:r + 2] = (1.0, -1.0)
    a[num_pre - 1, num_pre - 1] = 1.0
    if num_post > 0:
        a[num_pre, num_pre] = -1.0
        for r in range(num_pre + 1, n):
            a[r, r - 1:r + 1] = (1.0, -1.0)
    if direction == "decreasing":
        a = -a
    return a, np.zeros(n)


def _relative(at: np.ndarray, v: np.ndarray, n_pre_rows: int, num_pre: int, mbar: float) -> np.ndarray:
    n_post_rows = at.shape[0] - n_pre_rows
    ub = np.vstack([np.tile(v, (n_pre_rows, 1)), np.tile(mbar * v, (n_post_rows, 1))])
    a = np.vstack([at - ub, -at - ub])
    a = a[np.einsum("ij,ij->i", a, a) > 1e-10]
    return np.delete(a, num_pre, axis=1)


def a_rm(num_pre: int, num_post: int, mbar: float, s: int, max_positive: bool) -> tuple[np.ndarray, np.ndarray]:
    """Delta^RM_{s,+/-}(Mbar): each first difference bounded by Mbar x the (signed) pre-period change at ``s``.

    ``s`` runs over ``-(num_pre - 1), ..., 0`` (the change from period s-1 to s).
    """
    t = num_pre + num_post + 1
    at = np.zeros((t - 1, t))
    for r in range(t - 1):
        at[r, r:r + 2] = (-1.0, 1.0)
    v = np.zeros(t)
    v[num_pre + s - 1:num_pre + s + 1] = (-1.0, 1.0)
    if not max_positive:
        v = -v
    a = _relative(at, v, num_pre, num_pre, mbar)
    return a, np.zeros(a.shape[0])


def a_sdrm(num_pre: int, num_post: int, mbar: float, s: int, max_positive: bool) -> tuple[np.ndarray, np.ndarray]:
    """Delta^SDRM_{s,+/-}(Mbar): post-period second differences bounded by Mbar x the pre-period one at ``s``.

    ``s`` runs over ``-(num_pre - 2), ..., 0``.
    """
    at = _second_differences(num_pre, num_post)
    t = at.shape[1]
    v = np.zeros(t)
    v[num_pre + s - 2:num_pre + s + 1] = (1.0, -2.0, 1.0)
    if not max_positive:
        v = -v
    a = _relative(at, v, num_pre - 1, num_pre, mbar)
    return a, np.zeros(a.shape[0])


def post_rows(a: np.ndarray, num_pre: int) -> np.ndarray:
    """Indices of the rows of ``A`` that involve a post-period coefficient."""
    return np.flatnonzero(np.any(a[:, num_pre:] != 0, axis=1))


def identified_set(a: np.ndarray, d: np.ndarray, beta: np.ndarray, l_vec: np.ndarray, num_pre: int) -> tuple[float, float]:
    """Bounds of ``l' tau_post`` when ``beta_pre = delta_pre`` and ``delta in {A delta <= d}``.

    ``tau_post = beta_post - delta_post``; returns ``(lower, upper)`` (the point
    ``l' beta_post`` if the linear programs fail, as R does).
    """
    n = a.shape[1]
    c = np.concatenate([np.zeros(num_pre), l_vec])
    a_eq = np.eye(n)[:num_pre]
    bounds = [(None, None)] * n
    lo = linprog(c, A_ub=a, b_ub=d, A_eq=a_eq, b_eq=beta[:num_pre], bounds=bounds, method="highs")
    hi = linprog(-c, A_ub=a, b_ub=d, A_eq=a_eq, b_eq=beta[:num_pre], bounds=bounds, method="highs")
    point = float(l_vec @ beta[num_pre:])
    if lo.status != 0 or hi.status != 0:
        return point, point
    return point + hi.fun, point - lo.fun
