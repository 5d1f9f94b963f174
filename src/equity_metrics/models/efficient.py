"""Roth & Sant'Anna (2023) efficient estimator for staggered rollouts with random timing.

When the timing of training is (as good as) randomly assigned -- e.g. officers
scheduled into course dates by lottery or by roster order unrelated to their
outcomes -- Roth & Sant'Anna ("Efficient Estimation for Staggered Rollout
Designs", JPE Micro 2023) show that the efficient estimator of an average
effect ``theta`` is a difference in means corrected by pre-treatment
differences between cohorts::

    theta_hat(beta) = sum_g A_theta_g' Ybar_g  -  beta' sum_g A_0_g' Ybar_g
                      \\____ theta_hat_0 ____/           \\____ X_hat ____/

where ``Ybar_g`` is the vector of period means of cohort ``g`` (units first
treated in period ``g``; never treated = infinity), ``theta_hat_0`` compares
treated cohorts with not-yet-treated ones period by period (unbiased under
random timing), and ``X_hat`` collects comparisons of cohorts *before* either is
treated (mean zero under random timing). The plug-in efficient
``beta* = Var(X_hat)^+ Cov(X_hat, theta_hat_0)`` uses the cohort covariance
matrices ``S_g``. ``beta = 1`` with ``X_hat`` the pre-period term of the
Callaway & Sant'Anna estimator gives exactly CS with not-yet-treated controls
(``beta="cs"``); with only the last-treated (or never-treated) cohort as
control it is Sun & Abraham (``beta="sa"``); ``beta = 0`` is the simple
difference in means (``beta="dim"``).

Inference is design-based (randomness from the assignment of timing): the
Neyman variance ``sum_g (1/N_g) A~_g' S_g A~_g`` (``A~ = A_theta - beta' A_0``)
is conservative; the refined variance subtracts the identified part of the
treatment-effect heterogeneity explained by outcomes before the first treated
cohort. The Fisher randomization test permutes timing across units and
compares studentised statistics.

This module implements the formulas of the paper as in Roth's R package
``staggered`` (functions ``staggered``, ``staggered_cs``, ``staggered_sa``):
the estimands ``simple`` (post-treatment (t, g) effects weighted by cohort size,
i.e. each cohort by size x number of post periods), ``cohort``, ``calendar`` and
``eventstudy`` follow that package's definitions, which coincide with
``did::aggte`` types ``simple``, ``group`` (overall), ``calendar`` (overall)
and ``dynamic`` (each event time), as computed by
:func:`equity_metrics.models.did.staggered_did`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import linalg, stats

from .._results import ResultBase
from .._options import check_option
from .._security import escape_html
from ..errors import DataValidationError, EstimationError, OptionError
from ._efficient_fisher import fisher_counts
from ._fe import cohort_of_rows, prepare_input
from .panel import PanelResult

__all__ = ["efficient_staggered", "EfficientResult", "EFFICIENT_COLUMNS"]

Estimand = Literal["simple", "cohort", "calendar", "eventstudy"]
BetaChoice = Literal["efficient", "cs", "sa", "dim"]
Comparisons = Literal["did", "all"]
EFFICIENT_COLUMNS = ["estimand", "level", "estimate", "std_error", "std_error_neyman", "ci_low", "ci_high",
                     "p_value", "fisher_p_value", "fisher_p_value_neyman", "beta"]


# ----------------------------------------------------------------------------- design
@dataclass
class _Design:
    """Weights of the estimands (J rows) on the cohort x period means, and the X_hat matrices."""

    a: np.ndarray  # (J, G, T) A_theta
    c: np.ndarray  # (J, G, T) DiD A_0 (one scalar X_hat per row) or (k, G, T) all comparisons
    shared_c: bool  # True: c is the shared "all comparisons" matrix
    labels: list[str]
    estimand: list[str]


def _cell(ti: int, gi: int, times: np.ndarray, glist: np.ndarray, n_g: np.ndarray, last_only: bool, base: bool,
          placebo: bool = False):
    """(G, T) weights of ATE(t, g) (or, with base=True, of its CS pre-period term at g - 1).

    ``placebo=True`` (t < g - 1): the comparison cohorts are those not yet treated at g (g' > g, as
    Callaway & Sant'Anna's not-yet-treated controls with a universal base period g - 1), not g' > t.
    """
    t = glist[gi] if placebo else times[ti]
    if last_only:
        ctrl = (glist > t) & (glist == glist[-1])
    else:
        ctrl = glist > t
    w = np.zeros((glist.size, times.size))
    col = ti if not base else int(np.searchsorted(times, glist[gi])) - 1
    w[ctrl, col] = -n_g[ctrl] / n_g[ctrl].sum()
    w[gi, col] += 1.0
    return w


def _design(times, glist, n_g, estimand, event_times, last_only, comparisons) -> tuple[_Design, list[str]]:
    notes: list[str] = []
    gmax = glist[-1]
    fin = np.isfinite(glist)
    T, G = times.size, glist.size

    def ate(pairs: list[tuple[int, int, float]], placebo: bool = False):
        a, c = np.zeros((G, T)), np.zeros((G, T))
        for ti, gi, wt in pairs:
            a += wt * _cell(ti, gi, times, glist, n_g, last_only, False, placebo)
            c += wt * _cell(ti, gi, times, glist, n_g, last_only, True, placebo)
        return a, c

    rows: list[tuple[str, str, list[tuple[int, int, float]]]] = []
    gi_elig = [gi for gi in range(G) if fin[gi] and glist[gi] < gmax and glist[gi] <= times[-1]]

    def cohort_pairs(gi):
        ts = [ti for ti in range(T) if times[ti] >= glist[gi] and times[ti] < gmax]
        return [(ti, gi, 1 / len(ts)) for ti in ts]

    def calendar_pairs(ti):
        gs = [gi for gi in range(G) if fin[gi] and glist[gi] <= times[ti]]
        tot = n_g[gs].sum()
        return [(ti, gi, n_g[gi] / tot) for gi in gs]

    if estimand == "simple":
        cells = [(ti, gi) for gi in range(G) if fin[gi] for ti in range(T) if glist[gi] <= times[ti] < gmax]
        tot = sum(n_g[gi] for _, gi in cells)
        rows.append(("simple", "overall", [(ti, gi, n_g[gi] / tot) for ti, gi in cells]))
    elif estimand == "cohort":
        tot = n_g[gi_elig].sum()
        rows.append(("cohort", "overall", [(ti, g_, w * n_g[gi] / tot) for gi in gi_elig for (ti, g_, w) in cohort_pairs(gi)]))
        rows += [("cohort", f"{glist[gi]:g}", cohort_pairs(gi)) for gi in gi_elig]
    elif estimand == "calendar":
        t_elig = [ti for ti in range(T) if times[ti] >= glist[fin].min() and times[ti] < gmax]
        rows.append(("calendar", "overall", [(ti, gi, w / len(t_elig)) for tt in t_elig for (ti, gi, w) in calendar_pairs(tt)]))
        rows += [("calendar", f"{times[ti]:g}", calendar_pairs(ti)) for ti in t_elig]
    else:
        for ell in event_times:
            if ell < 0:  # placebo: cohort g in period g + ell against cohorts not yet treated at g, base g - 1
                gs = [gi for gi in range(G) if fin[gi] and glist[gi] < gmax and glist[gi] + ell >= times[0]]
                if not gs:
                    notes.append(f"event time {ell}: no cohort is observed that early with a later comparison "
                                 "cohort; left out")
                    continue
                tot = n_g[gs].sum()
                rows.append(("eventstudy", str(ell), [(int(np.searchsorted(times, glist[gi] + ell)), gi,
                                                       n_g[gi] / tot) for gi in gs]))
                continue
            gs = [gi for gi in range(G) if fin[gi] and glist[gi] + ell < gmax and glist[gi] + ell <= times[-1]]
            if not gs:
                notes.append(f"event time {ell}: no cohort has a not-yet-treated comparison; left out")
                continue
            tot = n_g[gs].sum()
            rows.append(("eventstudy", str(ell), [(int(np.searchsorted(times, glist[gi] + ell)), gi, n_g[gi] / tot) for gi in gs]))
    if not rows or any(not r[2] for r in rows):
        raise EstimationError(
            "efficient_staggered: no post-treatment (period, cohort) pair has a not-yet-treated comparison cohort. "
            "The design needs at least two cohorts (or never-treated units) and a period between their treatments."
        )
    built = [ate(r[2], placebo=r[0] == "eventstudy" and int(r[1]) < 0) for r in rows]
    a = np.stack([b[0] for b in built])
    if comparisons == "did":
        c, shared = np.stack([b[1] for b in built]), False
    else:
        # every cohort g < gmax against the last cohort, in each period t < g (staggered::create_A0_list)
        comps = []
        for gi in range(G - 1):
            for ti in np.flatnonzero(times < glist[gi]):
                m = np.zeros((G, T))
                m[gi, ti], m[G - 1, ti] = 1.0, -1.0
                comps.append(m)
        if not comps:
            raise EstimationError("efficient_staggered: no pre-treatment comparison between cohorts exists (comparisons='all').")
        c, shared = np.stack(comps), True
    return _Design(a, c, shared, [r[1] for r in rows], [r[0] for r in rows]), notes


# ----------------------------------------------------------------------------- estimation
def _stats(y: np.ndarray, gi: np.ndarray, n_coh: int) -> tuple[np.ndarray, np.ndarray]:
    """Cohort means (G, T) and covariance matrices (G, T, T), ddof 1 (about N T^2 operations)."""
    order = np.argsort(gi, kind="stable")
    ys = y[order]
    b = np.searchsorted(gi[order], np.arange(n_coh + 1))
    size = np.diff(b)
    means = np.add.reduceat(ys, b[:-1], axis=0) / size[:, None]
    dev = ys - np.repeat(means, size, axis=0)
    covs = np.stack([np.einsum("it,is->ts", dev[b[k]:b[k + 1]], dev[b[k]:b[k + 1]]) for k in range(n_coh)])
    return means, covs / (size - 1)[:, None, None]


def _pinv_solve(m: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return linalg.pinvh(m, atol=0, rtol=None) @ rhs if m.size else np.zeros((0,) + rhs.shape[1:])


def _estimate(ybar, s, n_g, des: _Design, beta_mode: str, beta_value: float, times, glist):
    """Estimates, Neyman and refined variances (J,), full covariances (J, J) and betas."""
    sn = s / n_g[:, None, None]
    a, c = des.a, des.c
    if des.shared_c:
        cs = np.einsum("kgt,gts->kgs", c, sn, optimize=True)
        xvar = np.tensordot(cs, c, axes=([1, 2], [1, 2]))
        xcov = np.tensordot(cs, a, axes=([1, 2], [1, 2]))
        beta = _pinv_solve(xvar, xcov)  # (k, J)
        at = a - np.einsum("kj,kgt->jgt", beta, c)
        xhat = np.einsum("kgt,gt->k", c, ybar)
        est = np.einsum("jgt,gt->j", a, ybar) - beta.T @ xhat
        beta_out = np.full(a.shape[0], np.nan)
    else:
        if beta_mode == "efficient":
            cs = np.einsum("jgt,gts->jgs", c, sn, optimize=True)
            xvar, xcov = np.einsum("jgs,jgs->j", cs, c), np.einsum("jgs,jgs->j", cs, a)
            with np.errstate(divide="ignore", invalid="ignore"):
                beta_out = np.where(xvar > 1e-14 * max(float(np.abs(xcov).max(initial=0)), 1e-300), xcov / xvar, 0.0)
        else:
            beta_out = np.full(a.shape[0], beta_value)
        at = a - beta_out[:, None, None] * c
        est = np.einsum("jgt,gt->j", at, ybar)
    v_ney = np.tensordot(np.einsum("jgt,gts->jgs", at, sn, optimize=True), at, axes=([1, 2], [1, 2]))
    # refinement (staggered::compute_se_Thetahat_beta): projection on periods before the first cohort used
    nz = np.abs(a).max(axis=2) > 0  # (J, G)
    gmin = np.array([glist[np.argmax(r)] for r in nz])
    adj = np.zeros(a.shape[0])
    bsum_common = None
    common = gmin.min()
    for m in np.unique(np.append(gmin, common)):
        pre = np.flatnonzero(times < m)
        if pre.size == 0:
            continue
        cg = np.flatnonzero(glist >= m)
        sub = s[np.ix_(cg, pre, pre)]
        proj = np.stack([_pinv_solve(sub[i], s[cg[i]][pre, :]) for i in range(cg.size)])  # (|cg|, |M|, T)
        bsum = np.einsum("gmt,jgt->jm", proj, a[:, cg, :])
        avg = sub.mean(axis=0)
        val = np.einsum("jm,mn,jn->j", bsum, avg, bsum) / n_g.sum()
        rows = gmin == m
        adj[rows] = val[rows]
        if m == common:
            bsum_common = (bsum, avg)
    v = v_ney.copy()
    if bsum_common is not None:
        b_, avg_ = bsum_common
        v = v - b_ @ avg_ @ b_.T / n_g.sum()
    np.fill_diagonal(v, np.diag(v_ney) - adj)
    var_ney = np.clip(np.diag(v_ney), 0, None)
    var_ref = np.clip(np.diag(v_ney) - adj, 0, None)
    return est, np.sqrt(var_ref), np.sqrt(var_ney), v, v_ney, beta_out


# ----------------------------------------------------------------------------- result
@dataclass
class EfficientResult(ResultBase):
    """Roth & Sant'Anna estimates (see :func:`efficient_staggered`).

    Attributes
    ----------
    table
        ``EFFICIENT_COLUMNS``: ``estimand, level`` (``"overall"``, a cohort, a
        period or an event time), ``estimate``, ``std_error`` (refined
        design-based), ``std_error_neyman`` (conservative Neyman), normal
        ``ci_low, ci_high, p_value``, Fisher randomization p-values (studentised
        with each standard error), and ``beta`` (scalar beta used; NaN for
        ``comparisons="all"``).
    vcov, vcov_neyman
        Covariance of the rows (refined / Neyman).
    cohorts
        ``cohort, units`` of the estimation sample (``inf`` = never treated).
    """

    table: pd.DataFrame
    vcov: pd.DataFrame
    vcov_neyman: pd.DataFrame
    cohorts: pd.DataFrame
    estimand: str
    beta: str
    comparisons: str
    n_units: int
    n_periods: int
    n_fisher: int
    seed: int | None
    alpha: float
    outcome: str
    notes: list[str] = field(default_factory=list)

    @property
    def overall(self) -> pd.Series:
        """The first row (the overall estimate, or the first event time)."""
        return self.table.iloc[0]

    def tidy(self) -> pd.DataFrame:
        """The estimates table (``EFFICIENT_COLUMNS``)."""
        return self.table.copy()

    def _lines(self) -> list[str]:
        b = {"efficient": "plug-in efficient beta", "cs": "beta = 1 (Callaway & Sant'Anna, not-yet-treated)",
             "sa": "beta = 1 (Sun & Abraham, last-treated / never-treated comparison)", "dim": "beta = 0 (difference in means)"}
        return [
            f"Outcome: {self.outcome}; units {self.n_units:,}; periods {self.n_periods}; cohorts "
            f"{int(np.isfinite(self.cohorts['cohort']).sum())}; estimand {self.estimand}; {b.get(self.beta, f'beta = {self.beta}')}"
            + (" with all pairwise pre-treatment comparisons" if self.comparisons == "all" else ""),
            "Design-based standard errors (treatment timing as if randomly assigned): std_error refined, "
            "std_error_neyman conservative; "
            + (f"Fisher randomization test with {self.n_fisher} permutations (seed {self.seed})." if self.n_fisher else "no Fisher test."),
            self.table.to_string(index=False, float_format=lambda v: f"{v:.6g}", na_rep=""),
        ]

    def summary(self) -> str:
        lines = ["Roth & Sant'Anna (2023) efficient estimator for staggered rollouts (random timing)"] + self._lines()
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        o = self.overall
        return f"<EfficientResult {self.estimand} beta={self.beta}: {o['estimate']:.6g} (SE {o['std_error']:.6g})>"

    def _repr_html_(self) -> str:
        body = "<br>".join(escape_html(s) for s in self._lines()[:2])
        notes = "".join(f"<li>{escape_html(n)}</li>" for n in self.notes)
        return (f"<p><b>Roth &amp; Sant'Anna efficient estimator</b><br>{body}</p><ul>{notes}</ul>"
                + self.table.to_html(index=False, escape=True))

    def plot(self, *, ax=None, title: str | None = None):
        """Estimates with confidence intervals (event-study plot for ``eventstudy``). Returns the Axes."""
        from ..plots import forest_plot
        from ..plots.eventstudy import event_study_plot

        t = self.table
        if self.estimand == "eventstudy":
            return event_study_plot(t["level"].astype(float).to_numpy(), t["estimate"].to_numpy(float),
                                    t["ci_low"].to_numpy(float), t["ci_high"].to_numpy(float), reference=None,
                                    ax=ax, title=title or "Efficient event-study estimates", ylabel=f"Effect on {self.outcome}")
        return forest_plot(t["level"].tolist(), t["estimate"].to_numpy(float), t["ci_low"].to_numpy(float),
                           t["ci_high"].to_numpy(float), ax=ax, reference_line=0.0, xlabel=f"Effect on {self.outcome}",
                           title=title)


# ----------------------------------------------------------------------------- main
def efficient_staggered(
    panel: PanelResult | pd.DataFrame,
    *,
    outcome: str,
    unit: str | None = None,
    time: str | None = None,
    first_treated: str | None = None,
    estimand: Estimand = "simple",
    beta: BetaChoice | float = "efficient",
    comparisons: Comparisons = "did",
    event_times: list[int] | None = None,
    n_fisher: int = 500,
    seed: int | None = 0,
    alpha: float = 0.05,
) -> EfficientResult:
    """Efficient estimator for staggered rollouts with (as-good-as) random timing (Roth & Sant'Anna 2023).

    Parameters
    ----------
    panel
        A balanced PanelResult (``build_panel(..., balanced=True)``) or long DataFrame.
    outcome, unit, time, first_treated
        Columns; ``time`` consecutive integers, ``first_treated`` 0 / NaN for
        never treated (implied by a PanelResult).
    estimand
        ``"simple"`` (every post-treatment (period, cohort) effect weighted by
        cohort size, = ``did`` "simple"), ``"cohort"`` (per cohort, averaged over
        its post periods; overall weighted by cohort size, = ``did`` "group"),
        ``"calendar"`` (per period; overall = average over periods) or
        ``"eventstudy"`` (per event time ``event_times``, = ``did`` "dynamic").
    beta
        ``"efficient"`` (plug-in optimal), ``"cs"`` (Callaway & Sant'Anna with
        not-yet-treated comparisons), ``"sa"`` (Sun & Abraham: last-treated or
        never-treated cohort as comparison), ``"dim"`` (difference in means), or
        a number (fixed beta on the CS pre-period term).
    comparisons
        ``"did"`` (``X_hat`` is the CS pre-period term, the R package's default
        ``use_DiD_A0 = TRUE``) or ``"all"`` (every cohort vs the last cohort in
        every period before both are treated; efficient in a larger class but
        noisy unless cohorts are large relative to their number). Only used with
        ``beta="efficient"``.
    event_times
        Event times for ``estimand="eventstudy"`` (default: every feasible
        non-negative one). Negative event times ``e <= -2`` give placebo
        (pre-treatment) estimates against the reference period ``-1``: cohort
        ``g`` in period ``g + e`` minus its mean in ``g - 1``, compared with the
        same change in the cohorts not yet treated at ``g`` (``g' > g``, and
        never treated), weighted by cohort size; with ``beta="cs"`` this is the
        Callaway & Sant'Anna event study with not-yet-treated controls and
        ``base_period="universal"``, otherwise beta corrects it as any row.
        They are mean zero under random timing, and with the post-treatment
        rows (their covariance in ``vcov``) they are what
        :func:`~equity_metrics.honest_did` needs.
    n_fisher
        Permutations for the Fisher randomization test (0 to skip). They are
        computed in vectorised batches from projections of the outcomes
        (about ``units x (3 rows + pre-periods x periods)`` operations each;
        ``benchmarks/bench_did.py``): 5,000 permutations on 8,000-10,000
        officers x 72 months took 2.3-2.4 s of CPU for ``simple`` and 7.5-17 s
        for the many-row estimands (``cohort``, ``calendar``, ``eventstudy``;
        slowest ``cohort`` with 48 cohorts) on a 2-core machine at load average
        1.3-2.9 (about twice that in wall time when the machine is saturated).
        ``comparisons="all"`` (a vector beta re-estimated in every
        permutation) uses the slower one-at-a-time loop.
    seed
        Seed of the permutations.
    alpha
        ``1 - alpha`` normal intervals.

    Returns
    -------
    EfficientResult

    Notes
    -----
    Units treated in or before the first period are dropped (no comparison
    in any period), units first treated after the last period are never
    treated, and cohorts of a single unit are dropped (their covariance is not
    estimable), as R ``staggered`` does; all are listed in ``notes``. With no
    never-treated units, effects are estimated only for periods before the
    last cohort is treated. The Fisher p-value is ``(1 + #{|t*| >= |t|}) / (1 + B)``
    (R ``staggered`` reports the share of permutations with ``|t*| > |t|``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> n, T = 300, 6
    >>> g = rng.choice([3, 4, 5, 0], n)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
    ...                   "g": np.repeat(g, T)})
    >>> d["y"] = rng.normal(size=len(d)) + 0.5 * ((d["g"] > 0) & (d["t"] >= d["g"]))
    >>> r = efficient_staggered(d, outcome="y", unit="id", time="t", first_treated="g", n_fisher=99)
    >>> r.tidy()[["estimand", "level"]].iloc[0].tolist()
    ['simple', 'overall']
    """
    check_option("estimand", estimand, Estimand)
    check_option("comparisons", comparisons, Comparisons)
    if isinstance(beta, str):
        check_option("beta", beta, BetaChoice)
        beta_value = {"cs": 1.0, "sa": 1.0, "dim": 0.0}.get(beta, np.nan)
    elif isinstance(beta, int | float) and not isinstance(beta, bool) and np.isfinite(beta):
        beta_value = float(beta)
    else:
        raise OptionError(f"beta must be 'efficient', 'cs', 'sa', 'dim' or a number, got {beta!r}.")
    if not isinstance(n_fisher, int | np.integer) or n_fisher < 0:
        raise OptionError(f"n_fisher must be an integer >= 0, got {n_fisher!r}.")
    if not 0 < alpha < 1:
        raise OptionError(f"alpha must be between 0 and 1, got {alpha!r}.")
    if estimand != "eventstudy" and event_times is not None:
        raise OptionError("event_times applies only to estimand='eventstudy'.")
    if event_times is not None and any(not isinstance(e, int | np.integer) or isinstance(e, bool) for e in event_times):
        raise OptionError("event_times must be whole numbers (e.g. list(range(-5, 6)); -1 is the reference).")
    if event_times is not None and -1 in list(event_times):
        raise OptionError("event time -1 is the reference period of the placebo (pre-treatment) estimates, zero by "
                          "construction: leave it out of event_times.")
    if isinstance(panel, PanelResult) and first_treated is None:
        first_treated = panel.first_treated
    if first_treated is None:
        raise DataValidationError("efficient_staggered: name the first_treated= column (0/NaN = never treated).")
    what = "efficient_staggered"
    d = prepare_input(panel, outcome=outcome, unit=unit, time=time, extra=[first_treated], cluster=None,
                      weights=None, what=what)
    g_row = cohort_of_rows(d, first_treated, what)
    notes = list(d.notes)
    tcodes, times = pd.factorize(d.t, sort=True)
    times = np.asarray(times, dtype=float)
    if times.size < 2 or not np.all(np.diff(times) == 1):
        raise DataValidationError(f"{what}: time must be consecutive whole numbers (a running period index such as build_panel's 'time').")
    n, T = d.n_units, times.size
    y = np.full((n, T), np.nan)
    y[d.unit_codes, tcodes] = d.y
    if np.isnan(y).any():
        bad = int(np.isnan(y).any(axis=1).sum())
        raise EstimationError(
            f"{what}: the panel is unbalanced ({bad:,} of {n:,} units miss some periods). The estimator needs every "
            "unit in every period: build the panel with build_panel(..., balanced=True) or drop those units."
        )
    g_unit = np.full(n, np.inf)
    g_unit[d.unit_codes] = g_row
    if not np.all(np.isinf(g_unit) | (g_unit == np.round(g_unit))):
        raise DataValidationError(f"{what}: first_treated must be a whole-number period.")
    keep = ~(np.isfinite(g_unit) & (g_unit <= times[0]))
    if (~keep).any():
        notes.append(f"{int((~keep).sum()):,} unit(s) treated in or before the first period dropped")
    late = np.isfinite(g_unit) & (g_unit > times[-1])
    if late.any():
        notes.append(f"{int(late.sum()):,} unit(s) first treated after the last period count as never treated")
        g_unit = np.where(late, np.inf, g_unit)
    glist, counts = np.unique(g_unit[keep], return_counts=True)
    single = glist[counts == 1]
    if single.size:
        msg = f"cohort(s) {', '.join(f'{v:g}' for v in single)} of a single unit dropped (covariance not estimable)"
        notes.append(msg)
        warnings.warn(f"{what}: {msg}", UserWarning, stacklevel=2)
        keep &= ~np.isin(g_unit, single)
        glist, counts = np.unique(g_unit[keep], return_counts=True)
    if glist.size < 2 or not np.isfinite(glist).any():
        raise EstimationError(
            f"{what}: at least two cohorts (or one cohort and never-treated units) with two or more units each are "
            "needed; the data have " + (", ".join(f"{v:g} ({c})" for v, c in zip(glist, counts)) or "none") + "."
        )
    y, g_unit = y[keep], g_unit[keep]
    gi = np.searchsorted(glist, g_unit)
    n_g = counts.astype(float)
    if not np.isinf(glist[-1]):
        notes.append(f"no never-treated units: effects only for periods before the last cohort ({glist[-1]:g}) is treated")
    if event_times is None and estimand == "eventstudy":
        fin = glist[np.isfinite(glist)]
        event_times = list(range(0, int(min(times[-1], glist[-1] - 1) - fin.min()) + 1))
    last_only = beta == "sa"
    comp = comparisons if beta == "efficient" else "did"
    des, dnotes = _design(times, glist, n_g, estimand, event_times or [], last_only, comp)
    notes += dnotes
    mode = beta if isinstance(beta, str) else "fixed"
    ybar, s = _stats(y, gi, glist.size)
    est, se, se_ney, v, v_ney, beta_used = _estimate(ybar, s, n_g, des, mode, beta_value, times, glist)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_obs, t_obs_n = est / se, est / se_ney
    fp, fpn = np.full(est.size, np.nan), np.full(est.size, np.nan)
    if n_fisher:
        # all permutations in vectorised batches (_efficient_fisher.py; same draws as one at a time)
        ge_r, ge_n = fisher_counts(y, gi, n_g, des, mode, beta_value, times, glist, t_obs, t_obs_n,
                                   int(n_fisher), seed)
        fp, fpn = (1 + ge_r) / (1 + n_fisher), (1 + ge_n) / (1 + n_fisher)
    with np.errstate(divide="ignore", invalid="ignore"):
        pv = 2 * stats.norm.sf(np.abs(t_obs))
    table = pd.DataFrame({"estimand": des.estimand, "level": des.labels, "estimate": est, "std_error": se,
                          "std_error_neyman": se_ney, "ci_low": est - z * se, "ci_high": est + z * se, "p_value": pv,
                          "fisher_p_value": fp, "fisher_p_value_neyman": fpn, "beta": beta_used})
    if (se == 0).any():
        notes.append("some refined variances were negative or zero and set to 0 (as R staggered does)")
    lab = des.labels
    return EfficientResult(
        table=table[EFFICIENT_COLUMNS], vcov=pd.DataFrame(v, index=lab, columns=lab),
        vcov_neyman=pd.DataFrame(v_ney, index=lab, columns=lab),
        cohorts=pd.DataFrame({"cohort": glist, "units": counts.astype(np.int64)}), estimand=estimand,
        beta=beta if isinstance(beta, str) else f"{beta:g}", comparisons=comp, n_units=int(y.shape[0]),
        n_periods=T, n_fisher=int(n_fisher), seed=seed, alpha=alpha, outcome=outcome, notes=notes,
    )
