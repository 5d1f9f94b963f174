"""Veil of darkness, the model: ``is_minority ~ is_dark + ns(minute, df) [+ area] [+ season x year]``.

Fitted as a binomial GLM on counts (``cbind(n_minority, n_majority)`` in R), which has exactly the
likelihood of the row-level logistic regression; the spline knots are the quantiles of the
row-level minutes (frequency-weighted quantiles of the counts), so the count fit equals the row fit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError
from ._splines import NaturalSpline


@dataclass(frozen=True)
class Fit:
    estimate: float
    std_error: float
    p_value: float
    ci_low: float
    ci_high: float
    odds_ratio: float
    n_cells: int
    n_parameters: int
    n_aliased: int
    converged: bool
    knots: tuple
    boundary_knots: tuple


def _dummies(values: pd.Series, prefix: str) -> pd.DataFrame:
    """Treatment-coded indicator columns (first level, in sorted order, is the reference)."""
    cat = pd.Categorical(values.astype(str), categories=sorted(values.astype(str).unique()))
    d = pd.get_dummies(cat, prefix=prefix, drop_first=True, dtype=float)
    d.index = values.index
    return d


def design_matrix(counts: pd.DataFrame, *, spline: NaturalSpline, area: bool, interact_time_area: bool,
                  season_year: bool) -> pd.DataFrame:
    """Columns: const, is_dark, the spline basis, area indicators (and spline x area), window indicators."""
    basis = spline.basis(counts["minute"].to_numpy(float))
    cols = {"const": np.ones(len(counts)), "is_dark": counts["is_dark"].to_numpy(float)}
    for j in range(basis.shape[1]):
        cols[f"ns{j + 1}"] = basis[:, j]
    x = pd.DataFrame(cols, index=counts.index)
    parts = [x]
    if area and counts["area"].nunique() > 1:
        a = _dummies(counts["area"], "area")
        parts.append(a)
        if interact_time_area:
            inter = {f"ns{j + 1}:{c}": basis[:, j] * a[c].to_numpy() for c in a.columns for j in range(basis.shape[1])}
            parts.append(pd.DataFrame(inter, index=counts.index))
    if season_year and counts["window"].nunique() > 1:
        parts.append(_dummies(counts["window"], "window"))
    return pd.concat(parts, axis=1)


def _drop_aliased(x: pd.DataFrame, tol: float = 1e-7) -> tuple[pd.DataFrame, list[str]]:
    """Drop columns that are linear combinations of earlier ones, as R's glm does (its coefficient is NA).

    A column is aliased when its part orthogonal to the earlier columns is below ``tol`` of its norm
    (R's ``qr`` tolerance 1e-7); the first such column is dropped and the check repeated.
    """
    from scipy.linalg import qr

    aliased: list[str] = []
    while x.shape[1] > 1:
        a = x.to_numpy(float)
        r = qr(a, mode="r", check_finite=False)[0]
        norms = np.sqrt((a * a).sum(axis=0))
        small = np.abs(np.diag(r)) <= tol * np.where(norms > 0, norms, 1.0)
        if not small.any():
            break
        j = int(np.argmax(small))
        aliased.append(x.columns[j])
        x = x.drop(columns=x.columns[j])
    return x, aliased


def fit_counts(counts: pd.DataFrame, *, spline_df: int, area: bool, interact_time_area: bool, season_year: bool,
               level: float) -> Fit:
    """Binomial GLM of (n_minority, n_majority) on the design; the is_dark coefficient with a Wald interval."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    if counts.empty or counts["n_minority"].sum() == 0 or counts["n_majority"].sum() == 0:
        raise EstimationError("the veil-of-darkness model needs searches of both groups in the window; "
                              "there are none of one group")
    if counts["is_dark"].nunique() < 2:
        raise EstimationError("every search in the window is on the same side of dusk (all light or all dark); "
                              "the test needs both: widen the dates or check the times")
    w = (counts["n_minority"] + counts["n_majority"]).to_numpy(float)
    spline = NaturalSpline.from_data(counts["minute"].to_numpy(float), spline_df, weights=w)
    x = design_matrix(counts, spline=spline, area=area, interact_time_area=interact_time_area, season_year=season_year)
    # drop columns without variation in the data (e.g. an area indicator absent after filtering)
    keep = [c for c in x.columns if c in ("const", "is_dark") or np.ptp(x[c].to_numpy()) > 0]
    x = x[keep]
    x, aliased = _drop_aliased(x)
    if "is_dark" in aliased:
        raise EstimationError("is_dark is collinear with the other terms (light and dark never share a clock "
                              "minute within an area): the test cannot separate darkness from clock time")
    y = counts[["n_minority", "n_majority"]].to_numpy(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.GLM(y, x, family=sm.families.Binomial()).fit(maxiter=100)
        except Exception as exc:  # perfect separation, singular matrices
            raise EstimationError(f"the veil-of-darkness GLM could not be fitted ({exc}); too few searches?") from exc
    bad = [c for c in caught if issubclass(c.category, (ConvergenceWarning, PerfectSeparationWarning))]
    converged = bool(res.converged) and not bad
    est, se = float(res.params["is_dark"]), float(res.bse["is_dark"])
    if not (np.isfinite(est) and np.isfinite(se)) or abs(est) > 15:
        raise EstimationError("the veil-of-darkness GLM diverged (no finite darkness odds ratio: separation, usually "
                              "areas or windows with very few searches); drop small areas or the time x area "
                              "interaction")
    z = stats.norm.ppf(0.5 + level / 2)
    p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")
    return Fit(estimate=est, std_error=se, p_value=p, ci_low=float(np.exp(est - z * se)),
               ci_high=float(np.exp(est + z * se)), odds_ratio=float(np.exp(est)), n_cells=len(counts),
               n_parameters=x.shape[1], n_aliased=len(aliased), converged=converged, knots=tuple(spline.knots.tolist()),
               boundary_knots=tuple(spline.boundary_knots.tolist()))
