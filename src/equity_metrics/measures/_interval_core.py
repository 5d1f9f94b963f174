"""Building blocks of :mod:`equity_metrics.measures.intervals`.

Holds the private helpers the interval functions share: checking and
broadcasting their arguments (``alpha``, counts, exposures; the first offending
position named in the error) and returning scalars for scalar input, plus the
exact-interval cores -- a vectorised bracketed root finder on Poisson and
binomial tail probabilities, Garwood's Poisson interval, Clopper-Pearson, and
the central mid-p intervals. Re-exported from ``measures.intervals``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special, stats

from ..errors import DataValidationError

_ROOT_ITER = 200  # safety cap; brackets converge in ~10-30 steps


def _check_alpha(alpha: float) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise DataValidationError(f"alpha must be a number in (0, 1), got {alpha!r}.") from None
    if not 0.0 < a < 1.0:
        raise DataValidationError(f"alpha must lie strictly between 0 and 1 (0.05 gives a 95% interval), got {alpha!r}.")
    return a


def _first_bad(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)
    pos = tuple(int(i) for i in idx[0]) if idx.size else ()
    where = pos[0] if len(pos) == 1 else pos
    return f"{int(mask.sum())} value(s), first at position {where}"


def _as_float(name: str, x: Any) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise DataValidationError(
            f"{name} must be numeric (a number, list, array or Series of numbers); got {type(x).__name__}."
        ) from None
    return arr


def _counts(name: str, x: Any, *, whole: bool = True) -> np.ndarray:
    arr = _as_float(name, x)
    bad = np.isinf(arr) | (arr < 0)
    if bad.any():
        raise DataValidationError(
            f"{name} must be non-negative, finite counts: {_first_bad(np.atleast_1d(bad))} "
            f"are negative or infinite (e.g. {np.atleast_1d(arr)[np.atleast_1d(bad)][0]!r})."
        )
    if whole:
        frac = np.isfinite(arr) & (arr != np.round(arr))
        if frac.any():
            raise DataValidationError(
                f"{name} must be whole numbers for this method: {_first_bad(np.atleast_1d(frac))} "
                f"are fractional (e.g. {np.atleast_1d(arr)[np.atleast_1d(frac)][0]!r}). "
                "Round the counts, or use a method that accepts weighted counts."
            )
    return arr


def _exposure(name: str, x: Any) -> np.ndarray:
    arr = _as_float(name, x)
    bad = np.isinf(arr) | (arr <= 0)
    if bad.any():
        raise DataValidationError(
            f"{name} (the population or person-time denominator) must be positive and finite: "
            f"{_first_bad(np.atleast_1d(bad))} are zero, negative or infinite. "
            "Drop groups with no population, or set them to NaN to get NaN results."
        )
    return arr


def _out(x: np.ndarray) -> Any:
    """Return a 0-d array as a numpy scalar, other arrays unchanged."""
    x = np.asarray(x, dtype=float)
    return x[()] if x.ndim == 0 else x


def _root(fun: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Vectorised root of an increasing ``fun`` on brackets with ``fun(lo) <= 0 <= fun(hi)``.

    Regula falsi with the Illinois modification (superlinear), falling back
    to bisection when a step makes too little progress; stops when every
    bracket is within a few ulps.
    """
    a = np.array(lo, dtype=float, copy=True)
    b = np.array(hi, dtype=float, copy=True)
    fa, fb = fun(a), fun(b)
    last = np.zeros(a.shape, dtype=int)  # which end moved last: -1 a, +1 b
    for it in range(_ROOT_ITER):
        width = b - a
        active = (width > 64 * np.finfo(float).eps * np.maximum(np.abs(a), np.abs(b))) & (fa < 0) & (fb > 0)
        if not active.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            c = b - fb * width / (fb - fa)
        bad = ~np.isfinite(c) | (c <= a) | (c >= b) | (it % 8 == 7)  # every 8th step bisects
        c = np.where(bad, 0.5 * (a + b), c)
        fc = fun(c)
        move_a = active & (fc < 0)
        move_b = active & ~(fc < 0)
        # Illinois: if the same end moves twice running, halve the other end's value
        fb = np.where(move_a & (last == -1), 0.5 * fb, fb)
        fa = np.where(move_b & (last == 1), 0.5 * fa, fa)
        a, fa = np.where(move_a, c, a), np.where(move_a, fc, fa)
        b, fb = np.where(move_b, c, b), np.where(move_b, fc, fb)
        last = np.where(move_a, -1, np.where(move_b, 1, last))
    return np.where(fa >= 0, a, np.where(fb <= 0, b, 0.5 * (a + b)))


