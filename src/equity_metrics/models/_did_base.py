"""Shared display base of the classic difference-in-differences results.

Holds :class:`_Result`, the mixin that gives :class:`~equity_metrics.models.did_classic.DiD2x2Result`,
:class:`~equity_metrics.models.did_classic.TWFEResult` and
:class:`~equity_metrics.models._event_study.EventStudyResult` their ``summary()``,
``__str__`` and (HTML-escaped) ``_repr_html_``, and the table formatter they use.
Private; re-exported from :mod:`equity_metrics.models.did_classic`.
"""

from __future__ import annotations

import pandas as pd

from .._results import ResultBase
from .._security import escape_html


def _fmt(df: pd.DataFrame) -> str:
    return df.to_string(index=False, float_format=lambda v: f"{v:.6g}", na_rep="")


class _Result(ResultBase):
    """Shared display of the classic results."""

    title = ""
    notes: list[str]

    def _lines(self) -> list[str]:  # pragma: no cover - overridden
        return []

    def summary(self) -> str:
        return "\n".join([self.title] + self._lines() + [f"Note: {n}" for n in self.notes])

    def _repr_html_(self) -> str:
        body = "<br>".join(escape_html(s) for s in self._lines())
        notes = "".join(f"<li>{escape_html(n)}</li>" for n in self.notes)
        return f"<p><b>{escape_html(self.title)}</b><br>{body}</p><ul>{notes}</ul>" + self.tidy().to_html(index=False, escape=True)
