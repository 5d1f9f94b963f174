"""Time-series figures: trend lines with intervals, interrupted time series, synthetic control.

Each function draws on the given Axes (a new figure when ``ax`` is None) and returns it.
The x axis is time: periods are drawn at their start date (a rolling window at its last month).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


__all__ = ["to_dates", "trend_plot", "its_plot", "synth_plot"]

_BLUE, _LIGHT, _GREY, _RED = "#1f4e79", "#9fbad6", "#888888", "#b03a2e"


def _axes(ax, height: float = 4.0):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, height))
    return ax


def to_dates(values: Any) -> pd.DatetimeIndex:
    """Period-like values (``period[M]``, ``"2020-06"``, ``"2020Q2"``, ``"2019-01..2019-12"``) as timestamps."""
    out = []
    for v in values:
        if isinstance(v, pd.Period):
            out.append(v.to_timestamp())
        elif isinstance(v, (pd.Timestamp, np.datetime64)):
            out.append(pd.Timestamp(v))
        else:
            out.append(pd.Period(str(v).split("..")[-1]).to_timestamp())
    return pd.DatetimeIndex(out)


def _vlines(ax, dates: Sequence[Any], label: str | None, color: str = _GREY) -> None:
    for i, d in enumerate(to_dates(dates)):
        ax.axvline(d, color=color, lw=1, ls="--", label=label if i == 0 else None)


def trend_plot(
    series: Mapping[str, pd.DataFrame],
    *,
    comparison: Mapping[str, pd.DataFrame] | None = None,
    markers: Sequence[Any] = (),
    marker_label: str = "training",
    ax=None,
    ylabel: str = "Value",
    title: str | None = None,
    reference_line: float | None = None,
    overlapping: bool = False,
):
    """One line per series (columns ``period, value, ci_low, ci_high``) with a shaded interval.

    ``comparison`` series (columns ``period, value``) are drawn dashed; ``markers`` are dates
    drawn as vertical lines (e.g. training dates). A series with a boolean ``partial`` column
    (and ``months_covered``, ``months_in_period``) draws its partial periods as hollow markers,
    with a legend entry "partial period (n of N months)". ``overlapping=True`` (rolling
    windows) notes on the x axis that the windows overlap. Returns the Axes.
    """
    ax = _axes(ax)
    partial_labels: list[str] = []
    for label, df in series.items():
        x = to_dates(df["period"])
        y = df["value"].to_numpy(float)
        part = df["partial"].to_numpy(bool) if "partial" in df.columns else np.zeros(len(df), bool)
        line = ax.plot(x, y, marker="o", ms=3, label=str(label), markevery=list(np.flatnonzero(~part)))[0]
        if part.any():
            desc = sorted({f"{int(c)} of {int(n)}" for c, n in zip(df["months_covered"].to_numpy()[part],
                                                                  df["months_in_period"].to_numpy()[part])}) \
                if {"months_covered", "months_in_period"} <= set(df.columns) else []
            lab = f"partial period ({', '.join(desc)} months)" if desc else "partial period"
            ax.plot(x[part], y[part], ls="none", marker="o", ms=6, mfc="white", mec=line.get_color(),
                    label=lab if lab not in partial_labels else None)
            partial_labels.append(lab)
        lo, hi = df["ci_low"].to_numpy(float), df["ci_high"].to_numpy(float)
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    for label, df in (comparison or {}).items():
        ax.plot(to_dates(df["period"]), df["value"].to_numpy(float), ls="--", color=_GREY, label=str(label))
    if reference_line is not None:
        ax.axhline(reference_line, color=_GREY, lw=1)
    if len(markers):
        _vlines(ax, markers, marker_label, _RED)
    ax.set_ylabel(ylabel)
    if overlapping:
        ax.set_xlabel("12 months ending (rolling windows overlap: each shares 11 months with the next)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    ax.figure.autofmt_xdate()
    return ax


def its_plot(
    time: Any,
    observed: np.ndarray,
    fitted: np.ndarray,
    counterfactual: np.ndarray,
    cf_low: np.ndarray,
    cf_high: np.ndarray,
    *,
    interventions: Sequence[Any] = (),
    ax=None,
    ylabel: str = "Outcome",
    title: str | None = None,
):
    """Observed points, the fitted segmented line, the counterfactual with its interval band
    (from the first intervention on) and dashed intervention lines. Returns the Axes."""
    ax = _axes(ax)
    x = to_dates(time)
    ax.plot(x, observed, "o", ms=3, color="#333333", label="observed")
    ax.plot(x, fitted, color=_BLUE, lw=1.8, label="fitted")
    post = np.ones(len(x), bool)
    if len(interventions):
        post = np.asarray(x >= to_dates(interventions[:1])[0])
    ax.plot(x[post], np.asarray(counterfactual)[post], color=_BLUE, ls="--", lw=1.2, label="counterfactual")
    ax.fill_between(x[post], np.asarray(cf_low)[post], np.asarray(cf_high)[post], color=_LIGHT, alpha=0.5, lw=0,
                    label="counterfactual interval")
    _vlines(ax, list(interventions), "intervention")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    ax.figure.autofmt_xdate()
    return ax


def synth_plot(
    paths: pd.DataFrame,
    placebos: pd.DataFrame | None = None,
    *,
    treated: str = "treated",
    intervention: Any = None,
    kind: str = "paths",
    ax=None,
    ylabel: str = "Outcome",
    title: str | None = None,
):
    """``kind="paths"``: treated and synthetic paths (columns ``time, treated, synthetic``);
    ``kind="gaps"``: the treated gap in colour over the placebo gaps in grey (``unit, time, gap``)."""
    from ..errors import OptionError

    if kind not in ("paths", "gaps"):
        raise OptionError(f"kind={kind!r} is not allowed; choose 'paths' or 'gaps'")
    ax = _axes(ax)
    x = to_dates(paths["time"])
    if kind == "paths":
        ax.plot(x, paths["treated"].to_numpy(float), color=_BLUE, lw=1.8, label=str(treated))
        ax.plot(x, paths["synthetic"].to_numpy(float), color=_BLUE, ls="--", lw=1.4, label=f"synthetic {treated}")
        ax.set_ylabel(ylabel)
    else:
        if placebos is not None and len(placebos):
            for i, (_, g) in enumerate(placebos.groupby("unit", sort=True)):
                ax.plot(to_dates(g["time"]), g["gap"].to_numpy(float), color="#c8c8c8", lw=0.8,
                        label="placebos" if i == 0 else None)
        ax.plot(x, paths["gap"].to_numpy(float), color=_BLUE, lw=1.8, label=str(treated))
        ax.axhline(0, color=_GREY, lw=1)
        ax.set_ylabel(f"Gap in {ylabel} (treated - synthetic)")
    if intervention is not None:
        _vlines(ax, [intervention], "intervention")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    ax.figure.autofmt_xdate()
    return ax