def _pois_le(k: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """P(X <= k) for X ~ Poisson(mu); 0 when k < 0."""
    return np.where(k < 0, 0.0, special.pdtr(np.maximum(k, 0), mu))


def _pois_gt(k: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """P(X > k) for X ~ Poisson(mu)."""
    return np.where(k < 0, 1.0, special.pdtrc(np.maximum(k, 0), mu))


def _binom_le(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(X <= k) for X ~ Binomial(n, p), whole-number ``k`` and ``n``; 0 when k < 0."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    return np.where(k < 0, 0.0, special.bdtr(np.maximum(k, 0).astype(np.int64), n.astype(np.int64), p))


def _binom_gt(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(X > k) for X ~ Binomial(n, p), whole-number ``k`` and ``n``; 1 when k < 0."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    return np.where(k < 0, 1.0, special.bdtrc(np.maximum(k, 0).astype(np.int64), n.astype(np.int64), p))


def _garwood(k: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Central exact interval for a Poisson mean (Garwood 1936)."""
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, special.gammaincinv(np.maximum(k, 1), alpha / 2), 0.0)
        high = special.gammainccinv(k + 1, alpha / 2)
    nan = np.isnan(k)
    return np.where(nan, np.nan, low), np.where(nan, np.nan, high)


def _clopper_pearson(x: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x > 0, stats.beta.ppf(alpha / 2, np.maximum(x, 1), n - x + 1), 0.0)
        high = np.where(x < n, stats.beta.isf(alpha / 2, x + 1, np.maximum(n - x, 1)), 1.0)
    nan = np.isnan(x) | np.isnan(n)
    return np.where(nan, np.nan, low), np.where(nan, np.nan, high)


def _binom_midp_ci(x: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Central mid-p interval for a binomial proportion (root finding).

    The mid-p tail ``(P(X >= x) + P(X > x)) / 2`` lies between the exact
    tails of ``x`` and ``x + 1``, so the mid-p bounds are bracketed by the
    Clopper-Pearson bounds of neighbouring counts.
    """
    ok = ~(np.isnan(x) | np.isnan(n))
    xs = np.where(ok, x, 0.0)
    ns = np.where(ok, n, 1.0)
    lo_x, hi_x = _clopper_pearson(xs, ns, alpha)
    lo_next = np.where(xs < ns, _clopper_pearson(np.minimum(xs + 1, ns), ns, alpha)[0], 1.0)
    hi_prev = np.where(xs > 0, _clopper_pearson(np.maximum(xs - 1, 0), ns, alpha)[1], 0.0)

    def f_low(p: np.ndarray) -> np.ndarray:  # P(X > x) + P(X = x)/2 - alpha/2, increasing in p
        return 0.5 * (_binom_gt(xs, ns, p) + _binom_gt(xs - 1, ns, p)) - alpha / 2

    def f_high(p: np.ndarray) -> np.ndarray:  # alpha/2 - (P(X < x) + P(X = x)/2), increasing in p
        return alpha / 2 - 0.5 * (_binom_le(xs - 1, ns, p) + _binom_le(xs, ns, p))

    low = np.where(xs > 0, _root(f_low, lo_x, lo_next), 0.0)
    high = np.where(xs < ns, _root(f_high, hi_prev, hi_x), 1.0)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def _poisson_midp_ci(k: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Central mid-p interval for a Poisson mean, bracketed by Garwood bounds of ``k``, ``k +- 1``."""
    ok = ~np.isnan(k)
    ks = np.where(ok, k, 0.0)
    lo_k, hi_k = _garwood(ks, alpha)
    lo_next = _garwood(ks + 1, alpha)[0]
    hi_prev = np.where(ks > 0, _garwood(np.maximum(ks - 1, 0), alpha)[1], 0.0)

    def f_low(mu: np.ndarray) -> np.ndarray:  # increasing in mu
        return 0.5 * (_pois_gt(ks, mu) + _pois_gt(ks - 1, mu)) - alpha / 2

    def f_high(mu: np.ndarray) -> np.ndarray:  # increasing in mu
        return alpha / 2 - 0.5 * (_pois_le(ks - 1, mu) + _pois_le(ks, mu))

    low = np.where(ks > 0, _root(f_low, lo_k, lo_next), 0.0)
    high = _root(f_high, hi_prev, hi_k)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)

