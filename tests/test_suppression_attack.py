"""An integer-programming attacker against the command report's published CSV tables.

The attacker reads only what a reader gets (the CSV files the report writes), knows
how the tables add up (headline = by area, by power / by object add up to at most the
headline, age x sex = headline, the months of the trend add up to the headline and to
each rolling window and each year of the Home Office comparison, finds <= outcome searches <=
headline searches), reads each row's
searches of all groups off the published not-stated share (the not-stated count off the
ratio bounds), the reference group's window counts off the trend ratios, and knows
counts are non-negative integers and that published zeros mean a hidden count of the
tables with zeros published is at least 1.  For every hidden count it solves two
integer programmes (``scipy.optimize.milp``): the smallest and largest values the count
can take.  The report is protected when every hidden count has ``L >= n`` or
``U >= n and U - L >= n - 1`` (docs/real-data-rules.md, "Small-number suppression").
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from conftest import ROOT, need_shared
from equity_metrics.measures._common import months_in_period
from equity_metrics.report.config import load_report_config, sample_config
from equity_metrics.report.run import run_report

HID = "[c]"


def _num(v) -> float:
    if isinstance(v, str):
        v = v.lstrip("'")
        if v in ("", HID):
            return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


class Attacker:
    """Non-negative integer unknowns for hidden cells and months; linear relations from the tables."""

    def __init__(self) -> None:
        self.idx: dict = {}
        self.lb: list[float] = []
        self.known: dict[int, float] = {}
        self.rows: list[tuple[dict[int, float], float, float]] = []
        self.cells: list = []  # hidden publishable cells to attack

    def var(self, key, value=None, *, hidden=False, lower=1.0, internal=False):
        if key not in self.idx:
            self.idx[key] = len(self.lb)
            self.lb.append(0.0 if internal else lower)
            if hidden:
                self.cells.append(key)
            elif not internal:  # a blank count is a month (or window) with no data: nothing was counted
                self.known[self.idx[key]] = 0.0 if value is None or math.isnan(value) else float(value)
        return key

    def rel(self, plus, minus=(), lo=0.0, hi=0.0):
        row: dict[int, float] = {}
        for k in plus:
            row[self.idx[k]] = row.get(self.idx[k], 0.0) + 1
        for k in minus:
            row[self.idx[k]] = row.get(self.idx[k], 0.0) - 1
        self.rows.append((row, lo, hi))

    def solve(self) -> pd.DataFrame:
        n = len(self.lb)
        A = lil_matrix((len(self.rows), n))
        lo, hi = np.empty(len(self.rows)), np.empty(len(self.rows))
        for r, (row, a, b) in enumerate(self.rows):
            for i, c in row.items():
                A[r, i] = c
            lo[r], hi[r] = a, b
        big = 1e7
        lb = np.array(self.lb, float)
        ub = np.full(n, big)
        for i, v in self.known.items():
            lb[i] = ub[i] = v
        con = LinearConstraint(A.tocsr(), lo, hi)
        out = []
        for key in self.cells:
            k = self.idx[key]
            c = np.zeros(n)
            c[k] = 1.0
            r1 = milp(c, integrality=np.ones(n), bounds=Bounds(lb, ub), constraints=con)
            r2 = milp(-c, integrality=np.ones(n), bounds=Bounds(lb, ub), constraints=con)
            assert r1.status == 0 and r2.status == 0, f"the attacker's model is infeasible at {key}: {r1.message}"
            out.append((key, round(r1.fun), math.inf if -r2.fun > big / 2 else round(-r2.fun)))
        return pd.DataFrame(out, columns=["cell", "low", "high"])


def _months(label: str, kind: str) -> list[str]:
    """Months of a period label; ``a..b`` is every month from a to b (partial windows too)."""
    if ".." in label:
        a, b = label.split("..")
        return [str(m) for m in pd.period_range(a, b, freq="M")]
    return [str(m) for m in months_in_period(label, kind)]


def _interval_total(ns: float, share: float) -> tuple[float, float] | None:
    """Searches of all stated groups from the not-stated count and the 4-decimal share."""
    if not (ns > 0 and share > 0):
        return None
    lo_s, hi_s = share + 5e-5, max(share - 5e-5, 1e-12)
    return ns * (1 - lo_s) / lo_s, ns * (1 - hi_s) / hi_s


def _not_stated(t: pd.DataFrame, ref: str) -> float:
    """A row's not-stated count from any published group's ratio bound (exact to 4 decimals)."""
    refrow = t[t["group"] == ref]
    if refrow.empty:
        return math.nan
    re_, rn = _num(refrow["events"].iloc[0]), _num(refrow["population"].iloc[0])
    for _, r in t[t["group"] != ref].iterrows():
        e, b, n = _num(r["events"]), _num(r["ratio_bound_high"]), _num(r["population"])
        if not (math.isnan(e) or math.isnan(b) or math.isnan(re_)) and re_ > 0:
            v = b * (re_ / rn) * n - e
            if abs(v - round(v)) < 0.05:
                return float(round(v))
    return math.nan


def attack(out: Path, *, threshold: int) -> tuple[pd.DataFrame, Attacker]:
    """Parse the report's CSVs, build the attacker's model and return each hidden cell's interval."""
    rd = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in out.glob("*.csv")}
    at = Attacker()
    head = rd["headline"]
    ref = head.loc[head["ratio"].map(_num).eq(1) & head["ci_low"].eq(""), "group"].iloc[0]
    pops = {g: _num(p) for g, p in zip(head["group"], head["population"])}
    groups = list(head["group"])
    area = head["area"].iloc[0]
    hk = {}
    derived: list[tuple] = []  # counts a reader reads off a row: its not-stated count and its total
    for g, e in zip(head["group"], head["events"]):
        hk[g] = at.var(("headline", g), _num(e), hidden=e == HID)

    def disparity_table(name: str, label: str, extra) -> None:
        t = rd[name]
        for _, r in t.iterrows():
            at.var((name, r[label], r["group"]), _num(r["events"]), hidden=r["events"] == HID)
        for cat, g in t.groupby(label, sort=False):
            ns = _not_stated(g, ref)
            iv = _interval_total(ns, _num(g["not_stated_share"].iloc[0]))
            derived.append((("not_stated", name, cat), ns, ns))
            if iv is not None:
                derived.append((("row_total", name, cat), math.ceil(iv[0] - 1e-9), math.floor(iv[1] + 1e-9)))
                at.rel([(name, cat, x) for x in g["group"]], (), math.ceil(iv[0] - 1e-9), math.floor(iv[1] + 1e-9))
        extra(t)

    # headline row total (same rule as the other tables)
    ns_head = _not_stated(head, ref)
    iv_head = _interval_total(ns_head, _num(head["not_stated_share"].iloc[0]))
    derived.append((("not_stated", "headline", area), ns_head, ns_head))
    if iv_head is not None:
        at.rel(list(hk.values()), (), math.ceil(iv_head[0] - 1e-9), math.floor(iv_head[1] + 1e-9))
        derived.append((("row_total", "headline", area), math.ceil(iv_head[0] - 1e-9), math.floor(iv_head[1] + 1e-9)))

    def link_area(t):
        for g in groups:
            if (("ratios_by_area", area, g)) in at.idx:
                at.rel([hk[g]], [("ratios_by_area", area, g)])

    if "ratios_by_area" in rd:
        disparity_table("ratios_by_area", "area_name", link_area)
    for name, label in (("ratios_by_legal_power", "legal_power"), ("ratios_by_object_of_search", "object_of_search")):
        if name in rd and len(rd[name]):
            disparity_table(name, label, lambda t, name=name, label=label: [
                at.rel([(name, c, g) for c in t.loc[t["group"] == g, label]], [hk[g]], -math.inf, 0) for g in groups])
    if "age_sex_standardised" in rd:
        for _, r in rd["age_sex_standardised"].iterrows():
            at.var(("age_sex", r["group"]), _num(r["events"]), hidden=r["events"] == HID)
            at.rel([("age_sex", r["group"])], [hk[r["group"]]])
    for _, r in rd["outcomes"].iterrows():
        h = r["searches"] == HID
        s = at.var(("outcomes_searches", r["group"]), _num(r["searches"]), hidden=h)
        at.rel([s], [hk[r["group"]]], -math.inf, 0)
        if "hits" in r:  # one outcome: finds <= searches
            f = at.var(("outcomes_hits", r["group"]), _num(r["hits"]), hidden=h, lower=0)
            at.rel([f], [s], -math.inf, 0)
            continue
        # finds and arrests <= searches with any outcome other than NFA <= searches
        a = at.var(("outcomes_any", r["group"]), _num(r["any_outcome"]), hidden=h, lower=0)
        at.rel([a], [s], -math.inf, 0)
        for col in ("arrests", "finds"):
            if col in r and r[col] != "":
                k = at.var((f"outcomes_{col}", r["group"]), _num(r[col]), hidden=h, lower=0)
                at.rel([k], [a], -math.inf, 0)
    # months behind the headline period, the rolling windows and the monthly totals
    plabel = head["period"].iloc[0]
    pkind = "FY" if "/" in plabel else ("rolling12" if ".." in plabel else "year")
    pm = _months(plabel, pkind)
    tr = rd.get("trend_ratio")
    tkind = "rolling12" if tr is not None and tr["period"].str.contains(r"\.\.").any() else (
        "quarter" if tr is not None and tr["period"].str.contains("Q").any() else "month")
    tc = rd["trend_searches"]
    months = sorted(set(pm) | set(tc["period"]) | {str(m) for lab in (tr["period"] if tr is not None else [])
                                                  for m in _months(lab, tkind)})
    mg = sorted(set(groups))
    for g in mg:
        for m in months:
            at.var(("m", g, m), internal=True)
        at.rel([("m", g, m) for m in pm], [hk[g]])
    if tr is not None:
        ref_iv: dict[str, list[float]] = {}
        for _, r in tr.iterrows():
            key = at.var(("trend_ratio", r["period"], r["group"]), _num(r["events"]), hidden=r["events"] == HID)
            at.rel([("m", r["group"], m) for m in _months(r["period"], tkind)], [key])
            e, q = _num(r["events"]), _num(r["ratio"])
            if e > 0 and q > 0:
                lo_hi = (e * pops[ref] / pops[r["group"]] / (q + 5e-5), e * pops[ref] / pops[r["group"]] / (q - 5e-5))
                cur = ref_iv.get(r["period"], [-math.inf, math.inf])
                ref_iv[r["period"]] = [max(cur[0], lo_hi[0]), min(cur[1], lo_hi[1])]
        for lab, (lo, hi) in ref_iv.items():
            at.rel([("m", ref, m) for m in _months(lab, tkind)], (), math.ceil(lo - 1e-9),
                   math.floor(hi + 1e-9))
    for _, r in tc.iterrows():
        at.var(("trend_searches", r["period"]), _num(r["events"]), hidden=r["events"] == HID)
        at.rel([("m", g, r["period"]) for g in mg], [("trend_searches", r["period"])], -math.inf, 0)
    if iv_head is not None and set(pm) <= set(tc["period"]):
        at.rel([("trend_searches", m) for m in pm], (), math.ceil(iv_head[0] + ns_head - 1e-9),
               math.floor(iv_head[1] + ns_head + 1e-9))
    if "home_office_comparison" in rd:  # police.uk counts by financial year: sums of the same months
        hc = rd["home_office_comparison"]
        hc = hc[hc["police_uk"] != ""]
        for _, r in hc.iterrows():
            at.var(("home_office_comparison", r["period"], r["group"]), _num(r["police_uk"]),
                   hidden=r["police_uk"] == HID, lower=1 if r["group"] in mg else 0)
        for p, g in hc.groupby("period", sort=False):
            ms = [str(m) for m in months_in_period(p, "FY") if str(m) in months]
            for grp in set(g["group"]) & set(mg):
                at.rel([("m", grp, m) for m in ms], [("home_office_comparison", p, grp)])
            if "All" in set(g["group"]):
                at.rel([("home_office_comparison", p, x) for x in g["group"] if x != "All"],
                       [("home_office_comparison", p, "All")])
                at.rel([("trend_searches", m) for m in ms], [("home_office_comparison", p, "All")])
    res = at.solve()
    # shown implicitly, not hidden: a small one is as bad as a small published cell (checked by the same rule)
    extra = pd.DataFrame([d for d in derived if not math.isnan(d[1]) and d[2] >= 1], columns=["cell", "low", "high"])
    res = pd.concat([res, extra], ignore_index=True)
    res["protected"] = (res["low"] >= threshold) | ((res["high"] >= threshold) & (res["high"] - res["low"] >= threshold - 1))
    return res, at


