"""Complementary (secondary) suppression internals for :func:`~equity_metrics.measures.suppression.suppress`.

Holds the private algorithms that, given a two-way table and its primary
suppressions, add complements until every hidden cell is protected: lines with a
single hidden cell get a second one, "bridge" cells of the bipartite
row/column graph of hidden cells are broken, and (with the audit on) cells that
non-negativity pins down are found by linear programming, as an attacker would,
and given complements. Re-exported from :mod:`equity_metrics.measures.suppression`.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy.optimize import linprog

_MAX_ROUNDS = 10_000


def _lines(margins: str) -> tuple[bool, bool]:
    return margins in ("both", "rows"), margins in ("both", "columns")


def _pick(values: np.ndarray, cand: np.ndarray, bonus: np.ndarray | None = None) -> int | None:
    """Index of the preferred candidate: bonus first, then smallest; never a zero.

    Zeros are published and never hidden as complements, so a reader knows every
    hidden cell is at least 1 (docs/real-data-rules.md, "Small-number suppression").
    """
    idx = np.flatnonzero(cand & (values > 0))
    if idx.size == 0:
        return None
    b = np.zeros(idx.size) if bonus is None else bonus[idx].astype(float)
    key = np.lexsort((idx, values[idx], values[idx] <= 0, -b))
    return int(idx[key[0]])


def _fix_degrees(x: np.ndarray, s: np.ndarray, rows: bool, cols: bool) -> bool:
    """Add one complement to a line with exactly one suppressed cell.

    Prefers a cell whose crossing line also needs a complement, then a
    positive cell, then the smallest.
    """
    for transpose, active in ((False, rows), (True, cols)):
        if not active:
            continue
        hid, val = (s.T, x.T) if transpose else (s, x)
        cross_n = hid.sum(axis=0)
        for i in np.flatnonzero(hid.sum(axis=1) == 1):
            bonus = (cross_n == 1) if (rows and cols) else None
            j = _pick(val[i], ~hid[i], bonus)
            if j is not None:
                hid[i, j] = True  # a view: updates s
                return True
    return False


def _adjacency(s: np.ndarray) -> list[list[tuple[int, int]]]:
    """Row/column graph of suppressed cells: rows are nodes ``0..r-1``, columns
    ``r..r+c-1``, and each suppressed cell ``(i, j)`` is an edge with id ``i * c + j``."""
    r, c = s.shape
    adj: list[list[tuple[int, int]]] = [[] for _ in range(r + c)]
    for i, j in zip(*np.nonzero(s)):
        i, j = int(i), int(j)
        adj[i].append((r + j, i * c + j))
        adj[r + j].append((i, i * c + j))
    return adj


def _bridges(s: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells that are bridges of the row/column graph (Tarjan, iterative).

    With both margins published, a bridge cell's value equals a difference of
    published totals, so it can be recovered exactly.
    """
    r, c = s.shape
    adj = _adjacency(s)
    n = r + c
    disc = [-1] * n
    low = [0] * n
    out: list[tuple[int, int]] = []
    timer = 0
    for root in range(n):
        if disc[root] != -1 or not adj[root]:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            node, parent_edge, it = stack[-1]
            advanced = False
            for nb, eid in it:
                if eid == parent_edge:
                    continue
                if disc[nb] == -1:
                    disc[nb] = low[nb] = timer
                    timer += 1
                    stack.append((nb, eid, iter(adj[nb])))
                    advanced = True
                    break
                low[node] = min(low[node], disc[nb])
            if advanced:
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > disc[parent]:
                    out.append(divmod(parent_edge, c))
    return sorted(out)


def _reach(adj: list[list[tuple[int, int]]], start: int, skip_edge: int = -1) -> set[int]:
    seen = {start}
    todo = deque([start])
    while todo:
        node = todo.popleft()
        for nb, eid in adj[node]:
            if eid != skip_edge and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    return seen


def _fix_bridge(x: np.ndarray, s: np.ndarray) -> bool:
    """Put one bridge cell (exactly recoverable) on a cycle by adding a complement."""
    r, c = s.shape
    adj = _adjacency(s)
    for i, j in _bridges(s):
        side_a = _reach(adj, i, i * c + j)
        side_b = _reach(adj, r + j, i * c + j)
        rows_a = np.array(sorted(v for v in side_a if v < r), dtype=int)
        cols_a = np.array(sorted(v - r for v in side_a if v >= r), dtype=int)
        rows_b = np.array(sorted(v for v in side_b if v < r), dtype=int)
        cols_b = np.array(sorted(v - r for v in side_b if v >= r), dtype=int)
        cand = np.zeros_like(s)
        if rows_a.size and cols_b.size:
            cand[np.ix_(rows_a, cols_b)] = True
        if rows_b.size and cols_a.size:
            cand[np.ix_(rows_b, cols_a)] = True
        cand &= ~s
        k = _pick(x.ravel(), cand.ravel())
        if k is not None:
            s[np.unravel_index(k, s.shape)] = True
            return True
    return False


