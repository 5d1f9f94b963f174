"""The independent path: police.uk rows counted straight out of the archive with the standard library.

Nothing here imports ``equity_metrics`` or pandas: the archive is opened with :mod:`tarfile`,
each CSV is parsed with :mod:`csv`, and the documented rules of ``../shared/data/README.md``
(and of the issue) are applied by hand:

* ``Date`` is UTC; the month a search belongs to is its month in Europe/London
  (summer files start at 23:xx UTC on the previous month's last day);
* vehicle-only searches (``Type == "Vehicle search"``) are not searches of people and are
  left out of every rate of people;
* the self-defined ethnicity (2011 census 16+1 labels) is mapped to the five broad groups
  by the prefix of the label; blank and "Other ethnic group - Not stated" are "Not stated";
* the financial year runs April to March (``2020/21`` = 2020-04..2021-03);
* a search "found what was searched for" (Home Office / HMICFRS) when its outcome is
  recorded and is not "A no further action disposal" and "Outcome linked to object of
  search" is "True"; a force-period whose searches with an outcome other than NFA fill the
  linked field less than 90% of the time has no find rate ("not recorded").
"""

from __future__ import annotations

import csv
import io
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
NFA = "A no further action disposal"
GROUPS = ("Asian", "Black", "Mixed", "Other", "White")
NOT_STATED = "Not stated"
LINKED_COVERAGE_MIN = 0.9
#: Powers needing no suspicion (section 60 CJPOA 1994, section 47A and other Terrorism Act powers): left
#: out of outcome rates (docs/real-data-rules.md, "Denominators"), matched on the lower-case legislation text.
NO_SUSPICION_POWERS = ("section 60", "section 47a", "terrorism act")

#: police.uk slug -> census 2011 PFA name (``PFA16NM``) and Home Office force name.
CENSUS_NAME = {"west-yorkshire": "West Yorkshire", "merseyside": "Merseyside", "metropolitan": "Metropolitan",
               "north-yorkshire": "North Yorkshire", "city-of-london": "City of London", "kent": "Kent",
               "thames-valley": "Thames Valley"}
HO_NAME = {"west-yorkshire": "West Yorkshire", "merseyside": "Merseyside", "metropolitan": "Metropolitan Police",
           "north-yorkshire": "North Yorkshire", "city-of-london": "London, City of", "kent": "Kent",
           "thames-valley": "Thames Valley"}

#: census column of each broad group's usual residents.
CENSUS_COLUMN = {g: f"Ethnic Group: {g}; measures: Value" for g in GROUPS}


def broad_group(label: str) -> str:
    """Self-defined ethnicity (2011 census label) -> broad group, by the label's prefix."""
    s = (label or "").strip()
    if not s or s == "Other ethnic group - Not stated":
        return NOT_STATED
    for prefix, g in (("Asian/Asian British", "Asian"), ("Black/African/Caribbean/Black British", "Black"),
                      ("Mixed/Multiple ethnic groups", "Mixed"), ("White", "White"), ("Other ethnic group", "Other")):
        if s.startswith(prefix):
            return g
    raise ValueError(f"unknown self-defined ethnicity label {s!r}")


def fy_of(month: str) -> str:
    """``"2020-04"`` -> ``"2020/21"``; ``"2021-03"`` -> ``"2020/21"``."""
    y, m = int(month[:4]), int(month[5:7])
    start = y if m >= 4 else y - 1
    return f"{start}/{(start + 1) % 100:02d}"


def fy_months(fy: str) -> list[str]:
    start = int(fy[:4])
    return [f"{start}-{m:02d}" for m in range(4, 13)] + [f"{start + 1}-{m:02d}" for m in range(1, 4)]


