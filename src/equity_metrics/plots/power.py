"""Power curve of a planned rollout and minimum detectable effects over designs (presentation only).

The results objects compute every number (:mod:`equity_metrics.models.planning`,
:func:`equity_metrics.power`); these functions only draw them.
"""

from __future__ import annotations

import numpy as np

from . import _axes

__all__ = ["power_curve", "mde_curve"]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def power_curve(result, *, ax=None, title: str | None = None):
    """Power against the true proportional effect, for a :class:`~equity_metrics.models.PowerResult`.

    Draws the curve from the simulated spread, the formula's curve on top of it (dashed, so both
    stay visible where they agree), the simulated points with 95% simulation intervals, the
    target power and the hoped-for effect; the legend sits below the axes (it never covers a
    line) and the title gives the denominator (officers or units, periods, cohorts, replications).
    Returns the Axes.

    Examples
    --------
    >>> import numpy as np
    >>> from equity_metrics.models import power
    >>> y = np.random.default_rng(3).poisson(1.0, size=(200, 8)).astype(float)
    >>> r = power(y, schedule={"5": 100}, effect=-0.5, n_sims=20, estimator="twfe", seed=1)
    >>> power_curve(r).get_ylabel()
    'power (chance of a clear result)'
    """
    ax = _axes(ax, height=4.2)
    curve = result.power_curve()
    x = 100 * curve["effect"].to_numpy()
    u = getattr(result, "unit_name", "units")
    one = u[:-1] if u.endswith("s") else u
    what = getattr(result, "outcome_words", result.outcome)
    ax.plot(x, curve["power_simulated_normal"], color="#1f77b4", lw=3, alpha=0.8, zorder=2,
            label="from the simulated rollouts (smoothed)")
    ax.plot(x, curve["power_analytic"], color="#ff7f0e", lw=1.6, ls=(0, (5, 3)), zorder=3,
            label=("by formula for this schedule (analytic)" if np.isfinite(result.mde_schedule)
                   else "by the one-date formula (analytic; Burlig, Preonas & Woerman 2020)"))
    t = result.tidy()
    px = 100 * t["effect"].to_numpy()
    p = t["power"].to_numpy(float)
    half = 1.96 * t["power_mcse"].to_numpy(float)
    ax.errorbar(px, p, yerr=half, fmt="o", color="#d62728", capsize=3, zorder=4,
                label=f"simulated ({int(t['n_sims'].max()):,} rollouts each; bars: 95% simulation error)")
    ax.axhline(result.target_power, color="black", lw=0.8, ls=":", zorder=1,
               label=f"power wanted ({result.target_power:.0%})")
    ax.axhline(result.alpha, color="#999999", lw=0.8, ls=":", zorder=1,
               label=f"false-alarm rate when nothing changes ({result.alpha:.0%})")
    ax.axvline(100 * result.effect, color="#2ca02c", lw=1, zorder=1, label=f"hoped-for change ({result.effect:+.0%})")
    ax.set_ylim(0, 1.03)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xlabel(f"true change after training (% of the untrained level of {what})", fontsize=9)
    ax.set_ylabel("power (chance of a clear result)")
    ax.set_title((title or "Can the evaluation detect it?")
                 + f"\n{_plural(result.n_units, one, u)} x {_plural(result.n_periods, 'period')}; "
                 f"{result.n_treated:,} trained in {_plural(len(result.schedule), 'cohort')}; "
                 f"untrained level {result.base:.3g} per {one} and period", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
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
