"""Event-study inputs for HonestDiD: coefficients, their covariance, and the pre/post split.

Adapters read the toolkit's event-study results: :func:`event_study`
(:class:`EventStudyResult`: ``table`` + ``vcov``), ``staggered_did(...)
.aggregate("dynamic")`` (:class:`AggregateResult`: covariance from the level
influence functions, ``V = IF' IF / n^2``, the same that gives its standard
errors) and :func:`efficient_staggered` with ``estimand="eventstudy"``
(:class:`EfficientResult`: ``table`` + ``vcov``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...errors import DataValidationError, OptionError

__all__ = ["EventStudyInputs", "event_study_inputs"]


@dataclass
class EventStudyInputs:
    """Event-study coefficients ready for :func:`honest_did`.

    Attributes
    ----------
    betahat
        Pre-period coefficients (oldest first) then post-period coefficients.
    sigma
        Their covariance matrix.
    num_pre, num_post
        How many of each.
    event_times
        Event time of each coefficient (the reference period is left out).
    notes
        Remarks from the adapter (e.g. binned endpoints, varying base period).
    """

    betahat: np.ndarray
    sigma: np.ndarray
    num_pre: int
    num_post: int
    event_times: np.ndarray
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.betahat = np.asarray(self.betahat, dtype=float).ravel()
        self.sigma = np.asarray(self.sigma, dtype=float)
        n = self.num_pre + self.num_post
        if self.num_pre < 1 or self.num_post < 1:
            raise DataValidationError(
                f"HonestDiD needs at least one pre-period and one post-period coefficient (got {self.num_pre} pre, "
                f"{self.num_post} post); widen the event-study window."
            )
        if self.betahat.shape != (n,) or self.sigma.shape != (n, n):
            raise DataValidationError(
                f"betahat must have num_pre + num_post = {n} entries and sigma be {n} x {n} "
                f"(got {self.betahat.shape} and {self.sigma.shape}); pass the full event-study covariance."
            )
        if not (np.all(np.isfinite(self.betahat)) and np.all(np.isfinite(self.sigma))):
            raise DataValidationError("betahat and sigma must be finite; drop event times with missing estimates.")
        if not np.allclose(self.sigma, self.sigma.T, atol=1e-12 * max(1.0, np.abs(self.sigma).max())):
            raise DataValidationError("sigma must be symmetric (a covariance matrix).")
        if np.any(np.diag(self.sigma) <= 0):
            raise DataValidationError("sigma has a zero or negative variance; drop the reference period's row.")


def _window(times: np.ndarray, reference: int, max_pre: int | None, max_post: int | None) -> np.ndarray:
    keep = times != reference
    if max_pre is not None:
        keep &= ~((times < reference) & (times < reference - max_pre))
    if max_post is not None:
        keep &= ~((times > reference) & (times > reference + max_post))
    return keep


def event_study_inputs(
    result,
    *,
    reference: int = -1,
    max_pre: int | None = None,
    max_post: int | None = None,
) -> EventStudyInputs:
    """Extract ``(betahat, sigma, num_pre, num_post)`` from a toolkit event-study result.

    Parameters
    ----------
    result
        An :class:`~equity_metrics.models.EventStudyResult`, a dynamic
        :class:`~equity_metrics.models.AggregateResult` (``aggregate("dynamic")``)
        or an :class:`~equity_metrics.models.EfficientResult` with
        ``estimand="eventstudy"``.
    reference
        The reference event time (left out; pre-periods are before it, post
        periods after it). ``-1`` for the toolkit's event studies.
    max_pre, max_post
        Keep at most this many pre-periods (the ones closest to the
        reference) and post-periods (event times ``reference + 1 ...``).

    Returns
    -------
    EventStudyInputs

    Examples
    --------
    >>> import numpy as np
    >>> inp = EventStudyInputs(np.array([0.0, 0.1]), np.eye(2) * 0.01, num_pre=1, num_post=1,
    ...                        event_times=np.array([-2, 0]))
    >>> inp.num_pre, inp.num_post
    (1, 1)
    """
    from ..did._aggregate_result import AggregateResult
    from ..efficient import EfficientResult
    from .._event_study import EventStudyResult

    notes: list[str] = []
    if isinstance(result, EventStudyResult):
        tab = result.table
        tab = tab[~tab["reference"].astype(bool)]
        times = tab["event_time"].to_numpy(int)
        beta = tab["estimate"].to_numpy(float)
        vc = result.vcov.reindex(index=tab["event_time"].to_numpy(), columns=tab["event_time"].to_numpy())
        sigma = vc.to_numpy(float)
        if tab["binned"].astype(bool).any():
            notes.append("the first/last event times are binned endpoints (they pool all earlier/later periods)")
        reference = int(result.base_period)
    elif isinstance(result, AggregateResult):
        if result.kind != "dynamic":
            raise OptionError(f"HonestDiD needs an event study: use aggregate('dynamic'), not {result.kind!r}.")
        if result.influence is None:
            raise DataValidationError("this aggregation carries no influence functions; re-run staggered_did.")
        lv = result.levels
        inf = np.asarray(result.influence, float)
        n = inf.shape[0]
        times = lv["level"].to_numpy(int)
        beta = lv["estimate"].to_numpy(float)
        sigma = inf.T @ inf / n**2
        ok = np.diag(sigma) > 0
        universal = bool(np.any((times == reference) & ~ok))  # the universal base period's zero row
        times, beta, sigma = times[ok], beta[ok], sigma[np.ix_(ok, ok)]
        if not universal:
            notes.append(
                "this Callaway-Sant'Anna event study seems to use base_period='varying': its pre-period "
                "coefficients are period-to-period changes, not comparisons with the reference period; "
                "re-run staggered_did(..., base_period='universal')"
            )
    elif isinstance(result, EfficientResult):
        tab = result.table
        if result.estimand != "eventstudy":
            raise OptionError("HonestDiD needs efficient_staggered(..., estimand='eventstudy').")
        sel = tab["level"] != "overall"
        times = pd.to_numeric(tab.loc[sel, "level"]).to_numpy(int)
        beta = tab.loc[sel, "estimate"].to_numpy(float)
        idx = np.flatnonzero(sel.to_numpy())
        sigma = result.vcov.to_numpy(float)[np.ix_(idx, idx)]
    else:
        raise OptionError(
            f"cannot read an event study from {type(result).__name__}; pass an EventStudyResult, "
            "staggered_did(...).aggregate('dynamic'), efficient_staggered(..., estimand='eventstudy'), "
            "or betahat and sigma."
        )
    keep = _window(times, reference, max_pre, max_post)
    order = np.argsort(times[keep], kind="stable")
    times = times[keep][order]
    beta = beta[keep][order]
    sigma = sigma[np.ix_(np.flatnonzero(keep)[order], np.flatnonzero(keep)[order])]
    num_pre = int(np.sum(times < reference))
    if num_pre == 0 and isinstance(result, EfficientResult):
        raise DataValidationError(
            "this efficient_staggered result has post-treatment event times only, and HonestDiD needs pre-period "
            "coefficients: ask for placebo event times too, e.g. efficient_staggered(..., estimand='eventstudy', "
            "event_times=[-5, -4, -3, -2, 0, 1, 2]) (-1 is the reference)."
        )
    return EventStudyInputs(beta, sigma, num_pre, len(times) - num_pre, times, notes)
