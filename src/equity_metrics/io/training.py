"""Training rosters: who completed which course, and when.

:func:`read_training_roster` reads any roster (CSV, gzip CSV, Parquet or Excel)
into the canonical *training* table with the mapped reader. Without a mapping
it recognises common column names (``officer_id``/``badge``/``star``,
``completed``/``completion_date``/``session_end_date``, ``appointed``, ``sex``/
``gender``, ``unit``, ``course``); with one, the mapping decides.

Officer names: columns that look like names (``last name``, ``first_name``,
``officer_name``, ...) are dropped before anything else, so they reach neither
the table nor the raw records of the rejects, unless ``keep_names=True``.

For the Chicago CIT roster, see :func:`equity_metrics.io.chicago.read_chicago_cit_roster`.
"""

from __future__ import annotations

import os
import re
from typing import Literal

from .._options import check_option
from ..errors import MappingError, MissingColumnsError
from ..ledger import ReadResult
from ._sources import iter_files
from .mapped import _SUFFIXES, assemble, load_mapping, load_table, map_table, mapping_dict

__all__ = ["read_training_roster", "DEFAULT_ROSTER_MAPPING", "is_name_column"]

_DATE_FIELDS = ("completed", "started", "appointed", "resigned")

#: Column names recognised when no mapping is given (matched ignoring case and punctuation).
DEFAULT_ROSTER_MAPPING: dict = {
    "name": "default roster",
    "kind": "training",
    "columns": {
        "officer_id": ["officer_id", "officer", "employee_id", "staff_id", "payroll_number", "badge", "badge_number",
                       "star", "star_number", "star_badge", "collar_number", "warrant_number"],
        "completed": ["completed", "completion_date", "date_completed", "completed_date", "session_end_date",
                      "course_end_date", "end_date", "date"],
        "started": ["started", "start_date", "course_start_date", "session_start_date"],
        "appointed": ["appointed", "appointment_date", "date_of_appointment", "appointed_date", "hire_date"],
        "resigned": ["resigned", "resignation_date", "leaving_date"],
        "sex": ["sex", "gender"],
        "unit": ["unit", "team", "department"],
        "force": ["force", "agency"],
        "course": ["course", "course_name", "module", "training"],
    },
    "optional": ["officer_id", "started", "appointed", "resigned", "sex", "unit", "force"],
    "required": ["completed"],
}

_NAME = re.compile(r"^(?:(?:officer|employee|staff|member)_)?(?:first|last|middle|given|family|sur|full|fore)?_?names?$")


def is_name_column(column: str) -> bool:
    """True for column names that hold people's names (dropped unless ``keep_names=True``).

    Examples
    --------
    >>> [is_name_column(c) for c in ["LAST NAME", "first_name", "Surname", "course_name", "unit"]]
    [True, True, True, False, False]
    """
    norm = re.sub(r"[^0-9a-z]+", "_", str(column).casefold()).strip("_")
    return bool(_NAME.match(norm)) or norm in ("surname", "forename", "forenames")


def read_training_roster(
    path,
    *,
    course: str | None = None,
    mapping: dict | str | os.PathLike | None = None,
    level: Literal["officer", "unit", "force"] = "officer",
    date_format: str | list[str] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str = "auto",
    keep_names: bool = False,
) -> ReadResult:
    """Read a training roster into the canonical training table.

    Parameters
    ----------
    path
        A file (CSV, ``.csv.gz``, Parquet, ``.xlsx``), list, glob, folder or archive.
    course
        The course name for every row (overrides a course column). Needed when
        the file has no course column.
    mapping
        A mapping (dict, TOML file or built-in name) instead of the default
        column recognition (see :data:`DEFAULT_ROSTER_MAPPING`).
    level
        ``"officer"`` (default), ``"unit"`` or ``"force"``, unless the mapping sets it.
    date_format
        strftime format(s) for the date columns (default: ISO ``%Y-%m-%d`` with or
        without a time). Rows whose completion date cannot be read are rejected.
    sheet, header_row
        For Excel files: sheet name or index; 1-based header row (title rows above
        it are recorded in ``ledger.notes``).
    encoding
        ``"auto"`` or a codec name.
    keep_names
        Keep columns that hold names (off by default).

    Returns
    -------
    ReadResult
        ``kind="training"``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "roster.csv"
    >>> _ = p.write_text("Badge,Last Name,Completion Date\\n101,Smith,2015-03-02\\n102,Jones,02/03/2015\\n")
    >>> res = read_training_roster(p, course="De-escalation")
    >>> res.ledger.rows_kept, res.ledger.rows_rejected, "Last Name" in res.rejects.frame["raw"][0]
    (1, 1, False)
    >>> res.data[["officer_id", "course"]].values.tolist()
    [['101', 'De-escalation']]
    """
    check_option("level", level, Literal["officer", "unit", "force"])
    m = mapping_dict(DEFAULT_ROSTER_MAPPING if mapping is None else mapping)
    m.setdefault("constants", {})
    if course is not None:
        m["constants"]["course"] = str(course)
        m.get("columns", {}).pop("course", None)
    if "level" not in m["constants"] and "level" not in m.get("columns", {}):
        m["constants"]["level"] = level
    if date_format is not None:
        dates = m.setdefault("dates", {})
        for f in _DATE_FIELDS:
            if f in m.get("columns", {}):
                spec_f = dates.get(f, {})
                dates[f] = {**(spec_f if isinstance(spec_f, dict) else {"format": spec_f}), "format": date_format}
    if course is None and "course" not in m.get("columns", {}) and "course" not in m["constants"]:
        raise MappingError("the roster needs a course name: pass course='...' or map a course column")
    spec = load_mapping(m, kind="training")
    parts, notes = [], []
    for name, data in iter_files(path, suffixes=_SUFFIXES):
        raw = load_table(name, data, spec=spec, sheet=sheet, header_row=header_row, encoding=encoding)
        names = [c for c in raw.frame.columns if is_name_column(c)]
        if names and not keep_names:
            raw.frame = raw.frame.drop(columns=names)
            notes.append(f"{os.path.basename(name)}: {len(names)} name column(s) dropped (also from the raw records "
                         "of rejected rows); keep_names=True keeps them")
        elif names:
            spec = load_mapping({**m, "keep": {**m.get("keep", {}), **{c: c for c in names}}}, kind="training")
        try:
            parts.append(map_table(raw, spec))
        except MissingColumnsError as exc:
            if course is None and any(c.startswith("course") for c in exc.missing):
                raise MissingColumnsError(file=exc.file, missing=exc.missing, found=exc.found,
                                          hint="The roster has no course column: pass course='...'") from None
            raise
    return assemble(parts, spec, source=spec.source if spec.source != "mapped" else "training",
                    choices={"course": course} if course else None, notes=notes)
