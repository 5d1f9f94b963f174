"""Plots for local false discovery rates and officer-level internal benchmarking.

Called lazily by :meth:`equity_metrics.measures.locfdr.LocfdrResult.plot` and
:meth:`equity_metrics.measures.internal_benchmark.OfficerBenchmarkResult.plot`.
No officer identifier is ever drawn: the figures show distributions and counts.
"""

from __future__ import annotations

import numpy as np

from . import _axes

__all__ = ["locfdr_plot", "officer_benchmark_plot"]


def locfdr_plot(result, *, ax=None, title: str | None = None, xlabel: str = "z-statistic", unit: str = "cases"):
    """Histogram of z with the fitted mixture ``f``, the null ``p0 f0`` and the flagged bins shaded.

    Parameters
    ----------
    result
        A :class:`~equity_metrics.measures.locfdr.LocfdrResult`.
    ax
        Axes to draw on (a new figure if omitted).
    title, xlabel
        Labels (the title gets the denominator, the number flagged and the null estimates with their SDs).
    unit
        What the cases are, for the title ("cases", "officers").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from equity_metrics.measures.locfdr import locfdr
    >>> res = locfdr(np.random.default_rng(1).normal(size=1000), bre=50)
    >>> locfdr_plot(res).get_xlabel()
    'z-statistic'
    """
    ax = _axes(ax)
    b = result.bins
    x, count = b["x"].to_numpy(), b["count"].to_numpy()
    width = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    flagged = b["fdr"].to_numpy() < result.threshold
    ax.bar(x[~flagged], count[~flagged], width=width, color="#c8c8c8", edgecolor="white", linewidth=0.3,
           label="histogram of z")
    if flagged.any():
        ax.bar(x[flagged], count[flagged], width=width, color="#d95f02", edgecolor="white", linewidth=0.3,
               label=f"bins with fdr < {result.threshold:g}")
    ax.plot(x, b["f"], color="#1b9e77", lw=2, label="fitted mixture f")
    ax.plot(x, result.p0 * b["f0"], color="#386cb0", lw=2, ls="--",
            label=f"null p0 f0: N({result.delta:.2f}, {result.sigma:.2f}^2) x {result.p0:.2f}")
    est = result.estimates.loc[result.null]
    sd = "" if result.null == "theoretical" else (
        f" (SD {est['sd_delta']:.2f}, {est['sd_sigma']:.2f}, {est['sd_p0']:.2f})")
    n, k = len(result.z), int(result.flagged.sum())
    head = (f"{title}\n" if title else "") + (
        f"{n:,} {unit}; {k:,} with fdr < {result.threshold:g}; null ({result.null}) delta {result.delta:.2f}, "
        f"sigma {result.sigma:.2f}, p0 {result.p0:.2f}{sd}")
    ax.set_title(head, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{unit} per bin")
    ax.legend(fontsize=8, frameon=False)
    return ax


def officer_benchmark_plot(result, *, ax=None, title: str | None = None):
    """The officers' z-statistics with the empirical null and the flagged tail (no identifiers).

    Parameters
    ----------
    result
        An :class:`~equity_metrics.measures.internal_benchmark.OfficerBenchmarkResult`.
    ax, title
        Axes to draw on and an optional first title line.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from equity_metrics.measures.internal_benchmark import internal_benchmark, simulate_officer_encounters
    >>> ev, _ = simulate_officer_encounters(n_officers=300, n_biased=15, seed=2)
    >>> ax = officer_benchmark_plot(internal_benchmark(ev, min_encounters=40))
    >>> ax.get_ylabel()
    'officers per bin'
    """
    head = title or (f"{result.group} = {result.target}: officers (>= {result.min_encounters} encounters) "
                     "vs comparable colleagues")
    return locfdr_plot(result.fdr, ax=ax, title=head, unit="officers",
                       xlabel="z: officer's share minus colleagues' (doubly robust), in standard errors")
