"""Tests of the DuckDB engine for large police.uk archives (``count_policeuk``).

The pandas reader (``read_policeuk`` + group-by) is the reference: on the bundled
samples, on odd files written here, and (slow, shared) on the whole 44-force
archive, the DuckDB counts, ledger and rejects must equal it exactly.
"""

from __future__ import annotations

import builtins
import json
import tarfile
import zipfile

import pandas as pd
import pandas.testing as pdt
import pytest
from conftest import need_shared
from policeuk_rows import _csv, _row, _write

import equity_metrics as em
from equity_metrics.errors import EmptyFileError, FileFormatError, MissingColumnsError, OptionError
from equity_metrics.io._counts import COUNT_BY, EventCounts, counts_from_events
from equity_metrics.io.large import count_policeuk
from equity_metrics.io.policeuk import POLICEUK_COLUMNS, read_policeuk
from equity_metrics.measures.disparity import disparity

pytest.importorskip("duckdb")

SAMPLES = em.datasets.sample_path() / "policeuk"
ARCHIVE_NAME = "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"


def _both(sources, **kw) -> tuple[EventCounts, EventCounts]:
    return count_policeuk(sources, engine="duckdb", **kw), count_policeuk(sources, engine="pandas", **kw)


def _same(a: EventCounts, b: EventCounts) -> None:
    """Counts, the whole ledger (every file record, note and choice) and the rejects are equal."""
    pdt.assert_frame_equal(a.data, b.data)
    assert a.ledger.to_dict() == b.ledger.to_dict()
    pdt.assert_frame_equal(a.rejects.frame, b.rejects.frame)
    assert a.vehicle_only_rows == b.vehicle_only_rows
    assert a.ledger.rows_read == a.ledger.rows_kept + a.ledger.rows_rejected == a.total + len(a.rejects)


@pytest.fixture(scope="module")
def sample_pair():
    return _both(SAMPLES, by=("force", "month", "ethnicity", "vehicle_only"))


# ============================================================================ bundled samples
@pytest.mark.parametrize(
    "by",
    [
        ("force", "month", "ethnicity"),
        ("ethnicity_detailed",),
        ("force", "legal_power", "outcome", "hit"),
        ("sex", "age_band", "vehicle_only", "search_type"),
        ("officer_defined_ethnicity", "ethnicity_source", "arrest", "strip_search", "policing_operation", "object_of_search"),
        ("file_month", "month"),
        (),
    ],
)
def test_duckdb_counts_equal_pandas_counts(by):
    a, b = _both(SAMPLES, by=by)
    _same(a, b)
    assert list(a.data.columns) == [*by, "n"] and a.engine == "duckdb" and b.engine == "pandas"
    assert a.total == 3770


def test_counts_equal_an_independent_groupby_of_the_events():
    res = read_policeuk(SAMPLES)
    a = count_policeuk(SAMPLES, by=["force", "ethnicity"])
    manual = res.data.groupby(["force", "ethnicity"], observed=True).size()
    got = a.data.set_index(["force", "ethnicity"])["n"]
    assert {(str(f), str(e)): int(n) for (f, e), n in manual.items()} == {(str(f), str(e)): int(n) for (f, e), n in got.items()}
    assert a.data["ethnicity"].dtype == res.data["ethnicity"].dtype  # the same categories, Not stated included
    assert "Not stated" in set(a.data["ethnicity"].astype(str))


def test_sample_ledger_matches_the_reader(sample_pair):
    a, b = sample_pair
    _same(a, b)
    led = a.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (3770, 3770, 0)
    # southvale misses 2020-10; eastmoor's files end in 2021-09 (docs/synthetic-data.md, "Coverage")
    assert led.months_missing == [("eastmoor", "2021-10"), ("eastmoor", "2021-11"), ("eastmoor", "2021-12"),
                                  ("southvale", "2020-10")]
    assert led.duplicates == 64 == b.ledger.duplicates
    # eastmoor 2020-03 is a header-only file: zero searches, not a missing month
    rec = [f for f in led.files if f.file.endswith("2020-03-eastmoor-stop-and-search.csv")]
    assert len(rec) == 1 and rec[0].rows_read == 0
    assert ("eastmoor", "2020-03") not in led.months_missing and "2020-03" in led.months_covered
    em_rows = a.data[(a.data["force"] == "eastmoor") & (a.data["month"] == pd.Period("2020-03", freq="M"))]
    assert em_rows.empty  # no cell, i.e. zero
    assert len(led.files) == 104 and led.balanced
    attribution = led.choices["month_attribution"]
    assert attribution["rows_local_month_not_file_month"] == 0 and attribution["rows_utc_month_not_file_month"] == 33


