"""equity_metrics: racial and ethnic disproportionality in policing, and whether training changes it.

Layers (imports go one way only)::

    readers (equity_metrics.io) -> canonical tables (schema, ledger)
        -> measures and models -> presentation (plots, report, cli)
"""

from __future__ import annotations

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

__all__ = [
    "__version__",
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
