"""``run_report``: build the command report and write it with its tables and manifest."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .._manifest import write_manifest
from .._options import check_option
from .._security import safe_to_csv
from .build import build_report
from .config import Format, ReportConfig, load_report_config

__all__ = ["ReportOutputs", "run_report"]


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


def run_report(
    config: ReportConfig | str | os.PathLike,
    out: str | os.PathLike | None = None,
    formats: Sequence[str] | None = ("html",),
    quiet: bool = True,
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
    folder = Path(out) if out is not None else Path(cfg.output)
    folder.mkdir(parents=True, exist_ok=True)
    rep = build_report(cfg)
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
        written.append(safe_to_csv(t, folder / f"{name}.csv", lineterminator="\n"))
    man = write_manifest(folder, command="report", inputs=rep.data.provenance["inputs"], outputs=written,
                         parameters=dict(rep.data.provenance["parameters"], formats=list(fm)))
    paths = sorted(written + [man])
    res = ReportOutputs(paths=paths, html=html_path, pdf=pdf_path, report=rep)
    if not quiet:
        print(res.summary())
    return res
