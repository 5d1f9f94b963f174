"""equity-metrics disparity / impact: tables equal the library's, manifest, defusing, exit codes, progress."""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics._manifest import sha256_file
from equity_metrics._progress import progress
from equity_metrics.cli import EXIT_INPUT, EXIT_OK, EXIT_REQUEST, EXIT_USAGE, main
from equity_metrics.datasets import sample_path

S = sample_path()
POP = ["--population", str(S / "population.csv"), "--vintage", "synthetic", "--area-type", "force"]
EVENTS = ["--events", str(S / "officer_events.csv"), "--mapping", str(S / "officer_events_mapping.toml"),
          "--training", str(S / "training.csv"), "--officers", str(S / "officers.csv"), "--treated-from", "completion"]
EVIL = '=HYPERLINK("http://x","y")'


def _pop():
    return em.read_population(S / "population.csv", vintage="synthetic", area_type="force")


def _check_manifest(out: Path) -> dict:
    man = json.loads((out / "manifest.json").read_text())
    listed = {o["file"]: o["sha256"] for o in man["outputs"]}
    on_disk = {p.name for p in out.iterdir() if p.name != "manifest.json"}
    assert set(listed) == on_disk
    for name, sha in listed.items():
        assert sha == sha256_file(out / name), name
    for inp in man["inputs"]:
        assert re.fullmatch(r"[0-9a-f]{64}", inp["sha256"]), inp
        if Path(inp["file"]).is_file():
            assert inp["sha256"] == sha256_file(inp["file"])
    assert "timestamp" not in json.dumps(man)
    return man


# ----------------------------------------------------------------------------- disparity
@pytest.fixture(scope="module")
def disp_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("disp")
    rc = main(["--quiet", "disparity", str(S / "policeuk"), *POP, "--standardise", "--outcomes", "--out", str(out)])
    assert rc == EXIT_OK
    return out


def test_disparity_tables_equal_library(disp_out):
    stops = em.read_policeuk(S / "policeuk")
    pop = _pop()
    lib = em.disparity(stops, pop, by="force", reference="White").tidy()
    got = pd.read_csv(disp_out / "disparity.csv", keep_default_na=False, na_values=[""],
                      dtype={"flags": str, "publication_flag": str})
    assert list(got.columns) == list(lib.columns) + ["publication_flag"]
    assert got["group"].tolist() == lib["group"].tolist() and got["force"].tolist() == lib["force"].tolist()
    for c in ("events", "population", "rate_per_1000", "rate_ci_low", "ratio", "ci_low", "ci_high", "p_value",
              "ratio_bound_high"):
        np.testing.assert_allclose(got[c].to_numpy(float), lib[c].to_numpy(float), rtol=1e-13, equal_nan=True, err_msg=c)
    assert got["flags"].fillna("").tolist() == lib["flags"].tolist()
    want_flag = em.flag_small_counts(lib["events"])["flag"].tolist()
    assert got["publication_flag"].fillna("").tolist() == want_flag
    std = em.standardised_disparity(stops, pop, by="force", reference="White").tidy()
    g2 = pd.read_csv(disp_out / "standardised.csv")
    np.testing.assert_allclose(g2["std_ratio"].to_numpy(float), std["std_ratio"].to_numpy(float), rtol=1e-13, equal_nan=True)
    o = em.outcome_test(stops, by="force", reference="White")
    g3 = pd.read_csv(disp_out / "outcomes.csv")
    assert g3["hits"].tolist() == o.tidy()["hits"].tolist()
    g4 = pd.read_csv(disp_out / "outcomes_pooled.csv")
    np.testing.assert_allclose(g4["odds_ratio"].to_numpy(float), o.pooled_tidy()["odds_ratio"].to_numpy(float), rtol=1e-12)
    a = em.outcome_test(stops, by="force", reference="White", outcome="arrest").tidy()
    g5 = pd.read_csv(disp_out / "outcomes_arrest.csv")
    assert g5["hits"].tolist() == a["hits"].tolist() and (g5["outcome"] == "arrest").all()


def test_disparity_manifest_ledger_rejects(disp_out):
    man = _check_manifest(disp_out)
    assert man["command"] == "disparity"
    names = {o["file"] for o in man["outputs"]}
    assert {"disparity.csv", "standardised.csv", "outcomes.csv", "outcomes_pooled.csv", "outcomes_arrest.csv",
            "outcomes_arrest_pooled.csv", "outcomes_any.csv", "outcomes_any_pooled.csv", "ledger.json", "rejects.csv",
            "population_ledger.json", "population_rejects.csv", "summary.txt"} == names
    roles = {i["role"] for i in man["inputs"]}
    assert roles == {"events", "population"}
    n_files = len(list((S / "policeuk").rglob("*.csv")))
    assert sum(i["role"] == "events" for i in man["inputs"]) == n_files
    led = json.loads((disp_out / "ledger.json").read_text())
    rej = pd.read_csv(disp_out / "rejects.csv")
    assert len(rej) == led["rows_rejected"] and list(rej.columns)[:2] == ["file", "line"]
    assert man["parameters"]["suppress_below"] == 0 and man["parameters"]["by"] == ["force"]