def window_months(label: str) -> list[str]:
    """``"2020-04..2021-03"`` -> the months of the window (inclusive)."""
    a, b = label.split("..")
    y, m = int(a[:4]), int(a[5:7])
    out = []
    while True:
        s = f"{y}-{m:02d}"
        out.append(s)
        if s == b:
            return out
        m += 1
        if m == 13:
            y, m = y + 1, 1
        if len(out) > 400:
            raise ValueError(label)


_local_cache: dict[str, tuple[str, bool]] = {}


def local_month_and_midnight(date_utc: str) -> tuple[str, bool]:
    """The Europe/London month of a UTC timestamp, and whether it is local midnight (a date with no time)."""
    m = _local_cache.get(date_utc)
    if m is None:
        d = datetime.fromisoformat(date_utc)
        if d.tzinfo is None:  # not expected: the archive's dates all carry +00:00
            raise ValueError(f"date without offset: {date_utc!r}")
        loc = d.astimezone(LONDON)
        m = (loc.strftime("%Y-%m"), loc.strftime("%H:%M:%S.%f") == "00:00:00.000000")
        _local_cache[date_utc] = m
    return m


def local_month(date_utc: str) -> str:
    return local_month_and_midnight(date_utc)[0]


@dataclass(frozen=True)
class Row:
    force: str
    file_month: str
    month: str            # local (Europe/London) month
    vehicle_only: bool
    group: str            # broad self-defined group or "Not stated"
    legislation: str
    object: str
    outcome: str
    linked: str           # "True", "False" or ""
    self_defined_blank: bool = False


@dataclass(eq=False)
class ForceRows:
    force: str
    rows: list[Row] = field(default_factory=list)
    file_months: set[str] = field(default_factory=set)
    _memo: dict = field(default_factory=dict, repr=False)
    files: int = 0
    duplicates_in_file: int = 0   # rows identical to an earlier row of the same file
    duplicates_in_force: int = 0  # rows identical to an earlier row of any of the force's files
    date_only: int = 0            # local (Europe/London) time exactly 00:00:00: a date given without a time

    def _cached(self, key, fn):
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    # ------------------------------------------------------------------ selections
    def people(self, months: list[str] | set[str] | None = None) -> list[Row]:
        ms = None if months is None else set(months)
        return [r for r in self.rows if not r.vehicle_only and (ms is None or r.month in ms)]

    def months_with_data(self) -> set[str]:
        return set(self.file_months)

    # ------------------------------------------------------------------ counts
    def count_by_group(self, months) -> Counter:
        ms = tuple(sorted(months))
        return self._cached(("group", ms), lambda: Counter(r.group for r in self.people(ms)))

    def count_by(self, months, attr: str) -> Counter:
        """(attr value or "not recorded", group) -> searches of people."""
        ms = tuple(sorted(months))
        return self._cached(("by", attr, ms), lambda: Counter(((getattr(r, attr) or "not recorded"), r.group)
                                                            for r in self.people(ms)))

    def monthly(self) -> Counter:
        return self._cached(("monthly",), lambda: Counter(r.month for r in self.people()))

    def monthly_by_group(self) -> Counter:
        return self._cached(("monthly_by_group",), lambda: Counter((r.month, r.group) for r in self.people()))

    def outcome_counts(self, months, *, powers_excluded: tuple[str, ...] = NO_SUSPICION_POWERS) -> dict[str, Counter]:
        """By group: searches with a recorded outcome (the arrest / any-outcome denominator), finds,
        arrests, any outcome other than NFA, non-NFA outcomes and how many of them fill the linked
        field, and ``unknown`` (non-NFA with the linked field blank: left out of the find rate's
        denominator). Searches under ``powers_excluded`` (legislation text, lower case) are left out."""
        key = ("outcomes", tuple(sorted(months)), powers_excluded)
        if key in self._memo:
            return self._memo[key]
        out = {k: Counter() for k in ("recorded", "find", "arrest", "any", "non_nfa", "non_nfa_linked_filled",
                                      "unknown")}
        for r in self.people(months):
            if any(p in r.legislation.lower() for p in powers_excluded):
                continue
            if not r.outcome:
                continue
            g = r.group
            out["recorded"][g] += 1
            if r.outcome == "Arrest":
                out["arrest"][g] += 1
            if r.outcome != NFA:
                out["any"][g] += 1
                out["non_nfa"][g] += 1
                if r.linked in ("True", "False"):
                    out["non_nfa_linked_filled"][g] += 1
                else:
                    out["unknown"][g] += 1
                if r.linked == "True":
                    out["find"][g] += 1
        self._memo[key] = out
        return out

    def linked_coverage(self, months, *, powers_excluded: tuple[str, ...] = NO_SUSPICION_POWERS) -> float:
        """Share of the force-period's searches of people (every ethnicity) with an outcome other than
        NFA that fill the linked field."""
        oc = self.outcome_counts(months, powers_excluded=powers_excluded)
        elig = sum(oc["non_nfa"].values())
        return sum(oc["non_nfa_linked_filled"].values()) / elig if elig else float("nan")

    def nfa_linked_true(self) -> int:
        return sum(1 for r in self.rows if r.outcome == NFA and r.linked == "True")


