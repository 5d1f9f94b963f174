"""Plots (presentation layer). Measures and models call these lazily from their ``plot()`` methods.

Every figure shows its uncertainty (intervals) and is deterministic (no timestamps in metadata).
"""


def _axes(ax, height: float = 4.0):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, height))
    return ax


# after _axes: the plot modules import it from here
from .forest import forest_plot  # noqa: E402
from .veil import veil_by_area_plot, veil_plot  # noqa: E402
from .power import mde_curve, power_curve  # noqa: E402
from .honest import honest_sensitivity_plot  # noqa: E402
from .officers import locfdr_plot, officer_benchmark_plot  # noqa: E402
from .threshold import threshold_plot  # noqa: E402

__all__ = ["veil_plot", "veil_by_area_plot", "forest_plot", "power_curve", "mde_curve", "honest_sensitivity_plot", "locfdr_plot",
           "officer_benchmark_plot", "threshold_plot"]
