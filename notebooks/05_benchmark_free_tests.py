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
# # 05 Tests that need no population benchmark
#
# Rates per 1,000 residents depend on who is counted as "at risk", and a residential population is
# a poor stand-in for the people police actually encounter (City of London's Black search rate
# exceeds 900 per 1,000 residents). The Stanford Open Policing Project (OPP) answers with tests that
# compare searches with other searches, not with a population:
#
# 1. **Veil of darkness** (Grogger & Ridgeway 2006; OPP, Pierson et al. 2020): at the same clock
#    time, is the share of Black people among those searched lower after dark, when ethnicity is
#    harder to see, than in daylight? Part A below: first on synthetic searches with a planted
#    effect, then on the police.uk archive for the 44 forces of England and Wales.
# 2. **Threshold test** (Simoiu, Corbett-Davies & Goel 2017): part B.
#
# *Contains public sector information licensed under the Open Government Licence v3.0.*

# %%
# %matplotlib inline
import json
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

import equity_metrics as em
from equity_metrics.datasets.veil import veil_stops

matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.max_open_warning": 0})
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 30)
pd.set_option("display.max_rows", 60)


def find_root(start: Path = Path.cwd()) -> Path:
    # the project root: the first folder upwards holding pyproject.toml and src/equity_metrics
    for p in [start, *start.parents]:
        if (p / "pyproject.toml").is_file() and (p / "src" / "equity_metrics").is_dir():
            return p
    return start


ROOT = find_root()
SHARED = ROOT.parent / "shared" / "data"  # real public data, read in place (absent in a fresh clone)
checks = {}  # what the notebook test compares with known truth; each part adds its keys
print("equity_metrics", em.__version__)

# %% tags=["parameters"]
RUN_REAL = True  # part A(c) reads the 14 MB police.uk archive in ../shared/data when it is present

# %% [markdown]
# ## Part A. Veil of darkness
#
# **What the test assumes** (each result also prints these):
#
# - *Visibility*: light or dark at the place and clock time of the search (dark = sun 6 degrees
#   below the horizon, the end of civil twilight) stands for whether the officer could see the
#   person's ethnicity at the moment of the decision. Street lighting and weather are ignored; the
#   minutes between sunset and dusk are dropped as ambiguous.
# - *Same mix at the same clock time*: who is out at 18:30 does not change with daylight itself.
#   A spline in clock time absorbs the daily rhythm; the clock-change design (a few weeks either
#   side of each change to or from British Summer Time) removes most seasonal differences too.
# - *Searches, not stops*: police.uk publishes searches. Many follow calls or intelligence rather
#   than a sighting, which dilutes any darkness effect; a null result is not evidence of no bias.
# - *Recorded times*: police.uk times are coarsened (heaped at :00, :15, :30, :45) and may be the
#   time of recording; date-only records are dropped.
#
# ### (a) Sun times: the suncalc algorithm, as R's `suncalc::getSunlightTimes`
#
# The OPP tutorial prints Philadelphia's sunset and dusk for two dates; `em.sun_times` gives the
# same to the second.

# %%
philly = em.sun_times(["2017-06-26", "2017-12-06"], 39.9525839, -75.1652215, tz="America/New_York")
philly_times = [[str(t.time()) for t in philly[c]] for c in ("sunset", "dusk")]
print(philly[["date", "sunset", "dusk", "sunset_minute", "dusk_minute"]].to_string(index=False))
london = em.sun_times(["2019-03-30", "2019-03-31", "2019-06-21", "2019-12-21"], 51.5074, -0.1278, tz="Europe/London")
print(london[["date", "sunset", "dusk"]].to_string(index=False))
checks.update({"philadelphia_sunset": philly_times[0], "philadelphia_dusk": philly_times[1]})

# %% [markdown]
# ### (b) Synthetic searches with a planted darkness effect
#
# `veil_stops` draws evening searches over two years near Leeds; after dusk the odds that the person
# searched is Black are multiplied by 0.7 (the planted darkness odds ratio), on top of a smooth daily
# rhythm. The test should recover 0.7.

# %%
PLANTED = 0.7
synthetic = veil_stops(20_000, darkness_odds_ratio=PLANTED, seed=2024)
vod_syn = em.veil_of_darkness(synthetic, robustness=True)
print(vod_syn.summary())

# %%
vod_syn.robustness[["subset", "spline_df", "odds_ratio", "ci_low", "ci_high", "n_used"]].round(3)

# %%
vod_syn.plot()
plt.show()

