"""The canonical data model: events, populations, training records and counts.

Every reader produces one of these tables; every measure and model consumes
them. The full description, with examples, is in ``docs/data-model.md``; the
column lists below are the single source of truth and :func:`conform` enforces
them (missing optional columns are added as typed NA, columns are ordered,
source-specific extra columns are kept after the canonical ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from ._options import check_option
from .errors import DataValidationError, closest_matches
from .ethnicity import BROAD_GROUPS

__all__ = [
    "Column",
    "EVENTS",
    "POPULATION",
    "TRAINING",
    "COUNTS",
    "SURVEY",
    "EVENT_TYPES",
    "AGE_BANDS",
    "SEXES",
    "TableKind",
    "conform",
    "columns_of",
    "describe",
]

TableKind = Literal["events", "population", "training", "counts", "survey"]

EVENT_TYPES = ("stop", "search", "use_of_force", "complaint", "arrest", "other")
#: police.uk age bands, in order.
AGE_BANDS = ("under 10", "10-17", "18-24", "25-34", "over 34")
SEXES = ("Male", "Female", "Other", "Not stated")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    required: bool
    description: str


EVENTS: tuple[Column, ...] = (
    Column("event_id", "string", True, "Stable identifier: source file and line, or the source's own id"),
    Column("event_type", "category", True, f"One of {', '.join(EVENT_TYPES)}"),
    Column("source", "category", True, "Reader that produced the row (policeuk, policeuk_api, opp, mapped, synthetic)"),
    Column("datetime", "datetime64[ns, tz]", True, "Local date-time of the event (tz-aware, in the area's time zone)"),
    Column("datetime_raw", "string", False, "The original timestamp text, unchanged"),
    Column("time_known", "boolean", False, "False when the source gives a date without a time (e.g. police.uk local midnight)"),
    Column("month", "period[M]", True, "Local calendar month of the event"),
    Column("file_month", "period[M]", False, "Month the source file is labelled with (police.uk)"),
    Column("force", "category", False, "Police force area, as the police.uk slug (see equity_metrics.areas)"),
    Column("district", "category", False, "Borough / district / local authority where given"),
    Column("beat", "category", False, "Beat or neighbourhood where given"),
    Column("latitude", "float64", False, "Latitude (coarsened by police.uk)"),
    Column("longitude", "float64", False, "Longitude"),
    Column("officer_id", "string", False, "Officer identifier where present (never shown in reader-facing outputs)"),
    Column("ethnicity", "category", True, "Harmonised group of the chosen field (UK: Asian, Black, Mixed, White, Other, Not stated)"),
    Column("ethnicity_detailed", "category", False, "Detailed group (census 18/19 groups) of the chosen field"),
    Column("ethnicity_raw", "string", False, "Raw value of the chosen field (a category in the police.uk readers)"),
    Column("ethnicity_source", "category", False, "Which field the group came from: self_defined, officer_defined, recorded or none"),
    Column("self_defined_ethnicity_raw", "category", False, "Raw self-defined ethnicity"),
    Column("officer_defined_ethnicity_raw", "category", False, "Raw officer-defined ethnicity"),
    Column("officer_defined_ethnicity", "category", False, "Harmonised officer-defined group"),
    Column("sex", "category", False, f"One of {', '.join(SEXES)}"),
    Column("sex_raw", "category", False, "Raw sex/gender value"),
    Column("age_band", "category", False, "Age band (police.uk bands, ordered)"),
    Column("age", "float64", False, "Age in years where given"),
    Column("search_type", "category", False, "police.uk Type: Person search, Person and Vehicle search, Vehicle search"),
    Column("vehicle_only", "boolean", False, "True for vehicle-only searches (excluded from rates of people searched)"),
    Column("legal_power", "category", False, "Legislation or legal basis / reason"),
    Column("object_of_search", "category", False, "What was searched for"),
    Column("outcome", "category", False, "Outcome of the event"),
    Column("arrest", "boolean", False, "True when the outcome was an arrest"),
    Column("search_conducted", "boolean", False, "True when a search took place (always True for police.uk rows)"),
    Column("hit", "boolean", False, "A find: outcome other than no further action and linked to the object of search "
           "(police.uk; see equity_metrics.outcome_codes) / contraband found (US sources); NA where not recorded"),
    Column("outcome_linked", "boolean", False, "police.uk 'Outcome linked to object of search' as published (raw; "
           "True on many no-further-action rows in some forces: not a find on its own)"),
    Column("strip_search", "boolean", False, "Removal of more than outer clothing"),
    Column("policing_operation", "boolean", False, "Part of a policing operation"),
    Column("policing_operation_name", "string", False, "Name of the operation"),
    Column("duplicate", "boolean", False, "Exact repeat of an earlier row of the same file (kept, counted)"),
    Column("source_file", "category", True, "Input file (archive::member for archives)"),
    Column("source_line", "Int64", False, "Physical line of the record in its file (header = line 1)"),
)

POPULATION: tuple[Column, ...] = (
    Column("area", "string", True, "Area key (police.uk force slug, or normalised area name)"),
    Column("area_name", "string", False, "Area name as given by the source"),
    Column("area_code", "string", False, "Official area code (e.g. E23000001) where given"),
    Column("area_type", "category", True, "force, local_authority, country, ..."),
    Column("group", "category", True, "Harmonised broad group"),
    Column("group_detailed", "category", False, "Detailed group where given"),
    Column("group_raw", "string", False, "The source's label"),
    Column("sex", "category", False, "Sex, or 'All'"),
    Column("age_band", "string", False, "Age band or single year of age, or 'All'"),
    Column("population", "float64", True, "Count of people"),
    Column("source", "string", True, "Source table (e.g. ONS QS201EW)"),
    Column("vintage", "string", True, "Census or estimate vintage (census2011, census2021, ...)"),
)

TRAINING: tuple[Column, ...] = (
    Column("officer_id", "string", False, "Officer identifier (None for unit- or force-level training)"),
    Column("unit", "string", False, "Unit trained (None for officer-level records)"),
    Column("force", "string", False, "Force"),
    Column("level", "category", True, "officer, unit or force"),
    Column("course", "string", True, "Course name"),
    Column("completed", "datetime64[ns]", True, "Date the course was completed"),
    Column("started", "datetime64[ns]", False, "Date the course started, where given"),
    Column("appointed", "datetime64[ns]", False, "Officer's appointment date, where given"),
    Column("resigned", "datetime64[ns]", False, "Officer's resignation date, where given"),
    Column("sex", "category", False, "Officer's sex, where given"),
    Column("source_file", "string", True, "Input file"),
    Column("source_line", "Int64", False, "Line or sheet row in the input"),
)

COUNTS: tuple[Column, ...] = (
    Column("area", "string", True, "Area key (police.uk slug for forces)"),
    Column("area_name", "string", False, "Area name as given"),
    Column("area_type", "category", False, "force, country, region, ..."),
    Column("group", "category", True, "Harmonised group (broad), or 'All'"),
    Column("group_detailed", "category", False, "Detailed group, where the row is detailed"),
    Column("group_raw", "string", False, "The source's label"),
    Column("group_scheme", "string", False, "The source's classification (e.g. ONS 2001 5+1)"),
    Column("period", "string", True, "Period label as given (e.g. 2017/18)"),
    Column("period_start", "datetime64[ns]", False, "First day of the period"),
    Column("period_end", "datetime64[ns]", False, "Last day of the period"),
    Column("measure", "string", True, "What is counted"),
    Column("count", "float64", False, "The count (NaN where the source shows none, with count_flag)"),
    Column("count_flag", "string", False, "Why count is missing or doubtful: the source's marker ('-', 'N/A', '..', 'x', '*', 'c', 'z'), 'blank', 'negative' or 'unparseable' (raw text kept in unparsed_raw)"),
    Column("population", "float64", False, "Denominator given by the source"),
    Column("published_rate", "float64", False, "Rate published by the source (per 1,000)"),
    Column("source_file", "string", True, "Input file"),
    Column("source_line", "Int64", False, "Line in the input"),
)

SURVEY: tuple[Column, ...] = (
    Column("area", "string", True, "Area key (e.g. Chicago district '25', London borough slug, 'city')"),
    Column("area_name", "string", False, "Area name as given by the source"),
    Column("area_type", "category", True, "city, area, district, sector, borough, ..."),
    Column("period", "string", True, "Period label (YYYY-MM for a month, YYYY-MM-DD week start, YYYY-Qn quarter end)"),
    Column("period_type", "category", True, "month, week, quarter or a rolling window ending in the period"),
    Column("period_start", "datetime64[ns]", True, "First day the estimate covers"),
    Column("period_end", "datetime64[ns]", True, "Last day the estimate covers"),
    Column("window_months", "float64", False, "Months of fieldwork behind the estimate (12 for a rolling year)"),
    Column("overlapping", "boolean", True, "True when neighbouring periods share fieldwork (rolling windows): not independent"),
    Column("measure", "string", True, "What is measured (trust, safety, good_job_local, ...)"),
    Column("group", "string", True, "Respondent group: 'All', an ethnic group (Black, White, ...) or another breakdown"),
    Column("group_type", "category", True, "all, race, age, sex, education, income"),
    Column("value", "float64", True, "The published estimate (on ``scale``)"),
    Column("scale", "string", True, "What the value means (e.g. '0-100 score', 'proportion 0-1')"),
    Column("n", "float64", False, "Respondents behind the estimate, where the source gives it"),
    Column("se", "float64", False, "Standard error, where the source gives it (or computed from respondent data)"),
    Column("source", "string", True, "Source (publisher and dataset)"),
    Column("vintage", "string", True, "Version of the source read (e.g. the dataset's last period)"),
    Column("source_file", "string", True, "Input file"),
    Column("source_line", "Int64", False, "Line in the input"),
)

_TABLES: dict[str, tuple[Column, ...]] = {
    "events": EVENTS,
    "population": POPULATION,
    "training": TRAINING,
    "counts": COUNTS,
    "survey": SURVEY,
}


def columns_of(kind: TableKind) -> list[str]:
    """The canonical column names of a table kind, in order."""
    check_option("kind", kind, TableKind)
    return [c.name for c in _TABLES[kind]]


def describe(kind: TableKind) -> pd.DataFrame:
    """The columns of a canonical table, with dtype, whether required, and meaning."""
    check_option("kind", kind, TableKind)
    return pd.DataFrame(
        [(c.name, c.dtype, c.required, c.description) for c in _TABLES[kind]],
        columns=["column", "dtype", "required", "description"],
    )


def _empty(dtype: str, n: int, index) -> pd.Series:
    if dtype.startswith("datetime64[ns, tz"):
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if dtype == "period[M]":
        return pd.Series(pd.NaT, index=index, dtype="period[M]")
    if dtype == "category":
        return pd.Series(pd.Categorical([None] * n), index=index)
    if dtype == "float64":
        return pd.Series(float("nan"), index=index, dtype="float64")
    if dtype == "datetime64[ns]":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    return pd.Series(pd.NA, index=index, dtype=dtype)


def conform(df: pd.DataFrame, kind: TableKind, *, strict: bool = True) -> pd.DataFrame:
    """Return ``df`` with the canonical columns of ``kind`` in order.

    Missing optional columns are added as typed NA; extra columns are kept at the
    end. With ``strict=True`` a missing required column raises
    :class:`~equity_metrics.errors.DataValidationError`.

    Examples
    --------
    >>> import pandas as pd
    >>> t = conform(pd.DataFrame({"area": ["kent"], "area_type": ["force"], "group": ["Black"],
    ...     "population": [1.0], "source": ["x"], "vintage": ["census2011"]}), "population")
    >>> list(t.columns)[:4]
    ['area', 'area_name', 'area_code', 'area_type']
    """
    check_option("kind", kind, TableKind)
    spec = _TABLES[kind]
    missing = [c.name for c in spec if c.required and c.name not in df.columns]
    if strict and missing:
        hints = {m: closest_matches(m, df.columns) for m in missing}
        raise DataValidationError(
            f"a {kind} table needs column(s) {missing}; closest found: {hints}. "
            f"See equity_metrics.schema.describe({kind!r})"
        )
    out = {}
    for c in spec:
        if c.name in df.columns:
            out[c.name] = df[c.name]
        else:
            out[c.name] = _empty(c.dtype, len(df), df.index)
    extra = [c for c in df.columns if c not in out]
    for c in extra:
        out[c] = df[c]
    res = pd.DataFrame(out, index=df.index, copy=False)  # columns are not copied: copy-on-write protects them
    if "group" in res.columns and kind in ("population", "counts") and not isinstance(res["group"].dtype, pd.CategoricalDtype):
        cats = [g for g in BROAD_GROUPS if g in set(res["group"].dropna())]
        cats += sorted(set(res["group"].dropna().astype(str)) - set(cats))
        res["group"] = pd.Categorical(res["group"], categories=cats)
    return res
