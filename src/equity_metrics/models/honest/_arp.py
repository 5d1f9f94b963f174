"""Conditional (ARP) and hybrid tests of ``E[Y - a theta - X delta] <= 0``, vectorised over a grid.

Andrews, Roth & Pakes (2023) moment-inequality test with nuisance parameters,
as R ``HonestDiD`` applies it (``.ARP_computeCI``). For a value ``theta``, the
statistic is the linear program

    eta(theta) = min_delta max_j (y_j - X_j delta) / sd_j,   y = Y - a theta,

whose dual is ``max gamma' y`` over the polytope
``{gamma >= 0, sd' gamma = 1, X' gamma = 0}``, which does not depend on ``theta``.
We enumerate that polytope's vertices once; then ``eta`` (and the optimal dual
vertex ``gamma``) for every grid point and every simulation draw is one matrix
product and a row maximum. Conditioning on ``gamma`` being optimal gives the
truncation points ``[v_lo, v_up]`` in closed form (R finds them by bisection
over linear programs: same values to its tolerance). When the polytope has too
many candidate bases to enumerate, each grid point falls back to HiGHS.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, islice
from math import comb

import numpy as np
from scipy.optimize import linprog
from scipy.stats import truncnorm

from ._rng import r_rmvnorm

__all__ = ["ArpProblem", "arp_accept", "lf_critical_value"]

MAX_BASES = 2_000_000  # candidate bases enumerated (in chunks); beyond: per-point HiGHS LPs
CHUNK = 50_000
FLCI_TIE = 1e-12  # relative: theta this close to an FLCI end is on it (rounding noise is ~1e-16)


@dataclass
class ArpProblem:
    """Moments ``y(theta) = Y - a theta`` with nuisance design ``X`` and covariance ``sigma`` (ARP rows only)."""

    y: np.ndarray  # (m,)
    a: np.ndarray  # (m,)
    x: np.ndarray  # (m, k)
    sigma: np.ndarray  # (m, m)

    def __post_init__(self):
        self.sd = np.sqrt(np.diag(self.sigma))
        self.vertices = _dual_vertices(self.sd, self.x)


def _dual_vertices(sd: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """Vertices (rows) of ``{g >= 0, sd'g = 1, X'g = 0}``; ``None`` if too many bases to enumerate."""
    m = sd.shape[0]
    if x.size:
        _, r, piv = _qr_pivot(x)
        diag = np.abs(np.diag(r))
        rank = int(np.sum(diag > 1e-10 * max(1.0, diag.max(initial=0.0))))
        x = x[:, np.sort(piv[:rank])]  # drop redundant equalities
        w = np.column_stack([sd, x])
        if np.linalg.matrix_rank(w) < w.shape[1]:  # sd in the span of X: no dual point
            return np.zeros((0, m))
    else:
        w = sd[:, None]
    p = w.shape[1]
    if p > m:
        return np.zeros((0, m))
    if comb(m, p) > MAX_BASES:
        return None
    rhs = np.zeros(p)
    rhs[0] = 1.0
    found = []
    combos = combinations(range(m), p)
    while True:  # chunks keep memory bounded (~CHUNK * p * p floats)
        bases = np.array(list(islice(combos, CHUNK)), dtype=np.intp)
        if len(bases) == 0:
            break
        wb = np.transpose(w[bases], (0, 2, 1))  # (nb, p, p): W_B'
        det = np.linalg.det(wb)
        ok = np.abs(det) > 1e-12 * np.max(np.abs(wb), axis=(1, 2)) ** p
        bases, wb = bases[ok], wb[ok]
        if len(bases):
            lam = np.linalg.solve(wb, np.broadcast_to(rhs, (len(bases), p))[..., None])[..., 0]
            feas = np.all(lam >= -1e-10, axis=1)
            verts = np.zeros((int(feas.sum()), m))
            np.put_along_axis(verts, bases[feas], np.maximum(lam[feas], 0.0), axis=1)
            found.append(verts)
    verts = np.vstack(found) if found else np.zeros((0, m))
    if len(verts) == 0:
        return verts
    return np.unique(np.round(verts, 12), axis=0)


def _qr_pivot(w: np.ndarray):
    from scipy.linalg import qr

    return qr(w, pivoting=True, mode="economic")


def _eta_dual_lp(prob: ArpProblem, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Fallback: eta and an optimal dual vertex by HiGHS (dual simplex)."""
    m = y.shape[0]
    a_eq = np.vstack([prob.sd[None, :], prob.x.T]) if prob.x.size else prob.sd[None, :]
    b_eq = np.zeros(a_eq.shape[0])
    b_eq[0] = 1.0
    res = linprog(-y, A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * m, method="highs-ds")
    if res.status != 0:
        return np.nan, np.full(m, np.nan)
    return -res.fun, np.maximum(res.x, 0.0)


