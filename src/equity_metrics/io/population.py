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
* any wide table (an area column and one column per ethnic group) or long table
  (area, group, population columns).

Areas are keyed to join across sources: force areas by their police.uk slug
(``metropolitan``, ``city-of-london``), other areas by
:func:`~equity_metrics.areas.normalise_area_name`, and England and Wales as
``england-and-wales`` (the key the official count tables use).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..areas import FORCES, normalise_area_name, normalise_force
from ..errors import DataValidationError, FileFormatError, MappingError, MissingColumnsError, OptionError, ReadError
from ..ethnicity import BROAD_GROUPS, DETAILED_GROUPS, classify_label
from ..ledger import FileRecord, Ledger, ReadResult, Rejects
from ..schema import conform
from ._numbers import (
    SUPPRESSED, age_band_of, as_categorical, bad_records_frame, concat_keeping_categories, flag_counts, parse_counts,
    reject_frame, to_string, unparsed_text,
)
from ._sources import PathLike, iter_files, parse_csv_text, raw_json, sha256_bytes

__all__ = ["read_population", "age_band_of", "PopulationLevel"]

PopulationLevel = Literal["broad", "detailed", "all"]
AreaType = Literal["force", "local_authority", "region", "country"]
_CODE_TYPES = {
    "E06": "local_authority", "E07": "local_authority", "E08": "local_authority", "E09": "local_authority",
    "W06": "local_authority", "E10": "county", "E11": "metropolitan_county", "E12": "region",
    "E92": "country", "W92": "country", "K04": "country", "K03": "country", "E23": "force", "W15": "force",
}
_TOTALS = {"all", "total", "all usual residents", "all persons", "all categories ethnic group", "all ethnic groups"}
_GROUP_CATS = list(BROAD_GROUPS) + ["All"]
_LEVEL_RANK = {"total": 0, "broad": 1, "detailed": 2}


# --------------------------------------------------------------------------- layout detection


def _clean_label(col: str) -> str:
    return re.sub(r"^Ethnic Group:\s*|;\s*measures:\s*Value$", "", col.strip(), flags=re.I).strip()


def _classify(label: str, chinese_as: str) -> tuple[str, str, str, bool]:
    n = re.sub(r"[^a-z0-9]+", " ", label.lower()).strip()
    if n in _TOTALS or n.startswith("all categories"):
        return "All", "All", "total", True
    g, d, ok = classify_label(label, chinese_as=chinese_as)  # type: ignore[arg-type]
    return g, d, ("broad" if d == g else "detailed"), ok


def _find(cols: list[str], patterns: Iterable[str]) -> str | None:
    for p in patterns:
        for c in cols:
            if re.fullmatch(p, c.strip(), flags=re.I):
                return c
    return None


_LA_COLS = (r"geography( name)?", r"lad\d*nm", r"local[ _]authority( name)?", r"la[ _]name")
_FORCE_COLS = (r"pfa\d*nm", r"police force( area)?( name)?", r"force( name)?", r"pfa")
_AREA_COLS = (r"area( name)?", r"area_name", r"name", r"geography_name")
_CODE_COLS = (r"geography[ _]code", r"area[ _]code", r"code")


