"""Officer-level internal benchmarking (Ridgeway & MacDonald 2009) with Efron's empirical-null fdr.

For each officer with at least ``min_encounters`` encounters (stops, searches or
uses of force with a recorded subject ethnicity), :func:`internal_benchmark`
compares the share of the officer's encounters involving the ``target`` group
(e.g. Black subjects) with what *other officers working in the same places,
times and assignments* recorded, and turns the difference into a z-statistic.
The z-statistics of all officers then go through :func:`~equity_metrics.measures.locfdr.locfdr`:
officers whose local false discovery rate is below ``threshold`` (0.2) are
flagged. Using an empirical null (``delta``, ``sigma`` estimated from the
bulk of officers) rather than ``N(0, 1)`` absorbs what every officer shares:
unmodelled deployment differences, correlated encounters, a variance that is
somewhat too small. It is what makes "1 in 20 officers significant at 5%" not
a list of names by chance (Ridgeway & MacDonald 2009; Efron 2010).

Method, for officer ``i`` (encounters ``j``; other officers' encounters ``k``):

**Propensity weights by exact cells.** ``match_on`` (default district x shift x
year) defines cells. The propensity that an encounter in cell ``c`` is officer
``i``'s, from the saturated multinomial model of officer on cell, is
``n_ic / n_c``; the odds weight of another officer's encounter in that cell is
``w_c = n_ic / (n_c - n_ic)``, so the comparison encounters carry exactly the
officer's distribution over cells (the ATT weighting of Ridgeway & MacDonald,
with the model saturated in the cell variables). The officer's encounters in
cells where nobody else worked have no comparison and are left out (their
share is ``coverage``).

**Doubly robust adjustment.** An outcome regression ``m(x)``, a logistic
regression of "subject is in the target group" on the finer ``adjust_for``
features (default beat, hour, weekday, month; dummies with a small ridge
penalty), fitted once to all encounters, augments the weighting::

    expected_i = mean_j m(x_j) + sum_k w_k (y_k - m(x_k)) / sum_k w_k
    difference_i = mean_j y_j - expected_i

It is consistent when either the cell weights or the outcome model is right
(augmented inverse-probability weighting). Its variance, from the influence
function with ``m`` treated as known::

    var = sum_j m_j (1 - m_j) / n_i^2 + sum_k w_k^2 (r_k - rbar_w)^2 / (sum_k w_k)^2,   r = y - m(x)

and ``z_i = difference_i / sqrt(var)``. The officer's part is the binomial
variance under the null (the outcome model's probabilities), not the spread of
the officer's own residuals, which collapses to nearly 0 for an officer whose
few encounters all involve the target group. Everything is computed from per-cell
and per-officer-cell sums in a few vectorised passes (no model per officer).

Caveats (also in ``notes``): encounters of the same officer or incident are not
independent, so z-statistics are over-dispersed; the empirical null is there for
that. A flag says an officer's mix differs from that of colleagues in the same
deployment; it is a reason to look, not a finding of bias.

References: Ridgeway G, MacDonald JM (2009) "Doubly robust internal benchmarking
and false discovery rates for detecting racial bias in police stops", JASA
104:661-668. Efron B (2010) *Large-Scale Inference*, ch. 5-6.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._options import check_option
from .._results import ResultBase
from ..errors import DataValidationError, EstimationError
from ._officer_design import cell_codes, dummies, feature_frame, missing_columns, partner_sums, ridge_logit
from .locfdr import LocfdrResult, NullType, locfdr

__all__ = ["OfficerBenchmarkResult", "internal_benchmark", "officer_benchmark_overview"]

#: Subject-group values treated as unknown (dropped) by default.
UNKNOWN_GROUPS = ("Not stated", "Unknown", "Not recorded", "Other ethnic group - Not stated", "")


@dataclass(repr=False)
class OfficerBenchmarkResult(ResultBase):
    """Per-officer internal benchmarks and empirical-null flags; from :func:`internal_benchmark`.

    Officer identifiers are held (``table["officer_id"]``) but never shown:
    :meth:`summary` and :meth:`overview` have counts and distributions only, and
    :meth:`tidy` uses pseudonymous labels unless ``include_officer_ids=True``.

    Attributes
    ----------
    table
        One row per examined officer (see :meth:`tidy` for the columns), sorted by z descending.
    fdr
        The :class:`~equity_metrics.measures.locfdr.LocfdrResult` on the officers' z-statistics.
    group, target
        The subject-group column and the group whose share is compared.
    n_encounters
        Encounters used (known subject group), all officers.
    n_officers_all
        Officers with at least one such encounter (comparison pool).
    min_encounters, threshold
        Eligibility and flagging settings.
    notes
        What was left out and why, and the caveats.
    """

    table: pd.DataFrame
    fdr: LocfdrResult
    group: str
    target: str
    n_encounters: int
    n_officers_all: int
    min_encounters: int
    threshold: float
    match_on: tuple = ()
    adjust_for: tuple = ()
    notes: list = field(default_factory=list)

    @property
    def n_officers(self) -> int:
        """Officers examined (at least ``min_encounters`` encounters, a finite z)."""
        return len(self.table)

    @property
    def n_flagged(self) -> int:
        """Officers with fdr below the threshold (either direction)."""
        return int(self.table["flagged"].sum())

    def overview(self) -> pd.DataFrame:
        """One row, no identifiers: officers examined and flagged, and the distribution of z (for reports)."""
        return officer_benchmark_overview(self)

    def statement(self) -> str:
        """One sentence for a command report: officers examined and flagged, no identifiers.

        Examples
        --------
        >>> result.statement()  # doctest: +SKIP
        'Of 548 officers with at least 20 encounters, none had a share of Black subjects ...'
        """
        o = self.overview().iloc[0]
        k, hi, lo = int(o["n_flagged"]), int(o["n_flagged_higher"]), int(o["n_flagged_lower"])
        head = (f"Of {self.n_officers:,} officers with at least {self.min_encounters} encounters, "
                if self.n_officers else "No officer had enough encounters to be examined")
        if not self.n_officers:
            return head + "."
        if k == 0:
            return (head + f"none had a share of {self.target} subjects that stands out from colleagues working the "
                    f"same places, times and assignments (local false discovery rate below {self.threshold:g}).")
        parts = [f"{hi:,} higher" if hi else "", f"{lo:,} lower" if lo else ""]
        return (head + f"{k:,} ({100 * k / self.n_officers:.1f}%) had a share of {self.target} subjects that stands out "
                f"from colleagues working the same places, times and assignments ({' and '.join(p for p in parts if p)}; "
                f"local false discovery rate below {self.threshold:g}). A flag is a reason to look, not a finding of bias.")

    def summary(self) -> str:
        o = self.overview().iloc[0]
        t = self.table
        small = int((t["n_matched"] < 2 * self.min_encounters).sum())
        lines = [
            f"Officer-level internal benchmarking: share of encounters with {self.group} = {self.target!r}",
            f"{self.n_encounters:,} encounters of {self.n_officers_all:,} officers; {self.n_officers:,} officers with at "
            f"least {self.min_encounters} encounters examined",
            f"compared with other officers in the same {' x '.join(self.match_on) or '(all)'} cells (propensity "
            f"weights), adjusted for {', '.join(self.adjust_for) or 'nothing'} (doubly robust)",
            f"z-statistics: median {o['z_median']:.2f}, quartiles {o['z_q25']:.2f} to {o['z_q75']:.2f}, "
            f"range {o['z_min']:.2f} to {o['z_max']:.2f}",
            f"empirical null ({self.fdr.null}): delta {o['null_delta']:.3f}, sigma {o['null_sigma']:.3f}, "
            f"p0 {o['null_p0']:.3f}",
            f"flagged (fdr < {self.threshold:g}): {int(o['n_flagged']):,} of {self.n_officers:,} officers "
            f"({int(o['n_flagged_higher']):,} with a higher share than comparable colleagues, "
            f"{int(o['n_flagged_lower']):,} lower)",
            f"median encounters per examined officer: {int(np.median(t['n_encounters'])) if len(t) else 0}; "
            f"{small:,} officers have fewer than {2 * self.min_encounters} matched encounters (small counts: wide intervals)",
        ]
        if len(self.notes):
            lines += ["notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def tidy(self, *, include_officer_ids: bool = False) -> pd.DataFrame:
        """Per-officer table, sorted by z descending.

        Columns: ``officer`` (pseudonymous label ``"officer_0001"``... in this
        order, or the real ``officer_id`` with ``include_officer_ids=True``),
        ``n_encounters``, ``n_matched`` (in cells with comparisons), ``coverage``,
        ``share`` (officer's share of the target group), ``expected`` (doubly
        robust share of comparable colleagues), ``expected_weighted`` (weighting
        only), ``share_all_others`` (unadjusted), ``difference``, ``se``,
        ``ci_low``, ``ci_high`` (95%), ``comparison_ess`` (effective number of
        comparison encounters), ``z``, ``fdr``, ``flagged``, ``direction``.

        Parameters
        ----------
        include_officer_ids
            Put the real officer identifiers in ``officer``: for analysts only,
            never for reader-facing outputs.
        """
        t = self.table.copy()
        ids = t.pop("officer_id")
        width = max(4, len(str(len(t))))
        label = ids if include_officer_ids else pd.Series([f"officer_{i + 1:0{width}d}" for i in range(len(t))],
                                                          index=t.index)
        t.insert(0, "officer", label.to_numpy())
        return t.reset_index(drop=True)

    def plot(self, *, ax=None, title: str | None = None):
        """Histogram of the officers' z with the fitted mixture, the empirical null and the flagged tails.

        Examples
        --------
        >>> ax = result.plot()  # doctest: +SKIP
        """
        from ..plots.officers import officer_benchmark_plot  # presentation only when asked

        return officer_benchmark_plot(self, ax=ax, title=title)


def officer_benchmark_overview(result: OfficerBenchmarkResult) -> pd.DataFrame:
    """Counts and the z distribution of an internal benchmark, with no officer identifiers (for reports).

    Returns a one-row DataFrame: ``n_encounters``, ``n_officers_all``,
    ``n_officers_examined``, ``min_encounters``, ``n_flagged``,
    ``n_flagged_higher``, ``n_flagged_lower``, ``fdr_threshold``, ``z_min``,
    ``z_q25``, ``z_median``, ``z_q75``, ``z_max``, ``null``, ``null_delta``,
    ``null_sigma``, ``null_p0``, ``n_z_above_2``, ``n_z_below_minus_2``.

    Examples
    --------
    >>> from equity_metrics.measures.internal_benchmark import simulate_officer_encounters
    >>> ev, truth = simulate_officer_encounters(n_officers=300, n_biased=0, seed=1)
    >>> res = internal_benchmark(ev, min_encounters=40)
    >>> officer_benchmark_overview(res)[["n_officers_examined", "min_encounters"]].iloc[0].tolist()
    [300, 40]
    """
    t, f = result.table, result.fdr
    z = t["z"].to_numpy(float)
    q = np.quantile(z, [0, 0.25, 0.5, 0.75, 1]) if len(z) else np.full(5, np.nan)
    flagged = t["flagged"].to_numpy(bool)
    return pd.DataFrame([{
        "n_encounters": result.n_encounters, "n_officers_all": result.n_officers_all,
        "n_officers_examined": len(t), "min_encounters": result.min_encounters,
        "n_flagged": int(flagged.sum()), "n_flagged_higher": int((flagged & (t["difference"] > 0)).sum()),
        "n_flagged_lower": int((flagged & (t["difference"] < 0)).sum()), "fdr_threshold": result.threshold,
        "z_min": q[0], "z_q25": q[1], "z_median": q[2], "z_q75": q[3], "z_max": q[4],
        "null": f.null, "null_delta": f.delta, "null_sigma": f.sigma, "null_p0": f.p0,
        "n_z_above_2": int((z > 2).sum()), "n_z_below_minus_2": int((z < -2).sum()),
    }])


_NULL_WORDS = {"central": "central matching", "ml": "the maximum-likelihood null", "theoretical": "the N(0, 1) null"}


def _invalid_null_notes(lf: LocfdrResult, n: int) -> list[str]:
    """A note per null estimate that failed (``estimates["valid"]`` False), saying which null is used instead."""
    out = []
    e = lf.estimates
    for k in ("central", "ml"):
        if k not in e.index or bool(e.loc[k, "valid"]) or not np.isfinite(e.loc[k, "p0"]):
            continue  # a missing estimate is already in the notes (locfdr's warning)
        p0 = e.loc[k, "p0"]
        why = (f"its share of officers who do not differ came out at {p0:.2f}, above 1, which is impossible"
               if p0 > 1 else "its estimates are not usable")
        used = ("it is used all the same (choose null='ml')" if k == lf.null
                else f"{_NULL_WORDS[lf.null]} is used")
        out.append(f"{_NULL_WORDS[k]} failed with {n:,} officers ({why}): {used}")
    return out


def _group_sums(keys: np.ndarray, values: dict[str, np.ndarray], n_keys: int) -> dict[str, np.ndarray]:
    return {k: np.bincount(keys, weights=v, minlength=n_keys) for k, v in values.items()}


def internal_benchmark(
    events,
    *,
    officer: str = "officer_id",
    group: str = "ethnicity",
    target: str = "Black",
    match_on: Sequence[str] = ("district", "shift", "year"),
    adjust_for: Sequence[str] = ("beat", "hour", "weekday", "month"),
    datetime: str = "datetime",
    incident: str | None = None,
    min_encounters: int = 50,
    unknown: Sequence[str] = UNKNOWN_GROUPS,
    null: NullType = "ml",
    threshold: float = 0.2,
    bre: int | None = None,
    df: int = 7,
    ridge: float = 1.0,
) -> OfficerBenchmarkResult:
    """Compare each officer's subject mix with comparable colleagues' and flag outliers by local fdr.

    Parameters
    ----------
    events
        Encounters (stops, searches or uses of force), one row each: a
        DataFrame or a ``ReadResult`` (its ``.data``), e.g. from
        :func:`~equity_metrics.read_chicago_use_of_force`. Filter to one kind of
        encounter first.
    officer
        Column with the officer identifier (rows without one are left out).
    group, target
        Subject-group column and the group whose share is compared (``"Black"``).
    match_on
        Columns (or derived time features ``hour``, ``weekday``, ``month``,
        ``year``, ``shift``, ``quarter``) whose combinations are the exact cells
        for the propensity weights: place, time and assignment.
    adjust_for
        Columns or time features of the outcome regression (doubly robust
        augmentation); finer than ``match_on``. Empty for weighting only.
    datetime
        Event-time column for the derived features.
    incident
        Optional incident identifier column (e.g. Chicago's ``event_no``): other
        officers' encounters in an incident the officer was part of (a partner's
        report of the same subject) are left out of the officer's comparison, so
        that the officer is not compared with their own incidents.
    min_encounters
        Officers with fewer encounters of known subject group are not examined
        (they still serve as comparisons).
    unknown
        Values of ``group`` treated as unknown and left out (with missing values).
    null
        The null for the fdr: ``"ml"`` (empirical, maximum likelihood; default),
        ``"central"`` (empirical, central matching) or ``"theoretical"`` (N(0, 1)).
    threshold
        Officers with fdr below this are flagged (default 0.2, Efron's rule of thumb).
    bre
        Histogram breaks for locfdr; default 120 (R) with 1,000 or more officers,
        else about one break per 8 officers (at least 20).
    df
        Spline degrees of freedom for locfdr's mixture density (R default 7).
    ridge
        Ridge penalty of the outcome regression.

    Returns
    -------
    OfficerBenchmarkResult

    Examples
    --------
    >>> from equity_metrics.measures.internal_benchmark import simulate_officer_encounters
    >>> ev, truth = simulate_officer_encounters(n_officers=400, n_biased=20, seed=3)
    >>> res = internal_benchmark(ev, min_encounters=40)
    >>> res.n_officers, bool(res.n_flagged > 5)
    (400, True)
    >>> res.tidy().columns[:3].tolist()
    ['officer', 'n_encounters', 'n_matched']
    """
    check_option("null", null, NullType)
    data = getattr(events, "data", events)
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError("events must be a DataFrame or a ReadResult (e.g. from read_chicago_use_of_force)")
    for name, cols in (("match_on", match_on), ("adjust_for", adjust_for)):
        if isinstance(cols, str) or not all(isinstance(c, str) for c in cols):
            raise DataValidationError(f"{name} must be a list of column names, e.g. {name}=['district', 'shift']")
    match_on, adjust_for = tuple(match_on), tuple(adjust_for)
    missing = [c for c in (officer, group) if c not in data.columns]
    if missing:
        raise missing_columns(missing, list(data.columns),
                              "Name the officer and subject-group columns with officer= and group=")
    if not isinstance(min_encounters, (int, np.integer)) or min_encounters < 5:
        raise DataValidationError(f"min_encounters={min_encounters!r}: give an integer of at least 5 (default 50)")
    if not 0 < threshold < 1:
        raise DataValidationError(f"threshold={threshold!r} must be between 0 and 1 (default 0.2)")
    notes: list[str] = []
    off_txt = data[officer].astype("string").str.strip()
    grp = data[group].astype("string").str.strip()
    no_off = off_txt.isna() | (off_txt == "")
    unk = grp.isna() | grp.isin([str(u) for u in unknown])
    if not (grp == target).fillna(False).any():
        seen = sorted(grp.dropna().unique().tolist())[:12]
        raise DataValidationError(f"no encounter has {group} = {target!r}; values present: {seen}. Pass target=")
    keep = (~no_off & ~unk).to_numpy()
    if int(no_off.sum()):
        notes.append(f"{int(no_off.sum()):,} encounter(s) without an officer identifier left out")
    if int((unk & ~no_off).sum()):
        notes.append(f"{int((unk & ~no_off).sum()):,} encounter(s) with unknown {group} left out")
    d = data.loc[keep]
    if len(d) == 0:
        raise DataValidationError("no encounter has both an officer identifier and a known subject group")
    y = (grp[keep] == target).to_numpy(dtype=float)
    off_codes, off_ids = pd.factorize(off_txt[keep], sort=True)
    n_off = len(off_ids)
    n_i_all = np.bincount(off_codes, minlength=n_off)
    eligible = n_i_all >= min_encounters
    if eligible.sum() < 50:
        raise EstimationError(
            f"only {int(eligible.sum())} officers have at least {min_encounters} encounters with a known {group}; "
            "the empirical null needs many officers (Efron: hundreds). Lower the minimum (e.g. min_encounters=20) "
            "or add data")
    cells = cell_codes(feature_frame(d, match_on, datetime=datetime))
    if adjust_for:
        X = dummies(feature_frame(d, adjust_for, datetime=datetime))
        m = ridge_logit(X, y, ridge=ridge)
    else:
        m = np.full(len(y), y.mean())
    r = y - m
    n_cells = int(cells.max()) + 1
    # cell totals, officer-cell sums
    cell_tot = _group_sums(cells, {"n": np.ones_like(y), "y": y, "r": r, "r2": r * r}, n_cells)
    oc_key = off_codes.astype(np.int64) * n_cells + cells
    uk, inv = np.unique(oc_key, return_inverse=True)
    oc = _group_sums(inv, {"n": np.ones_like(y), "y": y, "m": m, "r": r, "r2": r * r, "v": m * (1 - m)},
                     len(uk))
    oc_off, oc_cell = uk // n_cells, uk % n_cells
    sel = eligible[oc_off]
    oc_off, oc_cell = oc_off[sel], oc_cell[sel]
    oc = {k: v[sel] for k, v in oc.items()}
    ex = {k: np.zeros(len(oc_off)) for k in ("n", "y", "r", "r2")}
    if incident is not None:
        if incident not in data.columns:
            raise missing_columns([incident], list(data.columns),
                                  "Name the incident identifier column with incident=, or leave it out")
        inc_txt = d[incident].astype("string").str.strip()
        inc_codes = pd.factorize(inc_txt.where(inc_txt != ""), use_na_sentinel=True)[0]
        pk, psum = partner_sums(off_codes, inc_codes, cells, eligible, {"y": y, "r": r, "r2": r * r}, n_cells)
        pos = np.searchsorted(uk[sel], pk)
        found = (pos < len(oc_off)) & (uk[sel][np.minimum(pos, len(oc_off) - 1)] == pk)
        for k in ex:
            np.add.at(ex[k], pos[found], psum[k][found])
        notes.append(f"other officers' encounters in an incident ({incident}) shared with the examined officer are left "
                     f"out of that officer's comparison ({int(psum['n'][found].sum()):,} such exclusions, counted once "
                     "per examined officer)")
    others = cell_tot["n"][oc_cell] - oc["n"] - ex["n"]
    matched = others > 0
    n_ic = np.where(matched, oc["n"], 0.0)
    wc = np.where(matched, oc["n"] / np.where(matched, others, 1.0), 0.0)  # weight per other encounter in the cell
    q1 = cell_tot["r"][oc_cell] - oc["r"] - ex["r"]
    q2 = cell_tot["r2"][oc_cell] - oc["r2"] - ex["r2"]
    qy = cell_tot["y"][oc_cell] - oc["y"] - ex["y"]

    def per_officer(v: np.ndarray) -> np.ndarray:
        return np.bincount(oc_off, weights=v, minlength=n_off)

    W = per_officer(n_ic)
    with np.errstate(invalid="ignore", divide="ignore"):
        rbar_w = per_officer(wc * q1) / W
        share_w = per_officer(wc * qy) / W
        a = rbar_w[oc_off]
        var_oth = per_officer(wc**2 * (q2 - 2 * a * q1 + others * a * a)) / W**2
        ess = W**2 / per_officer(wc**2 * others)
        n1 = W
        ybar1 = per_officer(np.where(matched, oc["y"], 0)) / n1
        mbar1 = per_officer(np.where(matched, oc["m"], 0)) / n1
        rbar1 = per_officer(np.where(matched, oc["r"], 0)) / n1
        var1 = per_officer(np.where(matched, oc["v"], 0)) / n1**2
        diff = rbar1 - rbar_w
        se = np.sqrt(np.maximum(var1, 0) + np.maximum(var_oth, 0))
        z = diff / se
        y_tot = cell_tot["y"].sum()
        y_i = np.bincount(off_codes, weights=y, minlength=n_off)
        share_others = (y_tot - y_i) / (len(y) - n_i_all)
    ok = eligible & np.isfinite(z) & (n1 > 1)
    dropped = int(eligible.sum() - ok.sum())
    if dropped:
        notes.append(f"{dropped:,} eligible officer(s) without a usable comparison (no other officer in their cells, "
                     "or no variation) not examined")
    idx = np.flatnonzero(ok)
    n_ok = len(idx)
    if n_ok < 50:
        raise EstimationError(f"only {n_ok} officers could be compared; lower min_encounters or coarsen match_on")
    if bre is None:
        bre = 120 if n_ok >= 1000 else max(20, n_ok // 8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lf = locfdr(z[idx], bre=int(bre), df=df, null=null, threshold=threshold)
    notes += [str(w.message) for w in caught]
    notes += _invalid_null_notes(lf, n_ok)
    table = pd.DataFrame({
        "officer_id": np.asarray(off_ids)[idx].astype(str),
        "n_encounters": n_i_all[idx].astype(int),
        "n_matched": n1[idx].astype(int),
        "coverage": n1[idx] / n_i_all[idx],
        "share": ybar1[idx],
        "expected": mbar1[idx] + rbar_w[idx],
        "expected_weighted": share_w[idx],
        "share_all_others": share_others[idx],
        "difference": diff[idx],
        "se": se[idx],
        "ci_low": diff[idx] - 1.959963984540054 * se[idx],
        "ci_high": diff[idx] + 1.959963984540054 * se[idx],
        "comparison_ess": ess[idx],
        "z": z[idx],
        "fdr": lf.fdr,
        "flagged": lf.flagged,
    })
    table["direction"] = np.where(~table["flagged"], "", np.where(table["difference"] > 0, "higher", "lower"))
    table = table.sort_values(["z", "officer_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    low_cov = int((table["coverage"] < 0.8).sum())
    if low_cov:
        notes.append(f"{low_cov:,} examined officer(s) have under 80% of their encounters in cells shared with "
                     "colleagues (coverage): their comparison rests on part of their work")
    notes.append("encounters of one officer or incident are not independent: z-statistics are over-dispersed, "
                 "which the empirical null absorbs; a flag is a reason to look, not a finding of bias")
    return OfficerBenchmarkResult(
        table=table, fdr=lf, group=group, target=str(target), n_encounters=int(len(y)), n_officers_all=int(n_off),
        min_encounters=int(min_encounters), threshold=float(threshold), match_on=match_on, adjust_for=adjust_for,
        notes=notes)


from ._officer_sim import simulate_officer_encounters  # noqa: E402  (re-exported for the examples)

__all__ += ["simulate_officer_encounters"]
