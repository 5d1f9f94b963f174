"""The engine-neutral count query: dates, ledger and counts of staged police.uk rows, in Narwhals.

The same expressions run on every backend of :mod:`equity_metrics.io._engines`
(Polars in memory, DuckDB, Spark): only strings, joins, filters and group-bys, no
engine's own date or time-zone functions, so every engine gives the same answer.

* **Dates.** A ``Date`` text that is plain ISO 8601 in UTC (``2019-06-30T23:15:00``
  with an optional fraction and ``Z`` or ``+00:00``; hours 00-23, minutes and
  seconds 00-59) is checked against a table of the 2,412 months 1900-01..2100-12
  (days in the month) and given its Europe/London month from the same table: the
  UTC time at which the next local month starts (``23:00:00`` on the last day of a
  summer month, none in winter), computed with :mod:`zoneinfo`. Any other text is
  settled by the reader's own function once per distinct value (:func:`odd_dates`).
* **Fields.** Every other field is mapped through a small table built in Python
  from its distinct raw values with the reader's rules (ethnicity harmonisation,
  booleans, search type, sex, age band, the one definition of a find), then joined.
* **Ledger.** Rows kept, rejected and excluded per file, missing and unknown values
  per field, exact duplicates (counted, not dropped), local-vs-UTC month
  attribution and the months of files without a month in their names: all are
  group-bys of the same staged rows on the same engine.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
from collections import Counter
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..ethnicity import DETAILED_GROUPS, NOT_STATED, harmonise_ethnicity
from ..outcome_codes import ARREST_OUTCOMES, is_nfa
from ..schema import AGE_BANDS
from ._counts import finish_counts
from .policeuk_api import _BOOL, _SEARCH_TYPES, _SEX, POLICEUK_COLUMNS, TIMEZONE, _parse_dates, _to_float

#: police.uk column -> staged column
R = {c: f"r{i}" for i, c in enumerate(POLICEUK_COLUMNS)}
#: Date text read by the query itself (anything else: :func:`odd_dates`, the reader's function)
FAST_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|\+00:00)?$"
#: coordinates read by the query itself (no leading zeros, at most 12 decimals: the text decides |x| > limit exactly)
_FAST_NUMBER = r"^-?(0|[1-9][0-9]{0,2})(\.[0-9]{1,12})?$"
_OVER = {
    90.0: r"^-?(9[1-9]|[1-9][0-9]{2})(\.[0-9]*)?$|^-?90\.[0-9]*[1-9][0-9]*$",
    180.0: r"^-?(18[1-9]|19[0-9]|[2-9][0-9]{2})(\.[0-9]*)?$|^-?180\.[0-9]*[1-9][0-9]*$",
}
_FIELD = {
    "Type": "search_type", "Part of a policing operation": "policing_operation", "Policing operation": "policing_operation_name",
    "Latitude": "latitude", "Longitude": "longitude", "Gender": "sex", "Age range": "age_band",
    "Self-defined ethnicity": "self_defined_ethnicity", "Officer-defined ethnicity": "officer_defined_ethnicity",
    "Legislation": "legal_power", "Object of search": "object_of_search", "Outcome": "outcome",
    "Outcome linked to object of search": "outcome_linked", "Removal of more than just outer clothing": "strip_search",
}  # fmt: skip
_I64 = nw.Int64


def _sum(expr: Any, name: str) -> Any:
    return expr.cast(_I64).sum().alias(name)


# ============================================================================ date tables
@functools.lru_cache(maxsize=1)
def month_table() -> pa.Table:
    """Months 1900-01..2100-12: days in the month, the UTC time the next local month starts on its last day, next month."""
    from zoneinfo import ZoneInfo

    tz, utc = ZoneInfo(TIMEZONE), _dt.timezone.utc
    ym, last, switch, nxt = [], [], [], []
    for y in range(1900, 2101):
        for m in range(1, 13):
            ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
            days = calendar.monthrange(y, m)[1]
            start = _dt.datetime(ny, nm, 1, tzinfo=tz).astimezone(utc)  # local midnight of the next month, in UTC
            on_last = start.date() == _dt.date(y, m, days)
            ym.append(f"{y:04d}-{m:02d}")
            last.append(f"{days:02d}")
            switch.append(start.strftime("%H:%M:%S") if on_last else "99")
            nxt.append(f"{ny:04d}-{nm:02d}")
    s = pa.string()
    # the same rule as whole-text bounds (ISO 8601 text compares as its time): a Date of month ym is a real day of it when
    # first <= Date < end, and falls in the next local month when Date >= switch_at
    first = [f"{m}-01" for m in ym]
    end = [f"{m}-{d}U" for m, d in zip(ym, last)]  # "U" sorts after the "T" that follows the day
    switch_at = [f"{m}-{d}T{w}" if w != "99" else f"{m}-{d}U" for m, d, w in zip(ym, last, switch)]
    return pa.table({"ym": pa.array(ym, s), "last_day": pa.array(last, s), "switch": pa.array(switch, s), "next_ym": pa.array(nxt, s),
                     "first": pa.array(first, s), "end": pa.array(end, s), "switch_at": pa.array(switch_at, s)})  # fmt: skip


@functools.lru_cache(maxsize=1)
def _valid_days() -> frozenset[str]:
    t = month_table()
    return frozenset(f"{ym}-{d:02d}" for ym, n in zip(t["ym"].to_pylist(), t["last_day"].to_pylist()) for d in range(1, int(n) + 1))


def dates_all_fast(dates: pa.Array) -> bool:
    """Whether every Date text is one the query reads itself (else the file's rejects come from the reader's parser)."""
    if len(dates) == 0:
        return True
    if not pc.all(pc.match_substring_regex(dates, FAST_DATE)).as_py():
        return False
    return set(pc.unique(pc.utf8_slice_codeunits(dates, 0, 10)).to_pylist()) <= _valid_days()


def odd_dates(values: list[str]) -> pa.Table:
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
    s = pa.string()
    return pa.table({
        "o_d": pa.array(values, s), "o_month": pa.array(local, s), "o_utc": pa.array(in_utc, s),
        "o_reason": pa.array([None if r is None else str(r) for r in reason], s), "o_filter": pa.array(filt, s),
    })  # fmt: skip


def _filter_date(value: str) -> Any:
    try:
        return pd.to_datetime(pd.Series([value]), format="ISO8601", utc=True, errors="coerce").iloc[0]
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


# ============================================================================ the query
class CountQuery:
    """The count query over the staged rows of one run (``run``: the options and the file list)."""

    def __init__(self, run: Any, backend: Any, rows: nw.LazyFrame, files: pa.Table) -> None:
        self.run, self.b = run, backend
        d = nw.col(R["Date"])
        if getattr(backend, "rows_may_be_null", True):  # an engine may read an empty field as null
            rows = rows.with_columns(*[nw.col(r).fill_null("") for r in R.values()])
        months = self.b.table(month_table().select(["ym", "next_ym", "first", "end", "switch_at"]))
        staged = rows.with_columns(_ym=d.str.slice(0, 7)).join(months, left_on="_ym", right_on="ym", how="left")
        # plain ISO 8601 in UTC, a real day of its month (text bounds from the month table); local month from switch_at
        fast = (d.str.contains(FAST_DATE) & (d >= nw.col("first")) & (d < nw.col("end"))).fill_null(False)
        late = (d >= nw.col("switch_at")).fill_null(False)
        staged = (staged.with_columns(
            _ok=fast, _local=nw.when(late).then(nw.col("next_ym")).otherwise(nw.col("_ym"))
        ).drop("next_ym", "first", "end", "switch_at"))  # fmt: skip
        lines = sorted(f for f in getattr(run, "direct", {}) if run.by_fid[f].month is not None)
        if getattr(backend, "compact_kept", False) and lines:
            # once checked, a plain date of a named file the engine read itself is needed no more (its duplicates are
            # counted from its lines): the rows kept hold no text for it (less to store, and to spill)
            plain = self.b.table(pa.table({"_pf": pa.array(lines, pa.int32()), "_plain": pa.array([True] * len(lines))}))
            staged = staged.join(plain, left_on="fid", right_on="_pf", how="left")
            staged = staged.with_columns(nw.when(nw.col("_ok") & nw.col("_plain").fill_null(False)).then(nw.lit(None, dtype=nw.String))
                                         .otherwise(d).alias(R["Date"])).drop("_plain")  # fmt: skip
        # the one pass over the files: the engine reads them (and the staged rows), checks the dates, keeps the result
        self.s = self.b.keep(staged)
        odd = self.b.collect(self.s.filter(~nw.col("_ok")).select(nw.col(R["Date"])).unique())
        self.odd_count = len(odd)
        ok = nw.col("_ok")
        if len(odd):
            odd_tab = self.b.table(odd_dates(sorted(odd[R["Date"]].tolist())))
            ev = self.s.join(odd_tab, left_on=R["Date"], right_on="o_d", how="left").with_columns(
                month=nw.when(ok).then(nw.col("_local")).otherwise(nw.col("o_month")),
                utc_month=nw.when(ok).then(nw.col("_ym")).otherwise(nw.col("o_utc")),
                reason=nw.when(ok).then(nw.lit(None, dtype=nw.String)).otherwise(nw.col("o_reason")),
                filter_month=nw.when(ok).then(nw.col("_local")).otherwise(nw.col("o_filter")),
            )
        else:  # every date is plain ISO 8601 in UTC (the usual case): no join
            ev = self.s.with_columns(month=nw.col("_local"), utc_month=nw.col("_ym"), reason=nw.lit(None, dtype=nw.String),
                                     filter_month=nw.col("_local"))  # fmt: skip
        self.files = self.b.table(files)
        self.unnamed = [int(f) for f, u in zip(files["fid"].to_pylist(), files["unnamed"].to_pylist()) if u]
        ev = ev.join(self.files, on="fid", how="left")
        ev = ev.with_columns(excluded=(nw.col("unnamed") & self._exclusion()).fill_null(False))
        self.ev = ev.select("fid", *R.values(), "month", "utc_month", "reason", "excluded", "_ok", "unnamed")
        self._per_file = self._count_per_file()
        # the kept rows (raw columns, file id, months): a view of the checked rows, not a copy
        if self.odd_count or any(exc for _, _, exc in self._per_file.values()):
            self.k = self.ev.filter(nw.col("reason").is_null() & ~nw.col("excluded")).select("fid", *R.values(), "month", "utc_month")
        else:  # every date plain ISO 8601 in UTC, nothing excluded (the usual case): no filter, no join
            self.k = self.s.select("fid", *R.values(), month=nw.col("_local"), utc_month=nw.col("_ym"))

    def close(self) -> None:
        """The checked rows are no longer needed."""
        self.b.drop(self.s)

    def _exclusion(self) -> Any:
        run, parts = self.run, []
        if run.want_forces is not None and (run.force_opt or "") not in run.want_forces:
            parts.append(nw.lit(True))
        if run.want_months is not None:
            months = [str(m) for m in run.want_months]
            fm = nw.col("filter_month")
            parts.append(~fm.is_null() & ~fm.fill_null("").is_in(months))
        out = nw.lit(False)
        for p in parts:
            out = out | p
        return out

    # ---------------------------------------------------------------- ledger
    def per_file(self) -> dict[int, tuple[int, int, int]]:
        """fid -> (rows kept, date rejects, rows excluded by forces=/months=)."""
        return self._per_file

    def _count_per_file(self) -> dict[int, tuple[int, int, int]]:
        total = self.b.collect(self.s.group_by("fid").agg(nw.len().cast(_I64).alias("n")))
        # only rows with an odd date or of a file without a month in its name can be rejected or excluded
        some = self.ev.filter(~nw.col("_ok") | nw.col("fid").is_in(self.unnamed))
        got = self.b.collect(some.group_by("fid").agg(
            _sum(~nw.col("reason").is_null() & ~nw.col("excluded"), "rej"), _sum(nw.col("excluded"), "exc")))  # fmt: skip
        out = {int(f): [int(n), 0, 0] for f, n in total[["fid", "n"]].itertuples(index=False)}
        for f, a, b in got[["fid", "rej", "exc"]].itertuples(index=False):
            out[int(f)][1:] = [int(a), int(b)]
        return {f: (n - a - b, a, b) for f, (n, a, b) in out.items()}

    def value_counts(self) -> tuple[dict[str, tuple[list[str], np.ndarray]], dict[str, int]]:
        """Distinct raw values of every mapped field among kept rows, with counts; coordinates out of range."""
        cols = [r for c, r in R.items() if c != "Date"]
        coords = {R["Latitude"]: 90.0, R["Longitude"]: 180.0}
        parts = []
        for r in cols:  # one small group-by per field; coordinates: the text checks run on their distinct values only
            g = self.k.group_by(r).agg(nw.len().cast(_I64).alias("n"))
            if r in coords:  # coordinates the query reads itself are counted (out of range or not), not listed
                v = nw.col(r)
                g = g.with_columns(_fast=v.str.contains(_FAST_NUMBER)).with_columns(
                    _over=(nw.col("_fast") & v.str.contains(_OVER[coords[r]])).cast(_I64) * nw.col("n"))  # fmt: skip
                g = nw.concat([g.filter(~nw.col("_fast")).select(nw.lit(r).alias("field"), v.alias("value"), nw.col("n")),
                               g.select(nw.lit(r + "_over").alias("field"), nw.lit(None, dtype=nw.String).alias("value"),
                                        nw.col("_over").sum().cast(_I64).alias("n"))], how="vertical")  # fmt: skip
                parts.append(g)
                continue
            parts.append(g.select(nw.lit(r).alias("field"), nw.col(r).alias("value"), nw.col("n")))
        got = self.b.collect(nw.concat(parts, how="vertical"))
        over = {}
        for col in ("Latitude", "Longitude"):
            hit = got["field"] == R[col] + "_over"
            over[col] = int(pd.Series(got.loc[hit, "n"]).fillna(0).astype(np.int64).sum())
            got = got[~hit]
        name = {r: c for c, r in R.items()}
        got["field"] = [name[f] for f in got["field"]]
        got = got.sort_values(["field", "value"], kind="stable")
        values: dict[str, tuple[list[str], np.ndarray]] = {c: ([], np.zeros(0, np.int64)) for c in R}
        for col, g in got.groupby("field", sort=False):
            values[col] = (g["value"].tolist(), g["n"].to_numpy(dtype=np.int64))
        return values, over

    def duplicates(self, skip: list[int] | None = None) -> int:
        """Exact duplicates within a file among kept rows (every raw column equal): counted, not dropped.

        ``skip``: files whose duplicates were counted otherwise (equal lines of a plain file, :func:`._direct.duplicate_lines`).
        """
        k = self.k
        if skip:
            if set(self._per_file) <= set(skip):
                return 0  # every file counted already: no query
            k = k.filter(~nw.col("fid").is_in(sorted(skip)))
        # equal rows share file, Date and place: group by every column only the rows whose (file, Date, place) recurs
        first = ["fid", R["Date"], R["Latitude"], R["Longitude"]]
        again = k.group_by(*first).agg(nw.len().alias("_m")).filter(nw.col("_m") > 1).drop("_m")
        cand = k.select("fid", *R.values()).join(again, on=first, how="semi")
        g = cand.group_by("fid", *R.values()).agg(nw.len().cast(_I64).alias("n"))
        got = self.b.collect(g.select((nw.col("n") - 1).sum().alias("d")))
        return int(got["d"].iloc[0] or 0) if len(got) else 0

    def attribution(self) -> tuple[int, int, int, int, list[tuple[Any, Any]]]:
        """Rows of files without a month in their names (and their force-months); local/UTC month vs file month."""
        named = ~nw.col("unnamed")
        months = self.k.group_by("fid", "month", "utc_month").agg(nw.len().cast(_I64).alias("_n")).join(self.files, on="fid", how="left")
        n = nw.col("_n")
        row = self.b.collect(months.select(
            (n * nw.col("unnamed").cast(_I64)).sum().alias("unnamed"), (n * named.cast(_I64)).sum().alias("named"),
            (n * (named & (nw.col("month") != nw.col("file_month").fill_null(""))).cast(_I64)).sum().alias("local"),
            (n * (named & (nw.col("utc_month") != nw.col("file_month").fill_null(""))).cast(_I64)).sum().alias("utc")))  # fmt: skip
        vals = [int(row[c].iloc[0] or 0) if len(row) else 0 for c in ("unnamed", "named", "local", "utc")]
        pairs: list[tuple[Any, Any]] = []
        if vals[0]:
            fm = self.b.collect(months.filter(nw.col("unnamed") & ~nw.col("month").is_null()).select("force", "month").unique())
            pairs = list(fm.itertuples(index=False, name=None))
        return vals[0], vals[1], vals[2], vals[3], pairs

    # ---------------------------------------------------------------- maps and counts
    def field_maps(self) -> tuple[dict[str, nw.LazyFrame], Counter, Counter]:
        """Per-field tables from distinct raw values (the reader's rules), and the ledger's missing/unknown counts."""
        values, over = self.value_counts()
        missing: Counter = Counter({"datetime": 0})
        unknown: Counter = Counter()
        maps: dict[str, nw.LazyFrame] = {}

        def add(col: str, prefix: str, cols: dict[str, pa.Array], blank: list[bool], bad: list[bool] | None) -> None:
            raws, counts = values[col]
            field = _FIELD[col]
            missing[field] += int(counts[np.asarray(blank, dtype=bool)].sum()) if raws else 0
            if bad is not None:
                unknown[field] += int(counts[np.asarray(bad, dtype=bool)].sum()) if raws else 0
            table = pa.table({f"{prefix}_raw": pa.array(raws, type=pa.string()), **{f"{prefix}_{k}": v for k, v in cols.items()}})
            maps[col] = self.b.table(table)

        for col, prefix, mapping in (("Type", "type", _SEARCH_TYPES), ("Gender", "sex", _SEX), ("Age range", "age", {a: a for a in AGE_BANDS})):
            s = [v.strip() for v in values[col][0]]
            lab = [mapping.get(x.lower()) for x in s]
            cols = {"label": pa.array(lab, type=pa.string())}
            if col == "Type":
                cols["vo"] = pa.array([None if x is None else x == "Vehicle search" for x in lab], type=pa.bool_())
            add(col, prefix, cols, [x == "" for x in s], [x != "" and y is None for x, y in zip(s, lab)])
        for col, prefix in (("Legislation", "legal"), ("Object of search", "object"), ("Outcome", "outcome")):
            s = [v.strip() for v in values[col][0]]
            cols = {"label": pa.array([x or None for x in s], type=pa.string())}
            if col == "Outcome":
                cols["arrest"] = pa.array([None if x == "" else x.lower() in ARREST_OUTCOMES for x in s], type=pa.bool_())
                cols["nfa"] = pa.array([bool(v) for v in is_nfa(pd.Series(s, dtype=object))], type=pa.bool_())
            add(col, prefix, cols, [x == "" for x in s], None)
        for col, prefix in (("Part of a policing operation", "operation"), ("Outcome linked to object of search", "linked"),
                            ("Removal of more than just outer clothing", "strip")):  # fmt: skip
            s = [v.strip() for v in values[col][0]]
            lab = [_BOOL.get(x.lower()) for x in s]
            add(col, prefix, {"label": pa.array(lab, type=pa.bool_())}, [x == "" for x in s], [x != "" and y is None for x, y in zip(s, lab)])
        s = [v.strip() for v in values["Policing operation"][0]]
        add("Policing operation", "opname", {}, [x == "" for x in s], None)
        for col, prefix in (("Self-defined ethnicity", "es"), ("Officer-defined ethnicity", "eo")):
            s = [v.strip() for v in values[col][0]]
            h = harmonise_ethnicity(pd.Series(s, dtype=object))
            blank = [x == "" for x in s]
            grp = [str(g) for g in h["group"].astype(object)]
            det = [d if d in DETAILED_GROUPS else NOT_STATED for d in h["detailed"].astype(object)]
            cols = {"grp": pa.array(grp, type=pa.string()), "det": pa.array(det, type=pa.string()),
                    "blank": pa.array(blank, type=pa.bool_()), "ns": pa.array([g == NOT_STATED for g in grp], type=pa.bool_())}  # fmt: skip
            add(col, prefix, cols, blank, list(~np.asarray(h["recognised"], dtype=bool) & ~np.asarray(blank, dtype=bool)))
        for col, lim in (("Latitude", 90.0), ("Longitude", 180.0)):
            raws, counts = values[col]  # the values the query does not read itself
            s = [v.strip() for v in raws]
            vals = _to_float(s, lim) if s else np.zeros(0)
            missing[_FIELD[col]] += int(counts[np.array([x == "" for x in s], dtype=bool)].sum()) if s else 0
            unknown[_FIELD[col]] += over[col] + (int(counts[np.array([x != "" for x in s], dtype=bool) & np.isnan(vals)].sum()) if s else 0)
        return maps, missing, unknown

    def group_counts(self, maps: dict[str, nw.LazyFrame]) -> tuple[pd.DataFrame, int, int]:
        """Group the kept rows by the ``by`` columns."""
        run = self.run
        c = nw.col
        main = "es" if run.ethnicity_field == "self_defined" else "eo"
        use_o = (c("es_ns") & ~c("eo_ns")) if run.fallback == "officer_defined" else nw.lit(False)
        own = "self_defined" if run.ethnicity_field == "self_defined" else "officer_defined"
        eth = ["Self-defined ethnicity", "Officer-defined ethnicity"]
        null_bool = nw.lit(None, dtype=nw.Boolean)
        expr: dict[str, tuple[Any, list[str]]] = {
            "force": (c("force"), []),
            "month": (c("month"), []),
            "file_month": (c("file_month"), []),
            "ethnicity": (nw.when(use_o).then(c("eo_grp")).otherwise(c(f"{main}_grp")), eth),
            "ethnicity_detailed": (nw.when(use_o).then(c("eo_det")).otherwise(c(f"{main}_det")), eth),
            "officer_defined_ethnicity": (c("eo_grp"), eth),
            "ethnicity_source": (nw.when(use_o).then(nw.lit("officer_defined")).otherwise(
                nw.when(c(f"{main}_blank")).then(nw.lit("none")).otherwise(nw.lit(own))), eth),  # fmt: skip
            "sex": (c("sex_label"), ["Gender"]),
            "age_band": (c("age_label"), ["Age range"]),
            "search_type": (c("type_label"), ["Type"]),
            "vehicle_only": (c("type_vo"), ["Type"]),
            "legal_power": (c("legal_label"), ["Legislation"]),
            "object_of_search": (c("object_label"), ["Object of search"]),
            "outcome": (c("outcome_label"), ["Outcome"]),
            "arrest": (c("outcome_arrest"), ["Outcome"]),
            # the one definition of a find (equity_metrics.outcome_codes.derive_find): not NFA and linked
            "hit": (nw.when(c("outcome_label").is_null()).then(null_bool).otherwise(
                nw.when(c("outcome_nfa")).then(nw.lit(False)).otherwise(c("linked_label"))), ["Outcome", "Outcome linked to object of search"]),  # fmt: skip
            "outcome_linked": (c("linked_label"), ["Outcome linked to object of search"]),
            "strip_search": (c("strip_label"), ["Removal of more than just outer clothing"]),
            "policing_operation": (c("operation_label"), ["Part of a policing operation"]),
        }
        need = ["Type", *eth]
        for b in run.by:
            need += expr[b][1]
        prefix = {"Type": "type", "Gender": "sex", "Age range": "age", "Legislation": "legal", "Object of search": "object",
                  "Outcome": "outcome", "Outcome linked to object of search": "linked", "Part of a policing operation": "operation",
                  "Removal of more than just outer clothing": "strip", "Self-defined ethnicity": "es", "Officer-defined ethnicity": "eo"}  # fmt: skip
        need = list(dict.fromkeys(need))
        # first count the kept rows by file, month and the raw values needed (a few thousand cells), then map those
        pre = self.k.group_by("fid", *[m for m in ("month",) if m in run.by], *[R[col] for col in need]).agg(
            nw.len().cast(_I64).alias("_n"))  # fmt: skip
        lf = pre.join(self.files, on="fid", how="left")
        for col in need:
            lf = lf.join(maps[col], left_on=R[col], right_on=f"{prefix[col]}_raw", how="left")
        keys = [expr[b][0].alias(b) for b in run.by]
        n = c("_n")
        lf = lf.with_columns(*keys, _vo=c("type_vo").fill_null(False), _fb=use_o.fill_null(False)) if keys else lf.with_columns(
            _vo=c("type_vo").fill_null(False), _fb=use_o.fill_null(False))  # fmt: skip
        aggs = [n.sum().cast(_I64).alias("n"), (n * c("_vo").cast(_I64)).sum().alias("_vo"), (n * c("_fb").cast(_I64)).sum().alias("_fb")]
        out = lf.group_by(*run.by).agg(*aggs) if run.by else lf.select(*aggs)
        frame = self.b.collect(out)
        names = [*run.by, "n"]
        vehicle = int(pd.Series(frame["_vo"]).fillna(0).astype(np.int64).sum()) if len(frame) else 0
        used = int(pd.Series(frame["_fb"]).fillna(0).astype(np.int64).sum()) if len(frame) else 0
        data = frame[names] if len(frame) else pd.DataFrame({n: [] for n in names}, dtype=object)
        return finish_counts(data, run.by), vehicle, used


def coverage(run: Any, ledger: Any, notes: list[str], attribution: tuple[int, int, int, int, list]) -> None:
    """months covered and missing, areas, and the month attribution check (as the reader)."""
    n_unnamed, n_named, local_diff, utc_diff, unnamed = attribution
    have = {(f.force, f.month) for f in run.files if f.month is not None}
    areas = {f.force for f in run.files if f.force}
    if n_unnamed:
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


__all__ = ["CountQuery", "coverage", "dates_all_fast", "month_table", "odd_dates", "R"]
