"""equity-metrics impact: the HonestDiD sensitivity (honest_did.csv/.png, printed breakdown, --no-honest).

The breakdown printed by the command is checked against :func:`equity_metrics.honest_breakdown`
computed directly on the same panel (the library's HonestDiD itself is checked against R
``HonestDiD`` in ``tests/test_honest_did.py``). The bundled sample has no training effect (its
breakdown is 0: nothing to protect), so the main fixture plants a fall in use of force: 80% of the
use-of-force reports of trained officers on or after their completion date are removed (seeded).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics._manifest import sha256_file
from equity_metrics.cli import EXIT_OK, main
from equity_metrics.datasets import sample_path

S = sample_path()
MAPPING = S / "officer_events_mapping.toml"
COMMON = ["--mapping", str(MAPPING), "--training", str(S / "training.csv"), "--officers", str(S / "officers.csv"),
          "--treated-from", "completion", "--unbalanced", "drop"]
MBAR = [0.0, 0.5, 1.0, 1.5, 2.0]


def _planted_events(path: Path) -> Path:
    ev = pd.read_csv(S / "officer_events.csv", dtype=str)
    tr = pd.read_csv(S / "training.csv", dtype=str)
    completed = ev["officer_id"].map(dict(zip(tr["officer_id"], tr["completed"])))
    after = completed.notna() & (ev["datetime"].str[:10] >= completed.fillna("9999"))
    rng = np.random.default_rng(13)
    drop = after & (ev["event_type"] == "use_of_force") & (rng.random(len(ev)) < 0.8)
    ev[~drop].to_csv(path, index=False)
    return path


def _manifest(out: Path) -> dict:
    man = json.loads((out / "manifest.json").read_text())
    listed = {o["file"]: o["sha256"] for o in man["outputs"]}
    assert set(listed) == {p.name for p in out.iterdir() if p.name != "manifest.json"}
    for name, sha in listed.items():
        assert sha == sha256_file(out / name), name
    return man


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    d = tmp_path_factory.mktemp("honest")
    events = _planted_events(d / "events.csv")
    return d, events


@pytest.fixture(scope="module")
def run_planted(planted):
    d, events = planted
    out = d / "out"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["impact", "--events", str(events), *COMMON, "--out", str(out)])
    assert rc == EXIT_OK
    return out, buf.getvalue()


def _direct(events: Path):
    off = pd.read_csv(S / "officers.csv", dtype=str, keep_default_na=False).replace("", pd.NA)
    panel = em.build_panel(em.read_mapped(events, mapping=MAPPING), em.datasets.load_sample_training(), officers=off,
                           treated_from="completion")
    uni = em.staggered_did(panel, unbalanced="drop", base_period="universal")
    # R: HonestDiD::createSensitivityResults_relativeMagnitudes(betahat, sigma, numPrePeriods = 5,
    #    numPostPeriods = 6, Mbarvec = c(0, .5, 1, 1.5, 2), method = "C-LF") on event times -6..5 (ref. -1)
    return uni.aggregate("dynamic", min_e=-6, max_e=5)


def test_impact_writes_honest_csv_png_and_lists_them(run_planted):
    out, _ = run_planted
    man = _manifest(out)
    names = {o["file"] for o in man["outputs"]}
    assert {"honest_did.csv", "honest_did.png"} <= names
    assert (out / "honest_did.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    t = pd.read_csv(out / "honest_did.csv")
    assert list(t.columns) == ["target", "m", "lb", "ub", "method", "delta", "excludes_zero", "open_ended",
                               "breakdown_mbar"]
    assert t["method"].tolist() == ["original"] + ["C-LF"] * 5
    np.testing.assert_allclose(t["m"].iloc[1:].to_numpy(float), MBAR)
    assert (t["lb"] <= t["ub"]).all()
    assert man["parameters"]["honest"] is True and man["parameters"]["honest_mbar"] == MBAR
    assert "HonestDiD sensitivity analysis" in (out / "summary.txt").read_text()


def test_printed_breakdown_equals_library(planted, run_planted):
    _, events = planted
    out, printed = run_planted
    es = _direct(events)
    bd = em.honest_breakdown(es, restriction="relative_magnitudes", m=MBAR, method="C-LF", max_pre=5, max_post=6)
    res = em.honest_did(es, m=MBAR, method="C-LF", max_pre=5, max_post=6, breakdown=False)
    assert 0 < bd < 5  # the planted fall is detected and not robust to every violation
    m = re.search(r"HonestDiD \(first post-training period\): breakdown Mbar ([0-9.]+)\. (.*)", printed)
    assert m, printed
    assert float(m.group(1)) == pytest.approx(bd, rel=5e-3)
    assert m.group(2).startswith("The conclusion holds unless post-training differences in trends were more than")
    t = pd.read_csv(out / "honest_did.csv")
    assert t["breakdown_mbar"].iloc[0] == pytest.approx(bd, rel=1e-12)
    np.testing.assert_allclose(t["lb"].iloc[1:].to_numpy(float), res.table["lb"].to_numpy(float), rtol=1e-10)
    np.testing.assert_allclose(t["ub"].iloc[1:].to_numpy(float), res.table["ub"].to_numpy(float), rtol=1e-10)
    assert t["lb"].iloc[0] == pytest.approx(res.original["lb"], rel=1e-10)
    assert len(printed.splitlines()) <= 15


def test_no_honest_skips(planted, capsys):
    d, events = planted
    out = d / "skip"
    assert main(["impact", "--events", str(events), *COMMON, "--no-honest", "--out", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "HonestDiD" not in printed
    man = _manifest(out)
    assert not {"honest_did.csv", "honest_did.png"} & {o["file"] for o in man["outputs"]}
    assert man["parameters"]["honest"] is False
    assert "HonestDiD" not in (out / "summary.txt").read_text()


def test_failure_is_a_one_line_note(planted, capsys, monkeypatch):
    """A window with no pre-training coefficient (only the reference period) cannot be analysed."""
    import equity_metrics.cli_commands.impact as impact

    monkeypatch.setattr(impact, "HONEST_LEADS", 1)
    d, events = planted
    out = d / "fail"
    assert main(["impact", "--events", str(events), *COMMON, "--out", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    notes = [ln for ln in printed.splitlines() if ln.startswith("HonestDiD")]
    assert len(notes) == 1 and notes[0].startswith("HonestDiD: not computed (") and "pre-period" in notes[0]
    assert not (out / "honest_did.csv").exists() and not (out / "honest_did.png").exists()
    _manifest(out)
