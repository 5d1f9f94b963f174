"""The command report's optional sections: training sensitivity and design MDE, tests that need no
population benchmark (veil of darkness), officer-level patterns (counts only, never ids) and trust.

Each figure the report prints is recomputed here by calling the library directly (an independent
path from the report's assembly) and compared with the HTML.
"""

from __future__ import annotations

import html as htmllib
import re

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics.datasets import make_trust_panel
from equity_metrics.errors import DataValidationError
from equity_metrics.report import build_report, sample_config


def _text(h: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", h))


@pytest.fixture(scope="module")
def trust_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("trust")
    panel = make_trust_panel(n_areas=12, n_months=30, n_treated=5, effect=6.0, seed=5)
    survey = panel.write_chicago_layout(d / "sentiment.csv")
    ro = panel.rollout.assign(start=panel.rollout["start"].dt.strftime("%Y-%m-%d"))
    ro.to_csv(d / "rollout.csv", index=False)
    return panel, survey, d / "rollout.csv"


@pytest.fixture(scope="module")
def rep(trust_files):
    _, survey, rollout = trust_files
    cfg = sample_config(veil_of_darkness=True, officer_benchmark=True, officer_min_encounters=20,
                        trust_survey=str(survey), trust_rollout=str(rollout),
                        trust_rollout_source="generated rollout (make_trust_panel seed 5)", trust_label="Trust in police")
    return build_report(cfg)


def test_config_rules_for_optional_sections(trust_files):
    _, survey, rollout = trust_files
    with pytest.raises(DataValidationError, match="rollout_source"):
        sample_config(trust_survey=str(survey), trust_rollout=str(rollout))
    with pytest.raises(DataValidationError, match="without a survey"):
        sample_config(trust_rollout=str(rollout), trust_rollout_source="x")
    with pytest.raises(em.OptionError, match="trust_format"):
        sample_config(trust_survey=str(survey), trust_format="gallup")


def test_sections_present_in_order_and_toc(rep):
    h = rep.html()
    pos = [h.find(f'id="{a}"') for a in ("impact", "benchmark-free", "officers", "trust", "quality")]
    assert all(p > 0 for p in pos) and pos == sorted(pos)
    # the table of contents keeps "7. Data quality" numbered 7 after the optional 6a-6c
    assert '<li value="7"><a href="#quality">' in h
    assert h.count('class="sub"') == 3


def test_training_section_has_breakdown_and_design_mde(rep):
    t = _text(rep.html())
    assert "How sure, and how big an effect could this design see?" in t
    te = rep.data.extras["training_extra"]["table"]
    assert len(te) >= 1 and te["mde_share"].notna().all()
    # independent path: the design MDE straight from the planning module on the report's own panel
    imp = rep.data.impact
    spec = next(iter(imp.dynamic))
    dm = em.models.design_mde(imp.panel, outcome=imp.outcome_columns[spec], alpha=0.05, power=0.8)
    assert te["mde_share"].iloc[0] == pytest.approx(dm.mde_share)
    assert f"about {dm.mde_share:.0%} of the untrained level" in t
    # the planning MDE is set beside the MDE of the results table (one explained pair, not two unexplained figures)
    assert "implied by this estimate's own uncertainty" in t
    assert "Not covered by these two checks" in t  # the share outcome is named, not silently left out


def test_veil_section_matches_library(rep):
    t = _text(rep.html())
    ev = rep.data.extras["benchmark_free"]["veil"].tidy()
    # independent path: run the test on the report's area directly from the raw sample files
    stops = em.datasets.load_sample_stops()
    own = em.veil_of_darkness_by_area(stops.data[stops.data["force"].astype(str) == "northshire"]).tidy()
    assert own["odds_ratio"].iloc[0] == pytest.approx(ev["odds_ratio"].iloc[0], rel=1e-9)
    if bool(own["applicable"].iloc[0]):
        assert f"odds ratio {own['odds_ratio'].iloc[0]:.2f}" in t
    else:
        assert "does not apply" in t


def test_officer_section_on_sample_explains_too_few_officers(rep):
    h = rep.html()
    of = rep.data.extras["officers"]
    # 49 sample officers: too few for an empirical null; the section says so instead of guessing
    assert of["error"] and "empirical null" in of["error"]
    assert "could not be run" in _text(h)
    ids = set(pd.read_csv(em.datasets.sample_path() / "officer_events.csv", dtype=str)["officer_id"].dropna())
    assert not [i for i in ids if re.search(rf"\b{re.escape(i)}\b", h)]


def test_officer_section_counts_only_never_ids():
    """Generated force of 600 officers (30 planted): the section gives counts and the z spread, no ids."""
    from types import SimpleNamespace

    from equity_metrics.report.extras import _officers
    from equity_metrics.report.extras_view import extra_context

    enc, truth = em.measures.simulate_officer_encounters(n_officers=600, n_biased=30, effect=1.2, seed=3)
    cfg = sample_config(officer_benchmark=True, officer_min_encounters=20)
    of = _officers(cfg, SimpleNamespace(officer_events=enc), area=None)
    assert of["error"] is None
    # independent path: the library's own result on the same encounters
    own = em.internal_benchmark(enc, min_encounters=20, match_on=of["result"].match_on
                                if hasattr(of["result"], "match_on") else ("district", "shift", "year"))
    tidy = own.tidy()
    assert of["examined"] == int(np.isfinite(tidy["z"]).sum()) and of["flagged"] == int(tidy["flagged"].sum())
    assert of["flagged"] > 0
    lines = " ".join(extra_context(SimpleNamespace(extras={"officers": of}, level=95))["off"]["lines"])
    assert f"{of['flagged']:,} of them stand out" in lines
    assert not re.search(r"officer_\d{4}", lines)
    assert not any(str(i) in lines.split() for i in enc["officer_id"].astype(str).unique()[:200])


def test_trust_section_matches_library(rep, trust_files):
    panel, survey, _ = trust_files
    t = _text(rep.html())
    # independent path: read the same file and compute the gap by year with the measures directly
    s = em.read_chicago_sentiment(survey)
    g = em.trust_gap(s, group="Black", reference="White", area_type="district", by="year").tidy()
    for r in g.to_dict("records"):
        assert f"{r['gap']:+.1f} ({r['ci_low']:+.1f} to {r['ci_high']:+.1f})" in t
    imp = rep.data.extras["trust"]["impact"]
    assert imp is not None and imp.overall["ci_low"] <= 6.0 <= imp.overall["ci_high"]
    assert "generated rollout (make_trust_panel seed 5)" in t
    assert imp.sentence in t


@pytest.mark.slow
def test_threshold_section_from_counts(tmp_path):
    """A generated state (12 counties, planted thresholds) in the report's threshold section: the table
    equals the library's own fit on the same counts with the same settings (an independent call)."""
    st = em.datasets.generate_opp_state(counties=12, model="hierarchical", median_stops=400, seed=7)
    counts = st.truth[["area", "group", "stops", "searches", "hits"]]
    path = tmp_path / "counts.csv"
    counts.to_csv(path, index=False)
    cfg = sample_config(threshold_counts=str(path), threshold_chains=2, threshold_draws=200)
    rep = build_report(cfg)
    t = _text(rep.html())
    assert "Threshold test" in t and "Inferred search thresholds" in t
    tab = rep.data.extras["benchmark_free"]["threshold_table"]
    own = em.threshold_test(pd.read_csv(path), model="hierarchical", chains=2, warmup=200, draws=200, seed=0).table()
    pd.testing.assert_frame_equal(tab.reset_index(drop=True), own.reset_index(drop=True))
    for r in own.to_dict("records"):
        assert f"{100 * r['threshold']:.1f}% ({100 * r['ci_low']:.1f} to {100 * r['ci_high']:.1f})" in t
    assert "threshold_test" in rep.data.tables()
