"""The ``equity-metrics`` command line.

Subcommands
-----------
``demo``
    The whole pipeline on the bundled synthetic samples: the command report
    (HTML; ``--pdf`` for PDF), its tables and manifest.
``report``
    The command report from a ``CONFIG.toml`` (flags override its keys) or from
    flags alone (see :mod:`equity_metrics.cli_commands.report`).
``ingest``
    Read input files into the canonical events table; write it as Parquet with
    the ledger (JSON), the rejected rows (CSV) and a ``manifest.json``.
``disparity``
    Rates per 1,000 and ratios by group against a population (optionally age x
    sex standardised, and outcome tests); tidy tables, ledgers, rejects,
    manifest (see :mod:`equity_metrics.cli_commands.disparity`).
``impact``
    Training impact: panel from events + training roster (+ officers), staggered
    difference-in-differences, aggregations, pre-trend test, event-study
    figure, manifest (see :mod:`equity_metrics.cli_commands.impact`); prints a short summary and verdict.
``officers``
    Officer-level internal benchmarking: each officer vs comparable colleagues, empirical-null local
    fdr flags; tables (pseudonymous unless ``--include-officer-ids``), figure, manifest (see
    :mod:`equity_metrics.cli_commands.officers`); prints counts flagged and the z distribution, never ids.
``plan``
    Power of a planned training evaluation from a ``CONFIG.toml``: the rollout replayed on the
    untreated history with a planted effect, the power curve, the analytic MDE, a one-page HTML
    answer, tables and manifest (see :mod:`equity_metrics.cli_commands.plan`).
``verify``
    Check output folders: exit 0 when ``manifest.json`` is there and every output it
    lists matches its SHA-256, 3 with the reason otherwise (see :mod:`equity_metrics._atomic`).

Global flags go before the subcommand: ``--quiet`` (print nothing but errors; no
progress bars), ``--debug`` (tracebacks). Progress bars are drawn on stderr only
when stderr is a terminal.

Exit codes: 0 success; 2 bad command line (``--out ""`` included); 3 input that cannot
be read, or an output folder that cannot be written (read-only, full, a file in the way);
4 a bad option or a table that does not fit the request (a misspelled ``--forces``
included); 1 anything else (a bug:
rerun with ``--debug`` for the traceback). Every error is one line on stderr
unless ``--debug``, and names flags (``--area-type``) where the library named keyword
arguments (``area_type=``). ``--quiet`` also silences warnings (matplotlib's included).

This module is the parser and the dispatcher; subcommand implementations live in
:mod:`equity_metrics.cli_commands` (one module per subcommand, ``run(args)``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from ._atomic import OutputError, check_output_folder, verify_output
from .cli_commands._common import Outputs, out_folder, read_events
from .cli_commands.plan import add_plan_parser
from .cli_commands.report import add_demo_parser, add_report_parser
from .cli_commands.officers import add_officers_parser
from .errors import DataValidationError, EquityMetricsError, EstimationError, MappingError, OptionError, ReadError

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_INPUT, EXIT_REQUEST = 0, 1, 2, 3, 4

TABLE_FORMATS = ("csv", "parquet", "xlsx")
EVENT_FORMATS = ("policeuk", "policeuk-api", "opp", "mapped")


class UsageError(Exception):
    """A bad command line (argparse's complaint), reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse parser whose errors are one line (no usage dump) and do not exit the interpreter."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _print(args, *parts) -> None:
    if not getattr(args, "quiet", False):
        print(*parts)


# ----------------------------------------------------------------------------- ingest, verify
def cmd_ingest(args) -> int:
    res = read_events(args)
    out = Outputs(args.out)
    data_path = out.write("events.parquet", lambda t: _to_parquet(res.data, t))
    ledger_path = out.write("ledger.json", res.ledger.to_json)
    rejects_path = out.write("rejects.csv", res.rejects.to_csv)
    man = out.manifest(
        command="ingest",
        inputs=[f.file for f in res.ledger.files],
        parameters={"format": args.format, "forces": args.forces, "ethnicity_field": args.ethnicity_field},
    )
    _print(args, res.ledger.summary())
    _print(args, f"wrote {data_path}, {ledger_path}, {rejects_path}, {man}")
    return EXIT_OK


def _to_parquet(df, path: Path) -> None:
    # through a Python file object: Arrow cannot open a path that is not valid UTF-8 (a non-UTF-8 folder name)
    with open(path, "wb") as fh:
        df.to_parquet(fh, index=False)


def cmd_verify(args) -> int:
    """Exit 0 when every folder is complete (manifest present, every hash matches); else 3 with the reasons."""
    bad = 0
    for folder in args.folders:
        v = verify_output(folder)
        if v.complete:
            _print(args, v.summary())
        else:
            bad += 1
            print(f"equity-metrics: error: {v.summary()}", file=sys.stderr)
    return EXIT_INPUT if bad else EXIT_OK


# ----------------------------------------------------------------------------- disparity, impact
def cmd_disparity(args) -> int:
    from .cli_commands.disparity import run

    return run(args)


def cmd_impact(args) -> int:
    from .cli_commands.impact import run

    return run(args)


def _add_source_options(q: argparse.ArgumentParser, *, default_format: str | None = "policeuk") -> None:
    """Options of the event readers (shared by ingest-like subcommands; read by ``_common.read_events``)."""
    q.add_argument("--format", choices=list(EVENT_FORMATS), default=default_format,
                   help="input format of the events (default: %(default)s)")
    q.add_argument("--mapping", help="mapping TOML for --format mapped")
    q.add_argument("--forces", nargs="*", help="police.uk force slugs to keep (e.g. west-yorkshire)")
    q.add_argument("--ethnicity-field", choices=["self_defined", "officer_defined"], default="self_defined")


def _add_output_options(q: argparse.ArgumentParser) -> None:
    q.add_argument("--out", required=True, type=out_folder, help="output folder")
    q.add_argument("--table-format", choices=list(TABLE_FORMATS), default="csv",
                   help="format of the tables written (default: %(default)s); CSV/XLSX cells are defused")


def _add_disparity_parser(sub) -> None:
    q = sub.add_parser("disparity", help="rates per 1,000 and ratios by group against a population benchmark",
                       description="Rates per 1,000 residents and ratios to a reference group, with intervals, "
                                   "counts and flags; writes tidy tables, ledgers, rejects and manifest.json.")
    q.add_argument("sources", nargs="+", help="event files, folders, globs or archives")
    q.add_argument("--population", required=True, help="population file (area, group, population; ONS layouts)")
    q.add_argument("--vintage", help="population vintage when the file name does not say (e.g. census2021)")
    q.add_argument("--area-type", choices=["force", "local_authority", "region", "country"],
                   help="what the population areas are, when the file cannot say")
    _add_source_options(q)
    q.add_argument("--by", nargs="+", default=["force"],
                   help="columns to break results down by (space or comma separated; 'none' for one figure)")
    q.add_argument("--area", default="force",
                   help="events column matching the population areas (default: force; --by district needs "
                        "--area district and a population by district)")
    q.add_argument("--period", choices=["none", "FY", "month", "quarter", "year", "rolling12"], default="none")
    q.add_argument("--reference", default="White", help="reference group of the ratios, or 'all' (default: White)")
    q.add_argument("--method", choices=["auto", "katz", "exact", "mid_p", "riskratio_wald", "riskratio_small"],
                   default="auto", help="ratio interval (default: %(default)s = exact below 20 events, Katz above; "
                                        "see docs/real-data-rules.md)")
    q.add_argument("--standardise", action="store_true", help="also age x sex standardised rates and ratios")
    q.add_argument("--outcomes", action="store_true", help="also the outcome (hit-rate) test")
    q.add_argument("--suppress-below", type=int, default=0, metavar="N",
                   help="0 (default): analyst tables, every count kept and small counts flagged "
                        "([x] < 3, [u] < 20); N > 0: reader tables, counts 1..N-1 suppressed with complements "
                        "(ONS rule of thumb: 10)")
    _add_output_options(q)
    q.set_defaults(func=cmd_disparity)


def _add_impact_parser(sub) -> None:
    q = sub.add_parser("impact", help="training impact: panel + staggered difference-in-differences",
                       description="Build the unit x period panel from events and a training roster, estimate "
                                   "Callaway & Sant'Anna group-time effects and their aggregations; writes tables, "
                                   "the panel report, an event-study figure and manifest.json. Officer ids are "
                                   "never written.")
    q.add_argument("--events", nargs="+", required=True,
                   help="events: a canonical table from 'ingest' (Parquet/CSV) or files read with --format/--mapping")
    q.add_argument("--format", choices=list(EVENT_FORMATS) + ["canonical"], default=None,
                   help="events format (default: mapped with --mapping, else canonical)")
    q.add_argument("--mapping", help="mapping TOML of the events (--format mapped)")
    q.add_argument("--training", required=True, help="training roster (CSV, Parquet, XLSX)")
    q.add_argument("--training-mapping", help="mapping TOML of the training roster (default: column names recognised)")
    q.add_argument("--officers", help="officers table: officer_id, appointed, resigned, force (service dates)")
    q.add_argument("--unit", default="officer_id", help="unit of the panel: officer_id (default) or an area column")
    q.add_argument("--outcome", default="use_of_force",
                   help="outcome: an event type, searches, searches_of:<group>, hit_rate, share_of:<group>")
    q.add_argument("--period", choices=["M", "Q"], default="M", help="months (M, default) or quarters (Q)")
    q.add_argument("--start", help="first period, e.g. 2019-01 (default: the events' first)")
    q.add_argument("--end", help="last period, e.g. 2021-12 (default: the events' last)")
    q.add_argument("--course", action="append", help="course defining treatment (repeat for several; default: all)")
    q.add_argument("--treated-from", choices=["next", "completion"], default="next",
                   help="treated from the first full period after completion (next, default) or from the period "
                        "of completion (the bundled samples)")
    q.add_argument("--balanced", action="store_true", help="keep only units in service in every period")
    q.add_argument("--control", choices=["not_yet_treated", "never_treated"], default="never_treated")
    q.add_argument("--method", choices=["dr", "ipw", "reg"], default="dr")
    q.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="multiplier bootstrap draws (0, default: analytic standard errors)")
    q.add_argument("--seed", type=int, default=1, help="bootstrap seed (default: %(default)s)")
    q.add_argument("--unbalanced", choices=["error", "drop"], default="error",
                   help="units not observed in every period: error (default) or drop them (officer panels "
                        "with joiners and leavers)")
    q.add_argument("--no-honest", dest="honest", action="store_false",
                   help="skip the HonestDiD sensitivity of the first post-training effect (honest_did.csv/.png)")
    _add_output_options(q)
    q.set_defaults(func=cmd_impact)