def read_archive(tar_path: str | Path, forces: list[str]) -> dict[str, ForceRows]:
    """Every row of the named forces' files, parsed with tarfile + csv only."""
    want = set(forces)
    out = {f: ForceRows(f) for f in forces}
    seen: dict[str, set[tuple]] = {}
    with tarfile.open(tar_path, "r:gz") as tf:
        for m in tf:
            if not m.isfile() or not m.name.endswith("-stop-and-search.csv"):
                continue
            base = m.name.rsplit("/", 1)[-1]
            fmonth, force = base[:7], base[8:-len("-stop-and-search.csv")]
            if force not in want:
                continue
            fr = out[force]
            fr.file_months.add(fmonth)
            fr.files += 1
            text = io.TextIOWrapper(tf.extractfile(m), encoding="utf-8-sig", newline="")
            in_file: set[tuple] = set()
            for rec in csv.DictReader(text):
                key = tuple(rec.values())
                fr.duplicates_in_file += key in in_file
                fr.duplicates_in_force += key in seen.setdefault(force, set())
                in_file.add(key)
                seen[force].add(key)
                month, midnight = local_month_and_midnight(rec["Date"].strip())
                fr.date_only += midnight
                fr.rows.append(Row(
                    force=force, file_month=fmonth, month=month,
                    vehicle_only=rec["Type"].strip() == "Vehicle search",
                    group=broad_group(rec["Self-defined ethnicity"]),
                    legislation=(rec["Legislation"] or "").strip(), object=(rec["Object of search"] or "").strip(),
                    outcome=(rec["Outcome"] or "").strip(), linked=(rec["Outcome linked to object of search"] or "").strip(),
                    self_defined_blank=not (rec["Self-defined ethnicity"] or "").strip(),
                ))
    return out


def read_census(path: str | Path) -> dict[str, dict[str, int]]:
    """PFA name -> broad group -> usual residents (2011 census), read with csv."""
    out: dict[str, dict[str, int]] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for rec in csv.DictReader(fh):
            out[rec["PFA16NM"].strip()] = {g: int(float(rec[c])) for g, c in CENSUS_COLUMN.items()}
    return out


def read_home_office(path: str | Path) -> dict[tuple[str, str, str], int]:
    """(financial_year, Home Office force name, group) -> searches; exact duplicate rows must agree."""
    out: dict[tuple[str, str, str], int] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for rec in csv.DictReader(fh):
            k = (rec["financial_year"].strip(), rec["police_force"].strip(), rec["ethnicity"].strip())
            v = int(float(rec["total_searches"]))
            if k in out and out[k] != v:
                raise ValueError(f"conflicting Home Office rows for {k}: {out[k]} vs {v}")
            out[k] = v
    return out
