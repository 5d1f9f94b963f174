"""Synthetic data with a known, planted truth, and the bundled sample set.

* :func:`generate` simulates populations, police.uk stop-and-search files, officers,
  a staggered training rollout and officer-level outcomes from one seed, returning
  :class:`SyntheticData` whose ``truth`` (:class:`SyntheticTruth`) holds every
  planted parameter and the values analyses should recover; :func:`write` lays it
  out on disk exactly as the readers expect.
* The sample set (``data/samples`` of a source checkout, remade by
  :func:`make_samples` / ``scripts/make_samples.py``) is read with the
  ``load_sample_*`` functions, through the library's own readers.

The planted truth is documented in ``docs/synthetic-data.md``.
"""

from .samples import (
    SAMPLES_ENV,
    load_sample_officer_events,
    load_sample_officers,
    load_sample_panel,
    load_sample_population,
    load_sample_stops,
    load_sample_training,
    load_sample_truth,
    make_samples,
    sample_path,
)
from .synthetic import AREA_SPECS, DEFAULT_SEED, GROUPS, POLICEUK_HEADER, SyntheticData, SyntheticTruth, generate, write

from .trust import TrustPanel, make_trust_panel
from .national import NationalArchive, write_national_archive
from .opp_state import OPP_STATE_RACES, OPP_STATE_SEED, OppState, generate_opp_state

__all__ = [
    "write_national_archive",
    "NationalArchive",
    "generate_opp_state",
    "OppState",
    "OPP_STATE_SEED",
    "OPP_STATE_RACES",
    "make_trust_panel",
    "TrustPanel",
    "generate",
    "write",
    "SyntheticData",
    "SyntheticTruth",
    "DEFAULT_SEED",
    "AREA_SPECS",
    "GROUPS",
    "POLICEUK_HEADER",
    "SAMPLES_ENV",
    "sample_path",
    "make_samples",
    "load_sample_stops",
    "load_sample_population",
    "load_sample_training",
    "load_sample_officers",
    "load_sample_officer_events",
    "load_sample_panel",
    "load_sample_truth",
]
