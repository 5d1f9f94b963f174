"""Fixed-length confidence intervals (FLCI) under Delta^SD(M) (Rambachan & Roth 2023, section 4.1).

The FLCI is ``l_pre' beta_pre + l' beta_post +/- chi``: the affine estimator
(pre-period weights chosen) with the shortest half-length
``chi = sd(h) * cv_alpha(M * bias(h) / sd)``, where ``bias(h)`` is the smallest
worst-case bias over Delta^SD(1) among estimators with standard deviation at
most ``h`` and ``cv_alpha(t)`` is the ``1 - alpha`` quantile of ``|N(t, 1)|``.

R ``HonestDiD`` solves the bias problem with CVXR/ECOS for each ``h`` and finds
the best ``h`` by bisection on numerical derivatives. We follow the same outer
search but solve the inner problem exactly: writing the estimator through the
cumulated weights ``z`` (R's ``w``, summed), the problem is ``min ||z||_1``
subject to one quadratic constraint, whose solution on each sign pattern is in
closed form; we enumerate sign patterns (vectorised; up to 13 pre-periods) and
fall back to SLSQP beyond that.

The folded-normal quantile is computed as R does by default (``"r"``: the
quantile of ``|Z + t|`` over R's ``set.seed(0); rnorm(1e6)`` draws, reproduced
exactly) or exactly (``"exact"``, root of the folded-normal distribution function).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import ndtr

from ._rng import r_rnorm

__all__ = ["FlciSolution", "optimal_flci", "folded_normal_quantile"]

_EPS = np.finfo(float).eps


@lru_cache(maxsize=4)
def _sorted_draws(seed: int, n: int) -> np.ndarray:
    return np.sort(r_rnorm(n, seed))


def folded_normal_quantile(p: float, mu: float, *, mode: str = "r", seed: int = 0, n: int = 1_000_000) -> float:
    """``p`` quantile of ``|N(mu, 1)|``: by R's simulation (``mode="r"``) or exactly.

    >>> round(folded_normal_quantile(0.95, 0.0, mode="exact"), 6)
    1.959964
    """
    if mode == "exact":
        lo, hi = 0.0, abs(mu) + 10.0
        return brentq(lambda x: ndtr(x - mu) - ndtr(-x - mu) - p, lo, hi, xtol=1e-14, rtol=1e-15)
    z = _sorted_draws(seed, n)
    if p < 0.5:  # the fast tail path below assumes an upper quantile
        return float(np.quantile(np.abs(z + mu), p))
    h = (n - 1) * p  # R quantile type 7
    k = int(np.floor(h))
    frac = h - k
    need = n - k + 1  # order statistics k, k+1 (0-based) counted from the top
    cand = np.abs(np.concatenate([z[-need:] + mu, z[:need] + mu]))
    top = -np.sort(-np.partition(cand, len(cand) - need)[len(cand) - need:])  # the `need` largest, descending
    lo_val = top[n - 1 - k]
    hi_val = top[n - 2 - k] if k + 1 < n else lo_val
    return float(lo_val + frac * (hi_val - lo_val))


@dataclass
class FlciSolution:
    """Optimal FLCI: full weight vector (pre weights then ``l_vec``), half-length and sd."""

    weights: np.ndarray
    half_length: float
    sd: float
    max_bias: float


class _BiasProblem:
    """``min ||z||_1`` s.t. ``z'Qz + 2b'z + c0 <= h^2`` (worst-case bias as a function of sd bound h)."""

    def __init__(self, sigma: np.ndarray, num_pre: int, num_post: int, l_vec: np.ndarray):
        p = num_pre
        t = np.arange(1, num_post + 1)
        self.s_target = float(t @ l_vec)
        self.constant = float(
            sum(abs(np.arange(1, s + 1) @ l_vec[num_post - s:]) for s in range(1, num_post + 1)) - self.s_target
        )
        d1 = np.eye(p) - np.eye(p, k=-1)
        dd = d1 @ d1  # z (cumulated weights) -> pre-period weights l_pre
        g_free, g_last = dd[:, :p - 1], dd[:, p - 1]
        s_pre = sigma[:p, :p]
        c = sigma[:p, p:] @ l_vec
        v0 = float(l_vec @ sigma[p:, p:] @ l_vec)
        u = g_last * self.s_target
        self.g_free, self.u = g_free, u
        self.q = g_free.T @ s_pre @ g_free
        self.b = g_free.T @ (s_pre @ u + c)
        self.c0 = float(u @ s_pre @ u + 2 * u @ c + v0)
        self.k = p - 1
        if self.k:
            sol = np.linalg.lstsq(self.q, self.b, rcond=None)[0]
            self.var_min = max(self.c0 - float(self.b @ sol), 0.0)
            # the minimum-variance estimator (unique when Q has full rank)
            self.z_min = -sol if np.linalg.matrix_rank(self.q) == self.k else None
        else:
            self.var_min = self.c0
            self.z_min = None
        self._patterns = self._make_patterns() if 0 < self.k <= 12 else None

    def _make_patterns(self):
        out = []
        for mask in range(1, 2 ** self.k):
            idx = np.array([i for i in range(self.k) if mask >> i & 1])
            qs = self.q[np.ix_(idx, idx)]
            try:
                qinv = np.linalg.inv(qs)
            except np.linalg.LinAlgError:
                continue
            bs = self.b[idx]
            z0 = -qinv @ bs
            qmin = self.c0 - float(bs @ qinv @ bs)
            signs = np.array(list(product((-1.0, 1.0), repeat=len(idx))))
            us = signs @ qinv  # (ns, |S|)
            norm = np.sqrt(np.maximum(np.einsum("ij,ij->i", us, signs), 0.0))
            out.append((idx, z0, qmin, signs, us, norm))
        return out

    def h_bounds(self) -> tuple[float, float]:
        """``(h_min, h0)``: the smallest sd and the sd of the minimum-bias estimator."""
        return float(np.sqrt(self.var_min)), float(np.sqrt(max(self.c0, 0.0)))

    def solve(self, h: float) -> tuple[float, np.ndarray]:
        """Worst-case bias over Delta^SD(1) and the cumulated weights ``z`` at sd bound ``h``."""
        h2 = h * h
        base = self.constant + abs(self.s_target)
        if self.k == 0 or self.c0 <= h2:
            return (base if self.c0 <= h2 * (1 + 1e-9) else np.inf), np.zeros(self.k)
        if self.z_min is not None and abs(h2 - self.var_min) <= 64 * _EPS * self.c0:
            # h is the smallest sd (to rounding): the only feasible estimator is the minimum-variance
            # one. The sign-pattern formula below would move it by r = sqrt(h^2 - var_min), the square
            # root of rounding noise (~1e-8 here), which differed between BLAS kernels (CPUs).
            return base + float(np.abs(self.z_min).sum()), self.z_min.copy()
        if self._patterns is None:
            return self._solve_slsqp(h2, base)
        best, best_z = np.inf, None
        tol = 1e-9 * max(self.c0, 1e-300)
        for idx, z0, qmin, signs, us, norm in self._patterns:
            if h2 < qmin - tol:
                continue
            r = np.sqrt(max(h2 - qmin, 0.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                z = z0[None, :] - r * us / norm[:, None]
            ok = np.all(z * signs >= -1e-12 * (1 + np.abs(z0).max()), axis=1) & (norm > 0)
            if not ok.any():
                continue
            obj = np.einsum("ij,ij->i", z, signs)
            obj[~ok] = np.inf
            j = int(np.argmin(obj))
            if obj[j] < best:
                best = float(obj[j])
                best_z = np.zeros(self.k)
                best_z[idx] = z[j]
        if best_z is None:
            return np.inf, np.zeros(self.k)
        return base + best, best_z

    def _solve_slsqp(self, h2: float, base: float) -> tuple[float, np.ndarray]:
        k = self.k
        cons = [
            {"type": "ineq", "fun": lambda x: x[:k] - x[k:], "jac": lambda x: np.hstack([np.eye(k), -np.eye(k)])},
            {"type": "ineq", "fun": lambda x: x[:k] + x[k:], "jac": lambda x: np.hstack([np.eye(k), np.eye(k)])},
            {"type": "ineq", "fun": lambda x: h2 - (x[k:] @ self.q @ x[k:] + 2 * self.b @ x[k:] + self.c0),
             "jac": lambda x: np.concatenate([np.zeros(k), -(2 * self.q @ x[k:] + 2 * self.b)])},
        ]
        z0 = -np.linalg.lstsq(self.q, self.b, rcond=None)[0]
        x0 = np.concatenate([np.abs(z0) + 1e-8, z0])
        res = minimize(lambda x: x[:k].sum(), x0, jac=lambda x: np.concatenate([np.ones(k), np.zeros(k)]),
                       constraints=cons, method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
        if not res.success:
            return np.inf, np.zeros(k)
        return base + float(np.abs(res.x[k:]).sum()), res.x[k:]

    def weights(self, z: np.ndarray) -> np.ndarray:
        return self.g_free @ z + self.u


def optimal_flci(
    sigma: np.ndarray,
    *,
    m: float,
    num_pre: int,
    num_post: int,
    l_vec: np.ndarray,
    alpha: float,
    quantile: str = "r",
    num_points: int = 100,
) -> FlciSolution:
    """Shortest FLCI for ``l' tau_post`` under Delta^SD(m) at level ``1 - alpha`` (R ``findOptimalFLCI``)."""
    prob = _BiasProblem(np.asarray(sigma, float), num_pre, num_post, np.asarray(l_vec, float))
    h_min, h0 = prob.h_bounds()

    def half(h: float, mode: str = quantile) -> float:
        bias = prob.solve(h)[0]
        if not np.isfinite(bias):
            return np.nan
        return folded_normal_quantile(1 - alpha, m * bias / h, mode=mode) * h

    # R bisects on numerical derivatives of the simulated (piecewise-linear) half-length; near a flat
    # interior optimum that lands anywhere in a noisy band. We locate h* on the smooth exact
    # half-length (same corner rules as R), then evaluate the half-length as R does.
    hstar = _optimal_h(lambda h: half(h, "exact"), h_min, h0, num_points)
    if np.isnan(hstar):
        grid = np.linspace(h_min, h0, num_points)
        vals = np.array([half(h) for h in grid])
        hstar = float(grid[np.nanargmin(vals)])
    bias, z = prob.solve(hstar)
    if not np.isfinite(bias):  # boundary round-off at h_min
        bias, z = prob.solve(hstar * (1 + 1e-9))
    hl = folded_normal_quantile(1 - alpha, m * bias / hstar, mode=quantile) * hstar
    w = np.concatenate([prob.weights(z), np.asarray(l_vec, float)])
    return FlciSolution(weights=w, half_length=float(hl), sd=float(hstar), max_bias=float(m * bias))


