"""The columnar engine under read_policeuk: fast and careful paths agree, batches are invisible, odd input falls back."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

import equity_metrics.io.policeuk as pu
from equity_metrics.errors import ReadError
from equity_metrics.io._policeuk_scan import fast_body
from equity_metrics.io.policeuk import POLICEUK_COLUMNS, read_policeuk

HEADER = ",".join(POLICEUK_COLUMNS)
ROWS = [
    "Person search,2019-03-31T23:30:00+00:00,False,,53.8,-1.5,Male,18-24,White - Irish,White,"
    "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,True,False",
    "Person search,2019-04-02T10:00:00+00:00,,,,,Female,25-34,,Black,,,A no further action disposal,True,",
    "Vehicle search,2019-04-03T23:00:00+00:00,True,Op X,53.79,-1.51,,over 34,"
    "Asian/Asian British - Indian,Asian,Police and Criminal Evidence Act 1984 (section 1),Stolen goods,Community resolution,,False",
    "Person search,2019-04-02T10:00:00+00:00,,,,,Female,25-34,,Black,,,A no further action disposal,True,",  # duplicate
]


def _write(folder, name: str, rows: list[str], *, quote: bool = False) -> None:
    lines = [HEADER] + [(r.replace("Op X", '"Op X"') if quote else r) for r in rows]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _canonical(res) -> pd.DataFrame:
    return res.data.drop(columns=["source_file", "event_id"]).reset_index(drop=True)


def test_byte_checks_send_odd_files_to_the_careful_path():
    h = HEADER.encode()
    body = "\n".join(ROWS).encode()
    assert fast_body(h + b"\n" + body, h) == (body + b"\n", 4)
    assert fast_body(b"\xef\xbb\xbf" + h + b"\n" + body + b"\n", h) == (body + b"\n", 4)  # BOM stripped
    assert fast_body(h, h) == (b"", 0)  # header only: a month with zero searches
    for odd in (b'"quoted"', b"\r", b"\x00"):
        assert fast_body(h + b"\n" + body + odd + b"\n" + body, h) is None
    assert fast_body(h + b",Force\n" + body, h) is None  # another header
    short_and_long = ROWS[0].rsplit(",", 1)[0] + "\n" + ROWS[1] + ",x\n"  # 13 and 15 commas: the count alone matches
    assert fast_body(h + b"\n" + short_and_long.encode(), h) is not None  # ... so Polars must refuse it (next test)
    assert fast_body(h + b"\n" + "é".encode("cp1252") + body[1:], h) is None  # not UTF-8


def test_blank_lines_and_short_records_found_by_the_parse(tmp_path):
    """fast_body no longer counts commas or looks for blank lines: the parse's row count and its text last column do."""
    short = ROWS[0].rsplit(",", 1)[0]  # the last field missing: Polars would pad it with null
    for name, rows in (("blank", [ROWS[0], "", ROWS[2]]), ("short", [ROWS[2], short, ROWS[1]])):
        folder = tmp_path / name
        folder.mkdir()
        _write(folder, "2019-04-kent-stop-and-search.csv", rows)
        res = read_policeuk(folder)
        assert res.ledger.rows_read == (2 if name == "blank" else 3)
        if name == "short":
            assert res.rejects.frame["line"].tolist() == [3]
        else:
            assert res.data["source_line"].tolist() == [2, 4]  # the blank line 3 skipped, lines still true


def test_empty_fields_stay_empty_text_not_missing(tmp_path):
    """The fast path parses fields straight into codes, where an empty field reads as null: it must be ''."""
    _write(tmp_path, "2019-04-kent-stop-and-search.csv", ROWS)
    res = read_policeuk(tmp_path)
    assert res.ledger.rows_kept == 4
    assert res.data["policing_operation_name"].isna().tolist() == [True, True, False, True]
    assert res.data["self_defined_ethnicity_raw"].isna().tolist() == [False, True, False, True]


