"""The untrained level behind a staggered DiD effect, and the change in a group's share of searches.

Two statistics the training verdict needs from a Callaway & Sant'Anna fit
(:func:`~equity_metrics.staggered_did`) on an officer panel
(:func:`~equity_metrics.build_panel`):

* :func:`untrained_level`: what trained officers' average would have been after training
  without it, ``E[Y(0) | trained, after]``, estimated as their observed average over the
  post-training cells of the overall ("simple") aggregation minus the overall ATT. Dividing
  the ATT by it gives the proportional effect ``ATT / E[Y(0) | D = 1]`` of Chen & Roth
  (2024), "Logs with zeros? Some problems and solutions", *QJE* 139(2), section 4.
* :func:`share_change`: the change training made to the share of trained officers' searches
  (with ethnicity stated) that were of one group: ``pi1 - pi0`` with ``pi1 = B1 / S1`` the
  observed share after training and ``pi0 = (B1 - ATT_B) / (S1 - ATT_S)`` the counterfactual
  share, from the ATTs on the group's searches and on all stated searches. A per-officer-month
  share (``build_panel(outcome="share_of:<group>")``) is undefined in months without a search,
  so the balanced estimator cannot use it; the ratio of the two counterfactual counts can.
  Its standard error is the delta method on the officer-level influence functions of the two
  ATTs and of the two post-training averages (clustered by officer, as the ATTs are).

Examples
--------
>>> from equity_metrics.models.did import staggered_did            # doctest: +SKIP
>>> lvl = untrained_level(panel, staggered_did(panel, outcome="use_of_force"))  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._results import ResultBase
from ..errors import DataValidationError

__all__ = ["UntrainedLevel", "ShareChange", "untrained_level", "share_change"]


@dataclass(frozen=True)
class UntrainedLevel(ResultBase):
    """Observed and counterfactual (untrained) averages of trained officers after training.

    Attributes
    ----------
    outcome
        The outcome column.
    observed
        Trained officers' observed average over the post-training cells of the overall ATT.
    untrained
        ``observed - att``: the untrained level the proportional effect divides by.
    att
        The overall (simple) ATT.
    n_cells, n_obs
        Post-training cohort x period cells and officer-periods averaged.
    """

    outcome: str
    observed: float
    untrained: float
    att: float
    n_cells: int
    n_obs: int

    def tidy(self) -> pd.DataFrame:
        """One row: ``outcome, observed, untrained, att, n_cells, n_obs``."""
        return pd.DataFrame([self.__dict__])

    def summary(self) -> str:
        """One line in words."""
        return (f"{self.outcome}: observed after training {self.observed:.4g}, untrained level "
                f"{self.untrained:.4g} (ATT {self.att:.4g}; {self.n_obs:,} officer-periods in {self.n_cells} cells)")


@dataclass(frozen=True)
class ShareChange(ResultBase):
    """Change in a group's share of trained officers' searches (percentage points as a fraction).

    Attributes
    ----------
    estimate, std_error, ci_low, ci_high, p_value
        ``observed - untrained`` share, its delta-method standard error, normal interval and
        two-sided p-value.
    observed, untrained
        The share after training, and the counterfactual share without training.
    alpha
        ``1 - alpha`` is the interval's level.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    observed: float
    untrained: float
    alpha: float

    def tidy(self) -> pd.DataFrame:
        """One row with every attribute."""
        return pd.DataFrame([self.__dict__])

    def summary(self) -> str:
        """One line in words."""
        return (f"share after training {self.observed:.4f} vs {self.untrained:.4f} without: change "
                f"{self.estimate:+.4f} (SE {self.std_error:.4f}; {100 * (1 - self.alpha):.0f}% CI "
                f"{self.ci_low:+.4f} to {self.ci_high:+.4f}; p = {self.p_value:.3g})")


def _post_cells(result) -> pd.DataFrame:
    cells = result.att_gt
    cells = cells[cells["post"].astype(bool) & np.isfinite(cells["att"].astype(float))]
    if cells.empty:
        raise DataValidationError("no post-training cohort x period cell has an estimate: the untrained level "
                                  "cannot be computed; check that trained officers are observed after training.")
    return cells


