"""The data-quality ledger of the report (section 7) equals the raw archive, counted independently.

Files, rows read, rows rejected (the archive has no malformed row: the independent reader parses
every one), exact duplicate rows (kept: rows identical to an earlier row of the same file), all
rows of the force, ethnicity not stated (all rows), vehicle-only searches, dates given without a
time (local Europe/London time exactly midnight: in summer 23:00:00 UTC) and the force-months with
no file in the configured span 2019-01..2021-11 (missing, not zero).
"""

from __future__ import annotations

import re

import pytest

from . import _raw
from ._published import section
from .conftest import FORCES

pytestmark = [pytest.mark.shared]

SPAN = _raw.window_months("2019-01..2021-11")


def _n(s: str) -> int:
    return int(s.replace(",", ""))


def _months_listed(text: str) -> set[str]:
    out: set[str] = set()
    for a, b in re.findall(r"(\d{4}-\d{2}) to (\d{4}-\d{2})", text):
        out |= set(_raw.window_months(f"{a}..{b}"))
    out |= set(re.findall(r"(?<![\d-])(\d{4}-\d{2})(?! to)(?![\d-])", re.sub(r"\d{4}-\d{2} to \d{4}-\d{2}", "", text)))
    return out


@pytest.mark.parametrize("force", FORCES)
def test_data_quality_ledger_equals_raw(force, built, raw):
    pub = built(force)
    fr = raw[force]
    q = section(pub.text, 7)
    assert q, f"{force}: no data-quality section"
    want = {
        r"Files read ([\d,]+)": fr.files,
        r"Rows read ([\d,]+)": len(fr.rows),
        r"Rows rejected ([\d,]+)": 0,
        r"Exact duplicate rows \(kept\) ([\d,]+)": fr.duplicates_in_file,
        r"Searches in [^\d]*?([\d,]+)": len(fr.rows),
        r"Ethnicity not stated[^\d]*?([\d,]+) \(": sum(r.group == _raw.NOT_STATED for r in fr.rows),
        r"Vehicle-only searches \(excluded from rates\) ([\d,]+)": sum(r.vehicle_only for r in fr.rows),
        r"Date given without a time ([\d,]+)": fr.date_only,
    }
    bad = []
    for pat, n in want.items():
        m = re.search(pat, q)
        if not m:
            bad.append(f"not found in the data-quality section: {pat}")
        elif _n(m.group(1)) != n:
            bad.append(f"{pat}: report {m.group(1)}, raw {n:,}")
    m = re.search(r"Area-months with no file \(missing, not zero\) (.*?) Searches in", q)
    missing = sorted(set(SPAN) - fr.file_months)
    if not m:
        bad.append("no 'Area-months with no file' line")
    else:
        listed = _months_listed(m.group(1))
        if (m.group(1).strip() == "none") != (not missing) or (missing and listed != set(missing)):
            bad.append(f"months with no file: report {m.group(1)!r}, raw {missing}")
    assert not bad, f"{force}:\n" + "\n".join(bad)
