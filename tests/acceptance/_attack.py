"""What a reader can work out about hidden cells from the published CSV tables alone.

An integer programme over non-negative integer unknowns (``scipy.optimize.milp``, HiGHS),
written from the tables' definitions, not from the library's code. What the attacker knows
follows docs/real-data-rules.md ("Small-number suppression", "What the attacker knows"):

* every published cell; a hidden count of the disparity tables (headline, by area, power,
  object), of the monthly searches and of an outcome row's searches is >= 1 (zeros are
  published); hidden rolling-window counts and a hidden outcome row's finds / arrests /
  any-outcome counts are >= 0;
* headline: group counts ``H[g]``; ``not_stated_share``, ``ratio``, ``ratio_bound_low`` and
  ``ratio_bound_high`` (each rounded to 4 decimals) bound the not-stated count ``NS`` and the
  reference count (e.g. ``ratio_bound_low = (H[g]/pop[g]) / ((H[ref] + NS)/pop[ref])``);
* by area (one force): the same counts as the headline;
* by legal power and by object of search: for each group the categories add up to **at
  most** ``H[g]`` (searches with no power / object recorded are in no row); each row's
  not-stated share, ratio and ratio bounds bound its not-stated and reference counts; the
  categories' not-stated counts add up to at most ``NS``;
* monthly trend: ``trend_searches[m] = sum_g M[g, m] + NSm[m]`` (searches of people in month
  m, every group); each ``trend_ratio`` row is a window sum of ``M[g, .]`` and its ratio bounds
  the reference group's window sum; the headline period's months add up to ``H[g]`` and ``NS``;
* outcomes: finds, arrests <= any outcome <= searches with an outcome <= ``H[g]``;
* Home Office comparison: the police.uk count of a group (``Not stated``, ``All``) in a
  financial year is the sum of the months of that year that have data.

For each hidden cell the minimum and maximum feasible values are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from ._published import HID, Published, months_of_label

HALF = 5.0e-5 + 1e-9  # half a unit in the 4th decimal (CSV rounding)

Expr = tuple[dict[int, float], float]  # (coefficients, constant)


@dataclass
class Attack:
    names: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    lb: list[float] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ub: float = 1e7
    inexact: list[str] = field(default_factory=list)

    def var(self, name: str, lb: float = 0.0) -> Expr:
        if name not in self.index:
            self.index[name] = len(self.names)
            self.names.append(name)
            self.lb.append(lb)
        return {self.index[name]: 1.0}, 0.0

    def cell(self, name: str, value, *, hidden_lb: float = 1.0) -> Expr:
        """A published number is a constant; ``[c]`` an unknown (audited); blank an unknown (not audited)."""
        if value is HID:
            e = self.var(name, lb=hidden_lb)
            if name not in self.hidden:
                self.hidden.append(name)
            return e
        if isinstance(value, float):
            return {}, value
        return self.var(name)

    def add(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        if coefs:
            self.rows.append((coefs, lo, hi))

    # ------------------------------------------------------------------ relations
    @staticmethod
    def lin(*terms: tuple[float, Expr]) -> Expr:
        c: dict[int, float] = {}
        k = 0.0
        for w, (cc, kk) in terms:
            for i, v in cc.items():
                c[i] = c.get(i, 0.0) + w * v
            k += w * kk
        return c, k

    def total(self, exprs) -> Expr:
        return self.lin(*((1.0, e) for e in exprs))

    def eq(self, a: Expr, b: Expr) -> None:
        c, k = self.lin((1.0, a), (-1.0, b))
        self.add(c, -k, -k)

    def le(self, a: Expr, b: Expr) -> None:
        c, k = self.lin((1.0, a), (-1.0, b))
        self.add(c, -np.inf, -k)

    def ratio(self, num: Expr, den: Expr, value: float, half: float = HALF) -> None:
        """num / den rounds to value (den > 0): num - (v-h) den >= 0 and num - (v+h) den <= 0."""
        lo_c, lo_k = self.lin((1.0, num), (-(value - half), den))
        hi_c, hi_k = self.lin((1.0, num), (-(value + half), den))
        self.add(lo_c, -lo_k, np.inf)
        self.add(hi_c, -np.inf, -hi_k)

    # ------------------------------------------------------------------ solving
    def _matrix(self):
        n = len(self.names)
        A = np.zeros((len(self.rows), n))
        lo, hi = np.empty(len(self.rows)), np.empty(len(self.rows))
        for k, (c, a, b) in enumerate(self.rows):
            for i, v in c.items():
                A[k, i] += v
            lo[k], hi[k] = a, b
        return A, lo, hi

    def solve(self, objective: dict[int, float] | None = None, sense: int = 1,
              fix: dict[int, tuple[float, float]] | None = None):
        """Optimum of ``sense * objective`` (``None`` if infeasible); with no objective, 0.0 when feasible.

        ``fix`` narrows variables' bounds (index -> (lb, ub)). On the 10 s time limit the MILP's
        dual bound is returned (an outer bound) and the call is listed in ``inexact``.
        """
        if not hasattr(self, "_cache") or self._cache[0] != len(self.rows):
            self._cache = (len(self.rows), *self._matrix())
        _, A, lo, hi = self._cache
        n = len(self.names)
        c = np.zeros(n)
        for i, v in (objective or {}).items():
            c[i] = sense * v
        lb, ub = np.array(self.lb, float), np.full(n, float(self.ub))
        for i, (a, b) in (fix or {}).items():
            lb[i], ub[i] = max(lb[i], a), min(ub[i], b)
        res = milp(c, constraints=[LinearConstraint(A, lo, hi)] if len(self.rows) else [],
                   integrality=np.ones(n), bounds=Bounds(lb, ub), options={"time_limit": 10})
        if res.status == 0 and res.x is not None:
            return float(sense * res.fun)
        if res.status == 1 and getattr(res, "mip_dual_bound", None) is not None:  # time limit: outer bound
            self.inexact.append(str(objective))
            return float(sense * res.mip_dual_bound)
        return None

    def checkpoint(self, label: str) -> None:
        """Record the first family of relations after which the system has no integer solution."""
        if not any(n.startswith("infeasible after") for n in self.notes) and self.solve() is None:
            self.notes.append(f"infeasible after {label}")

    def protection(self, name: str, n: int) -> tuple[bool, float | None, float | None]:
        """Whether hidden cell ``name`` meets the protection rule for threshold ``n``, with its interval.

        Rule (docs/real-data-rules.md, "Minimum protection interval"): ``L >= n``, or ``U >= n`` and
        ``U - L >= n - 1``. ``L`` is solved exactly; ``U`` only as far as needed: a feasible point at
        ``max(n, L + n - 1)`` proves protection (the returned ``U`` is then that witness, a lower bound
        of the true maximum); otherwise ``U`` is solved exactly and the cell is not protected.
        """
        i = self.index[name]
        L = self.solve({i: 1.0}, 1)
        if L is None:
            return False, None, None
        if L >= n:
            return True, L, None
        target = max(float(n), L + n - 1)
        if self.solve(None, 1, fix={i: (target, float(self.ub))}) is not None:
            return True, L, target
        return False, L, self.solve({i: 1.0}, -1)


def _pop(row) -> float | None:
    v = row.get("population")
    return v if isinstance(v, float) and v > 0 else None


def _ratio_rows(att: Attack, rows, key, G: dict, NSx: Expr, ref: str) -> None:
    """Ratio, ratio bounds and not-stated share of each published row of one category."""
    pops = {r["group"]: _pop(r) for r in rows}
    if ref not in G or not pops.get(ref):
        return
    R, pr = G[ref], pops[ref]
    stated = att.total(G.values())
    s = rows[0].get("not_stated_share")
    if isinstance(s, float):
        att.ratio(NSx, att.lin((1.0, stated), (1.0, NSx)), s)
    for r in rows:
        g, pg = r["group"], pops.get(r["group"])
        if g == ref or not pg:
            continue
        Hg = G[g]
        # ratio = (Hg/pg) / (R/pr)  ->  Hg*pr/pg / R
        if isinstance(r.get("ratio"), float):
            att.ratio(att.lin((pr / pg, Hg)), R, r["ratio"])
        if isinstance(r.get("ratio_bound_low"), float) and r["ratio_bound_low"] > 0:
            att.ratio(att.lin((pr / pg, Hg)), att.lin((1.0, R), (1.0, NSx)), r["ratio_bound_low"])
        if isinstance(r.get("ratio_bound_high"), float) and np.isfinite(r["ratio_bound_high"]):
            att.ratio(att.lin((pr / pg, Hg), (pr / pg, NSx)), R, r["ratio_bound_high"])


def build_attack(pub: Published, ref: str = "White", *, month_lb: float = 1.0, diagnose: bool = False) -> Attack:
    """The attacker's system. ``month_lb``: lower bound of a hidden monthly total (1 by the documented
    rule; 0 when the tables contradict it); ``diagnose`` names the first family that makes it infeasible."""
    att = Attack()
    check = att.checkpoint if diagnose else (lambda label: None)
    T = pub.tables
    head = T["headline"]
    groups = [r["group"] for r in head]
    months = months_of_label(head[0]["period"])
    H = {r["group"]: att.cell(f"headline {r['group']}", r["events"]) for r in head}
    NS = att.var("not stated, headline period")
    _ratio_rows(att, head, None, H, NS, ref)
    check("headline")
    focal = head[0].get("area")
    by_area = T.get("ratios_by_area", [])
    for a in dict.fromkeys(r["area_name"] for r in by_area):
        arow = [r for r in by_area if r["area_name"] == a]
        Xa = {r["group"]: att.cell(f"ratios_by_area {a} / {r['group']}", r["events"]) for r in arow}
        if a == focal:
            for g, e in Xa.items():
                att.eq(e, H[g])
        else:
            _ratio_rows(att, arow, a, Xa, att.var(f"ratios_by_area {a} / not stated"), ref)
    check("ratios_by_area")
    for name, col in (("ratios_by_legal_power", "legal_power"), ("ratios_by_object_of_search", "object_of_search")):
        rows = T.get(name, [])
        cats = list(dict.fromkeys(r[col] for r in rows))
        X, NSc = {}, {}
        for c in cats:
            crow = [r for r in rows if r[col] == c]
            Xc = {r["group"]: att.cell(f"{name} {c} / {r['group']}", r["events"]) for r in crow}
            X.update({(c, g): e for g, e in Xc.items()})
            NSc[c] = att.var(f"{name} {c} / not stated")
            _ratio_rows(att, crow, c, Xc, NSc[c], ref)
        for g in groups:
            att.le(att.total(X[(c, g)] for c in cats if (c, g) in X), H[g])
        att.le(att.total(NSc.values()), NS)
        check(name)
    # monthly trend
    ts = {r["period"]: r["events"] for r in T.get("trend_searches", [])}
    with_data = [m for m, v in ts.items() if v is not None]
    M = {(g, m): att.var(f"month {m} / {g}") for g in groups for m in with_data}
    NSm = {m: att.var(f"month {m} / not stated") for m in with_data}
    for m in with_data:
        att.eq(att.total([*(M[(g, m)] for g in groups), NSm[m]]),
               att.cell(f"trend_searches {m}", ts[m], hidden_lb=month_lb))
    check("trend_searches")
    pops = {r["group"]: _pop(r) for r in head}
    for r in T.get("trend_ratio", []):
        wm = months_of_label(r["period"])
        if r["events"] is None or not all(m in NSm for m in wm):
            continue
        W = att.cell(f"trend_ratio {r['period']} / {r['group']}", r["events"], hidden_lb=0.0)
        att.eq(att.total(M[(r["group"], m)] for m in wm), W)
        if isinstance(r.get("ratio"), float) and pops.get(r["group"]) and pops.get(ref) and ref in groups:
            Wref = att.total(M[(ref, m)] for m in wm)
            att.ratio(att.lin((pops[ref] / pops[r["group"]], W)), Wref, r["ratio"])
    check("trend_ratio")
    if all(m in NSm for m in months):
        for g in groups:
            att.eq(att.total(M[(g, m)] for m in months), H[g])
        att.eq(att.total(NSm[m] for m in months), NS)
    else:
        att.notes.append("headline period not fully covered by the monthly trend")
    check("monthly trend = headline")
    # outcomes
    for r in T.get("outcomes", []):
        g = r["group"]
        if g not in H:
            continue
        S = att.cell(f"outcomes searches / {g}", r.get("searches"))
        A = att.cell(f"outcomes any_outcome / {g}", r.get("any_outcome"), hidden_lb=0.0)
        for col in ("arrests", "finds"):
            if col in r:
                att.le(att.cell(f"outcomes {col} / {g}", r[col], hidden_lb=0.0), A)
        att.le(A, S)
        att.le(S, H[g])
    check("outcomes")
    # Home Office comparison: police.uk counts per financial year
    for r in T.get("home_office_comparison", []):
        p = r.get("period")
        try:
            fm = months_of_label(p)
        except (ValueError, TypeError):
            continue
        have = [m for m in fm if m in NSm]
        g = r["group"]
        P = att.cell(f"home_office_comparison {p} / {g} police_uk", r.get("police_uk"))
        if isinstance(r.get("home_office"), float) and isinstance(r.get("difference"), float):
            att.eq(P, ({}, r["home_office"] + r["difference"]))  # a published difference reveals the count
        if r.get("police_uk") is None:
            continue
        if g in groups:
            att.eq(att.total(M[(g, m)] for m in have), P)
        elif g == "Not stated":
            att.eq(att.total(NSm[m] for m in have), P)
        elif g == "All":
            att.eq(att.total([*(M[(gg, m)] for gg in groups for m in have), *(NSm[m] for m in have)]), P)
    check("home_office_comparison")
    total = sum(v for v in ts.values() if isinstance(v, float))
    att.ub = max(total, 1.0) * 2 + 1000
    return att


def _solve_with(att: Attack, extra_vars: int, c: np.ndarray, extra_rows: list, lb_extra, ub_extra,
                bounds_fix: dict[int, tuple[float, float]] | None = None):
    """MILP over the attack's variables plus ``extra_vars`` auxiliary ones; returns x or None."""
    if not hasattr(att, "_cache") or att._cache[0] != len(att.rows):
        att._cache = (len(att.rows), *att._matrix())
    _, A, lo, hi = att._cache
    n = len(att.names)
    A2 = np.hstack([A, np.zeros((A.shape[0], extra_vars))])
    rows = [A2] + [r[0][None, :] for r in extra_rows]
    los = np.concatenate([lo] + [[r[1]] for r in extra_rows])
    his = np.concatenate([hi] + [[r[2]] for r in extra_rows])
    lb = np.concatenate([np.array(att.lb, float), lb_extra])
    ub = np.concatenate([np.full(n, float(att.ub)), ub_extra])
    for i, (a, b) in (bounds_fix or {}).items():
        lb[i], ub[i] = max(lb[i], a), min(ub[i], b)
    res = milp(c, constraints=[LinearConstraint(np.vstack(rows), los, his)], integrality=np.ones(n + extra_vars),
               bounds=Bounds(lb, ub), options={"time_limit": 20})
    return res.x if res.x is not None and res.status in (0, 1) else None


