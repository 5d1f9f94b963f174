"""``equity-metrics plan CONFIG.toml``: can a planned training evaluation detect what we hope?

Reads a config naming the untreated history (a prebuilt panel CSV, or events + training
roster [+ officers] built into a panel with :func:`equity_metrics.build_panel`), the
outcome, the proposed schedule (cohort start periods and sizes), the hoped-for change,
``alpha`` and the power wanted; runs :func:`equity_metrics.power` (the evaluation's
estimator on the history, many random assignments) and the analytic MDE
(:func:`equity_metrics.panel_mde`, Burlig, Preonas & Woerman 2020) over a few design sizes,
and writes in the output folder:

``plan.html``
    One page: the answer in one sentence, the power curve, the tables, the method.
``power.csv``
    Power and coverage per simulated effect with Monte Carlo errors.
``design.csv``
    The design and its MDEs (simulated and analytic) in one row.
``mde_by_size.csv``
    The analytic MDE for 0.5x, 1x, 2x and 4x the units and 1x/2x the periods after training.
``power_curve.png``
    The power curve (reproducible bytes).
``summary.txt``, ``manifest.json``
    The text summary; inputs with SHA-256, parameters, outputs with SHA-256.

Keys (``reports/plan-sample.toml`` is an example; relative paths are relative to the config):

* top level: ``title``, ``output`` (inside the config's folder), ``alpha`` (0.05), ``power`` (0.80),
  ``n_sims`` (500), ``seed`` (1), ``estimator`` (``cs``, ``efficient`` or ``twfe``);
* ``[data]``: ``panel`` (CSV with ``unit``, ``time``, ``outcome`` and optionally
  ``first_treated`` columns) or ``events`` (+ ``events_mapping``), ``training``
  (+ ``training_mapping``), ``officers``, ``outcome``, ``period`` (M/Q), ``start``, ``end``,
  ``treated_from``; ``untreated`` (``never_treated`` or ``pre_period``);
* ``[design]``: ``schedule`` (a list of ``{start = "2019-04", size = 40}``), ``effect`` (the
  hoped-for proportional change, ``-0.10`` = a 10% fall), optional ``effects`` for more points.

Officer identifiers are never written: every output is an aggregate.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError, ReadError, closest_matches
from ._common import Outputs, file_input, out_folder, say

__all__ = ["add_plan_parser", "run", "load_plan_config"]

_TOP = {"title", "output", "alpha", "power", "n_sims", "seed", "estimator", "data", "design"}
_DATA = {"panel", "unit", "time", "outcome", "first_treated", "events", "events_mapping", "training",
         "training_mapping", "officers", "period", "start", "end", "treated_from", "untreated"}
_DESIGN = {"schedule", "effect", "effects"}


def add_plan_parser(sub) -> None:
    """Register ``plan`` on the subcommand parser."""
    q = sub.add_parser("plan", help="power of a planned training evaluation: can it detect what we hope?",
                       description="Replay a proposed training schedule on the untreated history, run the "
                                   "evaluation's estimator many times with a planted effect, and write a one-page "
                                   "answer (HTML), the power curve, tables and manifest.json.")
    q.add_argument("config", help="plan config (TOML; see reports/plan-sample.toml)")
    q.add_argument("--out", type=out_folder, help="output folder (default: the config's output, inside its folder)")
    q.add_argument("--n-sims", type=int, help="replications per effect (overrides the config)")
    q.add_argument("--seed", type=int, help="seed of the random assignments (overrides the config)")
    q.add_argument("--estimator", choices=["cs", "efficient", "twfe"], help="estimator (overrides the config)")
    q.set_defaults(func=run)


def _check_keys(section: dict, allowed: set[str], where: str) -> None:
    for k in section:
        if k not in allowed:
            near = closest_matches(k, sorted(allowed))
            raise OptionError(f"plan config: unknown key {k!r} in {where}" + (f"; did you mean {near[0]!r}?" if near else
                                                                              f"; allowed: {', '.join(sorted(allowed))}"))


def load_plan_config(path: str | Path) -> dict[str, Any]:
    """Read and check a plan config; paths made absolute against the config's folder."""
    p = Path(path)
    if not p.is_file():
        raise ReadError("plan config not found", file=str(p), hint="Check the path (e.g. reports/plan-sample.toml)")
    try:
        cfg = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReadError(f"plan config is not valid TOML ({exc})", file=str(p)) from None
    _check_keys(cfg, _TOP, "the top level")
    data, design = cfg.get("data"), cfg.get("design")
    if not isinstance(data, dict) or not isinstance(design, dict):
        raise OptionError("plan config needs a [data] and a [design] section (see reports/plan-sample.toml)")
    _check_keys(data, _DATA, "[data]")
    _check_keys(design, _DESIGN, "[design]")
    base = p.resolve().parent
    for k in ("panel", "events", "events_mapping", "training", "training_mapping", "officers"):
        if data.get(k):
            data[k] = str((base / data[k]).resolve()) if not Path(data[k]).is_absolute() else data[k]
    if not data.get("panel") and not (data.get("events") and data.get("training")):
        raise OptionError("plan config [data]: give panel = 'PANEL.csv' (with unit, time, outcome) or events and "
                          "training (a roster) to build the panel from")
    for k in ("schedule", "effect"):
        if k not in design:
            raise OptionError(f"plan config [design] needs {k!r} (e.g. schedule = [{{start = '2019-04', size = 40}}], "
                              "effect = -0.10)")
    cfg["_base"] = base
    cfg["_path"] = p
    out = cfg.get("output", "output/plan")
    cfg["_out"] = (base / out).resolve()
    return cfg


