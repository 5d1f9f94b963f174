"""Write the four tutorial notebooks in notebooks/ from the cell texts below (no outputs).

Run from anywhere: ``python scripts/make_notebooks.py``. The notebooks are committed
without outputs (execution counts None, outputs empty, fixed cell ids), so this
script is byte-identical on every run; ``tests/test_notebooks.py`` executes them.
Edit the cell texts here, not the .ipynb files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

# ----------------------------------------------------------------------------- shared cells
# Cell kinds: "md" (markdown), "code", "params" (a code cell tagged "parameters": the
# tests inject their overrides right after it, as papermill does).

SETUP = r"""
%matplotlib inline
import json
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import equity_metrics as em

# deterministic, compact output: fixed figure size and resolution, no absolute paths printed
matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.max_open_warning": 0})
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 40)
pd.set_option("display.max_rows", 80)


def find_root(start: Path = Path.cwd()) -> Path:
    # the project root: the first folder upwards holding pyproject.toml and src/equity_metrics
    for p in [start, *start.parents]:
        if (p / "pyproject.toml").is_file() and (p / "src" / "equity_metrics").is_dir():
            return p
    return start


ROOT = find_root()
SHARED = ROOT.parent / "shared" / "data"  # real public data, read in place (absent in a fresh clone)


def show(text) -> None:
    # print text with the machine-specific folders replaced by short names
    text = str(text).replace(str(SHARED), "../shared/data").replace(str(ROOT), "<project>")
    print(text)


print("equity_metrics", em.__version__)
"""


# ----------------------------------------------------------------------------- 01 analyst quick start
NB1 = [
    ("md", r"""
# 01 Analyst quick start: disproportionality on the bundled samples

This notebook walks through a complete stop-and-search analysis with `equity_metrics` on
the **synthetic sample set** bundled with the source checkout (`data/samples`). It needs no
real data. Because the samples were simulated with a known, *planted* truth
(`docs/synthetic-data.md`), the last section checks every headline number against it.

Steps:

1. read the police.uk files and check the **ledger** (what was read, kept, rejected; which months are missing);
2. read the population denominators;
3. rates per 1,000 and **ratios to White** with 95% intervals, by force and by financial year;
4. **age x sex standardised** ratios, and a pooled (Mantel-Haenszel) ratio over forces;
5. find, arrest and any-outcome rates, the **outcome (find-rate) test** and the **relative rate index** across stages;
6. a check against the planted truth.

Everything in the samples is made up: the forces (`northshire`, `southvale`, `eastmoor`),
people and officers.
"""),
    ("code", SETUP),
    ("md", r"""
## 1. Read the police.uk files

`em.read_policeuk` reads a folder laid out as the police.uk bulk download
(`YYYY-MM/YYYY-MM-<force>-stop-and-search.csv`), a list of files, or an archive. It converts the
UTC `Date` to the local (Europe/London) month, harmonises ethnicity to the five broad census groups
(self-defined by default), and never drops a row silently: every row is either kept or in
`res.rejects`, and the **ledger** says what happened.

`expected_months` tells the reader which months *should* be there, so that a force-month with no
file is reported as **missing** (unknown) rather than silently treated as zero searches.
"""),
    ("code", r"""
SAMPLES = em.datasets.sample_path()  # data/samples of the checkout (or $EQUITY_METRICS_SAMPLES)
stops = em.read_policeuk(SAMPLES / "policeuk", expected_months="2019-01..2021-12")
print(f"{len(stops.data):,} rows, {stops.data['force'].nunique()} forces, "
      f"{stops.data['month'].min()} .. {stops.data['month'].max()}")
stops.data[["force", "month", "search_type", "ethnicity", "ethnicity_raw", "sex", "age_band",
            "legal_power", "hit", "arrest", "duplicate"]].head()
"""),
    ("code", r"""
show(stops.ledger.summary())
"""),
    ("md", r"""
How to read the ledger:

* **rows read = rows kept + rows rejected**: nothing disappears. Exact duplicate rows are *kept* and
  flagged (`duplicate`): in police.uk data they are mostly separate people searched together, because
  times and places are coarsened.
* **missing (blank) by field**: e.g. self-defined ethnicity is blank for a few percent of rows; those
  rows are excluded from rates (as in official statistics) and bounded below.
* **area-months with no file**: `southvale` has no file for 2020-10, and `eastmoor`'s files stop after
  2021-09 (2021-10..12 have no file). Those months are *missing, not zero*. By contrast `eastmoor`
  2020-03 is a header-only file: a genuine month with zero searches.
"""),
    ("code", r"""
print("rejected rows:", len(stops.rejects))
print("missing force-months:", stops.ledger.months_missing)
eastmoor_march = stops.data[(stops.data["force"] == "eastmoor") & (stops.data["month"] == pd.Period("2020-03", "M"))]
print("eastmoor 2020-03 rows (header-only file, a true zero):", len(eastmoor_march))
print("searches by force (rows):")
print(stops.data.groupby("force").size().to_string())
"""),
    ("md", r"""
## 2. Population denominators

Rates need a denominator. Here it is the residential population of each (synthetic) force area by
ethnic group, sex and age band. `em.read_population` reads census-style tables; it notes that the
synthetic area names are not among the 44 police.uk forces (expected).
"""),
    ("code", r"""
pop = em.read_population(SAMPLES / "population.csv", vintage="synthetic", area_type="force")
show(pop.ledger.summary())
pop.data.pivot_table(index="area", columns="group", values="population", aggfunc="sum").astype(int)
"""),
    ("md", r"""
## 3. Rates per 1,000 and ratios to White

`em.disparity` counts searches of **people** (vehicle-only searches are excluded, as the Home Office
does), divides by the population and compares each group's rate with the White rate. Each ratio has
a 95% interval (Katz log interval by default); each rate an exact Poisson interval. Two extra columns
bound the ratio under the extreme assumptions that every not-stated search was of the group or of the
reference group. Rates on fewer than 20 searches are flagged `small_count`.
"""),
    ("code", r"""
d = em.disparity(stops, pop, by="force")
d
"""),
    ("code", r"""
ax = d.plot()
ax.set_title("Search rate ratio vs White, 2019-2021 (synthetic samples)");
"""),
    ("md", r"""
### By financial year

`period="FY"` gives years ending in March, as the Home Office publishes. The sample window is
January 2019 to December 2021, so the first and last years are **partial** (2018/19 holds three
months; 2021/22 nine, and only six for `eastmoor`, whose last three months are missing): their
*rates* per 1,000 are not annual and must not be compared with full years. `southvale` 2020/21
contains its missing month. The tidy table says so for every row: `months_covered` of
`months_in_period`, `partial_period`, flag `incomplete_coverage`, and `rankable` False (never put a
partial year in a league table; `em.measures.complete_periods` keeps the complete ones).
"""),
    ("code", r"""
