"""Fitting internals of the interrupted time series model.

Holds the estimation machinery behind :func:`equity_metrics.models.its.interrupted_time_series`:
the AR(1) tools (Prais-Winsten whitening with gaps, the within-block correlation
matrix), generalised least squares with the AR(1) correlation profiled by REML
or fixed, the Poisson IRLS solver, and :func:`_fit`, which dispatches to OLS /
Newey-West / GLSAR / GLM fits and the quasi-likelihood AR(1) sandwich for
counts. Everything here is private and re-exported from ``models.its``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import optimize

from ..errors import EstimationError

_RHO_BOUND = 0.98


# ----------------------------------------------------------------------------- AR(1) machinery
def _ar1_whiten(v: np.ndarray, gap: np.ndarray, rho: float) -> tuple[np.ndarray, float]:
    """Prais-Winsten transform for AR(1) errors observed at integer times (gaps allowed).

    ``gap[i]`` is the time since the previous row of the same block (0 for a block's first
    row). Returns the whitened array (unit innovation scale relative to the marginal
    variance) and ``log det R``.
    """
    out = np.array(v, dtype=float, copy=True)
    idx = np.flatnonzero(gap > 0)
    r = rho ** gap[idx].astype(float)
    s = np.sqrt(1.0 - r * r)
    prev = np.asarray(v, float)[idx - 1]
    out[idx] = (np.asarray(v, float)[idx] - (r[:, None] * prev if out.ndim == 2 else r * prev)) / (s[:, None] if out.ndim == 2 else s)
    return out, float(np.sum(np.log1p(-r * r)))


def _ar1_corr(pos: np.ndarray, block: np.ndarray, rho: float) -> np.ndarray:
    """The AR(1) correlation matrix ``rho^|t_i - t_j|`` within blocks, 0 across."""
    d = np.abs(pos[:, None] - pos[None, :]).astype(float)
    return np.where(block[:, None] == block[None, :], rho ** d, 0.0)


def _reml_ar1(y: np.ndarray, X: np.ndarray, gap: np.ndarray, rho_fixed: float | None = None) -> dict[str, Any]:
    """GLS with AR(1) errors, ``rho`` by restricted maximum likelihood (profiled), or fixed."""
    n, k = X.shape
    if rho_fixed is not None:
        return _gls_at(y, X, gap, float(rho_fixed)) | {"boundary": False}
    A = np.column_stack([X, y])
    idx = np.flatnonzero(gap > 0)
    g = gap[idx].astype(float)
    cur, prev = A[idx], A[idx - 1]

    def nll(rho: float) -> float:
        r = rho**g
        s = np.sqrt(1.0 - r * r)
        W = A.copy()
        W[idx] = (cur - r[:, None] * prev) / s[:, None]
        M = W.T @ W  # [X'X X'y; y'X y'y] of the whitened data
        xtx = M[:k, :k]
        try:
            c = np.linalg.cholesky(xtx)
        except np.linalg.LinAlgError:
            return np.inf
        v = np.linalg.solve(c, M[:k, k])
        rss = float(M[k, k] - v @ v)
        if rss <= 0:
            return np.inf
        return float(np.sum(np.log(s)) + np.sum(np.log(np.diag(c))) + 0.5 * (n - k) * math.log(rss))

    grid = np.linspace(-0.9, 0.9, 10)
    vals = np.array([nll(r) for r in grid])
    i = int(np.argmin(vals))
    lo = -_RHO_BOUND if i == 0 else grid[i - 1]
    hi = _RHO_BOUND if i == len(grid) - 1 else grid[i + 1]
    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-7})
    rho = float(res.x) if res.fun <= vals[i] else float(grid[i])
    return _gls_at(y, X, gap, rho) | {"boundary": abs(rho) > 0.97}


def _gls_at(y: np.ndarray, X: np.ndarray, gap: np.ndarray, rho: float) -> dict[str, Any]:
    yw, _ = _ar1_whiten(y, gap, rho)
    Xw, _ = _ar1_whiten(X, gap, rho)
    xtx_inv = np.linalg.inv(Xw.T @ Xw)
    beta = xtx_inv @ Xw.T @ yw
    sigma2 = float(np.sum((yw - Xw @ beta) ** 2)) / (X.shape[0] - X.shape[1])
    return {"beta": beta, "cov": sigma2 * xtx_inv, "rho": rho, "scale": sigma2}


# ----------------------------------------------------------------------------- fitting
def _fit(y, X, off, family, errors, gap, pos, block, maxlags, ar_order, nb_alpha, rho_fixed=None):
    import statsmodels.api as sm

    n, k = X.shape
    info: dict[str, Any] = {"rho": None, "scale": 1.0, "nb_alpha": None, "df": None}
    if family == "gaussian":
        if errors == "ar1":
            r = _reml_ar1(y, X, gap, rho_fixed)
            info.update(rho=r["rho"], scale=r["scale"], df=n - k - (rho_fixed is None), boundary=r["boundary"])
            return r["beta"], r["cov"], info
        if errors == "gls_ar":
            res = sm.GLSAR(y, X, rho=ar_order).iterative_fit(maxiter=100)
            info.update(rho=float(np.atleast_1d(res.model.rho)[0]), scale=float(res.scale), df=int(res.df_resid))
            return np.asarray(res.params), np.asarray(res.cov_params()), info
        mod = sm.OLS(y, X)
        if errors == "newey_west":
            kw = {"maxlags": maxlags, "use_correction": True}
            res = mod.fit(cov_type="hac-panel", cov_kwds={**kw, "groups": block}) if len(set(block)) > 1 else mod.fit(cov_type="HAC", cov_kwds=kw)
        else:
            res = mod.fit()
        info.update(scale=float(res.scale), df=n - k)
        return np.asarray(res.params), np.asarray(res.cov_params()), info
    # counts
    if family == "negbin":
        if nb_alpha is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nb = sm.NegativeBinomial(y, X, offset=off, loglike_method="nb2").fit(disp=0, maxiter=500)
            nb_alpha = float(max(np.asarray(nb.params)[-1], 1e-8))
        fam = sm.families.NegativeBinomial(alpha=nb_alpha)
        info["nb_alpha"] = nb_alpha
    else:
        fam = sm.families.Poisson()
    mod = sm.GLM(y, X, family=fam, offset=off)
    if family == "poisson" and errors != "newey_west":
        beta, mu = _poisson_irls(y, X, np.zeros(n) if off is None else off)
        binv = np.linalg.inv(X.T @ (mu[:, None] * X))
    else:
        res = mod.fit(tol=1e-12, maxiter=200)
        beta, mu = np.asarray(res.params), np.asarray(res.fittedvalues)
        binv = np.asarray(res.cov_params())
    var = mu if family == "poisson" else mu + nb_alpha * mu**2
    info["pearson_dispersion"] = float(np.sum((y - mu) ** 2 / var) / (n - k))
    if errors == "ols":
        return beta, binv, info
    if errors == "newey_west":
        kw = {"maxlags": maxlags, "use_correction": True}
        rr = mod.fit(cov_type="hac-panel", cov_kwds={**kw, "groups": block}, tol=1e-12) if len(set(block)) > 1 else mod.fit(
            cov_type="HAC", cov_kwds=kw, tol=1e-12)
        info["df"] = n - k
        return beta, np.asarray(rr.cov_params()), info
    # ar1: quasi-likelihood sandwich with AR(1) working correlation, rho and phi by REML
    w = mu**2 / var
    sw = np.sqrt(w)
    z = X @ beta + (y - mu) / mu
    r = _reml_ar1(sw * z, sw[:, None] * X, gap, rho_fixed)
    R = _ar1_corr(pos, block, r["rho"])
    Xs = sw[:, None] * X
    cov = r["scale"] * binv @ (Xs.T @ R @ Xs) @ binv
    info.update(rho=r["rho"], scale=r["scale"], df=n - k - (rho_fixed is None), boundary=r["boundary"])
    return beta, cov, info


def _poisson_irls(y: np.ndarray, X: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson log-linear maximum likelihood by iteratively reweighted least squares (tests check it
    against statsmodels' GLM)."""
    mu = np.maximum(y, 0.5)
    eta = np.log(mu)
    beta = np.zeros(X.shape[1])
    dev_old = np.inf
    for _ in range(100):
        z = eta - off + (y - mu) / mu
        sw = np.sqrt(mu)
        beta = np.linalg.lstsq(sw[:, None] * X, sw * z, rcond=None)[0]
        eta = X @ beta + off
        mu = np.exp(eta)
        dev = 2 * float(np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0) - (y - mu)))
        if abs(dev - dev_old) <= 1e-12 * (abs(dev) + 0.1):
            break
        dev_old = dev
    else:  # pragma: no cover
        raise EstimationError("the Poisson model did not converge in 100 iterations; check for separation (all-zero segments)")
    return beta, mu
