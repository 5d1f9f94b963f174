"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with placebo-in-space inference.

:func:`synthetic_control` builds, for one treated unit (a force), a weighted
average of donor units whose outcome path matches the treated unit's before the
intervention. The weights are convex (non-negative, summing to one) and minimise
the pre-intervention root mean squared prediction error (RMSPE) of the outcome,
using every pre-intervention period as a predictor (no covariates, so no
predictor-weight matrix ``V`` is needed). The post-intervention gap between the
treated unit and its synthetic control estimates the effect.

The weights solve a quadratic programme on the simplex. It is solved exactly
and deterministically: non-negative least squares (Lawson-Hanson active set)
with the sum-to-one constraint as a heavily weighted extra row, then the
equality-constrained least squares on the selected support, polished with SLSQP
when needed. With more donors than pre-intervention periods the weights need
not be unique (the fit is); :attr:`SynthResult.notes` says so.

Inference is by placebos in space: each donor in turn is treated as if it had
been treated (with the other donors as its pool), and the ratio of post- to
pre-intervention RMSPE of the treated unit is ranked among all units'. The
permutation p-value is ``rank / (n_donors + 1)`` (rank 1 = largest ratio), the
smallest attainable being ``1 / (n_donors + 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from .._results import ResultBase
from .._security import escape_html
from ..errors import DataValidationError
from .its import _parse_intervention, _periods

__all__ = ["synthetic_control", "SynthResult", "simplex_least_squares"]


def simplex_least_squares(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Weights ``w >= 0``, ``sum(w) == 1`` minimising ``||A w - b||``.

    Deterministic: NNLS with the constraint as an extra row, an exact equality-constrained
    refit on the support, and an SLSQP polish when the refit leaves the simplex.

    Examples
    --------
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> simplex_least_squares(A, A @ np.array([0.25, 0.75])).round(6).tolist()
    [0.25, 0.75]
    """
    A = np.asarray(A, float)
    b = np.asarray(b, float)
    m, j = A.shape
    if j == 1:
        return np.ones(1)
    big = 1e3 * max(float(np.linalg.norm(A)), 1.0)
    w0, _ = optimize.nnls(np.vstack([A, np.full((1, j), big)]), np.r_[b, big], maxiter=50 * j)
    w0 = np.maximum(w0, 0)
    w0 = w0 / w0.sum() if w0.sum() > 0 else np.full(j, 1 / j)
    w = _refit_support(A, b, w0 > 1e-10)
    if w is None or not _kkt_ok(A, b, w):
        start = w if w is not None else w0
        res = optimize.minimize(
            lambda v: 0.5 * float(np.sum((A @ v - b) ** 2)), start, jac=lambda v: A.T @ (A @ v - b),
            method="SLSQP", bounds=[(0.0, 1.0)] * j,
            constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1.0, "jac": lambda v: np.ones_like(v)}],
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        cand = np.maximum(res.x, 0)
        cand = cand / cand.sum()
        w = cand if w is None or np.sum((A @ cand - b) ** 2) < np.sum((A @ w - b) ** 2) else w
    return w


def _refit_support(A: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray | None:
    """Least squares on the columns in ``s`` subject to sum one; None if a weight turns negative."""
    idx = np.flatnonzero(s)
    As = A[:, idx]
    k = len(idx)
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k] = As.T @ As
    kkt[:k, k] = kkt[k, :k] = 1.0
    try:
        sol = np.linalg.lstsq(kkt, np.r_[As.T @ b, 1.0], rcond=None)[0]
    except np.linalg.LinAlgError:  # pragma: no cover
        return None
    if np.any(sol[:k] < -1e-12):
        return None
    w = np.zeros(A.shape[1])
    w[idx] = np.maximum(sol[:k], 0)
    return w / w.sum()


def _kkt_ok(A: np.ndarray, b: np.ndarray, w: np.ndarray) -> bool:
    """First-order optimality on the simplex: gradient equal on the support, not smaller off it."""
    g = A.T @ (A @ w - b)
    on = w > 1e-10
    lam = float(np.mean(g[on]))
    scale = max(float(np.abs(g).max()), float(np.linalg.norm(A.T @ b)), 1e-300)
    tol = 1e-8 * scale
    return bool(np.all(np.abs(g[on] - lam) <= tol) and np.all(g[~on] >= lam - tol))


def _rmspe(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2))) if len(x) else float("nan")


@dataclass
class SynthResult(ResultBase):
    """Synthetic control fit: paths, weights, gaps and placebo inference.

    Use :meth:`tidy` for the treated and synthetic paths, :meth:`weights` for the donor
    weights, :meth:`placebos` for the placebo gaps, :meth:`summary` and :meth:`plot`.
    """

    paths: pd.DataFrame
    donor_weights: pd.DataFrame
    treated: str
    intervention: pd.Period
    outcome: str
    pre_rmspe: float
    post_rmspe: float
    rmspe: pd.DataFrame | None = None
    placebo_gaps: pd.DataFrame | None = None
    p_value: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Post- over pre-intervention RMSPE of the treated unit."""
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else float("inf")

    @property
    def mean_post_gap(self) -> float:
        """Average gap (treated minus synthetic) from the intervention on."""
        t = self.paths
        return float(t.loc[t["time"] >= self.intervention, "gap"].mean())

    def tidy(self) -> pd.DataFrame:
        """One row per period: ``time, treated, synthetic, gap``."""
        return self.paths[["time", "treated", "synthetic", "gap"]].copy()

    def weights(self) -> pd.DataFrame:
        """Donor weights: ``unit, weight``, largest first (zeros included)."""
        return self.donor_weights.copy()

    def placebos(self) -> pd.DataFrame:
        """Placebo gaps: ``unit, time, gap`` for every donor refitted as if treated (empty without placebos)."""
        if self.placebo_gaps is None:
            return pd.DataFrame(columns=["unit", "time", "gap"])
        return self.placebo_gaps.copy()


    def summary(self) -> str:
        w = self.donor_weights[self.donor_weights["weight"] > 0.001]
        lines = [
            f"Synthetic control for {self.treated!r}: outcome {self.outcome!r}, intervention {self.intervention}",
            f"  pre-intervention RMSPE {self.pre_rmspe:.4g}; post {self.post_rmspe:.4g} (ratio {self.ratio:.3g})",
            f"  mean post-intervention gap (treated - synthetic): {self.mean_post_gap:.4g}",
            "  donor weights: " + ", ".join(f"{u} {v:.3f}" for u, v in zip(w["unit"], w["weight"])),
        ]
        if self.p_value is not None and self.rmspe is not None:
            rank = int(self.rmspe.loc[self.rmspe["treated"], "rank"].iloc[0])
            lines.append(f"  placebo-in-space: RMSPE ratio ranks {rank} of {len(self.rmspe)}; permutation p = {self.p_value:.3f}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        p = "" if self.p_value is None else f", p = {self.p_value:.3f}"
        return f"<SynthResult {self.treated!r}: mean post gap {self.mean_post_gap:.4g}{p}>"

    def _repr_html_(self) -> str:
        body = "".join(f"<li>{escape_html(line.strip())}</li>" for line in self.summary().splitlines()[1:])
        return (f"<p><b>Synthetic control</b> for {escape_html(self.treated)}</p><ul>{body}</ul>"
                + self.donor_weights.head(10).to_html(index=False, escape=True))

    def plot(self, *, kind: str = "paths", ax=None, title: str | None = None):
        """``kind="paths"``: treated vs synthetic; ``kind="gaps"``: the treated gap over the placebo gaps."""
        from ..plots.timeseries import synth_plot

        return synth_plot(self.paths, self.placebos(), treated=self.treated, intervention=self.intervention,
                          kind=kind, ax=ax, ylabel=self.outcome, title=title)


def _fit_one(Y: np.ndarray, t_idx: int, donor_idx: list[int], pre: np.ndarray):
    A = Y[donor_idx][:, pre].T
    b = Y[t_idx, pre]
    w = simplex_least_squares(A, b)
    synth = w @ Y[donor_idx]
    gap = Y[t_idx] - synth
    return w, synth, gap, _rmspe(gap[pre]), _rmspe(gap[~pre])


def synthetic_control(
    panel: pd.DataFrame,
    *,
    unit: str = "force",
    time: str = "month",
    outcome: str = "rate",
    treated: str = "kent",
    intervention: Any = "2020-06",
    donors: Sequence[str] | None = None,
    placebo: bool = True,
    min_pre_periods: int = 5,
) -> SynthResult:
    """Synthetic control estimate for one treated unit, with placebo-in-space inference.

    Parameters
    ----------
    panel
        Long table, one row per ``unit x time`` with the ``outcome`` (e.g. a rate per 1,000
        or a disproportionality ratio from :func:`equity_metrics.measures.trends.trend`).
        Must be balanced over the units used, with no missing outcomes.
    unit, time, outcome
        Column names. ``time`` holds periods (``period[M]``, dates or ``"2020-06"`` labels).
    treated
        The treated unit.
    intervention
        First treated period.
    donors
        Units to build the synthetic control from (default: every other unit). Leave out
        units that had a similar intervention.
    placebo
        Refit with each donor as the pseudo-treated unit for the permutation p-value.
    min_pre_periods
        Fewest pre-intervention periods accepted (default 5).

    Returns
    -------
    SynthResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.period_range("2019-01", periods=24, freq="M")
    >>> rng = np.random.default_rng(0)
    >>> base = {u: rng.normal(10, 1) + np.sin(np.arange(24) / 3) * rng.uniform(0.5, 2) for u in "abcd"}
    >>> base["t"] = 0.5 * base["a"] + 0.5 * base["b"] + np.r_[np.zeros(12), np.full(12, 3.0)]
    >>> panel = pd.DataFrame([(u, m, v) for u, vals in base.items() for m, v in zip(months, vals)],
    ...                      columns=["force", "month", "rate"])
    >>> r = synthetic_control(panel, treated="t", intervention="2020-01")
    >>> round(r.mean_post_gap, 2), sorted(r.weights().iloc[:2]["unit"])
    (3.0, ['a', 'b'])
    """
    if not isinstance(panel, pd.DataFrame):
        raise DataValidationError(f"panel must be a DataFrame with {unit!r}, {time!r} and {outcome!r} columns")
    missing = [c for c in (unit, time, outcome) if c not in panel.columns]
    if missing:
        raise DataValidationError(f"the panel has no column(s) {missing}; columns are {list(panel.columns)[:20]}")
    df = pd.DataFrame({"unit": panel[unit].astype(str).to_numpy(), "time": _periods(panel[time], time),
                       "y": pd.to_numeric(panel[outcome], errors="coerce").astype(float).to_numpy()})
    units = sorted(df["unit"].unique())
    if str(treated) not in units:
        raise DataValidationError(f"treated unit {treated!r} is not in the panel; units are {units[:20]}")
    treated = str(treated)
    pool = [str(d) for d in donors] if donors is not None else [u for u in units if u != treated]
    absent = sorted(set(pool) - set(units))
    if absent:
        raise DataValidationError(f"donor(s) {absent} are not in the panel; units are {units[:20]}")
    pool = [d for d in dict.fromkeys(pool) if d != treated]
    if len(pool) < 2:
        raise DataValidationError("a synthetic control needs at least two donors; add comparison units")
    use = [treated] + pool
    df = df[df["unit"].isin(use)]
    if df.duplicated(["unit", "time"]).any():
        raise DataValidationError("the panel has repeated unit x time rows; aggregate to one row per unit and period")
    wide = df.pivot(index="unit", columns="time", values="y").reindex(use)
    holes = wide.isna()
    if holes.to_numpy().any():
        bad = holes.sum(axis=1)
        bad = bad[bad > 0]
        raise DataValidationError(
            f"the panel is not balanced: missing or non-numeric {outcome!r} for {dict(bad.head(10))} (unit: number of "
            "periods). Drop those donors with donors=[...], or restrict the periods to those every unit has"
        )
    times = pd.PeriodIndex(wide.columns)
    iv = _parse_intervention(intervention, times.freqstr)[0]
    if not times[0] < iv <= times[-1]:
        raise DataValidationError(f"intervention {iv} is outside the data ({times[0]} to {times[-1]})")
    pre = np.asarray(times < iv)
    if pre.sum() < min_pre_periods:
        raise DataValidationError(f"only {int(pre.sum())} pre-intervention period(s); at least {min_pre_periods} are needed to "
                                  "fit the weights (use a longer series or lower min_pre_periods)")
    Y = wide.to_numpy(float)
    notes: list[str] = []
    w, synth, gap, pre_r, post_r = _fit_one(Y, 0, list(range(1, len(use))), pre)
    if len(pool) > pre.sum():
        notes.append(f"{len(pool)} donors for {int(pre.sum())} pre-intervention periods: the weights may not be unique "
                     "(the synthetic path is); prefer fewer, more similar donors")
    tr_y = Y[0, pre]
    outside = (tr_y > Y[1:, pre].max(axis=0)) | (tr_y < Y[1:, pre].min(axis=0))
    if outside.mean() > 0.5:
        notes.append("the treated unit lies outside the donors' range in most pre-intervention periods: no convex "
                     "combination can match it well (check the pre-intervention fit)")
    paths = pd.DataFrame({"time": times, "treated": Y[0], "synthetic": synth, "gap": gap})
    weights = pd.DataFrame({"unit": pool, "weight": w}).sort_values(["weight", "unit"], ascending=[False, True],
                                                                     kind="stable").reset_index(drop=True)
    res = SynthResult(paths=paths, donor_weights=weights, treated=treated, intervention=iv, outcome=outcome,
                      pre_rmspe=pre_r, post_rmspe=post_r, notes=notes)
    if placebo:
        rows, gaps = [(treated, pre_r, post_r)], []
        for j in range(1, len(use)):
            others = [i for i in range(1, len(use)) if i != j]
            _, _, g, pr, po = _fit_one(Y, j, others, pre)
            rows.append((use[j], pr, po))
            gaps.append(pd.DataFrame({"unit": use[j], "time": times, "gap": g}))
        rm = pd.DataFrame(rows, columns=["unit", "pre_rmspe", "post_rmspe"])
        with np.errstate(divide="ignore", invalid="ignore"):
            rm["ratio"] = rm["post_rmspe"] / rm["pre_rmspe"]
        rm["treated"] = rm["unit"] == treated
        rm["rank"] = rm["ratio"].rank(ascending=False, method="max").astype(int)
        res.rmspe = rm
        res.placebo_gaps = pd.concat(gaps, ignore_index=True)
        scale = float(np.abs(Y[0, pre]).mean()) or 1.0
        if pre_r <= 1e-9 * scale:
            res.notes.append("the treated unit's pre-intervention fit is exact (RMSPE 0): its RMSPE ratio is undefined, so "
                             "no permutation p-value is given (is the treated series a copy or a mix of donor series?)")
        else:
            res.p_value = float(rm.loc[0, "rank"]) / len(rm)
    return res
