"""Strip outputs, execution counts and volatile metadata from notebooks before committing them.

Usage: ``python scripts/clean_notebooks.py [NOTEBOOK ...]`` (default: every ``notebooks/*.ipynb``).
``--check`` only reports the notebooks that would change and exits with status 1 if any would.

The tutorial notebooks' source is their paired Jupytext percent-format script (``notebooks/NN_name.py``);
prefer editing that and running ``jupytext --sync notebooks/*.py``. This tool is for a notebook you ran
and want to commit clean (the ``jupytext`` pairing metadata is kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info", "jupytext")
KEEP_CELL_METADATA = ("tags",)


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without outputs, execution counts, or metadata other than kernelspec, language and tags."""
    nb.metadata = {k: nb.metadata[k] for k in KEEP_NOTEBOOK_METADATA if k in nb.metadata}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    for cell in nb.cells:
        cell.metadata = {k: cell.metadata[k] for k in KEEP_CELL_METADATA if k in cell.metadata}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true", help="report notebooks that are not clean; change nothing")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    dirty = []
    for path in paths:
        before = path.read_text(encoding="utf-8")
        after = nbformat.writes(clean(nbformat.reads(before, as_version=4))) + "\n"
        if after.rstrip("\n") != before.rstrip("\n"):
            dirty.append(path)
            if not args.check:
                path.write_text(after, encoding="utf-8")
    for path in dirty:
        print(("not clean: " if args.check else "cleaned: ") + str(path))
    return 1 if (args.check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main())
