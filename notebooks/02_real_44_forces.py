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
# # 02 Disproportionality in stop and search across the 44 forces, 2019-2021
#
# Real data: the police.uk monthly stop-and-search files for all 43 territorial forces of England and
# Wales plus British Transport Police, January 2019 to November 2021 (1,034,848 rows), with 2011
# census residents by force area as denominators (the benchmark the Home Office used until 2023).
# The data live beside the project in `../shared/data` and are read in place; this notebook stops
# with a message if they are absent.
#
# Contents:
#
# 1. read the archive once and check coverage (missing force-months are common);
# 2. searches per 1,000 and Black/White ratios by force and financial year, with intervals and flags;
# 3. a league table (complete years, rankable forces only) and a forest plot for the year ending March 2021;
# 4. what searches led to, by force: find, arrest and any-outcome rates on one find definition;
# 5. a national figure pooled across forces;
# 6. a comparison with the rates gov.uk published for earlier years;
# 7. police.uk-derived counts beside the Home Office's published counts for 2020/21;
# 8. caveats.
#
# *Contains public sector information licensed under the Open Government Licence v3.0.*

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

# %%
ARCHIVE = SHARED / "policeuk" / "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"
POPULATION = SHARED / "population" / "census2011_pfa_ethnic_group_18.csv"
GOVUK = SHARED / "govuk" / "ethnicity_facts_stop_and_search_2006-07_2017-18.csv"
HOME_OFFICE = sorted((SHARED / "homeoffice").glob("ho_opendata_*.csv"))
missing = [p.name for p in (ARCHIVE, POPULATION, GOVUK) if not p.exists()] + ([] if HOME_OFFICE else ["homeoffice/ho_opendata_*.csv"])
if missing:
    raise FileNotFoundError(f"this notebook needs the real data in ../shared/data (beside the project root); missing: {missing}")
print("inputs found:", ARCHIVE.name, POPULATION.name, GOVUK.name, *[p.name for p in HOME_OFFICE], sep="\n  ")

# %% [markdown]
# ## 1. Read the archive (once) and check coverage
#
# `em.read_policeuk` reads the `.tar.gz` directly. `expected_months` declares the window, so every
# force-month without a file is listed as **missing**: it is unknown, not zero.

# %%
stops = em.read_policeuk(ARCHIVE, expected_months="2019-01..2021-11")
show(stops.ledger.summary())

# %%
gaps = pd.DataFrame(stops.ledger.months_missing, columns=["force", "month"])
coverage = (gaps.groupby("force")["month"].agg(months_missing="size", first="min", last="max")
            .sort_values("months_missing", ascending=False))
coverage

# %% [markdown]
# Greater Manchester (only 2019-01..06 published) and the Metropolitan Police (only 2019-01/02 and
# 2021-06..10) are mostly missing: together they account for a large share of all searches of Black
# people in England and Wales, so **national totals from this archive are not national totals**.
#
# ## 2. Population denominators: 2011 census by police force area

# %%
pop = em.read_population(POPULATION, vintage="census2011")
show(pop.ledger.summary())

# %% [markdown]
# ## 3. Rates and ratios by force and financial year
#
# `period="FY"` gives years ending in March, as the Home Office publishes. The archive covers
# 2019-01..2021-11, so **2018/19 (three months) and 2021/22 (at most eight months) are partial years**
# for every force: their rates per 1,000 are not annual. 2019/20 and 2020/21 are the full years, but
# not for every force: Greater Manchester has three months of 2019/20 and Gwent eleven (2019-08 is
# missing). The tidy table says so on every row (`months_covered` of `months_in_period`,
# `partial_period`), and `rankable` is False for any row that must not be put in a league table: a
# partial period, an implausible benchmark, ethnicity mostly not stated, or no ratio. Flags:
#
# * `small_count`: fewer than 20 searches (ONS: rate unreliable);
# * `incomplete_coverage`: the force-year has missing months (rates too low; ratios usually fine,
#   since both groups lose the same months);
# * `no_population`: British Transport Police polices the railways and has no residential population;
# * `rate_above_1000_benchmark_implausible`: City of London has about 7,400 residents and large
#   numbers of commuters and visitors: a residential benchmark is meaningless there.

# %%
fy = em.disparity(stops, pop, by="force", period="FY", reference="White")
table = fy.tidy()
print(f"{len(table):,} rows: {table['force'].nunique()} forces x {table['period'].nunique()} years x {table['group'].nunique()} groups")
for n in fy.notes:
    print("note:", n)

# %%
black = table[table["group"] == "Black"].copy()
print(black.groupby("period")[["partial_period", "rankable"]].sum().astype(int)
      .join(black.groupby("period").size().rename("forces")))
