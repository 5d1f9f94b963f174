"""The coded columns of every police.uk file read, to the canonical events table, ledger and rejects.

Called by :func:`~equity_metrics.io.policeuk.read_policeuk` once every file has been
parsed and coded (:mod:`._policeuk_scan`). Rows are put in output order (force, file
month, file name, line) with one permutation of the integer codes, the conversion of
:mod:`._policeuk_convert` runs once over all rows, and the ledger is filled from
per-file counts (``numpy.bincount``), never from a loop over rows.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..areas import normalise_forces
from ..ledger import FileRecord, Ledger, ReadResult, Rejects
from ..schema import conform
from ._policeuk_convert import NAT, TIMEZONE, Coded, convert, resolve_dates
from ._policeuk_scan import TEXT_COLUMNS, Encoder
from .policeuk_api import _reject_frame


@dataclass
class PoliceukFile:
    """One file read: where its rows sit in the coded columns, and what the ledger says of it."""

    name: str
    force: str | None  # None: per row, from a Force column
    month: pd.Period | None  # None: the name carries no month
    record: FileRecord
    bad: list[dict]  # ragged records (careful path)
    n: int = 0  # records parsed
    start: int = 0  # position of its first row in the coded columns
    lines: np.ndarray | None = None  # physical line of each record; None: 2..n+1
    rows: np.ndarray | None = None  # data-record number of each record; None: 1..n
    has_force: bool = False  # its rows carry a Force column


INDEX_NOTE = "first column has no name: a pandas index (written by DataFrame.to_csv), ignored"


def assemble(
    files: list[PoliceukFile], enc: Encoder, *, columns: tuple[str, ...], field_of: dict[str, str], want_forces,
    want_months, exp_months, ethnicity_field, fallback, skipped, seen_forces, choices: dict[str, Any],
) -> ReadResult:  # fmt: skip
    files.sort(key=lambda f: (f.force or "\uffff", f.month or pd.Period("9999-12", freq="M"), f.name))
    per_row_force = any(f.force is None for f in files)
    ns = np.array([f.n for f in files], dtype=np.int64)
    total = int(ns.sum())
    offsets = np.concatenate([[0], np.cumsum(ns)[:-1]]).astype(np.int64)
    local = np.arange(total, dtype=np.int64) - np.repeat(offsets, ns)
    perm = np.repeat(np.array([f.start for f in files], dtype=np.int64), ns) + local
    group = np.repeat(np.arange(len(files), dtype=np.int32), ns)
    lines, rownos = local + 2, local + 1
    for i, f in enumerate(files):
        if f.lines is not None:
            lines[offsets[i] : offsets[i] + f.n] = f.lines
        if f.rows is not None:
            rownos[offsets[i] : offsets[i] + f.n] = f.rows
    raw_cols = [c for c in columns if c not in TEXT_COLUMNS] + (["Force"] if per_row_force else [])
    in_order = total == enc.rows and bool((perm == np.arange(total)).all())  # files read in output order
    cols: dict[str, Coded] = {}
    for c in raw_cols:
        col = enc.column(c) or Coded(np.full(enc.rows, -1, dtype=np.int32), [])
        cols[c] = Coded(col.codes if in_order else col.codes[perm] if total else np.zeros(0, dtype=np.int32), col.raws)
        del col
    if per_row_force:  # files named after their force: that force on every row
        fc = cols["Force"] = Coded(cols["Force"].codes.astype(np.int32), cols["Force"].raws)  # codes written below
        for i, f in enumerate(files):
            if not f.has_force:
                if f.force not in fc.raws:
                    fc.raws.append(f.force)
                fc.codes[offsets[i] : offsets[i] + f.n] = fc.raws.index(f.force)
    coords = [c for c in TEXT_COLUMNS if c != "Date"]
    if not total:
        text, utc = pa.chunked_array([], type=pa.large_string()), np.zeros(0, dtype=np.int64)
        texts = {c: pa.chunked_array([], type=pa.large_string()) for c in coords}
    elif in_order:
        text, utc = enc.date_text(), enc.utc_ns()
        texts = {c: enc.text(c) for c in coords}
    else:
        take = pa.array(perm)
        text, utc = enc.date_text().take(take), enc.utc_ns()[perm]
        texts = {c: enc.text(c).take(take) for c in coords}
    del perm
    reason = resolve_dates(utc, lambda rows: text.take(pa.array(rows)).to_pylist())
    notes: list[str] = []
    excluded = _row_filter(cols, utc, files, group, want_forces, want_months)
    if excluded.any():
        for i, k in Counter(group[excluded].tolist()).items():
            files[i].record.rows_read -= k
            files[i].record.notes.append(f"{k} row(s) excluded by forces=/months=")
        notes.append(f"{int(excluded.sum())} row(s) of files without force and month in their names excluded by forces=/months=")
        rows = np.flatnonzero(~excluded)
        cols = {c: Coded(v.codes[rows], v.raws) for c, v in cols.items()}
        text, utc, reason = text.take(pa.array(rows)), utc[rows], reason[rows]
        texts = {c: t.take(pa.array(rows)) for c, t in texts.items()}
        group, lines, rownos = group[rows], lines[rows], rownos[rows]
    keep = pd.isna(reason)

    # ---- rejects: ragged records, then rows whose Date is unusable
    records = [{"file": f.name, "column": None, "value": None, "_g": i, **b} for i, f in enumerate(files) for b in f.bad]
    if not keep.all():
        bad = np.flatnonzero(~keep)
        dates = text.take(pa.array(bad)).to_pylist()
        vals = {k: (dates if k == "Date" else [cols[k].raws[j] for j in cols[k].codes[bad]]) for k in ["Date", *raw_cols]}
        vals.update({k: t.take(pa.array(bad)).to_pylist() for k, t in texts.items()})
        order = [k for k in columns] + (["Force"] if per_row_force else [])
        for j, i in enumerate(bad):  # one record per rejected row, with its raw values
            raw = json.dumps({k: str(vals[k][j]) for k in order}, ensure_ascii=False)
            records.append({"file": files[group[i]].name, "line": int(lines[i]), "row": int(rownos[i]), "column": "Date",
                            "value": str(dates[j]), "reason": reason[i], "raw": raw, "_g": int(group[i])})  # fmt: skip
    fk = cols.get("Force")  # kept aside: convert() consumes (and frees) the coded columns as it goes
    conv = convert(cols, date_text=text, utc_ns=utc, reason=reason, group=group, source="policeuk",
                   ethnicity_field=ethnicity_field, fallback=fallback, field_of=field_of, texts=texts)  # fmt: skip
    del cols, text, texts
    c = conv.columns
    g, lines = group[keep], lines[keep]

    # ---- provenance of kept rows
    if per_row_force:
        fcodes = fk.codes[keep]
        flabels = list(normalise_forces(pd.Series([s.strip() for s in fk.raws], dtype=object)))
        forces_all = sorted({v for v in flabels if v})
        force_codes = np.array([forces_all.index(v) if v else -1 for v in flabels] + [-1], dtype=np.int32)[fcodes]
    else:
        forces_all = sorted({f.force for f in files})
        force_codes = np.array([forces_all.index(f.force) for f in files] + [-1], dtype=np.int32)[g]
    c["force"] = pd.Categorical.from_codes(force_codes, categories=forces_all)
    month_ord = np.array([f.month.ordinal if f.month else NAT for f in files] + [NAT])
    c["file_month"] = pd.PeriodIndex.from_ordinals(month_ord[g], freq="M")
    names = [f.name for f in files]
    if len(set(names)) == len(names):
        c["source_file"] = pd.Categorical.from_codes(g.astype(np.int32), categories=names)
    else:  # the same file given twice
        c["source_file"] = pd.Categorical(np.array(names, dtype=object)[g])
    c["source_line"] = pd.array(lines, dtype="Int64")
    c["event_id"] = _event_ids(files, g, lines, force_codes, forces_all)
    n = len(g)
    none = pd.Categorical([None]).dtype  # what conform() would add, without building it row by row
    c["district"] = c["beat"] = pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), dtype=none)
    data = pd.DataFrame(c, copy=False)  # no copy of the columns (pandas' copy-on-write protects them)
    if per_row_force:  # rows of one file may belong to several forces
        order = np.lexsort((lines, g, data["force"].cat.codes.to_numpy()))
        data, g = data.take(order).reset_index(drop=True), g[order]
    utc_month = utc[keep].view("M8[ns]").astype("M8[M]").astype(np.int64)
    if per_row_force:
        utc_month = utc_month[order]

    # ---- ledger
    kept_by_file = np.bincount(g, minlength=len(files))
    rejected_by_file = Counter(r["_g"] for r in records)
    for i, f in enumerate(files):
        f.record.rows_kept, f.record.rows_rejected = int(kept_by_file[i]), rejected_by_file.get(i, 0)
    ledger = Ledger(source="policeuk", files=[f.record for f in files])
    ledger.rejected_by_reason = dict(sorted(Counter(r["reason"] for r in records).items()))
    ledger.missing_by_field = dict(sorted(conv.missing.items()))
    if per_row_force:
        ledger.missing_by_field["force"] = int((force_codes < 0).sum())
    ledger.unknown_by_field = dict(sorted(conv.unknown.items()))
    ledger.duplicates = int(np.asarray(c["duplicate"]).sum())
    ledger.choices = choices
    _coverage(ledger, files, data, utc_month, want_forces, want_months, exp_months, notes, seen_forces)
    if fallback != "none":
        notes.append(
            f"ethnicity: officer-defined group used for {conv.fallback_used:,} row(s) whose self-defined group was blank or not stated"
        )
    if skipped:
        notes.append("skipped files that are not stop-and-search: " + ", ".join(f"{v} {k}" for k, v in sorted(skipped.items())))
    flags = ("UTF-8", "UTF-16", "not used")
    notes += [f"{f.name}: {n}" for f in files for n in f.record.notes if any(x in n for x in flags)]
    unknown_forces = sorted({n.split("'")[1] for f in files for n in f.record.notes if "not one of the" in n})
    if unknown_forces:  # once per force, not once per file
        notes.append(f"force(s) not among the 44 police.uk forces (kept as given): {', '.join(unknown_forces)}")
    indexed = sum(INDEX_NOTE in f.record.notes for f in files)
    if indexed:  # once, not once per file
        notes.append(f"{indexed} file(s) start with an unnamed column, a pandas index (written by DataFrame.to_csv): ignored")
    twins = len(files) - len({f.record.sha256 for f in files})
    if twins:
        notes.append(f"{twins} file(s) have the same bytes as another file read: their searches are in the table twice")
    ledger.notes = notes
    return ReadResult(data=conform(data, "events"), ledger=ledger, rejects=Rejects(_reject_frame(records)), kind="events")


def _row_filter(cols: dict[str, Coded], utc: np.ndarray, files: list[PoliceukFile], group: np.ndarray, want_forces,
                want_months) -> np.ndarray:  # fmt: skip
    """Rows of files without force/month in their names that forces=/months= exclude."""
    unnamed = np.array([f.month is None for f in files] + [False])[group]
    excluded = np.zeros(len(group), dtype=bool)
    if not unnamed.any() or (want_forces is None and want_months is None):
        return excluded
    if want_forces is not None:
        fk = cols.get("Force")
        if fk is not None:
            ok = normalise_forces(pd.Series(fk.raws, dtype=object)).isin(want_forces).to_numpy()
            excluded |= unnamed & ~np.append(ok, False)[fk.codes]
        else:
            ok = normalise_forces(pd.Series([f.force for f in files], dtype=object)).isin(want_forces).to_numpy()
            excluded |= unnamed & ~ok[group]
    if want_months is not None:
        parsed = utc != NAT
        local = pd.DatetimeIndex(np.where(parsed, utc, 0).view("M8[ns]")).tz_localize("UTC").tz_convert(TIMEZONE)
        month = local.tz_localize(None).asi8.view("M8[ns]").astype("M8[M]").astype(np.int64)
        wanted = np.isin(month, [m.ordinal for m in want_months])
        excluded |= unnamed & parsed & ~wanted
    return excluded


def _event_ids(files: list[PoliceukFile], g: np.ndarray, lines: np.ndarray, force_codes: np.ndarray, forces: list[str]):
    """'<force>/<YYYY-MM>/<line>' (or '<force>/<file stem>/<line>'), unique across files."""
    seen: Counter = Counter()
    parts = []
    for f in files:
        stem = str(f.month) if f.month is not None else os.path.basename(f.name.split("::")[-1]).rsplit(".", 1)[0]
        seen[(f.force, stem)] += 1
        parts.append(stem if seen[(f.force, stem)] == 1 else f"{stem}#{seen[(f.force, stem)]}")

    def decode(codes: np.ndarray, labels: list[str]) -> pa.Array:
        dictionary = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), pa.array(labels, type=pa.string()))
        return dictionary.dictionary_decode()

    named = all(f.force is not None for f in files)
    prefixes = [f"{f.force}/{part}/" for f, part in zip(files, parts)] if named else []
    pieces = []
    for a in range(0, max(len(g), 1), _ID_ROWS):  # in pieces: the temporary texts stay small
        b = min(a + _ID_ROWS, len(g))
        ln = pc.cast(pa.array(lines[a:b], type=pa.int64()), pa.string())
        gi = g[a:b].astype(np.int32)
        if named:  # one prefix per file
            piece = pc.binary_join_element_wise(decode(gi, prefixes), ln, "")
        else:
            fc = force_codes[a:b]
            fv = decode(np.where(fc < 0, len(forces), fc), list(forces) + ["unknown"])
            piece = pc.binary_join_element_wise(fv, decode(gi, parts), ln, "/")
        pieces.append(piece.cast(pa.large_string()))
    return pd.arrays.ArrowStringArray(pa.chunked_array(pieces, type=pa.large_string()))


_ID_ROWS = 1 << 20


def _coverage(ledger: Ledger, files: list[PoliceukFile], data: pd.DataFrame, utc_month: np.ndarray, want_forces,
              want_months, exp_months, notes, seen_forces) -> None:  # fmt: skip
    """months_covered, areas_covered, months_missing (force-months with no file), month attribution check.

    Forces expected: those asked for, else every force named by a file in the sources
    (even when ``months=`` left none of its files to read)."""
    have = {(f.force, f.month) for f in files if f.month is not None}
    areas = {f.force for f in files if f.force}
    unnamed = data["file_month"].isna().to_numpy()
    if unnamed.any():
        sub = data.loc[unnamed, ["force", "month"]].dropna().drop_duplicates()
        have.update((str(a), m) for a, m in zip(sub["force"], sub["month"]))
        areas.update(str(a) for a in sub["force"])
        notes.append("files without a month in their names cover the months of their rows only")
    months_have = sorted({m for _, m in have})
    ledger.months_covered = [str(m) for m in months_have]
    ledger.areas_covered = sorted(areas)
    span = list(pd.period_range(months_have[0], months_have[-1], freq="M")) if months_have else []
    expected = exp_months or want_months or span
    exp_forces = sorted(set(want_forces) if want_forces is not None else areas | seen_forces)
    ledger.months_missing = sorted((a, str(m)) for a in exp_forces for m in expected if (a, m) not in have)
    absent = [f for f in (want_forces or []) if f not in areas]
    if absent:
        notes.append(f"no file at all for requested force(s) {absent}: every expected month is missing")
    named = ~unnamed
    if named.any():
        fm = data["file_month"].array.asi8[named]
        local_diff = int((data["month"].array.asi8[named] != fm).sum())
        utc_diff = int((utc_month[named] != fm).sum())
        ledger.choices["month_attribution"] = {
            "rule": f"month = local ({TIMEZONE}) calendar month of Date; file_month = month in the file name",
            "rows_local_month_not_file_month": local_diff,
            "rows_utc_month_not_file_month": utc_diff,
        }
        notes.append(
            f"{local_diff:,} row(s) fall in a local month other than their file's month ({utc_diff:,} would by the "
            "UTC month: summer files start at 23:xx UTC on the previous month's last day)"
        )
