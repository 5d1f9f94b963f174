"""The ``equity-metrics`` command line.

Subcommands
-----------
``demo``
    Ingest the bundled synthetic samples, print the ledger and a first
    disproportionality table (searches per 1,000 by group, ratio to White).
``ingest``
    Read input files into the canonical events table; write it as Parquet with
    the ledger (JSON), the rejected rows (CSV) and a ``manifest.json``.

Exit codes: 0 success; 2 bad command line; 3 input that cannot be read;
4 a bad option or a table that does not fit the request; 1 anything else (a bug:
rerun with ``--debug`` for the traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from ._manifest import write_manifest
from .errors import DataValidationError, EquityMetricsError, EstimationError, MappingError, OptionError, ReadError

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_INPUT, EXIT_REQUEST = 0, 1, 2, 3, 4


def _print(args, *parts) -> None:
    if not getattr(args, "quiet", False):
        print(*parts)


# ----------------------------------------------------------------------------- ingest
def _read(args):
    fmt = args.format
    if fmt == "policeuk":
        from .io.policeuk import read_policeuk

        return read_policeuk(args.sources, forces=args.forces or None, ethnicity_field=args.ethnicity_field)
    if fmt == "policeuk-api":
        from .io.policeuk import read_policeuk_api

        return read_policeuk_api(args.sources)
    if fmt == "opp":
        from .io.opp import read_opp

        return read_opp(args.sources)
    if fmt == "mapped":
        from .io.mapped import read_mapped

        if not args.mapping:
            raise MappingError("--format mapped needs --mapping MAPPING.toml (see docs/data-model.md)")
        return read_mapped(args.sources, mapping=args.mapping)
    raise OptionError(f"unknown --format {fmt!r}")  # pragma: no cover - argparse restricts choices


def cmd_ingest(args) -> int:
    res = _read(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_path = out / "events.parquet"
    res.data.to_parquet(data_path, index=False)
    ledger_path = out / "ledger.json"
    res.ledger.to_json(ledger_path)
    rejects_path = res.rejects.to_csv(out / "rejects.csv")
    write_manifest(
        out,
        command="ingest",
        inputs=[f.file for f in res.ledger.files],
        outputs=[data_path, ledger_path, rejects_path],
        parameters={"format": args.format, "forces": args.forces, "ethnicity_field": args.ethnicity_field},
    )
    _print(args, res.ledger.summary())
    _print(args, f"wrote {data_path}, {ledger_path}, {rejects_path}, {out / 'manifest.json'}")
    return EXIT_OK


# ----------------------------------------------------------------------------- demo
def cmd_demo(args) -> int:
    from . import datasets
    from .measures.disparity import disparity

    stops = datasets.load_sample_stops()
    pop = datasets.load_sample_population()
    _print(args, "equity_metrics demo: bundled synthetic sample data (a known, planted truth; see docs/synthetic-data.md)")
    _print(args, "")
    _print(args, stops.ledger.summary())
    _print(args, "")
    d = disparity(stops, pop, by="force", reference="White")
    _print(args, d.summary())
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        t = d.to_csv(out / "disparity.csv")
        stops.ledger.to_json(out / "ledger.json")
        write_manifest(out, command="demo", inputs=[f.file for f in stops.ledger.files], outputs=[t, out / "ledger.json"], parameters={"by": "force", "reference": "White"})
        _print(args, f"\nwrote {out}")
    return EXIT_OK


# ----------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="equity-metrics",
        description="Measure racial and ethnic disproportionality in policing, and whether training changes it.",
    )
    p.add_argument("--version", action="version", version=f"equity_metrics {__version__}")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="run the pipeline on the bundled synthetic samples")
    d.add_argument("--out", help="also write the tables and ledger to this folder")
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("ingest", help="read input files into the canonical table (Parquet + ledger + rejects)")
    i.add_argument("sources", nargs="+", help="files, folders, globs or archives")
    i.add_argument("--format", choices=["policeuk", "policeuk-api", "opp", "mapped"], default="policeuk")
    i.add_argument("--mapping", help="mapping TOML for --format mapped")
    i.add_argument("--forces", nargs="*", help="police.uk force slugs to keep (e.g. west-yorkshire)")
    i.add_argument("--ethnicity-field", choices=["self_defined", "officer_defined"], default="self_defined")
    i.add_argument("--out", required=True, help="output folder")
    i.set_defaults(func=cmd_ingest)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except ReadError as exc:
        if args.debug:
            raise
        print(f"equity-metrics: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (OptionError, DataValidationError, MappingError, EstimationError) as exc:
        if args.debug:
            raise
        print(f"equity-metrics: error: {exc}", file=sys.stderr)
        return EXIT_REQUEST
    except EquityMetricsError as exc:
        if args.debug:
            raise
        print(f"equity-metrics: error: {exc}", file=sys.stderr)
        return EXIT_REQUEST
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