print("partial force-years within the full years:")
print(black.loc[black["partial_period"] & black["period"].isin(["2019/20", "2020/21"]),
                ["force", "period", "months_covered", "months_in_period"]].to_string(index=False))
flag_counts = (black.assign(flag=black["flags"].str.split(";")).explode("flag")
               .query("flag != ''").groupby(["period", "flag"]).size().unstack(fill_value=0))
flag_counts

# %% [markdown]
# ### League table, year ending March 2021
#
# Black/White ratio of search rates per 1,000 residents, with 95% intervals, for the forces whose
# 2020/21 row is `rankable` (`rank_areas` keeps only those: a complete year, a plausible benchmark,
# ethnicity mostly stated). `ratio_bound_low` and `ratio_bound_high` show how far the ratio could move
# if every search with ethnicity not stated had been of a White or of a Black person. The forces left
# out are listed below the table with the reason: City of London (about 7,400 residents: searches per
# 1,000 residents are not a meaningful rate there), North Yorkshire (self-defined ethnicity mostly
# not stated), British Transport Police (no residential population). The Metropolitan Police and
# Greater Manchester published no data for this year, so they have no row at all (absent, not zero).

# %%
YEAR = "2020/21"
from equity_metrics.measures.disparity import rank_areas

league = (rank_areas(table[table["period"] == YEAR], group="Black")
          [["rank", "force", "events", "rate_per_1000", "reference_events", "ratio", "ci_low", "ci_high",
            "not_stated_share", "ratio_bound_low", "ratio_bound_high", "flags"]].set_index("rank"))
league.round(2)

# %%
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

# %% [markdown]
# ## 4. What searches led to, by force (2020/21)
#
# police.uk's `Outcome linked to object of search` field is **not** a find on its own: West Yorkshire,
# Warwickshire, Derbyshire and others set it True on most searches that ended in *no further action*,
# so counting it alone gives West Yorkshire a "find rate" of about 79%. Other forces (Merseyside,
# Lancashire, Humberside, Gwent, the Metropolitan Police) leave it blank on most rows. `equity_metrics`
# counts a **find** as the Home Office and HMICFRS do: an outcome *other than no further action* that is
# *linked to the object of search* (the canonical `hit` column; the raw field is `outcome_linked`).
#
# Below, for every force and FY 2020/21, over all searches of people: the find rate, the arrest rate,
# the share with any outcome other than no further action, and the force's **linked-field coverage**
# (the share of its searches with an outcome other than no further action that say whether it was
# linked). Under 90% coverage the force gets **no find rate** ("not recorded", flag `find_not_recorded`):
# with most of the linked field blank, any figure would be a guess. Arrest and any-outcome rates need
# only the `Outcome` field, which every force fills. The last column is the raw linked field's share
# of True, shown only to make the point: it is not a find rate.

# %%
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

# %% [markdown]
# West Yorkshire's find rate is about 18%, not the 79% the raw linked field suggests: most of its
# "linked" searches ended in no further action. Merseyside fills the linked field for about 5% of its
# searches with an outcome other than no further action, so it has no find rate at all (the few rows it
# fills say nothing about the rest), while its arrest and any-outcome rates are fine. Compare groups within a force on the find rate only where it is recorded; the any-outcome
# rate is the measure every force supports.

# %% [markdown]
# ## 5. One national figure
#
# Adding up all forces' searches and residents gives a **crude** national ratio, but it is confounded
# by where people live: Black residents are concentrated in forces with different search rates.
# The Mantel-Haenszel ratio pools the within-force comparisons instead. Cochran's Q and I^2 say
# whether one pooled number is a fair summary: with force ratios from about 2 to over 20, it is
# not, and the league table is the real result. City of London is left out (no meaningful
# benchmark); BTP drops out for want of a population.

# %%
year = fy2021[fy2021["force"] != "city-of-london"]
pooled = em.pooled_disparity(year, pop, group="Black")
crude = em.disparity(year, pop, by=None).tidy().set_index("group").loc["Black"]
print(pooled)
print()
print(f"crude national ratio ({YEAR}, forces with data, excluding City of London): {crude['ratio']:.2f} "
      f"(95% CI {crude['ci_low']:.2f} to {crude['ci_high']:.2f})")

# %% [markdown]
# ## 6. Comparison with the rates gov.uk published
#
# The gov.uk *Ethnicity facts and figures* table covers 2006/07 to 2017/18, so it does not overlap
# this archive. Two checks are still possible:
#
# 1. **Denominators**: gov.uk used the same 2011 census populations. For every force and for the
#    Black and White groups, our reading of the census file should match the population gov.uk
#    published for 2017/18.
# 2. **Pattern**: a force's Black/White ratio in 2017/18 (from the published rates) and in 2019/20
#    (from police.uk) should be related, though not equal: practice changed, and police.uk records
#    differ from the Home Office's annual data return.

