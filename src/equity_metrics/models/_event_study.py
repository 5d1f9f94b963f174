"""Dynamic event studies: relative-time dummies with absorbed unit and period effects.

Holds :class:`EventStudyResult` and :func:`event_study` (TWFE event study and the
Sun & Abraham 2021 interaction-weighted estimator, with binned endpoints and a
joint pre-trend test). Both are re-exported from, and documented as part of,
:mod:`equity_metrics.models.did_classic`; import them from there or from
:mod:`equity_metrics.models`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from .._options import check_option
from ..errors import DataValidationError, EstimationError, OptionError
from ._did_base import _fmt, _Result
from ._fe import WaldTest, cell_dummies, cohort_of_rows, dummies, fit_within, iw_aggregate, prepare_input
from ._fe import t_inference, wald_test
from .panel import PanelResult

ControlGroup = Literal["never_treated", "not_yet_treated"]
EVENT_COLUMNS = ["event_time", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high",
                 "n_obs", "n_cohorts", "binned", "reference"]


@dataclass
class EventStudyResult(_Result):
    """Dynamic event study (see :func:`event_study`).

    Attributes
    ----------
    table
        One row per event time (``EVENT_COLUMNS``): ``event_time, estimate,
        std_error, statistic, p_value, ci_low, ci_high, n_obs, n_cohorts,
        binned, reference``; the base period is a row with estimate 0.
    pretrend
        Joint Wald test that all pre-treatment coefficients are zero
        (:class:`~equity_metrics.models._fe.WaldTest`), or ``None``.
    vcov
        Covariance of the estimated event-time coefficients.
    cohort_effects
        Sun & Abraham only: the cohort x event-time effects, their standard
        errors and aggregation weights.
    method
        ``"twfe"`` (dynamic two-way fixed effects) or ``"sun_abraham"``.
    """

    table: pd.DataFrame
    pretrend: WaldTest | None
    vcov: pd.DataFrame
    cohort_effects: pd.DataFrame | None
    method: str
    base_period: int
    control: str
    n_obs: int
    n_units: int
    n_clusters: int
    alpha: float
    outcome: str
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:  # type: ignore[override]
        if self.method == "sun_abraham":
            return "Event study: Sun & Abraham (2021) interaction-weighted estimator"
        return "Event study: dynamic two-way fixed effects (relative-time dummies)"

    def tidy(self) -> pd.DataFrame:
        """The event-time table (``EVENT_COLUMNS``)."""
        return self.table.copy()

    def _lines(self) -> list[str]:
        ctrl = "never treated" if self.control == "never_treated" else "not yet treated"
        out = [
            f"Outcome: {self.outcome}; rows {self.n_obs:,}; units {self.n_units:,}; clusters {self.n_clusters:,}; "
            f"comparison: {ctrl}; base period e = {self.base_period}; CRV1 SEs, t({self.n_clusters - 1}) intervals",
            _fmt(self.table),
        ]
        if self.pretrend is not None:
            out.append(str(self.pretrend))
        if self.method == "twfe":
            out.append("Dynamic TWFE coefficients can be contaminated by effects at other event times when effects "
                       "differ across cohorts (Sun & Abraham 2021): compare with sun_abraham=True.")
        return out

    def __repr__(self) -> str:
        return f"<EventStudyResult {self.method}: {len(self.table)} event times, {self.n_units} units>"

    def plot(self, *, ax=None, title: str | None = None):
        """Coefficients with confidence intervals by event time. Returns the Axes."""
        from ..plots.eventstudy import event_study_plot

        t = self.table
        return event_study_plot(
            t["event_time"].to_numpy(float), t["estimate"].to_numpy(float), t["ci_low"].to_numpy(float),
            t["ci_high"].to_numpy(float), reference=self.base_period, ax=ax, title=title or self.title,
            ylabel=f"Effect on {self.outcome}",
        )


def _check_int(name: str, v, *, negative: bool = False) -> int | None:
    if v is None:
        return None
    if not isinstance(v, int | np.integer) or isinstance(v, bool) or (v >= 0 if negative else v < 0):
        raise OptionError(f"{name} must be {'a negative' if negative else 'a non-negative'} integer, got {v!r}.")
    return int(v)


def event_study(
    panel: PanelResult | pd.DataFrame,
    *,
    outcome: str,
    unit: str | None = None,
    time: str | None = None,
    first_treated: str | None = None,
    leads: int | None = None,
    lags: int | None = None,
    base_period: int = -1,
    bin_endpoints: bool = True,
    control: ControlGroup = "never_treated",
    sun_abraham: bool = False,
    cluster: str | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
) -> EventStudyResult:
    """Dynamic event study with relative-time dummies, unit and period effects, clustered SEs.

    Regresses the outcome on dummies for each event time ``e = time -
    first_treated`` of treated units (except ``base_period``), absorbing unit
    and period effects exactly (within transformation, no unit dummies).
    With ``sun_abraham=True`` the dummies are interacted with cohorts
    (``fixest::sunab``): each cohort x event-time effect is estimated against
    the comparison units only, and the event-time estimate is their average
    weighted by each cohort's share of the rows at that event time
    (interaction-weighted estimator of Sun & Abraham 2021).

    Parameters
    ----------
    panel
        PanelResult or long DataFrame.
    outcome, unit, time, first_treated
        Columns (unit, time and first_treated are implied by a PanelResult);
        ``first_treated`` is 0 / NaN for never-treated units.
    leads, lags
        Event-time window ``[-leads, lags]`` (default: every event time in the data).
    base_period
        Omitted (reference) event time, ``-1`` by default.
    bin_endpoints
        With a window narrower than the data, pool the event times beyond it
        into the end dummies (``True``), or drop those rows of treated units
        (``False``).
    control
        ``"never_treated"`` (needs never-treated units) or
        ``"not_yet_treated"``: units not yet treated serve as comparisons;
        without never-treated units (and always with ``sun_abraham=True``)
        periods from the last cohort's treatment on are dropped and that
        cohort is the comparison group.
    sun_abraham
        Use the interaction-weighted estimator.
    cluster, weights, alpha
        Cluster column (default unit), weights column, interval level.

    Returns
    -------
    EventStudyResult

    Raises
    ------
    EstimationError
        No never-treated units with ``control="never_treated"``, no row at
        the base period, or event-time dummies collinear with the fixed
        effects (e.g. a full dynamic specification without never-treated units).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(200), 6), "t": np.tile(np.arange(1, 7), 200)})
    >>> d["g"] = np.repeat(rng.choice([0, 3, 5], 200), 6)  # 0 = never treated
    >>> d["y"] = rng.normal(size=len(d)) + 1.0 * ((d["g"] > 0) & (d["t"] >= d["g"]))
    >>> es = event_study(d, outcome="y", unit="id", time="t", first_treated="g", sun_abraham=True)
    >>> es.tidy()["event_time"].tolist()
    [-4, -3, -2, -1, 0, 1, 2, 3]
    """
    check_option("control", control, ControlGroup)
    leads, lags = _check_int("leads", leads), _check_int("lags", lags)
    base_period = _check_int("base_period", base_period, negative=True)
    if not 0 < alpha < 1:
        raise OptionError(f"alpha must be between 0 and 1, got {alpha!r}.")
    if isinstance(panel, PanelResult) and first_treated is None:
        first_treated = panel.first_treated
    if first_treated is None:
        raise DataValidationError("event_study: name the first_treated= column (period first treated; 0/NaN = never).")
    what = "event_study"
    d = prepare_input(panel, outcome=outcome, unit=unit, time=time, extra=[first_treated], cluster=cluster,
                      weights=weights, what=what)
    g = cohort_of_rows(d, first_treated, what)
    t = d.t
    if not (np.all(t == np.round(t)) and np.all(g[np.isfinite(g)] == np.round(g[np.isfinite(g)]))):
        raise DataValidationError(f"{what}: time and first_treated must be whole numbers (a running period index).")
    notes = list(d.notes)
    keep = np.ones(t.size, bool)
    early = np.isfinite(g) & (g <= t.min())
    if early.any():
        notes.append(f"{len(np.unique(d.unit_codes[early])):,} unit(s) treated in or before the first period dropped (no pre-period)")
        keep &= ~early
    late = np.isfinite(g) & (g > t.max())
    if late.any():
        notes.append(f"{len(np.unique(d.unit_codes[late])):,} unit(s) first treated after the last period count as never treated")
        g = np.where(late, np.inf, g)
    n_never = len(np.unique(d.unit_codes[keep & np.isinf(g)]))
    if control == "never_treated" and n_never == 0:
        raise EstimationError(
            f"{what}: no never-treated units, so control='never_treated' is impossible. Use "
            "control='not_yet_treated' (the last-treated cohort is then the comparison group)."
        )
    if control == "not_yet_treated" and (n_never == 0 or sun_abraham):
        fin = g[keep & np.isfinite(g)]
        if fin.size == 0:
            raise EstimationError(f"{what}: no treated units.")
        g_last = fin.max()
        keep &= t < g_last
        g = np.where(g == g_last, np.inf, g)
        notes.append(f"periods from {g_last:g} on dropped: the last-treated cohort ({g_last:g}) is the comparison group until then")
    treated_row = np.isfinite(g)
    if not (keep & treated_row).any():
        raise EstimationError(f"{what}: no treated cohort remains to estimate.")
    e = np.where(treated_row, t - np.where(treated_row, g, 0), np.nan)
    e_lo, e_hi = np.nanmin(e[keep & treated_row]), np.nanmax(e[keep & treated_row])
    lo = -leads if leads is not None else int(e_lo)
    hi = lags if lags is not None else int(e_hi)
    if not lo <= base_period <= hi:
        raise OptionError(f"base_period={base_period} is outside the event window [{lo}, {hi}]; widen leads=.")
    binned_lo = binned_hi = False
    outside = treated_row & ((e < lo) | (e > hi))
    if outside.any():
        if bin_endpoints:
            binned_lo, binned_hi = bool((keep & (e < lo)).any()), bool((keep & (e > hi)).any())
            e = np.where(treated_row, np.clip(e, lo, hi), np.nan)
            notes.append(f"event times beyond [{lo}, {hi}] pooled into the end points")
        else:
            notes.append(f"{int((keep & outside).sum()):,} row(s) of treated units outside event times [{lo}, {hi}] dropped")
            keep &= ~outside
    ei_all = np.where(treated_row, np.nan_to_num(e), 0).astype(np.int64)
    base_all = keep & treated_row & (ei_all == base_period)
    if not base_all.any():
        raise EstimationError(f"{what}: no treated unit is observed at the base period e = {base_period}; choose another base_period.")
    if sun_abraham:
        # every cohort must be observed at its base period, else its effects are not identified
        bad = np.setdiff1d(np.unique(g[keep & treated_row]), np.unique(g[base_all]))
        if bad.size:
            notes.append(f"cohort(s) {', '.join(f'{v:g}' for v in bad)} not observed at e = {base_period} dropped")
            keep &= ~np.isin(g, bad)
    # --- subset and recode ---------------------------------------------------------------
    y, t, g, ei, treated_row = d.y[keep], t[keep], g[keep], ei_all[keep], treated_row[keep]
    ucodes, uniq = pd.factorize(d.unit_codes[keep], sort=True)
    wv = d.w[keep] if d.w is not None else None
    cl, ncl = None, None
    if d.cl_codes is not None:
        cl, cu = pd.factorize(d.cl_codes[keep], sort=True)
        ncl = len(cu)
    cnt = wv if wv is not None else np.ones(y.size)
    at_base = treated_row & (ei == base_period)
    tcodes, tuniq = pd.factorize(t, sort=True)
    tdum = dummies(tcodes, len(tuniq), drop=0)
    tnames = [f"time={v:g}" for v in tuniq[1:]]
    est_rows = treated_row & ~at_base
    if not est_rows.any():
        raise EstimationError(f"{what}: treated units are observed only at the base period; nothing to estimate.")
    # dummies per event time (dynamic TWFE) or per cohort x event time (Sun & Abraham)
    rows = np.flatnonzero(est_rows)
    xe, cell_g, cell_e, col = cell_dummies(y.size, rows, g[rows] if sun_abraham else np.zeros(rows.size), ei[rows])
    names = [f"g={a:g},e={b}" if sun_abraham else f"e={b}" for a, b in zip(cell_g, cell_e)]
    fit = fit_within(y, sparse.hstack([xe, tdum]).tocsr(), names + tnames, unit_codes=ucodes, n_units=len(uniq),
                     weights=wv, cluster_codes=cl, n_clusters=ncl, what=what)
    coef, vc = fit.coef[: len(names)], fit.vcov[: len(names), : len(names)]
    n_cell = np.bincount(col, weights=cnt[rows], minlength=len(names))
    ev_levels, est, v, wgt, n_obs_e = iw_aggregate(coef, vc, cell_e, n_cell)
    cohort_effects = None
    if sun_abraham:
        cohort_effects = pd.DataFrame({"cohort": cell_g, "event_time": cell_e, "estimate": coef,
                                       "std_error": np.sqrt(np.clip(np.diag(vc), 0, None)), "weight": wgt,
                                       "n_obs": n_cell if wv is not None else n_cell.astype(np.int64)})
        notes.append("cohort shares are treated as fixed in the standard errors (as fixest's sunab)")
    se = np.sqrt(np.clip(np.diag(v), 0, None))
    st, pv, lo_ci, hi_ci = t_inference(est, se, fit.df_t, alpha)
    n_coh = pd.Series(g[est_rows]).groupby(ei[est_rows]).nunique().reindex(ev_levels).to_numpy()
    tab = pd.DataFrame({"event_time": ev_levels.astype(np.int64), "estimate": est, "std_error": se, "statistic": st,
                        "p_value": pv, "ci_low": lo_ci, "ci_high": hi_ci,
                        "n_obs": n_obs_e if wv is not None else n_obs_e.astype(np.int64),
                        "n_cohorts": n_coh.astype(np.int64), "binned": False, "reference": False})
    base_row = pd.DataFrame([{"event_time": base_period, "estimate": 0.0, "std_error": np.nan, "statistic": np.nan,
                              "p_value": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                              "n_obs": cnt[at_base].sum() if wv is not None else int(at_base.sum()),
                              "n_cohorts": len(np.unique(g[at_base])),
                              "binned": False, "reference": True}])
    tab = pd.concat([tab, base_row], ignore_index=True).sort_values("event_time", kind="stable").reset_index(drop=True)
    tab.loc[tab["event_time"].eq(lo) & binned_lo, "binned"] = True
    tab.loc[tab["event_time"].eq(hi) & binned_hi, "binned"] = True
    tab = tab[EVENT_COLUMNS]
    pre = ev_levels < 0
    pretrend = None
    if pre.any():
        try:
            pretrend = wald_test(est[pre], v[np.ix_(pre, pre)], fit.df_t, [f"e={x_}" for x_ in ev_levels[pre]])
        except EstimationError as exc:
            notes.append(f"no pre-trend test: {exc}")
    else:
        notes.append("no pre-treatment event time besides the base period: no pre-trend test")
    vdf = pd.DataFrame(v, index=ev_levels, columns=ev_levels)
    return EventStudyResult(tab, pretrend, vdf, cohort_effects, "sun_abraham" if sun_abraham else "twfe",
                            base_period, control, fit.n_obs, len(uniq), fit.n_clusters, alpha, outcome, notes)

