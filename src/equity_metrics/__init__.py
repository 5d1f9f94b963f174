"""equity_metrics: racial and ethnic disproportionality in policing, and whether training changes it.

Layers (imports go one way only)::

    readers (equity_metrics.io) -> canonical tables (schema, ledger)
        -> measures and models -> presentation (plots, report, cli)
"""

# no ``from __future__ import annotations`` here: it would leave ``annotations`` in the public namespace
__version__ = "0.1.0"

from . import areas, errors, ethnicity, schema
from .areas import normalise_force
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
from .ethnicity import harmonise_ethnicity
from .ledger import Ledger, ReadResult, Rejects

# readers
from .io.policeuk import read_policeuk
from .io.large import count_policeuk
from .io._counts import EventCounts
from .io.policeuk_api import read_policeuk_api
from .io.official import read_govuk_stop_search, read_homeoffice_use_of_force
from .io.homeoffice_searches import read_homeoffice_stop_search
from .io.population import read_population
from .io.mapped import read_mapped
from .io.opp import read_opp
from .io.chicago import read_chicago_cit_roster, read_chicago_complaints, read_chicago_officers, read_chicago_use_of_force
from .io.training import read_training_roster
from .io.trust import read_chicago_sentiment, read_london_pas, read_survey_table

# measures and models
from . import datasets, measures, models
from .measures.disparity import DisparityResult, disparity, pooled_disparity
from .measures.outcomes import outcome_test, stage_rri
from .measures.published import PublishedComparison, compare_published
from .measures.standardise import standardised_disparity
from .measures.suppression import flag_small_counts, suppress
from .measures.trends import trend
from .measures.internal_benchmark import internal_benchmark
from .measures.locfdr import locfdr
from .measures.trust import gap_change, survey_estimates, trust_gap
from .models.trust_impact import trust_impact
from .measures.veil import (
    VeilByAreaResult,
    VeilResult,
    sun_times,
    veil_of_darkness,
    veil_of_darkness_by_area,
    veil_of_darkness_counts,
)
from .models.threshold import ThresholdTestResult, threshold_counts, threshold_test
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