def _history(cfg: dict):
    """The untreated history (DataFrame or PanelResult), the keyword arguments of ``power`` and input records."""
    d = cfg["data"]
    inputs: list[dict] = []
    if d.get("panel"):
        from ._common import read_frame

        df = read_frame(d["panel"], "panel")
        inputs.append(file_input(d["panel"], "panel"))
        missing = [k for k in ("unit", "time", "outcome") if not d.get(k)]
        if missing:
            raise OptionError(f"plan config [data]: with panel = ... name the {', '.join(missing)} column(s)")
        kw = {"outcome": d["outcome"], "unit": d["unit"], "time": d["time"], "first_treated": d.get("first_treated")}
        return df, kw, inputs
    from ..io.mapped import read_mapped
    from ..io.training import read_training_roster
    from ..models import build_panel
    from ._common import ledger_inputs, read_frame

    if d.get("events_mapping"):
        events = read_mapped(d["events"], mapping=d["events_mapping"])
        inputs += ledger_inputs(events.ledger, "events") + [file_input(d["events_mapping"], "events_mapping")]
    else:
        events = read_frame(d["events"], "events")
        inputs.append(file_input(d["events"], "events"))
    tr = read_training_roster(d["training"], mapping=d.get("training_mapping"))
    inputs += ledger_inputs(tr.ledger, "training")
    if d.get("training_mapping"):
        inputs.append(file_input(d["training_mapping"], "training_mapping"))
    officers = None
    if d.get("officers"):
        officers = read_frame(d["officers"], "officers")
        inputs.append(file_input(d["officers"], "officers"))
    panel = build_panel(events, tr, unit="officer_id", period=d.get("period", "M"),
                        outcome=d.get("outcome", "use_of_force"), start=d.get("start"), end=d.get("end"),
                        officers=officers, balanced=True, treated_from=d.get("treated_from", "next"))
    return panel, {"outcome": panel.outcomes[0]}, inputs


