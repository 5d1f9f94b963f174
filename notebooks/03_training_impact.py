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
# # 03 Did officer training change use of force?
#
# A researcher's notebook. Officers were trained in a **staggered rollout**: different officers
# completed the course in different months. We ask whether completing it changed how often an
# officer used force.
#
# * **Part (a)** uses the bundled synthetic samples, where the answer is known: the course
#   multiplies each trained officer's use-of-force rate by **0.8** from the month of completion
#   (`docs/synthetic-data.md`). We check each estimator against that truth.
# * **Part (b)** applies the same design to real data: Chicago Police Department's 40-hour
#   Crisis Intervention Team (CIT) course. It needs `../shared/data/chicago` and is skipped otherwise.
#
# Estimators: Callaway & Sant'Anna (`em.staggered_did`, the main estimate), Sun & Abraham
# event study (`em.event_study`), Roth & Sant'Anna (`em.efficient_staggered`), static two-way
# fixed effects (`em.twfe`, a labelled *comparison* only), and an interrupted time series for one
# force (`em.interrupted_time_series`).

# %% tags=["parameters"]
# Parameters. RUN_CHICAGO: None = run part (b) when ../shared/data/chicago exists; True / False to force.
RUN_CHICAGO = None

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
# ## (a) The synthetic samples
#
# ### The data: events, training roster, officers
#
# Three inputs, each read through the library's readers:
#
# * **events**: one row per use-of-force report or search, with the officer and the date;
# * **training**: one row per officer who completed the course, with the completion date;
# * **officers**: every officer with appointment and resignation dates, so that months out of service
#   are not counted as months with zero use of force, and officers never trained are known.

# %%
events = em.datasets.load_sample_officer_events()
training = em.datasets.load_sample_training()
officers = em.datasets.load_sample_officers()
truth = em.datasets.load_sample_truth()
print(f"events: {len(events.data):,} ({events.data['event_type'].value_counts().to_dict()})")
print(f"trained officers: {training.data['officer_id'].nunique():,}; all officers: {len(officers):,}")
print("officer status:", officers["status"].value_counts().sort_index().to_dict())

# %% [markdown]
# ### Build the officer x month panel
#
# `em.build_panel` counts each officer's use-of-force reports per month, keeps only the months the
# officer was in service (`exposure` is the share of the month in service), and assigns each
# officer's **first treated** month. In the samples the course takes place in the first week of the
# cohort month, so the month of completion counts as treated (`treated_from="completion"`; the
# default, `"next"`, starts with the first *full* month after completion).

# %%
panel = em.build_panel(events.data, training.data, officers=officers, outcome="use_of_force",
                       treated_from="completion")
print(panel.summary())

# %%
ax = panel.plot()

# %% [markdown]
# The Callaway & Sant'Anna estimator needs a **balanced** panel: the same officers in every month.
# `balanced=True` keeps the officers in service for the whole window (it drops joiners and leavers,
# and says how many). The estimate then describes those officers.

# %%
balanced = em.build_panel(events.data, training.data, officers=officers, outcome="use_of_force",
                          treated_from="completion", balanced=True)
print(balanced.summary())

# %% [markdown]
# ### Callaway & Sant'Anna: group-time effects
#
# `em.staggered_did` estimates one effect for each training cohort `g` and month `t`, ATT(g,t),
# comparing the cohort's change since the month before training with the change among officers
# **not yet trained** by then (`control="not_yet_treated"`), using the doubly robust estimator
# (`method="dr"`). These many small effects are then **aggregated**.

# %%
did = em.staggered_did(balanced, control="not_yet_treated", method="dr")
print(f"{len(did.att_gt)} group-time effects; {did.n_units} officers; cohorts (first treated time): {[int(c) for c in did.cohorts]}")
did.att_gt.head(12).round(4)

# %%
overall = did.aggregate("simple")
print(overall)
print()
print(did.aggregate("group"))

# %% [markdown]
# The overall ATT is the average change in use-of-force reports **per officer-month** among
# trained officer-months. Converting it to a rate ratio (the planted 0.8) divides the trained
# officers' observed rate by their rate without training (observed minus the effect):

# %%
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

