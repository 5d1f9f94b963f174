"""Veil of darkness: R's ns basis, the GLM against statsmodels on rows, the design rules, planted effects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics.datasets.veil import veil_stops
from equity_metrics.errors import EstimationError, MissingColumnsError, OptionError
from equity_metrics.measures import _veil_prep as prep
from equity_metrics.measures._splines import NaturalSpline, ns, weighted_quantile_type7

from conftest import ROOT

R_NS = json.loads((ROOT / "tests" / "results" / "r_splines_ns.json").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- R's ns basis
def _case(name):
    return next(c for c in R_NS["cases"] if c["name"] == name)


def test_ns_basis_equals_r_printed_basis():
    # splines::ns(seq(1, 10, length.out = 50), df = 2), printed by R (tests/results/r_splines_ns.json, source there)
    c = _case("seq_1_10_df2_basis")
    x = np.linspace(*c["x"]["seq"][:2], c["x"]["seq"][2])
    spl = NaturalSpline.from_data(x, c["df"])
    assert spl.knots.tolist() == c["knots"] and spl.boundary_knots.tolist() == c["boundary_knots"]
    np.testing.assert_allclose(spl.basis(x), np.array(c["basis"]), atol=c["abs_tol"], rtol=0)


def test_ns_basis_reproduces_r_lm_coefficients_on_women():
    # broom::tidy(lm(weight ~ ns(height, df = 5), data = women)) as printed in R (source in the json):
    # the coefficients pin down each basis column, including the signs of R's QR projection
    import statsmodels.api as sm

    c = _case("women_lm_df5")
    fit = sm.OLS(np.array(c["y"], float), sm.add_constant(ns(np.array(c["x"], float), c["df"]))).fit()
    np.testing.assert_allclose(fit.params, c["estimate"], atol=c["abs_tol_estimate"], rtol=0)
    np.testing.assert_allclose(fit.bse, c["std_error"], atol=c["abs_tol_std_error"], rtol=0)


def test_ns_properties_linear_outside_and_natural_at_boundary():
    x = np.arange(0.0, 101.0)
    spl = NaturalSpline.from_data(x, 6)
    assert spl.df == 6 and spl.knots.size == 5
    # linear beyond the boundary knots (R's extrapolation), continuous at the boundary
    out = spl.basis(np.array([-20.0, -10.0, 0.0, 100.0, 110.0, 120.0]))
    np.testing.assert_allclose(out[1] - out[0], out[2] - out[1], atol=1e-12)
    np.testing.assert_allclose(out[4] - out[3], out[5] - out[4], atol=1e-12)
    # second derivative (finite differences) vanishes at both boundary knots: natural spline
    h = 1e-3
    for b in (0.0, 100.0):
        pts = spl.basis(np.array([b - h, b, b + h]))
        np.testing.assert_allclose((pts[0] - 2 * pts[1] + pts[2]) / h**2, 0, atol=1e-3)


def test_weighted_quantiles_equal_row_level_quantiles():
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.integers(900, 1400, 40).astype(float)
        w = rng.integers(0, 6, 40)
        if w.sum() == 0:
            continue
        p = np.sort(rng.random(5))
        np.testing.assert_allclose(weighted_quantile_type7(x, p, w), np.quantile(np.repeat(x, w), p))


# ----------------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def stops():
    return veil_stops(12_000, darkness_odds_ratio=0.6, seed=11,
                      forces={"northshire": (53.8, -1.55), "southvale": (50.9, -1.4)})


def _rows(stops, **kw):
    args = dict(time="datetime", group="ethnicity", minority="Black", majority="White", lat="latitude",
                lon="longitude", tz="Europe/London", area="force", location=None, centroids=None,
                design="inter_twilight", weeks=3, time_known="time_known", round_minutes=1, split=None)
    args.update(kw)
    return prep.prepare(stops, **args).rows


@pytest.mark.parametrize("controls", [{}, {"area": "force", "season_year": True, "interact_time_area": True}])
def test_count_glm_equals_row_level_logit_on_the_expanded_basis(stops, controls):
    """The GLM on aggregated counts equals a statsmodels logistic regression on the rows with R's ns basis."""
    import statsmodels.api as sm

    res = em.veil_of_darkness(stops, **controls)
    rows = _rows(stops, area=controls.get("area"))
    spl = NaturalSpline.from_data(rows["minute"].to_numpy(float), 6)  # knots from the rows, as R's ns(minute, df = 6)
    b = spl.basis(rows["minute"].to_numpy(float))
    cols = [np.ones(len(rows)), rows["is_dark"].to_numpy(float), *b.T]
    if controls:
        areas = pd.get_dummies(rows["area"].astype(str), drop_first=True, dtype=float)
        windows = pd.get_dummies(rows["window"].astype(str), drop_first=True, dtype=float)
        cols += [areas[c].to_numpy() for c in areas] + [b[:, j] * areas[c].to_numpy() for c in areas for j in range(6)]
        cols += [windows[c].to_numpy() for c in windows]
    logit = sm.Logit(rows["is_minority"].to_numpy(float), np.column_stack(cols)).fit(disp=0, maxiter=100)
    assert res.estimate == pytest.approx(logit.params[1], abs=1e-7)
    assert res.std_error == pytest.approx(logit.bse[1], abs=1e-7)
    assert res.n_used == len(rows) and res.fit.knots == pytest.approx(tuple(spl.knots))
    # the aggregated table carries every row once
    assert int(res.counts[["n_minority", "n_majority"]].to_numpy().sum()) == len(rows)


