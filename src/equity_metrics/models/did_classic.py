"""Classic difference-in-differences: 2x2 DiD, dynamic event studies (TWFE and Sun & Abraham), static TWFE.

* :func:`did_2x2` -- two groups, pre/post, unit-clustered CRV1 standard errors.
* :func:`event_study` -- relative-time dummies with unit and period effects
  (absorbed exactly, never as unit dummies), optionally binned endpoints, a
  joint pre-trend test, and ``sun_abraham=True`` for the interaction-weighted
  estimator of Sun & Abraham (2021), robust to heterogeneous effects across
  cohorts.
* :func:`twfe` -- the static two-way fixed-effects coefficient, reported only as
  a labelled comparison: with staggered timing it is a weighted average of
  cell effects whose weights can be negative (de Chaisemartin &
  D'Haultfoeuille 2020; Goodman-Bacon 2021); the weights are reported.

Standard errors are cluster-robust (CRV1) with the small-sample correction of
Stata / R ``fixest``, and t(G-1) intervals; see :mod:`equity_metrics.models._fe`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import DataValidationError, EstimationError, OptionError
from ._did_base import _fmt, _Result  # noqa: F401  (re-exported)
from ._event_study import EVENT_COLUMNS, ControlGroup, EventStudyResult, _check_int, event_study  # noqa: F401  (re-exported)
from ._fe import WaldTest, cell_dummies, cohort_of_rows, dummies, fit_within, iw_aggregate, prepare_input  # noqa: F401
from ._fe import t_inference, wald_test  # noqa: F401
from .panel import PanelResult

__all__ = ["did_2x2", "event_study", "twfe", "DiD2x2Result", "EventStudyResult", "TWFEResult", "WaldTest"]

COEF_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]


# ----------------------------------------------------------------------------- 2x2
@dataclass
class DiD2x2Result(_Result):
    """Two-group, two-period difference-in-differences (see :func:`did_2x2`).

    Attributes
    ----------
    estimate, std_error, ci_low, ci_high, p_value
        The DiD (interaction) coefficient with CRV1 standard error and t(G-1) inference.
    coefficients
        All four coefficients (``COEF_COLUMNS``).
    means
        Mean outcome, rows and units by ``group`` (treated / comparison) x ``period`` (pre / post).
    trends
        Mean outcome by group and time (for :meth:`plot`).
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    coefficients: pd.DataFrame
    means: pd.DataFrame
    trends: pd.DataFrame
    n_obs: int
    n_units: int
    n_clusters: int
    alpha: float
    outcome: str
    notes: list[str] = field(default_factory=list)
    title = "Difference-in-differences (2 groups x 2 periods), cluster-robust CRV1 standard errors"

    def tidy(self) -> pd.DataFrame:
        """Coefficients: ``term, estimate, std_error, statistic, p_value, ci_low, ci_high`` (term ``did`` is the effect)."""
        return self.coefficients.copy()

    def _lines(self) -> list[str]:
        lvl = int(round(100 * (1 - self.alpha)))
        return [
            f"Outcome: {self.outcome}; rows {self.n_obs:,}; units {self.n_units:,}; clusters {self.n_clusters:,}",
            f"DiD estimate {self.estimate:.6g} (SE {self.std_error:.6g}; {lvl}% CI [{self.ci_low:.6g}, {self.ci_high:.6g}]; p = {self.p_value:.4g})",
            "Group means:", _fmt(self.means),
        ]

    def __repr__(self) -> str:
        return f"<DiD2x2Result estimate={self.estimate:.6g} (SE {self.std_error:.6g}), {self.n_units} units>"

    def plot(self, *, ax=None):
        """Mean outcome by period for the two groups. Returns the Axes."""
        from ..plots.eventstudy import group_means_plot

        return group_means_plot(self.trends, ax=ax, ylabel=self.outcome)


