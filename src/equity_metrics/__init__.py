"""equity_metrics: racial and ethnic disproportionality in policing, and whether training changes it.

Layers (imports go one way only)::

    readers (equity_metrics.io) -> canonical tables (schema, ledger)
        -> measures and models -> presentation (plots, report, cli)

The public names below load on first use (PEP 562 module ``__getattr__``): ``import
equity_metrics`` costs only the error classes, and ``import equity_metrics.io.policeuk``
does not pull in the measures' and models' scipy and statsmodels. ``em.disparity``,
``from equity_metrics import disparity`` and ``from equity_metrics import *`` work as usual.
"""

# no ``from __future__ import annotations`` here: it would leave ``annotations`` in the public namespace
from ._lazy import lazy_names as _lazy_names
from typing import TYPE_CHECKING as _TYPE_CHECKING

__version__ = "0.1.0"

# cheap (standard library only), so eager
from . import errors
from .errors import (
    DataValidationError,
    EmptyFileError,
    EncodingError,
    EquityMetricsError,
    EstimationError,
    FileFormatError,
    MappingError,
    MissingColumnsError,
    OptionError,
    ReadError,
)

# public name -> "module" (a submodule) or "module:attribute", relative to this package
_LAZY = {
    "areas": ".areas",
    "ethnicity": ".ethnicity",
    "schema": ".schema",
    "normalise_force": ".areas:normalise_force",
    "harmonise_ethnicity": ".ethnicity:harmonise_ethnicity",
    "Ledger": ".ledger:Ledger",
    "ReadResult": ".ledger:ReadResult",
    "Rejects": ".ledger:Rejects",
    # readers
    "read_policeuk": ".io.policeuk:read_policeuk",
    "count_policeuk": ".io.large:count_policeuk",
    "EventCounts": ".io._counts:EventCounts",
    "read_policeuk_api": ".io.policeuk_api:read_policeuk_api",
    "read_govuk_stop_search": ".io.official:read_govuk_stop_search",
    "read_homeoffice_use_of_force": ".io.official:read_homeoffice_use_of_force",
    "read_homeoffice_stop_search": ".io.homeoffice_searches:read_homeoffice_stop_search",
    "read_population": ".io.population:read_population",
    "read_mapped": ".io.mapped:read_mapped",
    "read_opp": ".io.opp:read_opp",
    "read_chicago_cit_roster": ".io.chicago:read_chicago_cit_roster",
    "read_chicago_complaints": ".io.chicago:read_chicago_complaints",
    "read_chicago_officers": ".io.chicago:read_chicago_officers",
    "read_chicago_use_of_force": ".io.chicago:read_chicago_use_of_force",
    "read_training_roster": ".io.training:read_training_roster",
    "read_chicago_sentiment": ".io.trust:read_chicago_sentiment",
    "read_london_pas": ".io.trust:read_london_pas",
    "read_survey_table": ".io.trust:read_survey_table",
    # measures and models
    "datasets": ".datasets",
    "measures": ".measures",
    "models": ".models",
    "DisparityResult": ".measures.disparity:DisparityResult",
    "disparity": ".measures.disparity:disparity",
    "pooled_disparity": ".measures.disparity:pooled_disparity",
    "outcome_test": ".measures.outcomes:outcome_test",
    "stage_rri": ".measures.outcomes:stage_rri",
    "PublishedComparison": ".measures.published:PublishedComparison",
    "compare_published": ".measures.published:compare_published",
    "standardised_disparity": ".measures.standardise:standardised_disparity",
    "flag_small_counts": ".measures.suppression:flag_small_counts",
    "suppress": ".measures.suppression:suppress",
    "trend": ".measures.trends:trend",
    "internal_benchmark": ".measures.internal_benchmark:internal_benchmark",
    "locfdr": ".measures.locfdr:locfdr",
    "gap_change": ".measures.trust:gap_change",
    "survey_estimates": ".measures.trust:survey_estimates",
    "trust_gap": ".measures.trust:trust_gap",
    "trust_impact": ".models.trust_impact:trust_impact",
    "VeilByAreaResult": ".measures.veil:VeilByAreaResult",
    "VeilResult": ".measures.veil:VeilResult",
    "sun_times": ".measures.veil:sun_times",
    "veil_of_darkness": ".measures.veil:veil_of_darkness",
    "veil_of_darkness_by_area": ".measures.veil:veil_of_darkness_by_area",
    "veil_of_darkness_counts": ".measures.veil:veil_of_darkness_counts",
    "ThresholdTestResult": ".models.threshold:ThresholdTestResult",
    "threshold_counts": ".models.threshold:threshold_counts",
    "threshold_test": ".models.threshold:threshold_test",
    "build_panel": ".models:build_panel",
    "did_2x2": ".models:did_2x2",
    "efficient_staggered": ".models:efficient_staggered",
    "event_study": ".models:event_study",
    "honest_breakdown": ".models:honest_breakdown",
    "honest_did": ".models:honest_did",
    "interrupted_time_series": ".models:interrupted_time_series",
    "panel_mde": ".models:panel_mde",
    "power": ".models:power",
    "staggered_did": ".models:staggered_did",
    "synthetic_control": ".models:synthetic_control",
    "twfe": ".models:twfe",
}


