"""One count query, several engines: Polars, DuckDB and Spark give the reader's counts and ledger.

The reference is always :func:`read_policeuk` (the in-memory reader) followed by a
pandas group-by (``count_policeuk(engine="pandas")``). Every engine must give the
same counts, the same whole ledger (every file record, note and choice) and the
same rejects, on the bundled samples, on odd files written here, and (slow,
shared) on the whole 44-force archive. The measures (``disparity``,
``outcome_test``, ``trend``, ``build_panel``) must accept the counts of any engine
and give what they give on the reader's events.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from conftest import need_shared
from policeuk_rows import _csv, _row, _write

import equity_metrics as em
from equity_metrics.errors import DataValidationError, OptionError
from equity_metrics.io._count_query import month_table
from equity_metrics.io._counts import EventCounts, counts_from_events
from equity_metrics.io._engines import SparkBackend, group_count, java_available
from equity_metrics.io.large import count_policeuk
from equity_metrics.io.policeuk import read_policeuk
from equity_metrics.models.panel import build_panel

pytest.importorskip("duckdb")
pytest.importorskip("polars")

SAMPLES = em.datasets.sample_path() / "policeuk"
ARCHIVE_NAME = "policeuk_stop_search_44_forces_2019-01_2021-11.tar.gz"
ENGINES = ("duckdb", "polars")
OUTCOME_BY = ("force", "ethnicity", "hit", "arrest", "outcome", "outcome_linked", "legal_power", "vehicle_only")

needs_spark = pytest.mark.skipif(not java_available(), reason="engine='spark' needs a Java runtime (java on the PATH or JAVA_HOME)")


def _same(a: EventCounts, b: EventCounts) -> None:
    """Counts, the whole ledger and the rejects are equal."""
    pdt.assert_frame_equal(a.data, b.data)
    assert a.ledger.to_dict() == b.ledger.to_dict()
    pdt.assert_frame_equal(a.rejects.frame, b.rejects.frame)
    assert a.vehicle_only_rows == b.vehicle_only_rows


@pytest.fixture(scope="module")
def reference():
    return {by: count_policeuk(SAMPLES, engine="pandas", by=by) for by in
            [("force", "month", "ethnicity", "vehicle_only"), ("sex", "age_band", "legal_power", "object_of_search"), OUTCOME_BY]}  # fmt: skip


# ============================================================================ the query on every engine
@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_readers_counts_ledger_and_rejects(engine, reference):
    for by, want in reference.items():
        got = count_policeuk(SAMPLES, engine=engine, by=by)
        _same(got, want)
        assert got.engine == engine and got.total == 3770


@pytest.mark.parametrize("engine", ENGINES)
def test_odd_files_are_accounted_for_like_the_reader_on_every_engine(engine, tmp_path):
    dates = ["2019-03-31T00:30:00+00:00", "2019-03-31T23:30:00+00:00", "2019-06-30T23:00:00+00:00", "2019-10-31T23:30:00+00:00",
             "2019-05-31T23:30:00.123+00:00", "2019-04-30T23:15:00Z", "2019-08-31T23:15:00", "2019-09-30 23:15:00+00:00",
             "2019-07-31T23:30:00+01:00", "2019-02-30T10:00:00+00:00", "1850-06-01T00:00:00+00:00", "junk", ""]  # fmt: skip
    rows = [_row(Date=d) for d in dates] + [_row(Date="2019-06-01T10:00:00+00:00")] * 3  # 2 duplicates
    rows += [_row(Gender="Robot", Latitude="91.5", Longitude="abc"), _row(Latitude="090.000000000000001", Longitude="-180.5")]
    _write(tmp_path / "2019-06-kent-stop-and-search.csv", rows)
    ragged = "\n" + _csv([_row(Date="2019-07-02T10:00:00+00:00")]) + ",".join(_row()[:14]) + "\n\n"  # blank lines, 14 fields
    (tmp_path / "2019-07-kent-stop-and-search.csv").write_text(ragged)
    _write(tmp_path / "searches.csv", [_row(Date="2019-09-01T09:00:00+00:00")])
    for kw in ({"force": "kent"}, {"force": "kent", "months": ["2019-06", "2019-09"]}, {"force": "kent", "fallback": "officer_defined"}):
        by = ["month", "sex", "ethnicity", "ethnicity_source"]
        _same(count_policeuk(tmp_path, engine=engine, by=by, **kw), count_policeuk(tmp_path, engine="pandas", by=by, **kw))
    c = count_policeuk(tmp_path, engine=engine, by=["month"], force="kent")
    assert c.ledger.rejected_by_reason["unparseable Date"] >= 3 and c.ledger.duplicates >= 2


@pytest.mark.parametrize("engine", ENGINES)
def test_files_the_engine_reads_itself_and_the_odd_ones_agree_with_the_reader(engine, tmp_path, monkeypatch):
    """Plain files are read by the engine; a short and a long record together (the total of commas right), blank lines
    (DuckDB and Spark drop them: the file is read again the careful way), a BOM, a glob character in the path and a
    header-only file give the reader's counts, ledger and rejects all the same."""
    from equity_metrics.io import _direct

    body = [",".join(_row(Date=f"2020-06-{d:02d}T10:00:00+00:00", Gender=g)) for d, g in ((1, "Male"), (2, "Female"), (3, "Male"))]
    short_long = body[0] + "\n" + ",".join(_row()[:14]) + "\n" + ",".join(_row()) + ",extra\n" + body[1] + "\n"
    header = ",".join(_csv([]).strip().split(","))
    (tmp_path / "2020-06-kent-stop-and-search.csv").write_text(header + "\n" + short_long)
    (tmp_path / "2020-06-essex-stop-and-search.csv").write_bytes(b"\xef\xbb\xbf" + (header + "\n" + "\n".join(body)).encode())
    _write(tmp_path / "odd [name]" / "2020-06-surrey-stop-and-search.csv", [_row(Date="2020-06-30T23:30:00+00:00")] * 2)
    _write(tmp_path / "2020-06-dorset-stop-and-search.csv", [])
    (tmp_path / "2020-06-avon-and-somerset-stop-and-search.csv").write_text(header + "\n" + body[0] + "\n\n" + body[2] + "\n\n")
    _write(tmp_path / "2020-05-kent-stop-and-search.csv", [_row(Date=d) for d in ("2020-05-31T22:00:00+00:00", "bad", "")])
    read = []
    orig = _direct.ragged_files
    monkeypatch.setattr("equity_metrics.io.large.ragged_files", lambda paths: read.append(len(paths)) or orig(paths))
    by = ["force", "month", "sex"]
    got, want = count_policeuk(tmp_path, engine=engine, by=by), count_policeuk(tmp_path, engine="pandas", by=by)
    _same(got, want)
    assert got.ledger.rows_read == 14 and len(got.rejects) == 4
    assert got.ledger.months_missing == [("avon-and-somerset", "2020-05"), ("dorset", "2020-05"), ("essex", "2020-05"), ("surrey", "2020-05")]
    # Polars refuses the long record as it parses the joined chunk: that file alone is read the careful way, no search
    assert read == []
    tar = tmp_path.parent / f"{engine}.tar.gz"
    with tarfile.open(tar, "w:gz") as tf:
        tf.add(tmp_path, arcname="archive")
    _same(count_policeuk(tar, engine=engine, by=by), count_policeuk(tar, engine="pandas", by=by))


