"""Firth's penalised logistic regression on binomial counts (for separation in the outcome test).

When a group has no finds (or only finds) in the data, the maximum-likelihood odds
ratio is 0 (or infinite) and a GLM returns an estimate such as 5e-11 with the
interval (0, inf). Firth (1993) removes the first-order bias of the maximum
likelihood estimate by maximising ``l(beta) + 0.5 * log det I(beta)`` (the Jeffreys
prior), which always gives finite estimates (Heinze & Schemper 2002, "A solution to
the problem of separation in logistic regression", Statistics in Medicine 21:2409-19).
For a single binary covariate the Firth estimate equals the log odds ratio with 0.5
added to each cell of the 2x2 table, which the tests use as an exact reference.

The fit works on grouped data (successes ``y`` out of ``n`` trials per row of ``X``):
the modified score is ``X' (y - n p + h (1/2 - p))`` with ``h`` the diagonal of the
weighted hat matrix, solved by Newton steps with step halving on the penalised
log-likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import EstimationError


@dataclass
class FirthFit:
    params: np.ndarray
    bse: np.ndarray
    loglik_penalised: float
    iterations: int


def _penalised_loglik(beta: np.ndarray, X: np.ndarray, y: np.ndarray, n: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    eta = X @ beta
    p = special.expit(eta)
    w = n * p * (1 - p)
    info = X.T @ (X * w[:, None])
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0:
        return -np.inf, p, info
    # binomial log-likelihood (without the constant log C(n, y))
    ll = float(np.sum(y * special.log_expit(eta) + (n - y) * special.log_expit(-eta)))
    return ll + 0.5 * logdet, p, info


def firth_logit(X: np.ndarray, y: np.ndarray, n: np.ndarray, *, max_iter: int = 100, tol: float = 1e-10) -> FirthFit:
    """Firth-penalised logistic regression of ``y`` successes out of ``n`` on ``X`` (Wald standard errors).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> fit = firth_logit(X, y=np.array([30.0, 0.0]), n=np.array([100.0, 20.0]))
    >>> round(float(np.exp(fit.params[1])), 4)  # = (0.5/20.5) / (30.5/70.5): 0.5 added to each cell
    0.0564
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    n = np.asarray(n, float)
    beta = np.zeros(X.shape[1])
    pl, p, info = _penalised_loglik(beta, X, y, n)
    for it in range(1, max_iter + 1):
        w = n * p * (1 - p)
        try:
            inv = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            raise EstimationError("the penalised logistic model is singular (a group or area has no searches)") from None
        # diagonal of the hat matrix W^1/2 X (X'WX)^-1 X' W^1/2, per row (row = n trials)
        h = w * np.einsum("ij,jk,ik->i", X, inv, X)
        score = X.T @ (y - n * p + h * (0.5 - p))
        step = inv @ score
        t = 1.0
        while True:
            new = beta + t * step
            pl_new, p_new, info_new = _penalised_loglik(new, X, y, n)
            if pl_new >= pl - 1e-12 or t < 1e-8:
                break
            t /= 2
        beta, pl, p, info = new, pl_new, p_new, info_new
        if np.max(np.abs(t * step)) < tol:
            break
    else:
        raise EstimationError(f"the penalised logistic model did not converge in {max_iter} iterations")
    bse = np.sqrt(np.diag(np.linalg.inv(info)))
    return FirthFit(beta, bse, pl, it)
