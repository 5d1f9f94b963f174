"""Assembly layer of the command report: read the inputs, run the library's measures, return numbers.

Every statistic in the report is computed here by calling the library's own
measures and models (:func:`~equity_metrics.disparity`, :func:`~equity_metrics.trend`,
:func:`~equity_metrics.standardised_disparity`, :func:`~equity_metrics.outcome_test`,
:func:`~equity_metrics.build_panel` + :func:`~equity_metrics.staggered_did` /
:func:`~equity_metrics.event_study`, :func:`~equity_metrics.interrupted_time_series`,
:func:`~equity_metrics.measures.mantel_haenszel_odds_ratio`) and small-number
suppression (:func:`~equity_metrics.suppress`) is applied before anything leaves this
module: hidden counts, and every rate, ratio or interval that would reveal them, are
``NaN`` with ``suppressed = True``. The presentation modules (``figures``, ``html``,
``tables``) only format what :class:`ReportData` holds.

Officer identifiers never enter :class:`ReportData`: the impact section keeps only
aggregate estimates and counts.
"""

from __future__ import annotations

import glob
import hashlib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._manifest import sha256_file
from ..areas import force_name as _force_name
from ..areas import is_known_force
from ..errors import DataValidationError, EquityMetricsError
from ..ethnicity import NOT_STATED
from ..measures._common import population_by_area_group
from .config import ReportConfig
from ._headline import changes_table, headline_comparison, window_table
from ._periods import coverage, covered_months, describe, trend_coverage, windows12, with_coverage
from ._quality import area_files
from ._outcomes import OUTCOME_HIDE, outcome_table
from .compact import compact_table
from .impact import ImpactResult, assemble_impact
from .text import benchmark_text, vintage_words

__all__ = ["ReportData", "assemble", "read_inputs", "ReportInputs", "compact_table"]