def test_the_month_table_is_the_readers_time_zone_rule_for_every_month_1900_2100():
    """At the switch time the local month moves on; a microsecond before it does not (pandas' conversion)."""
    t = month_table().to_pandas()
    assert len(t) == 2412 and set(t["switch"]) <= {"99", "23:00:00", "22:00:00"}
    summer = t[t["switch"] != "99"]
    at = pd.to_datetime(summer["ym"] + "-" + summer["last_day"] + "T" + summer["switch"], utc=True)
    local = at.dt.tz_convert("Europe/London").dt.tz_localize(None).dt.to_period("M").astype(str)
    before = (at - pd.Timedelta(microseconds=1)).dt.tz_convert("Europe/London").dt.tz_localize(None).dt.to_period("M").astype(str)
    assert (local.to_numpy() == summer["next_ym"].to_numpy()).all() and (before.to_numpy() == summer["ym"].to_numpy()).all()
    winter = t[t["switch"] == "99"]
    last = pd.to_datetime(winter["ym"] + "-" + winter["last_day"] + "T23:59:59.999999", utc=True)
    assert (last.dt.tz_convert("Europe/London").dt.tz_localize(None).dt.to_period("M").astype(str).to_numpy() == winter["ym"].to_numpy()).all()
    assert {"2019-03", "2019-09"} <= set(summer["ym"]) and "2019-10" in set(winter["ym"])  # BST: end of March to end of October