# %% [markdown]
# With 132 officers in five cohorts the interval is wide, but it covers the planted effect.
#
# ### Event-study aggregation and pre-trends
#
# `aggregate("dynamic")` averages the effects by **months since training** (negative: before).
# Before training the estimates should be near zero; after training, near the planted effect
# (crosses: the planted effect for these officers, from the generator's expected counts).

# %%
dyn = did.aggregate("dynamic", min_e=-12, max_e=24)
ax = dyn.plot(title="Use-of-force reports per officer-month, by months since training")
planted_e = tm.groupby("event_time")["uof_mean"].mean() - tm.groupby("event_time")["uof_y0"].mean()
planted_e = planted_e[planted_e.index <= 24]
ax.plot(planted_e.index, planted_e.to_numpy(), "x", color="tab:red", label="planted")
ax.legend(frameon=False);

# %% [markdown]
# A **pre-trend test** asks whether the pre-training estimates are jointly zero. The cell-level
# test (`kind="cells"`, what R `did`'s `summary` reports) tests all 94 pre-treatment ATT(g,t) at once:

# %%
cells = did.pretrend_test("cells")
print(cells)

# %% [markdown]
# That looks like a violation, but parallel trends hold here by construction. The problem is the
# test: 94 restrictions, with their covariance estimated from only 132 officers. With `p` estimates
# and `n` independent units, the Wald statistic computed with an *estimated* covariance is
# Hotelling's T^2, which is about `n / (n - p)` = 3.5 times larger than a chi-squared(94) under the
# null. Hotelling's exact correction turns it into an F test:

# %%
from scipy import stats

n, p = did.n_units, cells.df
f_stat = (n - p) / (p * (n - 1)) * cells.statistic
print(f"Hotelling correction: F({p}, {n - p}) = {f_stat:.3f}, p = {stats.f.sf(f_stat, p, n - p):.3f}")

# %% [markdown]
# The usual choice with many small cohorts, and `pretrend_test()`'s default, is to test the
# **event-study leads** instead: here 12 coefficients, each averaging several cohorts.

# %%
leads = did.pretrend_test("event_time", min_e=-12)
print(leads)

# %% [markdown]
# ### Other estimators, for comparison
#
# **Sun & Abraham event study** (`em.event_study(..., sun_abraham=True)`): a regression version of the
# event study that is robust to effects differing across cohorts. Leads and lags beyond the window
# are pooled into the end points.

# %%
es = em.event_study(balanced, outcome="use_of_force", leads=6, lags=12, control="not_yet_treated", sun_abraham=True)
print(es.pretrend)
ax = es.plot(title="Sun & Abraham event study")

# %% [markdown]
# **Roth & Sant'Anna** (`em.efficient_staggered`) is the most precise estimator when the *timing* of
# training is as good as random. Here it is not: the samples plant **selection on levels** (earlier
# cohorts used more force before training). The efficient weighting (`beta="efficient"`) uses
# pre-training levels and is biased towards zero; with `beta="cs"` or `"sa"` it reproduces
# estimators that only need parallel trends.

