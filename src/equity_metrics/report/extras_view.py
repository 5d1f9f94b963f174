"""Formatting of the report's optional sections (presentation only: no statistics).

Turns ``ReportData.extras`` (numbers and sentences from :mod:`.extras`) into display
tables, sentences and the optional entries of the table of contents.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tables import Table

__all__ = ["extra_sections", "extra_context"]

#: (anchor, heading) of the optional sections, in order (they follow "Training impact" as 6a, 6b, ...).
_OPTIONAL = [("benchmark-free", "Tests that need no population benchmark"),
             ("officers", "Officer-level patterns"),
             ("trust", "Trust and confidence")]
_KEYS = {"benchmark-free": "benchmark_free", "officers": "officers", "trust": "trust"}


def extra_sections(d) -> list[tuple[str, str]]:
    """The optional sections present in this report (anchor, heading)."""
    ex = getattr(d, "extras", {}) or {}
    present = [(a, h) for a, h in _OPTIONAL if _KEYS[a] in ex]
    return [(a, f"6{'abcdefgh'[i]}. {h}") for i, (a, h) in enumerate(present)]


def _f(x: Any, nd: int = 1, signed: bool = False) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(v):
        return ""
    return f"{v:+.{nd}f}" if signed else f"{v:.{nd}f}"


def _partial_note(notes: list[str]) -> str:
    out = []
    for n in notes:
        n = n.replace("partial years (fewer than", "Partial years (fewer than").replace(" periods):", " survey periods):")
        out.append(n if n.endswith(".") else n + ".")
    return " ".join(out)


def extra_context(d) -> dict[str, Any]:
    """Template values of the optional sections."""
    ex = getattr(d, "extras", {}) or {}
    L = d.level
    out: dict[str, Any] = {"training_extra_lines": [], "bf": None, "off": None, "trust": None,
                           "secnum": {a: t.split(".")[0] for a, t in extra_sections(d)}}
    te = ex.get("training_extra")
    if te:
        lines = []
        for r in te["table"].to_dict("records"):
            lab = r["label"][:1].upper() + r["label"][1:]
            if r["breakdown_sentence"]:
                lines.append(f"{lab}: {r['breakdown_sentence']}")
            elif r["breakdown_error"]:
                lines.append(f"{lab}: the check of how much a difference in trends could change the conclusion "
                             f"could not be made ({r['breakdown_error']}).")
            if np.isfinite(r["mde_share"]):
                agree = (f", in line with the {r['table_mde']:.0%} implied by this estimate's own uncertainty (table above)"
                         if np.isfinite(r["table_mde"]) else "")
                lines.append(f"{lab}: a planning calculation from the never-trained officers' own history (Burlig, "
                             f"Preonas and Woerman 2020) puts the smallest change this design would detect "
                             f"{te['power']:.0%} of the time at about {r['mde_share']:.0%} of the untrained level{agree}.")
            elif r["mde_error"]:
                lines.append(f"{lab}: the planning calculation could not be made ({r['mde_error']}).")
        if te["not_covered"]:
            lines.append("Not covered by these two checks: " + ", ".join(te["not_covered"]) + " (a share estimated from "
                         "two counts has no single event study or untreated history to check).")
        out["training_extra_lines"] = lines
    bf = ex.get("benchmark_free")
    if bf:
        view: dict[str, Any] = {"veil_lines": bf.get("veil_lines", []), "threshold_lines": bf.get("threshold_lines", []),
                                "threshold_table": None, "veil_period": bf.get("veil_period", "")}
        tab = bf.get("threshold_table")
        if tab is not None and len(tab):
            rows = []
            for r in tab.to_dict("records"):
                is_ref = str(r["group"]) == str(r.get("reference_group", "White"))
                diff = "" if is_ref else (f"{_f(100 * r['diff_vs_white'], signed=True)} ({_f(100 * r['diff_ci_low'], signed=True)} "
                                          f"to {_f(100 * r['diff_ci_high'], signed=True)})")
                rows.append([str(r["group"]), f"{int(r['stops']):,}", f"{int(r['searches']):,}",
                             f"{_f(100 * r['threshold'])}% ({_f(100 * r['ci_low'])} to {_f(100 * r['ci_high'])})", diff])
            ref = str(tab["reference_group"].iloc[0]) if "reference_group" in tab.columns else "White"
            view["threshold_table"] = Table(
                "threshold", "Inferred search thresholds: the estimated chance of a find above which officers search "
                "(posterior mean, 95% credible interval), by group",
                ["Group", "Stops", "Searches", "Threshold", f"Difference from {ref} (percentage points)"], rows,
                note="A lower threshold than the reference group's means that group is searched on less evidence.")
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
        vint = str(tr["vintage"]).replace("to ", "", 1)
        g = tr.get("gap")
        area_word = f"{g.area_type}s" if g is not None else "areas"
        view = {"source": tr["source"], "vintage": vint, "lines": list(tr["lines"]), "gap_table": None,
                "impact_lines": [], "rollout_source": tr.get("rollout_source"),
                "method": (f"Intervals show how much the figure varies between {area_word}: the publisher gives no "
                           "sample sizes, so the survey's own sampling error is not included.")}
        if g is not None and tr.get("level_only"):
            pct = "proportion" in str(g.scale)

            def v(x):
                return f"{_f(100 * float(x), 0)}%" if pct else _f(x, 1)

            rows = [[str(r["period"]), f"{v(r['gap'])} ({v(r['ci_low'])} to {v(r['ci_high'])})",
                     str(int(r["n_areas"]))] for r in g.tidy().to_dict("records")]
            what = "share of residents" if pct else "average score"
            view["gap_table"] = Table(
                "trust_level", f"{tr['label']}, by year: {what} averaged over {g.area_type}s, with a {L}% interval from "
                "the variation between them. The source has no breakdown by ethnicity.",
                ["Year", f"{what[:1].upper() + what[1:]} ({L}% CI)", f"{g.area_type.title()}s"], rows,
                note=_partial_note(g.notes))
        elif g is not None:
            rows = [[str(r["period"]), _f(r["value_group"]), _f(r["value_reference"]),
                     f"{_f(r['gap'], signed=True)} ({_f(r['ci_low'], signed=True)} to {_f(r['ci_high'], signed=True)})",
                     str(int(r["n_areas"]))] for r in g.tidy().to_dict("records")]
            view["gap_table"] = Table(
                "trust_gap", f"{tr['label']}: {tr['group']} and {tr['reference']} residents by year ({g.scale}); "
                f"gap with {L}% interval from the variation between {g.area_type}s",
                ["Year", tr["group"], tr["reference"], f"Gap ({L}% CI)", f"{g.area_type.title()}s"], rows,
                note=_partial_note(g.notes))
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
