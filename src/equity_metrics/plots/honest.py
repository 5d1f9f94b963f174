"""HonestDiD sensitivity plot: robust confidence sets against M (Mbar), next to the original interval.

Called lazily by :meth:`equity_metrics.models.honest.HonestDiDResult.plot`.
"""

from __future__ import annotations

import numpy as np

from . import _axes

__all__ = ["honest_sensitivity_plot"]


def honest_sensitivity_plot(result, *, ax=None, title: str | None = None):
    """Interval bars: the original CI (left, grey) and the robust sets for each M (blue); 0 marked.

    Parameters
    ----------
    result
        A :class:`~equity_metrics.models.honest.HonestDiDResult`.
    ax
        Matplotlib Axes to draw on (a new figure if ``None``).
    title
        Figure title (default: the target and restriction).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, matplotlib
    >>> matplotlib.use("Agg")
    >>> from equity_metrics.models.honest import honest_did
    >>> res = honest_did(np.array([0.0, 0.01, 0.3]), np.eye(3) * 4e-4, num_pre=2, num_post=1,
    ...                  m=[0, 1], grid_points=100, breakdown=False)
    >>> ax = honest_sensitivity_plot(res)
    >>> len(ax.lines) >= 3
    True
    """
    ax = _axes(ax)
    tab = result.table
    ms = tab["m"].to_numpy(float)
    gap = float(np.min(np.diff(np.unique(ms)))) if len(np.unique(ms)) > 1 else max(float(ms.max(initial=0)), 1.0)
    x0 = float(ms.min(initial=0)) - gap
    o = result.original
    ax.plot([x0, x0], [o["lb"], o["ub"]], color="0.45", lw=2.5, label="Original CI (exact parallel trends)")
    ax.plot([x0], [o["estimate"]], "o", color="0.45")
    for i, r in enumerate(tab.itertuples()):
        style = "--" if r.open_ended else "-"
        ax.plot([r.m, r.m], [r.lb, r.ub], style, color="#1f6fb4", lw=2.5,
                label=f"Robust CI ({r.method}, {r.delta})" if i == 0 else None)
        for y in (r.lb, r.ub):
            ax.plot([r.m - gap / 6, r.m + gap / 6], [y, y], color="#1f6fb4", lw=1.5)
    ax.axhline(0.0, color="black", lw=0.8)
    bd = result.breakdown
    if bd is not None and np.isfinite(bd) and bd > 0:
        ax.axvline(bd, color="#c0392b", ls=":", lw=1.2, label=f"Breakdown {result.m_name} = {bd:.3g}")
    pct = round(100 * (1 - result.alpha))
    ax.set_xlabel(result.m_name + (" (bound relative to the largest pre-period change)"
                                   if result.restriction == "relative_magnitudes" else " (smoothness bound)"))
    ax.set_ylabel(f"{pct}% confidence set")
    ax.set_title(title or f"Sensitivity of the {result.target} to violations of parallel trends")
    ax.legend(loc="best", fontsize=8)
    return ax
