"""One small shared protocol for results classes (as linearmodels does).

Every public results class derives from :class:`ResultBase`. A subclass provides
``summary()`` (text) and ``tidy()`` (a DataFrame); the base gives it:

* ``str(result)``: the summary;
* ``result._repr_html_()``: an escaped ``<pre>`` of the summary plus the tidy
  table (only where the class defines no richer display of its own);
* ``result.to_csv(path)`` / ``result.to_excel(path)``: the tidy table written with
  the same spreadsheet formula defusing as the command line (text cells starting
  with ``=``, ``+``, ``-``, ``@``, ... get a leading ``'``; numbers stay numbers).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ResultBase"]


class ResultBase:
    """Mixin: ``__str__``, a default ``_repr_html_``, ``to_csv`` and ``to_excel`` from ``summary``/``tidy``."""

    __slots__ = ()

    def summary(self):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        from ._security import escape_html

        html = f"<pre>{escape_html(str(self))}</pre>"
        tidy = getattr(self, "tidy", None)
        if callable(tidy):
            html += tidy().to_html(index=False, escape=True)
        return html

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`tidy` to CSV (text cells defused against spreadsheet formulas)."""
        from ._security import safe_to_csv

        return safe_to_csv(self.tidy(), path)

    def to_excel(self, path: str | Path) -> Path:
        """Write :meth:`tidy` to an XLSX workbook (one sheet, ``table``), defused as the CLI does."""
        from .export import write_table

        return write_table(self.tidy(), path, format="xlsx")
