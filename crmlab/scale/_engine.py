"""The two engines of :mod:`crmlab.scale`: DuckDB (embedded, the default) and Spark.

Both run the *same* SQL text, built once in :mod:`crmlab.scale._sql`. An engine only knows
how to (1) make a source (a path, a pandas frame, a DuckDB relation or a Spark DataFrame)
visible to SQL under a name, (2) say which columns and types it has, (3) run a query into a
small pandas frame or into record batches, and (4) spell the handful of functions whose
names differ between the two dialects (:class:`Dialect`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ..errors import ParameterError

_COUNTER = itertools.count()


class Dialect:
    """The few spellings that differ between DuckDB SQL and Spark SQL; the rest is shared."""

    name = "ansi"

    def q(self, ident: str) -> str:
        """A quoted identifier."""
        raise NotImplementedError

    def days(self, a: str, b: str) -> str:
        """Whole calendar days from date(a) to date(b) (b - a)."""
        raise NotImplementedError

    def median(self, x: str) -> str:
        """Exact median with interpolation between the two middle values (as pandas)."""
        raise NotImplementedError

    def arg_min(self, x: str, by: str) -> str:
        """The value of ``x`` on the row where ``by`` is smallest."""
        raise NotImplementedError

    def row(self, *parts: str) -> str:
        """An anonymous struct, ordered field by field (a composite sort key)."""
        raise NotImplementedError

    def string(self, x: str) -> str:
        return f"CAST({x} AS STRING)"

    # -- shared spellings, derived from the primitives above -------------------------
    @staticmethod
    def dbl(x: str) -> str:
        return f"CAST({x} AS DOUBLE)"

    @staticmethod
    def num(value: float) -> str:
        """A float literal as an exact DOUBLE (both dialects read 7.0 as a DECIMAL)."""
        return f"CAST({float(value)!r} AS DOUBLE)"

    @staticmethod
    def ts(value: pd.Timestamp) -> str:
        return f"TIMESTAMP '{pd.Timestamp(value).strftime('%Y-%m-%d %H:%M:%S')}'"

    @staticmethod
    def nan_to_null(x: str) -> str:
        """NaN is missing, as in pandas (Spark keeps NaN apart from NULL)."""
        return f"(CASE WHEN isnan({x}) THEN NULL ELSE {x} END)"

    def seconds(self, a: str, b: str) -> str:
        """Wall-clock seconds from a to b (naive timestamps, no time zone, like pandas)."""

        def tod(x):
            return f"(hour({x}) * 3600 + minute({x}) * 60 + second({x}))"

        return f"({self.days(a, b)} * 86400 + {tod(b)} - {tod(a)})"


class DuckDBDialect(Dialect):
    name = "duckdb"

    def q(self, ident):
        return '"' + str(ident).replace('"', '""') + '"'

    def days(self, a, b):
        return f"date_diff('day', CAST({a} AS DATE), CAST({b} AS DATE))"

    def median(self, x):
        return f"quantile_cont({x}, 0.5)"

    def arg_min(self, x, by):
        return f"arg_min({x}, {by})"

    def row(self, *parts):
        return f"row({', '.join(parts)})"


class SparkDialect(Dialect):
    name = "spark"

    def q(self, ident):
        return "`" + str(ident).replace("`", "``") + "`"

    def days(self, a, b):
        return f"datediff(CAST({b} AS DATE), CAST({a} AS DATE))"

    def median(self, x):
        return f"percentile({x}, 0.5)"

    def arg_min(self, x, by):
        return f"min_by({x}, {by})"

    def row(self, *parts):
        return f"struct({', '.join(parts)})"


def _install_hint(extra: str, package: str) -> str:
    return f'install it with `pip install "crmlab[{extra}]"` (or `pip install {package}`)'


class Engine:
    """Common interface; see :class:`DuckDBEngine` and :class:`SparkEngine`."""

    dialect: Dialect

    def view(self, source, what: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def columns(self, view: str) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def df(self, sql: str) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def drop(self, view: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _name(self, what: str) -> str:
        return f"crmlab_{what}_{os.getpid()}_{next(_COUNTER)}"

    @staticmethod
    def _path(source) -> Path | None:
        if isinstance(source, (str, os.PathLike)):
            return Path(source)
        return None

    @staticmethod
    def _format(path: Path, what: str) -> str:
        text = str(path).lower()
        if text.endswith((".parquet", ".pq")) or (path.is_dir() and not any(path.glob("*.csv"))):
            return "parquet"
        if text.endswith((".csv", ".csv.gz", ".tsv", ".txt")) or (path.is_dir() and any(path.glob("*.csv"))):
            return "csv"
        raise ParameterError(f"{what}: cannot tell the file format of {str(path)!r}",
                             fix="name the file *.parquet or *.csv (a folder or glob of such files also works)")

    @staticmethod
    def _check_exists(path: Path, what: str) -> None:
        text = str(path)
        if any(ch in text for ch in "*?["):
            import glob

            if not glob.glob(text):
                raise ParameterError(f"{what}: no file matches {text!r}", fix="check the path and the glob pattern")
        elif not path.exists():
            raise ParameterError(f"{what}: {text!r} does not exist",
                                 fix="check the path (write a world with crmlab.synth.parquet.write_world_parquet)")


class DuckDBEngine(Engine):
    """DuckDB in this process: reads Parquet/CSV larger than memory, spills to disk.

    ``threads``/``memory_limit``/``temp_directory`` are passed to DuckDB as settings.
    """

    dialect = DuckDBDialect()

    def __init__(self, connection=None, *, threads: int | None = None, memory_limit: str | None = None,
                 temp_directory: str | None = None):
        try:
            import duckdb
        except ImportError as err:
            raise ImportError("crmlab.scale needs DuckDB: " + _install_hint("scale", "duckdb")) from err
        self.con = duckdb.connect() if connection is None else connection
        # no progress bar on stdout (it would land in notebooks and logs)
        self.con.execute("SET enable_progress_bar = false")
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if temp_directory is not None:
            self.con.execute(f"SET temp_directory = '{temp_directory}'")

    def __repr__(self) -> str:
        return "DuckDBEngine()"

    def view(self, source, what: str) -> str:
        import duckdb

        name = self._name(what)
        path = self._path(source)
        if path is not None:
            self._check_exists(path, what)
            fmt = self._format(path, what)
            target = str(path / "*.parquet") if path.is_dir() and fmt == "parquet" else (
                str(path / "*.csv") if path.is_dir() else str(path))
            lit = "'" + target.replace("'", "''") + "'"
            reader = f"read_parquet({lit})" if fmt == "parquet" else f"read_csv({lit}, header = true)"
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {self.dialect.q(name)} AS SELECT * FROM {reader}")
        elif isinstance(source, pd.DataFrame):
            self.con.register(name, source)
        elif isinstance(source, duckdb.DuckDBPyRelation):
            source.create_view(name, replace=True)
            try:  # the view lives in the relation's own connection
                self.con.execute(f"SELECT * FROM {self.dialect.q(name)} LIMIT 0")
            except duckdb.Error:
                raise ParameterError(f"{what} is a DuckDB relation of another connection",
                                     fix="pass engine=<the duckdb connection that made the relation>") from None
        else:
            raise ParameterError(
                f"{what} must be a path to Parquet/CSV files, a pandas DataFrame or a DuckDB relation, "
                f"got {type(source).__name__}",
                fix=f"pass e.g. {what}='{what}.parquet'; a Spark DataFrame needs engine=<SparkSession>")
        return name

    def columns(self, view: str) -> dict[str, str]:
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {self.dialect.q(view)}").fetchall()
        return {r[0]: str(r[1]).upper() for r in rows}

    def df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def batches(self, sql: str, batch_size: int) -> Iterator:
        """pyarrow RecordBatches of at most ``batch_size`` rows; the result is never whole in memory."""
        rel = self.con.sql(sql)
        # DuckDB 2 spells it relation.to_arrow_reader; 1.x has relation.record_batch
        reader = (rel.to_arrow_reader(batch_size) if hasattr(rel, "to_arrow_reader")
                  else rel.record_batch(batch_size))
        yield from reader

    def drop(self, view: str) -> None:
        try:
            self.con.execute(f"DROP VIEW IF EXISTS {self.dialect.q(view)}")
        except Exception:  # noqa: BLE001 - a registered pandas frame is not a view
            self.con.unregister(view)


class SparkEngine(Engine):
    """A SparkSession (local or a cluster); the SQL runs as Spark SQL on temporary views."""

    dialect = SparkDialect()

    def __init__(self, spark):
        self.spark = spark

    def __repr__(self) -> str:
        return f"SparkEngine(master={self.spark.sparkContext.master!r})"

    def view(self, source, what: str) -> str:
        from pyspark.sql import DataFrame as SparkFrame

        name = self._name(what)
        path = self._path(source)
        if path is not None:
            self._check_exists(path, what)
            fmt = self._format(path, what)
            reader = self.spark.read
            sdf = reader.parquet(str(path)) if fmt == "parquet" else reader.csv(
                str(path), header=True, inferSchema=True)
        elif isinstance(source, SparkFrame):
            sdf = source
        elif isinstance(source, pd.DataFrame):
            sdf = self.spark.createDataFrame(source)
        else:
            raise ParameterError(
                f"{what} must be a Spark DataFrame, a path to Parquet/CSV files or a pandas DataFrame, "
                f"got {type(source).__name__}", fix=f"pass e.g. spark.read.parquet('{what}.parquet')")
        sdf.createOrReplaceTempView(name)
        return name

    def columns(self, view: str) -> dict[str, str]:
        return {f.name: f.dataType.simpleString().upper() for f in self.spark.table(view).schema.fields}

    def frame(self, sql: str):
        return self.spark.sql(sql)

    def df(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()

    def drop(self, view: str) -> None:
        self.spark.catalog.dropTempView(view)


_DEFAULT: DuckDBEngine | None = None


def default_engine() -> DuckDBEngine:
    """One DuckDB connection per process, made on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = DuckDBEngine()
    return _DEFAULT