# ----------------------------------------------------------------------------- containers
@dataclass
class ReportInputs:
    """What was read: the stops and population (ReadResults) and the optional officer-level tables."""

    stops: Any
    population: Any
    training: Any = None
    officers: pd.DataFrame | None = None
    officer_events: Any = None
    files: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportData:
    """Every number of the command report, suppressed and ready to format.

    Tables are pandas DataFrames whose hidden cells are ``NaN`` with a ``suppressed``
    column; ``headline`` and ``change`` are dicts of numbers; ``impact`` is an
    :class:`~equity_metrics.report.impact.ImpactResult`.
    """

    title: str
    area: str
    area_name: str
    areas: list[str]
    groups: list[str]
    headline_group: str
    reference: str
    benchmark: str
    vintage: str
    level: int
    alpha: float
    suppress_below: int
    period_kind: str
    period_label: str
    period_months: list[str]
    period_desc: str
    headline: pd.DataFrame
    change: dict[str, Any] | None
    trend_counts: pd.DataFrame
    trend_ratio: pd.DataFrame
    trend_period: str
    training_marks: list[str]
    training_mark_label: str
    by_area: pd.DataFrame
    by_power: pd.DataFrame
    by_object: pd.DataFrame
    outcomes: pd.DataFrame
    outcomes_pooled: pd.DataFrame
    outcome_notes: list[str]
    age_sex: pd.DataFrame | None
    age_sex_note: str
    impact: ImpactResult
    quality: dict[str, Any]
    caveats: list[str]
    notes: list[str]
    provenance: dict[str, Any]
    n_suppressed: int
    changes: pd.DataFrame | None = None
    period_note: str = ""
    period_months_covered: int = 12
    no_change_reason: str = ""
    vintage_words: str = ""
    published: pd.DataFrame | None = None
    published_lines: list[str] = field(default_factory=list)
    areas_no_data: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The reader-facing numeric tables by name (hidden cells already ``NaN``)."""
        out = {
            "headline": self.headline, "ratios_by_area": self.by_area, "ratios_by_legal_power": self.by_power,
            "ratios_by_object_of_search": self.by_object, "outcomes": self.outcomes,
            "trend_ratio": self.trend_ratio, "trend_searches": self.trend_counts,
        }
        if self.changes is not None:
            out["headline_change"] = self.changes
        if self.age_sex is not None:
            out["age_sex_standardised"] = self.age_sex
        if self.impact.table is not None:
            out["training_impact"] = self.impact.table
        from .extras import extra_tables

        out.update(extra_tables(self.extras))
        return out

    def compact(self, name: str) -> pd.DataFrame:
        """The reader-facing compact form of ``by_area``, ``by_power`` or ``by_object``.

        One row per area / legal power / object of search: the headline group's and the
        reference group's searches and rates side by side and the headline group's ratio
        to the reference group (see :func:`compact_table`). Hidden cells stay ``NaN``.
        """
        label = {"by_area": "area_name", "by_power": "legal_power", "by_object": "object_of_search"}
        if name not in label:
            raise EquityMetricsError(f"compact table {name!r} does not exist; choose one of {sorted(label)}")
        return compact_table(getattr(self, name), label[name], group=self.headline_group, reference=self.reference)


def force_name(slug: str) -> str:
    """Display name of an area: the police.uk force name, or a plain slug title-cased (other text as given)."""
    s = str(slug)
    if is_known_force(s):
        return _force_name(s)
    return s.replace("-", " ").title() if re.fullmatch(r"[a-z0-9-]+", s) else s


# ----------------------------------------------------------------------------- reading
def _expand(sources: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for s in sources:
        hits = sorted(glob.glob(s)) if any(ch in s for ch in "*?[") else [s]
        if not hits:
            raise DataValidationError(f"report config key 'stops': {s!r} matches no file; check the path "
                                      "(relative paths are relative to the config file's folder)")
        for h in hits:
            if not Path(h).exists():
                raise DataValidationError(f"report config key 'stops': {h!r} does not exist; check the path "
                                          "(relative paths are relative to the config file's folder)")
        out += hits
    return out


def _need_file(key: str, p: str | None) -> None:
    if p and not Path(p).is_file():
        raise DataValidationError(f"report config key {key!r}: file {p!r} not found; check the path "
                                  "(relative paths are relative to the config file's folder)")


def _display_path(p: str, base: str) -> str:
    try:
        return Path(p).resolve().relative_to(Path(base).resolve()).as_posix()
    except ValueError:
        return Path(p).name


def _source_record(path: str, base: str, stops_ledger=None) -> dict[str, Any]:
    p = Path(path)
    if p.is_dir():
        recs = sorted((f.file, f.sha256) for f in stops_ledger.files) if stops_ledger is not None else []
        h = hashlib.sha256("".join(f"{n}\t{s}\n" for n, s in recs).encode()).hexdigest()
        return {"file": _display_path(path, base) + "/", "sha256": h, "files": len(recs),
                "note": f"folder of {len(recs)} file{'' if len(recs) == 1 else 's'}; SHA-256 of the sorted list of file SHA-256s"}
    return {"file": _display_path(path, base), "sha256": sha256_file(p)}


def read_inputs(cfg: ReportConfig) -> ReportInputs:
    """Read every input named by the config with the library's readers (no statistics)."""
    from ..io.mapped import read_mapped
    from ..io.policeuk import read_policeuk
    from ..io.population import read_population
    from ..io.training import read_training_roster

    sources = _expand(cfg.stops)
    for key in ("population", "training", "training_mapping", "officers", "officer_events", "officer_events_mapping"):
        _need_file(key, getattr(cfg, key))
    kw: dict[str, Any] = {}
    if cfg.areas:
        kw["forces"] = list(cfg.areas)
    if cfg.expected_months:
        kw["expected_months"] = cfg.expected_months
    stops = read_policeuk(sources if len(sources) > 1 else sources[0], **kw)
    if stops.data.empty:
        raise DataValidationError("report config key 'stops': no searches were read"
                                  + (f" for areas {list(cfg.areas)}" if cfg.areas else "") + "; check the files and 'areas'")
    pop = read_population(cfg.population, vintage=cfg.population_vintage, area_type="force")
    files = [_source_record(s, cfg.base_dir, stops.ledger) for s in sources]
    files.append(_source_record(cfg.population, cfg.base_dir))
    inp = ReportInputs(stops=stops, population=pop, files=files)
    if cfg.training:
        inp.training = read_training_roster(cfg.training, mapping=cfg.training_mapping) if cfg.training_mapping \
            else read_training_roster(cfg.training)
        files.append(_source_record(cfg.training, cfg.base_dir))
        inp.officer_events = read_mapped(cfg.officer_events, mapping=cfg.officer_events_mapping)
        files.append(_source_record(cfg.officer_events, cfg.base_dir))
        for k in ("training_mapping", "officer_events_mapping"):
            if getattr(cfg, k):
                files.append(_source_record(getattr(cfg, k), cfg.base_dir))
        if cfg.officers:
            off = pd.read_csv(cfg.officers, dtype="str", keep_default_na=False)
            if "officer_id" not in off.columns:
                raise DataValidationError(f"report config key 'officers': {cfg.officers!r} has no 'officer_id' column "
                                          f"(columns: {list(off.columns)[:12]})")
            for c in ("appointed", "resigned"):
                if c in off.columns:
                    off[c] = pd.to_datetime(off[c].replace("", None), errors="coerce")
            inp.officers = off[[c for c in ("officer_id", "force", "district", "appointed", "resigned") if c in off.columns]]
            files.append(_source_record(cfg.officers, cfg.base_dir))
    from .extras import read_extra_inputs

    read_extra_inputs(cfg, inp, files, record=lambda path: _source_record(path, cfg.base_dir))
    inp.files = sorted(files, key=lambda r: r["file"])
    return inp


