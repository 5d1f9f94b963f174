"""Shared plumbing of the subcommands: output folder, tables, manifest, input hashes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from .._manifest import sha256_file, write_manifest
from ..errors import ReadError
from ..export import TABLE_SUFFIXES, write_table

__all__ = ["Outputs", "progress_enabled", "ledger_inputs", "file_input", "read_frame", "scrub_ids", "say"]


def say(args, *parts) -> None:
    """Print to stdout unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(*parts)


def progress_enabled(args) -> bool | None:
    """``False`` with ``--quiet``; otherwise ``None`` (bars only when stderr is a terminal)."""
    return False if getattr(args, "quiet", False) else None


class Outputs:
    """Everything one command writes into its output folder (for the manifest).

    Parameters
    ----------
    out
        Output folder (created).
    table_format
        ``"csv"``, ``"parquet"`` or ``"xlsx"`` for :meth:`table`.
    """

    def __init__(self, out: str | Path, table_format: str = "csv") -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.table_format = table_format
        self.paths: list[Path] = []

    def add(self, path: str | Path) -> Path:
        """Record a file written by someone else (e.g. a ledger)."""
        p = Path(path)
        if p not in self.paths:
            self.paths.append(p)
        return p

    def table(self, name: str, df: pd.DataFrame) -> Path:
        """Write ``name.<ext>`` in the chosen table format (defused for CSV/XLSX)."""
        return self.add(write_table(df, self.out / (name + TABLE_SUFFIXES[self.table_format]), format=self.table_format))

    def csv(self, name: str, df: pd.DataFrame) -> Path:
        """Write ``name.csv`` whatever the table format (e.g. rejected rows)."""
        return self.add(write_table(df, self.out / f"{name}.csv", format="csv"))

    def text(self, name: str, text: str) -> Path:
        p = self.out / name
        p.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
        return self.add(p)

    def json(self, name: str, obj: Any) -> Path:
        p = self.out / name
        p.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        return self.add(p)

    def figure(self, name: str, fig) -> Path:
        """Save a matplotlib Figure as PNG without a timestamp or software tag (reproducible bytes)."""
        p = self.out / name
        fig.savefig(p, format="png", dpi=100, metadata={"Software": None})
        return self.add(p)

    def manifest(self, *, command: str, inputs: list[dict], parameters: dict) -> Path:
        """Write ``manifest.json`` listing every output written so far with its SHA-256."""
        return write_manifest(self.out, command=command, inputs=inputs, outputs=list(self.paths), parameters=parameters)


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
