"""Minimum detectable effects, multiplicity adjustment and effect verdicts for training impact.

Statistics the report's training verdict needs (the report only formats them):

* :func:`minimum_detectable_effect`: the smallest true effect a design detects with a given
  power, ``(q_{1-alpha/2} + q_{power}) * SE`` (Bloom 1995, "Minimum detectable effects: a
  simple way to report the statistical power of experimental designs", *Evaluation Review*
  19(5), 547-556, eq. 1; normal quantiles, or Student t with ``df``);
* :func:`holm`: Holm (1979) step-down adjusted p-values (``statsmodels.stats.multitest.multipletests``,
  ``method="holm"``), keeping missing p-values missing;
* :func:`classify_effect`: a verdict from an interval on the relative scale and a threshold of
  practical importance: a clear decrease / increase (the interval, and the multiplicity-adjusted
  test, exclude no change), no change large enough to matter (the whole interval lies inside
  ``+/- meaningful``: an equivalence-style conclusion, as in the two one-sided tests of
  Schuirmann 1987 at level ``alpha/2`` each side), or inconclusive;
* :func:`training_effects`: all of these for a table of effects, with each effect as a share of
  the untrained level (the base is treated as fixed).

Examples
--------
>>> round(minimum_detectable_effect(1.0), 3)   # 1.960 + 0.842
2.802
>>> classify_effect(-0.30, 0.05, meaningful=0.10)
'inconclusive'
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._options import check_option
from ..errors import OptionError

__all__ = ["minimum_detectable_effect", "holm", "classify_effect", "training_effects", "normal_p_value",
           "EffectVerdict", "EffectScale"]

EffectVerdict = Literal["clear_decrease", "clear_increase", "no_meaningful_change", "inconclusive", "not_estimable"]
EffectScale = Literal["difference", "ratio"]


def _check_level(name: str, v: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < float(v) < 1:
        raise OptionError(f"{name} must be a number between 0 and 1 (e.g. {'0.05' if name == 'alpha' else '0.8'}), "
                          f"got {v!r}.")
    return float(v)


def minimum_detectable_effect(std_error: float | np.ndarray, *, alpha: float = 0.05, power: float = 0.80,
                              df: int | None = None) -> float | np.ndarray:
    """The smallest true effect a two-sided test at ``alpha`` detects with probability ``power``.

    ``MDE = (q_{1-alpha/2} + q_{power}) * SE`` (Bloom 1995, eq. 1): with the estimate's
    standard error ``SE`` and normal quantiles ``q`` (Student t with ``df`` degrees of freedom
    when given). The chance of detecting a true effect of exactly this size in the
    *opposite* direction is ignored (it is below ``alpha/2``).

    Parameters
    ----------
    std_error
        Standard error(s) of the estimate, in the effect's own units (for a log rate ratio:
        on the log scale).
    alpha, power
        Two-sided test level and the required power (default 80%, Bloom's convention).
    df
        Degrees of freedom of a t-based interval; ``None`` for normal intervals.

    Returns
    -------
    float or ndarray
        The minimum detectable effect, in the units of ``std_error`` (NaN where it is NaN).

    Examples
    --------
    >>> round(minimum_detectable_effect(0.05, alpha=0.05, power=0.8), 4)
    0.1401
    >>> round(minimum_detectable_effect(0.05, power=0.9), 4)
    0.1621
    """
    a, pw = _check_level("alpha", alpha), _check_level("power", power)
    if df is None:
        mult = stats.norm.isf(a / 2) + stats.norm.ppf(pw)
    else:
        mult = stats.t.isf(a / 2, df) + stats.t.ppf(pw, df)
    out = mult * np.asarray(std_error, dtype=float)
    return float(out) if out.ndim == 0 else out


def normal_p_value(estimate: float, std_error: float) -> float:
    """Two-sided p-value of ``estimate / std_error`` against the standard normal (NaN when not finite).

    Examples
    --------
    >>> round(normal_p_value(1.96, 1.0), 3)
    0.05
    """
    try:
        z = float(estimate) / float(std_error)
    except (TypeError, ZeroDivisionError):
        return float("nan")
    return float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")


def holm(p_values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Holm (1979) adjusted p-values over the non-missing values; missing ones stay NaN.

    Controls the family-wise error rate across the outcomes without assuming
    independence; computed with ``statsmodels.stats.multitest.multipletests(method="holm")``.

    Examples
    --------
    >>> holm([0.01, 0.04, float("nan"), 0.03]).round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def classify_effect(ci_low: float, ci_high: float, *, meaningful: float, p_adjusted: float | None = None,
                    alpha: float = 0.05) -> EffectVerdict:
    """The verdict on one effect from its interval on the relative scale (0 = no change).

    Parameters
    ----------
    ci_low, ci_high
        The ``1 - alpha`` interval of the effect as a fraction of the untrained level
        (``-0.2`` = 20% lower).
    meaningful
        The smallest change that matters, as a fraction (``0.10`` = 10% of the untrained level).
    p_adjusted
        The multiplicity-adjusted p-value; a direction is called clear only when the interval
        excludes 0 *and* this is below ``alpha`` (``None``: the interval alone decides).
    alpha
        Test level of ``p_adjusted``.

    Returns
    -------
    str
        ``"clear_decrease"``, ``"clear_increase"``, ``"no_meaningful_change"`` (the interval lies
        strictly inside ``(-meaningful, meaningful)``), ``"inconclusive"`` (it includes no change
        and changes of at least ``meaningful``, or it excludes no change only before adjustment)
        or ``"not_estimable"``.

    Examples
    --------
    >>> classify_effect(-0.40, -0.12, meaningful=0.10)
    'clear_decrease'
    >>> classify_effect(-0.04, 0.06, meaningful=0.10)
    'no_meaningful_change'
    >>> classify_effect(-0.40, -0.12, meaningful=0.10, p_adjusted=0.08)
    'inconclusive'
    """
    if isinstance(meaningful, bool) or not isinstance(meaningful, (int, float)) or not float(meaningful) > 0:
        raise OptionError(f"meaningful must be a positive fraction (0.10 = 10% of the untrained level), got {meaningful!r}.")
    lo, hi = float(ci_low), float(ci_high)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "not_estimable"
    adjusted_ok = p_adjusted is None or (np.isfinite(p_adjusted) and float(p_adjusted) < alpha)
    if hi < 0 and adjusted_ok:
        return "clear_decrease"
    if lo > 0 and adjusted_ok:
        return "clear_increase"
    if -meaningful < lo and hi < meaningful:
        return "no_meaningful_change"
    return "inconclusive"


def training_effects(table: pd.DataFrame, *, scale: EffectScale, alpha: float = 0.05, power: float = 0.80,
                     meaningful: float = 0.10, df: int | None = None) -> pd.DataFrame:
    """Add relative effects, minimum detectable effects, Holm p-values and verdicts to an effects table.

    Parameters
    ----------
    table
        One row per outcome with ``estimate, ci_low, ci_high, std_error, p_value`` and, for
        ``scale="difference"``, ``base``: the untrained level the effect is a share of.
    scale
        ``"difference"``: effects in the outcome's units (an ATT); the relative effect is
        ``estimate / base`` with the interval and MDE divided by the same ``base``, which is
        treated as fixed (its own sampling error is not propagated).
        ``"ratio"``: effects are rate ratios with ``std_error`` on the log scale (an
        interrupted time series); the relative effect is ``ratio - 1`` and the MDE is
        ``exp(-MDE_log) - 1`` (fall) / ``exp(MDE_log) - 1`` (rise).
    alpha, power, meaningful, df
        Test level, power of the MDE (80% by default), the smallest change that matters (a
        fraction of the untrained level) and the t degrees of freedom (``None``: normal).

    Returns
    -------
    DataFrame
        ``table`` plus ``pct, pct_low, pct_high`` (fractions: ``-0.1`` = 10% lower),
        ``mde`` (own units, or log scale), ``mde_fall, mde_rise`` (fractions),
        ``p_value`` (filled from ``estimate / std_error`` where missing, difference scale),
        ``p_holm`` (Holm-adjusted across the rows), ``n_tests`` and ``verdict``
        (see :func:`classify_effect`).

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [-0.05], "ci_low": [-0.15], "ci_high": [0.05],
    ...                   "std_error": [0.051], "p_value": [float("nan")], "base": [0.25]})
    >>> r = training_effects(t, scale="difference").iloc[0]
    >>> float(round(r["pct"], 2)), float(round(r["pct_low"], 2)), float(round(r["mde_fall"], 3)), r["verdict"]
    (-0.2, -0.6, 0.572, 'inconclusive')
    """
    check_option("scale", scale, EffectScale)
    a = _check_level("alpha", alpha)
    out = table.copy()
    est, lo, hi = (out[c].astype(float).to_numpy() for c in ("estimate", "ci_low", "ci_high"))
    se = out["std_error"].astype(float).to_numpy()
    p = out["p_value"].astype(float).to_numpy() if "p_value" in out.columns else np.full(len(out), np.nan)
    mde = np.asarray(minimum_detectable_effect(se, alpha=a, power=power, df=df), dtype=float).reshape(-1)
    if scale == "difference":
        if "base" not in out.columns:
            raise OptionError("scale='difference' needs a 'base' column: the untrained level each effect is a share of.")
        base = out["base"].astype(float).to_numpy()
        good = np.isfinite(base) & (base > 0)
        b = np.where(good, base, np.nan)
        out["pct"], out["pct_low"], out["pct_high"] = est / b, lo / b, hi / b
        out["mde_fall"] = out["mde_rise"] = mde / b
        p = np.where(np.isfinite(p), p, [normal_p_value(e, s) for e, s in zip(est, se)])
    else:
        out["pct"], out["pct_low"], out["pct_high"] = est - 1, lo - 1, hi - 1
        out["mde_fall"], out["mde_rise"] = -np.expm1(-mde), np.expm1(mde)
    out["mde"] = mde
    out["p_value"] = p
    out["p_holm"] = holm(p)
    out["n_tests"] = int(np.isfinite(p).sum())
    out["verdict"] = [classify_effect(l, h, meaningful=meaningful, p_adjusted=ph, alpha=a)
                      for l, h, ph in zip(out["pct_low"], out["pct_high"], out["p_holm"])]
    return out