# ----------------------------------------------------------------------------- suppression
def suppression_mask(df: pd.DataFrame, rows: list[str], *, count: str = "events", col: str = "group",
                     threshold: int, notes: list[str] | None = None) -> np.ndarray:
    """Boolean mask over ``df`` rows: counts hidden by :func:`equity_metrics.suppress` (primary + complementary).

    The long table is pivoted to ``rows x col`` counts; published margins are the
    row and column totals (only rows, or only columns, for a single column / row).
    """
    from ..measures.suppression import suppress

    if threshold <= 1 or df.empty:
        return np.zeros(len(df), bool)
    d = df.copy()
    keys = rows if rows else ["_all"]
    if not rows:
        d["_all"] = "all"
    d["_key"] = d[keys].astype(str).agg("\x1f".join, axis=1)
    counts = d[count].astype(float).fillna(0)
    wide = pd.DataFrame({"k": d["_key"], "c": d[col].astype(str), "n": counts}).pivot_table(
        index="k", columns="c", values="n", aggfunc="sum", fill_value=0.0)
    margins = "rows" if wide.shape[0] == 1 else ("columns" if wide.shape[1] == 1 else "both")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = suppress(wide, threshold=threshold, margins=margins)
    if caught and notes is not None:
        notes.append("some hidden cells could not be fully protected from the published totals; "
                     "consider combining small groups")
    m = res.mask
    return np.array([bool(m.at[k, c]) for k, c in zip(d["_key"], d[col].astype(str))], bool)


def _apply_mask(t: pd.DataFrame, mask: np.ndarray, cols: list[str], rows: list[str], reference: str,
                ratio_cols: list[str]) -> pd.DataFrame:
    """Hide masked counts and what reveals them; hide a row's ratios when its reference count is hidden."""
    t = t.copy().rename_axis(columns=None)
    t["suppressed"] = mask
    for c in cols:
        if c in t.columns:
            t.loc[mask, c] = np.nan
    ref_hidden = t["suppressed"] & (t["group"] == reference)
    if ref_hidden.any():
        keys = t[rows].astype(str).agg("\x1f".join, axis=1) if rows else pd.Series("all", index=t.index)
        bad = set(keys[ref_hidden])
        hit = keys.isin(bad).to_numpy()
        for c in ratio_cols + ["reference_events"]:
            if c in t.columns:
                t.loc[hit, c] = np.nan
        t.loc[hit, "ratio_hidden"] = True
    if "ratio_hidden" not in t.columns:
        t["ratio_hidden"] = False
    t["ratio_hidden"] = t["ratio_hidden"].fillna(False).astype(bool) | t["suppressed"]
    if "reference_events" in t.columns:
        t["reference_events"] = t["reference_events"].astype(float)
    return t


_DISP_HIDE = ["events", "rate_per_1000", "rate_ci_low", "rate_ci_high", "ratio", "ci_low", "ci_high", "p_value",
              "ratio_bound_low", "ratio_bound_high"]
_RATIO_COLS = ["ratio", "ci_low", "ci_high", "p_value", "ratio_bound_low", "ratio_bound_high"]


