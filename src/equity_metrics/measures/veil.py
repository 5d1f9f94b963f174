"""The veil-of-darkness test (Grogger & Ridgeway 2006), as the Stanford Open Policing Project runs it.

Idea: officers can see a person's ethnicity less well after dark. If, at the same clock time, the
share of Black people among those searched (stopped) is higher when it is light than when it is
dark, that is evidence that visible ethnicity affected who was stopped. Comparing the same clock
time across the year (dusk moves by hours between seasons, and by an hour at each clock change)
removes the daily rhythm of who is out; no population benchmark is needed.

Model (OPP): ``glm(is_black ~ is_dark + ns(minute, df = 6), family = binomial)`` on Black and
White searches in the inter-twilight window, optionally with area fixed effects (and a spline x
area interaction) and season x year fixed effects; an odds ratio below 1 for ``is_dark`` means
Black people made up a smaller share of those searched after dark.

Public: :func:`veil_of_darkness`, :func:`veil_of_darkness_by_area`, :func:`sun_times`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from .._results import ResultBase
from ..errors import EstimationError, OptionError
from . import _veil_prep as prep
from ._suncalc import sun_times
from ._veil_fit import fit_counts

__all__ = ["veil_of_darkness", "veil_of_darkness_by_area", "veil_of_darkness_counts", "VeilResult",
           "VeilByAreaResult", "sun_times"]

Design = Literal["inter_twilight", "clock_change"]

ASSUMPTIONS = (
    "Visibility: whether it was light or dark at the event's place and clock time (sun 6 degrees below the "
    "horizon = dark, suncalc algorithm) stands for whether the officer could see the person's ethnicity at the "
    "moment of the decision. Street lighting, indoor settings and weather are ignored; the minutes between sunset "
    "and dusk are dropped as ambiguous.",
    "Same mix at the same clock time: who is out and at risk of a search at a given clock time does not change "
    "with daylight itself (the spline in clock time absorbs the daily rhythm; seasonal differences are absorbed "
    "only if season x year controls are used, and fully only in the clock-change design).",
    "The test concerns the decision to stop/search someone. police.uk publishes searches, not stops, and many "
    "searches follow calls or intelligence rather than an officer's sight of a person: a null result does not show "
    "the absence of bias, and darkness effects on searches are diluted.",
    "Times are as recorded. police.uk times are coarsened (heaped at :00, :15, :30, :45) and may be the time "
    "of recording; an event recorded with no time of day (police.uk: local midnight) is dropped.",
    "Ethnicity is the self-defined group (as the Home Office uses); searches of other groups or with no stated "
    "ethnicity are left out.",
)


# ----------------------------------------------------------------------------- results
class VeilResult(ResultBase):
    """Result of :func:`veil_of_darkness`: the darkness odds ratio with its interval and denominators.

    Attributes
    ----------
    odds_ratio, ci_low, ci_high
        exp(coefficient of ``is_dark``) and its Wald interval (level ``level``).
    estimate, std_error, p_value
        The log odds ratio, its standard error and two-sided p-value.
    n_light, n_dark, n_minority, n_majority
        Searches used, by light/dark and by group.
    counts
        The aggregated table the model was fitted to (``is_dark``, ``minute``, ``area``, ``window``,
        ``n_minority``, ``n_majority``): the aggregated-count form, re-fittable for large data.
    dropped
        Rows dropped, by reason (``n_in == n_used + sum(dropped.values())``).
    locations
        How each area's rows were located (record coordinates, centroid, reference point).
    robustness
        OPP's robustness grid (spline df 1-6, time x area interaction, split) when requested, else None.
    assumptions
        The assumptions of the test, in words.
    """

    __slots__ = ("fit", "level", "minority", "majority", "design", "spline_df", "controls", "n_in", "n_used",
                 "n_light", "n_dark", "n_minority", "n_majority", "counts", "dropped", "locations", "windows",
                 "robustness", "assumptions", "splits")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    # convenient views of the fit
    odds_ratio = property(lambda self: self.fit.odds_ratio)
    ci_low = property(lambda self: self.fit.ci_low)
    ci_high = property(lambda self: self.fit.ci_high)
    estimate = property(lambda self: self.fit.estimate)
    std_error = property(lambda self: self.fit.std_error)
    p_value = property(lambda self: self.fit.p_value)

    def tidy(self) -> pd.DataFrame:
        """One row: ``term`` (is_dark), estimate (log odds ratio), std_error, odds_ratio, ci_low, ci_high, p_value, denominators."""
        f = self.fit
        return pd.DataFrame([{
            "term": "is_dark", "estimate": f.estimate, "std_error": f.std_error, "odds_ratio": f.odds_ratio,
            "ci_low": f.ci_low, "ci_high": f.ci_high, "p_value": f.p_value, "level": self.level,
            "n_light": self.n_light, "n_dark": self.n_dark, "n_minority": self.n_minority,
            "n_majority": self.n_majority, "n_used": self.n_used, "n_in": self.n_in, "minority": self.minority,
            "majority": self.majority, "design": self.design, "spline_df": self.spline_df,
            "controls": ", ".join(self.controls) or "none", "converged": f.converged,
        }])

    def summary(self) -> str:
        f = self.fit
        pct = int(round(self.level * 100))
        lines = [
            f"Veil of darkness ({self.design.replace('_', '-')} design): {self.minority} vs {self.majority}",
            f"  darkness odds ratio {f.odds_ratio:.3f} ({pct}% CI {f.ci_low:.3f} to {f.ci_high:.3f}), p = {f.p_value:.3g}",
            f"  model: is_{self.minority.lower()} ~ is_dark + ns(minute, df = {self.spline_df})"
            + "".join(f" + {c}" for c in self.controls) + " (binomial GLM on counts)",
            f"  searches used: {self.n_used:,} of {self.n_in:,} ({self.n_light:,} light, {self.n_dark:,} dark; "
            f"{self.n_minority:,} {self.minority}, {self.n_majority:,} {self.majority})",
            "  dropped: " + "; ".join(f"{k} {v:,}" for k, v in self.dropped.items() if v) if any(self.dropped.values())
            else "  dropped: none",
            "  reading: an odds ratio below 1 means the " + self.minority + " share of those searched is lower "
            "after dark than in daylight at the same clock time (consistent with visibility affecting decisions).",
        ]
        if f.n_aliased:
            lines.append(f"  note: {f.n_aliased} control column(s) aliased with others were dropped (R's glm reports "
                         "them as NA)")
        if not f.converged:
            lines.append("  WARNING: the GLM did not converge cleanly; treat the estimate with caution.")
        if self.n_minority < 50:
            lines.append(f"  SMALL COUNT: only {self.n_minority} {self.minority} searches in the window.")
        if self.robustness is not None:
            r = self.robustness
            lines.append(f"  robustness grid ({len(r)} specifications): odds ratios {r['odds_ratio'].min():.3f} "
                         f"to {r['odds_ratio'].max():.3f}")
        lines.append("Assumptions:")
        lines += [f"  - {a}" for a in self.assumptions]
        return "\n".join(lines)

    def plot(self, *, ax=None, bin_minutes: int = 15):
        """Share of the minority group among searches by clock time, light vs dark, with 95% intervals and n."""
        from ..plots.veil import veil_plot

        return veil_plot(self, ax=ax, bin_minutes=bin_minutes)


class VeilByAreaResult(ResultBase):
    """Result of :func:`veil_of_darkness_by_area`: one veil-of-darkness fit per area (e.g. force).

    ``table`` (= :meth:`tidy`) has one row per area: ``area``, ``odds_ratio``, ``ci_low``, ``ci_high``,
    ``estimate``, ``std_error``, ``p_value``, ``n_light``, ``n_dark``, ``n_minority``, ``n_majority``,
    ``n_in``, ``share_time_known``, ``location``, ``applicable`` and ``reason`` (why not, in words).
    """

    __slots__ = ("table", "minority", "majority", "design", "spline_df", "level", "assumptions", "min_minority")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def tidy(self) -> pd.DataFrame:
        """The per-area table (sorted by area)."""
        return self.table.copy()

    def summary(self) -> str:
        t = self.table
        ok = t[t["applicable"]]
        below = int((ok["ci_high"] < 1).sum())
        above = int((ok["ci_low"] > 1).sum())
        lines = [f"Veil of darkness by area ({self.design.replace('_', '-')} design, ns df = {self.spline_df}): "
                 f"{self.minority} vs {self.majority}",
                 f"  areas: {len(t)}; applicable: {len(ok)}; interval below 1: {below}; above 1: {above}; "
                 f"covering 1: {len(ok) - below - above}"]
        for r in t.itertuples(index=False):
            if r.applicable:
                lines.append(f"  {r.area}: OR {r.odds_ratio:.3f} ({r.ci_low:.3f} to {r.ci_high:.3f}), "
                             f"n {r.n_light:,} light / {r.n_dark:,} dark, {r.n_minority:,} {self.minority}")
            else:
                lines.append(f"  {r.area}: not applicable: {r.reason}")
        lines.append("Assumptions:")
        lines += [f"  - {a}" for a in self.assumptions]
        return "\n".join(lines)

    def plot(self, *, ax=None):
        """Forest plot of the darkness odds ratios of the applicable areas (log scale), labelled with n."""
        from ..plots.veil import veil_by_area_plot

        return veil_by_area_plot(self, ax=ax)


# ----------------------------------------------------------------------------- functions
def _check(design, spline_df, weeks, level, round_minutes, min_minority=0):
    check_option("design", design, Design)
    if not (isinstance(spline_df, (int, np.integer)) and 1 <= spline_df <= 20):
        raise OptionError(f"spline_df must be a whole number from 1 to 20 (OPP uses 6); got {spline_df!r}")
    if not (isinstance(weeks, (int, np.integer)) and 1 <= weeks <= 12):
        raise OptionError(f"weeks must be a whole number of weeks from 1 to 12 (default 3); got {weeks!r}")
    if not (isinstance(level, float) and 0 < level < 1):
        raise OptionError(f"level must be a float between 0 and 1, e.g. 0.95; got {level!r}")
    if not (isinstance(round_minutes, (int, np.integer)) and 1 <= round_minutes <= 30):
        raise OptionError(f"round_minutes must be a whole number from 1 to 30 (OPP's paper uses 5); got {round_minutes!r}")
    if not (isinstance(min_minority, (int, np.integer)) and min_minority >= 0):
        raise OptionError(f"min_minority must be a whole number >= 0; got {min_minority!r}")


def _fit_prepared(p: prep.Prepared, *, spline_df, use_area, interact_time_area, season_year, level):
    keys = ["is_dark", "minute", "area", "window"]
    counts = prep.count_cells(p.rows, keys)
    f = fit_counts(counts, spline_df=spline_df, area=use_area, interact_time_area=interact_time_area,
                   season_year=season_year, level=level)
    return f, counts


def _robustness(p: prep.Prepared, *, use_area, season_year, level, split) -> pd.DataFrame:
    out = []
    subsets = [("all", p.rows)]
    if split:
        subsets += [(str(v), p.rows[p.rows["split"] == v]) for v in sorted(p.rows["split"].dropna().unique(), key=str)]
    for name, rows in subsets:
        counts = prep.count_cells(rows, ["is_dark", "minute", "area", "window"])
        interacts = [False, True] if use_area and rows["area"].nunique() > 1 else [False]
        for inter in interacts:
            for df in range(1, 7):
                row = {"subset": name, "spline_df": df, "interact_time_area": inter}
                try:
                    f = fit_counts(counts, spline_df=df, area=use_area, interact_time_area=inter,
                                   season_year=season_year, level=level)
                    row.update(odds_ratio=f.odds_ratio, ci_low=f.ci_low, ci_high=f.ci_high, estimate=f.estimate,
                               std_error=f.std_error, converged=f.converged, note="")
                except EstimationError as exc:
                    row.update(odds_ratio=np.nan, ci_low=np.nan, ci_high=np.nan, estimate=np.nan,
                               std_error=np.nan, converged=False, note=str(exc))
                row["n_used"] = int(len(rows))
                row["n_minority"] = int(rows["is_minority"].sum())
                out.append(row)
    return pd.DataFrame(out)


def veil_of_darkness(
    events: pd.DataFrame,
    *,
    time: str = "datetime",
    group: str = "ethnicity",
    minority: str = "Black",
    majority: str = "White",
    lat: str | None = "latitude",
    lon: str | None = "longitude",
    tz: str = "Europe/London",
    area: str | None = None,
    area_effects: bool = True,
    interact_time_area: bool = False,
    season_year: bool = False,
    design: Design = "inter_twilight",
    weeks: int = 3,
    spline_df: int = 6,
    round_minutes: int = 1,
    location: tuple[float, float] | None = None,
    centroids: Mapping[str, tuple[float, float]] | None = None,
    time_known: str | None = "time_known",
    robustness: bool = False,
    split: str | None = None,
    level: float = 0.95,
) -> VeilResult:
    """Veil-of-darkness test: is the minority share of searches lower after dark at the same clock time?

    Parameters
    ----------
    events
        One row per search/stop, e.g. ``read_policeuk(...).data``.
    time
        Column of date-times (tz-aware are converted to ``tz``; naive ones are read as local clock time).
    group, minority, majority
        Column of groups and the two groups compared (others are dropped).
    lat, lon
        Columns of each record's coordinates (``None`` if there are none); rows without them get their area's
        centroid (median of the area's record coordinates, or ``centroids``/a built-in reference point).
    tz
        IANA time zone of the clock times (police.uk: ``"Europe/London"``).
    area
        Column of areas (e.g. ``"force"``): the inter-twilight window is computed per area and, with
        ``area_effects``, area fixed effects enter the model.
    area_effects, interact_time_area, season_year
        Controls: area fixed effects; the spline x area interaction (OPP's ``ns(minute)*geography``);
        season x year fixed effects (always on in the clock-change design, where the "season" is each change window).
    design
        ``"inter_twilight"`` (all dates, OPP) or ``"clock_change"`` (only ``weeks`` weeks either side of each
        daylight-saving change, where the same clock time is light on one side and dark on the other).
    weeks
        Half-width of the clock-change windows, in weeks.
    spline_df
        Degrees of freedom of R's natural spline ``ns(minute, df)`` in clock time (OPP: 6).
    round_minutes
        Round the model's clock minute to this many minutes (OPP's paper: 5); darkness uses the exact minute.
    location
        One ``(lat, lon)`` for every row without coordinates (OPP's tutorial uses a city centre).
    centroids
        ``{area: (lat, lon)}`` for areas whose records carry too few coordinates.
    time_known
        Boolean column marking rows with a real time of day (police.uk date-only rows are False); ``None`` to skip.
    robustness
        Also fit OPP's robustness grid: spline df 1-6, with and without the time x area interaction, on all
        rows and on each level of ``split``; see ``result.robustness``.
    split
        Column to split the robustness grid by (OPP: agency type; e.g. ``"force"`` or a type of force).
    level
        Confidence level of the Wald interval.

    Returns
    -------
    VeilResult

    Examples
    --------
    >>> import equity_metrics as em
    >>> from equity_metrics.datasets.veil import veil_stops
    >>> stops = veil_stops(n=4000, darkness_odds_ratio=0.6, seed=1)
    >>> res = em.measures.veil_of_darkness(stops, lat=None, lon=None, location=(53.8, -1.55))
    >>> bool(res.ci_low < 0.6 < res.ci_high)
    True
    """
    _check(design, spline_df, weeks, level, round_minutes)
    p = prep.prepare(events, time=time, group=group, minority=minority, majority=majority, lat=lat, lon=lon, tz=tz,
                     area=area, location=location, centroids=centroids, design=design, weeks=weeks,
                     time_known=time_known, round_minutes=round_minutes, split=split)
    use_area = bool(area) and area_effects
    sy = season_year or design == "clock_change"
    f, counts = _fit_prepared(p, spline_df=spline_df, use_area=use_area, interact_time_area=interact_time_area,
                              season_year=sy, level=level)
    controls = []
    if use_area and p.rows["area"].nunique() > 1:
        controls.append(f"ns(minute) x {area}" if interact_time_area else area)
    if sy and p.rows["window"].nunique() > 1:
        controls.append("clock-change window" if design == "clock_change" else "season x year")
    rob = _robustness(p, use_area=use_area, season_year=sy, level=level, split=split) if robustness else None
    r = p.rows
    return VeilResult(
        fit=f, level=level, minority=minority, majority=majority, design=design, spline_df=spline_df,
        controls=controls, n_in=p.n_in, n_used=len(r), n_light=int((~r["is_dark"]).sum()),
        n_dark=int(r["is_dark"].sum()), n_minority=int(r["is_minority"].sum()),
        n_majority=int((~r["is_minority"]).sum()), counts=counts, dropped=p.dropped, locations=p.locations,
        windows=p.windows, robustness=rob, assumptions=ASSUMPTIONS, splits=split,
    )


def veil_of_darkness_by_area(
    events: pd.DataFrame,
    *,
    area: str = "force",
    time: str = "datetime",
    group: str = "ethnicity",
    minority: str = "Black",
    majority: str = "White",
    lat: str | None = "latitude",
    lon: str | None = "longitude",
    tz: str = "Europe/London",
    season_year: bool = False,
    design: Design = "inter_twilight",
    weeks: int = 3,
    spline_df: int = 6,
    round_minutes: int = 1,
    centroids: Mapping[str, tuple[float, float]] | None = None,
    time_known: str | None = "time_known",
    min_minority: int = 50,
    min_time_known: float = 0.5,
    level: float = 0.95,
) -> VeilByAreaResult:
    """The veil-of-darkness test run separately in each area (e.g. each police force).

    Each area gets its own inter-twilight window, spline and fit (as OPP runs each city). An area is
    ``applicable`` only if at least ``min_time_known`` of its rows have a time of day, it has at least
    ``min_minority`` minority-group searches in the window (both light and dark present), and the
    model can be fitted; otherwise ``reason`` says why.

    Parameters
    ----------
    events
        One row per search/stop (e.g. ``read_policeuk(...).data``).
    area
        Column of areas to run the test in.
    time, group, minority, majority, lat, lon, tz, season_year, design, weeks, spline_df, round_minutes, centroids, time_known, level
        As in :func:`veil_of_darkness`.
    min_minority
        Fewest minority-group searches in an area's window for the test to be run.
    min_time_known
        Smallest share of an area's rows with a time of day for the test to be run.

    Returns
    -------
    VeilByAreaResult

    Examples
    --------
    >>> import equity_metrics as em
    >>> from equity_metrics.datasets.veil import veil_stops
    >>> stops = veil_stops(n=3000, darkness_odds_ratio=0.6, seed=2)
    >>> res = em.measures.veil_of_darkness_by_area(stops, area="force", lat=None, lon=None,
    ...                                            centroids={"northshire": (53.8, -1.55)})
    >>> res.tidy()[["area", "applicable"]].to_dict("records")
    [{'area': 'northshire', 'applicable': True}]
    """
    _check(design, spline_df, weeks, level, round_minutes, min_minority)
    if not (isinstance(min_time_known, float) and 0 <= min_time_known <= 1):
        raise OptionError(f"min_time_known must be a share between 0 and 1; got {min_time_known!r}")
    p = prep.prepare(events, time=time, group=group, minority=minority, majority=majority, lat=lat, lon=lon, tz=tz,
                     area=area, location=None, centroids=centroids, design=design, weeks=weeks,
                     time_known=time_known, round_minutes=round_minutes, split=None)
    sy = season_year or design == "clock_change"
    n_by_area = events[area].astype("object").value_counts()
    loc = p.locations.set_index("area")
    rows = []
    for name in sorted(n_by_area.index, key=str):
        r = p.rows[p.rows["area"] == name]
        share = float(p.time_known_share.get(name, np.nan))
        li = loc.loc[name] if name in loc.index else None
        if li is None:
            where = "none"
        elif li["rows_with_coordinates"] == li["rows"]:
            where = "record coordinates"
        elif li["rows_located_by_centroid"] == 0 and li["rows_with_coordinates"] == 0:
            where = "none (no coordinates and no reference point)"
        else:
            where = (f"record coordinates where present ({li['rows_with_coordinates'] / li['rows']:.0%}), "
                     f"else {li['centroid_source']}")
        row = {"area": name, "odds_ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan, "estimate": np.nan,
               "std_error": np.nan, "p_value": np.nan, "n_light": int((~r["is_dark"]).sum()),
               "n_dark": int(r["is_dark"].sum()), "n_minority": int(r["is_minority"].sum()),
               "n_majority": int((~r["is_minority"]).sum()), "n_in": int(n_by_area[name]),
               "share_time_known": share, "location": where, "applicable": False, "reason": ""}
        n_min_light = int((r["is_minority"] & ~r["is_dark"]).sum())
        n_min_dark = int((r["is_minority"] & r["is_dark"]).sum())
        if name in p.twelve_hour_areas:
            row["reason"] = ("times look like a 12-hour clock without am/pm (no search recorded after 12:59), so "
                             "evening times cannot be told from morning ones")
        elif not share >= min_time_known:
            row["reason"] = (f"times of day recorded for only {share:.0%} of searches (police.uk date-only records)"
                             if share > 0 else "no times of day recorded")
        elif row["n_minority"] < min_minority:
            row["reason"] = f"too few {minority} searches in the inter-twilight window ({row['n_minority']} < {min_minority})"
        elif n_min_light == 0 or n_min_dark == 0:
            row["reason"] = f"no {minority} searches on one side of dusk in the window"
        else:
            try:
                f, _ = _fit_prepared(prep.Prepared(rows=r, dropped={}, n_in=len(r), locations=loc, windows=None),
                                     spline_df=spline_df, use_area=False, interact_time_area=False, season_year=sy,
                                     level=level)
                row.update(odds_ratio=f.odds_ratio, ci_low=f.ci_low, ci_high=f.ci_high, estimate=f.estimate,
                           std_error=f.std_error, p_value=f.p_value, applicable=True,
                           reason="" if f.converged else "fitted, but the GLM did not converge cleanly")
            except EstimationError as exc:
                row["reason"] = f"model not estimable: {exc}"
        rows.append(row)
    return VeilByAreaResult(table=pd.DataFrame(rows), minority=minority, majority=majority, design=design,
                            spline_df=spline_df, level=level, assumptions=ASSUMPTIONS, min_minority=min_minority)


def veil_of_darkness_counts(
    counts: pd.DataFrame,
    *,
    minute: str = "minute",
    is_dark: str = "is_dark",
    n_minority: str = "n_minority",
    n_majority: str = "n_majority",
    area: str | None = None,
    window: str | None = None,
    minority: str = "Black",
    majority: str = "White",
    interact_time_area: bool = False,
    spline_df: int = 6,
    level: float = 0.95,
) -> VeilResult:
    """The veil-of-darkness model fitted to a table of counts (the aggregated form, for large data).

    Each row of ``counts`` is a cell (clock minute x light/dark, optionally x area x window) with the
    numbers of minority- and majority-group searches in it, already restricted to the inter-twilight
    window without the sunset-to-dusk minutes (e.g. ``veil_of_darkness(...).counts``, or counts built
    in a database). The fit equals the row-level logistic regression: the spline knots are the
    frequency-weighted quantiles of the minutes.

    Parameters
    ----------
    counts
        The cell table.
    minute, is_dark, n_minority, n_majority
        Its columns: clock minute, darkness (boolean), and the two groups' counts.
    area, window
        Optional columns of areas (fixed effects) and of season x year / clock-change windows (fixed effects).
    minority, majority
        Labels of the two groups, for the printed summary.
    interact_time_area, spline_df, level
        As in :func:`veil_of_darkness`.

    Returns
    -------
    VeilResult
        Without row-level bookkeeping (``dropped`` is empty, ``n_in == n_used``).

    Examples
    --------
    >>> from equity_metrics.datasets.veil import veil_stops
    >>> rows = veil_of_darkness(veil_stops(4000, darkness_odds_ratio=0.6, seed=1))
    >>> again = veil_of_darkness_counts(rows.counts)
    >>> abs(again.estimate - rows.estimate) < 1e-10
    True
    """
    _check("inter_twilight", spline_df, 3, level, 1)
    if not isinstance(counts, pd.DataFrame):
        raise OptionError("counts must be a pandas DataFrame with one row per cell")
    cols = [c for c in (minute, is_dark, n_minority, n_majority, area, window) if c]
    missing = [c for c in cols if c not in counts.columns]
    if missing:
        from ..errors import MissingColumnsError

        raise MissingColumnsError(file=None, missing=missing, found=[str(c) for c in counts.columns],
                                  hint="name the count table's columns with minute=, is_dark=, n_minority=, "
                                       "n_majority=, area=, window=")
    c = pd.DataFrame({
        "is_dark": counts[is_dark].astype(bool).to_numpy(),
        "minute": pd.to_numeric(counts[minute]).to_numpy(float),
        "area": counts[area].astype("object").to_numpy() if area else "all",
        "window": counts[window].astype("object").to_numpy() if window else "all",
        "n_minority": pd.to_numeric(counts[n_minority]).to_numpy(np.int64),
        "n_majority": pd.to_numeric(counts[n_majority]).to_numpy(np.int64),
    })
    if (c[["n_minority", "n_majority"]] < 0).any().any():
        raise OptionError("counts must be non-negative")
    f = fit_counts(c, spline_df=spline_df, area=bool(area), interact_time_area=interact_time_area,
                   season_year=bool(window), level=level)
    controls = []
    if area and c["area"].nunique() > 1:
        controls.append(f"ns(minute) x {area}" if interact_time_area else area)
    if window and c["window"].nunique() > 1:
        controls.append(window)
    n = c["n_minority"] + c["n_majority"]
    used = int(n.sum())
    return VeilResult(
        fit=f, level=level, minority=minority, majority=majority, design="counts", spline_df=spline_df,
        controls=controls, n_in=used, n_used=used, n_light=int(n[~c["is_dark"]].sum()),
        n_dark=int(n[c["is_dark"]].sum()), n_minority=int(c["n_minority"].sum()),
        n_majority=int(c["n_majority"].sum()), counts=c, dropped={}, locations=None, windows=None,
        robustness=None, assumptions=ASSUMPTIONS, splits=None,
    )
