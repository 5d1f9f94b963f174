"""Power of a planned staggered rollout by simulation on the user's own untreated panel.

:func:`power` replays a proposed training schedule (cohort start periods and sizes) on a
real untreated history (e.g. use of force per officer-month): in each replication the
officers are assigned to cohorts at random, a proportional effect is planted in every
treated period (``Y(1) = (1 + effect) * Y(0)``), and the evaluation's actual estimator is
run (Callaway & Sant'Anna with not-yet-treated comparisons via
:func:`~equity_metrics.models.did.staggered_did`, Roth & Sant'Anna's efficient estimator
via :func:`~equity_metrics.models.efficient.efficient_staggered`, or the two-way
fixed-effects DiD). Power is the share of replications whose ``1 - alpha`` interval
excludes 0; coverage the share whose interval contains the planted truth of that
replication (the effect times the mean untreated outcome of the treated periods the
estimand averages); both with their Monte Carlo standard errors ``sqrt(p (1 - p) / n)``.
The analytic MDE of :mod:`equity_metrics.models.planning` (Burlig, Preonas & Woerman
2020) is reported next to it.
"""

from __future__ import annotations

import time as _time
import warnings
from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._options import check_option
from .._results import ResultBase
from ..errors import EquityMetricsError, OptionError
from .panel import PanelResult
from .planning import _one_blas_thread, panel_mde, power_at, schedule_std_error, untreated_matrix

__all__ = ["power", "PowerResult", "POWER_COLUMNS"]

Estimator = Literal["cs", "efficient", "twfe"]
Untreated = Literal["never_treated", "pre_period"]
POWER_COLUMNS = ["effect", "n_sims", "n_failed", "power", "power_mcse", "coverage", "coverage_mcse", "mean_estimate",
                 "mean_truth", "bias", "sd_estimate", "mean_std_error", "power_analytic"]
_NAMES = {"cs": "Callaway & Sant'Anna (not-yet-treated)", "efficient": "Roth & Sant'Anna efficient",
          "twfe": "two-way fixed effects DiD"}
#: The estimators in words, for readers.
ESTIMATOR_WORDS = {
    "cs": "Callaway & Sant'Anna (2021) difference-in-differences: each cohort's change after training compared "
          "with the change among officers not yet trained",
    "efficient": "Roth & Sant'Anna (2023) efficient estimator for randomly timed rollouts: each cohort compared with "
                 "those not yet trained, using the earlier periods to sharpen the comparison",
    "twfe": "two-way fixed effects difference-in-differences (one regression; biased when cohorts start at "
            "different dates and effects differ)"}


def _plural(n: int, word: str, plural: str | None = None) -> str:
    """``1 cohort``, ``3 cohorts`` (thousands separated)."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _schedule(schedule, labels: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Cohort start positions (1-based period index) and sizes, sorted by start."""
    if isinstance(schedule, pd.DataFrame):
        cols = [c for c in ("start", "period", "cohort") if c in schedule.columns]
        scol = cols[0] if cols else None
        ncol = next((c for c in ("size", "units", "officers", "n") if c in schedule.columns), None)
        if scol is None or ncol is None:
            raise OptionError("schedule DataFrame needs a 'start' (period) and a 'size' column.")
        pairs = list(zip(schedule[scol].tolist(), schedule[ncol].tolist()))
    elif isinstance(schedule, Mapping):
        pairs = list(schedule.items())
    elif isinstance(schedule, Sequence) and not isinstance(schedule, str):
        pairs = []
        for item in schedule:
            if isinstance(item, Mapping):
                pairs.append((item.get("start", item.get("period")), item.get("size", item.get("officers"))))
            else:
                pairs.append(tuple(item))
    else:
        raise OptionError("schedule must map cohort start periods to sizes, e.g. {'2015-01': 100, '2015-07': 100}.")
    if not pairs:
        raise OptionError("schedule is empty: give at least one cohort (start period and size).")
    pos = {str(v): i + 1 for i, v in enumerate(labels)}
    starts, sizes, shown = [], [], []
    for item in pairs:
        if len(item) != 2:
            raise OptionError(f"each cohort is (start period, size); got {item!r}.")
        s, k = item
        key = str(s)
        if key not in pos:
            raise OptionError(f"schedule start {s!r} is not a period of the untreated history ({labels[0]} .. "
                              f"{labels[-1]}); give starts inside it (the plan is replayed on the history).")
        if pos[key] < 2:
            raise OptionError(f"schedule start {s!r} is the history's first period: a cohort needs at least one "
                              "period before training.")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise OptionError(f"cohort sizes must be whole numbers >= 1, got {k!r} for {s!r}.")
        starts.append(pos[key])
        sizes.append(int(k))
        shown.append(f"{key}: {int(k)}")
    order = np.argsort(starts, kind="mergesort")
    st, sz = np.asarray(starts)[order], np.asarray(sizes)[order]
    if np.unique(st).size != st.size:  # merge repeated starts
        u, inv = np.unique(st, return_inverse=True)
        sz = np.bincount(inv, weights=sz).astype(int)
        st = u
    if sz.sum() > n_units:
        raise OptionError(f"the schedule trains {int(sz.sum()):,} units but the untreated history has "
                          f"{n_units:,}; plan fewer or give a larger history.")
    return st, sz, shown


