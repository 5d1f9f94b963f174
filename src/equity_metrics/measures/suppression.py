"""Small-number disclosure control for published tables of counts.

:func:`suppress` hides small cells of a two-way table (e.g. stops by area and
ethnic group) and adds complementary ("secondary") suppressions so that no
hidden cell can be worked out exactly from the published totals;
:func:`flag_small_counts` marks counts too small for a (reliable) rate.

Default thresholds
    ``DISCLOSURE_THRESHOLD = 10``: counts 1 to 9 are suppressed, the "rule of
    thumb" threshold ONS uses when checking outputs for disclosure (ONS
    statistical disclosure control principles for research outputs, e.g. the
    ONS Longitudinal Study and Secure Research Service).  ONS's policy for
    birth and death tables treats counts of 1-2 (for small areas or
    sensitive data also 3-4) as potentially unsafe.  Set what the data owner
    requires.  Zeros are published by default, as ONS practice targets counts
    from 1 up to the threshold; ``suppress_zeros=True`` masks them too.
    ``RATE_SUPPRESS_BELOW = 3`` and ``RATE_UNRELIABLE_BELOW = 20``: ONS does
    not calculate crude rates from fewer than 3 deaths (age-standardised
    rates: fewer than 10) and marks rates from fewer than 20 deaths "u", low
    reliability (ONS *User guide to mortality statistics*, section 15, as
    quoted in ONS FOI response FOI/2021/3301).

Protection
    A hidden cell is protected when, over all non-negative tables agreeing
    with every published cell and total, its smallest and largest possible
    values differ.  Secondary suppression makes every row and column with a
    hidden cell hide at least two, then breaks exact linear recovery through
    "bridge" cells (a hidden cell joining otherwise separate groups of hidden
    cells), then, where hidden zeros let non-negativity pin cells down,
    checks them by linear programming as an attacker would and adds
    complements until none is pinned.  Complements are never zeros, so with
    zeros published a reader knows every hidden cell is at least 1.
    ``protection="interval"`` then asks more: every hidden cell's integer
    feasibility interval ``[L, U]`` must have ``L >= threshold`` or both
    ``U >= threshold`` and ``U - L >= threshold - 1`` (the minimum protection
    interval of :mod:`._linked_suppression`, also used across the command
    report's tables; docs/real-data-rules.md, "Small-number suppression").
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from .._options import check_option
from ..errors import DataValidationError
from ._secondary_suppression import (  # noqa: F401  (re-exported: the names this module always offered)
    _MAX_ROUNDS,
    _adjacency,
    _bridges,
    _can_move,
    _components,
    _fix_bridge,
    _fix_degrees,
    _fix_pinned,
    _line_system,
    _lines,
    _pick,
    _pinned,
    _protect,
    _reach,
    _tolerance,
)

from ._linked_suppression import LinkedCells, LinkedResult, audit_linked, protect_linked  # noqa: E402

__all__ = [
    "LinkedCells",
    "LinkedResult",
    "audit_linked",
    "protect_linked",
    "DISCLOSURE_THRESHOLD",
    "RATE_SUPPRESS_BELOW",
    "RATE_UNRELIABLE_BELOW",
    "Margins",
    "SuppressionResult",
    "suppress",
    "feasible_intervals",
    "flag_small_counts",
]

#: Counts from 1 to ``DISCLOSURE_THRESHOLD - 1`` are suppressed (ONS output
#: checking rule of thumb; see the module docstring).
DISCLOSURE_THRESHOLD = 10
#: ONS does not calculate crude rates from fewer than 3 events (User guide
#: to mortality statistics, s.15).
RATE_SUPPRESS_BELOW = 3
#: ONS marks rates based on fewer than 20 events as low reliability ("u")
#: (User guide to mortality statistics, s.15).
RATE_UNRELIABLE_BELOW = 20

Margins = Literal["both", "rows", "columns", "none"]
Protection = Literal["exact", "interval"]


@dataclass(frozen=True)
class SuppressionResult:
    """Outcome of :func:`suppress`.

    Attributes
    ----------
    table
        The table to publish: suppressed cells are ``pd.NA`` (value columns
        become nullable ``Int64`` or ``Float64``); other columns unchanged.
    mask, primary, secondary
        Boolean frames over the value cells: suppressed; suppressed for being
        small; suppressed only to protect others.
    threshold, margins
        The threshold used and which totals are taken to be published.
    unprotected
        ``(row, column)`` labels of hidden cells still exactly recoverable
        (empty unless a warning was issued).
    """

    table: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame
    secondary: pd.DataFrame
    threshold: float
    margins: str
    unprotected: tuple[tuple[Hashable, Hashable], ...] = ()

    @property
    def n_primary(self) -> int:
        """Number of primary suppressions."""
        return int(self.primary.to_numpy().sum())

    @property
    def n_secondary(self) -> int:
        """Number of secondary (complementary) suppressions."""
        return int(self.secondary.to_numpy().sum())

    def cells(self) -> pd.DataFrame:
        """Long table of suppressed cells: ``row``, ``column``, ``kind``.

        Examples
        --------
        >>> t = pd.DataFrame({"A": [3, 40, 50], "B": [30, 40, 50]}, index=["x", "y", "z"])
        >>> suppress(t).cells()
          row column       kind
        0   x      A    primary
        1   y      A  secondary
        2   x      B  secondary
        3   y      B  secondary
        """
        rows = []
        for col in self.mask.columns:
            for idx in self.mask.index[self.mask[col].to_numpy()]:
                kind = "primary" if bool(self.primary.at[idx, col]) else "secondary"
                rows.append({"row": idx, "column": col, "kind": kind})
        return pd.DataFrame(rows, columns=["row", "column", "kind"])

    def __str__(self) -> str:
        head = (
            f"Suppression (threshold {self.threshold:g}, margins {self.margins!r}): "
            f"{self.n_primary} primary, {self.n_secondary} secondary"
        )
        if self.unprotected:
            head += f"; {len(self.unprotected)} cell(s) NOT protected: {list(self.unprotected)}"
        return head + "\n" + self.table.to_string()


def _value_columns(table: pd.DataFrame, value_cols: Sequence[Hashable] | None, total_col: Any) -> list:
    if value_cols is None:
        cols = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and c != total_col]
        cols = [c for c in cols if not pd.api.types.is_bool_dtype(table[c])]
        if not cols:
            raise DataValidationError("suppress found no numeric count columns; pass value_cols=[...] naming them.")
        return cols
    missing = [c for c in value_cols if c not in table.columns]
    if missing:
        raise DataValidationError(f"value_cols not in the table: {missing}. Columns present: {list(table.columns)[:30]}")
    return list(value_cols)


def suppress(
    table: pd.DataFrame,
    *,
    threshold: float = DISCLOSURE_THRESHOLD,
    value_cols: Sequence[Hashable] | None = None,
    secondary: bool = True,
    suppress_zeros: bool = False,
    margins: Margins = "both",
    total_col: Hashable | None = None,
    total_row: Hashable | None = None,
    add_totals: bool = False,
    audit: bool = True,
    protection: Protection = "exact",
) -> SuppressionResult:
    """Suppress small cells of a two-way table of counts, with complementary suppression.

    Parameters
    ----------
    table
        One row per category of one variable (e.g. area) and one count
        column per category of the other (e.g. ethnic group).  Other columns
        (labels) are passed through.
    threshold
        Cells with ``0 < count < threshold`` are primary suppressions
        (``0 <= count`` with ``suppress_zeros=True``).
    value_cols
        The count columns (default: every numeric column except ``total_col``).
    secondary
        Add complementary suppressions so that no suppressed cell can be
        derived exactly from the published totals.
    suppress_zeros
        Treat zero counts as small too.
    margins
        Which totals are published, and so must not give cells away:
        ``"both"`` (row and column totals), ``"rows"``, ``"columns"`` or
        ``"none"``.
    total_col, total_row
        Name of an existing row-total column / index label of an existing
        total row; they are left out of the cells and published unchanged.
    add_totals
        Append a ``"Total"`` column and row (as allowed by ``margins``),
        computed from the unsuppressed counts.
    audit
        Check groups of linked suppressed cells that contain a zero with a
        linear programme, and add complements until none can be pinned down
        (only zeros let non-negativity pin a cell; without zeros the
        structural checks are exact).  With ``audit=False`` the check is
        still run once at the end to report ``unprotected``.
    protection
        ``"exact"``: no hidden cell can be derived exactly.  ``"interval"``:
        further complements until every hidden cell passes the minimum
        protection interval (module docstring), audited by integer programming
        with hidden cells known to be at least 1 when zeros are published.

    Returns
    -------
    SuppressionResult

    Warns
    -----
    UserWarning
        If some suppressed cell cannot be protected (e.g. a line with only
        one cell, whose total is the cell itself).

    Examples
    --------
    >>> t = pd.DataFrame({"White": [120, 45, 3], "Black": [14, 2, 30], "Asian": [22, 17, 25]},
    ...                  index=["North", "South", "East"])
    >>> res = suppress(t, threshold=5)
    >>> res.table
           White  Black  Asian
    North    120     14     22
    South   <NA>   <NA>     17
    East    <NA>   <NA>     25
    >>> res.n_primary, res.n_secondary
    (2, 2)
    """
    margins = check_option("margins", margins, Margins)
    protection = check_option("protection", protection, Protection)
    if not isinstance(table, pd.DataFrame):
        raise DataValidationError(f"suppress needs a pandas DataFrame, got {type(table).__name__}.")
    thr = float(threshold) if isinstance(threshold, (int, float, np.number)) else np.nan
    if not np.isfinite(thr) or thr < 0:
        raise DataValidationError(f"threshold must be a non-negative number, got {threshold!r}.")
    for name, label, where in (("total_col", total_col, table.columns), ("total_row", total_row, table.index)):
        if label is not None and label not in where:
            raise DataValidationError(f"{name} {label!r} is not in the table ({name[6:]}s: {list(where)[:20]}).")
    if add_totals and (total_col is not None or total_row is not None):
        raise DataValidationError("add_totals=True cannot be combined with an existing total_col/total_row.")
    if not table.index.is_unique or not table.columns.is_unique:
        raise DataValidationError("suppress needs unique row labels and column names.")

    cols = _value_columns(table, value_cols, total_col)
    body_rows = [r for r in table.index if r != total_row] if total_row is not None else list(table.index)
    block = table.loc[body_rows, cols]
    try:
        x = block.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataValidationError(f"value columns {cols} must hold numbers.") from None
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        raise DataValidationError(
            f"counts must be finite and non-negative; row {body_rows[i]!r}, column {cols[j]!r} "
            f"is {x[i, j]!r}. Fill or drop missing counts before suppressing."
        )

    small = x < thr
    primary = small & ((x > 0) | suppress_zeros)
    rows_c, cols_c = _lines(margins)
    # a published total of a line with a single cell is that cell: nothing can protect it
    degenerate = (rows_c and x.shape[1] == 1) or (cols_c and x.shape[0] == 1)
    if secondary and margins != "none" and not degenerate:
        mask, pinned = _protect(x, primary, margins, audit)
    else:
        mask = primary.copy()
        pinned = _pinned(x, mask, rows_c, cols_c, _tolerance(x))
    if protection == "interval" and secondary and margins != "none" and thr > 1:
        mask, pinned = _interval_protect(x, mask, primary, rows_c, cols_c, int(np.ceil(thr)), suppress_zeros)
    unprotected = tuple((body_rows[i], cols[j]) for i, j in pinned)
    if unprotected:
        warnings.warn(
            f"{len(unprotected)} suppressed cell(s) can still be derived exactly from the published "
            f"totals: {list(unprotected)[:5]}. Combine small categories, suppress the totals, or "
            "publish fewer margins (margins=...).",
            UserWarning,
            stacklevel=2,
        )

    dtype = "Int64" if bool(np.all(x == np.round(x))) else "Float64"
    out = table.copy()
    for j, c in enumerate(cols):
        col, vals = out[c].astype(dtype), pd.Series(x[:, j], index=body_rows).astype(dtype)
        vals[mask[:, j]] = pd.NA
        col.loc[body_rows] = vals
        out[c] = col
    if add_totals and rows_c:
        out["Total"] = pd.Series(x.sum(axis=1), index=body_rows).astype(dtype)
    if add_totals and cols_c:
        tot = {c: x[:, j].sum() for j, c in enumerate(cols)} | ({"Total": x.sum()} if rows_c else {})
        out = pd.concat([out, pd.DataFrame([tot], index=["Total"]).astype(dtype)])

    def frame(m: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(m, index=body_rows, columns=cols)

    return SuppressionResult(out, frame(mask), frame(primary), frame(mask & ~primary), thr, margins, unprotected)


def _interval_protect(x: np.ndarray, mask: np.ndarray, primary: np.ndarray, rows: bool, cols: bool, n: int,
                      zeros_hidden: bool) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Add complements until every hidden cell passes the minimum protection interval (integer audit)."""
    from ._linked_suppression import LinkedCells, protect_linked

    lc = LinkedCells()
    r, c = x.shape
    low = 0 if zeros_hidden else 1
    for i in range(r):
        for j in range(c):
            lc.cell((i, j), x[i, j], hidden=bool(mask[i, j]), primary=bool(primary[i, j]), lower=low,
                    cost=1.0 if x[i, j] > 0 else np.inf)
    if rows:
        for i in range(r):
            lc.equal([(i, j) for j in range(c)], (), float(x[i].sum()))
    if cols:
        for j in range(c):
            lc.equal([(i, j) for i in range(r)], (), float(x[:, j].sum()))
    res = protect_linked(lc, threshold=n)
    out = np.zeros_like(mask)
    for k, h in zip(res.keys, res.hidden):
        out[k] = h
    return out, sorted(res.unprotected)


