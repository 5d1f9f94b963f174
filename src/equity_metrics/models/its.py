"""Interrupted time series: segmented regression with autocorrelation-robust inference.

:func:`interrupted_time_series` fits, to one series of counts or rates (and
optionally a comparison series), the segmented regression of Wagner et al.
(2002) and Lopez Bernal, Cummins & Gasparrini (2017)::

    g(E[y_t]) = b0 + b1 t + sum_j [ level_j D_jt + slope_j (t - t_j) D_jt ] + season_t (+ log offset_t)

where ``D_jt = 1`` from the intervention period ``t_j`` on. ``level_j`` is the
step change at ``t_j``; ``slope_j`` the change in trend after it. The
counterfactual is the same fitted model with every intervention term set to
zero.

Error models (``errors=``)
--------------------------
``"ols"``
    Independent errors: OLS, or the Poisson / negative binomial GLM with its
    model-based covariance. Under autocorrelation (usual in monthly series) the
    intervals are too narrow; kept for comparison.
``"newey_west"``
    The same point estimates with a HAC (Newey-West, Bartlett kernel)
    covariance, ``maxlags = floor(4 (n/100)^(2/9))`` unless given. HAC needs long
    series; in short ones it under-covers.
``"ar1"`` (default)
    *Gaussian*: generalised least squares with AR(1) errors, the correlation
    estimated by restricted maximum likelihood (REML), as R's
    ``nlme::gls(correlation = corAR1())``. REML removes most of the downward bias
    of the autocorrelation estimate in short series that makes the
    Cochrane-Orcutt / Prais-Winsten estimators over-confident.
    *Counts*: the GLM point estimates (identical to ``errors="ols"``) with a
    quasi-likelihood covariance whose working correlation is AR(1):
    ``phi B^-1 X' W^1/2 R W^1/2 X B^-1`` with ``B = X'WX``; ``rho`` and the
    dispersion ``phi`` are the REML estimates of the weighted working linear
    model at the GLM solution (whose residuals are the Pearson residuals). It
    therefore allows for over-dispersion and serial correlation together.
``"gls_ar"``
    Gaussian only: statsmodels' ``GLSAR`` (iterated feasible GLS with AR(p)
    errors, ``ar_order``), for comparison with other software.

Inference uses Student's t with the residual degrees of freedom (one fewer for
an estimated ``rho``), except the likelihood-based ``errors="ols"`` count
models, which use the normal. Explicit gaps (rows whose outcome is missing) are
allowed and handled exactly by the AR(1) model (correlation ``rho^|t_i - t_j|``);
an absent row is an error, because a silently missing month shifts every later
time index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._results import ResultBase
from .._options import check_option
from .._security import escape_html
from ..errors import DataValidationError, EstimationError, OptionError
from ._its_design import _design, _parse_intervention, _periods, _prepare, _season  # noqa: F401  (re-exported)
from ._its_fit import (  # noqa: F401  (re-exported: the names this module always offered)
    _RHO_BOUND,
    _ar1_corr,
    _ar1_whiten,
    _fit,
    _gls_at,
    _poisson_irls,
    _reml_ar1,
)

__all__ = ["interrupted_time_series", "ITSResult", "ITSEffect", "TIDY_COLUMNS", "COUNTERFACTUAL_COLUMNS"]

Family = Literal["gaussian", "poisson", "negbin"]
Seasonality = Literal["none", "month", "fourier"]
ErrorModel = Literal["ols", "newey_west", "ar1", "gls_ar"]
IntervalMethod = Literal["delta", "simulation"]
ComparisonMethod = Literal["interaction", "difference"]
Impact = Literal["level_slope", "level", "slope"]

TIDY_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
RATIO_COLUMNS = ["rate_ratio", "rate_ratio_ci_low", "rate_ratio_ci_high"]
COUNTERFACTUAL_COLUMNS = [
    "time", "observed", "fitted", "counterfactual", "cf_ci_low", "cf_ci_high",
    "effect", "effect_ci_low", "effect_ci_high",
]


@dataclass(frozen=True)
class ITSEffect:
    """One intervention coefficient: estimate, standard error, interval, p-value.

    ``rate_ratio`` (and its interval) is ``exp(estimate)`` for count families, else ``None``.
    """

    term: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    rate_ratio: float | None = None
    rate_ratio_ci: tuple[float, float] | None = None

    def __str__(self) -> str:
        s = f"{self.term}: {self.estimate:.4g} (SE {self.std_error:.3g}; CI {self.ci_low:.4g} to {self.ci_high:.4g}; p = {self.p_value:.3g})"
        if self.rate_ratio is not None and self.rate_ratio_ci is not None:
            s += f"; rate ratio {self.rate_ratio:.3f} ({self.rate_ratio_ci[0]:.3f} to {self.rate_ratio_ci[1]:.3f})"
        return s


# ----------------------------------------------------------------------------- result
@dataclass
class ITSResult(ResultBase):
    """The fitted segmented regression: coefficients, counterfactual and diagnostics.

    Use :meth:`tidy` for the coefficients, :meth:`counterfactual` for observed vs
    counterfactual by period, :attr:`level_change` / :attr:`slope_change` for the
    effects, :meth:`summary` for an account, :meth:`plot` for the figure.
    """

    coefficients: pd.DataFrame
    frame: pd.DataFrame
    family: str
    errors: str
    seasonality: str
    alpha: float
    interventions: list[pd.Period]
    params: np.ndarray
    cov: np.ndarray
    df_resid: int | None
    rho: float | None
    scale: float
    n_obs: int
    n_pre: int
    n_post: int
    outcome: str
    comparison: str | None = None
    nb_alpha: float | None = None
    notes: list[str] = field(default_factory=list)
    _grad: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def is_count(self) -> bool:
        return self.family != "gaussian"

    def _effect(self, term: str) -> ITSEffect:
        i = self._terms().index(term)
        est, se, lo, hi, p = (float(self.coefficients[c].to_numpy()[i]) for c in TIDY_COLUMNS[1:])
        rr = rr_ci = None
        if self.is_count:
            rr, rr_ci = math.exp(est), (math.exp(lo), math.exp(hi))
        return ITSEffect(term, est, se, lo, hi, p, rr, rr_ci)

    def _terms(self) -> list[str]:
        if "terms" not in self._grad:
            self._grad["terms"] = [str(t) for t in self.coefficients["term"].to_numpy()]  # type: ignore[assignment]
        return self._grad["terms"]  # type: ignore[return-value]

    def _first(self, kind: str) -> ITSEffect | None:
        name = kind if len(self.interventions) == 1 else f"{kind}_1"
        return self._effect(name) if name in self._terms() else None

    @property
    def level_change(self) -> ITSEffect | None:
        """Step change at the (first) intervention: log rate ratio for counts (``rate_ratio`` is its exp);
        with a comparison series, the treated-minus-comparison difference. ``None`` when ``impact="slope"``."""
        return self._first("level_change")

    @property
    def slope_change(self) -> ITSEffect | None:
        """Change in trend per period after the (first) intervention. ``None`` when ``impact="level"``."""
        return self._first("slope_change")

    def effects(self) -> list[ITSEffect]:
        """Every level and slope change, in intervention order."""
        return [self._effect(t) for t in self._terms() if t.startswith(("level_change", "slope_change"))]

    def tidy(self) -> pd.DataFrame:
        """One row per model term: ``term, estimate, std_error, ci_low, ci_high, p_value`` and, for
        count families, ``rate_ratio, rate_ratio_ci_low, rate_ratio_ci_high`` (``exp`` of the first three)."""
        return self.coefficients.copy()

    def counterfactual(self) -> pd.DataFrame:
        """By period of the (treated) series: ``time, observed, fitted, counterfactual, cf_ci_low,
        cf_ci_high, effect, effect_ci_low, effect_ci_high``.

        ``counterfactual`` is the fitted model with the intervention terms set to zero (expected
        counts, including any offset, for count families); its interval is for that expected
        value. ``effect = fitted - counterfactual`` (zero before the first intervention).
        """
        return self.frame[COUNTERFACTUAL_COLUMNS].copy()

    def total_effect(self) -> ITSEffect:
        """Sum of ``effect`` over all periods from the first intervention on, with a delta-method interval
        (e.g. events averted: negative values are fewer events than expected)."""
        post = self.frame["time"] >= self.interventions[0]
        est = float(self.frame.loc[post, "effect"].sum())
        g = self._grad["effect"][post.to_numpy()].sum(axis=0)
        se = float(np.sqrt(g @ self.cov @ g))
        q = _quantile(self.alpha, self.df_resid)
        p = _pvalue(est / se if se > 0 else np.nan, self.df_resid)
        return ITSEffect("total_effect", est, se, est - q * se, est + q * se, p)


    def summary(self) -> str:
        level = int(round(100 * (1 - self.alpha)))
        fam = {"gaussian": "linear", "poisson": "Poisson", "negbin": "negative binomial"}[self.family]
        lines = [
            f"Interrupted time series: {fam} segmented regression of {self.outcome!r}"
            + (f", compared with {self.comparison}" if self.comparison else ""),
            f"  interventions: {', '.join(str(p) for p in self.interventions)}; {self.n_pre} periods before, "
            f"{self.n_post} from the first intervention on ({self.n_obs} rows fitted)",
            f"  errors: {self.errors}" + (f" (rho = {self.rho:.3f})" if self.rho is not None else "")
            + f"; seasonality: {self.seasonality}; {level}% intervals"
            + (f"; t with {self.df_resid} df" if self.df_resid is not None else "; normal"),
        ]
        for e in self.effects():
            lines.append(f"  {e}")
        tot = self.total_effect()
        if np.isfinite(tot.estimate):
            lines.append(f"  total effect over the post period: {tot.estimate:,.1f} ({tot.ci_low:,.1f} to {tot.ci_high:,.1f})")
        lines += [f"  note: {n}" for n in self.notes]
        t = self.coefficients.to_string(index=False, float_format=lambda v: f"{v:.5g}")
        return "\n".join(lines) + "\n" + t

    def __repr__(self) -> str:
        eff = ", ".join(f"{e.term} {e.estimate:.4g}" for e in self.effects())
        return f"<ITSResult {self.family}/{self.errors}: {eff}>"

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{escape_html(n)}</li>" for n in self.notes)
        effs = "".join(f"<li>{escape_html(str(e))}</li>" for e in self.effects())
        return (f"<p><b>Interrupted time series</b> of {escape_html(self.outcome)} ({escape_html(self.family)}, errors "
                f"{escape_html(self.errors)})</p><ul>{effs}{notes}</ul>" + self.coefficients.to_html(index=False, escape=True))

    def plot(self, *, ax=None, title: str | None = None):
        """Observed points, fitted line, counterfactual with its band, intervention lines. Returns the Axes."""
        from ..plots.timeseries import its_plot

        f = self.frame
        return its_plot(f["time"], f["observed"].to_numpy(float), f["fitted"].to_numpy(float),
                        f["counterfactual"].to_numpy(float), f["cf_ci_low"].to_numpy(float),
                        f["cf_ci_high"].to_numpy(float), interventions=self.interventions, ax=ax,
                        ylabel=self.outcome, title=title)


def _quantile(alpha: float, df: int | None) -> float:
    return float(stats.norm.isf(alpha / 2) if df is None else stats.t.isf(alpha / 2, df))


def _pvalue(z: Any, df: int | None) -> Any:
    z = np.abs(np.asarray(z, float))
    return 2 * (stats.norm.sf(z) if df is None else stats.t.sf(z, df))


# ----------------------------------------------------------------------------- main entry
def interrupted_time_series(
    series: pd.DataFrame,
    *,
    outcome: str = "events",
    time: str = "month",
    intervention: Any = "2020-06",
    family: Family = "poisson",
    offset: str | None = None,
    seasonality: Seasonality = "month",
    errors: ErrorModel = "ar1",
    impact: Impact = "level_slope",
    rho: float | None = None,
    comparison: pd.DataFrame | None = None,
    comparison_method: ComparisonMethod = "interaction",
    alpha: float = 0.05,
    interval: IntervalMethod = "delta",
    n_sim: int = 2000,
    seed: int = 20240601,
    maxlags: int | None = None,
    ar_order: int = 1,
    min_points: int = 8,
) -> ITSResult:
    """Segmented regression of a series on a step and a slope change at each intervention.

    Parameters
    ----------
    series
        One row per period: a ``time`` column (``period[M]``, dates, or labels such as
        ``"2020-06"`` / ``"2020Q2"``) and an ``outcome`` column. Missing periods must be
        explicit rows with a missing outcome.
    outcome
        Column to model: counts for ``"poisson"`` / ``"negbin"``, any number for ``"gaussian"``.
    intervention
        First period under the intervention (``"2020-06"``), or a list for several phases.
    family
        ``"poisson"`` (log link), ``"negbin"`` (NB2, log link) or ``"gaussian"`` (identity).
    offset
        Column of exposures (e.g. ``"population"``) entered as ``log(offset)``; count families only.
    seasonality
        ``"month"`` (month-of-year indicators; quarter for quarterly series), ``"fourier"``
        (two sine/cosine pairs, as Lopez Bernal et al. 2017) or ``"none"``.
    errors
        ``"ar1"`` (default: AR(1)-robust, see the module notes), ``"newey_west"``, ``"ols"``
        (independent errors) or ``"gls_ar"`` (gaussian: statsmodels GLSAR with ``ar_order``).
    impact
        The impact model, chosen before looking at the data: ``"level_slope"`` (a step and a
        change in trend), ``"level"`` (step only) or ``"slope"`` (trend change only).
    rho
        Fix the AR(1) correlation of ``errors="ar1"`` instead of estimating it (a sensitivity
        analysis). ``rho=0`` with a count family is the quasi-Poisson model (dispersion = Pearson
        chi-square / residual df, t intervals) of R's ``glm(family=quasipoisson)``.
    comparison
        A comparison series with the same columns. ``comparison_method="interaction"`` stacks
        the two series and interacts every term with a treated indicator, so ``level_change``
        and ``slope_change`` are the treated-minus-comparison differences (each series keeps its
        own AR(1) errors); ``"difference"`` (gaussian only) models the difference of the outcomes.
    alpha
        One minus the confidence level.
    interval
        Counterfactual interval: ``"delta"`` (delta method) or ``"simulation"`` (``n_sim``
        draws from the coefficients' normal distribution, seeded by ``seed``).
    maxlags
        Newey-West truncation lag (default ``floor(4 (n/100)^(2/9))``).
    min_points
        Fewest periods allowed before the first and after the last intervention (default 8).

    Returns
    -------
    ITSResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> months = pd.period_range("2018-01", periods=48, freq="M")
    >>> mu = np.exp(6 + 0.005 * np.arange(48) - 0.2 * (months >= pd.Period("2020-01", "M")))
    >>> s = pd.DataFrame({"month": months, "events": rng.poisson(mu)})
    >>> r = interrupted_time_series(s, intervention="2020-01", seasonality="none")
    >>> round(r.level_change.rate_ratio, 1)
    0.8
    """
    check_option("family", family, Family)
    check_option("seasonality", seasonality, Seasonality)
    check_option("errors", errors, ErrorModel)
    check_option("interval", interval, IntervalMethod)
    check_option("comparison_method", comparison_method, ComparisonMethod)
    check_option("impact", impact, Impact)
    if rho is not None and (errors != "ar1" or not -1 < float(rho) < 1):
        raise OptionError("rho fixes the AR(1) correlation of errors='ar1' and must lie in (-1, 1); "
                          "rho=0 gives the quasi-likelihood (quasi-Poisson) model with independent errors")
    if not 0 < float(alpha) < 1:
        raise DataValidationError(f"alpha must lie strictly between 0 and 1 (0.05 gives 95% intervals), got {alpha!r}")
    if offset is not None and family == "gaussian":
        raise OptionError("offset is for count families; for family='gaussian' model a rate column as the outcome")
    if errors == "gls_ar" and family != "gaussian":
        raise OptionError("errors='gls_ar' is for family='gaussian'; for counts use errors='ar1' (quasi-likelihood AR(1)) or 'newey_west'")
    notes: list[str] = []
    main = _prepare(series, outcome=outcome, time=time, offset=offset, what="series")
    freq = main["time"].iloc[0].freqstr
    if not isinstance(series[time].dtype, pd.PeriodDtype) and any(".." in str(v) for v in series[time].head(3)):
        notes.append("rolling sums overlap (each value shares most periods with the next): errors are strongly "
                     "autocorrelated by construction; prefer the monthly series")
    ivs = _parse_intervention(intervention, freq)
    first, last = main["time"].iloc[0], main["time"].iloc[-1]
    outside = [str(p) for p in ivs if p <= first or p > last]
    if outside:
        raise DataValidationError(f"intervention {outside} is outside the data ({first} to {last}): the first "
                                  "intervention period must have data before it, and every one must be within the series")
    ok = main["y"].notna()
    n_pre = int((ok & (main["time"] < ivs[0])).sum())
    n_post = int((ok & (main["time"] >= ivs[-1])).sum())
    if min_points < 3:
        raise DataValidationError("min_points below 3 cannot identify a level and a slope; use 3 or more")
    if n_pre < min_points or n_post < min_points:
        raise DataValidationError(
            f"too short: {n_pre} observed period(s) before {ivs[0]} and {n_post} from {ivs[-1]} on; at least "
            f"{min_points} on each side are needed to separate a trend from a step (more with seasonality or "
            "autocorrelation). Use a longer series or finer periods; lower min_points only if you accept unstable estimates"
        )
    if family != "gaussian":
        yy = main.loc[ok, "y"]
        if (yy < 0).any():
            raise DataValidationError(f"counts cannot be negative (family={family!r}); found {float(yy.min())}. Use family='gaussian' for differences")
        if (yy != np.round(yy)).any():
            notes.append("the outcome has non-integer values: a Poisson/NB model treats them as counts (quasi-likelihood)")
    if offset is not None:
        bad = ok & ~(main["offset"] > 0)
        if bad.any():
            raise DataValidationError(f"offset {offset!r} must be positive where the outcome is observed; {int(bad.sum())} row(s) are not")

    comp_label = None
    block = np.zeros(len(main), int)
    frame = main
    if comparison is not None:
        comp = _prepare(comparison, outcome=outcome, time=time, offset=offset, what="comparison series")
        comp_label = "a comparison series"
        if comparison_method == "difference":
            if family != "gaussian":
                raise OptionError("comparison_method='difference' needs family='gaussian' (e.g. a rate difference); "
                                  "for counts use comparison_method='interaction'")
            m = main.merge(comp[["time", "y"]], on="time", how="left", suffixes=("", "_c"))
            if m["y_c"].isna().sum() > main["y"].isna().sum():
                notes.append("periods without a comparison value are treated as missing")
            main = main.assign(y=m["y"] - m["y_c"])
            comp_label += " (difference of outcomes)"
            frame = main
        else:
            comp_label += " (interaction model)"
            comp = comp.assign(pos=pd.PeriodIndex(comp["time"]).asi8 - first.ordinal)
            frame = pd.concat([comp, main], ignore_index=True)
            block = np.r_[np.zeros(len(comp), int), np.ones(len(main), int)]

    per = pd.PeriodIndex(frame["time"])
    pos = frame["pos"].to_numpy(int)
    ipos = [p.ordinal - first.ordinal for p in ivs]
    X, names, inter = _design(pos, per, ipos, seasonality, impact)
    if comparison is not None and comparison_method == "interaction":
        Z = block.astype(float)
        base = [f"comparison_{n}" for n in names]
        diff = [n if i in inter else f"{n}_difference" for i, n in enumerate(names)]
        X = np.column_stack([X, Z[:, None] * X])
        inter = [len(names) + i for i in inter]
        names = base + diff
    off = np.log(frame["offset"].to_numpy(float)) if offset else None
    y = frame["y"].to_numpy(float)
    fit_rows = ~np.isnan(y) & (np.isfinite(off) if off is not None else True)
    n, k = int(fit_rows.sum()), X.shape[1]
    if n - k < 3:
        raise EstimationError(f"{n} observations for {k} coefficients: too few degrees of freedom. Use "
                              "seasonality='fourier' or 'none', or a longer series")
    if np.linalg.matrix_rank(X[fit_rows]) < k:
        raise EstimationError("the design is rank deficient (e.g. an intervention with no observed period after it "
                              "or a season never observed); check the interventions and missing rows")
    if errors == "gls_ar" and (comparison is not None and comparison_method == "interaction" or not fit_rows.all()):
        raise EstimationError("errors='gls_ar' needs one gap-free series; use errors='ar1', which handles gaps and comparison series")
    fr_pos, fr_block = pos[fit_rows], block[fit_rows]
    prev_same = np.r_[False, fr_block[1:] == fr_block[:-1]]
    gap = np.where(prev_same, np.diff(fr_pos, prepend=fr_pos[0]), 0)
    if maxlags is None:
        maxlags = int(math.floor(4 * (n / max(len(set(fr_block)), 1) / 100) ** (2 / 9)))
    beta, cov, info = _fit(y[fit_rows], X[fit_rows], None if off is None else off[fit_rows], family, errors,
                           gap, fr_pos, fr_block, maxlags, ar_order, None, rho)
    if info.get("boundary"):
        notes.append(f"the AR(1) estimate is at its bound (rho = {info['rho']:.2f}): the series may be non-stationary "
                     "(a unit root or an unmodelled trend); treat the intervals with caution")
    if family == "poisson" and errors == "ols" and info.get("pearson_dispersion", 1) > 1.5:
        notes.append(f"over-dispersed (Pearson chi2/df = {info['pearson_dispersion']:.2f}): the Poisson intervals are too "
                     "narrow; use errors='ar1' (quasi-likelihood) or family='negbin'")
    if errors == "newey_west" and not fit_rows.all():
        notes.append("Newey-West treats the observed rows as consecutive; explicit gaps are better handled by errors='ar1'")
    df = info.get("df")
    se = np.sqrt(np.maximum(np.diag(cov), 0))
    q = _quantile(alpha, df)
    coef = pd.DataFrame({"term": names, "estimate": beta, "std_error": se, "ci_low": beta - q * se,
                         "ci_high": beta + q * se, "p_value": _pvalue(beta / np.where(se > 0, se, np.nan), df)})
    if family != "gaussian":
        coef["rate_ratio"], coef["rate_ratio_ci_low"], coef["rate_ratio_ci_high"] = (
            np.exp(coef["estimate"]), np.exp(coef["ci_low"]), np.exp(coef["ci_high"]))

    # counterfactual for the treated series
    tr = block == (1 if comparison is not None and comparison_method == "interaction" else 0)
    Xt = X[tr]
    Xc = Xt.copy()
    Xc[:, inter] = 0.0
    ot = off[tr] if off is not None else np.zeros(int(tr.sum()))
    ot = np.where(np.isfinite(ot), ot, np.nan)
    eta1, eta0 = Xt @ beta + ot, Xc @ beta + ot
    inv = np.exp if family != "gaussian" else (lambda v: v)
    m1, m0 = inv(eta1), inv(eta0)
    se0 = np.sqrt(np.einsum("ij,jk,ik->i", Xc, cov, Xc))
    d1 = (m1 if family != "gaussian" else np.ones_like(m1))[:, None] * Xt
    d0 = (m0 if family != "gaussian" else np.ones_like(m0))[:, None] * Xc
    geff = d1 - d0
    se_eff = np.sqrt(np.einsum("ij,jk,ik->i", geff, cov, geff))
    if interval == "delta":
        lo, hi = inv(eta0 - q * se0), inv(eta0 + q * se0)
        elo, ehi = (m1 - m0) - q * se_eff, (m1 - m0) + q * se_eff
    else:
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(beta, cov, size=int(n_sim), method="svd")
        s0, s1 = inv(Xc @ draws.T + ot[:, None]), inv(Xt @ draws.T + ot[:, None])
        lo, hi = np.quantile(s0, [alpha / 2, 1 - alpha / 2], axis=1)
        elo, ehi = np.quantile(s1 - s0, [alpha / 2, 1 - alpha / 2], axis=1)
    out = pd.DataFrame({"time": main["time"].to_numpy(), "observed": main["y"].to_numpy(float), "fitted": m1, "counterfactual": m0,
                        "cf_ci_low": lo, "cf_ci_high": hi, "effect": m1 - m0, "effect_ci_low": elo, "effect_ci_high": ehi})
    res = ITSResult(
        coefficients=coef, frame=out, family=family, errors=errors, seasonality=seasonality, alpha=float(alpha),
        interventions=ivs, params=beta, cov=cov, df_resid=df, rho=info.get("rho"), scale=float(info.get("scale", 1.0)),
        n_obs=n, n_pre=n_pre, n_post=n_post, outcome=outcome, comparison=comp_label, nb_alpha=info.get("nb_alpha"),
        notes=notes,
    )
    res._grad["effect"] = geff
    return res
