"""Populations and police.uk stop-and-search records of the synthetic generator."""

from __future__ import annotations

import calendar
from typing import Any

import numpy as np
import pandas as pd

from ..schema import AGE_BANDS
from ._recording import NFA, area_share, file_months, record_outcomes
from ._vocab import (
    AGE_STRUCTURE,
    AREA_SPECS,
    GROUPS,
    HOUR_WEIGHTS,
    LEGISLATION,
    MALE_SHARE,
    NOT_STATED_LABEL,
    OFFICER_CONFUSION,
    OUTCOME_IF_HIT,
    OUTCOME_IF_NO_HIT,
    POLICEUK_HEADER,
    SELF_DEFINED_LABELS,
    SEXES2,
    TZ,
)


def _choice(rng: np.random.Generator, probs: dict[str, float], n: int) -> np.ndarray:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _population(areas: list[str]) -> pd.DataFrame:
    rows = []
    for a in areas:
        spec = AREA_SPECS[a]
        for g in GROUPS:
            for s, ss in zip(SEXES2, (MALE_SHARE, 1 - MALE_SHARE)):
                for b, share in zip(AGE_BANDS, AGE_STRUCTURE[g]):
                    pop = int(round(spec["population"] * spec["shares"][g] * share * ss))
                    rows.append((a, g, s, b, pop))
    df = pd.DataFrame(rows, columns=["area", "group", "sex", "age_band", "population"])
    df["vintage"] = "synthetic"
    df["source"] = "equity_metrics synthetic generator"
    return df


def _population_wide(pop: pd.DataFrame) -> pd.DataFrame:
    wide = pop.pivot_table(index="area", columns="group", values="population", aggfunc="sum", observed=True, sort=False)
    wide = wide[list(GROUPS)].reset_index()
    wide.insert(0, "Police force", [AREA_SPECS[a]["name"] for a in wide["area"]])
    wide = wide.drop(columns="area")
    wide.insert(1, "All", wide[list(GROUPS)].sum(axis=1))
    return wide.astype({c: "int64" for c in ["All", *GROUPS]})


