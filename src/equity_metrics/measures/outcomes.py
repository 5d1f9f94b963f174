"""Decisions after the search: find, arrest and outcome rates by group, and the outcome (hit-rate) test.

The outcome test (Knowles, Persico & Todd 2001; the Stanford Open Policing
Project's "outcome test") compares the share of searches that find what was
searched for across groups: if searches of one group find less, officers may
search that group on less evidence.

What counts as a find is defined once, in :mod:`equity_metrics.outcome_codes`: an
outcome other than no further action that is linked to the object of search (the
Home Office and HMICFRS definition; the canonical ``hit`` column). Forces that do
not fill the linked field for most such outcomes get no find rate ("not recorded",
flag ``find_not_recorded``), never a rate computed from the few rows they fill.
Alongside the find rate, :meth:`OutcomeTestResult.rates` gives the arrest rate and
the share of searches with any outcome other than no further action, which every
force records. The rules are in ``docs/real-data-rules.md`` ("Find rate").

The relative rate index through successive decisions is :func:`stage_rri`
(:mod:`equity_metrics.measures._stages`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from .._results import ResultBase
from .._options import check_option
from .._security import escape_html
from ..errors import EstimationError
from ..ethnicity import NOT_STATED
from ..io._counts import EventCounts
from ..ledger import ReadResult
from ..outcome_codes import LINKED_COVERAGE_MIN, is_arrest, is_nfa, outcome_known
from ._common import UNRELIABLE_BELOW, as_list, frame_of, need_columns
from ._stages import StageRRIResult, stage_rri
from .intervals import wilson_ci

__all__ = [
    "outcome_test",
    "OutcomeTestResult",
    "stage_rri",
    "StageRRIResult",
    "NON_DISCRETIONARY_PATTERNS",
    "MEASURE_LABELS",
    "find_coverage",
]

#: Powers that need no reasonable suspicion (searches are not officers' case-by-case
#: judgement, so an outcome test is not meaningful for them): s60 Criminal Justice
#: and Public Order Act 1994, s47A Terrorism Act 2000, s43/s44 Terrorism Act.
NON_DISCRETIONARY_PATTERNS = (r"section 60\b", r"\(section 60\)", r"section 47a", r"terrorism act", r"s\.?60\b")

Outcome = Literal["find", "hit", "arrest", "any_outcome", "any_positive"]
PooledMethod = Literal["auto", "glm", "firth"]
_ALIAS = {"hit": "find", "any_positive": "any_outcome"}

#: Plain words for each measure (what the field means, not what we wish it meant).
MEASURE_LABELS = {
    "find": "find rate: outcome other than no further action, recorded as linked to what was searched for",
    "arrest": "arrest rate: searches ending in arrest",
    "any_outcome": "any outcome other than no further action (arrest, summons, caution, community resolution, ...)",
}


def _discretionary_mask(ev: pd.DataFrame, notes: list[str]) -> np.ndarray:
    if "legal_power" not in ev.columns or ev["legal_power"].isna().all():
        notes.append("the source does not give the legal power: all searches used (discretion unknown)")
        return np.ones(len(ev), bool)
    lp = ev["legal_power"].astype("string").fillna("").str.lower()
    pat = "|".join(NON_DISCRETIONARY_PATTERNS)
    nd = lp.str.contains(pat, regex=True).to_numpy(bool)
    if nd.any():
        notes.append(f"{int(nd.sum()):,} searches under powers needing no suspicion (s60 / terrorism) excluded")
    blank = (lp == "").to_numpy(bool)
    if blank.any():
        notes.append(f"{int(blank.sum()):,} searches with no recorded legal power kept (assumed discretionary)")
    return ~nd


def searches_of_people(ev: pd.DataFrame, *, exclude_vehicle_only: bool = True, discretionary_only: bool = False,
                       notes: list[str] | None = None) -> pd.DataFrame:
    """Searches (``search_conducted``) of people (vehicle-only searches left out), optionally discretionary only."""
    notes = notes if notes is not None else []
    keep = np.ones(len(ev), bool)
    if "search_conducted" in ev.columns:
        keep &= ev["search_conducted"].fillna(False).to_numpy(bool)
    if exclude_vehicle_only and "vehicle_only" in ev.columns:
        vo = ev["vehicle_only"].fillna(False).to_numpy(bool)
        if (vo & keep).any():
            notes.append(f"{int((vo & keep).sum()):,} vehicle-only searches (no person searched) left out")
        keep &= ~vo
    if discretionary_only:
        keep &= _discretionary_mask(ev, notes)
    return ev.loc[keep]


def _indicators(ev: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """measure -> (event happened, outcome known) over the rows of ``ev``, for the measures the columns allow."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    has_outcome = "outcome" in ev.columns and ev["outcome"].notna().any()
    known = outcome_known(ev["outcome"]) if has_outcome else np.ones(len(ev), bool)
    if "hit" in ev.columns:
        h = ev["hit"].astype("boolean")
        out["find"] = (h.fillna(False).to_numpy(bool), ~h.isna().to_numpy(bool))
    if "arrest" in ev.columns:
        a = ev["arrest"].astype("boolean")
        out["arrest"] = (a.fillna(False).to_numpy(bool), ~a.isna().to_numpy(bool) & known)
    elif has_outcome:
        out["arrest"] = (is_arrest(ev["outcome"]), known)
    if has_outcome:
        out["any_outcome"] = (known & ~is_nfa(ev["outcome"]), known)
    return out


