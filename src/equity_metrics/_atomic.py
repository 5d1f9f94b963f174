"""Output folders that are either complete or visibly incomplete.

Every command writes its files the same way:

1. :func:`begin_output` creates the folder, checks it can be written, and
   removes an existing ``manifest.json`` (and temporary files a killed run left
   behind) *before anything else is written*, so a crash can never leave an old
   manifest beside new files.
2. Each file is written to a temporary name in the same folder
   (``.tmp-<pid>-<name>``) and renamed into place with :func:`os.replace`
   (:func:`atomic_path`, :func:`atomic_write_bytes`); a reader never sees a
   half-written file under its real name.
3. ``manifest.json`` is written last, the same way.

A folder is complete when its ``manifest.json`` is there and every output it
lists exists with the SHA-256 it records (:func:`verify_output`, the
``equity-metrics verify`` command). Anything else (no manifest, a missing file,
a hash that does not match) is incomplete: rerun the command.

Write failures (read-only folder, full disk, ``--out`` naming a file) raise
:class:`OutputError`, which says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .errors import EquityMetricsError

__all__ = ["OutputError", "check_output_folder", "begin_output", "atomic_path", "atomic_write_bytes", "verify_output", "Verification",
           "MANIFEST", "TMP_PREFIX"]

MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"

#: Test hook only: ``"K:MARKER"`` makes the process create MARKER and sleep after its K-th file is in place
#: (K = 0: after the old manifest was removed, before any output). Used by tests that kill a run mid-way.
_HOOK_ENV = "EQUITY_METRICS_TEST_PAUSE_AFTER"
_committed = 0


class OutputError(EquityMetricsError, OSError):
    """An output file or folder cannot be written (read-only, full disk, a file where a folder should be)."""


def _explain(exc: OSError, target: Path) -> OutputError:
    what = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "a file stands where a folder is needed",
        errno.EEXIST: "a file stands where a folder is needed",
        errno.EISDIR: "a folder stands where a file is needed",
    }.get(exc.errno or -1, exc.strerror or type(exc).__name__)
    return OutputError(f"cannot write {str(target)!r}: {what}; choose another output folder (--out) or free space, "
                       "then rerun (the folder is left without a manifest: incomplete)")


def _pause_hook() -> None:
    spec = os.environ.get(_HOOK_ENV)
    if not spec:
        return
    k, _, marker = spec.partition(":")
    if int(k) == _committed:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(600)


def check_output_folder(folder: str | os.PathLike) -> Path:
    """Create ``folder`` (parents too) and check a file can be written in it; nothing else is touched.

    Run it before long work, so that a read-only or missing disk fails at once.

    Raises
    ------
    OutputError
        The folder cannot be created or written (read-only, full, a file in the way, empty name).
    """
    out = Path(folder)
    if str(folder) == "":
        raise OutputError("the output folder is empty (''); give a folder name, e.g. --out results")
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write to {str(out)!r}: it is a file, not a folder; choose another output folder (--out)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f"{TMP_PREFIX}{os.getpid()}-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise _explain(exc, out) from None
    return out


def begin_output(folder: str | os.PathLike) -> Path:
    """Start writing into ``folder``: :func:`check_output_folder`, then remove its old manifest and the
    temporary files a killed run left (before any output is written).

    Raises
    ------
    OutputError
        The folder cannot be created or written.
    """
    global _committed
    out = check_output_folder(folder)
    try:
        (out / MANIFEST).unlink(missing_ok=True)
        for stale in out.glob(TMP_PREFIX + "*"):
            if stale.is_file():
                stale.unlink()
    except OSError as exc:
        raise _explain(exc, out) from None
    _committed = 0
    _pause_hook()
    return out


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); on success rename it to ``path``.

    On any error the temporary file is removed and ``path`` is left as it was;
    an :class:`OSError` becomes :class:`OutputError`.
    """
    global _committed
    final = Path(path)
    tmp = final.with_name(f"{TMP_PREFIX}{os.getpid()}-{final.name}")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        if not tmp.exists():  # the writer wrote nothing: keep the (empty) contract explicit
            tmp.write_bytes(b"")
        os.replace(tmp, final)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _explain(exc, final) from None
        raise
    _committed += 1
    _pause_hook()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and :func:`os.replace`."""
    final = Path(path)
    with atomic_path(final) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return final


@dataclass
class Verification:
    """Result of :func:`verify_output`: ``complete`` and, when not, the ``reasons``."""

    folder: Path
    complete: bool
    reasons: list[str] = field(default_factory=list)
    command: str | None = None
    n_outputs: int = 0

    def summary(self) -> str:
        if self.complete:
            return f"{self.folder}: complete ({self.command}, {self.n_outputs} outputs match manifest.json)"
        return f"{self.folder}: incomplete: " + "; ".join(self.reasons) + "; rerun the command that wrote it"


def verify_output(folder: str | os.PathLike) -> Verification:
    """Check an output folder: ``manifest.json`` present and every output listed there with its SHA-256."""
    from ._manifest import sha256_file

    out = Path(folder)
    if not out.is_dir():
        return Verification(out, False, ["not a folder"])
    man = out / MANIFEST
    if not man.is_file():
        return Verification(out, False, ["no manifest.json (the run that wrote it stopped before the end)"])
    try:
        doc = json.loads(man.read_text(encoding="utf-8"))
        outputs = doc["outputs"]
        files = [(str(o["file"]), str(o["sha256"])) for o in outputs]
    except (ValueError, KeyError, TypeError, OSError) as exc:
        return Verification(out, False, [f"manifest.json cannot be read ({type(exc).__name__})"])
    reasons = []
    for name, sha in files:
        p = out / name
        if Path(name).name != name:
            reasons.append(f"manifest names a file outside the folder: {name!r}")
        elif not p.is_file():
            reasons.append(f"{name} is missing")
        elif sha256_file(p) != sha:
            reasons.append(f"{name} does not match its SHA-256 in manifest.json")
    stale = sorted(p.name for p in out.glob(TMP_PREFIX + "*"))
    if stale:
        reasons.append("temporary files left by an interrupted run: " + ", ".join(stale[:5]))
    return Verification(out, not reasons, reasons, command=doc.get("command"), n_outputs=len(files))
