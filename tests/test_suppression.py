"""Tests for equity_metrics.measures.suppression.

The adversarial tests act as an attacker who sees the published table and
its totals: for every suppressed cell they solve two linear programmes
(scipy.optimize.linprog) for the smallest and largest value the cell can take
in a non-negative table consistent with what was published.  A cell is
protected only if that interval has positive width.  This solver is written
here, independently of the library's own audit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from equity_metrics.errors import DataValidationError, EquityMetricsError, OptionError
from equity_metrics.measures.suppression import (
    DISCLOSURE_THRESHOLD,
    RATE_SUPPRESS_BELOW,
    RATE_UNRELIABLE_BELOW,
    SuppressionResult,
    feasible_intervals,
    flag_small_counts,
    suppress,
)


# ---------------------------------------------------------------------------
# the attacker
# ---------------------------------------------------------------------------
def attack(published: pd.DataFrame, row_totals, col_totals) -> dict:
    """Min/max of each hidden (NA) cell given published cells and totals.

    ``row_totals``/``col_totals`` may be None when that margin is not published.
    """
    vals = published.to_numpy(dtype=float, na_value=np.nan)
    hidden = np.argwhere(np.isnan(vals))
    n = len(hidden)
    if n == 0:
        return {}
    a_eq, b_eq = [], []
    if row_totals is not None:
        for i in range(vals.shape[0]):
            cols = [k for k, (r, _) in enumerate(hidden) if r == i]
            if cols:
                row = np.zeros(n)
                row[cols] = 1
                a_eq.append(row)
                b_eq.append(row_totals[i] - np.nansum(vals[i]))
    if col_totals is not None:
        for j in range(vals.shape[1]):
            cols = [k for k, (_, c) in enumerate(hidden) if c == j]
            if cols:
                row = np.zeros(n)
                row[cols] = 1
                a_eq.append(row)
                b_eq.append(col_totals[j] - np.nansum(vals[:, j]))
    out = {}
    for k, (i, j) in enumerate(hidden):
        c = np.zeros(n)
        c[k] = 1
        if not a_eq:
            out[(i, j)] = (0.0, np.inf)
            continue
        lo = linprog(c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(0, None), method="highs")
        assert lo.status == 0, lo.message  # the true table is feasible
        out[(i, j)] = (lo.fun, -hi.fun if hi.status == 0 else np.inf)
    return out


def assert_protected(raw: pd.DataFrame, res: SuppressionResult, margins="both"):
    x = raw[res.mask.columns].to_numpy(dtype=float)
    published = res.table.loc[res.mask.index, res.mask.columns]
    rt = x.sum(axis=1) if margins in ("both", "rows") else None
    ct = x.sum(axis=0) if margins in ("both", "columns") else None
    for (i, j), (lo, hi) in attack(published, rt, ct).items():
        assert lo <= x[i, j] + 1e-6 and x[i, j] - 1e-6 <= hi  # true value is feasible
        assert hi - lo > 0.5, f"cell ({published.index[i]}, {published.columns[j]}) = {x[i, j]} recovered: [{lo}, {hi}]"


def random_table(rng, rows, cols, p_small=0.25, zeros=0.05):
    x = rng.integers(10, 400, size=(rows, cols))
    small = rng.random((rows, cols)) < p_small
    x[small] = rng.integers(1, 10, size=small.sum())
    z = rng.random((rows, cols)) < zeros
    x[z] = 0
    return pd.DataFrame(x, index=[f"area{i}" for i in range(rows)], columns=[f"g{j}" for j in range(cols)])


# ---------------------------------------------------------------------------
# adversarial tests
# ---------------------------------------------------------------------------
def test_attack_recovers_cells_without_secondary_suppression():
    """Sanity check of the attacker: primary suppression alone leaks."""
    t = pd.DataFrame({"A": [3, 40, 50], "B": [30, 40, 50], "C": [12, 14, 16]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = suppress(t, secondary=False)
    x = t.to_numpy(float)
    found = attack(res.table, x.sum(axis=1), x.sum(axis=0))
    assert found == {(0, 0): (3.0, 3.0)}


@pytest.mark.parametrize("seed", range(12))
def test_no_suppressed_cell_can_be_recovered(seed):
    rng = np.random.default_rng(seed)
    t = random_table(rng, rows=int(rng.integers(3, 9)), cols=int(rng.integers(2, 6)))
    res = suppress(t)
    assert not res.unprotected
    primary_expected = (t.to_numpy() > 0) & (t.to_numpy() < DISCLOSURE_THRESHOLD)
    assert (res.primary.to_numpy() == primary_expected).all()
    for axis in (0, 1):  # every row and column hides none or at least two cells
        n_hidden = res.mask.sum(axis=axis)
        assert ((n_hidden == 0) | (n_hidden >= 2)).all()
    assert_protected(t, res)


@pytest.mark.parametrize("seed", range(6))
def test_protected_when_zeros_are_suppressed(seed):
    rng = np.random.default_rng(100 + seed)
    t = random_table(rng, rows=6, cols=4, p_small=0.2, zeros=0.2)
    res = suppress(t, suppress_zeros=True)
    assert (res.primary.to_numpy() == (t.to_numpy() < DISCLOSURE_THRESHOLD)).all()
    assert_protected(t, res)


@pytest.mark.parametrize("margins", ["rows", "columns"])
def test_protected_with_one_margin(margins):
    rng = np.random.default_rng(5)
    t = random_table(rng, rows=7, cols=4, p_small=0.3)
    res = suppress(t, margins=margins)
    assert_protected(t, res, margins=margins)
    counts = res.mask.sum(axis=1 if margins == "rows" else 0)
    assert ((counts == 0) | (counts >= 2)).all()


def test_bridge_between_two_blocks_is_broken():
    """Every line has two hidden cells, yet the cell joining two blocks is recoverable."""
    x = np.full((5, 5), 100)
    x[np.ix_([0, 1], [0, 1])] = [[3, 4], [5, 6]]
    x[np.ix_([2, 3], [2, 3])] = [[7, 2], [3, 8]]
    x[0, 2] = 4  # row 0 and column 2 now have three small cells
    t = pd.DataFrame(x)
    # without the bridge step the attacker pins cell (0, 2): show it with primaries only
    published = t.astype(float).mask((x > 0) & (x < 10))
    found = attack(published, x.sum(axis=1), x.sum(axis=0))
    assert found[(0, 2)] == (4.0, 4.0)
    for audit in (True, False):
        res = suppress(t, audit=audit)
        assert res.n_secondary >= 1
        assert_protected(t, res)


def test_all_zero_cycle_needs_positive_complements():
    t = pd.DataFrame({"A": [0, 0, 40], "B": [0, 0, 45], "C": [50, 60, 70]})
    res = suppress(t, suppress_zeros=True)
    assert res.n_primary == 4 and res.n_secondary >= 1
    assert_protected(t, res)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(40))
def test_no_suppressed_cell_can_be_recovered_large(seed):
    rng = np.random.default_rng(1000 + seed)
    t = random_table(rng, rows=int(rng.integers(5, 16)), cols=int(rng.integers(3, 8)), p_small=0.3, zeros=0.1)
    res = suppress(t, suppress_zeros=bool(seed % 2))
    assert not res.unprotected
    assert_protected(t, res)


# ---------------------------------------------------------------------------
# behaviour
# ---------------------------------------------------------------------------
def test_complements_are_smallest_cells():
    t = pd.DataFrame({"A": [3, 500, 500], "B": [600, 500, 500], "C": [20, 500, 11]}, index=list("xyz"))
    res = suppress(t, margins="rows")
    # row x hides 3, so its smallest other cell (20) is the complement
    assert res.mask.loc["x"].tolist() == [True, False, True]
    assert res.cells().kind.tolist() == ["primary", "secondary"]


def test_result_frames_and_dtypes():
    t = pd.DataFrame(
        {"area": ["N", "S", "E"], "White": [120, 45, 3], "Black": [14, 2, 30], "Asian": [22, 17, 25]}
    )
    res = suppress(t, threshold=5)
    assert list(res.mask.columns) == ["White", "Black", "Asian"]
    assert res.table["area"].tolist() == ["N", "S", "E"]
    assert str(res.table["White"].dtype) == "Int64"
    assert res.table["White"].isna().tolist() == res.mask["White"].tolist()
    assert ((res.primary | res.secondary) == res.mask).all().all()
    assert not (res.primary & res.secondary).any().any()
    assert res.n_primary == 2 and res.n_secondary == 2
    assert "2 primary, 2 secondary" in str(res)
    cells = res.cells()
    assert set(cells.columns) == {"row", "column", "kind"} and len(cells) == 4


def test_zero_cells_published_by_default():
    t = pd.DataFrame({"A": [0, 50, 60], "B": [50, 60, 70]})
    res = suppress(t)
    assert res.n_primary == 0 and not res.mask.any().any()
    assert res.table.loc[0, "A"] == 0


def test_existing_totals_and_add_totals():
    t = pd.DataFrame({"A": [3, 40, 50], "B": [30, 40, 50]}, index=["x", "y", "z"])
    t["Total"] = t.sum(axis=1)
    t.loc["All"] = t.sum()
    res = suppress(t, total_col="Total", total_row="All")
    assert list(res.mask.columns) == ["A", "B"] and list(res.mask.index) == ["x", "y", "z"]
    assert res.table.loc["All"].tolist() == [93, 120, 213] and res.table["Total"].tolist() == [33, 80, 100, 213]
    assert_protected(t.loc[["x", "y", "z"]], res)
    added = suppress(t.loc[["x", "y", "z"], ["A", "B"]], add_totals=True)
    assert added.table.loc["Total", "Total"] == 213 and added.table.loc["x", "Total"] == 33


def test_float_counts_use_float_dtype():
    t = pd.DataFrame({"A": [3.5, 40.0, 50.0], "B": [30.0, 40.0, 50.0]})
    res = suppress(t)
    assert str(res.table["A"].dtype) == "Float64"


def test_feasible_intervals_helper():
    t = pd.DataFrame({"A": [3, 40, 50], "B": [30, 40, 50]})
    iv = feasible_intervals(t, suppress(t))
    assert list(iv.columns) == ["row", "column", "low", "high", "width"]
    assert (iv.width > 0).all() and len(iv) == 4


def test_unprotectable_cell_warns():
    t = pd.DataFrame({"only": [3, 40, 50]})
    with pytest.warns(UserWarning, match="derived exactly"):
        res = suppress(t)  # a one-column table: each row total is the cell itself
    assert res.unprotected == ((0, "only"),)
    ok = suppress(t, margins="columns")  # publishing only the column total is fine
    assert not ok.unprotected and ok.n_secondary == 1
    assert res.n_secondary == 0  # complements could not help, so none are added


def test_no_secondary_reports_recoverable_cells():
    t = pd.DataFrame({"A": [3, 40, 50], "B": [30, 40, 50]})
    with pytest.warns(UserWarning):
        res = suppress(t, secondary=False)
    assert res.n_secondary == 0 and len(res.unprotected) == 1


@pytest.mark.parametrize(
    "kwargs,table",
    [
        ({}, pd.DataFrame({"A": [1, -2], "B": [3, 4]})),
        ({}, pd.DataFrame({"A": [1.0, np.nan], "B": [3, 4]})),
        ({}, pd.DataFrame({"A": ["x", "y"]})),
        ({"value_cols": ["Z"]}, pd.DataFrame({"A": [1, 2]})),
        ({"threshold": -1}, pd.DataFrame({"A": [1, 2]})),
        ({"total_col": "T"}, pd.DataFrame({"A": [1, 2]})),
        ({"total_row": "T"}, pd.DataFrame({"A": [1, 2]})),
        ({"add_totals": True, "total_col": "A"}, pd.DataFrame({"A": [1, 2], "B": [1, 2]})),
    ],
)
def test_invalid_tables(kwargs, table):
    with pytest.raises(DataValidationError):
        suppress(table, **kwargs)


def test_invalid_options():
    with pytest.raises(OptionError):
        suppress(pd.DataFrame({"A": [1, 2]}), margins="total")
    with pytest.raises(DataValidationError):
        suppress([[1, 2]])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# flag_small_counts
# ---------------------------------------------------------------------------
def test_flag_small_counts_defaults():
    assert (RATE_SUPPRESS_BELOW, RATE_UNRELIABLE_BELOW, DISCLOSURE_THRESHOLD) == (3, 20, 10)
    out = flag_small_counts(pd.Series([0, 2, 3, 19, 20, np.nan], index=list("abcdef")))
    assert list(out.index) == list("abcdef")
    assert out.suppress.tolist() == [True, True, False, False, False, False]
    assert out.unreliable.tolist() == [False, False, True, True, False, False]
    assert out.flag.tolist() == ["[x]", "[x]", "[u]", "[u]", "", ""]


def test_flag_small_counts_options_and_errors():
    out = flag_small_counts([5, 9, 10], suppress_below=10, unreliable_below=20)
    assert out.flag.tolist() == ["[x]", "[x]", "[u]"]
    assert flag_small_counts(7).shape == (1, 4)
    with pytest.raises(DataValidationError):
        flag_small_counts([1], suppress_below=30, unreliable_below=20)
    with pytest.raises(DataValidationError):
        flag_small_counts([-1])
    with pytest.raises(DataValidationError):
        flag_small_counts([[1, 2]])


# --------------------------------------------------------------------------- linked tables
from equity_metrics.measures._linked_suppression import LinkedCells, audit_linked, protect_linked  # noqa: E402


def _issue_example(cost_headline: float = 10.0) -> LinkedCells:
    """Northshire 'Other': 13 in the headline, by object 11 + 1 + 1, zeros published."""
    lc = LinkedCells()
    lc.cell("headline", 13, cost=cost_headline)
    for k, v in {"drugs": 11, "theft": 1, "stolen": 1, "weapons": 0}.items():
        lc.cell(k, v, primary=0 < v < 10)
    lc.equal(["drugs", "theft", "stolen", "weapons"], ["headline"])
    return lc


def test_linked_issue_leak_is_found_then_repaired():
    lc = _issue_example()
    before = audit_linked(lc, threshold=10)
    assert before[["low", "high"]].to_numpy().tolist() == [[1, 1], [1, 1]]
    assert not before["protected"].any()
    res = protect_linked(lc, threshold=10)
    hidden = {k for k, h in res.mask().items() if h}
    assert hidden == {"drugs", "theft", "stolen"}  # never the published zero, never the dear headline
    after = audit_linked(lc, threshold=10, hidden=res.hidden)
    assert after["protected"].all() and (after["high"] >= 10).all()
    assert res.unprotected == ()


def test_linked_reader_mask_has_no_kind_but_analyst_side_does():
    res = protect_linked(_issue_example(), threshold=10)
    assert set(res.mask().values()) == {True, False}  # one kind of hidden cell for readers
    kinds = res.tidy().set_index("cell")["kind"].to_dict()
    assert kinds == {"drugs": "secondary", "theft": "primary", "stolen": "primary"}
    assert "1 added" in str(res) and "<table" in res._repr_html_()


def test_linked_protection_is_deterministic_and_monotone():
    a = protect_linked(_issue_example(), threshold=10)
    b = protect_linked(_issue_example(), threshold=10)
    assert (a.hidden == b.hidden).all() and a.intervals.equals(b.intervals)
    # hiding one more cell only widens the attacker's intervals
    lc = _issue_example()
    base = audit_linked(lc, threshold=10, hidden=a.hidden).set_index("cell")
    more = a.hidden.copy()
    more[lc.index("headline")] = True
    wider = audit_linked(lc, threshold=10, hidden=more).set_index("cell")
    for k in base.index:
        assert wider.at[k, "low"] <= base.at[k, "low"] and wider.at[k, "high"] >= base.at[k, "high"]


def test_linked_two_way_table_with_rolling_windows():
    """Monthly counts are never published; overlapping 3-month windows and the period total are."""
    months = [2, 1, 3, 9, 12, 15, 11, 2, 14]
    lc = LinkedCells()
    for i, _ in enumerate(months):
        lc.internal_count(("m", i))
    for s in range(len(months) - 2):
        w = sum(months[s:s + 3])
        lc.cell(("w", s), w, primary=0 < w < 10, lower=0, cost=1.0)
        lc.equal([("m", i) for i in range(s, s + 3)], [("w", s)])
    lc.cell("total", sum(months), cost=100.0)
    lc.equal([("m", i) for i in range(len(months))], ["total"])
    before = audit_linked(lc, threshold=10)
    assert not before["protected"].all()  # window 0 (6) is pinned by its neighbours and the total
    res = protect_linked(lc, threshold=10)
    assert res.unprotected == ()
    assert audit_linked(lc, threshold=10, hidden=res.hidden)["protected"].all()
    assert not res.hidden[lc.index("total")]


def test_linked_rule_accepts_provably_large_cells():
    lc = LinkedCells()
    lc.cell("a", 50, hidden=True)
    lc.cell("b", 5, primary=True)
    lc.cell("t", 55)
    lc.cell("c", 48)
    lc.equal(["a", "b"], ["t"])
    lc.at_most(["c"], ["a"])  # a reader knows a >= 48
    out = audit_linked(lc, threshold=10).set_index("cell")
    assert (out.at["a", "low"], out.at["a", "high"]) == (48, 54) and bool(out.at["a", "protected"])  # provably large
    assert (out.at["b", "low"], out.at["b", "high"]) == (1, 7) and not bool(out.at["b", "protected"])  # provably small
    lc2 = LinkedCells()
    lc2.cell("a", 50, hidden=True)
    lc2.cell("b", 5, primary=True)
    lc2.cell("t", 55)
    lc2.equal(["a", "b"], ["t"])
    out2 = audit_linked(lc2, threshold=10).set_index("cell")
    assert (out2.at["b", "low"], out2.at["b", "high"]) == (1, 54) and out2["protected"].all()


def test_linked_errors_say_what_to_do():
    lc = LinkedCells()
    lc.cell("a", 3)
    with pytest.raises(DataValidationError, match="added twice"):
        lc.cell("a", 4)
    with pytest.raises(DataValidationError, match="no cell"):
        lc.equal(["a", "zz"])
    with pytest.raises(DataValidationError, match="needs a value"):
        lc.cell("b", None)
    lc.cell("t", 10)
    lc.equal(["a"], ["t"])  # 3 != 10: the links are wrong
    with pytest.raises(DataValidationError, match="check the table links"):
        audit_linked(lc, threshold=10)


def test_suppress_never_hides_a_zero_as_complement():
    t = pd.DataFrame({"A": [3, 0, 40], "B": [0, 0, 50], "C": [20, 30, 60]}, index=["x", "y", "z"])
    res = suppress(t, threshold=5)
    x = t.to_numpy()
    assert not (res.mask.to_numpy() & (x == 0)).any()


def test_suppress_interval_protection_widens_narrow_intervals():
    t = pd.DataFrame({"A": [3, 4, 30], "B": [40, 40, 50]}, index=list("xyz"))
    exact = suppress(t, threshold=10)
    assert exact.mask.to_numpy().sum() == 4  # exact recovery is blocked, but 'x A' is known to be 1..7
    lc_high = feasible_intervals(t, exact).set_index(["row", "column"]).at[("x", "A"), "high"]
    assert lc_high < 10
    res = suppress(t, threshold=10, protection="interval")
    assert res.mask.to_numpy().all() and res.unprotected == ()
    iv = feasible_intervals(t, res)
    assert (iv["high"] >= 10).all() and (iv["width"] >= 9).all()
    assert res.n_primary == 2 and res.n_secondary == 4
    with pytest.raises(EquityMetricsError, match="choose one of"):
        suppress(t, threshold=10, protection="wide")


# --------------------------------------------------------------------------- report tables
def _disp_rows(label: str, cats: dict, pops: dict, ns: dict) -> pd.DataFrame:
    rows = []
    for cat, counts in cats.items():
        stated = sum(counts.values())
        for g, e in counts.items():
            rows.append({label: cat, "group": g, "events": float(e), "population": pops[g],
                         "rate_per_1000": 1000 * e / pops[g], "ratio": 1.0, "reference_events": float(counts["White"]),
                         "not_stated_events": ns[cat], "not_stated_share": ns[cat] / (stated + ns[cat]),
                         "ratio_bound_low": 1.0, "ratio_bound_high": 1.0,
                         "flags": "small_count" if e < 20 else "", "suppressed": False})
    return pd.DataFrame(rows)


def test_protect_report_tables_hides_a_small_row_total_and_count_flags():
    from equity_metrics.report.protection import protect_report_tables

    pops = {"Black": 2e4, "White": 3e5}
    power = {"s60": {"Black": 3, "White": 5}, "s23": {"Black": 60, "White": 150}, "pace": {"Black": 40, "White": 90}}
    t = _disp_rows("legal_power", power, pops, {"s60": 2, "s23": 29, "pace": 14})
    t.loc[t["events"] < 10, ["events", "rate_per_1000"]] = np.nan
    t["suppressed"] = t["events"].isna()
    head = _disp_rows("area", {"x": {"Black": 103, "White": 245}}, pops, {"x": 45}).drop(columns="area")
    p = protect_report_tables({"headline": head, "by_power": t}, threshold=10, reference="White", area=None,
                              period_months=[], trend_period="rolling12")
    out = p.tables["by_power"].set_index(["legal_power", "group"])
    # s60's total (8) and not-stated count (2) are small and would be read off its not-stated share and
    # ratio bounds: both go, with another row's (or the headline's 45 would give s60's 2 back)
    assert out.loc["s60", "not_stated_share"].isna().all() and out.loc["s60", "ratio_bound_high"].isna().all()
    assert out["not_stated_share"].isna().sum() >= 4
    # ... and a second row's cells: its total and the headline would pin s60's counts again
    assert out.loc["s23", "suppressed"].all() and not out.loc["pace", "suppressed"].any()
    assert not out.loc[out["suppressed"], "flags"].str.contains("small_count").any()
    iv = p.tidy().set_index("cell")
    assert ((iv["low"] >= 10) | ((iv["high"] >= 10) & (iv["high"] - iv["low"] >= 9))).all()
    kinds = p.tidy().set_index("cell")["kind"]
    assert kinds[("row_total", "by_power", "s60")] == "primary" and kinds[("not_stated", "by_power", "s60")] == "primary"
    assert "all protected" in p.summary()
