"""From stop records (canonical events, e.g. read with :func:`equity_metrics.read_opp`) to threshold-test counts."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ...errors import DataValidationError

__all__ = ["threshold_counts"]


def threshold_counts(
    events: pd.DataFrame,
    *,
    area: str = "county_name",
    group: str = "ethnicity",
    search: str = "search_conducted",
    hit: str = "hit",
    groups: Iterable[str] | None = ("White", "Black", "Hispanic"),
    min_stops: int = 0,
) -> pd.DataFrame:
    """Count stops, searches and hits by area x group, as the threshold test needs them.

    Follows OPP's preparation: stops with an unknown area, group or search flag are dropped, and so
    are searches whose outcome (``hit``) is unknown (the stop cannot be counted as a search with or
    without a find). Each drop is counted in ``result.attrs["dropped"]``.

    Parameters
    ----------
    events
        Stop records: a DataFrame or a ``ReadResult`` (its ``.data``), one row per stop.
    area, group, search, hit
        Columns: the area (e.g. ``county_name``, ``district``), the group (``ethnicity``), whether
        the stop led to a search (boolean) and whether the search found something (boolean).
    groups
        Groups to keep, in this order (default White, Black, Hispanic, as OPP); ``None`` keeps all.
    min_stops
        Drop areas with fewer stops than this in total (OPP's 2017 run used 1,000).

    Returns
    -------
    pandas.DataFrame
        ``area, group, stops, searches, hits``, areas by decreasing stops (ties by name), groups in
        the given order; ``attrs["dropped"]`` counts the rows dropped and why.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"county_name": ["A", "A", "A", "B"], "ethnicity": ["White", "Black", "Black", "White"],
    ...                    "search_conducted": [True, False, True, None], "hit": [False, None, True, None]})
    >>> c = threshold_counts(ev)
    >>> c[["area", "group", "stops", "searches", "hits"]].values.tolist()
    [['A', 'White', 1, 1, 0], ['A', 'Black', 2, 1, 1]]
    >>> c.attrs["dropped"]["search_unknown"]
    1
    """
    df = getattr(events, "data", events)
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"events must be a DataFrame of stop records (or a ReadResult), not {type(events).__name__}")
    missing = [c for c in (area, group, search, hit) if c not in df.columns]
    if missing:
        raise DataValidationError(f"events lack column(s) {missing}; columns present: {list(df.columns)[:25]}. "
                                  "Name them with area=, group=, search=, hit= (OPP files: county_name or district)")
    d = pd.DataFrame({"area": df[area].astype("string"), "group": df[group].astype("string"),
                      "searched": df[search].astype("boolean"), "hit": df[hit].astype("boolean")})
    dropped = {"area_unknown": int(d["area"].isna().sum())}
    d = d[d["area"].notna()]
    dropped["group_unknown"] = int(d["group"].isna().sum())
    d = d[d["group"].notna()]
    if groups is not None:
        groups = [str(g) for g in groups]
        dropped["other_group"] = int((~d["group"].isin(groups)).sum())
        d = d[d["group"].isin(groups)]
    dropped["search_unknown"] = int(d["searched"].isna().sum())
    d = d[d["searched"].notna()]
    unknown_hit = d["searched"].astype(bool) & d["hit"].isna()
    dropped["search_outcome_unknown"] = int(unknown_hit.sum())
    d = d[~unknown_hit]
    d["searched"] = d["searched"].astype(bool)
    d["hit"] = d["hit"].fillna(False).astype(bool) & d["searched"]
    out = (d.groupby(["area", "group"], observed=True)
           .agg(stops=("searched", "size"), searches=("searched", "sum"), hits=("hit", "sum")).reset_index())
    totals = out.groupby("area")["stops"].sum()
    keep = totals[totals >= min_stops]
    dropped["areas_below_min_stops"] = int((totals < min_stops).sum())
    order = sorted(keep.index, key=lambda a: (-int(keep[a]), str(a)))
    gorder = groups if groups is not None else sorted(out["group"].unique())
    out = out[out["area"].isin(order)].copy()
    out["_a"] = out["area"].map({a: i for i, a in enumerate(order)})
    out["_g"] = out["group"].map({g: i for i, g in enumerate(gorder)})
    out = out.sort_values(["_a", "_g"]).drop(columns=["_a", "_g"]).reset_index(drop=True)
    out["area"] = out["area"].astype(object)
    out["group"] = out["group"].astype(object)
    out = out.astype({"stops": "int64", "searches": "int64", "hits": "int64"})
    out.attrs["dropped"] = dropped
    return out
