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
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._security import escape_html
from .text import benchmark_text

__all__ = ["Figure", "make_figures"]

_BLUE, _GREY, _ORANGE = "#1f4e79", "#7f7f7f", "#c55a11"
_COLORS = ["#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6"]
#: Figure width in inches (the SVG scales to the page; text stays at least 9 pt of this width).
_W = 7.0
_RC = {"font.size": 10, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9}


@dataclass
class Figure:
    """An inline SVG with its alt text and caption."""

    key: str
    svg: str
    alt: str
    caption: str


def plain_text(fig) -> None:
    """Draw every text of ``fig`` literally: no mathtext (a ``$`` in a data label must not abort the figure).

    Turns ``parse_math`` off on every Text artist, including the tick labels the axes hold now.
    """
    from matplotlib.text import Text

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for t in axis.get_majorticklabels() + axis.get_minorticklabels():
                t.set_parse_math(False)
    for t in fig.findobj(Text):
        t.set_parse_math(False)


def _save(fig, key: str, alt: str) -> str:
    import matplotlib

    plain_text(fig)
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
    # ids unique across the page: matplotlib numbers them per figure (line2d_1, axes_1, ...)
    ids = set(re.findall(r'\bid="([^"]+)"', s))
    if ids:
        s = re.sub(r'(\bid="|href="#|url\(#)([^")]+)',
                   lambda m: m.group(1) + (f"{key}-{m.group(2)}" if m.group(2) in ids else m.group(2)), s)
    return s.strip()


def _fig(w: float, h: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure as MplFigure

    with matplotlib.rc_context(_RC):
        fig = MplFigure(figsize=(w, h), dpi=100)
        ax = fig.add_subplot(111)
    return fig, ax


def _legend_above(ax, ncol: int = 4) -> None:
    """Legend in a row above the plot, so it never covers data."""
    h, _ = ax.get_legend_handles_labels()
    if h:
        ax.legend(frameon=False, fontsize=9, ncol=ncol, loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.2,
                  handlelength=1.8, columnspacing=1.2)


def _wrap(s: object, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(str(s), width)) or str(s)


def _style(ax) -> None:
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    ax.grid(axis="both", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)


def _dates(labels) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Period(str(x).split("..")[-1]).to_timestamp() for x in labels])


