"""``equity-metrics plan CONFIG.toml``: the one-page power answer, its files, manifest and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from equity_metrics.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def write_config(folder: Path, *, extra_top: str = "", design: str | None = None, title: str = "Plan test") -> Path:
    design = design or 'schedule = [{start = "2019-04", size = 20}, {start = "2019-07", size = 20}]\neffect = -0.5\n'
    cfg = folder / "plan.toml"
    cfg.write_text(
        f'title = "{title}"\noutput = "out"\nn_sims = 30\nseed = 3\n{extra_top}\n'
        "[data]\n"
        f'panel = "{(SAMPLES / "panel.csv").as_posix()}"\n'
        'unit = "officer_id"\ntime = "month"\noutcome = "uof"\nfirst_treated = "cohort"\nuntreated = "pre_period"\n'
        f"[design]\n{design}",
        encoding="utf-8",
    )
    return cfg


def test_plan_writes_the_one_page_answer(tmp_path, capsys):
    cfg = write_config(tmp_path, title="Plan <script>alert(1)</script>")
    assert main(["plan", str(cfg)]) == 0
    out = tmp_path / "out"
    names = {p.name for p in out.iterdir()}
    assert {"plan.html", "power.csv", "design.csv", "mde_by_size.csv", "power_curve.png", "summary.txt",
            "manifest.json"} <= names
    html = (out / "plan.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html and "<script>" not in html  # Jinja2 autoescape
    # self-contained: the figure inline as SVG, no external image; provenance without timestamps
    assert "<svg" in html and "<img" not in html and 'src="' not in html and ("Yes:" in html or "No:" in html)
    assert "Provenance" in html and "sha256" not in html.lower().split("provenance")[0]
    import equity_metrics
    assert f"equity_metrics {equity_metrics.__version__}" in html and "panel.csv" in html
    ids = set(pd.read_csv(SAMPLES / "panel.csv", usecols=["officer_id"])["officer_id"])
    for name in ("plan.html", "power.csv", "design.csv", "mde_by_size.csv", "summary.txt"):
        text = (out / name).read_text(encoding="utf-8")
        assert not any(i in text for i in ids), name
    power = pd.read_csv(out / "power.csv")
    assert power["effect"].tolist() == [-0.5, 0.0] and (power["n_sims"] == 30).all()
    man = json.loads((out / "manifest.json").read_text())
    assert man["command"] == "plan" and man["parameters"]["n_sims"] == 30
    assert {Path(o["file"]).name if isinstance(o, dict) else Path(o).name for o in man["outputs"]} >= {"plan.html"}
    assert main(["verify", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(("Yes:", "No:"))
    # same config, same bytes (seeded; figure without timestamp)
    first = {n: (out / n).read_bytes() for n in ("power.csv", "power_curve.png", "plan.html")}
    assert main(["-q", "plan", str(cfg), "--out", str(tmp_path / "again")]) == 0
    assert {n: (tmp_path / "again" / n).read_bytes() for n in first} == first


def test_plan_flags_override_and_errors(tmp_path, capsys):
    cfg = write_config(tmp_path)
    assert main(["-q", "plan", str(cfg), "--n-sims", "12", "--estimator", "efficient", "--out",
                 str(tmp_path / "o2")]) == 0
    assert (pd.read_csv(tmp_path / "o2" / "power.csv")["n_sims"] == 12).all()
    assert main(["plan", str(tmp_path / "missing.toml")]) == 3
    bad = write_config(tmp_path, extra_top="n_simz = 3")
    assert main(["plan", str(bad)]) == 4
    assert "n_sims" in capsys.readouterr().err
    outside = write_config(tmp_path, design='schedule = [{start = "2030-01", size = 5}]\neffect = -0.1\n')
    assert main(["plan", str(outside)]) == 4
    assert "not a period" in capsys.readouterr().err


def test_sample_config_runs(tmp_path):
    """reports/plan-sample.toml: events + roster + officers built into the panel, the history before training."""
    from equity_metrics.cli_commands.plan import load_plan_config

    cfg = load_plan_config(ROOT / "reports" / "plan-sample.toml")
    assert Path(cfg["data"]["events"]).is_file() and Path(cfg["data"]["training"]).is_file()
    assert cfg["design"]["effect"] < 0 and len(cfg["design"]["schedule"]) >= 2
    assert main(["-q", "plan", str(ROOT / "reports" / "plan-sample.toml"), "--n-sims", "20",
                 "--out", str(tmp_path / "s")]) == 0
    design = pd.read_csv(tmp_path / "s" / "design.csv").iloc[0]
    assert design["units_trained"] == 60 and design["periods"] == 9 and 0 < design["mde_schedule"] < 2
    man = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert {i["role"] for i in man["inputs"]} >= {"config", "events", "training", "officers"}


def _written_text(folder: Path) -> dict[str, str]:
    """Every file the command wrote, as text (binary files decoded byte for byte)."""
    return {p.name: p.read_bytes().decode("latin-1") for p in sorted(folder.rglob("*")) if p.is_file()}


def test_plan_outputs_hold_no_machine_path(tmp_path):
    """No written file names a folder of the machine: inputs are shown relative to the config or by name."""
    cfg = write_config(tmp_path)
    assert main(["-q", "plan", str(cfg)]) == 0
    sample = tmp_path / "sample"
    assert main(["-q", "plan", str(ROOT / "reports" / "plan-sample.toml"), "--n-sims", "12", "--out", str(sample)]) == 0
    for folder in (tmp_path / "out", sample):
        texts = _written_text(folder)
        assert {"plan.html", "manifest.json", "summary.txt", "power_curve.png"} <= set(texts)
        for name, text in texts.items():
            for machine in {str(ROOT), str(tmp_path), str(SAMPLES), str(Path.home()), str(ROOT.parent)}:
                assert machine not in text, (name, machine)
    man = json.loads((sample / "manifest.json").read_text())
    files = {i["role"]: i["file"] for i in man["inputs"]}
    assert files["config"] == "plan-sample.toml" and files["events"] == "officer_events.csv"
    assert all(not Path(i["file"]).is_absolute() for i in man["inputs"])


def test_plan_page_speaks_plainly(tmp_path):
    """Plain outcome words, officers not units, proper plurals, explained jargon, units on the estimate columns."""
    sample = tmp_path / "sample"
    assert main(["-q", "plan", str(ROOT / "reports" / "plan-sample.toml"), "--n-sims", "12", "--out", str(sample)]) == 0
    html = (sample / "plan.html").read_text(encoding="utf-8")
    reader = html.split("<h2>Provenance</h2>")[0]
    summary = (sample / "summary.txt").read_text(encoding="utf-8")
    for text in (reader, summary):
        assert "use-of-force reports per officer per month" in text
        assert "use_of_force" not in text and "(s)" not in text and "estimator: cs" not in text
        assert "MC interval" not in text and "analytic MDE" not in text and " units" not in text
        assert "3 cohorts" in text
        assert "compare with\n" not in text and "compare with;" not in text and ") on left out" not in text
    assert "1 period before" in reader and "simulation error" in reader
    assert "average estimated change (use-of-force reports per officer per month)" in reader
    # consistent precision in the estimate columns: every cell with the same number of decimals
    import re

    cells = re.findall(r"<td>([+-]\d+\.(\d+))</td>", reader)
    assert len(cells) == 2 * len(pd.read_csv(sample / "power.csv"))
    assert len({len(d) for _, d in cells}) == 1


def test_coverage_below_nominal_gets_a_note():
    """A simulated coverage more than 2 Monte Carlo errors below nominal is called out; one within is not."""
    import dataclasses

    import numpy as np

    from equity_metrics.models import power

    y = np.random.default_rng(3).poisson(1.0, size=(200, 8)).astype(float)
    r = power(y, schedule={"5": 100}, effect=-0.5, n_sims=200, estimator="twfe", seed=1)
    t = r.table.copy()
    t["n_failed"] = 0.0
    t["coverage"] = [0.91, 0.94]   # effects -0.5 and 0; MC error at 95% with 200 runs: 1.5%
    notes = dataclasses.replace(r, table=t).coverage_notes()
    assert len(notes) == 1 and "-50%" in notes[0] and "91%" in notes[0]
    t["coverage"] = [0.93, 0.95]
    assert dataclasses.replace(r, table=t).coverage_notes() == []
    t["coverage"] = [0.91, 0.95]
    assert "91%" in dataclasses.replace(r, table=t).summary()


def test_outcome_words_and_display_path(tmp_path):
    from equity_metrics.cli_commands.plan import display_path, outcome_words

    assert outcome_words("use_of_force", "M") == "use-of-force reports per officer per month"
    assert outcome_words("searches", "Q") == "searches per officer per quarter"
    (tmp_path / "d").mkdir()
    assert display_path(tmp_path / "d" / "x.csv", tmp_path) == "d/x.csv"
    assert display_path("/somewhere/else/x.csv", tmp_path) == "x.csv"