def _optimal_h(f, a: float, b: float, num_points: int) -> float:
    """Minimum of the convex half-length on ``[a, b]``: R's corner rules, else bounded Brent."""
    if not b > a:
        return a
    dif = min((b - a) / num_points, abs(b) * _EPS ** (1 / 3))
    fa, fb = f(a), f(b)
    if np.isnan(fa) or np.isnan(fb):
        return np.nan
    fpa = (f(a + dif) - fa) / dif
    fpb = (f(b - dif) - fb) / -dif
    if fpb < 0:
        return b
    if fpa > 0:
        return a
    res = minimize_scalar(f, bounds=(a, b), method="bounded", options={"xatol": 1e-10 * b})
    if not res.success or not np.isfinite(res.fun):
        return _bisection(f, a, b, num_points)
    return float(res.x)


def _bisection(f, a: float, b: float, num_points: int) -> float:
    """R's ``.findOptimalCIDerivativeBisection``: minimum of a convex function by derivative bisection."""
    if not b > a:
        return a
    failtol = np.sqrt(_EPS)
    dif = min((b - a) / num_points, abs(b) * _EPS ** (1 / 3))
    fa, fb = f(a), f(b)
    if np.isnan(fa) or np.isnan(fb):
        return np.nan
    fpa = (f(a + dif) - fa) / dif
    fpb = (f(b - dif) - fb) / -dif
    maxiter = 10 * int(np.ceil(np.log(abs(b - a) / dif) / np.log(2)))
    if fpa > fpb:
        return np.nan
    if fpb < 0:
        return b
    if fpa > 0:
        return a
    it = 1
    while abs(b - a) > dif:
        it += 1
        x = (a + b) / 2
        fpx = (f(x + dif) - f(x - dif)) / (2 * dif)
        if fpx > fpb + failtol or fpx + failtol < fpa or it > maxiter or np.isnan(fpx):
            return np.nan
        if fpx > 0:
            b = x
        else:
            a = x
    return (a + b) / 2