def test_bst_gmt_boundaries_are_attributed_like_the_reader(tmp_path):
    dates = {
        "2019-03-31T00:30:00+00:00": "2019-03",  # GMT until 01:00 UTC
        "2019-03-31T23:30:00+00:00": "2019-04",  # BST: 00:30 on 1 April
        "2019-06-30T23:00:00+00:00": "2019-07",  # local midnight, a date without a time
        "2019-06-30T22:59:59+00:00": "2019-06",
        "2019-10-31T23:30:00+00:00": "2019-10",  # GMT again after 27 October
        "2019-10-27T00:30:00+00:00": "2019-10",
        "2019-12-31T23:59:59.999999+00:00": "2019-12",
        "2019-05-31T23:30:00.123+00:00": "2019-06",  # fractional seconds (as Cumbria's)
        "2019-04-30T23:15:00Z": "2019-05",
        "2019-08-31T23:15:00": "2019-09",  # no offset: UTC
        "2019-09-30 23:15:00+00:00": "2019-10",  # not plain ISO 8601 (a space): parsed by the reader's function
        "2019-07-31T23:30:00+01:00": "2019-07",  # an offset
    }
    _write(tmp_path / "2019-06-kent-stop-and-search.csv", [_row(Date=d) for d in dates])
    a, b = _both(tmp_path, by=["month"])
    _same(a, b)
    expected = pd.Series(list(dates.values())).value_counts().sort_index()
    assert dict(zip(a.data["month"].astype(str), a.data["n"])) == expected.to_dict()


def test_samples_read_from_zip_and_tar_gz_equal_the_folder(tmp_path, sample_pair):
    files = sorted(SAMPLES.rglob("*.csv"))
    zp, tp = tmp_path / "policeuk.zip", tmp_path / "policeuk.tar.gz"
    with zipfile.ZipFile(zp, "w") as zf:
        for f in files:
            zf.write(f, f"policeuk/{f.relative_to(SAMPLES)}")
    with tarfile.open(tp, "w:gz") as tf:
        for f in files:
            tf.add(f, f"policeuk/{f.relative_to(SAMPLES)}")
    for arch in (zp, tp):
        a, b = _both(arch, by=("force", "month", "ethnicity", "vehicle_only"))
        _same(a, b)
        pdt.assert_frame_equal(a.data, sample_pair[0].data)
        assert all(f.file.startswith(f"{arch}::") for f in a.ledger.files)


def test_forces_and_months_filters(tmp_path):
    a, b = _both(SAMPLES, forces=["Northshire"], months="2020-01..2020-12", by=["force", "month"])
    _same(a, b)
    assert set(a.data["force"]) == {"northshire"} and len(a.ledger.files) == 12
    a, b = _both(SAMPLES, forces="southvale", months=["2020-09", "2020-10", "2020-11"], by=["month"])
    _same(a, b)
    assert a.ledger.months_missing == [("southvale", "2020-10")]
    with pytest.raises(em.errors.ReadError, match="closest force names"):
        count_policeuk(SAMPLES, forces="southvail")


# ============================================================================ odd files


