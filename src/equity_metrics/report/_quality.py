"""The data-quality section's counts for the report's area, from the reader's ledger (bookkeeping only)."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["area_files"]


def area_files(stops, area: str | None, fev: pd.DataFrame) -> tuple[list, dict[str, int], int]:
    """The reader's file records, rejects by reason and exact duplicates of the report's area (all when ``area`` is None).

    police.uk files are named ``YYYY-MM-<force>-stop-and-search.csv``; when no file name
    says the force, every file read is counted.
    """
    led = stops.ledger
    files = list(led.files)
    if area:
        pat = re.compile(rf"(^|[/\\])\d{{4}}-\d{{2}}-{re.escape(area)}-stop-and-search\.csv$")
        mine = [f for f in files if pat.search(str(f.file))]
        files = mine if mine else files
    names = {str(f.file) for f in files}
    rj = stops.rejects.frame if hasattr(stops.rejects, "frame") else pd.DataFrame(columns=["file", "reason"])
    if len(files) == len(led.files):
        by_reason = dict(sorted(led.rejected_by_reason.items()))
    else:
        rj = rj[rj["file"].astype(str).isin(names)]
        by_reason = {str(k): int(v) for k, v in sorted(rj["reason"].value_counts().items())}
    dups = int(fev["duplicate"].fillna(False).astype(bool).sum()) if "duplicate" in fev.columns else int(led.duplicates)
    return files, by_reason, dups
