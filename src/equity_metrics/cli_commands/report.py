"""``equity-metrics report`` and ``equity-metrics demo``: the command report.

``report CONFIG.toml`` builds the report a config describes (see
``docs/report.md`` and ``reports/*.toml``); flags override the config's keys,
and without a config the common case is given by flags alone
(``--stops ... --population ... --area ...``). ``demo`` builds the report on the
bundled synthetic samples (the README's main command).

Both write ``report.html`` (and ``report.pdf`` with ``--pdf``), the
reader-facing CSV tables (small counts suppressed, formula-defused) and
``manifest.json`` into the output folder, and print the plain-language summary.
This module only translates the command line; all the work is in
:mod:`equity_metrics.report`.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import OptionError
from ._common import out_folder

__all__ = ["add_report_parser", "add_demo_parser", "run_report_command", "run_demo"]

# flag -> ReportConfig key
_OVERRIDES = {
    "title": "title", "stops": "stops", "population": "population", "population_vintage": "population_vintage",
    "training": "training", "officers": "officers", "officer_events": "officer_events", "area": "area",
    "reference": "reference", "benchmark": "benchmark", "period": "period", "training_date": "training_date",
    "suppress_below": "suppress_below", "alpha": "alpha",
}


def _common_flags(q: argparse.ArgumentParser) -> None:
    q.add_argument("--out", type=out_folder, help="output folder (default: the config's output folder, which must "
                                                  "lie inside the config's own folder)")
    q.add_argument("--pdf", action="store_true", help="also write report.pdf (needs the [pdf] extra: WeasyPrint)")
    q.add_argument("--no-html", action="store_true", help="with --pdf: write the PDF only")


def add_report_parser(sub) -> None:
    q = sub.add_parser(
        "report", help="build the command report (HTML, optionally PDF) from a config file or flags",
        description="Build the command report: headline, trends, ratios by area/group/power/object, outcomes, "
                    "age x sex, training impact, data quality, methods and provenance. Give a CONFIG.toml "
                    "(see reports/sample.toml and docs/report.md); flags override its keys. Without a config, "
                    "--stops and --population are required.")
    q.add_argument("config", nargs="?", help="report config (TOML)")
    q.add_argument("--title", help="report title")
    q.add_argument("--stops", nargs="+", metavar="PATH", help="police.uk stop-and-search files, folders or archives")
    q.add_argument("--population", metavar="FILE", help="population (benchmark) table")
    q.add_argument("--population-vintage", "--vintage", dest="population_vintage", metavar="LABEL", help="population vintage when the file cannot say (e.g. 2011)")
    q.add_argument("--training", metavar="FILE", help="training roster (officer-level; or use --training-date)")
    q.add_argument("--officers", metavar="FILE", help="officers table with service dates (for the impact section)")
    q.add_argument("--officer-events", metavar="FILE", help="officer-level events (for the impact section)")
    q.add_argument("--area", help="the force every section is about (police.uk slug, e.g. west-yorkshire); the config's "
                               "title follows it unless --title is given")
    q.add_argument("--reference", help="reference group (default White)")
    q.add_argument("--benchmark", help="name of the benchmark shown in the text (e.g. '2011 census residential population')")
    q.add_argument("--period", choices=["FY", "rolling12", "year", "quarter", "month"], help="headline period")
    q.add_argument("--training-date", metavar="YYYY-MM", help="force-wide training date (interrupted time series)")
    q.add_argument("--suppress-below", type=int, metavar="N", help="hide counts 1..N-1 in reader tables (default 10)")
    q.add_argument("--alpha", type=float, help="1 - confidence level (default 0.05)")
    _common_flags(q)
    q.add_argument("--allow-output-outside", action="store_true",
                   help="let the config's output folder lie outside the config's folder (e.g. ../elsewhere)")
    q.set_defaults(func=run_report_command)


def add_demo_parser(sub) -> None:
    d = sub.add_parser("demo", help="build the full command report on the bundled synthetic samples",
                       description="Run the whole pipeline on the bundled synthetic samples (known planted truth; "
                                   "docs/synthetic-data.md): read, check, measure, estimate the training impact and "
                                   "write the command report with its tables and manifest.")
    _common_flags(d)
    d.set_defaults(func=run_demo)


def _formats(args) -> tuple[str, ...]:
    if args.no_html and not args.pdf:
        raise OptionError("--no-html needs --pdf (otherwise nothing would be written)")
    return (() if args.no_html else ("html",)) + (("pdf",) if args.pdf else ())


def _overrides(args) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flag, key in _OVERRIDES.items():
        v = getattr(args, flag, None)
        if v is not None:
            out[key] = list(v) if isinstance(v, list | tuple) else v
    return out


def _run(cfg, args) -> int:
    from ..report import run_report

    outs = run_report(cfg, out=args.out, formats=_formats(args), quiet=True, allow_outside=True)
    if not args.quiet:
        print(outs.summary())
    return 0


def run_report_command(args) -> int:
    from ..report import load_report_config, report_config

    ov = _overrides(args)
    if args.config:
        cfg = load_report_config(args.config, **ov)
        if args.out is None and not args.allow_output_outside:
            from ..report.run import check_config_output

            check_config_output(cfg)
    else:
        missing = [f"--{k}" for k in ("stops", "population") if k not in ov]
        if missing:
            raise OptionError(f"report: give a CONFIG.toml or at least {' and '.join(missing)} "
                              "(e.g. equity-metrics report reports/sample.toml)")
        cfg = report_config(**ov)
    return _run(cfg, args)


def run_demo(args) -> int:
    from ..report import sample_config

    if not args.quiet:
        print("equity_metrics demo: the command report on the bundled synthetic sample data "
              "(a known, planted truth; see docs/synthetic-data.md)\n")
    return _run(sample_config(), args)