def test_malformed_rows_are_accounted_for_like_the_reader(tmp_path):
    _write(tmp_path / "2020-05-kent-stop-and-search.csv", [_row(Date="2020-05-01T09:00:00+00:00")] * 3)  # 2 duplicates
    text = _csv([_row(), _row(Policing_operation="Op\nSwift"), _row()])
    text += ",".join(_row()[:14]) + "\n"  # 14 fields
    text += ",".join(_row() + ["extra"]) + "\n"  # 16 fields
    text += _csv([_row(Date="junk"), _row(Date="1850-06-01T00:00:00+00:00"), _row(Date=""), _row(Gender="Robot", Latitude="abc")]).split("\n", 1)[1]
    (tmp_path / "2020-06-kent-stop-and-search.csv").write_text(text)
    _write(tmp_path / "2020-07-kent-stop-and-search.csv", [_row(Date="15/07/2020 10:30"), _row(Date="2020-07-02T10:00:00+00:00"),
                                                             _row(Date=" 2020-07-03T10:00:00+00:00 ")])  # fmt: skip
    (tmp_path / "2020-08-kent-stop-and-search.csv").write_text("\n" + _csv([_row(Date="2020-08-01T10:00:00+00:00")]) + "\n\n")
    p = tmp_path / "2020-09-kent-stop-and-search.csv"
    p.write_bytes(b"\xef\xbb\xbf" + _csv([_row(Date="2020-09-01T10:00:00+00:00", Policing_operation="Op Caf\xe9")]).encode())
    _write(tmp_path / "2020-10-kent-stop-and-search.csv", [_row(Date="2020-10-01T10:00:00+00:00", Outcome="Arrest", Policing_operation="Op Café")], encoding="latin-1")
    _write(tmp_path / "2020-11-kent-stop-and-search.csv", [_row(Date="2020-11-01T10:00:00+00:00") + ["x"]], header=[*POLICEUK_COLUMNS, "Note"])
    a, b = _both(tmp_path, by=["month", "sex", "arrest"])
    _same(a, b)
    led = a.ledger
    assert (led.rows_read, led.rows_kept, led.rows_rejected) == (19, 13, 6)
    assert led.rejected_by_reason == {
        "Date out of range (before 1900 or after 2100)": 1,
        "unparseable Date": 3,
        "wrong number of fields (expected 15, found 14)": 1,
        "wrong number of fields (expected 15, found 16)": 1,
    }
    rj = a.rejects.frame
    june = rj[rj["file"].str.endswith("2020-06-kent-stop-and-search.csv")]
    assert june["line"].tolist() == [6, 7, 8, 9, 10] and june["row"].tolist() == [4, 5, 6, 7, 8]
    assert json.loads(june["raw"].iloc[2])["Date"] == "junk"
    july = rj[rj["file"].str.endswith("2020-07-kent-stop-and-search.csv")]
    assert july[["line", "value"]].values.tolist() == [[2, "15/07/2020 10:30"]]
    assert led.duplicates == 3  # 2 in May, and June's lines 2 and 4
    assert led.unknown_by_field["sex"] == 1 and led.unknown_by_field["latitude"] == 1
    assert [f.encoding for f in led.files][-2:] == ["cp1252", "utf-8"]
    assert any("blank line" in n for f in led.files for n in f.notes)
    assert any("not used" in n for n in led.notes)


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_duplicates_of_plain_files_leave_out_rejected_and_excluded_rows(tmp_path, engine):
    a, b = _row(Date="2020-05-01T09:00:00+00:00"), _row(Date="2020-05-02T09:00:00+00:00", Gender="Female")
    _write(tmp_path / "2020-05-kent-stop-and-search.csv", [a, a, _row(Date="junk"), a, _row(Date="junk"), b, b])  # 3 among kept
    late = _row(Date="2020-09-01T09:00:00+00:00")
    _write(tmp_path / "searches.csv", [a, late, a, late, late])  # 1 kept (September is left out by months=)
    kw = dict(by=["month", "sex"], force="kent", months="2020-05..2020-06")
    got, ref = count_policeuk(tmp_path, engine=engine, **kw), count_policeuk(tmp_path, engine="pandas", **kw)
    _same(got, ref)
    assert got.ledger.duplicates == 4 and got.ledger.rejected_by_reason == {"unparseable Date": 2}


def test_wrong_header_and_empty_file_raise_as_the_reader(tmp_path):
    header = [c if c != "Self-defined ethnicity" else "Self defined ethnicity" for c in POLICEUK_COLUMNS if c != "Outcome"]
    p = tmp_path / "2020-02-kent-stop-and-search.csv"
    p.write_text(",".join(header) + "\n")
    errors = []
    for engine in ("duckdb", "pandas"):
        with pytest.raises(MissingColumnsError) as exc:
            count_policeuk(p, engine=engine)
        errors.append(exc.value)
    assert str(errors[0]) == str(errors[1]) and set(errors[0].missing) == {"Self-defined ethnicity", "Outcome"}
    for content in (b"", b"\n  \n"):
        p.write_bytes(content)
        msgs = []
        for engine in ("duckdb", "pandas"):
            with pytest.raises(EmptyFileError, match="2020-02-kent") as exc:
                count_policeuk(p, engine=engine)
            msgs.append(str(exc.value))
        assert msgs[0] == msgs[1]
    p.write_bytes(b"PK\x03\x04junk")
    with pytest.raises(FileFormatError, match="not a CSV"):
        count_policeuk(p)


