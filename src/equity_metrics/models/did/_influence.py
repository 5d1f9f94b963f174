"""Block-sparse storage of group-time influence functions.

Each group-time ATT only has a non-zero influence function on the units of its
treated cohort and its comparison group.  Cells that share those units (for
example all periods of one cohort against the never treated) are stored as one
dense block ``values[len(rows), len(cols)]``; the full ``n_units x n_cells``
matrix is never built unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["InfluenceMatrix", "cluster_sum_dense"]


def cluster_sum_dense(codes: np.ndarray, n_clusters: int, values: np.ndarray) -> np.ndarray:
    """Sum the rows of ``values`` (``(n, m)``) within clusters ``codes`` -> ``(n_clusters, m)``."""
    from scipy import sparse  # lazy: only needed with clusters

    codes = np.asarray(codes, dtype=np.intp)
    ind = sparse.csr_matrix(
        (np.ones(codes.size), (codes, np.arange(codes.size))), shape=(n_clusters, codes.size)
    )
    return np.asarray(ind @ values)


@dataclass
class _Block:
    rows: np.ndarray  # int unit indices (n_b,)
    cols: np.ndarray  # int cell indices (m_b,)
    values: np.ndarray  # (n_b, m_b)


@dataclass
class InfluenceMatrix:
    """An ``n_rows x n_cols`` matrix stored as disjoint-column dense blocks.

    Parameters
    ----------
    n_rows, n_cols
        Shape of the full matrix.
    """

    n_rows: int
    n_cols: int
    blocks: list[_Block] = field(default_factory=list)

    def add_block(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        """Store the values of columns ``cols`` on rows ``rows`` (zero elsewhere)."""
        self.blocks.append(
            _Block(
                np.asarray(rows, dtype=np.intp),
                np.asarray(cols, dtype=np.intp),
                np.asfortranarray(values, dtype=float),
            )
        )

    # -- reductions -------------------------------------------------------------------------
    def col_sumsq(self) -> np.ndarray:
        """Column sums of squares, shape ``(n_cols,)``."""
        out = np.zeros(self.n_cols)
        for b in self.blocks:
            out[b.cols] = np.einsum("ij,ij->j", b.values, b.values)
        return out

    def combine(self, weights: np.ndarray) -> np.ndarray:
        """Return ``M @ weights`` as a dense ``(n_rows, L)`` array (Fortran order).

        ``weights`` is ``(n_cols, L)``; it is typically very sparse (each cell
        contributes to one aggregation level), which is exploited block by block.
        """
        weights = np.asarray(weights, dtype=float)
        out = np.zeros((self.n_rows, weights.shape[1]), order="F")
        for b in self.blocks:
            wb = weights[b.cols]
            nz_cols = np.flatnonzero(np.any(wb != 0, axis=0))
            if nz_cols.size == 0:
                continue
            wb = wb[:, nz_cols]
            if nz_cols.size == 1:
                out[b.rows, nz_cols[0]] += b.values @ wb[:, 0]
                continue
            nz_per_row = np.count_nonzero(wb, axis=1)
            if nz_per_row.max() <= 1 and np.count_nonzero(wb, axis=0).max() == 1:
                # each used level takes exactly one column of the block: scaled column scatter
                for src in np.flatnonzero(nz_per_row):
                    dst = int(np.flatnonzero(wb[src])[0])
                    col = out[:, nz_cols[dst]]
                    col[b.rows] += b.values[:, src] * wb[src, dst]
            else:
                out[np.ix_(b.rows, nz_cols)] += b.values @ wb
        return out

    def cluster_sum(self, codes: np.ndarray, n_clusters: int) -> InfluenceMatrix:
        """Sum the rows within clusters (``codes[row]`` in ``0..n_clusters-1``)."""
        res = InfluenceMatrix(n_clusters, self.n_cols)
        for b in self.blocks:
            uniq, inv = np.unique(codes[b.rows], return_inverse=True)
            res.add_block(uniq, b.cols, cluster_sum_dense(inv, uniq.size, b.values))
        return res

    def left_multiply(self, v: np.ndarray) -> np.ndarray:
        """Return ``v @ M`` for a dense ``v`` of shape ``(B, n_rows)``; result ``(B, n_cols)``."""
        out = np.zeros((v.shape[0], self.n_cols))
        for b in self.blocks:
            out[:, b.cols] = v[:, b.rows] @ b.values
        return out

    def to_dense(self, cols: np.ndarray | None = None) -> np.ndarray:
        """Materialise the matrix (or only columns ``cols``) as a dense array."""
        if cols is None:
            cols = np.arange(self.n_cols)
        cols = np.asarray(cols, dtype=np.intp)
        pos = np.full(self.n_cols, -1, dtype=np.intp)
        pos[cols] = np.arange(cols.size)
        out = np.zeros((self.n_rows, cols.size))
        for b in self.blocks:
            p = pos[b.cols]
            keep = p >= 0
            if keep.any():
                out[np.ix_(b.rows, p[keep])] = b.values[:, keep]
        return out

    @property
    def nbytes(self) -> int:
        """Memory used by the stored blocks."""
        return int(sum(b.values.nbytes + b.rows.nbytes for b in self.blocks))
