"""HTML rendering of the command report (Jinja2, autoescaped; formatting only, no statistics).

Templates live in ``equity_metrics/report/templates`` and are loaded with
:class:`jinja2.PackageLoader`. Every value from the data is escaped by Jinja2's
autoescaping; the only markup passed through unescaped is the figures' SVG, which
:mod:`.figures` builds with matplotlib (its text is XML-escaped there). The page has
no scripts and no external requests.
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from .. import __version__
from .extras_view import extra_context, extra_sections
from .figures import make_figures
from .tables import display_tables
from .training_text import impact_lines, pretrend_sentence
from .text import (benchmark_text, benchmark_warning, change_lines, change_note, group_lines, headline_sentence,
                   impact_verdict, not_stated_sentence, odds_sentence)

__all__ = ["render_html", "SECTIONS"]

#: (anchor, heading) of the report's sections, in order.
SECTIONS = [
    ("headline", "Headline"), ("trend", "Trend"), ("ratios", "Ratios by area, group, legal power and object of search"),
    ("outcomes", "Outcomes: what searches led to"), ("age-sex", "Age and sex"), ("impact", "Training impact"),
    ("quality", "Data quality"), ("methods", "Methods and caveats"), ("provenance", "Provenance"),
]

_ENV = None


def _env():
    global _ENV
    if _ENV is None:
        from jinja2 import Environment, PackageLoader, select_autoescape

        _ENV = Environment(loader=PackageLoader("equity_metrics.report", "templates"),
                           autoescape=select_autoescape(default=True, default_for_string=True),
                           trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True)
    return _ENV


class _Fig:
    def __init__(self, f) -> None:
        self.key, self.caption, self.alt = f.key, f.caption, f.alt
        self.svg_markup = Markup(f.svg)  # built by figures.py; text inside is XML-escaped by matplotlib


class _Figs(dict):
    def __getattr__(self, k: str) -> Any:
        return self.get(k)


class _Tables(dict):
    def __getattr__(self, k: str) -> Any:
        return self.get(k)


def _param_text(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v) if v else "(none)"
    if v is None:
        return "(none)"
    return v if isinstance(v, str) else json.dumps(v)


def context(d, figures=None) -> dict[str, Any]:
    """Everything the template needs, as formatted strings and figures."""
    figs = figures if figures is not None else make_figures(d)
    fmap = _Figs({f.key: _Fig(f) for f in figs})
    impact_figs = [fmap[k] for k in fmap if k.startswith("event_study_") or k == "its"]
    verdicts = []
    imp = d.impact
    if imp.table is not None:
        for r in imp.table.to_dict("records"):
            verdicts.append({"text": impact_verdict(r, kind=imp.kind, level=d.level),
                             "is_clear": str(r.get("verdict", "")).startswith("clear_")})
    pretrend = pretrend_sentence(imp.table, alpha=1 - d.level / 100) if imp.kind == "officer" and imp.table is not None else ""
    impact_notes = impact_lines(imp, level=d.level) if imp.table is not None else []
    its_slope = ""
    if imp.kind == "its" and imp.its_slope:
        s = imp.its_slope
        its_slope = (f"Change in the monthly trend after the training date: rate ratio {s['rate_ratio']:.3f} per month "
                     f"({d.level}% CI {s['ci_low']:.3f} to {s['ci_high']:.3f}).")
    # the model's own description ("pooled model: binomial GLM ...") is replaced by the plain sentences below
    outcome_lines = [n for n in d.outcome_notes if not str(n).startswith("pooled model:")]
    odds_lines = []
    if len(d.outcomes_pooled):
        for r in d.outcomes_pooled.to_dict("records"):
            odds_lines.append(odds_sentence(r, reference=d.reference, level=d.level, area_effects=d.area == "all areas"))
    period_title = d.period_desc[0].upper() + d.period_desc[1:]
    at = [a for a, _ in SECTIONS].index("impact") + 1
    # (anchor, title, list number): optional sections (6a, 6b, ...) sit between 6 and 7 without renumbering the rest
    sections = ([(a, t, None) for a, t in SECTIONS[:at]] + [(a, t, "sub") for a, t in extra_sections(d)]
                + [(a, t, at + 1 if i == 0 else None) for i, (a, t) in enumerate(SECTIONS[at:])])
    return {
        **extra_context(d), "d": d, "version": __version__, "sections": sections, "headline": headline_sentence(d), "change_lines": change_lines(d), "change_note": change_note(d),
        "not_stated": not_stated_sentence(d), "period_note": d.period_note,
        "bench_warning": benchmark_warning(d),
        "group_lines": group_lines(d), "tables": _Tables(display_tables(d)), "figs": fmap, "impact_figs": impact_figs,
        "verdicts": verdicts, "pretrend_text": pretrend, "its_slope": its_slope, "outcome_lines": outcome_lines,
        "impact_lines": impact_notes,
        "odds_lines": odds_lines, "bench": benchmark_text(d.benchmark, d.vintage),
        "period_title": period_title,
        "suppression_line": (f"{d.n_suppressed:,} table cells are hidden ([c]) by the small-number rule "
                             f"(counts below {d.suppress_below})." if d.suppress_below > 1 else
                             "Small-number suppression is switched off (suppress_below = 0): do not publish these tables."),
        "params": [(k, _param_text(v)) for k, v in sorted(d.provenance["parameters"].items())],
    }


def render_html(d, *, figures=None, fragment: bool = False) -> str:
    """The report as one self-contained HTML document (or a ``<main>`` fragment for notebooks)."""
    ctx = context(d, figures)
    ctx["fragment"] = fragment
    return _env().get_template("report.html.j2").render(**ctx)
