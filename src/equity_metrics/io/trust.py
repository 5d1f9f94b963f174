"""Readers for community trust and confidence surveys: one canonical "survey measures" table.

Three readers return a :class:`~equity_metrics.ledger.ReadResult` of kind ``"survey"``
(columns: ``equity_metrics.schema.SURVEY``): one row per area x period x measure x
respondent group, with the published value, its scale, and the sample size and standard
error where the source gives them.

* :func:`read_chicago_sentiment`: the Chicago Police Sentiment Scores (Elucd for CPD,
  City of Chicago Data Portal ``28me-84fj``): city, area, district and sector rows,
  monthly and (city/area only) weekly, trust and safety overall and by race, age, sex,
  education and income on a 0-100 scale (mean of 0-10 answers x 10).
* :func:`read_london_pas`: MOPAC's Public Attitude Survey borough dashboard: 32 boroughs x
  quarters x 8 confidence measures, proportions, rolling 12-month windows (neighbouring
  quarters share fieldwork, marked ``overlapping``), plus the London-wide value.
* :func:`read_survey_table`: any other published table of survey estimates (a force's own
  survey), by naming its columns.

Respondent-level files with weights (e.g. MOPAC's PAS microdata) are not "measures" yet:
:func:`equity_metrics.measures.survey_estimates` turns them into this table with
design-based standard errors.

Every input row is accounted for: kept, or rejected with its file, line, raw values and
reason (exact duplicates and conflicting rows for the same area and period included).
A wide input row becomes several output rows, so the ledger counts input rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..errors import DataValidationError
from ..ledger import Ledger, ReadResult, Rejects
from ..schema import conform
from ._numbers import reject_frame
from ._sources import PathLike, iter_files, parse_csv_text, raw_json
from .official import _file_record, _start  # the same per-file bookkeeping as the gov.uk readers

__all__ = ["read_chicago_sentiment", "read_london_pas", "read_survey_table", "CHICAGO_SENTIMENT_SOURCE",
           "LONDON_PAS_SOURCE"]

CHICAGO_SENTIMENT_SOURCE = "Chicago Police Sentiment Scores (Elucd for CPD; data portal 28me-84fj)"
LONDON_PAS_SOURCE = "MOPAC Public Attitude Survey, trust and confidence dashboard (borough sheet)"

_CHI_MEASURES = {"S": "safety", "T": "trust", "T_LISTEN": "trust_listen", "T_RESPECT": "trust_respect"}
_CHI_GROUPS = {
    "RACE_AFRICAN_AMERICAN": ("race", "Black"),
    "RACE_ASIAN_AMERICAN": ("race", "Asian"),
    "RACE_HISPANIC": ("race", "Hispanic"),
    "RACE_WHITE": ("race", "White"),
    "RACE_OTHER": ("race", "Other"),
    "AGE_LOW": ("age", "age_low"),
    "AGE_MEDIUM": ("age", "age_medium"),
    "AGE_HIGH": ("age", "age_high"),
    "SEX_FEMALE": ("sex", "Female"),
    "SEX_MALE": ("sex", "Male"),
    "EDUCATION_LOW": ("education", "education_low"),
    "EDUCATION_MEDIUM": ("education", "education_medium"),
    "EDUCATION_HIGH": ("education", "education_high"),
    "INCOME_LOW": ("income", "income_low"),
    "INCOME_MEDIUM": ("income", "income_medium"),
    "INCOME_HIGH": ("income", "income_high"),
}
_CHI_KEYS = ["CITY", "AREA", "DISTRICT", "SECTOR", "START_DATE", "END_DATE"]
_CHI_SCALE = "0-100 score (mean of 0-10 answers x 10)"


def _add_reason(led: Ledger, reason: str, n: int) -> None:
    if n:
        led.rejected_by_reason[reason] = led.rejected_by_reason.get(reason, 0) + int(n)


def _reject(rej: list[pd.DataFrame], led: Ledger, parsed, mask: np.ndarray, column: str | None, values, reason) -> None:
    if not mask.any():
        return
    reasons = [reason] * int(mask.sum()) if isinstance(reason, str) else list(reason)
    vals = [None] * int(mask.sum()) if values is None else list(values)
    rej.append(reject_frame(parsed.name, parsed.lines[mask], np.flatnonzero(mask) + 1, column, vals, reasons,
                            raw_json(parsed.frame, mask)))
    for r in reasons:
        _add_reason(led, r, 1)


def _id_text(s: pd.Series) -> pd.Series:
    """Identifiers as text: '14.0' -> '14' (ids saved as floats by a spreadsheet), blanks kept blank."""
    t = s.astype(str).str.strip()
    return t.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _numbers(s: pd.Series, *, decimal: str) -> tuple[pd.Series, pd.Series]:
    """Parse published decimals; return (values, bad mask) where bad = present but not a number."""
    t = s.astype(str).str.strip()
    if decimal == ",":
        t = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    v = pd.to_numeric(t.where(t != ""), errors="coerce")
    bad = v.isna() & (t != "")
    return v.astype("float64"), bad


def _dates(s: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(s.astype(str).str.strip(), format=fmt, errors="coerce")


def _finish(parts: list[pd.DataFrame], led: Ledger, rej: list[pd.DataFrame]) -> ReadResult:
    cols = ["area", "area_type", "period", "period_type", "period_start", "period_end", "overlapping", "measure",
            "group", "group_type", "value", "scale", "source", "vintage", "source_file"]
    if parts:
        data = pd.concat(parts, ignore_index=True)
    else:
        data = pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    if len(data):
        data = data.sort_values(["source_file", "area_type", "area", "period_type", "period_start", "measure",
                                 "group_type", "group"], kind="stable").reset_index(drop=True)
    for c in ("area", "area_name", "period", "measure", "group", "scale", "source", "vintage", "source_file"):
        if c in data.columns:
            data[c] = data[c].astype("string")
    for c in ("area_type", "period_type", "group_type"):
        if c in data.columns:
            data[c] = data[c].astype("category")
    if "overlapping" in data.columns:
        data["overlapping"] = data["overlapping"].astype("boolean")
    if "source_line" in data.columns:
        data["source_line"] = data["source_line"].astype("Int64")
    data = conform(data, "survey")
    led.rejected_by_reason = dict(sorted(led.rejected_by_reason.items()))
    led.missing_by_field = dict(sorted(led.missing_by_field.items()))
    led.unknown_by_field = dict(sorted(led.unknown_by_field.items()))
    led.areas_covered = sorted(set(data["area"].dropna().astype(str)))
    months = data.loc[data["period_type"] == "month", "period"].dropna().astype(str)
    led.months_covered = sorted(set(months))
    return ReadResult(data=data, ledger=led, rejects=Rejects.concat(rej), kind="survey")


# ----------------------------------------------------------------------------- Chicago
def read_chicago_sentiment(path: PathLike | Iterable[PathLike], *, encoding: str = "auto") -> ReadResult:
    """Read the Chicago Police Sentiment Scores into the canonical survey table.

    Parameters
    ----------
    path
        ``chicago_police_sentiment_scores.csv`` (the data portal export), several files,
        a folder or an archive.
    encoding
        ``"auto"`` (UTF-8 with a recorded Windows-1252 fallback) or a codec name.

    Returns
    -------
    ReadResult
        ``kind="survey"``. ``area_type`` is ``city``, ``area`` (both the five ``area_N``
        and the older NORTH/CENTRAL/SOUTH schemes), ``district`` (area key = district
        number as text, e.g. ``"25"``) or ``sector`` (e.g. ``"2530"``); ``period_type``
        ``month`` (``period`` = ``YYYY-MM``) or ``week`` (``period`` = start date).
        ``group`` is ``All`` or a breakdown (race: Black, Asian, Hispanic, White, Other;
        age, sex, education, income bands). ``n`` and ``se`` are empty: the source
        publishes weighted, model-smoothed scores without sample sizes, so intervals must
        come from the design (see :func:`equity_metrics.measures.trust_gap`).

    Notes
    -----
    Quirks handled (``../shared/data/README.md``): rows are unsorted (output sorted);
    exact duplicate rows are rejected as repeats of the first (the same published
    estimate twice; reason names the line kept); two *different* rows for the same
    geography and period are both rejected (``conflicting rows``) since neither can be
    preferred; MM/DD/YYYY dates; ids saved as floats (``14.0``); blank education and
    income scores (counted in ``ledger.missing_by_field``, no output row).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = p.write_text("ORG_LEVEL,CITY,AREA,DISTRICT,SECTOR,TRUST,T_RACE_WHITE,T_RACE_AFRICAN_AMERICAN,START_DATE,END_DATE\\n"
    ...                  "Other,chicago,area_5,25.0,,60.5,66.0,52.1,01/01/2019,01/31/2019\\n")
    >>> r = read_chicago_sentiment(p)
    >>> r.data[["area", "area_type", "period", "measure", "group", "value"]].values.tolist()
    [['25', 'district', '2019-01', 'trust', 'All', 60.5], ['25', 'district', '2019-01', 'trust', 'Black', 52.1], ['25', 'district', '2019-01', 'trust', 'White', 66.0]]
    """
    led = Ledger(source="chicago_sentiment")
    parts: list[pd.DataFrame] = []
    rej: list[pd.DataFrame] = []
    for name, data in iter_files(path):
        parsed = parse_csv_text(data, name, encoding=encoding, required=_CHI_KEYS)
        _start(parsed, led, rej)
        f = parsed.frame
        n = len(f)
        keep = np.ones(n, dtype=bool)
        start = _dates(f["START_DATE"], "%m/%d/%Y")
        end = _dates(f["END_DATE"], "%m/%d/%Y")
        for col, d in (("START_DATE", start), ("END_DATE", end)):
            bad = d.isna().to_numpy() & keep
            _reject(rej, led, parsed, bad, col, f.loc[bad, col],
                    f"{col} is not a MM/DD/YYYY date: fix the date or remove the row")
            keep &= ~bad
        ids = {c: _id_text(f[c]) for c in ("AREA", "DISTRICT", "SECTOR")}
        city = f["CITY"].astype(str).str.strip().str.lower()
        # exact duplicates: keep the first, reject the repeats (same published estimate twice)
        dup = f.duplicated(keep="first").to_numpy() & keep
        if dup.any():
            key_all = pd.util.hash_pandas_object(f, index=False)
            first_line = pd.Series(parsed.lines, index=f.index).groupby(key_all.to_numpy()).transform("min")
            _reject(rej, led, parsed, dup, "line of the row kept", [int(x) for x in first_line[dup]],
                    "exact duplicate of an earlier row (the same published estimate twice; kept once: "
                    "the 'value' column gives the line kept)")
            led.notes.append(f"{name}: {int(dup.sum())} exact duplicate row(s) read once (listed in the rejects)")
            keep &= ~dup
        # conflicting rows: same geography and period, different values -> neither can be preferred
        key = pd.DataFrame({"c": city, "a": ids["AREA"], "d": ids["DISTRICT"], "s": ids["SECTOR"],
                            "st": start, "en": end})
        conflict = key.loc[keep].duplicated(keep=False).reindex(key.index, fill_value=False).to_numpy()
        _reject(rej, led, parsed, conflict, None, None,
                "conflicting rows: two different rows for the same geography and period "
                "(neither is preferred; ask the publisher which is right)")
        keep &= ~conflict
        days = (end - start).dt.days
        ptype = np.where((start.dt.day == 1) & (end == start + pd.offsets.MonthEnd(0)), "month",
                         np.where(days == 6, "week", "other"))
        other = (ptype == "other") & keep
        _reject(rej, led, parsed, other, "END_DATE", f.loc[other, "END_DATE"],
                "period is neither a calendar month nor a week: cannot be placed")
        keep &= ~other
        atype = np.where(ids["SECTOR"] != "", "sector", np.where(ids["DISTRICT"] != "", "district",
                         np.where(ids["AREA"] != "", "area", "city")))
        area = np.where(atype == "sector", ids["SECTOR"], np.where(atype == "district", ids["DISTRICT"],
                        np.where(atype == "area", ids["AREA"].str.lower(), city)))
        led.files.append(_file_record(parsed, data, int(keep.sum())))
        sub = f.loc[keep]
        if not len(sub):
            continue
        base = pd.DataFrame({
            "area": area[keep], "area_type": atype[keep],
            "period": np.where(ptype[keep] == "month", start[keep].dt.strftime("%Y-%m"),
                               start[keep].dt.strftime("%Y-%m-%d")),
            "period_type": ptype[keep], "period_start": start[keep].to_numpy(), "period_end": end[keep].to_numpy(),
            "source_line": parsed.lines[keep],
        })
        base["window_months"] = np.where(base["period_type"] == "month", 1.0, 7 / 30.4375)
        vintage = f"to {end[keep].max():%Y-%m-%d}"
        long = []
        for col in f.columns:
            m = re.fullmatch(r"(T_LISTEN|T_RESPECT|S|T)(?:_(.+))?|SAFETY|TRUST", col)
            if not m:
                continue
            if col in ("SAFETY", "TRUST"):
                meas, gtype, group = ("safety" if col == "SAFETY" else "trust"), "all", "All"
            else:
                if m.group(2) is None or m.group(2) not in _CHI_GROUPS:
                    if m.group(1) in ("T_LISTEN", "T_RESPECT") and m.group(2) is None:
                        meas, gtype, group = _CHI_MEASURES[m.group(1)], "all", "All"
                    else:
                        led.notes.append(f"{name}: column {col!r} not recognised (not read)")
                        continue
                else:
                    meas = _CHI_MEASURES[m.group(1)]
                    gtype, group = _CHI_GROUPS[m.group(2)]
            vals, bad = _numbers(sub[col], decimal=".")
            if bad.any():
                led.unknown_by_field[col] = led.unknown_by_field.get(col, 0) + int(bad.sum())
                led.notes.append(f"{name}: {int(bad.sum())} value(s) of {col} are not numbers (left out; raw in rejects)")
                bm = np.zeros(n, dtype=bool)
                bm[np.flatnonzero(keep)[bad.to_numpy()]] = True
                rej.append(reject_frame(parsed.name, parsed.lines[bm], np.flatnonzero(bm) + 1, col,
                                        f.loc[bm, col].tolist(), "value is not a number (cell left out; rest of the row kept)",
                                        raw_json(f, bm)))
            blank = vals.isna() & ~bad
            if blank.any():
                led.missing_by_field[col] = led.missing_by_field.get(col, 0) + int(blank.sum())
            ok = vals.notna().to_numpy()
            if not ok.any():
                continue
            part = base.loc[ok].copy()
            part["measure"], part["group_type"], part["group"] = meas, gtype, group
            part["value"] = vals.to_numpy()[ok]
            long.append(part)
        out = pd.concat(long, ignore_index=True)
        out["overlapping"] = False
        out["scale"] = _CHI_SCALE
        out["source"] = CHICAGO_SENTIMENT_SOURCE
        out["vintage"] = vintage
        out["source_file"] = name
        parts.append(out)
    led.choices["groups"] = "race columns mapped: AFRICAN_AMERICAN -> Black, ASIAN_AMERICAN -> Asian, HISPANIC -> Hispanic, WHITE -> White, OTHER -> Other"
    led.notes.append("no sample sizes, standard errors or weights are published (scores are weighted, "
                     "model-smoothed estimates): intervals must come from the design, not from survey n")
    return _finish(parts, led, rej)


# ----------------------------------------------------------------------------- London PAS
_LONDON_MEASURES = {
    '"good job" local': "good_job_local",
    "trust mps": "trust_mps",
    "treat everyone fairly": "treat_fairly",
    "listen to concerns": "listen_to_concerns",
    "relied on to be there": "relied_on",
    "understand issues": "understand_issues",
    "informed local": "informed_local",
    "contact ward officer": "contact_ward_officer",
}


def borough_key(name: str) -> str:
    """A stable key for a London borough name ('Richmond Upon Thames' and 'Richmond upon Thames' agree).

    Examples
    --------
    >>> borough_key("Richmond Upon Thames"), borough_key("City of Westminster")
    ('richmond-upon-thames', 'westminster')
    """
    s = re.sub(r"[^a-z0-9]+", "-", str(name).strip().lower()).strip("-")
    return {"city-of-westminster": "westminster"}.get(s, s)


def read_london_pas(path: PathLike | Iterable[PathLike], *, encoding: str = "auto") -> ReadResult:
    """Read MOPAC's Public Attitude Survey borough dashboard into the canonical survey table.

    Parameters
    ----------
    path
        The "Borough" sheet saved as CSV (columns Date, Survey, Borough, Measure,
        Proportion, MPS), several files, a folder or an archive.
    encoding
        ``"auto"`` or a codec name.

    Returns
    -------
    ReadResult
        ``kind="survey"``: one row per borough x quarter x measure (``area_type``
        ``borough``) and, once per quarter x measure, the London-wide value from the MPS
        column (``area="london"``, ``area_type="force"``). Values are proportions (0-1).
        ``period`` is the quarter the window ends in (``2019-Q4``); each figure covers the
        12 months to that date (``window_months=12``, ``overlapping=True``): neighbouring
        quarters share three quarters of their fieldwork, so they are not independent
        observations. ``group`` is ``All``: the dashboard has no ethnicity breakdown.

    Notes
    -----
    Quirks handled: decimal commas (``0,56``); Richmond spelled two ways (one key); the
    mostly empty trailing columns (any text there is kept in ``ledger.notes`` with its line);
    London-wide values repeated on every borough row (checked equal; a disagreement is noted).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pas.csv"
    >>> _ = p.write_text('Date,Survey,Borough,Measure,Proportion,MPS\\n'
    ...                  '31/12/2019,PAS,Richmond Upon Thames,Trust MPS,"0,84","0,75"\\n')
    >>> r = read_london_pas(p)
    >>> r.data[["area", "period", "measure", "value", "window_months"]].values.tolist()
    [['richmond-upon-thames', '2019-Q4', 'trust_mps', 0.84, 12.0], ['london', '2019-Q4', 'trust_mps', 0.75, 12.0]]
    """
    led = Ledger(source="london_pas")
    parts: list[pd.DataFrame] = []
    rej: list[pd.DataFrame] = []
    required = ["Date", "Borough", "Measure", "Proportion"]
    for name, data in iter_files(path):
        parsed = parse_csv_text(data, name, encoding=encoding, required=required)
        _start(parsed, led, rej)
        f = parsed.frame
        n = len(f)
        keep = np.ones(n, dtype=bool)
        end = _dates(f["Date"], "%d/%m/%Y")
        bad = end.isna().to_numpy()
        _reject(rej, led, parsed, bad, "Date", f.loc[bad, "Date"], "Date is not a DD/MM/YYYY date: fix or remove the row")
        keep &= ~bad
        mraw = f["Measure"].astype(str).str.strip()
        mkey = mraw.str.lower().map(_LONDON_MEASURES)
        unknown = mkey.isna().to_numpy() & keep
        if unknown.any():  # unknown measures are kept under a slug of their own label, and noted
            mkey = mkey.fillna(mraw.str.lower().str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_"))
            led.notes.append(f"{name}: {int(unknown.sum())} row(s) with measures not in the dashboard's known list kept "
                             f"under their own label: {sorted(set(mraw[unknown]))}")
        borough = f["Borough"].astype(str).str.strip()
        blank_b = (borough == "").to_numpy() & keep
        _reject(rej, led, parsed, blank_b, "Borough", None, "blank Borough: the row cannot be placed")
        keep &= ~blank_b
        prop, badp = _numbers(f["Proportion"], decimal=",")
        mps, badm = _numbers(f["MPS"], decimal=",") if "MPS" in f else (pd.Series(np.nan, index=f.index), pd.Series(False, index=f.index))
        badv = (badp.to_numpy() | prop.isna().to_numpy()) & keep
        _reject(rej, led, parsed, badv, "Proportion", f.loc[badv, "Proportion"],
                "Proportion is blank or not a number: nothing to keep")
        keep &= ~badv
        out_of = ((prop < 0) | (prop > 1)).to_numpy() & keep
        _reject(rej, led, parsed, out_of, "Proportion", f.loc[out_of, "Proportion"],
                "Proportion outside 0-1: check the decimal separator")
        keep &= ~out_of
        area = borough.map(borough_key)
        spell = borough[keep].groupby(area[keep]).unique()
        for k, names in spell.items():
            if len(names) > 1:
                led.choices[f"borough {k}"] = f"spellings read as one borough: {sorted(names)}"
        key = pd.DataFrame({"a": area, "d": end, "m": mkey})
        dup = key.duplicated(keep=False).to_numpy() & keep
        if dup.any():
            same = f.duplicated(subset=["Date", "Borough", "Measure", "Proportion"], keep="first").to_numpy() & keep
            _reject(rej, led, parsed, same, None, None, "exact duplicate of an earlier row (same published estimate; kept once)")
            keep &= ~same
            conflict = key.loc[keep].duplicated(keep=False).reindex(key.index, fill_value=False).to_numpy()
            _reject(rej, led, parsed, conflict, None, None,
                    "conflicting rows: two values for the same borough, quarter and measure (neither preferred)")
            keep &= ~conflict
        extra = [c for c in f.columns if c not in ("Date", "Survey", "Borough", "Measure", "Proportion", "MPS")]
        if extra:
            filled = (f[extra].astype(str).apply(lambda c: c.str.strip()) != "").any(axis=1).to_numpy()
            for i in np.flatnonzero(filled):
                c = ", ".join(repr(x) for x in extra)
                led.notes.append(f"{name}: line {int(parsed.lines[i])}: unexpected text in trailing columns {c}: "
                                 f"{f.iloc[i][extra].tolist()!r} (not read; the row's own values are kept)")
        led.files.append(_file_record(parsed, data, int(keep.sum())))
        if not keep.any():
            continue
        e = end[keep]
        q = e.dt.to_period("Q")
        start = (e.dt.to_period("M") - 11).dt.to_timestamp()
        base = pd.DataFrame({
            "area": area[keep].to_numpy(), "area_name": borough[keep].to_numpy(), "area_type": "borough",
            "period": q.astype(str).str.replace("Q", "-Q", regex=False).to_numpy(), "period_type": "rolling_12m_to_quarter",
            "period_start": start.to_numpy(), "period_end": e.to_numpy(), "window_months": 12.0, "overlapping": True,
            "measure": mkey[keep].to_numpy(), "group": "All", "group_type": "all", "value": prop[keep].to_numpy(),
            "source_line": parsed.lines[keep],
        })
        # London-wide values: repeated on every borough row; one row per quarter x measure
        lon = base[["period", "period_type", "period_start", "period_end", "window_months", "overlapping",
                    "measure", "group", "group_type", "source_line"]].copy()
        lon["value"] = mps[keep].to_numpy()
        lon = lon.dropna(subset=["value"])
        spread = lon.groupby(["period", "measure"])["value"].agg(["min", "max"])
        dis = spread[spread["max"] - spread["min"] > 1e-9]
        if len(dis):
            led.notes.append(f"{name}: the London-wide (MPS) value differs between borough rows for {len(dis)} "
                             f"quarter x measure pair(s); the first row's value is used")
        lon = lon.sort_values("source_line", kind="stable").drop_duplicates(["period", "measure"])
        lon["area"], lon["area_name"], lon["area_type"] = "london", "London (MPS)", "force"
        out = pd.concat([base, lon], ignore_index=True)
        out["scale"] = "proportion 0-1"
        out["source"] = LONDON_PAS_SOURCE
        out["vintage"] = f"to {e.max():%Y-%m-%d}"
        out["source_file"] = name
        parts.append(out)
    led.choices["window"] = ("each figure covers the 12 months to the quarter's end (rolling): neighbouring quarters "
                             "overlap, so compare quarters a year apart, not adjacent ones")
    led.notes.append("no ethnicity breakdown and no sample sizes are published in the borough dashboard")
    return _finish(parts, led, rej)


# ----------------------------------------------------------------------------- any table
def read_survey_table(
    path: PathLike | Iterable[PathLike],
    *,
    area: str,
    period: str,
    value: str,
    measure: str | None = None,
    group: str | None = None,
    n: str | None = None,
    se: str | None = None,
    measure_name: str = "trust",
    scale: str,
    source: str,
    period_format: str = "%Y-%m",
    period_type: Literal["month", "quarter", "year", "week"] = "month",
    window_months: float | None = None,
    decimal: Literal[".", ","] = ".",
    area_type: str = "area",
    encoding: str = "auto",
) -> ReadResult:
    """Read any published table of survey estimates (one row per estimate) by naming its columns.

    For a force's own confidence survey, a partner's dashboard export, or a table of
    estimates computed elsewhere. ``window_months`` larger than the period length marks the
    estimates as rolling windows (``overlapping=True``).

    Parameters
    ----------
    path
        CSV file(s), folder or archive.
    area, period, value
        Columns holding the area, the period (parsed with ``period_format``) and the estimate.
    measure, group, n, se
        Optional columns: measure name (else ``measure_name`` for every row), respondent
        group (else ``All``), sample size, standard error.
    scale, source
        What the values mean and where they come from (required: they travel with every row).
    period_format, period_type, window_months, decimal, area_type, encoding
        How to read the periods and numbers.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("ward,month,eth,pct,n\\nA,2023-01,Black,0.61,120\\nA,2023-01,White,0.72,300\\n")
    >>> r = read_survey_table(p, area="ward", period="month", value="pct", group="eth", n="n",
    ...                       scale="proportion 0-1", source="Force survey")
    >>> r.data[["area", "group", "value", "n"]].values.tolist()
    [['A', 'Black', 0.61, 120.0], ['A', 'White', 0.72, 300.0]]
    """
    check_option("period_type", period_type, Literal["month", "quarter", "year", "week"])
    check_option("decimal", decimal, Literal[".", ","])
    led = Ledger(source="survey_table")
    parts: list[pd.DataFrame] = []
    rej: list[pd.DataFrame] = []
    named = {"area": area, "period": period, "value": value, "measure": measure, "group": group, "n": n, "se": se}
    required = [c for c in named.values() if c]
    months = {"month": 1, "quarter": 3, "year": 12, "week": 7 / 30.4375}[period_type]
    for name, data in iter_files(path):
        parsed = parse_csv_text(data, name, encoding=encoding, required=required)
        _start(parsed, led, rej)
        f = parsed.frame
        keep = np.ones(len(f), dtype=bool)
        start = _dates(f[period], period_format)
        bad = start.isna().to_numpy()
        _reject(rej, led, parsed, bad, period, f.loc[bad, period],
                f"period is not in the format {period_format!r}: fix it or pass period_format=")
        keep &= ~bad
        blank_a = (f[area].astype(str).str.strip() == "").to_numpy() & keep
        _reject(rej, led, parsed, blank_a, area, None, "blank area: the row cannot be placed")
        keep &= ~blank_a
        vals, badv = _numbers(f[value], decimal=decimal)
        nov = (badv | vals.isna()).to_numpy() & keep
        _reject(rej, led, parsed, nov, value, f.loc[nov, value], "value is blank or not a number: nothing to keep")
        keep &= ~nov
        extra = {}
        for k in ("n", "se"):
            if named[k]:
                v, b = _numbers(f[named[k]], decimal=decimal)
                bb = b.to_numpy() & keep
                _reject(rej, led, parsed, bb, named[k], f.loc[bb, named[k]], f"{k} is not a number")
                keep &= ~bb
                extra[k] = v
        led.files.append(_file_record(parsed, data, int(keep.sum())))
        if not keep.any():
            continue
        s = start[keep]
        if period_type == "week":
            end = s + pd.Timedelta(days=6)
            label = s.dt.strftime("%Y-%m-%d")
        else:
            per = s.dt.to_period({"month": "M", "quarter": "Q", "year": "Y"}[period_type])
            end = per.dt.end_time.dt.normalize()
            label = per.astype(str)
        w = float(window_months) if window_months is not None else float(months)
        if window_months is not None:
            s = (end.dt.to_period("M") - int(round(window_months)) + 1).dt.to_timestamp()
        out = pd.DataFrame({
            "area": f.loc[keep, area].astype(str).str.strip().to_numpy(), "area_type": area_type,
            "period": label.to_numpy(), "period_type": period_type if w <= months else f"rolling_{w:g}m_to_{period_type}",
            "period_start": s.to_numpy(), "period_end": end.to_numpy(), "window_months": w,
            "overlapping": w > months + 1e-9,
            "measure": f.loc[keep, measure].astype(str).str.strip().to_numpy() if measure else measure_name,
            "group": f.loc[keep, group].astype(str).str.strip().to_numpy() if group else "All",
            "group_type": "group" if group else "all",
            "value": vals[keep].to_numpy(), "scale": scale, "source": source,
            "vintage": f"to {end.max():%Y-%m-%d}", "source_file": name, "source_line": parsed.lines[keep],
        })
        for k, v in extra.items():
            out[k] = v[keep].to_numpy()
        parts.append(out)
    if not parts and not led.files:
        raise DataValidationError("read_survey_table found no CSV files at the path given: check the path")
    return _finish(parts, led, rej)
