"""One source's figures against another's, per area, with the line of equality."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _axes

__all__ = ["comparison_plot"]


def comparison_plot(
    x: np.ndarray,
    y: np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    partial: Sequence[bool] | None = None,
    highlight: Sequence[bool] | None = None,
    ax=None,
    xlabel: str = "published",
    ylabel: str = "recomputed",
    title: str | None = None,
    log: bool = True,
):
    """Scatter of ``y`` against ``x`` with the 45-degree line; returns the Axes.

    ``partial`` rows are drawn hollow (e.g. a year with months missing), ``highlight`` rows
    are labelled with their ``labels`` (e.g. large gaps). Deterministic: no random jitter.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = len(x)
    part = np.zeros(n, bool) if partial is None else np.asarray(partial, bool)
    hi = np.zeros(n, bool) if highlight is None else np.asarray(highlight, bool)
    ax = _axes(ax, height=5.0)
    ok = np.isfinite(x) & np.isfinite(y) & ((x > 0) & (y > 0) if log else True)
    if (ok & ~part).any():
        ax.scatter(x[ok & ~part], y[ok & ~part], s=16, color="#1f4e79", label="complete year")
    if (ok & part).any():
        ax.scatter(x[ok & part], y[ok & part], s=16, facecolors="white", edgecolors="#1f4e79",
                   label="partial year (months missing)")
    if ok.any():
        lo, up = float(min(x[ok].min(), y[ok].min())), float(max(x[ok].max(), y[ok].max()))
        lo, up = (lo / 1.5, up * 1.5) if log else (0.0, up * 1.05)
        ax.plot([lo, up], [lo, up], color="#888", lw=1, ls="--", label="equal")
        ax.set_xlim(lo, up)
        ax.set_ylim(lo, up)
    if labels is not None:
        for i in np.flatnonzero(hi & ok):
            ax.annotate(str(labels[i]), (x[i], y[i]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    return ax