# %%
gov = em.read_govuk_stop_search(GOVUK)
g = gov.data
g17 = g[(g["period"] == "2017/18") & (g["group_level"] == "broad") & g["group"].isin(["Black", "White"])
        & (g["area_type"] == "force")]
ours = pop.data[pop.data["group"].isin(["Black", "White"])].groupby(["area", "group"])["population"].sum()
den = g17.set_index(["area", "group"])[["population"]].join(ours.rename("census2011_here"), how="inner").dropna()
den["same"] = den["population"] == den["census2011_here"]
print(f"denominators compared: {len(den)} force x group cells; identical: {int(den['same'].sum())}")
den[~den["same"]]

# %%
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

# %%
ew = g[(g["area"] == "england-and-wales") & (g["period"] == "2017/18") & (g["group_level"] == "broad")].set_index("group")
print(f"England and Wales 2017/18 (gov.uk): Black {ew.loc['Black', 'published_rate']:.2f} vs White "
      f"{ew.loc['White', 'published_rate']:.2f} per 1,000, ratio {ew.loc['Black', 'published_rate'] / ew.loc['White', 'published_rate']:.1f}")

# %% [markdown]
# ## 7. police.uk counts beside the Home Office's published counts (2020/21)
#
# The Home Office publishes each force's searches by self-defined ethnic group and financial year,
# from the forces' annual data returns (`../shared/data/homeoffice`). police.uk holds the same forces'
# monthly uploads, so the two should nearly agree. `em.compare_published` recounts police.uk the way
# the Home Office table is defined (searches of people, vehicle-only searches left out, self-defined
# ethnicity, British Transport Police left out, financial years by local month) and puts the two side
# by side. A force-year with months missing in police.uk is **partial**: a lower count is expected
# there, not a discrepancy. On a complete year, a difference above 5% (and at least 10 searches) is a
# **large gap** (`docs/real-data-rules.md`, "Home Office published counts").

# %%
published = em.read_homeoffice_stop_search(HOME_OFFICE)
cmp = em.compare_published(stops, published)
t = cmp.tidy()
wy = t[(t["force"] == "west-yorkshire") & (t["period"] == "2020/21")]
wy[["group", "police_uk", "home_office", "difference", "relative_difference", "months_covered", "status"]].round(3)

# %%
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

# %%
ax = cmp.plot(period="2020/21")

# %% [markdown]
# Most forces agree with the Home Office within a few percent (West Yorkshire's White searches:
# 10,462 in police.uk against 10,433 published). Some do not, on a year police.uk covers in full:
# Essex, Suffolk, Norfolk, Leicestershire and Gloucestershire have 20-25% **fewer** searches in police.uk
# than they returned to the Home Office (Essex's monthly police.uk counts halve from August 2020), and
# Gwent and Thames Valley about 20% **more**. These are differences between the two publications, not
# rounding: figures from police.uk for those forces should be read with that in mind, and official
# comparisons should use the Home Office figures. The Metropolitan Police and Greater Manchester have
# no police.uk month in 2020/21, and 2021/22 is partial for every force (the archive ends in November
# 2021).
#
# The national share of searches ending in no further action can be checked too (police.uk pools the
# forces with data, without most of London and Manchester, so it is not the same population):

# %%
cmp.national().round(1)

# %% [markdown]
# ## 8. Caveats
#
# * **Benchmark.** Residents are not the population available to be searched (commuters, visitors,
#   night-time economy, people on the street). A residential ratio measures disparity relative to
#   residents, not bias. 2011 census denominators are dated: by 2019-2021 minority populations had
#   grown in most areas, which inflates these ratios somewhat.
# * **Coverage.** Missing force-months (Metropolitan, Greater Manchester, West Midlands) are
#   missing, not zero. National totals from this archive exclude most of London and Manchester.
# * **Ethnicity.** Self-defined ethnicity is used; where it is not stated (up to 95% in North
#   Yorkshire in some years) the ratio bounds are wide and the ratio should not be reported.
# * **Records.** police.uk data are force uploads with coarsened times and places; exact duplicate
#   rows are kept (mostly distinct searches of people together). Figures do not equal the Home
#   Office's annual statistics: most forces are within a few percent, some differ by 20-25% (section 7).
# * **Finds.** The raw linked field is not a find; forces that do not fill it get no find rate.
# * **Partial years.** 2018/19 and 2021/22 are partial: compare their ratios, not their rates.

# %%
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