def test_disparity_suppression_hides_small_counts_and_derived_figures(tmp_path):
    out = tmp_path / "o"
    args = ["--quiet", "disparity", str(S / "policeuk"), *POP, "--period", "quarter", "--suppress-below", "10",
            "--table-format", "parquet", "--out", str(out)]
    assert main(args) == EXIT_OK
    pub = pd.read_parquet(out / "disparity.parquet")
    lib = em.disparity(em.read_policeuk(S / "policeuk"), _pop(), by="force", period="quarter").tidy()
    assert len(pub) == len(lib)
    hidden = pub["suppressed"].to_numpy() != ""
    small = ((lib["events"] > 0) & (lib["events"] < 10)).to_numpy()
    assert small.any() and (pub["suppressed"].to_numpy()[small] == "suppressed").all()
    assert hidden.sum() > small.sum() and set(pub["suppressed"]) == {"", "suppressed"}  # complements: same marker
    assert pub.loc[hidden, ["events", "rate_per_1000", "rate_ci_low", "ratio"]].isna().all().all()
    assert (pub.loc[hidden, "publication_flag"] == "[c]").all()
    assert not pub.loc[hidden, "flags"].str.contains(r"(?<!reference_)small_count").any()
    shown = ~hidden
    np.testing.assert_array_equal(pub.loc[shown, "events"].to_numpy(float), lib.loc[shown, "events"].to_numpy(float))
    # the reference group's hidden counts hide the ratios of its cell
    key = pub["force"] + pub["period"].astype(str)
    ref_hidden = set(key[hidden & (pub["group"] == "White").to_numpy()])
    rows = key.isin(ref_hidden).to_numpy()
    if rows.any():
        assert pub.loc[rows, "ratio"].isna().all()
    # no hidden count can be worked out from its row total: a row with a hidden count hides at least two
    # (the not-stated count of the cell is one more column of the suppressed table)
    per_cell = pd.Series(hidden).groupby(key.to_numpy()).sum()
    per_cell += pub["not_stated_events"].isna().groupby(key.to_numpy()).any().astype(int)
    assert ((per_cell == 0) | (per_cell >= 2)).all()
    summary = (out / "summary.txt").read_text()
    assert "[c] = confidential" in summary
    _check_manifest(out)


def test_formula_cells_defused_in_csv_and_xlsx(tmp_path):
    from openpyxl import load_workbook

    rows = [
        {"event_id": f"EV{i:03d}", "officer_id": f"X{i % 5}", "force": "eastmoor",
         "district": EVIL if i % 2 else "Coldbeck", "datetime": f"2020-01-{1 + i % 28:02d}T10:00:00",
         "event_type": "search", "subject_ethnicity": ["White", "Black", "Asian"][i % 3],
         "outcome": "Arrest" if i % 4 == 0 else "No further action"}
        for i in range(40)
    ]
    ev = tmp_path / "events.csv"
    pd.DataFrame(rows).to_csv(ev, index=False)
    mapping = tmp_path / "m.toml"
    shutil.copy(S / "officer_events_mapping.toml", mapping)
    base = ["--quiet", "disparity", str(ev), "--format", "mapped", "--mapping", str(mapping), *POP,
            "--by", "force,district"]
    assert main([*base, "--out", str(tmp_path / "c")]) == EXIT_OK
    csv = pd.read_csv(tmp_path / "c" / "disparity.csv", dtype=str, keep_default_na=False)
    assert set(csv["district"]) == {"Coldbeck", "'" + EVIL}
    assert main([*base, "--table-format", "xlsx", "--out", str(tmp_path / "x")]) == EXIT_OK
    ws = load_workbook(tmp_path / "x" / "disparity.xlsx").active
    col = [c.value for c in ws[1]].index("district") + 1
    cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    evil = [c for c in cells if c.value != "Coldbeck"]
    assert evil and all(c.data_type != "f" and c.value.startswith("'") for c in evil)
    # XLSX round trip: same numbers as the CSV
    back = pd.read_excel(tmp_path / "x" / "disparity.xlsx")
    ref = pd.read_csv(tmp_path / "c" / "disparity.csv")
    np.testing.assert_allclose(back["rate_per_1000"].to_numpy(float), ref["rate_per_1000"].to_numpy(float), rtol=1e-15)
    assert back["events"].tolist() == ref["events"].tolist()
    man = _check_manifest(tmp_path / "x")
    assert {i["role"] for i in man["inputs"]} == {"events", "population", "mapping"}


