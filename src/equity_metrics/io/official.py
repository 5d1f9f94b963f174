"""Readers for aggregated official tables: gov.uk stop and search, Home Office use of force.

Both return a :class:`~equity_metrics.ledger.ReadResult` of kind ``"counts"``
(see ``equity_metrics.schema.COUNTS``): one row per area x group x period (x
tactic), with the published numbers parsed by
:func:`equity_metrics.io._numbers.parse_counts` (a missing value keeps its
marker in a ``*_flag`` column; it is never dropped or turned into zero). The
ledger counts *input* rows: one wide input row becomes several output rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..areas import FORCES, normalise_forces
from ..errors import ReadError
from ..ethnicity import classify_label
from ..ledger import FileRecord, Ledger, ReadResult, Rejects
from ..schema import conform
from ._numbers import bad_records_frame, flag_counts, parse_counts, reject_frame, unparsed_text
from ._sources import PathLike, iter_files, parse_csv_text, raw_json, sha256_bytes

__all__ = ["read_govuk_stop_search", "read_homeoffice_use_of_force", "parse_period"]

_NATIONAL = {"england-and-wales", "england-and-wales-including-btp"}
_TOTAL_LABELS = {"all", "total", "all categories", "number of times tactic reported", "all ethnic groups"}


# --------------------------------------------------------------------------- shared pieces


def parse_period(label: object, *, time_type: str = "Financial year") -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a period label.

    ``"2017/18"``, ``"2017-18"`` and ``"2017/2018"`` are financial years (1 April
    to 31 March) unless ``time_type`` says calendar; ``"2017"`` is a calendar
    year. Anything else gives ``(NaT, NaT)``.

    Examples
    --------
    >>> parse_period("2017/18")
    (Timestamp('2017-04-01 00:00:00'), Timestamp('2018-03-31 00:00:00'))
    >>> parse_period("2019")
    (Timestamp('2019-01-01 00:00:00'), Timestamp('2019-12-31 00:00:00'))
    """
    s = str(label).strip()
    m = re.fullmatch(r"(\d{4})\s*[/\-]\s*(\d{2}|\d{4})", s)
    if m:
        y1, y2 = int(m.group(1)), int(m.group(2))
        if 1800 < y1 < 2200 and ((len(m.group(2)) == 2 and y2 == (y1 + 1) % 100) or y2 == y1 + 1):
            if "calendar" in str(time_type).lower():
                return pd.Timestamp(y1, 1, 1), pd.Timestamp(y2 if y2 > 99 else y1 + 1, 12, 31)
            return pd.Timestamp(y1, 4, 1), pd.Timestamp(y1 + 1, 3, 31)
    if re.fullmatch(r"\d{4}", s) and 1800 < int(s) < 2200:
        return pd.Timestamp(int(s), 1, 1), pd.Timestamp(int(s), 12, 31)
    return pd.NaT, pd.NaT


