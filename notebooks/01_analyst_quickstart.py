# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 Analyst quick start: disproportionality on the bundled samples
#
# This notebook walks through a complete stop-and-search analysis with `equity_metrics` on
# the **synthetic sample set** bundled with the source checkout (`data/samples`). It needs no
# real data. Because the samples were simulated with a known, *planted* truth
# (`docs/synthetic-data.md`), the last section checks every headline number against it.
#
# Steps:
#
# 1. read the police.uk files and check the **ledger** (what was read, kept, rejected; which months are missing);
# 2. read the population denominators;
# 3. rates per 1,000 and **ratios to White** with 95% intervals, by force and by financial year;
# 4. **age x sex standardised** ratios, and a pooled (Mantel-Haenszel) ratio over forces;
# 5. find, arrest and any-outcome rates, the **outcome (find-rate) test** and the **relative rate index** across stages;
# 6. a check against the planted truth.
#
# Everything in the samples is made up: the forces (`northshire`, `southvale`, `eastmoor`),
# people and officers.

# %%
# %matplotlib inline
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

# %% [markdown]
# ## 1. Read the police.uk files
#
# `em.read_policeuk` reads a folder laid out as the police.uk bulk download
# (`YYYY-MM/YYYY-MM-<force>-stop-and-search.csv`), a list of files, or an archive. It converts the
# UTC `Date` to the local (Europe/London) month, harmonises ethnicity to the five broad census groups
# (self-defined by default), and never drops a row silently: every row is either kept or in
# `res.rejects`, and the **ledger** says what happened.
#
# `expected_months` tells the reader which months *should* be there, so that a force-month with no
# file is reported as **missing** (unknown) rather than silently treated as zero searches.

# %%
SAMPLES = em.datasets.sample_path()  # data/samples of the checkout (or $EQUITY_METRICS_SAMPLES)
stops = em.read_policeuk(SAMPLES / "policeuk", expected_months="2019-01..2021-12")
print(f"{len(stops.data):,} rows, {stops.data['force'].nunique()} forces, "
      f"{stops.data['month'].min()} .. {stops.data['month'].max()}")
stops.data[["force", "month", "search_type", "ethnicity", "ethnicity_raw", "sex", "age_band",
            "legal_power", "hit", "arrest", "duplicate"]].head()

# %%
show(stops.ledger.summary())

# %% [markdown]
# How to read the ledger:
#
# * **rows read = rows kept + rows rejected**: nothing disappears. Exact duplicate rows are *kept* and
#   flagged (`duplicate`): in police.uk data they are mostly separate people searched together, because
#   times and places are coarsened.
# * **missing (blank) by field**: e.g. self-defined ethnicity is blank for a few percent of rows; those
#   rows are excluded from rates (as in official statistics) and bounded below.
# * **area-months with no file**: `southvale` has no file for 2020-10, and `eastmoor`'s files stop after
#   2021-09 (2021-10..12 have no file). Those months are *missing, not zero*. By contrast `eastmoor`
#   2020-03 is a header-only file: a genuine month with zero searches.

# %%
print("rejected rows:", len(stops.rejects))
print("missing force-months:", stops.ledger.months_missing)
eastmoor_march = stops.data[(stops.data["force"] == "eastmoor") & (stops.data["month"] == pd.Period("2020-03", "M"))]
print("eastmoor 2020-03 rows (header-only file, a true zero):", len(eastmoor_march))
print("searches by force (rows):")
print(stops.data.groupby("force").size().to_string())

# %% [markdown]
# ## 2. Population denominators
#
# Rates need a denominator. Here it is the residential population of each (synthetic) force area by
# ethnic group, sex and age band. `em.read_population` reads census-style tables; it notes that the
# synthetic area names are not among the 44 police.uk forces (expected).

# %%
pop = em.read_population(SAMPLES / "population.csv", vintage="synthetic", area_type="force")
show(pop.ledger.summary())
pop.data.pivot_table(index="area", columns="group", values="population", aggfunc="sum").astype(int)

# %% [markdown]
# ## 3. Rates per 1,000 and ratios to White
#
# `em.disparity` counts searches of **people** (vehicle-only searches are excluded, as the Home Office
# does), divides by the population and compares each group's rate with the White rate. Each ratio has
# a 95% interval (Katz log interval by default); each rate an exact Poisson interval. Two extra columns
# bound the ratio under the extreme assumptions that every not-stated search was of the group or of the
# reference group. Rates on fewer than 20 searches are flagged `small_count`.

# %%
d = em.disparity(stops, pop, by="force")
d

# %%
ax = d.plot()
ax.set_title("Search rate ratio vs White, 2019-2021 (synthetic samples)");

# %% [markdown]
# ### By financial year
#
# `period="FY"` gives years ending in March, as the Home Office publishes. The sample window is
# January 2019 to December 2021, so the first and last years are **partial** (2018/19 holds three
# months; 2021/22 nine, and only six for `eastmoor`, whose last three months are missing): their
# *rates* per 1,000 are not annual and must not be compared with full years. `southvale` 2020/21
# contains its missing month. The tidy table says so for every row: `months_covered` of
# `months_in_period`, `partial_period`, flag `incomplete_coverage`, and `rankable` False (never put a
# partial year in a league table; `em.measures.complete_periods` keeps the complete ones).

# %%
fy = em.disparity(stops, pop, by="force", period="FY").tidy()
black_fy = fy[fy["group"] == "Black"]
black_fy.pivot_table(index="force", columns="period", values="ratio").round(2)

# %%
black_fy.loc[black_fy["partial_period"], ["force", "period", "months_covered", "months_in_period", "events", "ratio",
                                          "flags", "rankable"]].round(2)

