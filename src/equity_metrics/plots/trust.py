"""Plots of community trust: the gap between groups over time, and a programme's event study.

Called lazily by :class:`~equity_metrics.measures.trust.TrustGapResult` and
:class:`~equity_metrics.models.trust_impact.TrustImpactResult`; each returns the Axes.
"""

from __future__ import annotations

import numpy as np

from . import _axes
from .eventstudy import event_study_plot

__all__ = ["plot_gap", "plot_trust_event_study"]


def plot_gap(result, *, ax=None, title: str | None = None):
    """The gap per period with its interval band; rolling-window periods drawn hollow.

    Examples
    --------
    >>> from equity_metrics.datasets import make_trust_panel
    >>> from equity_metrics.measures.trust import trust_gap
    >>> ax = plot_gap(trust_gap(make_trust_panel(n_areas=5, n_months=6, seed=0).survey))
    >>> ax.get_ylabel()
    'Gap (points on the survey scale)'
    """
    ax = _axes(ax)
    t = result.table
    x = np.arange(len(t))
    ax.fill_between(x, t["ci_low"].to_numpy(float), t["ci_high"].to_numpy(float), color="#1f4e79", alpha=0.18,
                    lw=0, label=f"{1 - result.alpha:.0%} interval ({result.area_type}s)")
    ov = t["overlapping"].fillna(False).to_numpy(bool)
    ax.plot(x, t["gap"].to_numpy(float), color="#1f4e79", lw=1.5)
    ax.plot(x[~ov], t["gap"].to_numpy(float)[~ov], "o", ms=3, color="#1f4e79", label=f"{result.group} minus {result.reference}")
    if ov.any():
        ax.plot(x[ov], t["gap"].to_numpy(float)[ov], "o", ms=3, mfc="white", mec="#1f4e79",
                label="rolling window (overlapping)")
    ax.axhline(0.0, color="#888", lw=1)
    step = max(1, len(t) // 10)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(t["period"].astype(str).tolist()[::step], rotation=45, ha="right")
    ax.set_ylabel("Gap (points on the survey scale)" if "0-100" in result.scale or not result.scale else "Gap")
    ax.set_title(title or f"{result.measure}: {result.group} minus {result.reference}")
    ax.legend(frameon=False, fontsize="small")
    ax.figure.tight_layout()
    return ax


def plot_trust_event_study(result, *, ax=None, title: str | None = None):
    """Effects by months since the programme started, with intervals (an event study)."""
    es = result.event_study
    return event_study_plot(es["event_time"], es["estimate"], es["ci_low"], es["ci_high"], reference=None, ax=ax,
                            title=title or f"Programme and {result.outcome}",
                            ylabel="Effect (points)", xlabel="Months since the programme started")
