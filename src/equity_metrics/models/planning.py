"""Minimum detectable effects of a difference-in-differences with serially correlated errors.

Burlig, Preonas & Woerman (2020), "Panel data and experimental design", *Journal of
Development Economics* 144, 102458 (the Stata package ``pcpanel``: ``pc_dd_analytic``
and ``pc_dd_covar``). For ``J`` units, a share ``P`` of them treated at one date, ``m``
periods before and ``r`` after, the difference-in-differences with unit and period fixed
effects has::

    MDE = (t_{1-kappa} + t_{1-alpha/2}) * sqrt( V / (P (1 - P) J) )

    V = (m + r) / (m r) * sigma2 + (m - 1) / m * psi_B + (r - 1) / r * psi_A - 2 psi_X

with ``sigma2`` the variance of the idiosyncratic error (after the unit and period
effects), ``psi_B`` / ``psi_A`` the average covariance between two different pre / two
different post periods of a unit, and ``psi_X`` the average covariance between a pre and
a post period (BPW eq. 8; ``t`` quantiles with ``J`` degrees of freedom when errors are
serially correlated, as ``pcpanel``). Power against an effect ``tau`` is
``1 - F_t(t_{1-alpha/2} - tau / SE)``.

When the variances come from the user's own data they are estimated as ``pc_dd_covar``
does: in every window of ``m + r`` consecutive periods of the untreated panel, residualise
the outcome on unit and period effects, average the residual variance and the
within-unit residual covariances by period-pair type (pre-pre, post-post, pre-post;
population moments), and average over windows. Residuals are biased towards negative
covariance (each unit's residuals sum to zero in the window), so the variance is then
(BPW eq. 10, ``pcpanel`` without ``trueparameters``)::

    V = J_e (m + r)^2 / (J_e - 1) * [ (m + r) / (2 m^2 r^2) * s2 + (r - 1) / (2 m^2 r) * pA
                                      + (m - 1) / (2 m r^2) * pB ]

with ``s2, pA, pB`` the residual moments and ``J_e`` the units they were estimated from.

The formula is for a single treatment date. For a staggered rollout the design MDE
(:func:`design_mde`) uses the estimator's effective numbers of periods (Callaway &
Sant'Anna compare each post period with the one period before treatment, so ``m = 1``);
it is an approximation, which :func:`equity_metrics.power` checks by simulation.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = rng.normal(size=(400, 12))            # 400 units x 12 months, iid errors, sd 1
>>> r = panel_mde(y, pre=6, post=6, share_treated=0.5)
>>> round(float(r.tidy()["mde"].iloc[0]), 2)   # textbook iid value 2.80 * sqrt(4 / 400 * 2 / 6) = 0.16
0.16
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._results import ResultBase
from .._options import check_option
from ..errors import DataValidationError, EstimationError, OptionError
from .panel import PanelResult

__all__ = ["panel_mde", "PanelMDEResult", "error_covariance", "ar1_covariances", "design_mde", "DesignMDE", "power_at",
           "schedule_std_error",
           "PANEL_MDE_COLUMNS"]

PANEL_MDE_COLUMNS = ["units", "pre", "post", "share_treated", "alpha", "power", "mde", "mde_share", "std_error",
                     "df", "sigma2", "cov_pre", "cov_post", "cov_cross", "n_units_est", "n_windows", "base"]
CovSource = Literal["estimated", "true"]


# ----------------------------------------------------------------------------- covariances
def _one_blas_thread():
    """Context with single-threaded BLAS (a no-op without threadpoolctl).

    The products here are small (units x a few dozen periods); on a busy machine a
    multi-threaded BLAS waits for its sleeping threads at every call (measured 15x slower
    at load 10 on 2 cores).
    """
    import contextlib

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    if not _CONTROLLER:  # finding the BLAS libraries takes ~0.1 s: once per process
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


_CONTROLLER: list = []


def error_covariance(y: np.ndarray, *, pre: int, post: int) -> dict[str, float]:
    """Residual variance and average within-unit covariances of an untreated panel (``pc_dd_covar``).

    Parameters
    ----------
    y
        Untreated outcomes, units x periods (balanced: no missing values).
    pre, post
        Numbers of pre- and post-treatment periods ``m`` and ``r`` of the planned design; every
        window of ``m + r`` consecutive periods is used.

    Returns
    -------
    dict
        ``sigma2`` (residual variance), ``cov_pre``, ``cov_post``, ``cov_cross`` (average residual
        covariance within pre periods, within post periods, across pre/post; 0 when ``m`` or
        ``r`` is 1), ``n_units`` and ``n_windows``. Population moments (divisor ``J``), as
        ``pcpanel`` returns them.

    Examples
    --------
    >>> import numpy as np
    >>> c = error_covariance(np.random.default_rng(1).normal(size=(2000, 6)), pre=3, post=3)
    >>> round(c["sigma2"], 2), round(c["cov_cross"], 2)     # iid: (T-1)/T = 0.83 and -1/T = -0.17
    (0.83, -0.17)
    """
    y = np.asarray(y, dtype=float)
    m, r = _whole("pre", pre), _whole("post", post)
    if y.ndim != 2 or not np.isfinite(y).all():
        raise DataValidationError("error_covariance: y must be a units x periods matrix without missing values "
                                  "(a balanced untreated panel).")
    n, t = y.shape
    w = m + r
    if w > t:
        raise EstimationError(f"error_covariance: the data have {t} periods, fewer than pre + post = {w}; plan "
                              "fewer periods or give a longer history.")
    if n < 2:
        raise EstimationError("error_covariance: at least two units are needed to estimate covariances.")
    iu_b = np.triu_indices(m, 1)
    iu_a = np.triu_indices(r, 1)
    acc = np.zeros(4)
    n_win = t - w + 1
    with _one_blas_thread():
        for s in range(n_win):
            e = y[:, s:s + w]
            e = e - e.mean(axis=1, keepdims=True)
            e = e - e.mean(axis=0, keepdims=True)  # balanced two-way FE residuals
            c = e.T @ e / n
            acc[0] += np.trace(c) / w
            acc[1] += c[:m, :m][iu_b].mean() if m > 1 else 0.0
            acc[2] += c[m:, m:][iu_a].mean() if r > 1 else 0.0
            acc[3] += c[:m, m:].mean()
    acc /= n_win
    return {"sigma2": float(acc[0]), "cov_pre": float(acc[1]), "cov_post": float(acc[2]), "cov_cross": float(acc[3]),
            "n_units": int(n), "n_windows": int(n_win)}


def ar1_covariances(rho: float, sigma2: float, *, pre: int, post: int) -> dict[str, float]:
    """Average covariances of AR(1) errors (``pc_dd_analytic`` option ``ar1``): true parameters.

    ``Cov(e_s, e_t) = sigma2 * rho^|s - t|`` averaged over the pre-pre, post-post and pre-post pairs.

    Examples
    --------
    >>> c = ar1_covariances(0.5, 1.0, pre=2, post=2)
    >>> c["cov_pre"], c["cov_post"], round(c["cov_cross"], 4)   # (0.5^1 + 2*0.5^2 + 0.5^3) / 4
    (0.5, 0.5, 0.2812)
    """
    m, r = _whole("pre", pre), _whole("post", post)
    if not -1 < float(rho) < 1:
        raise OptionError(f"rho must be between -1 and 1, got {rho!r}.")
    t = np.arange(m + r)
    c = float(sigma2) * float(rho) ** np.abs(t[:, None] - t[None, :])
    return {"sigma2": float(sigma2),
            "cov_pre": float(c[:m, :m][np.triu_indices(m, 1)].mean()) if m > 1 else 0.0,
            "cov_post": float(c[m:, m:][np.triu_indices(r, 1)].mean()) if r > 1 else 0.0,
            "cov_cross": float(c[:m, m:].mean())}


def _whole(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise OptionError(f"{name} must be a whole number of periods >= 1, got {v!r}.")
    return int(v)


def _paren(m, r, cov: dict, source: CovSource, n_est: float):
    """The bracket V of the MDE (true-parameter or residual-based form)."""
    s2 = cov["sigma2"]
    pb = np.where(m > 1, cov["cov_pre"], 0.0)
    pa = np.where(r > 1, cov["cov_post"], 0.0)
    if source == "true":
        return (m + r) / (m * r) * s2 + (m - 1) / m * pb + (r - 1) / r * pa - 2 * cov["cov_cross"]
    return (n_est * (m + r) ** 2 / (n_est - 1)) * ((m + r) / (2 * m**2 * r**2) * s2
                                                   + (r - 1) / (2 * m**2 * r) * pa + (m - 1) / (2 * m * r**2) * pb)


def _check_level(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < float(v) < 1:
        raise OptionError(f"{name} must be a number between 0 and 1, got {v!r}.")
    return float(v)


def _grid(name: str, v, kind=int) -> list:
    vals = list(np.atleast_1d(np.asarray(v)).tolist())
    if not vals:
        raise OptionError(f"{name} must name at least one value.")
    return vals


# ----------------------------------------------------------------------------- results
@dataclass(repr=False)
class PanelMDEResult(ResultBase):
    """Minimum detectable effects over a grid of designs (see :func:`panel_mde`).

    Attributes
    ----------
    table
        One row per design: ``units, pre, post, share_treated, alpha, power, mde`` (outcome
        units), ``mde_share`` (MDE / ``base``), ``std_error``, ``df``, the variance terms used
        and ``base`` (the untreated mean of the outcome).
    outcome
        What the outcome is (for the text).
    source
        ``"estimated"`` (from residuals of the data) or ``"true"`` (given parameters).
    notes
        How the data were used.
    """

    table: pd.DataFrame
    outcome: str = "outcome"
    source: str = "estimated"
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """The grid, columns ``PANEL_MDE_COLUMNS``, sorted by units, pre, post, share treated."""
        return self.table[PANEL_MDE_COLUMNS].copy()

    def summary(self) -> str:
        t = self.table
        lines = [f"Minimum detectable effect of a difference-in-differences on {self.outcome} "
                 "(Burlig, Preonas & Woerman 2020)",
                 f"variance terms {'estimated from the untreated panel (pc_dd_covar)' if self.source == 'estimated' else 'given as true parameters'}"]
        show = t[["units", "pre", "post", "share_treated", "mde", "mde_share"]].copy()
        show["mde_share"] = (100 * show["mde_share"]).round(1).astype(str) + "%"
        lines.append(show.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<PanelMDEResult {len(self.table)} design(s)>"

    def plot(self, *, ax=None):
        """MDE (share of the untreated level) against the number of units, one line per (pre, post). Returns the Axes."""
        from ..plots.power import mde_curve

        return mde_curve(self.table, ax=ax, outcome=self.outcome)


def panel_mde(
    data: np.ndarray | pd.DataFrame | PanelResult,
    *,
    pre: int | Sequence[int],
    post: int | Sequence[int],
    units: int | Sequence[int] | None = None,
    share_treated: float | Sequence[float] = 0.5,
    outcome: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    alpha: float = 0.05,
    power: float = 0.80,
    covariances: dict | None = None,
) -> PanelMDEResult:
    """Minimum detectable effect of a difference-in-differences, from the user's own untreated panel.

    Burlig, Preonas & Woerman (2020) with the error variance and the average within-pre,
    within-post and pre-post covariances estimated from the data as ``pcpanel`` does
    (see the module docstring). Every argument that takes a sequence spans a grid.

    Parameters
    ----------
    data
        The untreated history: a units x periods matrix, a long DataFrame (``outcome``,
        ``unit``, ``time`` columns; units missing a period are dropped) or a
        :class:`~equity_metrics.models.panel.PanelResult` (never-treated units are used).
    pre, post
        Numbers of periods before and after the treatment date (``m``, ``r``).
    units
        Number of units in the planned evaluation ``J`` (default: those in ``data``).
    share_treated
        Share of the units treated ``P``.
    outcome, unit, time
        Columns of a DataFrame / the outcome of a PanelResult with several.
    alpha, power
        Two-sided test level and power.
    covariances
        ``{"sigma2", "cov_pre", "cov_post", "cov_cross"}`` taken as true parameters
        (e.g. :func:`ar1_covariances`) instead of estimating them; then ``data`` may be
        ``None`` and ``units`` is required.

    Returns
    -------
    PanelMDEResult

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).normal(size=(400, 12))
    >>> r = panel_mde(y, pre=[1, 6], post=6, units=[400, 1600])
    >>> r.tidy()[["units", "pre", "mde"]].round(3).values.tolist()
    [[400.0, 1.0, 0.307], [400.0, 6.0, 0.162], [1600.0, 1.0, 0.153], [1600.0, 6.0, 0.081]]
    """
    a, pw = _check_level("alpha", alpha), _check_level("power", power)
    notes: list[str] = []
    label = outcome or "the outcome"
    if covariances is None:
        y, _, nts = untreated_matrix(data, outcome=outcome, unit=unit, time=time)
        notes += nts
        base = float(np.mean(y))
        n_data = y.shape[0]
    else:
        missing = {"sigma2", "cov_pre", "cov_post", "cov_cross"} - set(covariances)
        if missing:
            raise OptionError(f"covariances needs {sorted(missing)} (e.g. ar1_covariances(rho, sigma2, pre=, post=)).")
        if units is None:
            raise OptionError("panel_mde: with covariances= give units= (the number of units planned).")
        y, base, n_data = None, float("nan"), None
    units_l = _grid("units", units if units is not None else n_data)
    shares = [_check_level("share_treated", float(p)) for p in _grid("share_treated", share_treated)]
    rows = []
    for m in sorted({_whole("pre", int(v)) for v in _grid("pre", pre)}):
        for r in sorted({_whole("post", int(v)) for v in _grid("post", post)}):
            if covariances is None:
                cov = error_covariance(y, pre=m, post=r)
                source: CovSource = "estimated"
                n_est, n_win = cov["n_units"], cov["n_windows"]
            else:
                cov, source, n_est, n_win = dict(covariances), "true", np.nan, 0
            v = float(_paren(np.float64(m), np.float64(r), cov, source, n_est))
            for j in sorted({int(u) for u in units_l}):
                if j < 2:
                    raise OptionError(f"units must be at least 2, got {j}.")
                serial = any(abs(cov[k]) > 0 for k in ("cov_pre", "cov_post", "cov_cross"))
                df = j if serial else j * (m + r) - (j + m + r)
                mult = stats.t.ppf(1 - a / 2, df) + stats.t.ppf(pw, df)
                for p in shares:
                    se = float(np.sqrt(max(v, 0.0) / (p * (1 - p) * j)))
                    rows.append({"units": j, "pre": m, "post": r, "share_treated": p, "alpha": a, "power": pw,
                                 "mde": mult * se, "mde_share": mult * se / base if base > 0 else np.nan,
                                 "std_error": se, "df": float(df), "sigma2": cov["sigma2"], "cov_pre": cov["cov_pre"],
                                 "cov_post": cov["cov_post"], "cov_cross": cov["cov_cross"],
                                 "n_units_est": float(n_est), "n_windows": int(n_win), "base": base})
    table = pd.DataFrame(rows).sort_values(["units", "pre", "post", "share_treated"], kind="mergesort")
    return PanelMDEResult(table=table.reset_index(drop=True), outcome=label, source=source, notes=notes)


def power_at(effect: float | np.ndarray, std_error: float, df: float, *, alpha: float = 0.05) -> np.ndarray:
    """Power of the two-sided t test against ``effect`` (both tails), as ``pc_dd_analytic`` (one tail) plus the other tail.

    Examples
    --------
    >>> round(float(power_at(2.8016, 1.0, 1e9)), 3)
    0.8
    """
    z = stats.t.ppf(1 - alpha / 2, df)
    d = np.abs(np.asarray(effect, dtype=float)) / std_error
    return stats.t.sf(z - d, df) + stats.t.cdf(-z - d, df)


def schedule_std_error(cov: np.ndarray, starts, sizes, n_units: int, *,
                       estimator: Literal["cs", "efficient"] = "cs") -> float:
    """Standard error of a staggered estimator for a schedule, from the outcomes' period covariance (analytic).

    Without covariates, Callaway & Sant'Anna (not-yet-treated, ``simple``) and Roth & Sant'Anna's
    efficient estimator are linear in the cohort means, ``sum_g a_g' Ybar_g``, with weights
    ``a_g`` that depend only on the schedule (``efficient._design``; CS is ``beta = 1``). When
    cohorts are assigned at random and each unit's outcomes have covariance ``S`` over the
    periods, ``Var = sum_g a_g' S a_g / N_g`` (Roth & Sant'Anna 2023, the Neyman variance with
    a common ``S``; exact here because the weights of each period sum to zero over cohorts).

    Parameters
    ----------
    cov
        ``S``, periods x periods (e.g. ``np.cov(history.T)`` of the untreated history).
    starts, sizes
        Cohort start periods (1-based positions) and sizes; units not scheduled are never treated.
    n_units
        Units in the evaluation.
    estimator
        ``"cs"`` or ``"efficient"`` (plug-in ``beta* = Var(X)^-1 Cov(X, theta)`` with ``S``).

    Examples
    --------
    >>> import numpy as np
    >>> round(schedule_std_error(np.eye(2), [2], [50], 100), 4)   # 2x2 DiD, iid sd 1: sqrt(2/50 + 2/50)
    0.2828
    """
    from .efficient import _design

    s = np.asarray(cov, dtype=float)
    t = s.shape[0]
    st = np.asarray(starts, dtype=float)
    nz = np.asarray(sizes, dtype=float)
    rest = float(n_units) - nz.sum()
    glist = np.append(st, np.inf) if rest > 0 else st
    n_g = np.append(nz, rest) if rest > 0 else nz
    des = _design(np.arange(1.0, t + 1), glist, n_g, "simple", [], False, "did")[0]
    a, c = des.a[0], des.c[0]
    q = lambda u, v: float(sum(u[k] @ s @ v[k] / n_g[k] for k in range(glist.size)))  # noqa: E731
    beta = 1.0
    if estimator == "efficient":
        xv = q(c, c)
        beta = q(c, a) / xv if xv > 0 else 0.0
    at = a - beta * c
    return float(np.sqrt(max(q(at, at), 0.0)))


# ----------------------------------------------------------------------------- data
def untreated_matrix(data, *, outcome: str | None = None, unit: str | None = None, time: str | None = None,
                     first_treated: str | None = None, untreated: str = "never_treated"):
    """The untreated units x periods matrix, the period labels and notes (internal; shared with the simulation).

    ``untreated="never_treated"`` keeps units never treated (when a first-treated column is
    known); ``"pre_period"`` keeps every unit but only periods before the first treatment.
    Units missing a period (or with a missing outcome) are dropped, with a note.
    """
    notes: list[str] = []
    if isinstance(data, np.ndarray):
        y = np.asarray(data, dtype=float)
        if y.ndim != 2:
            raise DataValidationError("the untreated panel must be a units x periods matrix.")
        keep = np.isfinite(y).all(axis=1)
        if not keep.all():
            notes.append(f"{int((~keep).sum()):,} unit(s) with missing periods dropped")
        return y[keep], np.arange(1, y.shape[1] + 1).astype(str), notes
    if isinstance(data, PanelResult):
        df = data.data
        unit = unit or data.unit
        if outcome is None:
            if len(data.outcomes) != 1:
                raise OptionError(f"name the outcome: the panel has {data.outcomes}.")
            outcome = data.outcomes[0]
        time = "time"
        first_treated = first_treated or data.first_treated
        labels_of = df.groupby("time", sort=True)["period"].first().astype(str) if "period" in df else None
    elif isinstance(data, pd.DataFrame):
        df = data
        if outcome is None or unit is None or time is None:
            raise OptionError("name the outcome=, unit= and time= columns of the panel DataFrame.")
        labels_of = None
    else:
        raise DataValidationError(f"the untreated panel must be an array, a DataFrame or a PanelResult, got "
                                  f"{type(data).__name__}.")
    cols = [c for c in (outcome, unit, time, first_treated) if c]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataValidationError(f"the panel has no column(s) {missing}; it has {list(df.columns)[:12]}.")
    d = df[cols].copy()
    d[outcome] = pd.to_numeric(d[outcome], errors="coerce")
    if first_treated:
        ft = d[first_treated]
        never = ft.isna() | (ft.astype(str).str.strip().isin(["", "0", "0.0", "inf", "nan", "NaT", "<NA>"]))
        if untreated == "never_treated":
            n_tr = d.loc[~never, unit].nunique()
            d = d.loc[never]
            notes.append(f"{n_tr:,} treated unit(s) left out: the history is the never-treated units' "
                         f"({d[unit].nunique():,})")
        else:
            times_sorted = np.sort(d[time].unique())
            first = ft[~never]
            if len(first):
                first_t = min(first.tolist(), key=lambda v: (np.searchsorted(times_sorted, v), str(v)))
                d = d.loc[d[time] < first_t] if not isinstance(first_t, str) else d.loc[d[time].astype(str) < first_t]
                shown = labels_of.get(first_t, first_t) if labels_of is not None else first_t
                notes.append(f"the history stops before {shown}, when the data's first units were treated: every "
                             "unit's record from before any was treated")
    if d.duplicated([unit, time]).any():
        raise DataValidationError("the panel has several rows for one unit and period; give one row per unit and period.")
    wide = d.pivot(index=unit, columns=time, values=outcome).sort_index().sort_index(axis=1)
    full = wide.notna().all(axis=1)
    if (~full).any():
        notes.append(f"{int((~full).sum()):,} unit(s) not observed in all {wide.shape[1]} periods dropped")
    wide = wide.loc[full]
    if wide.shape[0] < 4 or wide.shape[1] < 2:
        raise EstimationError(f"the untreated history has {wide.shape[0]} complete unit(s) x {wide.shape[1]} "
                              "period(s); at least 4 units and 2 periods are needed (use a longer or larger panel).")
    labels = wide.columns.to_numpy()
    if labels_of is not None:
        labels = labels_of.reindex(labels).to_numpy()
    return wide.to_numpy(float), np.asarray([str(v) for v in labels]), notes


# ----------------------------------------------------------------------------- the report's design
@dataclass(repr=False)
class DesignMDE(ResultBase):
    """The analytic MDE of a training evaluation's design, as a share of the untrained level (see :func:`design_mde`).

    ``mde``/``mde_share``: for the design's actual cohorts (:func:`schedule_std_error`);
    ``mde_bpw``/``mde_share_bpw``: Burlig, Preonas & Woerman's one-date approximation with
    ``pre``/``post`` periods.
    """

    mde: float
    mde_share: float
    mde_bpw: float
    mde_share_bpw: float
    base: float
    units: int
    share_treated: float
    cohorts: int
    pre: int
    post: int
    alpha: float
    power: float
    outcome: str
    sentence: str
    notes: list[str] = field(default_factory=list)

    def tidy(self) -> pd.DataFrame:
        """One row: ``outcome, units, share_treated, cohorts, pre, post, alpha, power, base, mde, mde_share, mde_bpw,
        mde_share_bpw, sentence``."""
        return pd.DataFrame([{k: getattr(self, k) for k in ("outcome", "units", "share_treated", "cohorts", "pre",
                                                            "post", "alpha", "power", "base", "mde", "mde_share",
                                                            "mde_bpw", "mde_share_bpw", "sentence")}])

    def summary(self) -> str:
        return "\n".join([self.sentence, f"(one-date approximation, Burlig, Preonas & Woerman 2020, {self.pre} pre / "
                                         f"{self.post} post periods: {self.mde_share_bpw:.0%})"]
                         + [f"note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        return f"<DesignMDE {self.outcome}: {self.mde_share:.1%} of the untrained level>"


def design_mde(panel: PanelResult, *, outcome: str | None = None, estimator: Literal["cs", "efficient"] = "cs",
               alpha: float = 0.05, power: float = 0.80, label: str | None = None) -> DesignMDE:
    """The design's minimum detectable effect (analytic), as a share of the untrained level, with a plain sentence.

    For the report's training section. The MDE is ``(z_{1-alpha/2} + z_power) * SE`` with the SE
    of the evaluation's estimator (Callaway & Sant'Anna not-yet-treated by default) for the
    panel's actual cohorts and units, computed from the covariance of the never-treated units'
    outcomes over the periods (:func:`schedule_std_error`); the untrained level is their mean
    outcome per unit and period. It says how large a true change the design could reliably
    detect, whatever the estimate turned out to be. Also given: Burlig, Preonas & Woerman's
    one-date approximation (``J`` units, share ``P`` treated, ``m = 1`` period before for CS,
    ``r`` = average periods after training). ``label`` names the outcome in the sentence
    (default: the column name). Count outcomes only: a share with months without events has no
    complete untreated history (EstimationError).

    Examples
    --------
    >>> d = design_mde(panel, outcome="use_of_force")   # doctest: +SKIP
    >>> d.sentence                                       # doctest: +SKIP
    'With 9,914 units of which 9% were trained, this design can reliably detect ...'
    """
    check_option("estimator", estimator, Literal["cs", "efficient"])
    if not isinstance(panel, PanelResult):
        raise OptionError("design_mde needs the PanelResult from build_panel (it knows who was trained when).")
    d = panel.data
    outcome = outcome or (panel.outcomes[0] if len(panel.outcomes) == 1 else None)
    if outcome is None:
        raise OptionError(f"name the outcome: the panel has {panel.outcomes}.")
    a, pw = _check_level("alpha", alpha), _check_level("power", power)
    per_unit = d.groupby(panel.unit, sort=True).agg(g=(panel.first_treated, "first"))
    tmin, tmax = int(d["time"].min()), int(d["time"].max())
    g = per_unit["g"].to_numpy(float)
    treated = (g > tmin) & (g <= tmax)
    if not treated.any():
        raise EstimationError("design_mde: nobody is treated inside the panel's window; there is no design to size.")
    y, _, notes = untreated_matrix(panel, outcome=outcome)
    if y.shape[1] != tmax - tmin + 1:
        raise EstimationError("design_mde: the never-treated units do not cover every period of the panel; "
                              "build it with balanced=True.")
    never = ~np.isfinite(g) | (g <= 0) | (g > tmax)
    early = ~never & ~treated
    if early.any():  # treated in or before the first period: no comparison, the estimators drop them
        notes.append(f"{int(early.sum()):,} unit(s) trained in or before the first period left out (as the "
                     "estimator does)")
    j = int((never | treated).sum())
    p = float(treated.sum() / j)
    starts, sizes = np.unique(g[treated] - tmin + 1, return_counts=True)
    base = float(y.mean())
    mult = stats.norm.ppf(1 - a / 2) + stats.norm.ppf(pw)
    se = schedule_std_error(np.cov(y.T), starts, sizes, j, estimator=estimator)
    mde = mult * se
    r = int(max(1, round(float(np.mean(tmax - g[treated] + 1)))))
    m = 1 if estimator == "cs" else int(max(1, round(float(np.mean(g[treated] - tmin)))))
    if m + r > y.shape[1]:
        r = max(1, y.shape[1] - m)
    bpw = panel_mde(y, pre=m, post=r, units=j, share_treated=min(max(p, 1 / j), 1 - 1 / j), alpha=a,
                    power=pw).table.iloc[0]
    share = mde / base if base > 0 else float("nan")
    lvl = int(round(100 * (1 - a)))
    sentence = (f"With {j:,} units of which {p:.0%} were trained (in {starts.size} {'cohort' if starts.size == 1 else 'cohorts'}), this design can "
                f"reliably detect (with {pw:.0%} power, {lvl}% confidence) only a change in {label or outcome} of about "
                f"{share:.0%} of the untrained level ({mde:.3g} per unit and period against {base:.3g}) or larger; "
                "smaller true changes may well go unseen.")
    return DesignMDE(mde=float(mde), mde_share=float(share), mde_bpw=float(bpw["mde"]),
                     mde_share_bpw=float(bpw["mde_share"]), base=base, units=j, share_treated=p,
                     cohorts=int(starts.size), pre=m, post=r, alpha=a, power=pw, outcome=outcome,
                     sentence=sentence, notes=notes)
