"""The columnar engine under :func:`~equity_metrics.io.policeuk.read_policeuk`: police.uk CSV bytes to coded columns.

Engine: Polars (its CSV reader and expressions run in Rust and release the GIL).
Measured on the 44-force archive (1,034,848 rows, 2 cores): parsing all files as
strings takes 0.3-0.4 s with Polars against 1.5-2.3 s with ``pyarrow.csv``; Arrow's
``dictionary_encode`` + ``unify_dictionaries`` costs another 1-2 s, while parsing
straight into Polars ``Categorical`` codes costs 0.1 s more than strings once the two
coordinate columns (300,000 distinct values: coding them doubled the parse) stay text.
DuckDB reads as fast but every result crosses into Python through a query (see
``benchmarks/bench_ingest.py``).

How a download is read, without a Python loop per row or a pandas frame per file:

* Every file is checked on its bytes (:func:`fast_body`, in the reading thread): the
  exact police.uk header, no quotes, CR or NUL, 14 commas per line (so no blank line or
  short record: Polars would pad those with empty fields), valid UTF-8; a record with
  too many fields makes the parse fail. Such a file's physical lines are its records,
  so line numbers need no parsing.
* The bodies of such files are joined into batches of ~16 MB and parsed by Polars in
  one call (a batch whose row count does not match is re-read file by file). A plain
  file bigger than ``LARGE_FILE`` (64 MB) is never held whole: it is read, checked and
  parsed in pieces cut at line ends (:func:`stream_pieces`), its SHA-256 computed on
  the side (:class:`Hasher`).
* Every column but ``Date`` and the coordinates is parsed straight into integer codes
  into its distinct values (a Polars ``Categorical`` with one category list per column,
  shared by all batches: :class:`Encoder`); ``Date`` stays text and is decoded to UTC
  instants (:func:`utc_instants`: digit by digit in numpy for police.uk's own form);
  ``Latitude`` and ``Longitude`` stay text and are read as numbers in bulk later. Only
  the codes and these texts are kept, so memory stays near the size of the result.
* Any other file (quoted fields, odd headers, CR line ends, another encoding, ragged
  records) takes the careful path of :func:`equity_metrics.io._sources.parse_csv_text`
  and joins the same coded columns.
* Files are read (and decompressed) in a background thread while Polars parses.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from ._policeuk_convert import NAT, Coded
from ._sources import sha256_bytes

BATCH_BYTES = 16 << 20
_BOM = b"\xef\xbb\xbf"
# police.uk's own form: UTC with +00:00, optional fractional seconds (Cumbria); anything else goes to pandas
#: Kept as text, not coded: Date (parsed to instants) and the coordinates (many distinct values: coding them
#: in the parse costs more than reading them as numbers from the text)
TEXT_COLUMNS = ("Date", "Latitude", "Longitude")
_DATE_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?\+00:00$"
_DATE_FMT = "%Y-%m-%dT%H:%M:%S%.f%:z"
_MIN_NS = -2208988800 * 10**9  # 1900-01-01 UTC
_MAX_NS = 4133980800 * 10**9  # 2101-01-01 UTC


def fast_body(data: bytes, header: bytes, *, count_commas: bool = True) -> tuple[bytes | memoryview, int] | None:
    """The records of a file whose physical lines are exactly its records, and their number; or None (careful path).

    The checks run on ``data`` itself and the records are a view into it (no copy),
    unless the last line lacks its line end. ``count_commas=False`` leaves out the
    comma count, for an engine that drops blank lines and ragged records itself.
    """
    skip = 3 if data.startswith(_BOM) else 0
    if data[skip:] in (header, header + b"\n"):
        return b"", 0
    if not data.startswith(header + b"\n", skip):
        return None
    n = count_byte(data, b"\n") - 1 + (not data.endswith(b"\n"))
    if not _plain_bytes(data, n + 1, header.count(b",") if count_commas else None):
        return None
    body = memoryview(data)[skip + len(header) + 1 :]
    return (body if data.endswith(b"\n") else bytes(body) + b"\n"), n


def count_byte(data: bytes | memoryview, byte: bytes, block: int = 1 << 20) -> int:
    """How many times ``byte`` (one byte) occurs in ``data``: ``bytes.count``, 3-6x faster and without the GIL.

    numpy compares a block at a time (the block's 0/1 array stays in cache); the
    reading thread's byte checks then run beside the main thread's work.
    """
    a = np.frombuffer(data, dtype=np.uint8)
    value = byte[0]
    if len(a) <= block:
        return int(np.count_nonzero(a == value))
    return sum(int(np.count_nonzero(a[i : i + block] == value)) for i in range(0, len(a), block))


def _plain_bytes(data: bytes, records: int, commas: int | None) -> bool:
    """No quote, CR or NUL; ``commas`` per record (None: not counted); valid UTF-8.

    Polars pads a short record with empty fields, and a blank line reads as one: the
    comma count finds both (a record with too many fields is an error of the parse).
    """
    if b'"' in data or b"\r" in data or b"\x00" in data:
        return False
    if commas is not None and count_byte(data, b",") != commas * records:
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def chunks(body: bytes | memoryview, size: int) -> list[memoryview]:
    """``body`` cut at line ends into pieces of about ``size`` bytes (views, no copy)."""
    view, out, start = memoryview(body), [], 0
    raw = view.obj if isinstance(view.obj, bytes) else bytes(view)
    base = len(raw) - len(view)
    while start < len(view):
        end = raw.find(b"\n", base + min(start + size, len(view) - 1)) - base + 1
        end = len(view) if end <= 0 else end
        out.append(view[start:end])
        start = end
    return out


def parse_bodies(bodies: list[bytes], columns: list[str], expected: int, enc: "Encoder") -> pl.DataFrame | None:
    """One Polars parse of the joined bodies, or None when it does not give ``expected`` rows.

    Every column but ``Date`` is parsed straight into codes (a Polars ``Categorical``
    with the encoder's own category list for that column), so its text is never
    materialised. (A Categorical parse reads an empty field as null: :meth:`Encoder.add`
    makes it the empty text again.) A record with too many fields is an error.
    """
    try:
        df = pl.read_csv(
            b"".join(bodies), has_header=False, schema=enc.schema(columns), quote_char=None,
            empty_string_is_null=False, raise_if_empty=False, infer_schema=False,
        )  # fmt: skip
    except (pl.exceptions.PolarsError, ValueError):
        return None
    if df.height != expected:
        return None
    return df


class Encoder:
    """Accumulates parsed batches as codes per column (one category list per column), Date text and UTC instants.

    Each raw column has its own Polars ``Categories``: the physical code of a value is
    the same in every batch, so coding a batch costs no Python work, and the distinct
    values are read once at the end (``Categories.to_series``).
    """

    def __init__(self) -> None:
        self.cats: dict[str, pl.Categories] = {}
        self._hold: list[pl.Series] = []  # a category list lives only while a Series of its dtype does
        self.codes: dict[str, list[tuple[int, np.ndarray]]] = {}
        self.texts: dict[str, list[tuple[int, pa.Array]]] = {}  # TEXT_COLUMNS, kept as text
        self.utc: list[np.ndarray] = []
        self.rows = 0

    def dtype(self, column: str) -> pl.DataType:
        if column not in self.cats:
            self.cats[column] = pl.Categories.random()
            self._hold.append(pl.Series(column, [], dtype=pl.Categorical(self.cats[column])))
        return pl.Categorical(self.cats[column])

    def schema(self, columns: list[str], text: tuple[str, ...] = TEXT_COLUMNS) -> dict[str, pl.DataType]:
        """Parse schema: the ``text`` columns as text, the others straight into codes."""
        return {c: (pl.String if c in text else self.dtype(c)) for c in columns}

    def add(self, df: pl.DataFrame) -> int:
        """Code one batch (text or already-coded columns); returns the position of its first row."""
        start, n = self.rows, df.height
        if n == 0:
            return start
        other = [c for c in df.columns if c not in TEXT_COLUMNS]
        # a Categorical parse reads an empty field as null: it is the empty text here
        exprs = [pl.col(c).cast(self.dtype(c)).fill_null(pl.lit("", dtype=self.dtype(c))).to_physical().alias(c) for c in other]
        coded = df.select(*exprs)
        for c in other:
            self.codes.setdefault(c, []).append((start, _narrow(coded[c].to_numpy().view(np.int32))))
        for c in TEXT_COLUMNS:
            if c in df.columns:
                col = df[c] if c == "Date" else df[c].fill_null("")  # a missing coordinate is empty text
                self.texts.setdefault(c, []).append((start, col.to_arrow().cast(pa.large_string())))
        self.utc.append(utc_instants(self.texts["Date"][-1][1]))
        self.rows += n
        return start

    def column(self, name: str, total: int | None = None) -> Coded | None:
        """All rows of a column (None when no batch had it); rows of batches without it get code -1.

        The batches' codes are released as they are joined.
        """
        if name not in self.codes:
            return None
        parts = self.codes.pop(name)
        total = self.rows if total is None else total
        if sum(len(p) for _, p in parts) == total:
            codes = np.concatenate([p for _, p in parts]) if len(parts) != 1 else parts[0][1]
        else:
            codes = np.full(total, -1, dtype=np.int32)
            for start, p in parts:
                codes[start : start + len(p)] = p
        del parts
        raws = ["" if v is None else v for v in self.cats[name].to_series().to_list()]
        return Coded(codes, raws)

    def text(self, name: str) -> pa.ChunkedArray:
        """All rows of a text column (``Date``, ``Latitude``, ``Longitude``); released from the encoder."""
        parts = self.texts.pop(name, [])
        if sum(len(p) for _, p in parts) != self.rows:  # some batches lack it: their rows are empty text
            full, at = [], 0
            for start, p in parts:
                if start > at:
                    full.append(pa.array([""] * (start - at), type=pa.large_string()))
                full.append(p)
                at = start + len(p)
            if at < self.rows:
                full.append(pa.array([""] * (self.rows - at), type=pa.large_string()))
            parts = [(0, p) for p in full]
        return pa.chunked_array([p for _, p in parts], type=pa.large_string())

    def date_text(self) -> pa.ChunkedArray:
        return self.text("Date")

    def utc_ns(self) -> np.ndarray:
        return np.concatenate(self.utc) if self.utc else np.zeros(0, dtype=np.int64)


def _narrow(codes: np.ndarray) -> np.ndarray:
    """Codes in the narrowest unsigned type that holds them (a column has a few dozen distinct values: 1 byte a row)."""
    top = int(codes.max()) if len(codes) else 0
    for t in (np.uint8, np.uint16):
        if top <= np.iinfo(t).max:
            return codes.astype(t)
    return codes


def utc_instants(text: pa.Array) -> np.ndarray:
    """UTC instants (int64 ns) of police.uk ``Date`` texts; :data:`NAT` where the text is not in police.uk's form.

    The form ``YYYY-MM-DDTHH:MM:SS+00:00`` (25 bytes: nearly every row) is decoded
    digit by digit in numpy, checked strictly (digits, separators, a real calendar
    date, 1900-2100); other lengths (fractional seconds, as Cumbria writes) go to
    Polars' parser with the strict pattern. Anything left at :data:`NAT` is parsed
    later, once per distinct text, by :func:`~._policeuk_convert.resolve_dates`.
    """
    n = len(text)
    out = np.full(n, NAT, dtype=np.int64)
    if n == 0:
        return out
    if text.null_count:
        text = text.fill_null("")
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64, count=n + 1, offset=text.offset * 8)
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    fixed = lengths == 25
    if fixed.all() and offsets[-1] - offsets[0] == 25 * n:
        b = data[offsets[0] : offsets[-1]].reshape(n, 25)
        rows = None
    else:  # the 25-byte texts, copied together by Arrow: then they too are one block of bytes
        rows = np.flatnonzero(fixed)
        sub = text.filter(pa.array(fixed))
        sub_off = np.frombuffer(sub.buffers()[1], dtype=np.int64, count=len(sub) + 1, offset=sub.offset * 8)
        b = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[sub_off[0] : sub_off[-1]].reshape(len(sub), 25)
    if len(b):
        out_fixed = _decode_fixed(b)
        if rows is None:
            out = out_fixed
        else:
            out[rows] = out_fixed
    other = np.flatnonzero(~fixed)
    if len(other):  # fractional seconds and the rest: Polars' parser, strict pattern
        s = pl.Series(text.take(pa.array(other)))
        parsed = s.str.to_datetime(_DATE_FMT, time_zone="UTC", time_unit="ns", strict=False).dt.epoch("ns")
        ok = (s.str.contains(_DATE_RE) & parsed.is_between(_MIN_NS, _MAX_NS, closed="left")).fill_null(False)
        out[other] = np.where(ok.to_numpy(), parsed.fill_null(0).to_numpy(), NAT)
    return out


_SEP = {4: ord("-"), 7: ord("-"), 10: ord("T"), 13: ord(":"), 16: ord(":"), 19: ord("+"), 20: ord("0"), 21: ord("0"),
        22: ord(":"), 23: ord("0"), 24: ord("0")}  # fmt: skip
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]


def _decode_fixed(b: np.ndarray) -> np.ndarray:
    """int64 ns of rows of 25 bytes ``YYYY-MM-DDTHH:MM:SS+00:00``; :data:`NAT` where a row is not exactly that."""
    d = b[:, _DIGITS].astype(np.int64) - 48
    ok = ((d >= 0) & (d <= 9)).all(axis=1)
    for pos, ch in _SEP.items():
        ok &= b[:, pos] == ch
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    hour, minute, sec = d[:, 8] * 10 + d[:, 9], d[:, 10] * 10 + d[:, 11], d[:, 12] * 10 + d[:, 13]
    # second 60 as Polars reads it (a leap second: the next minute)
    ok &= (year >= 1900) & (year <= 2100) & (month >= 1) & (month <= 12) & (hour < 24) & (minute < 60) & (sec <= 60)
    mi = np.where(ok, (year - 1970) * 12 + month - 1, 0)
    first = mi.astype("M8[M]").astype("M8[D]").astype(np.int64)
    days_in = (mi + 1).astype("M8[M]").astype("M8[D]").astype(np.int64) - first
    ok &= (day >= 1) & (day <= days_in)
    ns = ((first + day - 1) * 86400 + hour * 3600 + minute * 60 + sec) * 1_000_000_000
    return np.where(ok & (ns < _MAX_NS), ns, NAT)


def stream_pieces(blocks: Iterator[bytes], header: bytes, hasher: Any) -> Iterator[tuple[bytes, int] | None]:
    """The records of a big file, in pieces cut at line ends, each with its record count; None: not police.uk-plain.

    The same byte checks as :func:`fast_body`, piece by piece (a piece's bytes are
    whole lines, so a UTF-8 character is never cut). Every block read is passed to
    ``hasher(block)`` (the file's SHA-256, computed on the side). A file that yields
    None must be read again by the careful path.
    """
    carry, first = b"", True
    commas = header.count(b",")
    for block in blocks:
        hasher(block)
        buf = carry + block
        if first:
            skip = 3 if buf.startswith(_BOM) else 0
            if len(buf) < skip + len(header) + 1:
                carry = buf
                continue
            if not buf.startswith(header + b"\n", skip):
                yield None
                return
            buf, first = buf[skip + len(header) + 1 :], False
        cut = buf.rfind(b"\n") + 1
        piece, carry = buf[:cut], buf[cut:]
        if piece:
            yield _plain(piece, commas)
    if first:  # the header was never complete
        yield None
        return
    if carry:
        yield _plain(carry + b"\n", commas)


def _plain(piece: bytes, commas: int) -> tuple[bytes, int] | None:
    n = count_byte(piece, b"\n")
    return (piece, n) if _plain_bytes(piece, n, commas) else None


class Hasher:
    """SHA-256 of blocks fed in order, computed in a background thread (hashlib releases the GIL)."""

    def __init__(self) -> None:
        import hashlib

        self._h = hashlib.sha256()
        self._q: queue.Queue = queue.Queue(maxsize=4)
        self._t = threading.Thread(target=self._run, name="policeuk-hash", daemon=True)
        self._t.start()

    def _run(self) -> None:
        while True:
            block = self._q.get()
            if block is None:
                return
            self._h.update(block)

    def __call__(self, block: bytes) -> None:
        self._q.put(block)

    def hexdigest(self) -> str:
        self._q.put(None)
        self._t.join()
        return self._h.hexdigest()


_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterable[tuple[str, bytes]], check: Any = None, depth: int = 32) -> Iterator[tuple[str, bytes, str, Any]]:
    """``(name, bytes, sha256, check(name, bytes))`` of ``items``, read, hashed and checked ahead in a background thread.

    Reading files, zlib and SHA-256 release the GIL, so a tar.gz is unpacked while the
    previous batch is parsed. Errors are raised in the caller's thread; leaving early
    stops the reader and closes ``items``.
    """

    def work() -> Iterator[tuple[str, Any, str | None, Any]]:
        it = iter(items)
        try:
            for name, data in it:
                if not isinstance(data, (bytes, bytearray, memoryview)):  # a file streamed by the caller
                    yield name, data, None, None
                else:
                    yield name, data, sha256_bytes(data), None if check is None else check(name, data)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    return ahead(work(), depth, name="policeuk-reader")


def ahead(iterable: Iterable[Any], depth: int = 2, name: str = "policeuk-ahead") -> Iterator[Any]:
    """The items of ``iterable``, produced ahead in a background thread (at most ``depth`` waiting).

    Errors are raised in the caller's thread; leaving early stops the thread and closes
    the iterable.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(x: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        it = iter(iterable)
        try:
            for x in it:
                if not put(x):
                    break
        except BaseException as exc:  # handed to the caller's thread
            put(_Failure(exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
            put(_END)

    t = threading.Thread(target=run, name=name, daemon=True)
    t.start()
    try:
        while True:
            x = q.get()
            if x is _END:
                break
            if isinstance(x, _Failure):
                raise x.exc
            yield x
    finally:
        stop.set()
        t.join()
