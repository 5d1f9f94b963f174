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
# # 04 The command report, from a notebook
#
# The **command report** is the short document for a force's leadership: the headline
# disproportionality figures with their intervals, trends, the outcome test, and (when a training
# roster is supplied) whether training changed anything, with the caveats that go with each. It is
# built entirely from the library's measures; the report layer only lays out what they computed
# (small counts suppressed, data-derived text escaped, no officer names or ids).
#
# The same report can be described in a TOML file and loaded with `load_report_config`. From Python:
#
# * `sample_config()` is the configuration of the bundled synthetic samples (`reports/sample.toml`);
# * `build_report(cfg)` computes everything and returns an object you can inspect and display;
# * `run_report(cfg, out=..., formats=("html",))` writes the files.

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
from equity_metrics.report import build_report, run_report, sample_config

cfg = sample_config()
for key in ("title", "area", "period", "groups", "reference", "benchmark", "suppress_below", "alpha", "treated_from"):
    print(f"{key:>15}: {getattr(cfg, key)}")

# %% [markdown]
# ## Build the report and read its summary
#
# The summary is plain text: the numbers a reader will see, with their intervals and flags.

# %%
rep = build_report(cfg)
print(rep.summary())

# %% [markdown]
# ## The report itself
#
# Displaying the object renders the report's HTML in the notebook.

# %%
rep

# %% [markdown]
# ## Write the files
#
# `run_report` writes the report (HTML here; add `"pdf"` to `formats` when WeasyPrint is installed)
# and returns the paths written. We write to a temporary folder and check two promises of the report:
# officer ids never appear in it, and it runs no scripts.

# %%
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

# %%
# a machine-readable summary (tests/test_notebooks.py reads this line)
print("CHECKS " + json.dumps({"html_files": len(html_files), "officer_ids": len(officer_ids),
                              "scripts": html.lower().count("<script")}, sort_keys=True))

# %% [markdown]
# ## Your own force
#
# Describe your own files (police.uk downloads, a population table, and optionally a training roster
# and officer-level events with their mapping files) in a TOML file with the same settings as
# `sample_config()` shows, load it with `equity_metrics.report.load_report_config`, and pass it to
# `run_report`. Every number in the report can be reproduced with the functions shown in notebooks
# 01-03.
