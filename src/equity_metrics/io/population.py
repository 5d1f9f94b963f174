"""Census population readers: ONS 2011 and 2021 tables by force area or local authority.

:func:`read_population` recognises each table by its header (not its name) and
returns the canonical long ``population`` table (``equity_metrics.schema.POPULATION``):

* Census 2011 QS201EW by police force area (``PFA16NM`` + "Ethnic Group: ...;
  measures: Value" columns: 5 broad groups, 18 detailed groups and the total);
* the same in the police 6-group scheme (White, Black, Asian, Chinese, Mixed, Other);
* the same by local authority, with the LA -> police force area lookup
  (``to="force"`` aggregates to forces);
* Census 2021 by local authority x sex, and by single year of age (19 groups,
  ``Geography Code`` typed by its ONS prefix: LAs, regions, countries);
* Census 2021 local-authority files keyed ``LAD`` / ``LAD_code`` (also ``LAD22NM`` /
  ``LAD22CD``, ``lad_name`` / ``lad_code``) and ONS custom-dataset output
  (``Lower tier local authorities`` (``Code``), ``Ethnic group (20 categories)``, ``Observation``);
* any wide table (an area column and one column per ethnic group) or long table
  (area, group, population columns).

Areas are keyed to join across sources: force areas by their police.uk slug
(``metropolitan``, ``city-of-london``), other areas by
:func:`~equity_metrics.areas.normalise_area_name`, and England and Wales as
``england-and-wales`` (the key the official count tables use).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..errors import OptionError
from ..ethnicity import DETAILED_GROUPS
from ..ledger import FileRecord, Ledger, ReadResult, Rejects
from ..schema import conform
from ._numbers import age_band_of, as_categorical, bad_records_frame, concat_keeping_categories, reject_frame, to_string
from ._population_force import _assign_force, _bare, _load_lookup, _to_force  # noqa: F401  (re-exported)
from ._population_layout import (  # noqa: F401  (re-exported: the names this module always offered)
    _AREA_COLS,
    _CODE_COLS,
    _CODE_TYPES,
    _FORCE_COLS,
    _GROUP_CATS,
    _LA_COLS,
    _LEVEL_RANK,
    _TOTALS,
    _aggregate,
    _classify,
    _clean_label,
    _find,
    _is_lookup,
    _layout,
    _melt,
    _rows,
    _select_level,
    _source_label,
    _vintage,
)
from ._sources import PathLike, iter_files, parse_csv_text, raw_json, sha256_bytes

__all__ = ["read_population", "age_band_of", "PopulationLevel"]

PopulationLevel = Literal["broad", "detailed", "all"]
AreaType = Literal["force", "local_authority", "region", "country"]


# --------------------------------------------------------------------------- the reader


def read_population(
    path: PathLike | Iterable[PathLike],
    *,
    vintage: str | None = None,
    area_type: AreaType | None = None,
    lookup: PathLike | pd.DataFrame | None = None,
    to: Literal["source", "force"] = "source",
    level: PopulationLevel = "broad",
    chinese_as: Literal["Asian", "Other"] = "Asian",
    age_bands: Literal["policeuk"] | Mapping[str, tuple[int, int | None]] | None = None,
    blanks: Literal["zero", "missing"] | None = None,
    source: str | None = None,
    encoding: str = "auto",
) -> ReadResult:
    """Read a census population table (any of the ONS layouts above) to the long population table.

    Parameters
    ----------
    path
        A CSV file, several, or a folder (a lookup file found there is not read as data).
    vintage
        ``"census2011"``, ``"census2021"``...; by default read from the file name
        (``census2011_...``). Required otherwise.
    area_type
        What the areas are when the file cannot say: rows with an ONS code are
        typed by its prefix (E06-E09/W06 local_authority, E12 region,
        E92/W92/K04 country, E23/W15 force); otherwise a force column
        (``PFA16NM``, ``Police force``) means ``"force"`` and a ``geography``/``LAD``
        column ``"local_authority"``.
    lookup
        LA -> police force area lookup (CSV path or DataFrame with ``LAD16CD``
        and/or ``LAD16NM`` and ``PFA16NM``), for ``to="force"``. LAs are matched
        by code, then name, then the file's own ``LAD..NM`` column; LAs that match
        nothing are **rejected** with their raw row (reason "local authority not in
        the lookup"), never silently dropped. Without a lookup, a file's own
        ``PFA16NM`` column is used.
    to
        ``"source"`` keeps the file's areas; ``"force"`` sums local authorities
        into police force areas (rows for regions and countries are rejected:
        they are not local authorities).
    level
        ``"broad"`` (default): one row per area (x sex x age) per broad group,
        summable to the total; ``"detailed"``: the finest groups the file gives
        (18/19 census groups; the police scheme's 6 groups); ``"all"``: every
        column as published, including the total (group ``All``) and the file's
        own broad columns: ``group_level`` tells them apart (do not sum across levels).
    chinese_as
        Broad group for Chinese (``"Asian"``, census practice, or ``"Other"``).
    age_bands
        ``None`` keeps single years (``age``; ``age_band`` holds the label);
        ``"policeuk"`` sums to under 10, 10-17, 18-24, 25-34, over 34; or a mapping
        ``label -> (lowest, highest or None)``.
    blanks
        How an empty cell is read: ``"zero"`` (the default for census2021 tables,
        where ONS publishes 0 as blank) or ``"missing"`` (NaN; default otherwise).
        Either way the count of blanks is in the ledger and the flag is kept.
    source
        Label for the ``source`` column (default: inferred, e.g. "ONS Census 2011 QS201EW").
    encoding
        ``"auto"`` or a codec name.

    Returns
    -------
    ReadResult
        ``kind="population"``. Extra columns: ``group_level``, ``age`` (single
        year; 100 means "100 or over"), ``population_flag`` (``blank``, ``c`` and
        other markers, ``partial`` when a sum includes suppressed cells, ``missing``
        when all were), ``unparsed_raw``, ``areas`` (LAs summed, with
        ``to="force"``), ``source_file``, ``source_line``. The ledger counts input rows.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "census2011_police.csv"
    >>> _ = p.write_text("Police force,White,Black (or Black British),Asian (or Asian British),Chinese\\n"
    ...                  "Metropolitan,100,20,30,5\\n")
    >>> r = read_population(p)
    >>> r.data[["area", "group", "population"]].values.tolist()
    [['metropolitan', 'Asian', 35.0], ['metropolitan', 'Black', 20.0], ['metropolitan', 'White', 100.0]]
    """
    check_option("to", to, Literal["source", "force"])
    check_option("level", level, PopulationLevel)
    check_option("chinese_as", chinese_as, Literal["Asian", "Other"])
    if area_type is not None:
        check_option("area_type", area_type, AreaType)
    if blanks is not None:
        check_option("blanks", blanks, Literal["zero", "missing"])
    if age_bands is not None and isinstance(age_bands, str):
        check_option("age_bands", age_bands, Literal["policeuk"])
    if not isinstance(encoding, str):
        raise OptionError(f"encoding={encoding!r}: give 'auto' or a codec name such as 'utf-8' or 'cp1252'")
    if source is not None and not isinstance(source, str):
        raise OptionError(f"source={source!r}: give a text label such as 'ONS Census 2021', or None")
    if lookup is not None and to != "force":
        raise OptionError("lookup= is only used with to='force'; pass to='force' to sum local authorities into force areas")
    led = Ledger(source="census")
    led.choices.update({"chinese_as": chinese_as, "level": level, "to": to})
    parts, rej = [], []
    files = [(n, d, parse_csv_text(d, n, encoding=encoding)) for n, d in iter_files(path)]
    if len(files) > 1:
        for n, _, p in [x for x in files if _is_lookup(list(x[2].frame.columns))]:
            files = [x for x in files if x[0] != n]
            if lookup is None and to == "force":
                lookup = (p.frame, n)
            led.notes.append(f"{n}: a local-authority to police force area lookup, not population data: "
                             + ("used as the lookup" if isinstance(lookup, tuple) and lookup[1] == n else "not read (pass it as lookup=)"))
    for name, data, parsed in files:
        lay = _layout(list(parsed.frame.columns), name, chinese_as)
        vint = _vintage(vintage, name)
        blank_zero = (blanks or ("zero" if vint == "census2021" else "missing")) == "zero"
        led.choices[f"blanks ({vint})"] = "read as 0" if blank_zero else "kept as NaN"
        led.notes.extend(f"{name}: {n}" for n in parsed.notes)
        if lay["ignored"]:
            led.notes.append(f"{name}: column(s) not read (not ethnic groups): {lay['ignored']}")
        if parsed.bad:
            rej.append(bad_records_frame(name, parsed.bad))
            for b in parsed.bad:
                led.rejected_by_reason[b["reason"]] = led.rejected_by_reason.get(b["reason"], 0) + 1
        f = parsed.frame
        keep = (f[lay["area"]].str.strip() != "").to_numpy()
        reasons = np.where(keep, "", f"blank area name ({lay['area']!r})").astype(object)
        rows = _rows(f, lay, area_type, led) if len(f) else pd.DataFrame(columns=["area", "area_type"])
        if to == "force" and len(f):
            reasons = _to_force(f, rows, lay, lookup, encoding, keep, reasons, led)
        ok = reasons == ""
        for why in sorted(set(reasons[~ok])):
            m = reasons == why
            col = lay["area"]
            rej.append(reject_frame(name, parsed.lines[m], np.flatnonzero(m) + 1, col, f[col][m].tolist(), why, raw_json(f, m)))
            led.rejected_by_reason[why] = led.rejected_by_reason.get(why, 0) + int(m.sum())
        led.files.append(FileRecord(name, parsed.rows_read, int(ok.sum()), parsed.rows_read - int(ok.sum()),
                                    parsed.encoding, sha256_bytes(data), list(parsed.notes)))
        if not ok.any():
            continue
        rows = rows.loc[ok].copy()
        rows["source_line"] = parsed.lines[ok]
        long = _melt(f.loc[ok], rows, lay, chinese_as, blank_zero, led)
        long = _select_level(long, level, name, led).drop(columns=["_rid"])
        if age_bands is not None and lay["age"]:
            bands = age_band_of(long["age"], bands=age_bands)
            long["age_band"] = pd.Series(bands, index=long.index).astype(object).fillna("unknown")
            long["_age_rank"] = np.where(bands.codes < 0, np.inf, bands.codes).astype(float)
            long["age"] = np.nan
            led.choices["age_bands"] = age_bands if isinstance(age_bands, str) else dict(age_bands)
        elif age_bands is not None:
            led.notes.append(f"{name}: age_bands ignored, the file has no age column")
        if to == "force" or (age_bands is not None and lay["age"]):
            keys = ["area", "area_name", "area_code", "area_type", "sex", "age_band", "age", "_age_rank",
                    "group", "group_detailed", "group_level", "group_raw"]
            long = _aggregate(long.drop(columns=["unparsed_raw"]), keys, raw="keep")
        fl = long["population_flag"].astype(object)
        n_part, n_miss = int((fl == "partial").sum()), int((fl == "missing").sum())
        if n_part or n_miss:
            led.notes.append(f"{name}: {n_part:,} summed value(s) include suppressed cells (flag 'partial': the sum of what "
                             f"was published, an undercount) and {n_miss:,} have none published (flag 'missing', NaN)")
        for c, v in (("source", source or _source_label(lay, vint, name)), ("vintage", vint), ("source_file", name)):
            long[c] = pd.Categorical.from_codes(np.zeros(len(long), dtype=int), categories=[v])
        parts.append(long)
    return _finish(parts, led, rej)


def _finish(parts: list[pd.DataFrame], led: Ledger, rej: list[pd.DataFrame]) -> ReadResult:
    if parts:
        data = concat_keeping_categories(parts)
    else:
        data = pd.DataFrame({c: pd.Series(dtype="object") for c in ("area", "area_type", "group", "population", "source", "vintage")})
    data["group"] = pd.Categorical(data["group"].astype(object), categories=_GROUP_CATS)
    det_cats = list(DETAILED_GROUPS) + ["All"]
    if "group_detailed" in data:
        have = as_categorical(data["group_detailed"]).categories
        det_cats += sorted(set(map(str, have)) - set(det_cats))
        data["group_detailed"] = as_categorical(data["group_detailed"]).set_categories(det_cats)
    if len(data):
        data["_lvl"] = as_categorical(data["group_level"]).map(_LEVEL_RANK).astype(float)
        for c in ("vintage", "area_type", "area", "sex", "age_band"):
            data[c] = as_categorical(data[c])
        data = data.sort_values(["vintage", "area_type", "area", "sex", "_age_rank", "age_band", "_lvl", "group", "group_detailed", "_order"],
                                kind="stable", na_position="first").reset_index(drop=True)
    for c in ("area", "area_name", "area_code", "age_band", "source", "vintage", "group_raw", "source_file", "population_flag", "unparsed_raw"):
        if c in data:
            data[c] = to_string(data[c])
    for c in ("area_type", "sex", "group_level"):
        if c in data:
            data[c] = as_categorical(data[c])
    for c, t in (("population", "float64"), ("age", "float64"), ("source_line", "Int64"), ("areas", "Int64")):
        if c in data:
            data[c] = pd.to_numeric(data[c], errors="coerce").astype(t)
    data = conform(data.drop(columns=[c for c in data.columns if c.startswith("_")]), "population")
    for k in ("rejected_by_reason", "missing_by_field", "unknown_by_field"):
        setattr(led, k, dict(sorted(getattr(led, k).items())))
    if len(data) and ((data["area"] == "city-of-london") & (data["area_type"] == "force")).fillna(False).any():
        led.notes.append("City of London has about 7,400 residents and draws commuters: a residential population is not a "
                         "meaningful benchmark for its searches")
    led.areas_covered = sorted(map(str, data["area"].dropna().unique()))
    return ReadResult(data=data, ledger=led, rejects=Rejects.concat(rej), kind="population")
