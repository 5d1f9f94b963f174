"""Influence functions of covariate-free ATT(g, t) as a linear map of the outcome matrix.

Without covariates every group-time ATT of Callaway & Sant'Anna is a difference
of mean outcome changes between the treated cohort and a union of comparison
cohorts, so its influence function on unit ``i`` of cohort ``c`` is::

    IF[i, j] = coef[c, j] * (y_i[cur_j] - y_i[base_j] - m[c, j])

with ``coef = n / n_T`` on the treated cohort, ``-n / n_C`` on comparison
cohorts and 0 elsewhere, and ``m`` the mean change of the unit's side.  Writing
``zc_i`` for the unit's outcomes centred on its cohort means, this is
``zc_i @ Q_c[:, j] + a[c, j]`` where ``Q_c`` (periods x cells, two non-zeros per
cell) and ``a`` are small.  :class:`LinearInfluence` stores only ``zc``,
``Q`` and ``a`` and implements the reductions that the estimator needs
(column sums of squares, products with aggregation weights, multiplier-bootstrap
products, cluster sums, materialisation) with a few matrix products, never the
``units x cells`` matrix.  It has the interface of
:class:`~equity_metrics.models.did._influence.InfluenceMatrix`.

Rows may be *pseudo-rows* (sums of several units of one cohort: used for
cluster sums), each with a count ``w`` of the units it sums; ``out_row`` maps
pseudo-rows to output rows.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from scipy import sparse

__all__ = ["LinearInfluence", "single_thread_blas"]

_CHUNK_COLS = 512
_F = TypeVar("_F", bound=Callable[..., Any])
_CONTROLLER: list = []


def _blas_limit() -> contextlib.AbstractContextManager:
    """Context in which BLAS runs on one thread (a no-op without threadpoolctl).

    The products here are many small matrices (a cohort's units x periods);
    a multi-threaded BLAS gains nothing on them and, on a machine whose cores
    are busy, every call can wait a scheduler slice for its sleeping threads
    (measured: 20x slower at load 6 on 2 cores).  Same policy as scikit-learn's
    k-means.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def single_thread_blas(fn: _F) -> _F:
    """Decorator: run ``fn`` with single-threaded BLAS (see :func:`_blas_limit`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _blas_limit():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class LinearInfluence:
    """An ``n_rows x n_cols`` influence matrix ``IF = agg @ (Zc Q + w a)`` (see module docstring).

    Parameters
    ----------
    n_rows
        Output rows (units, or clusters after :meth:`cluster_sum`).
    zc
        ``(P, T)`` centred outcome sums of the pseudo-rows, sorted by cohort.
    w
        ``(P,)`` number of units summed in each pseudo-row.
    bounds
        ``(K + 1,)`` start of each cohort's pseudo-rows in ``zc``.
    out_row
        ``(P,)`` output row of each pseudo-row.
    coef, a
        ``(K, n_cols)`` coefficient and constant term of each cohort in each cell.
    cur, base
        ``(n_cols,)`` period indices of the two periods of each cell.
    nan_cols, nan_support
        Cells whose influence function is ``nan`` on the units of the cohorts
        flagged in ``nan_support`` (``(K, len(nan_cols))``), as the reference
        implementation returns when DRDID's propensity-score trimming removes
        every comparison unit.
    ss
        ``(K, T, T)`` within-cohort cross-products of ``zc`` (unit rows only;
        ``None`` after a cluster sum).
    """

    def __init__(
        self,
        *,
        n_rows: int,
        zc: np.ndarray,
        w: np.ndarray,
        bounds: np.ndarray,
        out_row: np.ndarray,
        coef: np.ndarray,
        a: np.ndarray,
        cur: np.ndarray,
        base: np.ndarray,
        nan_cols: np.ndarray,
        nan_support: np.ndarray,
        ss: np.ndarray | None,
    ) -> None:
        self.n_rows = int(n_rows)
        self.zc = zc
        self.w = w
        self.bounds = bounds
        self.out_row = out_row
        self.coef = coef
        self.a = a
        self.cur = cur
        self.base = base
        self.nan_cols = nan_cols
        self.nan_support = nan_support
        self.ss = ss
        self.n_cohorts, self.n_cols = coef.shape
        self.n_periods = zc.shape[1]
        self._identity = ss is not None and zc.shape[0] == self.n_rows
        k, t = self.n_cohorts, self.n_periods
        ci, cj = np.nonzero(coef)
        val = coef[ci, cj]
        self.q = sparse.csr_matrix(
            (np.concatenate([val, -val]), (np.concatenate([ci * t + cur[cj], ci * t + base[cj]]), np.concatenate([cj, cj]))),
            shape=(k * t, self.n_cols),
        )
        self._agg = None
        if not self._identity:
            p = zc.shape[0]
            self._agg = sparse.csr_matrix((np.ones(p), (out_row, np.arange(p))), shape=(self.n_rows, p))

    # -- helpers -------------------------------------------------------------------------------
    def _cohort_of_rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_cohorts), np.diff(self.bounds))

    def _scatter(self, f: np.ndarray) -> np.ndarray:
        """Pseudo-row values ``(P, L)`` -> output rows ``(n_rows, L)``."""
        if self._identity:
            out = np.empty_like(f)
            out[self.out_row] = f
            return out
        return np.asarray(self._agg @ f)

    def _apply(self, bm: np.ndarray, am: np.ndarray) -> np.ndarray:
        """``F = zc_c @ bm[c] + w * am[c]`` for every cohort block, stacked ``(P, L)``."""
        f = np.empty((self.zc.shape[0], bm.shape[2]))
        for c in range(self.n_cohorts):
            s, e = self.bounds[c], self.bounds[c + 1]
            if e > s:
                np.matmul(self.zc[s:e], bm[c], out=f[s:e])
                f[s:e] += self.w[s:e, None] * am[c]
        return f

    def _nan_rows_mask(self, cols_mask: np.ndarray) -> np.ndarray:
        """``(K, L)``: cohorts whose rows are ``nan`` in output column ``l``; ``cols_mask`` is ``(n_nan, L)``."""
        return (self.nan_support.astype(float) @ cols_mask.astype(float)) > 0

    # -- reductions (interface of InfluenceMatrix) ----------------------------------------------
    @single_thread_blas
    def col_sumsq(self) -> np.ndarray:
        """Column sums of squares, shape ``(n_cols,)``."""
        if self.ss is not None and self._identity:
            cur, base = self.cur, self.base
            ss = self.ss
            q = ss[:, cur, cur] + ss[:, base, base] - 2.0 * ss[:, cur, base]  # (K, cells)
            sizes = np.diff(self.bounds).astype(float)
            out = np.einsum("kj,kj->j", self.coef * self.coef, q) + sizes @ (self.a * self.a)
        else:
            out = np.empty(self.n_cols)
            for s in range(0, self.n_cols, _CHUNK_COLS):
                cols = np.arange(s, min(s + _CHUNK_COLS, self.n_cols))
                d = self.to_dense(cols)
                out[cols] = np.einsum("ij,ij->j", d, d)
        if self.nan_cols.size:
            out[self.nan_cols] = np.nan
        return out

    @single_thread_blas
    def combine(self, weights: np.ndarray) -> np.ndarray:
        """Return ``M @ weights`` as a dense ``(n_rows, L)`` array."""
        weights = np.asarray(weights, dtype=float)
        k, t = self.n_cohorts, self.n_periods
        lw = weights.shape[1]
        bm = np.asarray((self.q @ sparse.csc_matrix(weights)).todense()).reshape(k, t, lw)
        am = self.a @ weights
        f = self._apply(bm, am)
        if self.nan_cols.size:
            hit = weights[self.nan_cols] != 0
            if hit.any():
                mask = self._nan_rows_mask(hit)[self._cohort_of_rows()]
                f[mask] = np.nan
        return self._scatter(f)

    @single_thread_blas
    def combine_sumsq(self, weights: np.ndarray, cohort_shift: np.ndarray) -> np.ndarray:
        """Column sums of squares of ``M @ weights + cohort_shift[cohort of row]`` without forming it.

        ``cohort_shift`` is ``(K, L)`` (a constant per cohort, e.g. the
        weight-estimation term of an aggregation).  Uses the within-cohort
        cross-products: ``sum_c diag(B_c' SS_c B_c) + n_c (A_c + shift_c)**2``.
        Unit rows only (before :meth:`cluster_sum`).
        """
        if self.ss is None or not self._identity:  # pragma: no cover - internal misuse
            raise ValueError("combine_sumsq needs unit rows")
        weights = np.asarray(weights, dtype=float)
        k, t = self.n_cohorts, self.n_periods
        lw = weights.shape[1]
        bm = np.asarray((self.q @ sparse.csc_matrix(weights)).todense()).reshape(k, t, lw)
        am = self.a @ weights + cohort_shift
        sizes = np.diff(self.bounds).astype(float)
        quad = np.einsum("ktl,ktl->l", bm, np.matmul(self.ss, bm))
        out = quad + sizes @ (am * am)
        if self.nan_cols.size:
            hit = (weights[self.nan_cols] != 0).any(axis=0)
            out[hit] = np.nan
        return out

    @single_thread_blas
    def left_multiply(self, v: np.ndarray) -> np.ndarray:
        """Return ``v @ M`` for a dense ``v`` of shape ``(B, n_rows)``; result ``(B, n_cols)``."""
        v = np.asarray(v, dtype=float)
        u = v[:, self.out_row]
        nb = v.shape[0]
        k, t = self.n_cohorts, self.n_periods
        uz = np.empty((nb, k, t))
        uw = np.empty((nb, k))
        for c in range(k):
            s, e = self.bounds[c], self.bounds[c + 1]
            uz[:, c] = u[:, s:e] @ self.zc[s:e]
            uw[:, c] = u[:, s:e] @ self.w[s:e]
        out = np.asarray(self.q.T @ uz.reshape(nb, k * t).T).T + uw @ self.a
        if self.nan_cols.size:
            out[:, self.nan_cols] = np.nan
        return out

    @single_thread_blas
    def to_dense(self, cols: np.ndarray | None = None) -> np.ndarray:
        """Materialise the matrix (or only columns ``cols``) as a dense array."""
        cols = np.arange(self.n_cols) if cols is None else np.asarray(cols, dtype=np.intp)
        k, t = self.n_cohorts, self.n_periods
        out = np.empty((self.n_rows, cols.size))
        qc = self.q.tocsc()
        coh = None
        for s in range(0, cols.size, _CHUNK_COLS):
            cc = cols[s : s + _CHUNK_COLS]
            bm = qc[:, cc].toarray().reshape(k, t, cc.size)
            f = self._apply(bm, self.a[:, cc])
            if self.nan_cols.size:
                pos = np.flatnonzero(np.isin(cc, self.nan_cols))
                if pos.size:
                    coh = self._cohort_of_rows() if coh is None else coh
                    for p in pos:
                        jj = int(np.flatnonzero(self.nan_cols == cc[p])[0])
                        f[self.nan_support[coh, jj], p] = np.nan
            out[:, s : s + cc.size] = self._scatter(f)
        return out

    def cluster_sum(self, codes: np.ndarray, n_clusters: int) -> LinearInfluence:
        """Sum the rows within clusters (``codes[row]`` in ``0..n_clusters-1``)."""
        codes = np.asarray(codes, dtype=np.int64)
        cl = codes[self.out_row]
        key = self._cohort_of_rows().astype(np.int64) * n_clusters + cl
        uniq, inv = np.unique(key, return_inverse=True)
        p = key.size
        agg = sparse.csr_matrix((np.ones(p), (inv, np.arange(p))), shape=(uniq.size, p))
        zc = np.asarray(agg @ self.zc)
        w = np.asarray(agg @ self.w).ravel()
        bounds = np.searchsorted(uniq // n_clusters, np.arange(self.n_cohorts + 1))
        return LinearInfluence(
            n_rows=n_clusters, zc=zc, w=w, bounds=bounds, out_row=uniq % n_clusters, coef=self.coef, a=self.a,
            cur=self.cur, base=self.base, nan_cols=self.nan_cols, nan_support=self.nan_support, ss=None,
        )

    @property
    def nbytes(self) -> int:
        """Memory used by the stored arrays."""
        extra = 0 if self.ss is None else self.ss.nbytes
        return int(self.zc.nbytes + self.coef.nbytes + self.a.nbytes + self.q.data.nbytes + extra)
