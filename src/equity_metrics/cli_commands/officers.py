"""``equity-metrics officers``: officer-level internal benchmarking with empirical-null fdr flags.

Compares each officer's share of encounters with a subject group (``--target``,
default Black) with that of other officers in the same places, times and
assignments (:func:`equity_metrics.measures.internal_benchmark.internal_benchmark`),
and flags officers whose local false discovery rate is below ``--fdr`` (0.2).
Writes, in ``--out``:

``officers.<ext>``
    One row per examined officer (pseudonymous labels ``officer_0001``... in
    order of z; real identifiers only with ``--include-officer-ids``).
``overview.<ext>``
    One row: officers examined and flagged (higher / lower) and the distribution
    of z (no identifiers): what a command report shows.
``null_estimates.<ext>``
    The theoretical, maximum-likelihood and central-matching nulls (delta, sigma, p0, SDs).
``z_histogram.<ext>``
    The histogram of z with the fitted mixture, null and fdr per bin.
``summary.txt``, ``officers_z.png``, ``manifest.json``
    The text summary, the figure (histogram, null, flagged tail) and the manifest.

Without ``--include-officer-ids`` no table holds an officer identifier (checked
before writing) and identifiers are scrubbed from the text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..export import TABLE_SUFFIXES
from .impact import _read_events, check_no_ids
from ._common import Outputs, file_input, out_folder, say, scrub_ids

__all__ = ["run", "add_officers_parser", "short_summary"]


def short_summary(overview: pd.DataFrame, *, target: str, files: str) -> str:
    """What ``officers`` prints: officers examined and flagged, the z distribution and the null (never ids)."""
    o = overview.iloc[0]
    lines = [
        f"Officers examined: {int(o['n_officers_examined']):,} (at least {int(o['min_encounters'])} encounters with a "
        f"known subject group; {int(o['n_officers_all']):,} officers and {int(o['n_encounters']):,} encounters in all)",
        f"Flagged (local fdr < {o['fdr_threshold']:g}): {int(o['n_flagged']):,} officers - "
        f"{int(o['n_flagged_higher']):,} with a higher share of {target} subjects than comparable colleagues, "
        f"{int(o['n_flagged_lower']):,} lower",
        f"z distribution: median {o['z_median']:.2f}, quartiles {o['z_q25']:.2f} to {o['z_q75']:.2f}, range "
        f"{o['z_min']:.2f} to {o['z_max']:.2f}; {int(o['n_z_above_2']):,} above 2, {int(o['n_z_below_minus_2']):,} "
        "below -2",
        f"Empirical null ({o['null']}): delta {o['null_delta']:.3f}, sigma {o['null_sigma']:.3f}, p0 {o['null_p0']:.3f}",
        "A flag is a reason to look at an officer's encounters, not a finding of bias.",
        "", f"Tables and figure: {files}.",
    ]
    return "\n".join(lines)


def _read(args):
    if args.chicago:
        from ..examples.chicago_officers import chicago_officer_events
        from ..io.chicago import TRR_MAIN, TRR_OFFICERS, TRR_PROFILES, TRR_SUBJECTS

        events = chicago_officer_events(args.chicago)
        inputs = [file_input(Path(args.chicago) / f, "events") for f in (TRR_MAIN, TRR_OFFICERS, TRR_PROFILES,
                                                                        TRR_SUBJECTS)]
        return events, inputs
    events, inputs = _read_events(args)
    return getattr(events, "data", events), inputs


def _defaults(args) -> None:
    """Fill the options left unset: the generic defaults, or the Chicago worked example's with --chicago."""
    from ..examples.chicago_officers import ADJUST_FOR, INCIDENT, MATCH_ON

    chicago = bool(args.chicago)
    if args.match_on is None:
        args.match_on = list(MATCH_ON) if chicago else ["district", "shift", "year"]
    if args.adjust_for is None:
        args.adjust_for = list(ADJUST_FOR) if chicago else ["beat", "hour", "weekday", "month"]
    if args.min_encounters is None:
        args.min_encounters = 20 if chicago else 50
    if args.incident is None and chicago:
        args.incident = INCIDENT


