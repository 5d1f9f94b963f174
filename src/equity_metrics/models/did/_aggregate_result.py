"""Result objects of the aggregations and the pre-trend test of :mod:`equity_metrics.models.did`.

:class:`OverallEstimate` (one summary number with its interval),
:class:`PretrendTest` (the Wald test of no pre-trends) and
:class:`AggregateResult` (an aggregation of group-time effects: table, plot,
summary), with the small formatting helpers they share with
:class:`~equity_metrics.models.did.results.StaggeredDiDResult`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ..._results import ResultBase


if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


__all__ = ["OverallEstimate", "AggregateResult", "PretrendTest", "AggregationType", "PretrendKind"]

AggregationType = Literal["simple", "dynamic", "group", "calendar"]
PretrendKind = Literal["cells", "event_time"]
_DEGENERATE = np.sqrt(np.finfo(float).eps) * 10
_LEVEL_NAMES = {"simple": "", "dynamic": "event time", "group": "cohort", "calendar": "period"}
_TITLES = {
    "simple": "Overall ATT (average of post-treatment ATT(g,t), weighted by cohort size)",
    "dynamic": "Event-study ATT by time relative to treatment",
    "group": "ATT by treatment cohort",
    "calendar": "ATT by calendar period",
}


def _clean_se(se: np.ndarray) -> np.ndarray:
    se = np.asarray(se, dtype=float)
    return np.where(se <= _DEGENERATE, np.nan, se)


def _fmt_table(df: pd.DataFrame) -> str:
    return df.to_string(index=False, float_format=lambda v: f"{v:.6g}", na_rep="NaN")


@dataclass(frozen=True)
class OverallEstimate:
    """A scalar summary effect with its standard error and confidence interval.

    Attributes
    ----------
    estimate, std_error, ci_low, ci_high
        The estimate, its standard error and the pointwise ``1 - alpha``
        confidence interval.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float

    @property
    def se(self) -> float:
        """Alias of :attr:`std_error`."""
        return self.std_error

    @property
    def ci(self) -> tuple[float, float]:
        """``(ci_low, ci_high)``."""
        return (self.ci_low, self.ci_high)

    def __str__(self) -> str:
        return (
            f"{self.estimate:.6g} (SE {self.std_error:.6g}; CI [{self.ci_low:.6g}, {self.ci_high:.6g}])"
        )


@dataclass(frozen=True)
class PretrendTest:
    """Wald test that all pre-treatment ATT(g,t) are zero.

    Attributes
    ----------
    statistic
        Wald chi-square statistic ``att' V^{-1} att``.
    df
        Degrees of freedom (number of pre-treatment cells, or the rank of
        their covariance if it is singular).
    p_value
        ``P(chi2_df > statistic)``.
    n_cells
        Number of pre-treatment cells tested.
    notes
        Remarks (e.g. singular covariance).
    """

    statistic: float
    df: int
    p_value: float
    n_cells: int
    notes: tuple[str, ...] = ()
    kind: str = "cells"

    def __str__(self) -> str:
        what = (
            f"all {self.n_cells} pre-treatment ATT(g,t) = 0"
            if self.kind == "cells"
            else f"all {self.n_cells} event-study leads = 0"
        )
        s = f"Pre-trend Wald test ({what}): chi2({self.df}) = {self.statistic:.4f}, p-value = {self.p_value:.4g}"
        return s + "".join(f"\nNote: {n}" for n in self.notes)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