# ----------------------------------------------------------------------------- periods
# ----------------------------------------------------------------------------- main
def assemble(cfg: ReportConfig, inputs: ReportInputs | None = None) -> ReportData:
    """Compute every number of the report from the config (reading the inputs unless given).

    Model warnings (e.g. perfect separation in a stratum of the outcome model) are
    silenced here; the measures' own ``notes`` carry what a reader needs.
    """
    import statsmodels.api  # noqa: F401  (it installs its own warning filters on import: import first)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _assemble(cfg, inputs)


def _assemble(cfg: ReportConfig, inputs: ReportInputs | None) -> ReportData:
    from ..measures.outcomes import outcome_test
    from ..measures.standardise import standardised_disparity
    from ..measures.trends import trend

    inp = inputs or read_inputs(cfg)
    stops, pop = inp.stops, inp.population
    ev = stops.data
    notes: list[str] = []
    areas = sorted(ev["force"].dropna().astype(str).unique())
    if cfg.area is not None and cfg.area not in areas:
        raise DataValidationError(f"report config key 'area': {cfg.area!r} has no searches in the inputs; "
                                  f"areas present: {areas[:20]}")
    area = cfg.area
    area_name = force_name(area) if area else "all areas"
    by = ["force"] if area else []
    ref = cfg.reference
    groups_present = set(ev["ethnicity"].dropna().astype(str))
    if ref not in groups_present:
        raise DataValidationError(f"report config key 'reference': no searches of {ref!r}; groups present: "
                                  f"{sorted(groups_present)}")
    groups = [g for g in cfg.groups if g in groups_present]
    if not groups:
        raise DataValidationError(f"report config key 'groups': none of {list(cfg.groups)} has searches; "
                                  f"groups present: {sorted(groups_present)}")
    hg = "Black" if "Black" in groups else groups[0]
    lvl = int(round(100 * (1 - cfg.alpha)))

    def focal(t: pd.DataFrame) -> pd.DataFrame:
        return t[t["force"].astype(str) == area] if area else t

    # --- headline period and change: latest period the area's data cover completely (report/_headline.py)
    months = pd.PeriodIndex(sorted(set(stops.ledger.months_covered)), freq="M")
    first, last = months.min(), months.max()
    hkind = cfg.period if cfg.period in ("FY", "year") else "rolling12"
    covered = covered_months(stops.ledger, area, areas)
    cache: dict = {}
    hc = headline_comparison(stops, pop, covered=covered, area=area, groups=groups, reference=ref, kind=hkind,
                             alpha=cfg.alpha, benchmark=cfg.benchmark, min_count=max(cfg.suppress_below, 1),
                             training_date=cfg.training_date if not cfg.has_roster else None, cache=cache)
    if hc is None:
        raise DataValidationError(f"no month of data is covered for {area_name}; check 'stops', 'areas' and "
                                  "'expected_months'")
    win = hc.window
    vintage = population_by_area_group(pop)[1]
    plabel = win.label
    pmonths = list(win.months)
    keep_cols = by + ["period", "group", "events", "population", "rate_per_1000", "rate_ci_low", "rate_ci_high",
                      "reference_events", "reference_population", "ratio", "ci_low", "ci_high", "p_value",
                      "not_stated_events", "not_stated_share", "ratio_bound_low", "ratio_bound_high", "flags"]
    head = hc.table[keep_cols].reset_index(drop=True)
    head = head[head["group"].isin(groups + [ref])].reset_index(drop=True)
    hmask = suppression_mask(head, by, threshold=cfg.suppress_below, notes=notes)
    head = _apply_mask(head, hmask, _DISP_HIDE, by, ref, _RATIO_COLS)
    head = with_coverage(head, win, lambda _: covered)
    changes = changes_table(hc, groups, head)
    change = hc.change_dict(hg)
    if change is not None and changes is not None and changes.loc[changes["group"] == hg, "change_ratio"].isna().all():
        change = None  # the headline group's ratio is hidden: so is its change

    # --- trend: monthly searches of people (all groups) and the ratio by rolling 12 months / quarter / month
    tkind = cfg.period if cfg.period in ("quarter", "month") else "rolling12"
    marks: list[str] = []
    mark_label = "training"
    if cfg.has_roster and inp.training is not None:
        tr = inp.training.data
        if area and "force" in tr.columns:
            tr = tr[tr["force"].astype(str) == area]
        comp = pd.to_datetime(tr["completed"]).dropna()
        marks = sorted({str(pd.Period(x, "M")) for x in comp})
        mark_label = "training cohort" if marks else mark_label
    elif cfg.training_date:
        marks = [cfg.training_date]
        mark_label = cfg.training_label or "training"
    tc = trend(stops, by="force" if area else None, period="month", measure="count", reference=ref, alpha=cfg.alpha).tidy()
    tc = tc[tc["area"] == (area or "all areas")]
    counts = tc.groupby("period", sort=True)["events"].sum(min_count=1).rename("events").reset_index()
    counts["suppressed"] = counts["events"].notna() & (counts["events"] > 0) & (counts["events"] < cfg.suppress_below)
    counts.loc[counts["suppressed"], "events"] = np.nan
    if tkind == "rolling12" and not any(coverage(w, covered)[0] == 12 for w in windows12(covered)):
        tkind = "month"  # no complete 12-month window: a rolling line would mix windows of 2..11 months
        notes.append(f"the ratio trend is drawn by month: {area_name}'s data have no complete rolling 12-month window")
    tr_r = trend(stops, pop, by="force" if area else None, period=tkind, measure="ratio", reference=ref,
                 alpha=cfg.alpha, vintage=vintage).tidy()
    tr_r = tr_r[(tr_r["area"] == (area or "all areas")) & tr_r["group"].isin(groups)].reset_index(drop=True)
    small = tr_r["events"].notna() & (tr_r["events"] > 0) & (tr_r["events"] < cfg.suppress_below)  # zeros published
    tr_r["suppressed"] = small.to_numpy()
    tr_r.loc[small, ["events", "value", "ci_low", "ci_high"]] = np.nan
    tr_r = tr_r[["group", "period", "events", "value", "ci_low", "ci_high", "flags", "suppressed"]].rename(
        columns={"value": "ratio"})
    tr_r = trend_coverage(tr_r, tkind, covered)

    # --- ratios by area, legal power and object of search (headline period)
    d_area = window_table(stops, pop, win, by=["force"], reference=ref, alpha=cfg.alpha, benchmark=cfg.benchmark,
                          cache=cache)
    d_area = d_area[d_area["group"].isin(groups + [ref])].reset_index(drop=True)
    d_area = d_area[["force"] + keep_cols[1:]]
    m = suppression_mask(d_area, ["force"], threshold=cfg.suppress_below, notes=notes)
    d_area = _apply_mask(d_area, m, _DISP_HIDE, ["force"], ref, _RATIO_COLS)
    d_area.insert(1, "area_name", [force_name(a) for a in d_area["force"]])
    d_area = with_coverage(d_area, win, lambda a: covered_months(stops.ledger, str(a), areas), col="force")
    # forces that were read but have no file in the headline window: named, never silently dropped
    shown_areas = set(d_area["force"].astype(str))
    areas_no_data = [f"{force_name(a)} (0 of {len(pmonths)} months)" for a in areas if a not in shown_areas]

    def by_field(col: str) -> pd.DataFrame:
        e = ev
        if e[col].isna().all():
            return pd.DataFrame(columns=[col, "group", "events", "suppressed"])
        d = window_table(stops, pop, win, by=by + [col], reference=ref, alpha=cfg.alpha, benchmark=cfg.benchmark,
                         cache=cache)
        d = focal(d) if area else d
        d = d[d["group"].isin(groups + [ref])].reset_index(drop=True)
        d = d[[col] + keep_cols[len(by):]]
        d[col] = d[col].astype("string").fillna("not recorded")
        mk = suppression_mask(d, [col], threshold=cfg.suppress_below, notes=notes)
        return with_coverage(_apply_mask(d, mk, _DISP_HIDE, [col], ref, _RATIO_COLS), win, lambda _: covered)

    d_power = by_field("legal_power")
    d_object = by_field("object_of_search")

    # --- outcomes in the headline period: find, arrest and any-outcome rates (one definition: outcome_codes)
    in_period = ev["month"].astype(str).isin(pmonths).to_numpy()
    fe = ev.loc[in_period & ((ev["force"].astype(str) == area).to_numpy() if area else True)]
    ot = outcome_test(fe, by=None, reference=ref, alpha=cfg.alpha, pooled_over="force" if not area else None)
    o = outcome_table(ot, groups + [ref])
    kinds = [("find", "finds"), ("arrest", "arrests"), ("any_outcome", "any_outcome")]
    o2 = pd.concat([pd.DataFrame({"group": o["group"], "kind": k, "events": o[c]}) for k, c in kinds]
                   + [pd.DataFrame({"group": o["group"], "kind": "nfa", "events": o["searches"] - o["any_outcome"]})],
                   ignore_index=True).dropna(subset=["events"])
    mk = suppression_mask(o2, ["kind"], threshold=cfg.suppress_below, notes=notes)
    hidden = set(o2.loc[mk, "group"])
    o["suppressed"] = o["group"].isin(hidden)
    o.loc[o["suppressed"], OUTCOME_HIDE] = np.nan
    if o.loc[o["group"] == ref, "suppressed"].any():
        o["difference_from_reference"] = np.nan
    pooled = ot.pooled_tidy()
    pooled = pooled[pooled["group"].isin([g for g in groups if g not in hidden])].reset_index(drop=True)
    if not o["find_recorded"].any():
        pooled = pooled.iloc[0:0]
    outcome_notes = _reader_notes(list(ot.notes), area)

    # --- age x sex
    age_sex, age_note = None, ""
    popd = pop.data
    has_strata = {"sex", "age_band"} <= set(popd.columns) and (
        ~popd["age_band"].astype("string").str.lower().isin(["all", "total"]).fillna(True)).any()
    if has_strata:
        sd = standardised_disparity(fe, pop, by="force" if area else None, area="force", reference=ref, alpha=cfg.alpha)
        s = sd.tidy()
        if area:
            s = s[s["force"].astype(str) == area]
        s = s[s["group"].isin(groups + [ref])].reset_index(drop=True)
        cols = ["group", "events", "crude_rate_per_1000", "std_rate_per_1000", "std_ci_low", "std_ci_high",
                "crude_ratio", "std_ratio", "ci_low", "ci_high", "events_unknown_strata", "flags"]
        s = s[cols]
        mk = suppression_mask(s.assign(kind="events"), [], col="group", threshold=cfg.suppress_below, notes=notes)
        s = _apply_mask(s, mk, ["events", "crude_rate_per_1000", "std_rate_per_1000", "std_ci_low", "std_ci_high",
                                "crude_ratio", "std_ratio", "ci_low", "ci_high"], [], ref,
                        ["crude_ratio", "std_ratio", "ci_low", "ci_high"])
        age_sex = s
        age_note = (f"Directly standardised to {sd.standard} by sex and age band (Fay-Feuer interval for each rate; "
                    "log-normal interval for the ratio). " + " ".join(_reader_notes(sd.notes, area)))
    else:
        age_note = ("The population table has no sex x age band breakdown, so an age- and sex-standardised ratio "
                    "cannot be computed; the crude ratio above mixes disproportionality with the groups' age structures.")

    # --- training impact
    impact = assemble_impact(cfg, inp, area=area, area_name=area_name, groups=groups, headline_group=hg, trend_fn=trend)

    # --- data quality ledger (counts from the reader's ledger and the table)
    led = stops.ledger
    fev = ev[(ev["force"].astype(str) == area).to_numpy()] if area else ev
    n_ns = int((fev["ethnicity"].astype(str) == NOT_STATED).sum())
    vo = fev["vehicle_only"].fillna(False).astype(bool) if "vehicle_only" in fev.columns else pd.Series(False, index=fev.index)
    files, by_reason, dups = area_files(stops, area, fev)
    quality = {
        "files": len(files), "rows_read": sum(f.rows_read for f in files), "rows_kept": sum(f.rows_kept for f in files),
        "rows_rejected": sum(f.rows_rejected for f in files), "rejected_by_reason": by_reason,
        "duplicates": dups, "months_first": covered[0], "months_last": covered[-1],
        "n_months": len(covered), "span_first": min([str(first)] + [m for _, m in led.months_missing]),
        "span_last": max([str(last)] + [m for _, m in led.months_missing]),
        "months_missing": [(force_name(a), m) for a, m in led.months_missing if area is None or a == area],
        "area_rows": int(len(fev)), "not_stated": n_ns, "not_stated_share": n_ns / len(fev) if len(fev) else np.nan,
        "vehicle_only": int(vo.sum()),
        "date_only": int((~fev["time_known"].fillna(True).astype(bool)).sum()) if "time_known" in fev.columns else 0,
        "missing_by_field": dict(sorted(led.missing_by_field.items())),
        "population_vintage": vintage, "population_rows": int(pop.ledger.rows_kept),
        # whole files the reader could not read, and damaged archives kept in part: named, never silent
        "files_rejected": [(_member_name(r.get("file", "")), _short_reason(r)) for r in led.files_rejected],
        "damage": [f"{_member_name(d.get('archive', ''))}: damaged at byte {d.get('offset', '?')}; "
                   f"{d.get('files_read', '?')} file(s) read before it, any later files are unknown" for d in led.damage],
    }
    from ._published import published_comparison  # optional: Home Office published counts beside police.uk
    published, published_lines = published_comparison(cfg, stops, area=area, groups=groups + [ref],
                                                       threshold=cfg.suppress_below)
    # --- one protection across all published tables (report/protection.py: linked cells, audited by an IP attacker)
    from .protection import protect_report_tables
    _pt = protect_report_tables(
        {"headline": head, "by_area": d_area, "by_power": d_power, "by_object": d_object, "outcomes": o,
         "outcomes_pooled": pooled, "trend_counts": counts, "trend_ratio": tr_r, "age_sex": age_sex, "changes": changes,
         "published": published},
        threshold=cfg.suppress_below, reference=ref, area=area, period_months=pmonths, trend_period=tkind,
        total_searches=quality["area_rows"] - quality["vehicle_only"])
    head, d_area, d_power, d_object, o, pooled, counts, tr_r, age_sex, changes = (_pt.tables[k] for k in (
        "headline", "by_area", "by_power", "by_object", "outcomes", "outcomes_pooled", "trend_counts", "trend_ratio",
        "age_sex", "changes"))
    # the linked audit decides whether anything is left unprotected
    notes = [n for n in notes if not n.startswith("some hidden cells could not")] + _pt.notes
    published = _pt.tables["published"]
    if change is not None and changes is not None and changes.loc[changes["group"] == hg, "change_ratio"].isna().all():
        change = None
    n_sup = int(sum(int(t["suppressed"].sum()) for t in (head, d_area, d_power, d_object, o)
                    if "suppressed" in t.columns) + int(counts["suppressed"].sum()) + int(tr_r["suppressed"].sum())
                + (int(age_sex["suppressed"].sum()) if age_sex is not None else 0))
    caveats = _caveats(cfg, quality, area_name, ref, vintage)
    provenance = {"version": __version__, "inputs": inp.files, "parameters": _params(cfg)}
    from .extras import assemble_extras

    extras = assemble_extras(cfg, inp, area=area, impact=impact, level=lvl)
    return ReportData(
        title=cfg.title.replace("{area}", area_name), area=area or "all areas", area_name=area_name, areas=areas, groups=groups, headline_group=hg,
        reference=ref, benchmark=cfg.benchmark, vintage=vintage, level=lvl, alpha=cfg.alpha,
        suppress_below=cfg.suppress_below, period_kind=win.kind, period_label=plabel, period_months=pmonths,
        period_desc=describe(win, hc.months_covered), headline=head, change=change, trend_counts=counts, trend_ratio=tr_r,
        trend_period=tkind, training_marks=marks, training_mark_label=mark_label, by_area=d_area, by_power=d_power,
        by_object=d_object, outcomes=o, outcomes_pooled=pooled, outcome_notes=outcome_notes, age_sex=age_sex,
        age_sex_note=age_note, impact=impact, quality=quality, caveats=caveats, notes=sorted(set(notes)),
        provenance=provenance, n_suppressed=n_sup, changes=changes, period_note=hc.note,
        period_months_covered=hc.months_covered, no_change_reason=hc.no_change_reason,
        vintage_words=vintage_words(vintage, cfg.benchmark), published=published, published_lines=published_lines,
        areas_no_data=areas_no_data, extras=extras,
    )