# %% [markdown]
# Small counts: `em.flag_small_counts` applies the ONS convention (suppress rates on fewer than 3
# events, mark those on fewer than 20 as low reliability) to any count column, for tables meant for
# publication.

# %%
flags = em.flag_small_counts(black_fy.set_index(["force", "period"])["events"])
flags[flags["flag"] != ""]

# %% [markdown]
# ## 4. Age and sex standardisation
#
# The minority groups in the samples are **younger** than the White group, and young people are
# searched more. So the *crude* ratio mixes a genuine difference in treatment with a difference in age
# structure. `em.standardised_disparity` computes directly standardised rates (strata: sex x age band;
# standard: the area's total population) and their ratio, with Fay-Feuer (gamma) intervals.

# %%
s = em.standardised_disparity(stops, pop, by="force")
print(s)

# %%
ax = s.plot()
ax.set_title("Age x sex standardised ratio vs White");

# %% [markdown]
# Standardisation moves the Black/White ratio from about 3.8 (crude) to about 3.1. The planted
# age- and sex-specific ratio is exactly 3.0.
#
# ### One figure across forces
#
# A single figure for several forces should not simply add up their counts (that mixes forces with
# different search rates and populations). `em.pooled_disparity` gives the Mantel-Haenszel rate ratio
# across forces, with Cochran's Q and I^2 saying whether one pooled figure is a fair summary.

# %%
pooled = em.pooled_disparity(stops, pop, group="Black")
print(pooled)

# %% [markdown]
# ## 5. Outcomes: what searches led to, and the outcome test
#
# police.uk gives two fields about what a search led to: `Outcome` (no further action, arrest,
# community resolution, ...) and `Outcome linked to object of search` (kept raw as `outcome_linked`).
# The linked field alone is **not** a find: some forces set it to True on most searches that ended in
# no further action. `equity_metrics` uses one definition everywhere, the Home Office's: a **find** is an
# outcome *other than no further action* that the officer recorded as *linked to what was searched
# for* (the canonical `hit` column). `o.rates()` gives three measures side by side, each with a Wilson
# 95% interval:
#
# * **find rate**: outcome other than no further action, recorded as linked to the object of search;
# * **arrest rate**: searches ending in arrest;
# * **any outcome**: any outcome other than no further action (arrest, summons, caution, community
#   resolution, ...), which every force records.
#
# A find rate means something only where the force fills the linked field: `find_coverage` gives, per
# force, the share of searches with an outcome other than no further action whose linked field is
# filled. Below 90% the force gets **no find rate** (flag `find_not_recorded`): in the samples
# `southvale` fills it for about a third of them.
#
# If searches of one group end in a find (an outcome linked to what was searched for) *less often*, officers may be searching that
# group on weaker grounds (the **outcome test**; infra-marginality means a difference is a warning
# sign, not proof). Searches under powers that need no suspicion (s60, terrorism) are excluded. The
# pooled model is a logistic regression with force effects.

# %%
em.measures.find_coverage(stops, by="force").round(3)

# %%
o = em.outcome_test(stops, by="force")
wide = o.rates().pivot(index=["force", "group"], columns="measure", values="rate")[["find", "arrest", "any_outcome"]]
wide.map(lambda v: "not recorded" if pd.isna(v) else f"{v:.3f}")

# %%
print(o)

# %%
ax = o.plot()
ax.set_title("Find rate: outcome other than no further action, linked to what was searched for");

# %% [markdown]
# The **relative rate index** (RRI) compares groups at each stage relative to the previous one:
# population -> search -> find (`hit`) -> arrest. An RRI above 1 at the search stage and below 1 at the
# find stage is the pattern of the outcome test. The find stage (and the arrest stage after it) is not
# shown for `southvale`, which does not record the linked field (`find_not_recorded`); a pooled figure
# over all three forces would have the same problem, so the plot pools the two forces that record it.

# %%
rri = em.stage_rri(stops, stages=["search", "hit", "arrest"], population=pop, by="force")
t = rri.tidy()
t[t["group"] == "Black"][["force", "stage", "previous_stage", "count", "denominator", "rate", "rri", "ci_low", "ci_high", "flags"]].round(3)

# %%
# the plot pools the forces that record finds: one row per stage and group
recorded = em.measures.find_coverage(stops, by="force").query("find_recorded")["force"].tolist()
print("forces pooled:", recorded)
ax = em.stage_rri(stops.data[stops.data["force"].isin(recorded)], stages=["search", "hit", "arrest"], population=pop).plot()

# %% [markdown]
# ## 6. Check against the planted truth
#
# The samples were simulated with (`docs/synthetic-data.md`):
#
# * a Black/White **age- and sex-specific** search rate ratio of **3.0** in every force (so the
#   standardised ratio is 3.0), which implies a **crude** ratio of about **3.706** in each force;
# * Home Office **find rates** (outcome other than no further action, linked to the object of search)
#   **White 0.30, Black 0.22**, with the matching arrest and any-outcome rates (`truth.find_rate`,
#   `truth.arrest_rate`, `truth.any_outcome_rate`);
# * missing force-months: southvale 2020-10 and eastmoor 2021-10..12.
#
# Every 95% interval below should cover its planted value (by chance, about one in twenty intervals
# will not).

# %%
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

# %%
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

# %% [markdown]
# ## Where next
#
# * `02_real_44_forces.ipynb`: the same analysis on the real police.uk archive (44 forces, 2019-2021).
# * `03_training_impact.ipynb`: did officer training change use of force?
# * `04_command_report.ipynb`: the command report built from these measures.
#
# The measures used here are documented in their docstrings (`help(em.disparity)` etc.).