def _periods(labels: pd.Series, types: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    key = labels.astype(str) + "\x00" + (types.astype(str) if types is not None else "Financial year")
    lut = {k: parse_period(k.split("\x00")[0], time_type=k.split("\x00")[1]) for k in pd.unique(key)}
    start = pd.to_datetime(key.map(lambda k: lut[k][0])).astype("datetime64[ns]")
    end = pd.to_datetime(key.map(lambda k: lut[k][1])).astype("datetime64[ns]")
    return start, end


def _area_columns(names: pd.Series, kinds: pd.Series | None, led: Ledger) -> pd.DataFrame:
    area = normalise_forces(names).astype("string")
    if kinds is None:
        atype = pd.Series("force", index=names.index)
    else:
        kk = kinds.astype(str).str.strip().str.lower()
        atype = kk.map(lambda k: "force" if "police force" in k or k == "force" else re.sub(r"[^a-z0-9]+", "_", k).strip("_") or "force")
    atype = atype.where(~area.isin(list(_NATIONAL)), "country")
    unknown = sorted(set(area.dropna()) - set(FORCES))
    if unknown:
        n = int(area.isin(unknown).sum())
        led.unknown_by_field["area"] = led.unknown_by_field.get("area", 0) + n
        led.notes.append(f"{n} row(s) name an area that is not a known police force: {unknown[:10]} (kept, keyed by their slug)")
    return pd.DataFrame({"area": area, "area_name": names.astype("string").str.strip(), "area_type": atype}, index=names.index)


def _classify_groups(labels: Iterable[str], chinese_as: str) -> dict[str, tuple[str, str, str, bool]]:
    """label -> (group, group_detailed, group_level, recognised)."""
    out = {}
    for lab in labels:
        n = re.sub(r"[^a-z0-9]+", " ", str(lab).lower()).strip()
        if n in _TOTAL_LABELS or n.startswith("all categories"):
            out[lab] = ("All", "All", "total", True)
            continue
        g, d, ok = classify_label(lab, chinese_as=chinese_as)  # type: ignore[arg-type]
        level = "broad" if d == g else "detailed"
        out[lab] = (g, d, level, ok)
    return out


def _tally(led: Ledger, field: str, flag: pd.Series) -> None:
    for k, v in flag_counts(flag).items():
        target = led.unknown_by_field if k in ("unparseable", "negative") else led.missing_by_field
        target[field] = target.get(field, 0) + v


def _finish(parts: list[pd.DataFrame], led: Ledger, rejects: list[pd.DataFrame], sort: list[str]) -> ReadResult:
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: pd.Series(dtype="string") for c in ("area", "group", "period", "measure", "source_file")}
    )
    data = data.sort_values(sort, kind="stable").reset_index(drop=True) if len(data) else data
    for c in ("area", "area_name", "group_raw", "group_scheme", "period", "measure", "count_flag", "source_file"):
        if c in data.columns:
            data[c] = data[c].astype("string")
    for c in ("area_type", "group_detailed", "group_level"):
        if c in data.columns:
            data[c] = data[c].astype("category")
    if "source_line" in data.columns:
        data["source_line"] = data["source_line"].astype("Int64")
    data = conform(data.drop(columns=[c for c in data.columns if c.startswith("_")]), "counts")
    led.rejected_by_reason = dict(sorted(led.rejected_by_reason.items()))
    led.missing_by_field = dict(sorted(led.missing_by_field.items()))
    led.unknown_by_field = dict(sorted(led.unknown_by_field.items()))
    led.areas_covered = sorted(set(data["area"].dropna().astype(str)))
    return ReadResult(data=data, ledger=led, rejects=Rejects.concat(rejects), kind="counts")


def _reject_blank_keys(parsed, keys: list[str], led: Ledger, rej: list[pd.DataFrame]) -> np.ndarray:
    """Reject rows whose key columns are blank; return the mask of rows kept."""
    frame = parsed.frame
    keep = np.ones(len(frame), dtype=bool)
    for k in keys:
        blank = (frame[k].astype(str).str.strip() == "").to_numpy() & keep
        if blank.any():
            reason = f"blank {k!r}: the row cannot be placed"
            rej.append(reject_frame(parsed.name, parsed.lines[blank], np.flatnonzero(blank) + 1, k, "", reason, raw_json(frame, blank)))
            led.rejected_by_reason[reason] = led.rejected_by_reason.get(reason, 0) + int(blank.sum())
            keep &= ~blank
    return keep


def _file_record(parsed, data: bytes, kept: int) -> FileRecord:
    return FileRecord(
        file=parsed.name,
        rows_read=parsed.rows_read,
        rows_kept=kept,
        rows_rejected=parsed.rows_read - kept,
        encoding=parsed.encoding,
        sha256=sha256_bytes(data),
        notes=list(parsed.notes),
    )


def _start(parsed, led: Ledger, rej: list[pd.DataFrame]) -> None:
    if parsed.bad:
        rej.append(bad_records_frame(parsed.name, parsed.bad))
        for b in parsed.bad:
            led.rejected_by_reason[b["reason"]] = led.rejected_by_reason.get(b["reason"], 0) + 1
    led.notes.extend(f"{parsed.name}: {n}" for n in parsed.notes)


# --------------------------------------------------------------------------- gov.uk stop and search

_GOV_REQUIRED = [
    "Measure",
    "Time",
    "Ethnicity",
    "Ethnicity_type",
    "Geography",
    "Number of stop and searches",
    "Population by ethnicity",
    "Rate per 1,000 population by ethnicity",
]
_GOV_OPTIONAL = {
    "total_excluding_unreported": "Total number of stop and search",
    "published_proportion": "Proportion of total stop and searches",
}


