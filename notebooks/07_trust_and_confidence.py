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
# # 07 Trust and confidence: the gap by ethnicity, and whether neighbourhood policing moved it
#
# Training in procedural justice, community policing and de-escalation is meant to move community
# trust as well as stops, force and complaints. This notebook reads two real survey series and
# asks three questions:
#
# 1. **Chicago** (Police Sentiment Scores, 22 districts x 64 months, 2017-11..2023-02): how large is
#    the gap in trust between Black and White residents, and has it changed?
# 2. Did the **Neighborhood Policing Initiative** (NPI), rolled out district by district, change
#    trust or the gap? (A staggered difference-in-differences on the district panel.)
# 3. **London** (MOPAC Public Attitude Survey borough dashboard): what the published series can and
#    cannot say (rolling 12-month windows, no ethnicity breakdown).
#
# A last part checks the method on generated panels with a planted effect on the gap.
#
# The data live beside the project in `../shared/data/trust` and are read in place.
# Chicago: City of Chicago Data Portal `28me-84fj` (terms of use of the portal); London: London
# Datastore (Open Government Licence v3.0).

# %%
# %matplotlib inline
import json
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import equity_metrics as em

matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.max_open_warning": 0})
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 30)


def find_root(start: Path = Path.cwd()) -> Path:
    # the project root: the first folder upwards holding pyproject.toml and src/equity_metrics
    for p in [start, *start.parents]:
        if (p / "pyproject.toml").is_file() and (p / "src" / "equity_metrics").is_dir():
            return p
    return start


ROOT = find_root()
SHARED = ROOT.parent / "shared" / "data"


def show(text) -> None:
    # print text with the machine-specific folders replaced by short names
    print(str(text).replace(str(SHARED), "../shared/data").replace(str(ROOT), "<project>"))


CHICAGO = SHARED / "trust" / "chicago_police_sentiment_scores.csv"
LONDON = SHARED / "trust" / "london_pas_borough_dashboard.csv"
missing = [p.name for p in (CHICAGO, LONDON) if not p.exists()]
if missing:
    raise FileNotFoundError(f"this notebook needs the real data in ../shared/data/trust; missing: {missing}")
print("equity_metrics", em.__version__)

# %% [markdown]
# ## 1. Chicago: read the scores, account for every row
#
# The file is unsorted, has 70 exact duplicate rows and one city-week published twice with
# different values. The reader keeps one copy of each duplicate, rejects both conflicting rows
# (neither can be preferred), and lists every rejected row with its line and reason.
# Scores are 0-100 (the mean of 0-10 answers x 10): they are **not percentages**.

# %%
chi = em.read_chicago_sentiment(CHICAGO)
show(chi.ledger.summary())
print(chi.rejects.by_reason().rename(lambda s: s[:90]))

# %% [markdown]
# ## 2. The Black-White gap in trust, by year
#
# The publisher gives no sample sizes or standard errors (the scores are weighted, model-smoothed
# estimates), so an interval cannot come from the survey's own sampling error. The interval here
# comes from the **design**: the gap is computed in each of the 22 districts and the interval
# describes how much it varies between districts (a t interval over districts). 2017 and 2023 are
# partial years (2 months each).

# %%
gap_year = em.trust_gap(chi, group="Black", reference="White", area_type="district", by="year")
print(gap_year)
gap_year.tidy()[["period", "gap", "ci_low", "ci_high", "n_areas", "value_group", "value_reference"]].round(2)

# %%
gap_month = em.trust_gap(chi, group="Black", reference="White", area_type="district")
ax = gap_month.plot(title="Chicago: trust, Black minus White residents (district average, 0-100 scale)")
plt.show()

# %% [markdown]
# The city-wide published scores give the same picture (README of the data: Black 53.2 -> 54.8,
# White 66.7 -> 62.2 between November 2017 and February 2023): the gap narrowed mostly because
# White residents' trust fell.

# %%
city = chi.data[(chi.data.area_type == "city") & (chi.data.period_type == "month") & (chi.data.measure == "trust")
                & chi.data.group.isin(["Black", "White", "Hispanic", "Asian"])]
city_first_last = city[city.period.isin(["2017-11", "2023-02"])].pivot(index="group", columns="period", values="value")
city_first_last

# %% [markdown]
# ## 3. Did the Neighborhood Policing Initiative change trust?
#
# **The dates below are the analyst's responsibility.** They come from public announcements:
#
# | District | Start used | Source |
# |---|---|---|
# | 25 (Grand Central) | 2019-01 | City of Chicago press release, 20 August 2020 ("first piloted in the 25th District in January 2019") |
# | 9, 10, 11 | 2020-10 | same release: District Coordination Officers "to begin working this fall" (2020) |
# | 3, 6, 7 | 2021-06 | Chicago Sun-Times, 7 May 2021: expansion to Grand Crossing, Englewood and Gresham announced (training then under way) |
# | 15, 4, 5 | unknown | named as NPI districts by May 2021 without a start date we could source: **left out** (neither programme nor comparison) |
#
# Districts not listed are treated as not in the programme during the data. The estimator is
# Callaway & Sant'Anna with not-yet-treated comparison districts. With 19 districts and cohorts of
# one to three, clustered standard errors are too small (on generated panels like these, analytic
# 95% intervals covered the truth only ~80% of the time), so the interval and p-value come from
# **randomisation inference**: the start dates are reassigned among the districts at random.