def test_design_rules_and_bookkeeping(stops):
    res = em.veil_of_darkness(stops, area="force")
    assert res.n_in == len(stops) == res.n_used + sum(res.dropped.values())
    rows = _rows(stops)
    # inside each area's inter-twilight window; no minute strictly between sunset and dusk; dark = after dusk
    assert ((rows["minute"] >= rows["min_dusk_minute"]) & (rows["minute"] <= rows["max_dusk_minute"])).all()
    assert not ((rows["minute"] > rows["sunset_minute"]) & (rows["minute"] < rows["dusk_minute"])).any()
    assert (rows["is_dark"] == (rows["minute"] > rows["dusk_minute"])).all()
    # the generator's own darkness agrees with the test's wherever the test keeps the row
    truth = stops["is_dark_true"].to_numpy()[rows["row"].to_numpy()]
    assert (truth == rows["is_dark"].to_numpy()).all()
    assert res.dropped["not in the two compared groups"] == int((stops["ethnicity"] == "Asian").sum())
    assert res.locations["rows_with_coordinates"].sum() == len(stops)


def test_planted_darkness_effect_recovered(stops):
    res = em.veil_of_darkness(stops, area="force")
    assert res.ci_low < 0.6 < res.ci_high and res.ci_high < 1  # planted odds ratio 0.6
    by = em.veil_of_darkness_by_area(stops, min_minority=50)
    t = by.tidy()
    assert t["area"].tolist() == ["northshire", "southvale"] and t["applicable"].all()
    assert ((t["ci_low"] < 0.6) & (0.6 < t["ci_high"])).all()


def test_clock_change_design_recovers_the_effect_within_the_windows():
    s = veil_stops(40_000, darkness_odds_ratio=0.6, seed=12)
    res = em.veil_of_darkness(s, design="clock_change", weeks=3)
    assert res.ci_low < 0.6 < res.ci_high and res.ci_high < 1
    assert "clock-change window" in res.controls
    rows = _rows(s, area=None, design="clock_change")
    changes = prep.clock_changes(pd.Timestamp("2019-01-01"), pd.Timestamp("2020-12-31"), "Europe/London")
    assert changes["date"].astype(str).tolist() == ["2019-03-31", "2019-10-27", "2020-03-29", "2020-10-25"]
    assert changes["kind"].tolist() == ["spring", "autumn", "spring", "autumn"]
    dist = np.min(np.abs(rows["date"].to_numpy()[:, None] - pd.to_datetime(changes["date"]).to_numpy()[None, :]),
                  axis=1)
    assert (dist <= np.timedelta64(21, "D")).all()
    assert set(rows["window"]) == {"2019-spring", "2019-autumn", "2020-spring", "2020-autumn"}
    # the same clock minute is light on some dates and dark on others within a window
    both = rows.groupby(["window", "minute"])["is_dark"].nunique()
    assert (both == 2).sum() >= 30


