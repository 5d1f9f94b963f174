"""A file the reader cannot read is named in the report's data-quality section (issue 10: never silent)."""

from __future__ import annotations

import shutil
from pathlib import Path

from equity_metrics.cli import main

ROOT = Path(__file__).resolve().parents[1]
S = ROOT / "data" / "samples"


def test_unreadable_file_is_named_in_the_report_without_machine_paths(tmp_path):
    stops = tmp_path / "policeuk"
    shutil.copytree(S / "policeuk", stops)
    bad = sorted(stops.glob("2020-05/*northshire*"))[0]
    bad.write_bytes(b"\xff\xfeType,Date\n\x00\x81\x82garbage")  # a UTF-16 mark on bytes that are not UTF-16 text
    out = tmp_path / "out"
    rc = main(["--quiet", "report", "--stops", str(stops), "--population", str(S / "population.csv"),
               "--population-vintage", "synthetic", "--area", "northshire", "--out", str(out)])
    assert rc == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Some input could not be read" in html
    assert f"File not read: {bad.name}" in html
    assert str(tmp_path) not in html  # no machine folder in reader-facing output
