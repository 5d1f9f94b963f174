"""The ledger: an account of every input row a reader saw.

Every reader returns a :class:`ReadResult` holding the canonical table, a
:class:`Ledger` and the :class:`Rejects`. The ledger's invariant is
``rows_read == rows_kept + rows_rejected``, checked when the ledger is built.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ._security import escape_html, safe_to_csv
from .errors import EquityMetricsError

__all__ = ["FileRecord", "Ledger", "Rejects", "ReadResult", "REJECT_COLUMNS"]

REJECT_COLUMNS = ["file", "line", "row", "column", "value", "reason", "raw"]


@dataclass
class FileRecord:
    """What one input file contributed."""

    file: str
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    encoding: str = "utf-8"
    sha256: str | None = None
    notes: list[str] = field(default_factory=list)


class Rejects:
    """Rejected rows: file, physical line, data row, column, value, reason and raw values.

    ``raw`` holds the whole input record as JSON text, so nothing is lost.
    """

    def __init__(self, frame: pd.DataFrame | None = None) -> None:
        if frame is None or len(frame) == 0:
            frame = pd.DataFrame({c: pd.Series(dtype="object") for c in REJECT_COLUMNS})
        missing = [c for c in REJECT_COLUMNS if c not in frame.columns]
        if missing:
            raise EquityMetricsError(f"rejects table lacks columns {missing}")
        self.frame = frame[REJECT_COLUMNS].reset_index(drop=True)

    @classmethod
    def concat(cls, parts: list[Rejects | pd.DataFrame]) -> Rejects:
        frames = [p.frame if isinstance(p, Rejects) else p for p in parts]
        frames = [f for f in frames if len(f)]
        if not frames:
            return cls()
        return cls(pd.concat(frames, ignore_index=True))

    def __len__(self) -> int:
        return len(self.frame)

    def by_reason(self) -> pd.Series:
        """Counts of rejected rows by reason, largest first."""
        return self.frame["reason"].value_counts()

    def to_csv(self, path: str | Path) -> Path:
        """Write the rejects to CSV (cells defused against spreadsheet formulas)."""
        return safe_to_csv(self.frame, path)

    def __repr__(self) -> str:
        if not len(self):
            return "Rejects(0 rows)"
        return f"Rejects({len(self)} rows)\n{self.frame.head(10).to_string()}"

    def _repr_html_(self) -> str:
        head = f"<p>Rejects: {len(self)} rows</p>"
        return head + self.frame.head(20).to_html(escape=True)


@dataclass
class Ledger:
    """An account of every input row.

    Attributes
    ----------
    source
        Which reader produced it (``"policeuk"``, ``"census"``, ...).
    files
        One :class:`FileRecord` per input file.
    rejected_by_reason
        Rows rejected, by reason.
    missing_by_field
        Values blank or absent, by canonical field.
    unknown_by_field
        Values present but not interpretable (kept, harmonised to unknown), by field.
    duplicates
        Rows that exactly repeat an earlier row of the same file (kept, not dropped).
    months_covered, months_missing
        Months present; and ``(area, month)`` pairs with no file at all (missing, not zero).
    areas_covered
        Areas present.
    choices
        Explicit analytic choices the reader made (e.g. which ethnicity field).
    notes
        Anything else a careful analyst should know (encodings, fallbacks, ...).
    files_rejected
        Input files rejected whole (they could not be read at all): ``file``, ``reason``,
        ``rows`` (lines after the header, when the bytes could be decoded; else None)
        and ``sha256``. Their rows are not in ``rows_read``: no record of them was read.
    damage
        Damaged archives read with ``on_damage="keep"``: ``archive``, ``offset`` (byte
        of the unpacked archive where it broke), ``problem``, ``files_read``,
        ``last_file_read`` and ``unknown`` (what was not read).
    """

    source: str
    files: list[FileRecord] = field(default_factory=list)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    missing_by_field: dict[str, int] = field(default_factory=dict)
    unknown_by_field: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    months_covered: list[str] = field(default_factory=list)
    months_missing: list[tuple[str, str]] = field(default_factory=list)
    areas_covered: list[str] = field(default_factory=list)
    choices: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files_rejected: list[dict[str, Any]] = field(default_factory=list)
    damage: list[dict[str, Any]] = field(default_factory=list)

    # ------------------------------------------------------------------ totals
    @property
    def rows_read(self) -> int:
        return int(sum(f.rows_read for f in self.files))

    @property
    def rows_kept(self) -> int:
        return int(sum(f.rows_kept for f in self.files))

    @property
    def rows_rejected(self) -> int:
        return int(sum(f.rows_rejected for f in self.files))

    @property
    def balanced(self) -> bool:
        """True when every row read is either kept or rejected."""
        per_file = all(f.rows_read == f.rows_kept + f.rows_rejected for f in self.files)
        return per_file and self.rows_rejected == sum(self.rejected_by_reason.values())

    def check(self) -> Ledger:
        """Raise :class:`EquityMetricsError` unless rows read == kept + rejected."""
        if not self.balanced:
            raise EquityMetricsError(
                f"ledger does not balance for {self.source}: read {self.rows_read}, kept "
                f"{self.rows_kept}, rejected {self.rows_rejected} (by reason "
                f"{sum(self.rejected_by_reason.values())}). This is a bug in equity_metrics: "
                "please report it with the input file."
            )
        return self

    # ------------------------------------------------------------------ combine
    @classmethod
    def combine(cls, ledgers: list[Ledger], source: str | None = None) -> Ledger:
        """Merge several ledgers (e.g. from reading files in batches)."""
        if not ledgers:
            return cls(source=source or "empty")
        out = cls(source=source or ledgers[0].source)
        rej: Counter = Counter()
        miss: Counter = Counter()
        unk: Counter = Counter()
        months: set[str] = set()
        areas: set[str] = set()
        gaps: set[tuple[str, str]] = set()
        for led in ledgers:
            out.files.extend(led.files)
            rej.update(led.rejected_by_reason)
            miss.update(led.missing_by_field)
            unk.update(led.unknown_by_field)
            out.duplicates += led.duplicates
            months.update(led.months_covered)
            areas.update(led.areas_covered)
            gaps.update(led.months_missing)
            for k, v in led.choices.items():
                out.choices.setdefault(k, v)
            out.notes.extend(n for n in led.notes if n not in out.notes)
            out.files_rejected.extend(led.files_rejected)
            out.damage.extend(led.damage)
        out.rejected_by_reason = dict(sorted(rej.items()))
        out.missing_by_field = dict(sorted(miss.items()))
        out.unknown_by_field = dict(sorted(unk.items()))
        out.months_covered = sorted(months)
        out.areas_covered = sorted(areas)
        out.months_missing = sorted(gaps)
        return out

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (sorted, no timestamps)."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_rejected": self.rows_rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "missing_by_field": dict(sorted(self.missing_by_field.items())),
            "unknown_by_field": dict(sorted(self.unknown_by_field.items())),
            "duplicates": self.duplicates,
            "months_covered": list(self.months_covered),
            "months_missing": [list(x) for x in self.months_missing],
            "areas_covered": list(self.areas_covered),
            "choices": {k: self.choices[k] for k in sorted(self.choices)},
            "notes": list(self.notes),
            "files": [
                {
                    "file": f.file,
                    "rows_read": f.rows_read,
                    "rows_kept": f.rows_kept,
                    "rows_rejected": f.rows_rejected,
                    "encoding": f.encoding,
                    "sha256": f.sha256,
                    "notes": list(f.notes),
                }
                for f in self.files
            ],
            # present only when there is something to say, so clean reads keep their shape
            **({"files_rejected": [dict(r) for r in self.files_rejected]} if self.files_rejected else {}),
            **({"damage": [dict(d) for d in self.damage]} if self.damage else {}),
        }

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, default=str)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def files_frame(self) -> pd.DataFrame:
        """One row per input file with its counts."""
        return pd.DataFrame(
            [
                {
                    "file": f.file,
                    "rows_read": f.rows_read,
                    "rows_kept": f.rows_kept,
                    "rows_rejected": f.rows_rejected,
                    "encoding": f.encoding,
                    "sha256": f.sha256,
                }
                for f in self.files
            ],
            columns=["file", "rows_read", "rows_kept", "rows_rejected", "encoding", "sha256"],
        )

    def to_frame(self) -> pd.DataFrame:
        """The ledger as a long table: ``section, item, value``."""
        rows: list[tuple[str, str, object]] = [
            ("rows", "read", self.rows_read),
            ("rows", "kept", self.rows_kept),
            ("rows", "rejected", self.rows_rejected),
            ("rows", "exact_duplicates_kept", self.duplicates),
            ("files", "count", len(self.files)),
        ]
        rows += [("rejected_by_reason", k, v) for k, v in sorted(self.rejected_by_reason.items())]
        rows += [("missing_by_field", k, v) for k, v in sorted(self.missing_by_field.items())]
        rows += [("unknown_by_field", k, v) for k, v in sorted(self.unknown_by_field.items())]
        rows += [("choices", k, str(v)) for k, v in sorted(self.choices.items())]
        if self.months_covered:
            rows.append(("coverage", "months", f"{self.months_covered[0]}..{self.months_covered[-1]} ({len(self.months_covered)})"))
        rows.append(("coverage", "areas", len(self.areas_covered)))
        rows.append(("coverage", "area_months_missing", len(self.months_missing)))
        rows += [("files_rejected", r["file"], r["reason"]) for r in self.files_rejected]
        rows += [("damage", d["archive"], f"{d['problem']}; {d['unknown']}") for d in self.damage]
        return pd.DataFrame(rows, columns=["section", "item", "value"])

    def summary(self) -> str:
        """A plain-text account for a terminal or a log."""
        lines = [
            f"Ledger ({self.source}): {len(self.files)} file(s)",
            f"  rows read      {self.rows_read:>12,}",
            f"  rows kept      {self.rows_kept:>12,}",
            f"  rows rejected  {self.rows_rejected:>12,}",
            f"  exact duplicate rows (kept) {self.duplicates:,}",
        ]
        for k, v in sorted(self.rejected_by_reason.items()):
            lines.append(f"    rejected: {k}: {v:,}")
        if self.missing_by_field:
            lines.append("  missing (blank) by field:")
            lines += [f"    {k}: {v:,}" for k, v in sorted(self.missing_by_field.items()) if v]
        if any(self.unknown_by_field.values()):
            lines.append("  present but not understood, by field:")
            lines += [f"    {k}: {v:,}" for k, v in sorted(self.unknown_by_field.items()) if v]
        if self.months_covered:
            lines.append(
                f"  months covered: {self.months_covered[0]} .. {self.months_covered[-1]} "
                f"({len(self.months_covered)})"
            )
        if self.areas_covered:
            lines.append(f"  areas covered: {len(self.areas_covered)}")
        if self.months_missing:
            by_area = Counter(a for a, _ in self.months_missing)
            lines.append(f"  area-months with no file (missing, not zero): {len(self.months_missing)}")
            lines += [f"    {a}: {n} month(s)" for a, n in sorted(by_area.items())]
        for r in self.files_rejected:
            rows = f" ({r['rows']:,} row(s))" if r.get("rows") is not None else ""
            lines.append(f"  FILE REJECTED WHOLE{rows}: {r['file']}: {r['reason']}")
        for d in self.damage:
            lines.append(
                f"  DAMAGED ARCHIVE: {d['archive']}: {d['problem']} at byte {d['offset']}, after "
                f"{d['files_read']} file(s); {d['unknown']}"
            )
        for k, v in sorted(self.choices.items()):
            lines.append(f"  choice: {k} = {v}")
        for n in self.notes:
            lines.append(f"  note: {n}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<pre>" + escape_html(self.summary()) + "</pre>"


@dataclass
class ReadResult:
    """What every reader returns: the canonical table, its ledger and its rejects.

    Attributes
    ----------
    data
        The canonical table (events, populations, training or counts).
    ledger
        The :class:`Ledger` accounting for every input row.
    rejects
        The :class:`Rejects` (file, line, raw values, reason).
    kind
        ``"events"``, ``"population"``, ``"training"`` or ``"counts"``.
    """

    data: pd.DataFrame
    ledger: Ledger
    rejects: Rejects
    kind: str = "events"

    def __post_init__(self) -> None:
        self.ledger.check()
        if self.kind in ("events", "training") and self.ledger.rows_kept != len(self.data):
            raise EquityMetricsError(
                f"internal error: ledger says {self.ledger.rows_kept} rows kept but the table has "
                f"{len(self.data)}; please report this with the input file."
            )

    def __len__(self) -> int:
        return len(self.data)

    def summary(self) -> str:
        return f"{self.kind} table: {len(self.data):,} rows x {self.data.shape[1]} columns\n" + self.ledger.summary()

    def __repr__(self) -> str:
        return f"<ReadResult {self.kind}: {len(self.data):,} rows kept, {len(self.rejects):,} rejected>"

    def _repr_html_(self) -> str:
        return self.ledger._repr_html_() + self.data.head(10).to_html(escape=True)

    def write_rejects(self, path: str | Path) -> Path:
        """Write the rejected rows to CSV."""
        return self.rejects.to_csv(path)