def _layout(cols: list[str], name: str, chinese_as: str) -> dict:
    lay: dict = {"name": name}
    la, force = _find(cols, _LA_COLS), _find(cols, _FORCE_COLS)
    area = la or force or _find(cols, _AREA_COLS)
    if area is None:
        raise MissingColumnsError(
            file=name, missing=["area name column (e.g. PFA16NM, Geography Name, Police force)"], found=cols,
            hint="Rename the column naming the areas to 'area', or see equity_metrics.io.population",
        )
    lay["area"], lay["area_kind"] = area, ("la" if area == la else "force" if area == force else None)
    lay["pfa"] = force if (la and force) else None
    lay["pfa_code"] = _find(cols, (r"pfa\d*cd",)) if lay["pfa"] else None
    lay["la_alt"] = _find([c for c in cols if c != area], (r"lad\d*nm",)) if la else None
    lay["code"] = _find(cols, _CODE_COLS) or _find(cols, (r"lad\d*cd",) if la else (r"pfa\d*cd",) if force else ())
    lay["sex"], lay["age"] = _find(cols, (r"sex", r"gender")), _find(cols, (r"age", r"age[ _]years?", r"age[ _]band", r"age[ _]range"))
    used = {v for k, v in lay.items() if k != "name" and v and v in cols}
    gcol, vcol = _find(cols, (r"group", r"ethnic[ _]group", r"ethnicity")), _find(cols, (r"population", r"count", r"value", r"obs(ervation)?(_value)?"))
    if gcol and vcol:
        lay["long"] = (gcol, vcol)
        lay["groups"], lay["ignored"] = {}, [c for c in cols if c not in used | {gcol, vcol}]
        return lay
    lay["long"] = None
    groups, ignored = {}, []
    for c in cols:
        if c in used:
            continue
        lab = _clean_label(c)
        if _classify(lab, chinese_as)[3]:
            groups[c] = lab
        else:
            ignored.append(c)
    if not groups:
        if _find(cols, (r"lad\d*cd", r"lad\d*nm")) and force:
            raise FileFormatError(
                "this is a local-authority to police-force-area lookup, not a population table", file=name,
                hint="Pass it as lookup= to read_population(..., to='force')",
            )
        raise FileFormatError(
            f"no ethnic-group columns found (columns: {cols[:20]})", file=name,
            hint="A population table needs one column per ethnic group, or 'group' and 'population' columns",
        )
    lay["groups"], lay["ignored"] = groups, ignored
    return lay


def _is_lookup(cols: list[str]) -> bool:
    if not (_find(cols, (r"lad\d*cd", r"lad\d*nm")) and _find(cols, (r"pfa\d*nm",))):
        return False
    return not any(_classify(_clean_label(c), "Asian")[3] for c in cols)


def _vintage(vintage: str | None, name: str) -> str:
    if vintage is not None:
        if not isinstance(vintage, str) or not vintage.strip():
            raise DataValidationError(f"vintage must be a non-empty string such as 'census2011', got {vintage!r}")
        return vintage.strip()
    m = re.search(r"census[^a-z0-9]?(\d{4})", os.path.basename(name).lower())
    if not m:
        raise ReadError(
            "cannot tell the census vintage from the file name", file=name,
            hint="Pass vintage='census2011' (or 'census2021', ...)",
        )
    return f"census{m.group(1)}"


def _source_label(lay: dict, vintage: str, name: str) -> str:
    labels = set(lay["groups"].values())
    if vintage == "census2011" and any(c.lower().startswith("ethnic group:") for c in lay["groups"]):
        return "ONS Census 2011 QS201EW"
    if vintage == "census2011" and "Chinese" in labels and not any(":" in x for x in labels):
        return "ONS Census 2011 QS201EW (police 6-group scheme)"
    if vintage == "census2021" and len([x for x in labels if ":" in x]) >= 19:
        by = "single year of age" if lay["age"] else "sex" if lay["sex"] else "area"
        return f"ONS Census 2021 ethnic group (19 groups) by {by}"
    return f"{vintage}: {os.path.basename(name)}"


# --------------------------------------------------------------------------- rows -> long


