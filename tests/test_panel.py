"""Tests for equity_metrics.models.panel.build_panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from equity_metrics.errors import DataValidationError, OptionError
from equity_metrics.models.did import staggered_did
from equity_metrics.models.did_classic import did_2x2, event_study, twfe
from equity_metrics.models.efficient import efficient_staggered
from equity_metrics.models.panel import build_panel


def M(*months: str) -> pd.PeriodIndex:
    return pd.PeriodIndex(list(months), freq="M")


def events(rows: list[tuple]) -> pd.DataFrame:
    """rows: (officer_id, event_type, month, ethnicity, hit, force)."""
    df = pd.DataFrame(rows, columns=["officer_id", "event_type", "month", "ethnicity", "hit", "force"])
    df["month"] = pd.PeriodIndex(df["month"], freq="M")
    df["hit"] = df["hit"].astype("boolean")
    return df


def training(rows: list[tuple]) -> pd.DataFrame:
    """rows: (officer_id, unit, force, level, course, completed)."""
    df = pd.DataFrame(rows, columns=["officer_id", "unit", "force", "level", "course", "completed"])
    df["completed"] = pd.to_datetime(df["completed"])
    return df


EV = events([
    ("a", "use_of_force", "2020-01", "White", None, "kent"),
    ("a", "use_of_force", "2020-03", "White", None, "kent"),
    ("a", "search", "2020-03", "Black", True, "kent"),
    ("a", "search", "2020-03", "White", False, "kent"),
    ("a", "search", "2020-03", "Not stated", None, "kent"),
    ("b", "use_of_force", "2020-02", "Asian", None, "essex"),
    ("b", "search", "2020-04", "Black", False, "essex"),
    ("c", "stop", "2020-04", "White", None, "essex"),
    (None, "use_of_force", "2020-02", "White", None, "kent"),
])
TR = training([
    ("a", None, None, "officer", "deesc", "2020-01-20"),
    ("b", None, None, "officer", "deesc", "2020-04-01"),
    ("b", None, None, "officer", "other", "2019-01-01"),
])


def test_officer_panel_counts_timing_and_report():
    p = build_panel(EV, TR, course="deesc")
    d = p.data.set_index(["officer_id", "time"])
    assert p.report.n_units == 3 and p.report.n_periods == 4 and p.report.balanced
    assert d.loc[("a", 1), "use_of_force"] == 1 and d.loc[("a", 3), "use_of_force"] == 1
    assert d.loc[("a", 2), "use_of_force"] == 0
    # completed 2020-01-20 -> first full month 2020-02 = time 2; 2020-04-01 -> 2020-05 = time 5 (after the window)
    assert d.loc[("a", 1), "first_treated"] == 2 and not d.loc[("a", 1), "treated"] and d.loc[("a", 2), "treated"]
    assert d.loc[("b", 1), "first_treated"] == 5 and not d.xs("b")["treated"].any()
    assert d.loc[("c", 1), "first_treated"] == 0 and np.isnan(d.loc[("c", 1), "event_time"])
    assert d.loc[("a", 4), "event_time"] == 2
    assert str(d.loc[("a", 1), "first_treated_period"]) == "2020-02"
    assert p.data["period"].dtype == "period[M]"
    r = p.report
    assert r.never_treated == 1 and r.treated_after_end == 1 and r.time_origin == pd.Period("2020-01", "M")
    assert r.events_dropped == {"no officer_id": 1}
    assert r.cohorts.to_dict("list") == {"first_treated": [2, 5], "first_treated_period": ["2020-02", "2020-05"], "units": [1, 1]}
    assert d["cohort_size"].eq(1).all()
    assert "first_treated = first full period" in p.summary()


def test_any_course_note_and_unknown_course():
    p = build_panel(EV, TR)
    b = p.data[p.data.officer_id == "b"]
    assert b["treated"].all() and str(b["first_treated_period"].iloc[0]) == "2019-02"  # 'other' course in 2019
    assert any("any of 2 courses" in n for n in p.report.notes)
    with pytest.raises(DataValidationError, match="not in the training table"):
        build_panel(EV, TR, course="nope")


def test_training_before_window_shifts_time_origin():
    p = build_panel(EV, TR, course="other", start="2020-01")
    d = p.data
    assert p.report.time_origin == pd.Period("2019-02", "M")
    assert (d["first_treated"] >= 0).all()
    b = d[d.officer_id == "b"]
    assert b["first_treated"].iloc[0] == 1 and b["time"].min() == 12 and b["treated"].all()
    assert p.report.treated_before_start == 1
    assert any("counted from 2019-02" in n for n in p.report.notes)


def test_search_outcomes():
    p = build_panel(EV, TR, outcome=["searches", "searches_of:Black", "hit_rate", "share_of:Black", "disparity:Black"],
                    benchmark_share={"Kent": 0.02, "essex": 0.05}, course="deesc")
    d = p.data.set_index(["officer_id", "time"])
    a3 = d.loc[("a", 3)]
    assert a3["searches"] == 3 and a3["searches_of_black"] == 1 and a3["searches_stated"] == 2
    assert a3["hits"] == 1 and a3["searches_hit_known"] == 2 and a3["hit_rate"] == 0.5
    assert a3["share_of_black"] == 0.5 and a3["disparity_black"] == pytest.approx(0.5 - 0.02)
    assert d.loc[("b", 4), "disparity_black"] == pytest.approx(1 - 0.05)
    assert np.isnan(d.loc[("a", 1), "hit_rate"]) and np.isnan(d.loc[("a", 1), "share_of_black"])
    assert d.loc[("a", 1), "force"] == "kent"
    assert p.report.outcomes["share_of:Black"] == "share_of_black"


def test_outcome_errors():
    with pytest.raises(DataValidationError, match="not an event type"):
        build_panel(EV, TR, outcome="punches")
    with pytest.raises(DataValidationError, match="group 'Purple'"):
        build_panel(EV, TR, outcome="share_of:Purple")
    with pytest.raises(DataValidationError, match="benchmark_share"):
        build_panel(EV, TR, outcome="disparity:Black")
    with pytest.raises(DataValidationError, match="not understood"):
        build_panel(EV, TR, outcome="ratio:Black")
    with pytest.raises(OptionError):
        build_panel(EV, TR, period="W")
    with pytest.raises(DataValidationError, match="no column"):
        build_panel(EV.drop(columns="ethnicity"), TR, outcome="share_of:Black")
    with pytest.raises(DataValidationError, match="before start"):
        build_panel(EV, TR, start="2020-04", end="2020-01")


def test_exposure_service_dates_and_balanced():
    off = pd.DataFrame({"officer_id": ["a", "b", "c", "d"],
                        "appointed": pd.to_datetime(["2019-01-01", "2020-02-16", None, "2021-01-01"]),
                        "resigned": pd.to_datetime([None, None, "2020-03-15", None])})
    p = build_panel(EV, TR, officers=off, course="deesc")
    d = p.data.set_index(["officer_id", "time"])
    assert ("b", 1) not in d.index  # appointed after January
    assert d.loc[("b", 2), "exposure"] == pytest.approx(14 / 29)  # 16-29 Feb 2020
    assert d.loc[("c", 3), "exposure"] == pytest.approx(15 / 31)
    assert ("c", 4) not in d.index
    assert p.report.events_dropped["outside the unit's service (or dropped unit)"] == 1  # c's stop in April
    assert list(p.report.units_dropped["unit"]) == ["d"]  # appointed after the window
    assert not p.report.balanced
    pb = build_panel(EV, TR, officers=off, balanced=True, course="deesc")
    assert set(pb.data["officer_id"]) == {"a"} and pb.report.balanced
    reasons = pb.report.units_dropped["reason"].value_counts()
    assert reasons["not in service in every period (balanced=True)"] == 2
    late = off.assign(appointed=pd.Timestamp("2020-02-01"))
    with pytest.raises(DataValidationError, match="shorten the window"):
        build_panel(EV, TR, officers=late, balanced=True)


def test_unit_and_force_level_training_map_to_officers():
    tr = training([
        (None, "TSG", None, "unit", "deesc", "2020-02-10"),
        (None, None, "Essex Police", "force", "deesc", "2020-03-05"),
    ])
    off = pd.DataFrame({"officer_id": ["a", "b", "c"], "unit": ["TSG", "Response", "Response"]})
    p = build_panel(EV, tr, officers=off)
    ft = p.data.groupby("officer_id")["first_treated"].first()
    assert ft["a"] == 3  # TSG trained 2020-02-10 -> 2020-03
    assert ft["b"] == 4 and ft["c"] == 4  # Essex (force from their events) trained 2020-03-05 -> 2020-04
    with pytest.raises(DataValidationError, match="unit-level records"):
        build_panel(EV.drop(columns="force"), tr.iloc[:1])


def test_force_area_panel_quarterly():
    tr = training([
        (None, None, "Kent Police", "force", "deesc", "2020-01-15"),
        ("a", None, None, "officer", "deesc", "2019-01-01"),
    ])
    p = build_panel(EV, tr, unit="force", period="Q", outcome=["use_of_force", "searches"])
    d = p.data.set_index(["force", "time"])
    assert p.data["period"].dtype == "period[Q-DEC]"
    # the event without an officer still counts for its force
    assert d.loc[("kent", 1), "use_of_force"] == 3 and d.loc[("kent", 1), "searches"] == 3
    assert d.loc[("kent", 1), "first_treated"] == 2  # Q1 completion -> first full quarter Q2
    assert d.loc[("essex", 2), "first_treated"] == 0
    assert any("not at the force level" in n for n in p.report.notes)
    assert (p.data["exposure"] == 1).all()


# ----------------------------------------------------------------------------- invariants
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.booleans())
def test_events_are_conserved(seed, balanced):
    """Every event in the window is counted in the panel or reported as not counted."""
    rng = np.random.default_rng(seed)
    n, n_ev = 12, 200
    months = pd.period_range("2020-01", "2020-12", freq="M")
    ev = pd.DataFrame({"officer_id": rng.choice([f"o{i}" for i in range(n)], n_ev),
                       "event_type": rng.choice(["use_of_force", "stop"], n_ev),
                       "month": months[rng.integers(0, 12, n_ev)]})
    off = pd.DataFrame({"officer_id": [f"o{i}" for i in range(n)],
                        "appointed": pd.Timestamp("2019-06-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
                        "resigned": pd.Timestamp("2020-06-01") + pd.to_timedelta(rng.integers(0, 500, n), "D")})
    tr = pd.DataFrame({"officer_id": ["o1", "o2"], "level": "officer", "course": "c",
                       "completed": pd.to_datetime(["2020-03-03", "2020-07-09"])})
    # in service for at least a day of every month of 2020
    full = (off.appointed <= pd.Timestamp("2020-01-31")) & (off.resigned >= pd.Timestamp("2020-12-01"))
    if balanced and not full.any():
        with pytest.raises(DataValidationError, match="shorten the window"):
            build_panel(ev, tr, officers=off, balanced=balanced, start="2020-01", end="2020-12")
        return
    p = build_panel(ev, tr, officers=off, balanced=balanced, start="2020-01", end="2020-12")
    assert not balanced or set(p.data.officer_id) == set(off.officer_id[full])
    total = int((ev.event_type == "use_of_force").sum())
    kept = int(p.data["use_of_force"].sum())
    uof = ev[ev.event_type == "use_of_force"]
    in_service = 0
    for _, r in uof.iterrows():
        o = off.set_index("officer_id").loc[r.officer_id]
        end = min(o.resigned + pd.Timedelta(days=1), r.month.end_time.normalize() + pd.Timedelta(days=1))
        if end > max(o.appointed, r.month.start_time):  # some day of the month in service
            in_service += 1
    if not balanced:
        assert kept == in_service
    assert kept <= total
    assert (p.data["exposure"] > 0).all() and (p.data["exposure"] <= 1).all()
    assert not p.data.duplicated(["officer_id", "time"]).any()


# ----------------------------------------------------------------------------- estimators on a built panel
def _simulated_events(seed=0, n=400, effect=-0.3):
    rng = np.random.default_rng(seed)
    months = pd.period_range("2019-01", "2020-12", freq="M")
    ids = np.array([f"O{i:04d}" for i in range(n)])
    done = pd.Timestamp("2019-04-10") + pd.to_timedelta(rng.integers(0, 600, n), "D")
    ft = pd.PeriodIndex(done, freq="M") + 1
    trained = rng.random(n) < 0.8
    base = rng.gamma(2.0, 0.5, n)
    rows = []
    for m_i, m in enumerate(months):
        lam = base * np.exp(effect * ((m >= ft) & trained))
        k = rng.poisson(lam)
        rows.append(pd.DataFrame({"officer_id": np.repeat(ids, k), "month": m}))
    ev = pd.concat(rows, ignore_index=True)
    ev["event_type"] = "use_of_force"
    tr = pd.DataFrame({"officer_id": ids[trained], "level": "officer", "course": "c", "completed": done[trained]})
    return ev, tr


def test_panel_feeds_every_estimator():
    ev, tr = _simulated_events()
    p = build_panel(ev, tr, balanced=True, start="2019-01", end="2020-12")
    assert p.report.balanced and p.report.never_treated > 0
    cs = staggered_did(p.data, outcome="use_of_force", unit="officer_id", time="time", first_treated="first_treated",
                       control="not_yet_treated", method="reg")
    es = event_study(p, outcome="use_of_force", leads=3, lags=3, control="not_yet_treated")
    ef = efficient_staggered(p, outcome="use_of_force", n_fisher=0)
    with pytest.warns(UserWarning, match="staggered"):
        tw = twfe(p, outcome="use_of_force")
    first = p.data.groupby("officer_id")["first_treated"].first()
    early = p.data[p.data.first_treated.isin([0, int(first[first > 0].min())])]  # first cohort vs never treated
    dd = did_2x2(early.assign(grp=early.first_treated > 0), outcome="use_of_force", treated="grp",
                 post=int(first[first > 0].min()), unit="officer_id", time="time")
    for est in (cs.aggregate("simple").overall.estimate, es.table.query("event_time == 0").estimate.item(),
                ef.overall["estimate"], tw.estimate, dd.estimate):
        assert est < 0


# ----------------------------------------------------------------------------- the synthetic samples
@pytest.fixture(scope="module")
def samples():
    import equity_metrics.datasets as ds
    from equity_metrics.errors import EquityMetricsError

    try:
        return (ds.load_sample_officer_events(), ds.load_sample_training(), ds.load_sample_officers(),
                ds.load_sample_panel(), ds.load_sample_truth())
    except EquityMetricsError as exc:  # pragma: no cover - samples absent from an installed copy
        pytest.skip(f"synthetic samples not available: {exc}")


def test_sample_panel_rebuilt_from_the_readers(samples):
    """build_panel on the sample events, roster and officers reproduces the generator's panel
    (docs/synthetic-data.md: full months in service are rows; the month of completion is treated)."""
    ev, tr, off, pan, _ = samples
    p = build_panel(ev, tr, officers=off, outcome="use_of_force", treated_from="completion")
    full = p.data[p.data["exposure"] == 1]
    m = full.merge(pan, left_on=["officer_id", "period"], right_on=["officer_id", "month"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all() and len(m) == len(pan)
    assert (m["use_of_force"] == m["uof"]).all()
    same = (m["first_treated_period"] == m["cohort"]) | (m["first_treated_period"].isna() & m["cohort"].isna())
    assert same.all()


def test_sample_panel_planted_effect_recovered(samples):
    """Sun & Abraham event study and CS / SA (via efficient_staggered) recover the planted use-of-force ATT."""
    ev, tr, off, pan, truth = samples
    p = build_panel(ev, tr, officers=off, outcome="use_of_force", treated_from="completion")
    full = p.data[p.data["exposure"] == 1]
    es = event_study(full, outcome="use_of_force", unit="officer_id", time="time", first_treated="first_treated",
                     sun_abraham=True, leads=6, lags=12)
    ks = list(range(0, 12))
    a = np.full(len(ks), 1 / len(ks))
    est = a @ es.table.set_index("event_time").loc[ks, "estimate"].to_numpy()
    se = float(np.sqrt(a @ es.vcov.loc[ks, ks].to_numpy() @ a))
    target = float(np.mean([truth.att_uof_by_event_time[k] for k in ks]))
    assert abs(est - target) < 3 * se, (est, target, se)
    assert es.pretrend.p_value > 0.01
    # balanced panel: the simple estimand's truth is the mean effect over treated officer-months
    pb = build_panel(ev, tr, officers=off, outcome="use_of_force", treated_from="completion", balanced=True)
    m = pb.data.merge(pan, left_on=["officer_id", "period"], right_on=["officer_id", "month"], how="inner",
                      suffixes=("", "_gen"))
    tr_rows = m[m["treated"]]
    target = float((tr_rows["uof_mean"] - tr_rows["uof_y0"]).mean())
    for beta in ("cs", "sa"):
        r = efficient_staggered(pb, outcome="use_of_force", beta=beta, n_fisher=0).overall
        assert abs(r["estimate"] - target) < 3 * r["std_error_neyman"], (beta, r["estimate"], target)
