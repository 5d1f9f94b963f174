"""Worked examples on real public data (they need the data in ``../shared/data``).

* :mod:`equity_metrics.examples.chicago_cit`: did Chicago's 40-hour crisis
  intervention team (CIT) training change officers' use-of-force reports?
"""

from __future__ import annotations

from .chicago_cit import ChicagoCITResult, chicago_cit_analysis, chicago_cit_panel

__all__ = ["ChicagoCITResult", "chicago_cit_analysis", "chicago_cit_panel"]