def _is_spark_frame(obj) -> bool:
    mod = type(obj).__module__ or ""
    return mod.startswith("pyspark.") and type(obj).__name__ == "DataFrame"


def _is_spark_session(obj) -> bool:
    mod = type(obj).__module__ or ""
    return mod.startswith("pyspark.") and type(obj).__name__ == "SparkSession"


def _is_duckdb_connection(obj) -> bool:
    try:
        import duckdb
    except ImportError:
        return False
    return isinstance(obj, duckdb.DuckDBPyConnection)


def resolve_engine(engine, *sources) -> Engine:
    """The engine to run on: the one given, else Spark when a source is a Spark DataFrame, else DuckDB.

    ``engine`` may be a crmlab engine, a ``SparkSession``, a ``duckdb`` connection, ``"duckdb"``
    or ``None``.
    """
    if isinstance(engine, Engine):
        return engine
    if engine is None:
        for s in sources:
            if _is_spark_frame(s):
                return SparkEngine(s.sparkSession)
        return default_engine()
    if isinstance(engine, str):
        if engine == "duckdb":
            return default_engine()
        raise ParameterError(f"engine must be 'duckdb', a duckdb connection or a SparkSession, got {engine!r}",
                             fix="pass engine=spark (your SparkSession) to run on Spark")
    if _is_spark_session(engine):
        return SparkEngine(engine)
    if _is_duckdb_connection(engine):
        return DuckDBEngine(engine)
    raise ParameterError(f"engine must be None, 'duckdb', a duckdb connection or a SparkSession, "
                         f"got {type(engine).__name__}", fix="leave engine=None to use DuckDB")
