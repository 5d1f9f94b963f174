"""The checks of the fuzz campaign: run a reader on a mutated case and judge the outcome.

A reader may either

* return a :class:`~equity_metrics.ledger.ReadResult` whose ledger balances (rows read ==
  kept + rejected, per file and in total, one reject per rejected row, each with file,
  line and reason), whose table has one row per kept row (events and training), and,
  where the test can count the data records itself, read exactly that many (no row
  vanished; when a file is rejected whole it must be listed in ``ledger.files_rejected``
  with its reason, and as its row count is only "about", rows read are then bounded); or
* raise an :class:`~equity_metrics.errors.EquityMetricsError` subclass with a message.

Anything else (KeyError, ValueError, UnicodeDecodeError, RecursionError, tarfile or
pandas errors...) propagates and fails the test.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import tempfile
import zipfile
from pathlib import Path

from hypothesis import event, note

from equity_metrics.errors import EquityMetricsError
from equity_metrics.ledger import ReadResult


def check_result(res: ReadResult, expected: int | None, *, lines: bool = True) -> None:
    led = res.ledger
    assert isinstance(res, ReadResult)
    for f in led.files:
        assert f.rows_read == f.rows_kept + f.rows_rejected, f
    assert led.rows_read == led.rows_kept + led.rows_rejected
    assert led.balanced
    assert len(res.rejects) == led.rows_rejected == sum(led.rejected_by_reason.values())
    if res.kind in ("events", "training"):
        assert len(res.data) == led.rows_kept
    rej = res.rejects.frame
    if len(rej):
        assert rej["file"].notna().all() and (rej["file"].astype(str) != "").all()
        assert rej["reason"].notna().all() and (rej["reason"].astype(str).str.strip() != "").all()
        if lines:
            assert rej["line"].notna().all()
        assert rej["raw"].notna().all()
    # Files rejected whole (police.uk: a file that cannot be read among others) are listed in
    # ledger.files_rejected with their reason and row count, outside rows_read: they count too.
    whole = list(getattr(led, "files_rejected", []) or [])
    for r in whole:
        assert r.get("file") and str(r.get("reason", "")).strip(), r
    if expected is not None and whole:
        # their row count is "about" (physical lines; None when unreadable, e.g. NUL bytes): only a bound
        assert led.rows_read <= expected
    elif expected is not None:
        assert led.rows_read == expected, (
            f"rows read {led.rows_read}, records in the file(s) {expected}: "
            "a row vanished or a phantom row was counted")


def run_reader(reader, source, kwargs: dict, expected: int | None, *, lines: bool = True) -> ReadResult | None:
    """Call the reader; accept a balanced result (returned) or a library error (None), nothing else."""
    try:
        res = reader(source, **kwargs)
    except EquityMetricsError as exc:
        assert str(exc), "library errors carry a message"
        event(f"raised {type(exc).__name__}")
        return None
    event(f"loaded ({'some' if len(res.rejects) else 'no'} rejects{', files rejected whole' if getattr(res.ledger, 'files_rejected', None) else ''})")
    note(f"ledger: read {res.ledger.rows_read} kept {res.ledger.rows_kept} rejected {res.ledger.rows_rejected}")
    check_result(res, expected, lines=lines)
    return res


def write_case(tmp: Path, seed, case, wrap: str = "plain", damage_archive: int | None = None) -> Path:
    """Write a case as the seed's file (optionally gzip, zip or tar.gz wrapped); return what to pass the reader."""
    data = case.data
    if seed.gzip:
        data = gzip.compress(data, mtime=0)
    if wrap == "plain":
        p = tmp / "in" / seed.name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        for other, text in seed.companions.items():
            (p.parent / other).write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
        return p.parent if seed.folder else p
    member = f"{seed.name[:7]}/{seed.name}"  # the bulk layout YYYY-MM/YYYY-MM-<force>-stop-and-search.csv
    buf = io.BytesIO()
    if wrap == "zip":
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), data)
        p = tmp / "download.zip"
    else:
        with tarfile.open(fileobj=buf, mode="w:gz") as t:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
        p = tmp / "download.tar.gz"
    blob = buf.getvalue()
    if damage_archive is not None:
        blob = blob[: damage_archive % max(len(blob), 1)]
    p.write_bytes(blob)
    return p


PATH_FORMS = {"str": str, "Path": Path, "bytes": os.fsencode}


def run_case(seed, case, *, wrap: str = "plain", damage_archive: int | None = None, extra_kwargs: dict | None = None,
             path_form: str = "str") -> None:
    note(f"seed={seed.key} steps={case.steps} expected={case.expected} path={path_form} bytes={case.data[:300]!r}")
    expected = None if damage_archive is not None else case.expected
    with tempfile.TemporaryDirectory() as d:
        src = PATH_FORMS[path_form](write_case(Path(d), seed, case, wrap, damage_archive))
        run_reader(seed.reader, src, {**seed.kwargs, **(extra_kwargs or {})}, expected)


def api_bytes(records, encoding: str) -> bytes:
    text = json.dumps(records, ensure_ascii=False)
    if encoding == "utf-16-le+bom":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding, errors="replace")