#: Columns a hidden count's row may still show: labels, denominators, coverage and the row's not-stated share.
SHOWN = {"area", "area_name", "period", "group", "legal_power", "object_of_search", "population", "not_stated_share",
         "flags", "months_covered", "months_in_period", "partial_period", "overlapping", "linked_coverage"}


def _check_rows(out: Path) -> None:
    """A hidden count's row shows nothing that reveals it (every other column is [c] or blank), no small-count flag."""
    for p in out.glob("*.csv"):
        t = pd.read_csv(p, dtype=str, keep_default_na=False)
        key = "events" if "events" in t.columns else ("searches" if "searches" in t.columns else None)
        if key is None:
            continue
        hid = t[key] == HID
        for c in (c for c in t.columns if c not in SHOWN):
            shown = hid & ~t[c].isin([HID, ""])
            assert not shown.any(), f"{p.name}: column {c} shown for a hidden count: {t.loc[shown].head(2)}"
        if "flags" in t.columns:
            bad = hid & t["flags"].str.contains("small_count|rate_above_1000")
            assert not bad.any(), f"{p.name}: count-revealing flag on a hidden count: {t.loc[bad].head(2)}"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_attack")
    run_report(sample_config(), out=out, formats=("html",))
    return out


def test_demo_tables_protected_against_ip_attacker(demo_out: Path) -> None:
    res, at = attack(demo_out, threshold=10)
    assert len(res) > 10  # the demo hides cells in every kind of table
    bad = res[~res["protected"]]
    assert bad.empty, f"hidden cells the attacker narrows down:\n{bad.to_string()}"
    # the example: Northshire 'Other' by object of search can no longer be pinned at 1
    other = res[res["cell"].map(lambda k: k[0] == "ratios_by_object_of_search" and k[2] == "Other")]
    assert (other["high"] >= 10).all()