def _efficient_parts(y: np.ndarray, g: np.ndarray, times: np.ndarray, cache: dict):
    """Roth & Sant'Anna ``simple`` estimate and refined SE from the outcome matrix, with the same private
    functions ``efficient_staggered`` runs (its design depends only on the cohort sizes: built once)."""
    from .efficient import _design, _estimate, _stats

    gu = np.where(g > 0, g, np.inf)
    glist, counts = np.unique(gu, return_counts=True)
    if counts.min() < 2 or glist.size < 2:
        return None  # single-unit cohorts: the public function drops them with a note
    key = (tuple(glist.tolist()), tuple(counts.tolist()))
    if key not in cache:
        cache[key] = _design(times, glist, counts.astype(float), "simple", [], False, "did")[0]
    gi = np.searchsorted(glist, gu)
    ybar, s = _stats(y, gi, glist.size)
    est, se, *_ = _estimate(ybar, s, counts.astype(float), cache[key], "efficient", np.nan, times, glist)
    return float(est[0]), float(se[0])


def _fast_cs():
    """The vectorised CS entry point (``models.did._fast.fast_staggered_did``) when this version has it, else None."""
    try:
        from .did._fast import fast_staggered_did
    except ImportError:  # pragma: no cover - older models.did: the public staggered_did is used
        return None
    return fast_staggered_did