# %%
rows = []
for beta in ("efficient", "cs", "sa"):
    r = em.efficient_staggered(balanced, outcome="use_of_force", beta=beta, n_fisher=0).overall
    rows.append({"beta": beta, "estimate": r["estimate"], "std_error": r["std_error"],
                 "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
eff = pd.DataFrame(rows)
eff["planted"] = true_att
eff.round(4)

# %% [markdown]
# **Static two-way fixed effects** (`em.twfe`) is the regression most often reported. With staggered
# timing it compares newly trained officers with *already trained* ones and can put negative weight
# on some treated months, so the library reports it only as a comparison and warns:

# %%
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    tw = em.twfe(balanced, outcome="use_of_force")
for w in caught:
    print("warning:", w.message)
print()
print(tw)

# %% [markdown]
# Here all effects are proportional (one rate ratio), so TWFE happens to land near the truth; when
# effects grow or fade over time it can be far off, even of the wrong sign.
#
# ### Interrupted time series for one force
#
# Without individual officers' data, a force may only have its monthly total. An interrupted time
# series fits the trend before training and projects it forward as the **counterfactual**. We use
# `northshire`'s monthly use-of-force reports, with the number of officers in service as the offset,
# and the month its first cohort was trained (2019-10) as the interruption. Because the rollout is
# staggered, the effect should appear as a gradual change (`impact="level_slope"`).

# %%
full = panel.data[(panel.data["exposure"] == 1) & (panel.data["force"] == "northshire")]
series = (full.groupby("period").agg(use_of_force=("use_of_force", "sum"), officers=("officer_id", "size"))
          .reset_index().rename(columns={"period": "month"}))
its = em.interrupted_time_series(series, outcome="use_of_force", time="month", intervention="2019-10",
                                 offset="officers", seasonality="fourier", impact="level_slope")
print(its)

# %%
ax = its.plot(title="northshire: use-of-force reports, observed vs counterfactual")
ax.set_ylim(0, 3 * series["use_of_force"].max())  # the counterfactual band runs far above: clipped
g = gen[gen["force"] == "northshire"].groupby("month")[["uof_y0", "uof_mean"]].sum()
ax.plot(g.index.to_timestamp(), g["uof_y0"].to_numpy(), color="tab:red", lw=1, label="planted: no training")
ax.legend(fontsize=8, frameon=False);

# %%
post = g.index >= pd.Period("2019-10", "M")
planted_total = float((g["uof_mean"] - g["uof_y0"])[post].sum())
te = its.total_effect()
print(f"change in reports 2019-10..2021-12 (negative: fewer): estimated {te.estimate:+.0f} "
      f"(95% CI {te.ci_low:+.0f} to {te.ci_high:+.0f}); planted {planted_total:+.0f}")

# %% [markdown]
# One force's 36 monthly totals, with only 9 months before the first cohort, cannot separate a
# gradual training effect from the trend and seasonality: the counterfactual's interval widens
# quickly (the plot clips it) and the estimated total change has the wrong sign, with an interval
# covering the planted value and much else. This is why
# the officer-level designs above are preferred when the data exist.

# %%
# a machine-readable summary (tests/test_notebooks.py reads this line)
summary = {
    "att": round(o.estimate, 4), "att_se": round(o.std_error, 4), "planted_att": round(true_att, 4),
    "rate_ratio": round(rr, 3), "planted_rate_ratio": round(true_rr, 3),
    "pretrend_leads_p": round(leads.p_value, 3), "es_pretrend_p": round(float(es.pretrend.p_value), 3),
    "efficient_cs": round(float(eff.loc[eff["beta"] == "cs", "estimate"].iloc[0]), 4),
    "twfe": round(float(tw.tidy()["estimate"].iloc[0]), 4),
}
print("CHECKS " + json.dumps(summary, sort_keys=True))

# %% [markdown]
# ## (b) Chicago: Crisis Intervention Team training and use-of-force reports
#
# Real data (Invisible Institute FOIA releases in `../shared/data/chicago`): the roster of officers
# who completed the 40-hour CIT course (with the course end date), tactical response (use-of-force)
# reports 2004-2016, and officer profiles. `equity_metrics.examples.chicago_cit` builds an officer x
# month panel for 2010-01..2016-03 of officers in service on the roster date (the roster lists only
# officers active then), with the first treated month the month after the course ended, and runs
# the same Callaway & Sant'Anna design.
#
# **What it cannot show.** CIT is voluntary: officers who chose it may differ in ways that change
# over time. The pre-trend test is the check; if it fails, the estimate is not a causal effect.
# Report counts also say nothing about whether force was appropriate. Officers' names and ids are
# never printed.

# %%
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

# %%
if RUN_CHICAGO:
    from equity_metrics.examples.chicago_cit import chicago_cit_analysis

    cit = chicago_cit_analysis(folder=CHICAGO, period="M", start="2010-01", end="2016-03")
    print(cit.panel.summary())

# %%
if RUN_CHICAGO:
    print(cit.summary())

# %%
if RUN_CHICAGO:
    ax = cit.dynamic.plot(title="Chicago CIT: use-of-force reports per officer-month, by months since training")

# %%
if RUN_CHICAGO:
    print(cit.pretrend)
    print("CHICAGO " + json.dumps({"att": round(cit.did.aggregate("simple").overall.estimate, 5),
                                   "pretrend_p": round(float(cit.pretrend.p_value), 4),
                                   "officers": int(cit.panel.report.n_units)}, sort_keys=True))

# %% [markdown]
# Read the verdict printed with the summary: it states the estimate with its interval, relative to
# the untrained rate, and whether the pre-trend check allows a causal reading.
