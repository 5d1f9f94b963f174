#!/usr/bin/env python
"""Regenerate the synthetic sample set in data/samples (byte-identical on every run).

Usage::

    python scripts/make_samples.py            # writes data/samples
    python scripts/make_samples.py OUTDIR     # writes OUTDIR instead

The data and its planted truth are described in docs/synthetic-data.md.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from equity_metrics.datasets import make_samples

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else ROOT / "data" / "samples"
    files = make_samples(folder)
    total = sum(f.stat().st_size for f in files)
    biggest = max(files, key=lambda f: f.stat().st_size)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(folder).as_posix().encode() + b"\0" + f.read_bytes())
    print(f"wrote {len(files)} files ({total / 1e6:.2f} MB; largest {biggest.name} "
          f"{biggest.stat().st_size / 1e6:.2f} MB) to {folder}")
    print(f"sha256 of the set: {digest.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