def test_short_and_long_records_are_rejects_not_padded(tmp_path):
    short, long_ = ROWS[0].rsplit(",", 1)[0], ROWS[1] + ",x"
    _write(tmp_path, "2019-04-kent-stop-and-search.csv", [ROWS[2], short, long_])
    res = read_policeuk(tmp_path)
    assert res.ledger.rows_read == 3 and res.ledger.rows_kept == 1
    rj = res.rejects.frame
    assert rj["line"].tolist() == [3, 4] and rj["reason"].str.startswith("wrong number of fields").all()


def test_fast_and_careful_paths_give_the_same_table(tmp_path):
    fast, careful = tmp_path / "fast", tmp_path / "careful"
    fast.mkdir()
    careful.mkdir()
    _write(fast, "2019-04-kent-stop-and-search.csv", ROWS)
    _write(careful, "2019-04-kent-stop-and-search.csv", ROWS, quote=True)  # quotes: the careful path
    a, b = read_policeuk(fast), read_policeuk(careful)
    pd.testing.assert_frame_equal(_canonical(a), _canonical(b))
    assert a.ledger.duplicates == b.ledger.duplicates == 1
    assert a.ledger.missing_by_field == b.ledger.missing_by_field
    assert a.data["month"].astype(str).tolist() == ["2019-04"] * 4  # 23:30 UTC on 31 March is April, local time
    assert a.data["time_known"].tolist() == [True, True, False, True]  # 23:00 UTC in summer = local midnight


def test_batches_are_invisible(tmp_path, monkeypatch):
    for m in ("2019-04", "2019-05", "2019-06"):
        for force in ("kent", "gwent"):
            _write(tmp_path, f"{m}-{force}-stop-and-search.csv", [r.replace("2019-04", m) for r in ROWS])
    one = read_policeuk(tmp_path)
    monkeypatch.setattr(pu, "BATCH_BYTES", 1)  # every file its own batch
    many = read_policeuk(tmp_path)
    pd.testing.assert_frame_equal(one.data, many.data)
    assert one.ledger.duplicates == many.ledger.duplicates == 6
    assert one.data["event_id"].iloc[0] == "gwent/2019-04/2"


