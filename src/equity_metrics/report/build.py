"""``build_report``: the command report object (numbers + rendering)."""

from __future__ import annotations

import os
from pathlib import Path

from .config import ReportConfig, load_report_config
from .content import ReportData, assemble

__all__ = ["CommandReport", "build_report"]


class CommandReport:
    """The command report: its numbers (:attr:`data`) and its HTML / PDF renderings.

    Examples
    --------
    >>> from equity_metrics.report import build_report, sample_config  # doctest: +SKIP
    >>> rep = build_report(sample_config())                             # doctest: +SKIP
    >>> rep.to_html("report.html")                                      # doctest: +SKIP
    """

    def __init__(self, data: ReportData, config: ReportConfig) -> None:
        self.data = data
        self.config = config
        self._html: str | None = None
        self._figures = None

    def figures(self):
        """The figures (inline SVG with alt text and captions), made once."""
        if self._figures is None:
            from .figures import make_figures

            self._figures = make_figures(self.data)
        return self._figures

    def html(self) -> str:
        """The whole report as one self-contained HTML document (deterministic)."""
        if self._html is None:
            from .html import render_html

            self._html = render_html(self.data, figures=self.figures())
        return self._html

    def to_html(self, path: str | os.PathLike) -> Path:
        """Write :meth:`html` to ``path`` (UTF-8, LF newlines; through a temporary file renamed into place)."""
        from .._atomic import atomic_write_bytes

        return atomic_write_bytes(path, self.html().encode("utf-8"))

    def pdf(self) -> bytes:
        """The report as PDF bytes (needs WeasyPrint: ``pip install "equity_metrics[pdf]"``)."""
        from .pdf import html_to_pdf

        return html_to_pdf(self.html())

    def to_pdf(self, path: str | os.PathLike) -> Path:
        """Write the PDF to ``path`` (through a temporary file renamed into place)."""
        from .._atomic import atomic_write_bytes

        return atomic_write_bytes(path, self.pdf())

    def summary(self) -> str:
        """Plain-text headline and the list of sections."""
        from .html import SECTIONS
        from .text import benchmark_warning, change_sentence, group_lines, headline_sentence, impact_verdict

        d = self.data
        lines = [d.title, "", headline_sentence(d)]
        lines += [x for x in (d.period_note, benchmark_warning(d)) if x]
        lines += [change_sentence(d)] + [f"  {g}" for g in group_lines(d)]
        imp = d.impact
        if imp.kind == "none":
            lines.append("Training impact: no training dates given.")
        elif imp.error:
            lines.append(f"Training impact: not estimable ({imp.error})")
        else:
            lines += [f"Training impact ({imp.estimator}): " + impact_verdict(r, kind=imp.kind, level=d.level)
                      for r in imp.table.to_dict("records")]
        from .extras_view import extra_sections

        lines += ["", "Sections: " + "; ".join(f"{i}. {t}" for i, (_, t) in enumerate(SECTIONS, 1))]
        opt = extra_sections(d)
        if opt:
            lines.append("Optional sections: " + "; ".join(t for _, t in opt))
        if d.n_suppressed:
            lines.append(f"{d.n_suppressed} table cells hidden by the small-number rule (counts below {d.suppress_below}).")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<CommandReport {self.data.area_name!r}, {self.data.period_label}, impact: {self.data.impact.kind}>"

    def _repr_html_(self) -> str:
        from .html import render_html

        return render_html(self.data, figures=self.figures(), fragment=True)


def build_report(config: ReportConfig | str | os.PathLike) -> CommandReport:
    """Compute the command report's numbers from a config (object or TOML path).

    Parameters
    ----------
    config
        A :class:`ReportConfig` (e.g. :func:`sample_config`) or the path of a TOML config.

    Returns
    -------
    CommandReport
        ``.data``, ``.html()``, ``.to_html(path)``, ``.to_pdf(path)``, ``.summary()``.

    Examples
    --------
    >>> from equity_metrics.report import build_report, sample_config
    >>> rep = build_report(sample_config())
    >>> rep.data.headline_group
    'Black'
    """
    cfg = config if isinstance(config, ReportConfig) else load_report_config(config)
    return CommandReport(assemble(cfg), cfg)
