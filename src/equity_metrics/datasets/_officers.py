"""Officers, a staggered training rollout, officer-level events and the officer x month panel.

Model, for officer ``i`` in month ``t`` (only full months between appointment and
resignation are observed)::

    use_of_force[i,t]   ~ Poisson(exp(a_i + b_t) * theta(e))
    searches[i,t]       ~ Poisson(s_i)
    black[i,t] | n      ~ Binomial(n, p_i * m_t * (black_share_ratio if trained else 1))

where ``e = t - cohort_i`` is the event time, ``theta(e) = 1`` before training,
``uof_ramp[e]`` in the first months after it (if given) and ``uof_rate_ratio``
afterwards. ``a_i`` holds an area effect, a selection-on-levels shift (earlier
cohorts use more force before training) and officer noise; ``b_t`` is a month
effect shared by all officers (seasonality, a trend and a spring-2020 dip), so
parallel trends hold by construction. Training does not change ``s_i``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COURSE = "Fair and Effective Policing"
OFFICER_SEX = {"Male": 0.7, "Female": 0.3}
AREA_UOF_EFFECT = (0.0, -0.15, 0.2, 0.1, -0.05)
NON_BLACK_SUBJECT = {"White": 0.80, "Asian": 0.10, "Mixed": 0.05, "Other": 0.03, "Not stated": 0.02}
SEARCH_ARREST = 0.15
UOF_ARREST = 0.60


def _pick(rng, probs: dict, n: int) -> np.ndarray:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def default_cohorts(months: pd.PeriodIndex, n_cohorts: int) -> list[str]:
    """``n_cohorts`` training months spread from 25% to 85% of the window."""
    T = len(months)
    if n_cohorts < 1:
        return []
    pos = np.round(np.linspace(0.25, 0.85, n_cohorts) * T).astype(int) if n_cohorts > 1 else np.array([T // 2])
    pos = np.clip(pos, 1, T - 1)
    return sorted({str(months[k]) for k in pos})


def month_effects(months: pd.PeriodIndex) -> tuple[np.ndarray, np.ndarray]:
    """``b_t`` (log use-of-force month effect) and ``m_t`` (Black-share trend multiplier)."""
    T = len(months)
    frac = np.arange(T) / max(T - 1, 1)
    moy = np.array([m.month for m in months])
    b = -0.15 * np.cos(2 * np.pi * (moy - 1) / 12) + 0.10 * frac
    covid = np.isin([str(m) for m in months], ["2020-04", "2020-05"])
    b = b - 0.25 * covid
    m = 1.0 + 0.10 * frac
    return b, m


def simulate_officers(
    rng: np.random.Generator,
    areas: list[str],
    specs: dict,
    months: pd.PeriodIndex,
    p: dict,
    hour_weights: np.ndarray,
    tz: str,
):
    """Return ``(officers, training, events, panel, truth)``."""
    T = len(months)
    start = months[0].to_timestamp()
    end = months[-1].to_timestamp(how="end").normalize()
    cohorts = [pd.Period(c, "M") for c in p["cohorts"]]
    K = len(cohorts)
    b_t, m_t = month_effects(months)
    m_start = months.to_timestamp().to_numpy()
    m_end = months.to_timestamp(how="end").normalize().to_numpy()

    off_rows = []
    for ai, a in enumerate(areas):
        spec = specs[a]
        n = p["officers_per_area"]
        ids = [f"{spec['prefix']}{i:04d}" for i in range(1, n + 1)]
        dnames = list(spec["districts"])
        district = np.array(dnames, dtype=object)[rng.integers(0, len(dnames), size=n)]
        sex = _pick(rng, OFFICER_SEX, n)
        early = rng.random(n) < 0.85
        d0 = pd.Timestamp("1995-01-01")
        span_before = (start - pd.Timedelta(days=1) - d0).days
        span_in = int((end - start).days * 2 / 3)
        appointed = np.where(
            early,
            (d0 + pd.to_timedelta(rng.integers(0, span_before, size=n), unit="D")).to_numpy(),
            (start + pd.to_timedelta(rng.integers(0, span_in, size=n), unit="D")).to_numpy(),
        )
        resign = rng.random(n) < p["resign_share"]
        lo = np.maximum(appointed, start.to_datetime64()) + np.timedelta64(180, "D")
        span = np.maximum((end.to_datetime64() - lo).astype("timedelta64[D]").astype(int), 1)
        resigned = lo + (rng.random(n) * span).astype(int).astype("timedelta64[D]")
        resigned = np.where(resign & (resigned <= end.to_datetime64()), resigned, np.datetime64("NaT"))
        # cohort: never with prob never_treated_share, else a random cohort, moved to the
        # first cohort at or after appointment; untrained if they resign first.
        never = rng.random(n) < p["never_treated_share"]
        drawn = rng.integers(0, max(K, 1), size=n)
        cohort = np.full(n, "", dtype=object)
        status = np.full(n, "never", dtype=object)
        for i in range(n):
            if never[i] or K == 0:
                continue
            for k in range(drawn[i], K):
                cs = cohorts[k].to_timestamp().to_datetime64()
                ce = cohorts[k].to_timestamp(how="end").normalize().to_datetime64()
                if appointed[i] <= cs:
                    if np.isnat(resigned[i]) or resigned[i] >= ce:
                        cohort[i] = str(cohorts[k])
                        status[i] = "trained"
                    else:
                        status[i] = "left_before_training"
                    break
            else:
                status[i] = "no_cohort_after_appointment"
        rank = np.array([(cohorts.index(pd.Period(c, "M")) if c else -1) for c in cohort])
        shift = np.where(rank >= 0, p["selection_shift"] * (1 - 2 * rank / max(K - 1, 1)), -0.1)
        a_i = np.log(p["uof_base"]) + AREA_UOF_EFFECT[ai % len(AREA_UOF_EFFECT)] + shift + rng.normal(0, p["officer_sd"], size=n)
        s_i = rng.gamma(4.0, p["search_mean"] / 4.0, size=n)
        mu_black = p["black_share_base"][a]
        p_i = rng.beta(30 * mu_black, 30 * (1 - mu_black), size=n)
        completed = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        has = cohort != ""
        if has.any():
            cs = pd.PeriodIndex(cohort[has], freq="M").to_timestamp().to_numpy()
            completed[has] = cs + rng.integers(0, 7, size=int(has.sum())).astype("timedelta64[D]")
        off_rows.append(
            pd.DataFrame(
                {
                    "officer_id": ids, "force": a, "district": district, "sex": sex,
                    "appointed": pd.to_datetime(appointed), "resigned": pd.to_datetime(resigned),
                    "cohort": cohort, "status": status, "completed": pd.to_datetime(completed),
                    "a_i": a_i, "s_i": s_i, "p_i": p_i,
                }
            )
        )
    off = pd.concat(off_rows, ignore_index=True)

    # officer x month panel (full months in service only)
    appointed = off["appointed"].to_numpy()[:, None]
    resigned = off["resigned"].to_numpy()[:, None]
    active = (appointed <= m_start[None, :]) & (np.isnat(resigned) | (resigned >= m_end[None, :]))
    oi, ti = np.nonzero(active)
    coh = off["cohort"].to_numpy()[oi]
    coh_idx = np.array([(months.get_loc(pd.Period(c, "M")) if c else -1) for c in off["cohort"]])[oi]
    e = np.where(coh_idx >= 0, ti - coh_idx, np.iinfo(np.int64).min)
    treated = (coh_idx >= 0) & (e >= 0)
    ramp = list(p["uof_ramp"])
    theta = np.ones(len(oi))
    for k, r in enumerate(ramp):
        theta[treated & (e == k)] = r
    theta[treated & (e >= len(ramp))] = p["uof_rate_ratio"]
    y0 = np.exp(off["a_i"].to_numpy()[oi] + b_t[ti])
    y1 = y0 * theta
    uof = rng.poisson(y1)
    s = off["s_i"].to_numpy()[oi]
    nsearch = rng.poisson(s)
    pb0 = np.minimum(off["p_i"].to_numpy()[oi] * m_t[ti], 0.95)
    pb = np.where(treated, pb0 * p["black_share_ratio"], pb0)
    nblack = rng.binomial(nsearch, pb)
    panel = pd.DataFrame(
        {
            "officer_id": off["officer_id"].to_numpy()[oi],
            "force": off["force"].to_numpy()[oi],
            "district": off["district"].to_numpy()[oi],
            "month": [str(months[t]) for t in ti],
            "cohort": coh,
            "event_time": pd.array(np.where(coh_idx >= 0, e, 0), dtype="Int64"),
            "treated": treated.astype(np.int64),
            "uof": uof,
            "uof_y0": np.round(y0, 6),
            "uof_mean": np.round(y1, 6),
            "searches": nsearch,
            "searches_black": nblack,
            "search_mean": np.round(s, 6),
            "black_share_y0": np.round(pb0, 6),
            "black_share_mean": np.round(pb, 6),
        }
    )
    panel.loc[coh_idx < 0, "event_time"] = pd.NA

    # events
    events = _events(rng, panel, off, months, hour_weights, tz, m_t)

    # training roster (trained officers only) and officer roster
    tr = off[off["cohort"] != ""]
    training = pd.DataFrame(
        {
            "officer_id": tr["officer_id"].to_numpy(),
            "force": tr["force"].to_numpy(),
            "course": COURSE,
            "completed": tr["completed"].dt.strftime("%Y-%m-%d").to_numpy(),
            "appointed": tr["appointed"].dt.strftime("%Y-%m-%d").to_numpy(),
            "resigned": tr["resigned"].dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
        }
    )
    officers = pd.DataFrame(
        {
            "officer_id": off["officer_id"].to_numpy(),
            "force": off["force"].to_numpy(),
            "district": off["district"].to_numpy(),
            "sex": off["sex"].to_numpy(),
            "appointed": off["appointed"].dt.strftime("%Y-%m-%d").to_numpy(),
            "resigned": off["resigned"].dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
            "cohort": off["cohort"].to_numpy(),
            "status": off["status"].to_numpy(),
        }
    )
    truth = _truth(panel, off, p, months, b_t, m_t, areas)
    return officers, training, events, panel, truth


def _events(rng, panel, off, months, hour_weights, tz, m_t) -> pd.DataFrame:
    rows = np.arange(len(panel))
    uof_r = np.repeat(rows, panel["uof"].to_numpy())
    black = panel["searches_black"].to_numpy()
    other = panel["searches"].to_numpy() - black
    sb_r = np.repeat(rows, black)
    so_r = np.repeat(rows, other)
    r = np.concatenate([uof_r, sb_r, so_r])
    etype = np.concatenate([np.full(len(uof_r), "use_of_force", dtype=object), np.full(len(sb_r) + len(so_r), "search", dtype=object)])
    n = len(r)
    # subject ethnicity: searches as drawn; use-of-force subjects Black with the untrained share p_i * m_t
    eth = np.empty(n, dtype=object)
    nu = len(uof_r)
    pb_u = panel["black_share_y0"].to_numpy()[uof_r]
    is_b = rng.random(nu) < pb_u
    eth[:nu] = np.where(is_b, "Black", _pick(rng, NON_BLACK_SUBJECT, nu))
    eth[nu : nu + len(sb_r)] = "Black"
    eth[nu + len(sb_r) :] = _pick(rng, NON_BLACK_SUBJECT, len(so_r))
    arrest_p = np.where(etype == "use_of_force", UOF_ARREST, SEARCH_ARREST)
    outcome = np.where(rng.random(n) < arrest_p, "Arrest", "No further action").astype(object)
    mth = pd.PeriodIndex(panel["month"].to_numpy()[r], freq="M")
    mstart = mth.to_timestamp().to_numpy()
    ndays = mth.days_in_month.to_numpy()
    day = (rng.random(n) * ndays).astype(int)
    hour = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    minute = rng.integers(0, 60, size=n)
    local = pd.DatetimeIndex(
        mstart + day.astype("timedelta64[D]") + hour.astype("timedelta64[h]") + minute.astype("timedelta64[m]")
    )
    # keep local times unambiguous: move the repeated / skipped hour of clock changes by 2 hours
    chk = local.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    local = local.where(~chk.isna(), local + pd.Timedelta(hours=2))
    ev = pd.DataFrame(
        {
            "officer_id": panel["officer_id"].to_numpy()[r],
            "force": panel["force"].to_numpy()[r],
            "district": panel["district"].to_numpy()[r],
            "_dt": local,
            "event_type": etype,
            "subject_ethnicity": eth,
            "outcome": outcome,
        }
    )
    ev = ev.sort_values(["force", "_dt", "officer_id", "event_type"], kind="stable").reset_index(drop=True)
    ev.insert(0, "event_id", [f"EV{i:06d}" for i in range(1, len(ev) + 1)])
    ev.insert(4, "datetime", ev["_dt"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    return ev.drop(columns="_dt")


def _truth(panel, off, p, months, b_t, m_t, areas) -> dict:
    tr = panel[panel["treated"] == 1]
    d_uof = tr["uof_mean"] - tr["uof_y0"]
    d_bs = tr["black_share_mean"] - tr["black_share_y0"]
    by_e_uof = d_uof.groupby(tr["event_time"].astype("int64")).mean()
    by_e_bs = d_bs.groupby(tr["event_time"].astype("int64")).mean()
    by_c_uof = d_uof.groupby(tr["cohort"]).mean()
    by_c_bs = d_bs.groupby(tr["cohort"]).mean()
    maxe = max(len(months), 1)
    theta = {e: (p["uof_ramp"][e] if e < len(p["uof_ramp"]) else p["uof_rate_ratio"]) for e in range(maxe)}
    status = off["status"].value_counts()
    cohort_sizes = off.loc[off["cohort"] != "", "cohort"].value_counts().sort_index()
    return {
        "officers": {
            "n_officers": int(len(off)),
            "by_area": {a: int((off["force"] == a).sum()) for a in areas},
            "by_status": {k: int(status.get(k, 0)) for k in ["trained", "never", "left_before_training", "no_cohort_after_appointment"]},
            "cohort_sizes": {str(k): int(v) for k, v in cohort_sizes.items()},
            "uof_base": p["uof_base"],
            "area_uof_effect": {a: AREA_UOF_EFFECT[i % len(AREA_UOF_EFFECT)] for i, a in enumerate(areas)},
            "selection_shift": p["selection_shift"],
            "officer_sd": p["officer_sd"],
            "search_mean": p["search_mean"],
            "black_share_base": dict(p["black_share_base"]),
            "beta_concentration": 30,
            "resign_share": p["resign_share"],
            "appointed_before_window_share": 0.85,
            "course": COURSE,
            "search_arrest_rate": SEARCH_ARREST,
            "uof_arrest_rate": UOF_ARREST,
            "non_black_subject": dict(NON_BLACK_SUBJECT),
        },
        "cohorts": list(p["cohorts"]),
        "never_treated_share": p["never_treated_share"],
        "uof_rate_ratio": p["uof_rate_ratio"],
        "uof_rate_ratio_by_event_time": theta,
        "black_share_ratio": p["black_share_ratio"],
        "month_effect": {str(m): float(b) for m, b in zip(months, b_t)},
        "black_share_trend": {str(m): float(x) for m, x in zip(months, m_t)},
        "att_uof": float(d_uof.mean()) if len(tr) else 0.0,
        "att_uof_by_event_time": {int(k): float(v) for k, v in by_e_uof.items()},
        "att_uof_by_cohort": {str(k): float(v) for k, v in by_c_uof.items()},
        "att_uof_rate_ratio": float(tr["uof_mean"].sum() / tr["uof_y0"].sum()) if len(tr) else 1.0,
        "att_black_share": float(d_bs.mean()) if len(tr) else 0.0,
        "att_black_share_by_event_time": {int(k): float(v) for k, v in by_e_bs.items()},
        "att_black_share_by_cohort": {str(k): float(v) for k, v in by_c_bs.items()},
        "att_black_share_search_weighted": float((d_bs * tr["search_mean"]).sum() / tr["search_mean"].sum()) if len(tr) else 0.0,
        "n_treated_officer_months": int(len(tr)),
        "n_officer_months": int(len(panel)),
    }