def test_dates_not_in_the_police_uk_form_are_parsed_as_before(tmp_path):
    base = ROWS[1]
    dates = ["2019-04-02 10:00:00", "2019-04-02T10:00:00Z", "2019-04-02T11:00:00+01:00", " 2019-04-02T10:00:00+00:00 ",
             "2019-04-02T10:00:00.5+00:00", "2019-02-30T10:00:00+00:00", "2200-01-01T00:00:00+00:00", "yesterday"]
    _write(tmp_path, "2019-04-kent-stop-and-search.csv", [base.replace("2019-04-02T10:00:00+00:00", d) for d in dates])
    res = read_policeuk(tmp_path)
    kept = res.data["datetime"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()
    assert kept[:4] == ["2019-04-02 10:00:00.000000"] * 4 and kept[4] == "2019-04-02 10:00:00.500000"
    assert res.rejects.frame["reason"].tolist() == ["unparseable Date", "Date out of range (before 1900 or after 2100)",
                                                    "unparseable Date"]  # fmt: skip
    assert res.rejects.frame["line"].tolist() == [7, 8, 9]


def test_an_error_stops_the_reader_thread(tmp_path):
    _write(tmp_path, "2019-04-kent-stop-and-search.csv", ROWS)
    (tmp_path / "2019-05-kent-stop-and-search.csv").write_text("not,a,police,file\n1,2,3,4\n")
    _write(tmp_path, "2019-06-kent-stop-and-search.csv", ROWS)
    before = threading.active_count()
    with pytest.raises(ReadError):
        read_policeuk(tmp_path, strict=True)
    assert threading.active_count() == before
    res = read_policeuk(tmp_path)  # not strict: the file is rejected whole, the others kept
    assert [r["file"].endswith("2019-05-kent-stop-and-search.csv") for r in res.ledger.files_rejected] == [True]
    assert res.ledger.rows_kept == 8


def test_fixed_width_dates_decode_exactly_as_polars_parses_them():
    """utc_instants decodes 'YYYY-MM-DDTHH:MM:SS+00:00' digit by digit: it must agree with Polars' strict parse."""
    import numpy as np
    import polars as pl
    import pyarrow as pa

    from equity_metrics.io._policeuk_scan import _DATE_FMT, _DATE_RE, _MAX_NS, _MIN_NS, NAT, utc_instants

    vals = ["2019-04-02T10:00:00+00:00", "2019-02-29T10:00:00+00:00", "2020-02-29T23:59:59+00:00",
            "1899-12-31T23:59:59+00:00", "1900-01-01T00:00:00+00:00", "2100-12-31T23:59:59+00:00",
            "2100-12-31T23:59:60+00:00", "2101-01-01T00:00:00+00:00", "2019-13-01T00:00:00+00:00",
            "2019-00-10T00:00:00+00:00", "2019-04-00T00:00:00+00:00", "2019-04-31T10:00:00+00:00",
            "2019-04-02T24:00:00+00:00", "2019-04-02T10:60:00+00:00", "2019-04-02T10:00:60+00:00",
            "2019-12-31T23:59:60+00:00", "2019-04-02T10:00:61+00:00", "2019-04-02 10:00:00+00:00",
            "2019-04-02T10:00:00+01:00", "2019-04-02T10:00:00-00:00", "2019-04-02T10:00:00.5+00:00",
            "2019-04-02T10:00:00.123456789+00:00", "2019-04-02T10:00:00Z", "", "x" * 25, "2019-O4-02T10:00:00+00:00",
            " 2019-04-02T10:00:00+00:00", "2019-04-02T1a:00:00+00:00"]  # fmt: skip
    rng = np.random.default_rng(1)
    ts = rng.integers(-2208988800, 4133980800, 20000) * 10**9
    vals += pd.to_datetime(ts, utc=True).strftime("%Y-%m-%dT%H:%M:%S+00:00").tolist()
    s = pl.Series(vals)
    parsed = s.str.to_datetime(_DATE_FMT, time_zone="UTC", time_unit="ns", strict=False).dt.epoch("ns")
    ok = (s.str.contains(_DATE_RE) & parsed.is_between(_MIN_NS, _MAX_NS, closed="left")).fill_null(False)
    expected = np.where(ok.to_numpy(), parsed.fill_null(0).to_numpy(), NAT)
    got = utc_instants(pa.array(vals, type=pa.large_string()))
    assert (got == expected).all(), [v for v, a, b in zip(vals, got, expected) if a != b]
    fixed_only = utc_instants(pa.array(vals[-20000:], type=pa.large_string()))  # the contiguous fast path
    assert (fixed_only == ts).all()


@pytest.mark.parametrize("variant", ["plain", "bom", "no_final_newline", "quoted", "short_record", "header_only", "crlf", "cp1252"])
def test_big_files_are_streamed_with_the_same_result(tmp_path, monkeypatch, variant):
    """A file over LARGE_FILE is read in pieces (never whole) unless it needs the careful path: same table either way."""
    rows = [r.replace("2019-04-02", f"2019-04-{d:02d}") for d in range(1, 29) for r in ROWS]
    if variant == "quoted":
        rows[40] = rows[40].replace("Op X", '"Op X"')
    if variant == "short_record":
        rows[50] = rows[50].rsplit(",", 1)[0]
    if variant == "header_only":
        rows = []
    if variant == "cp1252":
        rows[30] = rows[30].replace("Op X", "Op caf\xe9")
    text = "\n".join([HEADER] + rows) + ("" if variant == "no_final_newline" else "\n")
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    data = ("\ufeff" if variant == "bom" else "").encode() + text.encode("cp1252" if variant == "cp1252" else "utf-8")
    (tmp_path / "2019-04-kent-stop-and-search.csv").write_bytes(data)
    whole = read_policeuk(tmp_path)
    monkeypatch.setattr(pu, "LARGE_FILE", 100)
    monkeypatch.setattr(pu, "BATCH_BYTES", 700)  # pieces of a few records
    careful = variant in ("quoted", "short_record", "crlf", "cp1252")
    if not careful:  # a plain file must never be read whole
        from equity_metrics.io._sources import LargeFile

        monkeypatch.setattr(LargeFile, "read", lambda self: pytest.fail("a plain big file was read whole"))
    streamed = read_policeuk(tmp_path)
    pd.testing.assert_frame_equal(whole.data, streamed.data)
    pd.testing.assert_frame_equal(whole.rejects.frame, streamed.rejects.frame)
    assert whole.ledger.files[0].sha256 == streamed.ledger.files[0].sha256
    assert whole.ledger.rows_read == streamed.ledger.rows_read == len(rows)
    assert whole.ledger.duplicates == streamed.ledger.duplicates


def test_duplicate_screen_is_exact_even_when_the_mix_collides(monkeypatch):
    """Duplicates are screened by a 64-bit mix, then verified pair by pair: a collision must not create a duplicate."""
    import numpy as np
    import polars as pl
    import pyarrow as pa

    import equity_metrics.io._policeuk_convert as conv

    packed = [np.array([1, 1, 2, 1, 2, 3], dtype=np.int64)]
    text = pa.array(["a", "a", "b", "c", "b", "a"], type=pa.large_string())
    expected = [False, True, False, False, True, False]
    assert conv._exact_among(pl, packed, [text]).tolist() == expected
    monkeypatch.setattr(conv, "_mix", lambda arrays: np.zeros(len(next(iter(arrays))), dtype=np.uint64))  # all collide
    assert conv._exact_among(pl, packed, [text]).tolist() == expected
    keys = [(np.array([0, 0, 0, 1]), 2), (np.array([5, 5, 5, 5]), 6)]
    assert conv.duplicated(keys, [pa.array(["x", "x", "y", "x"], type=pa.large_string())]).tolist() == [
        False, True, False, False]  # fmt: skip


def test_duplicate_verification_over_chunks_and_slices():
    """The pairwise check gathers from a chunked Series a slice of pairs at a time: a difference in any slice counts."""
    import numpy as np
    import polars as pl
    import pyarrow as pa

    import equity_metrics.io._policeuk_convert as conv

    text = pa.chunked_array([pa.array(["a", "b"], type=pa.large_string()), pa.array(["a", "b", "a", "c"], type=pa.large_string())])
    s = conv._series(pl, text)
    assert s.n_chunks() == 2 and s.to_list() == ["a", "b", "a", "b", "a", "c"]
    a, b = np.array([2, 3, 4]), np.array([0, 1, 0])
    assert conv._equal_at(s, a, b, step=1)
    assert not conv._equal_at(s, np.append(a, 5), np.append(b, 1), step=2)  # the last slice differs


def test_count_byte_equals_bytes_count():
    from equity_metrics.io._policeuk_scan import count_byte

    for data in (b"", b"\n", b"a,b\nc,d\n", b",\n" * 1000 + b"x", bytes(range(256)) * 5000):
        for byte in (b"\n", b",", b"\x00", b"\xff"):
            assert count_byte(data, byte, block=4096) == data.count(byte)
            assert count_byte(memoryview(data)[1:], byte) == data[1:].count(byte)


def test_an_error_while_finding_duplicates_reaches_the_caller(tmp_path, monkeypatch):
    """Duplicates are found in a second thread: its error is raised by read_policeuk, not lost."""
    import equity_metrics.io._policeuk_convert as conv

    p = tmp_path / "2020-01-kent-stop-and-search.csv"
    p.write_text(",".join(POLICEUK_COLUMNS) + "\n" + ",".join(["Person search", "2020-01-10T10:00:00+00:00"] + [""] * 13) + "\n")
    assert len(read_policeuk(p).data) == 1

    def boom(*args, **kwargs):
        raise MemoryError("from the duplicates thread")

    monkeypatch.setattr(conv, "duplicated", boom)
    with pytest.raises(MemoryError, match="duplicates thread"):
        read_policeuk(p)
