"""A seeded synthetic data generator with a known, planted truth.

:func:`generate` simulates, from one seed,

* residential populations of synthetic police force areas by broad ethnic group x
  sex x police.uk age band, with a different age structure for each group;
* stop-and-search records in the police.uk monthly CSV format, reproducing its
  quirks (UTC timestamps with the British Summer Time shift, date-only records at
  local midnight, exact duplicate rows, blanks, a missing force-month, files that end
  early and a header-only file), each force writing its records by its own
  recording profile (``_recording``: the linked field set on "no further action"
  rows, filled sparsely or never; blank outcomes, ethnicity and coordinates);
* officers, a staggered training rollout, officer-level events (use of force and
  searches) and an officer x month panel holding the expected outcomes.

Everything the generator planted, and every value an analysis should recover
(crude and age-standardised rate ratios, hit and arrest rates, ATTs), is in
:class:`SyntheticTruth`; ``docs/synthetic-data.md`` explains each parameter.
:func:`write` lays the data out on disk exactly as the readers expect.

Layout: this module holds the public API and the truth computations; the
simulation steps are in ``_stops`` (populations, police.uk records),
``_officers`` (officers, training, panel), the fixed vocabularies in ``_vocab``,
the truth dataclass in ``_truth`` and the texts written beside the data in
``_mappings``.

The stop-and-search model, per area ``a``, group ``g``, sex ``s``, age band ``b``
and month::

    searches ~ Poisson(pop[a,g,s,b] / 1000 * base_rate[a] * rate_ratio[g]
                       * sex_factor[s] * age_factor[b] / 12)

so ``rate_ratio[g]`` is the age- and sex-specific rate ratio (identical in every
cell, hence also the directly age-sex-standardised ratio for any standard
population), while the crude ratio differs because the groups' age structures
differ; the expected crude ratio is computed from the expected counts.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ._officers import default_cohorts, simulate_officers
from ._recording import (
    LINKED_MODES,
    expected_linked_coverage,
    file_months,
    find_rate_recorded,
    naive_linked_rate,
    profile_for_truth,
    record_times,
    resolve_profiles,
    search_months,
    time_quirks_set,
)
from ._stops import _population, _population_wide, _simulate_stops
from ._truth import SyntheticTruth
from ._vocab import (
    AGE_STRUCTURE,
    AREA_SPECS,
    DEFAULT_SEED,
    GROUPS,
    HOUR_WEIGHTS,
    OFFICER_CONFUSION,
    OUTCOME_IF_HIT,
    OUTCOME_IF_NO_HIT,
    POLICEUK_HEADER,
    TZ,
)

__all__ = [
    "SyntheticData",
    "SyntheticTruth",
    "generate",
    "write",
    "POLICEUK_HEADER",
    "GROUPS",
    "AREA_SPECS",
    "DEFAULT_SEED",
    "LINKED_MODES",
]


# --------------------------------------------------------------------------- result
@dataclass
class SyntheticData:
    """What :func:`generate` returns.

    Attributes
    ----------
    population, population_wide
        Long (area x group x sex x age band) and wide (area x group) residents.
    stops
        One row per published search with the truth columns (``area``, ``month``,
        ``group``, ``sex``, ``age_band``, ``hit`` (the planted find), ``arrest``,
        ``any_outcome`` (true outcome other than NFA), ``vehicle_only``, ...) and the
        police.uk columns exactly as written under the force's recording profile
        (``Type``, ``Date``, ``Outcome``, ...), plus ``file`` (relative path of its
        police.uk CSV).
    officers, training, officer_events, panel
        Officer roster, training records, officer-level events, and the officer x
        month panel with expected outcomes.
    truth
        The :class:`SyntheticTruth`.
    """

    population: pd.DataFrame
    population_wide: pd.DataFrame
    stops: pd.DataFrame
    officers: pd.DataFrame
    training: pd.DataFrame
    officer_events: pd.DataFrame
    panel: pd.DataFrame
    truth: SyntheticTruth
    header_only_files: list[str] = field(default_factory=list)

    def policeuk_files(self) -> dict[str, pd.DataFrame]:
        """Relative path -> police.uk table (all text) for every file to write, in order."""
        out: dict[str, pd.DataFrame] = {}
        cols = list(POLICEUK_HEADER)
        for name, grp in self.stops.groupby("file", sort=True, observed=True):
            out[str(name)] = grp.sort_values(["_utc", "_seq"])[cols].reset_index(drop=True)
        for name in self.header_only_files:
            out[name] = pd.DataFrame({c: pd.Series([], dtype="str") for c in cols})
        return dict(sorted(out.items()))

    def __repr__(self) -> str:
        t = self.truth
        return (
            f"<SyntheticData seed={t.seed}: {len(t.areas)} areas, {t.months[0]}..{t.months[-1]}, "
            f"{len(self.stops):,} searches, {len(self.officers):,} officers, "
            f"{len(self.officer_events):,} officer events, {len(self.panel):,} officer-months>"
        )


# --------------------------------------------------------------------------- helpers
def _months(months: tuple[str, str] | list[str]) -> pd.PeriodIndex:
    if len(months) != 2:
        raise OptionError("months must be a (first, last) pair such as ('2019-01', '2021-12')")
    first, last = pd.Period(months[0], "M"), pd.Period(months[1], "M")
    if last < first:
        raise OptionError(f"months: last {last} is before first {first}")
    return pd.period_range(first, last, freq="M")


def _areas(areas: int | list[str] | tuple[str, ...]) -> list[str]:
    if isinstance(areas, int):
        if not 1 <= areas <= len(AREA_SPECS):
            raise OptionError(f"areas must be between 1 and {len(AREA_SPECS)}, got {areas}")
        return list(AREA_SPECS)[:areas]
    out = list(areas)
    unknown = [a for a in out if a not in AREA_SPECS]
    if unknown or not out:
        raise OptionError(f"unknown synthetic area(s) {unknown}; choose from {list(AREA_SPECS)}")
    return out


# --------------------------------------------------------------------------- generate
def generate(
    *,
    seed: int = DEFAULT_SEED,
    areas: int | list[str] | tuple[str, ...] = 3,
    months: tuple[str, str] = ("2019-01", "2021-12"),
    officers_per_area: int = 60,
    base_rate: dict[str, float] | None = None,
    rate_ratio: dict[str, float] | None = None,
    age_factor: dict[str, float] | None = None,
    sex_factor: dict[str, float] | None = None,
    hit_rate: dict[str, float] | None = None,
    not_stated_share: float = 0.08,
    not_stated_label_share: float = 0.05,
    vehicle_only_per_month: float = 1.2,
    duplicate_share: float = 0.025,
    date_only_share: float = 0.04,
    n_cohorts: int = 5,
    cohorts: list[str] | None = None,
    never_treated_share: float = 0.2,
    uof_rate_ratio: float = 0.8,
    uof_ramp: tuple[float, ...] = (),
    black_share_ratio: float = 0.75,
    uof_base: float = 0.25,
    search_mean: float = 1.2,
    gaps: bool = True,
    recording: dict[str, dict[str, Any]] | None = None,
) -> SyntheticData:
    """Simulate populations, police.uk stop-and-search files, officers and training.

    Parameters
    ----------
    seed
        Seed of every random draw; the same arguments give identical data.
    areas
        How many synthetic areas (1-5, in the order northshire, southvale, eastmoor,
        westfold, highcombe) or a list of their slugs.
    months
        First and last month, inclusive.
    officers_per_area
        Officers simulated in each area.
    base_rate
        Area -> searches per 1,000 residents per year of a White male aged 25-34
        (the reference cell); defaults to each area's spec.
    rate_ratio
        Group -> age- and sex-specific search rate ratio relative to White
        (default Asian 1.5, Black 3.0, Mixed 2.0, White 1.0, Other 1.2).
    age_factor, sex_factor
        Multipliers of the search rate by age band (25-34 = 1) and sex (Male = 1).
    hit_rate
        Group -> probability that a search finds its object (``Outcome linked to
        object of search`` True); default White 0.30, Black 0.22, ...
    not_stated_share, not_stated_label_share
        Share of person searches whose self-defined ethnicity is not stated, and the
        part of it written as ``Other ethnic group - Not stated`` (the rest blank).
    vehicle_only_per_month
        Mean vehicle-only searches per area-month (blank person fields; not part of
        the rate truth).
    duplicate_share
        Probability that a search is an exact copy of an earlier search in the same
        area, month, group, sex and age band (people searched together).
    date_only_share
        Share of searches recorded with a date but no time (local midnight).
    n_cohorts, cohorts
        Number of training waves spread over the window, or their explicit months.
    never_treated_share
        Share of officers never assigned to training (0 gives the all-eventually-
        trained variant, where only not-yet-trained officers can serve as controls).
    uof_rate_ratio, uof_ramp
        Rate ratio of use of force after training; ``uof_ramp`` optionally gives the
        ratios at event times 0, 1, ... before it settles at ``uof_rate_ratio``.
    black_share_ratio
        Multiplier of the probability that an officer's search is of a Black person
        after training.
    uof_base, search_mean
        Baseline use-of-force reports and searches per officer-month.
    gaps
        Plant the default coverage gaps: one missing force-month (second area), one
        header-only force-month (third area) and, for windows of 12 months or more,
        the third area's files ending three months early. ``False`` gives full
        coverage except what ``recording`` sets.
    recording
        Area -> recording profile overrides (how the force fills the police.uk
        fields): ``linked`` (``"home_office"``, ``"linked_on_nfa"``, ``"sparse"`` or
        ``"blank"``), ``linked_share``, ``linked_blank_share``,
        ``outcome_blank_share``, ``self_defined_blank_share``,
        ``officer_blank_share``, ``latlon_blank_share``, and coverage
        ``first_month``, ``last_month``, ``missing_months``, ``header_only_months``,
        and time of day: ``clock`` (``"24h"`` or ``"12h_no_ampm"``, as City of London)
        and ``time_recorded_share`` (share of searches with a time of day, the rest
        date-only; as Dyfed-Powys 0.0, Sussex 0.108).
        Unset keys take the area's default profile (``docs/synthetic-data.md``).

    Returns
    -------
    SyntheticData

    Examples
    --------
    >>> sd = generate(seed=1, areas=1, months=("2020-01", "2020-03"), officers_per_area=5)
    >>> sd.truth.rate_ratio["Black"]
    3.0
    >>> sd = generate(seed=1, areas=["eastmoor"], months=("2020-01", "2020-06"), officers_per_area=2, gaps=False,
    ...               recording={"eastmoor": {"linked": "blank", "last_month": "2020-04"}})
    >>> sd.truth.find_rate_recorded, sd.truth.missing_force_months
    ({'eastmoor': False}, [['eastmoor', '2020-05'], ['eastmoor', '2020-06']])
    """
    area_list = _areas(areas)
    mon = _months(months)
    if not 0 <= not_stated_label_share <= not_stated_share <= 1:
        raise OptionError("need 0 <= not_stated_label_share <= not_stated_share <= 1")
    if not 0 <= never_treated_share <= 1:
        raise OptionError(f"never_treated_share must be in [0, 1], got {never_treated_share}")
    if officers_per_area < 1:
        raise OptionError(f"officers_per_area must be at least 1, got {officers_per_area}")
    rr = {"Asian": 1.5, "Black": 3.0, "Mixed": 2.0, "White": 1.0, "Other": 1.2} | (rate_ratio or {})
    af = {"under 10": 0.01, "10-17": 0.9, "18-24": 1.6, "25-34": 1.0, "over 34": 0.25} | (age_factor or {})
    sf = {"Male": 1.0, "Female": 0.12} | (sex_factor or {})
    hr = {"Asian": 0.25, "Black": 0.22, "Mixed": 0.26, "White": 0.30, "Other": 0.28} | (hit_rate or {})
    br = {a: AREA_SPECS[a]["base_rate"] for a in area_list} | (base_rate or {})
    coh = list(cohorts) if cohorts is not None else None
    if coh is None:
        coh = default_cohorts(mon, n_cohorts)
    coh = [str(pd.Period(c, "M")) for c in coh]
    bad = [c for c in coh if pd.Period(c, "M") not in mon]
    if bad:
        raise OptionError(f"cohort month(s) {bad} fall outside {mon[0]}..{mon[-1]}")
    prof = resolve_profiles(area_list, mon, recording, gaps=gaps)
    for a in area_list:
        sdb = prof[a]["self_defined_blank_share"]
        if sdb is not None and not_stated_label_share + sdb > 1:
            raise OptionError(f"recording[{a!r}]: not_stated_label_share + self_defined_blank_share exceeds 1")
    p: dict[str, Any] = {
        "seed": int(seed),
        "areas": area_list,
        "months": [str(mon[0]), str(mon[-1])],
        "officers_per_area": int(officers_per_area),
        "base_rate": br,
        "rate_ratio": rr,
        "age_factor": af,
        "sex_factor": sf,
        "hit_rate": hr,
        "not_stated_share": not_stated_share,
        "not_stated_label_share": not_stated_label_share,
        "self_defined_blank_share": not_stated_share - not_stated_label_share,
        "officer_blank": {a: prof[a]["officer_blank_share"] for a in area_list},
        "recording": {a: profile_for_truth(prof[a]) for a in area_list},
        "person_and_vehicle_share": 0.22,
        "vehicle_only_per_month": vehicle_only_per_month,
        "vehicle_only_hit_rate": 0.27,
        "outcome_linked_blank_share": 0.05,
        "gender_blank_share": 0.01,
        "age_blank_share": 0.02,
        "duplicate_share": duplicate_share,
        "date_only_share": date_only_share,
        "bst_first_hour_share": 0.5,
        "cohorts": coh,
        "never_treated_share": never_treated_share,
        "uof_rate_ratio": uof_rate_ratio,
        "uof_ramp": [float(x) for x in uof_ramp],
        "black_share_ratio": black_share_ratio,
        "uof_base": uof_base,
        "search_mean": search_mean,
        "selection_shift": 0.3,
        "officer_sd": 0.4,
        "resign_share": 0.12,
        "black_share_base": {a: round(0.12 + 1.5 * AREA_SPECS[a]["shares"]["Black"], 4) for a in area_list},
        "gaps": gaps,
    }
    ss = np.random.SeedSequence(seed)
    # children 0 and 1 are what spawn(2) gave before recording profiles existed: the officer data
    # are unchanged; child 2 draws how searches are recorded (see _stops._simulate_stops)
    rng_stops, rng_off, rng_rec = (np.random.default_rng(s) for s in ss.spawn(3))

    pop = _population(area_list)
    wide = _population_wide(pop)
    stops = _simulate_stops(rng_stops, rng_rec, pop, area_list, mon, prof, p)
    if any(time_quirks_set(prof[a]) for a in area_list):
        # child 3 draws the opt-in time-of-day quirks; default profiles never touch it
        rng_time = np.random.default_rng(ss.spawn(1)[0])
        stops = record_times(stops, prof, rng_time, hour_weights=HOUR_WEIGHTS, tz=TZ)
    officers, training, events, panel, off_truth = simulate_officers(
        rng_off, area_list, AREA_SPECS, mon, p, HOUR_WEIGHTS, TZ
    )
    truth = _stops_truth(pop, area_list, mon, p, off_truth)
    hdr_files = [f"policeuk/{m}/{m}-{a}-stop-and-search.csv" for a, m in truth.header_only_force_months]
    return SyntheticData(
        population=pop,
        population_wide=wide,
        stops=stops,
        officers=officers,
        training=training,
        officer_events=events,
        panel=panel,
        truth=truth,
        header_only_files=hdr_files,
    )


def _stops_truth(pop, areas, mon, p, off_truth) -> SyntheticTruth:
    c = pop.copy()
    c["rate"] = (
        c["area"].map(p["base_rate"]).astype(float)
        * c["group"].map(p["rate_ratio"]).astype(float)
        * c["sex"].map(p["sex_factor"]).astype(float)
        * c["age_band"].map(p["age_factor"]).astype(float)
    )
    c["expected_year"] = c["population"] * c["rate"] / 1000.0
    prof = p["recording"]
    n_months = {a: len(search_months(prof[a], mon)) for a in areas}
    have = {(a, m) for a in areas for m in file_months(prof[a], mon)}
    missing = [[a, str(m)] for a, m in sorted((a, str(m)) for a in areas for m in mon if (a, str(m)) not in have)]
    header_only = [[a, m] for a, m in sorted((a, m) for a in areas for m in prof[a]["header_only_months"])]
    crude: dict[str, dict[str, float]] = {}
    std: dict[str, dict[str, float]] = {}
    exp_s: dict[str, dict[str, float]] = {}
    popd: dict[str, dict[str, int]] = {}
    for a in areas:
        ca = c[c["area"] == a]
        w = ca.groupby(["sex", "age_band"], observed=True)["population"].sum()
        w = w / w.sum()
        crude[a], std[a], exp_s[a], popd[a] = {}, {}, {}, {}
        for g in GROUPS:
            cg = ca[ca["group"] == g]
            pg = float(cg["population"].sum())
            crude[a][g] = float(cg["expected_year"].sum()) / pg * 1000.0
            f = cg.set_index(["sex", "age_band"])["rate"]
            std[a][g] = float((w * f.reindex(w.index)).sum())
            exp_s[a][g] = float(cg["expected_year"].sum()) * n_months[a] / 12.0
            popd[a][g] = int(pg)
    crude_ratio = {a: {g: crude[a][g] / crude[a]["White"] for g in GROUPS} for a in areas}
    std_ratio = {a: {g: std[a][g] / std[a]["White"] for g in GROUPS} for a in areas}
    tot_e = {g: sum(exp_s[a][g] for a in areas) for g in GROUPS}
    tot_p = {g: sum(popd[a][g] for a in areas) for g in GROUPS}
    pooled = {g: (tot_e[g] / tot_p[g]) / (tot_e["White"] / tot_p["White"]) for g in GROUPS}
    a_hit = OUTCOME_IF_HIT["Arrest"] / sum(OUTCOME_IF_HIT.values())
    a_miss = OUTCOME_IF_NO_HIT["Arrest"] / sum(OUTCOME_IF_NO_HIT.values())
    arrest = {g: p["hit_rate"][g] * a_hit + (1 - p["hit_rate"][g]) * a_miss for g in GROUPS}
    agree = {g: OFFICER_CONFUSION[g].get(g, 0.0) for g in GROUPS}
    nfa_miss = OUTCOME_IF_NO_HIT["A no further action disposal"] / sum(OUTCOME_IF_NO_HIT.values())
    # Home Office find = outcome other than NFA and linked: a planted find's outcome is never NFA,
    # so the true find rate is the hit rate, whatever a force writes in the linked field
    find = {g: p["hit_rate"][g] for g in GROUPS}
    any_out = {g: p["hit_rate"][g] + (1 - p["hit_rate"][g]) * (1 - nfa_miss) for g in GROUPS}
    naive = {a: {g: naive_linked_rate(prof[a], p["hit_rate"][g], nfa_miss) for g in GROUPS} for a in areas}
    sd_blank = {a: p["self_defined_blank_share"] if prof[a]["self_defined_blank_share"] is None
                else prof[a]["self_defined_blank_share"] for a in areas}
    coverage = {a: {"first_month": prof[a]["first_month"], "last_month": prof[a]["last_month"],
                    "missing_months": list(prof[a]["missing_months"]),
                    "header_only_months": list(prof[a]["header_only_months"]),
                    "months_with_file": len(file_months(prof[a], mon))} for a in areas}
    return SyntheticTruth(
        seed=p["seed"],
        params={k: v for k, v in p.items()},
        areas=list(areas),
        months=[str(m) for m in mon],
        missing_force_months=missing,
        header_only_force_months=header_only,
        base_rate=dict(p["base_rate"]),
        rate_ratio=dict(p["rate_ratio"]),
        age_factor=dict(p["age_factor"]),
        sex_factor=dict(p["sex_factor"]),
        age_structure={g: list(AGE_STRUCTURE[g]) for g in GROUPS},
        standardised_ratio=std_ratio,
        crude_ratio=crude_ratio,
        crude_ratio_pooled=pooled,
        crude_rate_per_1000=crude,
        standardised_rate_per_1000=std,
        expected_searches=exp_s,
        population=popd,
        months_with_searches=n_months,
        not_stated_share=p["not_stated_share"],
        not_stated_label_share=p["not_stated_label_share"],
        self_defined_blank_share=p["self_defined_blank_share"],
        officer_defined_blank_share=dict(p["officer_blank"]),
        officer_confusion={g: dict(v) for g, v in OFFICER_CONFUSION.items()},
        officer_agreement=agree,
        hit_rate=dict(p["hit_rate"]),
        arrest_rate=arrest,
        arrest_if_hit=a_hit,
        arrest_if_no_hit=a_miss,
        outcome_linked_blank_share=p["outcome_linked_blank_share"],
        find_rate=find,
        any_outcome_rate=any_out,
        nfa_if_no_find=nfa_miss,
        recording={a: {k: prof[a][k] for k in ("linked", "linked_share", "linked_blank_share",
                                                "outcome_blank_share", "latlon_blank_share")}
                   | ({k: prof[a][k] for k in ("clock", "time_recorded_share")} if time_quirks_set(prof[a]) else {})
                   for a in areas},
        linked_coverage=({a: expected_linked_coverage(prof[a]) for a in areas}),
        find_rate_recorded={a: find_rate_recorded(prof[a]) for a in areas},
        naive_linked_rate=naive,
        not_stated_share_by_area={a: p["not_stated_label_share"] + sd_blank[a] for a in areas},
        self_defined_blank_share_by_area=sd_blank,
        outcome_blank_share={a: prof[a]["outcome_blank_share"] for a in areas},
        coverage=coverage,
        vehicle_only_per_month=p["vehicle_only_per_month"],
        vehicle_only_hit_rate=p["vehicle_only_hit_rate"],
        duplicate_share=p["duplicate_share"],
        date_only_share=p["date_only_share"],
        age_blank_share=p["age_blank_share"],
        gender_blank_share=p["gender_blank_share"],
        **off_truth,
    )


# --------------------------------------------------------------------------- write
def _write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(list(df.columns))
        cols = [df[c].astype(object).where(df[c].notna(), "").astype(str).to_numpy() for c in df.columns] if len(df) else []
        if cols:
            w.writerows(zip(*cols))


def write(sd: SyntheticData, folder: str | Path) -> list[Path]:
    """Write the synthetic data to ``folder`` in the layouts the readers expect.

    Files: ``policeuk/YYYY-MM/YYYY-MM-<force>-stop-and-search.csv``,
    ``population.csv`` (long), ``population_wide.csv``, ``officers.csv``,
    ``training.csv`` (+ ``training_mapping.toml``), ``officer_events.csv``
    (+ ``officer_events_mapping.toml``), ``panel.csv``, ``truth.json`` and a
    ``README.md``. Output is byte-identical for identical ``sd``.

    Returns
    -------
    list of Path
        Every file written, sorted.
    """
    from ._mappings import OFFICER_EVENTS_TOML, README_TEXT, TRAINING_TOML

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for rel, df in sd.policeuk_files().items():
        _write_csv(df, folder / rel)
        out.append(folder / rel)
    pop = sd.population[["area", "group", "sex", "age_band", "population", "vintage", "source"]]
    for name, df in [
        ("population.csv", pop),
        ("population_wide.csv", sd.population_wide),
        ("officers.csv", sd.officers),
        ("training.csv", sd.training),
        ("officer_events.csv", sd.officer_events),
        ("panel.csv", sd.panel),
    ]:
        _write_csv(df, folder / name)
        out.append(folder / name)
    for name, text in [
        ("officer_events_mapping.toml", OFFICER_EVENTS_TOML),
        ("training_mapping.toml", TRAINING_TOML),
        ("README.md", README_TEXT.format(seed=sd.truth.seed)),
    ]:
        (folder / name).write_text(text, encoding="utf-8", newline="\n")
        out.append(folder / name)
    sd.truth.to_json(folder / "truth.json")
    out.append(folder / "truth.json")
    return sorted(out)
