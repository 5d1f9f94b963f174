"""SQL side of :func:`~equity_metrics.io.large.count_policeuk`: per-field tables and the group-by.

Every field except the date and the coordinates is mapped through a small table
built in Python from its distinct raw values with the pandas reader's own rules
(:mod:`equity_metrics.io.policeuk_api`), so both engines classify every value the
same way; the ledger's missing/unknown counts are weighted sums over those tables.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..ethnicity import BROAD_GROUPS, DETAILED_GROUPS, NOT_STATED, harmonise_ethnicity
from ..ledger import Ledger
from ..schema import AGE_BANDS
from ..outcome_codes import ARREST_OUTCOMES, is_nfa
from ._counts import finish_counts
from .policeuk_api import _BOOL, _SEARCH_TYPES, _SEX, POLICEUK_COLUMNS, TIMEZONE, _parse_dates, _to_float

#: police.uk column -> SQL column of the staging table
R = {c: f"r{i}" for i, c in enumerate(POLICEUK_COLUMNS)}
_R = R
#: Date text DuckDB parses exactly as pandas' ISO 8601 parser does (anything else: :func:`odd_dates`)
FAST_DATE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?"
_FAST_NUMBER = r"-?\d{1,3}(\.\d{1,15})?"


def field_maps(run) -> tuple[dict[str, str], Counter, Counter]:
    """Per-field tables from distinct raw values (the reader's rules), and the ledger's missing/unknown counts."""
    missing: Counter = Counter({"datetime": 0})
    unknown: Counter = Counter()
    values: dict[str, tuple[list[str], np.ndarray]] = {}
    for col, r in _R.items():
        if col in ("Date", "Latitude", "Longitude"):
            continue
        rows = run._q(f"SELECT {r}, count(*) FROM k GROUP BY {r}")
        values[col] = ([v for v, _ in rows], np.array([n for _, n in rows], dtype=np.int64))
    maps: dict[str, str] = {}

    def add(col: str, name: str, cols: dict[str, Any], blank: list[bool], bad: list[bool] | None) -> None:
        raws, counts = values[col]
        field = _FIELD[col]
        missing[field] += int(counts[np.asarray(blank, dtype=bool)].sum()) if raws else 0
        if bad is not None:
            unknown[field] += int(counts[np.asarray(bad, dtype=bool)].sum()) if raws else 0
        run._table(name, {"raw": pa.array(raws, type=pa.string()), **cols})
        maps[col] = name

    for col, name, mapping in (("Type", "m_type", _SEARCH_TYPES), ("Gender", "m_sex", _SEX), ("Age range", "m_age", {a: a for a in AGE_BANDS})):
        s = [v.strip() for v in values[col][0]]
        lab = [mapping.get(x.lower()) for x in s]
        cols = {"label": pa.array(lab, type=pa.string())}
        if col == "Type":
            cols["vehicle_only"] = pa.array([None if x is None else x == "Vehicle search" for x in lab], type=pa.bool_())
        add(col, name, cols, [x == "" for x in s], [x != "" and y is None for x, y in zip(s, lab)])
    for col, name in (("Legislation", "m_legal"), ("Object of search", "m_object"), ("Outcome", "m_outcome")):
        s = [v.strip() for v in values[col][0]]
        cols = {"label": pa.array([x or None for x in s], type=pa.string())}
        if col == "Outcome":
            cols["arrest"] = pa.array([None if x == "" else x.lower() in ARREST_OUTCOMES for x in s], type=pa.bool_())
            cols["nfa"] = pa.array(list(is_nfa(pd.Series(s, dtype=object))), type=pa.bool_())
        add(col, name, cols, [x == "" for x in s], None)
    for col, name in (("Part of a policing operation", "m_operation"), ("Outcome linked to object of search", "m_hit"),
                      ("Removal of more than just outer clothing", "m_strip")):  # fmt: skip
        s = [v.strip() for v in values[col][0]]
        lab = [_BOOL.get(x.lower()) for x in s]
        add(col, name, {"label": pa.array(lab, type=pa.bool_())}, [x == "" for x in s], [x != "" and y is None for x, y in zip(s, lab)])
    s = [v.strip() for v in values["Policing operation"][0]]
    add("Policing operation", "m_opname", {}, [x == "" for x in s], None)
    gpos = {g: i for i, g in enumerate(BROAD_GROUPS)}
    for col, name in (("Self-defined ethnicity", "m_eth_self"), ("Officer-defined ethnicity", "m_eth_officer")):
        s = [v.strip() for v in values[col][0]]
        h = harmonise_ethnicity(pd.Series(s, dtype=object))
        blank = [x == "" for x in s]
        grp = [str(g) for g in h["group"].astype(object)]
        det = [d if d in DETAILED_GROUPS else NOT_STATED for d in h["detailed"].astype(object)]
        cols = {"grp": pa.array(grp, type=pa.string()), "det": pa.array(det, type=pa.string()),
                "blank": pa.array(blank, type=pa.bool_()), "ns": pa.array([gpos[g] == gpos[NOT_STATED] for g in grp], type=pa.bool_())}  # fmt: skip
        add(col, name, cols, blank, list(~np.asarray(h["recognised"], dtype=bool) & ~np.asarray(blank, dtype=bool)))
    for col, lim in (("Latitude", 90.0), ("Longitude", 180.0)):
        r = _R[col]
        fast = f"regexp_full_match({r}, '{_FAST_NUMBER}')"
        n_bad = run._q(f"SELECT count(*) FROM k WHERE {fast} AND abs(CAST({r} AS DOUBLE)) > {lim}")[0][0]
        rows = run._q(f"SELECT {r}, count(*) FROM k WHERE NOT {fast} GROUP BY {r}")
        s = [v.strip() for v, _ in rows]
        counts = np.array([n for _, n in rows], dtype=np.int64)
        vals = _to_float(s, lim) if s else np.zeros(0)
        missing[_FIELD[col]] += int(counts[np.array([x == "" for x in s], dtype=bool)].sum()) if s else 0
        unknown[_FIELD[col]] += int(n_bad) + (int(counts[np.array([x != "" for x in s], dtype=bool) & np.isnan(vals)].sum()) if s else 0)
    return maps, missing, unknown


def group_counts(run, maps: dict[str, str]) -> tuple[pd.DataFrame, int, int]:
    """Group the kept rows by the ``by`` columns in SQL."""
    joins = {
        "Type": f"LEFT JOIN m_type ON k.{_R['Type']} = m_type.raw",
        "Gender": f"LEFT JOIN m_sex ON k.{_R['Gender']} = m_sex.raw",
        "Age range": f"LEFT JOIN m_age ON k.{_R['Age range']} = m_age.raw",
        "Legislation": f"LEFT JOIN m_legal ON k.{_R['Legislation']} = m_legal.raw",
        "Object of search": f"LEFT JOIN m_object ON k.{_R['Object of search']} = m_object.raw",
        "Outcome": f"LEFT JOIN m_outcome ON k.{_R['Outcome']} = m_outcome.raw",
        "Outcome linked to object of search": f"LEFT JOIN m_hit ON k.{_R['Outcome linked to object of search']} = m_hit.raw",
        "Removal of more than just outer clothing": f"LEFT JOIN m_strip ON k.{_R['Removal of more than just outer clothing']} = m_strip.raw",
        "Part of a policing operation": f"LEFT JOIN m_operation ON k.{_R['Part of a policing operation']} = m_operation.raw",
        "Self-defined ethnicity": f"LEFT JOIN m_eth_self es ON k.{_R['Self-defined ethnicity']} = es.raw",
        "Officer-defined ethnicity": f"LEFT JOIN m_eth_officer eo ON k.{_R['Officer-defined ethnicity']} = eo.raw",
    }
    main = "es" if run.ethnicity_field == "self_defined" else "eo"
    use_o = "(es.ns AND NOT eo.ns)" if run.fallback == "officer_defined" else "false"
    own = "'self_defined'" if run.ethnicity_field == "self_defined" else "'officer_defined'"
    eth = ["Self-defined ethnicity", "Officer-defined ethnicity"]
    expr: dict[str, tuple[str, list[str]]] = {
        "force": ("k.force", []),
        "month": ("k.month", []),
        "file_month": ("k.file_month", []),
        "ethnicity": (f"CASE WHEN {use_o} THEN eo.grp ELSE {main}.grp END", eth),
        "ethnicity_detailed": (f"CASE WHEN {use_o} THEN eo.det ELSE {main}.det END", eth),
        "officer_defined_ethnicity": ("eo.grp", eth),
        "ethnicity_source": (f"CASE WHEN {use_o} THEN 'officer_defined' WHEN {main}.blank THEN 'none' ELSE {own} END", eth),
        "sex": ("m_sex.label", ["Gender"]),
        "age_band": ("m_age.label", ["Age range"]),
        "search_type": ("m_type.label", ["Type"]),
        "vehicle_only": ("m_type.vehicle_only", ["Type"]),
        "legal_power": ("m_legal.label", ["Legislation"]),
        "object_of_search": ("m_object.label", ["Object of search"]),
        "outcome": ("m_outcome.label", ["Outcome"]),
        "arrest": ("m_outcome.arrest", ["Outcome"]),
        # the one definition of a find (equity_metrics.outcome_codes.derive_find): not NFA and linked
        "hit": ("CASE WHEN m_outcome.label IS NULL THEN NULL WHEN m_outcome.nfa THEN false ELSE m_hit.label END",
                ["Outcome", "Outcome linked to object of search"]),
        "outcome_linked": ("m_hit.label", ["Outcome linked to object of search"]),
        "strip_search": ("m_strip.label", ["Removal of more than just outer clothing"]),
        "policing_operation": ("m_operation.label", ["Part of a policing operation"]),
    }
    need = ["Type", *eth]
    for b in run.by:
        need += expr[b][1]
    join_sql = " ".join(joins[c] for c in dict.fromkeys(need))
    sel = ", ".join(f"{expr[b][0]} AS {b}" for b in run.by)
    group = ", ".join(str(i + 1) for i in range(len(run.by)))
    extras = f"sum(CASE WHEN m_type.vehicle_only THEN 1 ELSE 0 END), sum(CASE WHEN {use_o} THEN 1 ELSE 0 END)"
    sql = f"SELECT {sel + ', ' if sel else ''}count(*) AS n, {extras} FROM k {join_sql}"
    rows = run._q(sql + (f" GROUP BY {group}" if group else ""))
    names = [*run.by, "n"]
    frame = pd.DataFrame([r[: len(names)] for r in rows], columns=names, dtype=object) if rows else pd.DataFrame(columns=names)
    vehicle = sum(int(r[len(names)] or 0) for r in rows)
    used = sum(int(r[len(names) + 1] or 0) for r in rows)
    return finish_counts(frame, run.by), vehicle, used



_FIELD = {
    "Type": "search_type", "Part of a policing operation": "policing_operation", "Policing operation": "policing_operation_name",
    "Latitude": "latitude", "Longitude": "longitude", "Gender": "sex", "Age range": "age_band",
    "Self-defined ethnicity": "self_defined_ethnicity", "Officer-defined ethnicity": "officer_defined_ethnicity",
    "Legislation": "legal_power", "Object of search": "object_of_search", "Outcome": "outcome",
    "Outcome linked to object of search": "outcome_linked", "Removal of more than just outer clothing": "strip_search",
}  # fmt: skip


def odd_dates(values: list[str]) -> dict[str, pa.Array]:
    """Local month, UTC month, reject reason and the months= filter month of odd Date texts (the reader's rules)."""
    stripped = [v.strip() for v in values]
    utc, reason = _parse_dates(stripped) if values else (pd.DatetimeIndex([], tz="UTC"), np.array([], dtype=object))
    ok = ~np.asarray(utc.isna())
    local = [str(t.tz_convert(TIMEZONE).tz_localize(None).to_period("M")) if o else None for t, o in zip(utc, ok)]
    in_utc = [str(t.tz_convert("UTC").tz_localize(None).to_period("M")) if o else None for t, o in zip(utc, ok)]
    try:  # the forces=/months= row filter parses without the 1900-2100 check
        parsed = list(pd.to_datetime(pd.Series(stripped, dtype=object), format="ISO8601", utc=True, errors="coerce"))
    except (ValueError, TypeError, OverflowError):
        parsed = [_filter_date(s) for s in stripped]
    filt = [None if pd.isna(d) else str(d.tz_convert(TIMEZONE).tz_localize(None).to_period("M")) for d in parsed]
    return {
        "d": pa.array(values, type=pa.string()),
        "month": pa.array(local, type=pa.string()),
        "utc_month": pa.array(in_utc, type=pa.string()),
        "reason": pa.array([None if r is None else str(r) for r in reason], type=pa.string()),
        "filter_month": pa.array(filt, type=pa.string()),
    }


def _filter_date(value: str) -> Any:
    try:
        return pd.to_datetime(pd.Series([value]), format="ISO8601", utc=True, errors="coerce").iloc[0]
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def coverage(run, ledger: Ledger, notes: list[str]) -> None:
    """months covered and missing, areas, and the month attribution check (as the reader)."""
    have = {(f.force, f.month) for f in run.files if f.month is not None}
    areas = {f.force for f in run.files if f.force}
    unnamed = run._q("SELECT DISTINCT force, month FROM k WHERE unnamed AND month IS NOT NULL")
    if run._q("SELECT count(*) FROM k WHERE unnamed")[0][0]:
        have.update((a, pd.Period(m, freq="M")) for a, m in unnamed if a is not None)
        areas.update(a for a, _ in unnamed if a is not None)
        notes.append("files without a month in their names cover the months of their rows only")
    months_have = sorted({m for _, m in have})
    ledger.months_covered = [str(m) for m in months_have]
    ledger.areas_covered = sorted(areas)
    span = list(pd.period_range(months_have[0], months_have[-1], freq="M")) if months_have else []
    expected = run.exp_months or run.want_months or span
    exp_forces = sorted(set(run.want_forces) if run.want_forces is not None else areas | {f for f, _ in run.seen})
    ledger.months_missing = sorted((a, str(m)) for a in exp_forces for m in expected if (a, m) not in have)
    absent = [f for f in (run.want_forces or []) if f not in areas]
    if absent:
        notes.append(f"no file at all for requested force(s) {absent}: every expected month is missing")
    n_named, local_diff, utc_diff = run._q(
        "SELECT count(*), count(*) FILTER (WHERE month <> file_month), count(*) FILTER (WHERE utc_month <> file_month) "
        "FROM k WHERE NOT unnamed")[0]  # fmt: skip
    if n_named:
        ledger.choices["month_attribution"] = {
            "rule": f"month = local ({TIMEZONE}) calendar month of Date; file_month = month in the file name",
            "rows_local_month_not_file_month": int(local_diff),
            "rows_utc_month_not_file_month": int(utc_diff),
        }
        notes.append(
            f"{int(local_diff):,} row(s) fall in a local month other than their file's month ({int(utc_diff):,} would by the "
            "UTC month: summer files start at 23:xx UTC on the previous month's last day)"
        )