def _rows(f: pd.DataFrame, lay: dict, area_type: str | None, led: Ledger) -> pd.DataFrame:
    """One row per input row: area keys, sex and age."""
    name = f[lay["area"]].str.strip()
    code = f[lay["code"]].str.strip().replace("", pd.NA) if lay["code"] else pd.Series(pd.NA, index=f.index, dtype="string")
    by_code = code.astype("string").str[:3].map(_CODE_TYPES)
    default = area_type or {"force": "force", "la": "local_authority"}.get(lay["area_kind"] or "")
    if default is None and by_code.isna().any():
        raise FileFormatError(
            f"cannot tell what kind of areas the column {lay['area']!r} holds", file=lay["name"],
            hint="Pass area_type='force' (police force areas) or 'local_authority'",
        )
    atype = by_code.fillna(default).astype(str)
    uniq = pd.unique(name)
    as_force, as_area = {u: normalise_force(u) for u in uniq}, {u: normalise_area_name(u) for u in uniq}
    key = pd.Series(np.where(atype == "force", name.map(as_force), name.map(as_area)), index=f.index, dtype="string")
    key = key.mask(code.astype("string").str.startswith("K04").fillna(False) | (key == "england and wales"), "england-and-wales")
    forces = key[(atype == "force") & (name != "")]
    unknown = sorted(set(forces) - set(FORCES))
    if unknown:
        led.unknown_by_field["area"] = led.unknown_by_field.get("area", 0) + int(forces.isin(unknown).sum())
        led.notes.append(f"{lay['name']}: force area name(s) not among the police.uk forces: {unknown[:10]} (kept)")
    cat = pd.Categorical
    out = pd.DataFrame({"area": cat(key), "area_name": cat(name), "area_code": cat(code), "area_type": cat(atype)})
    if lay["sex"]:
        s = f[lay["sex"]].str.strip()
        low = s.str.lower()
        sex = np.select(
            [low.isin(["female", "females", "f"]), low.isin(["male", "males", "m"]), low.isin(["all", "all persons", "persons", "total"])],
            ["Female", "Male", "All"], default=s.to_numpy(dtype=object),
        )
        odd = ~pd.Series(sex, index=f.index).isin(["Female", "Male", "All"])
        if odd.any():
            led.unknown_by_field["sex"] = led.unknown_by_field.get("sex", 0) + int(odd.sum())
        out["sex"] = cat(sex)
    else:
        out["sex"] = "All"
    if lay["age"]:
        raw = f[lay["age"]].str.strip()
        if re.fullmatch(r"age[ _](band|range)", lay["age"].strip(), flags=re.I):
            # already banded (e.g. police.uk bands): keep the labels; order by the first number in each
            first = pd.to_numeric(raw.str.extract(r"(\d{1,3})", expand=False), errors="coerce")
            first = first.where(~raw.str.lower().str.startswith("under"), -1.0)
            out["age_band"], out["age"], out["_age_rank"] = cat(raw), np.nan, first.astype("float64")
            return out.reset_index(drop=True)
        num = pd.to_numeric(raw.str.extract(r"^(\d{1,3})(?:\s*(?:\+|or over|and over|years? and over))?$", expand=False), errors="coerce")
        if num.isna().any():
            led.unknown_by_field["age"] = led.unknown_by_field.get("age", 0) + int(num.isna().sum())
        out["age_band"], out["age"], out["_age_rank"] = cat(raw), num.astype("float64"), num.astype("float64")
        if raw.str.contains(r"\d\s*(?:\+|or over|and over)", regex=True).any():
            led.notes.append(f"{lay['name']}: the top age is open-ended ('100 or over' has age 100)")
    else:
        out["age_band"], out["age"], out["_age_rank"] = "All", np.nan, np.nan
    return out.reset_index(drop=True)


def _melt(f: pd.DataFrame, rows: pd.DataFrame, lay: dict, chinese_as: str, blank_zero: bool, led: Ledger) -> pd.DataFrame:
    """Wide (or long) input -> one row per input row x group, as the source gives it."""
    n = len(rows)
    if lay["long"]:
        gcol, vcol = lay["long"]
        codes, uniq = pd.factorize(f[gcol].str.strip().to_numpy(dtype=object))
        rawv = f[vcol].to_numpy(dtype=object)
        rid, order = np.arange(n), np.zeros(n, dtype=int)
    else:
        uniq = list(lay["groups"].values())
        g = len(uniq)
        codes = np.repeat(np.arange(g), n)
        rawv = f[list(lay["groups"])].to_numpy(dtype=object).ravel(order="F")
        rid, order = np.tile(np.arange(n), g), codes
    pc = parse_counts(pd.Series(rawv, dtype=object), percent="reject", negative="flag")
    values, flag = pc.values.to_numpy(), pc.flag
    fc = flag_counts(flag)
    for k, v in fc.items():
        target = led.unknown_by_field if k in ("unparseable", "negative") else led.missing_by_field
        target["population"] = target.get("population", 0) + v
    if fc.get("blank"):
        if blank_zero:
            values = np.where(flag.isin(["blank"]).to_numpy(), 0.0, values)
            led.notes.append(f"{lay['name']}: {fc['blank']:,} blank cell(s) read as 0 (ONS: blank = 0 after rounding/suppression; flag 'blank' kept)")
        else:
            led.notes.append(f"{lay['name']}: {fc['blank']:,} blank cell(s) kept as NaN (flag 'blank')")
    sup = sum(fc.get(k, 0) for k in SUPPRESSED)
    if sup:
        led.notes.append(f"{lay['name']}: {sup:,} suppressed cell(s) ({', '.join(k for k in SUPPRESSED if fc.get(k))}) kept as NaN with their flag")
    table = [_classify(str(u), chinese_as) for u in uniq]
    bad = [str(u) for u, t in zip(uniq, table) if not t[3]]
    if bad:
        nb = int(np.isin(codes, [i for i, t in enumerate(table) if not t[3]]).sum())
        led.unknown_by_field["group"] = led.unknown_by_field.get("group", 0) + nb
        led.notes.append(f"{lay['name']}: unrecognised group label(s) {bad[:10]} read as 'Not stated' (raw kept)")
    long = rows.iloc[rid].reset_index(drop=True)
    long["_rid"], long["_order"] = rid, order
    for j, col in enumerate(("group", "group_detailed", "group_level")):
        long[col] = pd.Categorical(np.array([t[j] for t in table], dtype=object)[codes])
    long["group_raw"] = pd.Categorical.from_codes(codes, categories=pd.Index([str(u) for u in uniq]))
    long["population"] = values
    long["population_flag"] = flag.astype("category")
    long["unparsed_raw"] = pd.Categorical(unparsed_text({"population": pd.Series(rawv, dtype=object)}, {"population": flag}))
    return long


