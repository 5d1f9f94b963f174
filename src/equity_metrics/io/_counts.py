"""Aggregated event counts: the result of :func:`~equity_metrics.io.large.count_policeuk`.

An :class:`EventCounts` holds a small table (the ``by`` columns and ``n``, the number
of events in each cell), the reader's :class:`~equity_metrics.ledger.Ledger` and
:class:`~equity_metrics.ledger.Rejects`, exactly as a reader's
:class:`~equity_metrics.ledger.ReadResult` would, without the rows themselves.
:func:`~equity_metrics.measures.disparity.disparity` accepts it in place of events.

:func:`counts_from_events` is the reference: a plain pandas group-by of a canonical
events table, put in the same dtypes as the DuckDB engine's result so the two can
be compared with ``pandas.testing.assert_frame_equal``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from .._results import ResultBase
from .._options import check_option
from .._security import escape_html
from ..errors import DataValidationError, EquityMetricsError, OptionError
from ..ethnicity import BROAD_GROUPS, DETAILED_GROUPS
from ..ledger import Ledger, ReadResult, Rejects
from ..schema import AGE_BANDS, SEXES

__all__ = ["EventCounts", "CountBy", "COUNT_BY", "counts_from_events", "check_by"]

#: Columns an :class:`EventCounts` can be broken down by (canonical events columns).
CountBy = Literal[
    "force",
    "month",
    "file_month",
    "ethnicity",
    "ethnicity_detailed",
    "officer_defined_ethnicity",
    "ethnicity_source",
    "sex",
    "age_band",
    "search_type",
    "vehicle_only",
    "legal_power",
    "object_of_search",
    "outcome",
    "arrest",
    "hit",
    "outcome_linked",
    "strip_search",
    "policing_operation",
]
COUNT_BY: tuple[str, ...] = get_args(CountBy)
DEFAULT_BY: tuple[str, ...] = ("force", "month", "ethnicity")

_SEARCH_TYPES = ("Person search", "Person and Vehicle search", "Vehicle search")
_ETH_SOURCES = ("self_defined", "officer_defined", "none")
#: by column -> how its values are typed in the counts table
_KIND: dict[str, Any] = {
    "force": "str",
    "legal_power": "str",
    "object_of_search": "str",
    "outcome": "str",
    "month": "period",
    "file_month": "period",
    "ethnicity": list(BROAD_GROUPS),
    "officer_defined_ethnicity": list(BROAD_GROUPS),
    "ethnicity_detailed": list(DETAILED_GROUPS),
    "ethnicity_source": list(_ETH_SOURCES),
    "sex": list(SEXES),
    "age_band": ("ordered", list(AGE_BANDS)),
    "search_type": list(_SEARCH_TYPES),
    "vehicle_only": "bool",
    "arrest": "bool",
    "hit": "bool",
    "outcome_linked": "bool",
    "strip_search": "bool",
    "policing_operation": "bool",
}


def check_by(by: str | Iterable[str] | None) -> tuple[str, ...]:
    """Validate the ``by`` columns of a count (a name or a list; order kept, no repeats).

    Examples
    --------
    >>> check_by("force")
    ('force',)
    """
    if by is None:
        return ()
    items = [by] if isinstance(by, str) else list(by)
    for b in items:
        check_option("by", b, CountBy)
    if len(set(items)) != len(items):
        raise OptionError(f"by={items!r} names a column twice; give each column once")
    return tuple(items)


def _plain(values: Any) -> list[Any]:
    """Python values with every missing value as None."""
    out = []
    for v in values:
        try:
            na = v is None or bool(pd.isna(v))
        except (TypeError, ValueError):
            na = False
        out.append(None if na else v)
    return out


def _typed(name: str, values: list[Any]) -> Any:
    kind = _KIND[name]
    if kind == "str":
        return pd.array([None if v is None else str(v) for v in values], dtype="str")
    if kind == "period":
        return pd.PeriodIndex([None if v is None else str(v) for v in values], freq="M").array
    if kind == "bool":
        return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
    ordered = isinstance(kind, tuple)
    cats = kind[1] if ordered else kind
    extra = sorted({str(v) for v in values if v is not None} - set(cats))
    if extra:  # a label outside the known set: an internal inconsistency
        raise EquityMetricsError(f"internal error: {name} values {extra[:5]} are not in the expected categories")
    return pd.Categorical([None if v is None else str(v) for v in values], categories=cats, ordered=ordered)


def finish_counts(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Type the ``by`` columns, make ``n`` int64, sort by the ``by`` columns (missing last)."""
    cols = {b: _typed(b, _plain(frame[b])) for b in by}
    cols["n"] = np.asarray(frame["n"], dtype=np.int64) if len(frame) else np.zeros(0, dtype=np.int64)
    out = pd.DataFrame(cols)
    if by and len(out):
        out = out.sort_values(list(by), na_position="last", kind="stable")
    return out.reset_index(drop=True)


def counts_from_events(events: pd.DataFrame | ReadResult, by: Sequence[str]) -> pd.DataFrame:
    """Count a canonical events table (or a reader's result) by ``by`` (the reference for the DuckDB engine).

    Examples
    --------
    >>> import equity_metrics as em
    >>> stops = em.datasets.load_sample_stops()
    >>> c = counts_from_events(stops, ["ethnicity"])
    >>> list(c.columns), int(c["n"].sum()) == len(stops.data)
    (['ethnicity', 'n'], True)
    """
    by = list(check_by(by))
    events = events.data if isinstance(events, ReadResult) else events
    if not by:
        return pd.DataFrame({"n": np.array([len(events)], dtype=np.int64)})
    size = events.groupby(by, observed=True, dropna=False, sort=False).size()
    frame = size.rename("n").reset_index()
    return finish_counts(frame, by)


