"""Power curve of a planned rollout and minimum detectable effects over designs (presentation only).

The results objects compute every number (:mod:`equity_metrics.models.planning`,
:func:`equity_metrics.power`); these functions only draw them.
"""

from __future__ import annotations

import numpy as np

from . import _axes

__all__ = ["power_curve", "mde_curve"]


def power_curve(result, *, ax=None, title: str | None = None):
    """Power against the true proportional effect, for a :class:`~equity_metrics.models.PowerResult`.

    Draws the analytic curve (Burlig, Preonas & Woerman), the normal-approximation curve from the
    simulated spread, the simulated points with 95% Monte Carlo intervals, the target power
    and the hoped-for effect; the caption gives the denominator (units, periods, replications).
    Returns the Axes.
    """
    ax = _axes(ax, height=4.2)
    curve = result.power_curve()
    x = 100 * curve["effect"].to_numpy()
    ax.plot(x, curve["power_analytic"], color="#888888", lw=1.5, ls="--",
            label=("analytic (this schedule)" if np.isfinite(result.mde_schedule)
                   else "analytic (BPW 2020, one-date approximation)"))
    ax.plot(x, curve["power_simulated_normal"], color="#1f77b4", lw=2,
            label="from the simulated spread (normal approximation)")
    t = result.tidy()
    px = 100 * t["effect"].to_numpy()
    p = t["power"].to_numpy(float)
    half = 1.96 * t["power_mcse"].to_numpy(float)
    ax.errorbar(px, p, yerr=half, fmt="o", color="#d62728", capsize=3,
                label=f"simulated ({int(t['n_sims'].max())} replications each, 95% MC interval)")
    ax.axhline(result.target_power, color="black", lw=0.8, ls=":")
    ax.axhline(result.alpha, color="#bbbbbb", lw=0.8, ls=":")
    ax.axvline(100 * result.effect, color="#2ca02c", lw=1, label=f"hoped-for change ({result.effect:+.0%})")
    ax.set_ylim(0, 1.42)  # headroom for the legend above the curve
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xlabel(f"true change in {result.outcome} after training (% of the untrained level)")
    ax.set_ylabel("power (chance of a clear result)")
    ax.set_title((title or f"Can the evaluation detect it? {result.outcome}")
                 + f"\n{result.n_units:,} units x {result.n_periods} periods; {result.n_treated:,} trained in "
                 f"{len(result.schedule)} cohort(s); untrained level {result.base:.3g}", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", ncol=2, framealpha=0.9)
    return ax


def mde_curve(table, *, ax=None, outcome: str = "outcome", title: str | None = None):
    """MDE (share of the untreated level, or outcome units when no level is known) against the number of units,
    one line per (pre, post) and share treated. Returns the Axes."""
    ax = _axes(ax)
    share = np.isfinite(table["mde_share"].to_numpy(float)).all()
    col = "mde_share" if share else "mde"
    for (m, r, p), d in table.groupby(["pre", "post", "share_treated"], sort=True):
        d = d.sort_values("units")
        y = d[col].to_numpy(float) * (100 if share else 1)
        ax.plot(d["units"], y, marker="o", label=f"{m} pre, {r} post, {p:.0%} treated")
    ax.set_xlabel("units in the evaluation")
    ax.set_ylabel("minimum detectable effect" + (" (% of untreated level)" if share else ""))
    ax.set_title(title or f"Minimum detectable effect: {outcome}")
    ax.legend(fontsize=7)
    return ax
