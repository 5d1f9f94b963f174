"""The library's own exceptions.

Every error a user can trigger with bad input or a bad request is one of these,
with a message that names the file, row, column and value involved and says what
to do next. Catch :class:`EquityMetricsError` to catch them all.

Hierarchy::

    EquityMetricsError
    ├── ReadError                 a file cannot be read at all
    │   ├── FileFormatError       not the format the reader expects
    │   ├── MissingColumnsError   required columns absent (lists closest matches)
    │   ├── EncodingError         bytes that cannot be decoded
    │   └── EmptyFileError        no header, no data
    ├── MappingError              a column/value mapping is malformed
    ├── OptionError               an option value outside its allowed set
    ├── DataValidationError       a table does not meet a function's needs
    └── EstimationError           a model cannot be estimated as requested
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = [
    "EquityMetricsError",
    "ReadError",
    "FileFormatError",
    "MissingColumnsError",
    "EncodingError",
    "EmptyFileError",
    "MappingError",
    "OptionError",
    "DataValidationError",
    "EstimationError",
    "closest_matches",
]


class EquityMetricsError(Exception):
    """Base class of every error raised on purpose by equity_metrics."""


class ReadError(EquityMetricsError):
    """A file could not be read.

    Parameters
    ----------
    message
        What went wrong, in plain words.
    file
        The file (or ``archive::member``) concerned.
    line, column, value
        Where and what, when known.
    hint
        What the user can do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        value: object = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.value = value
        self.hint = hint
        self.reason = message
        parts = []
        if file is not None:
            loc = f"{file}"
            if line is not None:
                loc += f", line {line}"
            if column is not None:
                loc += f", column {column!r}"
            parts.append(loc + ": ")
        parts.append(message)
        if value is not None:
            parts.append(f" (value {str(value)[:80]!r})")
        if hint:
            parts.append(f". {hint}")
        super().__init__("".join(parts))


class FileFormatError(ReadError):
    """The file is not in the format the reader expects."""


class MissingColumnsError(ReadError):
    """Required columns are missing; the message lists the closest matches found."""

    def __init__(
        self,
        *,
        file: str | None,
        missing: Sequence[str],
        found: Sequence[str],
        hint: str | None = None,
    ) -> None:
        self.missing = list(missing)
        self.found = list(found)
        suggestions = {m: closest_matches(m, found) for m in missing}
        desc = "; ".join(
            f"{m!r} (closest found: {', '.join(repr(s) for s in s_) if s_ else 'none'})"
            for m, s_ in suggestions.items()
        )
        self.suggestions = suggestions
        msg = f"missing required column(s) {desc}. Columns present: {list(found)[:30]}"
        super().__init__(
            msg,
            file=file,
            hint=hint
            or "Rename the columns, or pass a column mapping (see equity_metrics.read_mapped)",
        )


class EncodingError(ReadError):
    """The bytes of the file cannot be decoded with the requested encoding."""


class EmptyFileError(ReadError):
    """The file has no header row (zero bytes or only blank lines)."""


class MappingError(EquityMetricsError):
    """A column or value mapping given to a reader is malformed."""


class OptionError(EquityMetricsError, ValueError):
    """An option was given a value outside its allowed set."""


class DataValidationError(EquityMetricsError, ValueError):
    """A table passed to a function lacks what the function needs."""


class EstimationError(EquityMetricsError):
    """A model or estimator cannot be computed as requested."""


def closest_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates that look like ``name`` (case and spacing ignored)."""
    cands = [str(c) for c in candidates]
    norm = {c.strip().lower().replace("_", " "): c for c in cands}
    hits = difflib.get_close_matches(name.strip().lower().replace("_", " "), list(norm), n=n, cutoff=0.6)
    return [norm[h] for h in hits]
