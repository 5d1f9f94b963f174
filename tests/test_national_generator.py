"""The national-size police.uk generator (datasets.national), on a tiny archive: layout, quirks, read back in full."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from equity_metrics.datasets.national import NATIONAL_QUIRKS, write_national_archive
from equity_metrics.errors import OptionError
from equity_metrics.io.policeuk import POLICEUK_COLUMNS, parse_policeuk_filename, read_policeuk

FORCES = ["cumbria", "gwent", "north-yorkshire", "south-yorkshire", "metropolitan"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("national")
    archive = write_national_archive(folder, years=1, start="2019-01", rows_per_year=6_000, forces=FORCES, seed=7)
    return archive, read_policeuk(folder)


def test_layout_and_header(tiny):
    archive, _ = tiny
    files = sorted(archive.folder.rglob("*.csv"))
    assert len(files) == archive.files == 12 * len(FORCES) - len(archive.missing)
    for f in files:
        force, month, kind = parse_policeuk_filename(f.name)
        assert f.parent.name == str(month) and kind == "stop-and-search" and force in FORCES
        assert f.read_text().split("\n", 1)[0] == ",".join(POLICEUK_COLUMNS)
        assert '""' not in f.read_text()  # blanks are written empty, as police.uk does


def test_read_back_accounts_for_every_row(tiny):
    archive, res = tiny
    led = res.ledger
    assert led.rows_read == led.rows_kept == len(res.data) == archive.rows
    assert led.rejected_by_reason == {} and led.files_rejected == []
    assert led.duplicates >= archive.duplicates > 0  # planted repeats (chance repeats may add a few)
    assert led.months_missing == archive.missing
    assert ("metropolitan", "2019-05") in led.months_missing and ("gwent", "2019-03") in led.months_missing


def test_quirks_are_planted(tiny):
    archive, res = tiny
    d = res.data
    # UTC with +00:00; BST months start at 23:xx UTC on the previous day, attributed to the local month
    assert d["datetime_raw"].str.endswith("+00:00").all()
    attr = res.ledger.choices["month_attribution"]
    assert attr["rows_local_month_not_file_month"] == 0 and attr["rows_utc_month_not_file_month"] > 0
    early = d[d["datetime_raw"].str[:7] != d["file_month"].astype(str)]
    assert (early["datetime_raw"].str[11:13] == "23").all()
    assert (~d["time_known"]).sum() > 0  # local midnight: a date without a time
    cumbria = d[d["force"] == "cumbria"]["datetime_raw"]
    assert cumbria.str.contains(r"\.\d{6}\+00:00$", regex=True).all()
    assert not d[d["force"] != "cumbria"]["datetime_raw"].str.contains(".", regex=False).any()
    by = d.groupby("force", observed=True)
    officer_blank = by["officer_defined_ethnicity_raw"].apply(lambda s: s.isna().mean())
    self_blank = by["self_defined_ethnicity_raw"].apply(lambda s: s.isna().mean())
    no_xy = by["latitude"].apply(lambda s: s.isna().mean())
    assert officer_blank["gwent"] == pytest.approx(NATIONAL_QUIRKS["officer_blank"]["gwent"], abs=0.04)
    assert self_blank["north-yorkshire"] == pytest.approx(NATIONAL_QUIRKS["self_blank"]["north-yorkshire"], abs=0.06)
    assert no_xy["south-yorkshire"] == 1.0 and no_xy["cumbria"] < 0.1


def test_seeded(tiny, tmp_path):
    archive, _ = tiny
    again = write_national_archive(tmp_path, years=1, start="2019-01", rows_per_year=6_000, forces=FORCES, seed=7)

    def digest(folder: Path) -> str:
        h = hashlib.sha256()
        for f in sorted(folder.rglob("*.csv")):
            h.update(f.relative_to(folder).as_posix().encode() + f.read_bytes())
        return h.hexdigest()

    assert digest(again.folder) == digest(archive.folder)


def test_bad_options(tmp_path):
    with pytest.raises(OptionError, match="years"):
        write_national_archive(tmp_path, years=0)
    with pytest.raises(OptionError, match="slugs"):
        write_national_archive(tmp_path, years=1, forces=["atlantis"])
