"""What a reader can work out about hidden cells from the published tables alone.

An integer program over non-negative unknowns (scipy.optimize.milp, HiGHS): every hidden
count (``[c]``) is an unknown >= 1 (zeros are published, so a hidden cell is not zero), and
the published tables link them:

* headline: group totals ``H[g]`` of the period; its ``not_stated_share`` ``s`` bounds the
  not-stated count ``NS``: ``NS / (sum_g H[g] + NS)`` is ``s`` to 4 decimals;
* by legal power and by object of search: for each group the categories add up to ``H[g]``
  (an attacker assumes the table covers every search; when that makes the system infeasible
  the tables are not exhaustive and ``<=`` is used instead, see ``Attack.notes``); each
  category's ``not_stated_share`` bounds its not-stated count, which add up to ``NS``;
* monthly trend: ``trend_searches[m] = sum_g M[g, m] + NSm[m]`` (all searches of people in
  month m); each ``trend_ratio`` row is a window sum ``sum_{m in window} M[g, m]``; the
  headline period's months add up to ``H[g]`` and ``NS``;
* outcomes: searches with an outcome ``S[g] <= H[g]``, finds ``F[g] <= S[g]``.

For each hidden cell the minimum and maximum feasible values are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from ._published import HID, Published, months_of_label

SHARE_HALF_STEP = 5.0e-5 + 1e-9


@dataclass
class Attack:
    names: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    lb: list[float] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ub: float = 1e7

    def var(self, name: str, lb: float = 0.0) -> int:
        if name not in self.index:
            self.index[name] = len(self.names)
            self.names.append(name)
            self.lb.append(lb)
        return self.index[name]

    def term(self, name: str, value) -> tuple[dict[int, float], float]:
        """A cell as (coefficients, constant): a known number is a constant, a hidden one an unknown."""
        if value is HID:
            i = self.var(name, lb=1.0)
            if name not in self.hidden:
                self.hidden.append(name)
            return {i: 1.0}, 0.0
        if isinstance(value, float):
            return {}, value
        return {self.var(name): 1.0}, 0.0  # not published (blank): unknown, not protected

    def add(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append((coefs, lo, hi))

    def solve(self, objective: dict[int, float], sense: int, rows=None) -> float | None:
        n = len(self.names)
        rows = self.rows if rows is None else rows
        A = np.zeros((len(rows), n))
        lo, hi = np.empty(len(rows)), np.empty(len(rows))
        for k, (c, a, b) in enumerate(rows):
            for i, v in c.items():
                A[k, i] += v
            lo[k], hi[k] = a, b
        c = np.zeros(n)
        for i, v in objective.items():
            c[i] = sense * v
        res = milp(c, constraints=[LinearConstraint(A, lo, hi)] if len(rows) else [],
                   integrality=np.ones(n), bounds=Bounds(np.array(self.lb), np.full(n, self.ub)),
                   options={"time_limit": 20})
        if res.status != 0 or res.x is None:
            return None
        return float(sense * res.fun)


def _sum(parts):
    coefs: dict[int, float] = {}
    const = 0.0
    for c, k in parts:
        for i, v in c.items():
            coefs[i] = coefs.get(i, 0.0) + v
        const += k
    return coefs, const


def _eq(att: Attack, left, right) -> None:
    """left == right, each a (coefs, const)."""
    c = dict(left[0])
    for i, v in right[0].items():
        c[i] = c.get(i, 0.0) - v
    k = right[1] - left[1]
    att.add(c, k, k)


def _le(att: Attack, left, right) -> None:
    c = dict(left[0])
    for i, v in right[0].items():
        c[i] = c.get(i, 0.0) - v
    att.add(c, -np.inf, right[1] - left[1])


def _share(att: Attack, ns, stated, s: float) -> None:
    """ns / (stated + ns) within half a unit of the 4th decimal of s."""
    lo_s, hi_s = max(0.0, s - SHARE_HALF_STEP), min(1.0, s + SHARE_HALF_STEP)
    tot = _sum([ns, stated])
    # ns - lo_s * tot >= 0 ; ns - hi_s * tot <= 0
    for bound, is_lo in ((lo_s, True), (hi_s, False)):
        c = dict(ns[0])
        for i, v in tot[0].items():
            c[i] = c.get(i, 0.0) - bound * v
        k = bound * tot[1] - ns[1]
        att.add(c, k, np.inf) if is_lo else att.add(c, -np.inf, k)


def build_attack(pub: Published) -> Attack:
    att = Attack()
    T = pub.tables
    head = T["headline"]
    groups = [r["group"] for r in head]
    months = months_of_label(head[0]["period"])
    H = {r["group"]: att.term(f"headline {r['group']}", r["events"]) for r in head}
    NS = ({att.var("not stated (headline period)"): 1.0}, 0.0)
    s = head[0].get("not_stated_share")
    if isinstance(s, float):
        _share(att, NS, _sum(H.values()), s)
    # by power / by object
    for name, col in (("ratios_by_legal_power", "legal_power"), ("ratios_by_object_of_search", "object_of_search")):
        rows = T.get(name, [])
        if not rows:
            continue
        cats = list(dict.fromkeys(r[col] for r in rows))
        X = {(r[col], r["group"]): att.term(f"{name} {r[col]} / {r['group']}", r["events"]) for r in rows}
        NSc = {}
        for c in cats:
            NSc[c] = ({att.var(f"{name} {c} / not stated"): 1.0}, 0.0)
            sc = next((r["not_stated_share"] for r in rows if r[col] == c), None)
            if isinstance(sc, float):
                _share(att, NSc[c], _sum(X[(c, g)] for g in groups if (c, g) in X), sc)
        mark = len(att.rows)
        for g in groups:
            _eq(att, _sum(X[(c, g)] for c in cats if (c, g) in X), H[g])
        _eq(att, _sum(NSc.values()), NS)
        if att.solve({}, 1) is None:  # the table does not cover every search: only <= holds
            att.rows = att.rows[:mark]
            for g in groups:
                _le(att, _sum(X[(c, g)] for c in cats if (c, g) in X), H[g])
            _le(att, _sum(NSc.values()), NS)
            att.notes.append(f"{name}: categories do not add up to the headline totals; used <=")
    # monthly trend
    ts = {r["period"]: r["events"] for r in T.get("trend_searches", [])}
    with_file = [m for m, v in ts.items() if v is not None]
    M = {(g, m): ({att.var(f"month {m} / {g}"): 1.0}, 0.0) for g in groups for m in with_file}
    NSm = {m: ({att.var(f"month {m} / not stated"): 1.0}, 0.0) for m in with_file}
    for m in with_file:
        _eq(att, _sum([*(M[(g, m)] for g in groups), NSm[m]]), att.term(f"trend_searches {m}", ts[m]))
    for r in T.get("trend_ratio", []):
        if r["events"] is None:
            continue
        wm = months_of_label(r["period"])
        if not all(m in NSm for m in wm):
            continue
        _eq(att, _sum(M[(r["group"], m)] for m in wm), att.term(f"trend_ratio {r['period']} / {r['group']}", r["events"]))
    if all(m in NSm for m in months):
        for g in groups:
            _eq(att, _sum(M[(g, m)] for m in months), H[g])
        _eq(att, _sum(NSm[m] for m in months), NS)
    # outcomes
    for r in T.get("outcomes", []):
        g = r["group"]
        if g not in H:
            continue
        S = att.term(f"outcomes searches / {g}", r.get("searches"))
        F = att.term(f"outcomes finds / {g}", r.get("hits", r.get("finds")))
        _le(att, S, H[g])
        _le(att, F, S)
    total = sum(v for v in ts.values() if isinstance(v, float))
    att.ub = max(total, 1.0) * 2 + 100
    return att


def hidden_bounds(att: Attack) -> dict[str, tuple[float | None, float | None]]:
    out = {}
    for name in att.hidden:
        i = att.index[name]
        out[name] = (att.solve({i: 1.0}, 1), att.solve({i: 1.0}, -1))
    return out
