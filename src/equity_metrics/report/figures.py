"""Figures of the command report as inline SVG strings (presentation only, deterministic).

Each figure is drawn with matplotlib's Agg canvas at a fixed size and saved as SVG
with a fixed hash salt (``svg.hashsalt``, distinct per figure so ids never clash in
one page), text kept as text (``svg.fonttype = "none"``), and no date or creator
metadata; the XML declaration, DOCTYPE and ``<metadata>`` block are stripped so the
SVG can sit inside HTML and holds no URL. Hidden (suppressed) cells are ``NaN`` in
the data and so are left out of every figure.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._security import escape_html

__all__ = ["Figure", "make_figures"]

_BLUE, _GREY, _ORANGE = "#1f4e79", "#7f7f7f", "#c55a11"
_COLORS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6"]


@dataclass
class Figure:
    """An inline SVG with its alt text and caption."""

    key: str
    svg: str
    alt: str
    caption: str


def _save(fig, key: str, alt: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"em-report-{key}", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    s = buf.getvalue()
    s = re.sub(r"<\?xml[^>]*\?>\s*", "", s)
    s = re.sub(r"<!DOCTYPE[^>]*>\s*", "", s)
    s = re.sub(r"<metadata>.*?</metadata>\s*", "", s, flags=re.S)
    # responsive: keep the viewBox, let CSS size it; add an accessible title
    s = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', s, count=1)
    s = s.replace("<svg ", f'<svg role="img" aria-label="{escape_html(alt)}" ', 1)
    s = re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + f"<title>{escape_html(alt)}</title>", s, count=1)
    return s.strip()


def _fig(w: float, h: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(w, h), dpi=100)
    return fig, fig.add_subplot(111)


def _style(ax) -> None:
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    ax.grid(axis="both", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)


def _dates(labels) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Period(str(x).split("..")[-1]).to_timestamp() for x in labels])


def _marks(ax, marks: list[str], label: str) -> None:
    for i, m in enumerate(sorted(set(marks))):
        ax.axvline(pd.Period(m, "M").to_timestamp(), color=_GREY, ls="--", lw=1, label=label if i == 0 else None)


def _forest(ax, labels, est, lo, hi, *, ref_line=1.0, log=True, xlabel=""):
    y = np.arange(len(labels))[::-1]
    est, lo, hi = (np.asarray(v, float) for v in (est, lo, hi))
    ok = np.isfinite(est)
    err = np.vstack([np.where(np.isfinite(lo), est - lo, 0), np.where(np.isfinite(hi), hi - est, 0)])
    ax.errorbar(est[ok], y[ok], xerr=err[:, ok], fmt="o", color=_BLUE, ecolor="#6b8fb3", capsize=3, ms=5)
    for yy in y[~ok]:
        ax.text(0.01, yy, "[c] hidden: small numbers", transform=ax.get_yaxis_transform(), va="center",
                fontsize=8, color=_GREY)
    if ref_line is not None:
        ax.axvline(ref_line, color="#555", lw=1, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels([str(x) for x in labels], fontsize=8)
    if log and ok.any():
        ax.set_xscale("log")
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

        vals = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)], est[ok], [1.0]])
        vals = vals[vals > 0]
        nice = np.array([0.1, 0.2, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100])
        ticks = nice[(nice >= vals.min() / 1.05) & (nice <= vals.max() * 1.05)]
        ax.xaxis.set_major_locator(FixedLocator(ticks if len(ticks) >= 2 else nice))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    _style(ax)


def make_figures(d) -> list[Figure]:
    """Every figure of the report, in order."""
    figs: list[Figure] = []
    L, ref = d.level, d.reference
    n_marks = len(set(d.training_marks))
    mark_txt = (f" Dashed vertical lines: {d.training_mark_label} ({n_marks})." if n_marks else "")

    # 1. monthly searches
    c = d.trend_counts
    fig, ax = _fig(8, 3.2)
    x = _dates(c["period"])
    ax.plot(x, c["events"].to_numpy(float), marker="o", ms=3, color=_BLUE, label="searches of people")
    _marks(ax, d.training_marks, d.training_mark_label)
    ax.set_ylabel("Searches per month")
    ax.set_ylim(bottom=0)
    _style(ax)
    if n_marks:
        ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    alt = f"Line chart of searches of people per month in {d.area_name}, {c['period'].iloc[0]} to {c['period'].iloc[-1]}."
    figs.append(Figure("trend_searches", _save(fig, "trend_searches", alt), alt,
                       f"Searches of people per month in {d.area_name} (all ethnic groups; vehicle-only searches "
                       f"excluded). Months with no file are gaps; months with fewer than {d.suppress_below} searches "
                       f"are hidden.{mark_txt}"))

    # 2. ratio trend
    t = d.trend_ratio
    fig, ax = _fig(8, 3.6)
    for i, g in enumerate([g for g in d.groups if g in set(t["group"])]):
        s = t[t["group"] == g]
        xs = _dates(s["period"])
        col = _COLORS[i % len(_COLORS)]
        ax.plot(xs, s["ratio"].to_numpy(float), color=col, lw=1.6, label=f"{g} / {ref}")
        ax.fill_between(xs, s["ci_low"].to_numpy(float), s["ci_high"].to_numpy(float), color=col, alpha=0.15, lw=0)
    ax.axhline(1, color="#555", lw=1, ls=":")
    _marks(ax, d.training_marks, d.training_mark_label)
    ax.set_ylabel(f"Rate ratio to {ref}")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8, ncol=3, loc="upper left")
    _style(ax)
    fig.tight_layout()
    per = {"rolling12": "rolling 12-month window (plotted at its last month)", "quarter": "quarter", "month": "month"}[d.trend_period]
    alt = f"Line chart of the search rate ratio to {ref} for each group in {d.area_name}, by {per}, with {L}% bands."
    figs.append(Figure("trend_ratio", _save(fig, "trend_ratio", alt), alt,
                       f"Search rate ratio to {ref} by {per}, {d.area_name}. Denominator: {d.benchmark} ({d.vintage}). "
                       f"Shaded bands: {L}% confidence intervals. Windows with fewer than {d.suppress_below} searches of "
                       f"a group are left out.{mark_txt}"))

    # 3. forest by area and group
    a = d.by_area[d.by_area["group"] != ref]
    labels = [f"{n} | {g}" for n, g in zip(a["area_name"], a["group"])]
    fig, ax = _fig(8, max(2.6, 0.28 * len(labels) + 1.0))
    _forest(ax, labels, a["ratio"], a["ci_low"], a["ci_high"], xlabel=f"Rate ratio to {ref} (log scale)")
    fig.tight_layout()
    alt = f"Forest plot of search rate ratios to {ref} by force area and group, {d.period_desc}."
    figs.append(Figure("forest_area", _save(fig, "forest_area", alt), alt,
                       f"Rate ratio to {ref} with {L}% CI by force area and group, {d.period_desc}. Denominator: "
                       f"{d.benchmark} ({d.vintage}). Dashed line: no difference (ratio 1). Hidden cells: [c]."))

    # 4. forest by legal power / object for the headline group
    hg = d.headline_group
    parts = []
    for tab, col, what in ((d.by_power, "legal_power", "power"), (d.by_object, "object_of_search", "object")):
        if len(tab):
            s = tab[tab["group"] == hg]
            parts += [(f"{what}: {_short(v)}", r, lo, hi) for v, r, lo, hi in zip(s[col], s["ratio"], s["ci_low"], s["ci_high"])]
    if parts:
        fig, ax = _fig(8, max(2.6, 0.28 * len(parts) + 1.0))
        _forest(ax, [p[0] for p in parts], [p[1] for p in parts], [p[2] for p in parts], [p[3] for p in parts],
                xlabel=f"{hg} / {ref} rate ratio (log scale)")
        fig.tight_layout()
        alt = f"Forest plot of the {hg}/{ref} search rate ratio by legal power and by object of search, {d.area_name}."
        figs.append(Figure("forest_power", _save(fig, "forest_power", alt), alt,
                           f"{hg}/{ref} rate ratio with {L}% CI by legal power and object of search, {d.area_name}, "
                           f"{d.period_desc}. Denominator: all {d.benchmark} of each group. Hidden cells: [c]."))

    # 5. hit rates
    o = d.outcomes
    fig, ax = _fig(8, max(2.4, 0.35 * len(o) + 1.0))
    _forest(ax, list(o["group"]), 100 * o["hit_rate"], 100 * o["ci_low"], 100 * o["ci_high"], ref_line=None, log=False,
            xlabel="Searches that found what was searched for (%)")
    fig.tight_layout()
    alt = f"Dot plot of the share of searches that found the object searched for, by group, {d.area_name}."
    figs.append(Figure("outcomes", _save(fig, "outcomes", alt), alt,
                       f"Find rate (outcome linked to the object of search) by group with {L}% Wilson intervals. "
                       f"Denominator: searches with a recorded outcome, {d.area_name}, {d.period_desc}. Hidden cells: [c]."))

    # 6. crude vs standardised
    if d.age_sex is not None:
        s = d.age_sex[d.age_sex["group"] != ref]
        fig, ax = _fig(8, max(2.4, 0.45 * len(s) + 1.0))
        y = np.arange(len(s))[::-1]
        ax.scatter(s["crude_ratio"].to_numpy(float), y + 0.12, marker="s", color=_ORANGE, label="crude", zorder=3)
        est, lo, hi = (s[c].to_numpy(float) for c in ("std_ratio", "ci_low", "ci_high"))
        ok = np.isfinite(est)
        ax.errorbar(est[ok], y[ok] - 0.12, xerr=np.vstack([est[ok] - lo[ok], hi[ok] - est[ok]]), fmt="o", color=_BLUE,
                    capsize=3, label=f"age x sex standardised ({L}% CI)")
        ax.axvline(1, color="#555", lw=1, ls="--")
        ax.set_yticks(y)
        ax.set_yticklabels(list(s["group"]), fontsize=9)
        ax.set_xlabel(f"Rate ratio to {ref}")
        ax.legend(frameon=False, fontsize=8, loc="lower right")
        _style(ax)
        fig.tight_layout()
        alt = f"Dot plot comparing crude and age and sex standardised rate ratios to {ref}, {d.area_name}."
        figs.append(Figure("age_sex", _save(fig, "age_sex", alt), alt,
                           f"Crude ratio (squares) and age x sex standardised ratio with {L}% CI (dots), {d.area_name}, "
                           f"{d.period_desc}. Denominator: {d.benchmark} by sex and age band."))

    # 7. impact
    imp = d.impact
    if imp.kind == "officer" and imp.event_study:
        for i, (spec, es) in enumerate(imp.event_study.items()):
            fig, ax = _fig(8, 3.2)
            x = es["event_time"].to_numpy(float)
            est, lo, hi = (es[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
            pre = x < 0
            for m, col, lab in ((pre, _GREY, "before training"), (~pre, _BLUE, "after training")):
                ok = m & np.isfinite(est)
                if ok.any():
                    ax.errorbar(x[ok], est[ok], yerr=np.vstack([est[ok] - lo[ok], hi[ok] - est[ok]]), fmt="o", ms=4,
                                color=col, capsize=2, label=lab)
            ax.axhline(0, color="#555", lw=1)
            ax.axvline(-0.5, color=_GREY, ls="--", lw=1)
            ax.set_xlabel("Months since training (0 = first month trained)")
            label = imp.table.set_index("outcome").loc[spec, "label"]
            ax.set_ylabel("Effect")
            ax.legend(frameon=False, fontsize=8, loc="upper left")
            _style(ax)
            fig.tight_layout()
            alt = f"Event-study chart of the estimated effect of training on {label}, by month since training."
            figs.append(Figure(f"event_study_{i}", _save(fig, f"event_study_{i}", alt), alt,
                               f"Effect of training on {label}, by months since training, with {L}% pointwise CI "
                               "(Callaway & Sant'Anna, not-yet-trained officers as controls). Points left of the dashed "
                               "line compare officers before training: they should be near 0."))
    if imp.kind == "its" and imp.its is not None:
        f = imp.its
        fig, ax = _fig(8, 3.4)
        x = _dates(f["time"])
        ax.plot(x, f["observed"].to_numpy(float), "o", ms=3, color=_GREY, label="observed")
        ax.plot(x, f["fitted"].to_numpy(float), color=_BLUE, lw=1.6, label="fitted")
        ax.plot(x, f["counterfactual"].to_numpy(float), color=_ORANGE, lw=1.4, ls="--", label="without the change")
        ax.fill_between(x, f["cf_ci_low"].to_numpy(float), f["cf_ci_high"].to_numpy(float), color=_ORANGE, alpha=0.15, lw=0)
        _marks(ax, d.training_marks, d.training_mark_label)
        ax.set_ylabel(f"Searches of {hg} people per month")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, fontsize=8, ncol=4, loc="upper left")
        _style(ax)
        fig.tight_layout()
        alt = f"Interrupted time series chart of monthly searches of {hg} people in {d.area_name}, observed and expected."
        figs.append(Figure("its", _save(fig, "its", alt), alt,
                           f"Monthly searches of {hg} people, {d.area_name}: observed (months with fewer than "
                           f"{d.suppress_below} hidden), fitted, and expected without a change at the training date "
                           f"(dashed, {L}% band). Denominator: {d.benchmark}; comparison series: searches of {ref} people."))
    return figs


def _short(s: object, n: int = 48) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "\u2026"