def _reader_notes(notes: list[str], area: str | None) -> list[str]:
    """Model notes made fit for readers: force slugs as names, column names as words, other areas' entries dropped
    from per-area lists when the report is about one area, each note a sentence."""
    out = []
    for n in notes:
        n = str(n).strip()
        m = re.match(r"^(data cover only part of the months read for): (.*)$", n)
        if m and area:
            parts = [x.strip() for x in m.group(2).split(", ") if x.strip().startswith(area + " ")]
            if not parts:
                continue
            n = f"{m.group(1)}: " + ", ".join(parts)
        n = n.replace("sex/age_band", "sex or age band").replace("age_band", "age band")
        n = re.sub(r"\b[a-z]+(?:-[a-z]+)*\b",
                   lambda mm: _force_name(mm.group(0)) if is_known_force(mm.group(0)) else mm.group(0), n)
        n = n[:1].upper() + n[1:]
        out.append(n if n.endswith((".", "!", "?")) else n + ".")
    return out


def _member_name(path: str) -> str:
    """A file's name for readers: the archive member (or file) name, never the machine's folder."""
    p = str(path).split("::")[-1]
    return Path(p.replace("\\", "/")).name or p


def _short_reason(rec: dict[str, Any], limit: int = 240) -> str:
    """A rejected file's reason without the machine's folder, cut to ``limit`` characters (the ledger has it whole)."""
    f = str(rec.get("file", ""))
    why = str(rec.get("reason", "")).replace(f, _member_name(f)) if f else str(rec.get("reason", ""))
    return why if len(why) <= limit else why[: limit - 1].rstrip() + "… (the whole reason is in the reader's ledger)"


