"""Training impact for the command report (assembly layer: calls the library's models only).

Two designs, chosen by what the config gives:

* an officer roster (``training`` + ``officer_events``): officer x month panel
  (:func:`~equity_metrics.build_panel`, officers in service in every month), the
  Callaway & Sant'Anna (2021) estimator with not-yet-trained officers as controls
  (:func:`~equity_metrics.staggered_did`, doubly robust, standard errors clustered by
  officer), its event study (dynamic aggregation), and a pre-trend check: the joint
  Wald test of the event study's leads (``pretrend_test("event_time")``; a joint test
  of every pre-treatment ATT(g,t) cell has poor size when cells are many relative to
  officers);
* one force-wide ``training_date``: an interrupted time series of the monthly searches of
  the headline group with the reference group as comparison series
  (:func:`~equity_metrics.interrupted_time_series`, ``comparison_method="interaction"``),
  so the level change is the step change in the group's rate *relative to* the
  reference group's, that is in the rate ratio.

Each effect is also expressed as a share of the untrained level, with its minimum
detectable effect, Holm-adjusted p-value and a verdict against the threshold of practical
importance ``meaningful_change`` (all computed in :mod:`equity_metrics.models._power` and
:mod:`equity_metrics.models._untrained`; the rules are in docs/real-data-rules.md,
"Training verdict"). Without configured outcomes the officer design's first outcome is the
disparity measure ``share_of:<headline group>`` (the change in the group's share of trained
officers' searches), then the counts ``use_of_force`` and ``searches_of:<headline group>``.

Only aggregate numbers leave this module: no officer identifier is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import EquityMetricsError

__all__ = ["ImpactResult", "assemble_impact", "outcome_label", "default_outcomes"]


@dataclass
class ImpactResult:
    """The training-impact section's numbers.

    Attributes
    ----------
    kind
        ``"officer"`` (staggered DiD), ``"its"`` (interrupted time series) or ``"none"``.
    estimator, design
        Plain names of the estimator and of the comparison.
    table
        One row per outcome: ``outcome, label, role`` (``"disparity"`` or ``"count"``),
        ``estimate, ci_low, ci_high, std_error, p_value, base`` (the untrained level),
        ``observed, pretrend_p, pre_mean, units, cohorts, direction``, and from
        :func:`~equity_metrics.models._power.training_effects`: ``pct, pct_low, pct_high,
        mde, mde_fall, mde_rise, p_holm, n_tests, verdict``, plus ``meaningful, power``
        (None for ``"none"``).
    event_study
        ``{outcome: DataFrame(event_time, estimate, ci_low, ci_high)}`` (officer design).
    its
        Observed vs counterfactual by month (ITS design; observed counts below the
        threshold hidden), and the slope change.
    notes, cannot_rule_out
        Remarks from the models; what the design cannot exclude.
    """

    kind: str
    estimator: str = ""
    design: str = ""
    table: pd.DataFrame | None = None
    event_study: dict[str, pd.DataFrame] = field(default_factory=dict)
    its: pd.DataFrame | None = None
    its_slope: dict[str, float] | None = None
    scope: str = ""
    label: str = ""
    pretrend_desc: str = ""
    notes: list[str] = field(default_factory=list)
    cannot_rule_out: list[str] = field(default_factory=list)
    error: str | None = None
    meaningful: float = 0.10
    power: float = 0.80
    default_outcomes: bool = False
    #: model objects kept for the sensitivity and design analyses of report/extras.py (never shown)
    panel: Any = None
    dynamic: dict[str, Any] = field(default_factory=dict)
    outcome_columns: dict[str, str] = field(default_factory=dict)


def default_outcomes(headline_group: str) -> list[str]:
    """The officer design's outcomes when the config gives none: the disparity measure first.

    Examples
    --------
    >>> default_outcomes("Black")
    ['share_of:Black', 'use_of_force', 'searches_of:Black']
    """
    return [f"share_of:{headline_group}", "use_of_force", f"searches_of:{headline_group}"]


def outcome_label(spec: str, period: str = "month") -> str:
    """Plain words for a ``build_panel`` outcome specification."""
    if spec == "use_of_force":
        return f"use-of-force reports per officer per {period}"
    if spec == "searches":
        return f"searches per officer per {period}"
    if spec.startswith("searches_of:"):
        return f"searches of {spec.split(':', 1)[1]} people per officer per {period}"
    if spec.startswith("share_of:") or spec.startswith("disparity:"):
        return f"share of trained officers' searches that were of {spec.split(':', 1)[1]} people"
    if spec == "hit_rate":
        return "share of an officer's searches that found the object searched for"
    return f"{spec.replace('_', ' ')} per officer per {period}"


def _effects(table: pd.DataFrame, cfg, *, scale: str, df: int | None = None) -> pd.DataFrame:
    """Relative effects, MDE, Holm p-values and verdicts (models._power), with the settings used."""
    from ..models._power import training_effects

    out = training_effects(table, scale=scale, alpha=cfg.alpha, power=cfg.power, meaningful=cfg.meaningful_change,
                           df=df)
    return out.assign(meaningful=float(cfg.meaningful_change), power=float(cfg.power))


def _min_p(*ps: float) -> float:
    """A share's before-training check: the smaller p of its two counts' checks (flags either)."""
    ok = [p for p in ps if np.isfinite(p)]
    return float(min(ok)) if ok else np.nan


def _direction(lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "unknown"
    if hi < 0:
        return "decrease"
    if lo > 0:
        return "increase"
    return "unclear"


def _clean(notes: list[str], ids: set[str]) -> list[str]:
    """Model notes, minus any that name an officer."""
    out = []
    for n in notes:
        words = set(str(n).replace(",", " ").replace("'", " ").replace('"', " ").split())
        if not words & ids:
            out.append(str(n))
    return out


def assemble_impact(cfg, inp, *, area: str | None, area_name: str, groups: list[str], headline_group: str,
                    trend_fn: Callable[..., Any]) -> ImpactResult:
    """Run the impact design the config allows; model failures become a plain explanation, not an error."""
    if cfg.has_roster and inp.training is not None and inp.officer_events is not None:
        try:
            return _officer(cfg, inp, headline_group=headline_group, area=area)
        except EquityMetricsError as exc:
            return ImpactResult(kind="officer", estimator="Callaway & Sant'Anna (2021)", error=str(exc).split("\n")[0],
                                cannot_rule_out=_CANNOT_DID)
    if cfg.training_date:
        try:
            return _its(cfg, inp, area=area, area_name=area_name, group=headline_group, trend_fn=trend_fn)
        except EquityMetricsError as exc:
            return ImpactResult(kind="its", estimator="interrupted time series", error=str(exc).split("\n")[0],
                                label=cfg.training_label or "", cannot_rule_out=_CANNOT_ITS)
    return ImpactResult(kind="none")


_CANNOT_DID = [
    "officers chose or were chosen for earlier training in ways that also change their later behaviour "
    "(the check of the months before training can only detect differences that had already shown up);",
    "other changes that reached trained officers at the same time as training (new supervisors, postings, "
    "body-worn video, guidance);",
    "trained officers changing how they record events rather than what they do.",
]
_CANNOT_ITS = [
    "anything else that changed in the force in the same month (new guidance, operations, the pandemic);",
    "changes in who lives in or visits the area since the census that provides the benchmark;",
    "a one-force time series has no untrained comparison force: the comparison is the same force's "
    "searches of the reference group.",
]


def _share_group(spec: str) -> str | None:
    return spec.split(":", 1)[1] if spec.startswith(("share_of:", "disparity:")) else None


def _officer(cfg, inp, *, headline_group: str, area: str | None = None) -> ImpactResult:
    from ..models._untrained import share_change, untrained_level
    from ..models.did import staggered_did
    from ..models.panel import build_panel

    ev = inp.officer_events.data
    tr = inp.training.data
    off = inp.officers
    ids = set(ev["officer_id"].dropna().astype(str)) | set(tr["officer_id"].dropna().astype(str)) if "officer_id" in tr.columns \
        else set(ev["officer_id"].dropna().astype(str))
    if (area or cfg.areas) and "force" in ev.columns:
        keep = {area} if area else set(cfg.areas)  # the report's area scopes the training section too
        ev = ev[ev["force"].astype(str).isin(keep)]
        if "force" in tr.columns:
            tr = tr[tr["force"].astype(str).isin(keep) | tr["force"].isna()]
        if off is not None and "force" in off.columns:
            off = off[off["force"].astype(str).isin(keep)]
    forces = sorted(ev["force"].dropna().astype(str).unique()) if "force" in ev.columns else []
    given = list(cfg.impact_outcomes)
    outcomes = given or default_outcomes(headline_group)
    # a share is estimated from two counts (the group's searches and all stated searches): the
    # per-officer-month share is undefined in months without a search (see models/_untrained.py)
    panel_specs: list[str] = []
    for spec in outcomes:
        g = _share_group(spec)
        panel_specs += [f"searches_of:{g}", f"share_of:{g}"] if g else [spec]
    panel_specs = list(dict.fromkeys(panel_specs))
    p = build_panel(ev, tr, officers=off, outcome=panel_specs, treated_from=cfg.treated_from, balanced=True)
    rep = p.report
    leads, lags = cfg.event_window
    rows, es_tabs, notes = [], {}, []
    fits: dict[str, Any] = {}
    dynamic: dict[str, Any] = {}
    columns: dict[str, str] = {}
    period = "month" if rep.period == "M" else "quarter"

    def fit(col: str):
        if col not in fits:
            fits[col] = staggered_did(p, outcome=col, control="not_yet_treated", method="dr", alpha=cfg.alpha)
        return fits[col]

    def pretrend(res, spec) -> float:
        try:
            return float(res.pretrend_test("event_time", min_e=-leads).p_value)
        except EquityMetricsError as exc:
            notes.append(f"pre-trend check for {spec} not available: {str(exc).splitlines()[0]}")
            return np.nan

    d = p.data
    for spec in outcomes:
        g = _share_group(spec)
        base_row = {"outcome": spec, "label": outcome_label(spec, period), "units": int(p.report.n_units)}
        if g:
            res_g, res_all = fit(rep.outcomes[f"searches_of:{g}"]), fit("searches_stated")
            sc = share_change(p, res_g, res_all)
            rows.append({**base_row, "role": "disparity", "estimate": sc.estimate, "ci_low": sc.ci_low,
                         "ci_high": sc.ci_high, "std_error": sc.std_error, "p_value": sc.p_value,
                         "base": sc.untrained, "observed": sc.observed,
                         "pretrend_p": _min_p(pretrend(res_g, f"searches_of:{g}"), pretrend(res_all, "all searches")),
                         "pre_mean": np.nan,
                         "units": int(res_g.n_units), "cohorts": int(len(res_g.cohorts)),
                         "direction": _direction(sc.ci_low, sc.ci_high)})
            if spec.startswith("disparity:"):
                notes.append(f"{spec}: the change in the share minus the benchmark share equals the change in the "
                             "share (the benchmark does not change with training), so the share is reported")
            continue
        col = rep.outcomes[spec]
        res = fit(col)
        simple = res.aggregate("simple").overall
        dyn_res = res.aggregate("dynamic", min_e=-leads, max_e=lags)
        dynamic[spec], columns[spec] = dyn_res, col
        dyn = dyn_res.tidy(include_overall=False)
        es_tabs[spec] = dyn[["level", "estimate", "ci_low", "ci_high"]].rename(columns={"level": "event_time"}).astype(float)
        lvl = untrained_level(p, res)
        pre = d[(d["first_treated"] > 0) & (~d["treated"].astype(bool))][col]
        rows.append({**base_row, "role": "count",
                     "estimate": simple.estimate, "ci_low": simple.ci_low, "ci_high": simple.ci_high,
                     "std_error": simple.std_error, "p_value": np.nan, "base": lvl.untrained, "observed": lvl.observed,
                     "pretrend_p": pretrend(res, spec),
                     "pre_mean": float(pre.mean()) if len(pre) else np.nan, "units": int(res.n_units),
                     "cohorts": int(len(res.cohorts)), "direction": _direction(simple.ci_low, simple.ci_high)})
    for res in fits.values():
        notes += [n for n in res.notes]
    table = _effects(pd.DataFrame(rows), cfg, scale="difference")
    scope = (f"{rep.n_units:,} officers in service in every month from {rep.start} to {rep.end} "
             f"({rep.never_treated:,} never trained; {len(rep.cohorts)} training cohorts) in "
             f"{len(forces)} force{'' if len(forces) == 1 else 's'}")
    dropped = int(len(rep.units_dropped))
    if dropped:
        notes.append(f"{dropped:,} officers who joined or left during the window are left out (the estimator "
                     "compares the same officers in every month)")
    return ImpactResult(
        kind="officer",
        estimator="Callaway & Sant'Anna (2021) staggered difference-in-differences, doubly robust",
        design=("each training cohort is compared with officers not yet trained at the time (not-yet-treated "
                "controls); the overall effect averages the cohorts' post-training months, weighted by cohort size; "
                "standard errors are clustered by officer"),
        table=table, event_study=es_tabs, scope=scope,
        pretrend_desc=(f"did officers about to be trained already differ from the comparison officers in the {leads} "
                       "months before training? (A joint test of the event study's months before training.)"),
        notes=_clean(sorted(set(notes)), ids), cannot_rule_out=_CANNOT_DID,
        meaningful=float(cfg.meaningful_change), power=float(cfg.power), default_outcomes=not given,
        panel=p, dynamic=dynamic, outcome_columns=columns,
    )


def _its(cfg, inp, *, area: str | None, area_name: str, group: str, trend_fn) -> ImpactResult:
    from ..models.its import interrupted_time_series

    ref = cfg.reference
    t = trend_fn(inp.stops, inp.population, by="force" if area else None, period="month", measure="rate",
                 reference=ref, alpha=cfg.alpha)
    key = area or "all areas"
    sg, sr = t.series(key, group), t.series(key, ref)
    r = interrupted_time_series(sg, time="period", outcome="events", offset="population",
                                intervention=cfg.training_date, comparison=sr, comparison_method="interaction",
                                alpha=cfg.alpha)
    lc, sc = r.level_change, r.slope_change
    rr_lo, rr_hi = lc.rate_ratio_ci
    table = _effects(pd.DataFrame([{
        "outcome": f"{group}/{ref} search rate ratio", "role": "disparity", "label": f"step change in the {group}/{ref} rate ratio at {cfg.training_date}",
        "estimate": lc.rate_ratio, "ci_low": rr_lo, "ci_high": rr_hi, "std_error": lc.std_error, "p_value": lc.p_value,
        "pretrend_p": np.nan, "pre_mean": np.nan, "units": 1, "cohorts": 1,
        "direction": "decrease" if rr_hi < 1 else ("increase" if rr_lo > 1 else "unclear"),
    }]), cfg, scale="ratio", df=r.df_resid)
    cf = r.counterfactual()
    cf = cf.assign(time=cf["time"].astype(str))
    small = cf["observed"].notna() & (cf["observed"] < cfg.suppress_below)
    cf["suppressed"] = small.to_numpy()
    cf.loc[small, "observed"] = np.nan
    slope = {"rate_ratio": sc.rate_ratio, "ci_low": sc.rate_ratio_ci[0], "ci_high": sc.rate_ratio_ci[1],
             "p_value": sc.p_value} if sc is not None else None
    return ImpactResult(
        kind="its",
        estimator="interrupted time series (segmented Poisson regression with AR(1)-robust errors and month-of-year effects)",
        design=(f"monthly searches of {group} people in {area_name} per resident, compared with searches of {ref} "
                f"people (comparison series); the step change at {cfg.training_date} is the change in the {group}/{ref} "
                "rate ratio beyond the pre-training trend"),
        table=table, its=cf[["time", "observed", "fitted", "counterfactual", "cf_ci_low", "cf_ci_high", "suppressed"]],
        its_slope=slope, scope=f"{area_name}, {len(cf)} months", label=cfg.training_label or "",
        notes=list(r.notes), cannot_rule_out=_CANNOT_ITS,
        meaningful=float(cfg.meaningful_change), power=float(cfg.power),
    )