# %%
npi = pd.DataFrame({
    "area": ["25", "9", "10", "11", "3", "6", "7", "15", "4", "5"],
    "start": ["2019-01-01", "2020-10-01", "2020-10-01", "2020-10-01", "2021-06-01", "2021-06-01", "2021-06-01",
              None, None, None],
    "in_programme": [True] * 10,
})
impact_gap = em.trust_impact(chi, npi, outcome="gap", group="Black", reference="White", n_perm=999, seed=1)
print(impact_gap)

# %%
impact_black = em.trust_impact(chi, npi, outcome="level", group="Black", n_perm=999, seed=2)
print(impact_black)

# %%
ax = impact_gap.plot(title="NPI and the Black-White trust gap (event study, analytic intervals)")
plt.show()

# %% [markdown]
# **Reading it.** The verdict says whether the change is statistically clear and, when it is not,
# the smallest effect this design could have detected. What the design cannot rule out: districts
# were chosen for NPI, not at random; other changes in 2020-2021 (the pandemic, protests after
# George Floyd's murder, a new superintendent) hit districts differently; the scores are
# model-smoothed, so an effect would appear gradually.
#
# A simple before/after comparison of the gap around the pilot's start in district 25, against the
# districts never in the programme, with a bootstrap over districts:

# %%
never = [a for a in chi.data.loc[chi.data.area_type == "district", "area"].unique() if a not in set(npi.area)]
pilot = em.gap_change(chi, date="2019-01-01", months=12, areas=["25"], comparison=sorted(never, key=int),
                      n_boot=1999, seed=3)
print(pilot)

# %% [markdown]
# ## 4. London: confidence in the Met by borough
#
# The dashboard has decimal commas, Richmond spelled two ways and a stray note in its trailing
# columns (kept in the ledger). Each figure is a rolling 12-month value: neighbouring quarters share
# three-quarters of their fieldwork, so compare quarters a year apart. There is no ethnicity
# breakdown and no sample size, so this series cannot show a gap between groups.

# %%
lon = em.read_london_pas(LONDON)
show(lon.ledger.summary())

# %%
met = lon.data[(lon.data.area == "london")].pivot(index="period", columns="measure", values="value")
met = met[[c for c in ("trust_mps", "good_job_local", "treat_fairly") if c in met.columns]]
met.iloc[::4].round(2)

# %%
# year-apart comparison by borough, bootstrap over boroughs (whole boroughs resampled)
lon_change = em.gap_change(lon, date="2020-01-01", months=24, measure="trust_mps", group="All", reference=None,
                           area_type="borough", period_type=None, n_boot=1999, seed=4)
print(lon_change)

# %% [markdown]
# ## 5. Does the method find a planted effect?
#
# Generated district panels shaped like Chicago's (22 districts, 64 months, shared city-wide shocks,
# serially correlated smoothed scores), with the Black group's trust raised by 4 points from each
# treated district's start: the gap narrows by 4.

# %%
planted = em.datasets.make_trust_panel(n_treated=7, effect=4.0, seed=21)
check = em.trust_impact(planted.survey, planted.rollout, n_perm=499, seed=5)
print(check)
print("planted effect 4.0 inside the interval:", check.overall["ci_low"] <= 4.0 <= check.overall["ci_high"])

# %% [markdown]
# ## Caveats
#
# * **No sampling error published.** Intervals show variation between districts or over time, not
#   the survey's own error. A force with respondent-level data should use `em.survey_estimates`
#   (weights, PSUs, strata) and get proper intervals by ethnicity.
# * **Model-smoothed, rolling scores.** Neighbouring months (Chicago) and quarters (London) are not
#   independent; effects appear gradually.
# * **Dates.** Programme dates here are from public announcements and are the analyst's
#   responsibility; districts with unknown dates are left out.
# * **Selection.** NPI districts were chosen, not randomised: the pre-trend check can only detect
#   differences that show before the start.

# %%
t = gap_year.tidy().set_index("period")
summary = {
    "chicago_rows_read": chi.ledger.rows_read, "chicago_rows_rejected": chi.ledger.rows_rejected,
    "gap_2018": round(float(t.loc["2018", "gap"]), 2), "gap_2022": round(float(t.loc["2022", "gap"]), 2),
    "npi_gap_estimate": round(impact_gap.overall["estimate"], 2),
    "npi_gap_ci": [round(impact_gap.overall["ci_low"], 2), round(impact_gap.overall["ci_high"], 2)],
    "npi_verdict": impact_gap.verdict, "npi_treated": impact_gap.n_treated, "npi_comparison": impact_gap.n_comparison,
    "npi_excluded": impact_gap.excluded,
    "london_rows_read": lon.ledger.rows_read, "london_boroughs": int((lon.data.area_type == "borough").groupby(lon.data.area).any().sum()),
    "planted_covered": bool(check.overall["ci_low"] <= 4.0 <= check.overall["ci_high"]),
}
print("CHECKS " + json.dumps(summary, sort_keys=True))
