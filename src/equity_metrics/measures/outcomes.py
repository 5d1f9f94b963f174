"""Decisions after the stop: the outcome (hit-rate) test and the multi-stage relative rate index.

The outcome test (Knowles, Persico & Todd 2001; the Stanford Open Policing
Project's "outcome test") compares the share of searches that find what was
searched for across groups: if searches of one group find less, officers may
search that group on less evidence. The relative rate index (RRI) follows a
group through successive decisions (search -> find -> arrest), each stage's rate
relative to the previous stage, against a reference group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from .._options import check_option
from .._security import escape_html, safe_to_csv
from ..errors import DataValidationError, EstimationError
from ..ethnicity import NOT_STATED
from ..ledger import ReadResult
from ._common import UNRELIABLE_BELOW, frame_of, need_columns, population_by_area_group
from .intervals import rate_ratio_ci, risk_ratio, wilson_ci

__all__ = ["outcome_test", "OutcomeTestResult", "stage_rri", "StageRRIResult", "NON_DISCRETIONARY_PATTERNS"]

#: Powers that need no reasonable suspicion (searches are not officers' case-by-case
#: judgement, so an outcome test is not meaningful for them): s60 Criminal Justice
#: and Public Order Act 1994, s47A Terrorism Act 2000, s43/s44 Terrorism Act.
NON_DISCRETIONARY_PATTERNS = (r"section 60\b", r"\(section 60\)", r"section 47a", r"terrorism act", r"s\.?60\b")

NEGATIVE_OUTCOMES = {"a no further action disposal", "nothing found - no further action", "no further action", ""}

Outcome = Literal["hit", "any_positive"]


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _discretionary_mask(ev: pd.DataFrame, notes: list[str]) -> np.ndarray:
    if "legal_power" not in ev.columns or ev["legal_power"].isna().all():
        notes.append("the source does not give the legal power: all searches used (discretion unknown)")
        return np.ones(len(ev), bool)
    lp = ev["legal_power"].astype("string").fillna("").str.lower()
    pat = "|".join(NON_DISCRETIONARY_PATTERNS)
    nd = lp.str.contains(pat, regex=True).to_numpy(bool)
    if nd.any():
        notes.append(f"{int(nd.sum()):,} searches under powers needing no suspicion (s60 / terrorism) excluded")
    blank = (lp == "").to_numpy(bool)
    if blank.any():
        notes.append(f"{int(blank.sum()):,} searches with no recorded legal power kept (assumed discretionary)")
    return ~nd


@dataclass
class OutcomeTestResult:
    """Hit rates by group (Wilson intervals) and odds ratios from a binomial GLM with area effects."""

    table: pd.DataFrame
    pooled: pd.DataFrame
    by: list[str]
    reference: str
    outcome: str
    alpha: float
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """By group (and ``by``): searches, hits, hit_rate, ci_low, ci_high, difference_from_reference, flags."""
        return self.table.copy()

    def pooled_tidy(self) -> pd.DataFrame:
        """Odds ratios vs the reference from the logistic model: group, odds_ratio, ci_low, ci_high, p_value."""
        return self.pooled.copy()

    def to_csv(self, path: str | Path) -> Path:
        return safe_to_csv(self.tidy(), path)

    def summary(self) -> str:
        lvl = int(round(100 * (1 - self.alpha)))
        lines = [f"Outcome test ({self.outcome}): share of searches finding what was searched for, {lvl}% Wilson intervals"]
        lines += [f"  note: {n}" for n in self.notes]
        t = self.table.copy()
        for c in ("hit_rate", "ci_low", "ci_high"):
            t[c] = t[c].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
        lines.append(t[self.by + ["group", "searches", "hits", "hit_rate", "ci_low", "ci_high", "flags"]].to_string(index=False))
        if len(self.pooled):
            lines.append(f"\nPooled logistic model (binomial GLM, area effects): odds ratio of a hit vs {self.reference}")
            p = self.pooled.copy()
            lines.append(p.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{escape_html(n)}</li>" for n in self.notes)
        return (
            f"<p><b>Outcome test</b> ({escape_html(self.outcome)})</p><ul>{notes}</ul>"
            + self.table.to_html(index=False, escape=True)
            + self.pooled.to_html(index=False, escape=True)
        )

    def plot(self, *, ax=None):
        """Hit rates with Wilson intervals, one row per ``by x group``. Returns the Axes."""
        from ..plots import forest_plot

        t = self.table
        labels = t[self.by + ["group"]].astype(str).agg(" | ".join, axis=1).tolist()
        return forest_plot(labels, t["hit_rate"], t["ci_low"], t["ci_high"], ax=ax, reference_line=None, xlabel="Share of searches with a find")


def outcome_test(
    events: pd.DataFrame | ReadResult,
    *,
    by: str | Sequence[str] | None = "force",
    group_col: str = "ethnicity",
    outcome: Outcome = "hit",
    reference: str = "White",
    discretionary_only: bool = True,
    exclude_vehicle_only: bool = True,
    pooled_over: str | None = "force",
    alpha: float = 0.05,
    unreliable_below: int = UNRELIABLE_BELOW,
) -> OutcomeTestResult:
    """The outcome (hit-rate) test by group.

    Parameters
    ----------
    events
        Canonical events (searches). ``hit`` (outcome linked to the object of
        search) is used for ``outcome="hit"``; ``outcome`` for ``"any_positive"``
        (anything but no further action).
    by
        Breakdown of the table (``None`` for one row per group).
    discretionary_only
        Drop searches under powers that need no suspicion (s60, terrorism),
        where the source says which power was used.
    pooled_over
        Area column for the pooled logistic model ``hit ~ group + area`` (a
        binomial GLM on the counts; ``None`` for no area effects).

    Returns
    -------
    OutcomeTestResult

    Examples
    --------
    >>> import equity_metrics as em
    >>> res = em.outcome_test(em.datasets.load_sample_stops(), by=None)
    >>> set(res.tidy()["group"]) >= {"Black", "White"}
    True
    """
    check_option("outcome", outcome, Outcome)
    by_cols = _as_list(by)
    ev = frame_of(events, "events")
    need_columns(ev, [group_col] + by_cols, "events")
    notes: list[str] = []
    keep = np.ones(len(ev), bool)
    if "search_conducted" in ev.columns:
        keep &= ev["search_conducted"].fillna(False).to_numpy(bool)
    if exclude_vehicle_only and "vehicle_only" in ev.columns:
        keep &= ~ev["vehicle_only"].fillna(False).to_numpy(bool)
    if discretionary_only:
        keep &= _discretionary_mask(ev, notes)
    ev = ev.loc[keep]
    if outcome == "hit":
        need_columns(ev, ["hit"], "events")
        y = ev["hit"].astype("boolean")
        unknown = y.isna().to_numpy()
        if unknown.any():
            notes.append(
                f"{int(unknown.sum()):,} searches ({unknown.mean():.1%}) do not say whether the outcome was linked "
                "to the object of search: left out of the hit rate"
            )
    else:
        need_columns(ev, ["outcome"], "events")
        o = ev["outcome"].astype("string").fillna("").str.strip().str.lower()
        y = pd.Series(~o.isin(NEGATIVE_OUTCOMES).to_numpy(), index=ev.index, dtype="boolean")
        unknown = (o == "").to_numpy()
        y[unknown] = pd.NA
        if unknown.any():
            notes.append(f"{int(unknown.sum()):,} searches with no recorded outcome left out")
    ev = ev.assign(_y=y.fillna(False).to_numpy(bool), _known=~unknown, _g=ev[group_col].astype(str).to_numpy())
    ev = ev[ev["_known"] & (ev["_g"] != NOT_STATED)]
    keys = by_cols + ["_g"]
    agg = ev.groupby(keys, observed=True, sort=True).agg(searches=("_y", "size"), hits=("_y", "sum")).reset_index()
    agg = agg.rename(columns={"_g": "group"})
    lo, hi = wilson_ci(agg["hits"].to_numpy(float), agg["searches"].to_numpy(float), alpha=alpha)
    agg["hit_rate"] = agg["hits"] / agg["searches"]
    agg["ci_low"], agg["ci_high"] = np.asarray(lo, float), np.asarray(hi, float)
    refrates = agg[agg["group"] == reference].set_index(by_cols)["hit_rate"] if by_cols else agg.loc[agg["group"] == reference, "hit_rate"]
    if by_cols:
        agg["difference_from_reference"] = agg["hit_rate"] - agg.set_index(by_cols).index.map(refrates).to_numpy(float)
    else:
        agg["difference_from_reference"] = agg["hit_rate"] - (float(refrates.iloc[0]) if len(refrates) else np.nan)
    agg["flags"] = np.where(agg["searches"] < unreliable_below, "small_count", "")
    pooled = _pooled_logit(ev, reference=reference, area=pooled_over, alpha=alpha, notes=notes)
    return OutcomeTestResult(agg, pooled, by_cols, reference, outcome, alpha, notes)


def _pooled_logit(ev: pd.DataFrame, *, reference: str, area: str | None, alpha: float, notes: list[str]) -> pd.DataFrame:
    """Binomial GLM (logit) on counts: hits/misses ~ group (+ area), odds ratios vs reference."""
    import statsmodels.api as sm
    from scipy import stats

    cols = ["group", "odds_ratio", "ci_low", "ci_high", "p_value"]
    keys = ["_g"] + ([area] if area and area in ev.columns else [])
    if area and area not in ev.columns:
        notes.append(f"no {area!r} column: pooled model without area effects")
    cnt = ev.groupby(keys, observed=True, sort=True)["_y"].agg(["sum", "size"]).reset_index()
    cnt = cnt[cnt["size"] > 0]
    groups = sorted(set(cnt["_g"]))
    if reference not in groups or len(groups) < 2:
        return pd.DataFrame(columns=cols)
    others = [g for g in groups if g != reference]
    X = np.column_stack([np.ones(len(cnt))] + [(cnt["_g"] == g).to_numpy(float) for g in others])
    if len(keys) > 1:
        levels = sorted(set(cnt[keys[1]].astype(str)))
        X = np.column_stack([X] + [(cnt[keys[1]].astype(str) == lv).to_numpy(float) for lv in levels[1:]])
    endog = np.column_stack([cnt["sum"].to_numpy(float), (cnt["size"] - cnt["sum"]).to_numpy(float)])
    try:
        fit = sm.GLM(endog, X, family=sm.families.Binomial()).fit()
    except Exception as exc:  # perfect separation etc.
        raise EstimationError(f"the pooled logistic model could not be fitted ({exc}); try pooled_over=None") from None
    z = stats.norm.isf(alpha / 2)
    b = fit.params[1 : 1 + len(others)]
    se = fit.bse[1 : 1 + len(others)]
    out = pd.DataFrame(
        {
            "group": others,
            "odds_ratio": np.exp(b),
            "ci_low": np.exp(b - z * se),
            "ci_high": np.exp(b + z * se),
            "p_value": fit.pvalues[1 : 1 + len(others)],
        }
    )
    notes.append(
        f"pooled model: binomial GLM (logit) of finds on group{' + ' + area if len(keys) > 1 else ''}, "
        f"{int(cnt['size'].sum()):,} searches; odds ratios vs {reference}"
    )
    return out


# ----------------------------------------------------------------------------- stages
_STAGE_ALIASES = {"find": "hit", "stop": "stop", "search": "search", "hit": "hit", "arrest": "arrest", "charge": "charge"}


def _stage_mask(ev: pd.DataFrame, stage: str) -> np.ndarray:
    s = _STAGE_ALIASES.get(stage, stage)
    if s == "stop":
        return np.ones(len(ev), bool)
    if s == "search":
        if "search_conducted" in ev.columns:
            return ev["search_conducted"].fillna(False).to_numpy(bool)
        return np.ones(len(ev), bool)
    if s in ev.columns:
        return ev[s].astype("boolean").fillna(False).to_numpy(bool)
    raise DataValidationError(f"stage {stage!r} needs a boolean column {s!r} in the events table")


@dataclass
class StageRRIResult:
    """Relative rate index at each decision stage."""

    table: pd.DataFrame
    stages: list[str]
    reference: str
    alpha: float
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """Columns: by..., stage, previous_stage, group, count, denominator, rate, reference_rate, rri, ci_low, ci_high, p_value, flags."""
        return self.table.copy()

    def summary(self) -> str:
        t = self.table.copy()
        for c in ("rate", "rri", "ci_low", "ci_high", "p_value"):
            t[c] = t[c].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
        head = [f"Relative rate index by stage ({' -> '.join(self.stages)}), reference {self.reference}"]
        head += [f"  note: {n}" for n in self.notes]
        return "\n".join(head) + "\n" + t.drop(columns=["reference_rate"]).to_string(index=False)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<p><b>Relative rate index</b> vs {escape_html(self.reference)}</p>" + self.table.to_html(index=False, escape=True)

    def plot(self, *, ax=None):
        from ..plots import forest_plot

        t = self.table[self.table["group"] != self.reference]
        labels = t[["stage", "group"]].astype(str).agg(" | ".join, axis=1).tolist()
        return forest_plot(labels, t["rri"], t["ci_low"], t["ci_high"], ax=ax, reference_line=1.0, xlabel=f"RRI vs {self.reference}", log=True)


def stage_rri(
    events: pd.DataFrame | ReadResult,
    *,
    stages: Sequence[str] = ("search", "arrest"),
    population: pd.DataFrame | ReadResult | None = None,
    by: str | Sequence[str] | None = None,
    group_col: str = "ethnicity",
    reference: str = "White",
    area: str = "force",
    alpha: float = 0.05,
    unreliable_below: int = UNRELIABLE_BELOW,
) -> StageRRIResult:
    """Multi-stage relative rate index: each stage's rate relative to the previous stage, by group.

    Parameters
    ----------
    stages
        Ordered decision stages, each a subset of the previous: ``"stop"``,
        ``"search"``, ``"hit"`` (or ``"find"``), ``"arrest"``, ``"charge"``, or
        the name of any boolean column. With ``population`` given, the first
        stage is also compared with the population (a rate per 1,000).
    population
        Benchmark for the first stage (optional).

    Returns
    -------
    StageRRIResult
        ``rri`` is the group's stage rate over the reference group's, with a Katz
        interval (Poisson for the population stage, binomial for later stages).

    Examples
    --------
    >>> import equity_metrics as em
    >>> r = em.stage_rri(em.datasets.load_sample_stops(), stages=["search", "arrest"])
    >>> list(r.tidy()["stage"].unique())  # the first stage is the base: arrests per search
    ['arrest']
    """
    stages = list(stages)
    if len(stages) < 1 or (len(stages) < 2 and population is None):
        raise DataValidationError("stage_rri needs at least two stages (or one stage and a population)")
    by_cols = _as_list(by)
    ev = frame_of(events, "events")
    need_columns(ev, [group_col] + by_cols, "events")
    g = ev[group_col].astype(str).to_numpy()
    stated = g != NOT_STATED
    notes = []
    if (~stated).any():
        notes.append(f"{int((~stated).sum()):,} events with ethnicity not stated left out")
    for st in stages:
        col = _STAGE_ALIASES.get(st, st)
        if col in ev.columns and col not in ("stop", "search") and ev[col].isna().any():
            notes.append(f"'{st}' is unknown for {int(ev[col].isna().sum()):,} events: counted as not reaching the stage")
    masks = {}
    prev = np.ones(len(ev), bool)
    for st in stages:
        m = _stage_mask(ev, st) & prev
        if (_stage_mask(ev, st) & ~prev).any():
            notes.append(f"{int((_stage_mask(ev, st) & ~prev).sum()):,} '{st}' events not in the previous stage ignored")
        masks[st] = m
        prev = m
    frame = pd.DataFrame({k: ev[k].astype(str).to_numpy() for k in by_cols})
    frame["group"] = g
    for st, m in masks.items():
        frame[st] = m
    frame = frame[stated]
    agg = frame.groupby(by_cols + ["group"], sort=True)[stages].sum().reset_index()
    rows = []
    if population is not None:
        pop, _ = population_by_area_group(population)
        if by_cols and by_cols != [area]:
            raise DataValidationError("with a population, by must be None or the area column")
        key_area = agg[area] if by_cols else pd.Series("all", index=agg.index)
        pp = pop if by_cols else pop.groupby("group", as_index=False)["population"].sum().assign(area="all")
        pidx = pp.set_index(["area", "group"])["population"]
        denom = np.array([pidx.get((a, gg), np.nan) for a, gg in zip(key_area, agg["group"])], float)
        rows.append(_stage_rows(agg, by_cols, stages[0], "population", agg[stages[0]].to_numpy(float), denom, reference, alpha, poisson=True))
    for prev_st, st in zip(stages[:-1], stages[1:]):
        rows.append(_stage_rows(agg, by_cols, st, prev_st, agg[st].to_numpy(float), agg[prev_st].to_numpy(float), reference, alpha, poisson=False))
    out = pd.concat(rows, ignore_index=True)
    out["flags"] = np.where(out["count"] < unreliable_below, "small_count", "")
    return StageRRIResult(out, stages, reference, alpha, notes)


def _stage_rows(agg, by_cols, stage, prev, num, den, reference, alpha, *, poisson: bool) -> pd.DataFrame:
    t = agg[by_cols + ["group"]].copy()
    t["stage"], t["previous_stage"] = stage, prev
    t["count"], t["denominator"] = num.astype(np.int64), den
    with np.errstate(divide="ignore", invalid="ignore"):
        t["rate"] = num / den * (1000 if poisson else 1)
    key = t[by_cols].astype(str).agg("|".join, axis=1) if by_cols else pd.Series("", index=t.index)
    ref = t["group"] == reference
    ref_num = dict(zip(key[ref], num[ref.to_numpy()]))
    ref_den = dict(zip(key[ref], den[ref.to_numpy()]))
    rn = key.map(ref_num).to_numpy(float)
    rd = key.map(ref_den).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["reference_rate"] = rn / rd * (1000 if poisson else 1)
    rri, lo, hi, p = (np.full(len(t), np.nan) for _ in range(4))
    ok = np.isfinite(rn) & (rd > 0) & (den > 0)
    if ok.any():
        fn = rate_ratio_ci if poisson else risk_ratio
        r = fn(num[ok], den[ok], rn[ok], rd[ok], alpha=alpha)
        rri[ok], lo[ok], hi[ok], p[ok] = (np.asarray(v, float) for v in (r.ratio, r.ci_low, r.ci_high, r.p_value))
    refm = ref.to_numpy()
    rri[refm & ok], lo[refm], hi[refm], p[refm] = 1.0, np.nan, np.nan, np.nan
    t["rri"], t["ci_low"], t["ci_high"], t["p_value"] = rri, lo, hi, p
    cols = by_cols + ["stage", "previous_stage", "group", "count", "denominator", "rate", "reference_rate", "rri", "ci_low", "ci_high", "p_value"]
    return t[cols]


