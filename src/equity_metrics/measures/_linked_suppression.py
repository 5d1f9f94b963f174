"""Complementary suppression across linked tables of counts, audited by integer programming.

A set of published tables is described as one list of count *cells* (each published
or hidden), *internal* counts that are never published (e.g. monthly counts behind a
rolling 12-month window) and the linear relations a reader knows hold between them
(a total equals the sum of its parts, one table's cell is another's, one count is at
most another).  :func:`protect_linked` hides further published cells until every
hidden cell passes :func:`audit_linked`: an attacker who knows every published cell,
every relation and that counts are non-negative integers (and that hidden cells are
at least their ``lower`` bound, e.g. 1 when zeros are always published) cannot pin
the cell inside the minimum protection interval.

Protection rule (``threshold`` ``n``)
    For each hidden cell the attacker's integer feasibility interval ``[L, U]`` must
    satisfy ``L >= n`` (the cell is provably not a small count: nothing to protect)
    or both ``U >= n`` and ``U - L >= n - 1``: the attacker cannot exclude a
    publishable count (upper protection level ``n - x`` for a cell of ``x``) and the
    interval is at least as wide as the range of suppressed counts ``1 .. n - 1``.
    The rule is applied to every hidden cell, primary or complementary, so the shape
    of an interval does not tell a reader which kind of cell it is.

Method
    Greedy with audit and repair: each failing cell gets the cheapest set of further
    suppressions that lets it move far enough (a linear programme over deviations of
    the published cells, costs per cell; integer programme if the relaxation is not
    enough), then is audited again by exact integer programming
    (:func:`scipy.optimize.milp`).  Hiding a cell only widens every interval, so a
    cell that passed stays passed.  Deterministic (fixed order, HiGHS).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix, lil_matrix

from .._results import ResultBase
from ..errors import DataValidationError

__all__ = ["LinkedCells", "LinkedResult", "protect_linked", "audit_linked"]

_EPS = 1e-6


@dataclass
class LinkedCells:
    """Cells of linked tables and the relations a reader knows between them.

    Examples
    --------
    >>> lc = LinkedCells()
    >>> for k, v in {"a": 3, "b": 40, "c": 12}.items():
    ...     _ = lc.cell(k, v, primary=v < 10)
    >>> _ = lc.cell("total", 55)
    >>> lc.equal(["a", "b", "c"], ["total"])
    >>> len(lc), lc.n_relations
    (4, 1)
    """

    keys: list[Hashable] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    hidden: list[bool] = field(default_factory=list)
    primary: list[bool] = field(default_factory=list)
    internal: list[bool] = field(default_factory=list)
    lower: list[int] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    unit: list[Hashable] = field(default_factory=list)
    _index: dict[Hashable, int] = field(default_factory=dict)
    _rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def n_relations(self) -> int:
        """Number of linear relations."""
        return len(self._rows)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._index

    def index(self, key: Hashable) -> int:
        """Position of a cell."""
        try:
            return self._index[key]
        except KeyError:
            raise DataValidationError(f"linked suppression: no cell {key!r}; add it with cell() first.") from None

    def _add(self, key, value, hidden, primary, internal, lower, cost, unit) -> int:
        if key in self._index:
            raise DataValidationError(f"linked suppression: cell {key!r} added twice; keys must be unique.")
        self._index[key] = len(self.keys)
        self.keys.append(key)
        self.values.append(float(value) if value is not None and not pd.isna(value) else np.nan)
        self.hidden.append(bool(hidden))
        self.primary.append(bool(primary))
        self.internal.append(bool(internal))
        self.lower.append(int(lower))
        self.cost.append(float(cost))
        self.unit.append(key if unit is None else unit)
        return len(self.keys) - 1

    def cell(self, key: Hashable, value: float | None, *, hidden: bool = False, primary: bool = False,
             lower: int = 1, cost: float = 1.0, unit: Hashable | None = None) -> int:
        """Add a publishable count.

        ``value`` may be ``None``/NaN only for a cell already hidden (its value is
        then unknown to the method too).  ``primary`` cells are hidden from the start.
        ``lower`` is what a reader knows a hidden cell is at least (1 when zeros are
        always published and never hidden).  ``cost`` is the price of hiding it as a
        complement (``inf``: never).  Cells sharing a ``unit`` are hidden together.
        """
        hidden = hidden or primary
        if not hidden and (value is None or pd.isna(value)):
            raise DataValidationError(f"linked suppression: published cell {key!r} needs a value.")
        return self._add(key, value, hidden, primary, False, lower, cost, unit)

    def internal_count(self, key: Hashable) -> int:
        """Add a count that is never published (a non-negative integer unknown)."""
        return self._add(key, None, True, False, True, 0, np.inf, None)

    def relation(self, terms: Mapping[Hashable, float], lo: float, hi: float) -> None:
        """Add ``lo <= sum(coef * cell) <= hi``."""
        row: dict[int, float] = {}
        for k, c in terms.items():
            i = self.index(k)
            row[i] = row.get(i, 0.0) + float(c)
        row = {i: c for i, c in row.items() if c != 0}
        if row:
            self._rows.append((row, float(lo), float(hi)))

    def equal(self, plus: Iterable[Hashable], minus: Iterable[Hashable] = (), const: float = 0.0) -> None:
        """Add ``sum(plus) - sum(minus) == const``."""
        terms: dict[Hashable, float] = {}
        for k in plus:
            terms[k] = terms.get(k, 0.0) + 1.0
        for k in minus:
            terms[k] = terms.get(k, 0.0) - 1.0
        self.relation(terms, const, const)

    def at_most(self, plus: Iterable[Hashable], minus: Iterable[Hashable] = (), const: float = 0.0) -> None:
        """Add ``sum(plus) - sum(minus) <= const``."""
        terms: dict[Hashable, float] = {}
        for k in plus:
            terms[k] = terms.get(k, 0.0) + 1.0
        for k in minus:
            terms[k] = terms.get(k, 0.0) - 1.0
        self.relation(terms, -np.inf, const)

    def matrix(self) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
        """The relations as ``lo <= A x <= hi``."""
        A = lil_matrix((len(self._rows), len(self.keys)))
        lo, hi = np.empty(len(self._rows)), np.empty(len(self._rows))
        for r, (row, a, b) in enumerate(self._rows):
            for i, c in row.items():
                A[r, i] = c
            lo[r], hi[r] = a, b
        return A.tocsr(), lo, hi


@dataclass(frozen=True)
class LinkedResult(ResultBase):
    """Outcome of :func:`protect_linked`.

    ``hidden`` is the reader-safe mask (one kind of hidden cell); ``primary`` and
    ``secondary`` are the analyst-side split (cells hidden on entry that were not
    marked primary count as ``initial``).  ``intervals`` holds the attacker's
    ``low``/``high`` for every hidden cell; ``unprotected`` the cells still failing.
    """

    keys: tuple[Hashable, ...]
    hidden: np.ndarray
    primary: np.ndarray
    initial: np.ndarray
    secondary: np.ndarray
    intervals: pd.DataFrame
    threshold: int
    unprotected: tuple[Hashable, ...] = ()

    @property
    def n_hidden(self) -> int:
        """Number of hidden publishable cells."""
        return int(self.hidden.sum())

    def mask(self) -> dict[Hashable, bool]:
        """Reader-safe mask: cell key -> hidden (no primary/secondary distinction)."""
        return {k: bool(h) for k, h in zip(self.keys, self.hidden)}

    def tidy(self) -> pd.DataFrame:
        """Analyst-side table of hidden cells: ``cell, kind, low, high``."""
        kind = np.where(self.primary, "primary", np.where(self.secondary, "secondary", "initial"))
        rows = [(k, kd) for k, kd, h in zip(self.keys, kind, self.hidden) if h]
        out = pd.DataFrame(rows, columns=["cell", "kind"])
        return out.merge(self.intervals, on="cell", how="left")

    def summary(self) -> str:
        """One line."""
        s = (f"Linked suppression (threshold {self.threshold}): {int(self.primary.sum())} primary, "
             f"{int((self.initial & ~self.primary).sum())} hidden on entry, {int(self.secondary.sum())} added")
        return s + (f"; {len(self.unprotected)} NOT protected" if self.unprotected else "; all protected")

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.tidy().to_html(index=False)


# ----------------------------------------------------------------------------- attacker
class _Model:
    """The relations with published cells substituted: bounds for the attacker."""

    def __init__(self, lc: LinkedCells) -> None:
        self.lc = lc
        self.A, self.lo, self.hi = lc.matrix()
        self.A_csc = self.A.tocsc()
        vals = np.asarray(lc.values, float)
        self.big = 10.0 * float(np.nansum(np.abs(vals))) + 1e6
        fixed = ~(np.asarray(lc.hidden, bool) | np.asarray(lc.internal, bool))
        closed = np.asarray((abs(self.A) @ (~fixed).astype(float)) == 0).ravel()
        ax = self.A @ np.nan_to_num(vals * fixed)
        broken = closed & ((ax < self.lo - 1e-6) | (ax > self.hi + 1e-6))
        if broken.any():
            r = int(np.flatnonzero(broken)[0])
            names = [lc.keys[i] for i in self.A.indices[self.A.indptr[r]:self.A.indptr[r + 1]]]
            raise DataValidationError(f"linked suppression: the published cells {names[:6]} break a relation given "
                                      "for them; check the table links.")

    def bounds(self, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vals = np.nan_to_num(np.asarray(self.lc.values, float))
        lb = np.where(free, np.asarray(self.lc.lower, float), vals)
        ub = np.where(free, self.big, vals)
        return lb, ub

    def component(self, free: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Free variables linked to ``k`` through relations, and those relations."""
        A = self.A_csc
        Ar = self.A
        seen_v = {k}
        seen_r: set[int] = set()
        todo = [k]
        while todo:
            v = todo.pop()
            for r in A.indices[A.indptr[v]:A.indptr[v + 1]]:
                if r in seen_r:
                    continue
                seen_r.add(int(r))
                for u in Ar.indices[Ar.indptr[r]:Ar.indptr[r + 1]]:
                    if free[u] and u not in seen_v:
                        seen_v.add(int(u))
                        todo.append(int(u))
        return np.array(sorted(seen_v), int), np.array(sorted(seen_r), int)

    def interval(self, free: np.ndarray, k: int, need_low: bool = True) -> tuple[float, float]:
        """Integer feasibility interval of cell ``k`` given which cells are free (hidden)."""
        cols, rows = self.component(free, k)
        self.last_rows = rows
        lb_all, ub_all = self.bounds(free)
        if rows.size == 0:
            return float(lb_all[k]), np.inf
        sub = self.A[rows]
        fixed = np.ones(len(self.lc), bool)
        fixed[cols] = False
        offset = sub[:, fixed] @ lb_all[fixed]
        Af = sub[:, cols]
        lo, hi = self.lo[rows] - offset, self.hi[rows] + 0 - offset
        b = Bounds(lb_all[cols], ub_all[cols])
        con = LinearConstraint(Af, lo, hi)
        pos = int(np.flatnonzero(cols == k)[0])
        c = np.zeros(cols.size)
        c[pos] = -1.0
        res_hi = _solve(c, b, con)
        if res_hi.status != 0:
            raise DataValidationError(
                f"linked suppression: the relations have no non-negative integer solution around {self.lc.keys[k]!r} "
                f"({res_hi.message}); a relation does not hold for these tables: check the table links.")
        high = -float(res_hi.fun)
        high = np.inf if high >= self.big - 0.5 else float(round(high))
        if not need_low:
            return np.nan, high
        c[pos] = 1.0
        res_lo = _solve(c, b, con)
        low = float(round(res_lo.fun)) if res_lo.status == 0 else float(lb_all[k])
        return low, high


