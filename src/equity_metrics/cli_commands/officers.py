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
before writing), identifiers are scrubbed from the text, and the per-officer
encounter counts (``n_encounters``, ``n_matched``) are rounded to the nearest 5
(``counts_rounded_to``; ``coverage`` to 2 decimals): exact counts next to a
pseudonym could be matched with public records. With ``--include-officer-ids``
the counts are exact.

``summary.txt`` and the figure speak plainly (the local false discovery rate is "the
chance a flag is a false alarm"); ``null_estimates`` keeps the technical estimates,
with ``valid`` False (and a ``note``) for an estimate that failed, e.g. central
matching's share of null officers above 1, which is kept as computed, not clipped.
Input files appear in ``manifest.json`` by name, never with the machine's folders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..export import TABLE_SUFFIXES
from .impact import _read_events, check_no_ids
from ._common import Outputs, file_input, out_folder, say, scrub_ids

__all__ = ["run", "add_officers_parser", "short_summary", "plain_summary", "round_counts"]


_FEATURE_WORDS = {"district": "district", "beat": "beat", "shift": "shift (watch)", "year": "year",
                  "month": "month", "quarter": "quarter", "hour": "hour of day", "weekday": "day of the week",
                  "officer_unit": "the officer's unit of assignment", "unit": "unit of assignment",
                  "force": "force", "area": "area"}
_NULL_WORDS = {"ml": "estimated from the officers themselves by maximum likelihood",
               "central": "estimated from the officers themselves by central matching",
               "theoretical": "the textbook standard normal"}
ROUND_COUNTS_TO = 5


def _features(cols) -> str:
    words = [_FEATURE_WORDS.get(str(c), str(c).replace("_", " ")) for c in cols]
    if not words:
        return "nothing"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _officers(n: int) -> str:
    return f"{n:,} officer" + ("" if n == 1 else "s")


def short_summary(overview: pd.DataFrame, *, target: str, files: str) -> str:
    """What ``officers`` prints: officers examined and flagged, the z distribution and the null (never ids)."""
    o = overview.iloc[0]
    lines = [
        f"Officers examined: {int(o['n_officers_examined']):,} (at least {int(o['min_encounters'])} encounters with a "
        f"known subject group; {int(o['n_officers_all']):,} officers and {int(o['n_encounters']):,} encounters in all)",
        f"Flagged (local false discovery rate - the chance a flag is a false alarm - below {o['fdr_threshold']:g}): "
        f"{_officers(int(o['n_flagged']))} - {int(o['n_flagged_higher']):,} with a higher share of {target} subjects "
        f"than comparable colleagues, {int(o['n_flagged_lower']):,} lower",
        f"Officers' z-scores (difference from comparable colleagues, in standard errors): median {o['z_median']:.2f}, "
        f"middle half {o['z_q25']:.2f} to {o['z_q75']:.2f}, range {o['z_min']:.2f} to {o['z_max']:.2f}; "
        f"{int(o['n_z_above_2']):,} above 2, {int(o['n_z_below_minus_2']):,} below -2",
        f"Expected spread if no officer differed ({_NULL_WORDS.get(str(o['null']), o['null'])}): centred at "
        f"{o['null_delta']:.2f}, spread {o['null_sigma']:.2f} (1.00 = pure chance); {o['null_p0']:.0%} of officers "
        "estimated not to differ",
        "A flag is a reason to look at an officer's encounters, not a finding of bias.",
        "", f"Tables and figure: {files}.",
    ]
    return "\n".join(lines)


def plain_summary(res, *, rounded: bool) -> str:
    """``summary.txt``: the benchmark in plain words, counts and distributions only (never an identifier)."""
    o = res.overview().iloc[0]
    t = res.table
    k, hi, lo = int(o["n_flagged"]), int(o["n_flagged_higher"]), int(o["n_flagged_lower"])
    small = int((t["n_matched"] < 2 * res.min_encounters).sum())
    est = res.fdr.estimates
    lines = [
        f"Officer-level comparison: share of each officer's encounters with {res.target} subjects "
        f"({res.group}), against colleagues working the same places, times and assignments",
        "",
        f"Encounters: {res.n_encounters:,} with a known {res.group}, by {_officers(res.n_officers_all)}; "
        f"{_officers(res.n_officers)} had at least {res.min_encounters} and were examined.",
        f"Comparison: each officer against other officers in the same {_features(res.match_on)} "
        f"(weighted so the colleagues' encounters fall where the officer's do), adjusted for "
        f"{_features(res.adjust_for)}.",
        f"Result: {res.statement()}",
        f"Flagged officers: {_officers(k)} ({hi:,} with a higher share, {lo:,} lower). An officer is flagged when "
        f"the local false discovery rate (the chance a flag is a false alarm) is below {res.threshold:g}.",
        f"How far officers differ from comparable colleagues (z-score, the difference in standard errors): median "
        f"{o['z_median']:.2f}, middle half {o['z_q25']:.2f} to {o['z_q75']:.2f}, range {o['z_min']:.2f} to "
        f"{o['z_max']:.2f}; {int(o['n_z_above_2']):,} above 2 and {int(o['n_z_below_minus_2']):,} below -2.",
        f"Expected spread if no officer differed ({_NULL_WORDS.get(res.fdr.null, res.fdr.null)}): centred at "
        f"{o['null_delta']:.2f} with spread {o['null_sigma']:.2f} (pure chance would be 0 and 1); "
        f"{o['null_p0']:.0%} of officers estimated not to differ. Judging officers against this spread, rather than "
        "pure chance, keeps differences every officer shares from producing flags.",
        f"Small counts: the median examined officer has about {int(np.median(t['n_encounters'])) if len(t) else 0} "
        f"encounters; {_officers(small)} have fewer than {2 * res.min_encounters} compared encounters, so their "
        "intervals are wide.",
    ]
    if ("central" in est.index and "valid" in est.columns and not bool(est.loc["central", "valid"])
            and np.isfinite(est.loc["central", "p0"])):
        lines.append(f"Central matching (another way to estimate the expected spread) failed with "
                     f"{_officers(res.n_officers)}: its share of officers not differing came out at "
                     f"{est.loc['central', 'p0']:.2f}, above 1, which is impossible; it is marked invalid in "
                     "null_estimates and the maximum-likelihood estimate is used" if res.fdr.null != "central" else
                     "Central matching failed (see null_estimates): rerun with --null ml.")
    if rounded:
        lines.append(f"Privacy: officers.csv has pseudonymous labels, and its per-officer encounter counts are rounded "
                     f"to the nearest {ROUND_COUNTS_TO} (column counts_rounded_to) so that rows cannot be matched with "
                     "public records; exact counts only with --include-officer-ids (analysts only).")
    said = ("central matching failed",)  # already said above in plain words
    lines += ["", "Notes:"] + [f"  - {n}" for n in res.notes if not n.startswith(said)]
    lines += ["", "A flag is a reason to look at an officer's encounters, not a finding of bias."]
    return "\n".join(lines)


def round_counts(per_officer: pd.DataFrame, to: int = ROUND_COUNTS_TO) -> pd.DataFrame:
    """Per-officer table with encounter counts rounded to the nearest ``to`` and coverage to 2 decimals.

    Examples
    --------
    >>> round_counts(pd.DataFrame({"n_encounters": [21, 23, 40], "n_matched": [21, 22, 38],
    ...                            "coverage": [1.0, 22 / 23, 0.95]}))["n_encounters"].tolist()
    [20, 25, 40]
    """
    t = per_officer.copy()
    for c in ("n_encounters", "n_matched"):
        if c in t:
            t[c] = (np.floor(t[c].astype(float) / to + 0.5) * to).astype(int)
    if "coverage" in t:
        t["coverage"] = t["coverage"].astype(float).round(2)
    t["counts_rounded_to"] = int(to)
    return t


def _null_table(res) -> pd.DataFrame:
    """The three null estimates with ``valid`` and a ``note`` for a failed one (technical, for analysts)."""
    t = res.fdr.estimates.rename_axis("null").reset_index()
    if "valid" not in t:
        t["valid"] = True
    notes = []
    for _, r in t.iterrows():
        if bool(r["valid"]):
            notes.append("used for the flags" if r["null"] == res.fdr.null else "")
        elif np.isfinite(r["p0"]) and r["p0"] > 1:
            notes.append(f"invalid: p0 = {r['p0']:.3f} > 1 is impossible (this null's shape does not fit the middle "
                         f"of the histogram of {res.n_officers:,} z-scores); not used"
                         if r["null"] != res.fdr.null else
                         f"invalid: p0 = {r['p0']:.3f} > 1 is impossible; used because it was asked for (--null)")
        else:
            notes.append("failed: no usable estimate; not used")
    t["note"] = notes
    return t


def _display_name(path) -> str:
    """A file's or folder's name for readers: never the machine's folders (archive members by member name)."""
    p = str(path).split("::")[-1].replace("\\", "/").rstrip("/")
    return Path(p).name or p


def _read(args):
    if args.chicago:
        from ..examples.chicago_officers import chicago_officer_events
        from ..io.chicago import TRR_MAIN, TRR_OFFICERS, TRR_PROFILES, TRR_SUBJECTS

        events = chicago_officer_events(args.chicago)
        inputs = [file_input(Path(args.chicago) / f, "events") for f in (TRR_MAIN, TRR_OFFICERS, TRR_PROFILES,
                                                                        TRR_SUBJECTS)]
    else:
        events, inputs = _read_events(args)
        events = getattr(events, "data", events)
    return events, [{**r, "file": _display_name(r["file"])} for r in inputs]


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
    if not args.include_officer_ids:
        per_officer = round_counts(per_officer)
    overview = res.overview()
    nulls = _null_table(res)
    tables = {"overview": overview, "null_estimates": nulls, "z_histogram": res.fdr.bins.copy()}
    ids = {str(v) for v in events[args.officer].dropna().unique()} if args.officer in events.columns else set()
    check_no_ids(tables, ids)
    if not args.include_officer_ids:
        check_no_ids({"officers": per_officer}, ids)
    tables = {"officers": per_officer, **tables}
    text_ids = {i for i in ids if any(ch.isalpha() for ch in i)}
    summary = scrub_ids(plain_summary(res, rounded=not args.include_officer_ids), text_ids)

    out = Outputs(args.out, args.table_format)
    for name, t in tables.items():
        out.table(name, t)
    out.text("summary.txt", summary)
    fig = Figure(figsize=(8, 5.2))
    res.plot(ax=fig.add_subplot())
    fig.tight_layout()
    out.figure("officers_z.png", fig)
    out.manifest(
        command="officers",
        inputs=inputs,
        parameters={
            "chicago": _display_name(args.chicago) if args.chicago else None, "format": args.format,
            "mapping": _display_name(args.mapping) if args.mapping else None, "event_type": args.event_type,
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
