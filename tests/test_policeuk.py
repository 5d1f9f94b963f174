"""Tests of the police.uk stop-and-search CSV reader.

The real-data tests read the 44-force archive in ../shared/data in place (skipped
when it is absent); every quirk its README lists has a test here. The synthetic
tests write small files into tmp_path.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import need_shared
from policeuk_rows import _csv, _row, _write

from equity_metrics.errors import EmptyFileError, FileFormatError, MissingColumnsError, OptionError, ReadError
from equity_metrics.io.policeuk import POLICEUK_COLUMNS, parse_policeuk_filename, read_policeuk
from equity_metrics.schema import AGE_BANDS, columns_of

ARCHIVE_NAME = "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"
TOTAL_ROWS = 1_034_848
LONDON = "Europe/London"
shared = pytest.mark.shared  # reads ../shared/data in place
slow = pytest.mark.slow  # reads the whole archive (once, in the module fixture)


@pytest.fixture(scope="module")
def archive() -> Path:
    return need_shared("data", "policeuk", ARCHIVE_NAME)


@pytest.fixture(scope="module")
def whole(archive):
    """The whole archive, read once for every real-data test."""
    return read_policeuk(archive)


def _member(archive: Path, month: str, force: str) -> bytes:
    """Bytes of one file of the archive, read with tarfile (independent of the reader)."""
    with tarfile.open(archive) as tf:
        for m in tf:
            if m.name.endswith(f"/{month}-{force}-stop-and-search.csv"):
                return tf.extractfile(m).read()
    raise KeyError(month, force)


def _rows(data: pd.DataFrame, force: str, month: str) -> pd.DataFrame:
    return data[(data["force"] == force) & (data["file_month"] == pd.Period(month, freq="M"))]


# ============================================================================ real archive
@shared
@slow
def test_every_row_of_the_archive_is_accounted_for(whole):
    led = whole.ledger
    assert led.rows_read == TOTAL_ROWS
    assert led.rows_kept == TOTAL_ROWS  # the files are clean: nothing rejected
    assert led.rows_rejected == 0 and len(whole.rejects) == 0
    assert len(whole.data) == TOTAL_ROWS
    assert len(led.files) == 1466
    assert all(f.rows_read == f.rows_kept + f.rows_rejected for f in led.files)
    assert all(f.sha256 and len(f.sha256) == 64 and f.encoding == "utf-8" for f in led.files)
    assert len(led.areas_covered) == 44 and whole.data["force"].nunique() == 44
    assert led.months_covered[0] == "2019-01" and led.months_covered[-1] == "2021-11" and len(led.months_covered) == 35


@shared
@slow
def test_file_row_counts_match_an_independent_count(archive, whole):
    raw = _member(archive, "2019-04", "west-yorkshire")
    n = len(pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False))
    assert n == 1063
    rec = next(f for f in whole.ledger.files if f.file.endswith("2019-04-west-yorkshire-stop-and-search.csv"))
    assert rec.rows_read == rec.rows_kept == n
    assert len(_rows(whole.data, "west-yorkshire", "2019-04")) == n


@shared
@slow
def test_canonical_columns_and_dtypes(whole):
    d = whole.data
    assert list(d.columns[: len(columns_of("events"))]) == columns_of("events")
    assert str(d["datetime"].dtype) == f"datetime64[ns, {LONDON}]"
    assert str(d["month"].dtype) == "period[M]" and str(d["file_month"].dtype) == "period[M]"
    assert d["source_line"].dtype == "Int64" and d["latitude"].dtype == "float64"
    assert list(d["age_band"].cat.categories) == list(AGE_BANDS) and d["age_band"].cat.ordered
    assert set(d["event_type"].unique()) == {"search"} and d["search_conducted"].all()
    assert d["event_id"].is_unique
    assert d["raw_unparsed"].isna().all()  # nothing present-but-unknown in the real files
    assert whole.ledger.unknown_by_field == {k: 0 for k in whole.ledger.unknown_by_field}


@shared
@slow
def test_output_is_sorted_by_force_file_month_line(whole):
    d = whole.data
    keys = pd.DataFrame({"f": d["force"].astype(str), "m": d["file_month"], "l": d["source_line"]})
    assert (keys.sort_values(["f", "m", "l"], kind="stable").index == keys.index).all()


@shared
@slow
def test_summer_rows_at_23h_utc_belong_to_the_files_local_month(whole):
    # the 2019-04 Kent file starts at 2019-03-31T23:00 UTC = 2019-04-01 00:00 BST
    kent = _rows(whole.data, "kent", "2019-04")
    first = kent.iloc[0]
    assert first["datetime_raw"] == "2019-03-31T23:00:00+00:00"
    assert first["datetime"] == pd.Timestamp("2019-04-01 00:00", tz=LONDON)
    assert first["month"] == pd.Period("2019-04", freq="M")
    assert first["event_id"] == "kent/2019-04/2" and first["source_line"] == 2
    wy = _rows(whole.data, "west-yorkshire", "2019-04")
    early = wy[wy["datetime_raw"].str.startswith("2019-03-31T23")]
    assert len(early) > 0 and (early["month"] == pd.Period("2019-04", freq="M")).all()
    # attribution check recorded in the ledger: 2,031 rows carry the previous month in UTC,
    # only 49 (four forces' month-end rows) fall outside their file's month locally
    att = whole.ledger.choices["month_attribution"]
    assert att["rows_utc_month_not_file_month"] == 2031
    assert att["rows_local_month_not_file_month"] == 49
    assert (whole.data["month"] != whole.data["file_month"]).sum() == 49
    assert any("49 row(s) fall in a local month" in n for n in whole.ledger.notes)


@shared
@slow
def test_summer_files_start_in_the_previous_utc_month(whole):
    d = whole.data
    first = d.groupby(["force", "file_month"], observed=True).head(1)
    early = first["datetime_raw"].str[:7] != first["file_month"].astype(str)  # first row dated in the previous month (UTC)
    bst = first["file_month"].dt.month.between(4, 10).to_numpy()  # months that begin in British Summer Time
    assert early[~bst].sum() == 0  # winter files never do
    assert 0.37 <= early[bst].mean() <= 0.62
    assert (first.loc[early.to_numpy(), "datetime_raw"].str[11:13] == "23").all()  # always 23:xx UTC, i.e. local 00:xx
    assert (first.loc[early.to_numpy(), "month"] == first.loc[early.to_numpy(), "file_month"]).all()


@shared
@slow
def test_local_midnight_is_a_date_without_time(whole):
    summer = _rows(whole.data, "west-yorkshire", "2019-07").set_index("source_line")
    assert summer.loc[429, "datetime_raw"] == "2019-07-12T23:00:00+00:00"
    assert summer.loc[429, "datetime"] == pd.Timestamp("2019-07-13 00:00", tz=LONDON)
    assert not summer.loc[429, "time_known"]
    winter = _rows(whole.data, "west-yorkshire", "2019-12").set_index("source_line")
    assert winter.loc[175, "datetime"] == pd.Timestamp("2019-12-05 00:00", tz=LONDON)
    assert not winter.loc[175, "time_known"]
    # 23:00 UTC in winter is 23:00 local: a real time
    d = whole.data
    w23 = d[d["datetime_raw"].str.endswith("T23:00:00+00:00") & d["month"].dt.month.isin([12, 1])]
    assert len(w23) > 0 and w23["time_known"].all()
    assert d["time_known"].sum() == TOTAL_ROWS - 45_119


@shared
@slow
def test_cumbria_fractional_seconds_parse(whole):
    cum = _rows(whole.data, "cumbria", "2019-04")
    first = cum.iloc[0]
    assert first["datetime_raw"] == "2019-03-31T23:39:00.206666+00:00"
    assert first["datetime"] == pd.Timestamp("2019-04-01 00:39:00.206666", tz=LONDON)
    assert first["month"] == pd.Period("2019-04", freq="M")
    frac = whole.data[whole.data["datetime_raw"].str.contains(r"\.\d{6}\+", regex=True)]
    assert len(frac) == 5879 and set(frac["force"].astype(str)) == {"cumbria"}
    assert frac["datetime"].notna().all()


@shared
@slow
def test_exact_duplicates_are_kept_and_counted(archive, whole):
    plain = pd.read_csv(io.BytesIO(_member(archive, "2019-04", "west-yorkshire")), dtype=str, keep_default_na=False)
    expected = int(plain.duplicated().sum())
    assert expected == 52
    wy = _rows(whole.data, "west-yorkshire", "2019-04")
    assert len(wy) == len(plain)  # kept, not dropped
    assert int(wy["duplicate"].sum()) == expected
    # the flagged rows are exactly pandas' 2nd+ occurrences, line for line
    assert (wy["source_line"].to_numpy()[wy["duplicate"].to_numpy(dtype=bool)] == np.flatnonzero(plain.duplicated()) + 2).all()
    assert whole.ledger.duplicates == int(whole.data["duplicate"].sum()) == 48_894
    rate = whole.data.groupby("force", observed=True)["duplicate"].mean()
    assert 0.01 < rate.min() and rate.max() < 0.12  # 1-12% of a force's rows


def _blank_rate(d: pd.DataFrame, col: str) -> pd.Series:
    return d[col].isna().groupby(d["force"], observed=True).mean() * 100


@shared
@slow
def test_ethnicity_blank_rates_by_force(whole):
    officer = _blank_rate(whole.data, "officer_defined_ethnicity_raw")
    assert officer["gwent"] == pytest.approx(94.6, abs=0.05)
    assert officer["west-midlands"] == pytest.approx(73.6, abs=0.05)
    assert officer["cambridgeshire"] == pytest.approx(56.4, abs=0.05)
    assert _blank_rate(whole.data, "self_defined_ethnicity_raw")["north-yorkshire"] == pytest.approx(59.0, abs=0.2)
    assert whole.ledger.missing_by_field["officer_defined_ethnicity"] == 118_653
    assert whole.ledger.missing_by_field["self_defined_ethnicity"] == 61_691
    # blank self-defined -> "Not stated" from field "none"; officer-defined has no Mixed in the README but some forces record it
    blank_self = whole.data["self_defined_ethnicity_raw"].isna()
    assert (whole.data.loc[blank_self, "ethnicity"] == "Not stated").all()
    assert (whole.data.loc[blank_self, "ethnicity_source"] == "none").all()
    assert set(whole.data["officer_defined_ethnicity"].dropna().unique()) <= {"Asian", "Black", "Mixed", "White", "Other", "Not stated"}


@shared
@slow
def test_location_blank_rates_by_force(whole):
    lat = _blank_rate(whole.data, "latitude")
    assert lat["south-yorkshire"] == 100.0
    assert lat["thames-valley"] == pytest.approx(91.0, abs=0.5)
    assert lat["lancashire"] == pytest.approx(83.0, abs=0.5)
    assert whole.ledger.missing_by_field["latitude"] == whole.ledger.missing_by_field["longitude"] == 228_091


@shared
@slow
def test_coverage_gaps_are_missing_not_zero(whole):
    gaps = set(whole.ledger.months_missing)
    span = [str(p) for p in pd.period_range("2019-01", "2021-11", freq="M")]

    def missing(force):
        return [m for m in span if (force, m) in gaps]

    assert missing("greater-manchester") == span[6:]  # only 2019-01..06
    assert missing("west-midlands") == [str(p) for p in pd.period_range("2021-04", "2021-11", freq="M")]
    met_have = ["2019-01", "2019-02", "2021-06", "2021-07", "2021-08", "2021-09", "2021-10"]
    assert missing("metropolitan") == [m for m in span if m not in met_have]
    assert missing("gwent") == ["2019-08"] and missing("cumbria") == ["2021-04"]
    lack_nov = sorted(f for f, m in gaps if m == "2021-11")
    assert {"cheshire", "devon-and-cornwall", "lincolnshire", "merseyside", "wiltshire"} <= set(lack_nov)
    assert len(whole.ledger.months_missing) == 74
    # a missing force-month has no rows and no file (it is not a month with zero searches)
    counts = whole.data.groupby(["force", "file_month"], observed=True).size()
    assert ("gwent", pd.Period("2019-08", freq="M")) not in counts.index
    assert not any(f.file.endswith("2019-08-gwent-stop-and-search.csv") for f in whole.ledger.files)
    assert ("gwent", "2019-07") not in gaps and counts[("gwent", pd.Period("2019-07", freq="M"))] > 0


@shared
@slow
def test_field_conversions_on_real_rows(whole):
    d = whole.data
    assert d["vehicle_only"].sum() == 31_935
    assert (d["search_type"] == "Vehicle search").sum() == 31_935
    assert d["arrest"].sum() == 128_533 and d["arrest"].isna().sum() == 32_429
    # raw field kept as published; the canonical find (Home Office definition) is not-NFA and linked:
    # counted from the raw CSV text by pandas on the extracted files: 208,546 'True', of which 80,434 are
    # on "A no further action disposal" rows; 125,640 non-NFA linked; 78,175 non-NFA with the field blank
    assert d["outcome_linked"].sum() == 208_546 and d["strip_search"].sum() == 25_874
    assert d["hit"].sum() == 125_640
    assert d["hit"].isna().sum() == 32_429 + 78_175  # outcome blank, or not NFA with the linked field blank
    assert d["policing_operation"].sum() == 40_939
    assert (d["sex"] == "Not stated").sum() == 98_570 and (d["sex"] == "Other").sum() == 2_733
    assert d["age_band"].isna().sum() == 126_617 and (d["age_band"] == "under 10").sum() == 674
    assert (d["ethnicity_detailed"] == "Black: Caribbean").sum() == 22_188


@shared
@slow
def test_read_one_force_from_the_archive(archive, whole):
    res = read_policeuk(archive, forces=["west-yorkshire"])
    assert set(res.data["force"].astype(str)) == {"west-yorkshire"}
    assert len(res.ledger.files) == 35 and res.ledger.months_missing == []
    assert len(res.data) == (whole.data["force"] == "west-yorkshire").sum()
    assert res.data["event_id"].tolist() == whole.data.loc[whole.data["force"] == "west-yorkshire", "event_id"].tolist()


@shared
def test_filter_by_months_and_expected_months(archive):
    res = read_policeuk(archive, months=["2019-04"])
    assert len(res.ledger.files) == 43  # the Metropolitan file for 2019-04 does not exist
    assert res.ledger.months_missing == [("metropolitan", "2019-04")]
    assert set(res.data["file_month"].astype(str)) == {"2019-04"}
    res2 = read_policeuk(archive, forces="Gwent Police", months="2019-07..2019-09")  # names are normalised to slugs
    assert [f.file.rsplit("/", 1)[1][:7] for f in res2.ledger.files] == ["2019-07", "2019-09"]
    assert res2.ledger.months_missing == [("gwent", "2019-08")]
    res3 = read_policeuk(archive, forces="gwent", months="2019-07", expected_months="2019-06..2019-08")
    assert res3.ledger.months_missing == [("gwent", "2019-06"), ("gwent", "2019-08")]


@shared
def test_no_matching_file_names_the_closest_force(archive):
    with pytest.raises(ReadError, match="west-yorkshire"):
        read_policeuk(archive, forces=["west-yorkshir"])


# ============================================================================ layouts
@pytest.fixture(scope="module")
def small_tree(archive, tmp_path_factory) -> Path:
    """A few real files in the bulk layout (a folder of month folders)."""
    root = tmp_path_factory.mktemp("bulk")
    for month in ("2019-04", "2019-05"):
        for force in ("kent", "cumbria"):
            p = root / month / f"{month}-{force}-stop-and-search.csv"
            p.parent.mkdir(exist_ok=True)
            p.write_bytes(_member(archive, month, force))
    return root


@shared
@slow
def test_folder_glob_and_zip_give_the_same_table(small_tree, tmp_path, whole):
    folder = read_policeuk(small_tree)
    assert len(folder.ledger.files) == 4
    expected = whole.data[whole.data["force"].isin(["kent", "cumbria"]) & whole.data["file_month"].isin(pd.PeriodIndex(["2019-04", "2019-05"], freq="M"))]
    assert len(folder.data) == len(expected)
    assert folder.data["event_id"].tolist() == expected["event_id"].tolist()
    glob = read_policeuk(str(small_tree / "*" / "2019-0[45]-kent-*.csv"))
    assert set(glob.data["force"].astype(str)) == {"kent"} and len(glob.ledger.files) == 2
    zpath = tmp_path / "few.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in sorted(small_tree.rglob("*.csv")):
            zf.write(p, p.relative_to(small_tree).as_posix())
    z = read_policeuk(zpath)
    assert z.data["event_id"].tolist() == folder.data["event_id"].tolist()
    assert z.data["source_file"].iloc[0].startswith(str(zpath) + "::")
    cols = [c for c in folder.data.columns if c != "source_file"]
    pd.testing.assert_frame_equal(z.data[cols], folder.data[cols])
    # a list of files, and month filtering within the folder
    one = read_policeuk([small_tree / "2019-05" / "2019-05-cumbria-stop-and-search.csv"])
    assert set(one.data["file_month"].astype(str)) == {"2019-05"}
    assert len(read_policeuk(small_tree, months="2019-05").ledger.files) == 2


def test_street_and_outcomes_files_are_skipped(tmp_path):
    _write(tmp_path / "2019-04-kent-stop-and-search.csv", [_row()])
    (tmp_path / "2019-04-kent-street.csv").write_text("Crime ID,Month\n1,2019-04\n")
    res = read_policeuk(tmp_path)
    assert len(res.ledger.files) == 1 and any("1 street" in n for n in res.ledger.notes)


# ============================================================================ synthetic files


def test_filename_parsing():
    assert parse_policeuk_filename("x.tar.gz::POLICE/2021-11/2021-11-btp-stop-and-search.csv")[:2] == ("btp", pd.Period("2021-11", freq="M"))
    assert parse_policeuk_filename("2019-13-kent-stop-and-search.csv") is None
    assert parse_policeuk_filename("2019-04-kent-outcomes.csv")[2] == "outcomes"


def test_bad_dates_are_rejected_with_file_line_and_raw(tmp_path):
    p = _write(
        tmp_path / "2020-06-kent-stop-and-search.csv",
        [_row(), _row(Date=""), _row(Date="15/06/2020 10:30"), _row(Date="2020-13-45T10:00:00+00:00"), _row(Date="1850-06-01T00:00:00+00:00"), _row()],
    )
    res = read_policeuk(p)
    led = res.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (6, 2, 4)
    assert led.rejected_by_reason == {"Date out of range (before 1900 or after 2100)": 1, "unparseable Date": 3}
    rj = res.rejects.frame
    assert rj["line"].tolist() == [3, 4, 5, 6] and rj["row"].tolist() == [2, 3, 4, 5]
    assert set(rj["file"]) == {str(p)} and set(rj["column"]) == {"Date"}
    assert rj["value"].tolist() == ["", "15/06/2020 10:30", "2020-13-45T10:00:00+00:00", "1850-06-01T00:00:00+00:00"]
    raw = json.loads(rj["raw"].iloc[1])
    assert raw["Date"] == "15/06/2020 10:30" and raw["Gender"] == "Male" and len(raw) == 15
    assert res.data["source_line"].tolist() == [2, 7]
    assert res.data["event_id"].tolist() == ["kent/2020-06/2", "kent/2020-06/7"]
    out = res.write_rejects(tmp_path / "rejects.csv")
    assert len(pd.read_csv(out)) == 4


def test_ragged_rows_and_quoted_newlines_keep_line_numbers(tmp_path):
    text = _csv([_row(), _row(Policing_operation="Op\nSwift"), _row()])
    text += ",".join(_row()[:14]) + "\n"  # 14 fields
    text += ",".join(_row() + ["extra"]) + "\n"  # 16 fields
    text += _csv([_row(Date="junk")]).split("\n", 1)[1]
    p = tmp_path / "2020-06-essex-stop-and-search.csv"
    p.write_text(text)
    res = read_policeuk(p)
    assert (res.ledger.rows_read, res.ledger.rows_kept, res.ledger.rows_rejected) == (6, 3, 3)
    assert res.data["source_line"].tolist() == [2, 3, 5]  # the quoted newline spans lines 3-4
    assert res.data["policing_operation_name"].tolist() == [pd.NA, "Op\nSwift", pd.NA]
    rj = res.rejects.frame.sort_values("line")
    assert rj["line"].tolist() == [6, 7, 8] and rj["row"].tolist() == [4, 5, 6]
    assert rj["reason"].tolist()[:2] == ["wrong number of fields (expected 15, found 14)", "wrong number of fields (expected 15, found 16)"]
    assert json.loads(rj["raw"].iloc[1])[-1] == "extra"
    assert rj["reason"].iloc[2] == "unparseable Date"


def test_same_file_twice_balances_and_is_noted(tmp_path):
    p = tmp_path / "2020-06-kent-stop-and-search.csv"
    p.write_text(_csv([_row(), _row(Date="junk")]) + "a,b\n")
    res = read_policeuk([p, p])
    assert (res.ledger.rows_read, res.ledger.rows_kept, res.ledger.rows_rejected) == (6, 2, 4)
    assert [(f.rows_kept, f.rows_rejected) for f in res.ledger.files] == [(1, 2), (1, 2)]
    assert res.data["event_id"].tolist() == ["kent/2020-06/2", "kent/2020-06#2/2"]
    assert any("same bytes" in n for n in res.ledger.notes)


def test_bom_and_latin1_bytes(tmp_path):
    p = tmp_path / "2020-06-kent-stop-and-search.csv"
    p.write_bytes(b"\xef\xbb\xbf" + _csv([_row()]).encode())
    res = read_policeuk(p)
    assert len(res.data) == 1 and res.ledger.files[0].encoding == "utf-8"
    q = _write(tmp_path / "2020-07-kent-stop-and-search.csv", [_row(Policing_operation="Op Café", Outcome="Arrest")], encoding="latin-1")
    res = read_policeuk(q)
    assert res.data["policing_operation_name"].tolist() == ["Op Café"]
    assert res.ledger.files[0].encoding == "cp1252"
    assert any("not valid UTF-8" in n for n in res.ledger.notes)


def test_header_only_file_is_zero_searches_not_missing(tmp_path):
    _write(tmp_path / "2020-01-kent-stop-and-search.csv", [_row(Date="2020-01-10T10:00:00+00:00")])
    _write(tmp_path / "2020-02-kent-stop-and-search.csv", [])  # header only: zero searches
    _write(tmp_path / "2020-04-kent-stop-and-search.csv", [_row(Date="2020-04-10T10:00:00+00:00")])  # 2020-03: no file
    res = read_policeuk(tmp_path)
    assert res.ledger.months_covered == ["2020-01", "2020-02", "2020-04"]
    assert res.ledger.months_missing == [("kent", "2020-03")]
    assert [f.rows_read for f in res.ledger.files] == [1, 0, 1]
    only = read_policeuk(tmp_path / "2020-02-kent-stop-and-search.csv")
    assert len(only.data) == 0 and only.ledger.rows_read == 0
    assert only.ledger.areas_covered == ["kent"] and only.ledger.months_missing == []
    assert list(only.data.columns[:3]) == ["event_id", "event_type", "source"]


def test_empty_file_raises(tmp_path):
    p = tmp_path / "2020-02-kent-stop-and-search.csv"
    p.write_bytes(b"")
    with pytest.raises(EmptyFileError, match="2020-02-kent"):
        read_policeuk(p)
    p.write_text("\n  \n")
    with pytest.raises(EmptyFileError):
        read_policeuk(p)


def test_missing_columns_list_closest_matches(tmp_path):
    header = [c if c != "Self-defined ethnicity" else "Self defined ethnicity" for c in POLICEUK_COLUMNS if c != "Outcome"]
    p = tmp_path / "2020-02-kent-stop-and-search.csv"
    p.write_text(",".join(header) + "\n")
    with pytest.raises(MissingColumnsError) as exc:
        read_policeuk(p)
    assert set(exc.value.missing) == {"Self-defined ethnicity", "Outcome"}
    assert exc.value.suggestions["Self-defined ethnicity"][0] == "Self defined ethnicity"
    assert str(p) in str(exc.value)


def test_ethnicity_field_and_fallback_are_applied_and_recorded(tmp_path):
    p = _write(
        tmp_path / "2020-06-kent-stop-and-search.csv",
        [
            _row(),
            _row(**{"Self-defined ethnicity": "", "Officer-defined ethnicity": "White"}),
            _row(**{"Self-defined ethnicity": "Other ethnic group - Not stated", "Officer-defined ethnicity": "Asian"}),
            _row(**{"Self-defined ethnicity": "", "Officer-defined ethnicity": ""}),
        ],
    )
    base = read_policeuk(p)
    assert base.data["ethnicity"].tolist() == ["Black", "Not stated", "Not stated", "Not stated"]
    assert base.data["ethnicity_source"].tolist() == ["self_defined", "none", "self_defined", "none"]
    assert base.data["ethnicity_detailed"].iloc[0] == "Black: Caribbean"
    assert base.data["officer_defined_ethnicity"].tolist() == ["Black", "White", "Asian", "Not stated"]
    assert base.ledger.choices["ethnicity_field"] == "self_defined" and base.ledger.choices["fallback"] == "none"
    fb = read_policeuk(p, fallback="officer_defined")
    assert fb.data["ethnicity"].tolist() == ["Black", "White", "Asian", "Not stated"]
    assert fb.data["ethnicity_source"].tolist() == ["self_defined", "officer_defined", "officer_defined", "none"]
    assert fb.data["ethnicity_raw"].astype("string").tolist() == ["Black/African/Caribbean/Black British - Caribbean", "White", "Asian", pd.NA]
    assert fb.ledger.choices["fallback"] == "officer_defined"
    assert any("used for 2 row(s)" in n for n in fb.ledger.notes)
    off = read_policeuk(p, ethnicity_field="officer_defined")
    assert off.data["ethnicity"].tolist() == ["Black", "White", "Asian", "Not stated"]
    assert off.data["ethnicity_source"].tolist() == ["officer_defined"] * 3 + ["none"]
    assert off.data["self_defined_ethnicity_raw"].iloc[2] == "Other ethnic group - Not stated"
    with pytest.raises(OptionError, match="only applies"):
        read_policeuk(p, ethnicity_field="officer_defined", fallback="officer_defined")
    with pytest.raises(OptionError, match="Did you mean 'self_defined'"):
        read_policeuk(p, ethnicity_field="self-defined")


def test_field_values_blank_and_unknown(tmp_path):
    p = _write(
        tmp_path / "2020-06-kent-stop-and-search.csv",
        [
            _row(Type="Vehicle search", Outcome="Arrest", Outcome_linked_to_object_of_search="True", Latitude="", Longitude=""),
            _row(Gender="", Latitude="abc", **{"Age range": "40-50", "Outcome linked to object of search": "maybe"}),
            _row(Gender="Alien", Type="Boat search", Outcome="", **{"Removal of more than just outer clothing": "", "Latitude": "95.0"}),
        ],
    )
    res = read_policeuk(p)
    d = res.data
    assert d["vehicle_only"].tolist() == [True, False, pd.NA]
    assert d["search_type"].tolist()[:2] == ["Vehicle search", "Person search"] and pd.isna(d["search_type"].iloc[2])
    assert d["arrest"].tolist() == [True, False, pd.NA]
    assert d["outcome_linked"].tolist() == [True, pd.NA, False]
    # find = outcome other than NFA and linked: row 2 is NFA ("maybe" is unknown but NFA is never a find);
    # row 3 has no outcome, so whether it found anything is unknown
    assert d["hit"].tolist() == [True, False, pd.NA]
    assert d["strip_search"].tolist() == [False, False, pd.NA]
    assert d["sex"].tolist()[:2] == ["Male", "Not stated"] and pd.isna(d["sex"].iloc[2]) and d["sex_raw"].iloc[2] == "Alien"
    assert pd.isna(d["age_band"].iloc[1]) and d["age_band"].iloc[0] == "18-24"
    assert np.isnan(d["latitude"]).tolist() == [True, True, True] and d["longitude"].iloc[1] == -0.12
    led = res.ledger
    assert led.missing_by_field["latitude"] == 1 and led.missing_by_field["sex"] == 1 and led.missing_by_field["outcome"] == 1
    assert led.unknown_by_field["latitude"] == 2 and led.unknown_by_field["age_band"] == 1 and led.unknown_by_field["outcome_linked"] == 1
    assert led.unknown_by_field["sex"] == 1 and led.unknown_by_field["search_type"] == 1
    assert pd.isna(d["raw_unparsed"].iloc[0])
    assert json.loads(d["raw_unparsed"].iloc[1]) == {"Latitude": "abc", "Age range": "40-50", "Outcome linked to object of search": "maybe"}
    assert json.loads(d["raw_unparsed"].iloc[2]) == {"Type": "Boat search", "Gender": "Alien", "Latitude": "95.0"}


def test_duplicates_flagged_within_a_file_only(tmp_path):
    _write(tmp_path / "2020-06-kent-stop-and-search.csv", [_row(), _row(), _row(Gender="Female"), _row()])
    _write(tmp_path / "2020-07-kent-stop-and-search.csv", [_row()])
    res = read_policeuk(tmp_path)
    assert res.data["duplicate"].tolist() == [False, True, False, True, False]
    assert res.ledger.duplicates == 2 and len(res.data) == 5


def test_files_without_a_police_uk_name(tmp_path):
    p = _write(tmp_path / "kent_searches.csv", [_row(), _row(Date="2020-07-01T09:00:00+00:00")])
    with pytest.raises(FileFormatError, match="force="):
        read_policeuk(p)
    res = read_policeuk(p, force="Kent Police")
    assert res.data["force"].astype(str).tolist() == ["kent", "kent"]
    assert res.data["file_month"].isna().all() and res.data["month"].astype(str).tolist() == ["2020-06", "2020-07"]
    assert res.data["event_id"].tolist() == ["kent/kent_searches/2", "kent/kent_searches/3"]
    assert res.ledger.months_covered == ["2020-06", "2020-07"]
    # a Force column gives each row its force; forces= and months= then filter rows, with a note
    q = _write(tmp_path / "mixed.csv", [_row() + ["Essex"], _row() + ["Kent"], _row(Date="2020-09-01T09:00:00+00:00") + ["Essex"]], header=list(POLICEUK_COLUMNS) + ["Force"])
    mixed = read_policeuk(q)
    assert mixed.data["force"].astype(str).tolist() == ["essex", "essex", "kent"]
    assert mixed.data["source_line"].tolist() == [2, 4, 3]
    essex = read_policeuk(q, forces="essex", months="2020-06")
    assert essex.data["source_line"].tolist() == [2]
    assert essex.ledger.rows_read == 1 and any("excluded" in n for n in essex.ledger.notes)


def test_bad_options(tmp_path):
    p = _write(tmp_path / "2020-06-kent-stop-and-search.csv", [_row()])
    with pytest.raises(OptionError, match="not a month"):
        read_policeuk(p, months="June")
    with pytest.raises(OptionError, match="forces is empty"):
        read_policeuk(p, forces=[])
    with pytest.raises(ReadError, match="not found"):
        read_policeuk(tmp_path / "nope.csv")