def _solve(c: np.ndarray, b: Bounds, con: LinearConstraint):
    """Integer optimum: the linear relaxation when its optimal vertex is integral (often, for sums), else branch and bound."""
    lp = milp(c, integrality=np.zeros(c.size), bounds=b, constraints=con)
    if lp.status == 0 and np.all(np.abs(lp.x - np.round(lp.x)) < 1e-9):
        return lp
    return milp(c, integrality=np.ones(c.size), bounds=b, constraints=con)


def _passes(low: float, high: float, n: int) -> bool:
    return bool(low >= n or (high >= n and high - low >= n - 1))


def audit_linked(cells: LinkedCells, *, threshold: int, hidden: np.ndarray | None = None) -> pd.DataFrame:
    """Attacker's integer feasibility interval for every hidden (non-internal) cell.

    Returns
    -------
    pandas.DataFrame
        ``cell``, ``low``, ``high``, ``protected`` (the rule of the module docstring).

    Examples
    --------
    >>> lc = LinkedCells()
    >>> _ = lc.cell("a", 1, primary=True); _ = lc.cell("b", 12); _ = lc.cell("t", 13)
    >>> lc.equal(["a", "b"], ["t"])
    >>> audit_linked(lc, threshold=10)[["cell", "low", "high", "protected"]]
      cell  low  high  protected
    0    a  1.0   1.0      False
    """
    m = _Model(cells)
    free = np.asarray(cells.hidden, bool) if hidden is None else np.asarray(hidden, bool) | np.asarray(cells.internal)
    rows = []
    for k in np.flatnonzero(free & ~np.asarray(cells.internal, bool)):
        lo, hi = m.interval(free, int(k))
        rows.append((cells.keys[k], lo, hi, _passes(lo, hi, threshold)))
    return pd.DataFrame(rows, columns=["cell", "low", "high", "protected"])


