"""Write result tables to CSV, Parquet or XLSX, deterministically and safely.

:func:`write_table` is the one writer the command line uses for every table.

* CSV and XLSX are opened by spreadsheet programs, so every text cell (and
  column name) that a spreadsheet would read as a formula (``=``, ``+``, ``-``,
  ``@``, tab, ...) is prefixed with a single quote
  (:func:`equity_metrics._security.defuse_cell`); in XLSX such text is also
  stored as a plain string cell, never as a formula.
* Parquet is not a spreadsheet format: its values are written raw (no quote
  prefix), so a Parquet table round-trips exactly. Defuse the text yourself if
  the file is going to be converted for a spreadsheet.
* Output is reproducible byte for byte: rows and columns are written in the
  order given (sort the table first), and the XLSX workbook's ``created`` and
  ``modified`` properties and the zip entries' dates are fixed constants.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ._options import check_option
from ._security import defuse_cell, defuse_frame, safe_to_csv
from .errors import OptionError

__all__ = ["TableFormat", "TABLE_SUFFIXES", "write_table"]

TableFormat = Literal["csv", "parquet", "xlsx"]

#: File suffix of each format (what :func:`write_table` infers the format from).
TABLE_SUFFIXES: dict[str, str] = {"csv": ".csv", "parquet": ".parquet", "xlsx": ".xlsx"}
_FROM_SUFFIX = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}

#: Constant workbook date (created/modified) and zip entry date of XLSX files.
FIXED_DATETIME = _dt.datetime(2000, 1, 1, 0, 0, 0)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def write_table(df: pd.DataFrame, path: str | Path, *, format: TableFormat | None = None) -> Path:
    """Write a table to CSV, Parquet or XLSX.

    Parameters
    ----------
    df
        The table. Rows and columns are written in the order given; the index
        is not written.
    path
        Output file; its folder is created if needed.
    format
        ``"csv"``, ``"parquet"`` or ``"xlsx"``; default: from the suffix of
        ``path`` (``.csv``, ``.parquet``/``.pq``, ``.xlsx``).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OptionError
        Unknown ``format``, or no format given and an unknown suffix.

    Notes
    -----
    CSV and XLSX text cells are defused against spreadsheet formula injection
    (a leading ``'`` before ``=``, ``+``, ``-``, ``@``, ...); Parquet keeps the
    values raw because it is not opened by spreadsheets. In Parquet, object
    columns mixing Python types (e.g. ``"overall"`` and integers) are written as
    text. XLSX: missing values are empty cells, infinities the text ``inf`` /
    ``-inf``, periods and time-zone-aware dates ISO text; the workbook has one
    sheet, ``table``, and fixed dates so that two writes give identical bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = write_table(pd.DataFrame({"area": ["=1+1", "north"], "n": [3, 4]}), d / "t.csv")
    >>> p.read_text().splitlines()
    ['area,n', "'=1+1,3", 'north,4']
    """
    path = Path(path)
    if format is None:
        fmt = _FROM_SUFFIX.get(path.suffix.lower())
        if fmt is None:
            raise OptionError(
                f"cannot tell the table format from the file name {path.name!r}; use a .csv, .parquet or .xlsx "
                "suffix or pass format='csv' / 'parquet' / 'xlsx'."
            )
    else:
        fmt = check_option("format", format, TableFormat)
    if not isinstance(df, pd.DataFrame):
        raise OptionError(f"write_table needs a pandas DataFrame, got {type(df).__name__}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return safe_to_csv(df, path, index=False, lineterminator="\n")
    if fmt == "parquet":
        with open(path, "wb") as fh:  # a file object: Arrow cannot open a path that is not valid UTF-8
            _for_parquet(df).to_parquet(fh, index=False)
        return path
    path.write_bytes(_xlsx_bytes(df))
    return path


# ----------------------------------------------------------------------------- parquet
def _for_parquet(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns mixing Python types become text (Arrow needs one type per column)."""
    out = df.copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        s = out[c]
        if s.dtype == object:
            kinds = {type(v) for v in s.dropna()}
            if len(kinds) > 1:
                out[c] = s.map(lambda v: v if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)).astype("str")
    return out


# ----------------------------------------------------------------------------- xlsx
def _xlsx_value(v: object) -> object:
    """A value openpyxl can store, never a formula."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return None
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if isinstance(v, pd.Timestamp):
        return v.isoformat() if v.tzinfo is not None else v.to_pydatetime()
    if isinstance(v, _dt.datetime):
        return v.isoformat() if v.tzinfo is not None else v
    if isinstance(v, _dt.date):
        return v
    if isinstance(v, pd.Period):
        return str(v)
    if isinstance(v, str):
        return defuse_cell(v)
    return defuse_cell(str(v))


def _xlsx_bytes(df: pd.DataFrame) -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    safe = defuse_frame(df)
    wb = Workbook()
    ws = wb.active
    ws.title = "table"
    header = [_xlsx_value(c if isinstance(c, str) else str(c)) for c in safe.columns]
    rows = [header] + [[_xlsx_value(v) for v in row] for row in safe.itertuples(index=False, name=None)]
    for r, values in enumerate(rows, start=1):
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # text is text: never let openpyxl store it as a formula
    wb.properties.created = FIXED_DATETIME
    wb.properties.modified = FIXED_DATETIME
    wb.properties.creator = "equity_metrics"
    raw = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook would stamp 'modified' with the current time
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    return _fix_zip_dates(raw.getvalue())


def _fix_zip_dates(data: bytes) -> bytes:
    """Rewrite a zip with constant entry dates and permissions (entries keep their order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()
