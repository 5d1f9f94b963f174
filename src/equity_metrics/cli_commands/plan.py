"""``equity-metrics plan CONFIG.toml``: can a planned training evaluation detect what we hope?

Reads a config naming the untreated history (a prebuilt panel CSV, or events + training
roster [+ officers] built into a panel with :func:`equity_metrics.build_panel`), the
outcome, the proposed schedule (cohort start periods and sizes), the hoped-for change,
``alpha`` and the power wanted; runs :func:`equity_metrics.power` (the evaluation's
estimator on the history, many random assignments) and the analytic MDE
(:func:`equity_metrics.panel_mde`, Burlig, Preonas & Woerman 2020) over a few design sizes,
and writes in the output folder:

``plan.html``
    One self-contained page: the answer in one sentence, the power curve (inline SVG), the
    tables, the method and a provenance block (library version, input file names with SHA-256,
    parameters; no timestamps).
``power.csv``
    Power and coverage per simulated effect with Monte Carlo errors.
``design.csv``
    The design and its MDEs (simulated and analytic) in one row.
``mde_by_size.csv``
    The analytic MDE for 0.5x, 1x, 2x and 4x the units and 1x/2x the periods after training.
``power_curve.png``
    The power curve (reproducible bytes).
``summary.txt``, ``manifest.json``
    The text summary; inputs with SHA-256, parameters, outputs with SHA-256. Inputs are named
    by their path relative to the config's folder when inside it, else by file name: no output
    holds a folder of the machine.

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
th{background:#eee} .small{font-size:.8em;color:#555} figure{margin:1em 0} figure svg{width:100%;height:auto}
.warn{border-left:4px solid #d62728;padding:.3em .8em;background:#fff4f4}</style></head><body>
<h1>{{ title }}</h1>
<p class="answer">{{ verdict }}</p>
<figure>{{ svg | safe }}<figcaption class="small">Chance of a clear result (power) against the true change after
training. Red points: {{ n_sims }} simulated rollouts at each change, with 95% simulation-error bars; blue: the
curve these simulations imply; orange dashes: the same from a formula for this schedule. Denominator:
{{ n_units }} officers, {{ n_periods_words }} of history.</figcaption></figure>
{% for w in warnings %}<p class="warn">{{ w }}</p>
{% endfor %}<h2>The plan</h2>
<p>{{ n_treated }} of {{ n_units }} officers trained in {{ cohorts_words }} ({{ schedule }}). Outcome: {{ outcome }};
before training the average is {{ base }}. Method: {{ estimator }}. Intervals: {{ level }}%; power wanted:
{{ target }}.</p>
<h2>Simulated power and coverage</h2>
{{ power_table | safe }}
<p class="small">Each row: {{ n_sims }} rollouts replayed on the history with officers assigned to cohorts at
random and the change planted in every trained officer-period (seed {{ seed }}). Power = share of rollouts whose
{{ level }}% interval excludes "no change"; coverage = share whose interval contains the planted change (it
should be about {{ level }}%); ± = simulation error (the Monte Carlo standard error from simulating a finite number
of rollouts). The average estimate and the planted change are in {{ outcome }} (a change, not a level).</p>
<h2>Smallest change it can detect</h2>
<p>The smallest true change detected with {{ target }} power (the "minimum detectable effect"), as a share of the
untrained level: by simulation {{ mde_sim }} (± {{ mde_mcse }} simulation error); by formula for this schedule (the
estimator's variance from the history's covariance): {{ mde_sched }}; by the simpler one-date formula of Burlig,
Preonas &amp; Woerman (2020), with {{ pre_words }} before and {{ post_words }} after training: {{ mde_an }}. With more
officers or a longer follow-up (one-date formula):</p>
{{ size_table | safe }}
<h2>How to read this</h2>
<p class="small">The history is {{ history }}. The plan is replayed on past data, so the answer assumes the
future looks like the past (same rates and variability) and that training is the only change. A clear result
needs the true change to be at least the minimum detectable effect; an evaluation that cannot detect the hoped-for
change is likely to report "no clear change" even if training works.</p>
<ul class="small">{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
<h2>Provenance</h2>
<p class="small">equity_metrics {{ version }}, command <code>equity-metrics plan</code>. Inputs (SHA-256):</p>
<ul class="small">{% for i in inputs %}<li>{{ i.role }}: {{ i.file }} <code>{{ i.sha256 }}</code></li>{% endfor %}</ul>
<p class="small">Parameters: {{ parameters }}</p>
</body></html>
"""


