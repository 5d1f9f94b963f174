"""Reading archives to their end: damage is never mistaken for the end of the data.

Used by :func:`equity_metrics.io._sources.iter_files`. A compressed tar is read
through one forward-only stream (no second pass, no copy in memory): the members
in order, then whatever follows the last one, which must be zero padding, to the
end of the stream, so the gzip/bzip2/xz checksum and length are verified. tarfile
itself stops silently at a header whose checksum is wrong, exactly as at the end
of an archive; the block it stopped at tells the two apart. Zip members are
checked against their CRC by :mod:`zipfile`.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any, Literal

from ..errors import FileFormatError

__all__ = ["OnDamage", "base_name", "gunzip", "iter_archive"]

OnDamage = Literal["raise", "keep"]
# what a damaged compressed stream or archive raises while being read
_STREAM_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


def base_name(name: str) -> str:
    r"""Last part of a file or archive-member name, split on ``/`` and ``\`` alike.

    Zip archives made on Windows may store member paths with backslashes.

    Examples
    --------
    >>> base_name("a.zip::2019-04\\2019-04-kent-stop-and-search.csv")
    '2019-04-kent-stop-and-search.csv'
    """
    return re.split(r"[/\\]", str(name).split("::")[-1])[-1]


def _damaged(path: str, what: str, *, on_damage: str, damage: list[dict] | None, offset: int | None, files_read: int,
             last_file: str | None, unknown: str, suspect: str | None = None) -> None:
    """Raise, or record, damage found in an archive."""
    where = f" at byte {offset:,} of the unpacked archive" if offset is not None else ""
    after = f" after {files_read} file(s) (last read: {last_file})" if last_file else f" after {files_read} file(s)"
    if on_damage == "raise":
        raise FileFormatError(
            f"archive is damaged: {what}{where},{after}; {unknown}",
            file=path,
            hint="Download the archive again and compare its SHA-256, or pass on_damage='keep' to keep the files "
            "read before the damage (the ledger then says what is missing)",
        )
    if damage is not None:
        damage.append({"archive": path, "offset": offset, "problem": what, "files_read": files_read,
                       "last_file_read": last_file, "unknown": unknown, "suspect_file": suspect})  # fmt: skip


class _Tracked(io.RawIOBase):
    """A forward-reading file object that remembers where its last read started and what it returned.

    tarfile stops silently at a header whose checksum is wrong, as at the end of an
    archive; the last block it read tells the two apart.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.pos = 0
        self.last: tuple[int, bytes] = (0, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 1:
            pos += self.pos
        elif whence == 2:
            raise io.UnsupportedOperation("seek from the end of a compressed stream")
        if pos != self.pos:
            self.raw.seek(pos)
            self.pos = pos
        return pos

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.last = (self.pos, data)
        self.pos += len(data)
        return data

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()

    def compressed_pos(self) -> int | None:
        inner = getattr(self.raw, "fileobj", None) or getattr(self.raw, "_fp", None)
        try:
            return int(inner.tell()) if inner is not None else None
        except (OSError, ValueError, AttributeError):
            return None


def _open_stream(path: str) -> Any:
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(path, "rb")
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(path, "rb")
    if magic.startswith(b"\xfd7zXZ"):
        return lzma.LZMAFile(path, "rb")
    return open(path, "rb")


def iter_archive(
    path: str, suffixes: tuple[str, ...], select: Any, on_damage: str = "raise", damage: list[dict] | None = None
) -> Iterator[tuple[str, bytes]]:
    """``(archive::member, bytes)`` of the members of a zip or (compressed) tar whose names end with ``suffixes``.

    ``select`` (or None) filters on the member's base name before its bytes are read.
    Damage raises :class:`FileFormatError` or, with ``on_damage="keep"``, is appended
    to ``damage`` (see :func:`equity_metrics.io._sources.iter_files`).
    """
    if path.lower().endswith(".zip"):
        yield from _iter_zip(path, suffixes, select, on_damage, damage)
        return
    stream = None
    try:
        stream = _Tracked(_open_stream(path))
        tf = tarfile.open(fileobj=stream, mode="r:")
    except (*_STREAM_ERRORS, ValueError) as exc:
        if stream is not None:
            stream.close()
        raise FileFormatError(
            f"not a readable tar archive ({type(exc).__name__}: {exc})",
            file=path,
            hint="Check the file is a complete .tar/.tar.gz download (download it again if it was cut)",
        ) from None
    n, last = 0, None

    def broke(what: str, offset: int, unknown: str | None = None) -> None:
        off = stream.compressed_pos()
        if off is not None:
            what += f" (noticed near byte {off:,} of the compressed file)"
        suspect = None
        if unknown is None:
            unknown = "later files are unknown (not read)"
            if last is not None:  # decompressed just before the damage was seen: its bytes may be damaged too
                suspect = f"{path}::{last}"
                unknown += "; the last file read before it may hold damaged bytes"
        _damaged(path, what, on_damage=on_damage, damage=damage, offset=offset, files_read=n, last_file=last,
                 unknown=unknown, suspect=suspect)  # fmt: skip

    with stream, tf:
        try:
            for member in tf:  # sequential: fast on compressed archives
                if not member.isfile() or not member.name.lower().endswith(suffixes):
                    continue
                if select is not None and not select(base_name(member.name)):
                    continue
                fh = tf.extractfile(member)
                if fh is None:
                    continue
                data = fh.read()
                if len(data) != member.size:
                    raise EOFError(f"member {member.name} ends after {len(data)} of {member.size} bytes")
                n, last = n + 1, member.name
                yield f"{path}::{member.name}", data
            # tarfile ends at the first header it cannot read: it must be the zero end block
            start, block = stream.last
            if start == tf.offset and block.strip(b"\0"):
                broke("a tar header that is not valid (a damaged archive, not its end)", tf.offset)
                return
            while chunk := stream.read(1 << 20):  # to the end: verifies the checksum and length
                if chunk.strip(b"\0"):
                    at = stream.pos - len(chunk) + (len(chunk) - len(chunk.lstrip(b"\0")))
                    broke("data after the end of the tar archive (a damaged header, or a second archive)", at)
                    return
        except _STREAM_ERRORS as exc:
            if "CRC" in str(exc) or "length" in str(exc).lower():
                unknown = (f"every member was read, but at least one byte of them differs from the archive as written; "
                           "which file cannot be told")  # fmt: skip
            else:
                unknown = None
            broke(f"the compressed stream cannot be read ({type(exc).__name__}: {exc})", stream.pos, unknown)


def _iter_zip(path: str, suffixes, select, on_damage: str, damage: list[dict] | None) -> Iterator[tuple[str, bytes]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise FileFormatError(f"not a readable zip archive ({exc})", file=path) from None
    n, last = 0, None
    with zf:
        for name in sorted(zf.namelist()):
            if name.endswith(("/", "\\")) or not name.lower().endswith(suffixes):
                continue
            if select is not None and not select(base_name(name)):
                continue
            try:
                data = zf.read(name)
            except (*_STREAM_ERRORS, ValueError, NotImplementedError, RuntimeError) as exc:
                _damaged(path, f"member {name!r} cannot be read ({type(exc).__name__}: {exc})", on_damage=on_damage,
                         damage=damage, offset=None, files_read=n, last_file=last,
                         unknown=f"{name!r} is not read; the other members are")  # fmt: skip
                continue
            n, last = n + 1, name
            yield f"{path}::{name}", data


def gunzip(data: bytes, name: str) -> bytes:
    """The bytes of a gzip-compressed file, checksum and length verified.

    Raises
    ------
    FileFormatError
        The bytes are not gzip, or are cut or damaged (naming the file).

    Examples
    --------
    >>> gunzip(gzip.compress(b"[]"), "x.json.gz")
    b'[]'
    """
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileFormatError(
            f"the gzip-compressed file is cut or damaged ({type(exc).__name__}: {exc})",
            file=name,
            hint="Download or compress the file again",
        ) from None
