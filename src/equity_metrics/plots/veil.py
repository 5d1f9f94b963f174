"""Veil-of-darkness figures: minority share by clock time (light vs dark), and odds ratios by area."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _axes
from .forest import forest_plot

__all__ = ["veil_plot", "veil_by_area_plot"]

SMALL = 20  # bins with fewer searches than this are drawn hollow and flagged in the legend


def veil_plot(result, *, ax=None, bin_minutes: int = 15):
    """Share of the minority group among searches by clock time, light vs dark (95% Wilson intervals).

    One point per clock-time bin and light/dark side, sized by the number of searches (the
    denominator); bins with fewer than 20 searches are hollow. The title carries the darkness
    odds ratio and its interval from the model. Returns the matplotlib Axes.
    """
    from ..measures.intervals import wilson_ci

    c = result.counts.copy()
    c["bin"] = (c["minute"] // bin_minutes) * bin_minutes
    g = c.groupby(["is_dark", "bin"], sort=True)[["n_minority", "n_majority"]].sum().reset_index()
    g["n"] = g["n_minority"] + g["n_majority"]
    g = g[g["n"] > 0]
    lo, hi = wilson_ci(g["n_minority"].to_numpy(), g["n"].to_numpy())
    g["share"], g["lo"], g["hi"] = g["n_minority"] / g["n"], lo, hi
    ax = _axes(ax, height=4.2)
    offset = bin_minutes * 0.12
    for dark, colour, label in ((False, "#e0a030", "light"), (True, "#1f4e79", "dark")):
        s = g[g["is_dark"] == dark]
        if s.empty:
            continue
        x = s["bin"].to_numpy(float) + bin_minutes / 2 + (offset if dark else -offset)
        y = s["share"].to_numpy()
        ax.errorbar(x, y, yerr=[y - s["lo"].to_numpy(), s["hi"].to_numpy() - y], fmt="none", ecolor=colour,
                    alpha=0.6, capsize=2)
        size = 12 + 60 * np.sqrt(s["n"].to_numpy() / max(g["n"].max(), 1))
        small = s["n"].to_numpy() < SMALL
        ax.scatter(x[~small], y[~small], s=size[~small], color=colour, label=f"{label} (n = {int(s['n'].sum()):,})",
                   zorder=3)
        if small.any():
            ax.scatter(x[small], y[small], s=size[small], facecolors="white", edgecolors=colour, zorder=3,
                       label=f"{label}: bin with fewer than {SMALL} searches")
    ticks = np.arange((g["bin"].min() // 60) * 60, g["bin"].max() + bin_minutes + 60, 60)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{int(t) // 60:02d}:{int(t) % 60:02d}" for t in ticks])
    ax.set_xlabel(f"Clock time (local), {bin_minutes}-minute bins")
    ax.set_ylabel(f"{result.minority} share of {result.minority} + {result.majority} searches")
    pct = int(round(result.level * 100))
    ax.set_title(f"Veil of darkness: odds ratio dark vs light {result.odds_ratio:.2f} "
                 f"({pct}% CI {result.ci_low:.2f} to {result.ci_high:.2f}); n = {result.n_used:,}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.figure.tight_layout()
    return ax


def veil_by_area_plot(result, *, ax=None):
    """Forest plot of each applicable area's darkness odds ratio (log scale), labelled with its denominators."""
    t: pd.DataFrame = result.table
    ok = t[t["applicable"]].sort_values("odds_ratio", kind="stable")
    labels = [f"{r.area} (n {r.n_light + r.n_dark:,}; {result.minority} {r.n_minority:,})" for r in ok.itertuples()]
    small = (ok["n_minority"] < 2 * result.min_minority).to_numpy()
    pct = int(round(result.level * 100))
    ax = forest_plot(labels, ok["odds_ratio"].to_numpy(), ok["ci_low"].to_numpy(), ok["ci_high"].to_numpy(),
                     ax=ax, reference_line=1.0, log=True, partial=small,
                     partial_label=f"fewer than {2 * result.min_minority} {result.minority} searches",
                     xlabel=f"Darkness odds ratio ({result.minority} vs {result.majority}; {pct}% CI; below 1 = "
                            "lower share after dark)",
                     title=f"Veil of darkness by area: {len(ok)} of {len(t)} areas testable")
    return ax