def _aggregate(long: pd.DataFrame, keys: list[str], raw: str | None = None) -> pd.DataFrame:
    """Sum population over ``keys``; flag 'partial' when some parts are NaN, 'missing' when all are."""
    work = long.assign(_nan=long["population"].isna().astype(int), _n=1)
    g = work.groupby(keys, sort=False, dropna=False, observed=True)
    spec = dict(population=("population", "sum"), _nan=("_nan", "sum"), _n=("_n", "sum"),
                population_flag=("population_flag", "first"), source_line=("source_line", "min"),
                _line_max=("source_line", "max"), _order=("_order", "min"))
    if "_la" in long.columns and "_la" not in keys:
        spec["areas"] = ("_la", "nunique")
    if "unparsed_raw" in long.columns:
        spec["unparsed_raw"] = ("unparsed_raw", "first")
    out = g.agg(**spec).reset_index()
    many = out["_n"] > 1
    out["population"] = out["population"].where(out["_nan"] < out["_n"])
    flag = np.where(out["_nan"] == 0, None, np.where(out["_nan"] == out["_n"], "missing", "partial"))
    out["population_flag"] = pd.Categorical(np.where(many, flag, out["population_flag"].astype(object).to_numpy()))
    out["source_line"] = out["source_line"].where(out["source_line"] == out["_line_max"])
    if raw is None and "group_raw" not in keys:
        pairs = long[["group", "group_raw"]].drop_duplicates()
        labels = {g_: list(v) for g_, v in pairs.groupby("group", observed=True, sort=False)["group_raw"]}
        out["group_raw"] = out["group"].map(
            {g_: (" + ".join(ls) if len(ls) <= 2 else f"sum of {len(ls)} groups") for g_, ls in labels.items()}
        )
    return out.drop(columns=["_nan", "_n", "_line_max"])


def _select_level(long: pd.DataFrame, level: str, name: str, led: Ledger) -> pd.DataFrame:
    if level == "all":
        return long
    # the finest groups: detailed columns, plus broad columns of groups the file does not break down
    # (a lone Chinese column, as in the police 6-group scheme, is not a breakdown of Asian)
    det = (long["group_level"] == "detailed").to_numpy()
    broken = set(long.loc[det & (long["group_detailed"] != "Asian: Chinese").to_numpy(), "group"])
    full = bool(broken)
    parts = long[det | ((long["group_level"] == "broad") & ~long["group"].isin(broken)).to_numpy()]
    mode = "the sum of their detailed groups" if full else "the broad columns plus any stand-alone detailed column (e.g. Chinese)"
    if len(long) and not len(parts):
        raise FileFormatError(f"the file gives only totals, no ethnic groups, so level={level!r} has nothing to read", file=name,
                              hint="Pass level='all' to read the totals (group 'All')")
    if level == "detailed":
        return parts
    keys = [c for c in long.columns if c not in ("group_raw", "group_detailed", "group_level", "population", "population_flag",
                                                  "unparsed_raw", "source_line", "_order")]
    out = _aggregate(parts, keys)
    out["group_detailed"], out["group_level"] = out["group"], "broad"
    led.choices["broad_groups"] = f"broad groups are {mode}"
    if full:  # check against the file's own broad and total columns
        given = long[long["group_level"].isin(["broad", "total"])]
        if len(given):
            chk = given.merge(out[["_rid", "group", "population"]], on=["_rid", "group"], how="left", suffixes=("", "_sum"))
            tot = out.groupby("_rid")["population"].sum(min_count=1)
            chk.loc[chk["group"] == "All", "population_sum"] = chk.loc[chk["group"] == "All", "_rid"].map(tot)
            both = chk["population"].notna() & chk["population_sum"].notna()
            agree = both & ((chk["population"] - chk["population_sum"]).abs() < 0.5)
            led.notes.append(f"{name}: the file's broad/total columns equal the sum of their parts in {int(agree.sum()):,} of {int(both.sum()):,} cells")
    return out