def _coverage_frame(ev: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` cell: searches with an outcome other than NFA, and how many say whether it was linked."""
    has_outcome = "outcome" in ev.columns and ev["outcome"].notna().any()
    elig = (outcome_known(ev["outcome"]) & ~is_nfa(ev["outcome"])) if has_outcome else np.ones(len(ev), bool)
    filled = elig & ~ev["hit"].astype("boolean").isna().to_numpy(bool)
    f = pd.DataFrame({k: ev[k].astype(str).to_numpy() for k in keys})
    f["eligible"], f["filled"] = elig, filled
    if not keys:
        f["_all"] = "all"
        keys = ["_all"]
    c = f.groupby(keys, sort=True)[["eligible", "filled"]].sum().reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        c["linked_coverage"] = np.where(c["eligible"] > 0, c["filled"] / c["eligible"].where(c["eligible"] > 0, 1), 1.0)
    return c.drop(columns=["_all"], errors="ignore")


def find_coverage(events: pd.DataFrame | ReadResult, *, by: str | Sequence[str] | None = ("force",),
                  threshold: float = LINKED_COVERAGE_MIN) -> pd.DataFrame:
    """How well each cell records whether an outcome was linked to the object of search.

    Returns ``by..., eligible, filled, linked_coverage, find_recorded``: searches of
    people with an outcome other than no further action, how many fill the linked
    field, their share, and whether it reaches ``threshold`` (below it no find rate
    is published; see ``docs/real-data-rules.md``).

    Examples
    --------
    >>> import equity_metrics as em
    >>> cov = em.measures.find_coverage(em.datasets.load_sample_stops(), by="force")
    >>> list(cov.columns)
    ['force', 'eligible', 'filled', 'linked_coverage', 'find_recorded']
    """
    ev = searches_of_people(frame_of(events, "events"))
    keys = as_list(by)
    need_columns(ev, keys + ["hit"], "events")
    c = _coverage_frame(ev, keys)
    c["find_recorded"] = c["linked_coverage"] >= threshold
    return c


@dataclass
class OutcomeTestResult(ResultBase):
    """Outcome rates by group (Wilson intervals) and odds ratios from a binomial GLM with area effects.

    Attributes
    ----------
    table
        The tested measure by ``by x group`` (see :meth:`tidy`).
    rate_table
        Find, arrest and any-outcome rates side by side (see :meth:`rates`).
    pooled
        Odds ratios of the tested measure vs the reference group.
    coverage
        Per area (x ``by``): linked-field coverage and whether a find rate is published.
    """

    table: pd.DataFrame
    pooled: pd.DataFrame
    by: list[str]
    reference: str
    outcome: str
    alpha: float
    notes: list[str] = field(default_factory=list)
    rate_table: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None

    def tidy(self) -> pd.DataFrame:
        """By group (and ``by``): ``outcome, searches, hits, hit_rate, ci_low, ci_high,
        difference_from_reference, linked_coverage, flags`` for the tested measure.

        ``searches`` is the denominator (searches of people with the outcome known),
        ``hits`` the searches with the outcome; ``hit_rate`` is ``NaN`` with flag
        ``find_not_recorded`` where the force does not record finds.
        """
        return self.table.copy()

    def rates(self) -> pd.DataFrame:
        """Long table: ``by..., group, measure, searches, count, rate, ci_low, ci_high,
        difference_from_reference, linked_coverage, flags`` for ``measure`` in find, arrest, any_outcome."""
        return (self.rate_table if self.rate_table is not None else pd.DataFrame()).copy()

    def pooled_tidy(self) -> pd.DataFrame:
        """Odds ratios vs the reference: ``group, odds_ratio, ci_low, ci_high, p_value, method``."""
        return self.pooled.copy()


    def summary(self) -> str:
        lvl = int(round(100 * (1 - self.alpha)))
        lines = [f"Outcome test ({MEASURE_LABELS[self.outcome]}), {lvl}% Wilson intervals"]
        lines += [f"  note: {n}" for n in self.notes]
        t = self.table.copy()
        for c in ("hit_rate", "ci_low", "ci_high", "linked_coverage"):
            t[c] = t[c].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
        lines.append(t[self.by + ["group", "searches", "hits", "hit_rate", "ci_low", "ci_high", "flags"]].to_string(index=False))
        if len(self.pooled):
            lines.append(f"\nPooled logistic model (area effects): odds ratio vs {self.reference}")
            lines.append(self.pooled.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{escape_html(n)}</li>" for n in self.notes)
        return (
            f"<p><b>Outcome test</b> ({escape_html(MEASURE_LABELS[self.outcome])})</p><ul>{notes}</ul>"
            + self.table.to_html(index=False, escape=True)
            + self.pooled.to_html(index=False, escape=True)
        )

    def plot(self, *, ax=None):
        """Rates of the tested measure with Wilson intervals, one row per ``by x group``. Returns the Axes."""
        from ..plots import forest_plot

        t = self.table.dropna(subset=["hit_rate"])
        labels = t[self.by + ["group"]].astype(str).agg(", ".join, axis=1).tolist()
        xl = {"find": "Find rate (outcome linked to object of search)", "arrest": "Arrest rate",
              "any_outcome": "Outcome other than no further action"}[self.outcome]
        return forest_plot(labels, t["hit_rate"], t["ci_low"], t["ci_high"], ax=ax, reference_line=None, xlabel=xl)


def outcome_test(
    events: pd.DataFrame | ReadResult | EventCounts,
    *,
    by: str | Sequence[str] | None = "force",
    group_col: str = "ethnicity",
    outcome: Outcome = "find",
    reference: str = "White",
    discretionary_only: bool = True,
    exclude_vehicle_only: bool = True,
    pooled_over: str | None = "force",
    pooled_method: PooledMethod = "auto",
    coverage_threshold: float = LINKED_COVERAGE_MIN,
    alpha: float = 0.05,
    unreliable_below: int = UNRELIABLE_BELOW,
) -> OutcomeTestResult:
    """The outcome test by group, with find, arrest and any-outcome rates.

    Parameters
    ----------
    events
        Canonical events (searches), or :class:`~equity_metrics.EventCounts` from
        :func:`~equity_metrics.count_policeuk` on any engine counted by the columns used
        (e.g. ``force, ethnicity, hit, arrest, outcome, outcome_linked, legal_power,
        vehicle_only``). ``hit`` is the canonical find (outcome other than
        no further action, linked to the object of search); ``arrest`` and
        ``outcome`` give the other two measures.
    by
        Breakdown of the table (``None`` for one row per group).
    outcome
        The measure tested and pooled: ``"find"`` (alias ``"hit"``), ``"arrest"`` or
        ``"any_outcome"`` (alias ``"any_positive"``). All three are in :meth:`~OutcomeTestResult.rates`.
    discretionary_only
        Drop searches under powers that need no suspicion (s60, terrorism),
        where the source says which power was used.
    pooled_over
        Area column for the pooled logistic model ``outcome ~ group + area``
        (``None`` for no area effects).
    pooled_method
        ``"glm"`` (maximum likelihood), ``"firth"`` (penalised: finite estimates
        when a group has no events) or ``"auto"``: Firth when a group has no events
        (or only events) in the data, else the GLM.
    coverage_threshold
        Find rates are published only for areas (x ``by`` cells) where at least this
        share of the searches with an outcome other than no further action say
        whether it was linked (default :data:`~equity_metrics.outcome_codes.LINKED_COVERAGE_MIN`).

    Returns
    -------
    OutcomeTestResult

    Examples
    --------
    >>> import equity_metrics as em
    >>> res = em.outcome_test(em.datasets.load_sample_stops(), by=None)
    >>> set(res.rates()["measure"]) == {"find", "arrest", "any_outcome"}
    True
    """
    check_option("outcome", outcome, Outcome)
    check_option("pooled_method", pooled_method, PooledMethod)
    measure = _ALIAS.get(outcome, outcome)
    by_cols = as_list(by)
    if isinstance(events, EventCounts):  # counts from count_policeuk (any engine): a row per event
        events = events.to_events(exclude_vehicle_only=exclude_vehicle_only)
    ev = frame_of(events, "events")
    need_columns(ev, [group_col] + by_cols, "events")
    notes: list[str] = []
    ev = searches_of_people(ev, exclude_vehicle_only=exclude_vehicle_only, discretionary_only=discretionary_only, notes=notes)
    ind = _indicators(ev)
    if measure not in ind:
        need = {"find": "hit", "arrest": "arrest or outcome", "any_outcome": "outcome"}[measure]
        raise EstimationError(f"outcome={outcome!r} needs the column(s) {need} in the events table; "
                              f"the table has {list(ev.columns)[:20]}")
    g = ev[group_col].astype(str).to_numpy()
    stated = g != NOT_STATED
    if (~stated).any():
        notes.append(f"{int((~stated).sum()):,} searches with ethnicity not stated left out")

    # --- find coverage per area (x by) cell: below the threshold, no find rate
    cov_keys = list(dict.fromkeys(by_cols + ([pooled_over] if pooled_over and pooled_over in ev.columns else [])
                                  + (["force"] if "force" in ev.columns and not by_cols else [])))
    coverage = None
    recorded = np.ones(len(ev), bool)
    if "find" in ind:
        coverage = _coverage_frame(ev, cov_keys)
        coverage["find_recorded"] = coverage["linked_coverage"] >= coverage_threshold
        if cov_keys:
            key = pd.MultiIndex.from_frame(ev[cov_keys].astype(str)) if len(cov_keys) > 1 else pd.Index(ev[cov_keys[0]].astype(str))
            ok = coverage.set_index(cov_keys)["find_recorded"]
            recorded = np.asarray(ok.reindex(key).fillna(True).to_numpy(), bool)
        else:
            recorded[:] = bool(coverage["find_recorded"].iloc[0])
        bad = coverage[~coverage["find_recorded"]]
        if len(bad):
            names = ", ".join(" ".join(str(v) for v in r) for r in bad[cov_keys].itertuples(index=False)) if cov_keys else "these data"
            notes.append(
                f"find rate not recorded for {names}: under {coverage_threshold:.0%} of searches with an outcome other "
                "than no further action say whether it was linked to the object of search "
                f"({', '.join(f'{v:.0%}' for v in bad['linked_coverage'])}); no find rate is shown there"
            )
        f_known = ind["find"][1] & recorded & stated
        unk = (~ind["find"][1]) & recorded & stated
        if unk.any():
            notes.append(f"{int(unk.sum()):,} searches ({unk.sum() / max(int((recorded & stated).sum()), 1):.1%}) with no "
                         "recorded outcome, or with an outcome other than no further action not saying whether it was "
                         "linked: left out of the find rate")
        ind["find"] = (ind["find"][0], f_known)

    # --- rates of each measure by cell
    frames = []
    cell_keys = by_cols + ["group"]
    base = pd.DataFrame({k: ev[k].astype(str).to_numpy() for k in by_cols})
    base["group"] = g
    for m, (y, known) in ind.items():
        use = known & stated
        f = base[use].assign(_y=y[use])
        agg = f.groupby(cell_keys, sort=True)["_y"].agg(searches="size", count="sum").reset_index()
        allc = base[stated].drop_duplicates().sort_values(cell_keys)
        agg = allc.merge(agg, on=cell_keys, how="left")
        agg["searches"] = agg["searches"].fillna(0).astype(np.int64)
        agg["count"] = agg["count"].fillna(0).astype(np.int64)
        agg.insert(len(by_cols) + 1, "measure", m)
        frames.append(agg)
    rt = pd.concat(frames, ignore_index=True)
    lo, hi = wilson_ci(rt["count"].to_numpy(float), rt["searches"].to_numpy(float), alpha=alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        rt["rate"] = np.where(rt["searches"] > 0, rt["count"] / rt["searches"].where(rt["searches"] > 0, 1), np.nan)
    rt["ci_low"], rt["ci_high"] = np.asarray(lo, float), np.asarray(hi, float)
    rt["linked_coverage"] = np.nan
    flags = np.where(rt["searches"] < unreliable_below, "small_count", "")
    if coverage is not None:
        fm = (rt["measure"] == "find").to_numpy()
        cov_by = [k for k in cov_keys if k in by_cols]
        if cov_by and cov_by == cov_keys:
            cv = rt.loc[fm, cov_by].merge(coverage[cov_by + ["linked_coverage", "find_recorded"]], on=cov_by, how="left")
            rt.loc[fm, "linked_coverage"] = cv["linked_coverage"].to_numpy()
            notrec = fm.copy()
            notrec[fm] = ~cv["find_recorded"].fillna(True).to_numpy(bool)
        else:  # coverage is finer than the table (e.g. by force, table overall): share of searches in recorded areas
            filled, elig = coverage["filled"].sum(), coverage["eligible"].sum()
            rt.loc[fm, "linked_coverage"] = filled / elig if elig else 1.0
            notrec = fm & (rt["searches"] == 0).to_numpy() & bool(not recorded.all())
        flags = np.where(notrec, "find_not_recorded", flags)
        for c in ("rate", "ci_low", "ci_high"):
            rt.loc[notrec, c] = np.nan
    rt["flags"] = flags
    # difference from the reference group's rate in the same cell
    ref = rt[rt["group"] == reference].set_index(by_cols + ["measure"])["rate"]
    key = pd.MultiIndex.from_frame(rt[by_cols + ["measure"]]) if by_cols else pd.Index(rt["measure"])
    rt["difference_from_reference"] = rt["rate"].to_numpy() - ref.reindex(key).to_numpy(float)
    rt = rt[by_cols + ["group", "measure", "searches", "count", "rate", "ci_low", "ci_high", "difference_from_reference",
                       "linked_coverage", "flags"]]

    table = rt[rt["measure"] == measure].drop(columns="measure").rename(columns={"count": "hits", "rate": "hit_rate"})
    table.insert(len(by_cols) + 1, "outcome", measure)
    table = table.reset_index(drop=True)
    y, known = ind[measure]
    use = known & stated & (recorded if measure == "find" else True)
    pooled = _pooled_logit(ev.loc[use].assign(_y=y[use], _g=g[use]), reference=reference, area=pooled_over,
                           alpha=alpha, method=pooled_method, notes=notes)
    return OutcomeTestResult(table, pooled, by_cols, reference, measure, alpha, notes, rt.reset_index(drop=True), coverage)


def _pooled_logit(ev: pd.DataFrame, *, reference: str, area: str | None, alpha: float, method: str,
                  notes: list[str]) -> pd.DataFrame:
    """Binomial logit on counts: events/non-events ~ group (+ area); odds ratios vs reference.

    Areas where every search (of every group) had the outcome, or none did, carry no
    information about the groups' odds ratios once area effects are in the model: they
    are left out (noted). Separation by group (a group with no events, or only events)
    is handled by Firth's penalised likelihood (``method="auto"``).
    """
    import statsmodels.api as sm
    from scipy import stats

    from ._firth import firth_logit

    cols = ["group", "odds_ratio", "ci_low", "ci_high", "p_value", "method"]
    keys = ["_g"] + ([area] if area and area in ev.columns else [])
    if area and area not in ev.columns:
        notes.append(f"no {area!r} column: pooled model without area effects")
    cnt = ev.groupby(keys, observed=True, sort=True)["_y"].agg(["sum", "size"]).reset_index()
    cnt = cnt[cnt["size"] > 0]
    if len(keys) > 1:
        tot = cnt.groupby(keys[1], observed=True)[["sum", "size"]].sum()
        flat = tot.index[(tot["sum"] == 0) | (tot["sum"] == tot["size"])]
        if len(flat):
            notes.append(f"pooled model: {len(flat)} area(s) where every search or none had the outcome carry no "
                         "information on the groups' odds ratios and are left out")
            cnt = cnt[~cnt[keys[1]].isin(flat)]
    groups = sorted(set(cnt["_g"]))
    if reference not in groups or len(groups) < 2:
        return pd.DataFrame(columns=cols)
    others = [g for g in groups if g != reference]
    X = np.column_stack([np.ones(len(cnt))] + [(cnt["_g"] == g).to_numpy(float) for g in others])
    if len(keys) > 1:
        levels = sorted(set(cnt[keys[1]].astype(str)))
        X = np.column_stack([X] + [(cnt[keys[1]].astype(str) == lv).to_numpy(float) for lv in levels[1:]])
    ysum, n = cnt["sum"].to_numpy(float), cnt["size"].to_numpy(float)
    gt = cnt.groupby("_g")[["sum", "size"]].sum()
    separated = [g for g in groups if gt.loc[g, "sum"] == 0 or gt.loc[g, "sum"] == gt.loc[g, "size"]]
    use_firth = method == "firth" or (method == "auto" and bool(separated))
    z = stats.norm.isf(alpha / 2)
    k = slice(1, 1 + len(others))
    if use_firth:
        fit = firth_logit(X, ysum, n)
        b, se = fit.params[k], fit.bse[k]
        pv = 2 * stats.norm.sf(np.abs(b / se))
        label = "firth"
        why = (f" ({', '.join(separated)}: no searches with the outcome, or only such searches; the maximum-likelihood "
               "odds ratio would be 0 or infinite)") if separated else ""
        notes.append(f"pooled model: Firth-penalised logistic regression{why}; Wald intervals on the penalised estimate")
    else:
        try:
            fit = sm.GLM(np.column_stack([ysum, n - ysum]), X, family=sm.families.Binomial()).fit()
        except Exception as exc:  # noqa: BLE001 - statsmodels raises several types on degenerate designs
            raise EstimationError(f"the pooled logistic model could not be fitted ({exc}); "
                                  "try pooled_method='firth' or pooled_over=None") from None
        b, se, pv = fit.params[k], fit.bse[k], fit.pvalues[k]
        label = "glm"
    out = pd.DataFrame({"group": others, "odds_ratio": np.exp(b), "ci_low": np.exp(b - z * se),
                        "ci_high": np.exp(b + z * se), "p_value": pv, "method": label})
    notes.append(
        f"pooled model: logit of the outcome on group{' + ' + area if len(keys) > 1 else ''}, "
        f"{int(n.sum()):,} searches; odds ratios vs {reference}"
    )
    return out