def test_unknown_engine_and_misplaced_session_say_what_to_do():
    with pytest.raises(OptionError, match="engine"):
        count_policeuk(SAMPLES, engine="sparkle")
    with pytest.raises(OptionError, match="spark="):
        count_policeuk(SAMPLES, engine="duckdb", spark=object())
    with pytest.raises(OptionError, match="engine"):
        build_panel(pd.DataFrame({"officer_id": ["a"], "month": ["2020-01"]}), pd.DataFrame({"completed": []}), engine="sql")


# ============================================================================ measures accept every engine's counts
@pytest.fixture(scope="module")
def counts_by_engine():
    by = ("force", "month", "ethnicity", "vehicle_only")
    return {e: count_policeuk(SAMPLES, engine=e, by=by) for e in ("pandas", *ENGINES)}


def test_disparity_and_trend_accept_the_counts_of_every_engine(counts_by_engine):
    pop = em.datasets.load_sample_population()
    events = read_policeuk(SAMPLES)
    want_d = em.disparity(events, pop, by="force", period="FY").tidy()
    want_t = em.trend(events, pop, by="force", measure="ratio").tidy()
    want_c = em.trend(events, by="force", measure="count").tidy()
    for engine, c in counts_by_engine.items():
        pdt.assert_frame_equal(em.disparity(c, pop, by="force", period="FY").tidy(), want_d)
        pdt.assert_frame_equal(em.trend(c, pop, by="force", measure="ratio").tidy(), want_t)
        pdt.assert_frame_equal(em.trend(c, by="force", measure="count").tidy(), want_c, obj=engine)
    no_vo = count_policeuk(SAMPLES, engine="polars", by=("force", "month", "ethnicity"))
    with pytest.raises(DataValidationError, match="vehicle_only"):
        em.trend(no_vo, by="force", measure="count")


@pytest.mark.parametrize("engine", ENGINES)
def test_outcome_test_accepts_the_counts_of_every_engine(engine, reference):
    events = read_policeuk(SAMPLES)
    want = em.outcome_test(events, by="force")
    got = em.outcome_test(count_policeuk(SAMPLES, engine=engine, by=OUTCOME_BY), by="force")
    pdt.assert_frame_equal(got.tidy(), want.tidy())
    pdt.assert_frame_equal(got.rates(), want.rates())


def test_build_panel_accepts_the_counts_of_every_engine(counts_by_engine):
    events = read_policeuk(SAMPLES)
    tr = pd.DataFrame({"force": ["northshire", "southvale"], "level": ["force", "force"], "course": ["x", "x"],
                       "completed": pd.to_datetime(["2020-03-10", "2020-09-20"])})  # fmt: skip
    outcome = ["searches", "searches_of:Black", "share_of:Black"]
    want = build_panel(events, tr, unit="force", outcome=outcome)
    for engine, c in counts_by_engine.items():
        got = build_panel(c, tr, unit="force", outcome=outcome)
        pdt.assert_frame_equal(got.data, want.data, obj=engine)
        assert got.report.events_dropped == want.report.events_dropped


# ============================================================================ the officer-month panel on every engine
@pytest.fixture(scope="module")
def officer_data():
    ev = em.datasets.load_sample_officer_events().data
    return ev, em.datasets.load_sample_training().data, em.datasets.load_sample_officers()


@pytest.mark.parametrize("engine", ENGINES)
def test_build_panel_counts_officer_months_on_every_engine(engine, officer_data, tmp_path):
    ev, tr, off = officer_data
    kinds = sorted(set(ev["event_type"].astype(str)))
    outcome = [k for k in ("use_of_force", "stop", "complaint") if k in kinds] + ["searches", "searches_of:Black", "hit_rate"]
    want = build_panel(ev, tr, officers=off, outcome=outcome)
    got = build_panel(ev, tr, officers=off, outcome=outcome, engine=engine)
    pdt.assert_frame_equal(got.data, want.data)
    assert got.report.events_dropped == want.report.events_dropped and got.report.notes == want.report.notes
    # the same from Parquet on disk, read by the engine (month as text)
    cols = [c for c in ("officer_id", "month", "event_type", "ethnicity", "hit", "vehicle_only", "search_conducted", "force", "unit")
            if c in ev.columns]  # fmt: skip
    flat = ev[cols].copy()
    flat["month"] = flat["month"].astype(str)
    for c in flat.columns:
        if isinstance(flat[c].dtype, pd.CategoricalDtype):
            flat[c] = flat[c].astype("string")
    flat.to_parquet(tmp_path / "events.parquet")
    from_disk = build_panel(str(tmp_path / "events.parquet"), tr, officers=off, outcome=outcome, engine=engine)
    pdt.assert_frame_equal(from_disk.data, want.data)


