"""Fixtures of the real-data acceptance suite.

Session-scoped, so the archive is read once by the independent path (tarfile + csv, see
``_raw.py``) and each force's report is built once (``run_report`` on the force's config in
``configs/``, written into a temporary folder). Everything skips with a clear reason when
``../shared/data`` is absent.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import need_shared

from . import _raw
from ._published import Published

HERE = Path(__file__).resolve().parent
CONFIGS = HERE / "configs"
ARCHIVE = ("data", "policeuk", "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz")
CENSUS = ("data", "population", "census2011_pfa_ethnic_group_18.csv")
HOME_OFFICE = ("data", "homeoffice", "ho_opendata_force_by_ethnicity_2020-21_2021-22.csv")
HOME_OFFICE_TOTALS = ("data", "homeoffice", "ho_opendata_force_total_and_not_stated_2020-21_2021-22.csv")

#: The forces of the suite (police.uk slugs); each has configs/<slug>.toml.
FORCES = ["west-yorkshire", "merseyside", "metropolitan", "north-yorkshire", "city-of-london", "kent", "thames-valley"]


@pytest.fixture(scope="session")
def archive() -> Path:
    return need_shared(*ARCHIVE)


@pytest.fixture(scope="session")
def raw(archive) -> dict[str, _raw.ForceRows]:
    """Every row of the suite's forces, read with tarfile + csv (the independent path)."""
    return _raw.read_archive(archive, FORCES)


@pytest.fixture(scope="session")
def census() -> dict[str, dict[str, int]]:
    return _raw.read_census(need_shared(*CENSUS))


@pytest.fixture(scope="session")
def home_office() -> dict[tuple[str, str, str], int]:
    return _raw.read_home_office(need_shared(*HOME_OFFICE))


@pytest.fixture(scope="session")
def home_office_totals() -> dict[tuple[str, str], tuple[int, int]]:
    import csv

    out = {}
    with open(need_shared(*HOME_OFFICE_TOTALS), newline="", encoding="utf-8-sig") as fh:
        for rec in csv.DictReader(fh):
            out[(rec["financial_year"].strip(), rec["police_force"].strip())] = (
                int(float(rec["total_searches"])), int(float(rec["missing_searches"])))
    return out


@pytest.fixture(scope="session")
def built(tmp_path_factory, archive):
    """``built(force)`` -> :class:`Published`: the force's report, built once per session.

    A build that raises fails every test that needs it, with the error.
    """
    need_shared(*CENSUS)
    cache: dict[str, Published | BaseException] = {}

    def get(force: str) -> Published:
        if force not in cache:
            from equity_metrics.report import run_report

            out = tmp_path_factory.mktemp(f"report-{force}")
            t0 = time.perf_counter()
            try:
                outs = run_report(CONFIGS / f"{force}.toml", out=out, formats=("html",))
                cache[force] = Published.load(force, out, outs.report, time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - reported by each test that needs the report
                cache[force] = exc
        got = cache[force]
        if isinstance(got, BaseException):
            pytest.fail(f"building the {force} report failed: {type(got).__name__}: {got}")
        return got

    return get