def _mde_by_size(res, y: np.ndarray) -> pd.DataFrame:
    from ..models.planning import panel_mde

    units = sorted({max(4, int(round(res.n_units * f))) for f in (0.5, 1, 2, 4)})
    posts = sorted({res.post, min(2 * res.post, y.shape[1] - res.pre)} - {0})
    p = min(res.n_treated / res.n_units, 1 - 1 / res.n_units)
    t = panel_mde(y, pre=res.pre, post=posts, units=units, share_treated=p, alpha=res.alpha,
                  power=res.target_power).tidy()
    return t[["units", "pre", "post", "share_treated", "mde", "mde_share", "std_error", "base"]]


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:1.5em auto;color:#222;line-height:1.4}
h1{font-size:1.4em} .answer{font-size:1.15em;padding:.6em 1em;border-left:6px solid {{ colour }};background:#f6f6f6}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0} td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#eee} .small{font-size:.8em;color:#555}</style></head><body>
<h1>{{ title }}</h1>
<p class="answer">{{ verdict }}</p>
<p><img src="power_curve.png" alt="Power curve: chance of a clear result against the true change" width="700"></p>
<h2>The plan</h2>
<p>{{ n_treated }} of {{ n_units }} officers trained in {{ n_cohorts }} cohort(s) ({{ schedule }}); outcome
{{ outcome }} per officer and period, untrained level {{ base }}; estimator: {{ estimator }};
{{ level }}% intervals; power wanted {{ target }}.</p>
<h2>Simulated power and coverage</h2>
{{ power_table | safe }}
<p class="small">Each row: {{ n_sims }} rollouts replayed on the history with officers assigned to cohorts at
random and the change planted in every trained officer-period (seed {{ seed }}). Power = share of intervals
excluding no change; coverage = share containing the planted change; ± = Monte Carlo standard error.</p>
<h2>Smallest change it can detect</h2>
<p>Simulated: {{ mde_sim }} of the untrained level (Monte Carlo error {{ mde_mcse }}). Analytic for this
schedule (the estimator's variance from the history's covariance): {{ mde_sched }}. One-date approximation
(Burlig, Preonas &amp; Woerman 2020, {{ pre }} period(s) before and {{ post }} after, variances from
the history): {{ mde_an }}. With more officers or a longer follow-up (one-date approximation):</p>
{{ size_table | safe }}
<h2>How to read this</h2>
<p class="small">The history is {{ history }}. The plan is replayed on past data, so the answer assumes the
future looks like the past (same rates and variability) and that training is the only change. A clear result
needs the true change to be at least the minimum detectable effect; an evaluation that cannot detect the hoped-for
change is likely to report "no clear change" even if training works. Notes: {{ notes }}</p>
</body></html>
"""


def _table_html(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, border=0)


def run(args) -> int:
    """Run ``equity-metrics plan`` (see the module docstring)."""
    import jinja2

    from ..models import power
    from ..models.planning import untreated_matrix

    cfg = load_plan_config(args.config)
    d, des = cfg["data"], cfg["design"]
    n_sims = args.n_sims if getattr(args, "n_sims", None) is not None else cfg.get("n_sims", 500)
    seed = args.seed if getattr(args, "seed", None) is not None else cfg.get("seed", 1)
    estimator = getattr(args, "estimator", None) or cfg.get("estimator", "cs")
    alpha, target = cfg.get("alpha", 0.05), cfg.get("power", 0.80)
    out_dir = Path(args.out) if getattr(args, "out", None) else cfg["_out"]
    if not getattr(args, "out", None) and cfg["_base"] not in out_dir.parents and out_dir != cfg["_base"]:
        raise OptionError(f"plan config: output {cfg.get('output')!r} lies outside the config's folder; give --out")
    schedule = des["schedule"]
    if not isinstance(schedule, list):
        raise OptionError("plan config [design] schedule must be a list of {start = 'YYYY-MM', size = N}")
    history, kw, inputs = _history(cfg)
    untreated = d.get("untreated", "never_treated")
    res = power(history, schedule=schedule, effect=des["effect"], effects=des.get("effects"), estimator=estimator,
                n_sims=n_sims, alpha=alpha, power=target, seed=seed, untreated=untreated,
                progress=False if getattr(args, "quiet", False) else None, **kw)
    y, _, _ = untreated_matrix(history, untreated=untreated, **kw)
    sizes = _mde_by_size(res, y)
    tidy = res.tidy()
    design = res.design()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.6))
    ax = fig.add_subplot()
    res.plot(ax=ax)
    fig.tight_layout()

    show = tidy.copy()
    fmt = pd.DataFrame({
        "true change": (100 * show["effect"]).map(lambda v: f"{v:+.0f}%"),
        "power": [f"{p:.0%} ± {s:.1%}" for p, s in zip(show["power"], show["power_mcse"])],
        "coverage": [f"{p:.0%} ± {s:.1%}" for p, s in zip(show["coverage"], show["coverage_mcse"])],
        "analytic power": show["power_analytic"].map(lambda v: f"{v:.0%}"),
        "mean estimate": show["mean_estimate"].map(lambda v: f"{v:.4g}"),
        "planted (mean)": show["mean_truth"].map(lambda v: f"{v:.4g}"),
    })
    size_fmt = pd.DataFrame({"officers": sizes["units"].map(lambda v: f"{int(v):,}"),
                             "periods after training": sizes["post"].astype(int),
                             "analytic MDE": (100 * sizes["mde_share"]).map(lambda v: f"{v:.0f}%")})
    env = jinja2.Environment(autoescape=True)
    history_text = (f"{res.n_units:,} officers x {res.n_periods} periods"
                    + (" of officers never trained" if untreated == "never_treated" else " before any training"))
    page = env.from_string(_PAGE).render(
        title=cfg.get("title", "Can this evaluation detect what we hope?"), verdict=res.verdict,
        colour="#2ca02c" if res.verdict.startswith("Yes") else "#d62728", n_treated=f"{res.n_treated:,}",
        n_units=f"{res.n_units:,}", n_cohorts=len(res.schedule), schedule="; ".join(res.schedule),
        outcome=res.outcome, base=f"{res.base:.3g}", estimator=res.estimator,
        level=int(round(100 * (1 - alpha))), target=f"{target:.0%}",
        power_table=_table_html(fmt), n_sims=n_sims, seed=seed,
        mde_sim=f"{res.mde_simulated:.0%}", mde_mcse=f"{res.mde_simulated_mcse:.1%}", pre=res.pre, post=res.post,
        mde_an=f"{res.mde_analytic:.0%}",
        mde_sched="not available for this estimator" if not np.isfinite(res.mde_schedule) else f"{res.mde_schedule:.0%}", size_table=_table_html(size_fmt), history=history_text,
        notes="; ".join(res.notes) or "none")

    out = Outputs(out_dir, "csv")
    out.table("power", tidy)
    out.table("design", design)
    out.table("mde_by_size", sizes)
    out.figure("power_curve.png", fig)
    out.text("plan.html", page)
    out.text("summary.txt", res.summary())
    out.manifest(command="plan", inputs=[file_input(cfg["_path"], "config")] + inputs,
                 parameters={"estimator": estimator, "n_sims": n_sims, "seed": seed, "alpha": alpha, "power": target,
                             "effect": des["effect"], "effects": des.get("effects"), "untreated": untreated,
                             "schedule": schedule, "outcome": res.outcome})
    say(args, res.verdict)
    say(args, f"\nwrote {len(out.paths) + 1} files to {out_dir}")
    return 0
