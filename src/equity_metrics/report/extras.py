"""Optional sections of the command report (assembly layer: calls the library only).

* ``training_extra``: for the officer-level training design, the HonestDiD breakdown value
  (:func:`~equity_metrics.models.honest.breakdown_statement`) and the design's minimum
  detectable effect (:func:`~equity_metrics.models.planning.design_mde`), as sentences.
* ``benchmark_free``: the veil-of-darkness test on the report's own searches
  (:func:`~equity_metrics.veil_of_darkness_by_area`) and, given a counts table of stops,
  searches and hits, the threshold test.
* ``officers``: the officer-level internal benchmark: how many officers were examined and
  flagged and the distribution of their z-statistics, never identifiers.
* ``trust``: trust and confidence from a published survey series (gap by year with intervals
  from between-area variation, and a staggered programme estimate when a rollout is given).

Every section is a dict of numbers, sentences and (for figures) result objects; a model
that cannot run becomes an explanation in the section, not an error. Nothing here prints
officer identifiers.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import DataValidationError, EquityMetricsError
from .config import area_display_name

__all__ = ["read_extra_inputs", "assemble_extras", "extra_tables"]


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def read_extra_inputs(cfg, inp, files: list[dict[str, Any]], *, record: Callable[[str], dict[str, Any]]) -> None:
    """Read the optional inputs (trust survey, rollout, threshold counts, officer events) into ``inp.extra``."""
    from pathlib import Path

    if getattr(cfg, "published_counts", None):  # the Home Office files feed section 7: hash them too
        from ._published import _files

        for f in _files(cfg.published_counts):
            files.append(record(f))
    if cfg.trust_survey:
        if not Path(cfg.trust_survey).exists():
            raise DataValidationError(f"report config key 'survey' ([trust]): {cfg.trust_survey!r} not found")
        from ..io.trust import read_chicago_sentiment, read_london_pas

        reader = read_chicago_sentiment if cfg.trust_format == "chicago_sentiment" else read_london_pas
        inp.extra["trust"] = reader(cfg.trust_survey)
        files.append(record(cfg.trust_survey))
    if cfg.trust_rollout:
        if not Path(cfg.trust_rollout).is_file():
            raise DataValidationError(f"report config key 'rollout' ([trust]): {cfg.trust_rollout!r} not found")
        ro = pd.read_csv(cfg.trust_rollout, dtype=str, keep_default_na=False)
        if not {"area", "start"} <= set(ro.columns):
            raise DataValidationError(f"report config key 'rollout' ([trust]): {cfg.trust_rollout!r} needs columns "
                                      f"area,start (and optionally in_programme); it has {list(ro.columns)}")
        ro["start"] = ro["start"].replace("", None)
        if "in_programme" in ro.columns:
            ro["in_programme"] = ro["in_programme"].str.strip().str.lower().isin(["true", "1", "yes"])
        inp.extra["trust_rollout"] = ro
        files.append(record(cfg.trust_rollout))
    if cfg.threshold_counts:
        if not Path(cfg.threshold_counts).is_file():
            raise DataValidationError(f"report config key 'threshold_counts': {cfg.threshold_counts!r} not found")
        inp.extra["threshold_counts"] = pd.read_csv(cfg.threshold_counts)
        files.append(record(cfg.threshold_counts))
    if cfg.officer_benchmark and inp.officer_events is None:
        from ..io.mapped import read_mapped

        inp.officer_events = read_mapped(cfg.officer_events, mapping=cfg.officer_events_mapping)
        files.append(record(cfg.officer_events))


# ----------------------------------------------------------------------------- training sensitivity + MDE
def _training_extra(cfg, impact) -> dict[str, Any] | None:
    """Per count outcome: the HonestDiD breakdown (relative magnitudes) and the planning MDE (BPW 2020)."""
    if impact is None or impact.kind != "officer" or not impact.dynamic:
        return None
    rows = []
    for spec, _dyn in impact.dynamic.items():
        label, table_mde = spec, np.nan
        if impact.table is not None and "label" in impact.table.columns:
            m = impact.table[impact.table["outcome"] == spec]
            if len(m):
                label = str(m["label"].iloc[0])
                if "mde_fall" in m.columns:
                    table_mde = float(m["mde_fall"].iloc[0])
        row: dict[str, Any] = {"outcome": spec, "label": label, "breakdown": np.nan, "breakdown_sentence": "",
                               "breakdown_error": "", "mde_share": np.nan, "mde_base": np.nan, "table_mde": table_mde,
                               "mde_error": ""}
        col = impact.outcome_columns.get(spec)
        try:
            from ..models.did import staggered_did
            from ..models.honest import breakdown_statement

            # HonestDiD needs pre-period coefficients against one base period (R: base_period = "universal")
            uni = staggered_did(impact.panel, outcome=col, control="not_yet_treated", method="dr",
                                base_period="universal", alpha=cfg.alpha)
            leads, lags = cfg.event_window
            es = uni.aggregate("dynamic", min_e=-min(leads, 6), max_e=min(lags, 6))
            st = breakdown_statement(es, alpha=cfg.alpha, max_pre=min(leads, 6) - 1, max_post=min(lags, 6))
            row["breakdown"], row["breakdown_sentence"] = st.mbar, st.sentence
        except (EquityMetricsError, ValueError, np.linalg.LinAlgError) as exc:
            row["breakdown_error"] = _short(exc)
        try:
            from ..models.planning import design_mde

            dm = design_mde(impact.panel, outcome=col, label=label, alpha=cfg.alpha, power=cfg.power)
            row["mde_share"], row["mde_base"] = float(dm.mde_share), float(dm.base)
        except (EquityMetricsError, ValueError, np.linalg.LinAlgError) as exc:
            row["mde_error"] = _short(exc)
        rows.append(row)
    not_covered = []
    if impact.table is not None and "outcome" in impact.table.columns:
        not_covered = [str(r["label"]) for r in impact.table.to_dict("records") if r["outcome"] not in impact.dynamic]
    return {"table": pd.DataFrame(rows), "not_covered": not_covered, "power": float(cfg.power)}


# ----------------------------------------------------------------------------- benchmark-free tests
def _benchmark_free(cfg, inp, *, area: str | None) -> dict[str, Any] | None:
    if not cfg.veil_of_darkness and "threshold_counts" not in inp.extra:
        return None
    out: dict[str, Any] = {"veil": None, "veil_lines": [], "threshold": None, "threshold_lines": []}
    if cfg.veil_of_darkness:
        ev = inp.stops.data
        if area and "force" in ev.columns:
            ev = ev[ev["force"].astype(str) == area]
        try:
            from ..measures.veil import veil_of_darkness_by_area

            res = veil_of_darkness_by_area(ev, minority=cfg.veil_minority, majority=cfg.veil_majority,
                                           level=1 - cfg.alpha)
            if "month" in ev.columns and len(ev):
                m = ev["month"].dropna()
                if len(m):
                    out["veil_period"] = f"{m.min():%B %Y} to {m.max():%B %Y}"
            out["veil"] = res
            t = res.tidy()
            for r in t.to_dict("records"):
                name = area_display_name(str(r.get("area")))
                if not bool(r.get("applicable", False)):
                    out["veil_lines"].append(f"{name}: the test does not apply ({r.get('reason')}).")
                    continue
                orr, lo, hi = r["odds_ratio"], r["ci_low"], r["ci_high"]
                if lo > 1:
                    what = (f"searches after dark were more likely to be of {cfg.veil_minority} people than searches "
                            f"in daylight at the same clock time")
                elif hi < 1:
                    what = (f"searches after dark were less likely to be of {cfg.veil_minority} people than in "
                            "daylight at the same clock time (the pattern the test reads as disparity in daylight, "
                            "when officers can see who they stop)")
                else:
                    what = "no statistically clear difference between daylight and darkness"
                out["veil_lines"].append(
                    f"{name}: odds ratio {orr:.2f} ({round(100 * (1 - cfg.alpha))}% CI {lo:.2f} to {hi:.2f}) for a "
                    f"searched person being {cfg.veil_minority} (vs {cfg.veil_majority}) in darkness vs daylight: {what}; "
                    f"{int(r.get('n_minority', 0)):,} {cfg.veil_minority} and {int(r.get('n_majority', 0)):,} "
                    f"{cfg.veil_majority} people searched in those evening hours ({int(r.get('n_light', 0)):,} "
                    f"searches in daylight, {int(r.get('n_dark', 0)):,} after dark).")
        except (EquityMetricsError, ValueError) as exc:
            out["veil_lines"].append(f"The veil-of-darkness test could not be run: {_short(exc)}.")
    if "threshold_counts" in inp.extra:
        try:
            from ..models.threshold import threshold_test

            res = threshold_test(inp.extra["threshold_counts"], model=cfg.threshold_model, chains=cfg.threshold_chains,
                                 warmup=cfg.threshold_draws, draws=cfg.threshold_draws, seed=0)
            out["threshold"] = res
            out["threshold_table"] = res.table()
            n_areas = int(res.cells["area"].nunique())
            out["threshold_lines"].append(
                f"{n_areas:,} areas; {int(res.cells['stops'].sum()):,} stops, {int(res.cells['searches'].sum()):,} "
                f"searches and {int(res.cells['hits'].sum()):,} finds. Group thresholds are averages of the areas' "
                "thresholds weighted by stops; differences are computed draw by draw from the posterior.")
            if not bool(res.diagnostics.ok):
                out["threshold_lines"].append(
                    "The sampler's checks did not pass (see the analyst's output): do not rely on these thresholds "
                    "until the model is rerun with more draws.")
        except (EquityMetricsError, ValueError, ImportError) as exc:
            out["threshold_lines"].append(f"The threshold test could not be run: {_short(exc)}.")
    return out


# ----------------------------------------------------------------------------- officers
def _officers(cfg, inp, *, area: str | None) -> dict[str, Any] | None:
    if not cfg.officer_benchmark:
        return None
    ev = inp.officer_events.data if hasattr(inp.officer_events, "data") else inp.officer_events
    if area and "force" in ev.columns:
        ev = ev[ev["force"].astype(str) == area]
    try:
        from ..measures.internal_benchmark import internal_benchmark

        kw: dict[str, Any] = {"min_encounters": cfg.officer_min_encounters}
        cols = set(ev.columns)
        derived = {"hour", "weekday", "month", "year", "shift", "quarter"}
        kw["match_on"] = tuple(c for c in ("district", "shift", "year") if c in cols or c in derived)
        kw["adjust_for"] = tuple(c for c in ("beat", "hour", "weekday", "month") if c in cols or c in derived)
        res = internal_benchmark(ev, **kw)
    except (EquityMetricsError, ValueError) as exc:
        return {"error": _short(exc)}
    z = res.tidy()["z"].to_numpy(float) if "z" in res.tidy().columns else np.array([])
    z = z[np.isfinite(z)]
    flagged = int(res.tidy()["flagged"].sum()) if "flagged" in res.tidy().columns else 0
    qs = np.quantile(z, [0.05, 0.25, 0.5, 0.75, 0.95]) if z.size else np.full(5, np.nan)
    return {"error": None, "result": res, "examined": int(z.size), "flagged": flagged,
            "quantiles": [float(x) for x in qs], "min_encounters": cfg.officer_min_encounters}


# ----------------------------------------------------------------------------- trust
def _trust(cfg, inp) -> dict[str, Any] | None:
    if "trust" not in inp.extra:
        return None
    from ..measures.trust import trust_gap
    from ..models.trust_impact import trust_impact

    survey = inp.extra["trust"]
    src = str(survey.data["source"].dropna().iloc[0]) if len(survey.data) else ""
    vintage = str(survey.data["vintage"].dropna().iloc[0]) if len(survey.data) else ""
    out: dict[str, Any] = {"source": src, "vintage": vintage, "label": cfg.trust_label or cfg.trust_measure,
                           "group": cfg.trust_group, "reference": cfg.trust_reference, "gap": None, "impact": None,
                           "lines": [], "rollout_source": cfg.trust_rollout_source, "ledger": survey.ledger}
    period_type = "month" if cfg.trust_format == "chicago_sentiment" else None
    ref = None if cfg.trust_reference.lower() == "none" else cfg.trust_reference
    out["level_only"] = ref is None
    try:
        out["gap"] = trust_gap(survey, measure=cfg.trust_measure, group=cfg.trust_group, reference=ref,
                               area_type=cfg.trust_area_type, period_type=period_type, by="year", alpha=cfg.alpha)
    except EquityMetricsError as exc:
        out["lines"].append(f"The trust gap could not be computed: {_short(exc)}")
    if "trust_rollout" in inp.extra:
        try:
            out["impact"] = trust_impact(survey, inp.extra["trust_rollout"], measure=cfg.trust_measure,
                                         outcome="level" if ref is None else "gap",
                                         group=cfg.trust_group, reference=ref or "White",
                                         area_type=cfg.trust_area_type, period_type=period_type, alpha=cfg.alpha,
                                         n_perm=999, seed=0)
        except EquityMetricsError as exc:
            out["lines"].append(f"The programme's effect on trust could not be estimated: {_short(exc)}")
    return out


def assemble_extras(cfg, inp, *, area: str | None, impact, level: int) -> dict[str, Any]:
    """All optional sections the config asks for (keys absent when not asked for)."""
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        te = _training_extra(cfg, impact)
        if te:
            out["training_extra"] = te
        bf = _benchmark_free(cfg, inp, area=area)
        if bf:
            out["benchmark_free"] = bf
        of = _officers(cfg, inp, area=area)
        if of:
            out["officers"] = of
        tr = _trust(cfg, inp)
        if tr:
            out["trust"] = tr
    return out


def extra_tables(extras: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The optional sections' reader-facing tables (CSV files of the report): no officer identifiers."""
    out: dict[str, pd.DataFrame] = {}
    te = extras.get("training_extra")
    if te:
        out["training_sensitivity"] = te["table"].drop(columns=["breakdown_error", "mde_error"], errors="ignore")
    bf = extras.get("benchmark_free") or {}
    if bf.get("veil") is not None:
        out["veil_of_darkness"] = bf["veil"].tidy()
    if bf.get("threshold_table") is not None:
        out["threshold_test"] = bf["threshold_table"]
    of = extras.get("officers")
    if of and not of.get("error"):
        q = of["quantiles"]
        out["officer_patterns"] = pd.DataFrame([{
            "officers_examined": of["examined"], "officers_flagged": of["flagged"],
            "min_encounters": of["min_encounters"], "z_p05": q[0], "z_p25": q[1], "z_median": q[2], "z_p75": q[3],
            "z_p95": q[4]}])
    tr = extras.get("trust")
    if tr:
        if tr.get("gap") is not None:
            out["trust_by_year"] = tr["gap"].tidy()
        if tr.get("impact") is not None:
            out["trust_programme_effect"] = tr["impact"].tidy()
    return out