def _components(s: np.ndarray) -> list[np.ndarray]:
    """Groups of suppressed cells linked by shared row/column totals (boolean masks)."""
    r, _ = s.shape
    adj = _adjacency(s)
    comps: list[np.ndarray] = []
    seen: set[int] = set()
    for node in range(r):
        if node in seen or not adj[node]:
            continue
        nodes = _reach(adj, node)
        seen |= nodes
        m = np.zeros_like(s)
        m[np.ix_([v for v in nodes if v < r], [v - r for v in nodes if v >= r])] = True
        comps.append(m & s)
    return comps


def _line_system(x: np.ndarray, s: np.ndarray, rows: bool, cols: bool) -> tuple[np.ndarray, np.ndarray]:
    """Equations ``A v = b`` an attacker knows about the suppressed cells ``v``."""
    ii, jj = np.nonzero(s)
    a_eq, b_eq = [], []
    if rows:
        for i in np.unique(ii):
            a_eq.append((ii == i).astype(float))
            b_eq.append(float(x[i, s[i]].sum()))
    if cols:
        for j in np.unique(jj):
            a_eq.append((jj == j).astype(float))
            b_eq.append(float(x[s[:, j], j].sum()))
    return np.vstack(a_eq), np.asarray(b_eq)


def _can_move(x: np.ndarray, comp: np.ndarray, cell: tuple[int, int], rows: bool, cols: bool, tol: float) -> bool:
    """Whether the attacker's interval for ``cell`` has positive width (one or two LPs)."""
    ii, jj = np.nonzero(comp)
    k = int(np.flatnonzero((ii == cell[0]) & (jj == cell[1]))[0])
    A, b = _line_system(x, comp, rows, cols)
    obj = np.zeros(ii.size)
    obj[k] = 1.0
    value = float(x[cell])
    hi = linprog(-obj, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
    if hi.status != 0 or -hi.fun - value > tol:
        return True
    if value <= tol:
        return False
    lo = linprog(obj, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
    return lo.status != 0 or value - lo.fun > tol


def _pinned(x: np.ndarray, s: np.ndarray, rows: bool, cols: bool, tol: float) -> list[tuple[int, int]]:
    """Suppressed cells an attacker can recover exactly.

    One margin: a cell is recoverable when it is alone in its line or its
    line's hidden cells sum to zero.  Both margins: a bridge of the graph of
    hidden cells is recoverable; a positive cell on a cycle of positive
    hidden cells is not (it can be shifted round the cycle).  Only the
    remaining cells (zeros, and cells whose cycles all pass through zeros)
    need a linear programme, as non-negativity can then pin them.
    """
    if rows and cols:
        found = set(_bridges(s))
        free = s & (x > 0)
        for cell in _bridges(free):
            free[cell] = False
        todo = [(int(i), int(j)) for i, j in zip(*np.nonzero(s & ~free)) if (int(i), int(j)) not in found]
        if todo:
            comps = _components(s)
            for cell in todo:
                comp = next(m for m in comps if m[cell])
                if not _can_move(x, comp, cell, rows, cols, tol):
                    found.add(cell)
        return sorted(found)
    if not (rows or cols):
        return []
    hidden = s if rows else s.T
    vals = x if rows else x.T
    count = hidden.sum(axis=1)
    total = np.where(hidden, vals, 0).sum(axis=1)
    bad = (count == 1) | ((count > 0) & (total <= tol))
    cells = [(int(i), int(j)) for i in np.flatnonzero(bad) for j in np.flatnonzero(hidden[i])]
    return sorted(cells if rows else [(j, i) for i, j in cells])


def _fix_pinned(x: np.ndarray, s: np.ndarray, pinned: list[tuple[int, int]], rows: bool, cols: bool) -> bool:
    """Add a positive complement beside each pinned cell whose lines got none yet."""
    touched_r: set[int] = set()
    touched_c: set[int] = set()
    for i, j in pinned:
        if i in touched_r or j in touched_c:
            continue
        options = ([(True, x[i], ~s[i])] if rows else []) + ([(False, x[:, j], ~s[:, j])] if cols else [])
        for in_row, vals, free in options:
            k = _pick(vals, free & (vals > 0))
            if k is not None:
                cell = (i, k) if in_row else (k, j)
                s[cell] = True
                touched_r.add(cell[0])
                touched_c.add(cell[1])
                break
    return bool(touched_r)


def _protect(
    x: np.ndarray, s: np.ndarray, margins: str, audit: bool
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    rows, cols = _lines(margins)
    s = s.copy()
    tol = _tolerance(x)
    for _ in range(_MAX_ROUNDS):
        if _fix_degrees(x, s, rows, cols):
            continue
        if rows and cols and _fix_bridge(x, s):
            continue
        if audit and _fix_pinned(x, s, _pinned(x, s, rows, cols, tol), rows, cols):
            continue
        break
    return s, _pinned(x, s, rows, cols, tol)


def _tolerance(x: np.ndarray) -> float:
    return 1e-7 * max(1.0, float(np.abs(x).sum()))