class _Runner:
    """Runs one estimator on (Y, cohort) pairs; the long frame's unit/time columns are built once."""

    def __init__(self, estimator: str, n: int, t: int, alpha: float) -> None:
        self.estimator, self.alpha, self.n, self.t = estimator, alpha, n, t
        self.frame = pd.DataFrame({"unit": np.repeat(np.arange(n), t), "time": np.tile(np.arange(1, t + 1), n)})
        self.z = float(stats.norm.ppf(1 - alpha / 2))
        self.fast = _fast_cs() if estimator == "cs" else None
        self._design_cache: dict = {}

    def _efficient_matrix(self, y: np.ndarray, g: np.ndarray):
        out = _efficient_parts(y, g, np.arange(1.0, self.t + 1), self._design_cache)
        if out is None:
            return None
        est, se = out
        return est, se, est - self.z * se, est + self.z * se

    def __call__(self, y: np.ndarray, g: np.ndarray) -> tuple[float, float, float, float]:
        if self.estimator == "cs" and self.fast is not None:
            # the vectorised Callaway & Sant'Anna (same estimates and analytic SEs as staggered_did + aggregate)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                agg = self.fast(y, g, control="not_yet_treated", kinds=("simple",)).aggregations["simple"]
            est, se = float(agg.overall), float(agg.overall_se)
            return est, se, est - self.z * se, est + self.z * se
        if self.estimator == "efficient":
            fit = self._efficient_matrix(y, g)
            if fit is not None:
                return fit
        f = self.frame
        f["y"] = y.ravel()
        f["g"] = np.repeat(g, self.t)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.estimator == "cs":
                from .did import staggered_did

                r = staggered_did(f, outcome="y", unit="unit", time="time", first_treated="g",
                                  control="not_yet_treated", alpha=self.alpha).aggregate("simple")
                row = r.tidy().iloc[0]
                return float(row["estimate"]), float(row["std_error"]), float(row["ci_low"]), float(row["ci_high"])
            if self.estimator == "efficient":
                from .efficient import efficient_staggered

                row = efficient_staggered(f, outcome="y", unit="unit", time="time", first_treated="g", n_fisher=0,
                                          alpha=self.alpha).tidy().iloc[0]
                return float(row["estimate"]), float(row["std_error"]), float(row["ci_low"]), float(row["ci_high"])
            from .did_classic import twfe

            r = twfe(f, outcome="y", unit="unit", time="time", first_treated="g", alpha=self.alpha)
            return float(r.estimate), float(r.std_error), float(r.ci_low), float(r.ci_high)


