"""Confidence intervals for rates, rate ratios, risk ratios and proportions.

Every function here is vectorised: arguments are broadcast together with
numpy's rules, and each returned value has the broadcast shape (a plain
``numpy.float64`` when every input is a scalar).  Missing inputs (``NaN``)
give ``NaN`` outputs for the same positions; invalid inputs (negative counts,
non-positive exposure, ...) raise :class:`~equity_metrics.errors.DataValidationError`.

Methods
-------
Rates (:func:`poisson_rate_ci`)
    ``"exact"`` is Garwood's (1936) central interval from gamma (chi-square)
    quantiles; ``"mid_p"`` is the central mid-p interval found by root
    finding; ``"wald_log"`` is ``rate * exp(+-z / sqrt(events))``.
Rate ratios (:func:`rate_ratio_ci`)
    ``"auto"`` (the default) is ``"exact"`` when the smaller of the two counts
    is below :data:`EXACT_BELOW` (20) and ``"katz"`` otherwise (see
    docs/real-data-rules.md, "Small-count intervals", for the simulation behind
    the threshold); ``RatioResult.methods`` says which each element used.
    ``"katz"`` is the log (Wald) interval with ``SE = sqrt(1/e1 + 1/e0)``.
    With population or person-time denominators the counts are Poisson and
    the denominators are fixed, so no ``1/n`` terms enter; that version is
    what epidemiology texts call the log (Katz-type) interval for an
    incidence-rate ratio.  The binomial version with ``-1/n`` terms, for
    events out of a number of people each of whom can have at most one
    event, is :func:`risk_ratio`.  ``"exact"`` conditions on the total
    ``e1 + e0``: given it, ``e1`` is binomial with ``p = n1 r / (n1 r + n0)``,
    so a Clopper-Pearson interval for ``p`` maps to one for the ratio ``r``
    (this is R's ``exactci::poisson.exact(..., tsmethod="central")``).
    ``"mid_p"`` does the same with mid-p binomial tails.
Proportions
    :func:`wilson_ci` (score interval) and :func:`clopper_pearson_ci`.

Zero counts
-----------
``rate_ratio_ci(method="katz")`` and ``risk_ratio`` need both counts
positive: with ``e1 == 0`` the ratio is ``0``, with ``e0 == 0`` it is
``inf``, and the interval and p-value are ``NaN``.  The exact and mid-p
methods stay defined: ``e1 == 0`` gives a lower bound of ``0`` and a finite
upper bound, ``e0 == 0`` gives a finite lower bound and an upper bound of
``inf``; if both are zero there is no information (ratio ``NaN``, interval
``(0, inf)``, p-value ``1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._options import check_option
from ..errors import DataValidationError
from ._interval_core import (  # noqa: F401  (re-exported: the names this module always offered)
    _ROOT_ITER,
    _as_float,
    _binom_gt,
    _binom_le,
    _binom_midp_ci,
    _check_alpha,
    _clopper_pearson,
    _counts,
    _exposure,
    _first_bad,
    _garwood,
    _out,
    _pois_gt,
    _pois_le,
    _poisson_midp_ci,
    _root,
)

__all__ = [
    "PoissonCIMethod",
    "RateRatioMethod",
    "Alternative",
    "RiskRatioMethod",
    "RatioResult",
    "EXACT_BELOW",
    "poisson_rate_ci",
    "rate_ratio_ci",
    "risk_ratio",
    "wilson_ci",
    "clopper_pearson_ci",
]

PoissonCIMethod = Literal["exact", "mid_p", "wald_log"]
RateRatioMethod = Literal["auto", "katz", "exact", "mid_p"]
RiskRatioMethod = Literal["wald", "small"]

#: ``rate_ratio_ci(method="auto")`` uses the exact conditional interval when the
#: smaller of the two counts is below this, Katz's log interval otherwise. Below
#: 20 events Katz's interval is undefined with probability up to 37% (a zero
#: count) and its two tails are unbalanced (3.1-3.3% of intervals lie wholly above
#: the true ratio against 2.5% nominal); 20 is also the ONS threshold below which
#: a rate is flagged unreliable. Simulation: docs/real-data-rules.md.
EXACT_BELOW = 20
Alternative = Literal["two-sided", "larger", "smaller"]


def poisson_rate_ci(
    events: Any,
    exposure: Any,
    *,
    method: PoissonCIMethod = "exact",
    alpha: float = 0.05,
) -> tuple[Any, Any]:
    """Two-sided confidence interval for a Poisson rate ``events / exposure``.

    Parameters
    ----------
    events
        Event counts (non-negative whole numbers), scalar or array-like.
    exposure
        Population or person-time denominators (positive), broadcast with
        ``events``.  The interval is on the scale of ``events / exposure``;
        multiply by e.g. 1000 for a rate per 1,000.
    method
        ``"exact"`` (Garwood, from gamma quantiles; never below nominal
        coverage), ``"mid_p"`` (mid-p, closer to nominal, found by root
        finding) or ``"wald_log"`` (``rate * exp(+-z/sqrt(events))``, which
        is ``NaN`` when ``events == 0``).
    alpha
        One minus the confidence level.

    Returns
    -------
    (low, high)
        Arrays (or scalars) of the interval bounds.  With ``events == 0``
        the exact and mid-p lower bounds are 0 and the upper bounds finite.

    Examples
    --------
    >>> low, high = poisson_rate_ci(15, 400)
    >>> print(f"{low:.6f} {high:.6f}")
    0.020988 0.061851
    """
    method = check_option("method", method, PoissonCIMethod)
    alpha = _check_alpha(alpha)
    k = _counts("events", events, whole=method != "wald_log")
    t = _exposure("exposure", exposure)
    k, t = np.broadcast_arrays(k, t)
    if method == "exact":
        lo, hi = _garwood(k, alpha)
    elif method == "mid_p":
        lo, hi = _poisson_midp_ci(k, alpha)
    else:
        z = stats.norm.isf(alpha / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.exp(z / np.sqrt(k))
            lo = np.where(k > 0, k / f, np.nan)
            hi = np.where(k > 0, k * f, np.nan)
    return _out(lo / t), _out(hi / t)


@dataclass(frozen=True)
class RatioResult:
    """A ratio estimate with its confidence interval and p-value.

    Attributes
    ----------
    ratio, ci_low, ci_high, p_value
        Arrays of the broadcast input shape (numpy scalars for scalar input).
    measure
        ``"rate_ratio"`` or ``"risk_ratio"``.
    method
        How the interval and p-value were computed.
    alpha
        One minus the confidence level of the two-sided interval.
    null_ratio, alternative
        The null hypothesis value and the alternative of ``p_value``.
    methods
        The interval method each element used (an array of ``"katz"`` /
        ``"exact"`` / ...; differs from ``method`` only for ``"auto"``).
    """

    ratio: Any
    ci_low: Any
    ci_high: Any
    p_value: Any
    measure: str = "rate_ratio"
    method: str = "katz"
    alpha: float = 0.05
    null_ratio: float = 1.0
    alternative: str = "two-sided"
    methods: Any = None

    def to_frame(self) -> pd.DataFrame:
        """Return the estimates as a DataFrame with one row per element.

        Examples
        --------
        >>> rate_ratio_ci(30, 1000, 20, 1000).to_frame().columns.tolist()
        ['ratio', 'ci_low', 'ci_high', 'p_value']
        """
        cols = {k: np.ravel(getattr(self, k)) for k in ("ratio", "ci_low", "ci_high", "p_value")}
        return pd.DataFrame(cols)


def _two_sided(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, 2.0 * np.minimum(lower, upper))


def _pick_p(alternative: str, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``lower`` is the p-value against 'smaller', ``upper`` against 'larger'."""
    if alternative == "larger":
        return upper
    if alternative == "smaller":
        return lower
    return _two_sided(lower, upper)