def test_demo_rows_reveal_nothing_about_hidden_counts(demo_out: Path) -> None:
    _check_rows(demo_out)


def test_attacker_finds_the_old_leak(tmp_path: Path) -> None:
    """The attacker is not toothless: the issue's table pair (13 = 11 + two hidden) pins both at 1."""
    at = Attacker()
    at.var("h", 13.0)
    at.var("a", 11.0)
    at.var("b", hidden=True)
    at.var("c", hidden=True)
    at.rel(["a", "b", "c"], ["h"])
    res = at.solve()
    assert res["low"].tolist() == [1, 1] and res["high"].tolist() == [1, 1]


@pytest.mark.shared
@pytest.mark.slow
def test_west_yorkshire_tables_protected_against_ip_attacker(tmp_path: Path) -> None:
    need_shared("data", "policeuk")
    cfg = load_report_config(ROOT / "reports" / "west-yorkshire.toml")
    run_report(cfg, out=tmp_path, formats=("html",))
    res, _ = attack(tmp_path, threshold=cfg.suppress_below)
    bad = res[~res["protected"]]
    assert bad.empty, f"hidden cells the attacker narrows down:\n{bad.to_string()}"
    _check_rows(tmp_path)


@pytest.mark.slow
def test_attacker_breaks_the_tables_without_linked_protection(tmp_path: Path, monkeypatch) -> None:
    """Each table suppressed on its own (the old report) leaks: the attacker narrows hidden cells down."""
    import equity_metrics.report.protection as prot

    real = prot.protect_report_tables

    def per_table_only(tables, **kw):
        return prot.ProtectedTables(dict(tables), real({"headline": tables["headline"]}, **kw).result)

    monkeypatch.setattr(prot, "protect_report_tables", per_table_only)
    run_report(sample_config(), out=tmp_path, formats=("html",))
    res, _ = attack(tmp_path, threshold=10)
    assert (~res["protected"]).sum() >= 5


