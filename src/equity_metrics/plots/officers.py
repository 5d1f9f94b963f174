"""Plots for local false discovery rates and officer-level internal benchmarking.

Called lazily by :meth:`equity_metrics.measures.locfdr.LocfdrResult.plot` and
:meth:`equity_metrics.measures.internal_benchmark.OfficerBenchmarkResult.plot`.
No officer identifier is ever drawn: the figures show distributions and counts.
"""

from __future__ import annotations

import numpy as np

from . import _axes

__all__ = ["locfdr_plot", "officer_benchmark_plot"]


def locfdr_plot(result, *, ax=None, title: str | None = None, xlabel: str = "z-statistic", unit: str = "cases",
                plain: bool = False):
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
    plain
        Labels for readers ("all officers", "expected spread if no officer differed", "chance a
        flag is a false alarm") instead of the technical ``f``, ``p0 f0`` and ``fdr``.

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
    k = int(result.flagged.sum())
    if plain:
        labels = (f"{unit} (count per bin)",
                  f"{unit} flagged: chance a flag is a false alarm below {result.threshold:.0%}",
                  f"all {unit} (smoothed)",
                  f"expected spread if no {unit[:-1] if unit.endswith('s') else unit} differed, estimated from "
                  f"the {unit} themselves\n(centre {result.delta:.2f}, spread {result.sigma:.2f}; pure chance: 0 and 1; "
                  f"{result.p0:.0%} of {unit} not differing)" if result.null != "theoretical" else
                  f"expected spread if no {unit[:-1] if unit.endswith('s') else unit} differed (pure chance)")
    else:
        labels = ("histogram of z", f"bins with fdr < {result.threshold:g}", "fitted mixture f",
                  f"null p0 f0: N({result.delta:.2f}, {result.sigma:.2f}^2) x {result.p0:.2f}")
    ax.bar(x[~flagged], count[~flagged], width=width, color="#c8c8c8", edgecolor="white", linewidth=0.3,
           label=labels[0])
    if flagged.any():
        ax.bar(x[flagged], count[flagged], width=width, color="#d95f02", edgecolor="white", linewidth=0.3,
               label=labels[1])
    ax.plot(x, b["f"], color="#1b9e77", lw=2, label=labels[2])
    ax.plot(x, result.p0 * b["f0"], color="#386cb0", lw=2, ls="--", label=labels[3])
    est = result.estimates.loc[result.null]
    n = len(result.z)
    if plain:
        head = (f"{title}\n" if title else "") + (
            f"{n:,} {unit}; {k:,} flagged (chance a flag is a false alarm below {result.threshold:.0%})")
    else:
        sd = "" if result.null == "theoretical" else (
            f" (SD {est['sd_delta']:.2f}, {est['sd_sigma']:.2f}, {est['sd_p0']:.2f})")
        head = (f"{title}\n" if title else "") + (
            f"{n:,} {unit}; {k:,} with fdr < {result.threshold:g}; null ({result.null}) delta {result.delta:.2f}, "
            f"sigma {result.sigma:.2f}, p0 {result.p0:.2f}{sd}")
    ax.set_title(head, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{unit} per bin")
    if plain:  # below the axes: never over the bars
        ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    else:
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
    head = title or (f"Share of {result.target} subjects: officers with at least {result.min_encounters} encounters "
                     "against comparable colleagues")
    return locfdr_plot(result.fdr, ax=ax, title=head, unit="officers", plain=True,
                       xlabel=f"officer's share of {result.target} subjects minus comparable colleagues' "
                              "(z-score: in standard errors)")
