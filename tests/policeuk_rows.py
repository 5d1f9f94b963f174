"""Helpers shared by the police.uk reader tests: a valid row, and CSV files built from rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from equity_metrics.io.policeuk import POLICEUK_COLUMNS

__all__ = ["GOOD", "_row", "_csv", "_write"]

GOOD = {
    "Type": "Person search",
    "Date": "2020-06-15T10:30:00+00:00",
    "Part of a policing operation": "False",
    "Policing operation": "",
    "Latitude": "51.5",
    "Longitude": "-0.12",
    "Gender": "Male",
    "Age range": "18-24",
    "Self-defined ethnicity": "Black/African/Caribbean/Black British - Caribbean",
    "Officer-defined ethnicity": "Black",
    "Legislation": "Misuse of Drugs Act 1971 (section 23)",
    "Object of search": "Controlled drugs",
    "Outcome": "A no further action disposal",
    "Outcome linked to object of search": "False",
    "Removal of more than just outer clothing": "False",
}


def _row(**kw) -> list[str]:
    d = dict(GOOD)
    d.update({k.replace("_", " ") if k not in GOOD else k: v for k, v in kw.items()})
    return [d[c] for c in POLICEUK_COLUMNS]


def _csv(rows, header=POLICEUK_COLUMNS) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _write(path: Path, rows, header=POLICEUK_COLUMNS, encoding="utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_csv(rows, header).encode(encoding))
    return path
