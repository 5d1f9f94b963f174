"""Shared plumbing of the subcommands: output folder, tables, manifest, input hashes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from .._atomic import atomic_path, atomic_write_bytes, begin_output, verify_output
from .._manifest import sha256_file, write_manifest
from ..errors import MappingError, OptionError, ReadError
from ..export import TABLE_SUFFIXES, write_table

__all__ = ["Outputs", "progress_enabled", "ledger_inputs", "file_input", "read_frame", "scrub_ids", "say",
           "read_events", "check_complete_folder", "out_folder"]


def say(args, *parts) -> None:
    """Print to stdout unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(*parts)


def progress_enabled(args) -> bool | None:
    """``False`` with ``--quiet``; otherwise ``None`` (bars only when stderr is a terminal)."""
    return False if getattr(args, "quiet", False) else None


class Outputs:
    """Everything one command writes into its output folder (for the manifest).

    Every file goes through a temporary name in the folder and is renamed into
    place; an old ``manifest.json`` is removed on creation and the new one is
    written last by :meth:`manifest` (see :mod:`equity_metrics._atomic`).

    Parameters
    ----------
    out
        Output folder (created; its old manifest removed).
    table_format
        ``"csv"``, ``"parquet"`` or ``"xlsx"`` for :meth:`table`.
    """

    def __init__(self, out: str | Path, table_format: str = "csv") -> None:
        self.out = begin_output(out)
        self.table_format = table_format
        self.paths: list[Path] = []

    def add(self, path: str | Path) -> Path:
        """Record a file written by someone else (e.g. a ledger)."""
        p = Path(path)
        if p not in self.paths:
            self.paths.append(p)
        return p

    def write(self, name: str, writer: Callable[[Path], object]) -> Path:
        """Write file ``name`` with ``writer(tmp_path)`` (e.g. a ledger's ``to_json``), then rename it into place."""
        p = self.out / name
        with atomic_path(p) as tmp:
            writer(tmp)
        return self.add(p)

    def table(self, name: str, df: pd.DataFrame) -> Path:
        """Write ``name.<ext>`` in the chosen table format (defused for CSV/XLSX)."""
        fmt = self.table_format
        return self.write(name + TABLE_SUFFIXES[fmt], lambda t: write_table(df, t, format=fmt))

    def csv(self, name: str, df: pd.DataFrame) -> Path:
        """Write ``name.csv`` whatever the table format (e.g. rejected rows)."""
        return self.write(f"{name}.csv", lambda t: write_table(df, t, format="csv"))

    def text(self, name: str, text: str) -> Path:
        data = (text.rstrip("\n") + "\n").encode("utf-8", errors="backslashreplace")
        return self.add(atomic_write_bytes(self.out / name, data))

    def json(self, name: str, obj: Any) -> Path:
        data = (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")
        return self.add(atomic_write_bytes(self.out / name, data))

    def figure(self, name: str, fig) -> Path:
        """Save a matplotlib Figure as PNG without a timestamp or software tag (reproducible bytes).

        Text is drawn literally (no mathtext: a ``$`` in a label from the data must not abort the run).
        """
        from ..report.figures import plain_text

        plain_text(fig)
        return self.write(name, lambda t: fig.savefig(t, format="png", dpi=100, metadata={"Software": None}))

    def manifest(self, *, command: str, inputs: list[dict], parameters: dict) -> Path:
        """Write ``manifest.json`` listing every output written so far with its SHA-256."""
        return write_manifest(self.out, command=command, inputs=inputs, outputs=list(self.paths), parameters=parameters)


def out_folder(value: str) -> str:
    """argparse type of ``--out``: a non-empty folder name (``--out ""`` is a bad command line, exit 2)."""
    import argparse

    if not value.strip():
        raise argparse.ArgumentTypeError("must name a folder (got an empty string), e.g. --out results")
    return value


def read_events(args):
    """Read the events named on the command line (``args.sources``) with the reader ``args.format`` names.

    Shared by ``ingest``, ``disparity`` and ``impact``; lives here (not in ``cli``) so that the
    parser imports the subcommands and never the other way round.
    """
    fmt = args.format
    quiet = getattr(args, "quiet", False)
    if fmt == "policeuk":
        from ..io.policeuk import read_policeuk

        try:
            return read_policeuk(args.sources, forces=args.forces or None, ethnicity_field=args.ethnicity_field,
                                 progress=not quiet)
        except ReadError as exc:
            # files were read but none is of the forces asked for: a request the data cannot answer (exit 4,
            # as 'report --area' with a misspelled force), not unreadable input
            if args.forces and exc.file is None and exc.reason.startswith("no police.uk stop-and-search file matches"):
                raise OptionError(f"{exc}; check the spelling of --forces") from None
            raise
    if fmt == "policeuk-api":
        from ..io.policeuk_api import read_policeuk_api

        forces = list(getattr(args, "forces", None) or [])
        if len(forces) > 1:
            raise OptionError("--format policeuk-api reads one force's API records: give at most one --forces slug "
                              "(the force the records belong to)")
        return read_policeuk_api(args.sources, force=forces[0] if forces else None,
                                 ethnicity_field=getattr(args, "ethnicity_field", "self_defined"))
    if fmt == "opp":
        from ..io.opp import read_opp

        return read_opp(args.sources)
    if fmt == "mapped":
        from ..io.mapped import read_mapped

        if not args.mapping:
            raise MappingError("--format mapped needs --mapping MAPPING.toml (see docs/data-model.md)")
        return read_mapped(args.sources, mapping=args.mapping)
    raise OptionError(f"unknown --format {fmt!r}")  # pragma: no cover - argparse restricts choices


def check_complete_folder(path: str | Path, what: str) -> None:
    """Refuse a file from an earlier command's output folder when that folder is incomplete.

    A folder counts as an output folder when it holds a ``manifest.json`` or a file an interrupted
    run leaves (``ledger.json``, ``.tmp-*``).
    """
    folder = Path(path).parent
    if not any((folder / n).exists() for n in ("manifest.json", "ledger.json")) and not any(folder.glob(".tmp-*")):
        return
    v = verify_output(folder)
    if not v.complete:
        raise ReadError(f"{what} comes from an incomplete output folder ({'; '.join(v.reasons)})", file=str(path),
                        hint="Rerun the command that wrote it (check with: equity-metrics verify FOLDER)")


def ledger_inputs(ledger, role: str) -> list[dict]:
    """``{"role", "file", "sha256"}`` for each file a reader's ledger recorded."""
    out = []
    for f in ledger.files:
        sha = f.sha256
        if sha is None and Path(f.file).is_file():
            sha = sha256_file(f.file)
        out.append({"role": role, "file": str(f.file), "sha256": sha})
    return out


def file_input(path: str | Path, role: str) -> dict:
    """``{"role", "file", "sha256"}`` of one input file (e.g. a mapping TOML)."""
    return {"role": role, "file": str(path), "sha256": sha256_file(path)}


def read_frame(path: str | Path, what: str) -> pd.DataFrame:
    """Read a CSV (``.csv``/``.csv.gz``), Parquet or XLSX table as text columns.

    Raises
    ------
    ReadError
        The file is missing, empty or cannot be parsed.
    """
    p = Path(path)
    if not p.is_file():
        raise ReadError(f"{what} file not found", file=str(p), hint="Check the path")
    name = p.name.lower()
    try:
        if name.endswith(".parquet") or name.endswith(".pq"):
            return pd.read_parquet(p)
        if name.endswith(".xlsx"):
            df = pd.read_excel(p, dtype=str)
        else:
            df = pd.read_csv(p, dtype=str, keep_default_na=False)
            df = df.replace("", pd.NA)
    except pd.errors.EmptyDataError:
        raise ReadError(f"{what} file is empty", file=str(p)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise ReadError(f"{what} file cannot be read ({type(exc).__name__}: {str(exc)[:200]})", file=str(p)) from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def scrub_ids(text: str, ids: Iterable[str]) -> str:
    """Replace every whole-word occurrence of an identifier in ``text`` by ``[id]``."""
    ids = sorted({str(i) for i in ids if str(i).strip()}, key=len, reverse=True)
    if not ids:
        return text
    pat = re.compile(r"(?<![\w])(?:" + "|".join(re.escape(i) for i in ids) + r")(?![\w])")
    return pat.sub("[id]", text)