# ----------------------------------------------------------------------------- repair
def _repair(m: _Model, free: np.ndarray, k: int, side: str, target: float, integer: bool) -> list[int]:
    """Cheapest published cells to hide so that cell ``k`` can reach ``target``."""
    lc = m.lc
    n = len(lc)
    vals = np.nan_to_num(np.asarray(lc.values, float))
    cost = np.asarray(lc.cost, float)
    cand = ~free & np.isfinite(cost) & (vals >= np.asarray(lc.lower))
    ci = np.flatnonzero(cand)
    nc = ci.size
    # variables: z (n), p (nc), q (nc);  z_j = v_j + p - q for candidates
    lb_z, ub_z = m.bounds(free)
    lb_z, ub_z = lb_z.copy(), ub_z.copy()
    lb_z[ci], ub_z[ci] = np.asarray(lc.lower, float)[ci], m.big
    if side == "up":
        lb_z[k] = max(lb_z[k], target)
    else:
        ub_z[k] = min(ub_z[k], target)
    if lb_z[k] > ub_z[k]:
        return []
    link = lil_matrix((nc, n + 2 * nc))
    for r, j in enumerate(ci):
        link[r, j] = 1.0
        link[r, n + r] = -1.0
        link[r, n + nc + r] = 1.0
    from scipy.sparse import hstack, vstack

    A = vstack([hstack([m.A, csr_matrix((m.A.shape[0], 2 * nc))]), link.tocsr()]).tocsr()
    lo = np.concatenate([m.lo, vals[ci]])
    hi = np.concatenate([m.hi, vals[ci]])
    # tiny index-ordered tie-break keeps the choice deterministic
    c = np.concatenate([np.zeros(n), cost[ci] + 1e-6 * np.arange(nc), cost[ci] + 1e-6 * np.arange(nc)])
    lb = np.concatenate([lb_z, np.zeros(2 * nc)])
    ub = np.concatenate([ub_z, np.full(2 * nc, m.big)])
    if integer:
        res = milp(c, integrality=np.ones(c.size), bounds=Bounds(lb, ub), constraints=LinearConstraint(A, lo, hi))
        x = res.x if res.status == 0 else None
    else:
        A_ub = vstack([A, -A]).tocsr()
        b_ub = np.concatenate([hi, -lo])
        keep = np.isfinite(b_ub)
        res = linprog(c, A_ub=A_ub[keep], b_ub=b_ub[keep], bounds=list(zip(lb, ub)), method="highs")
        x = res.x if res.status == 0 else None
    if x is None:
        return []
    move = x[n:n + nc] + x[n + nc:]
    return [int(ci[r]) for r in np.flatnonzero(move > _EPS)]


