"""Finding input files and turning their bytes into all-text tables, losing nothing.

Shared by every text reader:

* :func:`iter_files` walks a file, a list, a glob, a folder, or a ``.zip`` /
  ``.tar`` / ``.tar.gz`` archive, yielding ``(name, bytes)`` in a stable order;
* :func:`decode_bytes` decodes with BOM handling and an explicit, recorded
  fallback from UTF-8 to Windows-1252;
* :func:`parse_csv_text` parses to a table of strings with the physical line of
  every record, and returns records with the wrong number of fields as rejects
  instead of failing or silently padding them.
"""

from __future__ import annotations

import csv
import glob as _glob
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import EmptyFileError, EncodingError, FileFormatError, MissingColumnsError, ReadError
from ._archives import OnDamage, base_name, gunzip, iter_archive

PathLike = str | os.PathLike
Sources = PathLike | Iterable[PathLike]

_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
# re-exported for the readers: OnDamage, base_name, gunzip
__reexported__ = (OnDamage, base_name, gunzip)


def _is_archive(p: str) -> bool:
    return p.lower().endswith(_ARCHIVE_SUFFIXES)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _not_a_path(value: Any) -> ReadError:
    if isinstance(value, (bytes, bytearray, memoryview)):
        shown = bytes(value[:60])
        return ReadError(
            "got bytes where a path was expected",
            value=shown,
            hint="Pass the path as text (os.fsdecode(path)), or write the bytes to a file and pass its path",
        )
    return ReadError(
        f"cannot read a {type(value).__name__} as a source",
        value=repr(value)[:60],
        hint="Pass a file, a folder, a glob, an archive, or a list of them (str or pathlib.Path)",
    )


def _expand(sources: Sources) -> list[str]:
    if isinstance(sources, (str, os.PathLike)):
        items = [os.fspath(sources)]
        if isinstance(items[0], bytes):  # a PathLike whose fspath is bytes
            raise _not_a_path(items[0])
    elif isinstance(sources, (bytes, bytearray, memoryview)) or not isinstance(sources, Iterable):
        raise _not_a_path(sources)
    else:
        items = []
        for s in sources:
            item = os.fspath(s) if isinstance(s, (str, os.PathLike)) else s
            if not isinstance(item, str):
                raise _not_a_path(item)
            items.append(item)
        if not items:
            raise ReadError("no input files were given", hint="Pass a file, a folder, a glob or an archive")
    out: list[str] = []
    for item in items:
        if any(ch in item for ch in "*?[") and not os.path.exists(item):
            hits = sorted(_glob.glob(item, recursive=True))
            if not hits:
                raise ReadError(f"no files match the pattern {item!r}", hint="Check the path and the pattern")
            out.extend(hits)
        elif not os.path.exists(item):
            raise ReadError(
                f"file or folder not found: {item!r}",
                hint=f"The current folder is {os.getcwd()!r}; check the path",
            )
        else:
            out.append(item)
    return out


