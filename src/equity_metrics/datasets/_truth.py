"""The planted truth of a synthetic data set, as a frozen dataclass that round-trips through JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SyntheticTruth:
    """Every planted parameter and the expected values analyses should recover.

    Rates are searches of people (vehicle-only searches excluded) per 1,000
    residents per year. ``*_ratio`` values are relative to ``White``. Keys are area
    slugs and group names; event times are ints. See ``docs/synthetic-data.md``.

    Outcomes: ``find_rate`` is the true share of searches that find their object under
    the Home Office definition (an outcome other than no further action, linked to the
    object of search), by group; ``any_outcome_rate`` the share with any outcome other
    than no further action; ``arrest_rate`` the share ending in arrest. Whether a force's
    records allow a find rate at all is ``find_rate_recorded`` (expected
    ``linked_coverage`` >= ``outcome_codes.LINKED_COVERAGE_MIN``); ``naive_linked_rate``
    is what counting ``Outcome linked to object of search`` = True alone would give.
    """

    seed: int
    params: dict[str, Any]
    areas: list[str]
    months: list[str]
    missing_force_months: list[list[str]]
    header_only_force_months: list[list[str]]
    # stop and search
    base_rate: dict[str, float]
    rate_ratio: dict[str, float]
    age_factor: dict[str, float]
    sex_factor: dict[str, float]
    age_structure: dict[str, list[float]]
    standardised_ratio: dict[str, dict[str, float]]
    crude_ratio: dict[str, dict[str, float]]
    crude_ratio_pooled: dict[str, float]
    crude_rate_per_1000: dict[str, dict[str, float]]
    standardised_rate_per_1000: dict[str, dict[str, float]]
    expected_searches: dict[str, dict[str, float]]
    population: dict[str, dict[str, int]]
    months_with_searches: dict[str, int]
    not_stated_share: float
    not_stated_label_share: float
    self_defined_blank_share: float
    officer_defined_blank_share: dict[str, float]
    officer_confusion: dict[str, dict[str, float]]
    officer_agreement: dict[str, float]
    hit_rate: dict[str, float]
    arrest_rate: dict[str, float]
    arrest_if_hit: float
    arrest_if_no_hit: float
    outcome_linked_blank_share: float
    vehicle_only_per_month: float
    vehicle_only_hit_rate: float
    duplicate_share: float
    date_only_share: float
    age_blank_share: float
    gender_blank_share: float
    # how each force records searches (docs/synthetic-data.md, "Recording profiles")
    find_rate: dict[str, float] = field(default_factory=dict)
    any_outcome_rate: dict[str, float] = field(default_factory=dict)
    nfa_if_no_find: float = 0.0
    recording: dict[str, dict[str, Any]] = field(default_factory=dict)
    linked_coverage: dict[str, float] = field(default_factory=dict)
    find_rate_recorded: dict[str, bool] = field(default_factory=dict)
    naive_linked_rate: dict[str, dict[str, float | None]] = field(default_factory=dict)
    not_stated_share_by_area: dict[str, float] = field(default_factory=dict)
    self_defined_blank_share_by_area: dict[str, float] = field(default_factory=dict)
    outcome_blank_share: dict[str, float] = field(default_factory=dict)
    coverage: dict[str, dict[str, Any]] = field(default_factory=dict)
    # officers and training
    officers: dict[str, Any] = field(default_factory=dict)
    cohorts: list[str] = field(default_factory=list)
    never_treated_share: float = 0.0
    uof_rate_ratio: float = 1.0
    uof_rate_ratio_by_event_time: dict[int, float] = field(default_factory=dict)
    black_share_ratio: float = 1.0
    month_effect: dict[str, float] = field(default_factory=dict)
    black_share_trend: dict[str, float] = field(default_factory=dict)
    att_uof: float = 0.0
    att_uof_by_event_time: dict[int, float] = field(default_factory=dict)
    att_uof_by_cohort: dict[str, float] = field(default_factory=dict)
    att_uof_rate_ratio: float = 1.0
    att_black_share: float = 0.0
    att_black_share_by_event_time: dict[int, float] = field(default_factory=dict)
    att_black_share_by_cohort: dict[str, float] = field(default_factory=dict)
    att_black_share_search_weighted: float = 0.0
    n_treated_officer_months: int = 0
    n_officer_months: int = 0

    _INT_KEYED = ("uof_rate_ratio_by_event_time", "att_uof_by_event_time", "att_black_share_by_event_time")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (event-time keys become strings)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in self._INT_KEYED:
                v = {str(k): x for k, x in v.items()}
            out[f.name] = _jsonable(v)
        return out

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8", newline="\n")
        return text

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SyntheticTruth:
        kw = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            if f.name in cls._INT_KEYED:
                v = {int(k): x for k, x in v.items()}
            kw[f.name] = v
        return cls(**kw)

    @classmethod
    def from_json(cls, path: str | Path) -> SyntheticTruth:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _round(x: float, sig: int = 10) -> float:
    if x == 0 or not np.isfinite(x):
        return float(x)
    return float(f"{x:.{sig}g}")


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return _round(float(v))
    return v
