"""Messy numbers in published tables, parsed without losing anything.

Official spreadsheets exported to CSV carry numbers such as ``" 365,068 "``,
``"1,599,555"``, ``"447337.0"`` or ``"9.39"``, and markers instead of numbers:
``" -   "`` (nil or not available), ``"N/A"``, ``".."`` (not available),
``"x"``, ``"*"`` and ``"c"`` (suppressed), or an empty cell. :func:`parse_counts`
turns a column of such text into floats plus a *flag* saying why a value is
missing, so a missing value is never confused with zero and never dropped.

Also here: the small helpers the aggregated-table readers share (building
rejects, tallying flags for the ledger, mapping ages to bands, keeping large
long tables categorical until the end).

Flags
-----
``<NA>``
    The value parsed cleanly.
``"-"``, ``"N/A"``, ``".."``
    The source says nil / not available / not applicable.
``"x"``, ``"*"``, ``"c"``, ``"z"``
    Suppressed or not applicable, as marked by the source (see :data:`SUPPRESSED`).
``"blank"``
    An empty cell.
``"negative"``
    A negative number where the reader does not allow one (``negative="flag"``).
``"unparseable"``
    Anything else; the raw text is kept by the reader and counted in
    ``ledger.unknown_by_field``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from .._options import check_option
from ..errors import MappingError
from ..schema import AGE_BANDS

__all__ = [
    "ParsedNumbers",
    "parse_counts",
    "MISSING_FLAGS",
    "SUPPRESSED",
    "flag_counts",
    "reject_frame",
    "age_band_of",
]

#: Flags that the source uses to say a value is absent (not an error).
MISSING_FLAGS: tuple[str, ...] = ("-", "N/A", "..", "x", "*", "c", "z", "blank")
#: Flags meaning "suppressed by the publisher" (disclosure control).
SUPPRESSED: tuple[str, ...] = ("x", "*", "c")

_MARKERS: dict[str, str] = {
    "-": "-",
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "--": "-",
    "n/a": "N/A",
    "na": "N/A",
    "n.a.": "N/A",
    "..": "..",
    "...": "..",
    "\u2026": "..",
    ":": "..",
    "x": "x",
    "[x]": "x",
    "*": "*",
    "c": "c",
    "[c]": "c",
    "z": "z",
    "[z]": "z",
}

_NUMBER = re.compile(
    r"""^(?P<sign>[+\-\u2212])?
        (?P<body>\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)
        (?P<exp>[eE][+\-]?\d{1,3})?
        (?P<pct>\s*%)?$""",
    re.VERBOSE,
)
_PAD = " \t\r\n\u00a0\u2009\u202f\ufeff\"'"


class ParsedNumbers(NamedTuple):
    """What :func:`parse_counts` returns (it unpacks as ``values, flag``).

    Attributes
    ----------
    values
        float64 Series aligned with the input; NaN where nothing could be parsed.
    flag
        string Series: ``<NA>`` for a clean number, otherwise the reason (see module docs).
    """

    values: pd.Series
    flag: pd.Series


def _parse_one(text: str, percent: str, negative: str) -> tuple[float, str | None]:
    s = text.strip(_PAD)
    if s == "":
        return np.nan, "blank"
    marker = _MARKERS.get(s.lower())
    if marker is not None:
        return np.nan, marker
    m = _NUMBER.match(s)
    if m is None:
        return np.nan, "unparseable"
    if m.group("pct") and percent == "reject":
        return np.nan, "unparseable"
    value = float(m.group("body").replace(",", "") + (m.group("exp") or ""))
    if not np.isfinite(value):
        return np.nan, "unparseable"
    if m.group("sign") in ("-", "\u2212"):
        value = -value
        if negative == "flag" and value != 0:
            return np.nan, "negative"
    if m.group("pct"):
        value = value / 100.0
    return value, None


def parse_counts(
    series: pd.Series,
    *,
    percent: Literal["fraction", "reject"] = "fraction",
    negative: Literal["keep", "flag"] = "keep",
) -> ParsedNumbers:
    """Parse a column of published numbers to floats, flagging what is not a number.

    Each distinct text is parsed once, so a million cells cost as much as the
    few thousand distinct values they hold.

    Parameters
    ----------
    series
        Raw text (any dtype; NA is read as a blank cell).
    percent
        ``"fraction"`` reads ``"5%"`` as 0.05; ``"reject"`` flags percentages as
        ``"unparseable"`` (for columns of counts).
    negative
        ``"keep"`` keeps negative numbers (``"-3"``, ``"\u22123"``); ``"flag"``
        turns them into NaN with flag ``"negative"`` (for counts of people).

    Returns
    -------
    ParsedNumbers
        ``values`` (float64) and ``flag`` (string, NA where the value is clean).

    Examples
    --------
    >>> import pandas as pd
    >>> v, f = parse_counts(pd.Series([" 365,068 ", " -   ", "N/A", "9.39", "5%", "abc"]))
    >>> v.tolist()[:1], v.tolist()[3:5]
    ([365068.0], [9.39, 0.05])
    >>> f.tolist()
    [<NA>, '-', 'N/A', <NA>, <NA>, 'unparseable']
    """
    check_option("percent", percent, Literal["fraction", "reject"])
    check_option("negative", negative, Literal["keep", "flag"])
    if not isinstance(series, pd.Series):
        series = pd.Series(series)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        vals = pd.to_numeric(series, errors="coerce").astype("float64")
        flag = pd.Series(pd.NA, index=series.index, dtype="string")
        flag[vals.isna()] = "blank"
        if negative == "flag":
            neg = vals < 0
            vals[neg] = np.nan
            flag[neg] = "negative"
        return ParsedNumbers(vals, flag)
    text = series.astype(object).where(series.notna(), "")
    codes, uniques = pd.factorize(text.astype(str), sort=False)
    parsed = [_parse_one(u, percent, negative) for u in uniques]
    uvals = np.array([p[0] for p in parsed] + [np.nan], dtype="float64")
    uflags = np.array([p[1] for p in parsed] + ["blank"], dtype=object)
    idx = np.where(codes < 0, len(uniques), codes)
    values = pd.Series(uvals[idx], index=series.index, dtype="float64")
    flag = pd.Series(pd.array(list(uflags), dtype="string").take(idx), index=series.index)
    return ParsedNumbers(values, flag)


# --------------------------------------------------------------------------- shared reader helpers


def flag_counts(flag: pd.Series) -> dict[str, int]:
    """Counts of each non-NA flag value, sorted by flag."""
    vc = flag.dropna().value_counts()
    return {str(k): int(v) for k, v in sorted(vc.items())}


def reject_frame(
    file: str,
    lines: Sequence[int] | np.ndarray,
    rows: Sequence[int | None] | np.ndarray | None,
    column: Sequence[str | None] | str | None,
    value: Sequence[object] | None,
    reason: Sequence[str] | str,
    raw: Sequence[str],
) -> pd.DataFrame:
    """A rejects table (the columns of :data:`equity_metrics.ledger.REJECT_COLUMNS`)."""
    n = len(raw)

    def _col(x):
        if x is None or isinstance(x, str):
            return [x] * n
        return list(x)

    return pd.DataFrame(
        {
            "file": [file] * n,
            "line": list(lines),
            "row": _col(rows),
            "column": _col(column),
            "value": _col(value),
            "reason": _col(reason),
            "raw": list(raw),
        }
    )


def bad_records_frame(file: str, bad: list[dict]) -> pd.DataFrame:
    """Rejects for the ragged records :func:`~equity_metrics.io._sources.parse_csv_text` returned."""
    return reject_frame(
        file,
        [b["line"] for b in bad],
        None,
        None,
        None,
        [b["reason"] for b in bad],
        [b["raw"] for b in bad],
    )


def unparsed_text(raw: dict[str, pd.Series], flags: dict[str, pd.Series]) -> np.ndarray:
    """Per row, a JSON object ``{field: raw text}`` of the values flagged ``unparseable``/``negative``.

    None for rows where every value parsed (an object array). This keeps the raw
    text of a value that could not be read beside the NaN that replaced it.
    """
    first = next(iter(flags.values()))
    out = np.full(len(first), None, dtype=object)
    bad_any = np.zeros(len(first), dtype=bool)
    masks = {}
    for name, f in flags.items():
        m = f.isin(["unparseable", "negative"]).to_numpy(dtype=bool)
        masks[name] = m
        bad_any |= m
    if bad_any.any():
        pos = np.flatnonzero(bad_any)
        vals = []
        for i in pos:
            vals.append(json.dumps({k: str(raw[k].iat[i]) for k, m in masks.items() if m[i]}, ensure_ascii=False))
        out[pos] = vals
    return out


def age_band_of(age: pd.Series | Iterable[float], *, bands: Literal["policeuk"] | Mapping[str, tuple[int, int | None]] = "policeuk") -> pd.Categorical:
    """Map ages in years to age bands (police.uk bands by default).

    Parameters
    ----------
    age
        Ages in whole years (NaN for unknown).
    bands
        ``"policeuk"`` (under 10, 10-17, 18-24, 25-34, over 34) or a mapping
        ``label -> (lowest, highest)`` with ``None`` for an open top.

    Returns
    -------
    pandas.Categorical
        Ordered bands; NaN where the age is unknown or outside every band.

    Examples
    --------
    >>> list(age_band_of([3, 17, 18, 34, 35, 100]))
    ['under 10', '10-17', '18-24', '25-34', 'over 34', 'over 34']
    """
    if isinstance(bands, str):
        check_option("bands", bands, Literal["policeuk"])
        bands = dict(zip(AGE_BANDS, [(0, 9), (10, 17), (18, 24), (25, 34), (35, None)]))
    if not isinstance(bands, Mapping) or not bands:
        raise MappingError("bands must be 'policeuk' or a non-empty mapping label -> (lowest age, highest age or None)")
    a = pd.to_numeric(pd.Series(age), errors="coerce").to_numpy(dtype=float)
    out = np.full(len(a), None, dtype=object)
    done = np.zeros(len(a), dtype=bool)
    for label, rng in bands.items():
        try:
            lo, hi = rng
            lo_f, hi_f = float(lo), (np.inf if hi is None else float(hi))
        except (TypeError, ValueError):
            raise MappingError(f"age band {label!r}: expected (lowest, highest or None), got {rng!r}") from None
        hit = (a >= lo_f) & (a <= hi_f) & ~done
        out[hit], done = str(label), done | hit
    return pd.Categorical(out, categories=[str(b) for b in bands], ordered=True)


def as_categorical(s: pd.Series) -> pd.Categorical:
    """``s`` as a Categorical (no copy when it already is one)."""
    return s.array if isinstance(s.dtype, pd.CategoricalDtype) else pd.Categorical(s.astype(object))


def concat_keeping_categories(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, keeping categorical columns categorical (union of categories)."""
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    cols = list(dict.fromkeys(c for p in parts for c in p.columns))
    out = {}
    for c in cols:
        cols_c = [p[c] if c in p else pd.Series(np.nan, index=p.index) for p in parts]
        if any(isinstance(x.dtype, pd.CategoricalDtype) for x in cols_c):
            cats = [as_categorical(x) for x in cols_c]
            cats = [pd.Categorical.from_codes(x.codes, categories=pd.Index([str(v) for v in x.categories], dtype=object)) for x in cats]
            out[c] = pd.api.types.union_categoricals(cats)
        else:
            out[c] = pd.concat(cols_c, ignore_index=True).to_numpy()
    return pd.DataFrame(out)


def to_string(s: pd.Series) -> pd.Series:
    """Categorical (or object) -> string dtype, converting each distinct value once."""
    cat = as_categorical(s)
    cats = pd.array([str(x) for x in cat.categories], dtype="string")
    return pd.Series(cats.take(cat.codes, allow_fill=True), index=s.index)