fy = em.disparity(stops, pop, by="force", period="FY").tidy()
black_fy = fy[fy["group"] == "Black"]
black_fy.pivot_table(index="force", columns="period", values="ratio").round(2)
"""),
    ("code", r"""
black_fy.loc[black_fy["partial_period"], ["force", "period", "months_covered", "months_in_period", "events", "ratio",
                                          "flags", "rankable"]].round(2)
"""),
    ("md", r"""
Small counts: `em.flag_small_counts` applies the ONS convention (suppress rates on fewer than 3
events, mark those on fewer than 20 as low reliability) to any count column, for tables meant for
publication.
"""),
    ("code", r"""
flags = em.flag_small_counts(black_fy.set_index(["force", "period"])["events"])
flags[flags["flag"] != ""]
"""),
    ("md", r"""
## 4. Age and sex standardisation

The minority groups in the samples are **younger** than the White group, and young people are
searched more. So the *crude* ratio mixes a genuine difference in treatment with a difference in age
structure. `em.standardised_disparity` computes directly standardised rates (strata: sex x age band;
standard: the area's total population) and their ratio, with Fay-Feuer (gamma) intervals.
"""),
    ("code", r"""
s = em.standardised_disparity(stops, pop, by="force")
print(s)
"""),
    ("code", r"""
ax = s.plot()
ax.set_title("Age x sex standardised ratio vs White");
"""),
    ("md", r"""
Standardisation moves the Black/White ratio from about 3.8 (crude) to about 3.1. The planted
age- and sex-specific ratio is exactly 3.0.

### One figure across forces

A single figure for several forces should not simply add up their counts (that mixes forces with
different search rates and populations). `em.pooled_disparity` gives the Mantel-Haenszel rate ratio
across forces, with Cochran's Q and I^2 saying whether one pooled figure is a fair summary.
"""),
    ("code", r"""
pooled = em.pooled_disparity(stops, pop, group="Black")
print(pooled)
"""),
    ("md", r"""
## 5. Outcomes: what searches led to, and the outcome test

police.uk gives two fields about what a search led to: `Outcome` (no further action, arrest,
community resolution, ...) and `Outcome linked to object of search` (kept raw as `outcome_linked`).
The linked field alone is **not** a find: some forces set it to True on most searches that ended in
no further action. `equity_metrics` uses one definition everywhere, the Home Office's: a **find** is an
outcome *other than no further action* that the officer recorded as *linked to what was searched
for* (the canonical `hit` column). `o.rates()` gives three measures side by side, each with a Wilson
95% interval:

* **find rate**: outcome other than no further action, recorded as linked to the object of search;
* **arrest rate**: searches ending in arrest;
* **any outcome**: any outcome other than no further action (arrest, summons, caution, community
  resolution, ...), which every force records.

A find rate means something only where the force fills the linked field: `find_coverage` gives, per
force, the share of searches with an outcome other than no further action whose linked field is
filled. Below 90% the force gets **no find rate** (flag `find_not_recorded`): in the samples
`southvale` fills it for about a third of them.

If searches of one group end in a find (an outcome linked to what was searched for) *less often*, officers may be searching that
group on weaker grounds (the **outcome test**; infra-marginality means a difference is a warning
sign, not proof). Searches under powers that need no suspicion (s60, terrorism) are excluded. The
pooled model is a logistic regression with force effects.
"""),
    ("code", r"""
em.measures.find_coverage(stops, by="force").round(3)
"""),
    ("code", r"""
o = em.outcome_test(stops, by="force")
wide = o.rates().pivot(index=["force", "group"], columns="measure", values="rate")[["find", "arrest", "any_outcome"]]
wide.map(lambda v: "not recorded" if pd.isna(v) else f"{v:.3f}")
"""),
    ("code", r"""
print(o)
"""),
    ("code", r"""
ax = o.plot()
ax.set_title("Find rate: outcome other than no further action, linked to what was searched for");
"""),
    ("md", r"""
The **relative rate index** (RRI) compares groups at each stage relative to the previous one:
population -> search -> find (`hit`) -> arrest. An RRI above 1 at the search stage and below 1 at the
find stage is the pattern of the outcome test. The find stage (and the arrest stage after it) is not
shown for `southvale`, which does not record the linked field (`find_not_recorded`); a pooled figure
over all three forces would have the same problem, so the plot pools the two forces that record it.
"""),
    ("code", r"""
rri = em.stage_rri(stops, stages=["search", "hit", "arrest"], population=pop, by="force")
t = rri.tidy()
t[t["group"] == "Black"][["force", "stage", "previous_stage", "count", "denominator", "rate", "rri", "ci_low", "ci_high", "flags"]].round(3)
"""),
    ("code", r"""
# the plot pools the forces that record finds: one row per stage and group
recorded = em.measures.find_coverage(stops, by="force").query("find_recorded")["force"].tolist()
print("forces pooled:", recorded)
ax = em.stage_rri(stops.data[stops.data["force"].isin(recorded)], stages=["search", "hit", "arrest"], population=pop).plot()
"""),
    ("md", r"""
## 6. Check against the planted truth

The samples were simulated with (`docs/synthetic-data.md`):

* a Black/White **age- and sex-specific** search rate ratio of **3.0** in every force (so the
  standardised ratio is 3.0), which implies a **crude** ratio of about **3.706** in each force;
* Home Office **find rates** (outcome other than no further action, linked to the object of search)
  **White 0.30, Black 0.22**, with the matching arrest and any-outcome rates (`truth.find_rate`,
  `truth.arrest_rate`, `truth.any_outcome_rate`);
* missing force-months: southvale 2020-10 and eastmoor 2021-10..12.

Every 95% interval below should cover its planted value (by chance, about one in twenty intervals
will not).
"""),
    ("code", r"""
truth = em.datasets.load_sample_truth()
crude = d.tidy().set_index(["force", "group"])
std = s.tidy().set_index(["force", "group"])
rows = []
for force in sorted(truth.areas):
    c, st = crude.loc[(force, "Black")], std.loc[(force, "Black")]
    rows.append({"force": force, "measure": "crude ratio", "estimate": c["ratio"], "ci_low": c["ci_low"],
                 "ci_high": c["ci_high"], "planted": truth.crude_ratio[force]["Black"]})
    rows.append({"force": force, "measure": "standardised ratio", "estimate": st["std_ratio"], "ci_low": st["ci_low"],
                 "ci_high": st["ci_high"], "planted": truth.standardised_ratio[force]["Black"]})
# outcome rates pooled over the forces (the find rate over the forces that record it)
pooled_rates = em.outcome_test(stops, by=None).rates().set_index(["measure", "group"])
planted = {"find": truth.find_rate, "arrest": truth.arrest_rate, "any_outcome": truth.any_outcome_rate}
for m in ("find", "arrest", "any_outcome"):
    for g in ("White", "Black"):
        r = pooled_rates.loc[(m, g)]
        rows.append({"force": "all", "measure": f"{m} rate {g}", "estimate": r["rate"], "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"], "planted": planted[m][g]})
