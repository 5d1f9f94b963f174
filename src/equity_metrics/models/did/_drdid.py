"""Two-group, two-period DiD estimators for panel data, vectorised over outcomes.

These are our own implementations of the three panel estimators that R ``did``
calls for each group-time cell:

* ``dr``  -- the doubly robust estimator of Sant'Anna & Zhao (2020), as in
  ``DRDID::drdid_panel`` (logit propensity score + linear outcome regression on
  the comparison group, "traditional" DR, not the locally efficient one);
* ``ipw`` -- the standardised (Hajek) inverse probability weighting estimator,
  as in ``DRDID::std_ipw_did_panel``;
* ``reg`` -- the outcome regression estimator of Heckman, Ichimura & Todd
  (1997), as in ``DRDID::reg_did_panel``.

Every function takes the outcome *changes* ``dy`` as an ``(n, m)`` matrix: the
``m`` columns share the same treated/comparison units and covariates (for
example all periods of one cohort against the never treated), so the
propensity score and the regression design are fitted once and every cell is
obtained with a few matrix operations.  Each returns the ``m`` point estimates
and the ``(n, m)`` matrix of influence functions, scaled like R's (so that
``sqrt(mean(IF**2) / n)`` is the standard error on these ``n`` units).

The logistic regression reproduces R's ``glm.fit`` iteratively reweighted
least squares (same starting values, same convergence rule, same clamping of
the logit link), so fitted propensity scores agree with R to rounding error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import EstimationError

__all__ = ["LogitFit", "logit_irls", "did_panel_2x2", "TwoByTwo"]

_DBL_EPS = np.finfo(float).eps
_THRESH = 30.0
_INVEPS = 1.0 / _DBL_EPS
#: Propensity scores are capped below 1 (as DRDID does) ...
_PS_CAP = 1.0 - 1e-6
#: ... and comparison units with a score at or above this level are trimmed.
_TRIM_LEVEL = 0.995


@dataclass(frozen=True)
class LogitFit:
    """A fitted logistic regression.

    Attributes
    ----------
    coef
        Coefficients, shape ``(k,)``.
    fitted
        Fitted probabilities, shape ``(n,)``.
    cov_unscaled
        ``(X' W X)^{-1}`` with the IRLS working weights of the last iteration
        (R's ``vcov()`` of a binomial ``glm``).
    converged
        Whether the deviance criterion was met within ``maxit`` iterations.
    n_iter
        Number of IRLS iterations.
    """

    coef: np.ndarray
    fitted: np.ndarray
    cov_unscaled: np.ndarray
    converged: bool
    n_iter: int


def _linkinv(eta: np.ndarray) -> np.ndarray:
    tmp = np.exp(np.clip(eta, -_THRESH, _THRESH))
    tmp = np.where(eta < -_THRESH, _DBL_EPS, np.where(eta > _THRESH, _INVEPS, tmp))
    return tmp / (1.0 + tmp)


def _mu_eta(eta: np.ndarray) -> np.ndarray:
    op = np.exp(np.clip(eta, -_THRESH, _THRESH))
    out = op / ((1.0 + op) * (1.0 + op))
    return np.where(np.abs(eta) > _THRESH, _DBL_EPS, out)


def _deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    # binary y: y*log(y/mu) + (1-y)*log((1-y)/(1-mu)) with 0*log(0) = 0
    with np.errstate(divide="ignore"):
        ll = np.where(y > 0.5, np.log(mu), np.log1p(-mu))
    return float(-2.0 * np.sum(w * ll))


def logit_irls(
    x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, *, epsilon: float = 1e-8, maxit: int = 25
) -> LogitFit:
    """Fit a logit model by IRLS exactly as R's ``glm(..., family=binomial)``.

    Parameters
    ----------
    x
        Design matrix ``(n, k)`` (include the intercept column yourself).
    y
        Binary response ``(n,)`` of 0/1.
    w
        Prior weights ``(n,)``; ones if omitted.
    epsilon, maxit
        R's ``glm.control`` defaults: stop when
        ``|dev - dev_old| / (|dev| + 0.1) < epsilon``.

    Returns
    -------
    LogitFit

    Examples
    --------
    >>> import numpy as np
    >>> x = np.column_stack([np.ones(6), [0., 1, 2, 3, 4, 5]])
    >>> fit = logit_irls(x, np.array([0., 0, 1, 0, 1, 1]))
    >>> bool(fit.converged)
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = x.shape
    w = np.ones(n) if w is None else np.asarray(w, dtype=float)
    mu = (w * y + 0.5) / (w + 1.0)
    eta = np.log(mu / (1.0 - mu))
    mu = _linkinv(eta)
    dev_old = _deviance(y, mu, w)
    converged = False
    xtwx = None
    coef = np.zeros(k)
    it = 0
    for it in range(1, maxit + 1):
        mu_eta = _mu_eta(eta)
        var = mu * (1.0 - mu)
        good = (w > 0) & (mu_eta != 0)
        z = eta + (y - mu) / mu_eta
        ww = w * mu_eta * mu_eta / var  # squared IRLS weights
        if not good.all():
            xg, zg, wg = x[good], z[good], ww[good]
        else:
            xg, zg, wg = x, z, ww
        xtw = xg.T * wg
        xtwx = xtw @ xg
        try:
            coef = np.linalg.solve(xtwx, xtw @ zg)
        except np.linalg.LinAlgError as exc:  # pragma: no cover - guarded by rank check
            raise EstimationError(
                "The propensity-score logit has a singular design (collinear or constant "
                "covariates within a group-time comparison). Drop or combine covariates."
            ) from exc
        eta = x @ coef
        mu = _linkinv(eta)
        dev = _deviance(y, mu, w)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    cov = np.linalg.inv(xtwx) if xtwx is not None else np.full((k, k), np.nan)
    return LogitFit(coef=coef, fitted=mu, cov_unscaled=cov, converged=converged, n_iter=it)


@dataclass
class TwoByTwo:
    """Result of one vectorised 2x2 DiD fit.

    Attributes
    ----------
    att
        Point estimates, shape ``(m,)``.
    inf_func
        Influence functions on the ``n`` units used, shape ``(n, m)``, in
        DRDID's scaling (standard error ``sqrt(mean(IF**2)/n)``).
    max_pscore
        Largest fitted propensity score (``nan`` for ``reg``).
    converged
        Whether the propensity-score logit converged (``True`` for ``reg``).
    """

    att: np.ndarray
    inf_func: np.ndarray
    max_pscore: float
    converged: bool


def _ols_on_controls(
    dy: np.ndarray, x: np.ndarray, w_ols: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares of ``dy`` on ``x`` over the comparison units.

    Returns the fitted values for every unit ``(n, m)`` and ``(X'WX/n)^{-1}``.
    """
    ctrl = w_ols > 0
    xc = x[ctrl]
    sw = np.sqrt(w_ols[ctrl])
    # Householder QR as R's lm(); tiny k, so this is a few passes over the data
    q, r = np.linalg.qr(xc * sw[:, None])
    diag = np.abs(np.diag(r))
    if diag.size == 0 or diag.min() <= 1e-7 * diag.max() or xc.shape[0] < x.shape[1]:
        raise EstimationError(
            "The outcome regression on the comparison units is rank deficient "
            "(collinear covariates, or too few comparison units). Drop covariates or "
            "use method='ipw'."
        )
    beta = np.linalg.solve(r, q.T @ (dy[ctrl] * sw[:, None]))
    xpx = (xc.T * w_ols[ctrl]) @ xc / n
    return x @ beta, np.linalg.inv(xpx)


def did_panel_2x2(
    dy: np.ndarray,
    treated: np.ndarray,
    x: np.ndarray | None,
    *,
    method: str = "dr",
    weights: np.ndarray | None = None,
    ps_fit: LogitFit | None = None,
) -> TwoByTwo:
    """2x2 panel DiD (``dr``/``ipw``/``reg``) for several outcome changes at once.

    Parameters
    ----------
    dy
        Outcome changes ``Y_post - Y_pre``, shape ``(n,)`` or ``(n, m)``.
    treated
        Boolean ``(n,)``: ``True`` for the treated group, ``False`` for the
        comparison group.
    x
        Covariates ``(n, k)`` *including* the intercept column, or ``None``
        for an intercept only.
    method
        ``"dr"``, ``"ipw"`` or ``"reg"``.
    weights
        Sampling weights ``(n,)``; normalised to mean one as DRDID does.
    ps_fit
        A propensity-score fit to reuse (must be for the same ``treated``,
        ``x`` and ``weights``).

    Returns
    -------
    TwoByTwo

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([True, True, False, False, False])
    >>> r = did_panel_2x2(np.array([1.0, 1.2, 0.1, 0.0, -0.1]), d, None, method="reg")
    >>> round(float(r.att[0]), 6)
    1.1
    """
    dy = np.asarray(dy, dtype=float)
    vec = dy.ndim == 1
    if vec:
        dy = dy[:, None]
    n, m = dy.shape
    d = np.asarray(treated, dtype=bool)
    df = d.astype(float)
    x = np.ones((n, 1)) if x is None else np.asarray(x, dtype=float)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.mean()

    max_ps = np.nan
    converged = True
    if x.shape[1] == 1 and weights is None and ps_fit is None and np.all(x == 1.0):
        fast = _no_covariates(dy, d, method)
        if fast is not None:
            return fast
    if method in ("dr", "ipw"):
        fit = ps_fit if ps_fit is not None else logit_irls(x, df, w)
        converged = fit.converged
        ps = np.minimum(fit.fitted, _PS_CAP)
        max_ps = float(fit.fitted.max())
        trim = np.where(d, ps < 1.01, ps < _TRIM_LEVEL).astype(float)
        w_treat = trim * w * df
        w_cont = trim * w * ps * (1.0 - df) / (1.0 - ps)
        # asymptotic linear representation of the logit coefficients (n x k)
        alr_ps = ((w * (df - ps))[:, None] * x) @ (fit.cov_unscaled * n)
    if method in ("dr", "reg"):
        w_ols = w * (1.0 - df)
        out, xpx_inv = _ols_on_controls(dy, x, w_ols, n)

    if method == "dr":
        resid = dy - out
        mw_t, mw_c = w_treat.mean(), w_cont.mean()
        eta_t = (w_treat @ resid) / n / mw_t
        eta_c = (w_cont @ resid) / n / mw_c
        att = eta_t - eta_c
        wols_resid = w_ols[:, None] * resid  # (n, m)
        # treated part: leading term minus OLS estimation effect
        m1 = (w_treat @ x) / n
        inf_t = (w_treat[:, None] * (resid - eta_t) - wols_resid * (x @ (xpx_inv @ m1))[:, None]) / mw_t
        # comparison part: leading term + pscore effect - OLS effect
        rc = w_cont[:, None] * (resid - eta_c)
        m2 = x.T @ rc / n  # (k, m)
        m3 = (w_cont @ x) / n
        inf_c = (rc + alr_ps @ m2 - wols_resid * (x @ (xpx_inv @ m3))[:, None]) / mw_c
        inf = inf_t - inf_c
    elif method == "ipw":
        mw_t, mw_c = w_treat.mean(), w_cont.mean()
        eta_t = (w_treat @ dy) / n / mw_t
        eta_c = (w_cont @ dy) / n / mw_c
        att = eta_t - eta_c
        inf_t = w_treat[:, None] * (dy - eta_t) / mw_t
        rc = w_cont[:, None] * (dy - eta_c)
        m2 = x.T @ rc / n
        inf_c = (rc + alr_ps @ m2) / mw_c
        inf = inf_t - inf_c
    elif method == "reg":
        w_treat = w * df
        mw_t = w_treat.mean()
        eta_t = (w_treat @ dy) / n / mw_t
        eta_c = (w_treat @ out) / n / mw_t
        att = eta_t - eta_c
        inf_t = w_treat[:, None] * (dy - eta_t) / mw_t
        m1 = (w_treat @ x) / n
        inf_c = (
            w_treat[:, None] * (out - eta_c) + (w_ols[:, None] * (dy - out)) * (x @ (xpx_inv @ m1))[:, None]
        ) / mw_t
        inf = inf_t - inf_c
    else:  # pragma: no cover - validated by the caller
        raise ValueError(method)
    return TwoByTwo(att=np.asarray(att, dtype=float), inf_func=inf, max_pscore=max_ps, converged=converged)


def _no_covariates(dy: np.ndarray, d: np.ndarray, method: str) -> TwoByTwo | None:
    """Closed form of all three estimators with an intercept only (equal weights).

    Without covariates the propensity score is the treated share ``p`` and the
    outcome regression is the comparison mean, so ``dr``, ``ipw`` and ``reg``
    all reduce to the difference of mean changes, with influence function
    ``D (dy - mean_T) / p - (1 - D) (dy - mean_C) / (1 - p)`` (the estimation
    effects of the nuisance parameters cancel).  Returns ``None`` when the
    propensity-score trimming of DRDID would bind (``p >= 0.995``).
    """
    n = d.size
    n_t = int(d.sum())
    n_c = n - n_t
    p = n_t / n
    if n_t == 0 or n_c == 0 or (method != "reg" and p >= _TRIM_LEVEL):
        return None
    mu_t = dy[d].mean(axis=0)
    mu_c = dy[~d].mean(axis=0)
    centred = dy - np.where(d[:, None], mu_t, mu_c)
    scale = np.where(d, n / n_t, -n / n_c)
    inf = centred * scale[:, None]
    return TwoByTwo(att=mu_t - mu_c, inf_func=inf, max_pscore=p if method != "reg" else np.nan, converged=True)