# ----------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="equity-metrics",
        description="Measure racial and ethnic disproportionality in policing, and whether training changes it.",
    )
    p.add_argument("--version", action="version", version=f"equity_metrics {__version__}")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    add_demo_parser(sub)

    i = sub.add_parser("ingest", help="read input files into the canonical table (Parquet + ledger + rejects)")
    i.add_argument("sources", nargs="+", help="files, folders, globs or archives")
    i.add_argument("--format", choices=["policeuk", "policeuk-api", "opp", "mapped"], default="policeuk")
    i.add_argument("--mapping", help="mapping TOML for --format mapped")
    i.add_argument("--forces", nargs="*", help="police.uk force slugs to keep (e.g. west-yorkshire)")
    i.add_argument("--ethnicity-field", choices=["self_defined", "officer_defined"], default="self_defined")
    i.add_argument("--out", required=True, type=out_folder, help="output folder")
    i.set_defaults(func=cmd_ingest)

    v = sub.add_parser("verify", help="check output folders are complete (manifest present, every SHA-256 matches)",
                       description="Exit 0 when each folder's manifest.json is present and every output it lists "
                                   "exists with its SHA-256; otherwise exit 3 and say what is missing or changed "
                                   "(an interrupted or failed run: rerun it).")
    v.add_argument("folders", nargs="+", metavar="OUTDIR", help="output folder(s) of ingest, disparity, impact, report")
    v.set_defaults(func=cmd_verify)

    _add_disparity_parser(sub)
    _add_impact_parser(sub)
    add_officers_parser(sub)
    add_report_parser(sub)
    add_plan_parser(sub)
    return p