# --------------------------------------------------------------------------- to="force"


def _load_lookup(lookup: object, encoding: str) -> tuple[pd.DataFrame, str]:
    if isinstance(lookup, tuple):
        frame, lname = lookup
    elif isinstance(lookup, pd.DataFrame):
        frame, lname = lookup.astype(str).map(str.strip), "lookup table"
        frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    else:
        files = list(iter_files(lookup))  # type: ignore[arg-type]
        if len(files) != 1:
            raise ReadError(f"lookup= must be one CSV file; {len(files)} found", hint="Pass the LA -> police force area lookup CSV")
        lname, data = files[0]
        frame = parse_csv_text(data, lname, encoding=encoding).frame
    cols = list(frame.columns)
    la_cd, la_nm = _find(cols, (r"lad\d*cd", r"la[ _]code")), _find(cols, (r"lad\d*nm", r"la[ _]name", r"local[ _]authority"))
    f_nm, f_cd = _find(cols, (r"pfa\d*nm", r"police force( area)?", r"force")), _find(cols, (r"pfa\d*cd",))
    if f_nm is None or (la_cd is None and la_nm is None):
        miss = (["PFA16NM"] if f_nm is None else []) + (["LAD16NM"] if la_cd is None and la_nm is None else [])
        raise MissingColumnsError(file=lname, missing=miss, found=cols, hint="The lookup needs local-authority code or name columns and a police force area name column")
    lk = pd.DataFrame({
        "la_code": frame[la_cd] if la_cd else "", "la_key": frame[la_nm].map(normalise_area_name) if la_nm else "",
        "force": frame[f_nm].map(normalise_force), "force_name": frame[f_nm], "force_code": frame[f_cd] if f_cd else pd.NA,
    }).drop_duplicates()
    for k in ("la_code", "la_key"):
        clash = lk[lk[k] != ""].groupby(k)["force"].nunique()
        if (clash > 1).any():
            raise MappingError(f"{lname}: local authority {clash[clash > 1].index[0]!r} maps to more than one police force area")
    return lk, lname


def _bare(key: str) -> str:
    return re.sub(r"^(city|county|royal borough) of ", "", key)


