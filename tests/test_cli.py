"""The equity-metrics command line: demo, ingest, exit codes and one-line errors."""

from __future__ import annotations

import json

from equity_metrics.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main


def test_demo_prints_ledger_and_table(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "rows read" in out and "3,875" in out
    assert "ratio to White" in out and "southvale" in out
    assert "incomplete_coverage" in out  # southvale 2020-10 has no file
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {o["file"] for o in manifest["outputs"]} == {"disparity.csv", "ledger.json"}
    assert "timestamp" not in json.dumps(manifest)


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