__getattr__, __dir__ = _lazy_names(__name__, _LAZY, globals())  # PEP 562: imported on first use


if _TYPE_CHECKING:  # the same names, for type checkers and IDEs (tests/test_lazy_imports.py checks they agree)
    from . import areas, datasets, ethnicity, measures, models, schema
    from .areas import normalise_force
    from .ethnicity import harmonise_ethnicity
    from .io._counts import EventCounts
    from .io.chicago import read_chicago_cit_roster, read_chicago_complaints, read_chicago_officers, read_chicago_use_of_force
    from .io.homeoffice_searches import read_homeoffice_stop_search
    from .io.large import count_policeuk
    from .io.mapped import read_mapped
    from .io.official import read_govuk_stop_search, read_homeoffice_use_of_force
    from .io.opp import read_opp
    from .io.policeuk import read_policeuk
    from .io.policeuk_api import read_policeuk_api
    from .io.population import read_population
    from .io.training import read_training_roster
    from .io.trust import read_chicago_sentiment, read_london_pas, read_survey_table
    from .ledger import Ledger, ReadResult, Rejects
    from .measures.disparity import DisparityResult, disparity, pooled_disparity
    from .measures.internal_benchmark import internal_benchmark
    from .measures.locfdr import locfdr
    from .measures.outcomes import outcome_test, stage_rri
    from .measures.published import PublishedComparison, compare_published
    from .measures.standardise import standardised_disparity
    from .measures.suppression import flag_small_counts, suppress
    from .measures.trends import trend
    from .measures.trust import gap_change, survey_estimates, trust_gap
    from .measures.veil import (
        VeilByAreaResult,
        VeilResult,
        sun_times,
        veil_of_darkness,
        veil_of_darkness_by_area,
        veil_of_darkness_counts,
    )
    from .models import (
        build_panel,
        did_2x2,
        efficient_staggered,
        event_study,
        honest_breakdown,
        honest_did,
        interrupted_time_series,
        panel_mde,
        power,
        staggered_did,
        synthetic_control,
        twfe,
    )
    from .models.threshold import ThresholdTestResult, threshold_counts, threshold_test
    from .models.trust_impact import trust_impact

__all__ = [
    "__version__",
    "read_policeuk",
    "count_policeuk",
    "EventCounts",
    "read_policeuk_api",
    "read_govuk_stop_search",
    "read_homeoffice_use_of_force",
    "read_homeoffice_stop_search",
    "read_population",
    "read_mapped",
    "read_opp",
    "read_chicago_use_of_force",
    "read_chicago_complaints",
    "read_chicago_cit_roster",
    "read_chicago_officers",
    "read_training_roster",
    "read_chicago_sentiment",
    "read_london_pas",
    "read_survey_table",
    "trust_gap",
    "gap_change",
    "survey_estimates",
    "trust_impact",
    "datasets",
    "measures",
    "models",
    "disparity",
    "pooled_disparity",
    "DisparityResult",
    "outcome_test",
    "stage_rri",
    "compare_published",
    "PublishedComparison",
    "standardised_disparity",
    "suppress",
    "flag_small_counts",
    "staggered_did",
    "internal_benchmark",
    "locfdr",
    "trend",
    "veil_of_darkness",
    "veil_of_darkness_by_area",
    "veil_of_darkness_counts",
    "VeilResult",
    "VeilByAreaResult",
    "sun_times",
    "threshold_test",
    "threshold_counts",
    "ThresholdTestResult",
    "build_panel",
    "did_2x2",
    "event_study",
    "twfe",
    "efficient_staggered",
    "interrupted_time_series",
    "synthetic_control",
    "panel_mde",
    "power",
    "honest_did",
    "honest_breakdown",
    "areas",
    "errors",
    "ethnicity",
    "schema",
    "normalise_force",
    "harmonise_ethnicity",
    "Ledger",
    "ReadResult",
    "Rejects",
    "DataValidationError",
    "EmptyFileError",
    "EncodingError",
    "EquityMetricsError",
    "EstimationError",
    "FileFormatError",
    "MappingError",
    "MissingColumnsError",
    "OptionError",
    "ReadError",
]