# --------------------------------------------------------------------------- stops
def _simulate_stops(
    rng: np.random.Generator,
    rec: np.random.Generator,
    pop: pd.DataFrame,
    areas: list[str],
    months: pd.PeriodIndex,
    profiles: dict[str, dict[str, Any]],
    p: dict[str, Any],
) -> pd.DataFrame:
    """Draw every search (person and vehicle-only) with its truth columns and police.uk columns.

    ``profiles`` (``_recording.resolve_profiles``) say how each force records searches
    and which months it publishes. What *happens* is drawn from ``rng`` for every month
    of the window (header-only months are true zeros); how it is *recorded* (blanks, the
    linked field, not-stated ethnicity) from ``rec``; then months the force does not
    publish are dropped. So the same seed gives the same searches whatever the
    recording profiles: a clean and a quirky version of one world can be compared row
    by row.
    """
    cells = pop.copy()
    cells["mu_month"] = (
        cells["population"] / 1000.0
        * cells["area"].map(p["base_rate"]).astype(float)
        * cells["group"].map(p["rate_ratio"]).astype(float)
        * cells["sex"].map(p["sex_factor"]).astype(float)
        * cells["age_band"].map(p["age_factor"]).astype(float)
        / 12.0
    )
    zero = {(a, m) for a in areas for m in profiles[a]["header_only_months"]}
    # person searches: Poisson per (area, month, cell); a header-only month is a true zero
    parts = []
    for a, m in [(a, str(m)) for a in areas for m in months]:
        c = cells[cells["area"] == a]
        n = rng.poisson(c["mu_month"].to_numpy()) * int((a, m) not in zero)
        idx = np.repeat(np.arange(len(c)), n)
        part = c.iloc[idx][["area", "group", "sex", "age_band"]].reset_index(drop=True)
        part["month"] = str(m)
        part["vehicle_only"] = False
        nv = rng.poisson(p["vehicle_only_per_month"]) * int((a, m) not in zero)
        if nv:
            veh = pd.DataFrame({"area": a, "group": "", "sex": "", "age_band": "", "month": str(m), "vehicle_only": True}, index=range(nv))
            part = pd.concat([part, veh], ignore_index=True)
        parts.append(part)
    ev = pd.concat(parts, ignore_index=True)
    n = len(ev)
    person = ~ev["vehicle_only"].to_numpy()
    grp = ev["group"].to_numpy(dtype=object)

    # ethnicity fields
    self_def = np.full(n, "", dtype=object)
    officer = np.full(n, "", dtype=object)
    for g in GROUPS:
        m = grp == g
        self_def[m] = _choice(rng, SELF_DEFINED_LABELS[g], int(m.sum()))
        officer[m] = _choice(rng, OFFICER_CONFUSION[g], int(m.sum()))
    u = rec.random(n)
    area_arr = ev["area"].to_numpy(dtype=object)
    sd_blank = area_share(area_arr, profiles, "self_defined_blank_share", p["self_defined_blank_share"])
    ns_label = person & (u < p["not_stated_label_share"])
    ns_blank = person & (u >= p["not_stated_label_share"]) & (u < p["not_stated_label_share"] + sd_blank)
    self_def[ns_label] = NOT_STATED_LABEL
    self_def[ns_blank] = ""
    off_blank = rec.random(n) < area_share(area_arr, profiles, "officer_blank_share")
    officer[off_blank] = ""

    # type, legislation, object
    typ = np.where(person, np.where(rng.random(n) < p["person_and_vehicle_share"], "Person and Vehicle search", "Person search"), "Vehicle search")
    leg_probs = {k: v[0] for k, v in LEGISLATION.items()}
    leg = _choice(rng, leg_probs, n)
    obj = np.full(n, "", dtype=object)
    for k, (_, objs) in LEGISLATION.items():
        m = leg == k
        obj[m] = _choice(rng, objs, int(m.sum()))

    # hits and outcomes
    hit_p = np.where(person, pd.Series(grp).map(p["hit_rate"]).fillna(p["vehicle_only_hit_rate"]).to_numpy(dtype=float), p["vehicle_only_hit_rate"])
    hit = rng.random(n) < hit_p
    outcome = np.where(hit, _choice(rng, OUTCOME_IF_HIT, n), _choice(rng, OUTCOME_IF_NO_HIT, n))
    written_outcome, linked = record_outcomes(rec, area_arr, hit, outcome, profiles)

    # person fields as written (with blanks)
    gender = np.where(person, ev["sex"].to_numpy(dtype=object), "").astype(object)
    gender[rec.random(n) < p["gender_blank_share"]] = ""
    age = np.where(person, ev["age_band"].to_numpy(dtype=object), "").astype(object)
    age[rec.random(n) < p["age_blank_share"]] = ""

    # operation and removal fields
    op = np.where(rng.random(n) < 0.05, "True", "False").astype(object)
    rem = np.where(rng.random(n) < 0.03, "True", "False").astype(object)
    for a in areas:
        m = area_arr == a
        if not AREA_SPECS[a]["operation_field"]:
            op[m] = ""
        if not AREA_SPECS[a]["removal_field"]:
            rem[m] = ""

    # place: a district centroid plus jitter; some blank
    lat = np.zeros(n)
    lon = np.zeros(n)
    district = np.full(n, "", dtype=object)
    for a in areas:
        m = np.flatnonzero(area_arr == a)
        names = list(AREA_SPECS[a]["districts"])
        d = rng.integers(0, len(names), size=len(m))
        cen = np.array([AREA_SPECS[a]["districts"][x] for x in names])
        district[m] = np.array(names, dtype=object)[d]
        lat[m] = cen[d, 0] + rng.uniform(-0.03, 0.03, size=len(m))
        lon[m] = cen[d, 1] + rng.uniform(-0.05, 0.05, size=len(m))
    ll_blank = rec.random(n) < area_share(area_arr, profiles, "latlon_blank_share")
    lat_s = np.array([f"{x:.6f}" for x in lat], dtype=object)
    lon_s = np.array([f"{x:.6f}" for x in lon], dtype=object)
    lat_s[ll_blank] = ""
    lon_s[ll_blank] = ""

    # local date-times
    mstart = pd.PeriodIndex(ev["month"], freq="M").to_timestamp().to_numpy()
    ndays = np.array([calendar.monthrange(int(s[:4]), int(s[5:7]))[1] for s in ev["month"]])
    day = (rng.random(n) * ndays).astype(int)
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    minute = rng.integers(0, 60, size=n)
    frac_area = ev["area"].map({a: AREA_SPECS[a]["fractional_seconds"] for a in areas}).to_numpy(dtype=bool)
    second = np.where(frac_area, rng.integers(0, 60, size=n), 0)
    micro = np.where(frac_area, rng.integers(0, 1_000_000, size=n), 0)
    date_only = rng.random(n) < p["date_only_share"]
    # BST quirk: in months whose first day is in summer time, plant (with prob 1/2) one
    # search in the first local hour of the 1st, so the UTC file starts at 23:xx the day before.
    key = ev["area"].astype(str) + "|" + ev["month"].astype(str)
    for k in sorted(set(key[person])):
        a, mth = k.split("|")
        first = pd.Timestamp(mth + "-01").tz_localize(TZ)
        if first.utcoffset() == pd.Timedelta(0) or rng.random() >= p["bst_first_hour_share"]:
            continue
        cand = np.flatnonzero((key == k).to_numpy() & person)
        j = cand[rng.integers(0, len(cand))]
        day[j], hour[j] = 0, 0
    # a timed record never falls at exactly local midnight (that means "date, no time")
    at_midnight = (hour == 0) & (minute == 0) & (second == 0) & (micro == 0)
    minute = np.where(at_midnight, 1, minute)
    hour = np.where(date_only, 0, hour)
    minute = np.where(date_only, 0, minute)
    second = np.where(date_only, 0, second)
    micro = np.where(date_only, 0, micro)
    local = pd.DatetimeIndex(
        mstart
        + day.astype("timedelta64[D]")
        + hour.astype("timedelta64[h]")
        + minute.astype("timedelta64[m]")
        + second.astype("timedelta64[s]")
        + micro.astype("timedelta64[us]")
    )
    local = local.tz_localize(TZ, ambiguous=np.zeros(n, dtype=bool), nonexistent="shift_forward")
    utc = local.tz_convert("UTC")
    with_frac = frac_area & ~date_only
    date_s = np.where(
        with_frac,
        utc.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        utc.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
    ).astype(object)

    out = pd.DataFrame(
        {
            "area": area_arr,
            "month": ev["month"].to_numpy(dtype=object),
            "group": grp,
            "sex": ev["sex"].to_numpy(dtype=object),
            "age_band": ev["age_band"].to_numpy(dtype=object),
            "vehicle_only": ~person,
            "hit": hit,
            "arrest": outcome == "Arrest",
            "any_outcome": outcome != NFA,
            "self_defined_stated": person & ~ns_label & ~ns_blank,
            "date_only": date_only,
            "district": district,
            "local_datetime": local.tz_localize(None).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "_utc": utc.tz_localize(None).to_numpy(),
            "Type": typ,
            "Date": date_s,
            "Part of a policing operation": op,
            "Policing operation": "",
            "Latitude": lat_s,
            "Longitude": lon_s,
            "Gender": gender,
            "Age range": age,
            "Self-defined ethnicity": self_def,
            "Officer-defined ethnicity": officer,
            "Legislation": leg,
            "Object of search": obj,
            "Outcome": written_outcome,
            "Outcome linked to object of search": linked,
            "Removal of more than just outer clothing": rem,
        }
    )
    out = _plant_duplicates(rng, out, p["duplicate_share"])
    published = {(a, m) for a in areas for m in file_months(profiles[a], months)}
    keep = np.array([(a, m) in published for a, m in zip(out["area"], out["month"])], dtype=bool)
    out = out[keep].reset_index(drop=True)
    out["file"] = [f"policeuk/{m}/{m}-{a}-stop-and-search.csv" for a, m in zip(out["area"], out["month"])]
    out["_seq"] = np.arange(len(out))
    return out


