"""Texts written next to the synthetic files: read_mapped mappings and a README."""

from __future__ import annotations

OFFICER_EVENTS_TOML = """\
# Mapping of officer_events.csv (synthetic) for equity_metrics.io.mapped.read_mapped:
#   read_mapped("officer_events.csv", mapping="officer_events_mapping.toml")
# Written by equity_metrics.datasets.synthetic.write(); see docs/synthetic-data.md.
name = "synthetic officer events"
description = "Synthetic officer-level use-of-force reports and searches (equity_metrics.datasets)"
kind = "events"
source = "synthetic"
id = "event_id"
required = ["datetime", "event_type", "officer_id"]

[columns]
officer_id = "officer_id"
force = "force"
district = "district"
event_type = "event_type"
outcome = "outcome"
arrest = "outcome"

[dates.datetime]
column = "datetime"
format = "%Y-%m-%dT%H:%M:%S"
tz = "Europe/London"

[values.arrest]
"Arrest" = true
"No further action" = false

[ethnicity]
column = "subject_ethnicity"
scheme = "uk"
label = "recorded"
"""

TRAINING_TOML = """\
# Mapping of training.csv (synthetic) for equity_metrics.io.mapped.read_mapped:
#   read_mapped("training.csv", mapping="training_mapping.toml", kind="training")
# Written by equity_metrics.datasets.synthetic.write(); see docs/synthetic-data.md.
name = "synthetic training roster"
description = "Synthetic officer training records (equity_metrics.datasets)"
kind = "training"
required = ["officer_id", "completed"]

[columns]
officer_id = "officer_id"
force = "force"
course = "course"

[dates.completed]
column = "completed"
format = "%Y-%m-%d"

[dates.appointed]
column = "appointed"
format = "%Y-%m-%d"

[dates.resigned]
column = "resigned"
format = "%Y-%m-%d"

[constants]
level = "officer"
"""

README_TEXT = """\
# Synthetic sample data (equity_metrics)

Everything in this folder is synthetic: made by `equity_metrics.datasets.generate(seed={seed})`
and written by `scripts/make_samples.py` (byte-identical on every run). No real person,
officer or force is described. The planted parameters and the values analyses should
recover are in `truth.json` and explained in `docs/synthetic-data.md`.

- `policeuk/YYYY-MM/YYYY-MM-<force>-stop-and-search.csv`: stop-and-search records in the
  police.uk format (UTC dates with the summer-time shift, blanks, exact duplicates).
  Each force records searches its own way, like real forces; with the default
  recording profiles (docs/synthetic-data.md) northshire marks most
  "no further action" rows as linked to the object of search and leaves 10% of outcomes
  blank, southvale fills the linked field for a third of its other outcomes (no find
  rate can be given) and publishes no coordinates, eastmoor is clean. Coverage:
  southvale 2020-10 has no file, eastmoor's files end in 2021-09 (missing, not zero),
  and eastmoor 2020-03 is header-only (zero searches).
- `population.csv`: residents by area x group x sex x age band (long);
  `population_wide.csv`: area x group (wide).
- `officers.csv`: every officer (appointment, resignation, training cohort);
  `training.csv` (+ `training_mapping.toml`): completed training, trained officers only.
- `officer_events.csv` (+ `officer_events_mapping.toml`): use-of-force reports and
  searches by officer (local time, Europe/London).
- `panel.csv`: officer x month panel with observed counts and expected outcomes.
- `truth.json`: the planted truth.
"""