def _params(cfg: ReportConfig) -> dict[str, Any]:
    d = cfg.to_dict()
    for k in ("stops", "population", "published_counts", "training", "training_mapping", "officers", "officer_events",
              "officer_events_mapping", "output", "trust_survey", "trust_rollout", "threshold_counts"):
        v = d.get(k)
        if isinstance(v, list):
            d[k] = [_display_path(x, cfg.base_dir) for x in v]
        elif v:
            d[k] = _display_path(v, cfg.base_dir)
    d.pop("output", None)
    return d


def _caveats(cfg: ReportConfig, q: dict[str, Any], area_name: str, ref: str, vintage: str) -> list[str]:
    out = [
        f"Benchmark: rates are searches per 1,000 residents ({benchmark_text(cfg.benchmark, vintage)}). A residential benchmark "
        "compares searches with who lives in the area, not with who is present in public places, who is "
        "stopped by other officers, or who offends; ratios show a disparity, not its cause. Where many people "
        "travel into an area (city centres, transport hubs) or the census is old, rates can mislead.",
        f"Ethnicity is the person's self-defined ethnicity. Searches with ethnicity not stated ({q['not_stated']:,} in "
        f"{area_name}, {q['not_stated_share']:.1%}) are left out of the rates; the ratio bounds in the CSV tables show the "
        f"ratio if all of them had been of the group (upper) or of the {ref} group (lower).",
        f"Vehicle-only searches ({q['vehicle_only']:,}) have no person and are excluded from rates of people searched.",
        f"Small numbers: counts from 1 to {cfg.suppress_below - 1} are hidden and shown as [c], with further cells "
        "hidden where totals would reveal them (complementary suppression); rates, ratios and intervals that would "
        "reveal a hidden count are hidden too. Figures leave hidden cells out.",
        "Intervals: rates use exact Poisson (Garwood) intervals, ratios of rates the log (Katz) interval, hit rates "
        "Wilson intervals; the change in a ratio between two periods is the ratio of the two ratios with a "
        "log-scale (Woolf / Robins-Breslow-Greenland) interval, between two equally long, fully covered periods that do "
        "not overlap. Each interval is for one comparison: with many groups and areas some intervals will exclude 1 "
        "by chance, so a change between periods is called clear only after a Holm adjustment across the groups compared.",
        "Exact duplicate rows are kept (they are usually separate searches of people searched together); "
        "months with no file are treated as missing, not as zero searches, and periods containing them are flagged.",
        "Training impact: officer-level estimates cluster standard errors by officer (each officer's months are "
        "correlated); force-level interrupted time series use autocorrelation-robust (AR(1)) errors. Neither "
        "design can exclude other changes that happened at the same time as training.",
    ]
    return out