_COPIED = [
    "hit", "arrest", "any_outcome", "self_defined_stated", "date_only", "district", "local_datetime", "_utc",
    *[c for c in POLICEUK_HEADER],
]


def _plant_duplicates(rng: np.random.Generator, ev: pd.DataFrame, share: float) -> pd.DataFrame:
    """Make ``share`` of person searches exact copies of another search in the same cell-month.

    Copies keep the Poisson count of each cell (they are separate searches of people
    searched together) and, because the donor's attributes have the same distribution,
    every planted rate; the written rows become exact duplicates, as in police.uk.
    """
    person = ~ev["vehicle_only"].to_numpy()
    keys = ev.loc[person, ["area", "month", "group", "sex", "age_band"]].astype(str).agg("|".join, axis=1)
    idx = np.flatnonzero(person)
    first_of: dict[str, int] = {}
    recips, donors = [], []
    u = rng.random(len(idx))
    for i, k, uu in zip(idx, keys.to_numpy(), u):
        if k in first_of:
            if uu < share:
                recips.append(i)
                donors.append(first_of[k])
        else:
            first_of[k] = i
    if recips:
        out = ev.copy()
        for c in _COPIED:
            col = out[c].to_numpy(copy=True)
            col[np.asarray(recips)] = col[np.asarray(donors)]
            out[c] = col
        return out
    return ev