@dataclass(eq=False)
class AggregateResult(ResultBase):
    """An aggregation of group-time effects (R ``did::aggte``).

    Attributes
    ----------
    kind
        ``"simple"``, ``"dynamic"``, ``"group"`` or ``"calendar"``.
    overall
        The overall summary (:class:`OverallEstimate`).
    levels
        Per-level table: ``level, estimate, std_error, ci_low, ci_high, crit``.
    crit_value
        Critical value of the level intervals (pointwise normal, or sup-t from
        the bootstrap for simultaneous bands).
    simultaneous
        Whether ``crit_value`` is a sup-t (uniform) critical value.
    alpha, bootstrap, n_boot
        Settings used.
    notes
        Remarks about cells or levels left out.
    influence
        Level influence functions ``(n_units, L)``.
    overall_influence
        Influence function of the overall summary ``(n_units,)``.

    Examples
    --------
    >>> from equity_metrics.models.did import staggered_did  # doctest: +SKIP
    >>> es = staggered_did(df).aggregate("dynamic")          # doctest: +SKIP
    >>> es.tidy().head()                                      # doctest: +SKIP
    """

    kind: str
    overall: OverallEstimate
    levels: pd.DataFrame
    crit_value: float
    simultaneous: bool
    alpha: float
    bootstrap: bool
    n_boot: int | None
    notes: list[str] = field(default_factory=list)
    influence: np.ndarray | None = field(default=None, repr=False)
    overall_influence: np.ndarray | None = field(default=None, repr=False)

    def tidy(self, *, include_overall: bool = True) -> pd.DataFrame:
        """Return a tidy table, the overall row (``level == "overall"``) first.

        Parameters
        ----------
        include_overall
            Add the overall summary as the first row.

        Returns
        -------
        pandas.DataFrame
            Columns ``level, estimate, std_error, ci_low, ci_high, crit``.
        """
        z = NormalDist().inv_cdf(1 - self.alpha / 2)
        rows = []
        if include_overall:
            o = self.overall
            rows.append(
                pd.DataFrame(
                    {
                        "level": ["overall"],
                        "estimate": [o.estimate],
                        "std_error": [o.std_error],
                        "ci_low": [o.ci_low],
                        "ci_high": [o.ci_high],
                        "crit": [z],
                    }
                )
            )
        if len(self.levels):
            lv = self.levels.copy()
            if include_overall:
                lv["level"] = lv["level"].astype(object)
            rows.append(lv)
        if not rows:
            return self.levels.copy()
        return pd.concat(rows, ignore_index=True) if len(rows) > 1 else rows[0].reset_index(drop=True)

    def summary(self) -> str:
        """A plain-text report of the overall effect and the level estimates."""
        band = (
            f"simultaneous (sup-t, bootstrap with {self.n_boot} draws) critical value {self.crit_value:.4f}"
            if self.simultaneous
            else f"pointwise critical value {self.crit_value:.4f}"
        )
        se_kind = f"multiplier bootstrap ({self.n_boot} draws)" if self.bootstrap else "analytic"
        lines = [
            _TITLES[self.kind],
            f"Overall: {self.overall}",
            f"Standard errors: {se_kind}; {int(round((1 - self.alpha) * 100))}% intervals.",
        ]
        if len(self.levels):
            lines += [f"By {_LEVEL_NAMES[self.kind]} ({band}):", _fmt_table(self.levels)]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<AggregateResult kind={self.kind!r} overall={self.overall.estimate:.6g} "
            f"(SE {self.overall.std_error:.6g}), {len(self.levels)} levels>"
        )

    def _repr_html_(self) -> str:
        head = html.escape(_TITLES[self.kind])
        body = f"<p><b>{head}</b><br>Overall: {html.escape(str(self.overall))}</p>"
        if len(self.levels):
            body += self.levels.to_html(index=False, float_format=lambda v: f"{v:.6g}", na_rep="NaN")
        body += "".join(f"<p><i>Note: {html.escape(n)}</i></p>" for n in self.notes)
        return body

    def plot(self, ax: Axes | None = None, *, title: str | None = None) -> Axes:
        """Plot the level estimates with their confidence intervals.

        Parameters
        ----------
        ax
            Matplotlib axes to draw on (a new figure if omitted).
        title
            Plot title (a default is used if omitted).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt  # lazy: matplotlib is only needed for plots

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        tab = self.tidy(include_overall=self.kind == "simple")
        x = np.arange(len(tab)) if self.kind == "simple" else tab["level"].to_numpy(dtype=float)
        est = tab["estimate"].to_numpy(dtype=float)
        lo, hi = tab["ci_low"].to_numpy(dtype=float), tab["ci_high"].to_numpy(dtype=float)
        if self.kind == "dynamic":
            groups = [(x < 0, "pre-treatment", "tab:gray"), (x >= 0, "post-treatment", "tab:blue")]
        else:
            groups = [(np.ones(x.size, dtype=bool), None, "tab:blue")]
        for mask, label, color in groups:
            if mask.any():
                ax.errorbar(
                    x[mask], est[mask], yerr=[est[mask] - lo[mask], hi[mask] - est[mask]],
                    fmt="o", color=color, capsize=3, label=label,
                )
        ax.axhline(0.0, color="black", linewidth=0.8)
        if self.kind == "dynamic":
            ax.axvline(-0.5, color="black", linestyle=":", linewidth=0.8)
            ax.legend(frameon=False)
        if self.kind == "simple":
            ax.set_xticks([0], ["overall"])
        ax.set_xlabel(_LEVEL_NAMES[self.kind] or "")
        ax.set_ylabel("ATT")
        ax.set_title(title if title is not None else _TITLES[self.kind])
        return ax