def _date_axis(ax) -> None:
    """Month ticks every 3, 6 or 12 months (at most about 8 labels), written "Jan 2020"."""
    import matplotlib.dates as mdates

    lo, hi = ax.get_xlim()
    months = max(1.0, (hi - lo) / 30.4)
    step = next((k for k in (1, 3, 6, 12, 24) if months / k <= 8), 24)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, step) if step < 12 else [1],
                                                   interval=1 if step <= 12 else step // 12))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator())


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
        ax.text(0.02, yy, "[c] hidden: too few searches", transform=ax.get_yaxis_transform(), va="center",
                fontsize=8.5, color="#555", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5}, zorder=5)
    if ref_line is not None:
        ax.axvline(ref_line, color="#555", lw=1, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels([_wrap(x) for x in labels], fontsize=9)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    if log and ok.any():
        from ..plots._ticks import log_ratio_ticks

        log_ratio_ticks(ax, lo, hi, est[ok])
    ax.set_xlabel(xlabel)
    _style(ax)


def make_figures(d) -> list[Figure]:
    """Every figure of the report, in order."""
    import matplotlib

    with matplotlib.rc_context(_RC):
        return _make_figures(d)


def _make_figures(d) -> list[Figure]:
    figs: list[Figure] = []
    L, ref, hg = d.level, d.reference, d.headline_group
    bench = benchmark_text(d.benchmark, d.vintage)
    n_marks = len(set(d.training_marks))
    mark_txt = (f" Dashed vertical lines: {d.training_mark_label} ({n_marks})." if n_marks else "")

    # 1. monthly searches
    c = d.trend_counts
    fig, ax = _fig(_W, 3.0)
    x = _dates(c["period"])
    ax.plot(x, c["events"].to_numpy(float), marker="o", ms=3, color=_BLUE, label="searches of people")
    _marks(ax, d.training_marks, d.training_mark_label)
    ax.set_ylabel("Searches per month")
    ax.set_ylim(bottom=0)
    _date_axis(ax)
    _style(ax)
    if n_marks:
        _legend_above(ax)
    fig.tight_layout()
    alt = f"Line chart of searches of people per month in {d.area_name}, {c['period'].iloc[0]} to {c['period'].iloc[-1]}."
    figs.append(Figure("trend_searches", _save(fig, "trend_searches", alt), alt,
                       f"Searches of people per month in {d.area_name} (all ethnic groups; vehicle-only searches "
                       f"excluded). Months with no file are gaps; months with fewer than {d.suppress_below} searches "
                       f"are hidden.{mark_txt}"))

    # 2. ratio trend
    t = d.trend_ratio
    fig, ax = _fig(_W, 3.4)
    part_all = t["partial_period"].to_numpy(bool) if "partial_period" in t.columns else np.zeros(len(t), bool)
    n_part = 0
    for i, g in enumerate([g for g in d.groups if g in set(t["group"])]):
        sel = (t["group"] == g).to_numpy()
        s, part = t[sel], part_all[sel]
        xs = _dates(s["period"])
        col = _COLORS[i % len(_COLORS)]
        r, lo, hi = (s[c].to_numpy(float) for c in ("ratio", "ci_low", "ci_high"))
        full = np.where(part, np.nan, 1.0)
        ax.plot(xs, r * full, color=col, lw=1.6, label=f"{g} / {ref}")
        ax.fill_between(xs, lo * full, hi * full, color=col, alpha=0.15, lw=0)
        if part.any():  # windows with months missing: hollow points, no line or band
            ok = part & np.isfinite(r)
            n_part += int(ok.sum())
            ax.plot(xs[ok], r[ok], ls="none", marker="o", ms=4, mfc="white", mec=col)
    if n_part:
        ax.plot([], [], ls="none", marker="o", ms=4, mfc="white", mec="#555", label="months missing (partial)")
    ax.axhline(1, color="#555", lw=1, ls=":")
    _marks(ax, d.training_marks, d.training_mark_label)
    ax.set_ylabel(f"Search rate ratio to {ref}\n(1 = same rate)")
    ax.set_ylim(bottom=0)
    _date_axis(ax)
    _legend_above(ax, ncol=3)
    _style(ax)
    fig.tight_layout()
    per = {"rolling12": "overlapping rolling 12-month window (plotted at its last month)", "quarter": "quarter",
           "month": "month"}[d.trend_period]
    overlap = (" The windows overlap: each shares 11 of its 12 months with the next, so neighbouring points move "
               "together and a run of rising or falling points can come from one unusual stretch of months; judge "
               "change from the headline's non-overlapping periods, not from the slope of this line."
               if d.trend_period == "rolling12" else "")
    partial = (f" Hollow points: {'windows' if d.trend_period == 'rolling12' else 'periods'} with months of data "
               "missing (partial, not comparable with complete ones; no band drawn)." if n_part else "")
    alt = f"Line chart of the search rate ratio to {ref} for each group in {d.area_name}, by {per}, with {L}% bands."
    figs.append(Figure("trend_ratio", _save(fig, "trend_ratio", alt), alt,
                       f"Search rate ratio to {ref} by {per}, {d.area_name}: how many times the {ref} search rate per "
                       f"1,000 residents ({bench}). Shaded bands: {L}% confidence intervals. Windows with fewer "
                       f"than {d.suppress_below} searches of a group are left out.{overlap}{partial}{mark_txt}"))

    # 3. forest by area and group (only when there is more than one area to compare)
    if d.by_area["force"].nunique() > 1:
        a = d.by_area[d.by_area["group"] != ref]
        part = a["partial_period"].to_numpy(bool) if "partial_period" in a.columns else np.zeros(len(a), bool)
        labels = [f"{n}: {g}" + (f" (partial: {int(k)} of {int(m)} months)" if p_ else "")
                  for n, g, p_, k, m in zip(a["area_name"], a["group"], part,
                                            a.get("months_covered", pd.Series(0, index=a.index)),
                                            a.get("months_in_period", pd.Series(0, index=a.index)))]
        fig, ax = _fig(_W, max(2.6, 0.3 * len(labels) + 1.0))
        _forest(ax, labels, a["ratio"], a["ci_low"], a["ci_high"], xlabel=f"Search rate ratio to {ref} (log scale; 1 = same rate)")
        fig.tight_layout()
        alt = f"Forest plot of search rate ratios to {ref} by force area and group, {d.period_desc}."
        figs.append(Figure("forest_area", _save(fig, "forest_area", alt), alt,
                           f"Search rate ratio to {ref} with {L}% CI by force area and group, {d.period_desc}. "
                           f"Denominator: {bench}. Dashed line: the same rate as {ref} people (ratio 1)."
                           + (" Areas marked partial have months of data missing in this period: their ratios are "
                              "not comparable with complete ones." if part.any() else "")))

    # 4. forest by legal power and by object of search for the headline group (hidden rows listed, not drawn)
    for tab, col, key, what in ((d.by_power, "legal_power", "forest_power", "legal power"),
                                (d.by_object, "object_of_search", "forest_object", "object of search")):
        if not len(tab):
            continue
        sub = tab[tab["group"] == hg]
        shown = sub[np.isfinite(sub["ratio"].to_numpy(float))]
        left_out = [str(v) for v in sub.loc[~np.isfinite(sub["ratio"].to_numpy(float)), col]]
        if len(shown) < 2:  # one point is clearer in the table
            continue
        fig, ax = _fig(_W, max(2.0, 0.42 * len(shown) + 1.1))
        _forest(ax, list(shown[col]), shown["ratio"], shown["ci_low"], shown["ci_high"],
                xlabel=f"{hg} / {ref} search rate ratio (log scale; 1 = same rate)")
        fig.tight_layout()
        alt = f"Forest plot of the {hg}/{ref} search rate ratio by {what}, {d.area_name}."
        miss = (f" Not drawn (too few searches to publish a ratio): {'; '.join(left_out)}." if left_out else "")
        figs.append(Figure(key, _save(fig, key, alt), alt,
                           f"{hg}/{ref} search rate ratio with {L}% CI by {what}, {d.area_name}, {d.period_desc}. "
                           f"Denominator: all residents of each group ({bench}).{miss}"))

    # 5. outcomes: any outcome other than NFA, arrest, find (where recorded)
    o = d.outcomes
    panels = [("any_outcome", "Any outcome other than\nno further action (%)"), ("arrest", "Arrest (%)")]
    if o["find_recorded"].any():
        panels.append(("find", "Find: outcome linked to\nwhat was searched for (%)"))
    fig, axes = _fig(_W, max(2.4, 0.38 * len(o) + 1.2))
    fig.clf()
    axes = fig.subplots(1, len(panels), sharey=True)
    for ax, (m, xl) in zip(np.atleast_1d(axes), panels):
        rc, lo, hi = {"any_outcome": ("any_outcome_rate", "any_outcome_ci_low", "any_outcome_ci_high"),
                      "arrest": ("arrest_rate", "arrest_ci_low", "arrest_ci_high"),
                      "find": ("find_rate", "find_ci_low", "find_ci_high")}[m]
        _forest(ax, list(o["group"]), 100 * o[rc], 100 * o[lo], 100 * o[hi], ref_line=None, log=False, xlabel=xl)
    fig.tight_layout()
    alt = f"Dot plots of what searches led to (any outcome, arrest{', find' if len(panels) == 3 else ''}) by group, {d.area_name}."
    nf = "" if len(panels) == 3 else " No find rate: the force does not record whether outcomes were linked to what was searched for."
    figs.append(Figure("outcomes", _save(fig, "outcomes", alt), alt,
                       f"Share of searches with an outcome other than no further action, ending in arrest, and (where "
                       f"recorded) with an outcome linked to what was searched for, by group, with {L}% confidence "
                       f"intervals. Denominator: searches with a recorded outcome, {d.area_name}, {d.period_desc}.{nf}"))

    # 6. crude vs standardised
    if d.age_sex is not None:
        s = d.age_sex[d.age_sex["group"] != ref]
        fig, ax = _fig(_W, max(2.4, 0.5 * len(s) + 1.2))
        y = np.arange(len(s))[::-1]
        ax.scatter(s["crude_ratio"].to_numpy(float), y + 0.12, marker="s", color=_ORANGE, label="crude", zorder=3)
        est, lo, hi = (s[c].to_numpy(float) for c in ("std_ratio", "ci_low", "ci_high"))
        ok = np.isfinite(est)
        ax.errorbar(est[ok], y[ok] - 0.12, xerr=np.vstack([est[ok] - lo[ok], hi[ok] - est[ok]]), fmt="o", color=_BLUE,
                    capsize=3, label=f"age x sex standardised ({L}% CI)")
        ax.axvline(1, color="#555", lw=1, ls="--")
        ax.set_yticks(y)
        ax.set_yticklabels(list(s["group"]))
        ax.set_ylim(-0.6, len(s) - 0.4)
        ax.set_xlabel(f"Search rate ratio to {ref} (1 = same rate)")
        _legend_above(ax, ncol=2)
        _style(ax)
        fig.tight_layout()
        alt = f"Dot plot comparing crude and age and sex standardised rate ratios to {ref}, {d.area_name}."
        figs.append(Figure("age_sex", _save(fig, "age_sex", alt), alt,
                           f"Crude ratio (squares) and age x sex standardised ratio with {L}% CI (dots), {d.area_name}, "
                           f"{d.period_desc}. Denominator: {bench} by sex and age band."))

    # 7. impact
    imp = d.impact
    if imp.kind == "officer" and imp.event_study:
        from matplotlib.ticker import MaxNLocator

        for i, (spec, es) in enumerate(imp.event_study.items()):
            fig, ax = _fig(_W, 3.2)
            x = es["event_time"].to_numpy(float)
            est, lo, hi = (es[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
            pre = x < 0
            for m, col, lab in ((pre, _GREY, "before training (should be near 0)"), (~pre, _BLUE, "after training")):
                ok = m & np.isfinite(est)
                if ok.any():
                    ax.errorbar(x[ok], est[ok], yerr=np.vstack([est[ok] - lo[ok], hi[ok] - est[ok]]), fmt="o", ms=4,
                                color=col, capsize=2, label=lab)
            ax.axhline(0, color="#555", lw=1)
            ax.axvline(-0.5, color=_GREY, ls="--", lw=1)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("Months since training (0 = first month trained)")
            label = imp.table.set_index("outcome").loc[spec, "label"]
            ax.set_ylabel(_wrap(f"Change in {label}", 28), fontsize=9)
            _legend_above(ax, ncol=2)
            _style(ax)
            fig.tight_layout()
            alt = f"Event-study chart of the estimated effect of training on {label}, by month since training."
            figs.append(Figure(f"event_study_{i}", _save(fig, f"event_study_{i}", alt), alt,
                               f"Estimated change in {label} for trained officers, by months since training, with {L}% "
                               "confidence intervals (Callaway & Sant'Anna, not-yet-trained officers as the comparison). "
                               "0 = no change. Points left of the dashed line compare officers before training: they "
                               "should be near 0."))
    if imp.kind == "its" and imp.its is not None:
        f = imp.its
        fig, ax = _fig(_W, 3.4)
        x = _dates(f["time"])
        ax.plot(x, f["observed"].to_numpy(float), "o", ms=3, color=_GREY, label="observed")
        ax.plot(x, f["fitted"].to_numpy(float), color=_BLUE, lw=1.6, label="fitted")
        ax.plot(x, f["counterfactual"].to_numpy(float), color=_ORANGE, lw=1.4, ls="--", label="expected without a change")
        ax.fill_between(x, f["cf_ci_low"].to_numpy(float), f["cf_ci_high"].to_numpy(float), color=_ORANGE, alpha=0.15, lw=0)
        _marks(ax, d.training_marks, d.training_mark_label)
        ax.set_ylabel(_wrap(f"Searches of {hg} people per month", 24))
        ax.set_ylim(bottom=0)
        _date_axis(ax)
        _legend_above(ax, ncol=2)
        _style(ax)
        fig.tight_layout()
        alt = f"Interrupted time series chart of monthly searches of {hg} people in {d.area_name}, observed and expected."
        figs.append(Figure("its", _save(fig, "its", alt), alt,
                           f"Monthly searches of {hg} people, {d.area_name}: observed (months with fewer than "
                           f"{d.suppress_below} hidden), fitted, and expected without a change at the training date "
                           f"(dashed, {L}% band). Denominator: {bench}; comparison series: searches of {ref} people."))
    figs += _extra_figures(d)
    return figs


def _extra_figures(d) -> list[Figure]:
    """Figures of the optional sections (report/extras.py): veil of darkness by area, trust gap by year."""
    figs: list[Figure] = []
    ex = getattr(d, "extras", {}) or {}
    bf = ex.get("benchmark_free")
    if bf and bf.get("veil") is not None:
        t = bf["veil"].tidy()
        t = t[t["applicable"].astype(bool)] if "applicable" in t.columns else t
        if len(t):
            fig, ax = _fig(_W, max(2.0, 0.35 * len(t) + 1.2))
            from .config import area_display_name

            _forest(ax, [area_display_name(str(a)) for a in t["area"]], t["odds_ratio"].to_numpy(float), t["ci_low"].to_numpy(float),
                    t["ci_high"].to_numpy(float), log=False,
                    xlabel="Odds ratio, darkness vs daylight (1 = no difference)")
            _style(ax)
            fig.tight_layout()
            alt = "Forest plot of veil-of-darkness odds ratios by area with confidence intervals."
            figs.append(Figure("veil", _save(fig, "veil", alt), alt,
                               f"Veil of darkness: odds that a searched person is of the minority group after dark vs in "
                               f"daylight at the same clock time, with {d.level}% intervals. Below 1: relatively more "
                               "minority searches in daylight, when ethnicity is visible."))
    tr = ex.get("trust")
    if tr and tr.get("gap") is not None:
        t = tr["gap"].tidy()
        fig, ax = _fig(_W, 3.2)
        x = np.arange(len(t))
        what = str(tr["label"]) if tr.get("level_only") else f"{tr['group']} minus {tr['reference']}"
        pct = tr.get("level_only") and "proportion" in str(tr["gap"].scale)
        k = 100.0 if pct else 1.0
        ax.fill_between(x, k * t["ci_low"].to_numpy(float), k * t["ci_high"].to_numpy(float), color=_BLUE, alpha=0.18,
                        lw=0, label=f"{d.level}% interval")
        ax.plot(x, k * t["gap"].to_numpy(float), "o-", color=_BLUE, ms=4, label=what)
        if not tr.get("level_only"):
            ax.axhline(0, color=_GREY, lw=1)
        ax.set_xticks(x)
        ax.set_xticklabels([str(p) for p in t["period"]])
        ax.set_ylabel(_wrap("Share of residents (%)" if pct else ("Score" if tr.get("level_only") else "Gap in score"), 24))
        _legend_above(ax, ncol=2)
        _style(ax)
        fig.tight_layout()
        alt = f"Line chart of {tr['label']} ({what}) by year."
        figs.append(Figure("trust_gap", _save(fig, "trust_gap", alt), alt,
                           f"{tr['label']}: {what} by year (average over "
                           f"areas), with the {d.level}% interval from the variation between areas; partial years are "
                           "listed under the table."))
    return figs