@dataclass
class EventCounts(ResultBase):
    """Counts of events by some columns, with the ledger and rejects of the read.

    Attributes
    ----------
    data
        The counts: the ``by`` columns and ``n`` (events in the cell), sorted; cells
        with no events have no row.
    ledger
        The :class:`~equity_metrics.ledger.Ledger` of the read (one record per file;
        months covered and missing; duplicates; missing and unknown values).
    rejects
        The :class:`~equity_metrics.ledger.Rejects` (file, line, raw record, reason).
    by
        The columns counted by.
    engine
        The engine that counted: ``"duckdb"``, ``"polars"``, ``"spark"`` or ``"pandas"``.
    vehicle_only_rows
        Vehicle-only searches among the events counted (whatever ``by`` is), so that
        :func:`~equity_metrics.measures.disparity.disparity` can tell whether counts
        without a ``vehicle_only`` column include any.

    Examples
    --------
    >>> import equity_metrics as em
    >>> from equity_metrics.io.large import count_policeuk
    >>> c = count_policeuk(em.datasets.sample_path() / "policeuk", engine="pandas")
    >>> int(c.data["n"].sum()) == c.ledger.rows_kept
    True
    """

    data: pd.DataFrame
    ledger: Ledger
    rejects: Rejects
    by: tuple[str, ...]
    engine: str
    vehicle_only_rows: int = 0

    def __post_init__(self) -> None:
        self.ledger.check()  # rows read == kept + rejected, per file and in total
        total = int(self.data["n"].sum()) if len(self.data) else 0
        if total != self.ledger.rows_kept:
            raise EquityMetricsError(
                f"internal error: the counts add up to {total:,} but the ledger kept {self.ledger.rows_kept:,} rows; "
                "please report this with the input files"
            )

    def __len__(self) -> int:
        return len(self.data)

    @property
    def total(self) -> int:
        """Events counted (== ``ledger.rows_kept``)."""
        return int(self.data["n"].sum()) if len(self.data) else 0

    def tidy(self) -> pd.DataFrame:
        """The counts table (``by`` columns then ``n``), a copy."""
        return self.data.copy()

    def to_events(self, *, exclude_vehicle_only: bool = False) -> ReadResult:
        """One row per event (each cell's ``by`` values repeated ``n`` times), with the ledger and rejects.

        For measures that work on rows (:func:`~equity_metrics.outcome_test`,
        :func:`~equity_metrics.trend` counts, :func:`~equity_metrics.build_panel`):
        only the ``by`` columns (and ``event_type="search"``) are there, so they give
        exactly what they give on the reader's events for those columns.

        Parameters
        ----------
        exclude_vehicle_only
            The caller leaves vehicle-only searches out: refuse counts that include some
            but have no ``vehicle_only`` column (count with ``"vehicle_only"`` in ``by``).

        Examples
        --------
        >>> import equity_metrics as em
        >>> c = em.count_policeuk(em.datasets.sample_path() / "policeuk", by=["force", "ethnicity"], engine="polars")
        >>> ev = c.to_events()
        >>> len(ev.data) == c.total, list(ev.data.columns)
        (True, ['force', 'ethnicity', 'event_type'])
        """
        if exclude_vehicle_only and "vehicle_only" not in self.by and self.vehicle_only_rows:
            raise DataValidationError(
                f"these counts include {self.vehicle_only_rows:,} vehicle-only searches but have no vehicle_only column, so "
                "they cannot be left out; count with 'vehicle_only' in by=, or pass exclude_vehicle_only=False"
            )
        idx = np.repeat(np.arange(len(self.data)), self.data["n"].to_numpy(dtype=np.int64))
        data = self.data.drop(columns="n").iloc[idx].reset_index(drop=True)
        data["event_type"] = pd.array(["search"] * len(data), dtype="str")
        return ReadResult(data, self.ledger, self.rejects, kind="events")


    def write_rejects(self, path: str | Path) -> Path:
        """Write the rejected rows to CSV."""
        return self.rejects.to_csv(path)

    def summary(self) -> str:
        by = " x ".join(self.by) or "(nothing)"
        head = (
            f"Event counts by {by} ({self.engine} engine): {len(self.data):,} cells, {self.total:,} events, "
            f"{len(self.rejects):,} rejected rows"
        )
        return head + "\n" + self.ledger.summary()

    def __repr__(self) -> str:
        return (
            f"<EventCounts by {list(self.by)}: {len(self.data):,} cells, {self.total:,} events kept, "
            f"{self.ledger.rows_rejected:,} rejected ({self.engine})>"
        )

    def _repr_html_(self) -> str:
        by = " x ".join(self.by) or "(nothing)"
        head = (
            f"<p><b>Event counts</b> by {escape_html(by)} ({escape_html(self.engine)}): {len(self.data):,} cells, "
            f"{self.total:,} events, {len(self.rejects):,} rejected rows</p>"
        )
        return head + self.data.head(20).to_html(index=False, escape=True) + self.ledger._repr_html_()
