"""``run_report``: build the command report and write it with its tables and manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .._atomic import atomic_path, begin_output, check_output_folder
from .._manifest import write_manifest
from .._options import check_option
from ..errors import OptionError
from .._security import safe_to_csv
from .build import build_report
from .config import Format, ReportConfig, load_report_config

__all__ = ["ReportOutputs", "run_report", "check_config_output"]


@dataclass
class ReportOutputs:
    """What :func:`run_report` wrote.

    Attributes
    ----------
    paths
        Every file written (HTML, PDF, CSV tables, manifest.json), sorted.
    html, pdf
        The report files (``None`` when not requested).
    report
        The :class:`~equity_metrics.report.build.CommandReport`.
    """

    paths: list[Path]
    html: Path | None = None
    pdf: Path | None = None
    report: object = field(default=None, repr=False)

    def summary(self) -> str:
        head = self.report.summary() if self.report is not None else ""
        return head + "\n\nWrote:\n" + "\n".join(f"  {p}" for p in self.paths)

    def __str__(self) -> str:
        return self.summary()


def check_config_output(cfg: ReportConfig) -> Path:
    """The config's ``output`` folder, refused when it lies outside the folder of the config file.

    A config (perhaps downloaded) names where the report is written; it may not write above its own
    folder (``../..``) or to an absolute path elsewhere unless asked explicitly (``--out``, or
    ``--allow-output-outside`` / ``run_report(allow_outside=True)``).

    Raises
    ------
    OptionError
        ``output`` resolves outside the config's folder.
    """
    base = Path(cfg.base_dir).resolve()
    target = Path(cfg.output)
    target = (target if target.is_absolute() else base / target).resolve()
    if target != base and base not in target.parents:
        raise OptionError(
            f"the config's output {cfg.output!r} is outside the config's folder {str(base)!r}; configs may only "
            "write below their own folder: give the folder explicitly with --out DIR, or pass "
            "--allow-output-outside to accept it"
        )
    return target


def run_report(
    config: ReportConfig | str | os.PathLike,
    out: str | os.PathLike | None = None,
    formats: Sequence[str] | None = ("html",),
    quiet: bool = True,
    allow_outside: bool = False,
) -> ReportOutputs:
    """Build the command report and write ``report.html`` (+ ``report.pdf``), the CSV tables and ``manifest.json``.

    Parameters
    ----------
    config
        A :class:`ReportConfig` or the path of a TOML config.
    out
        Output folder (default: the config's ``output``).
    formats
        ``("html",)``, ``("html", "pdf")`` or ``("pdf",)``; ``None`` uses the config's
        ``formats`` (plus PDF when ``include_pdf``).
    quiet
        ``False`` prints the summary and the files written.
    allow_outside
        Without ``out``, a config read from a file must name an ``output`` inside its folder
        (:func:`check_config_output`); ``True`` lifts that rule.

    Every file is written through a temporary name and renamed into place; an old
    ``manifest.json`` is removed first and the new one written last, so an
    interrupted run leaves a folder without a manifest (incomplete).

    Returns
    -------
    ReportOutputs

    Examples
    --------
    >>> from equity_metrics.report import run_report, sample_config   # doctest: +SKIP
    >>> outs = run_report(sample_config(), out="report_out")          # doctest: +SKIP
    """
    cfg = config if isinstance(config, ReportConfig) else load_report_config(config)
    fm = tuple(cfg.all_formats if formats is None else formats)
    for f in fm:
        check_option("formats", f, Format)
    if not fm:
        check_option("formats", "", Format)
    if out is None and not allow_outside and not isinstance(config, ReportConfig):
        check_config_output(cfg)
    folder = Path(out) if out is not None else Path(cfg.output)
    check_output_folder(folder)  # fail at once on a read-only/full disk, before the long work
    rep = build_report(cfg)
    # the old manifest goes before any output and the new one is written last: an interrupted run leaves
    # no manifest (a request that fails while building the report leaves the old folder as it was)
    folder = begin_output(folder)
    written: list[Path] = []
    html_path = pdf_path = None
    if "html" in fm:
        html_path = rep.to_html(folder / "report.html")
        written.append(html_path)
    if "pdf" in fm:
        pdf_path = rep.to_pdf(folder / "report.pdf")
        written.append(pdf_path)
    from .tables import csv_tables

    for name, t in sorted(csv_tables(rep.data).items()):
        with atomic_path(folder / f"{name}.csv") as tmp:
            safe_to_csv(t, tmp, lineterminator="\n")
        written.append(folder / f"{name}.csv")
    man = write_manifest(folder, command="report", inputs=rep.data.provenance["inputs"], outputs=written,
                         parameters=dict(rep.data.provenance["parameters"], formats=list(fm)))
    paths = sorted(written + [man])
    res = ReportOutputs(paths=paths, html=html_path, pdf=pdf_path, report=rep)
    if not quiet:
        print(res.summary())
    return res