def _chinese_evidence(d: pd.DataFrame) -> tuple[int, int, int]:
    """Area-years whose broad totals put Chinese under Other / under Asian / undecidable."""
    keys = ["area", "period"]
    det = d[d["group_level"] == "detailed"]
    is_ch = det["group_detailed"] == "Asian: Chinese"

    def total(frame: pd.DataFrame) -> pd.Series:
        g = frame.assign(_nan=frame["count"].isna()).groupby(keys)
        s = g["count"].sum()
        return s.where(g["_nan"].sum() == 0)

    a = total(det[~is_ch & (det["group"] == "Asian")])
    o = total(det[~is_ch & (det["group"] == "Other")])
    c = total(det[is_ch])
    br = d[d["group_level"] == "broad"]
    bA = total(br[br["group"] == "Asian"])
    bO = total(br[br["group"] == "Other"])
    t = pd.concat({"a": a, "o": o, "c": c, "A": bA, "O": bO}, axis=1).dropna()
    t = t[t["c"] > 0]
    other = ((t["A"] == t["a"]) & (t["O"] == t["o"] + t["c"])).sum()
    asian = ((t["A"] == t["a"] + t["c"]) & (t["O"] == t["o"])).sum()
    return int(other), int(asian), int(len(t) - other - asian)


def read_govuk_stop_search(
    path: PathLike | Iterable[PathLike],
    *,
    chinese_as: Literal["auto", "Asian", "Other"] = "auto",
    encoding: str = "auto",
) -> ReadResult:
    """Read the gov.uk Ethnicity Facts and Figures stop-and-search table.

    Parameters
    ----------
    path
        The CSV (``ethnicity_facts_stop_and_search_2006-07_2017-18.csv``), several,
        a folder or an archive.
    chinese_as
        Broad group of the detailed ``Chinese`` rows. ``"auto"`` (default) reads it
        from the file's own totals: the table uses the 2001 census scheme, whose
        broad ``Other`` includes Chinese, and the reader checks, for every
        area-year, which broad row equals the sum of its detailed rows. The
        evidence is written to ``ledger.choices``.
    encoding
        ``"auto"`` (UTF-8, with a recorded Windows-1252 fallback) or a codec name.

    Returns
    -------
    ReadResult
        ``kind="counts"``. Besides the canonical columns: ``group_level``
        (``total`` for "All", ``broad`` for the 5+1 rows, ``detailed`` for the
        16+1 rows: sum within one level only, "Unreported" appears in both
        schemes), ``total_excluding_unreported``, ``published_proportion``
        (a fraction), ``notes``, a ``*_flag`` column for every parsed number and
        ``unparsed_raw`` (raw text of values that could not be read).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ss.csv"
    >>> _ = p.write_text(
    ...     "Measure,Time,Time_type,Ethnicity,Ethnicity_type,Geography,Geography_type,"
    ...     " Number of stop and searches ,Population by ethnicity,\\"Rate per 1,000 population by ethnicity\\"\\n"
    ...     "Stops,2017/18,Financial year,Black,ONS 2001 5+1,Kent,Police Force Area,\\" 1,234 \\",\\"40,000\\",30.85\\n")
    >>> r = read_govuk_stop_search(p)
    >>> r.data[["area", "group", "period", "count", "published_rate"]].values.tolist()
    [['kent', 'Black', '2017/18', 1234.0, 30.85]]
    """
    check_option("chinese_as", chinese_as, Literal["auto", "Asian", "Other"])
    led = Ledger(source="govuk")
    parts: list[pd.DataFrame] = []
    rej: list[pd.DataFrame] = []
    for name, data in iter_files(path):
        parsed = parse_csv_text(data, name, encoding=encoding, required=_GOV_REQUIRED)
        _start(parsed, led, rej)
        f = parsed.frame
        keep = _reject_blank_keys(parsed, ["Geography", "Ethnicity", "Time"], led, rej)
        f = f.loc[keep].reset_index(drop=True)
        lines = parsed.lines[keep]
        led.files.append(_file_record(parsed, data, int(keep.sum())))
        if not len(f):
            continue
        out = _area_columns(f["Geography"], f["Geography_type"] if "Geography_type" in f else None, led)
        out["group_raw"] = f["Ethnicity"].str.strip()
        out["group_scheme"] = f["Ethnicity_type"].str.strip()
        out["period"] = f["Time"].str.strip()
        out["period_start"], out["period_end"] = _periods(out["period"], f["Time_type"] if "Time_type" in f else None)
        bad_p = int(out["period_start"].isna().sum())
        if bad_p:
            led.unknown_by_field["period"] = led.unknown_by_field.get("period", 0) + bad_p
            led.notes.append(f"{name}: {bad_p} period label(s) not understood as a year (kept, period_start NaT)")
        out["measure"] = f["Measure"].str.strip()
        raw_cols = {
            "count": "Number of stop and searches",
            "population": "Population by ethnicity",
            "published_rate": "Rate per 1,000 population by ethnicity",
        }
        for canon, prefix in _GOV_OPTIONAL.items():
            hit = [c for c in f.columns if c.lower().startswith(prefix.lower())]
            if hit:
                raw_cols[canon] = hit[0]
            else:
                led.notes.append(f"{name}: no column starting {prefix!r}; {canon} left empty")
        flags = {}
        for canon, col in raw_cols.items():
            pc = parse_counts(
                f[col],
                percent="fraction" if canon == "published_proportion" else "reject",
                negative="flag" if canon in ("count", "population", "total_excluding_unreported") else "keep",
            )
            out[canon] = pc.values
            out[f"{canon}_flag"] = pc.flag
            flags[canon] = pc.flag
            _tally(led, canon, pc.flag)
        out["unparsed_raw"] = pd.array(unparsed_text({k: f[c] for k, c in raw_cols.items()}, flags), dtype="string")
        notes = f["Notes"].str.strip().astype("string") if "Notes" in f else pd.Series(pd.NA, index=f.index, dtype="string")
        out["notes"] = notes.mask(notes == "")
        out["source_file"] = name
        out["source_line"] = lines
        # rate check: the published rate is count / population * 1000, rounded
        rec = out["count"] / out["population"] * 1000.0
        txt = f[raw_cols["published_rate"]].str.strip()
        dec = txt.str.extract(r"\.(\d+)$", expand=False).str.len().fillna(0).astype(float)
        has = out["published_rate"].notna()
        ok = ((rec - out["published_rate"]).abs() <= 0.5 * 10.0 ** (-dec) + 1e-9) & has
        led.notes.append(
            f"{name}: the published rate per 1,000 is reproduced by count / population x 1000 within rounding "
            f"on {int(ok.sum()):,} of the {int(has.sum()):,} rows that have one"
        )
        parts.append(out)
    if parts:
        parts = [pd.concat(parts, ignore_index=True)]
        _govuk_groups(parts[0], chinese_as, led)
    return _finish(parts, led, rej, ["area", "period", "source_file", "source_line"])


