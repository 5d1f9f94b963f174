"""Checking a stops/searches/hits table and turning it into the models' index arrays (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import DataValidationError

__all__ = ["PreparedCounts", "prepare_counts"]


@dataclass(frozen=True)
class PreparedCounts:
    """The cells of a threshold test in model order, with 0-based indices."""

    table: pd.DataFrame          # area, group, geography, stops, searches, hits (model order)
    areas: list                  # input order of first appearance (index 0 is the pinned area)
    groups: list                 # reference group first, then input order
    area_idx: np.ndarray
    group_idx: np.ndarray
    geography_idx: np.ndarray
    geo_group_idx: np.ndarray
    n_geo_group: int


def _counts_column(df: pd.DataFrame, col: str) -> np.ndarray:
    v = pd.to_numeric(df[col], errors="coerce")
    if v.isna().any():
        bad = df.loc[v.isna(), col].iloc[0]
        raise DataValidationError(f"column {col!r} has a missing or non-numeric count ({bad!r}); "
                                  "give whole-number counts (fill empty cells with 0 where nothing happened)")
    arr = v.to_numpy(float)
    if (arr < 0).any() or (np.floor(arr) != arr).any():
        raise DataValidationError(f"column {col!r} must hold whole numbers >= 0 (found {arr[(arr < 0) | (np.floor(arr) != arr)][0]!r})")
    return arr.astype(np.int64)


def prepare_counts(counts: pd.DataFrame, *, area: str, group: str, stops: str, searches: str, hits: str,
                   geography: str | None, reference_group: str) -> PreparedCounts:
    """Validate the counts table and build the index arrays (see :func:`threshold_test`)."""
    if not isinstance(counts, pd.DataFrame):
        raise DataValidationError(f"counts must be a pandas DataFrame of area x group counts, not {type(counts).__name__}; "
                                  "build one from stop records with threshold_counts(events)")
    cols = [area, group, stops, searches, hits] + ([geography] if geography else [])
    missing = [c for c in cols if c not in counts.columns]
    if missing:
        raise DataValidationError(f"counts lacks column(s) {missing}; columns present: {list(counts.columns)[:20]}. "
                                  "Name the columns with area=, group=, stops=, searches=, hits=")
    df = counts[cols].copy()
    if df[[area, group]].isna().any().any():
        raise DataValidationError(f"counts has rows with a missing {area!r} or {group!r}; drop or label them first")
    n, s, h = (_counts_column(df, c) for c in (stops, searches, hits))
    if (s > n).any():
        raise DataValidationError(f"{searches!r} exceeds {stops!r} in {int((s > n).sum())} row(s); check the counts")
    if (h > s).any():
        raise DataValidationError(f"{hits!r} exceeds {searches!r} in {int((h > s).sum())} row(s); hits are searches that found something")
    if (n < 1).any():
        raise DataValidationError(f"{int((n < 1).sum())} row(s) have no stops; drop area x group cells without stops")
    df = pd.DataFrame({"area": df[area].to_numpy(), "group": df[group].astype(str).to_numpy(),
                       "geography": df[geography].to_numpy() if geography else "all",
                       "stops": n, "searches": s, "hits": h})
    if df.duplicated(["area", "group"]).any():
        dup = df.loc[df.duplicated(["area", "group"]), ["area", "group"]].iloc[0].tolist()
        raise DataValidationError(f"area x group {dup} appears more than once; aggregate to one row per cell "
                                  "(threshold_counts does this)")
    groups_in = list(pd.unique(df["group"]))
    if reference_group not in groups_in:
        raise DataValidationError(f"reference_group={reference_group!r} is not among the groups {groups_in}; "
                                  "pass reference_group= with one of them")
    if len(groups_in) < 2:
        raise DataValidationError("the threshold test compares groups: give counts for at least two groups")
    areas = list(pd.unique(df["area"]))
    if len(areas) < 2:
        raise DataValidationError("the threshold test needs at least two areas to separate area from group "
                                  "effects (the 2017 code required 5); give counts by area")
    groups = [reference_group] + [g for g in groups_in if g != reference_group]
    area_pos = {a: i for i, a in enumerate(areas)}
    group_pos = {g: i for i, g in enumerate(groups)}
    df["_a"] = df["area"].map(area_pos)
    df["_g"] = df["group"].map(group_pos)
    df = df.sort_values(["_a", "_g"], kind="stable").reset_index(drop=True)
    geos = list(pd.unique(df["geography"]))
    geo_pos = {g: i for i, g in enumerate(geos)}
    geo_idx = df["geography"].map(geo_pos).to_numpy(np.int64)
    geo_group = geo_idx * len(groups) + df["_g"].to_numpy(np.int64)
    uniq = list(pd.unique(geo_group))  # first geography x group in input order is pinned
    geo_group_idx = np.array([uniq.index(v) for v in geo_group], dtype=np.int64)
    if df.groupby("area")["geography"].nunique().max() > 1:
        raise DataValidationError(f"an area lies in more than one {geography!r}; areas must nest in geographies")
    table = df.drop(columns=["_a", "_g"])
    return PreparedCounts(table=table, areas=areas, groups=groups, area_idx=df["_a"].to_numpy(np.int64),
                          group_idx=df["_g"].to_numpy(np.int64), geography_idx=geo_idx,
                          geo_group_idx=geo_group_idx, n_geo_group=len(uniq))
