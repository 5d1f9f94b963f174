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
    assert 'src="power_curve.png"' in html and ("Yes:" in html or "No:" in html)
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