def _govuk_groups(data: pd.DataFrame, chinese_as: str, led: Ledger) -> None:
    """Add group, group_detailed and group_level to the gov.uk rows (in place)."""
    lab = data["group_raw"].astype(str)
    scheme = data["group_scheme"].astype(str).str.lower()
    choice = chinese_as
    if chinese_as == "auto":
        trial = _classify_groups(pd.unique(lab), "Asian")
        tmp = pd.DataFrame(
            {
                "area": data["area"],
                "period": data["period"],
                "group": lab.map(lambda x: trial[x][0]),
                "group_detailed": lab.map(lambda x: trial[x][1]),
                "group_level": np.where(scheme.str.contains("16"), "detailed", np.where(scheme.str.contains("5"), "broad", "total")),
                "count": data["count"],
            }
        )
        n_other, n_asian, n_undec = _chinese_evidence(tmp)
        if n_other or n_asian:
            choice = "Other" if n_other >= n_asian else "Asian"
            how = "read from the file's totals"
        else:
            choice = "Other" if scheme.str.contains("2001").any() else "Asian"
            how = "no area-year allowed a check; default of the classification used"
        led.choices["chinese_as"] = choice
        led.choices["chinese_as_evidence"] = (
            f"{how}: the broad 'Other' row equals 'Any other ethnic group' + 'Chinese' in {n_other} area-year(s), "
            f"the broad 'Asian' row includes Chinese in {n_asian}, undecidable in {n_undec}"
        )
    else:
        led.choices["chinese_as"] = chinese_as
        led.notes.append(
            "chinese_as was given: detailed 'Chinese' rows use it, but the file's own broad (5+1) rows keep "
            "the publisher's grouping (2001 scheme: Chinese in Other)"
        )
    table = _classify_groups(pd.unique(lab), choice)
    data["group"] = lab.map(lambda x: table[x][0])
    data["group_detailed"] = lab.map(lambda x: table[x][1])
    level = lab.map(lambda x: table[x][2])
    # the source says which level a row is: 5+1 rows are broad, 16+1 rows detailed
    level = level.where(~(scheme.str.contains("5+1", regex=False) & (level != "total")), "broad")
    level = level.where(~(scheme.str.contains("16+1", regex=False) & (level != "total")), "detailed")
    data["group_level"] = level
    bad = lab.map(lambda x: not table[x][3])
    if bad.any():
        led.unknown_by_field["group"] = led.unknown_by_field.get("group", 0) + int(bad.sum())
        led.notes.append(f"unrecognised ethnicity label(s) {sorted(set(lab[bad]))[:10]} read as 'Not stated' (raw kept in group_raw)")


