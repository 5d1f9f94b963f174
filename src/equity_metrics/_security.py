"""Output hardening shared by every writer: spreadsheet formula injection and HTML escaping."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def defuse_cell(value: object) -> object:
    """Return ``value`` made safe for a spreadsheet cell.

    Text that a spreadsheet would read as a formula (starting with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return) is prefixed with a single quote, as
    OWASP recommends. Only text is touched: numbers (Python or numpy ints and
    floats, in numeric columns or in mixed object columns) are left alone, so
    ``-3`` and ``-0.0724`` stay numbers; the text ``"-0.5"`` is text and is
    defused. Writers must therefore keep numbers as numbers, not format them
    into strings, before writing (docs/real-data-rules.md, "CSV export").

    Examples
    --------
    >>> defuse_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> defuse_cell(-3)
    -3
    >>> defuse_cell(-0.0724), defuse_cell("-0.5")
    (-0.0724, "'-0.5")
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def defuse_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells (and column names) cannot become formulas."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s) or isinstance(
            s.dtype, pd.CategoricalDtype
        ):
            out[col] = s.astype(object).map(defuse_cell)
    out.columns = [defuse_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def safe_to_csv(df: pd.DataFrame, path: str | Path, **kwargs) -> Path:
    """Write ``df`` to CSV with every text cell defused against formula injection."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("index", False)
    defuse_frame(df).to_csv(path, **kwargs)
    return path


def escape_html(value: object) -> str:
    """Escape data-derived text for HTML (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)