def iter_files(
    sources: Sources,
    *,
    suffixes: tuple[str, ...] = (".csv",),
    select: Callable[[str], bool] | None = None,
    on_damage: OnDamage = "raise",
    damage: list[dict] | None = None,
    order: Callable[[str], Any] | None = None,
    large: int | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(display_name, bytes)`` for every matching file in ``sources``.

    A folder's files come in path order, or sorted by ``order(path)`` when given (a
    reader whose output is sorted by force and month reads them in that order). With
    ``large``, a plain file (not an archive member) of more than ``large`` bytes is
    yielded as a :class:`LargeFile` instead of its bytes, for a reader that streams it.

    Folders are searched recursively for ``suffixes``; archives are opened and
    their members filtered the same way (archive members are named
    ``archive::member``). ``select`` filters on the base name (split on ``/``
    and ``\\``) before any bytes are read.

    Compressed tar archives are read through to the end of the stream, so the
    gzip/bzip2/xz checksums and lengths are verified, and a damaged tar header
    is not mistaken for the end of the archive (what follows the last member
    must be zero padding). Damage raises :class:`FileFormatError` naming the
    archive and where it broke; with ``on_damage="keep"`` the files read before
    it are yielded and one record per damaged archive is appended to ``damage``
    (archive, offset, files read, what is unknown).
    """
    for item in _expand(sources):
        if os.path.isdir(item):
            files = sorted(
                str(p) for p in Path(item).rglob("*") if p.is_file() and (str(p).lower().endswith(suffixes) or _is_archive(str(p)))
            )
            if order is not None:
                files.sort(key=order)
            if not files:
                raise ReadError(f"folder {item!r} holds no {'/'.join(suffixes)} files or archives")
            for f in files:
                yield from iter_files(f, suffixes=suffixes, select=select, on_damage=on_damage, damage=damage, order=order,
                                      large=large)
        elif _is_archive(item) and not item.lower().endswith(suffixes):
            yield from iter_archive(item, suffixes, select, on_damage, damage)
        else:
            if select is None or select(base_name(item)):
                size = os.path.getsize(item)
                if large is not None and size > large:
                    yield item, LargeFile(item, size)
                    continue
                with open(item, "rb") as fh:
                    yield item, fh.read()


class LargeFile:
    """A plain file too big to hold whole: read it in blocks (or whole, with :meth:`read`)."""

    def __init__(self, path: str, size: int) -> None:
        self.path, self.size = path, size

    def read(self) -> bytes:
        with open(self.path, "rb") as fh:
            return fh.read()

    def blocks(self, size: int) -> Iterator[bytes]:
        with open(self.path, "rb") as fh:
            while True:
                block = fh.read(size)
                if not block:
                    return
                yield block


# --------------------------------------------------------------------------- decoding


_BINARY_MAGIC = {
    b"PK\x03\x04": "a zip container (an .xlsx workbook or a .zip archive)",
    b"\xd0\xcf\x11\xe0": "a legacy Excel/OLE file (.xls)",
    b"%PDF": "a PDF document",
    b"PAR1": "a Parquet file",
    b"\x1f\x8b": "a gzip-compressed file",
}


@dataclass
class Decoded:
    text: str
    encoding: str
    notes: list[str] = field(default_factory=list)


def decode_bytes(data: bytes, name: str, *, encoding: str = "auto") -> Decoded:
    """Decode file bytes to text.

    ``encoding="auto"`` strips a UTF-8 BOM, honours a UTF-16 BOM, and falls back
    from UTF-8 to Windows-1252 (a superset of Latin-1 in practice) when the bytes
    are not valid UTF-8; the fallback is returned in ``notes`` for the ledger.
    """
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise FileFormatError(
                f"this is {what}, not a CSV text file",
                file=name,
                hint="Use equity_metrics.read_mapped for Excel or Parquet files, or unpack the archive",
            )
    if encoding != "auto":
        try:
            return Decoded(data.decode(encoding), encoding)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise EncodingError(
                f"bytes at offset {exc.start} cannot be decoded as {encoding}",
                file=name,
                line=line,
                value=data[max(0, exc.start - 10) : exc.end + 10],
                hint="Try encoding='auto' (UTF-8 with a Windows-1252 fallback) or the encoding the file was saved in",
            ) from None
        except LookupError:
            raise EncodingError(f"unknown encoding {encoding!r}", file=name, hint="Use e.g. 'utf-8', 'cp1252' or 'auto'") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return Decoded(data.decode("utf-16"), "utf-16", ["UTF-16 byte-order mark: decoded as UTF-16"])
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n\x00" if data[:1] == b"\xff" else b"\x00\n") + 1
            raise EncodingError(
                f"the file starts with a UTF-16 byte-order mark but its bytes are not UTF-16 "
                f"({exc.reason} at byte offset {exc.start})",
                file=name,
                line=line,
                value=data[max(0, exc.start - 10) : exc.end + 10],
                hint="Re-save the file as UTF-8 CSV; if it is UTF-16, it was cut or damaged (download it again)",
            ) from None
    if b"\x00" in data[:4096]:
        raise FileFormatError(
            "the file contains NUL bytes: it is binary or UTF-16 without a byte-order mark",
            file=name,
            hint="Re-save it as UTF-8 CSV, or pass encoding='utf-16'",
        )
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            text = data.decode("cp1252")
            enc = "cp1252"
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            enc = "latin-1"
        return Decoded(text, enc, [f"not valid UTF-8 (first at line {line}); decoded as {enc}"])


# --------------------------------------------------------------------------- parsing


@dataclass
class ParsedCSV:
    """All-text table from one file, with provenance for every record."""

    name: str
    frame: pd.DataFrame  # all columns str, blanks as ""
    lines: np.ndarray  # physical line (1-based, header is line 1) of each kept record
    bad: list[dict]  # records with the wrong number of fields: line,row,reason,raw
    encoding: str
    notes: list[str]
    rows_read: int  # data records seen (kept + bad)


def _unique_names(names: list[str], notes: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            new = f"{n}.{seen[n]}"
            notes.append(f"duplicate column name {n!r} renamed to {new!r}")
            out.append(new)
        else:
            seen[n] = 0
            out.append(n)
    return out


def read_header(text: str, name: str, notes: list[str], *, delimiter: str = ",") -> tuple[Any, int, list[str]]:
    """Find the header row of decoded CSV text (skipping blank lines); unique, stripped column names.

    Returns the ``csv.reader`` positioned after the header, the header's
    physical line number and the column names (duplicates renamed, with a
    note appended to ``notes``).

    Raises
    ------
    EmptyFileError
        Empty text, or no header row.
    FileFormatError
        The header row is not valid CSV.
    """
    if not text.strip():
        raise EmptyFileError(
            "the file is empty (no header row)", file=name, hint="Check the download; a header-only file is fine, an empty one is not"
        )
    _allow_fields_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        while header == [] or all(h.strip() == "" for h in header):
            header = next(reader)
    except StopIteration:
        raise EmptyFileError("the file has no header row", file=name) from None
    except csv.Error as exc:
        raise FileFormatError(f"the header row cannot be parsed as CSV ({exc})", file=name) from None
    cols = _unique_names([h.strip().lstrip("\ufeff").strip() for h in header], notes)
    return reader, reader.line_num, cols


def parse_csv_text(
    data: bytes,
    name: str,
    *,
    encoding: str = "auto",
    required: Iterable[str] = (),
    delimiter: str = ",",
) -> ParsedCSV:
    """Parse CSV bytes to a table of strings, with line numbers and rejects.

    Raises
    ------
    EmptyFileError
        No header row.
    MissingColumnsError
        Any of ``required`` absent after trimming spaces in the header.
    """
    dec = decode_bytes(data, name, encoding=encoding)
    text = dec.text
    notes = list(dec.notes)
    if "\r" in text and "\n" not in text:  # classic Mac line ends: valid CSV, same lines
        text = text.replace("\r", "\n")
        notes.append("line ends are CR only (classic Mac): read as line ends")
    reader, header_line, cols = read_header(text, name, notes, delimiter=delimiter)
    req = list(required)
    missing = [c for c in req if c not in cols]
    if missing:
        raise MissingColumnsError(file=name, missing=missing, found=cols)
    # Fast path: pyarrow. Its result is accepted only when every physical line
    # after the header became exactly one record (so line numbers are exact);
    # quoted newlines, blank lines and ragged records go to the careful path.
    n_phys = text.count("\n") + (0 if text.endswith("\n") else 1)
    # a lone CR (not part of CRLF) is a line end too: pyarrow and our line count disagree there
    has_blank_line = "\n\n" in text or "\n\r\n" in text or "\r" in text.replace("\r\n", "")
    if header_line == 1 and not has_blank_line:
        bad_seen: list = []
        try:
            table = pacsv.read_csv(
                io.BytesIO(text.encode("utf-8")),
                read_options=pacsv.ReadOptions(column_names=cols, skip_rows=1, use_threads=False),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    invalid_row_handler=lambda row: bad_seen.append(row) or "skip",
                    ignore_empty_lines=False,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in cols}, strings_can_be_null=False, quoted_strings_can_be_null=False
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            table = None
        if table is not None and not bad_seen and table.num_rows == n_phys - 1:
            frame = table.to_pandas()
            lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
            return ParsedCSV(name, frame, lines, [], dec.encoding, notes, len(frame))
    return _parse_slow(text, name, cols, header_line, dec.encoding, notes, delimiter)


def _allow_fields_of(text: str) -> None:
    """Let the csv module read a field as long as the whole text (its default limit is 131,072 characters)."""
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)


def _parse_slow(text, name, cols, header_line, enc, notes, delimiter) -> ParsedCSV:
    _allow_fields_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    ncol = len(cols)
    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[dict] = []
    blank = 0
    last_line = 0
    skipped_header = False
    try:
        for rec in reader:
            start = last_line + 1
            last_line = reader.line_num
            if not skipped_header:
                if reader.line_num >= header_line:
                    skipped_header = True
                continue
            if rec == [] or (len(rec) == 1 and rec[0].strip() == "" and ncol != 1):
                blank += 1
                continue
            if len(rec) != ncol:
                bad.append(
                    {
                        "line": start,
                        "reason": f"wrong number of fields (expected {ncol}, found {len(rec)})",
                        "raw": json.dumps(rec, ensure_ascii=False),
                    }
                )
                continue
            rows.append(rec)
            lines.append(start)
    except csv.Error as exc:
        raise FileFormatError(f"unparseable CSV ({exc})", file=name, line=reader.line_num) from None
    if blank:
        notes.append(f"{blank} blank line(s) skipped")
    frame = pd.DataFrame(rows, columns=cols, dtype="str") if rows else pd.DataFrame({c: pd.Series([], dtype="str") for c in cols})
    nrows = len(rows) + len(bad)
    return ParsedCSV(name, frame, np.asarray(lines, dtype=np.int64), bad, enc, notes, nrows)


def raw_json(frame: pd.DataFrame, mask: np.ndarray) -> list[str]:
    """JSON text of each selected record (column -> raw value), for the rejects table."""
    sub = frame.loc[mask]
    return [json.dumps(dict(zip(sub.columns, map(str, vals))), ensure_ascii=False) for vals in sub.itertuples(index=False, name=None)]
