"""Results objects of the HonestDiD sensitivity analysis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..._results import ResultBase

__all__ = ["HonestDiDResult", "BreakdownStatement"]

HONEST_COLUMNS = ["m", "lb", "ub", "method", "delta", "excludes_zero", "open_ended"]


@dataclass(eq=False)
class HonestDiDResult(ResultBase):
    """Robust confidence sets for one target over a sequence of M (or Mbar) values.

    Attributes
    ----------
    table
        ``HONEST_COLUMNS``: ``m`` (M for smoothness, Mbar for relative
        magnitudes), ``lb, ub`` (the robust confidence set), ``method`` (R's
        name: ``FLCI``, ``Conditional``, ``C-F``, ``C-LF``), ``delta`` (R's
        name of the restriction set, e.g. ``DeltaRM``, ``DeltaSDNB``),
        ``excludes_zero`` and ``open_ended`` (the set reached an end of the
        test grid: widen ``grid_lb``/``grid_ub``).
    original
        The usual confidence interval for the target (parallel trends exact):
        ``estimate, std_error, lb, ub``.
    breakdown
        Smallest M (Mbar) at which the robust set includes zero, found to
        ``breakdown_tol`` by bisection; ``0.0`` if the original interval already
        includes zero; ``inf`` if no M up to ``breakdown_max`` does; ``None``
        if not computed.
    restriction, bound, target, alpha, l_vec, event_times, seconds, notes
        Settings, the event times of the coefficients, run time and remarks.
    """

    table: pd.DataFrame
    original: dict
    breakdown: float | None
    breakdown_max: float | None
    restriction: str
    bound: str
    target: str
    alpha: float
    l_vec: np.ndarray
    event_times: np.ndarray | None
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def m_name(self) -> str:
        return "Mbar" if self.restriction == "relative_magnitudes" else "M"

    def tidy(self) -> pd.DataFrame:
        """The sensitivity table (``HONEST_COLUMNS``), preceded by the original interval (``method == "original"``)."""
        o = self.original
        first = pd.DataFrame([{"m": np.nan, "lb": o["lb"], "ub": o["ub"], "method": "original", "delta": "none",
                               "excludes_zero": bool(o["lb"] > 0 or o["ub"] < 0), "open_ended": False}])
        return pd.concat([first, self.table[HONEST_COLUMNS]], ignore_index=True)

    def statement(self) -> str:
        """One plain-language sentence about the breakdown value."""
        return breakdown_sentence(self.breakdown, restriction=self.restriction, bound=self.bound,
                                  m_max=self.breakdown_max)

    def summary(self) -> str:
        o = self.original
        pct = round(100 * (1 - self.alpha))
        lines = [
            "HonestDiD sensitivity analysis (Rambachan & Roth 2023)",
            f"Target: {self.target}; restriction: {self.restriction.replace('_', ' ')}"
            + (f" ({self.bound.replace('_', ' ')})" if self.restriction == "relative_magnitudes" else "")
            + f"; {pct}% robust confidence sets",
            f"Original {pct}% CI (exact parallel trends): estimate {o['estimate']:.4g}, "
            f"[{o['lb']:.4g}, {o['ub']:.4g}]",
            "",
            f"{self.m_name:>8}  {'lower':>10}  {'upper':>10}  method  set",
        ]
        for r in self.table.itertuples():
            flag = "  (open: widen the grid)" if r.open_ended else ""
            lines.append(f"{r.m:>8.4g}  {r.lb:>10.4g}  {r.ub:>10.4g}  {r.method:<6}  {r.delta}{flag}")
        if self.breakdown is not None:
            lines += ["", f"Breakdown {self.m_name}: {self.breakdown:.4g}", self.statement()]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<HonestDiDResult {self.restriction}, {len(self.table)} values, breakdown={self.breakdown}>"

    def plot(self, *, ax=None, title: str | None = None):
        """Sensitivity plot: the original interval and the robust sets against M (Mbar)."""
        from ...plots.honest import honest_sensitivity_plot

        return honest_sensitivity_plot(self, ax=ax, title=title)


def breakdown_sentence(breakdown: float | None, *, restriction: str, bound: str = "parallel_trends",
                       m_max: float | None = None) -> str:
    """Plain-language statement of a breakdown value."""
    if breakdown is None:
        return "The breakdown value was not computed."
    if breakdown == 0:
        return ("The estimated effect is not distinguishable from zero even if trends would have been exactly "
                "parallel, so there is no conclusion to protect.")
    if restriction == "relative_magnitudes":
        what = ("deviations from a linear trend after training" if bound == "linear_trend"
                else "post-training differences in trends")
        ref = ("the largest pre-training deviation from a linear trend" if bound == "linear_trend"
               else "the largest pre-training difference")
        if not np.isfinite(breakdown):
            return f"The conclusion holds even if {what} were {m_max:g} times {ref} (the largest value checked)."
        return f"The conclusion holds unless {what} were more than {breakdown:.2g} times {ref}."
    if not np.isfinite(breakdown):
        return f"The conclusion holds for every smoothness bound M checked (up to {m_max:g})."
    return (f"The conclusion holds unless the trend difference could change slope by more than {breakdown:.3g} "
            "(outcome units) from one period to the next.")


@dataclass(eq=False)
class BreakdownStatement(ResultBase):
    """The report's HonestDiD line: breakdown Mbar, its sentence and the sensitivity table.

    Attributes
    ----------
    mbar
        Breakdown value of Mbar (relative magnitudes, deviation from parallel trends).
    sentence
        Plain-language statement for the report.
    sensitivity
        The :class:`HonestDiDResult` (its ``tidy()`` is the sensitivity table).
    """

    mbar: float
    sentence: str
    sensitivity: HonestDiDResult

    def tidy(self) -> pd.DataFrame:
        """The sensitivity table (see :meth:`HonestDiDResult.tidy`)."""
        return self.sensitivity.tidy()

    def summary(self) -> str:
        return f"{self.sentence}\n\n{self.sensitivity.summary()}"

    def plot(self, *, ax=None, title: str | None = None):
        return self.sensitivity.plot(ax=ax, title=title)
