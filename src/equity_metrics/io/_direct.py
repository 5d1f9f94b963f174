"""Files the count engine reads itself: police.uk CSVs whose physical lines are their records.

:func:`~equity_metrics.io.large.count_policeuk` lets the engine (DuckDB, Polars,
Spark) parse the files; Python only lists them, checks their bytes and hashes them:

* the reader's :func:`~equity_metrics.io._policeuk_scan.prefetch` reads every
  selected file (or archive member) ahead in a background thread and hashes it
  there (file reads, zlib and SHA-256 release the GIL), while the caller checks
  the bytes with the reader's own test
  (:func:`~equity_metrics.io._policeuk_scan.fast_body`: the exact police.uk header,
  no quotes, CR, NUL or blank lines, 14 commas a record, valid UTF-8);
* a file that passes is, for DuckDB and Polars, queued by a :class:`Joiner` whose
  chunks of about 64 MB go to the engine at once (one big input parses much faster
  than many small files), and its duplicates are counted from its lines
  (:func:`duplicate_lines`); for Spark it is linked (a symbolic link to the file
  itself) or, for an archive member or a file with a BOM, written into the run's
  temporary folder under its file id (``0000042.csv``), so the engine reads plain
  paths and takes the file id from the file name; files that fail take the
  careful path;
* DuckDB and Spark drop a record with another number of fields (a short and a
  long record whose commas add up): the file's row count differs, so it is moved
  to the careful path and the count is run again; Polars refuses it as it parses
  a chunk, which is then parsed file by file (:func:`ragged_files` finds such
  files by their lines).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ._engines import FILE_PATTERN
from ._policeuk_scan import BATCH_BYTES, Hasher, ahead, fast_body, stream_pieces
from ._sources import LargeFile
from .policeuk_api import POLICEUK_COLUMNS

__all__ = ["FILE_PATTERN", "HEADER", "Joiner", "checked_body", "duplicate_lines", "engine_file", "large_pieces", "ragged_files",
           "stream_large"]

#: the header line of every police.uk stop-and-search file
HEADER = ",".join(POLICEUK_COLUMNS).encode()
_BOM = b"\xef\xbb\xbf"
#: a large file is checked and handed over in pieces of about this many bytes
PIECE_BYTES = BATCH_BYTES


def checked_body(data: bytes, *, engine_counts: bool = False) -> int | None:
    """Number of records of a file whose physical lines are its records (the reader's byte checks), else None.

    With ``engine_counts`` (an engine that drops a blank line or a record with another number of fields, DuckDB
    and Spark), the checks for blank lines and the number of commas are left out: such a file's row count on the
    engine then differs from its number of lines, and it is read again the careful way.
    """
    fast = fast_body(data, HEADER, count_commas=not engine_counts)
    return None if fast is None else fast[1]


def duplicate_lines(data: bytes, leave_out: Iterable[int] = ()) -> int:
    """Records of a plain file equal to an earlier record of it (its duplicates), from its lines.

    In a file whose physical lines are its records (no quotes, one record a line, every record
    with the header's number of fields), two records are equal in every field exactly when their
    lines are equal. ``leave_out``: physical line numbers (the header is line 1) of rejected rows.
    """
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    del lines[0]
    if leave_out:
        drop = {int(x) - 2 for x in leave_out}
        lines = [v for i, v in enumerate(lines) if i not in drop]
    return len(lines) - len(set(lines))


def engine_file(folder: str, fid: int, name: str, data: bytes, *, id_names: bool) -> str:
    """The path the engine reads for file ``fid``: the file itself (a plain path), else a link to it, or its bytes
    (archive members, a BOM) written into ``folder`` as ``<fid>.csv``."""
    bom = data.startswith(_BOM)
    on_disk = not bom and "::" not in name and os.path.isfile(name)
    if on_disk and not id_names and not any(ch in name for ch in "*?[]{}'\n"):  # a glob character: a link
        return name
    path = os.path.join(folder, f"{fid:07d}.csv")
    if on_disk:
        try:
            os.symlink(os.path.abspath(name), path)
            return path
        except OSError:  # no symbolic links here (some Windows set-ups): a copy
            pass
    with open(path, "wb") as fh:
        fh.write(data[3:] if bom else data)
    return path


class Joiner:
    """The records of plain files joined into chunks of about ``size`` bytes, handed to the engine chunk by chunk.

    An engine reads one big input much faster than many small files (DuckDB's and Polars' per-file set-up
    cost more than parsing police.uk's monthly files), and Python holds each file's bytes anyway (hash and
    checks). :meth:`add` takes a checked file (header dropped, a last line end added);
    :meth:`flush` hands the chunk to ``take(fids, bodies, counts)`` (:meth:`Backend.add_joined
    <equity_metrics.io._engines.Backend.add_joined>`), which returns the files the engine could not take as
    they are (their records go the careful way).
    """

    def __init__(self, take: Any, size: int = 64 << 20) -> None:
        self.take, self.size = take, size
        self.fids: list[int] = []
        self.bodies: list[bytes | memoryview] = []
        self.counts: list[int] = []
        self.nbytes = 0

    def add(self, fid: int, data: bytes, n: int) -> list[int]:
        """Queue the ``n`` records of file ``fid`` (its checked bytes); the files refused if a chunk was handed over."""
        cut = data.find(b"\n") + 1
        body: bytes | memoryview = memoryview(data)[cut:] if data.endswith(b"\n") else data[cut:] + b"\n"
        return self.add_records(fid, body, n)

    def add_records(self, fid: int, body: bytes | memoryview, n: int) -> list[int]:
        """Queue ``n`` records of file ``fid`` (no header; whole lines, the last ending in LF). A big file comes
        piece by piece: its records may span several chunks."""
        self.fids.append(fid)
        self.bodies.append(body)
        self.counts.append(n)
        self.nbytes += len(body)
        return self.flush() if self.nbytes >= self.size else []

    def flush(self) -> list[int]:
        """Hand the queued records to the engine; the files it refused."""
        if not self.fids:
            return []
        fids, bodies, counts = self.fids, self.bodies, self.counts
        self.fids, self.bodies, self.counts, self.nbytes = [], [], [], 0
        return list(self.take(fids, bodies, counts))


def stream_large(large: LargeFile, *, size: int | None = None) -> tuple[int, int, str] | None:
    """A file too big to hold whole, read block by block: ``(records, duplicates, sha256)``, or None (not plain).

    The reader's byte checks piece by piece (:func:`~equity_metrics.io._policeuk_scan.stream_pieces`), the
    SHA-256 on the side, and the duplicates from the lines: two records are equal exactly when their lines
    are (as :func:`duplicate_lines`), and lines are told apart here by two 64-bit hashes of different seeds
    (Polars), never held all at once. Two different lines taken as equal would need both hashes to collide:
    about ``n**2 / 2**129``, under 1e-24 for 10 million lines. Memory: a piece, and 16 bytes a record.
    """
    import polars as pl

    hasher = Hasher()
    n, hashes = 0, []
    for piece in ahead(stream_pieces(large.blocks(size or PIECE_BYTES), HEADER, hasher), name="count-policeuk-large"):
        if piece is None:
            hasher.hexdigest()
            return None
        body, k = piece
        n += k
        lines = pl.read_csv(body, has_header=False, separator="\x00", quote_char=None, schema={"line": pl.String},
                            raise_if_empty=False).to_series()  # fmt: skip
        if len(lines) != k:  # cannot happen with the checks above; be safe
            hasher.hexdigest()
            return None
        hashes.append(pl.DataFrame({"a": lines.hash(seed=0), "b": lines.hash(seed=1)}))
    sha = hasher.hexdigest()
    distinct = pl.concat(hashes).n_unique() if hashes else 0
    return n, n - distinct, sha


def large_pieces(large: LargeFile, *, size: int | None = None) -> Iterator[tuple[bytes, int]]:
    """The records of a large file that :func:`stream_large` accepted, again, in pieces of whole lines."""
    for piece in stream_pieces(large.blocks(size or PIECE_BYTES), HEADER, lambda block: None):
        if piece is None:  # the file changed since it was checked
            raise OSError(f"{large.path}: the file changed while it was read")
        yield piece


def ragged_files(paths: dict[int, str]) -> list[int]:
    """Ids of files with a record of other than 14 commas (their total being right): the careful path reads them."""
    want = len(POLICEUK_COLUMNS) - 1
    out = []
    for fid, path in paths.items():
        with open(path, "rb") as fh:
            a = np.frombuffer(fh.read(), dtype=np.uint8)
        ends = np.flatnonzero(a == 10)
        if len(a) and a[-1] != 10:
            ends = np.append(ends, len(a))
        commas = np.searchsorted(np.flatnonzero(a == 44), ends)
        if (np.diff(commas, prepend=0) != want).any():
            out.append(fid)
    return out