# --------------------------------------------------------------------------- Home Office use of force

_UOF_REQUIRED = ["Police Force", "Type of force", "Tactic", "Number of times tactic reported"]
_OF_WHICH = re.compile(r",?\s*of which\s*$", re.I)


def _period_from_name(name: str) -> str | None:
    m = re.search(r"(?<!\d)(20\d{2})[-_](\d{2})(?!\d)", os.path.basename(name))
    if m and int(m.group(2)) == (int(m.group(1)) + 1) % 100:
        return f"{m.group(1)}/{m.group(2)}"
    return None


def _tactic_tree(area: list[str], types: list[str], tactics: list[str]) -> tuple[list[int], list[object], list[bool], list[str]]:
    """Derive level, parent, is_total and the clean tactic name from row order."""
    levels, parents, totals, clean = [], [], [], []
    parent, stem, where = None, None, None
    for a, ty, raw in zip(area, types, tactics):
        t = raw.strip()
        star = t.startswith("*")
        t = t.lstrip("*").strip()
        is_total = star or t.lower().startswith("total")
        words = re.findall(r"[a-z]+", t.lower())
        if is_total:
            lvl, par = (0 if ty.strip().lower().startswith("total") else 1), None
            parent = None
        elif parent is not None and (a, ty) == where and stem in words:
            lvl, par = 3, parent
        else:
            lvl, par = 2, None
            parent = t if _OF_WHICH.search(t) else None
            stem = (re.findall(r"[a-z]+", _OF_WHICH.sub("", t).lower()) or [""])[0]
            where = (a, ty)
        levels.append(lvl)
        parents.append(par)
        totals.append(is_total)
        clean.append(t)
    return levels, parents, totals, clean