check = pd.DataFrame(rows)
check["covered"] = (check["ci_low"] < check["planted"]) & (check["planted"] < check["ci_high"])
check.round(3)
"""),
    ("code", r"""
# a machine-readable summary (tests/test_notebooks.py reads this line)
summary = {
    "rows_read": stops.ledger.rows_read,
    "rows_rejected": stops.ledger.rows_rejected,
    "months_missing": [list(m) for m in stops.ledger.months_missing],
    "std_ratio_black": {f: round(float(std.loc[(f, "Black"), "std_ratio"]), 3) for f in sorted(truth.areas)},
    "pooled_ratio_black": round(float(pooled.tidy()["estimate"].iloc[0]), 3),
    "all_covered": bool(check["covered"].all()),
    "find_not_recorded": sorted(set(o.rates().query("flags.str.contains('find_not_recorded')", engine="python")["force"])),
}
print("CHECKS " + json.dumps(summary, sort_keys=True))
"""),
    ("md", r"""
## Where next

* `02_real_44_forces.ipynb`: the same analysis on the real police.uk archive (44 forces, 2019-2021).
* `03_training_impact.ipynb`: did officer training change use of force?
* `04_command_report.ipynb`: the command report built from these measures.

The measures used here are documented in their docstrings (`help(em.disparity)` etc.).
"""),
]


# ----------------------------------------------------------------------------- 02 real data, 44 forces
NB2 = [
    ("md", r"""
# 02 Disproportionality in stop and search across the 44 forces, 2019-2021

Real data: the police.uk monthly stop-and-search files for all 43 territorial forces of England and
Wales plus British Transport Police, January 2019 to November 2021 (1,034,848 rows), with 2011
census residents by force area as denominators (the benchmark the Home Office used until 2023).
The data live beside the project in `../shared/data` and are read in place; this notebook stops
with a message if they are absent.

Contents:

1. read the archive once and check coverage (missing force-months are common);
2. searches per 1,000 and Black/White ratios by force and financial year, with intervals and flags;
3. a league table (complete years, rankable forces only) and a forest plot for the year ending March 2021;
4. what searches led to, by force: find, arrest and any-outcome rates on one find definition;
5. a national figure pooled across forces;
6. a comparison with the rates gov.uk published for earlier years;
7. police.uk-derived counts beside the Home Office's published counts for 2020/21;
8. caveats.

*Contains public sector information licensed under the Open Government Licence v3.0.*
"""),
    ("code", SETUP),
    ("code", r"""
ARCHIVE = SHARED / "policeuk" / "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"
POPULATION = SHARED / "population" / "census2011_pfa_ethnic_group_18.csv"
GOVUK = SHARED / "govuk" / "ethnicity_facts_stop_and_search_2006-07_2017-18.csv"
HOME_OFFICE = sorted((SHARED / "homeoffice").glob("ho_opendata_*.csv"))
missing = [p.name for p in (ARCHIVE, POPULATION, GOVUK) if not p.exists()] + ([] if HOME_OFFICE else ["homeoffice/ho_opendata_*.csv"])
if missing:
    raise FileNotFoundError(f"this notebook needs the real data in ../shared/data (beside the project root); missing: {missing}")
print("inputs found:", ARCHIVE.name, POPULATION.name, GOVUK.name, *[p.name for p in HOME_OFFICE], sep="\n  ")
"""),
    ("md", r"""
## 1. Read the archive (once) and check coverage

`em.read_policeuk` reads the `.tar.gz` directly. `expected_months` declares the window, so every
force-month without a file is listed as **missing**: it is unknown, not zero.
"""),
    ("code", r"""
stops = em.read_policeuk(ARCHIVE, expected_months="2019-01..2021-11")
show(stops.ledger.summary())
"""),
    ("code", r"""
gaps = pd.DataFrame(stops.ledger.months_missing, columns=["force", "month"])
coverage = (gaps.groupby("force")["month"].agg(months_missing="size", first="min", last="max")
            .sort_values("months_missing", ascending=False))
coverage
"""),
    ("md", r"""
Greater Manchester (only 2019-01..06 published) and the Metropolitan Police (only 2019-01/02 and
2021-06..10) are mostly missing: together they account for a large share of all searches of Black
people in England and Wales, so **national totals from this archive are not national totals**.

## 2. Population denominators: 2011 census by police force area
"""),
    ("code", r"""
pop = em.read_population(POPULATION, vintage="census2011")
show(pop.ledger.summary())
"""),
    ("md", r"""
## 3. Rates and ratios by force and financial year

`period="FY"` gives years ending in March, as the Home Office publishes. The archive covers
2019-01..2021-11, so **2018/19 (three months) and 2021/22 (at most eight months) are partial years**
for every force: their rates per 1,000 are not annual. 2019/20 and 2020/21 are the full years, but
not for every force: Greater Manchester has three months of 2019/20 and Gwent eleven (2019-08 is
missing). The tidy table says so on every row (`months_covered` of `months_in_period`,
`partial_period`), and `rankable` is False for any row that must not be put in a league table: a
partial period, an implausible benchmark, ethnicity mostly not stated, or no ratio. Flags:

* `small_count`: fewer than 20 searches (ONS: rate unreliable);
* `incomplete_coverage`: the force-year has missing months (rates too low; ratios usually fine,
  since both groups lose the same months);
* `no_population`: British Transport Police polices the railways and has no residential population;
* `rate_above_1000_benchmark_implausible`: City of London has about 7,400 residents and large
  numbers of commuters and visitors: a residential benchmark is meaningless there.
"""),
    ("code", r"""
fy = em.disparity(stops, pop, by="force", period="FY", reference="White")
table = fy.tidy()
print(f"{len(table):,} rows: {table['force'].nunique()} forces x {table['period'].nunique()} years x {table['group'].nunique()} groups")
for n in fy.notes:
    print("note:", n)
"""),
    ("code", r"""
black = table[table["group"] == "Black"].copy()
print(black.groupby("period")[["partial_period", "rankable"]].sum().astype(int)
      .join(black.groupby("period").size().rename("forces")))
print("partial force-years within the full years:")
print(black.loc[black["partial_period"] & black["period"].isin(["2019/20", "2020/21"]),
                ["force", "period", "months_covered", "months_in_period"]].to_string(index=False))
flag_counts = (black.assign(flag=black["flags"].str.split(";")).explode("flag")
               .query("flag != ''").groupby(["period", "flag"]).size().unstack(fill_value=0))
flag_counts
"""),
    ("md", r"""
