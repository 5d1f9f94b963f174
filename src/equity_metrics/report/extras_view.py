"""Formatting of the report's optional sections (presentation only: no statistics).

Turns ``ReportData.extras`` (numbers and sentences from :mod:`.extras`) into display
tables, sentences and the optional entries of the table of contents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tables import Table

__all__ = ["extra_sections", "extra_context"]

#: (anchor, heading) of the optional sections, in order (they follow "Training impact").
_OPTIONAL = [("benchmark-free", "6a. Tests that need no population benchmark"),
             ("officers", "6b. Officer-level patterns"),
             ("trust", "6c. Trust and confidence")]
_KEYS = {"benchmark-free": "benchmark_free", "officers": "officers", "trust": "trust"}


def extra_sections(d) -> list[tuple[str, str]]:
    """The optional sections present in this report (anchor, heading)."""
    ex = getattr(d, "extras", {}) or {}
    return [(a, h) for a, h in _OPTIONAL if _KEYS[a] in ex]


def _f(x: Any, nd: int = 1, signed: bool = False) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(v):
        return ""
    return f"{v:+.{nd}f}" if signed else f"{v:.{nd}f}"


def extra_context(d) -> dict[str, Any]:
    """Template values of the optional sections."""
    ex = getattr(d, "extras", {}) or {}
    L = d.level
    out: dict[str, Any] = {"training_extra_lines": [], "bf": None, "off": None, "trust": None}
    te = ex.get("training_extra")
    if te:
        out["training_extra_lines"] = list(te["lines"])
    bf = ex.get("benchmark_free")
    if bf:
        view: dict[str, Any] = {"veil_lines": bf.get("veil_lines", []), "threshold_lines": bf.get("threshold_lines", []),
                                "threshold_table": None}
        tab = bf.get("threshold_table")
        if tab is not None and len(tab):
            cols = [c for c in ("area", "group", "threshold", "ci_low", "ci_high", "diff_vs_white", "diff_ci_low",
                                "diff_ci_high") if c in tab.columns]
            rows = [[str(r.get("area", "all")) if "area" in cols else "", str(r.get("group", "")),
                     f"{_f(100 * r['threshold'])}% ({_f(100 * r['ci_low'])} to {_f(100 * r['ci_high'])})",
                     (f"{_f(100 * r['diff_vs_white'], signed=True)} ({_f(100 * r['diff_ci_low'], signed=True)} to "
                      f"{_f(100 * r['diff_ci_high'], signed=True)})") if "diff_vs_white" in cols else ""]
                    for r in tab.to_dict("records")]
            view["threshold_table"] = Table("threshold", "Inferred search thresholds (posterior mean, 95% credible "
                                            "interval), in percentage points of the estimated chance of a find",
                                            ["Area", "Group", "Threshold", "Difference from White"], rows)
        out["bf"] = view
    of = ex.get("officers")
    if of:
        if of.get("error"):
            out["off"] = {"lines": [f"The officer-level comparison could not be run: {of['error']}"]}
        else:
            q = of["quantiles"]
            out["off"] = {"lines": [
                f"{of['examined']:,} officers had at least {of['min_encounters']} encounters with a recorded ethnicity "
                f"and were compared with colleagues working the same places, times and assignments.",
                f"{of['flagged']:,} of them stand out after allowing for chance at this scale (local false discovery "
                "rate below 0.2, with an empirical null: about 1 in 5 flags may still be a false alarm).",
                "Spread of the officers' standardised differences (z): 5th percentile " + _f(q[0], 2)
                + ", quartiles " + _f(q[1], 2) + " / " + _f(q[2], 2) + " / " + _f(q[3], 2) + ", 95th percentile "
                + _f(q[4], 2) + ".",
                "No officer is identified in this report. Analysts can produce the named list with "
                "'equity-metrics officers ... --include-officer-ids' under the force's own data-protection rules.",
            ]}
    tr = ex.get("trust")
    if tr:
        view = {"source": tr["source"], "vintage": tr["vintage"], "lines": list(tr["lines"]), "gap_table": None,
                "impact_lines": [], "rollout_source": tr.get("rollout_source"), "method": ""}
        g = tr.get("gap")
        if g is not None and tr.get("level_only"):
            rows = [[str(r["period"]), f"{_f(r['gap'], 2)} ({_f(r['ci_low'], 2)} to {_f(r['ci_high'], 2)})",
                     str(int(r["n_areas"]))] for r in g.tidy().to_dict("records")]
            view["gap_table"] = Table(
                "trust_level", f"{tr['label']} ({tr['group']}) by year ({g.scale}); average over {g.area_type}s with "
                f"{L}% interval from the variation between them. The source has no breakdown by ethnicity.",
                ["Year", f"Average ({L}% CI)", f"{g.area_type.title()}s"], rows, note="; ".join(g.notes))
            view["method"] = g.method.replace(" of the gap", "")
        elif g is not None:
            rows = [[str(r["period"]), _f(r["value_group"]), _f(r["value_reference"]),
                     f"{_f(r['gap'], signed=True)} ({_f(r['ci_low'], signed=True)} to {_f(r['ci_high'], signed=True)})",
                     str(int(r["n_areas"]))] for r in g.tidy().to_dict("records")]
            view["gap_table"] = Table(
                "trust_gap", f"{tr['label']}: {tr['group']} and {tr['reference']} residents by year ({g.scale}); "
                f"gap with {L}% interval from the variation between {g.area_type}s",
                ["Year", tr["group"], tr["reference"], f"Gap ({L}% CI)", f"{g.area_type.title()}s"], rows,
                note="; ".join(g.notes))
            view["method"] = g.method
        imp = tr.get("impact")
        if imp is not None:
            view["impact_lines"] = [imp.sentence,
                                    f"Pre-start check: p = {imp.pretrend_p:.2f} (a small value means the areas already "
                                    "differed in trend before the start).",
                                    f"Method: {imp.method}."] + list(imp.notes)
            if imp.excluded:
                view["impact_lines"].append("Left out because their start date is unknown: " + ", ".join(imp.excluded) + ".")
        out["trust"] = view
    return out