@dataclass(repr=False)
class PowerResult(ResultBase):
    """Simulated power and coverage of a planned rollout, with the analytic MDE (see :func:`power`).

    Attributes
    ----------
    table
        One row per simulated effect (``POWER_COLUMNS``): power and coverage with Monte Carlo
        standard errors, mean estimate and planted truth (outcome units), bias, spread of the
        estimates, mean reported standard error and the analytic power at that effect.
    effect
        The hoped-for proportional change (``-0.10`` = a 10% fall).
    base
        Mean untreated outcome per unit and period (the level effects are shares of).
    mde_analytic, mde_schedule, mde_simulated, mde_simulated_mcse
        MDE as a share of ``base``: analytic by Burlig, Preonas & Woerman (one date with ``pre`` /
        ``post`` periods), analytic for this exact schedule (:func:`~equity_metrics.models.planning.schedule_std_error`;
        NaN for ``twfe``) and from the simulated spread with no effect planted,
        ``(z_{1-alpha/2} + z_power) * sd(estimate) / base``, with its Monte Carlo error.
    """

    table: pd.DataFrame
    effect: float
    base: float
    alpha: float
    target_power: float
    estimator: str
    n_units: int
    n_periods: int
    n_treated: int
    schedule: list[str]
    pre: int
    post: int
    mde_analytic: float
    std_error_analytic: float
    df_analytic: float
    mde_simulated: float
    mde_simulated_mcse: float
    mde_schedule: float
    std_error_schedule: float
    outcome: str
    seed: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    label: str = ""
    unit_name: str = "units"

    @property
    def outcome_words(self) -> str:
        """The outcome for readers: ``label`` when set (e.g. "use-of-force reports per officer per month")."""
        return self.label or self.outcome

    def coverage_notes(self) -> list[str]:
        """Sentences for simulated effects whose interval coverage is below nominal by more than 2 Monte Carlo errors.

        The Monte Carlo error is that of a share at the nominal level, ``sqrt(c (1 - c) / n)`` with
        ``c = 1 - alpha`` and ``n`` the replications estimated: a coverage further below is not chance.
        """
        nominal = 1 - self.alpha
        out = []
        for _, r in self.tidy().iterrows():
            k = float(r["n_sims"] - r["n_failed"])
            if not k > 0 or not np.isfinite(r["coverage"]):
                continue
            mc = float(np.sqrt(nominal * (1 - nominal) / k))
            if r["coverage"] < nominal - 2 * mc:
                out.append(f"at a true change of {r['effect']:+.0%} the {nominal:.0%} intervals contained the planted "
                           f"change in only {r['coverage']:.0%} of simulated rollouts (more than 2 simulation errors, "
                           f"2 x {mc:.1%}, below {nominal:.0%}): at this change the intervals miss the truth too often "
                           "(too narrow, or the estimate is biased), so treat such a result's interval as "
                           "optimistic")
        return out

    def tidy(self) -> pd.DataFrame:
        """The simulated effects (``POWER_COLUMNS``), sorted by effect."""
        return self.table[POWER_COLUMNS].sort_values("effect", kind="mergesort").reset_index(drop=True)

    def design(self) -> pd.DataFrame:
        """The design and the MDEs as one row (for reports)."""
        return pd.DataFrame([{
            "outcome": self.outcome, "estimator": self.estimator, "units": self.n_units, "periods": self.n_periods,
            "units_trained": self.n_treated, "cohorts": len(self.schedule), "base": self.base, "effect": self.effect,
            "alpha": self.alpha, "power_target": self.target_power, "pre_analytic": self.pre,
            "post_analytic": self.post, "mde_analytic": self.mde_analytic, "mde_schedule": self.mde_schedule,
            "mde_simulated": self.mde_simulated,
            "mde_simulated_mcse": self.mde_simulated_mcse, "seed": self.seed}])

    @property
    def verdict(self) -> str:
        """One plain sentence: can this evaluation detect what we hope?"""
        row = self._hoped()
        p, se = float(row["power"]), float(row["power_mcse"])
        what = f"a {abs(self.effect):.0%} {'fall' if self.effect < 0 else 'rise'} in {self.outcome_words}"
        yes = p >= self.target_power
        return (f"{'Yes' if yes else 'No'}: with this schedule the evaluation would detect {what} in "
                f"{p:.0%} of simulated rollouts (give or take {se:.1%} from simulating a finite number of rollouts; "
                f"target {self.target_power:.0%}). The smallest change it detects reliably is about "
                f"{self.mde_simulated:.0%} of the untrained level (by simulation; {self._analytic():.0%} by formula).")

    def _analytic(self) -> float:
        return self.mde_schedule if np.isfinite(self.mde_schedule) else self.mde_analytic

    def _hoped(self) -> pd.Series:
        t = self.table
        return t.iloc[int(np.argmin(np.abs(t["effect"].to_numpy() - self.effect)))]

    def summary(self) -> str:
        lvl = int(round(100 * (1 - self.alpha)))
        u = self.unit_name
        n_sims = int(self.table["n_sims"].max())
        lines = [f"Power of a planned rollout: {self.outcome_words}",
                 f"estimator: {ESTIMATOR_WORDS[self.estimator]}",
                 f"history: {_plural(self.n_units, u[:-1] if u.endswith('s') else u, u)} x "
                 f"{_plural(self.n_periods, 'period')}, untrained level {self.base:.3g} per "
                 f"{u[:-1] if u.endswith('s') else u} and period",
                 f"schedule: {_plural(len(self.schedule), 'cohort')}, {self.n_treated:,} {u} trained "
                 f"({'; '.join(self.schedule[:6])}{' ...' if len(self.schedule) > 6 else ''})",
                 f"{n_sims:,} simulated rollouts per effect, seed {self.seed}, {lvl}% intervals, {self.seconds:.1f} s",
                 "", self.verdict, ""]
        t = self.tidy()
        show = pd.DataFrame({
            "true change": [f"{e:+.0%}" for e in t["effect"]],
            "power": [f"{p:.0%} +/- {s:.1%}" for p, s in zip(t["power"], t["power_mcse"])],
            "coverage": [f"{p:.0%} +/- {s:.1%}" for p, s in zip(t["coverage"], t["coverage_mcse"])],
            "power by formula": [f"{p:.0%}" for p in t["power_analytic"]],
        })
        lines.append(show.to_string(index=False))
        lines += ["(power: share of simulated rollouts whose interval excludes no change; coverage: share whose "
                  "interval contains the planted change; +/-: simulation (Monte Carlo) error from the finite number "
                  "of rollouts)",
                  "", f"Smallest change detectable with {self.target_power:.0%} power (minimum detectable effect, "
                      f"as a share of the untrained level): by simulation {self.mde_simulated:.1%} "
                      f"(+/- {self.mde_simulated_mcse:.1%} simulation error); by formula for this schedule "
                      f"{f'{self.mde_schedule:.1%}' if np.isfinite(self.mde_schedule) else 'not available'}; "
                      f"by the one-date formula of Burlig, Preonas & Woerman (2020) "
                      f"({_plural(self.pre, 'period')} before, {_plural(self.post, 'period')} after) "
                      f"{self.mde_analytic:.1%}"]
        lines += [f"note: {n}" for n in self.notes + self.coverage_notes()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<PowerResult {self.outcome}: power {float(self._hoped()['power']):.2f} at effect {self.effect:+.0%}, "
                f"MDE {self.mde_simulated:.1%}>")

    def power_curve(self, effects: np.ndarray | None = None) -> pd.DataFrame:
        """Analytic and simulation-based (normal approximation with the simulated spread) power over effects."""
        if effects is None:
            hi = max(2.0 * abs(self.effect), 1.5 * self.mde_simulated, 1.5 * self.mde_analytic, 0.01)
            effects = np.linspace(max(-hi, -1.0), hi, 81)
        e = np.asarray(effects, dtype=float)
        sd = self.mde_simulated / (stats.norm.ppf(1 - self.alpha / 2) + stats.norm.ppf(self.target_power))
        sim = power_at(e, sd, 1e9, alpha=self.alpha) if sd > 0 else np.full(e.size, np.nan)
        exact = np.isfinite(self.std_error_schedule)
        se_a = (self.std_error_schedule if exact else self.std_error_analytic) / self.base if self.base > 0 else np.nan
        ana = power_at(e, se_a, 1e9 if exact else self.df_analytic, alpha=self.alpha)
        return pd.DataFrame({"effect": e, "power_analytic": ana, "power_simulated_normal": sim})

    def plot(self, *, ax=None):
        """The power curve: analytic line, simulation-based line and the simulated points with 95% MC intervals."""
        from ..plots.power import power_curve

        return power_curve(self, ax=ax)


