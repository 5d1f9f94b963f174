"""Seeded multiplier bootstrap with simultaneous (sup-t) critical values.

As in R ``did::mboot``: each draw perturbs the influence functions with i.i.d.
multipliers ``v`` (Mammen's two-point weights by default, or Rademacher) and
computes ``(1/n) sum_i v_i IF_i``.  Standard errors are the interquartile
range of the draws divided by ``qnorm(.75) - qnorm(.25)`` (robust to a few
wild draws); the sup-t critical value is the ``1 - alpha`` quantile (R's
``type = 1``) of ``max_j |draw_j / se_j|`` across the estimates.

With clusters the influence functions are first **summed** within clusters and
the multipliers are drawn per cluster.  (R ``did`` averages within clusters
and rescales; the two coincide for equal cluster sizes; summing is the
standard cluster-robust form and agrees with our analytic clustered errors.)
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..._progress import progress as _progress

from ._influence import InfluenceMatrix

__all__ = ["BootstrapResult", "multiplier_bootstrap", "draw_multipliers"]

_CHUNK = 128
_SQRT5 = np.sqrt(5.0)
_IQR_NORMAL = NormalDist().inv_cdf(0.75) - NormalDist().inv_cdf(0.25)
_DEGENERATE = np.sqrt(np.finfo(float).eps) * 10


@dataclass(frozen=True)
class BootstrapResult:
    """Output of :func:`multiplier_bootstrap`.

    Attributes
    ----------
    std_error
        Bootstrap standard errors ``(m,)`` (``nan`` where degenerate).
    crit
        Simultaneous sup-t critical value over the requested columns.
    n_boot
        Number of draws.
    weights
        ``"mammen"`` or ``"rademacher"``.
    draws
        The ``(n_boot, m)`` draws of ``(1/n) sum_i v_i IF_i``.
    notes
        Remarks when the sup-t value falls back to the pointwise one (as R).
    pointwise_fallback
        Whether ``crit`` is the pointwise normal value because the sup-t value
        was unusable or smaller.
    """

    std_error: np.ndarray
    crit: float
    n_boot: int
    weights: str
    draws: np.ndarray
    notes: tuple[str, ...] = ()
    pointwise_fallback: bool = False


def draw_multipliers(rng: np.random.Generator, size: tuple[int, int], weights: str) -> np.ndarray:
    """Draw i.i.d. multipliers with mean 0 and variance 1.

    Parameters
    ----------
    rng
        A NumPy generator.
    size
        ``(draws, units)``.
    weights
        ``"mammen"``: ``(1 - sqrt5)/2`` with probability ``(sqrt5 + 1)/(2 sqrt5)``,
        else ``(1 + sqrt5)/2``; ``"rademacher"``: +1 / -1 with probability 1/2.

    Examples
    --------
    >>> v = draw_multipliers(np.random.default_rng(1), (2000, 50), "mammen")
    >>> abs(float(v.mean())) < 0.05, abs(float(v.var()) - 1) < 0.05
    (True, True)
    """
    if weights == "rademacher":
        return rng.integers(0, 2, size=size).astype(float) * 2.0 - 1.0
    k1, k2 = 0.5 * (1.0 - _SQRT5), 0.5 * (1.0 + _SQRT5)
    p1 = 0.5 * (1.0 + _SQRT5) / _SQRT5
    return np.where(rng.random(size) < p1, k1, k2)


def multiplier_bootstrap(
    inf: InfluenceMatrix | np.ndarray,
    *,
    n_units: int,
    n_boot: int,
    seed: int | np.random.Generator | None,
    weights: str = "mammen",
    cluster_codes: np.ndarray | None = None,
    n_clusters: int = 0,
    alpha: float = 0.05,
    sup_columns: np.ndarray | None = None,
    progress: bool | None = False,
) -> BootstrapResult:
    """Multiplier bootstrap of estimates with influence functions ``inf``.

    Parameters
    ----------
    inf
        Influence functions ``(n_units, m)``, dense or block-sparse.
    n_units
        Number of units (the ``n`` in ``(1/n) sum_i v_i IF_i``).
    n_boot
        Number of draws.
    seed
        Seed or generator; the same seed gives the same draws.
    weights
        ``"mammen"`` or ``"rademacher"``.
    cluster_codes, n_clusters
        Optional cluster of each unit (multipliers drawn per cluster).
    alpha
        Level for the sup-t critical value.
    sup_columns
        Columns over which the sup-t maximum is taken (default: all).
    progress
        Progress bar over the draws on stderr (``None``: when stderr is a
        terminal; ``False``: never). It does not change the draws.

    Returns
    -------
    BootstrapResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> r = multiplier_bootstrap(rng.normal(size=(500, 3)), n_units=500, n_boot=199, seed=1)
    >>> r.std_error.shape, bool(r.crit > 1.96)
    ((3,), True)
    """
    if isinstance(inf, np.ndarray):
        dense = inf if inf.ndim == 2 else inf[:, None]
        mat = InfluenceMatrix(dense.shape[0], dense.shape[1])
        mat.add_block(np.arange(dense.shape[0]), np.arange(dense.shape[1]), dense)
    else:
        mat = inf
    if cluster_codes is not None:
        mat = mat.cluster_sum(cluster_codes, n_clusters)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    draws = np.empty((n_boot, mat.n_cols))
    starts = range(0, n_boot, _CHUNK)
    for start in _progress(starts, total=len(starts), desc=f"bootstrap ({n_boot} draws)", enabled=progress):
        stop = min(start + _CHUNK, n_boot)
        v = draw_multipliers(rng, (stop - start, mat.n_rows), weights)
        draws[start:stop] = mat.left_multiply(v) / n_units
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / _IQR_NORMAL
    se = np.where(se <= _DEGENERATE, np.nan, se)
    cols = np.arange(mat.n_cols) if sup_columns is None else np.asarray(sup_columns, dtype=np.intp)
    cols = cols[np.isfinite(se[cols])]
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    notes: list[str] = []
    crit = np.nan
    if cols.size:
        t_max = np.max(np.abs(draws[:, cols] / se[cols]), axis=1)
        t_max = t_max[np.isfinite(t_max)]
        if t_max.size:
            crit = float(np.quantile(t_max, 1.0 - alpha, method="inverted_cdf"))
    # safeguards of R did: fall back to the pointwise value if the sup-t value is unusable
    if not np.isfinite(crit):
        if cols.size:
            notes.append("The simultaneous critical value could not be computed; pointwise intervals are used.")
        crit = z
    elif crit < z:
        notes.append(
            "The simultaneous critical value was smaller than the pointwise one; pointwise intervals are used."
        )
        crit = z
    elif crit >= 7:
        notes.append(
            f"The simultaneous critical value ({crit:.2f}) is arguably too large to be reliable; this happens "
            "with few units per cohort or little variation in the outcome."
        )
    fallback = crit == z
    return BootstrapResult(
        std_error=se, crit=crit, n_boot=n_boot, weights=weights, draws=draws, notes=tuple(notes),
        pointwise_fallback=fallback,
    )