def test_group_count_on_native_frames():
    import duckdb
    import polars as pl

    frame = pd.DataFrame({"officer_id": ["a", "a", "b", None], "month": ["2020-01-05", "2020-01-20", "2020-02-01", "2020-02-01"]})
    want = {("a", "2020-01"): 2, ("b", "2020-02"): 1, (None, "2020-02"): 1}
    for engine, native in (("polars", pl.from_pandas(frame).lazy()), ("duckdb", duckdb.from_df(frame))):
        try:
            got = group_count(native, ["officer_id", "month"], engine=engine)
        except Exception as exc:  # noqa: BLE001 - a DuckDB relation of another connection
            pytest.fail(f"{engine}: {exc}")
        assert {(o, m): int(n) for o, m, n in got.itertuples(index=False)} == want
    with pytest.raises(OptionError, match="no column"):
        group_count(pl.from_pandas(frame).lazy(), ["unit"], engine="polars")


def test_group_count_runs_on_an_ibis_table_where_it_lives():
    """A warehouse table reached through Ibis is counted by its own backend (here Ibis on DuckDB); only counts return."""
    ibis = pytest.importorskip("ibis")
    frame = pd.DataFrame({"officer_id": ["a", "a", "b", None], "month": ["2020-01-05", "2020-01-20", "2020-02-01", "2020-02-01"]})
    got = group_count(ibis.memtable(frame), ["officer_id", "month"], engine="duckdb")
    assert {(o, m): int(n) for o, m, n in got.itertuples(index=False)} == {("a", "2020-01"): 2, ("b", "2020-02"): 1, (None, "2020-02"): 1}


# ============================================================================ Spark (local mode)
@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if not java_available():
        pytest.skip("engine='spark' needs a Java runtime (java on the PATH or JAVA_HOME)")
    from equity_metrics.io._engines import local_spark_session

    return local_spark_session()


@needs_spark
@pytest.mark.slow
def test_spark_gives_the_readers_counts_on_a_few_files(spark, tmp_path, reference, monkeypatch):
    """Starting the JVM takes 10-60 s on a busy 2-core machine: slow."""
    by = ("force", "month", "ethnicity", "vehicle_only")
    _same(count_policeuk(SAMPLES, engine="spark", by=OUTCOME_BY), reference[OUTCOME_BY])
    # a cluster's session: the staged rows reach Spark through the driver (Arrow), not a local folder
    init = SparkBackend.__init__

    def cluster_init(self, tmp, session=None):
        init(self, tmp, session)
        self.via_driver = True

    monkeypatch.setattr(SparkBackend, "__init__", cluster_init)
    _same(count_policeuk(SAMPLES, engine="spark", by=by, spark=spark), reference[by])  # the caller's session
    monkeypatch.undo()
    ev = em.datasets.load_sample_officer_events().data
    tr = em.datasets.load_sample_training().data
    want = build_panel(ev, tr, outcome=["searches", "hit_rate"])
    pdt.assert_frame_equal(build_panel(ev, tr, outcome=["searches", "hit_rate"], engine="spark").data, want.data)


@needs_spark
@pytest.mark.slow
def test_spark_streams_a_file_too_big_to_hold(spark, tmp_path, monkeypatch):
    """Spark reads a large plain file by its path (checked and hashed as it was streamed): the reader's answers."""
    from test_large import large_file_cases

    large_file_cases("spark", tmp_path, monkeypatch, spark=spark)


@needs_spark
@pytest.mark.slow
@pytest.mark.shared
def test_whole_archive_spark_equals_duckdb_equals_the_reader(spark, tmp_path):
    """The 44-force archive (1,034,848 rows, 1,466 files) extracted to a folder: identical counts and ledger."""
    archive = need_shared("data", "policeuk", ARCHIVE_NAME)
    with tarfile.open(archive) as tf:
        tf.extractall(tmp_path, filter="data")
    folder = Path(tmp_path)
    by = ("force", "month", "ethnicity", "vehicle_only")
    s = count_policeuk(folder, engine="spark", by=by)
    d = count_policeuk(folder, engine="duckdb", by=by)
    _same(s, d)
    res = read_policeuk(folder)
    pdt.assert_frame_equal(d.data, counts_from_events(res.data, by))
    assert d.ledger.to_dict() == res.ledger.to_dict()
    pdt.assert_frame_equal(d.rejects.frame, res.rejects.frame)
    _same(count_policeuk(folder, engine="polars", by=by), d)
    assert s.ledger.rows_read == 1_034_848 and s.ledger.duplicates == 48_894 and s.data["force"].nunique() == 44
    assert np.int64(s.total) == s.ledger.rows_kept
