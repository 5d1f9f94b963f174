"""Mantel-Haenszel pooled ratios across strata (e.g. areas), with heterogeneity.

:func:`mantel_haenszel_rate_ratio` pools rate ratios from event counts and
population or person-time denominators;
:func:`mantel_haenszel_odds_ratio` pools odds ratios from 2x2 tables.
Both return a :class:`PooledRatioResult`.

Formulas (stratum ``i``; ``a``, ``b`` events and ``N1``, ``N0`` denominators
of the group of interest and of the comparison group, ``T = N1 + N0``,
``M = a + b``)::

    RR_MH = sum(a N0 / T) / sum(b N1 / T)
    Var(log RR_MH) = sum(M N1 N0 / T^2) / (sum(a N0 / T) * sum(b N1 / T))

The variance is Greenland & Robins (1985), as given in Rothman, Greenland &
Lash, *Modern Epidemiology* (3rd ed., 2008, ch. 15).  The odds-ratio
variance is Robins, Breslow & Greenland (1986).  The p-value tests a common
ratio of 1 with the Mantel-Haenszel chi-square (no continuity correction).

Heterogeneity (``heterogeneity=``)
    ``"cochran_q"``
        Cochran's Q: ``sum w_i (log r_i - log r_IV)^2`` with inverse-variance
        weights ``w_i = 1 / (1/a + 1/b)`` (rates) or Woolf's
        ``1 / (1/a + 1/b + 1/c + 1/d)`` (odds), centred on the
        inverse-variance pooled log ratio; this is the Q behind I^2
        (Higgins & Thompson 2002).
    ``"mh_q"``
        The same sum centred on ``log RR_MH`` instead: Stata's ``ir ...,
        by()`` "Test of homogeneity (M-H)".
    ``"score"`` (rates) / ``"breslow_day"`` (odds)
        Conditional score statistic ``sum (a - E)^2 / V`` with ``E`` and
        ``V`` the conditional mean and variance of ``a`` given the stratum
        margins under the common MH ratio (Breslow & Day 1980 for odds
        ratios; its binomial analogue for rates, since given ``M`` the count
        ``a`` is binomial with ``p = N1 R / (N1 R + N0)``).  Unlike the Q
        statistics it uses strata with a zero count.

    Q statistics use only strata whose log ratio is finite (no zero count).
    ``heterogeneity_df`` is the number of strata used minus one, and
    ``i_squared = max(0, (Q - df) / Q)`` as a proportion (0 to 1).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._results import ResultBase
from .._options import check_option
from ..errors import DataValidationError, EstimationError
from .intervals import _check_alpha, rate_ratio_ci

__all__ = [
    "RateHeterogeneity",
    "OddsHeterogeneity",
    "PooledRatioResult",
    "mantel_haenszel_rate_ratio",
    "mantel_haenszel_odds_ratio",
]

RateHeterogeneity = Literal["cochran_q", "mh_q", "score"]
OddsHeterogeneity = Literal["cochran_q", "mh_q", "breslow_day"]

_TIDY_COLUMNS = [
    "estimate",
    "ci_low",
    "ci_high",
    "std_error_log",
    "heterogeneity_q",
    "heterogeneity_df",
    "heterogeneity_p",
    "i_squared",
    "n_strata",
]


@dataclass(frozen=True)
class PooledRatioResult(ResultBase):
    """A Mantel-Haenszel pooled ratio with heterogeneity statistics.

    Attributes
    ----------
    measure
        ``"rate_ratio"`` or ``"odds_ratio"``.
    estimate, ci_low, ci_high
        Pooled ratio and its log-scale (Wald) interval.
    std_error_log
        Standard error of ``log(estimate)``.
    p_value
        Mantel-Haenszel chi-square test of a common ratio of 1.
    heterogeneity_q, heterogeneity_df, heterogeneity_p
        Heterogeneity chi-square, its degrees of freedom and p-value.
    heterogeneity_method
        Which statistic (see the module docstring).
    i_squared
        ``max(0, (Q - df) / Q)``, a proportion between 0 and 1.
    n_strata
        Number of informative strata (both groups present, at least one
        event); strata without information do not change the estimate.
    alpha
        One minus the confidence level.
    strata
        Per-stratum table (see :meth:`summary`).
    """

    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    std_error_log: float
    p_value: float
    heterogeneity_q: float
    heterogeneity_df: int
    heterogeneity_p: float
    heterogeneity_method: str
    i_squared: float
    n_strata: int
    alpha: float
    strata: pd.DataFrame = field(repr=False, compare=False)

    def tidy(self) -> pd.DataFrame:
        """One-row DataFrame of the pooled estimate and heterogeneity.

        Examples
        --------
        >>> res = mantel_haenszel_rate_ratio([10, 20], [1000, 2000], [5, 8], [1000, 1500])
        >>> res.tidy().columns.tolist()[:3]
        ['estimate', 'ci_low', 'ci_high']
        """
        return pd.DataFrame([{c: getattr(self, c) for c in _TIDY_COLUMNS}])

    def summary(self) -> pd.DataFrame:
        """Per-stratum ratios and MH weights, with the pooled estimate as last row.

        Stratum intervals are exact conditional intervals for rate ratios and
        Woolf (log) intervals for odds ratios.
        """
        pooled = {
            "stratum": "Mantel-Haenszel pooled",
            self.measure: self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "mh_weight": float(self.strata["mh_weight"].sum()),
        }
        return pd.concat([self.strata, pd.DataFrame([pooled])], ignore_index=True)

    def plot(self, *, ax=None, title: str | None = None):
        """Forest plot: each stratum's ratio with its interval, and the pooled ratio last.

        Returns the matplotlib Axes (log scale; dashed line at 1).

        Examples
        --------
        >>> res = mantel_haenszel_rate_ratio([10, 20], [1000, 2000], [5, 8], [1000, 1500])
        >>> ax = res.plot()  # doctest: +SKIP
        """
        from ..plots import forest_plot  # presentation is imported only when a plot is asked for

        t = self.summary()
        name = self.measure.replace("_", " ")
        head = (f"{title}\n" if title else "") + (
            f"pooled {self.estimate:.3g} ({100 * (1 - self.alpha):g}% CI {self.ci_low:.3g} to {self.ci_high:.3g}); "
            f"I\u00b2 = {100 * self.i_squared:.0f}%"
        )
        return forest_plot(
            t["stratum"].astype(str).tolist(),
            t[self.measure].to_numpy(float),
            t["ci_low"].to_numpy(float),
            t["ci_high"].to_numpy(float),
            ax=ax,
            xlabel=f"{name} (log scale)",
            log=True,
            title=head,
        )

    def _headline(self) -> list[str]:
        level = f"{100 * (1 - self.alpha):g}%"
        name = self.measure.replace("_", " ")
        return [
            f"Mantel-Haenszel pooled {name}: {self.estimate:.4g} "
            f"({level} CI {self.ci_low:.4g} to {self.ci_high:.4g}), "
            f"p = {self.p_value:.3g} (test of ratio 1), {self.n_strata} informative strata",
            f"Heterogeneity ({self.heterogeneity_method}): chi2({self.heterogeneity_df}) = "
            f"{self.heterogeneity_q:.4g}, p = {self.heterogeneity_p:.3g}, "
            f"I^2 = {100 * self.i_squared:.1f}%",
        ]

    def __str__(self) -> str:
        return "\n".join(self._headline() + ["", self.summary().to_string(index=False)])

    def _repr_html_(self) -> str:
        head = "".join(f"<p>{html.escape(line)}</p>" for line in self._headline())
        return f"<div>{head}{self.summary().to_html(index=False, na_rep='')}</div>"


def _vector(name: str, x: Any, *, allow_zero: bool = True) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise DataValidationError(f"{name} must be a 1-D sequence of numbers.") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise DataValidationError(f"{name} must be 1-D (one value per stratum); got shape {arr.shape}.")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataValidationError(
            f"{name} must be finite and non-negative in every stratum; position {i} is {arr[i]!r}. "
            "Drop strata with missing data before pooling."
        )
    return arr


def _labels(strata: Sequence[Any] | None, first: Any, k: int) -> list[Any]:
    if strata is None:
        if isinstance(first, pd.Series):
            return list(first.index)
        return list(range(k))
    labels = list(strata)
    if len(labels) != k:
        raise DataValidationError(f"strata has {len(labels)} labels but there are {k} strata.")
    return labels


def _same_length(**arrays: np.ndarray) -> int:
    lengths = {n: len(a) for n, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise DataValidationError(f"all inputs need one value per stratum; lengths differ: {lengths}.")
    k = next(iter(lengths.values()))
    if k == 0:
        raise DataValidationError("no strata given.")
    return k


def _heterogeneity(
    method: str,
    log_r: np.ndarray,
    var_log: np.ndarray,
    log_mh: float,
    score_terms: np.ndarray | None,
    score_ok: np.ndarray | None,
) -> tuple[float, int, float, float]:
    if method in ("score", "breslow_day"):
        if score_terms is None or score_ok is None:
            return np.nan, 0, np.nan, np.nan
        q = float(np.sum(score_terms[score_ok]))
        used = int(score_ok.sum())
    else:
        ok = np.isfinite(log_r) & np.isfinite(var_log) & (var_log > 0)
        used = int(ok.sum())
        w = 1.0 / var_log[ok]
        if used == 0:
            centre = np.nan
        elif method == "cochran_q":
            centre = float(np.sum(w * log_r[ok]) / np.sum(w))
        else:
            centre = log_mh
        q = float(np.sum(w * (log_r[ok] - centre) ** 2)) if used else np.nan
    df = max(used - 1, 0)
    if df == 0 or not np.isfinite(q):
        return (q if df else np.nan), df, np.nan, np.nan
    p = float(stats.chi2.sf(q, df))
    i2 = float(max(0.0, (q - df) / q)) if q > 0 else 0.0
    return q, df, p, i2


def _pooled_ci(est: float, se: float, alpha: float) -> tuple[float, float]:
    if not (np.isfinite(est) and est > 0 and np.isfinite(se)):
        return np.nan, np.nan
    z = stats.norm.isf(alpha / 2)
    return float(est * np.exp(-z * se)), float(est * np.exp(z * se))


def mantel_haenszel_rate_ratio(
    events_1: Any,
    exposure_1: Any,
    events_0: Any,
    exposure_0: Any,
    *,
    alpha: float = 0.05,
    heterogeneity: RateHeterogeneity = "cochran_q",
    strata: Sequence[Any] | None = None,
) -> PooledRatioResult:
    """Mantel-Haenszel rate ratio pooled over strata of person-time or population data.

    Parameters
    ----------
    events_1, exposure_1
        Per stratum, events and population (or person-time) of the group of
        interest.
    events_0, exposure_0
        The same for the comparison group.
    alpha
        One minus the confidence level.
    heterogeneity
        ``"cochran_q"`` (default), ``"mh_q"`` or ``"score"``; see the module
        docstring.
    strata
        Labels for the strata (default: the index of ``events_1`` if it is a
        Series, else ``0..k-1``).

    Returns
    -------
    PooledRatioResult

    Raises
    ------
    DataValidationError
        Negative, missing or non-finite values, mismatched lengths, or events
        in a group with zero exposure.
    EstimationError
        No stratum has events in both groups' direction (the pooled ratio is
        ``0/0``).

    Examples
    --------
    British doctors' coronary deaths, smokers vs non-smokers, by age
    (Doll & Hill; Stata ``ir deaths smokes pyears, by(age) level(90)``):

    >>> res = mantel_haenszel_rate_ratio(
    ...     [32, 104, 206, 186, 102], [52407, 43248, 28612, 12663, 5317],
    ...     [2, 12, 28, 28, 31], [18790, 10673, 5710, 2585, 1462], alpha=0.10)
    >>> print(f"{res.estimate:.6f} ({res.ci_low:.6f}, {res.ci_high:.6f})")
    1.424682 (1.194375, 1.699399)
    """
    heterogeneity = check_option("heterogeneity", heterogeneity, RateHeterogeneity)
    alpha = _check_alpha(alpha)
    a = _vector("events_1", events_1)
    n1 = _vector("exposure_1", exposure_1)
    b = _vector("events_0", events_0)
    n0 = _vector("exposure_0", exposure_0)
    k = _same_length(events_1=a, exposure_1=n1, events_0=b, exposure_0=n0)
    labels = _labels(strata, events_1, k)
    orphan = ((a > 0) & (n1 == 0)) | ((b > 0) & (n0 == 0))
    if orphan.any():
        i = int(np.argmax(orphan))
        raise DataValidationError(
            f"stratum {labels[i]!r} has events but zero exposure in one group; "
            "check the denominators (a rate needs a positive population)."
        )

    t = n1 + n0
    m = a + b
    informative = (n1 > 0) & (n0 > 0) & (m > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_i = np.where(informative, a * n0 / t, 0.0)
        s_i = np.where(informative, b * n1 / t, 0.0)
        v_i = np.where(informative, m * n1 * n0 / t**2, 0.0)
    r_sum, s_sum = float(r_i.sum()), float(s_i.sum())
    if r_sum == 0 and s_sum == 0:
        raise EstimationError(
            "the Mantel-Haenszel rate ratio is undefined: no stratum has events with both "
            "groups present (every stratum has zero events or a zero population)."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        est = float(np.float64(r_sum) / np.float64(s_sum))
        se = float(np.sqrt(v_i.sum() / (r_sum * s_sum))) if r_sum > 0 and s_sum > 0 else np.nan
    lo, hi = _pooled_ci(est, se, alpha)

    # MH test of RR = 1 (conditional on M, a ~ Bin(M, N1/T))
    with np.errstate(divide="ignore", invalid="ignore"):
        e0 = np.where(informative, m * n1 / t, 0.0)
    chi_mh = (a[informative].sum() - e0.sum()) ** 2 / v_i.sum() if v_i.sum() > 0 else np.nan
    p_value = float(stats.chi2.sf(chi_mh, 1)) if np.isfinite(chi_mh) else np.nan

    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = np.where(informative, np.log((a / n1) / (b / n0)), np.nan)
        var_log = np.where(informative, 1.0 / a + 1.0 / b, np.nan)
        score_terms = None
        score_ok = informative
        if heterogeneity == "score" and np.isfinite(est) and est > 0:
            p = n1 * est / (n1 * est + n0)
            ex = m * p
            var = m * p * (1 - p)
            score_terms = np.where(informative, (a - ex) ** 2 / var, 0.0)
        elif heterogeneity == "score":
            score_terms = np.full(k, np.nan)
    q, df, q_p, i2 = _heterogeneity(
        heterogeneity, log_r, var_log, float(np.log(est)) if est > 0 else np.nan, score_terms, score_ok
    )

    table = pd.DataFrame(
        {
            "stratum": labels,
            "events_1": a,
            "exposure_1": n1,
            "events_0": b,
            "exposure_0": n0,
        }
    )
    rr = np.full(k, np.nan)
    c_lo = np.full(k, np.nan)
    c_hi = np.full(k, np.nan)
    pos = (n1 > 0) & (n0 > 0)
    if pos.any():
        res = rate_ratio_ci(a[pos], n1[pos], b[pos], n0[pos], method="exact", alpha=alpha)
        rr[pos], c_lo[pos], c_hi[pos] = res.ratio, res.ci_low, res.ci_high
    table["rate_ratio"] = rr
    table["ci_low"] = c_lo
    table["ci_high"] = c_hi
    table["mh_weight"] = s_i
    table["informative"] = informative
    return PooledRatioResult(
        measure="rate_ratio",
        estimate=float(est),
        ci_low=lo,
        ci_high=hi,
        std_error_log=se,
        p_value=p_value,
        heterogeneity_q=q,
        heterogeneity_df=df,
        heterogeneity_p=q_p,
        heterogeneity_method=heterogeneity,
        i_squared=i2,
        n_strata=int(informative.sum()),
        alpha=alpha,
        strata=table,
    )


def _bd_expected(psi: float, n1: np.ndarray, n0: np.ndarray, m1: np.ndarray) -> np.ndarray:
    """Expected ``a`` given the margins under a common odds ratio ``psi``."""
    lo = np.maximum(0.0, m1 - n0)
    hi = np.minimum(n1, m1)
    if psi == 1.0:
        return n1 * m1 / (n1 + n0)
    qa = 1.0 - psi
    qb = n0 - m1 + psi * (n1 + m1)
    qc = -psi * n1 * m1
    disc = np.sqrt(np.maximum(qb * qb - 4 * qa * qc, 0.0))
    r1 = (-qb + disc) / (2 * qa)
    r2 = (-qb - disc) / (2 * qa)
    tol = 1e-9 * np.maximum(1.0, hi)
    in1 = (r1 >= lo - tol) & (r1 <= hi + tol)
    return np.clip(np.where(in1, r1, r2), lo, hi)


def mantel_haenszel_odds_ratio(
    a: Any,
    b: Any,
    c: Any,
    d: Any,
    *,
    alpha: float = 0.05,
    heterogeneity: OddsHeterogeneity = "cochran_q",
    strata: Sequence[Any] | None = None,
) -> PooledRatioResult:
    """Mantel-Haenszel odds ratio pooled over 2x2 tables.

    Each stratum is the table ``[[a, b], [c, d]]``: ``a`` and ``b`` are
    the group of interest with and without the outcome, ``c`` and ``d`` the
    comparison group.  The variance is Robins, Breslow & Greenland (1986).

    Parameters
    ----------
    a, b, c, d
        Cell counts per stratum.
    alpha
        One minus the confidence level.
    heterogeneity
        ``"cochran_q"`` (Woolf, default), ``"mh_q"`` or ``"breslow_day"``
        (without Tarone's adjustment).
    strata
        Labels for the strata.

    Returns
    -------
    PooledRatioResult

    Examples
    --------
    >>> res = mantel_haenszel_odds_ratio([10, 20], [90, 80], [5, 10], [95, 90])
    >>> print(f"{res.estimate:.3f}")
    2.200
    """
    heterogeneity = check_option("heterogeneity", heterogeneity, OddsHeterogeneity)
    alpha = _check_alpha(alpha)
    a_ = _vector("a", a)
    b_ = _vector("b", b)
    c_ = _vector("c", c)
    d_ = _vector("d", d)
    k = _same_length(a=a_, b=b_, c=c_, d=d_)
    labels = _labels(strata, a, k)
    n = a_ + b_ + c_ + d_
    n1 = a_ + b_
    n0 = c_ + d_
    m1 = a_ + c_
    informative = (n1 > 0) & (n0 > 0) & (m1 > 0) & (m1 < n)
    nn = np.where(informative, n, 1.0)
    ad = np.where(informative, a_ * d_ / nn, 0.0)
    bc = np.where(informative, b_ * c_ / nn, 0.0)
    r_sum, s_sum = float(ad.sum()), float(bc.sum())
    if r_sum == 0 and s_sum == 0:
        raise EstimationError(
            "the Mantel-Haenszel odds ratio is undefined: every stratum has a*d = b*c = 0."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        est = float(np.float64(r_sum) / np.float64(s_sum))
        p_ = (a_ + d_) / nn
        q_ = (b_ + c_) / nn
        term1 = np.sum(np.where(informative, p_ * ad, 0.0)) / (2 * r_sum**2)
        term2 = np.sum(np.where(informative, p_ * bc + q_ * ad, 0.0)) / (2 * r_sum * s_sum)
        term3 = np.sum(np.where(informative, q_ * bc, 0.0)) / (2 * s_sum**2)
    se = float(np.sqrt(term1 + term2 + term3)) if r_sum > 0 and s_sum > 0 else np.nan
    lo, hi = _pooled_ci(est, se, alpha)

    # CMH test of OR = 1, no continuity correction
    with np.errstate(divide="ignore", invalid="ignore"):
        ea = np.where(informative, n1 * m1 / nn, 0.0)
        va = np.where(informative, n1 * n0 * m1 * (n - m1) / (nn**2 * (nn - 1)), 0.0)
    chi_mh = (a_[informative].sum() - ea.sum()) ** 2 / va.sum() if va.sum() > 0 else np.nan
    p_value = float(stats.chi2.sf(chi_mh, 1)) if np.isfinite(chi_mh) else np.nan

    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = np.where(informative, np.log(a_ * d_ / (b_ * c_)), np.nan)
        var_log = np.where(informative, 1 / a_ + 1 / b_ + 1 / c_ + 1 / d_, np.nan)
    score_terms = None
    if heterogeneity == "breslow_day":
        score_terms = np.full(k, np.nan)
        if np.isfinite(est) and est > 0:
            ex = _bd_expected(est, n1, n0, m1)
            with np.errstate(divide="ignore", invalid="ignore"):
                var = 1.0 / (1 / ex + 1 / (n1 - ex) + 1 / (m1 - ex) + 1 / (n0 - m1 + ex))
                score_terms = np.where(informative, (a_ - ex) ** 2 / var, 0.0)
    q, df, q_p, i2 = _heterogeneity(
        heterogeneity, log_r, var_log, float(np.log(est)) if est > 0 else np.nan, score_terms, informative
    )

    z = stats.norm.isf(alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        or_i = np.where((n1 > 0) & (n0 > 0), a_ * d_ / (b_ * c_), np.nan)
        half = z * np.sqrt(var_log)
    table = pd.DataFrame(
        {
            "stratum": labels,
            "a": a_,
            "b": b_,
            "c": c_,
            "d": d_,
            "odds_ratio": or_i,
            "ci_low": np.where(np.isfinite(log_r), np.exp(log_r - half), np.nan),
            "ci_high": np.where(np.isfinite(log_r), np.exp(log_r + half), np.nan),
            "mh_weight": bc,
            "informative": informative,
        }
    )
    return PooledRatioResult(
        measure="odds_ratio",
        estimate=float(est),
        ci_low=lo,
        ci_high=hi,
        std_error_log=se,
        p_value=p_value,
        heterogeneity_q=q,
        heterogeneity_df=df,
        heterogeneity_p=q_p,
        heterogeneity_method=heterogeneity,
        i_squared=i2,
        n_strata=int(informative.sum()),
        alpha=alpha,
        strata=table,
    )
