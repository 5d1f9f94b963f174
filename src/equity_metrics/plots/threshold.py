"""Threshold-test figure: each group's area thresholds against the reference group's (as OPP's figure)."""

from __future__ import annotations

import numpy as np

__all__ = ["threshold_plot"]


def threshold_plot(result, *, ax=None, groups=None, intervals: bool = True):
    """Scatter of area thresholds, one panel per compared group, as in the Stanford Open Policing figures.

    Each point is an area: x = the reference group's threshold there, y = the compared group's;
    point area is proportional to the compared group's stops (the denominator); the dashed line is
    y = x (equal thresholds), so points below it are areas where the group is searched on less
    evidence. Thin bars show 95% credible intervals; hollow points mark cells with fewer than 20
    searches (thresholds that lean on the priors). The panel title gives the aggregate difference
    with its credible interval.

    Parameters
    ----------
    result
        A :class:`~equity_metrics.models.ThresholdTestResult`.
    ax
        A matplotlib Axes or a sequence of them (one per compared group); default: new figure.
    groups
        Compared groups to show (default all but the reference).
    intervals
        Draw the credible-interval bars.

    Returns
    -------
    numpy.ndarray
        The Axes, one per compared group.
    """
    import matplotlib.pyplot as plt

    ref = result.reference_group
    cells = result.cells
    groups = [g for g in (groups or list(result.aggregate["group"])) if g != ref]
    if ax is None:
        fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 4.4), squeeze=False)
        axes = axes[0]
    else:
        axes = np.atleast_1d(ax)
        fig = axes[0].figure
    base = cells[cells["group"] == ref].set_index("area")
    all_vals = cells[["ci_low", "ci_high"]].to_numpy(float) if intervals else cells[["threshold"]].to_numpy(float)
    hi = float(np.nanmax(all_vals)) * 1.05
    agg = result.aggregate.set_index("group")
    for a, g in zip(axes, groups):
        cmp_ = cells[cells["group"] == g].set_index("area")
        both = base.add_suffix("_ref").join(cmp_, how="inner")
        x, y = both["threshold_ref"].to_numpy(float), both["threshold"].to_numpy(float)
        size = 400 * both["stops"].to_numpy(float) / max(float(cells["stops"].max()), 1.0) + 6
        small = (both["small_count"] | both["small_count_ref"]).to_numpy(bool)
        if intervals:
            a.errorbar(x, y, xerr=[x - both["ci_low_ref"], both["ci_high_ref"] - x],
                       yerr=[y - both["ci_low"], both["ci_high"] - y], fmt="none", ecolor="#b8c7d9", lw=0.6, zorder=1)
        a.scatter(x[~small], y[~small], s=size[~small], color="#1f4e79", alpha=0.55, edgecolor="white", lw=0.4, zorder=2)
        if small.any():
            a.scatter(x[small], y[small], s=size[small], facecolor="none", edgecolor="#1f4e79", lw=0.8, zorder=2,
                      label="fewer than 20 searches")
            a.legend(fontsize=7, frameon=False, loc="upper left")
        a.plot([0, hi], [0, hi], ls="--", color="#888", lw=1)
        a.set_xlim(0, hi)
        a.set_ylim(0, hi)
        a.set_aspect("equal")
        pct = plt.FuncFormatter(lambda v, _: f"{v:.0%}")
        a.xaxis.set_major_formatter(pct)
        a.yaxis.set_major_formatter(pct)
        a.set_xlabel(f"{ref} threshold")
        a.set_ylabel(f"{g} threshold")
        r = agg.loc[g]
        a.set_title(f"{g} vs {ref}: {r['diff_vs_reference']:+.1%} [{r['diff_ci_low']:+.1%}, {r['diff_ci_high']:+.1%}]\n"
                    f"{len(both)} areas; {int(r['stops']):,} {g} stops, {int(r['searches']):,} searches", fontsize=9)
    fig.text(0.5, 0.005, "Point size: stops of the compared group; bars: 95% credible intervals", ha="center", fontsize=7)
    return np.asarray(axes)
