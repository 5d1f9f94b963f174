"""The multi-stage relative rate index (search -> find -> arrest), by group against a reference group.

Each stage's rate is relative to the previous stage (finds per search, arrests per
find); with a population, the first stage is also a rate per 1,000 residents of the
areas that have events. Vehicle-only searches (no person searched) are left out, as
in every rate of people searched. The ``hit``/``find`` stage is the canonical find
(:mod:`equity_metrics.outcome_codes`) and is shown only where the linked field is
recorded (:func:`~equity_metrics.measures.find_coverage`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from .._results import ResultBase
from .._security import escape_html
from ..errors import DataValidationError
from ..ethnicity import NOT_STATED
from ..ledger import ReadResult
from ..outcome_codes import LINKED_COVERAGE_MIN
from ._common import UNRELIABLE_BELOW, as_list, frame_of, need_columns, population_by_area_group
from .intervals import rate_ratio_ci, risk_ratio

__all__ = ["stage_rri", "StageRRIResult"]

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
class StageRRIResult(ResultBase):
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

    def _repr_html_(self) -> str:
        return f"<p><b>Relative rate index</b> vs {escape_html(self.reference)}</p>" + self.table.to_html(index=False, escape=True)

    def plot(self, *, ax=None):
        from ..plots import forest_plot

        t = self.table[(self.table["group"] != self.reference) & self.table["rri"].notna()]
        labels = t[["stage", "group"]].astype(str).agg(", ".join, axis=1).tolist()
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
    exclude_vehicle_only: bool = True,
    coverage_threshold: float = LINKED_COVERAGE_MIN,
    alpha: float = 0.05,
    unreliable_below: int = UNRELIABLE_BELOW,
) -> StageRRIResult:
    """Multi-stage relative rate index: each stage's rate relative to the previous stage, by group.

    Parameters
    ----------
    stages
        Ordered decision stages, each a subset of the previous: ``"stop"``,
        ``"search"``, ``"hit"`` (or ``"find"``: the canonical find), ``"arrest"``,
        ``"charge"``, or the name of any boolean column. With ``population`` given,
        the first stage is also compared with the population (a rate per 1,000).
    population
        Benchmark for the first stage (optional). Without ``by``, the population is
        summed over the areas (``area`` column) that have events, not over every area
        of the population table.
    exclude_vehicle_only
        Leave out vehicle-only searches (no person was searched).
    coverage_threshold
        The find stage is shown only where at least this share of the searches with an
        outcome other than no further action say whether it was linked (else flag
        ``find_not_recorded`` and no rate).

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
    from .outcomes import find_coverage

    stages = list(stages)
    if len(stages) < 1 or (len(stages) < 2 and population is None):
        raise DataValidationError("stage_rri needs at least two stages (or one stage and a population)")
    by_cols = as_list(by)
    ev = frame_of(events, "events")
    need_columns(ev, [group_col] + by_cols, "events")
    notes = []
    if exclude_vehicle_only and "vehicle_only" in ev.columns:
        vo = ev["vehicle_only"].fillna(False).to_numpy(bool)
        if vo.any():
            notes.append(f"{int(vo.sum()):,} vehicle-only searches (no person searched) left out")
            ev = ev.loc[~vo]
    g = ev[group_col].astype(str).to_numpy()
    stated = g != NOT_STATED
    if (~stated).any():
        notes.append(f"{int((~stated).sum()):,} events with ethnicity not stated left out")
    for st in stages:
        col = _STAGE_ALIASES.get(st, st)
        if col in ev.columns and col not in ("stop", "search") and ev[col].isna().any():
            notes.append(f"'{st}' is unknown for {int(ev[col].isna().sum()):,} events: counted as not reaching the stage")
    masks = {}
    prev = np.ones(len(ev), bool)
    for st in stages:
        sm = _stage_mask(ev, st)
        m = sm & prev
        if (sm & ~prev).any():
            notes.append(f"{int((sm & ~prev).sum()):,} '{st}' events not in the previous stage ignored")
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
        if by_cols:
            pp = pop
        else:
            if area in ev.columns:
                have = set(ev.loc[stated, area].dropna().astype(str))
                pp = pop[pop["area"].astype(str).isin(have)]
                miss = sorted(have - set(pop["area"].astype(str)))
                if miss:
                    notes.append(f"areas with events but no population left out of the population stage's "
                                 f"denominator: {miss[:10]}")
                notes.append(f"population stage: residents of the {pp['area'].nunique()} area(s) with events")
            else:
                pp = pop
                notes.append(f"no {area!r} column: the population stage uses every area of the population table")
            pp = pp.groupby("group", as_index=False)["population"].sum().assign(area="all")
        pidx = pp.set_index(["area", "group"])["population"]
        denom = np.array([pidx.get((a, gg), np.nan) for a, gg in zip(key_area, agg["group"])], float)
        rows.append(_stage_rows(agg, by_cols, stages[0], "population", agg[stages[0]].to_numpy(float), denom, reference, alpha, poisson=True))
    for prev_st, st in zip(stages[:-1], stages[1:]):
        rows.append(_stage_rows(agg, by_cols, st, prev_st, agg[st].to_numpy(float), agg[prev_st].to_numpy(float), reference, alpha, poisson=False))
    out = pd.concat(rows, ignore_index=True)
    out["flags"] = np.where(out["count"] < unreliable_below, "small_count", "")
    find_stages = [st for st in stages if _STAGE_ALIASES.get(st, st) == "hit"]
    if find_stages and "hit" in ev.columns:
        cov_by = by_cols if by_cols else None
        cov = find_coverage(ev.loc[stated], by=cov_by, threshold=coverage_threshold)
        if by_cols:
            ok = out[by_cols].astype(str).merge(cov.assign(**{c: cov[c].astype(str) for c in by_cols}),
                                               on=by_cols, how="left")["find_recorded"].fillna(True).to_numpy(bool)
        else:
            ok = np.full(len(out), bool(cov["find_recorded"].iloc[0]) if len(cov) else True)
        # a stage whose numerator or denominator is the find is not shown where finds are not recorded
        touch = out["stage"].isin(find_stages) | out["previous_stage"].isin(find_stages)
        bad = touch.to_numpy() & ~ok
        if bad.any():
            for c in ("rate", "reference_rate", "rri", "ci_low", "ci_high", "p_value"):
                out.loc[bad, c] = np.nan
            out.loc[bad, "flags"] = "find_not_recorded"
            notes.append(f"find stage not shown where under {coverage_threshold:.0%} of searches with an outcome other "
                         "than no further action say whether it was linked to the object of search")
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
    ok = np.isfinite(rn) & (rd > 0) & (den > 0) & np.isfinite(den)
    if ok.any():
        fn = rate_ratio_ci if poisson else risk_ratio
        r = fn(num[ok], den[ok], rn[ok], rd[ok], alpha=alpha)
        rri[ok], lo[ok], hi[ok], p[ok] = (np.asarray(v, float) for v in (r.ratio, r.ci_low, r.ci_high, r.p_value))
    refm = ref.to_numpy()
    rri[refm & ok], lo[refm], hi[refm], p[refm] = 1.0, np.nan, np.nan, np.nan
    t["rri"], t["ci_low"], t["ci_high"], t["p_value"] = rri, lo, hi, p
    cols = by_cols + ["stage", "previous_stage", "group", "count", "denominator", "rate", "reference_rate", "rri", "ci_low", "ci_high", "p_value"]
    return t[cols]
