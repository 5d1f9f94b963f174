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
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._options import check_option
from .._security import escape_html
from ..errors import DataValidationError, EstimationError, OptionError
from ._fe import WaldTest, cell_dummies, cohort_of_rows, dummies, fit_within, iw_aggregate, prepare_input
from ._fe import t_inference, wald_test
from .panel import PanelResult

__all__ = ["did_2x2", "event_study", "twfe", "DiD2x2Result", "EventStudyResult", "TWFEResult", "WaldTest"]

ControlGroup = Literal["never_treated", "not_yet_treated"]
COEF_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
EVENT_COLUMNS = ["event_time", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high",
                 "n_obs", "n_cohorts", "binned", "reference"]


def _fmt(df: pd.DataFrame) -> str:
    return df.to_string(index=False, float_format=lambda v: f"{v:.6g}", na_rep="")


class _Result:
    """Shared display of the classic results."""

    title = ""
    notes: list[str]

    def _lines(self) -> list[str]:  # pragma: no cover - overridden
        return []

    def summary(self) -> str:
        return "\n".join([self.title] + self._lines() + [f"Note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        body = "<br>".join(escape_html(s) for s in self._lines())
        notes = "".join(f"<li>{escape_html(n)}</li>" for n in self.notes)
        return f"<p><b>{escape_html(self.title)}</b><br>{body}</p><ul>{notes}</ul>" + self.tidy().to_html(index=False, escape=True)


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


# ----------------------------------------------------------------------------- event study
@dataclass
class EventStudyResult(_Result):
    """Dynamic event study (see :func:`event_study`).

    Attributes
    ----------
    table
        One row per event time (``EVENT_COLUMNS``): ``event_time, estimate,
        std_error, statistic, p_value, ci_low, ci_high, n_obs, n_cohorts,
        binned, reference``; the base period is a row with estimate 0.
    pretrend
        Joint Wald test that all pre-treatment coefficients are zero
        (:class:`~equity_metrics.models._fe.WaldTest`), or ``None``.
    vcov
        Covariance of the estimated event-time coefficients.
    cohort_effects
        Sun & Abraham only: the cohort x event-time effects, their standard
        errors and aggregation weights.
    method
        ``"twfe"`` (dynamic two-way fixed effects) or ``"sun_abraham"``.
    """

    table: pd.DataFrame
    pretrend: WaldTest | None
    vcov: pd.DataFrame
    cohort_effects: pd.DataFrame | None
    method: str
    base_period: int
    control: str
    n_obs: int
    n_units: int
    n_clusters: int
    alpha: float
    outcome: str
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:  # type: ignore[override]
        if self.method == "sun_abraham":
            return "Event study: Sun & Abraham (2021) interaction-weighted estimator"
        return "Event study: dynamic two-way fixed effects (relative-time dummies)"

    def tidy(self) -> pd.DataFrame:
        """The event-time table (``EVENT_COLUMNS``)."""
        return self.table.copy()

    def _lines(self) -> list[str]:
        ctrl = "never treated" if self.control == "never_treated" else "not yet treated"
        out = [
            f"Outcome: {self.outcome}; rows {self.n_obs:,}; units {self.n_units:,}; clusters {self.n_clusters:,}; "
            f"comparison: {ctrl}; base period e = {self.base_period}; CRV1 SEs, t({self.n_clusters - 1}) intervals",
            _fmt(self.table),
        ]
        if self.pretrend is not None:
            out.append(str(self.pretrend))
        if self.method == "twfe":
            out.append("Dynamic TWFE coefficients can be contaminated by effects at other event times when effects "
                       "differ across cohorts (Sun & Abraham 2021): compare with sun_abraham=True.")
        return out

    def __repr__(self) -> str:
        return f"<EventStudyResult {self.method}: {len(self.table)} event times, {self.n_units} units>"

    def plot(self, *, ax=None, title: str | None = None):
        """Coefficients with confidence intervals by event time. Returns the Axes."""
        from ..plots.eventstudy import event_study_plot

        t = self.table
        return event_study_plot(
            t["event_time"].to_numpy(float), t["estimate"].to_numpy(float), t["ci_low"].to_numpy(float),
            t["ci_high"].to_numpy(float), reference=self.base_period, ax=ax, title=title or self.title,
            ylabel=f"Effect on {self.outcome}",
        )


def _check_int(name: str, v, *, negative: bool = False) -> int | None:
    if v is None:
        return None
    if not isinstance(v, int | np.integer) or isinstance(v, bool) or (v >= 0 if negative else v < 0):
        raise OptionError(f"{name} must be {'a negative' if negative else 'a non-negative'} integer, got {v!r}.")
    return int(v)


def event_study(
    panel: PanelResult | pd.DataFrame,
    *,
    outcome: str,
    unit: str | None = None,
    time: str | None = None,
    first_treated: str | None = None,
    leads: int | None = None,
    lags: int | None = None,
    base_period: int = -1,
    bin_endpoints: bool = True,
    control: ControlGroup = "never_treated",
    sun_abraham: bool = False,
    cluster: str | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
) -> EventStudyResult:
    """Dynamic event study with relative-time dummies, unit and period effects, clustered SEs.

    Regresses the outcome on dummies for each event time ``e = time -
    first_treated`` of treated units (except ``base_period``), absorbing unit
    and period effects exactly (within transformation, no unit dummies).
    With ``sun_abraham=True`` the dummies are interacted with cohorts
    (``fixest::sunab``): each cohort x event-time effect is estimated against
    the comparison units only, and the event-time estimate is their average
    weighted by each cohort's share of the rows at that event time
    (interaction-weighted estimator of Sun & Abraham 2021).

    Parameters
    ----------
    panel
        PanelResult or long DataFrame.
    outcome, unit, time, first_treated
        Columns (unit, time and first_treated are implied by a PanelResult);
        ``first_treated`` is 0 / NaN for never-treated units.
    leads, lags
        Event-time window ``[-leads, lags]`` (default: every event time in the data).
    base_period
        Omitted (reference) event time, ``-1`` by default.
    bin_endpoints
        With a window narrower than the data, pool the event times beyond it
        into the end dummies (``True``), or drop those rows of treated units
        (``False``).
    control
        ``"never_treated"`` (needs never-treated units) or
        ``"not_yet_treated"``: units not yet treated serve as comparisons;
        without never-treated units (and always with ``sun_abraham=True``)
        periods from the last cohort's treatment on are dropped and that
        cohort is the comparison group.
    sun_abraham
        Use the interaction-weighted estimator.
    cluster, weights, alpha
        Cluster column (default unit), weights column, interval level.

    Returns
    -------
    EventStudyResult

    Raises
    ------
    EstimationError
        No never-treated units with ``control="never_treated"``, no row at
        the base period, or event-time dummies collinear with the fixed
        effects (e.g. a full dynamic specification without never-treated units).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(200), 6), "t": np.tile(np.arange(1, 7), 200)})
    >>> d["g"] = np.repeat(rng.choice([0, 3, 5], 200), 6)  # 0 = never treated
    >>> d["y"] = rng.normal(size=len(d)) + 1.0 * ((d["g"] > 0) & (d["t"] >= d["g"]))
    >>> es = event_study(d, outcome="y", unit="id", time="t", first_treated="g", sun_abraham=True)
    >>> es.tidy()["event_time"].tolist()
    [-4, -3, -2, -1, 0, 1, 2, 3]
    """
    check_option("control", control, ControlGroup)
    leads, lags = _check_int("leads", leads), _check_int("lags", lags)
    base_period = _check_int("base_period", base_period, negative=True)
    if not 0 < alpha < 1:
        raise OptionError(f"alpha must be between 0 and 1, got {alpha!r}.")
    if isinstance(panel, PanelResult) and first_treated is None:
        first_treated = panel.first_treated
    if first_treated is None:
        raise DataValidationError("event_study: name the first_treated= column (period first treated; 0/NaN = never).")
    what = "event_study"
    d = prepare_input(panel, outcome=outcome, unit=unit, time=time, extra=[first_treated], cluster=cluster,
                      weights=weights, what=what)
    g = cohort_of_rows(d, first_treated, what)
    t = d.t
    if not (np.all(t == np.round(t)) and np.all(g[np.isfinite(g)] == np.round(g[np.isfinite(g)]))):
        raise DataValidationError(f"{what}: time and first_treated must be whole numbers (a running period index).")
    notes = list(d.notes)
    keep = np.ones(t.size, bool)
    early = np.isfinite(g) & (g <= t.min())
    if early.any():
        notes.append(f"{len(np.unique(d.unit_codes[early])):,} unit(s) treated in or before the first period dropped (no pre-period)")
        keep &= ~early
    late = np.isfinite(g) & (g > t.max())
    if late.any():
        notes.append(f"{len(np.unique(d.unit_codes[late])):,} unit(s) first treated after the last period count as never treated")
        g = np.where(late, np.inf, g)
    n_never = len(np.unique(d.unit_codes[keep & np.isinf(g)]))
    if control == "never_treated" and n_never == 0:
        raise EstimationError(
            f"{what}: no never-treated units, so control='never_treated' is impossible. Use "
            "control='not_yet_treated' (the last-treated cohort is then the comparison group)."
        )
    if control == "not_yet_treated" and (n_never == 0 or sun_abraham):
        fin = g[keep & np.isfinite(g)]
        if fin.size == 0:
            raise EstimationError(f"{what}: no treated units.")
        g_last = fin.max()
        keep &= t < g_last
        g = np.where(g == g_last, np.inf, g)
        notes.append(f"periods from {g_last:g} on dropped: the last-treated cohort ({g_last:g}) is the comparison group until then")
    treated_row = np.isfinite(g)
    if not (keep & treated_row).any():
        raise EstimationError(f"{what}: no treated cohort remains to estimate.")
    e = np.where(treated_row, t - np.where(treated_row, g, 0), np.nan)
    e_lo, e_hi = np.nanmin(e[keep & treated_row]), np.nanmax(e[keep & treated_row])
    lo = -leads if leads is not None else int(e_lo)
    hi = lags if lags is not None else int(e_hi)
    if not lo <= base_period <= hi:
        raise OptionError(f"base_period={base_period} is outside the event window [{lo}, {hi}]; widen leads=.")
    binned_lo = binned_hi = False
    outside = treated_row & ((e < lo) | (e > hi))
    if outside.any():
        if bin_endpoints:
            binned_lo, binned_hi = bool((keep & (e < lo)).any()), bool((keep & (e > hi)).any())
            e = np.where(treated_row, np.clip(e, lo, hi), np.nan)
            notes.append(f"event times beyond [{lo}, {hi}] pooled into the end points")
        else:
            notes.append(f"{int((keep & outside).sum()):,} row(s) of treated units outside event times [{lo}, {hi}] dropped")
            keep &= ~outside
    ei_all = np.where(treated_row, np.nan_to_num(e), 0).astype(np.int64)
    base_all = keep & treated_row & (ei_all == base_period)
    if not base_all.any():
        raise EstimationError(f"{what}: no treated unit is observed at the base period e = {base_period}; choose another base_period.")
    if sun_abraham:
        # every cohort must be observed at its base period, else its effects are not identified
        bad = np.setdiff1d(np.unique(g[keep & treated_row]), np.unique(g[base_all]))
        if bad.size:
            notes.append(f"cohort(s) {', '.join(f'{v:g}' for v in bad)} not observed at e = {base_period} dropped")
            keep &= ~np.isin(g, bad)
    # --- subset and recode ---------------------------------------------------------------
    y, t, g, ei, treated_row = d.y[keep], t[keep], g[keep], ei_all[keep], treated_row[keep]
    ucodes, uniq = pd.factorize(d.unit_codes[keep], sort=True)
    wv = d.w[keep] if d.w is not None else None
    cl, ncl = None, None
    if d.cl_codes is not None:
        cl, cu = pd.factorize(d.cl_codes[keep], sort=True)
        ncl = len(cu)
    cnt = wv if wv is not None else np.ones(y.size)
    at_base = treated_row & (ei == base_period)
    tcodes, tuniq = pd.factorize(t, sort=True)
    tdum = dummies(tcodes, len(tuniq), drop=0)
    tnames = [f"time={v:g}" for v in tuniq[1:]]
    est_rows = treated_row & ~at_base
    if not est_rows.any():
        raise EstimationError(f"{what}: treated units are observed only at the base period; nothing to estimate.")
    # dummies per event time (dynamic TWFE) or per cohort x event time (Sun & Abraham)
    rows = np.flatnonzero(est_rows)
    xe, cell_g, cell_e, col = cell_dummies(y.size, rows, g[rows] if sun_abraham else np.zeros(rows.size), ei[rows])
    names = [f"g={a:g},e={b}" if sun_abraham else f"e={b}" for a, b in zip(cell_g, cell_e)]
    fit = fit_within(y, sparse.hstack([xe, tdum]).tocsr(), names + tnames, unit_codes=ucodes, n_units=len(uniq),
                     weights=wv, cluster_codes=cl, n_clusters=ncl, what=what)
    coef, vc = fit.coef[: len(names)], fit.vcov[: len(names), : len(names)]
    n_cell = np.bincount(col, weights=cnt[rows], minlength=len(names))
    ev_levels, est, v, wgt, n_obs_e = iw_aggregate(coef, vc, cell_e, n_cell)
    cohort_effects = None
    if sun_abraham:
        cohort_effects = pd.DataFrame({"cohort": cell_g, "event_time": cell_e, "estimate": coef,
                                       "std_error": np.sqrt(np.clip(np.diag(vc), 0, None)), "weight": wgt,
                                       "n_obs": n_cell if wv is not None else n_cell.astype(np.int64)})
        notes.append("cohort shares are treated as fixed in the standard errors (as fixest's sunab)")
    se = np.sqrt(np.clip(np.diag(v), 0, None))
    st, pv, lo_ci, hi_ci = t_inference(est, se, fit.df_t, alpha)
    n_coh = pd.Series(g[est_rows]).groupby(ei[est_rows]).nunique().reindex(ev_levels).to_numpy()
    tab = pd.DataFrame({"event_time": ev_levels.astype(np.int64), "estimate": est, "std_error": se, "statistic": st,
                        "p_value": pv, "ci_low": lo_ci, "ci_high": hi_ci,
                        "n_obs": n_obs_e if wv is not None else n_obs_e.astype(np.int64),
                        "n_cohorts": n_coh.astype(np.int64), "binned": False, "reference": False})
    base_row = pd.DataFrame([{"event_time": base_period, "estimate": 0.0, "std_error": np.nan, "statistic": np.nan,
                              "p_value": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                              "n_obs": cnt[at_base].sum() if wv is not None else int(at_base.sum()),
                              "n_cohorts": len(np.unique(g[at_base])),
                              "binned": False, "reference": True}])
    tab = pd.concat([tab, base_row], ignore_index=True).sort_values("event_time", kind="stable").reset_index(drop=True)
    tab.loc[tab["event_time"].eq(lo) & binned_lo, "binned"] = True
    tab.loc[tab["event_time"].eq(hi) & binned_hi, "binned"] = True
    tab = tab[EVENT_COLUMNS]
    pre = ev_levels < 0
    pretrend = None
    if pre.any():
        try:
            pretrend = wald_test(est[pre], v[np.ix_(pre, pre)], fit.df_t, [f"e={x_}" for x_ in ev_levels[pre]])
        except EstimationError as exc:
            notes.append(f"no pre-trend test: {exc}")
    else:
        notes.append("no pre-treatment event time besides the base period: no pre-trend test")
    vdf = pd.DataFrame(v, index=ev_levels, columns=ev_levels)
    return EventStudyResult(tab, pretrend, vdf, cohort_effects, "sun_abraham" if sun_abraham else "twfe",
                            base_period, control, fit.n_obs, len(uniq), fit.n_clusters, alpha, outcome, notes)

