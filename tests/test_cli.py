"""The equity-metrics command line: demo, ingest, exit codes and one-line errors."""

from __future__ import annotations

import json

from equity_metrics.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main


def test_demo_writes_the_command_report(capsys, tmp_path):
    """`equity-metrics demo` (the README's main command) builds the full report on the samples."""
    assert main(["demo", "--out", str(tmp_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Black people were searched at" in out and "times the rate of White people (95% CI" in out
    assert "Training impact" in out and "report.html" in out
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    from equity_metrics.datasets import load_sample_stops

    n_rows = sum(f.rows_read for f in load_sample_stops().ledger.files if "-northshire-" in str(f.file))
    assert f"{n_rows:,}" in html  # the report area's rows read (data quality is scoped to the area)
    assert "Data quality" in html and "Provenance" in html
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    files = {o["file"] for o in manifest["outputs"]}
    assert "report.html" in files and "headline.csv" in files
    assert "timestamp" not in json.dumps(manifest)


def test_report_from_config_with_overrides_and_from_flags(tmp_path, capsys):
    from pathlib import Path

    from equity_metrics.datasets import sample_path

    repo = Path(__file__).resolve().parents[1]
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["--quiet", "report", str(repo / "reports" / "sample.toml"), "--area", "southvale",
                 "--out", str(a)]) == EXIT_OK
    assert capsys.readouterr().out == ""
    assert "in Southvale" in (a / "report.html").read_text(encoding="utf-8")
    s = sample_path()
    assert main(["--quiet", "report", "--stops", str(s / "policeuk"), "--population", str(s / "population.csv"),
                 "--population-vintage", "synthetic", "--area", "eastmoor", "--out", str(b)]) == EXIT_OK
    html = (b / "report.html").read_text(encoding="utf-8")
    assert "in Eastmoor" in html and "No training" in html  # no roster or date given: said so
    # without a config the inputs are required: one line, exit 4
    assert main(["report", "--area", "eastmoor"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--stops" in err and "Traceback" not in err


def test_ingest_writes_parquet_ledger_rejects(tmp_path, capsys):
    from equity_metrics.datasets import sample_path

    src = sample_path() / "policeuk"
    assert main(["--quiet", "ingest", str(src), "--out", str(tmp_path)]) == EXIT_OK
    import pandas as pd

    df = pd.read_parquet(tmp_path / "events.parquet")
    led = json.loads((tmp_path / "ledger.json").read_text())
    assert len(df) == led["rows_kept"] == led["rows_read"] - led["rows_rejected"]
    assert (tmp_path / "rejects.csv").exists() and (tmp_path / "manifest.json").exists()
    assert capsys.readouterr().out == ""


def test_bad_input_is_one_line_with_exit_code(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err and "Traceback" not in err
    empty = tmp_path / "2020-01-kent-stop-and-search.csv"
    empty.write_bytes(b"")
    assert main(["ingest", str(empty), "--out", str(tmp_path / "o")]) == EXIT_INPUT
    assert "empty" in capsys.readouterr().err
    assert main([]) == EXIT_USAGE