def _table_html(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, border=0)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    """``1 cohort``, ``3 cohorts``."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


_PERIOD_WORDS = {"M": "month", "Q": "quarter", "W": "week", "Y": "year", "A": "year"}


def outcome_words(spec: str, period: str | None = "M") -> str:
    """Plain words for a panel outcome (a ``build_panel`` spec or a column name), per officer and period.

    Examples
    --------
    >>> outcome_words("use_of_force")
    'use-of-force reports per officer per month'
    >>> outcome_words("searches_of:Black", "Q")
    'searches of Black people per officer per quarter'
    >>> outcome_words("uof", None)
    'uof per officer per period'
    """
    per = _PERIOD_WORDS.get(str(period or "").upper()[:1], "period") if period else "period"
    spec = str(spec)
    if spec == "use_of_force":
        return f"use-of-force reports per officer per {per}"
    if spec == "searches":
        return f"searches per officer per {per}"
    if spec.startswith("searches_of:"):
        return f"searches of {spec.split(':', 1)[1]} people per officer per {per}"
    if spec.startswith(("share_of:", "disparity:")):
        return f"share of the officer's searches that were of {spec.split(':', 1)[1]} people"
    if spec == "hit_rate":
        return "share of the officer's searches that found what was searched for"
    return f"{spec.replace('_', ' ')} per officer per {per}"


def _officer_words(text: str) -> str:
    """The library's generic "unit"/"treated" in a note, as officers and training (the plan's panel is per officer)."""
    import re

    for a, b in ((r"\bunits\b", "officers"), (r"\bunit's\b", "officer's"), (r"\bunit\b", "officer"),
                 (r"\btreatment\b", "training"), (r"\btreated\b", "trained")):
        text = re.sub(a, b, text)
    return text


def display_path(path: str | Path, base: str | Path) -> str:
    """A file's name for readers: relative to ``base`` (the config's folder) when inside it, else its name.

    Examples
    --------
    >>> display_path("/data/x/panel.csv", "/data")
    'x/panel.csv'
    >>> display_path("/elsewhere/panel.csv", "/data")
    'panel.csv'
    """
    p = Path(path)
    try:
        return p.resolve().relative_to(Path(base).resolve()).as_posix()
    except ValueError:
        return p.name


def _inline_svg(fig, alt: str) -> str:
    """The figure as inline SVG: text kept as text, fixed hash salt, no date (same bytes every run)."""
    import html
    import io
    import re

    import matplotlib

    from ..report.figures import plain_text

    plain_text(fig)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "em-plan", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    s = buf.getvalue()
    s = re.sub(r"<\?xml[^>]*\?>\s*", "", s)
    s = re.sub(r"<!DOCTYPE[^>]*>\s*", "", s)
    s = re.sub(r"<metadata>.*?</metadata>\s*", "", s, flags=re.S)
    s = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", s, count=1)
    a = html.escape(alt, quote=True)
    s = s.replace("<svg ", f'<svg role="img" aria-label="{a}" ', 1)
    s = re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + f"<title>{a}</title>", s, count=1)
    return s.strip()


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
    import dataclasses

    from matplotlib.figure import Figure

    from .. import __version__

    period = d.get("period", "M") if not d.get("panel") else d.get("period")
    res = dataclasses.replace(res, label=outcome_words(res.outcome, period), unit_name="officers",
                              notes=[_officer_words(n) for n in res.notes])
    fig = Figure(figsize=(7.5, 5.4))
    ax = fig.add_subplot()
    res.plot(ax=ax)
    fig.tight_layout()

    show = tidy.copy()
    dec = int(max(0, 2 - np.floor(np.log10(abs(res.base))))) if res.base > 0 else 3
    per = res.label
    fmt = pd.DataFrame({
        "true change (% of untrained level)": (100 * show["effect"]).map(lambda v: f"{v:+.0f}%"),
        "power ± simulation error": [f"{p:.0%} ± {s:.1%}" for p, s in zip(show["power"], show["power_mcse"])],
        "coverage ± simulation error": [f"{p:.0%} ± {s:.1%}" for p, s in zip(show["coverage"], show["coverage_mcse"])],
        "power by formula": show["power_analytic"].map(lambda v: f"{v:.0%}"),
        f"average estimated change ({per})": show["mean_estimate"].map(lambda v: f"{v:+.{dec}f}"),
        f"planted change ({per}, average)": show["mean_truth"].map(lambda v: f"{v:+.{dec}f}"),
    })
    size_fmt = pd.DataFrame({"officers": sizes["units"].map(lambda v: f"{int(v):,}"),
                             "periods after training": sizes["post"].astype(int),
                             "smallest detectable change (one-date formula)":
                                 (100 * sizes["mde_share"]).map(lambda v: f"{v:.0f}%")})
    in_records = [{**r, "file": display_path(r["file"], cfg["_base"])} for r in inputs]
    in_records.insert(0, {**file_input(cfg["_path"], "config"), "file": Path(cfg["_path"]).name})
    parameters = {"estimator": estimator, "n_sims": n_sims, "seed": seed, "alpha": alpha, "power": target,
                  "effect": des["effect"], "effects": des.get("effects"), "untreated": untreated,
                  "schedule": schedule, "outcome": res.outcome}
    env = jinja2.Environment(autoescape=True)
    pword = _PERIOD_WORDS.get(str(period or "").upper()[:1], "period") if period else "period"
    history_text = (f"{_plural(res.n_units, 'officer')} x {_plural(res.n_periods, pword)}"
                    + (" of officers never trained" if untreated == "never_treated" else " before any training"))
    from ..models._rollout_sim import ESTIMATOR_WORDS

    svg = _inline_svg(fig, f"Power curve: chance of a clear result against the true change in {per}")
    page = env.from_string(_PAGE).render(
        title=cfg.get("title", "Can this evaluation detect what we hope?"), verdict=res.verdict,
        colour="#2ca02c" if res.verdict.startswith("Yes") else "#d62728", n_treated=f"{res.n_treated:,}",
        n_units=f"{res.n_units:,}", cohorts_words=_plural(len(res.schedule), "cohort"),
        schedule="; ".join(res.schedule), n_periods_words=_plural(res.n_periods, pword),
        outcome=per, base=f"{res.base:.3g} {per}", estimator=ESTIMATOR_WORDS[res.estimator],
        level=int(round(100 * (1 - alpha))), target=f"{target:.0%}", svg=svg, warnings=res.coverage_notes(),
        power_table=_table_html(fmt), n_sims=f"{n_sims:,}", seed=seed,
        mde_sim=f"{res.mde_simulated:.0%}", mde_mcse=f"{res.mde_simulated_mcse:.1%}",
        pre_words=_plural(res.pre, "period"), post_words=_plural(res.post, "period"),
        mde_an=f"{res.mde_analytic:.0%}",
        mde_sched="not available for this estimator" if not np.isfinite(res.mde_schedule) else f"{res.mde_schedule:.0%}",
        size_table=_table_html(size_fmt), history=history_text, notes=res.notes or ["none"],
        version=__version__, inputs=sorted(in_records, key=lambda r: (r["role"], r["file"])),
        parameters="; ".join(f"{k} = {parameters[k]}" for k in sorted(parameters)))

    out = Outputs(out_dir, "csv")
    out.table("power", tidy)
    out.table("design", design)
    out.table("mde_by_size", sizes)
    out.figure("power_curve.png", fig)
    out.text("plan.html", page)
    out.text("summary.txt", res.summary())
    out.manifest(command="plan", inputs=in_records, parameters=parameters)
    say(args, res.verdict)
    say(args, f"\nwrote {len(out.paths) + 1} files to {out_dir}")
    return 0
