"""Issue 10: one shared results protocol (ResultBase): str, _repr_html_, to_csv, to_excel with defusing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import equity_metrics as em
from equity_metrics._results import ResultBase

EVIL = '=HYPERLINK("http://x")<script>alert(1)</script>'


@dataclass
class _Stub(ResultBase):
    table: pd.DataFrame

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return "Stub result\n" + self.table.to_string(index=False)


def _stub() -> _Stub:
    return _Stub(pd.DataFrame({"area": [EVIL, "north"], "estimate": [-0.5, 2.0], "n": [-3, 4]}))


def _check_exports(r, tmp_path, evil_col=None):
    t = r.tidy()
    p = r.to_csv(tmp_path / "r.csv")
    back = pd.read_csv(p)
    assert list(back.columns) == [str(c) for c in t.columns] and len(back) == len(t)
    x = r.to_excel(tmp_path / "r.xlsx")
    xb = pd.read_excel(x, sheet_name="table")
    assert list(xb.columns) == [str(c) for c in t.columns] and len(xb) == len(t)
    if evil_col is not None:
        for b in (back, xb):
            assert (b[evil_col] == "'" + EVIL).any()
            assert not b[evil_col].astype(str).str.startswith("=").any()
    return back, xb


def test_stub_protocol(tmp_path):
    r = _stub()
    assert str(r) == r.summary()
    h = r._repr_html_()
    assert "<script>" not in h and "&lt;script&gt;" in h and h.startswith("<pre>")
    back, xb = _check_exports(r, tmp_path, "area")
    for b in (back, xb):
        assert b["estimate"].tolist() == [-0.5, 2.0] and b["n"].tolist() == [-3, 4]
        assert pd.api.types.is_numeric_dtype(b["estimate"]) and pd.api.types.is_numeric_dtype(b["n"])


def _base_classes():
    from equity_metrics.io._counts import EventCounts
    from equity_metrics.measures._linked_suppression import LinkedResult
    from equity_metrics.measures._stages import StageRRIResult
    from equity_metrics.measures.change import RatioChangeResult
    from equity_metrics.measures.disparity import DisparityResult
    from equity_metrics.measures.outcomes import OutcomeTestResult
    from equity_metrics.measures.pooled import PooledRatioResult
    from equity_metrics.measures.published import PublishedComparison
    from equity_metrics.measures.standardise import StandardisedResult
    from equity_metrics.measures.trends import TrendResult
    from equity_metrics.models._event_study import EventStudyResult
    from equity_metrics.models._untrained import ShareChange, UntrainedLevel
    from equity_metrics.models.did._aggregate_result import AggregateResult
    from equity_metrics.models.did.results import StaggeredDiDResult
    from equity_metrics.models.did_classic import DiD2x2Result, TWFEResult
    from equity_metrics.models.efficient import EfficientResult
    from equity_metrics.models.its import ITSResult
    from equity_metrics.models.panel import PanelResult
    from equity_metrics.models.synth import SynthResult
    from equity_metrics.report._headline import HeadlineComparison
    from equity_metrics.report.protection import ProtectedTables

    return [EventCounts, LinkedResult, StageRRIResult, RatioChangeResult, DisparityResult, OutcomeTestResult,
            PooledRatioResult, PublishedComparison, StandardisedResult, TrendResult, EventStudyResult, ShareChange,
            UntrainedLevel, AggregateResult, StaggeredDiDResult, DiD2x2Result, TWFEResult, EfficientResult,
            ITSResult, PanelResult, SynthResult, HeadlineComparison, ProtectedTables]


@pytest.mark.parametrize("cls", _base_classes(), ids=lambda c: c.__name__)
def test_every_results_class_has_the_base(cls):
    assert issubclass(cls, ResultBase)
    for m in ("to_csv", "to_excel", "_repr_html_", "summary", "tidy"):
        assert callable(getattr(cls, m))


def _stops_pop():
    stops = em.datasets.load_sample_stops()
    pop = em.datasets.load_sample_population()
    return stops, pop


def test_disparity_result_protocol(tmp_path):
    stops, pop = _stops_pop()
    r = em.disparity(stops, pop, by="force")
    assert str(r) == r.summary()
    r.table.loc[r.table.index[0], "force"] = EVIL  # data-derived text reaches every output
    h = r._repr_html_()
    assert "<script>" not in h
    back, xb = _check_exports(r, tmp_path, "force")
    for b in (back, xb):
        assert pd.api.types.is_numeric_dtype(b["ratio"])


def test_staggered_did_results_protocol(tmp_path):
    rng = np.random.default_rng(0)
    n, T = 60, 6
    g = rng.choice([0, 3, 5], size=n)
    t = np.arange(1, T + 1)
    y = rng.normal(size=n)[:, None] + 0.3 * t[None, :] + np.where((g[:, None] > 0) & (t[None, :] >= g[:, None]), 1.0, 0.0)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": (y + rng.normal(scale=0.5, size=y.shape)).ravel()})
    r = em.staggered_did(df, outcome="y", unit="id", time="t", first_treated="g")
    for res in (r, r.aggregate("dynamic")):
        assert str(res) == res.summary()
        assert "<script>" not in res._repr_html_()
        back, xb = _check_exports(res, tmp_path)
        num = [c for c in res.tidy().columns if pd.api.types.is_float_dtype(res.tidy()[c])]
        assert num and all(pd.api.types.is_numeric_dtype(back[c]) for c in num)


# ----------------------------------------------------------------------------- step 2: ticks and labels
def _tick_texts(ax) -> list[str]:
    ax.figure.canvas.draw()
    major = [t.get_text() for t in ax.get_xticklabels()]
    minor = [t.get_text() for t in ax.get_xticklabels(minor=True)]
    return major + minor


def test_forest_plot_log_ticks_are_plain_numbers():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from equity_metrics.plots import forest_plot

    est = np.array([0.6, 1.2, 3.0])
    ax = forest_plot(["a", "b", "c"], est, est * 0.9, est * 1.1, log=True)
    texts = [t for t in _tick_texts(ax) if t]
    assert texts and not any("10^" in t or "times" in t or "$" in t for t in texts)
    vals = [float(t) for t in texts]  # every label is a plain number
    assert {1.0, 2.0, 3.0} <= set(vals) and min(vals) >= 0.5 and max(vals) <= 3
    plt.close(ax.figure)


def test_results_plot_labels_are_readable():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stops, pop = _stops_pop()
    ax = em.disparity(stops, pop, by="force").plot()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels and not any(" | " in s for s in labels)
    assert not any(part == "all" for s in labels for part in s.split(", "))
    assert any(", " in s for s in labels)  # e.g. "eastmoor, Asian"
    texts = [t for t in _tick_texts(ax) if t]
    assert not any("10^" in t for t in texts)
    plt.close(ax.figure)


def test_row_label_and_report_share_the_helper():
    from equity_metrics.plots._ticks import row_label

    assert row_label(["eastmoor", "all", "Asian"]) == "eastmoor, Asian"
    import equity_metrics.report.figures as fig

    assert "log_ratio_ticks" in open(fig.__file__).read()