def _error_line(exc: BaseException | str, args=None) -> None:
    """Print an error as exactly one line on stderr, naming flags (``--area-type``) where the library
    named its keyword arguments (``area_type=``)."""
    text = " ".join(str(exc).split("\n")).strip()
    if args is not None:
        text = flagify(text, vars(args))
    print(f"equity-metrics: error: {text}", file=sys.stderr)


def flagify(text: str, dests) -> str:
    """Rewrite ``name=value`` for every option ``name`` of the command as ``--name value``.

    Examples
    --------
    >>> flagify("Pass area_type='force'", {"area_type": None})
    "Pass --area-type 'force'"
    """
    import re

    names = sorted((d for d in dests if d not in ("func", "command", "quiet", "debug")), key=len, reverse=True)
    if not names:
        return text
    pat = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, names)) + r")=")
    return pat.sub(lambda m: "--" + m.group(1).replace("_", "-") + " ", text)


def _tolerant_streams() -> None:
    """Paths that are not valid UTF-8 (a folder named in another encoding) are printed escaped, not fatal."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # pragma: no cover - replaced streams (pytest capture)
            pass


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_streams()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        _error_line(exc)
        return EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        if getattr(args, "out", None):  # a read-only/full disk or a file in the way fails at once, not after the work
            check_output_folder(args.out)
        if args.quiet:  # print nothing but errors: library and matplotlib warnings included
            import logging
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                old = logging.getLogger("matplotlib").level
                logging.getLogger("matplotlib").setLevel(logging.ERROR)
                try:
                    return int(args.func(args) or 0)
                finally:
                    logging.getLogger("matplotlib").setLevel(old)
        return int(args.func(args) or 0)
    except (ReadError, OutputError) as exc:
        if args.debug:
            raise
        _error_line(exc, args)
        return EXIT_INPUT
    except (OptionError, DataValidationError, MappingError, EstimationError) as exc:
        if args.debug:
            raise
        _error_line(exc, args)
        return EXIT_REQUEST
    except EquityMetricsError as exc:
        if args.debug:
            raise
        _error_line(exc, args)
        return EXIT_REQUEST
    except OSError as exc:  # a file the library did not wrap (permissions, full disk, a bad path): input/output
        if args.debug:
            raise
        where = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
        _error_line(f"cannot read or write{where}: {exc.strerror or exc}; check the path and permissions "
                    "(rerun with --debug for details)")
        return EXIT_INPUT
    except UnicodeError as exc:  # undecodable bytes in a file or a path the library did not wrap
        if args.debug:
            raise
        if isinstance(exc, UnicodeEncodeError) and "surrogates" in str(exc):
            bad = exc.object[max(0, exc.start - 40):exc.end + 20] if isinstance(exc.object, str) else ""
            shown = bad.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            _error_line(f"a file or folder name is not valid UTF-8 (...{shown}...); "
                        "rename it with UTF-8 characters (e.g. convmv -f latin1 -t utf8) and rerun")
        else:
            _error_line(f"text that is not valid UTF-8 ({exc}); save the file as UTF-8 and rerun")
        return EXIT_INPUT
    except KeyboardInterrupt:  # pragma: no cover
        print("equity-metrics: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line unless --debug
        if args.debug:
            raise
        print(
            f"equity-metrics: internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