def test_robustness_grid_and_results_protocol(stops, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    res = em.veil_of_darkness(stops, area="force", robustness=True, split="force")
    r = res.robustness
    assert len(r) == 3 * 12 - 2 * 6  # all rows: df 1-6 x (with, without interaction); each force: df 1-6
    assert r["spline_df"].tolist()[:6] == [1, 2, 3, 4, 5, 6] and r["converged"].all()
    assert (r["ci_low"] < 1).all() and (r["odds_ratio"] < 1).all()
    t = res.tidy()
    assert list(t.columns)[:7] == ["term", "estimate", "std_error", "odds_ratio", "ci_low", "ci_high", "p_value"]
    assert t["n_light"][0] + t["n_dark"][0] == res.n_used
    text = res.summary()
    assert "Assumptions:" in text and "searches, not stops" in text and str(res) == text
    assert "<pre>" in res._repr_html_()
    assert res.to_csv(tmp_path / "v.csv").is_file()
    ax = res.plot()
    assert "odds ratio" in ax.get_title() and len(ax.collections) >= 2
    by = em.veil_of_darkness_by_area(stops)
    assert by.plot().get_xlabel().startswith("Darkness odds ratio")


def test_area_rules_no_times_twelve_hour_clock_few_minority_and_reference_points():
    s = veil_stops(9_000, darkness_odds_ratio=0.8, seed=13,
                   forces={"a-force": (53.8, -1.55), "b-force": (52.5, -1.9), "c-force": (51.5, -0.1),
                           "south-yorkshire": (53.4, -1.47)})
    s["time_known"] = s["time_known"].astype("boolean")
    s.loc[s["force"] == "a-force", "time_known"] = False  # date-only records
    b = s["force"] == "b-force"  # a 12-hour clock: every time written between 00:00 and 12:59
    s.loc[b, "datetime"] = s.loc[b, "datetime"] - pd.to_timedelta((s.loc[b, "datetime"].dt.hour >= 13) * 12, unit="h")
    s.loc[s["force"] == "south-yorkshire", ["latitude", "longitude"]] = np.nan  # no coordinates at all
    res = em.veil_of_darkness_by_area(s, min_minority=10_000)
    t = res.tidy().set_index("area")
    assert t.loc["a-force", "reason"] == "no times of day recorded" and t.loc["a-force", "share_time_known"] == 0
    assert "12-hour clock" in t.loc["b-force", "reason"]
    assert t.loc["c-force", "reason"].startswith("too few Black searches")
    assert "reference point: Sheffield" in t.loc["south-yorkshire", "location"]
    assert not t["applicable"].any()
    ok = em.veil_of_darkness_by_area(s, min_minority=20).tidy().set_index("area")
    assert ok.loc[["c-force", "south-yorkshire"], "applicable"].all()


def test_errors_say_what_to_do():
    s = veil_stops(500, seed=1)
    with pytest.raises(MissingColumnsError, match="lat=None"):
        em.veil_of_darkness(s.drop(columns=["latitude"]))
    with pytest.raises(OptionError, match="inter_twilight"):
        em.veil_of_darkness(s, design="dst")
    with pytest.raises(OptionError, match="spline_df"):
        em.veil_of_darkness(s, spline_df=0)
    light = s[~s["is_dark_true"]]
    with pytest.raises(EstimationError, match="same side of dusk"):
        em.veil_of_darkness(light[light["datetime"].dt.hour < 17])


def test_count_table_entry_point_equals_the_event_level_fit(stops):
    res = em.veil_of_darkness(stops, area="force", season_year=True)
    c = res.counts.rename(columns={"n_minority": "black", "n_majority": "white"})
    again = em.veil_of_darkness_counts(c, n_minority="black", n_majority="white", area="area", window="window")
    assert again.estimate == pytest.approx(res.estimate, abs=1e-10)
    assert again.std_error == pytest.approx(res.std_error, abs=1e-10)
    assert (again.n_used, again.n_minority, again.n_light) == (res.n_used, res.n_minority, res.n_light)
    with pytest.raises(MissingColumnsError):
        em.veil_of_darkness_counts(c)  # n_minority / n_majority not named
