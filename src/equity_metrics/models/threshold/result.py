"""Results of the threshold test."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..._results import ResultBase

__all__ = ["ThresholdDiagnostics", "ThresholdTestResult"]

#: R-hat below this, and bulk and tail ESS of at least 100 per chain (Vehtari et al. 2021)
RHAT_LIMIT = 1.01
ESS_PER_CHAIN = 100
#: share of area x group cells whose observed rates fall inside their 95% posterior predictive interval
PPC_MIN_COVERAGE = 0.9


@dataclass(frozen=True)
class ThresholdDiagnostics(ResultBase):
    """Convergence and fit diagnostics of a threshold test.

    ``ok`` is True when the sampler converged (largest rank-normalised split R-hat < 1.01, smallest
    bulk and tail ESS >= 100 per chain, no divergent transition) and the posterior predictive
    check passes (at least 90% of area x group search rates and hit rates inside their 95%
    predictive intervals).
    """

    chains: int
    warmup: int
    draws: int
    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    mean_leapfrog_steps: float
    ppc_search_coverage: float
    ppc_hit_coverage: float
    search_rate_rmse: float
    hit_rate_rmse: float
    seconds: float

    @property
    def converged(self) -> bool:
        """R-hat, ESS and divergences all within their limits."""
        ess_need = ESS_PER_CHAIN * self.chains
        return bool(self.chains > 1 and self.rhat_max < RHAT_LIMIT and self.ess_bulk_min >= ess_need
                    and self.ess_tail_min >= ess_need and self.divergences == 0)

    @property
    def ppc_ok(self) -> bool:
        """Observed rates inside their predictive intervals in at least 90% of the cells."""
        hit = self.ppc_hit_coverage
        return bool(self.ppc_search_coverage >= PPC_MIN_COVERAGE and (np.isnan(hit) or hit >= PPC_MIN_COVERAGE))

    @property
    def ok(self) -> bool:
        """Converged and the posterior predictive check passes."""
        return self.converged and self.ppc_ok

    def tidy(self) -> pd.DataFrame:
        """One row per diagnostic: ``diagnostic``, ``value``, ``limit``, ``ok``."""
        need = ESS_PER_CHAIN * self.chains
        rows = [("rhat_max", self.rhat_max, f"< {RHAT_LIMIT}", self.chains > 1 and self.rhat_max < RHAT_LIMIT),
                ("ess_bulk_min", self.ess_bulk_min, f">= {need}", self.ess_bulk_min >= need),
                ("ess_tail_min", self.ess_tail_min, f">= {need}", self.ess_tail_min >= need),
                ("divergences", self.divergences, "0", self.divergences == 0),
                ("ppc_search_coverage", self.ppc_search_coverage, f">= {PPC_MIN_COVERAGE}",
                 self.ppc_search_coverage >= PPC_MIN_COVERAGE),
                ("ppc_hit_coverage", self.ppc_hit_coverage, f">= {PPC_MIN_COVERAGE}",
                 bool(np.isnan(self.ppc_hit_coverage) or self.ppc_hit_coverage >= PPC_MIN_COVERAGE)),
                ("search_rate_rmse", self.search_rate_rmse, "", True),
                ("hit_rate_rmse", self.hit_rate_rmse, "", True),
                ("mean_leapfrog_steps", self.mean_leapfrog_steps, "", True),
                ("seconds", self.seconds, "", True)]
        return pd.DataFrame(rows, columns=["diagnostic", "value", "limit", "ok"]).astype({"ok": bool})

    def summary(self) -> str:
        """Plain-text diagnostics."""
        return (f"{self.chains} chains x {self.draws} draws (+{self.warmup} warm-up), {self.seconds:.1f} s: "
                f"max R-hat {self.rhat_max:.4f}, min bulk ESS {self.ess_bulk_min:.0f}, min tail ESS "
                f"{self.ess_tail_min:.0f}, {self.divergences} divergent transition(s); posterior predictive: "
                f"{self.ppc_search_coverage:.0%} of search rates and {self.ppc_hit_coverage:.0%} of hit rates inside "
                f"their 95% intervals (RMSE {self.search_rate_rmse:.4f} / {self.hit_rate_rmse:.4f}). "
                f"{'OK' if self.ok else 'NOT OK: do not report these thresholds without rerunning with more draws'}")


@dataclass(frozen=True, eq=False)
class ThresholdTestResult(ResultBase):
    """Thresholds inferred by :func:`~equity_metrics.models.threshold_test`.

    Attributes
    ----------
    model
        ``"flat"`` (2017) or ``"hierarchical"`` (2020).
    cells
        One row per area x group: counts, observed rates, ``threshold`` (posterior mean on the
        probability scale) with its 95% credible interval, the posterior predictive rates and
        intervals, ``ppc_ok`` and ``small_count`` (fewer than 20 searches).
    aggregate
        One row per group: stop-weighted average threshold with its 95% credible interval and the
        difference from the reference group with its interval, computed per posterior draw.
    diagnostics
        :class:`ThresholdDiagnostics`.
    """

    model: str
    cells: pd.DataFrame
    aggregate: pd.DataFrame
    diagnostics: ThresholdDiagnostics
    reference_group: str
    weights: str
    settings: dict = field(default_factory=dict)
    aggregate_draws: np.ndarray | None = field(default=None, repr=False)

    def tidy(self) -> pd.DataFrame:
        """Per area x group thresholds (stable snake_case columns, areas in input order)."""
        cols = ["area", "group", "stops", "searches", "hits", "search_rate", "hit_rate", "threshold", "ci_low",
                "ci_high", "pred_search_rate", "search_rate_pi_low", "search_rate_pi_high", "pred_hit_rate",
                "hit_rate_pi_low", "hit_rate_pi_high", "ppc_ok", "small_count"]
        if self.cells["geography"].nunique() > 1:
            cols.insert(0, "geography")
        return self.cells[cols].reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """Per group: ``group, threshold, ci_low, ci_high, diff_vs_white, diff_ci_low, diff_ci_high, diagnostics_ok``.

        ``diff_vs_white`` is the difference from the reference group (White by default; the
        ``reference_group`` column names it). Thresholds are probabilities (0-1).
        """
        a = self.aggregate
        return pd.DataFrame({"group": a["group"], "threshold": a["threshold"], "ci_low": a["ci_low"],
                             "ci_high": a["ci_high"], "diff_vs_white": a["diff_vs_reference"],
                             "diff_ci_low": a["diff_ci_low"], "diff_ci_high": a["diff_ci_high"],
                             "stops": a["stops"], "searches": a["searches"], "reference_group": self.reference_group,
                             "diagnostics_ok": self.diagnostics.ok})

    def summary(self) -> str:
        """Plain-text summary: aggregate thresholds, differences and diagnostics."""
        name = {"flat": "2017 model (Simoiu, Corbett-Davies & Goel; Beta signal)",
                "hierarchical": "2020 model (Pierson et al.; two-normal mixture signal)"}[self.model]
        lines = [f"Threshold test, {name}",
                 f"{self.cells['area'].nunique()} areas x {len(self.aggregate)} groups; "
                 f"{int(self.cells['stops'].sum()):,} stops, {int(self.cells['searches'].sum()):,} searches, "
                 f"{int(self.cells['hits'].sum()):,} hits",
                 f"Aggregate thresholds (weighted by {self.weights} stops; posterior mean, 95% credible interval):"]
        for row in self.aggregate.itertuples():
            s = f"  {row.group:<12} {row.threshold:6.1%} [{row.ci_low:.1%}, {row.ci_high:.1%}]"
            if row.group != self.reference_group:
                s += (f"  vs {self.reference_group}: {row.diff_vs_reference:+.1%} "
                      f"[{row.diff_ci_low:+.1%}, {row.diff_ci_high:+.1%}]")
            lines.append(s + f"  ({row.searches:,} searches of {row.stops:,} stops)")
        small = int(self.cells["small_count"].sum())
        if small:
            lines.append(f"{small} area x group cell(s) with fewer than 20 searches: their thresholds lean on the priors")
        lines.append("Diagnostics: " + self.diagnostics.summary())
        return "\n".join(lines)

    def plot(self, ax=None, **kwargs):
        """Area thresholds, each group against the reference (OPP's figure); see :func:`equity_metrics.plots.threshold_plot`."""
        from ...plots.threshold import threshold_plot

        return threshold_plot(self, ax=ax, **kwargs)