def did_2x2(
    panel: PanelResult | pd.DataFrame,
    *,
    outcome: str,
    treated: str,
    post: str | float,
    unit: str | None = None,
    time: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
) -> DiD2x2Result:
    """Classic two-group, two-period difference-in-differences.

    Fits ``y = a + b*treated + c*post + d*treated*post`` by least squares (the
    fitted values are the four group-period means, so ``d`` is the
    difference of the changes in means) with CRV1 standard errors clustered
    by unit (or ``cluster``), small-sample corrected as Stata and R ``fixest``
    (``feols(y ~ treated * post, cluster = ~unit)``).

    Parameters
    ----------
    panel
        A :class:`~equity_metrics.models.panel.PanelResult` or a long DataFrame.
    outcome
        Outcome column.
    treated
        Column marking units of the treated group (constant within unit; a
        time-varying indicator is turned into "ever 1 in the data", with a note).
    post
        Column marking post-period rows, or a ``time`` value: rows with
        ``time >= post`` are post.
    unit, time
        Unit and period columns (implied by a PanelResult).
    cluster
        Cluster column (default: the unit).
    weights
        Optional weight column (e.g. ``exposure``).
    alpha
        ``1 - alpha`` intervals.

    Returns
    -------
    DiD2x2Result

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(40), 2), "t": np.tile([0, 1], 40)})
    >>> d["g"] = d["id"] < 20
    >>> d["y"] = 1.0 + 0.5 * d["t"] + 2.0 * (d["g"] & (d["t"] == 1)) + np.sin(d["id"])
    >>> r = did_2x2(d, outcome="y", treated="g", post="t", unit="id", time="t")
    >>> round(r.estimate, 6)
    2.0
    """
    if not 0 < alpha < 1:
        raise OptionError(f"alpha must be between 0 and 1, got {alpha!r}.")
    post_col = post if isinstance(post, str) else None
    d = prepare_input(panel, outcome=outcome, unit=unit, time=time, extra=[treated, post_col], cluster=cluster,
                      weights=weights, numeric_time=post_col is None, what="did_2x2")
    tr_raw = d.df[treated].astype("boolean").fillna(False).to_numpy(bool)
    grp = np.zeros(d.n_units, bool)
    np.logical_or.at(grp, d.unit_codes, tr_raw)
    if not np.array_equal(grp[d.unit_codes], tr_raw):
        d.notes.append(f"{treated!r} varies within units: the treated group is every unit with {treated} true in some row")
    g = grp[d.unit_codes].astype(float)
    if post_col is not None:
        p = d.df[post_col].astype("boolean").fillna(False).to_numpy(bool).astype(float)
    else:
        tv = pd.to_numeric(d.df[d.names["time"]], errors="coerce").to_numpy(dtype=float)
        p = (tv >= float(post)).astype(float)
    for arr, lab in ((g, "treated group"), (1 - g, "comparison group"), (p, "post period"), (1 - p, "pre period")):
        if arr.sum() == 0:
            raise EstimationError(f"did_2x2: the data have no rows in the {lab}; check treated= and post=.")
    x = sparse.csr_matrix(np.column_stack([np.ones_like(g), g, p, g * p]))
    cl = d.cl_codes if d.cl_codes is not None else d.unit_codes
    ncl = d.n_cl if d.cl_codes is not None else d.n_units
    fit = fit_within(d.y, x, ["intercept", "treated", "post", "did"], unit_codes=None, weights=d.w,
                     cluster_codes=cl, n_clusters=ncl, what="did_2x2")
    se = fit.std_error
    st, pv, lo, hi = t_inference(fit.coef, se, fit.df_t, alpha)
    coefs = pd.DataFrame({"term": ["intercept", "treated", "post", "did"], "estimate": fit.coef, "std_error": se,
                          "statistic": st, "p_value": pv, "ci_low": lo, "ci_high": hi})
    w = d.w if d.w is not None else np.ones_like(d.y)
    tab = pd.DataFrame({"group": np.where(g > 0, "treated", "comparison"), "period": np.where(p > 0, "post", "pre"),
                        "y": d.y, "w": w, "u": d.unit_codes})
    means = (tab.assign(wy=tab.y * tab.w).groupby(["group", "period"], sort=True)
             .agg(wy=("wy", "sum"), w=("w", "sum"), rows=("y", "size"), units=("u", "nunique")).reset_index())
    means["mean"] = means["wy"] / means["w"]
    means = means[["group", "period", "mean", "rows", "units"]]
    tr_ = pd.DataFrame({"group": tab["group"], "time": d.df[d.names["time"]].to_numpy(), "y": d.y})
    trends = tr_.groupby(["group", "time"], sort=True)["y"].mean().reset_index()
    return DiD2x2Result(float(fit.coef[3]), float(se[3]), float(lo[3]), float(hi[3]), float(pv[3]), coefs, means,
                        trends, fit.n_obs, d.n_units, fit.n_clusters, alpha, outcome, d.notes)


