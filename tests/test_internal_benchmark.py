"""Tests for officer-level internal benchmarking (equity_metrics.measures.internal_benchmark) and its command.

Checks: the vectorised estimator equals a direct per-officer computation with explicit
propensity weights; weighting removes deployment confounding (null officers' z near
N(0, 1)); planted biased officers are recovered at the stated false discovery rate
(slow simulation); identifiers stay out of outputs unless asked for; the Chicago
use-of-force worked example runs on the real files.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from equity_metrics.errors import DataValidationError, EstimationError, OptionError
from equity_metrics.measures._officer_design import cell_codes, dummies, feature_frame, ridge_logit
from equity_metrics.measures.internal_benchmark import (internal_benchmark, officer_benchmark_overview,
                                                        simulate_officer_encounters)

from conftest import ROOT, need_shared


@pytest.fixture(scope="module")
def sim():
    return simulate_officer_encounters(n_officers=600, n_biased=30, seed=7)


@pytest.fixture(scope="module")
def sim_result(sim):
    return internal_benchmark(sim[0], min_encounters=40)


def test_vectorised_estimate_equals_explicit_weights(sim, sim_result):
    ev = sim[0]
    y = (ev["ethnicity"] == "Black").to_numpy(float)
    cells = cell_codes(feature_frame(ev, ("district", "shift", "year"), datetime="datetime"))
    m = ridge_logit(dummies(feature_frame(ev, ("beat", "hour", "weekday", "month"), datetime="datetime")), y)
    t = sim_result.tidy(include_officer_ids=True).set_index("officer")
    off = ev["officer_id"].to_numpy()
    for oid in t.index[[0, 7, 300, -1]]:
        mine = off == oid
        n_ic = pd.Series(cells[mine]).value_counts()
        others = ~mine
        n_c_others = pd.Series(cells[others]).value_counts()
        shared = n_ic.index.intersection(n_c_others.index)
        w = np.zeros(len(y))
        for c in shared:  # odds weight n_ic / (n_c - n_ic) on each other officer's encounter in cell c
            w[others & (cells == c)] = n_ic[c] / n_c_others[c]
        in_shared = mine & np.isin(cells, shared)
        r = y - m
        expected = m[in_shared].mean() + np.sum(w * r) / w.sum()
        share = y[in_shared].mean()
        rbar_w = np.sum(w * r) / w.sum()
        var = np.sum(m[in_shared] * (1 - m[in_shared])) / in_shared.sum() ** 2 \
            + np.sum(w**2 * (r - rbar_w) ** 2) / w.sum() ** 2
        row = t.loc[oid]
        assert row["n_matched"] == in_shared.sum()
        assert row["share"] == pytest.approx(share, abs=1e-12)
        assert row["expected"] == pytest.approx(expected, abs=1e-10)
        assert row["expected_weighted"] == pytest.approx(np.sum(w * y) / w.sum(), abs=1e-10)
        assert row["se"] == pytest.approx(np.sqrt(var), rel=1e-8)
        assert row["z"] == pytest.approx((share - expected) / np.sqrt(var), rel=1e-8)


def test_partners_in_the_same_incident_are_left_out_of_the_comparison(sim):
    ev = sim[0].copy()
    # "incidents": same district, date and watch (several officers each)
    ev["incident"] = ev["district"] + "|" + ev["datetime"].dt.strftime("%Y-%m-%d") + "|" + (ev["datetime"].dt.hour // 8).astype(str)
    res = internal_benchmark(ev, min_encounters=40, incident="incident")
    assert any("in an incident (incident) shared with the examined officer" in n for n in res.notes)
    y = (ev["ethnicity"] == "Black").to_numpy(float)
    cells = cell_codes(feature_frame(ev, ("district", "shift", "year"), datetime="datetime"))
    m = ridge_logit(dummies(feature_frame(ev, ("beat", "hour", "weekday", "month"), datetime="datetime")), y)
    r = y - m
    t = res.tidy(include_officer_ids=True).set_index("officer")
    off, inc = ev["officer_id"].to_numpy(), ev["incident"].to_numpy()
    for oid in t.index[[0, 250, -1]]:
        mine = off == oid
        pool = ~mine & ~np.isin(inc, inc[mine])
        n_ic = pd.Series(cells[mine]).value_counts()
        n_pool = pd.Series(cells[pool]).value_counts()
        w = np.zeros(len(y))
        for c in n_ic.index.intersection(n_pool.index):
            w[pool & (cells == c)] = n_ic[c] / n_pool[c]
        ok = mine & np.isin(cells, n_pool.index)
        rbar_w = np.sum(w * r) / w.sum()
        var = np.sum(m[ok] * (1 - m[ok])) / ok.sum() ** 2 + np.sum(w**2 * (r - rbar_w) ** 2) / w.sum() ** 2
        assert t.loc[oid, "z"] == pytest.approx((r[ok].mean() - rbar_w) / np.sqrt(var), rel=1e-8)
        assert t.loc[oid, "expected_weighted"] == pytest.approx(np.sum(w * y) / w.sum(), abs=1e-10)


def test_weighting_removes_deployment_confounding():
    ev, truth = simulate_officer_encounters(n_officers=500, n_biased=0, officer_sd=0.0, seed=11)
    res = internal_benchmark(ev, min_encounters=40)
    t = res.tidy()
    naive = t["share"] - t["share_all_others"]
    # officers sit in districts with very different shares: the naive gap is wide, the adjusted one is noise
    assert naive.std() > 3 * t["difference"].std()
    assert abs(t["z"].mean()) < 0.15
    assert 0.85 < t["z"].std() < 1.2
    assert res.fdr.sigma == pytest.approx(1.0, abs=0.15)
    assert res.n_flagged <= 3


def test_planted_biased_officers_are_found(sim, sim_result):
    truth = sim[1].set_index("officer_id")
    t = sim_result.tidy(include_officer_ids=True)
    biased = truth.loc[t["officer"], "biased"].to_numpy()
    flagged = t["flagged"].to_numpy()
    assert flagged.sum() >= 10
    assert (flagged & ~biased).sum() / flagged.sum() <= 0.2
    assert (flagged & biased).sum() / biased.sum() >= 0.4
    assert set(t.loc[flagged, "direction"]) == {"higher"}


def test_officer_ids_only_on_request(sim, sim_result, tmp_path):
    ids = set(sim[0]["officer_id"])
    written = sim_result.to_csv(tmp_path / "officers.csv").read_text()
    assert not any(i in written for i in ids)
    sentence = sim_result.statement()
    assert sentence.startswith("Of 600 officers with at least 40 encounters, ") and "higher" in sentence
    assert not any(i in sentence for i in ids)
    t = sim_result.tidy()
    assert not ids & set(t["officer"])
    assert t["officer"].iloc[0] == "officer_0001" and t["officer"].is_unique
    assert (t["z"].diff().dropna() <= 0).all()  # sorted by z descending
    assert set(sim_result.tidy(include_officer_ids=True)["officer"]) <= ids
    text = str(sim_result) + sim_result._repr_html_() + officer_benchmark_overview(sim_result).to_csv()
    assert not any(i in text for i in ids)


def test_overview_counts(sim_result):
    o = sim_result.overview().iloc[0]
    t = sim_result.table
    assert o["n_officers_examined"] == len(t) == 600
    assert o["n_flagged"] == t["flagged"].sum() == o["n_flagged_higher"] + o["n_flagged_lower"]
    assert o["z_median"] == pytest.approx(np.median(t["z"]))
    assert o["null_delta"] == sim_result.fdr.delta


def test_plot_draws_no_identifiers(sim, sim_result):
    import matplotlib

    matplotlib.use("Agg")
    ax = sim_result.plot()
    texts = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()] + [t.get_text() for t in ax.get_legend().get_texts()]
    assert "600 officers" in ax.get_title()
    assert not any(i in s for s in texts for i in set(sim[0]["officer_id"]))


def test_helpful_errors(sim):
    ev = sim[0]
    with pytest.raises(DataValidationError, match="no column 'badge'"):
        internal_benchmark(ev, officer="badge")
    with pytest.raises(DataValidationError, match="values present"):
        internal_benchmark(ev, target="Purple")
    with pytest.raises(EstimationError, match="min_encounters"):
        internal_benchmark(ev, min_encounters=500)
    with pytest.raises(OptionError):
        internal_benchmark(ev, null="mle")
    with pytest.raises(DataValidationError, match="derived time features"):
        internal_benchmark(ev, match_on=("precinct",))
    with pytest.raises(DataValidationError, match="list of column names"):
        internal_benchmark(ev, match_on="district")


def test_unknown_groups_and_missing_officers_are_left_out_and_counted(sim):
    ev = sim[0].copy()
    ev.loc[ev.index[:100], "ethnicity"] = "Not stated"
    ev.loc[ev.index[100:150], "officer_id"] = None
    res = internal_benchmark(ev, min_encounters=40)
    assert res.n_encounters == len(ev) - 150
    assert any("100 encounter(s) with unknown ethnicity" in n for n in res.notes)
    assert any("50 encounter(s) without an officer identifier" in n for n in res.notes)


def _cli(capsys, *args: str) -> tuple[int, str]:
    from equity_metrics.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    _cli.err = captured.err
    return code, captured.out


def test_officers_command_writes_tables_without_ids(tmp_path, sim, capsys):
    ev = sim[0]
    src = tmp_path / "events.csv"
    ev.to_csv(src, index=False)
    out = tmp_path / "out"
    code, stdout = _cli(capsys, "officers", "--events", str(src), "--min-encounters", "40", "--out", str(out))
    assert code == 0
    assert "Officers examined: 600" in stdout and "Flagged (local false discovery rate" in stdout
    names = {f.name for f in out.iterdir()}
    assert {"officers.csv", "overview.csv", "null_estimates.csv", "z_histogram.csv", "summary.txt",
            "officers_z.png", "manifest.json"} <= names
    ids = set(ev["officer_id"])
    for f in out.iterdir():
        if f.suffix in (".csv", ".txt", ".json"):
            text = f.read_text()
            assert not any(i in text for i in ids), f.name
    assert not any(i in stdout for i in ids)
    assert json.loads((out / "manifest.json").read_text())["parameters"]["include_officer_ids"] is False
    out2 = tmp_path / "out2"
    code, stdout = _cli(capsys, "officers", "--events", str(src), "--min-encounters", "40", "--include-officer-ids",
                        "--out", str(out2))
    assert code == 0
    assert set(pd.read_csv(out2 / "officers.csv")["officer"]) <= ids
    assert "do not publish" in stdout
    assert not any(i in (out2 / "overview.csv").read_text() for i in ids)


def test_officers_command_refuses_too_few_officers(tmp_path, sim, capsys):
    src = tmp_path / "events.csv"
    sim[0].to_csv(src, index=False)
    code, _ = _cli(capsys, "officers", "--events", str(src), "--min-encounters", "5000", "--out", str(tmp_path / "o"))
    assert code == 4
    assert "--min-encounters" in _cli.err and "officers have at least 5000" in _cli.err


@pytest.mark.shared
def test_chicago_use_of_force_worked_example():
    from equity_metrics.examples.chicago_officers import chicago_officer_benchmark, chicago_officer_events

    folder = need_shared("data", "chicago")
    ev = chicago_officer_events(folder)
    res = chicago_officer_benchmark(folder)
    known = ev[ev["ethnicity"].notna() & ~ev["ethnicity"].isin(["Not stated"])]
    per_officer = known.groupby("officer_id").size()
    assert res.n_encounters == len(known)
    assert res.n_officers_all == len(per_officer)
    assert res.n_officers <= int((per_officer >= 20).sum())
    assert res.n_officers >= 0.95 * int((per_officer >= 20).sum())
    assert np.isfinite(res.table["z"]).all()
    # district from the beat: beat 1134 -> district 11; every encounter with a 3-4 digit beat has one
    assert (ev.loc[ev["beat"].astype(str) == "1134", "district"] == "11").all()
    assert 0.5 < res.fdr.sigma < 2.0 and 0.8 < res.fdr.p0 <= 1.0
    assert res.table["coverage"].min() > 0.5


@pytest.mark.slow
def test_simulation_false_discovery_proportion_and_power():
    fdps, powers = [], []
    for seed in range(8):
        ev, truth = simulate_officer_encounters(n_officers=1000, n_biased=50, effect=1.0, seed=100 + seed)
        res = internal_benchmark(ev, min_encounters=40)
        t = res.tidy(include_officer_ids=True)
        biased = truth.set_index("officer_id").loc[t["officer"], "biased"].to_numpy()
        flagged = t["flagged"].to_numpy()
        fdps.append((flagged & ~biased).sum() / max(flagged.sum(), 1))
        powers.append((flagged & biased).sum() / biased.sum())
    # flagging at local fdr < 0.2 keeps the realised false discovery proportion near or below 0.2
    assert np.mean(fdps) <= 0.2
    assert np.mean(powers) >= 0.5


def test_public_names():
    import equity_metrics as em

    ns: dict = {}
    exec("from equity_metrics import *", ns)
    assert {"internal_benchmark", "locfdr"} <= set(ns)
    assert em.measures.officer_benchmark_overview is officer_benchmark_overview
    assert callable(em.plots.officer_benchmark_plot) and callable(em.plots.locfdr_plot)


def test_time_features_from_text_keep_the_local_hour_across_daylight_saving():
    d = pd.DataFrame({"datetime": ["2004-01-17 14:47:00-06:00", "2004-07-17 14:47:00-05:00", None, "2004-07-17 03:00"],
                      "time_known": [True, True, False, pd.NA]})
    f = feature_frame(d, ["hour", "shift", "month"], datetime="datetime")
    assert f["hour"].tolist() == ["14", "14", "(missing)", "(missing)"]
    assert f["shift"].tolist()[:2] == ["day", "day"] and f["month"].tolist() == ["1", "7", "(missing)", "7"]


def _written_text(folder) -> dict[str, str]:
    return {p.name: p.read_bytes().decode("latin-1") for p in sorted(folder.rglob("*")) if p.is_file()}


def test_officers_command_plain_words_rounded_counts_and_no_machine_paths(tmp_path, sim, sim_result, capsys):
    """summary.txt and the figure speak plainly; pseudonymous counts are rounded to 5 (exact with ids);
    no written file names a folder of the machine; null_estimates says which estimate is valid."""
    from pathlib import Path

    ev = sim[0]
    src = tmp_path / "events.csv"
    ev.to_csv(src, index=False)
    out = tmp_path / "out"
    code, _ = _cli(capsys, "officers", "--events", str(src), "--min-encounters", "40", "--out", str(out))
    assert code == 0
    for name, text in _written_text(out).items():
        for machine in {str(tmp_path), str(Path.cwd()), str(Path.home())}:
            assert machine not in text, (name, machine)
    man = json.loads((out / "manifest.json").read_text())
    assert [i["file"] for i in man["inputs"]] == ["events.csv"]
    summary = (out / "summary.txt").read_text()
    assert "chance a flag is a false alarm" in summary and "expected spread if no officer differed" in summary.lower()
    for jargon in ("fdr <", "p0", "delta", "null (ml)", "officer_unit"):
        assert jargon not in summary, jargon
    assert "rounded to the nearest 5" in summary
    per = pd.read_csv(out / "officers.csv")
    exact = sim_result.tidy(include_officer_ids=True)
    assert (per["n_encounters"] % 5 == 0).all() and (per["n_matched"] % 5 == 0).all()
    assert (per["counts_rounded_to"] == 5).all()
    assert (np.abs(per["n_encounters"].to_numpy() - exact["n_encounters"].to_numpy()) <= 2).all()
    assert (per["n_encounters"].to_numpy() != exact["n_encounters"].to_numpy()).any()  # the rounding did something
    nulls = pd.read_csv(out / "null_estimates.csv").set_index("null")
    assert {"valid", "note"} <= set(nulls.columns) and bool(nulls.loc["ml", "valid"])
    assert nulls.loc["ml", "note"] == "used for the flags"
    out2 = tmp_path / "out2"
    code, _ = _cli(capsys, "officers", "--events", str(src), "--min-encounters", "40", "--include-officer-ids",
                   "--out", str(out2))
    assert code == 0
    with_ids = pd.read_csv(out2 / "officers.csv", dtype={"officer": str})
    assert "counts_rounded_to" not in with_ids
    assert with_ids["n_encounters"].tolist() == exact["n_encounters"].tolist()


def test_plain_figure_labels(sim_result):
    ax = sim_result.plot()
    texts = [ax.get_title(), ax.get_xlabel()] + [t.get_text() for t in ax.get_legend().get_texts()]
    joined = " ".join(texts)
    assert "chance a flag is a false alarm" in joined and "expected spread if no officer differed" in joined
    assert "all officers" in joined
    for jargon in ("fdr", "p0 f0", "fitted mixture", "null (ml)"):
        assert jargon not in joined, jargon


def test_impossible_central_matching_p0_is_marked_not_clipped():
    """Central matching can return p0 > 1 (flat-topped middle): the estimate is kept, marked invalid, and the
    benchmark's notes say the ML null is used (R locfdr keeps the number and warns only when it is used)."""
    from equity_metrics.measures.internal_benchmark import _invalid_null_notes
    from equity_metrics.measures.locfdr import P0_TOLERANCE, locfdr

    rng = np.random.default_rng(2)
    z = np.r_[rng.normal(0.5, 0.6, 300), rng.normal(-0.5, 0.9, 250)]   # two humps: a flat top
    res = locfdr(z, bre=60)
    e = res.estimates
    assert e.loc["central", "p0"] > 1 + P0_TOLERANCE          # as computed, not clipped
    assert not bool(e.loc["central", "valid"]) and bool(e.loc["ml", "valid"])
    assert res.null == "ml" and 0 < res.p0 <= 1
    notes = _invalid_null_notes(res, len(z))
    assert len(notes) == 1 and notes[0].startswith("central matching failed with 550 officers")
    assert "maximum-likelihood null is used" in notes[0]
    with pytest.warns(UserWarning, match="not a valid estimate"):
        locfdr(z, bre=60, null="central")


@pytest.mark.shared
@pytest.mark.slow
def test_officers_command_on_chicago_marks_the_failed_central_matching(tmp_path, capsys):
    """The real Chicago run: central matching's p0 = 1.50 marked invalid, said in summary.txt; no machine path."""
    chicago = need_shared("data", "chicago")
    out = tmp_path / "chi"
    code, _ = _cli(capsys, "officers", "--chicago", str(chicago), "--out", str(out))
    assert code == 0
    nulls = pd.read_csv(out / "null_estimates.csv").set_index("null")
    assert nulls.loc["central", "p0"] > 1.4 and not bool(nulls.loc["central", "valid"])
    summary = (out / "summary.txt").read_text()
    assert "Central matching" in summary and "failed with 548 officers" in summary
    assert "maximum-likelihood estimate is used" in summary
    man = json.loads((out / "manifest.json").read_text())
    assert man["parameters"]["chicago"] == "chicago"
    for name, text in _written_text(out).items():
        assert str(chicago.resolve()) not in text and str(tmp_path) not in text and str(ROOT.parent) + "/" not in text, name
