"""``equity-metrics impact``: did training change an outcome? (staggered difference-in-differences)

Builds the unit x period panel with :func:`equity_metrics.build_panel` from an
events table, a training roster and (optionally) an officers table, runs
:func:`equity_metrics.staggered_did` (Callaway & Sant'Anna) and writes, in
``--out``:

``att_gt.<ext>``
    Group-time effects ATT(g, t).
``aggregate_simple.<ext>``, ``aggregate_dynamic.<ext>``, ``aggregate_group.<ext>``, ``aggregate_calendar.<ext>``
    The four aggregations (overall row first).
``pretrend.<ext>``
    The Wald pre-trend test (``statistic, df, p_value, n_cells, note``).
``cohorts.<ext>``
    Treated cohorts and their sizes.
``panel_report.txt``, ``summary.txt``
    The panel's account (what was left out and why) and the estimates in text.
``event_study.png``
    The dynamic aggregation (reproducible bytes: no timestamp, no software tag).
``honest_did.<ext>``, ``honest_did.png``
    HonestDiD sensitivity (Rambachan & Roth 2023; :func:`equity_metrics.honest_did`)
    of the first post-training effect: the same outcome refitted with
    ``base_period="universal"``, event times -6 .. 5 (reference -1), robust
    confidence sets under relative magnitudes for Mbar = 0, 0.5, 1, 1.5, 2
    (conditional-least-favourable hybrid, ``C-LF``) after the original
    interval, and the breakdown Mbar (column ``breakdown_mbar``); its plot.
    The covariance is the analytic one from the influence functions (also
    with ``--bootstrap``); the call is the command report's
    (:func:`equity_metrics.models.breakdown_statement`), which uses
    not-yet-treated comparisons: with ``--control not_yet_treated`` and a
    window of at least six periods each side both give the same value.
    The breakdown sentence is printed. Skipped with ``--no-honest``; when it
    cannot be computed (e.g. no pre-training periods) the files are not written
    and a one-line note is printed instead.
``manifest.json``
    Inputs with their SHA-256, parameters, outputs with their SHA-256.

Officer identifiers are never written: the tables are aggregates (checked
before writing) and identifiers are scrubbed from the text files. The panel
itself (one row per officer and period) is not written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from .._progress import progress
from ..errors import EquityMetricsError, EstimationError, MappingError, OptionError
from ..export import TABLE_SUFFIXES
from ._common import (Outputs, check_complete_folder, file_input, ledger_inputs, progress_enabled, read_events,
                      read_frame, say, scrub_ids)

__all__ = ["run", "AGGREGATIONS", "HONEST_MBAR", "check_no_ids", "honest_sensitivity"]

#: The aggregations written, in order.
AGGREGATIONS = ("simple", "dynamic", "group", "calendar")

#: HonestDiD settings of ``impact``: Mbar values and the event-time window (leads incl. the reference, lags).
HONEST_MBAR = (0.0, 0.5, 1.0, 1.5, 2.0)
HONEST_LEADS = 6
HONEST_LAGS = 6


def check_no_ids(tables: dict[str, pd.DataFrame], ids: set[str]) -> None:
    """Refuse to write a table holding an identifier (a text cell equal to one of ``ids``).

    Raises
    ------
    EquityMetricsError
        Naming the table and column (never the identifier).
    """
    for name, t in tables.items():
        for c in t.columns:
            if str(c) in ids:
                raise EquityMetricsError(f"refusing to write {name}: a column name is an officer id")
            vals = [v for v in t[c].tolist() if isinstance(v, str)]
            if any(v in ids for v in vals):
                raise EquityMetricsError(f"refusing to write {name}: column {c!r} holds officer ids")


def _read_events(args):
    """Events as a DataFrame (or ReadResult) and the input records for the manifest."""

    fmt = args.format or ("mapped" if args.mapping else "canonical")
    if fmt == "canonical":
        if args.mapping:
            raise MappingError("--mapping is for --format mapped; a canonical table (from ingest) needs none")
        for p in args.events:  # a table from an interrupted 'ingest' is refused (manifest missing or not matching)
            check_complete_folder(p, "events table")
        frames = [read_frame(p, "events") for p in args.events]
        return pd.concat(frames, ignore_index=True), [file_input(p, "events") for p in args.events]
    ns = argparse.Namespace(**{"forces": None, "ethnicity_field": "self_defined", **vars(args),
                               "sources": args.events, "format": fmt})
    res = read_events(ns)
    inputs = ledger_inputs(res.ledger, "events") + ([file_input(args.mapping, "mapping")] if args.mapping else [])
    return res, inputs


def _pretrend_table(r) -> pd.DataFrame:
    try:
        pt = r.pretrend_test()
    except EstimationError as exc:
        return pd.DataFrame({"statistic": [float("nan")], "df": [0], "p_value": [float("nan")], "n_cells": [0],
                             "note": [str(exc)]})
    return pd.DataFrame({"statistic": [pt.statistic], "df": [int(pt.df)], "p_value": [pt.p_value],
                         "n_cells": [int(pt.n_cells)], "note": ["; ".join(pt.notes)]})


def _figure(dyn, outcome: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    dyn.plot(ax=ax, title=f"Event study: {outcome} (Callaway & Sant'Anna)")
    fig.tight_layout()
    return fig


def honest_sensitivity(panel, *, control: str, method: str, unbalanced: str, alpha: float = 0.05):
    """HonestDiD breakdown statement of the first post-training effect (what ``impact`` writes).

    Refits the panel's outcome with ``base_period="universal"`` (HonestDiD needs pre-period
    coefficients against one reference period; the main fit may use ``"varying"``), aggregates the
    event study on event times ``-HONEST_LEADS .. HONEST_LAGS - 1`` and returns
    :func:`equity_metrics.models.breakdown_statement` (relative magnitudes, ``C-LF``, Mbar in
    ``HONEST_MBAR``). Raises the library's errors (the caller turns them into a note).
    """
    from ..models import breakdown_statement, staggered_did

    uni = staggered_did(panel, control=control, method=method, unbalanced=unbalanced, base_period="universal",
                        alpha=alpha)
    es = uni.aggregate("dynamic", min_e=-HONEST_LEADS, max_e=HONEST_LAGS - 1)
    return breakdown_statement(es, mbar=HONEST_MBAR, alpha=alpha, max_pre=HONEST_LEADS - 1, max_post=HONEST_LAGS)


def _honest_table(st) -> pd.DataFrame:
    t = st.tidy()
    t.insert(0, "target", "first post-training period")
    t["breakdown_mbar"] = float(st.mbar)
    return t


def _honest_figure(st, outcome: str, n_units: int):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    st.plot(ax=ax, title=f"HonestDiD: {outcome}, first post-training period ({n_units:,} units)")
    fig.tight_layout()
    return fig


def _short_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


def short_summary(panel_text: str, outcome: str, simple, pretrend: pd.DataFrame, *, n_cells: int, alpha: float,
                  files: str, honest: str = "") -> str:
    """What ``impact`` prints: the panel in two lines, the average effect with its interval, a verdict, the
    pre-trend test and where the full tables are (the cell-by-cell table is in the files, not on screen)."""
    row = simple.tidy().iloc[0]
    est, lo, hi = (float(row[k]) for k in ("estimate", "ci_low", "ci_high"))
    level = int(round((1 - alpha) * 100))
    if hi < 0:
        verdict = f"a fall in {outcome} after training (the whole {level}% interval is below 0)"
    elif lo > 0:
        verdict = f"a rise in {outcome} after training (the whole {level}% interval is above 0)"
    else:
        verdict = f"no clear change in {outcome} (the {level}% interval includes 0)"
    lines = panel_text.splitlines()[:2]
    lines += ["", f"Average effect of training on {outcome} per unit and period: {est:.4g} "
                  f"({level}% CI {lo:.4g} to {hi:.4g})", f"Verdict: {verdict}"]
    p = float(pretrend["p_value"].iloc[0])
    if p == p:  # not NaN
        trend = ("trends differed before training: read the verdict with care" if p < alpha
                 else "no evidence that trends differed before training")
        lines.append(f"Pre-trend test: p = {p:.3g} over {int(pretrend['n_cells'].iloc[0])} pre-training cells; {trend}")
    else:
        lines.append(f"Pre-trend test: not available ({pretrend['note'].iloc[0]})")
    if honest:
        lines.append(honest)
    lines += ["", f"The {n_cells} group-time cells, every aggregation and the panel report are in {files}."]
    return "\n".join(lines)


def run(args) -> int:
    """Run ``equity-metrics impact`` (see the module docstring)."""
    from ..io.training import read_training_roster
    from ..models import build_panel, staggered_did

    if args.bootstrap < 0:
        raise OptionError(f"--bootstrap must be 0 (analytic standard errors) or a number of draws, got {args.bootstrap}")
    events, inputs = _read_events(args)
    training = read_training_roster(args.training, mapping=args.training_mapping)
    inputs += ledger_inputs(training.ledger, "training")
    if args.training_mapping:
        inputs.append(file_input(args.training_mapping, "training_mapping"))
    officers = None
    if args.officers:
        officers = read_frame(args.officers, "officers")
        inputs.append(file_input(args.officers, "officers"))
    panel = build_panel(
        events, training, unit=args.unit, period=args.period, outcome=args.outcome, start=args.start, end=args.end,
        officers=officers, course=args.course or None, balanced=args.balanced, treated_from=args.treated_from,
    )
    boot = args.bootstrap > 0
    try:
        r = staggered_did(
            panel, control=args.control, method=args.method, unbalanced=args.unbalanced,
            bootstrap=boot, n_boot=args.bootstrap if boot else 999, seed=args.seed,
            progress=progress_enabled(args),
        )
    except EstimationError as exc:
        if "unbalanced" in str(exc) and args.unbalanced == "error":
            raise EstimationError(f"{exc} On the command line: --unbalanced drop, or --balanced.") from exc
        raise
    desc = "aggregating (bootstrap)" if boot else "aggregating"
    aggs = {k: r.aggregate(k) for k in progress(AGGREGATIONS, desc=desc, enabled=progress_enabled(args))}
    honest, honest_line = None, ""
    if getattr(args, "honest", True):
        try:
            honest = honest_sensitivity(panel, control=args.control, method=args.method, unbalanced=args.unbalanced,
                                        alpha=float(getattr(aggs["simple"], "alpha", 0.05)))
            honest_line = f"HonestDiD (first post-training period): breakdown Mbar {honest.mbar:.3g}. {honest.sentence}"
            if honest.sensitivity.table["lb"].isna().any():  # every point of the default test grid was rejected
                honest_line += (" Caution: some robust sets are empty on the test grid (an estimate far outside "
                                "+/- 20 standard errors of 0), so the breakdown value is not reliable.")
        except (EquityMetricsError, ValueError, np.linalg.LinAlgError) as exc:
            honest_line = f"HonestDiD: not computed ({_short_error(exc)})"

    tables = {"att_gt": r.tidy()}
    tables.update({f"aggregate_{k}": a.tidy() for k, a in aggs.items()})
    tables["pretrend"] = _pretrend_table(r)
    tables["cohorts"] = panel.report.cohorts.copy()
    if honest is not None:
        tables["honest_did"] = _honest_table(honest)
    ids: set[str] = set()
    if args.unit == "officer_id":
        ids = {str(v) for v in panel.data[args.unit].dropna().unique()}
        for frame in (getattr(events, "data", events), training.data, officers):
            if frame is not None and "officer_id" in frame.columns:
                ids |= {str(v) for v in frame["officer_id"].dropna().unique()}
    check_no_ids(tables, ids)
    # scrub only identifiers with a letter in them: bare numbers cannot be told from counts in text
    text_ids = {i for i in ids if any(ch.isalpha() for ch in i)}
    panel_text = scrub_ids(panel.report.summary(), text_ids)
    summary = [r.summary()] + [f"\n{a.summary()}" for a in aggs.values()]
    if honest is not None:
        summary.append(f"\n{honest.summary()}")
    elif honest_line:
        summary.append(f"\n{honest_line}")
    summary_text = scrub_ids("\n".join(summary), text_ids)

    out = Outputs(args.out, args.table_format)
    for name, t in tables.items():
        out.table(name, t)
    out.text("panel_report.txt", panel_text)
    out.text("summary.txt", summary_text)
    out.figure("event_study.png", _figure(aggs["dynamic"], r.outcome))
    if honest is not None:
        out.figure("honest_did.png", _honest_figure(honest, r.outcome, int(r.n_units)))
    out.manifest(
        command="impact",
        inputs=inputs,
        parameters={
            "format": args.format or ("mapped" if args.mapping else "canonical"), "mapping": args.mapping,
            "training_mapping": args.training_mapping, "unit": args.unit, "outcome": args.outcome,
            "period": args.period, "start": args.start, "end": args.end, "course": args.course,
            "balanced": bool(args.balanced), "treated_from": args.treated_from, "control": args.control,
            "method": args.method, "bootstrap": args.bootstrap, "seed": args.seed, "unbalanced": args.unbalanced,
            "table_format": args.table_format, "honest": bool(getattr(args, "honest", True)),
            "honest_mbar": list(HONEST_MBAR) if honest is not None else None,
            "honest_window": [-HONEST_LEADS, HONEST_LAGS - 1] if honest is not None else None,
        },
    )
    ext = TABLE_SUFFIXES[args.table_format]
    say(args, short_summary(panel_text, r.outcome, aggs["simple"], tables["pretrend"], n_cells=len(tables["att_gt"]),
                            alpha=float(getattr(aggs["simple"], "alpha", 0.05)),
                            files=f"att_gt{ext}, aggregate_*{ext}, summary.txt and panel_report.txt",
                            honest=scrub_ids(honest_line, text_ids)))
    say(args, f"\nwrote {len(out.paths) + 1} files to {Path(args.out)}")
    return 0