def read_homeoffice_use_of_force(
    path_or_paths: PathLike | Iterable[PathLike],
    *,
    period: str | None = None,
    chinese_as: Literal["Asian", "Other"] = "Asian",
    measure: str = "use_of_force_tactics",
    encoding: str = "auto",
) -> ReadResult:
    """Read Home Office use-of-force tables (tactics by force x subject ethnicity) to long counts.

    Parameters
    ----------
    path_or_paths
        One or more CSVs such as ``use_of_force_by_ethnicity_force_2018-19.csv``.
    period
        Financial year, e.g. ``"2018/19"``; by default read from each file name
        (``..._2018-19.csv``). Required when the name does not say.
    chinese_as
        Broad group of the ``Chinese`` column (2018/19 only): ``"Asian"`` (census
        2011/2021 practice, default) or ``"Other"``. Recorded in ``ledger.choices``.
    measure
        Value of the ``measure`` column.
    encoding
        ``"auto"`` or a codec name.

    Returns
    -------
    ReadResult
        ``kind="counts"``; the ethnicity columns become rows (``group_raw`` keeps
        the column name, "Don't know" and "Not reported" are group ``Not stated``);
        the total column "Number of times tactic reported" becomes group ``All``
        (``group_level="total"``). Extra columns: ``type_of_force``, ``tactic``
        (leading ``*`` removed), ``is_total``, ``tactic_level`` (0 all tactics, 1
        total of a type of force, 2 tactic, 3 sub-tactic of an "..., of which"
        row), ``parent_tactic``, ``group_level``, ``unparsed_raw``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "uof_2019-20.csv"
    >>> _ = p.write_text("Police Force,Type of force,Tactic,White,Black (or Black British),"
    ...     "Number of times tactic reported\\nKent,Restraint,Ground restraint,10.0,5.0,15.0\\n")
    >>> r = read_homeoffice_use_of_force(p)
    >>> r.data[["area", "group", "period", "count"]].values.tolist()
    [['kent', 'White', '2019/20', 10.0], ['kent', 'Black', '2019/20', 5.0], ['kent', 'All', '2019/20', 15.0]]
    """
    check_option("chinese_as", chinese_as, Literal["Asian", "Other"])
    led = Ledger(source="homeoffice_use_of_force")
    led.choices["chinese_as"] = chinese_as
    parts: list[pd.DataFrame] = []
    rej: list[pd.DataFrame] = []
    for name, data in iter_files(path_or_paths):
        parsed = parse_csv_text(data, name, encoding=encoding, required=_UOF_REQUIRED)
        per = period or _period_from_name(name)
        if per is None:
            raise ReadError(
                "cannot tell the period of this file from its name",
                file=name,
                hint="Pass period='2018/19' (the financial year the table covers)",
            )
        _start(parsed, led, rej)
        keep = _reject_blank_keys(parsed, ["Police Force", "Tactic"], led, rej)
        f = parsed.frame.loc[keep].reset_index(drop=True)
        lines = parsed.lines[keep]
        led.files.append(_file_record(parsed, data, int(keep.sum())))
        group_cols = [c for c in f.columns if c not in _UOF_REQUIRED] + ["Number of times tactic reported"]
        table = _classify_groups(group_cols, chinese_as)
        ignored = [c for c in group_cols if not table[c][3]]
        if ignored:
            led.notes.append(f"{name}: column(s) {ignored} are not ethnic groups and were not read")
            group_cols = [c for c in group_cols if table[c][3]]
        if not len(f):
            continue
        areas = _area_columns(f["Police Force"], None, led)
        levels, parents, totals, clean = _tactic_tree(list(areas["area"]), list(f["Type of force"]), list(f["Tactic"]))
        start, end = parse_period(per)
        vals, flags = {}, {}
        for c in group_cols:
            pc = parse_counts(f[c], percent="reject", negative="flag")
            vals[c], flags[c] = pc.values, pc.flag
            _tally(led, "count", pc.flag)
        unparsed = pd.array(unparsed_text({c: f[c] for c in group_cols}, flags), dtype="string")
        base = areas.assign(
            period=per,
            period_start=start,
            period_end=end,
            measure=measure,
            source_file=name,
            source_line=lines,
            type_of_force=f["Type of force"].str.strip().astype("string"),
            tactic=pd.Series(clean, dtype="string"),
            is_total=np.array(totals, dtype=bool),
            tactic_level=np.array(levels, dtype="int8"),
            parent_tactic=pd.Series(parents, dtype="string"),
            unparsed_raw=unparsed,
        )
        for j, c in enumerate(group_cols):
            g, d, lvl, _ = table[c]
            parts.append(
                base.assign(
                    group=g, group_detailed=d, group_raw=c, group_level=lvl,
                    group_scheme="Home Office use of force: subject ethnicity",
                    count=vals[c], count_flag=flags[c], _order=j,
                )
            )
        _uof_checks(name, vals, group_cols, levels, led)
        if flags_blank := sorted({a for c in group_cols for a in areas["area_name"][flags[c] == "blank"]}):
            led.notes.append(f"{name}: blank cells (not reported; kept as NaN, flag 'blank') in: {flags_blank}")
    return _finish(parts, led, rej, ["area", "period", "source_file", "source_line", "_order"])


def _uof_checks(name: str, vals: dict, group_cols: list[str], levels: list[int], led: Ledger) -> None:
    """Note whether the ethnicity columns add to the total, and sub-tactics to their parent."""
    eth = [c for c in group_cols if c != "Number of times tactic reported"]
    if not eth or "Number of times tactic reported" not in vals:
        return
    m = pd.DataFrame({c: vals[c] for c in eth})
    total = vals["Number of times tactic reported"]
    complete = m.notna().all(axis=1) & total.notna()
    diff = (m.sum(axis=1) - total).abs() > 1e-9
    bad = complete & diff
    led.notes.append(
        f"{name}: per-ethnicity counts sum to 'Number of times tactic reported' on {int((complete & ~diff).sum()):,} of "
        f"{int(complete.sum()):,} rows with every value present ({int(bad.sum())} differ"
        + (f": lines {list(np.flatnonzero(bad.to_numpy())[:10])}" if bad.any() else "")
        + f"; {int((~complete).sum())} row(s) have blanks)"
    )
    lv = np.asarray(levels)
    ok = bad_n = 0
    for i in np.flatnonzero(lv == 2):
        j = i + 1
        while j < len(lv) and lv[j] == 3:
            j += 1
        if j > i + 1:
            kids = total.iloc[i + 1 : j]
            if kids.notna().all() and pd.notna(total.iat[i]):
                ok += int(abs(kids.sum() - total.iat[i]) < 1e-9)
                bad_n += int(abs(kids.sum() - total.iat[i]) >= 1e-9)
    led.notes.append(
        f"{name}: sub-tactics add up to their '..., of which' parent in {ok} case(s), differ in {bad_n} "
        "(parents with blank sub-tactics not checked)"
    )