### League table, year ending March 2021

Black/White ratio of search rates per 1,000 residents, with 95% intervals, for the forces whose
2020/21 row is `rankable` (`rank_areas` keeps only those: a complete year, a plausible benchmark,
ethnicity mostly stated). `ratio_bound_low` and `ratio_bound_high` show how far the ratio could move
if every search with ethnicity not stated had been of a White or of a Black person. The forces left
out are listed below the table with the reason: City of London (about 7,400 residents: searches per
1,000 residents are not a meaningful rate there), North Yorkshire (self-defined ethnicity mostly
not stated), British Transport Police (no residential population). The Metropolitan Police and
Greater Manchester published no data for this year, so they have no row at all (absent, not zero).
"""),
    ("code", r"""
YEAR = "2020/21"
from equity_metrics.measures.disparity import rank_areas

league = (rank_areas(table[table["period"] == YEAR], group="Black")
          [["rank", "force", "events", "rate_per_1000", "reference_events", "ratio", "ci_low", "ci_high",
            "not_stated_share", "ratio_bound_low", "ratio_bound_high", "flags"]].set_index("rank"))
league.round(2)
"""),
    ("code", r"""
from equity_metrics.plots import forest_plot

not_ranked = black[(black["period"] == YEAR) & ~black["rankable"]]
print("not ranked in", YEAR + ":")
for r in not_ranked.itertuples():
    why = ("no residential population" if not np.isfinite(r.ratio) else
           "implausible benchmark (%.0f searches per 1,000 Black residents)" % r.rate_per_1000 if r.implausible_benchmark else
           "ethnicity not stated for %.0f%% of searches" % (100 * r.not_stated_share) if r.mostly_not_stated else
           "partial period (%d of %d months)" % (r.months_covered, r.months_in_period))
    print(f"  {r.force}: {why}")
plot_rows = league[np.isfinite(league["ratio"])]
labels = [f"{f}{' *' if fl else ''}" for f, fl in zip(plot_rows["force"], plot_rows["flags"])]
ax = forest_plot(labels, plot_rows["ratio"], plot_rows["ci_low"], plot_rows["ci_high"], log=True,
                          xlabel="Black/White ratio of search rates (log scale), 95% CI\n"
                                 "* flagged (see table); forces not rankable are not shown",
                          title=f"Stop and search, year ending March {YEAR[:2]}{YEAR[-2:]}: Black vs White")
"""),
    ("md", r"""
## 4. What searches led to, by force (2020/21)

police.uk's `Outcome linked to object of search` field is **not** a find on its own: West Yorkshire,
Warwickshire, Derbyshire and others set it True on most searches that ended in *no further action*,
so counting it alone gives West Yorkshire a "find rate" of about 79%. Other forces (Merseyside,
Lancashire, Humberside, Gwent, the Metropolitan Police) leave it blank on most rows. `equity_metrics`
counts a **find** as the Home Office and HMICFRS do: an outcome *other than no further action* that is
*linked to the object of search* (the canonical `hit` column; the raw field is `outcome_linked`).

Below, for every force and FY 2020/21, over all searches of people: the find rate, the arrest rate,
the share with any outcome other than no further action, and the force's **linked-field coverage**
(the share of its searches with an outcome other than no further action that say whether it was
linked). Under 90% coverage the force gets **no find rate** ("not recorded", flag `find_not_recorded`):
with most of the linked field blank, any figure would be a guess. Arrest and any-outcome rates need
only the `Outcome` field, which every force fills. The last column is the raw linked field's share
of True, shown only to make the point: it is not a find rate.
"""),
    ("code", r"""
start, end = pd.Period("2020-04", "M"), pd.Period("2021-03", "M")
fy2021 = stops.data[(stops.data["month"] >= start) & (stops.data["month"] <= end)]
# one row per force: every search of a person as one group ("all searches"), all legal powers
out = em.outcome_test(fy2021.assign(everyone="all searches"), by="force", group_col="everyone",
                      reference="all searches", discretionary_only=False, pooled_over=None)
wide = out.rates().pivot(index="force", columns="measure", values="rate")
cov = em.measures.find_coverage(fy2021, by="force").set_index("force")
people = fy2021[~fy2021["vehicle_only"].fillna(False).to_numpy(bool)]
outcomes = pd.DataFrame({
    "searches": people.groupby("force", observed=True).size(),
    "find_rate": wide["find"],
    "arrest_rate": wide["arrest"],
    "any_outcome_rate": wide["any_outcome"],
    "linked_coverage": cov["linked_coverage"],
    "linked_field_true": people.groupby("force", observed=True)["outcome_linked"].mean().astype(float),  # NOT a find
})
shown = outcomes.copy().astype({"find_rate": object, "arrest_rate": object, "any_outcome_rate": object,
                                "linked_coverage": object, "linked_field_true": object})
for c in ("find_rate", "arrest_rate", "any_outcome_rate", "linked_coverage", "linked_field_true"):
    shown[c] = [("not recorded" if c == "find_rate" else "") if pd.isna(v) else f"{100 * v:.1f}%" for v in outcomes[c]]
print(f"{int(outcomes['find_rate'].isna().sum())} of {len(outcomes)} forces: find not recorded (coverage under 90%)")
shown.sort_values("searches", ascending=False)
"""),
    ("md", r"""
West Yorkshire's find rate is about 18%, not the 79% the raw linked field suggests: most of its
"linked" searches ended in no further action. Merseyside fills the linked field for about 5% of its
searches with an outcome other than no further action, so it has no find rate at all (the few rows it
fills say nothing about the rest), while its arrest and any-outcome rates are fine. Compare groups within a force on the find rate only where it is recorded; the any-outcome
rate is the measure every force supports.
"""),
    ("md", r"""
## 5. One national figure

Adding up all forces' searches and residents gives a **crude** national ratio, but it is confounded
by where people live: Black residents are concentrated in forces with different search rates.
The Mantel-Haenszel ratio pools the within-force comparisons instead. Cochran's Q and I^2 say
whether one pooled number is a fair summary: with force ratios from about 2 to over 20, it is
not, and the league table is the real result. City of London is left out (no meaningful
benchmark); BTP drops out for want of a population.
"""),
    ("code", r"""
year = fy2021[fy2021["force"] != "city-of-london"]
pooled = em.pooled_disparity(year, pop, group="Black")
crude = em.disparity(year, pop, by=None).tidy().set_index("group").loc["Black"]
print(pooled)
print()
print(f"crude national ratio ({YEAR}, forces with data, excluding City of London): {crude['ratio']:.2f} "
      f"(95% CI {crude['ci_low']:.2f} to {crude['ci_high']:.2f})")
"""),
    ("md", r"""
## 6. Comparison with the rates gov.uk published

The gov.uk *Ethnicity facts and figures* table covers 2006/07 to 2017/18, so it does not overlap
this archive. Two checks are still possible:

