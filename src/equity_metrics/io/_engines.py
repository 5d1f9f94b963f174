"""Backends of the engine-neutral count query: how the engine reads the files, and where the other rows live.

:func:`~equity_metrics.io.large.count_policeuk` runs ONE query written with
`Narwhals <https://narwhals-dev.github.io/narwhals/>`_
(:mod:`equity_metrics.io._count_query`) over the rows of every police.uk file (all
text, plus the file id ``fid``). A backend says how the engine reads plain CSV
files itself (:meth:`Backend.scan_csv`: no quoting, every field text, the file id
from the file name), where the rows of the few files Python parsed carefully go
(Arrow batches), and how small tables are handed to the engine:

* ``"polars"``: ``pl.read_csv`` of the plain files' records joined into chunks
  (:meth:`Backend.add_joined`); in memory, for data that fit;
* ``"duckdb"``: DuckDB's ``read_csv`` over the joined chunks written as CSV files
  (the file id as first field), in an embedded DuckDB with a ``memory_limit`` (it
  spills to a temporary folder beyond it): the default, for data bigger than
  memory;
* ``"spark"``: ``spark.read.csv`` over the files (``DROPMALFORMED``), by a
  ``SparkSession`` (a local one: ``local[2]``, few shuffle partitions, quiet logs,
  no UI, bound to 127.0.0.1; or the caller's: a cluster's executors may not see the
  driver's temporary folder, so there every file's rows go through the driver).

Nothing here knows about police.uk; nothing distributes work itself.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Literal

import narwhals as nw
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import OptionError

#: Engines of the count query (``"pandas"`` is the reference: the in-memory reader, then a group-by).
Engine = Literal["duckdb", "polars", "spark", "pandas"]

_INSTALL = {
    "duckdb": 'pip install "equity_metrics[large]"',
    "polars": 'pip install "equity_metrics[large]"',
    "spark": 'pip install "equity_metrics[spark]" (and Java 17+ on the PATH or in JAVA_HOME)',
}
_PART_ROWS = 200_000
#: the file names :meth:`Backend.scan_csv` reads: ``<file id>.csv`` (the engines take the id back from the name)
FILE_PATTERN = r"([0-9]+)\.csv$"
_LOCAL_SPARK: Any = None


def _missing(engine: str, package: str) -> OptionError:
    return OptionError(f'engine="{engine}" needs the {package} package: {_INSTALL[engine]}; or pass engine="pandas"')


class Backend:
    """Where the staged rows go, and how tables are handed to the engine as Narwhals LazyFrames."""

    name = "base"
    #: whether the engine reads CSV files itself (:meth:`scan_csv`)
    reads_files = True
    #: whether :meth:`scan_csv` needs file names ``<file id>.csv`` (else any path: the engine maps paths to ids)
    needs_id_names = False
    #: whether :meth:`scan_csv` drops blank lines and records with another number of fields (else: Polars pads a
    #: short record and reads a blank line as a record of empty fields, so the files must be checked for both first)
    drops_bad_records = True
    #: whether the records of plain files can be handed over joined in big chunks (:meth:`add_joined`)
    joins_files = False
    #: whether a text field of :meth:`rows` may be null (an engine reading an empty field as null): else every empty
    #: field is an empty text (the engine told so, staged batches filled), and the query need not fill nulls
    rows_may_be_null = True

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self._batch: list[pa.Table] = []
        self._rows = 0
        self._parts: list[str] = []
        self._schema: pa.Schema | None = None

    # ---- staging
    def add(self, table: pa.Table) -> None:
        """Queue a batch of staged rows (written out in parts of about 200,000 rows)."""
        if not self.rows_may_be_null and any(c.null_count for c in table.columns):
            table = pa.table([pc.fill_null(c, "") if pa.types.is_string(c.type) else c for c in table.columns], schema=table.schema)
        self._schema = table.schema
        self._batch.append(table)
        self._rows += table.num_rows
        if self._rows >= _PART_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        table = pa.concat_tables(self._batch)
        self._batch, self._rows = [], 0
        path = os.path.join(self.tmp, f"part-{len(self._parts):05d}.parquet")
        pq.write_table(table, path, compression="none")
        self._parts.append(path)

    def rows(
        self, schema: pa.Schema, files: dict[int, str] | None = None, header: list[str] = (), leave_out: list[int] = ()
    ) -> nw.LazyFrame:
        """Every row: the CSV ``files`` (file id -> path) read by the engine (:meth:`scan_csv`), the joined records
        (:meth:`add_joined`) but those of the files ``leave_out`` (read the careful way since), and the staged batches."""
        parts = [self.scan_csv(dict(files), list(header), schema.names[1:])] if files else []
        joined = self._joined_rows(schema.names[1:], sorted(leave_out))
        if joined is not None:
            parts.append(joined)
        staged = self._staged()
        if staged is not None:
            parts.append(staged)
        if not parts:
            return self.table(schema.empty_table())
        return parts[0] if len(parts) == 1 else nw.concat(parts, how="vertical")

    def _staged(self) -> nw.LazyFrame | None:
        self._flush()
        return self._read_parts(self._parts) if self._parts else None

    def scan_csv(self, files: dict[int, str], header: list[str], names: list[str]) -> nw.LazyFrame:  # pragma: no cover
        """Plain CSV files (file id -> path) read by the engine: ``fid`` and the columns ``header`` renamed to ``names``,
        all text (an empty field may come back as null), no quoting, LF line ends; a record with another number of
        fields is dropped (DuckDB, Spark) or raises (Polars)."""
        raise NotImplementedError

    def _read_parts(self, paths: list[str]) -> nw.LazyFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def add_joined(self, fids: list[int], bodies: list[Any], counts: list[int], names: list[str]) -> list[int]:  # pragma: no cover
        """The records of plain files, joined (``bodies``: each file's records, no header, LF line ends, ``counts``
        records each; columns ``names``): the engine parses them later in one go; returns the files it refused."""
        raise NotImplementedError

    def joined_refused(self) -> list[int]:
        """Once every chunk is handed over: the files refused by chunks still being parsed."""
        return []

    def _joined_rows(self, names: list[str], leave_out: list[int]) -> nw.LazyFrame | None:
        return None

    def parquet(self, path: str) -> nw.LazyFrame:
        """Parquet file(s) (a file, a folder or a glob) read by the engine."""
        return self._read_parts([path])

    # ---- small tables and results
    def table(self, table: pa.Table) -> nw.LazyFrame:  # pragma: no cover - abstract
        """A small Arrow table (a map, the file list) as a LazyFrame of the engine."""
        raise NotImplementedError

    def keep(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """Materialise an intermediate result that several queries read (default: leave it lazy)."""
        return lf

    def collect(self, lf: nw.LazyFrame) -> pd.DataFrame:
        """Run a query; its (small) result as pandas with plain object columns."""
        out = lf.collect("pyarrow").to_native()
        return out.to_pandas(types_mapper=None).astype(object).where(lambda d: d.notna(), None)

    def release(self) -> None:
        """The staged rows are no longer needed (the kept rows were materialised)."""

    def drop(self, lf: nw.LazyFrame) -> None:
        """A result of :meth:`keep` is no longer needed."""

    def close(self) -> None:
        """Release what the backend opened (not a SparkSession the caller gave)."""


class PolarsBackend(Backend):
    """In memory: the staged batches stay Arrow tables, queried by Polars."""

    name = "polars"
    drops_bad_records = False
    rows_may_be_null = False  # read_csv(empty_string_is_null=False)

    def __init__(self, tmp: str) -> None:
        super().__init__(tmp)
        try:
            import polars as pl
        except ImportError:
            raise _missing("polars", "polars") from None
        self.pl = pl
        self._all: list[pa.Table] = []
        self._frames: list[Any] = []
        self._pool: Any = None
        self._pending: list[Any] = []

    joins_files = True

    def add_joined(self, fids: list[int], bodies: list[Any], counts: list[int], names: list[str]) -> list[int]:
        """Parsed in a worker thread while Python checks the next files (Polars parses without the GIL)."""
        from concurrent.futures import ThreadPoolExecutor

        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="count-policeuk-parse")
        refused = []
        while len(self._pending) >= 2:  # at most two chunks waiting: memory stays bounded
            refused += self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._parse_joined, fids, bodies, counts, names))
        return refused

    def joined_refused(self) -> list[int]:
        refused = []
        while self._pending:
            refused += self._pending.pop(0).result()
        return refused

    def _parse_joined(self, fids: list[int], bodies: list[Any], counts: list[int], names: list[str]) -> list[int]:
        """One call of Polars' parser for the chunk; a chunk that does not parse to its counts: file by file."""
        import numpy as np

        pl = self.pl

        def parse(buf: Any, n: int) -> Any:
            try:
                df = pl.read_csv(buf, has_header=False, new_columns=names, schema={c: pl.String for c in names}, quote_char=None,
                                 empty_string_is_null=False, raise_if_empty=False)  # fmt: skip
            except Exception:  # noqa: BLE001 - a record with too many fields
                return None
            return df if df.height == n else None

        df = parse(b"".join(bodies), sum(counts))
        refused: list[int] = []
        if df is None:  # a ragged record somewhere: the files one by one, the ragged ones refused
            parts, keep = [], []
            for fid, body, n in zip(fids, bodies, counts):
                one = parse(bytes(body), n)
                if one is None:
                    refused.append(fid)
                else:
                    parts.append(one)
                    keep.append((fid, n))
            if not parts:
                return refused
            df = pl.concat(parts, how="vertical")
            fids, counts = [f for f, _ in keep], [n for _, n in keep]
        fid = pl.Series("fid", np.repeat(np.asarray(fids, dtype=np.int32), counts), dtype=pl.Int32)
        self._frames.append(df.select(fid, *names))
        return refused

    def _joined_rows(self, names: list[str], leave_out: list[int]) -> nw.LazyFrame | None:
        if not self._frames:
            return None
        lf = self.pl.concat(self._frames, how="vertical").lazy()
        if leave_out:
            lf = lf.filter(~self.pl.col("fid").is_in(leave_out))
        return nw.from_native(lf)

    def _flush(self) -> None:
        self._all += self._batch
        self._batch, self._rows = [], 0

    def _staged(self) -> nw.LazyFrame | None:
        self._flush()
        return self.table(pa.concat_tables(self._all)) if self._all else None

    def scan_csv(self, files: dict[int, str], header: list[str], names: list[str]) -> nw.LazyFrame:
        pl = self.pl
        paths = list(files.values())
        lf = pl.scan_csv(paths, has_header=True, schema={c: pl.String for c in header}, quote_char=None, empty_string_is_null=False,
                         include_file_paths="__em_path", raise_if_empty=False, glob=False)  # fmt: skip
        fid = pl.col("__em_path").replace_strict(paths, list(files), return_dtype=pl.Int32).alias("fid")
        return nw.from_native(lf.select(fid, *[pl.col(c).alias(n) for c, n in zip(header, names)]))

    def release(self) -> None:
        self._all = []
        self._frames = []

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def table(self, table: pa.Table) -> nw.LazyFrame:
        return nw.from_native(self.pl.from_arrow(table).lazy())

    def parquet(self, path: str) -> nw.LazyFrame:
        if os.path.isdir(path):
            path = os.path.join(path, "*.parquet")
        return nw.from_native(self.pl.scan_parquet(path))

    def keep(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        return nw.from_native(lf.to_native().collect().lazy())


class DuckDBBackend(Backend):
    """Parquet parts on disk, queried by an embedded DuckDB with a memory limit (spilling beyond it)."""

    name = "duckdb"
    rows_may_be_null = False  # read_csv(force_not_null = [...])
    #: the kept rows leave out what no later query reads (see :class:`~equity_metrics.io._count_query.CountQuery`)
    compact_kept = True

    def __init__(self, tmp: str, memory_limit: str = "1GB", threads: int | None = None) -> None:
        super().__init__(tmp)
        try:
            import duckdb
        except ImportError:
            raise _missing("duckdb", "duckdb") from None
        if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
            raise OptionError(f"threads={threads!r} must be a positive whole number, or None for the default")
        config = {
            "memory_limit": str(memory_limit),
            "threads": threads or min(4, os.cpu_count() or 1),
            "temp_directory": os.path.join(tmp, "spill"),
            "autoinstall_known_extensions": False,  # never reach the network
            "autoload_known_extensions": False,
            "preserve_insertion_order": False,
            # every join of the count query has the small table (months, maps, the file list) on its right: build the
            # hash table there (DuckDB would otherwise build it on the rows when it underestimates the CSV's size)
            "disabled_optimizers": "build_side_probe_side",
        }
        try:
            self.con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:
            raise OptionError(f"DuckDB refused the settings memory_limit={memory_limit!r}, threads={threads!r} ({exc})") from None
        self.con.execute("SET enable_progress_bar = false")
        self._n = 0
        self._raw = False
        self._kept: dict[int, str] = {}
        self._joined: list[str] = []

    joins_files = True

    def add_joined(self, fids: list[int], bodies: list[Any], counts: list[int], names: list[str]) -> list[int]:
        """Written into one CSV file with the file id as first field of every record, read by DuckDB later."""
        path = os.path.join(self.tmp, f"joined-{len(self._joined):05d}.csv")
        with open(path, "wb") as fh:
            for fid, body in zip(fids, bodies):
                pre = b"%d," % fid
                fh.write(pre)
                fh.write(bytes(body[:-1]).replace(b"\n", b"\n" + pre))
                fh.write(b"\n")
        self._joined.append(path)
        return []

    def _joined_rows(self, names: list[str], leave_out: list[int]) -> nw.LazyFrame | None:
        if not self._joined:
            return None
        paths = "[" + ", ".join(_sql_text(f) for f in self._joined) + "]"
        columns = "{'fid': 'INTEGER', " + ", ".join(f"{_sql_text(n)}: 'VARCHAR'" for n in names) + "}"
        sql = (f"SELECT fid, {', '.join(names)} FROM read_csv({paths}, columns = {columns}, header = false, delim = ',', "
               "quote = '', escape = '', new_line = '\\n', auto_detect = false, ignore_errors = true, null_padding = false, "
               f"strict_mode = true, force_not_null = [{', '.join(_sql_text(n) for n in names)}])")  # fmt: skip
        if leave_out:
            sql += f" WHERE fid NOT IN ({', '.join(str(int(f)) for f in leave_out)})"
        return nw.from_native(self.con.sql(sql))

    def _flush(self) -> None:
        """Batches go into a DuckDB table (compressed in memory, spilled to disk beyond memory_limit)."""
        if not self._batch:
            return
        table = pa.concat_tables(self._batch)
        self._batch, self._rows = [], 0
        self.con.register("staged_batch", table)
        if self._raw:
            self.con.execute("INSERT INTO raw SELECT * FROM staged_batch")
        else:
            self.con.execute("CREATE TABLE raw AS SELECT * FROM staged_batch")
            self._raw = True
        self.con.unregister("staged_batch")

    def _staged(self) -> nw.LazyFrame | None:
        self._flush()
        return nw.from_native(self.con.table("raw")) if self._raw else None

    def scan_csv(self, files: dict[int, str], header: list[str], names: list[str]) -> nw.LazyFrame:
        ids = self.table(pa.table({"em_fid": pa.array(list(files), pa.int32()), "em_path": pa.array(list(files.values()), pa.string())}))
        paths = "[" + ", ".join(_sql_text(f) for f in files.values()) + "]"
        columns = "{" + ", ".join(f"{_sql_text(n)}: 'VARCHAR'" for n in names) + "}"
        sql = (f"SELECT i.em_fid AS fid, {', '.join(f'c.{n}' for n in names)} "
               f"FROM read_csv({paths}, columns = {columns}, header = true, delim = ',', quote = '', escape = '', "
               "new_line = '\\n', auto_detect = false, filename = true, ignore_errors = true, null_padding = false, "
               f"strict_mode = true, force_not_null = [{', '.join(_sql_text(n) for n in names)}]) AS c JOIN {ids.to_native().alias} AS i ON c.filename = i.em_path")  # fmt: skip
        return nw.from_native(self.con.sql(sql))

    def parquet(self, path: str) -> nw.LazyFrame:
        if os.path.isdir(path):
            path = os.path.join(path, "*.parquet")
        return nw.from_native(self.con.read_parquet(path))

    def _name(self) -> str:
        self._n += 1
        return f"t{self._n}"

    def table(self, table: pa.Table) -> nw.LazyFrame:
        name = self._name()
        self.con.register(f"{name}_src", table)
        self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_src")
        self.con.unregister(f"{name}_src")
        return nw.from_native(self.con.table(name))

    def keep(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        name = self._name()
        lf.to_native().to_table(name)
        out = nw.from_native(self.con.table(name))
        self._kept[id(out)] = name
        return out

    def release(self) -> None:
        if self._raw:
            self.con.execute("DROP TABLE raw")
            self._raw = False

    def drop(self, lf: nw.LazyFrame) -> None:
        name = self._kept.pop(id(lf), None)
        if name is not None:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        self.con.close()


def _sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def local_spark_session() -> Any:
    """A local SparkSession for the count query: ``local[2]``, 2 shuffle partitions, quiet, no UI, no network.

    Created once per process and reused (starting the JVM takes seconds).
    """
    global _LOCAL_SPARK
    if _LOCAL_SPARK is not None:
        return _LOCAL_SPARK
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise _missing("spark", "pyspark") from None
    if not java_available():
        raise OptionError('engine="spark" needs Java 17 or later (java on the PATH or JAVA_HOME); or pass engine="duckdb"')
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("equity_metrics")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=ERROR")
    )
    import warnings

    with warnings.catch_warnings():  # pyspark's notice about pandas versions: not the user's concern here
        warnings.simplefilter("ignore", FutureWarning)
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    _LOCAL_SPARK = session
    return session


def java_available() -> bool:
    """Whether a Java runtime can be found (JAVA_HOME or ``java`` on the PATH)."""
    import shutil

    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


class SparkBackend(Backend):
    """Parquet parts read by a SparkSession (the caller's, or a local ``local[2]`` one)."""

    name = "spark"

    def __init__(self, tmp: str, session: Any = None) -> None:
        super().__init__(tmp)
        self.spark = session if session is not None else local_spark_session()
        self._cached: list[Any] = []
        # a local session reads Parquet parts from this machine's temporary folder; a cluster's executors may not
        # see that folder, so there the staged batches go to Spark through the driver (Arrow) instead
        master = str(self.spark.sparkContext.master) if hasattr(self.spark, "sparkContext") else ""
        self.via_driver = not master.startswith("local")
        self._frames: list[Any] = []

    needs_id_names = True  # Spark lists paths as URIs: the file id comes from the name

    @property
    def reads_files(self) -> bool:  # type: ignore[override]
        return not self.via_driver

    def _flush(self) -> None:
        if not self.via_driver:
            super()._flush()
            return
        if not self._batch:
            return
        table = pa.concat_tables(self._batch)
        self._batch, self._rows = [], 0
        self._frames.append(self._native(table).cache())

    def _staged(self) -> nw.LazyFrame | None:
        if not self.via_driver:
            return super()._staged()
        self._flush()
        if not self._frames:
            return None
        out = self._frames[0]
        for df in self._frames[1:]:
            out = out.unionByName(df)
        self._cached += [df for df in self._frames if not any(df is c for c in self._cached)]
        return nw.from_native(out)

    def scan_csv(self, files: dict[int, str], header: list[str], names: list[str]) -> nw.LazyFrame:
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        schema = T.StructType([T.StructField(c, T.StringType(), True) for c in header])
        df = self.spark.read.csv(
            [f"file://{os.path.abspath(p)}" for p in files.values()], schema=schema, header=True, sep=",", quote="", mode="DROPMALFORMED",
            encoding="UTF-8", multiLine=False, ignoreLeadingWhiteSpace=False, ignoreTrailingWhiteSpace=False,
        )  # fmt: skip
        fid = F.regexp_extract(F.col("_metadata.file_name"), FILE_PATTERN, 1).cast("int").alias("fid")
        return nw.from_native(df.select(fid, *[df[c].alias(n) for c, n in zip(header, names)]))

    def _native(self, table: pa.Table) -> Any:
        from pyspark.sql import types as T

        kinds = {pa.string(): T.StringType(), pa.bool_(): T.BooleanType(), pa.int32(): T.IntegerType(), pa.int64(): T.LongType()}
        schema = T.StructType([T.StructField(f.name, kinds[f.type], True) for f in table.schema])
        try:  # Spark 4: straight from Arrow
            return self.spark.createDataFrame(table, schema=schema)
        except Exception:  # noqa: BLE001 - older Spark: through Python rows
            return self.spark.createDataFrame([tuple(r.values()) for r in table.to_pylist()], schema=schema)

    def _read_parts(self, paths: list[str]) -> nw.LazyFrame:
        return nw.from_native(self.spark.read.parquet(*[f"file://{os.path.abspath(p)}" for p in paths]))

    def table(self, table: pa.Table) -> nw.LazyFrame:
        return nw.from_native(self._native(table))

    def keep(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        df = lf.to_native().cache()
        self._cached.append(df)
        return nw.from_native(df)

    def drop(self, lf: nw.LazyFrame) -> None:
        lf.to_native().unpersist()

    def close(self) -> None:
        for df in self._cached:
            df.unpersist()


def backend_for(engine: str, tmp: str, *, memory_limit: str, threads: int | None, spark: Any) -> Backend:
    """The backend of ``engine`` (not ``"pandas"``: that one is the reader itself)."""
    if engine == "duckdb":
        return DuckDBBackend(tmp, memory_limit, threads)
    if engine == "polars":
        return PolarsBackend(tmp)
    return SparkBackend(tmp, spark)


def group_count(
    source: Any,
    by: list[str],
    *,
    engine: str,
    month: str | None = "month",
    memory_limit: str = "1GB",
    threads: int | None = None,
    spark: Any = None,
) -> pd.DataFrame:
    """Rows of ``source`` counted by ``by`` on ``engine`` (the same Narwhals query everywhere): ``by`` columns and ``n``.

    ``source`` is an Arrow table, a Parquet file/folder/glob (str or path), or a native
    frame of the engine (a Polars DataFrame/LazyFrame, a DuckDB relation, a Spark
    DataFrame). ``month`` (if among ``by``) is counted by its first 7 characters as
    text (``YYYY-MM``), whatever its type. Missing values form their own cells.

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"officer_id": ["a", "a", "b"], "month": ["2020-01", "2020-01", "2020-02"]})
    >>> group_count(t, ["officer_id", "month"], engine="polars").sort_values("officer_id")["n"].tolist()
    [2, 1]
    """
    import tempfile

    tmp = tempfile.mkdtemp(prefix="equity_metrics_count_")
    backend = backend_for(engine, tmp, memory_limit=memory_limit, threads=threads, spark=spark)
    try:
        if isinstance(source, pa.Table):
            lf = backend.table(source)
        elif isinstance(source, (str, os.PathLike)):
            lf = backend.parquet(os.fspath(source))
        else:
            try:
                lf = nw.from_native(source)
            except TypeError:
                raise OptionError(
                    f"cannot count a {type(source).__name__} on engine={engine!r}: pass a pandas DataFrame, a Parquet "
                    "path, or a frame of that engine (Polars, DuckDB relation, Spark DataFrame)"
                ) from None
            lf = lf.lazy() if isinstance(lf, nw.DataFrame) else lf
        missing = [b for b in by if b not in lf.columns]
        if missing:
            raise OptionError(f"the events have no column(s) {missing}; they have {list(lf.columns)[:20]}")
        if month in by:
            lf = lf.with_columns(nw.col(month).cast(nw.String).str.slice(0, 7))
        return backend.collect(lf.group_by(*by).agg(nw.len().cast(nw.Int64).alias("n")))
    finally:
        backend.close()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
