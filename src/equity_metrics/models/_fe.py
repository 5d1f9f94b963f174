"""Least squares with unit fixed effects absorbed, and cluster-robust (CRV1) covariances.

The unit fixed effects are never built as dummy columns. For a model

    y_it = a_i + x_it' b + e_it            (optionally with weights w_it)

where ``x_it`` holds everything else (time dummies, event-time dummies,
cohort x event-time interactions, a treatment indicator), the normal equations
after the within (unit-demeaning) transformation are formed directly from sparse
sums::

    X~'WX~ = X'WX - sum_i z_i z_i' / s_i,   z_i = sum_t w_it x_it,  s_i = sum_t w_it
    X~'Wy~ = X'Wy - sum_i z_i (sum_t w_it y_it) / s_i

so the cost is linear in the number of rows and quadratic only in the number of
non-absorbed columns ``k`` (periods plus regressors, never units). This is exact
for balanced and unbalanced panels (no iteration).

Standard errors are CRV1 with the small-sample correction of Stata and R
``fixest`` (``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE)``)::

    V = G/(G-1) * (n-1)/(n-K) * A^{-1} (sum_g s_g s_g') A^{-1}

where ``K`` counts the non-absorbed columns plus the unit effects unless they
are nested in the clusters (fixest's ``"nested"`` rule adds back one for the
absorbed intercept), and inference uses the t distribution with ``G - 1``
degrees of freedom.

The module also holds the input checks shared by the classic estimators
(:func:`prepare_input`): resolving a :class:`~equity_metrics.models.panel.PanelResult`
or a DataFrame into arrays of outcome, unit, period, cluster and weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, sparse, stats

from ..errors import DataValidationError, EstimationError
from ..measures._common import need_columns
from .panel import PanelResult

__all__ = [
    "PanelInput",
    "prepare_input",
    "cohort_of_rows",
    "t_inference",
    "WaldTest",
    "WithinFit",
    "fit_within",
    "indicator",
    "dummies",
    "cell_dummies",
    "iw_aggregate",
    "crv1_factor",
    "wald_test",
]


def indicator(codes: np.ndarray, n_levels: int) -> sparse.csr_matrix:
    """Sparse ``(n_levels, n)`` matrix whose row ``j`` sums the observations with ``codes == j``."""
    codes = np.asarray(codes, dtype=np.intp)
    n = codes.size
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_levels, n))


def dummies(codes: np.ndarray, n_levels: int, *, drop: int | None = None) -> sparse.csr_matrix:
    """Sparse ``(n, n_levels)`` dummy matrix of ``codes`` (negative codes give an all-zero row).

    ``drop`` removes one level (the reference), so the result has ``n_levels - 1`` columns.
    """
    codes = np.asarray(codes, dtype=np.intp)
    n = codes.size
    keep = codes >= 0
    if drop is not None:
        keep &= codes != drop
        col = np.where(codes > drop, codes - 1, codes)
        width = n_levels - 1
    else:
        col = codes
        width = n_levels
    rows = np.flatnonzero(keep)
    return sparse.csr_matrix((np.ones(rows.size), (rows, col[keep])), shape=(n, width))


def cell_dummies(n: int, rows: np.ndarray, key_a: np.ndarray, key_b: np.ndarray):
    """Sparse ``(n, C)`` dummies of the cells ``(key_a, key_b)`` observed on ``rows`` (other rows all zero).

    Returns the matrix, the sorted cells' two keys, and each row's cell index (aligned with ``rows``).
    """
    key = pd.MultiIndex.from_arrays([np.asarray(key_a, float), np.asarray(key_b, np.int64)])
    cells = key.unique().sort_values()
    col = cells.get_indexer(key)
    x = sparse.csr_matrix((np.ones(col.size), (rows, col)), shape=(n, len(cells)))
    return x, cells.get_level_values(0).to_numpy(float), cells.get_level_values(1).to_numpy(np.int64), col


def iw_aggregate(coef: np.ndarray, vcov: np.ndarray, cell_level: np.ndarray, n_cell: np.ndarray):
    """Average cell coefficients within levels, weighted by the cells' shares of the level's rows.

    This is the interaction-weighted estimator of Sun & Abraham (2021) when cells are cohort x event
    time (weights treated as fixed, as ``fixest``); with one cell per level it returns the
    coefficients unchanged. Returns ``levels, estimates, covariance, cell weights, rows per level``.
    """
    levels = np.unique(cell_level)
    li = np.searchsorted(levels, cell_level)
    n_level = np.bincount(li, weights=n_cell, minlength=levels.size)
    wgt = n_cell / n_level[li]
    agg = sparse.csr_matrix((wgt, (li, np.arange(cell_level.size))), shape=(levels.size, cell_level.size))
    est = agg @ coef
    v = np.asarray(agg @ (agg @ vcov).T).T
    return levels, est, (v + v.T) / 2, wgt, n_level


def crv1_factor(n_obs: int, k: int, n_clusters: int) -> float:
    """fixest / Stata small-sample factor ``G/(G-1) * (n-1)/(n-K)``."""
    if n_clusters < 2 or n_obs <= k:
        return np.nan
    return n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - k)


@dataclass
class WithinFit:
    """Result of :func:`fit_within` (internal).

    Attributes
    ----------
    coef, vcov
        Coefficients of the non-absorbed columns and their CRV1 covariance.
    names
        Column names.
    resid
        Residuals (after the unit effects).
    n_obs, n_units, n_clusters
        Sizes; ``n_units`` is 0 without unit effects.
    k_params
        Parameters counted in the small-sample correction.
    df_t
        Degrees of freedom of the t distribution (``G - 1``).
    adj
        The small-sample factor applied.
    bread
        ``A^{-1}``, the inverse of the (within) normal matrix.
    """

    coef: np.ndarray
    vcov: np.ndarray
    names: list[str]
    resid: np.ndarray
    n_obs: int
    n_units: int
    n_clusters: int
    k_params: int
    df_t: int
    adj: float
    bread: np.ndarray = field(repr=False)

    @property
    def std_error(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.vcov), 0, None))


def _solve_psd(a: np.ndarray, names: list[str], what: str) -> np.ndarray:
    """Inverse of a positive definite normal matrix, or an EstimationError naming collinear columns."""
    k = a.shape[0]
    d = np.sqrt(np.clip(np.diag(a), 0, None))
    scale = max(float(d.max()) if k else 1.0, 1e-300)
    zero = d <= 1e-10 * scale
    if zero.any():
        bad = [names[j] for j in np.flatnonzero(zero)][:8]
        raise EstimationError(
            f"{what}: column(s) {bad} have no variation left after removing the unit and period "
            "effects (e.g. an event time observed for no unit, or a regressor constant within units). "
            "Narrow leads=/lags=, bin the endpoints, or check the treatment timing."
        )
    c = a / np.outer(d, d)
    _, piv, rank, info = linalg.lapack.dpstrf(c, tol=1e-10)
    if rank < k:
        bad = [names[j] for j in (np.asarray(piv[rank:]) - 1)][:8]
        raise EstimationError(
            f"{what}: the regressors are collinear with the unit and period effects ({k - rank} "
            f"redundant, e.g. {bad}): in some periods no untreated unit is observed, so event time and "
            "calendar time cannot be told apart (e.g. a fully dynamic specification without never-treated "
            "units). Bin the endpoints (leads=/lags= with bin_endpoints=True), use control='not_yet_treated', "
            "or restrict the periods to those with untreated units."
        )
    cf = linalg.cho_factor(c, lower=False, check_finite=False)
    cinv = linalg.cho_solve(cf, np.eye(k), check_finite=False)
    return cinv / np.outer(d, d)


def fit_within(
    y: np.ndarray,
    x: sparse.spmatrix,
    names: list[str],
    *,
    unit_codes: np.ndarray | None,
    n_units: int = 0,
    weights: np.ndarray | None = None,
    cluster_codes: np.ndarray | None = None,
    n_clusters: int | None = None,
    compute_vcov: bool = True,
    what: str = "regression",
) -> WithinFit:
    """Weighted least squares of ``y`` on ``x`` with unit effects absorbed, and CRV1 covariance.

    Parameters
    ----------
    y
        Outcome ``(n,)``.
    x
        Sparse design ``(n, k)`` of the non-absorbed columns (time dummies and
        regressors). Without ``unit_codes`` it must contain an intercept if one
        is wanted.
    names
        Names of the ``k`` columns (used in messages).
    unit_codes, n_units
        Unit index ``0..n_units-1`` per row, or ``None`` for plain least squares.
    weights
        Optional positive weights ``(n,)``.
    cluster_codes, n_clusters
        Cluster index per row (defaults to the unit).
    compute_vcov
        Skip the covariance (residualising only).
    what
        Label used in error messages.

    Returns
    -------
    WithinFit
    """
    y = np.asarray(y, dtype=float)
    n = y.size
    x = sparse.csr_matrix(x, dtype=float)
    k = x.shape[1]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if np.any(~np.isfinite(y)):
        raise EstimationError(f"{what}: the outcome has missing or infinite values; drop those rows first.")
    wx = sparse.diags(w) @ x
    a = np.asarray((x.T @ wx).toarray())
    b = np.asarray(wx.T @ y).ravel()
    if unit_codes is not None:
        u = indicator(unit_codes, n_units)
        s = np.asarray(u @ w).ravel()
        if np.any(s <= 0):
            raise EstimationError(f"{what}: some units have no observations (or zero total weight).")
        z = sparse.csr_matrix(u @ wx)  # (n_units, k)
        zs = sparse.diags(1.0 / s) @ z
        a = a - np.asarray((z.T @ zs).toarray())
        wy_unit = np.asarray(u @ (w * y)).ravel()
        b = b - np.asarray(zs.T @ wy_unit).ravel()
    bread = _solve_psd(a, names, what) if k else np.zeros((0, 0))
    coef = bread @ b
    fit_part = np.asarray(x @ coef).ravel()
    r = y - fit_part
    if unit_codes is not None:
        alpha = np.asarray(u @ (w * r)).ravel() / s
        r = r - alpha[unit_codes]
    vcov = np.full((k, k), np.nan)
    g = 0
    k_params = k
    adj = np.nan
    if unit_codes is not None:
        k_params = k + n_units  # corrected below when nested in clusters
    if compute_vcov:
        if cluster_codes is None:
            if unit_codes is None:
                raise EstimationError(f"{what}: cluster_codes are needed without unit effects.")
            cluster_codes, g = unit_codes, n_units
        else:
            g = int(n_clusters if n_clusters is not None else np.max(cluster_codes) + 1)
        cl = indicator(cluster_codes, g)
        uw = w * r
        scores = sparse.csr_matrix(cl @ (sparse.diags(uw) @ x))
        nested = False
        if unit_codes is not None:
            # is every unit inside one cluster?
            first = np.full(n_units, -1, dtype=np.int64)
            first[unit_codes] = cluster_codes
            nested = bool(np.all(first[unit_codes] == cluster_codes))
            if nested:
                k_params = k + 1  # fixest "nested": unit effects not counted, the intercept is
            else:
                # scores of the demeaned columns: subtract sum_{obs in g} u_obs * xbar_unit
                m = sparse.csr_matrix(
                    (uw, (np.asarray(cluster_codes, dtype=np.intp), np.asarray(unit_codes, dtype=np.intp))),
                    shape=(g, n_units),
                )
                scores = scores - sparse.csr_matrix(m @ zs)
        meat = np.asarray((scores.T @ scores).toarray())
        adj = crv1_factor(n, k_params, g)
        vcov = adj * bread @ meat @ bread
        vcov = (vcov + vcov.T) / 2
    return WithinFit(
        coef=coef,
        vcov=vcov,
        names=list(names),
        resid=r,
        n_obs=n,
        n_units=n_units if unit_codes is not None else 0,
        n_clusters=g,
        k_params=k_params,
        df_t=max(g - 1, 1),
        adj=adj,
        bread=bread,
    )


@dataclass(frozen=True)
class WaldTest:
    """Joint Wald test that a set of coefficients are all zero.

    Attributes
    ----------
    statistic
        Wald chi-square statistic ``b' V^{-1} b``.
    df
        Number of restrictions (rank of ``V``).
    p_value
        ``P(F(df, G-1) > statistic / df)``: the F form used by Stata's
        ``test`` after clustered regressions (small-sample).
    p_value_chi2
        Asymptotic ``P(chi2_df > statistic)``.
    df_denominator
        ``G - 1``.
    terms
        Labels of the coefficients tested.
    """

    statistic: float
    df: int
    p_value: float
    p_value_chi2: float
    df_denominator: int
    terms: tuple[str, ...] = ()

    @property
    def f_statistic(self) -> float:
        return self.statistic / self.df if self.df else np.nan

    def __str__(self) -> str:
        return (
            f"Joint Wald test that all {len(self.terms)} pre-treatment coefficients are 0: "
            f"F({self.df}, {self.df_denominator}) = {self.f_statistic:.4f}, p = {self.p_value:.4g} "
            f"(chi2({self.df}) = {self.statistic:.4f}, p = {self.p_value_chi2:.4g})"
        )


def wald_test(b: np.ndarray, v: np.ndarray, df_denominator: int, terms: list[str]) -> WaldTest:
    """Wald test of ``b = 0`` with covariance ``v`` (generalised inverse if singular)."""
    b = np.asarray(b, dtype=float)
    v = np.asarray(v, dtype=float)
    if b.size == 0:
        raise EstimationError("No coefficients to test: the event study has no pre-treatment event times.")
    w_, u_ = np.linalg.eigh(v)
    tol = max(float(w_.max()), 0.0) * b.size * np.finfo(float).eps * 10
    keep = w_ > tol
    rank = int(keep.sum())
    if rank == 0:
        raise EstimationError("The covariance of the coefficients tested is zero; no test possible.")
    proj = u_[:, keep].T @ b
    stat = float(np.sum(proj**2 / w_[keep]))
    p_f = float(stats.f.sf(stat / rank, rank, df_denominator))
    p_c = float(stats.chi2.sf(stat, rank))
    return WaldTest(stat, rank, p_f, p_c, int(df_denominator), tuple(terms))


# ----------------------------------------------------------------------------- panel input
@dataclass
class PanelInput:
    """A long panel checked and coded for the estimators (internal): rows kept, outcome, unit codes,
    periods, weights, cluster codes, notes on rows left out, and the column names used."""

    df: pd.DataFrame
    y: np.ndarray
    unit_codes: np.ndarray
    n_units: int
    t: np.ndarray
    w: np.ndarray | None
    cl_codes: np.ndarray | None
    n_cl: int | None
    notes: list[str]
    names: dict[str, str]


def prepare_input(panel, *, outcome, unit, time, extra, cluster, weights, numeric_time=True, what="") -> PanelInput:
    """Resolve a PanelResult or DataFrame into a :class:`PanelInput`; rows with a missing outcome (or
    weight) are left out with a note, duplicated (unit, time) pairs and missing keys are errors."""
    if isinstance(panel, PanelResult):
        df = panel.data
        unit = unit or panel.unit
        time = time or panel.time
    elif isinstance(panel, pd.DataFrame):
        df = panel
    else:
        raise DataValidationError(f"{what}: panel must be a PanelResult (build_panel) or a DataFrame, got {type(panel).__name__}.")
    if unit is None or time is None:
        raise DataValidationError(f"{what}: name the unit= and time= columns (they are implied only for a PanelResult).")
    cols = [outcome, unit, time] + [c for c in extra if c] + [c for c in (cluster, weights) if c]
    need_columns(df, list(dict.fromkeys(cols)), "panel")
    notes: list[str] = []
    yv = pd.to_numeric(df[outcome], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_numeric_dtype(df[outcome].dtype) and not pd.api.types.is_bool_dtype(df[outcome].dtype):
        raise DataValidationError(f"{what}: the outcome {outcome!r} must be numeric (dtype {df[outcome].dtype}).")
    ok = np.isfinite(yv)
    if weights:
        wv = pd.to_numeric(df[weights], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        ok &= np.isfinite(wv) & (wv > 0)
    if (~ok).any():
        notes.append(f"{int((~ok).sum()):,} row(s) with a missing outcome{' or weight' if weights else ''} left out")
        df = df.loc[ok]
        yv = yv[ok]
    if len(df) == 0:
        raise EstimationError(f"{what}: no rows with a non-missing outcome {outcome!r}.")
    if df.duplicated([unit, time]).any():
        raise DataValidationError(f"{what}: several rows share a ({unit}, {time}) pair; keep one row per unit and period.")
    ucodes, uniq = pd.factorize(df[unit], sort=True)
    if (ucodes < 0).any():
        raise DataValidationError(f"{what}: the unit column {unit!r} has missing values.")
    if numeric_time:
        if not pd.api.types.is_numeric_dtype(df[time].dtype):
            raise DataValidationError(f"{what}: the time column {time!r} must be a numeric period index (build_panel's 'time').")
        tv = df[time].to_numpy(dtype=float)
    else:
        tv = df[time].to_numpy()
    cl_codes = n_cl = None
    if cluster and cluster != unit:
        cl_codes, cuniq = pd.factorize(df[cluster], sort=True)
        if (cl_codes < 0).any():
            raise DataValidationError(f"{what}: the cluster column {cluster!r} has missing values.")
        n_cl = len(cuniq)
    w = df[weights].to_numpy(dtype=float) if weights else None
    return PanelInput(df, yv, ucodes.astype(np.intp), len(uniq), tv, w, cl_codes, n_cl, notes,
                      {"outcome": outcome, "unit": unit, "time": time, "cluster": cluster or unit})


def cohort_of_rows(d: PanelInput, first_treated: str, what: str) -> np.ndarray:
    """First-treated period per row, ``inf`` for never treated (0, NaN or inf); checked constant within unit."""
    g = pd.to_numeric(d.df[first_treated], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    g = np.where(np.isnan(g) | np.isinf(g) | (g == 0), np.inf, g)
    first = np.full(d.n_units, np.nan)
    first[d.unit_codes] = g
    if not np.array_equal(first[d.unit_codes], g):
        raise DataValidationError(
            f"{what}: {first_treated!r} must be constant within each unit: it is the period the unit is first "
            "treated (0 or NaN = never), not a treatment dummy."
        )
    return g


def t_inference(est, se, df_t, alpha):
    """t statistics, two-sided p-values and ``1 - alpha`` intervals with ``df_t`` degrees of freedom."""
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    crit = stats.t.ppf(1 - alpha / 2, df_t)
    return stat, 2 * stats.t.sf(np.abs(stat), df_t), est - crit * se, est + crit * se
