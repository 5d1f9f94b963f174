"""The command report: a plain-language HTML (and PDF) report a command team can read in ten minutes.

Layers: :mod:`.config` (TOML -> :class:`ReportConfig`), :mod:`.content` and :mod:`.impact`
(every statistic, by calling the library's measures and models, with small-number
suppression applied), :mod:`.figures` (inline SVG), :mod:`.tables` and :mod:`.html`
(formatting only), :mod:`.pdf` (WeasyPrint) and :mod:`.run` (files on disk).

Examples
--------
>>> from equity_metrics.report import sample_config, build_report   # doctest: +SKIP
>>> rep = build_report(sample_config())                               # doctest: +SKIP
>>> print(rep.summary())                                              # doctest: +SKIP
"""

from .build import CommandReport, build_report
from .config import ReportConfig, load_report_config, report_config, sample_config
from .content import ReportData
from .run import ReportOutputs, run_report

__all__ = [
    "ReportConfig",
    "load_report_config",
    "report_config",
    "sample_config",
    "build_report",
    "run_report",
    "CommandReport",
    "ReportData",
    "ReportOutputs",
]