# ----------------------------------------------------------------------------- impact
def _library_impact(**kw):
    off = pd.read_csv(S / "officers.csv", dtype=str, keep_default_na=False).replace("", pd.NA)
    p = em.build_panel(em.datasets.load_sample_officer_events(), em.datasets.load_sample_training(), officers=off,
                       treated_from="completion")
    return p, em.staggered_did(p, unbalanced="drop", **kw)


@pytest.fixture(scope="module")
def impact_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("impact")
    assert main(["--quiet", "impact", *EVENTS, "--unbalanced", "drop", "--out", str(out)]) == EXIT_OK
    return out


def test_impact_tables_equal_library(impact_out):
    p, r = _library_impact()
    got = pd.read_csv(impact_out / "att_gt.csv")
    lib = r.tidy()
    assert list(got.columns) == list(lib.columns)
    for c in ("group", "time", "att", "std_error", "ci_low", "ci_high", "n_treated"):
        np.testing.assert_allclose(got[c].to_numpy(float), lib[c].to_numpy(float), rtol=1e-12, equal_nan=True, err_msg=c)
    for kind in ("simple", "dynamic", "group", "calendar"):
        a = pd.read_csv(impact_out / f"aggregate_{kind}.csv")
        b = r.aggregate(kind).tidy()
        assert a["level"].astype(str).tolist() == b["level"].astype(str).tolist(), kind
        np.testing.assert_allclose(a["estimate"].to_numpy(float), b["estimate"].to_numpy(float), rtol=1e-12)
        np.testing.assert_allclose(a["std_error"].to_numpy(float), b["std_error"].to_numpy(float), rtol=1e-12)
    pt = pd.read_csv(impact_out / "pretrend.csv")
    want = r.pretrend_test()
    assert pt["statistic"].iloc[0] == pytest.approx(want.statistic, rel=1e-12) and pt["df"].iloc[0] == want.df
    coh = pd.read_csv(impact_out / "cohorts.csv")
    assert coh["units"].tolist() == p.report.cohorts["units"].tolist()
    assert (impact_out / "panel_report.txt").read_text().startswith("Panel: officer_id x month, 2019-01 .. 2021-12")
    assert (impact_out / "event_study.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_impact_never_writes_officer_ids(impact_out):
    ids = set(pd.read_csv(S / "officers.csv", dtype=str)["officer_id"])
    assert len(ids) > 100
    pat = re.compile(r"\b(?:" + "|".join(map(re.escape, ids)) + r")\b")
    for f in impact_out.iterdir():
        if f.suffix in (".csv", ".txt", ".json"):
            assert not pat.search(f.read_text()), f.name
    from equity_metrics.cli_commands.impact import check_no_ids

    with pytest.raises(em.EquityMetricsError, match="holds officer ids"):
        check_no_ids({"t": pd.DataFrame({"who": ["N0001"]})}, ids)


def test_impact_manifest_and_reproducible_bytes(impact_out, tmp_path):
    man = _check_manifest(impact_out)
    assert {i["role"] for i in man["inputs"]} == {"events", "mapping", "training", "officers"}
    assert len(man["outputs"]) == 12 and man["parameters"]["treated_from"] == "completion"  # incl. honest_did.csv/.png
    again = tmp_path / "again"
    assert main(["--quiet", "impact", *EVENTS, "--unbalanced", "drop", "--out", str(again)]) == EXIT_OK
    assert json.loads((again / "manifest.json").read_text())["outputs"] == man["outputs"]  # PNG included


def test_impact_bootstrap_matches_library_and_xlsx(tmp_path):
    out = tmp_path / "b"
    args = ["--quiet", "impact", *EVENTS, "--unbalanced", "drop", "--bootstrap", "99", "--seed", "7",
            "--table-format", "xlsx", "--out", str(out)]
    assert main(args) == EXIT_OK
    _, r = _library_impact(bootstrap=True, n_boot=99, seed=7)
    got = pd.read_excel(out / "aggregate_dynamic.xlsx")
    want = r.aggregate("dynamic").tidy()
    np.testing.assert_allclose(got["std_error"].to_numpy(float), want["std_error"].to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(got["crit"].to_numpy(float), want["crit"].to_numpy(float), rtol=1e-12)


# ----------------------------------------------------------------------------- errors
def _one_line_error(capsys) -> str:
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and cap.err.startswith("equity-metrics: error:"), cap.err
    assert "Traceback" not in cap.err
    return cap.err


def test_errors_exit_codes_one_line(tmp_path, capsys):
    src = str(S / "policeuk")
    out = ["--out", str(tmp_path / "o")]
    # bad population file: cannot tell its vintage / garbage bytes
    assert main(["disparity", src, "--population", str(S / "population.csv"), *out]) == EXIT_INPUT
    assert "vintage" in _one_line_error(capsys)
    bad = tmp_path / "pop.csv"
    bad.write_bytes(b"")
    assert main(["disparity", src, "--population", str(bad), "--vintage", "x", *out]) == EXIT_INPUT
    _one_line_error(capsys)
    # missing file
    assert main(["disparity", str(tmp_path / "nope"), *POP, *out]) == EXIT_INPUT
    assert "not found" in _one_line_error(capsys)
    assert main(["impact", *EVENTS[:4], "--training", str(tmp_path / "nope.csv"), *out]) == EXIT_INPUT
    assert "not found" in _one_line_error(capsys)
    assert main(["impact", *EVENTS, "--officers", str(tmp_path / "nope.csv"), *out]) == EXIT_INPUT
    assert "officers file not found" in _one_line_error(capsys)
    # missing column: --by a column the events do not have; an events file without a required column
    assert main(["disparity", src, *POP, "--by", "beat_name", *out]) == EXIT_REQUEST
    assert "beat_name" in _one_line_error(capsys)
    ev = tmp_path / "ev.csv"
    pd.read_csv(S / "officer_events.csv").drop(columns="event_type").head(50).to_csv(ev, index=False)
    assert main(["impact", "--events", str(ev), "--mapping", str(S / "officer_events_mapping.toml"),
                 "--training", str(S / "training.csv"), *out]) == EXIT_INPUT
    assert "event_type" in _one_line_error(capsys)
    # bad option values: argparse choices (usage, 2) and library checks (request, 4)
    assert main(["disparity", src, *POP, "--period", "weekly", *out]) == EXIT_USAGE
    assert "weekly" in _one_line_error(capsys)
    assert main(["impact", *EVENTS, "--control", "everyone", *out]) == EXIT_USAGE
    _one_line_error(capsys)
    assert main(["disparity", src, *POP, "--reference", "Purple", *out]) == EXIT_REQUEST
    assert "Purple" in _one_line_error(capsys)
    assert main(["disparity", src, *POP, "--suppress-below", "-1", *out]) == EXIT_REQUEST
    _one_line_error(capsys)
    assert main(["impact", *EVENTS, "--start", "2019-13", *out]) == EXIT_REQUEST
    _one_line_error(capsys)
    assert main(["impact", *EVENTS, *out]) == EXIT_REQUEST  # unbalanced officer panel
    assert "--unbalanced drop" in _one_line_error(capsys)
    with pytest.raises(em.ReadError):
        main(["--debug", "disparity", str(tmp_path / "nope"), *POP, *out])


# ----------------------------------------------------------------------------- quiet, progress
def test_quiet_prints_nothing_and_no_progress_without_tty(tmp_path, capsys):
    assert main(["--quiet", "disparity", str(S / "policeuk"), *POP, "--out", str(tmp_path / "q")]) == EXIT_OK
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == ""
    # not quiet, stderr not a terminal (captured): tables on stdout, nothing on stderr
    assert main(["disparity", str(S / "policeuk"), *POP, "--out", str(tmp_path / "v")]) == EXIT_OK
    cap = capsys.readouterr()
    assert "ratio to White" in cap.out and cap.err == ""
    assert "reading police.uk files" not in cap.out


def test_progress_only_on_a_terminal(tmp_path, capsys, monkeypatch):
    import equity_metrics._progress as prog

    monkeypatch.setattr(prog, "stderr_is_tty", lambda: True)
    assert main(["disparity", str(S / "policeuk"), *POP, "--out", str(tmp_path / "t")]) == EXIT_OK
    cap = capsys.readouterr()
    assert "reading police.uk files" in cap.err and "reading police.uk files" not in cap.out
    assert main(["--quiet", "disparity", str(S / "policeuk"), *POP, "--out", str(tmp_path / "tq")]) == EXIT_OK
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == ""


def test_progress_helper(capsys, monkeypatch):
    items = [1, 2, 3]
    assert progress(items, desc="x") is items  # captured stderr is not a terminal: unchanged, silent
    assert progress(items, desc="x", enabled=False) is items
    assert list(progress(iter(items), total=3, desc="bar", enabled=True)) == items
    cap = capsys.readouterr()
    assert cap.out == "" and "bar" in cap.err

    class FakeTTY(io.StringIO):
        def isatty(self):
            return True

    fake = FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    assert list(progress(items, desc="tty")) == items
    assert "tty" in fake.getvalue()


def test_read_policeuk_progress_keyword(capsys):
    a = em.read_policeuk(S / "policeuk", progress=True)
    b = em.read_policeuk(S / "policeuk")
    assert capsys.readouterr().err == ""
    pd.testing.assert_frame_equal(a.data, b.data)
