"""Age x sex directly standardised rates and ratios.

Groups with younger populations are searched more simply because young men are
searched more; a crude ratio then mixes disproportionality with age structure.
Direct standardisation applies each group's age x sex specific rates to one
standard population, so the ratio compares like with like.

Intervals: the directly standardised rate (DSR) uses the Fay & Feuer (1997)
gamma interval (as ONS and PHE do); the ratio of two DSRs uses the log-normal
delta-method interval, ``Var(log DSR) = sum(w_i^2 d_i / n_i^2) / DSR^2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._results import ResultBase
from .._security import escape_html
from ..errors import DataValidationError
from ..ethnicity import NOT_STATED
from ..ledger import ReadResult
from ._common import UNRELIABLE_BELOW, Coverage, frame_of, need_columns, period_coverage

__all__ = ["standardised_disparity", "StandardisedResult", "fay_feuer_ci"]


def fay_feuer_ci(d: np.ndarray, n: np.ndarray, w: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float, float]:
    """Directly standardised rate and its Fay-Feuer gamma interval.

    ``d`` events, ``n`` population and ``w`` standard weights (summing to 1) per stratum.
    Returns ``(dsr, low, high)`` as rates per person.

    Examples
    --------
    >>> import numpy as np
    >>> dsr, lo, hi = fay_feuer_ci(np.array([10, 20]), np.array([1000, 1000]), np.array([0.5, 0.5]))
    >>> round(dsr, 4), lo < dsr < hi
    (0.015, True)
    """
    d, n, w = (np.asarray(x, float) for x in (d, n, w))
    ok = n > 0
    d, n, w = d[ok], n[ok], w[ok]
    wi = w / n
    dsr = float(np.sum(wi * d))
    var = float(np.sum(wi**2 * d))
    wm = float(wi.max()) if len(wi) else 0.0
    if dsr == 0:
        lo = 0.0
    else:
        lo = float(stats.gamma.ppf(alpha / 2, dsr**2 / var, scale=var / dsr)) if var > 0 else 0.0
    hi = float(stats.gamma.ppf(1 - alpha / 2, (dsr + wm) ** 2 / (var + wm**2), scale=(var + wm**2) / (dsr + wm)))
    return dsr, lo, hi


@dataclass
class StandardisedResult(ResultBase):
    """Crude and age x sex standardised rates per 1,000 and ratios to a reference group."""

    table: pd.DataFrame
    by: list[str]
    strata: list[str]
    reference: str
    standard: str
    alpha: float
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """Columns: by..., group, events, population, crude_rate_per_1000, std_rate_per_1000, std_ci_low,
        std_ci_high, crude_ratio, std_ratio, ci_low, ci_high, events_unknown_strata, flags, months_in_period,
        months_covered, partial_period.

        The period is the whole span of months read; ``partial_period`` is True for an area whose
        data cover only ``months_covered`` of those ``months_in_period`` months (flag
        ``incomplete_coverage``): its rates are too low and must not be compared as if complete."""
        return self.table.copy()


    def summary(self) -> str:
        t = self.table.copy()
        cols = self.by + ["group", "events", "crude_rate_per_1000", "std_rate_per_1000", "crude_ratio", "std_ratio", "ci_low", "ci_high", "flags"]
        head = [
            f"Age x sex standardised rates per 1,000 (strata: {' x '.join(self.strata)}; standard: {self.standard}); ratio to {self.reference}"
        ] + [f"  note: {n}" for n in self.notes]
        return "\n".join(head) + "\n" + t[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}")

    def _repr_html_(self) -> str:
        return f"<p><b>Standardised ratios</b> ({escape_html(self.standard)})</p>" + self.table.to_html(index=False, escape=True)

    def plot(self, *, ax=None):
        from ..plots import forest_plot
        from ..plots._ticks import row_label

        t = self.table[self.table["group"] != self.reference]
        labels = [row_label(r) for r in t[self.by + ["group"]].itertuples(index=False)]
        return forest_plot(labels, t["std_ratio"], t["ci_low"], t["ci_high"], ax=ax, xlabel=f"Standardised ratio vs {self.reference}", log=True)


def _coverage(out: pd.DataFrame, cov: Coverage | None, by_cols: list[str]) -> pd.DataFrame:
    """Months covered of the span read, per area (``all areas``: months every area covers)."""
    if cov is None:  # no month column: nothing to say about coverage
        out["months_in_period"] = out["months_covered"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["partial_period"] = False
        return out
    if not by_cols:
        cov = cov.pooled([a for a in cov.covered if a != "all areas"]) if cov.from_ledger or "all areas" not in cov.covered else cov
    n_in, n_cov = period_coverage(out["area"].to_numpy(), np.full(len(out), "all"), "none", cov)
    out["months_in_period"], out["months_covered"] = n_in, n_cov
    out["partial_period"] = n_cov < n_in
    part = out["partial_period"].to_numpy(bool)
    out.loc[part, "flags"] = [f"{f};incomplete_coverage" if f else "incomplete_coverage" for f in out.loc[part, "flags"]]
    return out


def standardised_disparity(
    events: pd.DataFrame | ReadResult,
    population: pd.DataFrame | ReadResult,
    *,
    by: str | Sequence[str] | None = "force",
    area: str = "force",
    strata: Sequence[str] = ("sex", "age_band"),
    standard: str | pd.DataFrame = "total",
    reference: str = "White",
    group_col: str = "ethnicity",
    exclude_vehicle_only: bool = True,
    alpha: float = 0.05,
    unreliable_below: int = UNRELIABLE_BELOW,
) -> StandardisedResult:
    """Directly standardised rates per 1,000 and standardised ratios by group.

    Parameters
    ----------
    events, population
        Canonical events and a population table broken down by ``strata``
        (e.g. sex x age band) for each area and group.
    standard
        ``"total"``: the whole population of the area (all groups) is the
        standard; ``"reference"``: the reference group's own structure; or a
        DataFrame with the ``strata`` columns and ``population`` (e.g. England
        and Wales 2021 by age band).
    strata
        Columns present in both tables. Events with an unknown stratum value
        are counted in ``events_unknown_strata`` and left out of the
        standardised rate (the crude rate keeps them).

    Examples
    --------
    >>> import equity_metrics as em
    >>> s = em.standardised_disparity(em.datasets.load_sample_stops(), em.datasets.load_sample_population())
    >>> {"std_ratio", "crude_ratio"} <= set(s.tidy().columns)
    True
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    strata = list(strata)
    ev = frame_of(events, "events")
    pop = frame_of(population, "population")
    need_columns(ev, [group_col] + strata + by_cols, "events")
    need_columns(pop, ["area", "group", "population"] + strata, "population")
    if by_cols not in ([], [area]):
        raise DataValidationError("standardised_disparity supports by=None or by=<area column>")
    notes: list[str] = []
    cov = Coverage.of(events, ev, area if area in ev.columns else None) if "month" in ev.columns else None
    if exclude_vehicle_only and "vehicle_only" in ev.columns:
        ev = ev[~ev["vehicle_only"].fillna(False).to_numpy(bool)]
    ev = ev[ev[group_col].astype(str) != NOT_STATED]
    p = pop.copy()
    for s in strata:
        v = p[s].astype("string")
        p = p[~v.str.lower().isin(["all", "total"]).fillna(False).to_numpy()]
    if "group_detailed" in p.columns:
        det = p["group_detailed"].astype("string")
        p = p[(det.isna() | (det == p["group"].astype("string"))).to_numpy()]
    p = p.assign(area=p["area"].astype(str), group=p["group"].astype(str))
    for s in strata:
        p[s] = p[s].astype(str)
    akey = (lambda df: df[area].astype(str)) if by_cols else (lambda df: pd.Series("all areas", index=df.index))
    e = pd.DataFrame({"area": akey(ev).to_numpy(), "group": ev[group_col].astype(str).to_numpy()})
    unknown = np.zeros(len(ev), bool)
    for s in strata:
        vals = ev[s].astype("string")
        known = set(p[s])
        bad = vals.isna().to_numpy() | ~vals.isin(known).fillna(False).to_numpy()
        unknown |= bad
        e[s] = vals.fillna("").to_numpy()
    e["_unknown"] = unknown
    if not by_cols:
        present = set(ev[area].astype(str)) if area in ev.columns else set(p["area"])
        p = p[p["area"].isin(present)].assign(area="all areas")
    pc = p.groupby(["area", "group"] + strata, sort=True)["population"].sum()
    ec = e[~e["_unknown"]].groupby(["area", "group"] + strata, sort=True).size()
    crude_e = e.groupby(["area", "group"]).size()
    unk_e = e.groupby(["area", "group"])["_unknown"].sum()
    if unknown.any():
        notes.append(f"{int(unknown.sum()):,} events with unknown {'/'.join(strata)} left out of standardised rates")
    z = stats.norm.isf(alpha / 2)
    lost = ec.index.difference(pc.index)
    if len(lost):
        notes.append(f"{int(ec.loc[lost].sum()):,} events in strata with no population row were left out")
    dc = ec.reindex(pc.index, fill_value=0)
    nstr = list(range(len(strata)))
    rows = []
    for a in sorted(set(pc.index.get_level_values(0))):
        pa = pc.xs(a, level=0)
        da = dc.xs(a, level=0)
        if isinstance(standard, pd.DataFrame):
            need_columns(standard, strata + ["population"], "standard population")
            std = standard.assign(**{k: standard[k].astype(str) for k in strata}).groupby(strata)["population"].sum()
            std_name = "supplied standard population"
        elif standard == "reference" and reference in pa.index.get_level_values(0):
            std = pa.xs(reference, level=0)
            std_name = f"{reference} population structure"
        else:
            std = pa.groupby(level=[k + 1 for k in nstr]).sum()
            std_name = "total population of the area"
        w = std / std.sum()
        res = {}
        for g in sorted(set(pa.index.get_level_values(0))):
            n_s = pa.xs(g, level=0).reindex(w.index).to_numpy(float)
            d_s = da.xs(g, level=0).reindex(w.index).fillna(0).to_numpy(float)
            w_s = w.to_numpy(float)
            n_s = np.nan_to_num(n_s)
            dsr, lo, hi = fay_feuer_ci(d_s, n_s, w_s, alpha=alpha)
            with np.errstate(divide="ignore", invalid="ignore"):
                var = float(np.sum(np.where(n_s > 0, (w_s / n_s) ** 2 * d_s, 0.0)))
            res[g] = dict(events=int(crude_e.get((a, g), 0)), unknown=int(unk_e.get((a, g), 0)),
                          population=float(n_s.sum()), dsr=dsr, lo=lo, hi=hi, var=var)
        ref = res.get(reference)
        for g, r in res.items():
            crude = r["events"] / r["population"] * 1000 if r["population"] > 0 else np.nan
            row = {"area": a, "group": g, "events": r["events"], "population": r["population"],
                   "crude_rate_per_1000": crude, "std_rate_per_1000": r["dsr"] * 1000,
                   "std_ci_low": r["lo"] * 1000, "std_ci_high": r["hi"] * 1000}
            if ref and ref["dsr"] > 0 and r["dsr"] > 0:
                rr = r["dsr"] / ref["dsr"]
                se = np.sqrt(r["var"] / r["dsr"] ** 2 + ref["var"] / ref["dsr"] ** 2)
                cref = ref["events"] / ref["population"]
                row.update(crude_ratio=(r["events"] / r["population"]) / cref if cref > 0 else np.nan, std_ratio=rr,
                           ci_low=np.nan if g == reference else rr * np.exp(-z * se),
                           ci_high=np.nan if g == reference else rr * np.exp(z * se))
            else:
                row.update(crude_ratio=np.nan, std_ratio=np.nan, ci_low=np.nan, ci_high=np.nan)
            row["events_unknown_strata"] = r["unknown"]
            row["flags"] = "small_count" if r["events"] < unreliable_below else ""
            rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        raise DataValidationError("no area in the events matches the population table's areas")
    out = _coverage(out, cov, by_cols)
    if out["partial_period"].any():
        gaps = out.loc[out["partial_period"]].drop_duplicates("area")
        notes.append("data cover only part of the months read for: " + ", ".join(
            f"{a} ({c} of {n} months)" for a, c, n in zip(gaps["area"], gaps["months_covered"], gaps["months_in_period"])))
    if by_cols:
        out = out.rename(columns={"area": area})
    else:
        out = out.drop(columns="area")
    order = {g: i for i, g in enumerate(["Asian", "Black", "Mixed", "White", "Other"])}
    out = out.assign(_o=out["group"].map(lambda x: order.get(x, 99))).sort_values(by_cols + ["_o", "group"]).drop(columns="_o").reset_index(drop=True)
    return StandardisedResult(out, by_cols, strata, reference, std_name if rows else str(standard), alpha, notes)