def power(
    data: pd.DataFrame | PanelResult | np.ndarray,
    *,
    schedule,
    effect: float,
    outcome: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    first_treated: str | None = None,
    untreated: Untreated = "never_treated",
    effects: Sequence[float] | None = None,
    estimator: Estimator = "cs",
    n_sims: int = 500,
    alpha: float = 0.05,
    power: float = 0.80,
    seed: int = 0,
    progress: bool | None = False,
) -> PowerResult:
    """Can a planned training rollout detect the change we hope for? Power by simulation on real data.

    Parameters
    ----------
    data
        The untreated history: a long DataFrame (``outcome``, ``unit``, ``time`` and optionally
        ``first_treated`` columns), a :class:`~equity_metrics.models.panel.PanelResult` or a
        units x periods matrix. Units missing a period are dropped.
    schedule
        The proposed cohorts: ``{start_period: size}``, a list of ``(start, size)`` pairs or a
        DataFrame with ``start`` and ``size``. Starts are periods of the history (the plan is
        replayed on it); units not scheduled stay untrained (the never-treated comparison).
    effect
        Hoped-for proportional change (``-0.10`` = 10% fewer events after training).
    outcome, unit, time, first_treated
        Columns of a DataFrame (``first_treated``: period first treated, blank/0 = never).
    untreated
        ``"never_treated"``: the history of units never treated (default); ``"pre_period"``:
        every unit, periods before the first treatment only.
    effects
        Effects to simulate (default: 0 and ``effect``; 0 gives the test's size).
    estimator
        ``"cs"`` (Callaway & Sant'Anna, not-yet-treated, simple aggregation), ``"efficient"``
        (Roth & Sant'Anna) or ``"twfe"`` (two-way fixed effects; unbiased only for one date).
    n_sims
        Replications per effect.
    alpha, power
        Test level and the power wanted.
    seed
        Seed of the random assignments (same seed, same result).
    progress
        Progress bar on stderr (``None``: only on a terminal).

    Returns
    -------
    PowerResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> y = rng.poisson(rng.gamma(2.0, 0.2, size=(300, 1)), size=(300, 12)).astype(float)
    >>> r = power(y, schedule={"7": 100}, effect=-0.5, n_sims=40, estimator="twfe", seed=1)
    >>> r.tidy()[["effect", "n_sims"]].values.tolist()
    [[-0.5, 40.0], [0.0, 40.0]]
    """
    from .._progress import progress as _bar

    check_option("estimator", estimator, Estimator)
    check_option("untreated", untreated, Untreated)
    for name, v in (("alpha", alpha), ("power", power)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            raise OptionError(f"{name} must be between 0 and 1, got {v!r}.")
    if isinstance(effect, bool) or not isinstance(effect, (int, float)) or not -1 <= effect <= 5 or effect == 0:
        raise OptionError(f"effect must be a non-zero proportional change between -1 and 5 (-0.10 = a 10% fall), "
                          f"got {effect!r}.")
    if isinstance(n_sims, bool) or not isinstance(n_sims, (int, np.integer)) or n_sims < 10:
        raise OptionError(f"n_sims must be a whole number >= 10 (500 gives power to about +/- 2%), got {n_sims!r}.")
    eff_list = sorted({0.0, float(effect)} | {float(e) for e in (effects or [])})
    if any(e < -1 for e in eff_list):
        raise OptionError("effects must be >= -1 (a fall of more than 100% is impossible).")
    if isinstance(data, PanelResult) and outcome is None and len(data.outcomes) == 1:
        outcome = data.outcomes[0]
    y0, labels, notes = untreated_matrix(data, outcome=outcome, unit=unit, time=time, first_treated=first_treated,
                                         untreated=untreated)
    n, t = y0.shape
    starts, sizes, shown = _schedule(schedule, labels, n)
    base = float(y0.mean())
    if not base > 0:
        raise EquityMetricsError("the untreated history has a mean outcome of 0: a proportional effect plants "
                                 "nothing. Choose an outcome that occurs, or a longer history.")
    never_left = sizes.sum() < n
    tgrid = np.arange(1, t + 1)
    last = starts.max()
    runner = _Runner(estimator, n, t, float(alpha))
    rng = np.random.default_rng(seed)
    t0 = _time.perf_counter()
    rows = []
    all_est: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    cohort_of = np.repeat(starts, sizes).astype(float)
    ybar_t = y0.mean(axis=0)
    total = len(eff_list) * n_sims
    bar = _bar(range(total), desc="simulating rollouts", enabled=progress)
    it = iter(bar)
    for e in eff_list:
        est, se, lo, hi, truth = (np.full(n_sims, np.nan) for _ in range(5))
        for b in range(n_sims):
            next(it, None)
            g = np.zeros(n)
            g[rng.permutation(n)[:cohort_of.size]] = cohort_of
            post = (g[:, None] > 0) & (tgrid[None, :] >= g[:, None])
            cells = post if (never_left or estimator == "twfe") else post & (tgrid[None, :] < last)
            y = y0 * (1.0 + e * post)
            if not cells.any():
                truth[b] = np.nan
            elif estimator == "efficient":  # design-based estimand: the effect on all units (random timing)
                truth[b] = e * float((ybar_t[None, :] * cells).sum() / cells.sum())
            else:  # the effect on the treated units in their treated periods
                truth[b] = e * float(y0[cells].mean())
            try:
                with _one_blas_thread():
                    est[b], se[b], lo[b], hi[b] = runner(y, g)
            except EquityMetricsError:
                continue
        ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
        k = int(ok.sum())
        rej = ((lo[ok] > 0) | (hi[ok] < 0)).mean() if k else np.nan
        cov = ((lo[ok] <= truth[ok]) & (truth[ok] <= hi[ok])).mean() if k else np.nan
        all_est[e] = (est[ok], truth[ok])
        rows.append({"effect": e, "n_sims": float(n_sims), "n_failed": float(n_sims - k), "power": rej,
                     "power_mcse": np.sqrt(rej * (1 - rej) / k) if k else np.nan, "coverage": cov,
                     "coverage_mcse": np.sqrt(cov * (1 - cov) / k) if k else np.nan,
                     "mean_estimate": float(est[ok].mean()) if k else np.nan,
                     "mean_truth": float(truth[ok].mean()) if k else np.nan,
                     "bias": float((est[ok] - truth[ok]).mean()) if k else np.nan,
                     "sd_estimate": float(est[ok].std(ddof=1)) if k > 1 else np.nan,
                     "mean_std_error": float(se[ok].mean()) if k else np.nan})
    if hasattr(bar, "close"):
        bar.close()
    seconds = _time.perf_counter() - t0
    failed = sum(int(r["n_failed"]) for r in rows)
    if failed:
        notes.append(f"{failed} replication(s) could not be estimated and are left out of the shares")
    # analytic companion (BPW): one date with the schedule's average numbers of periods
    n_tr = int(sizes.sum())
    r_eff = int(max(1, round(float(np.sum(sizes * (t - starts + 1)) / n_tr))))
    m_eff = 1 if estimator == "cs" else int(max(1, round(float(np.sum(sizes * (starts - 1)) / n_tr))))
    if m_eff + r_eff > t:
        r_eff = max(1, t - m_eff)
    an = panel_mde(y0, pre=m_eff, post=r_eff, units=n, share_treated=min(n_tr / n, 1 - 1 / n), alpha=alpha,
                   power=power).table.iloc[0]
    # simulated MDE from the spread of the estimation error with no effect planted
    e0, t0_ = all_est.get(0.0, (np.array([]), np.array([])))
    mult = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    if e0.size > 2:
        mde_sim = mult * float(np.std(e0 - t0_, ddof=1)) / base
        mcse = mde_sim / np.sqrt(2 * (e0.size - 1))
    else:
        mde_sim = mcse = float("nan")
    se_sched = (schedule_std_error(np.cov(y0.T), starts, sizes, n, estimator=estimator)
                if estimator in ("cs", "efficient") else float("nan"))
    mde_sched = mult * se_sched / base
    table = pd.DataFrame(rows)
    if np.isfinite(se_sched):
        table["power_analytic"] = power_at(table["effect"].to_numpy() * base, se_sched, 1e9, alpha=alpha)
    else:
        table["power_analytic"] = power_at(table["effect"].to_numpy() * base, float(an["std_error"]),
                                           float(an["df"]), alpha=alpha)
    if estimator == "twfe" and starts.size > 1:
        notes.append("two-way fixed effects under staggered timing is only a comparison (negative weights)")
    notes.append("the one-date formula of Burlig, Preonas & Woerman treats the staggered schedule as if every cohort "
                 f"started on one date, with the schedule's average of {_plural(r_eff, 'period')} after training"
                 + (" and one period before it (the period Callaway & Sant'Anna compare each cohort with)"
                    if estimator == "cs" else f" and {_plural(m_eff, 'period')} before it"))
    return PowerResult(
        table=table, effect=float(effect), base=base, alpha=float(alpha), target_power=float(power),
        estimator=estimator, n_units=n, n_periods=t, n_treated=n_tr, schedule=shown, pre=m_eff, post=r_eff,
        mde_analytic=float(an["mde_share"]), std_error_analytic=float(an["std_error"]), df_analytic=float(an["df"]),
        mde_simulated=float(mde_sim), mde_simulated_mcse=float(mcse), mde_schedule=float(mde_sched),
        std_error_schedule=float(se_sched), outcome=outcome or "outcome", seed=int(seed),
        seconds=float(seconds), notes=notes)
