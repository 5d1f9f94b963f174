"""Readers: every one returns a :class:`~equity_metrics.ledger.ReadResult` (table, ledger, rejects).

:func:`count_policeuk` (one engine-neutral query on DuckDB or Polars, ``[large]`` extra, or
Spark, ``[spark]`` extra) returns :class:`EventCounts` instead: aggregated counts with the
same ledger and rejects.
"""

from ._counts import EventCounts
from .chicago import read_chicago_cit_roster, read_chicago_complaints, read_chicago_officers, read_chicago_use_of_force
from .large import count_policeuk
from .mapped import read_mapped
from .homeoffice_searches import read_homeoffice_stop_search
from .official import read_govuk_stop_search, read_homeoffice_use_of_force
from .opp import read_opp
from .policeuk import read_policeuk
from .policeuk_api import read_policeuk_api
from .population import read_population
from .training import read_training_roster

from .trust import read_chicago_sentiment, read_london_pas, read_survey_table

__all__ = [
    "read_chicago_sentiment",
    "read_london_pas",
    "read_survey_table",
    "count_policeuk",
    "EventCounts",
    "read_chicago_cit_roster",
    "read_chicago_complaints",
    "read_chicago_officers",
    "read_chicago_use_of_force",
    "read_mapped",
    "read_govuk_stop_search",
    "read_homeoffice_use_of_force",
    "read_homeoffice_stop_search",
    "read_opp",
    "read_policeuk",
    "read_policeuk_api",
    "read_population",
    "read_training_roster",
]