1. **Denominators**: gov.uk used the same 2011 census populations. For every force and for the
   Black and White groups, our reading of the census file should match the population gov.uk
   published for 2017/18.
2. **Pattern**: a force's Black/White ratio in 2017/18 (from the published rates) and in 2019/20
   (from police.uk) should be related, though not equal: practice changed, and police.uk records
   differ from the Home Office's annual data return.
"""),
    ("code", r"""
gov = em.read_govuk_stop_search(GOVUK)
g = gov.data
g17 = g[(g["period"] == "2017/18") & (g["group_level"] == "broad") & g["group"].isin(["Black", "White"])
        & (g["area_type"] == "force")]
ours = pop.data[pop.data["group"].isin(["Black", "White"])].groupby(["area", "group"])["population"].sum()
den = g17.set_index(["area", "group"])[["population"]].join(ours.rename("census2011_here"), how="inner").dropna()
den["same"] = den["population"] == den["census2011_here"]
print(f"denominators compared: {len(den)} force x group cells; identical: {int(den['same'].sum())}")
den[~den["same"]]
"""),
    ("code", r"""
pub = g17.pivot_table(index="area", columns="group", values="published_rate")
pub = (pub["Black"] / pub["White"]).rename("published_2017_18").dropna()
ours19 = black[black["period"] == "2019/20"].set_index("force")
ok = ~ours19["flags"].str.contains("implausible|no_population|incomplete_coverage|small_count")
both = pd.concat([pub, ours19.loc[ok, "ratio"].rename("policeuk_2019_20")], axis=1, join="inner").dropna()
rho = both.corr(method="spearman").iloc[0, 1]
print(f"{len(both)} forces with both figures (unflagged in 2019/20); Spearman rank correlation {rho:.2f}")
print(f"median ratio: published 2017/18 {both['published_2017_18'].median():.2f}, police.uk 2019/20 {both['policeuk_2019_20'].median():.2f}")
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(both["published_2017_18"], both["policeuk_2019_20"], s=14)
lims = [1, 40]
ax.plot(lims, lims, color="#888", lw=1, ls="--")
ax.set(xscale="log", yscale="log", xlim=lims, ylim=lims, xlabel="gov.uk published, 2017/18",
       ylabel="police.uk recomputed, 2019/20", title="Black/White ratio by force");
"""),
    ("code", r"""
ew = g[(g["area"] == "england-and-wales") & (g["period"] == "2017/18") & (g["group_level"] == "broad")].set_index("group")
print(f"England and Wales 2017/18 (gov.uk): Black {ew.loc['Black', 'published_rate']:.2f} vs White "
      f"{ew.loc['White', 'published_rate']:.2f} per 1,000, ratio {ew.loc['Black', 'published_rate'] / ew.loc['White', 'published_rate']:.1f}")
"""),
    ("md", r"""
## 7. police.uk counts beside the Home Office's published counts (2020/21)

The Home Office publishes each force's searches by self-defined ethnic group and financial year,
from the forces' annual data returns (`../shared/data/homeoffice`). police.uk holds the same forces'
monthly uploads, so the two should nearly agree. `em.compare_published` recounts police.uk the way
the Home Office table is defined (searches of people, vehicle-only searches left out, self-defined
ethnicity, British Transport Police left out, financial years by local month) and puts the two side
by side. A force-year with months missing in police.uk is **partial**: a lower count is expected
there, not a discrepancy. On a complete year, a difference above 5% (and at least 10 searches) is a
**large gap** (`docs/real-data-rules.md`, "Home Office published counts").
"""),
    ("code", r"""
published = em.read_homeoffice_stop_search(HOME_OFFICE)
cmp = em.compare_published(stops, published)
t = cmp.tidy()
wy = t[(t["force"] == "west-yorkshire") & (t["period"] == "2020/21")]
wy[["group", "police_uk", "home_office", "difference", "relative_difference", "months_covered", "status"]].round(3)
"""),
    ("code", r"""
gaps = cmp.by_force(complete_only=True)
gaps = gaps[gaps["period"] == "2020/21"]
n_close = int((gaps["status"] == "close").sum())
print(f"{len(gaps)} forces have a complete 2020/21 in police.uk; {n_close} are within 5% of the Home Office total, "
      f"{len(gaps) - n_close} are not. The largest differences:")
for s in gaps.head(8)["sentence"]:
    print(" -", s)
part = t[(t["group"] == "All") & t["partial_period"]]
print("\nNot comparable as complete years (police.uk months missing):")
print(part[["force", "period", "months_covered", "months_in_period", "police_uk", "home_office", "status"]].to_string(index=False))
"""),
    ("code", r"""
ax = cmp.plot(period="2020/21")
"""),
    ("md", r"""