def _eta_gamma(prob: ArpProblem, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """eta (n,) and optimal dual vertices (n, m) for moment vectors ``ys`` (n, m)."""
    if prob.vertices is not None:
        if len(prob.vertices) == 0:  # primal unbounded: eta = -inf, never reject
            return np.full(len(ys), -np.inf), np.zeros_like(ys)
        vals = ys @ prob.vertices.T
        j = np.argmax(vals, axis=1)
        return vals[np.arange(len(ys)), j], prob.vertices[j]
    out = [_eta_dual_lp(prob, y) for y in ys]
    return np.array([o[0] for o in out]), np.array([o[1] for o in out])


def _truncation(prob: ArpProblem, ys: np.ndarray, gam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sigma_B^2`` and the ``[v_lo, v_up]`` on which each ``gamma`` stays the optimal dual vertex."""
    sg = gam @ prob.sigma  # (n, m)
    s2 = np.einsum("ij,ij->i", sg, gam)
    safe = np.where(s2 > 0, s2, 1.0)
    b = sg / safe[:, None]  # Sigma gamma / gamma' Sigma gamma
    eta = np.einsum("ij,ij->i", gam, ys)
    s = ys - b * eta[:, None]
    if prob.vertices is not None:
        num = s @ prob.vertices.T  # (n, nv)
        den = 1.0 - b @ prob.vertices.T
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = num / den
        lo = np.where(den > 1e-10, ratio, -np.inf).max(axis=1)
        up = np.where(den < -1e-10, ratio, np.inf).min(axis=1)
        return s2, lo, up
    lo = np.empty(len(ys))
    up = np.empty(len(ys))
    for i in range(len(ys)):
        lo[i], up[i] = _newton_bounds(prob, s[i], b[i], eta[i])
    return s2, lo, up


def _newton_bounds(prob: ArpProblem, s: np.ndarray, b: np.ndarray, eta: float) -> tuple[float, float]:
    """Interval of c on which ``max_g g'(s + b c) = c`` (g the optimal vertex), by Newton steps on LPs."""
    out = []
    for sign in (1.0, -1.0):
        c = eta + sign * max(100.0, 20.0 * abs(eta) + 100.0)
        val, g = _eta_dual_lp(prob, s + b * c)
        if not np.isfinite(val) or abs(val - c) <= 1e-9 * max(1.0, abs(c)):
            out.append(sign * np.inf)
            continue
        for _ in range(50):
            den = 1.0 - g @ b
            if abs(den) < 1e-14:
                break
            c_new = (g @ s) / den
            val, g = _eta_dual_lp(prob, s + b * c_new)
            if abs(c_new - c) <= 1e-12 * max(1.0, abs(c)) or abs(val - c_new) <= 1e-10 * max(1.0, abs(c_new)):
                c = c_new
                break
            c = c_new
        out.append(c)
    return out[1], out[0]


def lf_critical_value(prob: ArpProblem, kappa: float, *, sims: int = 1000, seed: int = 0) -> float:
    """Least-favourable critical value: the ``1 - kappa`` quantile of ``eta`` under ``y ~ N(0, sigma)``.

    Draws follow R's ``set.seed(seed); mvtnorm::rmvnorm(sims, sigma = sigma)``.
    """
    xi = r_rmvnorm(sims, prob.sigma, seed)
    eta, _ = _eta_gamma(prob, xi)
    eta = eta[np.isfinite(eta)]
    return float(np.quantile(eta, 1.0 - kappa))


def arp_accept(
    prob: ArpProblem,
    thetas: np.ndarray,
    *,
    alpha: float,
    hybrid: str,
    kappa: float,
    lf_cv: float | None = None,
    flci: tuple[float, float, np.ndarray] | None = None,
) -> np.ndarray:
    """Boolean acceptance of each ``theta`` by the conditional / hybrid test.

    ``flci`` (FLCI hybrid) is ``(estimate l_flci' beta, half-length, q_vec)``
    where ``q_vec = A_arp Sigma_beta l_flci`` (so ``q = gamma' q_vec / sigma_B^2``).
    """
    thetas = np.asarray(thetas, dtype=float)
    ys = prob.y[None, :] - thetas[:, None] * prob.a[None, :]
    eta, gam = _eta_gamma(prob, ys)
    reject = np.zeros(len(thetas), dtype=bool)
    size = alpha
    first = np.zeros(len(thetas), dtype=bool)
    if hybrid == "LF":
        first = eta > lf_cv
        size = (alpha - kappa) / (1 - kappa)
    elif hybrid == "FLCI":
        est, hl, _ = flci
        dev = est - thetas
        # The FLCI is closed (R rejects when |theta - est| - hl > 0). Its two ends are the default
        # grid's ends, where that difference is 0 up to the rounding of est, hl and the grid: a
        # last-bit change in any of them flipped the decision (numpy/BLAS/LAPACK versions, CPUs).
        # Within FLCI_TIE of the boundary theta is on it, exactly: |dev| = hl, so the FLCI
        # truncation point below equals eta and the second stage decides, the same way everywhere.
        first = np.abs(dev) > hl + FLCI_TIE * (abs(est) + hl)
        dev = np.clip(dev, -hl, hl)
        size = (alpha - kappa) / (1 - kappa)
    s2, vlo, vup = _truncation(prob, ys, gam)
    if hybrid == "LF":
        vup = np.minimum(vup, lf_cv)
    elif hybrid == "FLCI":
        est, hl, qvec = flci
        with np.errstate(divide="ignore", invalid="ignore"):
            q = (gam @ qvec) / s2
            r1 = eta + (hl - dev) / q
            r2 = eta - (hl + dev) / q
        vup = np.minimum(vup, np.where(q > 0, r1, np.where(q < 0, r2, np.inf)))
        vlo = np.maximum(vlo, np.where(q > 0, r2, np.where(q < 0, r1, -np.inf)))
    degenerate = ~(s2 >= np.finfo(float).eps)
    sd_b = np.sqrt(np.where(degenerate, 1.0, s2))
    stat = eta / sd_b
    zlo, zup = vlo / sd_b, vup / sd_b
    inside = (zlo <= stat) & (stat <= zup) & np.isfinite(stat)
    cval = np.zeros(len(thetas))
    idx = np.flatnonzero(inside & ~degenerate & ~first)
    if len(idx):
        cval[idx] = np.maximum(0.0, _trunc_quantile(1.0 - size, zlo[idx], zup[idx]))
    reject[idx] = stat[idx] > cval[idx]
    reject |= degenerate & (eta > 0)
    reject |= first
    return ~reject


def _trunc_quantile(p: float, lo: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Quantile ``p`` of the standard normal truncated to ``[lo, up]`` (accurate in the tails)."""
    lo = np.asarray(lo, dtype=float)
    up = np.asarray(up, dtype=float)
    out = truncnorm.ppf(p, lo, up)
    bad = ~np.isfinite(out)
    if bad.any():  # interval far in a tail: the quantile is at the near end
        out[bad] = np.where(lo[bad] > 0, lo[bad], np.where(up[bad] < 0, up[bad], 0.0))
    return out
