"""Local authority -> police force area assignment for ``read_population(to="force")``.

Holds the private helpers that load the LA -> police force area lookup (a CSV
or a DataFrame), match each local-authority row to its force by code, name,
an alternative name column or the name without "City of" / "County of"
(combined areas such as "Cornwall and Isles of Scilly" included), record how
each row was matched in the ledger, and re-key the rows to force areas with
reject reasons for those that cannot be matched. Re-exported from
:mod:`equity_metrics.io.population`.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from ..areas import normalise_area_name, normalise_force
from ..errors import MappingError, MissingColumnsError, ReadError
from ..ledger import Ledger
from ._population_layout import _find
from ._sources import iter_files, parse_csv_text


# --------------------------------------------------------------------------- to="force"


def _load_lookup(lookup: object, encoding: str) -> tuple[pd.DataFrame, str]:
    if isinstance(lookup, tuple):
        frame, lname = lookup
    elif isinstance(lookup, pd.DataFrame):
        names = [str(c).strip().lstrip("\ufeff") for c in lookup.columns]
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise ReadError(f"the lookup DataFrame has duplicate column name(s) {dup}", file="lookup table",
                            hint="Drop or rename the repeated columns (one LAD..CD/LAD..NM and one PFA..NM column)")
        frame, lname = lookup.astype(str).map(str.strip), "lookup table"
        frame.columns = names
    else:
        files = list(iter_files(lookup))  # type: ignore[arg-type]
        if len(files) != 1:
            raise ReadError(f"lookup= must be one CSV file; {len(files)} found", hint="Pass the LA -> police force area lookup CSV")
        lname, data = files[0]
        frame = parse_csv_text(data, lname, encoding=encoding).frame
    cols = list(frame.columns)
    la_cd = _find(cols, (r"lad\d*cd", r"la[ _]code", r"lad\d*[ _]?code"))
    la_nm = _find(cols, (r"lad\d*nm", r"la[ _]name", r"local[ _]authority", r"lad", r"lad\d*[ _]?name"))
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

