"""Hypothesis profiles of the fuzz campaign (issue 10) and its real-data seeds.

Profiles are registered here and applied by the tests themselves (``settings(parent=...)``),
so nothing outside ``tests/fuzz`` changes and no command-line flag is needed:

* ``fuzz-short``: the default campaign, a few dozen derandomised examples per reader.
* ``fuzz-ci``: the same with no per-test count; the ``@pytest.mark.slow`` tests set their
  own ``max_examples`` (they add up to :data:`SLOW_TOTAL` >= 10,000 cases).
"""

from __future__ import annotations

import tarfile

import pytest
from hypothesis import HealthCheck, settings

from conftest import SHARED_DATA

_COMMON = dict(
    deadline=None,
    derandomize=True,  # the seed is derived from the test: the same cases on every run
    database=None,  # no example database: nothing written into the shared working tree, nothing replayed
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.filter_too_much],
)
settings.register_profile("fuzz-short", max_examples=30, **_COMMON)
settings.register_profile("fuzz-ci", max_examples=1000, **_COMMON)

SHORT = settings.get_profile("fuzz-short")
CI = settings.get_profile("fuzz-ci")

ARCHIVE = SHARED_DATA / "policeuk" / "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"


@pytest.fixture(scope="session")
def real_policeuk_lines() -> list[str]:
    """A handful of data lines from the real police.uk archive (first two members), or [] when absent.

    Only the first members are opened (the archive is streamed, never extracted).
    """
    if not ARCHIVE.exists():
        return []
    lines: list[str] = []
    with tarfile.open(ARCHIVE, "r:gz") as tar:
        for member in tar:
            if not (member.isfile() and member.name.endswith("-stop-and-search.csv")):
                continue
            fh = tar.extractfile(member)
            head = fh.read(4000).decode("utf-8", errors="replace").splitlines()[1:-1]  # drop header and cut line
            lines.extend(head[:4])
            if len(lines) >= 8:
                break
    return lines
