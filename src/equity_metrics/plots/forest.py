"""Forest plot: one estimate and its interval per row (ratios by area, pooled and stratified estimates)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _axes

__all__ = ["forest_plot"]


def forest_plot(
    labels: Sequence[str],
    estimate: np.ndarray,
    ci_low: np.ndarray,
    ci_high: np.ndarray,
    *,
    ax=None,
    reference_line: float | None = 1.0,
    xlabel: str = "Estimate",
    log: bool = False,
    title: str | None = None,
    partial: Sequence[bool] | None = None,
    partial_label: str = "partial period",
):
    """Point estimates with horizontal interval bars, one row per label. Returns the Axes.

    ``partial`` (one boolean per row) draws those rows' estimates as hollow markers with a
    legend entry ``partial_label`` (e.g. "partial period (3 of 12 months)").
    With ``log=True`` the x axis is a log scale with plain ratio ticks (0.5, 1, 1.5, 2, 3, ...),
    as in the report, not scientific minor-tick labels.
    """
    n = len(labels)
    ax = _axes(ax, height=max(2.5, 0.3 * n + 1))
    y = np.arange(n)[::-1]
    est = np.asarray(estimate, float)
    lo = np.asarray(ci_low, float)
    hi = np.asarray(ci_high, float)
    err = np.vstack([np.where(np.isfinite(lo), est - lo, 0), np.where(np.isfinite(hi), hi - est, 0)])
    part = np.zeros(n, bool) if partial is None else np.asarray(partial, bool)
    full = ~part
    if full.any():
        ax.errorbar(est[full], y[full], xerr=err[:, full], fmt="o", color="#1f4e79", ecolor="#6b8fb3", capsize=3)
    if part.any():
        ax.errorbar(est[part], y[part], xerr=err[:, part], fmt="o", color="#1f4e79", mfc="white", ecolor="#6b8fb3",
                    capsize=3, ls="none", label=partial_label)
        ax.legend(fontsize=8, frameon=False)
    if reference_line is not None:
        ax.axvline(reference_line, color="#888", lw=1, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels([str(lab) for lab in labels])
    if log and np.isfinite(est).any():
        from ._ticks import log_ratio_ticks

        log_ratio_ticks(ax, lo, hi, est[np.isfinite(est)])
    elif log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return ax