# ----------------------------------------------------------------------------- TWFE
@dataclass
class TWFEResult(_Result):
    """Static two-way fixed-effects coefficient, for comparison only (see :func:`twfe`).

    Attributes
    ----------
    estimate, std_error, ci_low, ci_high, p_value
        The coefficient of the treatment indicator with CRV1 inference.
    staggered
        Whether treatment starts at different times (then the coefficient is
        not a convex average of effects).
    n_negative_weights, share_negative_weights, sum_negative_weights
        The weights the coefficient puts on each treated unit-period effect
        (de Chaisemartin & D'Haultfoeuille 2020): how many are negative, their
        share among treated rows and their sum.
    weights
        Per treated row: ``time, event_time, weight``.
    comparison_only
        Always ``True``: report a heterogeneity-robust estimator instead.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    n_obs: int
    n_units: int
    n_clusters: int
    staggered: bool
    n_cohorts: int
    n_negative_weights: int
    share_negative_weights: float
    sum_negative_weights: float
    weights: pd.DataFrame
    alpha: float
    outcome: str
    notes: list[str] = field(default_factory=list)
    comparison_only: bool = True
    title = "Static two-way fixed effects (TWFE) -- a COMPARISON, not the recommended estimate"

    def tidy(self) -> pd.DataFrame:
        """One row: ``term, estimate, std_error, statistic, p_value, ci_low, ci_high, n_obs, n_units,
        n_clusters, staggered, share_negative_weights, comparison_only``."""
        st = self.estimate / self.std_error if self.std_error > 0 else np.nan
        return pd.DataFrame([{
            "term": "treated", "estimate": self.estimate, "std_error": self.std_error, "statistic": st,
            "p_value": self.p_value, "ci_low": self.ci_low, "ci_high": self.ci_high, "n_obs": self.n_obs,
            "n_units": self.n_units, "n_clusters": self.n_clusters, "staggered": self.staggered,
            "share_negative_weights": self.share_negative_weights, "comparison_only": True,
        }])

    def _lines(self) -> list[str]:
        lvl = int(round(100 * (1 - self.alpha)))
        out = [
            f"Outcome: {self.outcome}; rows {self.n_obs:,}; units {self.n_units:,}; clusters {self.n_clusters:,}; cohorts {self.n_cohorts}",
            f"TWFE coefficient {self.estimate:.6g} (SE {self.std_error:.6g}; {lvl}% CI [{self.ci_low:.6g}, {self.ci_high:.6g}]; p = {self.p_value:.4g})",
            "This is reported as a comparison with the staggered-adoption estimators (staggered_did, "
            "efficient_staggered, event_study(sun_abraham=True)), not as the estimate of the training effect.",
        ]
        if self.staggered:
            out.append(
                f"Staggered timing: the coefficient weights treated unit-periods by residualised treatment "
                f"(Goodman-Bacon 2021; de Chaisemartin & D'Haultfoeuille 2020); {self.n_negative_weights:,} of "
                f"{len(self.weights):,} weights are negative (sum {self.sum_negative_weights:.4g}), so with effects "
                "that change over time it can even have the wrong sign."
            )
        return out

    def __repr__(self) -> str:
        return f"<TWFEResult (comparison only) estimate={self.estimate:.6g} (SE {self.std_error:.6g}), staggered={self.staggered}>"

    def plot(self, *, ax=None):
        """The weights on each treated unit-period effect against event time. Returns the Axes."""
        from ..plots.eventstudy import twfe_weights_plot

        return twfe_weights_plot(self.weights, ax=ax)


def twfe(
    panel: PanelResult | pd.DataFrame,
    *,
    outcome: str,
    unit: str | None = None,
    time: str | None = None,
    first_treated: str | None = None,
    treated: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
) -> TWFEResult:
    """Static two-way fixed effects ``y_it = a_i + l_t + b D_it + e_it``, as a labelled comparison.

    The unit and period effects are absorbed exactly; standard errors are
    CRV1 clustered by unit (``fixest::feols(y ~ D | unit + time, cluster = ~unit)``).
    With staggered timing a :class:`UserWarning` is issued and the result
    reports the weights ``b`` puts on each treated unit-period (negative
    weights mean that ``b`` is not an average of effects).

    Parameters
    ----------
    panel
        PanelResult or long DataFrame.
    outcome
        Outcome column.
    unit, time
        Unit and numeric period columns (implied by a PanelResult).
    first_treated
        Period first treated (0/NaN = never); builds ``D_it = time >= first_treated``.
    treated
        Alternatively a 0/1 treatment column ``D_it``.
    cluster, weights, alpha
        Cluster column (default unit), weight column, interval level.

    Returns
    -------
    TWFEResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(50), 6), "t": np.tile(np.arange(1, 7), 50)})
    >>> d["g"] = np.where(d["id"] < 25, 3, 0)  # one cohort: no staggering, no warning
    >>> d["y"] = 0.1 * d["id"] + 0.5 * d["t"] + 2.0 * ((d["g"] > 0) & (d["t"] >= d["g"]))
    >>> round(twfe(d, outcome="y", unit="id", time="t", first_treated="g").estimate, 6)
    2.0
    """
    if isinstance(panel, PanelResult) and first_treated is None and treated is None:
        first_treated = panel.first_treated
    if (first_treated is None) == (treated is None):
        raise DataValidationError("twfe: give exactly one of first_treated= (period first treated) or treated= (0/1 column).")
    d = prepare_input(panel, outcome=outcome, unit=unit, time=time, extra=[first_treated, treated], cluster=cluster,
                      weights=weights, what="twfe")
    if first_treated is not None:
        g = cohort_of_rows(d, first_treated, "twfe")
        dvec = (d.t >= g).astype(float)
    else:
        dvec = d.df[treated].astype(float).to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(dvec).any():
            raise DataValidationError(f"twfe: the treatment column {treated!r} has missing values.")
        first = np.full(d.n_units, np.inf)
        np.minimum.at(first, d.unit_codes, np.where(dvec > 0, d.t, np.inf))
        g = first[d.unit_codes]
    tcodes, tuniq = pd.factorize(d.t, sort=True)
    tdum = dummies(tcodes, len(tuniq), drop=0)
    x = sparse.hstack([sparse.csr_matrix(dvec[:, None]), tdum]).tocsr()
    names = ["treated"] + [f"time={v:g}" for v in tuniq[1:]]
    fit = fit_within(d.y, x, names, unit_codes=d.unit_codes, n_units=d.n_units, weights=d.w,
                     cluster_codes=d.cl_codes, n_clusters=d.n_cl, what="twfe")
    se = float(fit.std_error[0])
    st, pv, lo, hi = t_inference(np.array([fit.coef[0]]), np.array([se]), fit.df_t, alpha)
    # weights on treated cells: residual of D on the unit and period effects
    dres = fit_within(dvec, tdum, names[1:], unit_codes=d.unit_codes, n_units=d.n_units, weights=d.w,
                      compute_vcov=False, what="twfe").resid
    wrow = d.w if d.w is not None else np.ones_like(dvec)
    on = dvec > 0
    denom = float(np.sum((wrow * dres)[on]))
    wt = (wrow * dres)[on] / denom if denom != 0 else np.full(int(on.sum()), np.nan)
    switchers = np.isfinite(g) & (g > d.t.min())
    cohorts = np.unique(g[switchers])
    staggered = cohorts.size > 1
    notes = list(d.notes)
    wtab = pd.DataFrame({"time": d.t[on], "event_time": (d.t - g)[on], "weight": wt})
    n_neg = int((wt < 0).sum())
    if staggered:
        msg = (f"twfe: treatment timing is staggered ({cohorts.size} cohorts): the static TWFE coefficient "
               f"mixes comparisons with already-treated units and puts negative weight on {n_neg} treated "
               "unit-period(s). Report staggered_did / efficient_staggered / event_study(sun_abraham=True); "
               "use this only as a comparison.")
        warnings.warn(msg, UserWarning, stacklevel=2)
        notes.append("staggered timing: negative weights are possible (Goodman-Bacon 2021); see the weights")
    return TWFEResult(float(fit.coef[0]), se, float(lo[0]), float(hi[0]), float(pv[0]), fit.n_obs, d.n_units,
                      fit.n_clusters, bool(staggered), int(cohorts.size), n_neg,
                      float(n_neg / max(len(wt), 1)), float(wt[wt < 0].sum()), wtab, alpha, outcome, notes)