# %% [markdown]
# The same clock-time bins hold light and dark searches (from different dates); the darkness odds
# ratio compares them within a bin, adjusting for clock time with the natural spline.

# %%
clock = em.veil_of_darkness(veil_stops(60_000, darkness_odds_ratio=PLANTED, seed=2025), design="clock_change")
print(clock.summary().split("Assumptions:")[0])
checks.update({
    "synthetic_planted": PLANTED,
    "synthetic_or": round(vod_syn.odds_ratio, 4), "synthetic_ci": [round(vod_syn.ci_low, 4), round(vod_syn.ci_high, 4)],
    "synthetic_robustness_all_below_1": bool((vod_syn.robustness["ci_high"] < 1).all()),
    "clock_change_ci": [round(clock.ci_low, 4), round(clock.ci_high, 4)],
    "synthetic_bookkeeping": vod_syn.n_in == vod_syn.n_used + sum(vod_syn.dropped.values()),
})

# %% [markdown]
# ### (c) The 44 forces of England and Wales, 2019-01 to 2021-11 (police.uk)
#
# Each force gets its own inter-twilight window, spline and fit (as OPP runs each city). Location:
# each search's own (snapped) coordinates where police.uk gives them, else the median of the force's
# own coordinates; South Yorkshire publishes none, so its searches are placed at a stated reference
# point (Sheffield city centre). A force is tested only if most of its records carry a time of day
# and at least 50 Black searches fall in its window.

# %%
ARCHIVE = SHARED / "policeuk" / "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"
real_ok = RUN_REAL and ARCHIVE.is_file()
if not RUN_REAL:
    print("part A(c): skipped: RUN_REAL = False was set")
elif not ARCHIVE.is_file():
    print("part A(c): skipped: the police.uk archive is not in ../shared/data/policeuk (a fresh clone has no ../shared)")
else:
    print("part A(c): running on", ARCHIVE.name)
    events = em.read_policeuk(ARCHIVE).data
    by_force = em.veil_of_darkness_by_area(events, area="force")
    print(by_force.summary().split("Assumptions:")[0])

# %%
if real_ok:
    cols = ["area", "odds_ratio", "ci_low", "ci_high", "n_light", "n_dark", "n_minority", "share_time_known",
            "applicable", "reason"]
    display_table = by_force.tidy()[cols].round({"odds_ratio": 3, "ci_low": 3, "ci_high": 3, "share_time_known": 3})
    print(display_table.to_string(index=False))

# %%
if real_ok:
    by_force.plot()
    plt.show()

# %% [markdown]
# Where each force's searches were placed (record coordinates, the force's own median, or the
# stated reference point):

# %%
if real_ok:
    print(by_force.tidy()[["area", "location"]].to_string(index=False))

# %% [markdown]
# **Pooled across forces.** The clock-change design uses only the three weeks either side of each
# change to or from British Summer Time (with force and change-window fixed effects), where the
# same clock time is light on one side of the change and dark on the other.

# %%
if real_ok:
    pooled_dst = em.veil_of_darkness(events, area="force", design="clock_change")
    print(pooled_dst.summary().split("Assumptions:")[0])

# %% [markdown]
# OPP's robustness grid (natural-spline df 1 to 6) for the force with the most Black searches, the
# Metropolitan Police (2019-01/02 and 2021-06..10 only in this archive):

# %%
if real_ok:
    met = em.veil_of_darkness(events[events["force"] == "metropolitan"], robustness=True)
    print(met.summary().split("Assumptions:")[0])
    print(met.robustness[["spline_df", "odds_ratio", "ci_low", "ci_high", "n_used"]].round(3).to_string(index=False))

# %%
if real_ok:
    t = by_force.tidy()
    ok = t[t["applicable"]]
    checks.update({
        "real_rows": int(len(events)), "real_forces": int(len(t)), "real_applicable": int(ok.shape[0]),
        "real_below_1": int((ok["ci_high"] < 1).sum()), "real_above_1": int((ok["ci_low"] > 1).sum()),
        "real_reasons": {a: r for a, r in zip(t["area"], t["reason"]) if not t.set_index("area").loc[a, "applicable"]},
        "real_dst_or": round(pooled_dst.odds_ratio, 4),
        "real_dst_ci": [round(pooled_dst.ci_low, 4), round(pooled_dst.ci_high, 4)],
        "real_dst_n": int(pooled_dst.n_used),
        "real_met_robustness_or": [round(v, 4) for v in met.robustness["odds_ratio"]],
    })

