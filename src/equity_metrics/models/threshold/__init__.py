"""The threshold test (Simoiu, Corbett-Davies & Goel 2017; Pierson et al. 2018, 2020).

Importing this package does not import JAX or NumPyro; :func:`threshold_test` does, when called
(install the ``bayes`` extra). See docs/threshold-test.md.
"""

from ._fit import threshold_test
from .counts import threshold_counts
from .result import ThresholdDiagnostics, ThresholdTestResult

__all__ = ["threshold_test", "threshold_counts", "ThresholdTestResult", "ThresholdDiagnostics"]