def _check_null(null_ratio: float) -> float:
    try:
        r0 = float(null_ratio)
    except (TypeError, ValueError):
        raise DataValidationError(f"null_ratio must be a positive number, got {null_ratio!r}.") from None
    if not (np.isfinite(r0) and r0 > 0):
        raise DataValidationError(f"null_ratio must be positive and finite, got {null_ratio!r}.")
    return r0


def _log_wald(
    ratio: np.ndarray, se: np.ndarray, alpha: float, r0: float, alternative: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = stats.norm.isf(alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        logr = np.log(ratio)
        good = np.isfinite(logr) & np.isfinite(se)
        lo = np.where(good, np.exp(logr - z * se), np.nan)
        hi = np.where(good, np.exp(logr + z * se), np.nan)
        stat = np.where(good, (logr - np.log(r0)) / se, np.nan)
    p = _pick_p(alternative, stats.norm.cdf(stat), stats.norm.sf(stat))
    return lo, hi, p


def rate_ratio_ci(
    e1: Any,
    n1: Any,
    e0: Any,
    n0: Any,
    *,
    method: RateRatioMethod = "auto",
    alpha: float = 0.05,
    null_ratio: float = 1.0,
    alternative: Alternative = "two-sided",
    exact_below: int = EXACT_BELOW,
) -> RatioResult:
    """Ratio of two Poisson rates ``(e1/n1) / (e0/n0)`` with interval and p-value.

    Parameters
    ----------
    e1, n1
        Events and population (or person-time) of the group of interest.
    e0, n0
        Events and population of the comparison group.
    method
        ``"auto"`` (default): ``"exact"`` where ``min(e1, e0) < exact_below``,
        ``"katz"`` elsewhere (``RatioResult.methods`` records which).
        ``"katz"``: log interval, ``SE(log ratio) = sqrt(1/e1 + 1/e0)``
        (no ``1/n`` terms: population denominators are treated as fixed
        exposure, see :func:`risk_ratio` for the binomial version) and a Wald
        test on the log scale.  ``"exact"``: conditional on ``e1 + e0``,
        ``e1`` is binomial with ``p = n1 r / (n1 r + n0)``; the central
        Clopper-Pearson interval for ``p`` is mapped to ``r`` and the p-value
        is the central (doubled one-sided) exact binomial p-value, so that
        ``p_value > alpha`` exactly when ``null_ratio`` is inside the
        interval (R ``poisson.exact``'s default "minlike" p-value differs).  ``"mid_p"``: as ``"exact"`` with mid-p tails.
    alpha
        One minus the confidence level of the (always two-sided) interval.
    null_ratio
        Ratio under the null hypothesis of the test.
    alternative
        ``"two-sided"``, ``"larger"`` (H1: ratio > ``null_ratio``) or
        ``"smaller"``.  Affects only ``p_value``.
    exact_below
        Threshold of ``"auto"`` (default :data:`EXACT_BELOW`, 20).

    Returns
    -------
    RatioResult
        ``ratio``, ``ci_low``, ``ci_high``, ``p_value`` as arrays of the
        broadcast shape, and ``methods``.  See the module notes for zero counts.

    Examples
    --------
    >>> res = rate_ratio_ci(60, 51477.5, 30, 54308.7, method="exact")
    >>> print(f"{res.ratio:.4f} ({res.ci_low:.4f}, {res.ci_high:.4f})")
    2.1100 (1.3397, 3.3884)
    >>> rate_ratio_ci([5, 60], 1000, [400, 30], 1000).methods.tolist()
    ['exact', 'katz']
    """
    method = check_option("method", method, RateRatioMethod)
    alternative = check_option("alternative", alternative, Alternative)
    if method == "auto":
        return _auto_rate_ratio(e1, n1, e0, n0, alpha=alpha, null_ratio=null_ratio, alternative=alternative,
                                exact_below=exact_below)
    alpha = _check_alpha(alpha)
    r0 = _check_null(null_ratio)
    whole = method != "katz"
    a = _counts("e1", e1, whole=whole)
    b = _counts("e0", e0, whole=whole)
    t1 = _exposure("n1", n1)
    t0 = _exposure("n0", n0)
    a, t1, b, t0 = np.broadcast_arrays(a, t1, b, t0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (a / t1) / (b / t0)

    if method == "katz":
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(1.0 / a + 1.0 / b)
        se = np.where((a > 0) & (b > 0), se, np.nan)
        lo, hi, p = _log_wald(ratio, se, alpha, r0, alternative)
    else:
        m = a + b
        if method == "exact":
            plo, phi = _clopper_pearson(a, m, alpha)
        else:
            plo, phi = _binom_midp_ci(a, m, alpha)
        odds_to_ratio = t0 / t1
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = plo / (1.0 - plo) * odds_to_ratio
            hi = np.where(phi >= 1.0, np.inf, phi / (1.0 - phi) * odds_to_ratio)
        lo = np.where(np.isnan(plo), np.nan, lo)
        hi = np.where(np.isnan(phi), np.nan, hi)
        p0 = t1 * r0 / (t1 * r0 + t0)
        valid = ~(np.isnan(a) | np.isnan(b))
        aa = np.where(valid, a, 0.0)
        mm = np.where(valid, m, 0.0)
        p_le = _binom_le(aa, mm, p0)  # P(X <= a): against 'smaller'
        p_ge = _binom_gt(aa - 1, mm, p0)  # P(X >= a): against 'larger'
        if method == "mid_p":  # subtract half of P(X = a) from each
            p_le = 0.5 * (p_le + _binom_le(aa - 1, mm, p0))
            p_ge = 0.5 * (p_ge + _binom_gt(aa, mm, p0))
        p = np.where(valid, _pick_p(alternative, p_le, p_ge), np.nan)
        p = np.where(valid & (mm == 0), 1.0, p)

    meth = np.full(np.shape(ratio), method, dtype=object)
    return RatioResult(_out(ratio), _out(lo), _out(hi), _out(p), "rate_ratio", method, alpha, r0, alternative,
                       meth[()] if meth.ndim == 0 else meth)


def _auto_rate_ratio(e1, n1, e0, n0, *, alpha, null_ratio, alternative, exact_below) -> RatioResult:
    """``method="auto"``: exact where the smaller count is below ``exact_below``, Katz elsewhere."""
    try:
        thr = float(exact_below)
    except (TypeError, ValueError):
        raise DataValidationError(f"exact_below must be a number of events such as 20, got {exact_below!r}.") from None
    a, b = _as_float("e1", e1), _as_float("e0", e0)
    # fractional (weighted) counts cannot use the exact method: Katz for them, whatever their size
    whole = np.isfinite(a) & (a == np.round(a)) & np.isfinite(b) & (b == np.round(b))
    small = (np.minimum(a, b) < thr) & whole
    ex = rate_ratio_ci(np.where(small, a, np.round(np.nan_to_num(a))), n1, np.where(small, b, np.round(np.nan_to_num(b))), n0,
                       method="exact", alpha=alpha, null_ratio=null_ratio, alternative=alternative)
    kz = rate_ratio_ci(e1, n1, e0, n0, method="katz", alpha=alpha, null_ratio=null_ratio, alternative=alternative)
    small = np.broadcast_to(small, np.shape(kz.ratio))
    pick = [_out(np.where(small, getattr(ex, f), getattr(kz, f))) for f in ("ratio", "ci_low", "ci_high", "p_value")]
    meth = np.where(small, "exact", "katz").astype(object)
    return RatioResult(*pick, "rate_ratio", "auto", kz.alpha, kz.null_ratio, alternative, meth[()] if meth.ndim == 0 else meth)


def risk_ratio(
    e1: Any,
    n1: Any,
    e0: Any,
    n0: Any,
    *,
    method: RiskRatioMethod = "wald",
    alpha: float = 0.05,
    null_ratio: float = 1.0,
    alternative: Alternative = "two-sided",
) -> RatioResult:
    """Ratio of two binomial proportions with the Katz log interval (R ``epitools::riskratio``).

    Use this when ``e`` counts people out of ``n`` people, each of whom can
    be counted at most once (e.g. people stopped at least once out of the
    resident population).  The standard error of the log ratio is
    ``sqrt(1/e1 - 1/n1 + 1/e0 - 1/n0)`` (Katz et al. 1978), smaller than the
    Poisson version used by :func:`rate_ratio_ci` by the ``1/n`` terms,
    which matter only when the proportions are large.

    Parameters
    ----------
    e1, n1
        Events (people with the outcome) and group size, group of interest.
    e0, n0
        The same for the comparison group.
    method
        ``"wald"`` (default): ``(e1/n1) / (e0/n0)`` with the interval above,
        as ``epitools::riskratio.wald``.  ``"small"``: the small-sample
        adjusted estimate of ``epitools::riskratio.small``,
        ``(e1/(n1+1)) / (e0/(n0+1))``, with the same standard error around it.
        (epitools' ``n`` is the row total of its 2x2 table: events plus
        non-events, i.e. the group size here.)
    alpha, null_ratio, alternative
        As in :func:`rate_ratio_ci`.

    Returns
    -------
    RatioResult
        With ``measure="risk_ratio"`` and ``method="katz"`` (``"wald"``) or
        ``"small"``.  Zero counts give a ratio of 0 or ``inf`` and ``NaN``
        interval and p-value.

    Examples
    --------
    >>> res = risk_ratio(30, 100, 20, 100)
    >>> print(f"{res.ratio:.2f} ({res.ci_low:.3f}, {res.ci_high:.3f})")
    1.50 (0.916, 2.456)
    >>> print(f"{risk_ratio(30, 100, 20, 100, method='small').ratio:.4f}")
    1.5000
    """
    method = check_option("method", method, RiskRatioMethod)
    alternative = check_option("alternative", alternative, Alternative)
    alpha = _check_alpha(alpha)
    r0 = _check_null(null_ratio)
    a = _counts("e1", e1, whole=False)
    b = _counts("e0", e0, whole=False)
    t1 = _exposure("n1", n1)
    t0 = _exposure("n0", n0)
    a, t1, b, t0 = np.broadcast_arrays(a, t1, b, t0)
    over = (a > t1) | (b > t0)
    if over.any():
        raise DataValidationError(
            f"risk_ratio needs events <= group size: {_first_bad(np.atleast_1d(over))} have more "
            "events than people. For counts that can exceed the population (repeat events), "
            "use rate_ratio_ci."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "small":
            ratio = (a / (t1 + 1.0)) / (b / (t0 + 1.0))
        else:
            ratio = (a / t1) / (b / t0)
        se = np.sqrt(1.0 / a - 1.0 / t1 + 1.0 / b - 1.0 / t0)
    se = np.where((a > 0) & (b > 0), se, np.nan)
    lo, hi, p = _log_wald(ratio, se, alpha, r0, alternative)
    name = "katz" if method == "wald" else "small"
    meth = np.full(np.shape(ratio), "riskratio_" + method, dtype=object)
    return RatioResult(_out(ratio), _out(lo), _out(hi), _out(p), "risk_ratio", name, alpha, r0, alternative,
                       meth[()] if meth.ndim == 0 else meth)


def _binomial_inputs(successes: Any, trials: Any, *, whole: bool) -> tuple[np.ndarray, np.ndarray]:
    x = _counts("successes", successes, whole=whole)
    n = _counts("trials", trials, whole=whole)
    x, n = np.broadcast_arrays(x, n)
    over = x > n
    if over.any():
        raise DataValidationError(f"successes must not exceed trials: {_first_bad(np.atleast_1d(over))} do.")
    return x, n


def wilson_ci(successes: Any, trials: Any, *, alpha: float = 0.05) -> tuple[Any, Any]:
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes, trials
        Counts, broadcast together; ``0 <= successes <= trials``.
        ``trials == 0`` gives ``NaN`` bounds.
    alpha
        One minus the confidence level.

    Returns
    -------
    (low, high)
        Bounds clipped to ``[0, 1]``.

    Examples
    --------
    >>> low, high = wilson_ci(4, 20)
    >>> print(f"{low:.4f} {high:.4f}")
    0.0807 0.4160
    """
    alpha = _check_alpha(alpha)
    x, n = _binomial_inputs(successes, trials, whole=False)
    z = stats.norm.isf(alpha / 2)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (x + z2 / 2) / (n + z2)
        half = z / (n + z2) * np.sqrt(x * (n - x) / n + z2 / 4)
        lo = np.clip(centre - half, 0.0, 1.0)
        hi = np.clip(centre + half, 0.0, 1.0)
    lo = np.where(x == 0, 0.0, lo)
    hi = np.where(x == n, 1.0, hi)
    empty = n == 0
    return _out(np.where(empty, np.nan, lo)), _out(np.where(empty, np.nan, hi))


def clopper_pearson_ci(successes: Any, trials: Any, *, alpha: float = 0.05) -> tuple[Any, Any]:
    """Clopper-Pearson ("exact") central interval for a binomial proportion.

    Parameters
    ----------
    successes, trials
        Whole-number counts, broadcast together; ``0 <= successes <= trials``.
        ``trials == 0`` gives ``NaN`` bounds.
    alpha
        One minus the confidence level.

    Returns
    -------
    (low, high)
        Beta-quantile bounds; 0 when ``successes == 0`` and 1 when
        ``successes == trials``.

    Examples
    --------
    >>> low, high = clopper_pearson_ci(4, 20)
    >>> print(f"{low:.4f} {high:.4f}")
    0.0573 0.4366
    """
    alpha = _check_alpha(alpha)
    x, n = _binomial_inputs(successes, trials, whole=True)
    lo, hi = _clopper_pearson(x, n, alpha)
    empty = n == 0
    return _out(np.where(empty, np.nan, lo)), _out(np.where(empty, np.nan, hi))