def _post_mean(panel, result, column: str) -> tuple[float, np.ndarray, int, int]:
    """Average of ``column`` over trained officer-periods in the post cells, with its influence function."""
    if isinstance(panel, pd.DataFrame):  # a panel's data: build_panel's column names
        d, unit, time, g = panel, "officer_id", "time", "first_treated"
    else:
        d, unit, time, g = panel.data, panel.unit, panel.time, panel.first_treated
    for c in (unit, time, g, column):
        if c not in d.columns:
            raise DataValidationError(f"panel has no column {c!r}; pass the PanelResult the estimate was fitted on.")
    cells = _post_cells(result)
    key = pd.MultiIndex.from_arrays([cells["group"].astype(float), cells["time"].astype(float)])
    rows = pd.MultiIndex.from_arrays([d[g].astype(float), d[time].astype(float)])
    use = rows.isin(key)
    units = np.sort(pd.unique(d[unit]))
    if units.size != result.n_units:
        raise DataValidationError(f"the panel has {units.size} units but the estimate {result.n_units}: pass the "
                                  "panel the estimate was fitted on.")
    y = d[column].astype(float).to_numpy()
    if np.isnan(y[use]).any():
        raise DataValidationError(f"{column!r} is missing in some post-training officer-periods.")
    per = pd.DataFrame({"u": d[unit].to_numpy()[use], "y": y[use]}).groupby("u")["y"].agg(["sum", "size"])
    per = per.reindex(units, fill_value=0)
    s, m = per["sum"].to_numpy(float), per["size"].to_numpy(float)
    total_m = m.sum()
    mean = s.sum() / total_m
    inf = units.size * (s - mean * m) / total_m  # same scaling as the ATT's: SE = sqrt(sum IF^2) / n
    return float(mean), inf, int(len(cells)), int(total_m)


def untrained_level(panel, result) -> UntrainedLevel:
    """Trained officers' average after training, and what it would have been without training.

    Parameters
    ----------
    panel
        The :class:`~equity_metrics.models.panel.PanelResult` (or its data) the estimate was fitted on.
    result
        The :class:`~equity_metrics.models.did.StaggeredDiDResult`.

    Returns
    -------
    UntrainedLevel

    Examples
    --------
    >>> lvl = untrained_level(panel, res)                 # doctest: +SKIP
    >>> res.aggregate("simple").overall.estimate / lvl.untrained   # ATT as a share  # doctest: +SKIP
    """
    obs, _, n_cells, n_obs = _post_mean(panel, result, result.outcome)
    att = float(result.aggregate("simple").overall.estimate)
    return UntrainedLevel(result.outcome, obs, obs - att, att, n_cells, n_obs)


def share_change(panel, result_group, result_all) -> ShareChange:
    """Change training made to the group's share of trained officers' searches (delta method).

    Parameters
    ----------
    panel
        The officer panel both estimates were fitted on (``build_panel`` with outcomes
        ``searches_of:<group>`` and ``share_of:<group>``, which adds ``searches_stated``).
    result_group, result_all
        :func:`~equity_metrics.staggered_did` fits on the group's searches and on all searches
        with ethnicity stated (same panel, units, control group and alpha).

    Returns
    -------
    ShareChange
        ``estimate`` is a difference of shares (``-0.02`` = 2 percentage points lower).

    Examples
    --------
    >>> p = build_panel(ev, tr, outcome=["searches_of:Black", "share_of:Black"])   # doctest: +SKIP
    >>> share_change(p, staggered_did(p, outcome="searches_of_black"),
    ...              staggered_did(p, outcome="searches_stated")).summary()           # doctest: +SKIP
    """
    if result_group.n_units != result_all.n_units or not np.array_equal(result_group.att_gt[["group", "time"]],
                                                                         result_all.att_gt[["group", "time"]]):
        raise DataValidationError("share_change: the two estimates were not fitted on the same panel; fit both "
                                  "with the same panel and settings.")
    b1, if_b, _, _ = _post_mean(panel, result_group, result_group.outcome)
    s1, if_s, _, _ = _post_mean(panel, result_all, result_all.outcome)
    ag, aa = result_group.aggregate("simple"), result_all.aggregate("simple")
    a, c = float(ag.overall.estimate), float(aa.overall.estimate)
    if_a, if_c = np.asarray(ag.overall_influence, float), np.asarray(aa.overall_influence, float)
    n = result_group.n_units
    b0, s0 = b1 - a, s1 - c
    if not (s1 > 0 and s0 > 0 and b0 >= 0):
        raise DataValidationError("share_change: the counterfactual number of searches is not positive; the "
                                  "share without training is undefined (too few searches in these data).")
    pi1, pi0 = b1 / s1, b0 / s0
    # delta method: d(pi1 - pi0) with pi0 = (b1 - a) / (s1 - c)
    inf = (if_b / s1 - b1 * if_s / s1 ** 2) - ((if_b - if_a) / s0 - b0 * (if_s - if_c) / s0 ** 2)
    se = float(np.sqrt(np.sum(inf ** 2)) / n)
    est = pi1 - pi0
    alpha = float(result_group.alpha)
    z = stats.norm.isf(alpha / 2)
    p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")
    return ShareChange(float(est), se, float(est - z * se), float(est + z * se), p, float(pi1), float(pi0), alpha)