def test_header_only_and_missing_months(tmp_path):
    _write(tmp_path / "2020-01-kent-stop-and-search.csv", [_row(Date="2020-01-10T10:00:00+00:00")])
    _write(tmp_path / "2020-02-kent-stop-and-search.csv", [])
    _write(tmp_path / "2020-04-kent-stop-and-search.csv", [_row(Date="2020-04-10T10:00:00+00:00")])
    a, b = _both(tmp_path)
    _same(a, b)
    assert a.ledger.months_missing == [("kent", "2020-03")] and [f.rows_read for f in a.ledger.files] == [1, 0, 1]
    only = count_policeuk(tmp_path / "2020-02-kent-stop-and-search.csv")
    assert len(only.data) == 0 and only.ledger.rows_read == 0 and list(only.data.columns) == ["force", "month", "ethnicity", "n"]


def test_files_without_a_police_uk_name(tmp_path):
    p = _write(tmp_path / "searches.csv", [_row(), _row(Date="2020-09-01T09:00:00+00:00")])
    a, b = _both(p, force="Kent", by=["force", "month"])
    _same(a, b)
    assert a.data["force"].tolist() == ["kent", "kent"] and "2020-09" in a.ledger.months_covered
    a, b = _both(p, force="kent", months="2020-09", by=["month"])
    _same(a, b)
    assert a.ledger.rows_read == 1
    with pytest.raises(FileFormatError, match="no Force column"):
        count_policeuk(p)
    q = _write(tmp_path / "mixed.csv", [_row() + ["Essex"]], header=[*POLICEUK_COLUMNS, "Force"])
    with pytest.raises(OptionError, match="engine='pandas'"):
        count_policeuk(q)
    assert count_policeuk(q, engine="pandas").data["force"].tolist() == ["essex"]


def test_ethnicity_field_and_fallback(tmp_path):
    pairs = [("", "Asian"), ("Other ethnic group - Not stated", "White"),
             ("Mixed/Multiple ethnic groups - White and Black African", ""), ("Something odd", "Black")]
    rows = [_row(**{"Self-defined ethnicity": s, "Officer-defined ethnicity": o}) for s, o in pairs]
    _write(tmp_path / "2020-06-kent-stop-and-search.csv", rows)
    by = ["ethnicity", "ethnicity_detailed", "ethnicity_source", "officer_defined_ethnicity"]
    for kw in ({}, {"fallback": "officer_defined"}, {"ethnicity_field": "officer_defined"}):
        a, b = _both(tmp_path, by=by, **kw)
        _same(a, b)
    a = count_policeuk(tmp_path, by=["ethnicity"], fallback="officer_defined")
    assert dict(zip(a.data["ethnicity"].astype(str), a.data["n"])) == {"Asian": 1, "Mixed": 1, "White": 1, "Black": 1}
    assert a.ledger.unknown_by_field["self_defined_ethnicity"] == 1
    assert any("officer-defined group used for 3 row" in n for n in a.ledger.notes)


# ============================================================================ disparity
def test_disparity_from_counts_equals_disparity_from_events(sample_pair):
    pop = em.datasets.load_sample_population()
    events = read_policeuk(SAMPLES)
    counts = sample_pair[0]
    for kw in ({"by": "force"}, {"by": "force", "period": "month"}, {"by": None, "period": "FY", "reference": "all"},
               {"by": "force", "period": "quarter", "method": "exact"}):  # fmt: skip
        want = disparity(events, pop, **kw)
        got = disparity(counts, pop, **kw)
        pdt.assert_frame_equal(got.tidy(), want.tidy())
        assert got.notes == want.notes
    flags = disparity(counts, pop, by="force").tidy().set_index(["force", "group"])["flags"]
    assert "incomplete_coverage" in flags[("southvale", "Black")] and "incomplete_coverage" not in flags[("northshire", "Black")]
    # eastmoor's header-only 2020-03 is a real zero: its FY 2019/20 is complete (its files end early, so
    # its whole span is not)
    fy = disparity(counts, pop, by="force", period="FY").tidy().set_index(["force", "period", "group"])["flags"]
    assert "incomplete_coverage" not in fy[("eastmoor", "2019/20", "Black")]
    assert "incomplete_coverage" in fy[("southvale", "2020/21", "Black")]
    monthly = disparity(counts, pop, by="force", period="month")
    assert any("southvale 2020-10" in n for n in monthly.notes)  # missing, not zero