@pytest.mark.slow
@pytest.mark.parametrize("options", [{"area": None}, {"period": "quarter"}, {"period": "month"}, {"period": "rolling12"},
                                     {"suppress_below": 20}, {"suppress_below": 3}], ids=str)
def test_demo_variants_protected_against_ip_attacker(tmp_path: Path, options: dict) -> None:
    """All areas, quarterly / monthly / rolling trends and other thresholds: still nothing narrowed down."""
    run_report(sample_config(**options), out=tmp_path, formats=("html",))
    res, _ = attack(tmp_path, threshold=options.get("suppress_below", 10))
    bad = res[~res["protected"]]
    assert bad.empty, f"hidden cells the attacker narrows down:\n{bad.to_string()}"
    _check_rows(tmp_path)


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("force", ["city-of-london", "metropolitan", "north-yorkshire", "kent", "merseyside",
                                   "thames-valley"])
def test_acceptance_forces_protected_against_ip_attacker(tmp_path: Path, force: str) -> None:
    """Real forces with small counts (City of London), 5 months of data (Metropolitan), mostly not stated
    ethnicity (North Yorkshire) and the Home Office comparison table: nothing narrowed down."""
    need_shared("data", "policeuk")
    cfg = load_report_config(ROOT / "tests" / "acceptance" / "configs" / f"{force}.toml")
    run_report(cfg, out=tmp_path, formats=("html",))
    res, _ = attack(tmp_path, threshold=cfg.suppress_below)
    bad = res[~res["protected"]]
    assert bad.empty, f"hidden cells the attacker narrows down:\n{bad.to_string()}"
    _check_rows(tmp_path)
