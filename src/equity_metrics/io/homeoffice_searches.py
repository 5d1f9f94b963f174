"""Reader for the Home Office's published stop-and-search counts (open data tables).

The Home Office publishes, in "Police powers and procedures: stop and search", the
searches each force returned by self-defined ethnic group and financial year. The
folder ``../shared/data/homeoffice/`` holds three CSVs derived from its open data
table (``stop-search-open-data-tables-mar21-mar25.ods``):

* ``ho_opendata_force_by_ethnicity_*.csv`` (``financial_year, police_force,
  ethnicity, total_searches``): searches by force x group (Asian, Black, Mixed,
  Other, White); vehicle-only searches, British Transport Police and "Not stated"
  left out;
* ``ho_opendata_force_total_and_not_stated_*.csv`` (``financial_year,
  police_force, region_clean, total_searches, missing_searches, pct_missing``):
  each force's total including "Not stated" (vehicle-only excluded) and its "Not
  stated" count;
* ``ho_opendata_national_nfa_pct_by_year_ethnicity.csv`` (``financial_year,
  ethnicity, nfa_pct``): England and Wales, percentage of searches with no further
  action, by year and group.

:func:`read_homeoffice_stop_search` reads any of them (the layout is recognised
from the header) into one long table of kind ``"counts"``: ``area`` (police.uk
slug), ``area_name`` (as published), ``period``, ``group``, ``measure``
(``"searches"`` or ``"nfa_pct"``), ``value`` (the published number), ``unit``,
``source`` and ``source_table``; ``count`` holds the value for counts (NaN for
percentages). Every input row is kept or rejected (file, line, raw values, reason).
Compare them with police.uk with :func:`equity_metrics.measures.published.compare_published`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import FileFormatError
from ..ledger import Ledger, ReadResult
from ._numbers import parse_counts, unparsed_text
from ._sources import PathLike, iter_files, parse_csv_text
from .official import _area_columns, _classify_groups, _file_record, _finish, _periods, _reject_blank_keys, _start, _tally

__all__ = ["read_homeoffice_stop_search", "HO_SOURCE"]

#: Value of the ``source`` column.
HO_SOURCE = "Home Office, Police powers and procedures: stop and search (open data table)"

#: layout name -> (required columns, key columns that must not be blank)
_LAYOUTS: dict[str, tuple[list[str], list[str]]] = {
    "force_by_ethnicity": (["financial_year", "police_force", "ethnicity", "total_searches"],
                           ["financial_year", "police_force", "ethnicity"]),
    "force_total_and_not_stated": (["financial_year", "police_force", "total_searches", "missing_searches"],
                                   ["financial_year", "police_force"]),
    "national_nfa_pct": (["financial_year", "ethnicity", "nfa_pct"], ["financial_year", "ethnicity"]),
}


def _layout(cols: list[str], name: str) -> str:
    for lay, (req, _) in _LAYOUTS.items():
        if set(req) <= set(cols) and not (lay == "national_nfa_pct" and "police_force" in cols):
            return lay
    raise FileFormatError(
        f"not one of the Home Office stop-and-search tables this reader knows (columns {cols[:8]})",
        file=name,
        hint="Pass the ho_opendata_*.csv files only (e.g. the glob '.../homeoffice/ho_opendata_*.csv'); expected "
        + "; ".join(f"{k}: {', '.join(v[0])}" for k, v in _LAYOUTS.items()),
    )


def _numbers(raw: pd.Series, led: Ledger, field: str, *, percent: bool = False):
    pc = parse_counts(raw, percent="fraction" if percent else "reject", negative="flag")
    _tally(led, field, pc.flag)
    return pc


def read_homeoffice_stop_search(path: PathLike | Iterable[PathLike], *, encoding: str = "auto") -> ReadResult:
    """Read the Home Office's published stop-and-search counts to one long table.

    Parameters
    ----------
    path
        One or more of the ``ho_opendata_*.csv`` files (see the module docs), a glob
        or a list. The layout of each file is recognised from its header.
    encoding
        ``"auto"`` (UTF-8, with a recorded Windows-1252 fallback) or a codec name.

    Returns
    -------
    ReadResult
        ``kind="counts"``: one row per published number. Columns: the canonical
        counts columns (``area`` is the police.uk slug: "Avon & Somerset" ->
        ``avon-and-somerset``, "Metropolitan Police" -> ``metropolitan``, "London,
        City of" -> ``city-of-london``; the national rows are ``england-and-wales``),
        plus ``value`` (the number as published: a count, or a percentage for
        ``measure="nfa_pct"``), ``unit`` (``"searches"`` / ``"percent"``),
        ``source``, ``source_table`` (the layout) and ``region``. Groups: Asian,
        Black, Mixed, Other, White; the totals table gives ``All`` (including not
        stated) and ``Not stated``. The ledger notes whether the five groups plus
        "Not stated" add up to each force's total.

    Raises
    ------
    FileFormatError
        A file that is none of the three layouts (the message lists them).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ho.csv"
    >>> _ = p.write_text("financial_year,police_force,ethnicity,total_searches\\n"
    ...                  '2020/21,"London, City of",Black,289\\n2020/21,Avon & Somerset,White,"1,234"\\n')
    >>> r = read_homeoffice_stop_search(p)
    >>> r.data[["area", "period", "group", "measure", "value"]].values.tolist()
    [['avon-and-somerset', '2020/21', 'White', 'searches', 1234.0], ['city-of-london', '2020/21', 'Black', 'searches', 289.0]]
    >>> r.ledger.rows_read == r.ledger.rows_kept + r.ledger.rows_rejected
    True
    """
    led = Ledger(source="homeoffice_stop_search")
    parts: list[pd.DataFrame] = []
    rej: list[pd.DataFrame] = []
    for name, data in iter_files(path):
        probe = parse_csv_text(data, name, encoding=encoding)
        lay = _layout(list(probe.frame.columns), name)
        req, keys = _LAYOUTS[lay]
        parsed = parse_csv_text(data, name, encoding=encoding, required=req)
        _start(parsed, led, rej)
        keep = _reject_blank_keys(parsed, keys, led, rej)
        f = parsed.frame.loc[keep].reset_index(drop=True)
        lines = parsed.lines[keep]
        led.files.append(_file_record(parsed, data, int(keep.sum())))
        led.choices.setdefault("layouts", {})[name] = lay
        if not len(f):
            continue
        if lay == "national_nfa_pct":
            base = _area_columns(pd.Series("England and Wales", index=f.index), None, led)
        else:
            base = _area_columns(f["police_force"], None, led)
        base["period"] = f["financial_year"].str.strip()
        base["period_start"], base["period_end"] = _periods(base["period"])
        bad_p = int(base["period_start"].isna().sum())
        if bad_p:
            led.unknown_by_field["period"] = led.unknown_by_field.get("period", 0) + bad_p
            led.notes.append(f"{name}: {bad_p} financial year label(s) not understood (kept, period_start NaT)")
        base["source"] = HO_SOURCE
        base["source_table"] = lay
        base["source_file"] = name
        base["source_line"] = lines
        base["region"] = f["region_clean"].str.strip() if "region_clean" in f else pd.NA
        base["group_scheme"] = "Home Office: self-defined ethnicity (5 groups)"
        if lay == "force_total_and_not_stated":
            parts += _totals(f, base, name, led)
        else:
            col = "nfa_pct" if lay == "national_nfa_pct" else "total_searches"
            pc = _numbers(f[col], led, "value")
            table = _classify_groups(pd.unique(f["ethnicity"]), "Asian")
            lab = f["ethnicity"].str.strip()
            out = base.assign(
                group=f["ethnicity"].map(lambda x: table[x][0]), group_detailed=f["ethnicity"].map(lambda x: table[x][1]),
                group_raw=lab, group_level="broad",
                measure="nfa_pct" if lay == "national_nfa_pct" else "searches",
                unit="percent" if lay == "national_nfa_pct" else "searches",
                value=pc.values, count=pc.values if lay != "national_nfa_pct" else np.nan, count_flag=pc.flag,
                unparsed_raw=pd.array(unparsed_text({col: f[col]}, {col: pc.flag}), dtype="string"),
                _order=0,
            )
            bad = f["ethnicity"].map(lambda x: not table[x][3])
            if bad.any():
                led.unknown_by_field["group"] = led.unknown_by_field.get("group", 0) + int(bad.sum())
                led.notes.append(f"{name}: unrecognised ethnicity label(s) {sorted(set(lab[bad]))[:10]} read as 'Not stated'")
            parts.append(out)
    res = _finish(parts, led, rej, ["area", "period", "source_table", "source_file", "source_line", "_order"])
    for c in ("unit", "source", "source_table", "region"):
        if c in res.data.columns:
            res.data[c] = res.data[c].astype("string")
    _check_totals(res.data, led)
    return res


def _totals(f: pd.DataFrame, base: pd.DataFrame, name: str, led: Ledger) -> list[pd.DataFrame]:
    """Each totals row -> an ``All`` row (total incl. not stated) and a ``Not stated`` row."""
    out = []
    tot = _numbers(f["total_searches"], led, "value")
    miss = _numbers(f["missing_searches"], led, "value")
    for j, (g, col, pc) in enumerate([("All", "total_searches", tot), ("Not stated", "missing_searches", miss)]):
        out.append(base.assign(
            group=g, group_detailed=g, group_raw=col, group_level="total" if g == "All" else "broad",
            measure="searches", unit="searches", value=pc.values, count=pc.values, count_flag=pc.flag,
            unparsed_raw=pd.array(unparsed_text({col: f[col]}, {col: pc.flag}), dtype="string"), _order=j + 1,
        ))
    if "pct_missing" in f:
        pct = parse_counts(f["pct_missing"], percent="reject", negative="keep").values
        have = pct.notna() & tot.values.notna() & miss.values.notna() & (tot.values > 0)
        ok = have & ((miss.values / tot.values.where(tot.values > 0) * 100 - pct).abs() <= 0.05 + 1e-9)
        led.notes.append(f"{name}: pct_missing = missing_searches / total_searches x 100 (to 0.1) on "
                         f"{int(ok.sum())} of {int(have.sum())} rows")
    return out


def _check_totals(d: pd.DataFrame, led: Ledger) -> None:
    """Note whether the five groups + Not stated add up to each force-year's total, and the year totals."""
    if not len(d) or "source_table" not in d.columns:
        return
    s = d[d["measure"] == "searches"]
    groups = s[s["source_table"] == "force_by_ethnicity"].groupby(["area", "period"])["value"].sum(min_count=1)
    tt = s[s["source_table"] == "force_total_and_not_stated"].pivot_table(
        index=["area", "period"], columns="group", values="value", aggfunc="sum", observed=True)
    for (p, v) in groups.groupby(level="period").sum().items():
        led.notes.append(f"{p}: the five groups (not stated excluded) total {v:,.0f} searches")
    if {"All", "Not stated"} <= set(tt.columns):
        for (p, v) in tt["All"].groupby(level="period").sum().items():
            led.notes.append(f"{p}: total including not stated {v:,.0f} searches")
        both = pd.concat([groups.rename("groups"), (tt["All"] - tt["Not stated"]).rename("stated")], axis=1, join="inner").dropna()
        if len(both):
            same = (both["groups"] - both["stated"]).abs() < 0.5
            led.notes.append(
                f"the five groups add up to total minus not stated in {int(same.sum())} of {len(both)} force-years"
                + (f" (differ: {[f'{a} {p}' for a, p in both.index[~same.to_numpy()]][:10]})" if (~same).any() else "")
            )
