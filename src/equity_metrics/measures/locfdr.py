"""Efron's local false discovery rate with an empirical null (a port of R ``locfdr`` 1.1-8).

:func:`locfdr` takes many z-statistics (one per officer, gene, school, ...), most
of which are assumed null, and estimates for each the probability that it is
null given its value (the *local* false discovery rate, ``fdr(z) = p0 f0(z) /
f(z)``). The null density ``f0`` is either the theoretical ``N(0, 1)`` or an
*empirical null* ``N(delta, sigma^2)`` estimated from the centre of the
histogram, which protects against z-statistics that are over-dispersed for
reasons unrelated to the effect being sought (unmodelled correlation,
unmeasured confounders shared by everybody): Efron (2004, 2007, 2010).

The steps are those of R ``locfdr(zz, bre=120, df=7, pct=0, pct0=1/4,
nulltype=1, type=0)``, written afresh in Python:

1. histogram of ``z`` on ``bre`` equally spaced breaks over the range of ``z``
   (R ``hist``: right-closed bins, lowest included, R's 1e-7 break fuzz);
2. the mixture density ``f`` at the bin midpoints ``x`` by Poisson regression
   of the counts on a natural cubic spline with ``df`` degrees of freedom
   (R ``glm(y ~ ns(x, df=7), poisson)``: interior knots at the quantiles of
   ``x``, boundary knots at its range; the same iteratively reweighted least
   squares, start and convergence rule as R's ``glm.fit``). The fitted values
   do not depend on how the spline space is parametrised: any basis of the
   natural cubic splines with the same knots, plus an intercept, spans the same
   space and gives the same fit; the basis here is R's (B-splines without the
   first, projected onto the null space of the two boundary second-derivative
   constraints by a QR decomposition);
3. the null: ``"theoretical"`` (R ``nulltype=0``), maximum likelihood
   (``"ml"``, R ``nulltype=1``: truncated-normal MLE on the z-values within
   ``b * sigma`` of ``delta``, iterated twice from the median and the
   interquartile scale, R ``locmle``) or central matching (``"central"``,
   R ``nulltype=2``: a quadratic fitted to ``log f`` over the central
   ``[pct0, 1 - pct0]`` quantile range);
4. ``fdr = min(p0 f0 / f, 1)`` per bin, set to 1 between the outermost bins
   near the centre where it reaches 1 and (ML) within ``delta +/- sigma``;
   per case by linear interpolation between bin midpoints, constant beyond the
   first and last midpoints (R ``approx(rule=2)``);
5. tail-area false discovery rates ``Fdr_left`` / ``Fdr_right`` per bin,
   Efron's expected non-null fdr ``Efdr``, the delta-method standard errors of
   the null estimates (R ``locmle``, ``loccov2``) and of ``log fdr`` per bin
   (R ``lfdrse``: ``loccov`` for ML, ``loccov2`` otherwise).

Not ported: the split-normal null (``nulltype=3``), polynomial ``f``
(``type=1``), the ``mult`` sample-size projections, ``cdf1`` and R's plots (see
:meth:`LocfdrResult.plot`).

References: Efron B (2004) JASA 99:96-104; Efron B (2007) JASA 102:93-103;
Efron B (2010) *Large-Scale Inference*, Cambridge University Press, ch. 6;
R package ``locfdr`` (Efron, Turnbull & Narasimhan), version 1.1-8.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.interpolate import BSpline

from .._options import check_option
from .._results import ResultBase
from ..errors import DataValidationError, EstimationError

__all__ = ["LocfdrResult", "locfdr"]

NullType = Literal["ml", "central", "theoretical"]
#: An estimated null proportion ``p0`` more than this above 1 marks the estimate invalid (``estimates["valid"]``).
P0_TOLERANCE = 0.05
_R_NULLTYPE = {"theoretical": 0, "ml": 1, "central": 2}


# --------------------------------------------------------------------------- R building blocks
def _quantile7(z: np.ndarray, p) -> np.ndarray:
    """R ``quantile(type = 7)`` (numpy's default linear rule)."""
    return np.quantile(z, p)


def _hist_counts(z: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """R ``hist(z, breaks, right=TRUE, include.lowest=TRUE)$counts`` including R's break fuzz."""
    h = np.diff(breaks)
    nb = len(breaks)
    diddle = 1e-7 * (np.median(h) if nb > 5 else (np.ptp(z) if nb <= 3 else h[h > 0].min()))
    fuzzy = breaks + np.r_[-diddle, np.full(nb - 1, diddle)]
    idx = np.searchsorted(fuzzy, z, side="left")  # fuzzy[i-1] < z <= fuzzy[i]  ->  bin i
    return np.bincount(idx, minlength=nb + 1)[1:nb].astype(float)


def _ns_basis(x: np.ndarray, df: int) -> np.ndarray:
    """R ``splines::ns(x, df)`` (no intercept): natural cubic spline basis, knots at quantiles of ``x``."""
    n_interior = df - 1
    probs = np.linspace(0.0, 1.0, n_interior + 2)[1:-1]
    interior = _quantile7(x, probs)
    lo, hi = float(x.min()), float(x.max())
    t = np.r_[[lo] * 4, interior, [hi] * 4]
    nbasis = len(t) - 4
    basis = BSpline.design_matrix(np.clip(x, lo, hi), t, 3).toarray()
    const = np.empty((2, nbasis))
    for j in range(nbasis):
        c = np.zeros(nbasis)
        c[j] = 1.0
        const[:, j] = BSpline(t, c, 3, extrapolate=True).derivative(2)(np.array([lo, hi]))
    basis, const = basis[:, 1:], const[:, 1:]
    q, _ = np.linalg.qr(const.T, mode="complete")
    return (basis @ q)[:, 2:]


def _poisson_dev(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(np.sum(2.0 * (term - (y - mu))))


def _glm_poisson(y: np.ndarray, X: np.ndarray, *, maxit: int = 25, epsilon: float = 1e-8) -> np.ndarray:
    """Fitted means of R ``glm(y ~ X - 1, family = poisson)``: R's IRLS start, steps and stopping rule."""
    mu = y + 0.1
    eta = np.log(mu)
    devold = _poisson_dev(y, mu)
    for _ in range(maxit):
        zwork = eta + (y - mu) / mu
        w = np.sqrt(mu)
        beta, *_ = np.linalg.lstsq(X * w[:, None], zwork * w, rcond=None)
        eta = X @ beta
        mu = np.exp(eta)
        dev = _poisson_dev(y, mu)
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            break
        devold = dev
    return mu


def _locmle(z: np.ndarray, xlim: tuple[float, float], d: float = 0.0, s: float = 1.0,
            jmle: int = 35, ep: float = 1e-5, state: dict | None = None) -> np.ndarray:
    """R ``locmle``: truncated-normal ML of (delta, sigma, p0) and their SDs on ``|z - xlim[0]| <= xlim[1]``.

    Returns ``[delta, sigma, p0, sd_delta, sd_sigma, sd_p0]`` (NaN when the iteration fails);
    a ``state`` dict, when given, receives what R's ``loccov`` needs.
    """
    n = len(z)
    a0, b0 = xlim[0] - xlim[1], xlim[0] + xlim[1]
    z0 = z[(z >= a0) & (z <= b0)]
    n0 = len(z0)
    Y = np.array([z0.mean(), (z0**2).mean()]) if n0 else np.array([np.nan, np.nan])
    that = n0 / n
    binom = np.array([[_comb(i, j) for j in range(5)] for i in range(5)])
    rows, cols = np.indices((5, 5))
    bett = np.array([np.nan, np.nan])
    V = np.full((2, 2), np.nan)
    H = np.zeros(5)
    for j in range(1, jmle + 1):
        bet = np.array([d / s**2, -1.0 / (2 * s**2)])
        aa, bb = (a0 - d) / s, (b0 - d) / s
        H0 = stats.norm.cdf(bb) - stats.norm.cdf(aa)
        fa, fb = stats.norm.pdf(aa), stats.norm.pdf(bb)
        H = np.array([H0, fa - fb, H0 + aa * fa - bb * fb, (2 + aa**2) * fa - (2 + bb**2) * fb,
                      3 * H0 + (3 * aa + aa**3) * fa - (3 * bb + bb**3) * fb])
        r = d / s
        I = (s ** np.arange(5))[:, None] * binom * r ** np.maximum(rows - cols, 0)
        E = I @ H / H0
        E1, E2, E3, E4 = E[1:]
        mu = np.array([E1, E2])
        V = np.array([[E2 - E1**2, E3 - E1 * E2], [E3 - E1 * E2, E4 - E2**2]])
        try:
            step = np.linalg.solve(V, Y - mu)
        except np.linalg.LinAlgError:
            bett = np.array([np.nan, np.nan])
            break
        bett = bet + step / (1 + 1 / j**2)
        if bett[1] > 0:
            bett = bet + 0.1 * step / (1 + 1 / j**2)
        if not np.isfinite(bett[1]) or bett[1] >= 0:
            break
        d = -bett[0] / (2 * bett[1])
        s = 1 / np.sqrt(-2 * bett[1])
        if np.sqrt(np.sum((bett - bet) ** 2)) < ep:
            break
    if not np.isfinite(bett[1]) or bett[1] >= 0:
        return np.full(6, np.nan)
    aa, bb = (a0 - d) / s, (b0 - d) / s
    H0 = stats.norm.cdf(bb) - stats.norm.cdf(aa)
    p0 = that / H0
    J = s**2 * np.array([[1.0, 2 * d], [0.0, s]])
    JV = J @ np.linalg.inv(V)
    JVJ = JV @ J.T
    mat = np.zeros((3, 3))
    mat[0, 0] = p0 * H0 * (1 - p0 * H0) / n
    mat[1:, 1:] = JVJ / n0
    h = np.array([H[1] / H0, (H[2] - H0) / H0])
    matt = np.zeros((3, 3))
    matt[0] = np.r_[1 / H0, -(p0 / s) * h]
    matt[1:, 1:] = np.eye(2)
    C = matt @ mat @ matt.T
    sd = np.sqrt(np.diag(C))
    if state is not None:
        state.update({"n": n, "n0": n0, "p0": p0, "d": d, "s": s, "aa": aa, "bb": bb, "JV": JV, "Y": Y, "H": H})
    return np.array([d, s, p0, sd[1], sd[2], sd[0]])


def _ml_lfdr_cov(st: dict, x: np.ndarray, X: np.ndarray, f: np.ndarray) -> np.ndarray:
    """R ``loccov`` (sw = 0): delta-method covariance of log fdr at the bin midpoints under the ML null.

    As in R, the bins entering the null's influence are those with ``x`` strictly between the
    *standardised* ends of the ML interval (``locmle``'s ``aa``, ``bb``).
    """
    n, n0, p0, d, s, H, JV, Y = (st[k] for k in ("n", "n0", "p0", "d", "s", "H", "JV", "Y"))
    K = len(x)
    M = np.vstack([np.ones(K), x - Y[0], x**2 - Y[1]])
    inside = (x > st["aa"]) & (x < st["bb"])
    if inside.any():  # R: M[, -i0] <- 0 (with no i0 R changes nothing)
        M[:, ~inside] = 0.0
    xstd = (x - d) / s
    U = np.column_stack([xstd - H[1] / H[0], xstd**2 - H[2] / H[0]])
    left = np.column_stack([np.full(K, 1 - n0 / n), U @ JV / s])
    dl0plus = left @ M / n / H[0] / p0
    G = X.T @ (f[:, None] * X)
    D = dl0plus - X @ np.linalg.solve(G, X.T)
    return D @ (f[:, None] * D.T)


def _cm_lfdr_cov(X: np.ndarray, X0: np.ndarray, i0: np.ndarray, f: np.ndarray) -> np.ndarray:
    """R ``loccov2``'s ``Cov``: covariance of log fdr under central matching (or the theoretical null, ``X0 = 1``)."""
    Xt, X0t = X[i0], X0[i0]
    G = X.T @ (f[:, None] * X)
    C = X0 @ np.linalg.solve(X0t.T @ X0t, X0t.T) @ Xt - X
    return C @ np.linalg.solve(G, C.T)


def _comb(i: int, j: int) -> float:
    from math import comb

    return float(comb(i, j)) if j <= i else 0.0


def _cm_sd(X: np.ndarray, X0: np.ndarray, i0: np.ndarray, f: np.ndarray, ests, n: int) -> np.ndarray:
    """R ``loccov2``'s delta-method SDs of (p0, delta, sigma) for central matching / the theoretical null."""
    d, s, p0 = ests
    theo = X0.shape[1] == 1
    Xt, X0t = X[i0], X0[i0]
    G = X.T @ (f[:, None] * X)
    G0 = X0t.T @ X0t
    D = np.ones((1, 1)) if theo else np.array([[1, d, s**2 + d**2], [0, s**2, 2 * d * s**2], [0, 0, s**3]])
    gam = np.linalg.solve(G0, X0t.T) @ (Xt @ np.linalg.solve(G, X.T))
    pds = D @ gam
    if theo:
        pds = np.vstack([pds, np.zeros((2, X.shape[0]))])
    pds[0] -= 1 / n
    m1, m2 = pds @ f, (pds**2) @ f
    sd = np.sqrt(m2 - m1**2 / n)
    sd[0] *= p0
    return sd


# --------------------------------------------------------------------------- results
@dataclass(repr=False)
class LocfdrResult(ResultBase):
    """Local false discovery rates with the estimated null; from :func:`locfdr`.

    Attributes
    ----------
    fdr
        Local fdr per case, in the order of the input.
    null
        The null used for ``fdr``: ``"ml"``, ``"central"`` or ``"theoretical"``.
    estimates
        DataFrame, one row per null (``theoretical``, ``ml``, ``central``):
        ``delta``, ``sigma``, ``p0`` and their delta-method SDs (R's ``fp0``), and
        ``valid``: False when the estimate failed or is impossible (missing, ``sigma <= 0``,
        ``p0`` not in ``(0, 1 + P0_TOLERANCE]``, e.g. central matching's ``p0 = 1.5`` on a
        flat-topped histogram; ``p0`` slightly above 1 is sampling noise around 1). Invalid
        values are kept as computed (never clipped).
    bins
        DataFrame per histogram bin: ``x`` (midpoint), ``count``, ``f`` (fitted
        mixture), ``f0`` (fitted null, scaled to the counts), ``f0_theoretical``,
        ``fdr``, ``fdr_theoretical``, ``fdr_left``, ``fdr_right`` (tail-area
        Fdr), ``lfdr_se`` (delta-method SE of log fdr) and ``p1f1`` (estimated
        non-null counts): R's ``mat``.
    efdr
        Expected fdr of the non-null cases (overall, left, right): low is good power.
    misfit
        R's ``f(z)`` misfit statistic (above 1.5: R warns to increase ``df``).
    threshold
        The fdr cut-off used by :meth:`summary`, :meth:`tidy` and the plot.
    """

    fdr: np.ndarray
    z: np.ndarray
    null: str
    estimates: pd.DataFrame
    bins: pd.DataFrame
    efdr: dict
    misfit: float
    threshold: float = 0.2
    settings: dict = field(default_factory=dict)

    @property
    def delta(self) -> float:
        """Null mean used for ``fdr`` (0 for the theoretical null)."""
        return float(self.estimates.loc[self.null, "delta"])

    @property
    def sigma(self) -> float:
        """Null standard deviation used for ``fdr``."""
        return float(self.estimates.loc[self.null, "sigma"])

    @property
    def p0(self) -> float:
        """Estimated proportion of null cases under the null used for ``fdr``."""
        return float(self.estimates.loc[self.null, "p0"])

    @property
    def flagged(self) -> np.ndarray:
        """Boolean mask of cases with ``fdr < threshold``."""
        return self.fdr < self.threshold

    def tail_fdr(self, side: Literal["right", "left"] = "right") -> float:
        """Tail-area Fdr at the first bin (from the left) with ``fdr < threshold`` on that side of ``delta``.

        With ``side="right"`` this is R's ``mat[which(mat[, "fdr"] < .2)[1], "Fdrright"]``
        when the flagged bins are all on the right.
        """
        check_option("side", side, Literal["right", "left"])
        b = self.bins
        below = b["fdr"].to_numpy() < self.threshold
        right = b["x"].to_numpy() > self.delta
        mask = below & (right if side == "right" else ~right)
        if not mask.any():
            return float("nan")
        i = np.flatnonzero(mask)[0] if side == "right" else np.flatnonzero(mask)[-1]
        return float(b["fdr_right" if side == "right" else "fdr_left"].iloc[i])

    def summary(self) -> str:
        e = self.estimates
        lines = [
            f"Local false discovery rates (Efron; R locfdr 1.1-8 port), {len(self.z):,} cases, "
            f"{self.settings.get('bre', 120)} breaks, df={self.settings.get('df', 7)}",
            f"null used for fdr: {self.null}",
            "            delta     sigma        p0",
        ]
        for k in ("theoretical", "ml", "central"):
            bad = "" if bool(e.loc[k].get("valid", True)) else "  (failed: not a valid estimate)"
            lines.append(f"{k:<12}{e.loc[k, 'delta']:>9.4f} {e.loc[k, 'sigma']:>9.4f} {e.loc[k, 'p0']:>9.4f}{bad}")
        n_flag = int(self.flagged.sum())
        lines.append(f"cases with fdr < {self.threshold:g}: {n_flag:,} of {len(self.z):,} "
                     f"(right tail {int((self.flagged & (self.z > self.delta)).sum()):,}, "
                     f"left tail {int((self.flagged & (self.z <= self.delta)).sum()):,})")
        lines.append(f"Efdr (expected fdr of non-null cases): {self.efdr['efdr']:.3f}")
        if self.misfit > 1.5:
            lines.append(f"warning: f(z) misfit {self.misfit:.1f} > 1.5: rerun with a larger df")
        return "\n".join(lines)

    def tidy(self) -> pd.DataFrame:
        """One row per case, in input order: ``case``, ``z``, ``fdr``, ``flagged``."""
        return pd.DataFrame({"case": np.arange(len(self.z)), "z": self.z, "fdr": self.fdr, "flagged": self.flagged})

    def plot(self, *, ax=None, title: str | None = None):
        """Histogram of z with the fitted mixture ``f``, the null ``p0 f0`` and the flagged tails shaded.

        Examples
        --------
        >>> import numpy as np
        >>> res = locfdr(np.random.default_rng(1).normal(size=1000), bre=60)
        >>> ax = res.plot()  # doctest: +SKIP
        """
        from ..plots.officers import locfdr_plot  # presentation is imported only when a plot is asked for

        return locfdr_plot(self, ax=ax, title=title)


# --------------------------------------------------------------------------- main function
def locfdr(
    z,
    *,
    bre: int = 120,
    df: int = 7,
    pct: float = 0.0,
    pct0: float = 0.25,
    null: NullType = "ml",
    threshold: float = 0.2,
) -> LocfdrResult:
    """Local false discovery rates with an empirical null (Efron; port of R ``locfdr``).

    Parameters
    ----------
    z
        One z-statistic per case (array-like of finite numbers; at least 200
        cases recommended, as in R).
    bre
        Number of histogram breaks (R default 120; use fewer for fewer than
        about 1,000 cases).
    df
        Degrees of freedom of the natural spline for ``f`` (R default 7).
    pct
        Excluded tail proportion when fitting ``f`` (R ``pct``; 0 = full range).
    pct0
        Central proportion used by central matching and the theoretical
        ``p0``: the range ``[pct0, 1 - pct0]`` quantiles of ``z``.
    null
        ``"ml"`` (maximum-likelihood empirical null; R ``nulltype=1``, default),
        ``"central"`` (central matching; ``nulltype=2``) or ``"theoretical"``
        (``N(0, 1)``; ``nulltype=0``). All three are estimated and reported;
        this chooses the one behind ``fdr``.
    threshold
        The fdr below which a case is flagged (0.2 is Efron's rule of thumb).

    Returns
    -------
    LocfdrResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = np.r_[rng.normal(size=1800), rng.normal(3, 1, size=200)]
    >>> res = locfdr(z)
    >>> round(res.delta, 1), round(res.sigma, 1), bool(res.flagged.sum() > 50)
    (0.0, 1.0, True)
    """
    check_option("null", null, NullType)
    zz = np.asarray(z, dtype=float).ravel()
    if zz.size == 0 or not np.all(np.isfinite(zz)):
        raise DataValidationError(
            "locfdr needs a non-empty array of finite z-statistics; drop missing or infinite values first "
            f"({int((~np.isfinite(zz)).sum())} of {zz.size} are not finite)")
    if not isinstance(bre, (int, np.integer)) or bre < 10:
        raise DataValidationError(f"bre={bre!r}: give an integer number of breaks of at least 10 (R default 120)")
    if not isinstance(df, (int, np.integer)) or not 2 <= df <= bre - 4:
        raise DataValidationError(f"df={df!r}: give an integer between 2 and bre - 4 (R default 7)")
    if not 0 < pct0 < 0.5:
        raise DataValidationError(f"pct0={pct0!r} must be between 0 and 0.5 (R default 1/4)")
    if not 0 < threshold < 1:
        raise DataValidationError(f"threshold={threshold!r} must be between 0 and 1 (Efron uses 0.2)")
    n = zz.size
    if n < 20 or np.ptp(zz) == 0:
        raise EstimationError(f"locfdr needs many distinct z-statistics (got {n}); Efron recommends at least 200")
    # 1. histogram
    if pct == 0:
        lo, up = float(zz.min()), float(zz.max())
    elif pct < 0:
        med = float(np.median(zz))
        lo, up = med + (1 - pct) * (zz.min() - med), med + (1 - pct) * (zz.max() - med)
    else:
        lo, up = (float(v) for v in _quantile7(zz, [pct, 1 - pct]))
    zzz = np.clip(zz, lo, up)
    breaks = np.linspace(lo, up, bre)
    x = (breaks[1:] + breaks[:-1]) / 2
    yall = _hist_counts(zzz, breaks)
    y = yall.copy()
    K = len(y)
    if pct > 0:
        y[0], y[-1] = min(y[0], 1.0), min(y[-1], 1.0)
    # 2. f by Poisson regression on a natural spline
    X = np.column_stack([np.ones(K), _ns_basis(x, df)])
    f = _glm_poisson(y, X)
    logf = np.log(f)
    Fl, Fr = np.cumsum(f), np.cumsum(f[::-1])
    misfit = float(np.sum((((y - f) / np.sqrt(f + 1)) ** 2)[1:K - 1]) / (K - 2 - df))
    if misfit > 1.5:
        warnings.warn(f"locfdr: f(z) misfit = {misfit:.1f}; rerun with a larger df", stacklevel=2)
    est = {k: [np.nan] * 6 for k in ("theoretical", "ml", "central")}
    est["theoretical"][:2] = [0.0, 1.0]
    est["theoretical"][3:5] = [0.0, 0.0]
    # 3a. central matching
    imax = int(np.argmax(logf))
    xmax = float(x[imax])
    lo0, hi0 = _quantile7(zz, [pct0, 1 - pct0])
    i0 = np.flatnonzero((x > lo0) & (x < hi0))
    X00 = np.column_stack([np.ones(len(i0)), x[i0] - xmax, (x[i0] - xmax) ** 2])
    co = np.full(3, np.nan)
    if len(i0) >= 3:
        co, *_ = np.linalg.lstsq(X00, logf[i0], rcond=None)
    X0 = np.column_stack([np.ones(K), x - xmax, (x - xmax) ** 2])
    cm_failed = not np.isfinite(co[2]) or co[2] >= 0
    p0 = np.nan
    f0 = np.full(K, np.nan)
    if cm_failed:
        if null == "central":
            raise EstimationError("central matching failed: the middle of the histogram is not normal-shaped; use null='ml'")
        warnings.warn("locfdr: central matching failed, the middle of the histogram is not normal-shaped", stacklevel=2)
    else:
        est["central"][:2] = [-co[1] / (2 * co[2]) + xmax, 1 / np.sqrt(-2 * co[2])]
        f0 = np.exp(X0 @ co)
        p0 = f0.sum() / f.sum()
        f0 = f0 / p0
        est["central"][2] = p0
    # 3b. maximum likelihood
    b = 4.3 * np.exp(-0.26 * np.log10(n))
    q1, med, q3 = _quantile7(zz, [0.25, 0.5, 0.75])
    sc = (q3 - q1) / (2 * stats.norm.ppf(0.75))
    start = _locmle(zz, (med, b * sc))
    if n > 500_000:
        start = _locmle(zz, (med, sc))
        b = 1.0
    ml = np.full(6, np.nan)
    ml_state = None
    if np.isfinite(start[0]):
        state: dict = {}
        ml = _locmle(zz, (start[0], b * start[1]), d=start[0], s=start[1], state=state)
        ml_state = state or None
        est["ml"] = list(ml)
    if not np.isfinite(ml[0]):
        if null == "ml":
            raise EstimationError("maximum-likelihood null estimation failed (the middle of the histogram is not "
                                  "normal-shaped); try null='central' or null='theoretical'")
        warnings.warn("locfdr: maximum-likelihood null estimation failed", stacklevel=2)
    if null in ("ml", "theoretical") and np.isfinite(ml[0]):
        xmax = float(ml[0])
        p0 = float(ml[2])
        f0 = stats.norm.pdf(x, ml[0], ml[1])
        f0 = f.sum() * f0 / f0.sum()
    # 4. fdr per bin
    with np.errstate(invalid="ignore"):
        fdr = np.minimum(p0 * f0 / f, 1.0)
    f00 = np.exp(-x**2 / 2)
    f00 = f00 * f.sum() / f00.sum()
    p0theo = f[i0].sum() / f00[i0].sum()
    est["theoretical"][2] = p0theo
    fdr0 = np.minimum(p0theo * f00 / f, 1.0)
    f0p = p0theo * f00 if null == "theoretical" else p0 * f0
    fdr_left = np.cumsum(f0p) / Fl
    fdr_right = (np.cumsum(f0p[::-1]) / Fr)[::-1]
    fdr = _raise_centre(fdr, x, xmax)
    fdr0 = _raise_centre(fdr0, x, xmax)
    if null == "ml":
        mid = (x >= ml[0] - ml[1]) & (x <= ml[0] + ml[1])
        fdr[mid] = 1.0
        fdr0[mid] = 1.0
    fd = fdr0 if null == "theoretical" else fdr
    fall = f + (yall - y)
    efdr = {k: _efdr(fd, fall, m) for k, m in (("efdr", np.ones(K, bool)), ("left", x <= xmax), ("right", x >= xmax))}
    # SDs (R loccov2) for central matching and the theoretical p0
    if not cm_failed and len(i0) >= 3:
        sd = _cm_sd(X, X0, i0, f, est["central"][:3], n)
        est["central"][3:] = [sd[1], sd[2], sd[0]]
    if len(i0) >= 1:
        sd0 = _cm_sd(X, np.ones((K, 1)), i0, f, (0.0, 1.0, p0theo), n)
        est["theoretical"][5] = sd0[0]
    estimates = pd.DataFrame.from_dict(est, orient="index",
                                       columns=["delta", "sigma", "p0", "sd_delta", "sd_sigma", "sd_p0"])
    # an estimate is usable only with a finite centre, a positive spread and a null proportion in (0, 1]:
    # central matching can return p0 > 1 when the middle of the histogram is flatter than a normal (R keeps
    # the number and, with nulltype = 2, warns of the discrepancy with ML); it is marked, never clipped
    # (p0 up to P0_TOLERANCE above 1 is sampling noise around "every case null", as Efron reads it)
    estimates["valid"] = (np.isfinite(estimates["delta"]) & (estimates["sigma"] > 0)
                          & (estimates["p0"] > 0) & (estimates["p0"] <= 1 + P0_TOLERANCE))
    if not bool(estimates.loc[null, "valid"]):
        warnings.warn(f"locfdr: the {null} null is not a valid estimate (delta {estimates.loc[null, 'delta']:.3g}, "
                      f"sigma {estimates.loc[null, 'sigma']:.3g}, p0 {estimates.loc[null, 'p0']:.3g}); "
                      + ("rerun with null='ml'" if null != "ml" else "rerun with null='theoretical'"), stacklevel=2)
    bins = pd.DataFrame({
        "x": x, "count": yall, "f": f, "f0": f0 if null != "theoretical" else f00, "f0_theoretical": f00,
        "fdr": fd, "fdr_theoretical": fdr0, "fdr_left": fdr_left, "fdr_right": fdr_right,
        "lfdr_se": _lfdr_se(null, ml_state, x, X, X0, i0, f, cm_failed), "p1f1": (1 - fd) * fall,
    })
    per_case = np.interp(zz, x, fd)  # linear; constant beyond the end midpoints = R approx(rule = 2)
    return LocfdrResult(fdr=per_case, z=zz, null=null, estimates=estimates, bins=bins, efdr=efdr, misfit=misfit,
                        threshold=float(threshold),
                        settings={"bre": int(bre), "df": int(df), "pct": pct, "pct0": pct0,
                                  "r_nulltype": _R_NULLTYPE[null]})


def _lfdr_se(null: str, ml_state, x, X, X0, i0, f, cm_failed: bool) -> np.ndarray:
    """R's ``lfdrse``: delta-method standard error of log fdr per bin, for the null in use."""
    try:
        if null == "ml":
            cov = _ml_lfdr_cov(ml_state, x, X, f) if ml_state is not None else None
        elif null == "central":
            cov = None if cm_failed or len(i0) < 3 else _cm_lfdr_cov(X, X0, i0, f)
        else:
            cov = _cm_lfdr_cov(X, np.ones((len(x), 1)), i0, f) if len(i0) else None
    except np.linalg.LinAlgError:
        cov = None
    return np.full(len(x), np.nan) if cov is None else np.sqrt(np.clip(np.diag(cov), 0, None))


def _raise_centre(fdr: np.ndarray, x: np.ndarray, xmax: float) -> np.ndarray:
    """R: set fdr to 1 between the outermost bins on either side of ``xmax`` where it equals 1."""
    fdr = fdr.copy()
    left = (x <= xmax) & (fdr == 1)
    right = (x >= xmax) & (fdr == 1)
    xxlo = x[left].min() if left.any() else xmax
    xxhi = x[right].max() if right.any() else xmax
    fdr[(x >= xxlo) & (x <= xxhi)] = 1.0
    return fdr


def _efdr(fdr: np.ndarray, fall: np.ndarray, mask: np.ndarray) -> float:
    den = np.sum((1 - fdr[mask]) * fall[mask])
    val = np.sum((1 - fdr[mask]) * fdr[mask] * fall[mask]) / den if den > 0 else np.nan
    return float(val) if np.isfinite(val) else 1.0