def protect_linked(cells: LinkedCells, *, threshold: int, max_rounds: int = 200) -> LinkedResult:
    """Hide further cells until every hidden cell of the linked tables is protected.

    Parameters
    ----------
    cells
        The cells and relations (:class:`LinkedCells`); primary and already hidden
        cells stay hidden.
    threshold
        ``n``: the minimum protection interval of the module docstring.
    max_rounds
        Repairs per failing cell before it is reported as unprotected.

    Returns
    -------
    LinkedResult

    Examples
    --------
    Northshire's "Other" searches: 13 in the headline, by object 11 + 1 + 1 with
    zeros published.  Hiding only the two 1s pins both (each is exactly 1):

    >>> lc = LinkedCells()
    >>> _ = lc.cell("headline", 13, cost=10.0)  # dearer to hide than a by-object cell
    >>> for k, v in {"drugs": 11, "theft": 1, "stolen": 1}.items():
    ...     _ = lc.cell(k, v, primary=v < 10)
    >>> lc.equal(["drugs", "theft", "stolen"], ["headline"])
    >>> res = protect_linked(lc, threshold=10)
    >>> sorted(k for k, h in res.mask().items() if h)
    ['drugs', 'stolen', 'theft']
    >>> res.tidy()[["cell", "kind", "low", "high"]]
         cell       kind  low  high
    0   drugs  secondary  1.0  11.0
    1   theft    primary  1.0  11.0
    2  stolen    primary  1.0  11.0
    """
    n = int(threshold)
    lc = cells
    internal = np.asarray(lc.internal, bool)
    free = np.asarray(lc.hidden, bool) | internal
    initial = free & ~internal
    units: dict[Hashable, list[int]] = {}
    for i, u in enumerate(lc.unit):
        units.setdefault(u, []).append(i)
    for i in np.flatnonzero(initial):
        free[units[lc.unit[i]]] = True
    m = _Model(lc)
    done: dict[int, tuple[float, float]] = {}
    seen: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    bad: list[int] = []
    if n > 1:
        queue = [int(k) for k in np.flatnonzero(free & ~internal)]
        while queue:
            k = queue.pop(0)
            lo, hi = m.interval(free, k)
            tries = 0
            while not _passes(lo, hi, n) and tries < max_rounds:
                tries += 1
                if hi < n:
                    side, target = "up", float(n)
                elif hi - (n - 1) >= lc.lower[k]:
                    side, target = "down", hi - (n - 1)
                else:
                    side, target = "up", float(lc.lower[k] + n - 1)
                new = _repair(m, free, k, side, target, integer=False) or _repair(m, free, k, side, target, integer=True)
                if not new:
                    break
                for j in new:
                    for u in units[lc.unit[j]]:
                        if not free[u]:
                            free[u] = True
                            queue.append(u)
                lo, hi = m.interval(free, k)
            done[k] = (lo, hi)
            seen[k] = (free.copy(), m.last_rows)
            if not _passes(lo, hi, n):
                bad.append(k)
        # cells that passed early stay passed (hiding only widens intervals); refresh the numbers
        # of cells audited before later complements were added
        for k in list(done):
            before, rows = seen[k]
            later = np.flatnonzero(free & ~before)
            touched = {int(r) for j in later for r in m.A_csc.indices[m.A_csc.indptr[j]:m.A_csc.indptr[j + 1]]}
            if touched & set(rows.tolist()):
                done[k] = m.interval(free, k)
    hidden = free & ~internal
    rows = [(lc.keys[k], *done.get(k, (np.nan, np.nan))) for k in np.flatnonzero(hidden)]
    iv = pd.DataFrame(rows, columns=["cell", "low", "high"])
    primary = np.asarray(lc.primary, bool)
    return LinkedResult(tuple(lc.keys), hidden, primary, initial, hidden & ~initial, iv, n,
                        tuple(lc.keys[k] for k in sorted(set(bad)) if not _passes(*done[k], n)))