def hidden_protection(att: Attack, n: int) -> dict[str, tuple[bool, float | None, float | None]]:
    """``name -> (protected, L, U)`` for every hidden cell, by the rule of :meth:`Attack.protection`.

    Batched: one integer programme minimising the sum of the hidden cells gives every cell's
    minimum where it sits at its lower bound (other minima are solved one by one); then integer
    programmes maximising how many cells reach their target ``max(n, L + n - 1)`` (auxiliary
    ``y_i <= x_i``, ``y_i <= target_i``) prove many cells protected at once; a cell no such
    solution protects is checked on its own (:meth:`Attack.protection`), which also gives its
    exact maximum when it is not protected.
    """
    n_vars = len(att.names)
    idx = {name: att.index[name] for name in att.hidden}
    out: dict[str, tuple[bool, float | None, float | None]] = {}
    if not idx:
        return out
    c = np.zeros(n_vars)
    for i in idx.values():
        c[i] = 1.0
    x = _solve_with(att, 0, c, [], np.zeros(0), np.zeros(0))
    if x is None:
        return {name: (False, None, None) for name in idx}
    L: dict[str, float] = {}
    for name, i in idx.items():
        L[name] = float(round(x[i])) if round(x[i]) <= att.lb[i] + 1e-9 else att.solve({i: 1.0}, 1)
    todo = {}
    for name, i in idx.items():
        if L[name] is None:
            out[name] = (False, None, None)
        elif L[name] >= n:
            out[name] = (True, L[name], None)
        else:
            todo[name] = max(float(n), L[name] + n - 1)
    while todo:
        names = list(todo)
        k = len(names)
        cc = np.concatenate([np.zeros(n_vars), -np.ones(k)])
        extra = []
        for j, name in enumerate(names):
            row = np.zeros(n_vars + k)
            row[n_vars + j], row[idx[name]] = 1.0, -1.0  # y_j - x_i <= 0
            extra.append((row, -np.inf, 0.0))
        x = _solve_with(att, k, cc, extra, np.zeros(k), np.array([todo[nm] for nm in names]))
        done = [nm for j, nm in enumerate(names) if x is not None and x[idx[nm]] >= todo[nm] - 1e-6]
        for nm in done:
            out[nm] = (True, L[nm], todo.pop(nm))
        if not done:
            break
    for name in todo:
        out[name] = att.protection(name, n)
    return out
