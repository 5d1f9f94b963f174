"""Generated trust-survey panels with a planted effect on the Black-White gap.

:func:`make_trust_panel` simulates published trust scores (0-100, as Chicago's sentiment
scores) for areas x months x groups, with a staggered programme rollout that changes
the Black group's trust by ``effect`` points from the month an area starts (so the gap
changes by ``effect``). It mimics what the real series show: area levels, city-wide
shocks shared by every area, serially correlated (model-smoothed) month-to-month noise,
and optional rolling 12-month windows (as London's dashboard). :meth:`TrustPanel.write_chicago_layout`
writes the panel in the Chicago data portal layout with its quirks (unsorted rows,
exact duplicates, a conflicting row, MM/DD/YYYY dates, ids saved as floats, blank
education scores) so the reader can be tested on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["make_trust_panel", "TrustPanel"]

_GROUP_LEVELS = {"Black": 52.0, "Hispanic": 60.0, "White": 66.0, "Asian": 61.0}


@dataclass
class TrustPanel:
    """A generated survey table, its rollout and the planted truth.

    Attributes
    ----------
    survey
        Canonical survey table (``equity_metrics.schema.SURVEY``): district x month x group.
    rollout
        ``area``, ``start`` (Timestamp; NaT = never in the programme).
    effect
        The planted change in the Black group's trust (points) from each area's start: the
        true effect on the Black-White gap.
    seed
        The seed.
    """

    survey: pd.DataFrame
    rollout: pd.DataFrame
    effect: float
    seed: int

    def write_chicago_layout(self, path: str | Path, *, quirks: bool = True) -> Path:
        """Write the panel as the Chicago sentiment-score CSV (trust columns only), with the real file's quirks."""
        s = self.survey[self.survey["measure"] == "trust"]
        wide = s.pivot_table(index=["area", "period_start", "period_end"], columns="group", values="value").reset_index()
        names = {"All": "TRUST", "Black": "T_RACE_AFRICAN_AMERICAN", "Hispanic": "T_RACE_HISPANIC",
                 "White": "T_RACE_WHITE", "Asian": "T_RACE_ASIAN_AMERICAN"}
        out = pd.DataFrame({
            "ORG_LEVEL": "Other", "CITY": "chicago", "AREA": "area_1",
            "DISTRICT": wide["area"].astype(str) + (".0" if quirks else ""), "SECTOR": "",
        })
        for g, c in names.items():
            out[c] = wide[g].round(2) if g in wide else np.nan
        out["T_EDUCATION_LOW"] = np.round(wide["All"] - 3, 2)
        out["START_DATE"] = wide["period_start"].dt.strftime("%m/%d/%Y")
        out["END_DATE"] = wide["period_end"].dt.strftime("%m/%d/%Y")
        rng = np.random.default_rng(self.seed + 1)
        if quirks:
            out.loc[rng.random(len(out)) < 0.09, "T_EDUCATION_LOW"] = np.nan
            dups = out.sample(n=max(1, len(out) // 100), random_state=self.seed)
            conflict = out.iloc[[0]].copy()
            conflict["TRUST"] = conflict["TRUST"] + 1.5
            out = pd.concat([out, dups, conflict], ignore_index=True)
            out = out.sample(frac=1.0, random_state=self.seed).reset_index(drop=True)
        p = Path(path)
        out.to_csv(p, index=False, float_format="%.2f")
        return p


def make_trust_panel(
    *,
    n_areas: int = 22,
    n_months: int = 64,
    start: str = "2017-11",
    effect: float = 0.0,
    rollout: dict[str, str] | None = None,
    n_treated: int = 0,
    noise_sd: float = 1.5,
    rho: float = 0.7,
    rolling: bool = False,
    seed: int = 0,
) -> TrustPanel:
    """A seeded district x month trust panel with a planted effect on the Black-White gap.

    Parameters
    ----------
    n_areas, n_months, start
        Areas (named ``"1"``.. as district numbers), months, first month.
    effect
        Points added to the Black group's trust from each treated area's start month.
    rollout
        ``{area: "YYYY-MM"}`` start months; default: ``n_treated`` areas starting at
        staggered months through the middle half of the panel.
    noise_sd, rho
        Month-to-month noise (points) and its AR(1) correlation (smoothed scores).
    rolling
        Publish rolling 12-month means instead (marked ``overlapping``).
    seed
        Random seed.

    Examples
    --------
    >>> p = make_trust_panel(n_areas=4, n_months=6, n_treated=2, effect=3.0, seed=1)
    >>> sorted(p.survey["group"].unique())
    ['All', 'Asian', 'Black', 'Hispanic', 'White']
    >>> int(p.rollout["start"].notna().sum())
    2
    """
    rng = np.random.default_rng(seed)
    months = pd.period_range(start, periods=n_months, freq="M")
    areas = [str(i + 1) for i in range(n_areas)]
    if rollout is None:
        rollout = {}
        if n_treated:
            chosen = rng.choice(areas, size=n_treated, replace=False)
            lo, hi = n_months // 4, 3 * n_months // 4
            for a, m in zip(sorted(chosen, key=int), np.sort(rng.integers(lo, hi, size=n_treated))):
                rollout[a] = str(months[m])
    start_idx = {a: months.get_loc(pd.Period(m, "M")) for a, m in rollout.items()}
    city = np.cumsum(rng.normal(0, 0.6, n_months))  # shared shocks
    rows = []
    for a in areas:
        area_fx = rng.normal(0, 5)
        for g, base in _GROUP_LEVELS.items():
            gfx = rng.normal(0, 2)
            e = np.empty(n_months)
            e[0] = rng.normal(0, noise_sd)
            for t in range(1, n_months):
                e[t] = rho * e[t - 1] + np.sqrt(1 - rho ** 2) * rng.normal(0, noise_sd)
            v = base + area_fx + gfx + city + e
            if g == "Black" and a in start_idx:
                v = v + effect * (np.arange(n_months) >= start_idx[a])
            if rolling:
                v = pd.Series(v).rolling(12, min_periods=12).mean().to_numpy()
            rows.append(pd.DataFrame({"area": a, "group": g, "t": np.arange(n_months), "value": v}))
    d = pd.concat(rows, ignore_index=True).dropna(subset=["value"])
    allv = d.groupby(["area", "t"], as_index=False)["value"].mean().assign(group="All")
    d = pd.concat([d, allv], ignore_index=True)
    per = months[d["t"].to_numpy()]
    d["period"] = per.astype(str)
    d["period_end"] = per.to_timestamp(how="end").normalize()
    d["period_start"] = (per - 11).to_timestamp() if rolling else per.to_timestamp()
    d["period_type"] = "rolling_12m_to_month" if rolling else "month"
    d["window_months"] = 12.0 if rolling else 1.0
    d["overlapping"] = rolling
    d["area_type"] = "district"
    d["measure"] = "trust"
    d["group_type"] = np.where(d["group"] == "All", "all", "race")
    d["value"] = d["value"].clip(0, 100)
    d["scale"] = "0-100 score (generated)"
    d["source"] = f"equity_metrics.datasets.make_trust_panel(seed={seed})"
    d["vintage"] = "generated"
    d["source_file"] = "generated"
    from ..schema import conform

    d = d.drop(columns="t").sort_values(["area", "period_start", "group"]).reset_index(drop=True)
    for c in ("area_type", "period_type", "group_type"):
        d[c] = d[c].astype("category")
    survey = conform(d, "survey")
    ro = pd.DataFrame({"area": areas, "start": [pd.Period(rollout[a], "M").to_timestamp() if a in rollout else pd.NaT
                                                for a in areas]})
    return TrustPanel(survey=survey, rollout=ro, effect=float(effect), seed=seed)