def run(args) -> int:
    """Run ``equity-metrics officers`` (see the module docstring)."""
    from matplotlib.figure import Figure

    from ..measures.internal_benchmark import internal_benchmark

    events, inputs = _read(args)
    _defaults(args)
    if args.event_type:
        if "event_type" not in events.columns:
            from ..errors import OptionError

            raise OptionError("--event-type needs an event_type column in the events")
        events = events[events["event_type"].astype("string").isin(args.event_type).fillna(False)]
    res = internal_benchmark(
        events, officer=args.officer, group=args.group, target=args.target, match_on=args.match_on,
        adjust_for=args.adjust_for, incident=args.incident or None, min_encounters=args.min_encounters, null=args.null, threshold=args.fdr,
    )
    per_officer = res.tidy(include_officer_ids=args.include_officer_ids)
    overview = res.overview()
    nulls = res.fdr.estimates.rename_axis("null").reset_index()
    tables = {"overview": overview, "null_estimates": nulls, "z_histogram": res.fdr.bins.copy()}
    ids = {str(v) for v in events[args.officer].dropna().unique()} if args.officer in events.columns else set()
    check_no_ids(tables, ids)
    if not args.include_officer_ids:
        check_no_ids({"officers": per_officer}, ids)
    tables = {"officers": per_officer, **tables}
    text_ids = {i for i in ids if any(ch.isalpha() for ch in i)}
    summary = scrub_ids(res.summary(), text_ids)

    out = Outputs(args.out, args.table_format)
    for name, t in tables.items():
        out.table(name, t)
    out.text("summary.txt", summary)
    fig = Figure(figsize=(8, 4.5))
    res.plot(ax=fig.add_subplot())
    fig.tight_layout()
    out.figure("officers_z.png", fig)
    out.manifest(
        command="officers",
        inputs=inputs,
        parameters={
            "chicago": args.chicago, "format": args.format, "mapping": args.mapping, "event_type": args.event_type,
            "officer": args.officer, "group": args.group, "target": args.target, "match_on": list(args.match_on),
            "adjust_for": list(args.adjust_for), "incident": args.incident, "min_encounters": args.min_encounters, "null": args.null,
            "fdr": args.fdr, "include_officer_ids": bool(args.include_officer_ids), "table_format": args.table_format,
        },
    )
    ext = TABLE_SUFFIXES[args.table_format]
    say(args, short_summary(overview, target=args.target,
                            files=f"officers{ext}, overview{ext}, null_estimates{ext}, z_histogram{ext}, officers_z.png"))
    if args.include_officer_ids:
        say(args, f"officers{ext} holds officer identifiers (--include-officer-ids): for analysts only, do not publish")
    say(args, f"\nwrote {len(out.paths) + 1} files to {Path(args.out)}")
    return 0


def add_officers_parser(sub) -> None:
    """Add the ``officers`` subcommand to the ``equity-metrics`` parser."""
    q = sub.add_parser(
        "officers", help="officer-level internal benchmarking with empirical-null false discovery rates",
        description="Compare each officer's share of encounters with a subject group against other officers in the "
                    "same places, times and assignments (propensity weights + doubly robust adjustment), and flag "
                    "officers by Efron's local false discovery rate with an empirical null. Officer identifiers "
                    "are written only with --include-officer-ids.")
    src = q.add_mutually_exclusive_group(required=True)
    src.add_argument("--events", nargs="+", help="events: a canonical table from 'ingest' or files read with --format")
    src.add_argument("--chicago", metavar="FOLDER", help="the Chicago TRR (use of force) folder: the worked example")
    q.add_argument("--format", choices=["policeuk", "policeuk-api", "opp", "mapped", "canonical"], default=None,
                   help="events format (default: mapped with --mapping, else canonical)")
    q.add_argument("--mapping", help="mapping TOML of the events (--format mapped)")
    q.add_argument("--event-type", nargs="+", help="keep only these event types (e.g. stop_and_search)")
    q.add_argument("--officer", default="officer_id", help="officer identifier column (default: %(default)s)")
    q.add_argument("--group", default="ethnicity", help="subject group column (default: %(default)s)")
    q.add_argument("--target", default="Black", help="group whose share is compared (default: %(default)s)")
    q.add_argument("--match-on", nargs="+", default=None,
                   help="propensity cells: place, time, assignment columns or hour/weekday/month/year/shift/quarter "
                        "(default: district shift year)")
    q.add_argument("--adjust-for", nargs="*", default=None,
                   help="outcome-regression features (default: beat hour weekday month, plus officer_unit with "
                        "--chicago; give the flag alone for weighting only)")
    q.add_argument("--incident", default=None,
                   help="incident identifier column: partners' encounters in the officer's incidents are not "
                        "compared with the officer (default: none; event_no with --chicago)")
    q.add_argument("--min-encounters", type=int, default=None,
                   help="encounters an officer needs (default: 50; 20 with --chicago)")
    q.add_argument("--null", choices=["ml", "central", "theoretical"], default="ml",
                   help="null for the fdr: empirical ML (default), central matching, or N(0,1)")
    q.add_argument("--fdr", type=float, default=0.2, help="flag officers with local fdr below this (default: 0.2)")
    q.add_argument("--include-officer-ids", action="store_true",
                   help="write real officer identifiers in officers.<ext> (analysts only; never for publication)")
    q.add_argument("--out", required=True, type=out_folder, help="output folder")
    q.add_argument("--table-format", choices=["csv", "parquet", "xlsx"], default="csv",
                   help="format of the tables written (default: %(default)s)")

    def cmd_officers(args) -> int:
        return run(args)

    q.set_defaults(func=cmd_officers)
