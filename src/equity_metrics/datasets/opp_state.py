"""A generated state-sized example in the Stanford Open Policing Project layout, for the threshold test.

police.uk publishes searches only, so the threshold test (which needs stops, searches and hits)
is demonstrated on stop records in the OPP standardized layout (one row per stop; read with
:func:`equity_metrics.read_opp`). :func:`generate_opp_state` simulates a state: counties of very
different sizes, White, Black and Hispanic drivers in varying shares, and searches and hits that
follow one of the threshold models with planted thresholds, so that an analysis can be checked
against the truth it should recover (``OppState.truth``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..errors import OptionError
from ..models.threshold._simulate import simulate_counts

__all__ = ["OppState", "generate_opp_state", "OPP_STATE_SEED", "OPP_STATE_RACES"]

OPP_STATE_SEED = 20170601
#: OPP race labels and the canonical (US scheme) labels read_opp gives them
OPP_STATE_RACES = {"white": "White", "black": "Black", "hispanic": "Hispanic"}
_COLUMNS = ["raw_row_number", "date", "time", "location", "county_name", "subject_age", "subject_race",
            "subject_sex", "type", "arrest_made", "citation_issued", "warning_issued", "outcome",
            "contraband_found", "search_conducted"]


@dataclass(frozen=True, eq=False)
class OppState:
    """A generated state: ``stops`` (OPP layout, one row per stop) and the planted ``truth``.

    ``truth`` has one row per county x group: ``area`` (county_name), ``group`` (canonical label),
    ``stops``, ``searches``, ``hits`` (exact counts in ``stops``), the planted ``threshold``
    (probability scale) and the model's ``search_rate`` and ``hit_rate``.
    """

    stops: pd.DataFrame
    truth: pd.DataFrame
    model: str
    seed: int

    def write(self, path: str | Path) -> Path:
        """Write the stops as an OPP-layout CSV (``NA`` for missing, ``TRUE``/``FALSE`` booleans)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.stops.to_csv(path, index=False, na_rep="NA")
        return path

    def aggregate_truth(self, weights: Literal["area", "group"] = "area") -> pd.DataFrame:
        """Planted group thresholds averaged over counties as :func:`threshold_test` averages them."""
        check_option("weights", weights, Literal["area", "group"])
        t = self.truth
        w = t.groupby("area", sort=False)["stops"].transform("sum") if weights == "area" else t["stops"]
        out = (t.assign(_w=w, _wt=w * t["threshold"]).groupby("group", sort=False)[["_wt", "_w"]].sum())
        return pd.DataFrame({"group": out.index, "threshold": (out["_wt"] / out["_w"]).to_numpy()}).reset_index(drop=True)


def generate_opp_state(
    *,
    counties: int = 150,
    model: Literal["flat", "hierarchical"] = "flat",
    median_stops: int = 1500,
    seed: int = OPP_STATE_SEED,
    year: int = 2016,
) -> OppState:
    """Simulate a state's stops in the OPP layout with planted search thresholds.

    County sizes are log-normal (median ``median_stops`` stops, a long tail of large counties);
    group shares vary by county around 65% White, 20% Black, 15% Hispanic. Searches and hits of each
    county x group follow ``model`` (see :func:`equity_metrics.models.threshold_test`), with group
    thresholds planted lower for Black and Hispanic drivers than for White drivers and area effects
    drawn from the model's priors.

    Parameters
    ----------
    counties
        Number of counties (areas), at least 2.
    model
        ``"flat"`` (2017 Beta-signal model) or ``"hierarchical"`` (2020 mixture model).
    median_stops
        Median number of stops per county.
    seed
        Random seed (same seed, same state).
    year
        Calendar year of the stop dates.

    Returns
    -------
    OppState
        ``stops`` (one row per stop, OPP columns) and ``truth`` (one row per county x group).

    Examples
    --------
    >>> st = generate_opp_state(counties=4, median_stops=200, seed=1)
    >>> st.stops.columns[:5].tolist(), int(st.truth["stops"].sum()) == len(st.stops)
    (['raw_row_number', 'date', 'time', 'location', 'county_name'], True)
    """
    check_option("model", model, Literal["flat", "hierarchical"])
    if not isinstance(counties, (int, np.integer)) or counties < 2:
        raise OptionError(f"counties={counties!r}: give a whole number >= 2")
    if not isinstance(median_stops, (int, np.integer)) or median_stops < 10:
        raise OptionError(f"median_stops={median_stops!r}: give a whole number >= 10")
    rng = np.random.default_rng(seed)
    total = np.round(rng.lognormal(np.log(median_stops), 0.8, counties)).astype(int) + 30
    share = rng.dirichlet([13.0, 4.0, 3.0], counties)
    stops = np.maximum(np.round(total[:, None] * share).astype(int), 5)
    sim = simulate_counts(stops, model=model, seed=seed + 1)
    races = list(OPP_STATE_RACES)
    names = [f"County {i + 1:03d}" for i in range(counties)]
    n_flat, s_flat, h_flat = stops.ravel(), sim["searches"].ravel(), sim["hits"].ravel()
    cell = np.repeat(np.arange(n_flat.size), n_flat)
    first = np.repeat(np.cumsum(n_flat) - n_flat, n_flat)
    pos = np.arange(cell.size) - first                    # position of the stop within its cell
    searched = pos < s_flat[cell]
    hit = pos < h_flat[cell]
    area_i, race_i = np.divmod(cell, len(races))
    m = cell.size
    order = rng.permutation(m)
    day = rng.integers(0, 365 + (year % 4 == 0), m)
    sec = rng.integers(0, 86400, m)
    dates = (pd.Timestamp(year=year, month=1, day=1) + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d")
    times = pd.to_datetime(sec, unit="s").strftime("%H:%M:%S")
    outcome = np.where(hit, "arrest", np.where(rng.random(m) < 0.6, "citation", "warning"))
    tf = np.array(["FALSE", "TRUE"])
    df = pd.DataFrame({
        "raw_row_number": np.arange(1, m + 1),
        "date": np.asarray(dates)[order], "time": np.asarray(times)[order],
        "location": np.array([f"{n}" for n in names])[area_i][order],
        "county_name": np.array(names)[area_i][order],
        "subject_age": rng.integers(16, 80, m),
        "subject_race": np.array(races)[race_i][order],
        "subject_sex": np.where(rng.random(m) < 0.68, "male", "female"),
        "type": "vehicular",
        "arrest_made": tf[(outcome == "arrest").astype(int)][order],
        "citation_issued": tf[(outcome == "citation").astype(int)][order],
        "warning_issued": tf[(outcome == "warning").astype(int)][order],
        "outcome": outcome[order],
        "contraband_found": np.where(searched, tf[hit.astype(int)], "NA")[order],
        "search_conducted": tf[searched.astype(int)][order],
    }, columns=_COLUMNS)
    truth = pd.DataFrame({
        "area": np.repeat(names, len(races)), "group": [OPP_STATE_RACES[r] for r in races] * counties,
        "stops": n_flat, "searches": s_flat, "hits": h_flat, "threshold": sim["threshold"].ravel(),
        "search_rate": sim["search_rate"].ravel(), "hit_rate": sim["hit_rate"].ravel()})
    return OppState(stops=df, truth=truth, model=model, seed=seed)
