"""The command report (equity_metrics.report): config, numbers, suppression, safety, determinism, outputs."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics.errors import DataValidationError, EquityMetricsError, OptionError
from equity_metrics.report import (
    CommandReport,
    ReportConfig,
    build_report,
    load_report_config,
    run_report,
    sample_config,
)
from equity_metrics.report.html import SECTIONS, render_html

from conftest import ROOT, need_shared

try:
    em.datasets.sample_path()
except EquityMetricsError as exc:  # pragma: no cover - samples absent from an installed copy
    pytest.skip(f"synthetic samples not available: {exc}", allow_module_level=True)


@pytest.fixture(scope="module")
def rep() -> CommandReport:
    t0, c0 = time.perf_counter(), time.process_time()
    r = build_report(sample_config())
    r.html()
    r.build_seconds = time.perf_counter() - t0
    r.build_cpu_seconds = time.process_time() - c0  # CPU time: not inflated by other processes on a busy machine
    return r


@pytest.fixture(scope="module")
def officer_ids() -> set[str]:
    return set(em.datasets.load_sample_officers()["officer_id"].astype(str))


# ----------------------------------------------------------------------------- config
def test_sample_toml_equals_sample_config():
    assert load_report_config(ROOT / "reports" / "sample.toml") == sample_config()


def test_config_overrides_and_paths(tmp_path):
    cfg = load_report_config(ROOT / "reports" / "sample.toml", area="southvale", period=None, suppress_below=5)
    assert cfg.area == "southvale" and cfg.period == "FY" and cfg.suppress_below == 5
    assert Path(cfg.population).is_absolute() and Path(cfg.population).is_file()
    assert cfg.replace(training="", officer_events="").has_roster is False


@pytest.mark.parametrize(
    "kw, cls, words",
    [
        ({"period": "weekly"}, OptionError, ["period", "rolling12"]),
        ({"formats": ["docx"]}, OptionError, ["formats", "html"]),
        ({"suppress_below": -1}, OptionError, ["suppress_below"]),
        ({"alpha": 2}, OptionError, ["alpha"]),
        ({"training_date": "June 2020"}, OptionError, ["training_date", "YYYY-MM"]),
        ({"groups": ["White"]}, DataValidationError, ["groups", "reference"]),
        ({"area_name": "x"}, OptionError, ["unknown", "area"]),
        ({"officer_events": ""}, DataValidationError, ["officer_events"]),
    ],
)
def test_config_errors_name_the_key(kw, cls, words):
    with pytest.raises(cls) as ei:
        sample_config(**kw)
    msg = str(ei.value)
    for w in words:
        assert w in msg, (w, msg)


def test_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\npopulation = "p.csv"\n', encoding="utf-8")
    with pytest.raises(OptionError, match=r"\[inputs\]"):
        load_report_config(bad)
    bad.write_text("title = [unclosed\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="TOML"):
        load_report_config(bad)
    with pytest.raises(DataValidationError, match="not found"):
        load_report_config(tmp_path / "nope.toml")
    ok = tmp_path / "ok.toml"
    ok.write_text('[inputs]\nstops = ["missing_folder"]\npopulation = "missing.csv"\n', encoding="utf-8")
    cfg = load_report_config(ok)
    assert cfg.stops == (str(tmp_path / "missing_folder"),)  # relative to the config file's folder
    with pytest.raises(DataValidationError, match="stops"):
        build_report(cfg)


# ----------------------------------------------------------------------------- numbers
def test_headline_matches_disparity(rep):
    d = rep.data
    assert (d.area, d.period_label, d.headline_group) == ("northshire", "2020/21", "Black")
    direct = em.disparity(em.datasets.load_sample_stops(), em.datasets.load_sample_population(), by="force",
                          period="FY").tidy()
    row = direct[(direct["force"] == "northshire") & (direct["period"] == "2020/21") & (direct["group"] == "Black")].iloc[0]
    h = d.headline.set_index("group").loc["Black"]
    assert h["ratio"] == pytest.approx(row["ratio"]) and h["ci_low"] == pytest.approx(row["ci_low"])
    # the sentence is written from those numbers
    text = rep.summary()
    assert f"{row['ratio']:.1f} times the rate of White people" in text
    assert f"95% CI {row['ci_low']:.1f} to {row['ci_high']:.1f}" in text
    assert "In the 12 months to March 2021" in text and "synthetic residential population" in text


def test_change_is_ratio_of_ratios(rep):
    c = rep.data.change
    h = rep.data.headline.set_index("group").loc["Black", "ratio"]
    assert c["base_label"] == "2019/20"
    assert c["change_ratio"] == pytest.approx(h / c["base_ratio"])
    assert c["change_ci_low"] < c["change_ratio"] < c["change_ci_high"]
    # clear = Holm-adjusted across the groups compared (an unadjusted interval excluding 1 is not enough)
    assert c["clear"] == (c["p_adjusted"] < rep.data.alpha) and c["p_adjusted"] >= c["p_value"]
    assert (c["change_ci_low"] > 1 or c["change_ci_high"] < 1) == (c["p_value"] < rep.data.alpha)


def test_standardised_moves_toward_planted_truth(rep):
    s = rep.data.age_sex.set_index("group")
    truth = em.datasets.load_sample_truth()
    assert s.loc["Black", "crude_ratio"] > s.loc["Black", "std_ratio"]
    assert s.loc["Black", "ci_low"] < truth.standardised_ratio["northshire"]["Black"] < s.loc["Black", "ci_high"]


def test_officer_impact_section(rep):
    imp = rep.data.impact
    assert imp.kind == "officer" and "Callaway" in imp.estimator
    t = imp.table.set_index("outcome")
    truth = em.datasets.load_sample_truth()
    r = t.loc["use_of_force"]
    assert r["ci_low"] < truth.att_uof < r["ci_high"]  # planted ATT inside the interval
    assert 0 <= r["pretrend_p"] <= 1 and r["units"] > 30  # Northshire officers only (the area scopes the section)
    assert r["direction"] == ("unclear" if r["ci_low"] < 0 < r["ci_high"] else r["direction"])
    # the verdict box is highlighted only for a statistically clear change
    n_clear = int(imp.table["direction"].isin(["decrease", "increase"]).sum())
    assert rep.html().count('class="verdict clear"') == n_clear
    es = imp.event_study["use_of_force"]
    assert es["event_time"].min() == -6 and es["event_time"].max() == 12


def test_its_impact_and_no_training():
    cfg = sample_config(training="", officer_events="", training_date="2020-06",
                        training_label="illustrative date for testing")
    r = build_report(cfg)
    imp = r.data.impact
    assert imp.kind == "its" and "interrupted time series" in imp.estimator
    row = imp.table.iloc[0]
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    html = r.html()
    assert "illustrative date for testing" in html and "interrupted time series" in html
    assert 'id="fig-its"' in html
    # the change is now measured against the 12 months before training
    r2 = build_report(sample_config(training="", officer_events=""))
    assert r2.data.impact.kind == "none"
    assert "No training dates were given" in r2.html()


# ----------------------------------------------------------------------------- suppression
def test_suppression_hides_small_counts_and_what_reveals_them(rep):
    thr = rep.data.suppress_below
    for name, t in rep.data.tables().items():
        for c in ("events", "searches", "hits"):
            if c in t.columns:
                v = t[c].to_numpy(float)
                assert not ((v > 0) & (v < thr)).any(), (name, c)
    p = rep.data.by_power
    hid = p["suppressed"].to_numpy(bool)
    assert hid.any()
    assert p.loc[hid, ["rate_per_1000", "ratio", "ci_low", "ci_high"]].isna().all().all()
    # the same cells as em.suppress on the counts table (primary and complementary)
    full = em.disparity(em.datasets.load_sample_stops(), em.datasets.load_sample_population(),
                        by=["force", "legal_power"], period="FY").tidy()
    full = full[(full["force"] == "northshire") & (full["period"] == "2020/21")]
    wide = full.pivot_table(index="legal_power", columns="group", values="events", aggfunc="sum")
    res = em.suppress(wide, threshold=thr)
    expect = {(r, c) for r, c in zip(res.cells()["row"], res.cells()["column"])}
    got = {(r, g) for r, g, h in zip(p["legal_power"], p["group"], hid) if h}
    assert expect <= got and res.n_secondary > 0  # report/protection.py may hide more (linked tables)


def test_suppressed_cells_render_as_c(rep):
    html = rep.html()
    assert html.count(">[c]<") >= rep.data.by_power["suppressed"].sum()
    # a hidden count never appears in the by-power table
    t = rep.data.by_power
    assert not t.loc[t["suppressed"], "events"].notna().any()


# ----------------------------------------------------------------------------- safety
def test_html_self_contained(rep):
    html = rep.html()
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport"' in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html, re.I)
    assert "@import" not in html
    assert not re.search(r"""url\(\s*['"]?(?!#)""", html)  # only in-page references such as clip-path="url(#p1)"
    assert html.count("<svg") >= 7 and 'class="table-wrap"' in html
    # section headings in order
    pos = [html.index(f'id="h-{a}"') for a, _ in SECTIONS]
    assert pos == sorted(pos)


def test_data_text_is_escaped(rep):
    evil = "<script>alert(1)</script>"
    d = rep.data
    old_name, old_area = d.area_name, d.by_area.copy()
    try:
        d.area_name = evil
        d.by_area["area_name"] = evil
        html = render_html(d)
    finally:
        d.area_name, d.by_area = old_name, old_area
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_no_officer_ids_anywhere(rep, officer_ids, tmp_path):
    assert rep.data.impact.kind == "officer"
    outs = run_report(sample_config(), out=tmp_path, formats=("html",))
    texts = [p.read_text(encoding="utf-8") for p in outs.paths]
    for text in texts + [rep.summary(), rep._repr_html_()]:
        found = set(re.findall(r"\b[A-Z]\d{4}\b", text)) & officer_ids
        assert not found, sorted(found)[:5]


def test_injected_values_escaped_and_defused(tmp_path):
    src = Path(em.datasets.sample_path())
    dst = tmp_path / "samples"
    shutil.copytree(src, dst)
    f = dst / "policeuk" / "2020-06" / "2020-06-northshire-stop-and-search.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    evil = ["<script>alert(1)</script>", '=HYPERLINK("http://x","y")']
    mask = df["Object of search"] == "Controlled drugs"
    idx = df.index[mask]
    df.loc[idx[: len(idx) // 2], "Object of search"] = evil[0]
    df.loc[idx[len(idx) // 2:], "Object of search"] = evil[1]
    df.to_csv(f, index=False)
    cfg = sample_config(stops=[str(dst / "policeuk")], training="", officer_events="")
    outs = run_report(cfg, out=tmp_path / "out", formats=("html",))
    html = outs.html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html.lower()
    csv = (tmp_path / "out" / "ratios_by_object_of_search.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in csv
    assert not re.search(r'(^|,)=HYPERLINK', csv, re.M)


# ----------------------------------------------------------------------------- determinism and outputs
def test_html_byte_identical(rep):
    again = build_report(sample_config())
    assert again.html().encode("utf-8") == rep.html().encode("utf-8")


def test_run_report_outputs_and_manifest(tmp_path):
    a = run_report(sample_config(), out=tmp_path / "a", formats=("html",))
    b = run_report(sample_config(), out=tmp_path / "b", formats=("html",))
    names = {p.name for p in a.paths}
    assert {"report.html", "manifest.json", "headline.csv", "ratios_by_area.csv", "outcomes.csv",
            "training_impact.csv"} <= names
    assert [p.read_bytes() for p in a.paths] == [p.read_bytes() for p in b.paths]
    man = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert man["command"] == "report" and man["version"] == em.__version__
    from equity_metrics._manifest import sha256_file

    listed = {o["file"]: o["sha256"] for o in man["outputs"]}
    for p in a.paths:
        if p.name != "manifest.json":
            assert listed[p.name] == sha256_file(p)
    pop = [i for i in man["inputs"] if i["file"].endswith("population.csv")][0]
    assert pop["sha256"] == sha256_file(em.datasets.sample_path() / "population.csv")
    head = pd.read_csv(tmp_path / "a" / "headline.csv", dtype=str, keep_default_na=False)
    assert set(head["group"]) == {"Asian", "Black", "Mixed", "White", "Other"}
    assert "timestamp" not in json.dumps(man).lower()


def test_report_object_api(rep, tmp_path):
    assert "Sections:" in rep.summary() and str(rep) == rep.summary()
    frag = rep._repr_html_()
    assert "<html" not in frag and 'class="em-report"' in frag
    p = rep.to_html(tmp_path / "r.html")
    assert p.read_bytes() == rep.html().encode("utf-8")
    assert set(rep.data.tables()) >= {"headline", "ratios_by_area", "outcomes", "training_impact"}
    assert isinstance(rep.config, ReportConfig)


def test_speed(rep):
    # a guard against accidental slowness (an exponential loop), not a benchmark: CPU seconds of this process
    assert rep.build_cpu_seconds < 30, (rep.build_cpu_seconds, rep.build_seconds)


def test_pdf_missing_weasyprint_message(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("weasyprint"):
            raise ImportError("No module named 'weasyprint'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    from equity_metrics.report.pdf import html_to_pdf

    with pytest.raises(OptionError, match=r'pip install "equity_metrics\[pdf\]"'):
        html_to_pdf("<p>x</p>")


# ----------------------------------------------------------------------------- real data
@pytest.mark.shared
@pytest.mark.slow
def test_west_yorkshire_real_data():
    tar = need_shared("data", "policeuk", "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz")
    pop_file = need_shared("data", "population", "census2011_pfa_ethnic_group_18.csv")
    rep = build_report(ROOT / "reports" / "west-yorkshire.toml")
    d = rep.data
    assert d.area == "west-yorkshire" and d.period_label == "2020/21" and d.impact.kind == "none"
    stops = em.read_policeuk(tar, forces=["west-yorkshire"])
    direct = em.disparity(stops, em.read_population(pop_file, vintage="census2011"), by="force", period="FY").tidy()
    row = direct[(direct["period"] == "2020/21") & (direct["group"] == "Black")].iloc[0]
    h = d.headline.set_index("group").loc["Black"]
    assert h["ratio"] == pytest.approx(row["ratio"]) and h["ci_high"] == pytest.approx(row["ci_high"])
    html = rep.html()
    assert "West Yorkshire" in html and "No training dates were given" in html and "2011 census" in html
    assert np.isfinite(h["ratio"]) and 1.5 < h["ratio"] < 10


# ----------------------------------------------------------------------------- compact tables and plain wording
def _details_blocks(html: str) -> dict[str, str]:
    """The ``<details class="all-groups">`` blocks by the CSV file they name."""
    out = {}
    for m in re.finditer(r'<details class="all-groups"><summary>(.*?)</summary>(.*?)</details>', html, re.S):
        csv = re.search(r"in (\S+\.csv)", m.group(1)).group(1)
        out[csv] = m.group(2)
    return out


def _table_rows(block: str) -> list[list[str]]:
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", block, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append(cells)
    return rows


def test_compact_power_table_ratios_equal_disparity(rep):
    d = rep.data
    c = d.compact("by_power").set_index("legal_power")
    full = em.disparity(em.datasets.load_sample_stops(), em.datasets.load_sample_population(),
                        by=["force", "legal_power"], period="FY").tidy()
    full = full[(full["force"] == "northshire") & (full["period"] == "2020/21")]
    black = full[full["group"] == "Black"].set_index("legal_power")
    white = full[full["group"] == "White"].set_index("legal_power")
    shown = c[~c["ratio_hidden"]]
    assert len(shown) >= 1
    for power, r in shown.iterrows():
        assert r["ratio"] == pytest.approx(black.loc[power, "ratio"])
        assert r["ci_low"] == pytest.approx(black.loc[power, "ci_low"])
        assert r["ci_high"] == pytest.approx(black.loc[power, "ci_high"])
        assert r["group_events"] == black.loc[power, "events"]
        assert r["reference_events"] == white.loc[power, "events"]
    # hidden in the full table -> hidden in the compact table (nothing recomputed)
    p = d.by_power
    for power, r in c.iterrows():
        hid_b = bool(p[(p["legal_power"] == power) & (p["group"] == "Black")]["suppressed"].iloc[0])
        assert r["group_suppressed"] == hid_b
        if hid_b:
            assert np.isnan(r["group_events"]) and np.isnan(r["ratio"])
    # and the HTML compact table shows those ratios, one row per power with a ratio
    t = rep.html()
    sec = t[t.index('id="h-ratios"'):t.index('id="h-outcomes"')]
    compact_html = sec[sec.index("By legal power, Northshire"):]
    compact_html = compact_html[:compact_html.index("</table>")]
    rows = _table_rows(compact_html)[1:]
    assert [r[0] for r in rows] == list(shown.index)
    for r, (power, v) in zip(rows, shown.iterrows()):
        assert r[-2] == f"{v['ratio']:.2f} ({v['ci_low']:.2f} to {v['ci_high']:.2f})"
    # powers without a publishable ratio are named once under the table, not shown as rows of [c]
    for power in c.index[c["ratio_hidden"]]:
        assert power not in [r[0] for r in rows]
        assert power in sec


def test_details_tables_keep_hidden_cells_hidden(rep):
    html = rep.html()
    blocks = _details_blocks(html)
    assert set(blocks) == {"ratios_by_area.csv", "ratios_by_legal_power.csv", "ratios_by_object_of_search.csv"}
    d = rep.data
    for csv, (t, label) in {"ratios_by_legal_power.csv": (d.by_power, "legal_power"),
                            "ratios_by_object_of_search.csv": (d.by_object, "object_of_search")}.items():
        rows = _table_rows(blocks[csv])
        header, body = rows[0], rows[1:]
        assert header[:3] == ["Object of search" if "object" in csv else "Legal power", "Group", "Searches"]
        assert len(body) == len(t)  # every power/object x group
        for cells, r in zip(body, t.to_dict("records")):
            assert cells[0] == str(r[label]).replace("&", "&amp;") and cells[1] == r["group"]
            if r["suppressed"]:
                assert cells[2] == "[c]" and cells[4] == "[c]" and cells[5] == "[c]"
                assert cells[6] == ""  # no reliability note on a row whose figures are all hidden
            else:
                assert cells[2] == f"{r['events']:,.0f}"
            n = cells[2].replace(",", "")
            assert not (n.isdigit() and 1 <= int(n) < d.suppress_below), (csv, cells)
    # no count 1..9 in any details table's count column
    assert "[c]" in blocks["ratios_by_legal_power.csv"]
    # closed by default, no script, and the CSV exports stay complete
    assert "<details open" not in html and "<script" not in html.lower()


def test_csv_exports_stay_complete(rep):
    from equity_metrics.report.tables import csv_tables

    c = csv_tables(rep.data)
    assert len(c["ratios_by_legal_power"]) == len(rep.data.by_power)
    assert len(c["ratios_by_object_of_search"]) == len(rep.data.by_object)
    hid = rep.data.by_power["suppressed"].to_numpy(bool)
    assert (c["ratios_by_legal_power"].loc[hid, "events"] == "[c]").all()


def test_flag_markers_and_legend(rep):
    html = rep.html()
    assert "under 20 searches: unreliable" not in html and "reference under 20 searches" not in html
    assert '<p class="legend"><b>u</b> fewer than 20 searches of the group' in html
    # each legend lists only markers its table uses
    for m in re.finditer(r'</table>\s*<p class="legend">(.*?)</p>', html, re.S):
        table = html[:m.start()]
        table = table[table.rindex("<table"):]
        for mark in re.findall(r"<b>(\w)</b>", m.group(1)):
            assert re.search(rf'data-label="Notes"[^>]*>[^<]*\b{mark}\b', table), mark
    # the headline table marks the one group under 20 searches
    head = rep.data.headline.set_index("group")
    small = [g for g, f in head["flags"].items() if "small_count" in str(f)]
    assert small == ["Other"]


def test_benchmark_named_once():
    from equity_metrics.report.text import benchmark_text

    assert benchmark_text("synthetic residential population", "synthetic") == "synthetic residential population"
    assert benchmark_text("2011 census residential population", "census2011") == "2011 census residential population"
    assert benchmark_text("residential population", "census2021") == "residential population (census2021)"
    assert benchmark_text("residential population", "") == "residential population"


def test_benchmark_not_repeated_in_report(rep):
    html = rep.html()
    assert "synthetic residential population (synthetic)" not in html
    assert "synthetic residential population, synthetic" not in html
    assert "against the synthetic residential population;" in html or "against the synthetic residential population." in html


def test_plain_verdicts_do_not_overclaim(rep):
    from equity_metrics.report.text import group_lines, odds_sentence

    d = rep.data
    lines = group_lines(d)
    for g in d.headline.itertuples():
        if g.group in (d.reference, d.headline_group) or g.ratio_hidden:
            continue
        line = [x for x in lines if x.startswith(f"{g.group} people")][0]
        assert ("interval includes 1" in line) == (g.ci_low <= 1 <= g.ci_high)
    s = odds_sentence({"group": "Asian", "odds_ratio": 0.67, "ci_low": 0.35, "ci_high": 1.28}, reference="White",
                      level=95, area_effects=False)
    assert "no clear difference" in s and "less likely" not in s and "area effects" not in s
    s = odds_sentence({"group": "Black", "odds_ratio": 0.41, "ci_low": 0.21, "ci_high": 0.80}, reference="White",
                      level=95, area_effects=True)
    assert "less likely" in s and "area effects" in s
    html = rep.html()
    assert "pooled model: binomial GLM" not in html  # jargon replaced by the sentences above
    assert html.count("times the odds of a find") == len(d.outcomes_pooled)


def test_print_and_phone_css(rep):
    html = rep.html()
    css = html[html.index("<style>"):html.index("</style>")]
    assert "details.all-groups { display: none; }" in css[css.index("@media print"):]
    assert "break-inside: avoid" in css and "figure.fig" in css
    assert "td::before { content: attr(data-label)" in css[css.index("@media (max-width: 600px)"):]
    assert html.count('class="print-only note"') == len(_details_blocks(html))
    # every data cell names its column (the phone layout prints it)
    assert not re.search(r"<td(?![^>]*data-label)[^>]*>", html[:html.index('id="h-provenance"')])


def test_single_area_has_no_by_area_table():
    r = build_report(sample_config(areas=["northshire"], training="", officer_events=""))
    html = r.html()
    assert "Only one force area was read" in html and 'id="fig-forest_area"' not in html
    assert "ratios_by_area.csv" not in _details_blocks(html)