Most forces agree with the Home Office within a few percent (West Yorkshire's White searches:
10,462 in police.uk against 10,433 published). Some do not, on a year police.uk covers in full:
Essex, Suffolk, Norfolk, Leicestershire and Gloucestershire have 20-25% **fewer** searches in police.uk
than they returned to the Home Office (Essex's monthly police.uk counts halve from August 2020), and
Gwent and Thames Valley about 20% **more**. These are differences between the two publications, not
rounding: figures from police.uk for those forces should be read with that in mind, and official
comparisons should use the Home Office figures. The Metropolitan Police and Greater Manchester have
no police.uk month in 2020/21, and 2021/22 is partial for every force (the archive ends in November
2021).

The national share of searches ending in no further action can be checked too (police.uk pools the
forces with data, without most of London and Manchester, so it is not the same population):
"""),
    ("code", r"""
cmp.national().round(1)
"""),
    ("md", r"""
## 8. Caveats

* **Benchmark.** Residents are not the population available to be searched (commuters, visitors,
  night-time economy, people on the street). A residential ratio measures disparity relative to
  residents, not bias. 2011 census denominators are dated: by 2019-2021 minority populations had
  grown in most areas, which inflates these ratios somewhat.
* **Coverage.** Missing force-months (Metropolitan, Greater Manchester, West Midlands) are
  missing, not zero. National totals from this archive exclude most of London and Manchester.
* **Ethnicity.** Self-defined ethnicity is used; where it is not stated (up to 95% in North
  Yorkshire in some years) the ratio bounds are wide and the ratio should not be reported.
* **Records.** police.uk data are force uploads with coarsened times and places; exact duplicate
  rows are kept (mostly distinct searches of people together). Figures do not equal the Home
  Office's annual statistics: most forces are within a few percent, some differ by 20-25% (section 7).
* **Finds.** The raw linked field is not a find; forces that do not fill it get no find rate.
* **Partial years.** 2018/19 and 2021/22 are partial: compare their ratios, not their rates.
"""),
    ("code", r"""
# a machine-readable summary (tests/test_notebooks.py reads this line)
p = pooled.tidy().iloc[0]
summary = {
    "rows_read": stops.ledger.rows_read, "forces": int(table["force"].nunique()),
    "forces_in_league": int(np.isfinite(league["ratio"]).sum()),
    "pooled_ratio_2020_21": round(float(p["estimate"]), 2),
    "denominators_identical": int(den["same"].sum()), "denominators_compared": len(den),
    "spearman_2017_vs_2019": round(float(rho), 2),
    "find_rate_2020_21": {f: (None if pd.isna(outcomes.loc[f, "find_rate"]) else round(float(outcomes.loc[f, "find_rate"]), 3))
                          for f in ("west-yorkshire", "merseyside")},
    "linked_field_true_west_yorkshire": round(float(outcomes.loc["west-yorkshire", "linked_field_true"]), 3),
    "home_office_wy_white_2020_21": [int(wy.set_index("group").loc["White", c]) for c in ("home_office", "police_uk")],
    "home_office_status_2020_21": {f: t[(t["force"] == f) & (t["period"] == "2020/21") & (t["group"] == "All")]["status"].iloc[0]
                                   for f in ("metropolitan", "greater-manchester", "thames-valley", "west-yorkshire")},
    "home_office_complete_2020_21": len(gaps), "home_office_close_2020_21": n_close,
}
print("CHECKS " + json.dumps(summary, sort_keys=True))
"""),
]


# ----------------------------------------------------------------------------- 03 training impact
NB3 = [
    ("md", r"""
# 03 Did officer training change use of force?

A researcher's notebook. Officers were trained in a **staggered rollout**: different officers
completed the course in different months. We ask whether completing it changed how often an
officer used force.

* **Part (a)** uses the bundled synthetic samples, where the answer is known: the course
  multiplies each trained officer's use-of-force rate by **0.8** from the month of completion
  (`docs/synthetic-data.md`). We check each estimator against that truth.
* **Part (b)** applies the same design to real data: Chicago Police Department's 40-hour
  Crisis Intervention Team (CIT) course. It needs `../shared/data/chicago` and is skipped otherwise.

Estimators: Callaway & Sant'Anna (`em.staggered_did`, the main estimate), Sun & Abraham
event study (`em.event_study`), Roth & Sant'Anna (`em.efficient_staggered`), static two-way
fixed effects (`em.twfe`, a labelled *comparison* only), and an interrupted time series for one
force (`em.interrupted_time_series`).
"""),
    ("params", r"""
# Parameters. RUN_CHICAGO: None = run part (b) when ../shared/data/chicago exists; True / False to force.
RUN_CHICAGO = None
"""),
    ("code", SETUP),
    ("md", r"""
## (a) The synthetic samples

### The data: events, training roster, officers

Three inputs, each read through the library's readers:

* **events**: one row per use-of-force report or search, with the officer and the date;
* **training**: one row per officer who completed the course, with the completion date;
* **officers**: every officer with appointment and resignation dates, so that months out of service
  are not counted as months with zero use of force, and officers never trained are known.
"""),
    ("code", r"""
events = em.datasets.load_sample_officer_events()
training = em.datasets.load_sample_training()
officers = em.datasets.load_sample_officers()
truth = em.datasets.load_sample_truth()
print(f"events: {len(events.data):,} ({events.data['event_type'].value_counts().to_dict()})")
print(f"trained officers: {training.data['officer_id'].nunique():,}; all officers: {len(officers):,}")
print("officer status:", officers["status"].value_counts().sort_index().to_dict())
"""),
    ("md", r"""
### Build the officer x month panel

`em.build_panel` counts each officer's use-of-force reports per month, keeps only the months the
officer was in service (`exposure` is the share of the month in service), and assigns each
officer's **first treated** month. In the samples the course takes place in the first week of the
cohort month, so the month of completion counts as treated (`treated_from="completion"`; the
default, `"next"`, starts with the first *full* month after completion).
"""),
    ("code", r"""
panel = em.build_panel(events.data, training.data, officers=officers, outcome="use_of_force",
                       treated_from="completion")
print(panel.summary())
"""),
    ("code", r"""
ax = panel.plot()
"""),
    ("md", r"""
The Callaway & Sant'Anna estimator needs a **balanced** panel: the same officers in every month.
`balanced=True` keeps the officers in service for the whole window (it drops joiners and leavers,
and says how many). The estimate then describes those officers.
"""),
    ("code", r"""
balanced = em.build_panel(events.data, training.data, officers=officers, outcome="use_of_force",
                          treated_from="completion", balanced=True)
print(balanced.summary())
"""),
    ("md", r"""
### Callaway & Sant'Anna: group-time effects

`em.staggered_did` estimates one effect for each training cohort `g` and month `t`, ATT(g,t),
comparing the cohort's change since the month before training with the change among officers
**not yet trained** by then (`control="not_yet_treated"`), using the doubly robust estimator
(`method="dr"`). These many small effects are then **aggregated**.
"""),
    ("code", r"""
did = em.staggered_did(balanced, control="not_yet_treated", method="dr")
print(f"{len(did.att_gt)} group-time effects; {did.n_units} officers; cohorts (first treated time): {[int(c) for c in did.cohorts]}")
did.att_gt.head(12).round(4)
"""),
    ("code", r"""
overall = did.aggregate("simple")
print(overall)
print()
print(did.aggregate("group"))
"""),
    ("md", r"""
The overall ATT is the average change in use-of-force reports **per officer-month** among
trained officer-months. Converting it to a rate ratio (the planted 0.8) divides the trained
officers' observed rate by their rate without training (observed minus the effect):
"""),
    ("code", r"""
d = balanced.data
treated_rate = float(d.loc[d["treated"], "use_of_force"].mean())
o = overall.overall
rr = treated_rate / (treated_rate - o.estimate)
rr_low, rr_high = treated_rate / (treated_rate - o.ci_low), treated_rate / (treated_rate - o.ci_high)

# the truth for these officers: expected counts with and without training (panel.csv)
gen = em.datasets.load_sample_panel()
m = d.merge(gen, left_on=["officer_id", "period"], right_on=["officer_id", "month"], suffixes=("", "_gen"))
tm = m[m["treated"]]
true_att = float((tm["uof_mean"] - tm["uof_y0"]).mean())
true_rr = float(tm["uof_mean"].sum() / tm["uof_y0"].sum())
print(f"ATT: estimated {o.estimate:+.4f} (95% CI {o.ci_low:+.4f} to {o.ci_high:+.4f}); planted {true_att:+.4f}")
print(f"rate ratio: estimated {rr:.3f} (approx. 95% CI {rr_low:.3f} to {rr_high:.3f}); planted {true_rr:.3f}")
"""),
    ("md", r"""
With 132 officers in five cohorts the interval is wide, but it covers the planted effect.

### Event-study aggregation and pre-trends

`aggregate("dynamic")` averages the effects by **months since training** (negative: before).
Before training the estimates should be near zero; after training, near the planted effect
(crosses: the planted effect for these officers, from the generator's expected counts).
"""),
    ("code", r"""
dyn = did.aggregate("dynamic", min_e=-12, max_e=24)
ax = dyn.plot(title="Use-of-force reports per officer-month, by months since training")
planted_e = tm.groupby("event_time")["uof_mean"].mean() - tm.groupby("event_time")["uof_y0"].mean()
planted_e = planted_e[planted_e.index <= 24]
ax.plot(planted_e.index, planted_e.to_numpy(), "x", color="tab:red", label="planted")
ax.legend(frameon=False);
"""),
    ("md", r"""
A **pre-trend test** asks whether the pre-training estimates are jointly zero. The cell-level
test (`kind="cells"`, what R `did`'s `summary` reports) tests all 94 pre-treatment ATT(g,t) at once:
"""),
    ("code", r"""
cells = did.pretrend_test("cells")
print(cells)
"""),
    ("md", r"""
That looks like a violation, but parallel trends hold here by construction. The problem is the
test: 94 restrictions, with their covariance estimated from only 132 officers. With `p` estimates
and `n` independent units, the Wald statistic computed with an *estimated* covariance is
Hotelling's T^2, which is about `n / (n - p)` = 3.5 times larger than a chi-squared(94) under the
null. Hotelling's exact correction turns it into an F test:
"""),
    ("code", r"""
from scipy import stats

n, p = did.n_units, cells.df
f_stat = (n - p) / (p * (n - 1)) * cells.statistic
print(f"Hotelling correction: F({p}, {n - p}) = {f_stat:.3f}, p = {stats.f.sf(f_stat, p, n - p):.3f}")
"""),
    ("md", r"""
The usual choice with many small cohorts, and `pretrend_test()`'s default, is to test the
**event-study leads** instead: here 12 coefficients, each averaging several cohorts.
"""),
    ("code", r"""
leads = did.pretrend_test("event_time", min_e=-12)
print(leads)
"""),
    ("md", r"""
### Other estimators, for comparison

**Sun & Abraham event study** (`em.event_study(..., sun_abraham=True)`): a regression version of the
event study that is robust to effects differing across cohorts. Leads and lags beyond the window
are pooled into the end points.
"""),
    ("code", r"""
es = em.event_study(balanced, outcome="use_of_force", leads=6, lags=12, control="not_yet_treated", sun_abraham=True)
print(es.pretrend)
ax = es.plot(title="Sun & Abraham event study")
"""),
    ("md", r"""
**Roth & Sant'Anna** (`em.efficient_staggered`) is the most precise estimator when the *timing* of
training is as good as random. Here it is not: the samples plant **selection on levels** (earlier
cohorts used more force before training). The efficient weighting (`beta="efficient"`) uses
pre-training levels and is biased towards zero; with `beta="cs"` or `"sa"` it reproduces
estimators that only need parallel trends.
"""),
    ("code", r"""
rows = []
for beta in ("efficient", "cs", "sa"):
    r = em.efficient_staggered(balanced, outcome="use_of_force", beta=beta, n_fisher=0).overall
    rows.append({"beta": beta, "estimate": r["estimate"], "std_error": r["std_error"],
                 "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
eff = pd.DataFrame(rows)
eff["planted"] = true_att
eff.round(4)
"""),
    ("md", r"""
**Static two-way fixed effects** (`em.twfe`) is the regression most often reported. With staggered
timing it compares newly trained officers with *already trained* ones and can put negative weight
on some treated months, so the library reports it only as a comparison and warns:
"""),
    ("code", r"""
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    tw = em.twfe(balanced, outcome="use_of_force")
for w in caught:
    print("warning:", w.message)
print()
print(tw)
"""),
    ("md", r"""
Here all effects are proportional (one rate ratio), so TWFE happens to land near the truth; when
effects grow or fade over time it can be far off, even of the wrong sign.

### Interrupted time series for one force

Without individual officers' data, a force may only have its monthly total. An interrupted time
series fits the trend before training and projects it forward as the **counterfactual**. We use
`northshire`'s monthly use-of-force reports, with the number of officers in service as the offset,
and the month its first cohort was trained (2019-10) as the interruption. Because the rollout is
staggered, the effect should appear as a gradual change (`impact="level_slope"`).
"""),
    ("code", r"""
full = panel.data[(panel.data["exposure"] == 1) & (panel.data["force"] == "northshire")]
series = (full.groupby("period").agg(use_of_force=("use_of_force", "sum"), officers=("officer_id", "size"))
          .reset_index().rename(columns={"period": "month"}))
its = em.interrupted_time_series(series, outcome="use_of_force", time="month", intervention="2019-10",
                                 offset="officers", seasonality="fourier", impact="level_slope")
print(its)
"""),
    ("code", r"""
ax = its.plot(title="northshire: use-of-force reports, observed vs counterfactual")
ax.set_ylim(0, 3 * series["use_of_force"].max())  # the counterfactual band runs far above: clipped
g = gen[gen["force"] == "northshire"].groupby("month")[["uof_y0", "uof_mean"]].sum()
ax.plot(g.index.to_timestamp(), g["uof_y0"].to_numpy(), color="tab:red", lw=1, label="planted: no training")
ax.legend(fontsize=8, frameon=False);
"""),
    ("code", r"""
post = g.index >= pd.Period("2019-10", "M")
planted_total = float((g["uof_mean"] - g["uof_y0"])[post].sum())
te = its.total_effect()
print(f"change in reports 2019-10..2021-12 (negative: fewer): estimated {te.estimate:+.0f} "
      f"(95% CI {te.ci_low:+.0f} to {te.ci_high:+.0f}); planted {planted_total:+.0f}")
"""),
    ("md", r"""
One force's 36 monthly totals, with only 9 months before the first cohort, cannot separate a
gradual training effect from the trend and seasonality: the counterfactual's interval widens
quickly (the plot clips it) and the estimated total change has the wrong sign, with an interval
covering the planted value and much else. This is why
the officer-level designs above are preferred when the data exist.
"""),
    ("code", r"""
# a machine-readable summary (tests/test_notebooks.py reads this line)
summary = {
    "att": round(o.estimate, 4), "att_se": round(o.std_error, 4), "planted_att": round(true_att, 4),
    "rate_ratio": round(rr, 3), "planted_rate_ratio": round(true_rr, 3),
    "pretrend_leads_p": round(leads.p_value, 3), "es_pretrend_p": round(float(es.pretrend.p_value), 3),
    "efficient_cs": round(float(eff.loc[eff["beta"] == "cs", "estimate"].iloc[0]), 4),
    "twfe": round(float(tw.tidy()["estimate"].iloc[0]), 4),
}
print("CHECKS " + json.dumps(summary, sort_keys=True))
"""),
    ("md", r"""
## (b) Chicago: Crisis Intervention Team training and use-of-force reports

Real data (Invisible Institute FOIA releases in `../shared/data/chicago`): the roster of officers
who completed the 40-hour CIT course (with the course end date), tactical response (use-of-force)
reports 2004-2016, and officer profiles. `equity_metrics.examples.chicago_cit` builds an officer x
month panel for 2010-01..2016-03 of officers in service on the roster date (the roster lists only
officers active then), with the first treated month the month after the course ended, and runs
the same Callaway & Sant'Anna design.

**What it cannot show.** CIT is voluntary: officers who chose it may differ in ways that change
over time. The pre-trend test is the check; if it fails, the estimate is not a causal effect.
Report counts also say nothing about whether force was appropriate. Officers' names and ids are
never printed.
"""),
    ("code", r"""
CHICAGO = SHARED / "chicago"
if RUN_CHICAGO is None:
    try:
        from equity_metrics.examples.chicago_cit import chicago_cit_analysis  # noqa: F401
        RUN_CHICAGO = CHICAGO.is_dir()
        reason = "" if RUN_CHICAGO else "../shared/data/chicago is absent"
    except ImportError as exc:
        RUN_CHICAGO, reason = False, f"equity_metrics.examples.chicago_cit is not available ({exc})"
else:
    reason = "RUN_CHICAGO = False was set"
print("part (b):", "running" if RUN_CHICAGO else f"skipped: {reason}")
"""),
    ("code", r"""
if RUN_CHICAGO:
    from equity_metrics.examples.chicago_cit import chicago_cit_analysis

    cit = chicago_cit_analysis(folder=CHICAGO, period="M", start="2010-01", end="2016-03")
    print(cit.panel.summary())
"""),
    ("code", r"""
if RUN_CHICAGO:
    print(cit.summary())
"""),
    ("code", r"""
if RUN_CHICAGO:
    ax = cit.dynamic.plot(title="Chicago CIT: use-of-force reports per officer-month, by months since training")
"""),
    ("code", r"""
if RUN_CHICAGO:
    print(cit.pretrend)
    print("CHICAGO " + json.dumps({"att": round(cit.did.aggregate("simple").overall.estimate, 5),
                                   "pretrend_p": round(float(cit.pretrend.p_value), 4),
                                   "officers": int(cit.panel.report.n_units)}, sort_keys=True))
"""),
    ("md", r"""
Read the verdict printed with the summary: it states the estimate with its interval, relative to
the untrained rate, and whether the pre-trend check allows a causal reading.
"""),
]


# ----------------------------------------------------------------------------- 04 command report
NB4 = [
    ("md", r"""
# 04 The command report, from a notebook

The **command report** is the short document for a force's leadership: the headline
disproportionality figures with their intervals, trends, the outcome test, and (when a training
roster is supplied) whether training changed anything, with the caveats that go with each. It is
built entirely from the library's measures; the report layer only lays out what they computed
(small counts suppressed, data-derived text escaped, no officer names or ids).

The same report can be described in a TOML file and loaded with `load_report_config`. From Python:

* `sample_config()` is the configuration of the bundled synthetic samples (`reports/sample.toml`);
* `build_report(cfg)` computes everything and returns an object you can inspect and display;
* `run_report(cfg, out=..., formats=("html",))` writes the files.
"""),
    ("code", SETUP),
    ("code", r"""
from equity_metrics.report import build_report, run_report, sample_config

cfg = sample_config()
for key in ("title", "area", "period", "groups", "reference", "benchmark", "suppress_below", "alpha", "treated_from"):
    print(f"{key:>15}: {getattr(cfg, key)}")
"""),
    ("md", r"""
## Build the report and read its summary

The summary is plain text: the numbers a reader will see, with their intervals and flags.
"""),
    ("code", r"""
rep = build_report(cfg)
print(rep.summary())
"""),
    ("md", r"""
## The report itself

Displaying the object renders the report's HTML in the notebook.
"""),
    ("code", r"""
rep
"""),
    ("md", r"""
## Write the files

`run_report` writes the report (HTML here; add `"pdf"` to `formats` when WeasyPrint is installed)
and returns the paths written. We write to a temporary folder and check two promises of the report:
officer ids never appear in it, and it runs no scripts.
"""),
    ("code", r"""
import re
import tempfile

with tempfile.TemporaryDirectory() as tmp:
    written = run_report(cfg, out=tmp, formats=("html",))
    paths = [Path(p) for p in written.paths]
    names = sorted(str(p.relative_to(tmp)) if p.is_relative_to(tmp) else p.name for p in paths)
    html_files = [p for p in paths if p.suffix == ".html"]
    html = "\n".join(p.read_text(encoding="utf-8") for p in html_files)
officer_ids = re.findall(r"\b[NSEWH]\d{4}\b", html)  # synthetic officer ids look like N0001
print("files written:", names)
print(f"HTML: {len(html_files)} file(s); officer ids found: {len(officer_ids)}; <script> tags: {html.lower().count('<script')}")
"""),
    ("code", r"""
# a machine-readable summary (tests/test_notebooks.py reads this line)
print("CHECKS " + json.dumps({"html_files": len(html_files), "officer_ids": len(officer_ids),
                              "scripts": html.lower().count("<script")}, sort_keys=True))
"""),
    ("md", r"""
## Your own force

Describe your own files (police.uk downloads, a population table, and optionally a training roster
and officer-level events with their mapping files) in a TOML file with the same settings as
`sample_config()` shows, load it with `equity_metrics.report.load_report_config`, and pass it to
`run_report`. Every number in the report can be reproduced with the functions shown in notebooks
01-03.
"""),
]


CONTENT: dict[str, list[tuple[str, str]]] = {
    "01_analyst_quickstart": NB1,
    "02_real_44_forces": NB2,
    "03_training_impact": NB3,
    "04_command_report": NB4,
}


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook from ``(kind, source)`` pairs; kind is ``"md"``, ``"code"`` or ``"params"``."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    stem = name.split("_")[0]
    for i, (kind, src) in enumerate(cells):
        src = src.strip("\n")
        if kind == "md":
            cell = new_markdown_cell(src)
        else:
            cell = new_code_cell(src)
            cell.execution_count = None
            cell.outputs = []
            if kind == "params":
                cell.metadata["tags"] = ["parameters"]
        cell.id = f"nb{stem}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def main() -> list[Path]:
    NOTEBOOKS.mkdir(exist_ok=True)
    written = []
    for name, cells in CONTENT.items():
        path = NOTEBOOKS / f"{name}.ipynb"
        nbformat.write(build(name, cells), path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main():
        print(p.relative_to(ROOT))
