"""Words and table cells of the training-impact section (presentation only: no statistics).

Every number comes from the impact table built by :mod:`.impact` with
:func:`equity_metrics.models._power.training_effects` (relative effects, minimum detectable
effects, Holm-adjusted p-values, verdicts); this module chooses words and rounds. The rules
(base of the percentages, threshold of practical importance, wording of the pre-training
check, multiplicity) are in docs/real-data-rules.md, "Training verdict".
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["impact_verdict", "pretrend_sentence", "impact_lines", "impact_table_parts", "VERDICT_WORDS"]

#: The verdict column's words for each category of :func:`~equity_metrics.models._power.classify_effect`.
VERDICT_WORDS = {
    "clear_decrease": "clear reduction",
    "clear_increase": "clear increase",
    "no_meaningful_change": "no change large enough to matter",
    "inconclusive": "inconclusive: too few officers or months to tell",
    "not_estimable": "not estimable",
}


def _f(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x


def _ok(*vs: Any) -> bool:
    return all(math.isfinite(_f(v)) for v in vs)


def _pct(v: Any, signed: bool = True) -> str:
    x = 100 * _f(v)
    return (f"{x:+.0f}%" if signed else f"{abs(x):.0f}%") if math.isfinite(x) else ""


def _p(v: Any) -> str:
    x = _f(v)
    if not math.isfinite(x):
        return ""
    return "< 0.001" if x < 0.001 else f"{x:.3f}" if x < 0.01 else f"{x:.2f}"


def _get(row, key: str, default: Any = math.nan) -> Any:
    try:
        v = row[key]
    except (KeyError, IndexError):
        return default
    return default if v is None else v


def _mde_words(row) -> str:
    fall, rise = _f(_get(row, "mde_fall")), _f(_get(row, "mde_rise"))
    if not (math.isfinite(fall) and math.isfinite(rise)):
        return ""
    if abs(fall - rise) < 0.005:
        return f"a change of about {_pct(fall, False)} of the untrained level either way"
    return f"a fall of about {_pct(fall, False)} or a rise of about {_pct(rise, False)}"


def _size(row, *, kind: str, level: int) -> str:
    """The effect in its own units and as a share of the untrained level, with intervals."""
    est, lo, hi = _f(row["estimate"]), _f(row["ci_low"]), _f(row["ci_high"])
    rel = ""
    if _ok(_get(row, "pct"), _get(row, "pct_low"), _get(row, "pct_high")):
        rel = (f"{_pct(row['pct'])} of the untrained level ({level}% CI {_pct(row['pct_low'])} to "
               f"{_pct(row['pct_high'])})")
    if kind == "its":
        rel = (f"a change of {_pct(row['pct'])} in the rate ratio ({level}% CI {_pct(row['pct_low'])} to "
               f"{_pct(row['pct_high'])})") if rel else ""
        return (f"ratio of after to before {est:.2f} ({level}% CI {lo:.2f} to {hi:.2f}), that is {rel}" if rel else
                f"ratio of after to before {est:.2f} ({level}% CI {lo:.2f} to {hi:.2f})")
    base, obs = _f(_get(row, "base")), _f(_get(row, "observed"))
    if _get(row, "role", "count") == "disparity":
        s = (f"{100 * obs:.1f}% after training against an estimated {100 * base:.1f}% without it: a change of "
             f"{100 * est:+.1f} percentage points ({level}% CI {100 * lo:+.1f} to {100 * hi:+.1f})")
    else:
        s = f"estimated change {est:+.3f} ({level}% CI {lo:+.3f} to {hi:+.3f})"
        if math.isfinite(base):
            s += f" against an untrained level of {base:.3f}"
    return s + (f", that is {rel}" if rel else "")


def impact_verdict(row: dict[str, Any] | pd.Series, *, kind: str, level: int) -> str:
    """The verdict on one training effect, as a share of the untrained level, without overclaiming.

    A direction is named only when the interval excludes no change and the Holm-adjusted
    p-value is below the test level; "no change large enough to matter" only when the whole
    interval lies inside +/- the threshold; otherwise "inconclusive: too few officers or months
    to tell", with the smallest effect the design could detect.

    Examples
    --------
    >>> row = {"label": "use-of-force reports per officer per month", "estimate": -0.07, "ci_low": -0.23,
    ...        "ci_high": 0.08, "base": 0.32, "pct": -0.22, "pct_low": -0.70, "pct_high": 0.26, "p_value": 0.36,
    ...        "p_holm": 0.72, "n_tests": 3, "mde_fall": 0.69, "mde_rise": 0.69, "meaningful": 0.1,
    ...        "power": 0.8, "verdict": "inconclusive", "role": "count"}
    >>> impact_verdict(row, kind="officer", level=95).split(":")[0]
    'Inconclusive'
    """
    what = str(row["label"])
    what_c = what[0].upper() + what[1:]
    if not _ok(row["estimate"], row["ci_low"], row["ci_high"]):
        return f"{what_c}: the effect could not be estimated from these data."
    v = str(_get(row, "verdict", "inconclusive"))
    thr = _pct(_get(row, "meaningful", 0.10), False)
    n = int(_f(_get(row, "n_tests", 1)) or 1)
    ptxt = f"p = {_p(row['p_value'])}" if _ok(_get(row, "p_value")) else ""
    if n > 1 and _ok(_get(row, "p_holm")):
        ptxt += f"; Holm-adjusted for {n} outcomes, p = {_p(row['p_holm'])}"
    size = _size(row, kind=kind, level=level) + (f"; {ptxt}" if ptxt else "")
    if v in ("clear_decrease", "clear_increase"):
        word = "A clear reduction" if v == "clear_decrease" else "A clear increase"
        small = ""
        if _ok(_get(row, "pct_low"), _get(row, "pct_high")) and -_f(row["meaningful"]) < _f(row["pct_low"]) \
                and _f(row["pct_high"]) < _f(row["meaningful"]):
            small = f" The whole interval is smaller than the {thr} judged large enough to matter."
        return f"{word} in {what} after training: {size}.{small}"
    if v == "no_meaningful_change":
        return (f"No change large enough to matter in {what}: {size}. The whole interval lies within "
                f"\u00b1{thr} of the {'rate ratio' if kind == 'its' else 'untrained level'}, the smallest change "
                "judged to matter.")
    if v == "not_estimable":
        return f"{what_c}: the effect could not be expressed against the untrained level ({size})."
    mde = _mde_words(row) + (" in the rate ratio" if kind == "its" and _mde_words(row) else "")
    tail = ""
    lo, hi = _f(row["ci_low"]), _f(row["ci_high"])
    excl = (hi < 1 or lo > 1) if kind == "its" else (hi < 0 or lo > 0)
    if excl:
        tail = (" The unadjusted interval excludes no change, but the change is not statistically clear once the "
                f"{n} outcomes are adjusted for (Holm).")
    pw = _pct(_get(row, "power", 0.8), False)
    return (f"Inconclusive: too few officers or months to tell. {what_c}: {size}. The interval includes both no "
            f"change and changes of {thr} or more.{tail}"
            + (f" The smallest effect this design could detect ({pw} power, {100 - level}% two-sided test) is "
               f"{mde}." if mde else ""))


def pretrend_sentence(table: pd.DataFrame | None, *, alpha: float = 0.05) -> str:
    """The before-training check per outcome; a non-significant test is never called reassurance.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["use of force"], "pretrend_p": [0.8]})
    >>> "does not show that the trends were parallel" in pretrend_sentence(t)
    True
    """
    if table is None or "pretrend_p" not in table.columns:
        return "Not available."
    parts = []
    for r in table.to_dict("records"):
        p = _f(r.get("pretrend_p"))
        if not math.isfinite(p):
            continue
        lab = str(r["label"])[0].upper() + str(r["label"])[1:]
        if p < alpha:
            parts.append(f"{lab}: the test detected a difference before training (p = {_p(p)}): trained and "
                         "comparison officers were already diverging, so the estimate may be biased")
        else:
            parts.append(f"{lab}: the test did not detect a difference (p = {_p(p)})")
    if not parts:
        return "Not available."
    return ("; ".join(parts) + ". Such tests have low power: not detecting a difference does not show that the "
            "trends were parallel, only that any difference was too small for these data to reveal.")


def impact_lines(imp, *, level: int) -> list[str]:
    """The section's explanatory lines: outcome, base of the percentages, threshold and multiplicity."""
    t = imp.table
    if t is None or not len(t):
        return []
    out = []
    thr = _pct(float(imp.meaningful), False)
    if imp.kind == "its":
        out.append("The outcome is itself a disparity measure: the step change in the ratio of the headline group's "
                   "search rate to the reference group's (a ratio below 1 means the disparity narrowed at the "
                   "training date). Percentages are changes in that ratio.")
    else:
        disp = t[t["role"] == "disparity"] if "role" in t.columns else t.iloc[:0]
        if len(disp):
            out.append(f"The first outcome is the disparity measure: the {disp.iloc[0]['label']} (from the group's "
                       "searches and all searches with ethnicity recorded, each estimated by the same design). "
                       "The counts that follow are secondary outcomes."
                       + (" These are the default outcomes (the analyst named none)." if imp.default_outcomes else ""))
        out.append("Percentages are of the untrained level: what trained officers' average (or share) would have been "
                   "after training without it, that is the observed level minus the estimated effect. The intervals "
                   "treat this base as fixed.")
    of = "of the rate ratio" if imp.kind == "its" else "of the untrained level"
    out.append(f"A change is judged large enough to matter from {thr} {of} (set by the analyst); the smallest detectable effect uses {_pct(float(imp.power), False)} power and a "
               f"{100 - level}% two-sided test (Bloom 1995).")
    n = int(t["n_tests"].max()) if "n_tests" in t.columns and len(t) else 0
    if n > 1:
        out.append(f"Several outcomes: the p-values are adjusted for testing {n} outcomes with Holm's method (the table "
                   "shows unadjusted and adjusted p-values), and a change is called clear only when its adjusted p-value "
                   f"is below {1 - level / 100:.2f}. The intervals, the event-study points and the before-training "
                   "checks are not adjusted.")
    else:
        out.append("One outcome is tested, so no multiplicity adjustment is needed (the adjusted p-value equals the "
                   "unadjusted one)." + (" The change in the monthly trend is descriptive and not adjusted."
                                          if imp.kind == "its" else ""))
    return out


