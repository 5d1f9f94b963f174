"""police.uk stop-and-search records to the canonical events table: the conversion both
police.uk readers share, and the reader of the police.uk API (``stops-force`` / ``stops-street`` JSON).

The conversion (:func:`_convert`) takes a table of strings with the police.uk CSV
columns and does everything once per distinct value of a column: UTC to
Europe/London, local month and ``time_known``, ethnicity harmonisation with the
recorded field choice and fallback, booleans, coordinates, exact duplicates,
and the ledger's missing/unknown counts. :func:`~equity_metrics.io.policeuk.read_policeuk`
feeds it the bulk CSVs; :func:`read_policeuk_api` feeds it API records, which
carry the same fields as JSON objects::

    {"age_range": "18-24", "outcome": "Arrest", "involved_person": true,
     "self_defined_ethnicity": "...", "gender": "Male", "legislation": "...",
     "outcome_linked_to_object_of_search": true, "datetime": "2021-05-01T10:00:00+00:00",
     "removal_of_more_than_outer_clothing": false,
     "outcome_object": {"id": "bu-arrest", "name": "Arrest"},
     "location": {"latitude": "51.5", "longitude": "-0.1", "street": {"id": 1, "name": "On or near X"}},
     "operation": false, "officer_defined_ethnicity": "White", "type": "Person search",
     "operation_name": null, "object_of_search": "Controlled drugs"}

so both readers give identical canonical tables and ledgers.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._options import check_option
from ..areas import is_known_force, normalise_force
from ..errors import EmptyFileError, FileFormatError, OptionError, ReadError
from ..ledger import REJECT_COLUMNS, FileRecord, Ledger, ReadResult, Rejects
from ..schema import conform
from ._json_text import _MAX_DEPTH, _depth_over, _raw, _safe_text, _text
# _BOOL, _SEARCH_TYPES, _SEX, _parse_dates and _to_float are re-exported for the counting engine
from ._policeuk_convert import _BOOL, _SEARCH_TYPES, _SEX, NAT, TIMEZONE, coded_frame, convert  # noqa: F401
from ._policeuk_convert import Converted as _Converted
from ._policeuk_convert import parse_dates as _parse_dates  # noqa: F401
from ._policeuk_convert import str_take as _str_take
from ._policeuk_convert import to_float as _to_float  # noqa: F401
from ._sources import OnDamage, decode_bytes, gunzip, iter_files, sha256_bytes

__all__ = ["read_policeuk_api", "API_FIELDS", "POLICEUK_COLUMNS", "EthnicityField", "Fallback"]

#: The exact header of a police.uk stop-and-search CSV.
POLICEUK_COLUMNS: tuple[str, ...] = (
    "Type", "Date", "Part of a policing operation", "Policing operation", "Latitude", "Longitude",
    "Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation",
    "Object of search", "Outcome", "Outcome linked to object of search",
    "Removal of more than just outer clothing",
)  # fmt: skip

EthnicityField = Literal["self_defined", "officer_defined"]
Fallback = Literal["none", "officer_defined"]

_NAT = NAT
# raw police.uk column -> canonical field name used in the ledger
_FIELD_OF = dict(zip(POLICEUK_COLUMNS, (
    "search_type", "datetime", "policing_operation", "policing_operation_name", "latitude", "longitude",
    "sex", "age_band", "self_defined_ethnicity", "officer_defined_ethnicity", "legal_power",
    "object_of_search", "outcome", "outcome_linked", "strip_search",
)))  # fmt: skip


def _check_ethnicity_options(ethnicity_field: str, fallback: str) -> None:
    check_option("ethnicity_field", ethnicity_field, EthnicityField)
    check_option("fallback", fallback, Fallback)
    if ethnicity_field == "officer_defined" and fallback != "none":
        raise OptionError(
            "fallback='officer_defined' only applies with ethnicity_field='self_defined'; use fallback='none'"
        )


def _choices(ethnicity_field: str, fallback: str) -> dict[str, Any]:
    return {
        "ethnicity_field": ethnicity_field,
        "fallback": fallback,
        "timezone": f"Date is UTC, converted to {TIMEZONE}; month is the local calendar month",
        "time_known": "False where the local time is exactly 00:00:00 (a date given without a time)",
        "duplicates": "exact duplicate rows within a file are kept and flagged in 'duplicate'",
    }


# ============================================================================ conversion
# Shared by both police.uk readers (the code lives in ._policeuk_convert). ``raw`` is a table
# of strings with the police.uk column names (plus any extra columns); ``group`` says which
# input file each row came from.


def _convert(raw: pd.DataFrame, *, group: np.ndarray, source: str, ethnicity_field: str, fallback: str) -> _Converted:
    """Vectorised conversion of police.uk text columns (plus any extra columns) to canonical columns."""
    cols, text, utc, reason = coded_frame(raw)
    return convert(cols, date_text=text, utc_ns=utc, reason=reason, group=np.asarray(group), source=source,
                   ethnicity_field=ethnicity_field, fallback=fallback, field_of=_FIELD_OF)  # fmt: skip


def _reject_frame(records: list[dict]) -> pd.DataFrame:
    """A rejects table in input order (file, then line or index); text stays plain objects (safe for any Unicode)."""
    records = sorted(records, key=lambda r: (r.get("_g", 0), r.get("line") or 0, r.get("row") or 0))
    frame = pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in REJECT_COLUMNS})
    for c in ("line", "row"):
        frame[c] = pd.array([r.get(c) for r in records], dtype="Int64")
    return frame


# ============================================================================ the API reader

#: police.uk CSV column -> API key (location fields are nested under ``location``).
API_FIELDS: dict[str, str] = {
    "Type": "type",
    "Date": "datetime",
    "Part of a policing operation": "operation",
    "Policing operation": "operation_name",
    "Latitude": "location.latitude",
    "Longitude": "location.longitude",
    "Gender": "gender",
    "Age range": "age_range",
    "Self-defined ethnicity": "self_defined_ethnicity",
    "Officer-defined ethnicity": "officer_defined_ethnicity",
    "Legislation": "legislation",
    "Object of search": "object_of_search",
    "Outcome": "outcome",
    "Outcome linked to object of search": "outcome_linked_to_object_of_search",
    "Removal of more than just outer clothing": "removal_of_more_than_outer_clothing",
}
_EXTRA = ("involved_person", "street_name")
_IN_MEMORY = "<records>"


def _row(record: Mapping[str, Any]) -> list[str]:
    """One API record as the police.uk CSV row (plus involved_person and street name)."""
    loc = record.get("location")
    loc = loc if isinstance(loc, Mapping) else {"latitude": loc, "longitude": loc}
    street = loc.get("street")
    outcome = record.get("outcome")
    if isinstance(outcome, Mapping):  # older API: outcome is {id, name} or false
        outcome = outcome.get("name")
    if outcome is None or outcome is False:
        obj = record.get("outcome_object")
        outcome = obj.get("name") if isinstance(obj, Mapping) else outcome
    values = {k: record.get(k) for k in API_FIELDS.values() if "." not in k}
    values.update({"location.latitude": loc.get("latitude"), "location.longitude": loc.get("longitude")})
    values["outcome"] = outcome
    row = [_text(values[API_FIELDS[c]]) for c in POLICEUK_COLUMNS]
    street_name = street.get("name") if isinstance(street, Mapping) else street
    return row + [_text(record.get("involved_person")), _text(street_name)]


def _load_json(name: str, data: bytes, encoding: str) -> tuple[list[Any], FileRecord]:
    sha = sha256_bytes(data)  # of the file as given
    packed = data.startswith(b"\x1f\x8b")
    if packed:
        data = gunzip(data, name)
    dec = decode_bytes(data, name, encoding=encoding)
    if not dec.text.strip():
        raise EmptyFileError("the file is empty (no JSON)", file=name, hint="An API response with no searches is '[]'")
    try:
        obj = json.loads(dec.text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"not valid JSON ({exc.msg}, column {exc.colno})",
            file=name,
            line=exc.lineno,
            hint="Save the API response body unchanged (a JSON list of records)",
        ) from None
    except RecursionError:
        raise FileFormatError(
            "JSON nested too deeply to read (police.uk records are a list of flat objects)",
            file=name,
            hint="Check the file is a police.uk API response body saved unchanged",
        ) from None
    if not isinstance(obj, list):
        raise FileFormatError(
            f"expected a JSON list of stop-and-search records, found a JSON {type(obj).__name__}",
            file=name,
            hint="police.uk stops-force / stops-street responses are lists; save the response body unchanged",
        )
    notes = (["gzip-compressed: decompressed, checksum verified"] if packed else []) + list(dec.notes)
    rec = FileRecord(file=name, rows_read=len(obj), encoding=dec.encoding, sha256=sha, notes=notes)
    return obj, rec


def _stem(name: str) -> str:
    """File name without its folder and its .json / .json.gz suffix."""
    base = os.path.basename(name.split("::")[-1])
    for suffix in (".json.gz", ".json"):
        if base.lower().endswith(suffix):
            return base[: -len(suffix)]
    return base.rsplit(".", 1)[0]


def read_policeuk_api(
    sources_or_records: Any,
    *,
    force: str | None = None,
    ethnicity_field: EthnicityField = "self_defined",
    fallback: Fallback = "none",
    encoding: str = "auto",
    strict: bool = False,
    on_damage: OnDamage = "raise",
) -> ReadResult:
    """Read police.uk API stop-and-search records into the canonical events table.

    Parameters
    ----------
    sources_or_records
        A ``.json`` file holding a list of records (as the API returns them), or a
        gzip-compressed ``.json.gz`` one, a list of such files, a folder or a glob of them
        (``.json`` and ``.json.gz`` alike), or an in-memory list of record dicts.
    force
        The force the records belong to (police.uk slug or name). The ``stops-force``
        response does not repeat it; without it ``force`` is NA.
    ethnicity_field, fallback
        As in :func:`~equity_metrics.io.policeuk.read_policeuk`.
    encoding
        Encoding of the files (``"auto"``: UTF-8 with a recorded Windows-1252 fallback).
    strict, on_damage
        As in :func:`~equity_metrics.io.policeuk.read_policeuk`: a file that is not a JSON
        list of records is rejected whole (``ledger.files_rejected``) unless ``strict=True``
        or no file can be read; a damaged archive raises unless ``on_damage="keep"``.

    Returns
    -------
    ReadResult
        Canonical events (``source`` is ``"policeuk_api"``; ``event_id`` is
        ``"<force>/<file stem>/<index>"``; ``source_index`` is the record's 0-based
        position in its list; extra columns ``involved_person`` and ``street_name``),
        the ledger and the rejects (records that are not JSON objects, lack a
        ``datetime`` or have an unusable one; ``row`` is the 0-based index).

    Examples
    --------
    >>> rec = {"type": "Person search", "datetime": "2021-05-31T23:30:00+00:00", "gender": "Female",
    ...        "age_range": "25-34", "self_defined_ethnicity": "Asian/Asian British - Indian",
    ...        "officer_defined_ethnicity": "Asian", "outcome": "Arrest", "location": None}
    >>> res = read_policeuk_api([rec, "junk"], force="kent")
    >>> res.data[["force", "month", "ethnicity", "arrest"]].astype(str).values.tolist()
    [['kent', '2021-06', 'Asian', 'True']]
    >>> res.rejects.frame[["row", "reason"]].values.tolist()
    [[1, 'record is not a JSON object']]
    """
    _check_ethnicity_options(ethnicity_field, fallback)
    check_option("on_damage", on_damage, OnDamage)
    if not isinstance(strict, bool):
        raise OptionError(f"strict={strict!r} is not allowed; give True or False")
    slug = normalise_force(force) if force is not None else None
    if force is not None and not slug:
        raise OptionError(f"force={force!r} is not a force name")
    batches: list[tuple[str, list[Any], FileRecord]] = []
    failed: list[tuple[str, ReadError, str | None]] = []  # files rejected whole
    damage: list[dict] = []
    src = sources_or_records
    if isinstance(src, Mapping):
        raise ReadError("got a single record (a dict); pass a list of records", hint="Wrap it in a list: [record]")
    if not isinstance(src, (str, bytes, os.PathLike)) and isinstance(src, Iterable):
        src = list(src)
        if not src or not all(isinstance(x, (str, os.PathLike)) for x in src):
            rec = FileRecord(file=_IN_MEMORY, rows_read=len(src), encoding="n/a (in-memory records)")
            batches.append((_IN_MEMORY, src, rec))
    if not batches:
        if isinstance(src, bytes) or not isinstance(src, (str, os.PathLike, list)):
            raise ReadError(f"cannot read a {type(src).__name__}: pass a .json path, a list of paths or a list of records")
        for name, data in iter_files(src, suffixes=(".json", ".json.gz"), on_damage=on_damage, damage=damage):
            try:
                batches.append((name, *_load_json(name, data, encoding)))
            except ReadError as exc:
                if strict:
                    raise
                failed.append((name, exc, sha256_bytes(data)))
        suspect = {d["suspect_file"] for d in damage if d.get("suspect_file")}
        for b in [b for b in batches if b[0] in suspect]:  # decompressed just before the damage
            batches.remove(b)
            why = "read just before the damage of its archive: its bytes may be damaged, so it is not kept"
            failed.append((b[0], FileFormatError(why, file=b[0], hint="Download the archive again"), b[2].sha256))
        if not batches and failed:  # nothing could be read: say why, for the first file
            raise failed[0][1]
    batches.sort(key=lambda b: b[0])

    rows: list[list[str]] = []
    index: list[int] = []
    group: list[int] = []
    originals: list[Any] = []
    records: list[dict] = []
    for gi, (name, recs, _) in enumerate(batches):
        for i, rec in enumerate(recs):
            reason = None
            if not isinstance(rec, Mapping):
                reason = "record is not a JSON object"
            elif rec.get("datetime") is None or (isinstance(rec["datetime"], str) and not rec["datetime"].strip()):
                reason = "missing datetime"
            elif _depth_over(rec):
                reason = f"record nested more than {_MAX_DEPTH} levels deep (not a police.uk record)"
            else:
                row = _row(rec)
                try:
                    "\x1f".join(row).encode("utf-8")
                except UnicodeEncodeError:
                    reason = "text that is not valid Unicode (lone surrogate)"
            if reason:
                is_obj = isinstance(rec, Mapping)
                value = _safe_text(rec.get("datetime")) if is_obj else None
                records.append({"file": name, "line": None, "row": i, "column": "datetime" if is_obj else None,
                                "value": value, "reason": reason, "raw": _raw(rec), "_g": gi})  # fmt: skip
                continue
            rows.append(row)
            index.append(i)
            group.append(gi)
            originals.append(rec)
    cols = list(POLICEUK_COLUMNS) + list(_EXTRA)
    raw = pd.DataFrame(np.array(rows, dtype=object).reshape(len(rows), len(cols)), columns=cols).astype("str")
    g = np.asarray(group, dtype=np.int64)
    idx = np.asarray(index, dtype=np.int64)
    conv = _convert(raw, group=g, source="policeuk_api", ethnicity_field=ethnicity_field, fallback=fallback)
    keep, c = conv.keep, conv.columns
    for j in np.flatnonzero(~keep):
        records.append({"file": batches[g[j]][0], "line": None, "row": int(idx[j]), "column": "datetime",
                        "value": raw["Date"].iat[j], "reason": conv.reason[j], "raw": _raw(originals[j]),
                        "_g": int(g[j])})  # fmt: skip
    raw_k, g, idx = raw.loc[keep].reset_index(drop=True), g[keep], idx[keep]
    n = len(raw_k)
    c["force"] = pd.Categorical([slug] * n, categories=[slug] if slug else [])
    c["file_month"] = pd.PeriodIndex.from_ordinals(np.full(n, np.iinfo(np.int64).min), freq="M")
    c["source_file"] = pd.Categorical.from_codes(g.astype(np.int32), categories=[b[0] for b in batches])
    stems = ["records" if b[0] == _IN_MEMORY else _stem(b[0]) for b in batches]
    c["event_id"] = pd.array([f"{slug or 'unknown'}/{stems[gi]}/{i}" for gi, i in zip(g, idx)], dtype="string")
    involved = raw_k["involved_person"].str.strip().str.lower()
    c["involved_person"] = pd.array(involved.map({"true": True, "false": False}).to_numpy(dtype=object), dtype="boolean")
    bad_involved = (involved != "") & ~involved.isin(["true", "false"])
    if bad_involved.any():  # keep the raw value of what could not be read, as for every other field
        unparsed = c["raw_unparsed"].to_numpy(dtype=object, na_value=None)
        for j in np.flatnonzero(bad_involved.to_numpy()):
            extra = {"involved_person": raw_k["involved_person"].iat[j]}
            unparsed[j] = json.dumps({**json.loads(unparsed[j] or "{}"), **extra}, ensure_ascii=False)
        c["raw_unparsed"] = pd.array(unparsed, dtype="string")
    street_codes, street = pd.factorize(raw_k["street_name"].str.strip())
    c["street_name"] = _str_take(np.where(street_codes < 0, len(street), street_codes), [s or None for s in street])
    c["source_index"] = pd.array(idx, dtype="Int64")
    data = pd.DataFrame(c)

    kept_by = np.bincount(g, minlength=len(batches))
    rejected_by = Counter(r["_g"] for r in records)
    for gi, (_, _, rec) in enumerate(batches):
        rec.rows_kept, rec.rows_rejected = int(kept_by[gi]), rejected_by.get(gi, 0)
    ledger = Ledger(source="policeuk_api", files=[b[2] for b in batches])
    ledger.rejected_by_reason = dict(sorted(Counter(r["reason"] for r in records).items()))
    ledger.missing_by_field = dict(sorted(conv.missing.items()))
    ledger.unknown_by_field = dict(sorted({**conv.unknown, "involved_person": int(bad_involved.sum())}.items()))
    ledger.duplicates = int(data["duplicate"].sum())
    ledger.months_covered = sorted({str(m) for m in data["month"].dropna().unique()})
    ledger.areas_covered = [slug] if slug else []
    ledger.choices = _choices(ethnicity_field, fallback)
    ledger.notes = [
        "API records carry no file month: months_missing is not computed (a month with no records may be zero searches)"
    ]
    if slug is None:
        ledger.notes.append("force not given: force is NA (pass force='<slug>')")
    elif not is_known_force(slug):
        ledger.notes.append(f"force {slug!r} is not one of the 44 police.uk forces")
    if fallback != "none":
        ledger.notes.append(f"ethnicity: officer-defined group used for {conv.fallback_used:,} record(s)")
    ledger.notes += [f"{b[2].file}: {n}" for b in batches for n in b[2].notes]
    if failed or damage:
        for name, exc, sha in sorted(failed, key=lambda f: f[0]):
            ledger.files_rejected.append({"file": name, "reason": str(exc), "rows": None, "sha256": sha})
        if failed:
            ledger.notes.append(f"{len(failed)} file(s) rejected whole (they cannot be read; see ledger.files_rejected); "
                                "pass strict=True to stop at the first")  # fmt: skip
        ledger.damage.extend(damage)
        ledger.notes += [f"DAMAGED ARCHIVE {d['archive']}: {d['problem']}; {d['unknown']}" for d in damage]
    return ReadResult(data=conform(data, "events"), ledger=ledger, rejects=Rejects(_reject_frame(records)), kind="events")
