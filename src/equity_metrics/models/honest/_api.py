"""Public HonestDiD functions: :func:`honest_did`, :func:`honest_breakdown`, :func:`breakdown_statement`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd

from ..._options import check_option
from ...errors import DataValidationError, OptionError
from ._core import confidence_set
from ._inputs import EventStudyInputs, event_study_inputs
from ._result import BreakdownStatement, HonestDiDResult, breakdown_sentence

__all__ = ["honest_did", "honest_breakdown", "breakdown_statement"]

Restriction = Literal["relative_magnitudes", "smoothness"]
Bound = Literal["parallel_trends", "linear_trend"]
Method = Literal["C-LF", "conditional", "C-F", "FLCI"]
Target = Literal["first", "average"]
Bias = Literal["positive", "negative"]
Monotonicity = Literal["increasing", "decreasing"]
Quantile = Literal["r", "exact"]

_R_METHOD = {"C-LF": "C-LF", "conditional": "Conditional", "C-F": "C-F", "FLCI": "FLCI"}


def _inputs(data, sigma, num_pre, num_post, reference, max_pre, max_post) -> EventStudyInputs:
    if isinstance(data, EventStudyInputs):
        return data
    if isinstance(data, (np.ndarray, list, tuple, pd.Series)):
        if sigma is None or num_pre is None or num_post is None:
            raise OptionError("with a raw betahat also pass sigma=, num_pre= and num_post= (or pass an event-study result).")
        return EventStudyInputs(np.asarray(data, float), np.asarray(sigma, float), int(num_pre), int(num_post),
                                np.r_[np.arange(-int(num_pre) - 1, -1), np.arange(0, int(num_post))])
    return event_study_inputs(data, reference=reference, max_pre=max_pre, max_post=max_post)


def _l_vec(target, num_post: int) -> tuple[np.ndarray, str]:
    if isinstance(target, str):
        check_option("target", target, Target)
        if target == "first":
            return np.eye(num_post)[0], "first post-period effect"
        return np.full(num_post, 1.0 / num_post), f"average of the {num_post} post-period effects"
    l_vec = np.asarray(target, float).ravel()
    if l_vec.shape != (num_post,) or not np.any(l_vec != 0):
        raise OptionError(f"target weights must be a non-zero vector of length num_post = {num_post}.")
    return l_vec, "l' tau_post with l = [" + ", ".join(f"{v:g}" for v in l_vec) + "]"


def _delta_name(restriction, bound, bias, monotonicity) -> str:
    base = "SD" if restriction == "smoothness" else ("SDRM" if bound == "linear_trend" else "RM")
    suffix = {"positive": "PB", "negative": "NB"}.get(bias or "", "") + {"increasing": "I", "decreasing": "D"}.get(
        monotonicity or "", "")
    return "Delta" + base + suffix


def _default_m(inp: EventStudyInputs, restriction: str, alpha: float) -> np.ndarray:
    if restriction == "relative_magnitudes":
        return np.linspace(0.0, 2.0, 10)
    p = inp.num_pre
    if p == 1:
        return np.linspace(0.0, float(np.sqrt(inp.sigma[0, 0])), 10)
    # second differences of (beta_pre, 0) and a one-sided upper confidence bound on the largest
    ext = np.zeros((p - 1, p + 1))
    for r in range(p - 1):
        ext[r, r:r + 3] = (1.0, -2.0, 1.0)
    a = ext[:, :p]
    z = NormalDist().inv_cdf(1 - alpha)
    sd = np.sqrt(np.einsum("ij,jk,ik->i", a, inp.sigma[:p, :p], a))
    mub = float(np.max(np.abs(a @ inp.betahat[:p]) + z * sd))
    return np.linspace(0.0, mub, 10)


def honest_did(
    data,
    sigma: np.ndarray | None = None,
    *,
    num_pre: int | None = None,
    num_post: int | None = None,
    restriction: Restriction = "relative_magnitudes",
    bound: Bound = "parallel_trends",
    m: Sequence[float] | None = None,
    method: Method | None = None,
    target: Target | Sequence[float] = "first",
    bias: Bias | None = None,
    monotonicity: Monotonicity | None = None,
    alpha: float = 0.05,
    grid_points: int = 1000,
    grid_lb: float | None = None,
    grid_ub: float | None = None,
    breakdown: bool = True,
    breakdown_max: float | None = None,
    breakdown_tol: float | None = None,
    reference: int = -1,
    max_pre: int | None = None,
    max_post: int | None = None,
    seed: int = 0,
    quantile: Quantile = "r",
) -> HonestDiDResult:
    """Robust confidence sets when parallel trends may fail (Rambachan & Roth 2023; R ``HonestDiD``).

    Parameters
    ----------
    data
        An event-study result (:func:`~equity_metrics.models.event_study`,
        ``staggered_did(...).aggregate("dynamic")`` with
        ``base_period="universal"``, ``efficient_staggered(...,
        estimand="eventstudy")``), an :class:`EventStudyInputs`, or the
        coefficient vector ``betahat`` (pre-periods oldest first, then post).
    sigma, num_pre, num_post
        With a raw ``betahat``: its covariance and the number of pre- and
        post-period coefficients.
    restriction
        ``"relative_magnitudes"`` (Delta^RM: post-period changes in the trend
        difference at most Mbar times the largest pre-period change) or
        ``"smoothness"`` (Delta^SD: the slope of the trend difference changes
        by at most M per period).
    bound
        Relative magnitudes only: ``"parallel_trends"`` (Delta^RM, R's
        "deviation from parallel trends") or ``"linear_trend"`` (Delta^SDRM,
        "deviation from linear trend").
    m
        Values of Mbar (relative magnitudes; default 10 values on [0, 2] as R)
        or M (smoothness; default 10 values from 0 to an upper confidence bound
        on the largest pre-period second difference).
    method
        ``"C-LF"`` (conditional-least-favourable hybrid; the default for
        relative magnitudes), ``"conditional"`` (ARP), ``"C-F"``
        (conditional-FLCI hybrid; default for smoothness with a sign or shape
        restriction) or ``"FLCI"`` (default for plain smoothness; it ignores
        sign/shape restrictions). Relative magnitudes allow ``C-LF`` and
        ``conditional`` only.
    target
        ``"first"`` (first post-period effect, R's default), ``"average"`` (mean
        of the post-period effects) or a weight vector ``l`` (length num_post).
    bias
        Sign restriction on the post-period bias: ``"positive"`` or ``"negative"``.
    monotonicity
        Shape restriction: ``"increasing"`` or ``"decreasing"`` trend difference.
    alpha
        1 - confidence level.
    grid_points, grid_lb, grid_ub
        The grid of target values tested (R's defaults: 1000 points; relative
        magnitudes +/- 20 standard errors around 0; smoothness the identified
        set under parallel trends +/- 20 s.e., or the first-stage FLCI for C-F).
        Unlike R, when neither bound is given and the default grid rejects
        every point (an estimate more than about 20 s.e. from 0), the grid is
        centred on the estimate (then widened up to 16x); a set reaching a
        grid end is widened too. Both are listed in ``notes``.
    breakdown, breakdown_max, breakdown_tol
        Also find the breakdown value (smallest M or Mbar whose robust set
        includes zero) by bisection on ``[0, breakdown_max]`` (default 5 for
        Mbar, 5 x the largest default M) to ``breakdown_tol`` (0.01 for Mbar;
        1/200 of the M range).
    reference, max_pre, max_post
        For event-study results: the reference event time and an optional
        window (numbers of pre/post coefficients kept next to the reference).
        Speed: up to about ten post-periods the test's dual vertices are
        enumerated (seconds); beyond that each grid point solves its own
        linear programs (minutes, as R), so keep the window focused.
    seed
        Seed of R's least-favourable and folded-normal simulations (R default 0).
    quantile
        Folded-normal quantile of the FLCI: ``"r"`` (R's simulation with 10^6
        draws, reproduced exactly) or ``"exact"``.

    Returns
    -------
    HonestDiDResult

    Examples
    --------
    >>> import numpy as np
    >>> beta = np.array([0.01, -0.01, 0.0, 0.30, 0.32])
    >>> sig = np.eye(5) * 0.02 ** 2
    >>> res = honest_did(beta, sig, num_pre=3, num_post=2, m=[0, 1], grid_points=200, breakdown=False)
    >>> bool(res.table["lb"].iloc[0] > 0)
    True
    """
    t0 = time.perf_counter()
    check_option("restriction", restriction, Restriction)
    check_option("bound", bound, Bound)
    check_option("quantile", quantile, Quantile)
    if bias is not None:
        check_option("bias", bias, Bias)
    if monotonicity is not None:
        check_option("monotonicity", monotonicity, Monotonicity)
    if bias is not None and monotonicity is not None:
        raise OptionError("choose either a sign restriction (bias=) or a shape restriction (monotonicity=), not both.")
    if not 0 < alpha < 0.5:
        raise OptionError(f"alpha must be in (0, 0.5) (got {alpha}).")
    inp = _inputs(data, sigma, num_pre, num_post, reference, max_pre, max_post)
    l_vec, target_label = _l_vec(target, inp.num_post)
    if method is None:
        method = "C-LF" if restriction == "relative_magnitudes" else (
            "FLCI" if bias is None and monotonicity is None else "C-F")
    check_option("method", method, Method)
    r_method = _R_METHOD[method]
    notes = list(inp.notes)
    if restriction == "relative_magnitudes":
        if r_method not in ("C-LF", "Conditional"):
            raise OptionError("relative magnitudes support method='C-LF' or 'conditional' (as R).")
        if bound == "linear_trend" and inp.num_pre < 2:
            raise DataValidationError("bound='linear_trend' needs at least two pre-periods.")
        delta = "SDRM" if bound == "linear_trend" else "RM"
    else:
        delta = "SD"
        if r_method == "FLCI" and (bias or monotonicity):
            notes.append("the FLCI does not use the sign/shape restriction (as in R); use method='C-F' to use it")
    mvals = np.asarray(_default_m(inp, restriction, alpha) if m is None else m, float)
    if np.any(mvals < 0) or not np.all(np.isfinite(mvals)):
        raise OptionError("m values must be finite and non-negative.")

    widened: list[float] = []
    centred: list[float] = []
    est_hat = float(l_vec @ inp.betahat[inp.num_pre:inp.num_pre + inp.num_post])

    def cs(mv: float):
        kw = dict(num_pre=inp.num_pre, num_post=inp.num_post, l_vec=l_vec, delta=delta, m=float(mv),
                  method=r_method, bias=bias, monotone=monotonicity, alpha=alpha, grid_points=grid_points,
                  seed=seed, quantile=quantile)
        r = confidence_set(inp.betahat, inp.sigma, grid_lb=grid_lb, grid_ub=grid_ub, **kw)
        if r.grid is not None and not r.accept.any() and grid_lb is None and grid_ub is None:
            # R's default grid sits around 0 (+-20 SE beyond the identified set): an estimate far from 0
            # falls outside it and every point is rejected. Centre the grid on the estimate, then widen.
            lo, hi = float(r.grid[0]), float(r.grid[-1])
            half = (hi - lo) / 2
            same_centre = abs(0.5 * (lo + hi) - est_hat) <= 1e-12 * max(1.0, abs(est_hat))
            for f in ((4, 16) if same_centre else (1, 4, 16)):
                r = confidence_set(inp.betahat, inp.sigma, grid_lb=est_hat - f * half,
                                   grid_ub=est_hat + f * half, **kw)
                if r.accept.any():
                    centred.append(float(mv))
                    break
        tries = 0
        # R keeps its default grid and reports the grid end; we widen it when the user set none
        while r.open_ended and grid_lb is None and grid_ub is None and tries < 4:
            lo, hi = float(r.grid[0]), float(r.grid[-1])
            w = hi - lo
            r = confidence_set(inp.betahat, inp.sigma, grid_lb=lo - w / 2 if r.accept[0] else lo,
                               grid_ub=hi + w / 2 if r.accept[-1] else hi, **kw)
            tries += 1
            widened.append(float(mv))
        return r

    rows = []
    dname = _delta_name(restriction, bound, bias, monotonicity)
    for mv in mvals:
        r = cs(mv)
        rows.append({"m": float(mv), "lb": r.lb, "ub": r.ub, "method": r_method, "delta": dname,
                     "excludes_zero": bool(r.lb > 0 or r.ub < 0), "open_ended": r.open_ended})
    table = pd.DataFrame(rows)
    if widened:
        notes.append("the default test grid was widened for M = " + ", ".join(f"{v:g}" for v in sorted(set(widened)))
                     + " (R would report the grid end)")
    if centred:
        notes.append("the default test grid (around 0) rejected every point for M = "
                     + ", ".join(f"{v:g}" for v in sorted(set(centred)))
                     + ", so it was centred on the estimate (R would report an empty set)")
    if table["open_ended"].any():
        notes.append("some robust sets reach an end of the test grid (their bound is the grid end): "
                     "widen grid_lb/grid_ub")
    post = slice(inp.num_pre, inp.num_pre + inp.num_post)
    est = float(l_vec @ inp.betahat[post])
    se = float(np.sqrt(l_vec @ inp.sigma[post, post] @ l_vec))
    z = NormalDist().inv_cdf(1 - alpha / 2)
    original = {"estimate": est, "std_error": se, "lb": est - z * se, "ub": est + z * se}
    bd = bmax = None
    if breakdown:
        if breakdown_max is None:
            bmax = 5.0 if restriction == "relative_magnitudes" else 5.0 * float(max(_default_m(inp, restriction, alpha)))
        else:
            bmax = float(breakdown_max)
        tol = breakdown_tol if breakdown_tol is not None else (0.01 if restriction == "relative_magnitudes"
                                                               else bmax / 1000)
        bd = _breakdown(cs, original, bmax, tol, table)
    return HonestDiDResult(table=table, original=original, breakdown=bd, breakdown_max=bmax,
                           restriction=restriction, bound=bound, target=target_label, alpha=alpha, l_vec=l_vec,
                           event_times=inp.event_times, seconds=time.perf_counter() - t0, notes=notes)


def _includes_zero(r) -> bool:
    return not (r.lb > 0 or r.ub < 0) or not np.isfinite(r.lb)


def _breakdown(cs, original: dict, m_max: float, tol: float, table: pd.DataFrame) -> float:
    """Smallest M in ``[0, m_max]`` whose robust set includes 0 (bisection, sets assumed nested in M)."""
    if original["lb"] <= 0 <= original["ub"]:
        return 0.0
    known = {float(r.m): not r.excludes_zero for r in table.itertuples()}
    lo, hi = 0.0, None
    for mv in sorted(known):
        if known[mv]:
            hi = mv
            break
        lo = mv
    if hi is None:
        if _includes_zero(cs(m_max)):
            hi = m_max
        else:
            return float("inf")
    if hi == 0.0:
        return 0.0
    if _includes_zero(cs(0.0)) and lo == 0.0 and 0.0 not in known:
        return 0.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if _includes_zero(cs(mid)):
            hi = mid
        else:
            lo = mid
    return float(hi)


def honest_breakdown(data, sigma: np.ndarray | None = None, **kwargs) -> float:
    """Breakdown value: the smallest M (Mbar) at which the robust confidence set includes zero.

    Takes the same arguments as :func:`honest_did` (``m`` defaults to
    ``[0]``, so only the bisection runs) and returns ``result.breakdown``.

    Examples
    --------
    >>> import numpy as np
    >>> beta = np.array([0.01, -0.01, 0.0, 0.30, 0.32])
    >>> bd = honest_breakdown(beta, np.eye(5) * 0.02 ** 2, num_pre=3, num_post=2, grid_points=200)
    >>> bool(bd > 1)
    True
    """
    kwargs.setdefault("m", [0.0])
    kwargs["breakdown"] = True
    return honest_did(data, sigma, **kwargs).breakdown


def breakdown_statement(
    event_study,
    *,
    mbar: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0),
    alpha: float = 0.05,
    target: Target | Sequence[float] = "first",
    max_pre: int | None = 6,
    max_post: int | None = 6,
    grid_points: int = 1000,
) -> BreakdownStatement:
    """The report's HonestDiD line: breakdown Mbar under relative magnitudes, in words, with the table.

    Parameters
    ----------
    event_study
        The report's event-study result (see :func:`honest_did`).
    mbar
        Mbar values of the sensitivity table.
    alpha, target, grid_points
        As in :func:`honest_did`.
    max_pre, max_post
        Event-time window next to the reference period (default six periods each side; ``None`` keeps
        all). Every post-period in the window is a nuisance parameter of the test, and its cost grows
        combinatorially: beyond about ten post-periods each grid point needs its own linear programs.

    Returns
    -------
    BreakdownStatement
        ``mbar`` (breakdown value), ``sentence`` ("the conclusion holds unless
        post-training differences in trends were more than X times the largest
        pre-training difference") and ``sensitivity`` (the full result).

    Examples
    --------
    >>> import numpy as np
    >>> from equity_metrics.models.honest import EventStudyInputs
    >>> inp = EventStudyInputs(np.array([0.01, -0.01, 0.0, 0.30, 0.32]), np.eye(5) * 0.02 ** 2,
    ...                        num_pre=3, num_post=2, event_times=np.array([-4, -3, -2, 0, 1]))
    >>> st = breakdown_statement(inp, grid_points=200)
    >>> st.sentence.startswith("The conclusion holds unless post-training differences in trends")
    True
    """
    res = honest_did(event_study, restriction="relative_magnitudes", bound="parallel_trends", m=list(mbar),
                     method="C-LF", alpha=alpha, target=target, max_pre=max_pre, max_post=max_post,
                     grid_points=grid_points, breakdown=True)
    return BreakdownStatement(mbar=float(res.breakdown), sentence=breakdown_sentence(
        res.breakdown, restriction="relative_magnitudes", m_max=res.breakdown_max), sensitivity=res)
