"""police.uk text columns, already coded, to canonical columns: the conversion both police.uk readers share.

The input is columnar: every text column as integer *codes* into its list of distinct
raw values (as the CSV engine in :mod:`._policeuk_scan` or ``pandas.factorize``
produce them), plus the ``Date`` text and its parsed UTC instants. Everything is
decided once per distinct value (a few dozen labels per column) and spread to the
rows with one ``numpy`` take; nothing loops over rows except the few rows that hold
a value that could not be understood (their raw text goes to ``raw_unparsed``).

What it does: UTC to Europe/London, local month and ``time_known``; fixed
categories (search type, sex, age band), free-text categories, booleans,
coordinates; ethnicity harmonisation with the recorded field choice and fallback;
the one definition of a find (:func:`equity_metrics.outcome_codes.derive_find`,
applied to the distinct outcome x linked pairs); exact duplicates within a file
(kept and flagged); the ledger's missing/unknown counts.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..ethnicity import BROAD_GROUPS, DETAILED_GROUPS, NOT_STATED, harmonise_ethnicity
from ..outcome_codes import ARREST_OUTCOMES, derive_find
from ..schema import AGE_BANDS, EVENT_TYPES, SEXES

TIMEZONE = "Europe/London"
NAT = np.iinfo(np.int64).min
_DAY_NS = 86_400_000_000_000
_SEARCH_TYPES = {s.lower(): s for s in ("Person search", "Person and Vehicle search", "Vehicle search")}
_SEX = {"male": "Male", "female": "Female", "other": "Other", "not stated": "Not stated", "": "Not stated"}
# police.uk writes True/False; files rewritten by pandas or spreadsheets hold 1.0/0.0, 1/0 or yes/no
_BOOL = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False, "yes": True, "no": False}
_DATE_MIN, _DATE_MAX = pd.Timestamp("1900-01-01", tz="UTC"), pd.Timestamp("2101-01-01", tz="UTC")


@dataclass
class Coded:
    """One text column as codes into its distinct raw values (``raws[codes[i]]`` is row i's text)."""

    codes: np.ndarray  # int32 (or any integer) per row
    raws: list[str]

    @property
    def stripped(self) -> list[str]:
        return [s.strip() for s in self.raws]


@dataclass
class Converted:
    columns: dict[str, Any]  # canonical columns of the kept rows
    keep: np.ndarray  # bool over input rows
    reason: np.ndarray  # reject reason of each input row (None if kept)
    missing: dict[str, int]
    unknown: dict[str, int]
    fallback_used: int


def parse_dates(stripped: list[str]) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """UTC date-times of distinct Date strings, and a reject reason per value (None if fine)."""
    try:
        parsed = pd.to_datetime(pd.Index(stripped, dtype=object), format="ISO8601", utc=True, errors="coerce")
        parsed = pd.DatetimeIndex(parsed)
    except (ValueError, TypeError, OverflowError):  # one odd value spoils the batch: parse one by one
        parsed = pd.DatetimeIndex([_parse_one(v) for v in stripped], dtype="datetime64[us, UTC]")
    bad = np.asarray(parsed.isna())
    reason = np.where(bad, "unparseable Date", None).astype(object)
    out_of_range = ~bad & ~np.asarray((parsed >= _DATE_MIN) & (parsed < _DATE_MAX))
    reason[out_of_range] = "Date out of range (before 1900 or after 2100)"
    return parsed.where(~out_of_range).as_unit("ns"), reason


def _parse_one(value: str) -> pd.Timestamp:
    try:
        t = pd.to_datetime(value, format="ISO8601", utc=True)
        return t if isinstance(t, pd.Timestamp) else pd.NaT
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def resolve_dates(utc_ns: np.ndarray, raw_text: Any) -> np.ndarray:
    """Fill, in place, the rows of ``utc_ns`` still at :data:`NAT` by parsing their text (once per value).

    ``raw_text(rows)`` returns the raw ``Date`` text of those rows. Returns the reject
    reason of every row (None where the date is usable).
    """
    reason = np.full(len(utc_ns), None, dtype=object)
    todo = np.flatnonzero(utc_ns == NAT)
    if len(todo):
        codes, uniq = pd.factorize(pd.Series(raw_text(todo), dtype=object).fillna(""), use_na_sentinel=False)
        parsed, why = parse_dates([str(u).strip() for u in uniq])
        vals = np.asarray(parsed.asi8, dtype=np.int64).copy()
        vals[np.asarray(parsed.isna())] = NAT
        utc_ns[todo] = vals[codes]
        reason[todo] = why[codes]
    return reason


def _cat(codes: np.ndarray, labels: list[Any], categories: Iterable[str] | None = None, ordered: bool = False) -> Any:
    """Categorical from per-distinct-value labels (None = NA); categories sorted unless given."""
    cats = list(categories) if categories is not None else sorted({v for v in labels if v is not None})
    pos = {c: i for i, c in enumerate(cats)}
    ucode = np.array([pos.get(v, -1) for v in labels] + [-1], dtype=np.int32)
    return pd.Categorical.from_codes(ucode[codes], categories=cats, ordered=ordered)


def str_take(codes: np.ndarray, labels: list[str | None]) -> pd.api.extensions.ExtensionArray:
    """A "string" array from per-distinct-value labels (None = NA) and row codes, built in Arrow."""
    lab = pa.array(list(labels) + [None], type=pa.string())
    idx = pa.array(np.asarray(codes, dtype=np.int32), type=pa.int32())
    return pd.arrays.ArrowStringArray(pa.DictionaryArray.from_arrays(idx, lab).dictionary_decode())


def _bool(codes: np.ndarray, labels: list[bool | None]) -> pd.arrays.BooleanArray:
    vals = np.array([bool(v) for v in labels] + [False], dtype=bool)
    na = np.array([v is None for v in labels] + [True], dtype=bool)
    return pd.arrays.BooleanArray(vals[codes], na[codes])


def to_float(stripped: list[str], lim: float) -> np.ndarray:
    vals = pd.to_numeric(pd.Series(stripped, dtype=object), errors="coerce")
    vals = vals.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    with np.errstate(invalid="ignore"):
        vals[~(np.abs(vals) <= lim)] = np.nan
    return vals


_PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"


def coords_from_text(text: Any, lim: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates from raw text (an Arrow string array): values, empty, present-but-not-understood.

    Plain decimals (``-1.5``, ``53.80``: nearly every value) are read in bulk by Polars;
    any other text, once per distinct value, exactly as :func:`to_float` reads it
    (stripped, ``pandas.to_numeric``); values beyond +-``lim`` are not understood.
    """
    import polars as pl

    s = _series(pl, text)
    plain = s.str.contains(_PLAIN_NUMBER).fill_null(False).to_numpy()
    vals = s.cast(pl.Float64, strict=False).to_numpy().astype(np.float64, copy=True)
    vals[~plain] = np.nan
    empty = np.zeros(len(s), dtype=bool)
    odd = np.flatnonzero(~plain)
    if len(odd):  # blanks, spaces, signs, exponents, words: once per distinct text
        codes, uniq = pd.factorize(pd.Series(s.gather(odd).fill_null("").to_list(), dtype=object))
        stripped = [str(u).strip() for u in uniq]
        vals[odd] = to_float(stripped, lim)[codes] if len(stripped) else np.nan
        empty[odd] = np.array([u == "" for u in stripped], dtype=bool)[codes]
    with np.errstate(invalid="ignore"):
        vals[~(np.abs(vals) <= lim)] = np.nan
    bad = ~empty & np.isnan(vals)
    return vals, empty, bad


def duplicated(keys: list[tuple[np.ndarray, int]], texts: list[Any] | None = None) -> np.ndarray:
    """2nd+ occurrences of the same combination of codes (each given with its cardinality) and ``texts``.

    ``texts``: raw columns given as row-aligned Arrow text. Rows are grouped by a
    64-bit mix of their codes and texts and every repeat is verified against its first
    occurrence (:func:`_exact_among`): the same answer as comparing whole rows, without
    building them.
    """
    import polars as pl

    packed, combined, card = [], np.zeros(len(keys[0][0]), dtype=np.int64), 1
    for codes, k in keys:  # pack codes into as few int64 as fit
        k = max(int(k), 1)
        if card * k >= 2**62:
            packed.append(combined)
            combined, card = np.zeros(len(codes), dtype=np.int64), 1
        combined = combined * k + np.asarray(codes, dtype=np.int64)
        card *= k
    packed.append(combined)
    del combined
    return _exact_among(pl, packed, list(texts or []))


def _exact_among(pl: Any, packed: list[np.ndarray], texts: list[Any]) -> np.ndarray:
    """2nd+ occurrences among candidate rows: grouped by a 64-bit mix of codes and texts, then verified exactly.

    Every row said to repeat an earlier one is compared with it, codes and texts: if
    any pair differs (a collision of the mix), the rows are compared the slow way.
    """

    hashes = (_series(pl, t).hash(seed=0).to_numpy().view(np.int64) for t in texts)  # one at a time
    codes, uniq = pd.factorize(_mix(itertools.chain(packed, hashes)))
    first_of = np.empty(len(uniq), dtype=np.int64)
    first_of[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # reversed: the first occurrence is written last
    first = first_of[codes]
    rows = np.flatnonzero(first != np.arange(len(codes)))
    same = all(bool((k[rows] == k[first[rows]]).all()) for k in packed)
    if same and len(rows):  # Polars gathers (an Arrow take over many chunks is ten times slower)
        a, b = rows, first[rows]
        same = all(t.null_count == 0 and _equal_at(_series(pl, t), a, b) for t in texts)
    if same:
        out = np.zeros(len(codes), dtype=bool)
        out[rows] = True
        return out
    frame = pl.DataFrame({f"k{i}": k for i, k in enumerate(packed)})
    for i, t in enumerate(texts):
        frame = frame.with_columns(pl.Series(f"t{i}", t))
    return (~frame.select(pl.struct(pl.all()).is_first_distinct()).to_series()).to_numpy()


def _series(pl: Any, text: Any) -> Any:
    """A Polars Series of Arrow text, its chunks kept (joining them would copy the column)."""
    return pl.from_arrow(text, rechunk=False)


def _equal_at(s: Any, a: np.ndarray, b: np.ndarray, step: int = 1 << 20) -> bool:
    """Whether ``s[a[i]] == s[b[i]]`` for every ``i`` (a Polars Series without nulls), ``step`` pairs at a time."""
    return all(bool((s.gather(a[i : i + step]) == s.gather(b[i : i + step])).all()) for i in range(0, len(a), step))


def _mix(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """A 64-bit mix (splitmix64-style) of int64 columns, row by row: a screen for equal rows, not an identity."""
    h = None
    for i, a in enumerate(arrays):
        if h is None:
            h = np.zeros(len(a), dtype=np.uint64)
        x = a.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15 + 2 * i)
        h ^= x ^ (x >> np.uint64(31))
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
    return h


def _find(outcome: pd.Categorical, linked: pd.arrays.BooleanArray) -> pd.arrays.BooleanArray:
    """``derive_find`` of each distinct (outcome, linked) pair, spread to the rows."""
    lk = np.where(linked.isna(), 2, linked.to_numpy(dtype=bool, na_value=False).astype(np.int64))
    pair = np.asarray(outcome.codes, dtype=np.int64) * 3 + lk
    codes, uniq = pd.factorize(pair)
    oc, lc = np.asarray(uniq) // 3, np.asarray(uniq) % 3
    out_u = pd.Categorical.from_codes(oc, categories=outcome.categories)
    link_u = pd.arrays.BooleanArray(lc == 1, lc == 2)
    hit_u = derive_find(pd.Series(out_u), link_u)
    vals, na = hit_u.to_numpy(dtype=bool, na_value=False), np.asarray(hit_u.isna())
    return pd.arrays.BooleanArray(vals[codes], na[codes])


def convert(
    cols: dict[str, Coded],
    *,
    date_text: Any,
    utc_ns: np.ndarray,
    reason: np.ndarray,
    group: np.ndarray,
    source: str,
    ethnicity_field: str,
    fallback: str,
    field_of: dict[str, str],
    texts: dict[str, Any] | None = None,
) -> Converted:
    """Canonical columns from coded police.uk text columns (``cols``: every column but ``Date``, plus extras).

    ``cols`` is consumed: each column is taken out of it (and its codes freed) once
    converted, so memory holds little more than the result.

    ``date_text`` is the raw ``Date`` text (an Arrow string array, row-aligned), ``utc_ns``
    its UTC instants (int64 ns) and ``reason`` the reject reason of each row (None = kept).
    ``texts`` holds raw columns given as row-aligned Arrow text instead of codes
    (``Latitude``, ``Longitude``: many distinct values); it is consumed too.
    """
    texts = {} if texts is None else texts
    keep = pd.isna(reason)
    if not keep.all():
        rows = np.flatnonzero(keep)
        kept = {c: Coded(np.asarray(v.codes)[rows], v.raws) for c, v in cols.items()}
        cols.clear()
        cols.update(kept)
        del kept
        group, utc_ns, date_text = group[rows], utc_ns[rows], date_text.take(pa.array(rows))
        kept_text = {c: t.take(pa.array(rows)) for c, t in texts.items()}
        texts.clear()
        texts.update(kept_text)
        del kept_text
    n = len(group)
    out: dict[str, Any] = {}
    missing: Counter = Counter({"datetime": 0})
    unknown: Counter = Counter()
    unparsed: dict[str, np.ndarray] = {}  # raw column -> rows with a value present but not understood
    # exact duplicates (over every raw column) first: then each coded column is freed once converted
    key = [(group, int(group.max()) + 1 if n else 1)] + [(np.asarray(c.codes), len(c.raws)) for c in cols.values()]
    # in a second thread while the columns below are converted (hashing, factorising and gathers release the GIL)
    dup_job = None
    if n:
        pool = ThreadPoolExecutor(1, thread_name_prefix="policeuk-duplicates")
        dup_job = pool.submit(duplicated, key, [_as_string(date_text), *map(_as_string, texts.values())])
        pool.shutdown(wait=False)  # the job runs on; its result (or error) is asked for below
    del key
    raws_of = {c: v.raws for c, v in cols.items()}

    def column(col: str) -> tuple[np.ndarray, list[str]]:
        c = cols.pop(col)  # consumed: its codes are freed once converted
        return np.asarray(c.codes).astype(np.int32, copy=False), c.stripped  # (narrow codes: arithmetic below)

    def count(col: str, codes: np.ndarray, stripped: list[str], unknown_u: Any = None) -> None:
        missing[field_of[col]] += int(np.array([v == "" for v in stripped] + [False], dtype=bool)[codes].sum())
        if unknown_u is not None:
            uk = np.append(np.asarray(unknown_u, dtype=bool), False)[codes]
            unknown[field_of[col]] += int(uk.sum())
            if uk.any():  # the raw values of the (few) rows holding one
                rows = np.flatnonzero(uk)
                unparsed[col] = (rows, [raws_of[col][k] for k in codes[rows]])

    shared: list[pa.Array] = []

    def no_text() -> pd.api.extensions.ExtensionArray:
        """An all-NA "string" column; the table's all-NA text columns share one Arrow buffer (8 bytes a row).
        Arrow arrays are immutable (setting a value makes a new one), so the sharing is safe."""
        if not shared:
            shared.append(pa.nulls(n, pa.large_string()))
        return pd.arrays.ArrowStringArray(shared[0])

    # ---- date and time: UTC instants to local wall time, vectorised over rows
    utc = pd.DatetimeIndex(np.asarray(utc_ns, dtype=np.int64).view("M8[ns]")).tz_localize("UTC")
    local = utc.tz_convert(TIMEZONE)
    wall = np.asarray(local.tz_localize(None).asi8)
    out["datetime"] = local
    out["datetime_raw"] = pd.arrays.ArrowStringArray(_as_string(date_text))
    out["time_known"] = pd.arrays.BooleanArray(np.mod(wall, _DAY_NS) != 0, np.zeros(n, dtype=bool))
    out["month"] = pd.PeriodIndex.from_ordinals(wall.view("M8[ns]").astype("M8[M]").astype(np.int64), freq="M")

    # ---- categories mapped to fixed labels, free text categories, booleans, numbers
    for col, name, mapping, cats in (
        ("Type", "search_type", _SEARCH_TYPES, list(_SEARCH_TYPES.values())),
        ("Gender", "sex", _SEX, list(SEXES)),
        ("Age range", "age_band", {a: a for a in AGE_BANDS}, list(AGE_BANDS)),
    ):
        codes, stripped = column(col)
        labels = [mapping.get(s.lower()) for s in stripped]
        count(col, codes, stripped, [s != "" and lab is None for s, lab in zip(stripped, labels)])
        out[name] = _cat(codes, labels, cats, ordered=name == "age_band")
        if name == "search_type":
            out["vehicle_only"] = _bool(codes, [None if lab is None else lab == "Vehicle search" for lab in labels])
        elif name == "sex":
            out["sex_raw"] = _cat(codes, [s or None for s in stripped])
    for col, name in (("Legislation", "legal_power"), ("Object of search", "object_of_search"), ("Outcome", "outcome")):
        codes, stripped = column(col)
        count(col, codes, stripped)
        out[name] = _cat(codes, [s or None for s in stripped])
    out["arrest"] = _bool(codes, [None if s == "" else s.lower() in ARREST_OUTCOMES for s in stripped])
    for col, name in (
        ("Part of a policing operation", "policing_operation"),
        ("Outcome linked to object of search", "outcome_linked"),
        ("Removal of more than just outer clothing", "strip_search"),
    ):
        codes, stripped = column(col)
        vals = [_BOOL.get(s.lower()) for s in stripped]
        count(col, codes, stripped, [s != "" and v is None for s, v in zip(stripped, vals)])
        out[name] = _bool(codes, vals)
    # the one definition of a find (equity_metrics.outcome_codes): not NFA and linked
    out["hit"] = _find(out["outcome"], out["outcome_linked"])
    codes, stripped = column("Policing operation")
    count("Policing operation", codes, stripped)
    names = [s or None for s in stripped]
    # no name at all (police.uk's usual case): the all-NA text shared with raw_unparsed and officer_id below
    out["policing_operation_name"] = str_take(codes, names) if any(names) else no_text()
    for col, name, lim in (("Latitude", "latitude", 90.0), ("Longitude", "longitude", 180.0)):
        if col in texts:  # as text: read as numbers in bulk, odd values once each
            text = texts.pop(col)
            vals, empty, bad = coords_from_text(text, lim)
            missing[field_of[col]] += int(empty.sum())
            unknown[field_of[col]] += int(bad.sum())
            if bad.any():
                rows = np.flatnonzero(bad)
                unparsed[col] = (rows, [str(v) for v in text.take(pa.array(rows)).to_pylist()])
            out[name] = vals
            continue
        codes, stripped = column(col)
        vals = to_float(stripped, lim)
        count(col, codes, stripped, np.array([s != "" for s in stripped], dtype=bool) & np.isnan(vals))
        out[name] = np.append(vals, np.nan)[codes]

    # ---- ethnicity: both fields kept raw, one chosen, optional recorded fallback
    fallback_used = _ethnicity(out, column, count, n, ethnicity_field, fallback)

    # ---- constants, exact duplicates (over every raw column), unparsed raw values
    search = np.full(n, EVENT_TYPES.index("search"), dtype=np.int8)
    out["event_type"] = pd.Categorical.from_codes(search, categories=list(EVENT_TYPES))
    out["source"] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[source])
    out["search_conducted"] = pd.arrays.BooleanArray(np.ones(n, dtype=bool), np.zeros(n, dtype=bool))
    dup = dup_job.result() if dup_job is not None else np.zeros(0, dtype=bool)
    out["duplicate"] = pd.arrays.BooleanArray(dup, np.zeros(n, dtype=bool))
    out["raw_unparsed"] = _unparsed_json(unparsed, n) if unparsed else no_text()
    out["officer_id"] = no_text()  # police.uk names no officer
    return Converted(out, keep, reason, dict(missing), dict(unknown), fallback_used)


def _as_string(text: Any) -> pa.Array | pa.ChunkedArray:
    """Arrow text as ``large_string`` (what pandas' Arrow-backed "string" dtype holds)."""
    return text if text.type == pa.large_string() else text.cast(pa.large_string())


def _ethnicity(out: dict, column, count, n: int, ethnicity_field: str, fallback: str) -> int:
    gpos = {g: i for i, g in enumerate(BROAD_GROUPS)}
    dpos = {g: i for i, g in enumerate(DETAILED_GROUPS)}
    eth: dict[str, dict[str, Any]] = {}
    for col, short in (("Self-defined ethnicity", "self_defined"), ("Officer-defined ethnicity", "officer_defined")):
        codes, stripped = column(col)
        h = harmonise_ethnicity(pd.Series(stripped, dtype=object))
        blank = np.array([s == "" for s in stripped], dtype=bool)
        count(col, codes, stripped, ~np.asarray(h["recognised"], dtype=bool) & ~blank)
        labels = [s or None for s in stripped]
        grp = [gpos[g] for g in h["group"].astype(object)] + [gpos[NOT_STATED]]
        det = [dpos.get(d, dpos[NOT_STATED]) for d in h["detailed"].astype(object)] + [dpos[NOT_STATED]]
        eth[short] = {
            "group": np.array(grp, dtype=np.int8)[codes],
            "detailed": np.array(det, dtype=np.int8)[codes],
            "blank": np.append(blank, True)[codes],
            "codes": codes,
            "labels": labels,
        }
        out[f"{short}_ethnicity_raw"] = _cat(codes, labels)
    broad = list(BROAD_GROUPS)
    out["officer_defined_ethnicity"] = pd.Categorical.from_codes(eth["officer_defined"]["group"], categories=broad)
    main, other = eth[ethnicity_field], eth["officer_defined"]
    use_o = np.zeros(n, dtype=bool)
    if fallback == "officer_defined":
        use_o = (main["group"] == gpos[NOT_STATED]) & (other["group"] != gpos[NOT_STATED])
    out["ethnicity"] = pd.Categorical.from_codes(np.where(use_o, other["group"], main["group"]), categories=broad)
    out["ethnicity_detailed"] = pd.Categorical.from_codes(
        np.where(use_o, other["detailed"], main["detailed"]), categories=list(DETAILED_GROUPS)
    )
    nmain = len(main["labels"])
    raw_codes = np.where(use_o, other["codes"] + nmain, main["codes"])
    out["ethnicity_raw"] = _cat(raw_codes, main["labels"] + other["labels"])  # a few dozen distinct texts
    src = np.where(use_o, 1, np.where(main["blank"], 2, 0 if ethnicity_field == "self_defined" else 1))
    out["ethnicity_source"] = pd.Categorical.from_codes(src.astype(np.int8), categories=["self_defined", "officer_defined", "none"])
    return int(use_o.sum())


def _unparsed_json(unparsed: dict[str, tuple[np.ndarray, list[str]]], n: int) -> pd.api.extensions.ExtensionArray:
    """JSON of the raw values that were present but not understood (NA on clean rows).

    ``unparsed``: raw column -> (rows holding such a value, their raw values), in column order.
    """
    if not unparsed:
        return pd.arrays.ArrowStringArray(pa.nulls(n, pa.large_string()))
    per_row: dict[int, dict[str, str]] = {}
    for col, (rows, vals) in unparsed.items():
        for r, v in zip(rows.tolist(), vals):  # only the rows holding a value that could not be read
            per_row.setdefault(r, {})[col] = str(v)
    out = np.full(n, None, dtype=object)
    for r, d in per_row.items():
        out[r] = json.dumps(d, ensure_ascii=False)
    return pd.arrays.ArrowStringArray(pa.array(out, type=pa.large_string()))


def coded_frame(raw: pd.DataFrame) -> tuple[dict[str, Coded], Any, np.ndarray, np.ndarray]:
    """Coded columns, Date text, UTC instants and reject reasons of a pandas table of strings."""
    cols = {}
    for c in raw.columns:
        if c == "Date":
            continue
        codes, uniq = pd.factorize(raw[c], use_na_sentinel=False)
        cols[c] = Coded(np.asarray(codes, dtype=np.int32), ["" if pd.isna(u) else str(u) for u in uniq])
    text = pa.array(raw["Date"].astype(object).where(raw["Date"].notna(), "").tolist(), type=pa.large_string())
    utc = np.full(len(raw), NAT, dtype=np.int64)
    reason = resolve_dates(utc, lambda rows: text.take(pa.array(rows)).to_pylist())
    return cols, text, utc, reason
