"""Census table recognition and reshaping for :func:`~equity_metrics.io.population.read_population`.

Holds the private helpers that recognise a population table by its header
(area, code, sex, age and ethnic-group columns; Census 2011 or 2021 vintage;
wide or long layout; an LA -> force lookup mistaken for a table), type each
row's area, melt the group columns into the long ``population`` layout,
aggregate detailed groups and select the requested level. Re-exported from
:mod:`equity_metrics.io.population`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..areas import FORCES, normalise_area_name, normalise_force
from ..errors import DataValidationError, FileFormatError, MissingColumnsError, ReadError
from ..ethnicity import BROAD_GROUPS, classify_label
from ..ledger import Ledger
from ._numbers import SUPPRESSED, flag_counts, parse_counts, unparsed_text

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


_LA_COLS = (r"geography( name)?", r"lad\d*nm", r"local[ _]authority( name)?", r"la[ _]name",
            # census 2021 local authority files: LAD / LAD_name, ONS "Lower tier local authorities"
            r"lad", r"lad\d*[ _]?name", r"(lower|upper)[ _]tier[ _]local[ _]authorit(y|ies)( name)?",
            r"local[ _]authorit(y|ies)[ _]district( name)?")
_LA_CODE_COLS = (r"lad\d*cd", r"lad\d*[ _]?code", r"(lower|upper)[ _]tier[ _]local[ _]authorit(y|ies)[ _]code",
                 r"local[ _]authorit(y|ies)([ _]district)?[ _]code", r"la[ _]code")
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
    lay["code"] = _find(cols, _CODE_COLS) or _find(cols, _LA_CODE_COLS if la else (r"pfa\d*cd",) if force else ())
    lay["sex"], lay["age"] = _find(cols, (r"sex", r"gender")), _find(cols, (r"age", r"age[ _]years?", r"age[ _]band", r"age[ _]range"))
    used = {v for k, v in lay.items() if k != "name" and v and v in cols}
    gcol = _find(cols, (r"group", r"ethnic[ _]group", r"ethnicity", r"ethnic[ _]group \(\d+ categories\)"))
    vcol = _find(cols, (r"population", r"count", r"value", r"obs(ervation)?(_value)?"))
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
    twice = sorted({m.group(1) for c in cols if (m := re.fullmatch(r"(.+)\.\d+", c)) and m.group(1) in groups})
    if twice:
        raise FileFormatError(
            f"the group column(s) {twice} appear more than once in the header (read as {twice[0]!r}, {twice[0] + '.1'!r}): "
            "summing them would count people twice", file=name,
            hint="Remove or rename the repeated columns so that each ethnic group has one column",
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

