"""Shared test fixtures.

Real public data live beside the project root in ``../shared``; tests that need
them skip with a clear reason when the folder is absent (a user's fresh clone).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
SHARED_REFERENCE = SHARED / "reference"
SAMPLES = ROOT / "data" / "samples"


def need_shared(*parts: str) -> Path:
    """Return ``../shared/<parts>`` or skip the test with the reason."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p} is absent (it lives beside the project root in ../shared)")
    return p


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return need_shared("data")


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    return need_shared("reference")
