"""Result objects of the Callaway & Sant'Anna estimator."""

from __future__ import annotations

import html
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from ..._results import ResultBase
from ..._options import check_option
from ...errors import EstimationError, OptionError
from ._aggregate import aggregate_core
from ._attgt import GroupTimeEstimates
from ._bootstrap import multiplier_bootstrap
from ._influence import cluster_sum_dense
from ._panel import _fmt
from ._aggregate_result import (
    AggregateResult,
    AggregationType,
    OverallEstimate,
    PretrendKind,
    PretrendTest,
    _clean_se,
    _fmt_table,
)

__all__ = ["OverallEstimate", "AggregateResult", "PretrendTest", "StaggeredDiDResult"]


class StaggeredDiDResult(ResultBase):
    """Group-time ATTs of Callaway & Sant'Anna (2021) and their aggregations.

    Attributes
    ----------
    att_gt
        Tidy table: ``group, time, event_time, att, std_error, ci_low, ci_high,
        n_treated, n_control, post, base_time``.
    method, control, base_period, anticipation, covariates, cluster, alpha
        Settings of the fit.
    n_units
        Units in the estimation sample.
    periods, cohorts
        Periods of the panel and treated cohorts.
    crit_value
        Critical value used for the ``att_gt`` intervals (sup-t with bootstrap).
    bootstrap, n_boot, seed, bootstrap_weights
        Inference settings (inherited by :meth:`aggregate`).
    notes
        Remarks about dropped units, recoded cohorts and skipped cells.
    """

    def __init__(
        self,
        *,
        est: GroupTimeEstimates,
        g_unit: np.ndarray,
        periods: np.ndarray,
        integer_time: bool,
        settings: dict[str, Any],
        cluster_codes: np.ndarray | None,
        n_clusters: int,
        notes: list[str],
    ) -> None:
        self._est = est
        self._g_unit = g_unit
        self._cluster_codes = cluster_codes
        self._n_clusters = n_clusters
        self._integer = integer_time
        self.periods = self._tcast(periods)
        self.cohorts = self._tcast(np.unique(g_unit[np.isfinite(g_unit)]))
        self.n_units = int(g_unit.size)
        self.outcome: str = settings["outcome"]
        self.method: str = settings["method"]
        self.control: str = settings["control"]
        self.base_period: str = settings["base_period"]
        self.anticipation = settings["anticipation"]
        self.covariates: list[str] = settings["covariates"]
        self.cluster: str | None = settings["cluster"]
        self.alpha: float = settings["alpha"]
        self.bootstrap: bool = settings["bootstrap"]
        self.n_boot: int = settings["n_boot"]
        self.seed = settings["seed"]
        self.bootstrap_weights: str = settings["bootstrap_weights"]
        self._progress: bool | None = settings.get("progress", False)
        self.notes = list(notes) + list(est.notes)
        self._build_table()
        self.notes += self._boot_notes

    # -- helpers -------------------------------------------------------------------------------
    def _tcast(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        return v.astype(np.int64) if self._integer else v

    def _se(self, inf_cols: np.ndarray | None = None, dense: np.ndarray | None = None) -> np.ndarray:
        """Analytic (optionally clustered) standard errors."""
        n = self.n_units
        if dense is not None:
            if self._cluster_codes is not None:
                dense = cluster_sum_dense(self._cluster_codes, self._n_clusters, dense)
            return np.sqrt(np.einsum("ij,ij->j", dense, dense)) / n
        mat = self._est.inf
        if self._cluster_codes is not None:
            mat = mat.cluster_sum(self._cluster_codes, self._n_clusters)
        return np.sqrt(mat.col_sumsq()) / n

    def _build_table(self) -> None:
        est = self._est
        se = _clean_se(self._se())
        se[np.isnan(est.att)] = np.nan
        z = NormalDist().inv_cdf(1 - self.alpha / 2)
        crit = z
        self._boot = None
        self._boot_notes: list[str] = []
        if self.bootstrap:
            b = multiplier_bootstrap(
                est.inf, n_units=self.n_units, n_boot=self.n_boot, seed=self.seed,
                weights=self.bootstrap_weights, cluster_codes=self._cluster_codes,
                n_clusters=self._n_clusters, alpha=self.alpha,
                sup_columns=np.flatnonzero(~np.isnan(est.att) & ~est.reference),
                progress=self._progress,
            )
            self._boot = b
            se = np.where(np.isnan(se), np.nan, b.std_error)
            crit = b.crit
            self._boot_notes = list(b.notes)
        self.crit_value = float(crit)
        g, t = self._tcast(est.group), self._tcast(est.time)
        self.att_gt = pd.DataFrame(
            {
                "group": g,
                "time": t,
                "event_time": t - g,
                "att": est.att,
                "std_error": se,
                "ci_low": est.att - crit * se,
                "ci_high": est.att + crit * se,
                "n_treated": est.n_treated,
                "n_control": est.n_control,
                "post": est.post.astype(bool),
                "base_time": self._tcast(est.base_time),
            }
        )

    # -- public API ----------------------------------------------------------------------------
    def tidy(self) -> pd.DataFrame:
        """The group-time table :attr:`att_gt` (a copy)."""
        return self.att_gt.copy()

    def influence_functions(self) -> np.ndarray:
        """Dense ``(n_units, n_cells)`` influence functions of the ATT(g,t), in row order of
        :attr:`att_gt` (standard error of cell ``j``: ``sqrt(sum(IF[:, j]**2)) / n_units``)."""
        return self._est.inf.to_dense()

    def aggregate(
        self,
        kind: AggregationType,
        *,
        min_e: float | None = None,
        max_e: float | None = None,
        balance_e: int | None = None,
        bootstrap: bool | None = None,
        n_boot: int | None = None,
        seed: int | None = None,
    ) -> AggregateResult:
        """Aggregate the group-time effects (R ``did::aggte``).

        Parameters
        ----------
        kind
            ``"simple"`` (cohort-size weighted average of all post-treatment
            cells), ``"dynamic"`` (event study by ``e = t - g``; the overall
            effect averages ``e >= 0``), ``"group"`` (by cohort; overall
            weighted by cohort size) or ``"calendar"`` (by period; overall is
            the average over periods).
        min_e, max_e
            Event-time window of ``dynamic``; ``max_e`` also caps the cells
            used by ``simple`` and ``group`` (as R does).
        balance_e
            ``dynamic`` only: use only cohorts observed at least ``balance_e``
            periods after treatment (a balanced event study).
        bootstrap, n_boot, seed
            Multiplier bootstrap (standard errors and sup-t bands); default to
            the settings of the fit.

        Returns
        -------
        AggregateResult

        Examples
        --------
        >>> res.aggregate("dynamic", min_e=-3, max_e=3).tidy()  # doctest: +SKIP
        """
        check_option("kind", kind, AggregationType)
        if balance_e is not None and kind != "dynamic":
            raise OptionError("balance_e only applies to kind='dynamic'.")
        if min_e is not None and max_e is not None and min_e > max_e:
            raise OptionError(f"min_e={min_e} is larger than max_e={max_e}.")
        boot = self.bootstrap if bootstrap is None else bool(bootstrap)
        nb = self.n_boot if n_boot is None else int(n_boot)
        sd = self.seed if seed is None else seed
        core = aggregate_core(
            self._est, self._g_unit, kind, min_e=min_e, max_e=max_e, balance_e=balance_e,
            first_period=float(np.min(self.periods)),
        )
        inf_all = np.column_stack([core.inf, core.overall_inf])
        se_all = _clean_se(self._se(dense=inf_all))
        z = NormalDist().inv_cdf(1 - self.alpha / 2)
        crit = z
        notes = list(core.notes)
        simultaneous = False
        n_lv = core.levels.size
        if boot:
            if nb < 1:
                raise OptionError("n_boot must be a positive integer.")
            b = multiplier_bootstrap(
                inf_all, n_units=self.n_units, n_boot=nb, seed=sd, weights=self.bootstrap_weights,
                cluster_codes=self._cluster_codes, n_clusters=self._n_clusters, alpha=self.alpha,
                sup_columns=np.flatnonzero(np.isfinite(se_all[:n_lv])),
                progress=self._progress,
            )
            se_all = np.where(np.isnan(se_all), np.nan, b.std_error)
            if n_lv:
                crit = b.crit
                notes = notes + list(b.notes)
                simultaneous = not b.pointwise_fallback
        se_lv, se_o = se_all[:n_lv], float(se_all[n_lv])
        levels = (
            core.levels.astype(np.int64)
            if self._integer and n_lv
            else core.levels
        )
        table = pd.DataFrame(
            {
                "level": levels,
                "estimate": core.estimates,
                "std_error": se_lv,
                "ci_low": core.estimates - crit * se_lv,
                "ci_high": core.estimates + crit * se_lv,
                "crit": np.full(n_lv, crit),
            }
        )
        ov = core.overall_estimate
        overall = OverallEstimate(float(ov), se_o, float(ov - z * se_o), float(ov + z * se_o))
        return AggregateResult(
            kind=kind, overall=overall, levels=table, crit_value=float(crit),
            simultaneous=simultaneous, alpha=self.alpha, bootstrap=boot,
            n_boot=nb if boot else None, notes=notes,
            influence=core.inf, overall_influence=core.overall_inf,
        )

    def pretrend_test(self, kind: PretrendKind = "event_time", *, min_e: int | None = None) -> PretrendTest:
        """Wald test of no pre-trends.

        Parameters
        ----------
        kind
            ``"event_time"`` (default): the event-study leads
            (``aggregate("dynamic")`` at ``e < 0``) are jointly zero.
            ``"cells"`` (R ``did``'s ``summary``): all pre-treatment ATT(g,t)
            are jointly zero.  The cell test estimates a covariance of as many
            dimensions as there are pre-treatment cells from the units of
            each cohort; with many cells or small cohorts (officer rollouts)
            that estimate is noisy and the test rejects far more often than
            its nominal level (on the bundled samples, 94 cells from cohorts
            of about 25 officers: p = 1e-37 under parallel trends, against
            p = 0.45 for the 30 leads).  The leads test has the right size in
            simulations (``tests/test_did_cs.py``).
        min_e
            ``event_time`` only: test leads ``e >= min_e`` (e.g. ``-12``).

        Uses the analytic (clustered, if requested) covariance from the
        influence functions.  Universal-base reference cells (fixed at 0) are
        excluded.

        Returns
        -------
        PretrendTest

        Raises
        ------
        EstimationError
            If there is no pre-treatment cell to test.
        """
        check_option("kind", kind, PretrendKind)
        est = self._est
        if kind == "event_time":
            core = aggregate_core(est, self._g_unit, "dynamic", min_e=min_e, max_e=None, balance_e=None,
                                  first_period=float(np.min(self.periods)))
            sel = np.flatnonzero((core.levels < 0) & np.isfinite(core.estimates)
                                 & np.any(core.inf != 0, axis=0))
            if sel.size == 0:
                raise EstimationError("No event-study lead (e < 0) to test: cohorts need at least two "
                                      "untreated periods.")
            return self._wald(core.inf[:, sel], core.estimates[sel], kind="event_time")
        pre = np.flatnonzero(~est.post & ~est.reference & ~np.isnan(est.att))
        if pre.size == 0:
            raise EstimationError(
                "No pre-treatment ATT(g,t) to test: every cohort is treated in the second period or "
                "all pre-treatment cells are reference cells. A pre-trend test needs cohorts with at "
                "least two untreated periods."
            )
        return self._wald(est.inf.to_dense(pre), est.att[pre], kind="cells")

    def _wald(self, dense: np.ndarray, a: np.ndarray, *, kind: str) -> PretrendTest:
        if self._cluster_codes is not None:
            dense = cluster_sum_dense(self._cluster_codes, self._n_clusters, dense)
        v = dense.T @ dense / self.n_units**2
        notes: list[str] = []
        w, u = np.linalg.eigh(v)
        # relative tolerance: directions with variance below 1e-10 of the largest are treated as
        # exact linear dependence (machine-precision tolerances let rounding noise dominate)
        tol = w.max() * max(a.size * np.finfo(float).eps, 1e-10) if w.size else 0.0
        keep = w > tol
        rank = int(keep.sum())
        if rank == 0:
            raise EstimationError("The covariance of the pre-treatment estimates is zero; no test possible.")
        if rank < a.size:
            what = "cells" if kind == "cells" else "leads"
            notes.append(
                f"The covariance of the {a.size} pre-treatment {what} is singular (rank {rank}); "
                "a generalised inverse was used."
            )
        if kind == "cells":
            smallest = int(np.min(self._est.n_treated)) if self._est.n_treated.size else 0
            if a.size > max(smallest, 1) / 2:
                notes.append(
                    f"{a.size} cells tested with cohorts as small as {smallest} units: the cell-level Wald "
                    "test over-rejects in this setting; prefer pretrend_test('event_time')."
                )
        from scipy.special import chdtrc  # lazy: scipy is only needed here

        proj = u[:, keep].T @ a
        stat = float(np.sum(proj**2 / w[keep]))
        return PretrendTest(
            statistic=stat, df=rank, p_value=float(chdtrc(rank, stat)), n_cells=int(a.size),
            notes=tuple(notes), kind=kind,
        )

    # -- display -------------------------------------------------------------------------------
    def _header(self) -> list[str]:
        ctrl = "never treated" if self.control == "never_treated" else "not yet treated"
        meth = {"dr": "doubly robust", "ipw": "inverse probability weighting", "reg": "outcome regression"}
        se_kind = (
            f"multiplier bootstrap ({self.n_boot} draws, {self.bootstrap_weights} weights; sup-t bands)"
            if self.bootstrap
            else "analytic"
        )
        if self.cluster:
            se_kind += f", clustered by {self.cluster}"
        return [
            "Callaway & Sant'Anna (2021) group-time average treatment effects",
            f"Outcome: {self.outcome}   Method: {meth[self.method]} ({self.method})   "
            f"Comparison: {ctrl}   Base period: {self.base_period}   Anticipation: {_fmt(self.anticipation)}",
            f"Covariates: {', '.join(self.covariates) if self.covariates else 'none'}   Units: {self.n_units}   "
            f"Periods: {len(self.periods)}   Cohorts: {len(self.cohorts)}   Cells: {len(self.att_gt)}",
            f"Standard errors: {se_kind}; {int(round((1 - self.alpha) * 100))}% intervals "
            f"(critical value {self.crit_value:.4f}).",
        ]

    def summary(self) -> str:
        """A plain-text report: settings, the ATT(g,t) table, the pre-trend test and notes."""
        lines = self._header() + ["", _fmt_table(self.att_gt.drop(columns=["base_time"]))]
        try:
            lines += ["", str(self.pretrend_test())]
        except EstimationError:
            pass
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<StaggeredDiDResult method={self.method!r} control={self.control!r} "
            f"{len(self.att_gt)} ATT(g,t), {self.n_units} units>"
        )

    def _repr_html_(self) -> str:
        head = "<br>".join(html.escape(s) for s in self._header())
        tab = self.att_gt.to_html(index=False, float_format=lambda v: f"{v:.6g}", na_rep="NaN")
        notes = "".join(f"<p><i>Note: {html.escape(n)}</i></p>" for n in self.notes)
        return f"<p>{head}</p>{tab}{notes}"
