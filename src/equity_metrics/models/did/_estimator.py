"""Public entry point: :func:`staggered_did`."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from ..._options import check_option
from ...errors import DataValidationError, EstimationError, OptionError
from ._attgt import estimate_att_gt
from ._panel import prepare_panel
from ..panel import PanelResult
from .results import StaggeredDiDResult

__all__ = ["staggered_did"]

ControlGroup = Literal["never_treated", "not_yet_treated"]
Method = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
BootstrapWeights = Literal["mammen", "rademacher"]
Unbalanced = Literal["error", "drop"]


def staggered_did(
    data: pd.DataFrame | PanelResult,
    *,
    outcome: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    first_treated: str | None = None,
    control: ControlGroup = "never_treated",
    method: Method = "dr",
    covariates: list[str] | str | None = None,
    base_period: BasePeriod = "varying",
    anticipation: float = 0,
    cluster: str | None = None,
    never_treated_value: float = 0,
    alpha: float = 0.05,
    bootstrap: bool = False,
    n_boot: int = 999,
    seed: int | None = None,
    bootstrap_weights: BootstrapWeights = "mammen",
    unbalanced: Unbalanced = "error",
    progress: bool | None = False,
) -> StaggeredDiDResult:
    """Callaway & Sant'Anna (2021) group-time ATTs for staggered adoption.

    Estimates every ATT(g, t) -- the average effect at period ``t`` for the
    cohort first treated at ``g`` -- with a 2x2 DiD of the cohort against a
    comparison group, and their influence functions; results match R
    ``did::att_gt`` (``panel=TRUE``) and ``did::aggte``.

    Parameters
    ----------
    data
        A :class:`~equity_metrics.models.panel.PanelResult` from
        :func:`~equity_metrics.build_panel`, or a panel in long format, one
        row per unit and period.
    outcome, unit, time, first_treated
        Column names: outcome, unit identifier, period (numeric), and the
        period a unit is first treated (constant within unit).  A
        PanelResult supplies all four (``outcome`` only when it has a single
        outcome); for a DataFrame ``time`` defaults to ``"time"`` and
        ``first_treated`` to ``"first_treated"`` (build_panel's names), and
        ``outcome`` and ``unit`` must be named.
    control
        ``"never_treated"`` or ``"not_yet_treated"`` (never treated plus units
        first treated after ``max(t, base period) + anticipation``).
    method
        ``"dr"`` doubly robust (``DRDID::drdid_panel``), ``"ipw"``
        (``DRDID::std_ipw_did_panel``) or ``"reg"`` outcome regression
        (``DRDID::reg_did_panel``).
    covariates
        Numeric covariate column(s) for the propensity score / outcome
        regression.  Time-varying covariates are taken from the earlier of the
        two periods of each comparison, as R does.
    base_period
        ``"varying"`` (R's default: pre-treatment cells compare consecutive
        periods) or ``"universal"`` (all cells against period ``g - 1 -
        anticipation``, which is reported as a 0 reference cell).
    anticipation
        Number of periods before ``g`` in which units may already react.
    cluster
        Column of a cluster variable containing whole units (e.g. state);
        standard errors are then cluster-robust (analytic and bootstrap).
        Units are always the basic cluster.
    never_treated_value
        Value of ``first_treated`` for never-treated units (``NaN`` and
        ``inf`` are also read as never treated).
    alpha
        ``1 - alpha`` is the confidence level.
    bootstrap
        Use the multiplier bootstrap for standard errors and simultaneous
        (sup-t) confidence bands instead of analytic pointwise ones.
    n_boot
        Number of bootstrap draws.
    seed
        Seed of the bootstrap (same seed, same result).
    bootstrap_weights
        ``"mammen"`` (as R ``did``) or ``"rademacher"`` multipliers.
    unbalanced
        ``"error"`` (default): refuse a panel in which some units are missing
        in some periods; ``"drop"``: keep only the units observed in every
        period (what R ``did`` does with ``panel=TRUE``), reporting how many
        were dropped in ``.notes``.  Officer panels with joiners and leavers
        are unbalanced.
    progress
        Progress bar over the bootstrap draws on stderr (``None``: only when
        stderr is a terminal; default ``False``). Results do not depend on it.

    Returns
    -------
    StaggeredDiDResult
        With ``.att_gt``, ``.aggregate(...)``, ``.pretrend_test()``,
        ``.summary()``.

    Raises
    ------
    DataValidationError
        Missing columns, non-numeric periods, duplicated (unit, time) rows,
        ``first_treated`` varying within a unit.
    EstimationError
        Unbalanced panel, no never-treated units with
        ``control="never_treated"``, nothing to estimate.
    OptionError
        An option outside its allowed values.

    Notes
    -----
    Without covariates the three methods coincide (a difference in mean
    outcome changes) and all cells, influence functions, aggregations and
    bootstrap draws are computed at once as linear maps of the units x
    periods outcome matrix (``_fast.py``): 8,000 officers x 72 months with 48
    cohorts take a fraction of a second.  With covariates each group of cells
    sharing treated and comparison units is fitted separately.

    Units first treated in (or before) the first period are dropped, as R
    does, and units first treated after the last period count as never
    treated; see ``.notes``.  Without never-treated units and with
    ``control="not_yet_treated"``, periods from the last cohort's treatment on
    are dropped and that cohort serves as the comparison group (as R).

    Examples
    --------
    >>> import pandas as pd
    >>> from equity_metrics.models.did import staggered_did
    >>> mpdta = pd.read_csv("mpdta.csv")  # doctest: +SKIP
    >>> res = staggered_did(mpdta, outcome="lemp", unit="countyreal", time="year",
    ...                     first_treated="first.treat")  # doctest: +SKIP
    >>> res.aggregate("dynamic").tidy()  # doctest: +SKIP
    """
    check_option("control", control, ControlGroup)
    check_option("unbalanced", unbalanced, Unbalanced)
    if isinstance(data, PanelResult):
        unit = unit or data.unit
        time = time or data.time
        first_treated = first_treated or data.first_treated
        if outcome is None:
            if len(data.outcomes) != 1:
                raise OptionError(
                    f"staggered_did: the panel has several outcomes {data.outcomes}; name one with outcome=."
                )
            outcome = data.outcomes[0]
        data = data.data
    time = time or "time"
    first_treated = first_treated or "first_treated"
    if outcome is None or unit is None:
        missing = [n for n, v in (("outcome", outcome), ("unit", unit)) if v is None]
        raise OptionError(
            f"staggered_did: name the {' and '.join(missing)} column(s), e.g. staggered_did(df, "
            "outcome='use_of_force', unit='officer_id'), or pass a PanelResult from build_panel."
        )
    check_option("method", method, Method)
    check_option("base_period", base_period, BasePeriod)
    check_option("bootstrap_weights", bootstrap_weights, BootstrapWeights)
    if covariates is None:
        covs: list[str] = []
    elif isinstance(covariates, str):
        covs = [covariates]
    else:
        covs = list(covariates)
    if len(set(covs)) != len(covs):
        raise DataValidationError(f"staggered_did: covariates {covs} contain duplicates.")
    clash = {outcome, unit, time, first_treated} & set(covs)
    if clash:
        raise DataValidationError(
            f"staggered_did: {sorted(clash)} cannot be both a covariate and the outcome, unit, time or "
            "first_treated column."
        )
    if not isinstance(anticipation, int | float | np.integer | np.floating) or not (
        math.isfinite(anticipation) and anticipation >= 0
    ):
        raise OptionError(f"anticipation must be a number >= 0 (periods), got {anticipation!r}.")
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise OptionError(f"alpha must be between 0 and 1 (e.g. 0.05), got {alpha!r}.")
    if bootstrap and (not isinstance(n_boot, int | np.integer) or n_boot < 1):
        raise OptionError(f"n_boot must be a positive integer, got {n_boot!r}.")

    drop_notes: list[str] = []
    if unbalanced == "drop" and isinstance(data, pd.DataFrame):
        data, drop_notes = _drop_incomplete_units(data, unit=unit, time=time, outcome=outcome, covariates=covs)
    panel = prepare_panel(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        first_treated=first_treated,
        covariates=covs,
        cluster=cluster,
        never_treated_value=never_treated_value,
        control=control,
        anticipation=anticipation,
    )
    est = estimate_att_gt(
        panel, control=control, method=method, base_period=base_period, anticipation=anticipation
    )
    settings = {
        "outcome": outcome,
        "method": method,
        "control": control,
        "base_period": base_period,
        "anticipation": anticipation,
        "covariates": covs,
        "cluster": cluster if panel.cluster_codes is not None else None,
        "alpha": float(alpha),
        "bootstrap": bool(bootstrap),
        "n_boot": int(n_boot),
        "seed": seed,
        "bootstrap_weights": bootstrap_weights,
        "progress": progress,
    }
    return StaggeredDiDResult(
        est=est,
        g_unit=panel.g,
        periods=panel.times,
        integer_time=panel.integer_time,
        settings=settings,
        cluster_codes=panel.cluster_codes,
        n_clusters=panel.n_clusters,
        notes=drop_notes + list(panel.notes),
    )


def _drop_incomplete_units(
    data: pd.DataFrame, *, unit: str, time: str, outcome: str, covariates: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Keep units observed (with outcome and covariates) in every period."""
    missing = [c for c in (unit, time, outcome, *covariates) if c not in data.columns]
    if missing:
        return data, []  # prepare_panel reports the missing columns
    ok = data[[outcome, *covariates]].notna().all(axis=1)
    n_periods = data[time].nunique()
    full = data.loc[ok].groupby(unit, sort=False)[time].nunique()
    dup = data.duplicated([unit, time]).any()
    if dup:
        return data, []  # prepare_panel explains duplicated rows
    keep_units = full.index[full.to_numpy() == n_periods]
    n_all = data[unit].nunique()
    n_drop = n_all - len(keep_units)
    if n_drop == 0:
        return data, []
    if len(keep_units) == 0:
        raise EstimationError(
            f"staggered_did: no unit is observed in all {n_periods} periods, so dropping incomplete units "
            "leaves nothing. Shorten the window (build_panel start=/end=) or choose fewer periods."
        )
    kept = data.loc[data[unit].isin(keep_units)]
    note = (
        f"{n_drop:,} of {n_all:,} units are not observed in all {n_periods} periods and were dropped "
        f"(unbalanced='drop'); estimates refer to the {len(keep_units):,} units observed throughout."
    )
    return kept, [note]
