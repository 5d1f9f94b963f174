"""Chicago crisis intervention team (CIT) training and use of force: a staggered-rollout analysis.

Question: did completing the 40-hour CIT course change how often officers
filed tactical response (use-of-force) reports?

Data (Invisible Institute FOIA releases, in ``../shared/data/chicago``):

* the CIT roster (FOIA P050308, run 2016-08-19): officers *active on that
  date* who completed the course, with the session end date, 2004-10..2016-08;
* tactical response reports 2004-01..2016-04, one per report, with the
  reporting officer;
* the officer master profiles (appointment and resignation dates): the
  population of officers, including those who never filed a report.

Design:

* unit = officer, period = month (or quarter); outcome = use-of-force reports
  filed in the period;
* officers in service on the roster's run date only (the roster lists active
  officers, so trained officers who left earlier are invisible: comparing them
  with all officers would mix "left the force" with "untrained");
* the window defaults to 2010-01..2016-03 (2016-04 is a partial month in the
  release), with officers in service throughout (a balanced panel);
* first treated = the first full period after the course ended;
* Callaway & Sant'Anna group-time effects with not-yet-treated comparison
  officers (most officers are never trained in the window, but officers trained
  later are the closer comparison), doubly robust, analytic standard errors
  clustered by officer; event-study (dynamic) aggregation and a pre-trend test
  on the event-study leads. TWFE is reported only as a labelled comparison.

What it cannot show: officers chose or were chosen for CIT (it is voluntary),
so trained and untrained officers may differ in ways that change over time; the
pre-trend test is the check on that, and when it fails the estimate is not a
causal effect. Reports per officer do not measure the *appropriateness* of force
or what happened in mental-health calls specifically.

Examples
--------
>>> from equity_metrics.examples import chicago_cit_analysis
>>> res = chicago_cit_analysis("../shared/data/chicago")  # doctest: +SKIP
>>> print(res.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import html
from statistics import NormalDist
import os
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..io.chicago import CIT_FILE, read_chicago_cit_roster, read_chicago_officers, read_chicago_use_of_force
from ..ledger import ReadResult
from ..models.did import StaggeredDiDResult, staggered_did
from ..models.did.results import AggregateResult, PretrendTest
from ..models.did_classic import twfe
from ..models.panel import PanelResult, build_panel

__all__ = ["ChicagoCITResult", "chicago_cit_analysis", "chicago_cit_panel", "ROSTER_RUN_DATE"]

ROSTER_RUN_DATE = "2016-08-19"
Period = Literal["M", "Q"]
_DEFAULT_WINDOW = {"M": ("2010-01", "2016-03"), "Q": ("2010Q1", "2016Q1")}


@dataclass
class ChicagoInputs:
    """The three Chicago tables read for the analysis (with their ledgers)."""

    use_of_force: ReadResult
    roster: ReadResult
    officers: ReadResult


def read_chicago_inputs(folder: str | os.PathLike = "../shared/data/chicago") -> ChicagoInputs:
    """Read the use-of-force reports, the CIT roster and the officers in service on the roster date."""
    folder = os.fspath(folder)
    return ChicagoInputs(
        use_of_force=read_chicago_use_of_force(folder),
        roster=read_chicago_cit_roster(os.path.join(folder, CIT_FILE)),
        officers=read_chicago_officers(folder, in_service_on=ROSTER_RUN_DATE),
    )


def chicago_cit_panel(
    folder: str | os.PathLike = "../shared/data/chicago",
    *,
    period: Period = "M",
    start: str | None = None,
    end: str | None = None,
    inputs: ChicagoInputs | None = None,
) -> PanelResult:
    """Officer x period panel of use-of-force reports with CIT training status.

    Parameters
    ----------
    folder
        Folder with the Invisible Institute files.
    period
        ``"M"`` (officer-months) or ``"Q"`` (officer-quarters).
    start, end
        Window (default 2010-01..2016-03, or 2010Q1..2016Q1).
    inputs
        Already-read inputs (:func:`read_chicago_inputs`), to avoid reading twice.

    Returns
    -------
    PanelResult
        Balanced: officers in service in every period of the window.
    """
    check_option("period", period, Period)
    s0, e0 = _DEFAULT_WINDOW[period]
    inp = inputs or read_chicago_inputs(folder)
    return build_panel(
        inp.use_of_force, inp.roster, unit="officer_id", period=period, outcome="use_of_force",
        start=start or s0, end=end or e0, officers=inp.officers.data, balanced=True, treated_from="next",
    )


@dataclass(eq=False)
class ChicagoCITResult:
    """Result of :func:`chicago_cit_analysis`.

    Attributes
    ----------
    panel
        The officer x period panel (:class:`PanelResult`).
    did
        Callaway & Sant'Anna fit (:class:`StaggeredDiDResult`).
    simple, dynamic
        Overall and event-study aggregations.
    pretrend
        Joint test of the event-study leads (``pretrend_test("event_time")``).
    twfe_estimate, twfe_std_error
        Two-way fixed effects coefficient (a labelled comparison only: biased
        under staggered timing with changing effects).
    baseline_rate
        Mean reports per officer-period among not-yet-trained officer-periods
        of the treated cohorts (the scale for the effect).
    ledgers
        Text summaries of the three readers' ledgers.
    """

    panel: PanelResult
    did: StaggeredDiDResult
    simple: AggregateResult
    dynamic: AggregateResult
    pretrend: PretrendTest
    twfe_estimate: float
    twfe_std_error: float
    baseline_rate: float
    period: str
    alpha: float = 0.05
    ledgers: dict[str, str] = field(default_factory=dict)

    @property
    def pretrends_ok(self) -> bool:
        """Whether the joint test of the leads does not reject at ``alpha``."""
        return self.pretrend.p_value >= self.alpha

    def verdict(self) -> str:
        """A plain-language verdict that does not overclaim."""
        o = self.simple.overall
        unit = "officer-month" if self.period == "M" else "officer-quarter"
        pct = lambda v: 100 * v / self.baseline_rate  # noqa: E731
        est = (f"{o.estimate:+.4f} reports per {unit} (95% CI {o.ci_low:+.4f} to {o.ci_high:+.4f}), "
               f"{pct(o.estimate):+.0f}% of the untrained rate of {self.baseline_rate:.3f}")
        clear = o.ci_low > 0 or o.ci_high < 0
        if not self.pretrends_ok:
            return (f"Not a reliable estimate of the training's effect: before training, the officers who later "
                    f"took CIT were already on a different path from the comparison officers (pre-trend test "
                    f"p = {self.pretrend.p_value:.2g}). The difference after training is {est}; it mixes any "
                    "effect of the course with who chose or was chosen to take it.")
        if not clear:
            return (f"No statistically clear change in use-of-force reports after CIT training: {est}. "
                    "The interval is compatible with no effect; effects as large as its ends cannot be ruled out.")
        word = "fewer" if o.estimate < 0 else "more"
        return (f"Trained officers filed {word} use-of-force reports than comparable not-yet-trained officers: "
                f"{est}. Pre-trends pass (p = {self.pretrend.p_value:.2g}), but selection into a voluntary course "
                "on unobserved, time-varying traits cannot be ruled out.")

    def tidy(self) -> pd.DataFrame:
        """Estimates: overall (CS simple and dynamic), TWFE comparison, and the event-study levels."""
        rows = []
        for name, agg in (("cs_simple", self.simple), ("cs_dynamic_post", self.dynamic)):
            o = agg.overall
            rows.append({"term": name, "event_time": np.nan, "estimate": o.estimate, "std_error": o.std_error,
                         "ci_low": o.ci_low, "ci_high": o.ci_high})
        z = NormalDist().inv_cdf(1 - self.alpha / 2)  # same level as the CS intervals
        rows.append({"term": "twfe_comparison", "event_time": np.nan, "estimate": self.twfe_estimate,
                     "std_error": self.twfe_std_error, "ci_low": self.twfe_estimate - z * self.twfe_std_error,
                     "ci_high": self.twfe_estimate + z * self.twfe_std_error})
        lv = self.dynamic.levels
        for r in lv.itertuples(index=False):
            rows.append({"term": "cs_event_time", "event_time": float(r.level), "estimate": r.estimate,
                         "std_error": r.std_error, "ci_low": r.ci_low, "ci_high": r.ci_high})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        p = self.panel.report
        o, d = self.simple.overall, self.dynamic.overall
        unit = "officer-month" if self.period == "M" else "officer-quarter"
        lines = [
            "Chicago CIT (40-hour crisis intervention) training and use-of-force reports",
            "=" * 76,
            f"Panel: {p.n_units:,} officers x {p.n_periods} periods ({p.start} .. {p.end}), {p.n_rows:,} {unit}s; "
            f"{len(p.cohorts)} training cohorts; {p.never_treated:,} officers not trained in the window",
            f"Officers trained before the window (dropped by the estimator): {p.treated_before_start:,}; "
            f"trained after it (comparison): {p.treated_after_end:,}",
            f"Untrained rate (treated cohorts, before training): {self.baseline_rate:.4f} reports per {unit}",
            "",
            "Callaway & Sant'Anna (doubly robust, not-yet-treated comparison, SEs clustered by officer):",
            f"  overall ATT (simple):        {o.estimate:+.5f}  SE {o.std_error:.5f}  95% CI [{o.ci_low:+.5f}, {o.ci_high:+.5f}]",
            f"  event-study average (e>=0):  {d.estimate:+.5f}  SE {d.std_error:.5f}  95% CI [{d.ci_low:+.5f}, {d.ci_high:+.5f}]",
            f"  {self.pretrend}",
            f"TWFE comparison only (biased under staggered timing): {self.twfe_estimate:+.5f} (SE {self.twfe_std_error:.5f})",
            "",
            "Verdict: " + self.verdict(),
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<ChicagoCITResult ATT {self.simple.overall.estimate:+.5f} ({self.panel.report.n_units:,} officers)>"

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"

    def plot(self, *, ax=None):
        """Event-study plot of the dynamic aggregation (leads and lags with intervals)."""
        return self.dynamic.plot(ax=ax)


def chicago_cit_analysis(
    folder: str | os.PathLike = "../shared/data/chicago",
    *,
    period: Period = "M",
    start: str | None = None,
    end: str | None = None,
    min_e: int | None = None,
    alpha: float = 0.05,
    inputs: ChicagoInputs | None = None,
) -> ChicagoCITResult:
    """Run the whole Chicago CIT analysis (see the module docstring for the design).

    Parameters
    ----------
    folder, period, start, end, inputs
        As :func:`chicago_cit_panel`.
    min_e
        Earliest event time in the event study and the pre-trend test
        (default: -12 months or -4 quarters).
    alpha
        ``1 - alpha`` confidence.

    Returns
    -------
    ChicagoCITResult
    """
    inp = inputs or read_chicago_inputs(folder)
    panel = chicago_cit_panel(folder, period=period, start=start, end=end, inputs=inp)
    lead = min_e if min_e is not None else (-12 if period == "M" else -4)
    res = staggered_did(panel, control="not_yet_treated", method="dr", alpha=alpha)
    dyn = res.aggregate("dynamic", min_e=lead, max_e=-lead)
    with warnings.catch_warnings():  # the staggered-timing warning: TWFE is labelled as a comparison only
        warnings.simplefilter("ignore", UserWarning)
        tw = twfe(panel, outcome="use_of_force")
    tw_row = tw.tidy().iloc[0]
    d = panel.data
    pre = d[(d["first_treated"] > 0) & (d["time"] < d["first_treated"])]
    return ChicagoCITResult(
        panel=panel, did=res, simple=res.aggregate("simple"), dynamic=dyn,
        pretrend=res.pretrend_test("event_time", min_e=lead),
        twfe_estimate=float(tw_row["estimate"]), twfe_std_error=float(tw_row["std_error"]),
        baseline_rate=float(pre["use_of_force"].mean()), period=period, alpha=alpha,
        ledgers={"use_of_force": inp.use_of_force.ledger.summary(), "roster": inp.roster.ledger.summary(),
                 "officers": inp.officers.ledger.summary()},
    )


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - thin wrapper
    """``python -m equity_metrics.examples.chicago_cit [FOLDER] [M|Q]``: print the analysis."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    folder = args[0] if args else "../shared/data/chicago"
    period = args[1] if len(args) > 1 else "M"
    print(chicago_cit_analysis(folder, period=period).summary())  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
