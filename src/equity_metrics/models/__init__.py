"""Statistical models of equity_metrics: training impact."""

from .did import AggregateResult, OverallEstimate, PretrendTest, StaggeredDiDResult, staggered_did
from .did_classic import DiD2x2Result, EventStudyResult, TWFEResult, WaldTest, did_2x2, event_study, twfe
from .efficient import EfficientResult, efficient_staggered
from .its import ITSResult, interrupted_time_series
from .panel import PanelReport, PanelResult, build_panel
from .synth import SynthResult, synthetic_control
from .threshold import ThresholdDiagnostics, ThresholdTestResult, threshold_counts, threshold_test
from .planning import DesignMDE, PanelMDEResult, design_mde, panel_mde
from ._rollout_sim import PowerResult, power
from .honest import (
    BreakdownStatement,
    EventStudyInputs,
    HonestDiDResult,
    breakdown_statement,
    event_study_inputs,
    honest_breakdown,
    honest_did,
)

from .trust_impact import TrustImpactResult, trust_impact

__all__ = [
    "trust_impact",
    "TrustImpactResult",
    "staggered_did",
    "StaggeredDiDResult",
    "AggregateResult",
    "OverallEstimate",
    "PretrendTest",
    "did_2x2",
    "event_study",
    "twfe",
    "DiD2x2Result",
    "EventStudyResult",
    "TWFEResult",
    "WaldTest",
    "efficient_staggered",
    "EfficientResult",
    "interrupted_time_series",
    "ITSResult",
    "build_panel",
    "PanelResult",
    "PanelReport",
    "synthetic_control",
    "SynthResult",
    "threshold_test",
    "threshold_counts",
    "ThresholdTestResult",
    "ThresholdDiagnostics",
    "panel_mde",
    "PanelMDEResult",
    "design_mde",
    "DesignMDE",
    "power",
    "PowerResult",
    "honest_did",
    "honest_breakdown",
    "breakdown_statement",
    "event_study_inputs",
    "EventStudyInputs",
    "HonestDiDResult",
    "BreakdownStatement",
]