def test_disparity_refuses_counts_that_cannot_leave_out_vehicle_searches():
    pop = em.datasets.load_sample_population()
    c = count_policeuk(SAMPLES)  # default by: force x month x ethnicity, no vehicle_only
    assert c.vehicle_only_rows == 114
    with pytest.raises(em.errors.DataValidationError, match="vehicle_only"):
        disparity(c, pop)
    got = disparity(c, pop, exclude_vehicle_only=False).tidy()
    want = disparity(read_policeuk(SAMPLES), pop, exclude_vehicle_only=False).tidy()
    pdt.assert_frame_equal(got, want)


# ============================================================================ options and presentation
def test_bad_options_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(OptionError, match="Did you mean 'ethnicity'"):
        count_policeuk(SAMPLES, by=["force", "ethnicty"])
    with pytest.raises(OptionError, match="twice"):
        count_policeuk(SAMPLES, by=["force", "force"])
    with pytest.raises(OptionError, match="engine"):
        count_policeuk(SAMPLES, engine="sparkle")
    with pytest.raises(OptionError, match="threads"):
        count_policeuk(SAMPLES, threads=0)
    with pytest.raises(OptionError, match="memory_limit"):
        count_policeuk(SAMPLES, memory_limit="lots")
    with pytest.raises(OptionError, match="fallback"):
        count_policeuk(SAMPLES, ethnicity_field="officer_defined", fallback="officer_defined")
    real_import = builtins.__import__

    def no_duckdb(name, *args, **kwargs):
        if name == "duckdb":
            raise ImportError("No module named 'duckdb'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_duckdb)
    with pytest.raises(OptionError, match=r'pip install "equity_metrics\[large\]"'):
        count_policeuk(SAMPLES)
    assert count_policeuk(SAMPLES, engine="pandas").total == 3770  # the fallback needs no duckdb


def test_presentation_and_invariants(tmp_path):
    _write(tmp_path / "2020-06-kent-stop-and-search.csv", [_row(Legislation="<script>x</script>"), _row(Date="junk")])
    c = count_policeuk(tmp_path, by=["legal_power"])
    assert "<script>" not in c._repr_html_() and "&lt;script&gt;" in c._repr_html_()
    assert "1 events kept, 1 rejected" in repr(c) and "rows rejected" in c.summary() and str(c) == c.summary()
    assert c.tidy().equals(c.data) and len(c) == 1
    out = c.write_rejects(tmp_path / "out" / "rejects.csv")
    assert pd.read_csv(out)["reason"].tolist() == ["unparseable Date"]
    with pytest.raises(em.errors.EquityMetricsError, match="add up"):
        EventCounts(c.data.assign(n=c.data["n"] + 1), c.ledger, c.rejects, c.by, "duckdb")
    assert set(COUNT_BY) >= {"force", "month", "ethnicity", "vehicle_only", "age_band"}
    assert counts_from_events(read_policeuk(tmp_path / "2020-06-kent-stop-and-search.csv").data, []).to_dict("list") == {"n": [1]}


# ============================================================================ whole archive
@pytest.mark.shared
@pytest.mark.slow
def test_whole_archive_counts_equal_the_pandas_path():
    """The 44-force .tar.gz (members unpacked to a temporary folder, read by the engine): DuckDB and Polars give the
    reader's counts, whole ledger and rejects."""
    archive = need_shared("data", "policeuk", ARCHIVE_NAME)
    res = read_policeuk(archive)
    want = counts_from_events(res.data, ("force", "month", "ethnicity"))
    for engine in ("duckdb", "polars"):
        a = count_policeuk(archive, by=("force", "month", "ethnicity"), engine=engine)
        assert a.ledger.rows_read == 1_034_848 == res.ledger.rows_read
        pdt.assert_frame_equal(a.data, want)
        assert a.ledger.to_dict() == res.ledger.to_dict()
        pdt.assert_frame_equal(a.rejects.frame, res.rejects.frame)
        assert a.ledger.duplicates == 48_894 and len(a.ledger.files) == len(res.ledger.files)
        assert a.data["force"].nunique() == 44


@pytest.mark.shared
@pytest.mark.slow
def test_whole_archive_extracted_folder_counts_equal_the_pandas_path(tmp_path):
    """The 44-force archive extracted (plain files joined into chunks for the engine, duplicates from their lines):
    DuckDB and Polars give the reader's counts, whole ledger and rejects."""
    archive = need_shared("data", "policeuk", ARCHIVE_NAME)
    with tarfile.open(archive, mode="r:*") as tf:
        tf.extractall(tmp_path, filter="data")
    res = read_policeuk(tmp_path)
    by = ("force", "month", "ethnicity", "vehicle_only")
    want = counts_from_events(res.data, by)
    for engine in ("duckdb", "polars"):
        a = count_policeuk(tmp_path, by=by, engine=engine)
        pdt.assert_frame_equal(a.data, want)
        assert a.ledger.to_dict() == res.ledger.to_dict()
        pdt.assert_frame_equal(a.rejects.frame, res.rejects.frame)
        assert a.ledger.duplicates == 48_894 and a.ledger.rows_read == 1_034_848


def test_a_plain_file_without_a_police_uk_name_is_read_by_the_engine_with_force(tmp_path, monkeypatch):
    """With force=, a plain file named otherwise (one big export, say) goes to the engine as it is, not through
    Python's careful parse, and gives the reader's counts and ledger."""
    from equity_metrics.io import large

    p = _write(tmp_path / "export.csv", [_row(), _row(Date="2020-09-01T09:00:00+00:00"), _row()])
    expected = count_policeuk(p, engine="pandas", force="kent", by=["force", "month"])

    def careful(*args, **kwargs):
        raise AssertionError("the careful path was taken")

    monkeypatch.setattr(large._Run, "_add", careful)
    got = count_policeuk(p, engine="duckdb", force="kent", by=["force", "month"])
    _same(got, expected)
    assert got.ledger.duplicates == 1
    assert "force from force=; month from the dates (the file name has none)" in got.ledger.files[0].notes


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_a_file_too_big_to_hold_is_streamed_and_agrees_with_the_reader(engine, tmp_path, monkeypatch):
    """A plain file over the large-file size is checked, hashed and its duplicates counted piece by piece, then handed
    to the engine in pieces (never read whole); one with a quote or a ragged record far into it, or a BOM, gives the
    reader's counts, ledger and rejects all the same (the careful path reads the odd one whole)."""
    large_file_cases(engine, tmp_path, monkeypatch)


def large_file_cases(engine: str, tmp_path, monkeypatch, **engine_kw) -> None:
    """Files over the large-file size, plain and odd, on ``engine``: the reader's counts, ledger and rejects."""
    from equity_metrics.io import _direct, large

    monkeypatch.setattr(large, "LARGE_FILE", 2_000)
    monkeypatch.setattr(_direct, "PIECE_BYTES", 700)  # many pieces; a record never spans two
    days = [f"2020-09-{d:02d}T{h:02d}:00:00+00:00" for d in range(1, 29) for h in (9, 15)]
    rows = [_row(Date=d, Gender=("Male", "Female")[i % 2]) for i, d in enumerate(days)]
    rows += rows[:20] + [_row(Date="junk")]  # 20 duplicates and a date the reader rejects
    by = ["force", "month", "ethnicity"]
    plain = _write(tmp_path / "plain" / "2020-09-kent-stop-and-search.csv", rows)
    export = _write(tmp_path / "export" / "export.csv", rows)
    quoted = _write(tmp_path / "quoted" / "2020-09-kent-stop-and-search.csv", rows[:-5] + [_row(Outcome='A "quoted" outcome')] + rows[-5:])
    lines = _csv(rows).splitlines()
    lines[-3] = ",".join(_row()[:14])  # a short record ...
    lines[-2] = ",".join(_row()) + ",extra"  # ... and a long one: the file's total of commas is right
    ragged = tmp_path / "ragged" / "2020-09-kent-stop-and-search.csv"
    ragged.parent.mkdir()
    ragged.write_text("\n".join(lines) + "\n")
    bom = tmp_path / "bom" / "2020-09-kent-stop-and-search.csv"
    bom.parent.mkdir()
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert plain.stat().st_size > 5 * 2_000
    streamed = []
    real = _direct.stream_large
    monkeypatch.setattr(large, "stream_large", lambda lf, **kw: streamed.append(lf.path) or real(lf, **kw))
    for path, kw in ((plain, {}), (export, {"force": "kent"}), (quoted, {}), (ragged, {}), (bom, {})):
        got = count_policeuk(path, engine=engine, by=by, **kw, **engine_kw)
        _same(got, count_policeuk(path, engine="pandas", by=by, **kw))
        if path in (plain, export, bom):
            assert got.ledger.duplicates == 20 and got.ledger.rejected_by_reason == {"unparseable Date": 1}
    # Spark reads files by their paths: a file with a BOM takes the careful path before it is streamed
    assert streamed == [str(p) for p in (plain, export, quoted, ragged) + ((bom,) if engine != "spark" else ())]