def impact_table_parts(imp, *, level: int) -> tuple[list[str], list[list[str]], str]:
    """Columns, rows and note of the training-impact table (formatting only)."""
    from .text import ci, fmt

    rows = []
    officer = imp.kind == "officer"
    for r in imp.table.to_dict("records"):
        rel = (f"{_pct(r['pct'])} ({_pct(r['pct_low'])} to {_pct(r['pct_high'])})"
               if _ok(r.get("pct"), r.get("pct_low"), r.get("pct_high")) else "")
        mde = _mde_words(r).replace("a change of about ", "\u00b1").replace(" of the untrained level either way", "")
        mde = mde.replace("a fall of about ", "-").replace(" or a rise of about ", " / +")
        verdict = VERDICT_WORDS.get(str(r.get("verdict")), "")
        if imp.kind == "its":
            row = [str(r["label"]), fmt(r["estimate"], 2), ci(r["ci_low"], r["ci_high"], 2), rel, mde]
        elif r.get("role") == "disparity":
            row = [str(r["label"]), f"{100 * _f(r['estimate']):+.1f} pts",
                   f"{100 * _f(r['ci_low']):+.1f} to {100 * _f(r['ci_high']):+.1f} pts",
                   f"{100 * _f(r['base']):.1f}%", rel, mde]
        else:
            row = [str(r["label"]), fmt(r["estimate"], 3), ci(r["ci_low"], r["ci_high"], 3), fmt(r["base"], 3), rel, mde]
        row += [_p(r.get("p_value")), _p(r.get("p_holm"))]
        if officer:
            row += [fmt(r.get("pretrend_p"), 2), f"{int(r['units']):,}"]
        rows.append(row + [verdict])
    L = level
    if officer:
        cols = ["Outcome", "Estimated change after training", f"{L}% CI", "Untrained level",
                f"Change as % of untrained level ({L}% CI)", f"Smallest detectable change ({_pct(imp.power, False)} power)",
                "p", "Holm-adjusted p", "Before-training check (p)", "Officers", "Verdict"]
        note = ("Estimated change: trained officers' average after training minus what the comparison officers suggest "
                "it would have been, in the outcome's own units (pts: percentage points of the share). Untrained level: "
                "that counterfactual average, the base of the percentages (treated as fixed). Holm-adjusted p: adjusted "
                "for the number of outcomes. Before-training check: a p-value below 0.05 means trained and comparison "
                "officers already differed before training; a larger p-value does not show they did not.")
    else:
        cols = ["Outcome", "Ratio after / before (1 = no change)", f"{L}% CI", f"Change in % ({L}% CI)",
                f"Smallest detectable change ({_pct(imp.power, False)} power)", "p", "Holm-adjusted p", "Verdict"]
        note = ("A ratio below 1 means the rate ratio (the disparity) fell at the training date; above 1, it rose. "
                "One outcome: the Holm-adjusted p equals p.")
    return cols, rows, note
