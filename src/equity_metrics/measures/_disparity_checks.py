"""Private helpers of :func:`equity_metrics.measures.disparity.disparity`.

* :func:`ratio_interval`: the ratio interval of each row, by the chosen method, and the
  name of the method each row used (``ci_method``).
* :func:`match_areas`: event areas matched to population areas as the population reader
  keys them (case, punctuation, "London, City of"), and a clear error when none match.
* :func:`plausibility`: the ``implausible_benchmark``, ``mostly_not_stated`` and
  ``rankable`` columns (docs/real-data-rules.md, "Benchmark plausibility").
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..areas import normalise_area_name, normalise_force
from ..errors import DataValidationError, closest_matches
from scipy import stats

from ._common import IMPLAUSIBLE_RATE_PER_1000_YEAR, MOSTLY_NOT_STATED_ABOVE, need_columns
from .intervals import EXACT_BELOW, clopper_pearson_ci, rate_ratio_ci, risk_ratio

RatioMethod = Literal["auto", "katz", "exact", "mid_p", "riskratio_wald", "riskratio_small"]


def ratio_interval(e, n, ref_e, ref_n, *, method: str, alpha: float, exact_below: int = EXACT_BELOW):
    """``(ratio, ci_low, ci_high, p_value, ci_method)`` for a group against a separate reference group.

    Rate-ratio methods treat the counts as Poisson with fixed population denominators. The
    risk-ratio methods (``epitools::riskratio.wald`` / ``riskratio.small``) treat each count as
    people searched out of the residents (searched vs residents not searched); where a count
    exceeds its population the risk ratio is undefined (NaN, ``ci_method`` says why).
    """
    k = len(e)
    if method.startswith("riskratio_"):
        out = [np.full(k, np.nan) for _ in range(4)]
        ok = (e <= n) & (ref_e <= ref_n)
        meth = np.where(ok, method, "riskratio_undefined_events_exceed_population").astype(object)
        if ok.any():
            r = risk_ratio(e[ok], n[ok], ref_e[ok], ref_n[ok], method=method.split("_", 1)[1], alpha=alpha)
            for o, v in zip(out, (r.ratio, r.ci_low, r.ci_high, r.p_value)):
                o[ok] = np.asarray(v, float)
        return (*out, meth)
    r = rate_ratio_ci(e, n, ref_e, ref_n, method=method, alpha=alpha, exact_below=exact_below)
    meth = np.atleast_1d(np.asarray(r.methods, dtype=object))
    return (*(np.asarray(v, float) for v in (r.ratio, r.ci_low, r.ci_high, r.p_value)), meth)


def _key(name: str, area: str) -> str:
    return normalise_force(name) if area == "force" else normalise_area_name(name)


def match_areas(event_areas: pd.Series, pop: pd.DataFrame, *, area: str) -> tuple[pd.Series, list[str], dict[str, str]]:
    """Event area names mapped onto the population table's area keys.

    An event area equal to a population area is kept; otherwise it is matched through the
    normalisation the population reader applies (``normalise_force`` for ``force``,
    ``normalise_area_name`` otherwise: case, ``&``, punctuation, "London, City of"). Names
    that still match nothing are returned unchanged (they get no population). Returns the
    mapped names, notes about what was matched and the name mapping.
    """
    names = pd.unique(event_areas.astype(str))
    pop_areas = set(pop["area"].astype(str))
    by_key: dict[str, str] = {}
    for p in sorted(pop_areas):
        by_key.setdefault(_key(p, area), p)
    mapping, changed = {}, []
    for nm in names:
        if nm in pop_areas:
            mapping[nm] = nm
            continue
        hit = by_key.get(_key(nm, area))
        mapping[nm] = hit if hit is not None else nm
        if hit is not None:
            changed.append(f"{nm!r} -> {hit!r}")
    notes = []
    if changed:
        notes.append(f"{len(changed)} area name(s) matched to the population after normalising case and punctuation: "
                     f"{', '.join(changed[:8])}{' ...' if len(changed) > 8 else ''}")
    return event_areas.astype(str).map(mapping), notes, mapping


def describe_unmatched(event_areas: list[str], pop_areas: list[str], *, limit: int = 8) -> str:
    """``'a' (closest population areas: 'x', 'y'); ...`` for areas without a population."""
    shown = []
    for a in event_areas[:limit]:
        near = closest_matches(a, pop_areas)
        shown.append(f"{a!r} (closest population areas: {', '.join(repr(x) for x in near) if near else 'none'})")
    more = f" and {len(event_areas) - limit} more" if len(event_areas) > limit else ""
    return "; ".join(shown) + more


def unmatched_error(event_areas: list[str], pop_areas: list[str], *, area: str) -> DataValidationError:
    """The error when no event area has a population: say so, list them and the closest names."""
    return DataValidationError(
        f"none of the {len(event_areas)} area(s) in the events' {area!r} column matched an area of the population "
        f"table, so no rate can be computed: {describe_unmatched(event_areas, pop_areas)}. Population areas include "
        f"{sorted(pop_areas)[:12]}. Pass area= naming the events column that holds the population's areas, or "
        "rename the areas (names are matched after normalising case and punctuation)"
    )


def plausibility(out: pd.DataFrame, cell: list[str], *, reference: str, implausible_per_year: float,
                 not_stated_above: float) -> pd.DataFrame:
    """Add ``implausible_benchmark``, ``mostly_not_stated`` and ``rankable`` (and their flags)."""
    months = out["months_covered"].to_numpy(float)
    limit = implausible_per_year * np.maximum(months, 1) / 12.0
    rate = out["rate_per_1000"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref_rate = out["reference_events"].to_numpy(float) / out["reference_population"].to_numpy(float) * 1000
    own = np.isfinite(rate) & (rate > limit)
    if reference != "all":
        own |= np.isfinite(ref_rate) & (ref_rate > limit)
    # the benchmark is broken for the whole area-period when any group's rate is implausible
    key = out[cell].astype(str).agg("\x00".join, axis=1) if cell else pd.Series("", index=out.index)
    cell_bad = pd.Series(own, index=out.index).groupby(key.to_numpy()).transform("any").to_numpy(bool)
    ns = out["not_stated_share"].to_numpy(float)
    mostly = np.isfinite(ns) & (ns > not_stated_above)
    out["implausible_benchmark"] = cell_bad
    out["mostly_not_stated"] = mostly
    has_ratio = np.isfinite(out["ratio"].to_numpy(float)) & np.isfinite(out["population"].to_numpy(float))
    out["rankable"] = has_ratio & ~cell_bad & ~mostly & ~out["partial_period"].to_numpy(bool)
    add = np.where(cell_bad, "implausible_benchmark", "")
    add2 = np.where(mostly, "mostly_not_stated", "")
    out["flags"] = [";".join(x for x in (f, a, b) if x) for f, a, b in zip(out["flags"], add, add2)]
    return out


def rank_areas(table: pd.DataFrame, *, group: str, value: str = "ratio", ascending: bool = False) -> pd.DataFrame:
    """Rows of one group ranked by ``value`` within each period, rankable rows only.

    Rows with ``rankable`` False (broken benchmark, ethnicity mostly not stated, partial
    period, no ratio) are left out, so that a league table never puts them among the rest;
    list them separately from ``table[~table["rankable"]]``. Adds ``rank`` (1 = highest).

    Examples
    --------
    >>> import equity_metrics as em
    >>> d = em.disparity(em.datasets.load_sample_stops(), em.datasets.load_sample_population())
    >>> from equity_metrics.measures.disparity import rank_areas
    >>> r = rank_areas(d.tidy(), group="Black")
    >>> r[["force", "rank"]].values.tolist()  # the other two areas have months missing: not ranked
    [['northshire', 1]]
    """
    need_columns(table, ["group", "period", value, "rankable"], "disparity")
    t = table[(table["group"] == group) & table["rankable"].astype(bool)].copy()
    t = t.sort_values(["period", value], ascending=[True, ascending], kind="stable")
    t["rank"] = t.groupby("period").cumcount() + 1
    return t.reset_index(drop=True)


def _ratio_vs_all(e, n, E, N, ok, method, alpha, exact_below=EXACT_BELOW):
    """Ratio of a group's rate to everyone's (the group is part of everyone).

    Katz: Var(log RR) = 1/e - 1/E (delta method, the group nested in the total).
    Exact / mid-p: e | E ~ Binomial(E, p), RR = p N / n. Auto: exact where the group's count
    or everyone else's is below ``exact_below``, Katz elsewhere.
    """
    if method == "auto":
        small = np.minimum(e, E - e) < exact_below
        kz = _ratio_vs_all(e, n, E, N, ok & ~small, "katz", alpha)
        ex = _ratio_vs_all(e, n, E, N, ok & small, "exact", alpha)
        pick = [np.where(small, x, k) for x, k in zip(ex[:4], kz[:4])]
        cim = np.where(ok, np.where(small, "exact", "katz"), "").astype(object)
        return (*pick, cim)
    ratio, lo, hi, pv = (np.full(len(e), np.nan) for _ in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio[ok] = (e[ok] / n[ok]) / (E[ok] / N[ok])
    z = stats.norm.isf(alpha / 2)
    if method == "katz":
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(np.maximum(1 / e - 1 / E, 0))
            good = ok & (e > 0) & (E > e)
            lo[good] = ratio[good] * np.exp(-z * se[good])
            hi[good] = ratio[good] * np.exp(z * se[good])
            zz = np.log(ratio[good]) / se[good]
            pv[good] = 2 * stats.norm.sf(np.abs(zz))
    else:
        sel = ok & (E > 0)
        plo, phi = clopper_pearson_ci(e[sel], E[sel], alpha=alpha)
        scale = N[sel] / n[sel]
        lo[sel], hi[sel] = np.asarray(plo) * scale, np.asarray(phi) * scale
        p0 = n[sel] / N[sel]
        pv[sel] = np.minimum(1, 2 * np.minimum(stats.binom.cdf(e[sel], E[sel], p0), stats.binom.sf(e[sel] - 1, E[sel], p0)))
    return ratio, lo, hi, pv, np.where(ok, method, "").astype(object)


__all__ = ["RatioMethod", "describe_unmatched", "rank_areas", "ratio_interval", "match_areas", "unmatched_error", "plausibility",
           "IMPLAUSIBLE_RATE_PER_1000_YEAR", "MOSTLY_NOT_STATED_ABOVE"]
