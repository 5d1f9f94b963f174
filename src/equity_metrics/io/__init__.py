"""Readers: every one returns a :class:`~equity_metrics.ledger.ReadResult` (table, ledger, rejects).

:func:`count_policeuk` (one engine-neutral query on DuckDB or Polars, ``[large]`` extra, or
Spark, ``[spark]`` extra) returns :class:`EventCounts` instead: aggregated counts with the
same ledger and rejects.

Each reader loads on first use (PEP 562 module ``__getattr__``), so importing one reader
(``equity_metrics.io.policeuk``) does not import the others.
"""

from .._lazy import lazy_names as _lazy_names
from typing import TYPE_CHECKING as _TYPE_CHECKING

# public name -> "module:attribute", relative to this package
_LAZY = {
    "EventCounts": "._counts:EventCounts",
    "read_chicago_cit_roster": ".chicago:read_chicago_cit_roster",
    "read_chicago_complaints": ".chicago:read_chicago_complaints",
    "read_chicago_officers": ".chicago:read_chicago_officers",
    "read_chicago_use_of_force": ".chicago:read_chicago_use_of_force",
    "count_policeuk": ".large:count_policeuk",
    "read_mapped": ".mapped:read_mapped",
    "read_homeoffice_stop_search": ".homeoffice_searches:read_homeoffice_stop_search",
    "read_govuk_stop_search": ".official:read_govuk_stop_search",
    "read_homeoffice_use_of_force": ".official:read_homeoffice_use_of_force",
    "read_opp": ".opp:read_opp",
    "read_policeuk": ".policeuk:read_policeuk",
    "read_policeuk_api": ".policeuk_api:read_policeuk_api",
    "read_population": ".population:read_population",
    "read_training_roster": ".training:read_training_roster",
    "read_chicago_sentiment": ".trust:read_chicago_sentiment",
    "read_london_pas": ".trust:read_london_pas",
    "read_survey_table": ".trust:read_survey_table",
}


__getattr__, __dir__ = _lazy_names(__name__, _LAZY, globals())  # PEP 562: imported on first use


if _TYPE_CHECKING:  # the same names, for type checkers and IDEs (tests/test_lazy_imports.py checks they agree)
    from ._counts import EventCounts
    from .chicago import read_chicago_cit_roster, read_chicago_complaints, read_chicago_officers, read_chicago_use_of_force
    from .homeoffice_searches import read_homeoffice_stop_search
    from .large import count_policeuk
    from .mapped import read_mapped
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
