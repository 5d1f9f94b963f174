"""R's natural cubic spline basis, ``splines::ns`` (R >= 2.15), in numpy/scipy.

R builds the cubic B-spline basis on the knots ``(b0, b0, b0, b0, interior..., b1, b1, b1, b1)``,
drops the first column (``intercept = FALSE``), and projects out the two constraints "second
derivative zero at each boundary knot": with ``C`` the (columns x 2) matrix of the basis functions'
second derivatives at the two boundary knots, ``Q`` the full orthogonal factor of the Householder QR
decomposition of ``C`` (LINPACK ``dqrdc2``, as ``qr()`` uses), the basis is ``B @ Q[:, 2:]``
(``t(qr.qty(qr(t(const)), t(basis)))[, -(1:2)]``). Interior knots for a given ``df`` are the
``(1..df-1)/df`` quantiles of ``x`` (R's default type 7); boundary knots are ``range(x)``. Values
outside the boundary knots are extrapolated linearly, as R does.

Checked against R output stored in ``tests/results/r_splines_ns.json`` (see its note).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import BSpline

from ..errors import DataValidationError

ORDER = 4  # cubic


def weighted_quantile_type7(x: np.ndarray, probs: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """R's ``quantile(type = 7)`` of ``x`` repeated ``weights`` times (integer frequency weights).

    Equals ``np.quantile(np.repeat(x, weights), probs)`` without building the repeated vector, so
    knots placed on a table of counts are those of the row-level data.
    """
    x = np.asarray(x, float)
    probs = np.asarray(probs, float)
    if weights is None:
        return np.quantile(x, probs) if x.size else np.full(probs.shape, np.nan)
    w = np.asarray(weights, float)
    if np.any(w < 0) or np.any(w != np.round(w)):
        raise DataValidationError("spline knots from counts need non-negative whole-number counts; "
                                  "check the count columns")
    keep = w > 0
    x, w = x[keep], w[keep].astype(np.int64)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    n = int(w.sum())
    if n == 0:
        return np.full(probs.shape, np.nan)
    cum = np.cumsum(w)  # the k-th (0-based) element of the repeated sorted vector is x[searchsorted(cum, k, 'right')]
    h = (n - 1) * probs
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    xlo = x[np.searchsorted(cum, lo, side="right")]
    xhi = x[np.searchsorted(cum, hi, side="right")]
    return xlo + (h - lo) * (xhi - xlo)


def _householder_q(a: np.ndarray) -> np.ndarray:
    """Full orthogonal ``Q`` (n x n) of the Householder QR of ``a`` (n x p, full column rank), LINPACK signs.

    LINPACK ``dqrdc2`` reflects column l with ``u = x / (sign(x_l) ||x||) + e_l`` (a reflection even
    when the part below the diagonal is already zero, where LAPACK would skip it); ``Q = H_1 H_2 ... H_p``.
    """
    a = np.array(a, float)
    n, p = a.shape
    q = np.eye(n)
    for col in range(p):
        x = a[col:, col]
        norm = np.sqrt(np.sum(x * x))
        if norm == 0.0:
            continue
        if x[0] != 0.0:
            norm = np.copysign(norm, x[0])
        u = x / norm
        u[0] += 1.0
        # H = I - u u^T / u_0 on rows col..n-1
        h = np.eye(n)
        h[col:, col:] -= np.outer(u, u) / u[0]
        a = h @ a
        q = q @ h
    return q


class NaturalSpline:
    """A natural cubic spline basis with its knots fixed (R ``ns``'s ``predict`` semantics).

    Build with :meth:`from_data` (knots from the data, as ``ns(x, df = df)``) and evaluate with
    :meth:`basis` on the same or new values.
    """

    __slots__ = ("knots", "boundary_knots", "_all_knots", "_q")

    def __init__(self, knots, boundary_knots):
        self.knots = np.sort(np.asarray(knots, float).ravel())
        b = np.asarray(boundary_knots, float).ravel()
        if b.size != 2 or not b[0] < b[1]:
            raise DataValidationError(
                f"a natural spline needs two distinct boundary knots (got {b.tolist()}): the time "
                "variable takes a single value in the data; widen the window or lower spline_df"
            )
        self.boundary_knots = b
        self._all_knots = np.concatenate([np.repeat(b[0], ORDER), self.knots, np.repeat(b[1], ORDER)])
        # second derivatives of the B-splines (first dropped) at the two boundary knots
        const = self._design(b, deriv=2)[:, 1:]  # 2 x (ncol - 1)
        self._q = _householder_q(const.T)

    @classmethod
    def from_data(cls, x, df: int, *, weights=None) -> "NaturalSpline":
        """Knots as R's ``ns(x, df = df)``: ``df - 1`` interior knots at quantiles, boundary at the range."""
        x = np.asarray(x, float)
        if int(df) != df or df < 1:
            raise DataValidationError(f"spline df must be a whole number >= 1 (got {df!r})")
        df = int(df)
        if weights is not None:
            keep = np.asarray(weights) > 0
            lo, hi = (x[keep].min(), x[keep].max()) if keep.any() else (np.nan, np.nan)
        else:
            lo, hi = (x.min(), x.max()) if x.size else (np.nan, np.nan)
        n_interior = df - 1
        probs = np.linspace(0.0, 1.0, n_interior + 2)[1:-1]
        knots = weighted_quantile_type7(x, probs, weights) if n_interior else np.array([])
        return cls(knots, [lo, hi])

    @property
    def df(self) -> int:
        return self.knots.size + 1

    def _design(self, x: np.ndarray, deriv: int = 0) -> np.ndarray:
        t = self._all_knots
        ncol = t.size - ORDER
        out = np.empty((np.size(x), ncol))
        for j in range(ncol):
            c = np.zeros(ncol)
            c[j] = 1.0
            spl = BSpline(t, c, ORDER - 1, extrapolate=True)
            out[:, j] = spl(x, nu=deriv) if deriv else spl(x)
        return out

    def basis(self, x) -> np.ndarray:
        """The (n x df) basis at ``x`` (linear beyond the boundary knots, as R)."""
        x = np.asarray(x, float).ravel()
        b0, b1 = self.boundary_knots
        raw = np.empty((x.size, self._all_knots.size - ORDER))
        inside = (x >= b0) & (x <= b1)
        if inside.any():
            raw[inside] = self._design(x[inside])
        for side, k in ((x < b0, b0), (x > b1, b1)):
            if side.any():
                val = self._design(np.array([k]))
                slope = self._design(np.array([k]), deriv=1)
                raw[side] = val + (x[side] - k)[:, None] * slope
        return raw[:, 1:] @ self._q[:, 2:]


def ns(x, df: int, *, weights=None) -> np.ndarray:
    """R's ``splines::ns(x, df = df)`` basis (``intercept = FALSE``) as an (n x df) array.

    Examples
    --------
    >>> import numpy as np
    >>> ns(np.arange(58.0, 73.0), df=5).shape
    (15, 5)
    """
    return NaturalSpline.from_data(x, df, weights=weights).basis(x)
