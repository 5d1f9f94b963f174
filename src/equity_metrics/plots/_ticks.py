"""Plain log-ratio ticks and readable row labels, shared by the public plots and the report's figures."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["NICE_RATIO_TICKS", "log_ratio_ticks", "row_label"]

#: Candidate ticks of a log ratio axis (the report's: 1, 1.5, 2, 3, ... rather than 6x10^-1).
NICE_RATIO_TICKS = np.array([0.1, 0.2, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100])


def log_ratio_ticks(ax, *values) -> None:
    """Put ``ax``'s x axis on a log scale with plain ticks (``0.5, 1, 1.5, 2, 3``) spanning ``values``.

    ``values``: the arrays drawn (estimates, interval ends); non-finite and non-positive
    values are ignored, 1 is always included. No minor tick labels (no ``6x10^-1``).
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    ax.set_xscale("log")
    arrs = [np.asarray(v, float).ravel() for v in values]
    vals = np.concatenate(arrs + [np.array([1.0])])
    vals = vals[np.isfinite(vals) & (vals > 0)]
    nice = NICE_RATIO_TICKS
    ticks = nice[(nice >= vals.min() / 1.05) & (nice <= vals.max() * 1.05)]
    ax.xaxis.set_major_locator(FixedLocator(ticks if len(ticks) >= 2 else nice))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def row_label(parts: Iterable[object]) -> str:
    """A readable row label: parts joined with ", ", dropping empty and ``"all"`` placeholders.

    >>> row_label(["eastmoor", "all", "Asian"])
    'eastmoor, Asian'
    """
    kept = [str(p) for p in parts if p is not None and str(p).strip() and str(p) != "all"]
    return ", ".join(kept)