def _assign_force(f: pd.DataFrame, rows: pd.DataFrame, lay: dict, lookup, encoding: str, led: Ledger) -> pd.DataFrame:
    """Force slug, name and code for each LA row (NA where unmatched)."""
    out = pd.DataFrame(index=rows.index, columns=["force", "force_name", "force_code", "how"], dtype="object")
    if lookup is None:
        if not lay["pfa"]:
            raise ReadError("to='force' needs the local-authority to police force area lookup", file=lay["name"],
                            hint="Pass lookup='lad16_csp16_pfa16_lookup.csv' (or a DataFrame with LAD16CD/LAD16NM and PFA16NM)")
        out["force_name"] = f[lay["pfa"]].str.strip().to_numpy()
        out["force"] = out["force_name"].map(normalise_force)
        out["force_code"] = f[lay["pfa_code"]].str.strip().to_numpy() if lay["pfa_code"] else pd.NA
        out["how"] = f"the file's own {lay['pfa']!r} column"
        return out.where(out["force_name"].astype(str) != "")
    lk, lname = _load_lookup(lookup, encoding)
    by_name = lk[lk["la_key"] != ""].drop_duplicates("la_key").set_index("la_key")
    names = pd.Series(rows["area_name"].astype(object).map(normalise_area_name).to_numpy(), index=rows.index)
    # areas ONS publishes combined ("City of London and Westminster", "Cornwall and Isles of Scilly")
    for key in pd.unique(names):
        parts = key.split(" and ")
        if key in by_name.index or len(parts) < 2 or not all(p in by_name.index for p in parts):
            continue
        hit, i = by_name.loc[parts], (names == key).to_numpy()
        if hit["force"].nunique() == 1:
            out.loc[i, ["force", "force_name", "force_code"]] = hit.iloc[[0] * int(i.sum())][["force", "force_name", "force_code"]].to_numpy()
            out.loc[i, "how"] = "combined local authorities in one force area"
        else:
            out.loc[i, "how"] = "spans"
    tries = [("code", pd.Series(rows["area_code"].astype(object).fillna("").to_numpy(), index=rows.index),
              lk[lk["la_code"] != ""].drop_duplicates("la_code").set_index("la_code")),
             ("name", names, by_name)]
    if lay["la_alt"]:
        tries.append((f"the file's {lay['la_alt']!r} column", pd.Series(f[lay["la_alt"]].map(normalise_area_name).to_numpy(), index=rows.index), by_name))
    bare = by_name.rename(index=_bare)  # "city of bristol" ~ "bristol"
    tries.append(("name without 'City of'/'County of'", names.map(_bare), bare[~bare.index.duplicated(keep=False)]))
    for how, keys, table in tries:
        todo = (out["how"].isna() & keys.isin(table.index)).to_numpy(dtype=bool)
        if todo.any():
            hit = table.loc[keys[todo].to_numpy()]
            out.loc[todo, ["force", "force_name", "force_code"]] = hit[["force", "force_name", "force_code"]].to_numpy()
            out.loc[todo, "how"] = how
            if how == "code":
                renamed = sorted({(a, b) for a, b in zip(rows["area_name"][todo].astype(str), hit["la_key"]) if normalise_area_name(a) != b})
                if renamed:
                    led.notes.append(f"{lay['name']}: matched to the lookup by code although the names differ: {renamed[:10]}")
    led.choices["force_lookup"] = os.path.basename(lname)
    return out


def _to_force(f, rows: pd.DataFrame, lay: dict, lookup, encoding: str, keep: np.ndarray, reasons: np.ndarray, led: Ledger) -> np.ndarray:
    """Re-key local-authority rows to their force area (in place); return the reject reasons."""
    is_la = (rows["area_type"] == "local_authority").to_numpy()
    other = ~is_la & (rows["area_type"] != "force").to_numpy()
    reasons = np.where(keep & other, "not a local authority (region or country total): not summed into forces", reasons)
    if not is_la.any():
        return reasons
    fa = _assign_force(f, rows, lay, lookup, encoding, led)
    spans = keep & is_la & (fa["how"] == "spans").to_numpy()
    miss = keep & is_la & fa["force"].isna().to_numpy() & ~spans
    reasons = np.where(spans, "combined local authorities in more than one police force area: cannot be split", reasons)
    reasons = np.where(miss, "local authority not in the lookup", reasons)
    for m, what in ((miss, "local authorities that match no police force area in the lookup"),
                    (spans, "combined areas spanning more than one police force area")):
        if m.any():
            led.notes.append(f"{lay['name']}: {int(m.sum())} row(s) of {what} (rejected, listed in rejects): "
                             f"{sorted(set(rows['area_name'][m].astype(str)))[:20]}")
    done = led.choices.setdefault("force_assignment", {})
    for k, v in fa.loc[keep & is_la & ~miss & ~spans, "how"].value_counts().items():
        done[str(k)] = done.get(str(k), 0) + int(v)
    led.choices["force_assignment"] = dict(sorted(done.items()))
    rows["_la"] = rows["area"]
    for c, src in (("area", "force"), ("area_name", "force_name"), ("area_code", "force_code"), ("area_type", None)):
        col = rows[c].astype(object).to_numpy().copy()
        col[is_la] = fa[src].to_numpy()[is_la] if src else "force"
        rows[c] = pd.Categorical(col)
    return reasons


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