def feasible_intervals(table: pd.DataFrame, result: SuppressionResult) -> pd.DataFrame:
    """Attacker's view: the smallest and largest value each hidden cell could take.

    Solves two linear programmes per hidden cell over all non-negative
    tables agreeing with the published cells and totals (``result.margins``).

    Parameters
    ----------
    table
        The original table given to :func:`suppress`.
    result
        Its :class:`SuppressionResult`.

    Returns
    -------
    pandas.DataFrame
        Columns ``row``, ``column``, ``low``, ``high``, ``width``.

    Examples
    --------
    >>> t = pd.DataFrame({"A": [3, 40], "B": [30, 40]})
    >>> bool(feasible_intervals(t, suppress(t))["width"].min() > 0)
    True
    """
    mask = result.mask
    x = table.loc[mask.index, mask.columns].to_numpy(dtype=float)
    s = mask.to_numpy()
    rows, cols = _lines(result.margins)
    ii, jj = np.nonzero(s)
    lows, highs = np.zeros(ii.size), np.full(ii.size, np.inf)
    if ii.size and (rows or cols):
        A, b = _line_system(x, s, rows, cols)
        for k in range(ii.size):
            obj = np.zeros(ii.size)
            obj[k] = 1.0
            lo = linprog(obj, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
            hi = linprog(-obj, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
            lows[k] = lo.fun if lo.status == 0 else 0.0
            highs[k] = -hi.fun if hi.status == 0 else np.inf
    return pd.DataFrame(
        {"row": mask.index[ii], "column": mask.columns[jj], "low": lows, "high": highs, "width": highs - lows}
    )


def flag_small_counts(
    counts: Any,
    *,
    unreliable_below: float = RATE_UNRELIABLE_BELOW,
    suppress_below: float = RATE_SUPPRESS_BELOW,
) -> pd.DataFrame:
    """Flag counts too small to publish a rate for, or whose rate is unreliable.

    Parameters
    ----------
    counts
        Event counts (scalar, array-like or Series).
    unreliable_below
        Rates from fewer events than this are marked low reliability
        (default 20, the ONS convention).
    suppress_below
        Rates from fewer events than this should not be published
        (default 3, ONS practice for crude rates; use 10 for
        age-standardised rates).

    Returns
    -------
    pandas.DataFrame
        Columns ``count``, ``suppress`` (bool), ``unreliable`` (bool, only
        where not suppressed) and ``flag``: ``"[x]"`` (not calculated),
        ``"[u]"`` (low reliability) or ``""``, following the GSS symbols for
        tables.  A Series input keeps its index.

    Examples
    --------
    >>> flag_small_counts([0, 2, 5, 25])["flag"].tolist()
    ['[x]', '[x]', '[u]', '']
    """
    try:
        lo = float(suppress_below)
        hi = float(unreliable_below)
    except (TypeError, ValueError):
        raise DataValidationError("suppress_below and unreliable_below must be numbers.") from None
    if lo < 0 or hi < 0 or lo > hi:
        raise DataValidationError(
            f"need 0 <= suppress_below <= unreliable_below; got suppress_below={suppress_below!r}, "
            f"unreliable_below={unreliable_below!r}."
        )
    index = counts.index if isinstance(counts, pd.Series) else None
    try:
        arr = np.atleast_1d(np.asarray(counts, dtype=float))
    except (TypeError, ValueError):
        raise DataValidationError("counts must be numeric.") from None
    if arr.ndim != 1:
        raise DataValidationError(f"counts must be 1-D, got shape {arr.shape}.")
    if (arr < 0).any():
        raise DataValidationError("counts must be non-negative.")
    missing = np.isnan(arr)
    sup = ~missing & (arr < lo)
    unrel = ~missing & ~sup & (arr < hi)
    flag = np.where(sup, "[x]", np.where(unrel, "[u]", ""))
    return pd.DataFrame({"count": arr, "suppress": sup, "unreliable": unrel, "flag": flag}, index=index)