# %% [markdown]
# **Reading the results.** Where a force's interval lies below 1, Black people made up a smaller
# share of those searched after dark than in daylight at the same clock time, which is what the
# test expects if seeing a person's ethnicity affected the decision to search. Intervals covering 1
# are not evidence of no bias (searches, not stops; coarse times). The test does not apply where
# times of day are missing (Dyfed-Powys; most Sussex, Wiltshire and Dorset records), where times look
# like a 12-hour clock without am/pm (City of London: no search after 12:59), or where too few Black
# searches fall in the window.

# %% [markdown]
# ## Threshold test
#
# **Part B.** Officers search a stopped person when their belief that the person carries
# contraband exceeds a threshold; a group held to a lower threshold is searched on less evidence.
# The threshold test (Simoiu, Corbett-Davies & Goel 2017; OPP's 2020 model, Pierson et al.) infers
# each area x group threshold from **stops, searches and hits** together, so it needs no population
# benchmark, and it avoids the infra-marginality problem of comparing hit rates alone.
#
# police.uk publishes searches only, not the stops that could have led to one, so this part runs on
# a generated state in the Stanford Open Policing Project layout (one row per stop, read with
# `read_opp`), whose searches and hits follow OPP's 2020 model with planted thresholds, lower for
# Black and Hispanic drivers. A UK force would need its own records of every encounter (e.g.
# stop-and-account or vehicle stops) with ethnicity, whether it led to a search and whether the
# search found what was looked for (docs/threshold-test.md).
#
# **Sampling is kept small here** (2 chains x 300 warm-up + 300 draws) so that the notebook runs in
# CI in under two minutes; the published runs, and `threshold_test`'s defaults, are 5 chains x
# (2,500 + 2,500). With so few draws the diagnostics may say NOT OK: for a real analysis use the
# defaults and report only a fit whose diagnostics are OK.

# %%
import tempfile

from equity_metrics.datasets import generate_opp_state

state = generate_opp_state(counties=12, median_stops=1500, model="hierarchical", seed=7)
opp_csv = state.write(Path(tempfile.mkdtemp()) / "xx_statewide_2016.csv")
opp = em.read_opp(opp_csv, tz="America/Chicago", force="xx-statewide")
counts = em.threshold_counts(opp, area="county_name")
print(f"{opp.ledger.rows_kept:,} stops read; dropped before counting: {counts.attrs['dropped']}")
counts.head(6)

# %%
fit = em.threshold_test(counts, model="hierarchical", chains=2, warmup=300, draws=300, seed=1)
print(fit)

# %% [markdown]
# Per group: the stop-weighted average threshold (probability of contraband at which officers
# search), its 95% credible interval, and the difference from White drivers computed draw by draw.
# The planted thresholds, averaged the same way, are printed beside them.

# %%
table = fit.table()
planted = state.aggregate_truth(weights=fit.weights).set_index("group")["threshold"]
table.assign(planted=table["group"].map(planted)).round(3)

# %%
cells = fit.tidy().merge(state.truth[["area", "group", "threshold"]].rename(columns={"threshold": "planted"}),
                         on=["area", "group"])
cell_cover = float(((cells["planted"] >= cells["ci_low"]) & (cells["planted"] <= cells["ci_high"])).mean())
print(f"planted area x group thresholds inside their 95% credible intervals: {cell_cover:.0%} of {len(cells)}")
fit.diagnostics.tidy()

# %%
axes = fit.plot()
plt.show()

# %%
checks.update({
    "threshold_counts_exact": bool((counts.merge(state.truth, on=["area", "group"], suffixes=("", "_t"))
                                    .eval("stops == stops_t and searches == searches_t and hits == hits_t")).all()),
    "threshold_planted": {g: round(float(planted[g]), 4) for g in planted.index},
    "threshold_estimate": {r.group: round(float(r.threshold), 4) for r in table.itertuples()},
    "threshold_ci": {r.group: [round(float(r.ci_low), 4), round(float(r.ci_high), 4)] for r in table.itertuples()},
    "threshold_diff_ci": {r.group: [round(float(r.diff_ci_low), 4), round(float(r.diff_ci_high), 4)]
                          for r in table.itertuples() if r.group != "White"},
    "threshold_cell_coverage": round(cell_cover, 4),
    "threshold_rhat_max": round(fit.diagnostics.rhat_max, 4),
    "threshold_divergences": fit.diagnostics.divergences,
    "threshold_ppc_ok": fit.diagnostics.ppc_ok,
})

# %%
print("CHECKS " + json.dumps(checks, sort_keys=True))
