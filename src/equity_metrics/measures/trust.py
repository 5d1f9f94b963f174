"""Community trust and confidence by group: gaps, trends, before/after changes.

All functions take the canonical survey table (``equity_metrics.schema.SURVEY``, from
:func:`~equity_metrics.read_chicago_sentiment`, :func:`~equity_metrics.read_london_pas`,
:func:`~equity_metrics.read_survey_table` or :func:`survey_estimates`).

Where the uncertainty comes from (stated in every result's ``method``):

* Published scores without sample sizes (Chicago's sentiment scores, London's dashboard)
  give no sampling error. Intervals then come from the *design*: the variation of the
  gap between areas (a t interval over areas, or a bootstrap that resamples whole
  areas, which keeps each area's months together) or, for a single series, a moving-block
  bootstrap over months (blocks keep the serial correlation of smoothed scores). These
  describe how much the gap varies across areas / over time; they do not include the
  survey's own sampling error, which the publisher does not give.
* Where ``n`` or ``se`` is published (or computed by :func:`survey_estimates` from
  respondent data), the sampling error is used.
* Rolling windows (``overlapping=True``): before/after comparisons use only estimates
  whose whole fieldwork window lies on one side of the date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._options import check_option
from .._results import ResultBase
from ..errors import DataValidationError, OptionError

__all__ = ["trust_gap", "gap_change", "survey_estimates", "TrustGapResult", "GapChangeResult",
           "SurveyEstimates", "gap_panel"]

IntervalMethod = Literal["areas", "block_bootstrap"]


def _check_survey(survey) -> pd.DataFrame:
    data = getattr(survey, "data", survey)
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError("expected the survey table (a DataFrame or the ReadResult of a survey reader)")
    need = {"area", "area_type", "period", "period_type", "period_start", "period_end", "measure", "group", "value"}
    miss = sorted(need - set(data.columns))
    if miss:
        raise DataValidationError(f"the survey table lacks columns {miss}; read it with read_chicago_sentiment, "
                                  "read_london_pas or read_survey_table (see equity_metrics.schema.describe('survey'))")
    return data


def _select(data: pd.DataFrame, *, measure: str, area_type: str, period_type: str | None) -> pd.DataFrame:
    sel = data[(data["measure"].astype(str) == measure) & (data["area_type"].astype(str) == area_type)]
    if period_type is not None:
        sel = sel[sel["period_type"].astype(str) == period_type]
    if not len(sel):
        have = data.groupby(["measure", "area_type", "period_type"], observed=True).size()
        raise DataValidationError(
            f"no rows with measure={measure!r}, area_type={area_type!r}, period_type={period_type!r}; "
            f"the table has (measure, area_type, period_type): {list(have.index)[:12]}")
    return sel


def gap_panel(survey, *, measure: str = "trust", group: str = "Black", reference: str | None = "White",
              area_type: str = "district", period_type: str | None = "month") -> pd.DataFrame:
    """One row per area x period: the group's value, the reference's value and the gap (group - reference).

    ``reference="All"`` compares with the area's overall value; ``reference=None`` gives the
    group's level (``gap`` = the group's value), for series without a group breakdown.

    Examples
    --------
    >>> s = pd.DataFrame({"area": ["1", "1"], "area_type": "district", "period": "2020-01", "period_type": "month",
    ...     "period_start": pd.Timestamp("2020-01-01"), "period_end": pd.Timestamp("2020-01-31"),
    ...     "measure": "trust", "group": ["Black", "White"], "value": [50.0, 60.0]})
    >>> gap_panel(s)[["area", "period", "gap"]].values.tolist()
    [['1', '2020-01', -10.0]]
    """
    data = _check_survey(survey)
    sel = _select(data, measure=measure, area_type=area_type, period_type=period_type)
    keys = ["area", "period", "period_start", "period_end"]
    extra = [c for c in ("overlapping", "window_months") if c in sel.columns]
    grp = sel[sel["group"].astype(str) == group]
    ref = sel[sel["group"].astype(str) == reference] if reference is not None else None
    for g, d in ((group, grp),) + (((reference, ref),) if reference is not None else ()):
        if not len(d):
            raise DataValidationError(f"no rows for group {g!r}; groups present: "
                                      f"{sorted(sel['group'].astype(str).unique())}")
    a = grp[keys + extra + ["value"]].rename(columns={"value": "value_group"})
    if reference is None:
        out = a.assign(value_reference=np.nan)
    else:
        b = ref[keys + ["value"]].rename(columns={"value": "value_reference"})
        out = a.merge(b, on=keys, how="inner")
    out["area"] = out["area"].astype(str)
    out["period"] = out["period"].astype(str)
    out["gap"] = out["value_group"] - out["value_reference"] if reference is not None else out["value_group"]
    out["group"], out["reference"] = group, reference if reference is not None else "none"
    return out.sort_values(["area", "period_start"], kind="stable").reset_index(drop=True)


def _block_bootstrap_mean(x: np.ndarray, *, n_boot: int, rng: np.random.Generator, block: int | None = None) -> np.ndarray:
    """Moving-block bootstrap draws of the mean of a serially correlated series (Kunsch 1989)."""
    n = len(x)
    b = int(block or max(1, round(n ** (1 / 3))))
    k = int(np.ceil(n / b))
    starts = rng.integers(0, n - b + 1, size=(n_boot, k))
    idx = (starts[:, :, None] + np.arange(b)[None, None, :]).reshape(n_boot, -1)[:, :n]
    return x[idx].mean(axis=1)


# ----------------------------------------------------------------------------- gap by period
@dataclass(eq=False)
class TrustGapResult(ResultBase):
    """The gap in trust between a group and a reference, per period, with intervals from the design.

    Attributes
    ----------
    table
        One row per period: ``gap`` (mean over areas of group - reference), ``std_error``,
        ``ci_low``, ``ci_high``, ``n_areas``, ``value_group``, ``value_reference``,
        ``overlapping`` (rolling windows).
    by_area
        The area x period gaps behind it.
    method
        How the interval was made.
    """

    table: pd.DataFrame
    by_area: pd.DataFrame
    measure: str
    group: str
    reference: str
    area_type: str
    method: str
    alpha: float
    scale: str = ""
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """Stable snake_case columns: period, period_start, group, reference, measure, gap, std_error, ci_low, ci_high, n_areas, ..."""
        return self.table.copy()

    def summary(self) -> str:
        t = self.table
        lines = [f"Trust gap: {self.group} minus {self.reference}, measure {self.measure!r} ({self.scale}), "
                 f"{self.area_type} level, {len(t)} periods",
                 f"Interval: {self.method}"]
        if len(t):
            first, last = t.iloc[0], t.iloc[-1]
            for r in (first, last):
                lines.append(f"  {r['period']}: {r['gap']:+.2f} ({1 - self.alpha:.0%} CI {r['ci_low']:+.2f} to "
                             f"{r['ci_high']:+.2f}; {int(r['n_areas'])} areas)")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, *, title: str | None = None):
        """Line of the gap with its interval band (matplotlib Axes)."""
        from ..plots.trust import plot_gap

        return plot_gap(self, ax=ax, title=title)


def trust_gap(
    survey,
    *,
    measure: str = "trust",
    group: str = "Black",
    reference: str | None = "White",
    area_type: str = "district",
    period_type: str | None = "month",
    by: Literal["period", "year"] = "period",
    alpha: float = 0.05,
) -> TrustGapResult:
    """The gap between a group's trust and the reference's, per period, averaged over areas.

    Parameters
    ----------
    survey
        The canonical survey table (or a survey reader's ReadResult).
    measure, group, reference
        What to compare (``reference="All"``: the area's overall value; ``None``: the group's
        level itself, e.g. for London's dashboard, which has no ethnicity breakdown).
    area_type, period_type
        Which rows (e.g. Chicago ``district`` x ``month``).
    by
        ``"period"`` (each period) or ``"year"`` (calendar-year means of each area first).
    alpha
        1 - confidence level.

    Returns
    -------
    TrustGapResult
        The interval is a t interval over areas (``sd / sqrt(k)``, ``k - 1`` degrees of
        freedom): it measures how much the gap varies between areas, not the survey's
        sampling error (not published for these sources).

    Examples
    --------
    >>> from equity_metrics.datasets import make_trust_panel
    >>> s = make_trust_panel(n_areas=10, n_months=12, seed=1).survey
    >>> r = trust_gap(s, by="year")
    >>> list(r.tidy().columns)[:5]
    ['period', 'period_start', 'group', 'reference', 'measure']
    """
    check_option("by", by, Literal["period", "year"])
    if not 0 < alpha < 1:
        raise OptionError(f"alpha must be between 0 and 1, got {alpha!r}")
    panel = gap_panel(survey, measure=measure, group=group, reference=reference, area_type=area_type,
                      period_type=period_type)
    data = _check_survey(survey)
    scale = str(data["scale"].dropna().iloc[0]) if "scale" in data.columns and data["scale"].notna().any() else ""
    notes = []
    if by == "year":
        # the year an estimate belongs to is the year its window ends (rolling windows start a year earlier)
        panel = panel.assign(period=panel["period_end"].dt.year.astype(str))
        months = panel.groupby("period")["period_end"].nunique()
        per_year = int(months.max()) if len(months) else 12  # 12 for monthly, 4 for quarterly series
        part = months[months < per_year]
        if len(part):
            notes.append(f"partial years (fewer than {per_year} periods): "
                         + ", ".join(f"{k} ({v})" for k, v in part.items()))
        panel = panel.groupby(["area", "period"], as_index=False).agg(
            period_start=("period_start", "min"), period_end=("period_end", "max"),
            value_group=("value_group", "mean"), value_reference=("value_reference", "mean"), gap=("gap", "mean"),
            n_periods=("gap", "size"))
    g = panel.groupby(["period"], sort=False)
    t = g.agg(period_start=("period_start", "min"), gap=("gap", "mean"), sd=("gap", "std"), n_areas=("gap", "size"),
              value_group=("value_group", "mean"), value_reference=("value_reference", "mean")).reset_index()
    t = t.sort_values("period_start", kind="stable").reset_index(drop=True)
    k = t["n_areas"].to_numpy(float)
    se = t["sd"].to_numpy() / np.sqrt(k)
    q = stats.t.ppf(1 - alpha / 2, np.maximum(k - 1, 1))
    se = np.where(k > 1, se, np.nan)
    t["std_error"] = se
    t["ci_low"], t["ci_high"] = t["gap"] - q * se, t["gap"] + q * se
    t["group"], t["reference"], t["measure"] = group, reference, measure
    if "overlapping" in panel.columns and by == "period":
        ov = panel.groupby("period")["overlapping"].any()
        t["overlapping"] = t["period"].map(ov).astype("boolean")
    else:
        t["overlapping"] = False
    if t["overlapping"].fillna(False).any():
        notes.append("estimates are rolling windows: neighbouring periods share fieldwork and are not independent")
    if (k == 1).any():
        notes.append("periods with a single area have no interval (no between-area variation to measure)")
    cols = ["period", "period_start", "group", "reference", "measure", "gap", "std_error", "ci_low", "ci_high",
            "n_areas", "value_group", "value_reference", "overlapping"]
    method = (f"t interval over {area_type}s (between-area variation of the gap; the publisher gives no "
              "sample sizes, so the survey's own sampling error is not included)")
    return TrustGapResult(table=t[cols], by_area=panel, measure=measure, group=group,
                          reference=reference if reference is not None else "none",
                          area_type=area_type, method=method, alpha=alpha, scale=scale, notes=notes)


# ----------------------------------------------------------------------------- before / after
@dataclass(eq=False)
class GapChangeResult(ResultBase):
    """Change in the gap (or level) from the months before a date to the months after.

    Attributes
    ----------
    table
        One row per arm (``treated`` areas, ``comparison`` areas when given) and, with a
        comparison, a ``difference`` row (difference in differences): ``before``, ``after``,
        ``change``, ``ci_low``, ``ci_high``, ``n_areas``, ``n_periods_before``, ``n_periods_after``.
    """

    table: pd.DataFrame
    date: pd.Timestamp
    months: int
    outcome: str
    method: str
    alpha: float
    n_boot: int
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        lines = [f"Change in {self.outcome} around {self.date:%Y-%m-%d} ({self.months} months each side)",
                 f"Interval: {self.method}"]
        for r in self.table.to_dict("records"):
            lines.append(f"  {r['arm']}: {r['before']:+.2f} -> {r['after']:+.2f}, change {r['change']:+.2f} "
                         f"({1 - self.alpha:.0%} CI {r['ci_low']:+.2f} to {r['ci_high']:+.2f}; {r['n_areas']} areas)")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def gap_change(
    survey,
    *,
    date: str | pd.Timestamp,
    months: int = 12,
    measure: str = "trust",
    group: str = "Black",
    reference: str | None = "White",
    area_type: str = "district",
    period_type: str | None = "month",
    areas: list[str] | None = None,
    comparison: list[str] | None = None,
    n_boot: int = 1999,
    seed: int = 0,
    alpha: float = 0.05,
) -> GapChangeResult:
    """The change in the trust gap (or level) from ``months`` before ``date`` to ``months`` after.

    Parameters
    ----------
    survey
        The canonical survey table.
    date
        The date of the change (e.g. a programme's start); periods are "before" when their
        whole fieldwork window ends before it, "after" when it starts on or after it (rolling
        windows that straddle the date are left out and counted in the notes).
    months
        Months each side.
    measure, group, reference
        ``reference=None`` studies the group's level instead of its gap.
    areas, comparison
        Areas of interest (default: all) and, optionally, comparison areas: the result then
        adds the difference in differences (areas' change minus comparison's change).
    n_boot, seed
        Bootstrap draws. With two or more areas in an arm the bootstrap resamples whole areas
        (each area's months stay together); with one area it is a moving-block bootstrap over
        its periods.
    alpha
        1 - confidence level (percentile intervals).

    Returns
    -------
    GapChangeResult

    Examples
    --------
    >>> from equity_metrics.datasets import make_trust_panel
    >>> s = make_trust_panel(n_areas=8, n_months=36, seed=2).survey
    >>> r = gap_change(s, date="2019-06-01", months=12, n_boot=199)
    >>> r.tidy()["arm"].tolist()
    ['areas']
    """
    if months < 1:
        raise OptionError(f"months must be at least 1, got {months!r}")
    if n_boot < 99:
        raise OptionError(f"n_boot must be at least 99 for a percentile interval, got {n_boot!r}")
    d0 = pd.Timestamp(date)
    if reference is None:
        data = _check_survey(survey)
        sel = _select(data, measure=measure, area_type=area_type, period_type=period_type)
        sel = sel[sel["group"].astype(str) == group]
        if not len(sel):
            raise DataValidationError(f"no rows for group {group!r}")
        panel = sel.assign(gap=sel["value"], area=sel["area"].astype(str))
        outcome = f"{measure} ({group})"
    else:
        panel = gap_panel(survey, measure=measure, group=group, reference=reference, area_type=area_type,
                          period_type=period_type)
        outcome = f"{measure} gap ({group} minus {reference})"
    lo, hi = d0 - pd.DateOffset(months=months), d0 + pd.DateOffset(months=months)
    before = (panel["period_end"] < d0) & (panel["period_start"] >= lo)
    after = (panel["period_start"] >= d0) & (panel["period_end"] < hi)
    straddle = (panel["period_start"] < d0) & (panel["period_end"] >= d0)
    notes = []
    if straddle.any():
        notes.append(f"{int(straddle.sum())} estimate(s) whose fieldwork window straddles the date were left out")
    panel = panel.assign(side=np.where(before, "before", np.where(after, "after", "")))
    panel = panel[panel["side"] != ""]
    all_areas = sorted(panel["area"].unique())
    arms = {"areas": [a for a in (areas or all_areas) if a not in set(comparison or [])]}
    if comparison:
        arms["comparison"] = list(comparison)
    rng = np.random.default_rng(seed)
    rows, draws = [], {}
    method = []
    for arm, members in arms.items():
        sub = panel[panel["area"].isin([str(m) for m in members])]
        per = sub.groupby(["area", "side"])["gap"].mean().unstack()
        per = per.dropna(subset=[c for c in ("before", "after") if c in per.columns])
        if not {"before", "after"} <= set(per.columns) or not len(per):
            raise DataValidationError(f"arm {arm!r}: no area has periods both before and after {d0:%Y-%m-%d} "
                                      f"within {months} months; widen months= or check the dates")
        ch = (per["after"] - per["before"]).to_numpy()
        if len(per) >= 2:
            idx = rng.integers(0, len(ch), size=(n_boot, len(ch)))
            bd = ch[idx].mean(axis=1)
            method.append(f"{arm}: bootstrap over {len(per)} areas ({n_boot} draws, whole areas resampled)")
        else:
            a = sub.sort_values("period_start")
            xb = a.loc[a["side"] == "before", "gap"].to_numpy()
            xa = a.loc[a["side"] == "after", "gap"].to_numpy()
            bd = _block_bootstrap_mean(xa, n_boot=n_boot, rng=rng) - _block_bootstrap_mean(xb, n_boot=n_boot, rng=rng)
            method.append(f"{arm}: moving-block bootstrap over periods ({n_boot} draws; one area)")
        draws[arm] = bd
        rows.append({"arm": arm, "before": float(per["before"].mean()), "after": float(per["after"].mean()),
                     "change": float(ch.mean()), "ci_low": float(np.quantile(bd, alpha / 2)),
                     "ci_high": float(np.quantile(bd, 1 - alpha / 2)), "n_areas": int(len(per)),
                     "n_periods_before": int((sub["side"] == "before").sum()),
                     "n_periods_after": int((sub["side"] == "after").sum())})
    if comparison:
        t, c = rows
        dd = draws["areas"] - draws["comparison"]
        rows.append({"arm": "difference", "before": t["before"] - c["before"], "after": t["after"] - c["after"],
                     "change": t["change"] - c["change"], "ci_low": float(np.quantile(dd, alpha / 2)),
                     "ci_high": float(np.quantile(dd, 1 - alpha / 2)), "n_areas": t["n_areas"] + c["n_areas"],
                     "n_periods_before": t["n_periods_before"] + c["n_periods_before"],
                     "n_periods_after": t["n_periods_after"] + c["n_periods_after"]})
        notes.append("the difference row assumes the comparison areas' change is what the areas would have seen "
                     "without the programme (parallel trends)")
    return GapChangeResult(table=pd.DataFrame(rows), date=d0, months=months, outcome=outcome,
                           method="; ".join(method) + "; percentile intervals", alpha=alpha, n_boot=n_boot, notes=notes)


# ----------------------------------------------------------------------------- respondent-level surveys
@dataclass(eq=False)
class SurveyEstimates(ResultBase):
    """Survey-weighted means by area x period x group with design-based standard errors."""

    table: pd.DataFrame
    method: str

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return (f"Survey-weighted estimates: {len(self.table)} cells; {self.method}\n"
                + self.table.head(12).to_string(index=False))


def survey_estimates(
    respondents: pd.DataFrame,
    *,
    outcome: str,
    weight: str,
    area: str,
    period: str,
    group: str | None = None,
    psu: str | None = None,
    strata: str | None = None,
    measure: str | None = None,
    scale: str = "proportion 0-1",
    source: str = "respondent-level survey",
    alpha: float = 0.05,
    min_n: int = 30,
) -> SurveyEstimates:
    """Weighted means (e.g. share who trust the police) by area x period x group from respondent data.

    Standard errors by Taylor linearisation of the ratio estimator ``sum(w y) / sum(w)``
    with primary sampling units (each respondent its own PSU when ``psu`` is None) within
    optional strata (with-replacement PSU variance, as R ``survey::svymean`` with
    ``svydesign(ids=~psu, strata=~strata, weights=~w)``); cells with fewer than ``min_n``
    respondents are flagged ``small_n``.

    Returns
    -------
    SurveyEstimates
        ``tidy()`` is a canonical survey table (area, period, measure, group, value, se,
        n, effective n, ci_low, ci_high, small_n, ...), ready for :func:`trust_gap`.

    Examples
    --------
    >>> df = pd.DataFrame({"ward": ["A"] * 4, "q": ["2023-Q1"] * 4, "eth": ["Black", "Black", "White", "White"],
    ...                    "trust": [1, 0, 1, 1], "w": [1.0, 1.0, 2.0, 1.0]})
    >>> survey_estimates(df, outcome="trust", weight="w", area="ward", period="q", group="eth", min_n=1).tidy()[["group", "value", "n"]].values.tolist()
    [['Black', 0.5, 2.0], ['White', 1.0, 2.0]]
    """
    cols = [c for c in (outcome, weight, area, period, group, psu, strata) if c]
    miss = [c for c in cols if c not in respondents.columns]
    if miss:
        raise DataValidationError(f"respondent table lacks column(s) {miss}; columns are {list(respondents.columns)[:20]}")
    d = respondents[cols].copy()
    y = pd.to_numeric(d[outcome], errors="coerce")
    w = pd.to_numeric(d[weight], errors="coerce")
    bad = y.isna() | w.isna() | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{int(bad.sum())} respondent row(s) have a missing or non-numeric {outcome!r} or a missing/negative "
            f"{weight!r} (first: row {i}, values {d.iloc[i][[outcome, weight]].tolist()}); drop or recode them first")
    d["_y"], d["_w"] = y.astype(float), w.astype(float)
    d["_psu"] = d[psu].astype(str) if psu else np.arange(len(d)).astype(str)
    d["_str"] = d[strata].astype(str) if strata else "all"
    keys = [area, period] + ([group] if group else [])
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for k, g in d.groupby(keys, sort=True, observed=True):
        k = k if isinstance(k, tuple) else (k,)
        W = g["_w"].sum()
        if W <= 0:
            continue
        m = float((g["_w"] * g["_y"]).sum() / W)
        u = g["_w"] * (g["_y"] - m) / W  # linearised scores
        var = 0.0
        for _, s in g.assign(_u=u).groupby("_str"):
            tot = s.groupby("_psu")["_u"].sum().to_numpy()
            nh = len(tot)
            if nh > 1:
                var += nh / (nh - 1) * float(((tot - tot.mean()) ** 2).sum())
        se = float(np.sqrt(var)) if var > 0 else np.nan
        n_eff = float(W ** 2 / (g["_w"] ** 2).sum())
        rows.append(dict(zip(keys, k)) | {"value": m, "se": se, "n": float(len(g)), "n_effective": n_eff,
                                           "ci_low": m - z * se, "ci_high": m + z * se})
    t = pd.DataFrame(rows).rename(columns={area: "area", period: "period", **({group: "group"} if group else {})})
    if not group:
        t["group"] = "All"
    t["small_n"] = t["n"] < min_n
    t["area_type"], t["period_type"] = "area", "period"
    t["period_start"] = t["period_end"] = pd.NaT
    t["measure"] = measure or outcome
    t["scale"], t["source"] = scale, source
    method = ("Taylor linearisation, with-replacement PSU variance within strata "
              f"({'PSU ' + psu if psu else 'each respondent a PSU'}{', strata ' + strata if strata else ''})")
    cols_out = ["area", "area_type", "period", "period_type", "period_start", "period_end", "measure", "group",
                "value", "se", "ci_low", "ci_high", "n", "n_effective", "small_n", "scale", "source"]
    return SurveyEstimates(table=t[cols_out].sort_values(["area", "period", "group"]).reset_index(drop=True),
                           method=method)
