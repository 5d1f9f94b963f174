"""Plots for training-impact designs: event studies, rollouts, group means, TWFE weights.

Called lazily by the ``plot()`` methods of :mod:`equity_metrics.models.did_classic`,
:mod:`equity_metrics.models.efficient` and :mod:`equity_metrics.models.panel`;
each function returns the matplotlib Axes and shows the uncertainty it has.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import _axes

__all__ = ["event_study_plot", "rollout_plot", "group_means_plot", "twfe_weights_plot"]


def event_study_plot(
    event_time: Sequence[float],
    estimate: Sequence[float],
    ci_low: Sequence[float],
    ci_high: Sequence[float],
    *,
    reference: float | None = -1,
    ax=None,
    title: str | None = None,
    ylabel: str = "Effect",
    xlabel: str = "Periods relative to treatment",
):
    """Point estimates by event time with interval bars; pre-treatment grey, post blue.

    Parameters
    ----------
    event_time, estimate, ci_low, ci_high
        One value per event time (the reference period has estimate 0 and no interval).
    reference
        The omitted event time, drawn as a hollow marker (``None``: none).
    ax
        Axes to draw on (a new figure if omitted).
    title, ylabel, xlabel
        Labels.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = event_study_plot([-2, -1, 0, 1], [0.1, 0.0, -0.5, -0.7], [-0.1, np.nan, -0.8, -1.0],
    ...                       [0.3, np.nan, -0.2, -0.4])
    >>> ax.get_xlabel()
    'Periods relative to treatment'
    """
    ax = _axes(ax)
    e = np.asarray(event_time, float)
    est = np.asarray(estimate, float)
    lo, hi = np.asarray(ci_low, float), np.asarray(ci_high, float)
    ref = np.zeros(e.size, bool) if reference is None else e == reference
    for mask, color, label in ((e < 0) & ~ref, "#7f7f7f", "before treatment"), ((e >= 0) & ~ref, "#1f4e79", "after treatment"):
        if mask.any():
            err = np.vstack([np.where(np.isfinite(lo[mask]), est[mask] - lo[mask], 0),
                             np.where(np.isfinite(hi[mask]), hi[mask] - est[mask], 0)])
            ax.errorbar(e[mask], est[mask], yerr=err, fmt="o", color=color, ecolor=color, capsize=3, label=label)
    if ref.any():
        ax.plot(e[ref], est[ref], "o", mfc="white", mec="#7f7f7f", label=f"reference (e = {reference:g})")
    ax.axhline(0.0, color="#888", lw=1)
    ax.axvline(-0.5, color="#888", lw=1, ls=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    ax.figure.tight_layout()
    return ax


def rollout_plot(periods: Sequence[str], share_treated: Sequence[float], *, ax=None, title: str | None = None):
    """Share of units treated in each period (a staircase). Returns the Axes."""
    ax = _axes(ax)
    x = np.arange(len(periods))
    ax.step(x, np.asarray(share_treated, float), where="post", color="#1f4e79")
    step = max(1, len(periods) // 12)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([str(p) for p in list(periods)[::step]], rotation=45, ha="right")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("Share of units trained")
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax


def group_means_plot(trends: pd.DataFrame, *, ax=None, ylabel: str = "Mean outcome"):
    """Mean outcome by period for each group (``group, time, y``). Returns the Axes."""
    ax = _axes(ax)
    for (grp, d), color in zip(trends.groupby("group", sort=True), ("#7f7f7f", "#1f4e79")):
        ax.plot(d["time"].to_numpy(), d["y"].to_numpy(float), "o-", color=color, label=str(grp))
    ax.set_xlabel("Period")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    ax.figure.tight_layout()
    return ax


def twfe_weights_plot(weights: pd.DataFrame, *, ax=None):
    """Weights of the static TWFE coefficient on each treated unit-period, by event time. Returns the Axes."""
    ax = _axes(ax)
    w = weights["weight"].to_numpy(float)
    e = weights["event_time"].to_numpy(float)
    neg = w < 0
    ax.scatter(e[~neg], w[~neg], s=8, color="#1f4e79", label="positive weight")
    if neg.any():
        ax.scatter(e[neg], w[neg], s=8, color="#b22222", label="negative weight")
    ax.axhline(0.0, color="#888", lw=1)
    ax.set_xlabel("Periods since treatment")
    ax.set_ylabel("TWFE weight")
    ax.set_title("Weights of the static TWFE coefficient (de Chaisemartin & D'Haultfoeuille)")
    ax.legend(frameon=False, fontsize="small")
    ax.figure.tight_layout()
    return ax
