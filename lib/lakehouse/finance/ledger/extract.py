"""The ledger in the lake: one consistent snapshot per close, as an Aurora-export-style Parquet copy.

Two ways to get it, one way to read it:

* ``ledger_source=jdbc``: :func:`export_ledger_jdbc` opens one coordinating transaction on the
  ledger (REPEATABLE READ, READ ONLY), exports its snapshot (``pg_export_snapshot()``) and has
  every Spark JDBC connection import that same snapshot (``SET TRANSACTION SNAPSHOT``) before
  reading, so all tables are read as of one instant however many connections Spark opens. The
  tables are written to the lake in the layout of an Aurora snapshot export, and the export's
  info file, written last, records the snapshot as the close's ledger watermark.
* ``ledger_source=snapshot``: an export already in the lake (an Aurora export to S3, or one made
  as above) is used as it is.

Either way :func:`read_ledger_export` reads it, typed as :data:`LEDGER_TABLES` says, so both
sources give the close the same frames. The coordinating connection goes through the JVM's
PostgreSQL JDBC driver (the jar pom.xml declares), so a Glue job needs no Python driver.

Layout (``<export_root>/<export_id>/``)::

    export_info_<export_id>.json              written last: the export is complete when it exists
    <database>/ledger.<table>/1/part-*.parquet

Example::

    jdbc = LedgerJdbc("jdbc:postgresql://host:5432/ledger", user="finance_ro")
    export_ledger_jdbc(spark, jdbc, f"{lake}/ledger_exports", "close-2026-11-01")
    ledger = read_ledger_export(spark, f"{lake}/ledger_exports/close-2026-11-01")
    ledger.tables["payment"].count(); ledger.watermark.snapshot_time
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

log = logging.getLogger(__name__)

SCHEMA = "ledger"
EXPORT_INFO_PREFIX = "export_info_"

_TYPES = {"string": T.StringType(), "bigint": T.LongType(), "int": T.IntegerType(),
          "timestamp": T.TimestampType(), "date": T.DateType()}  # fmt: skip


def _table(*columns: str) -> T.StructType:
    """``"name type"`` per column; a type ending in ``?`` is nullable."""
    fields = []
    for column in columns:
        name, kind = column.split()
        fields.append(T.StructField(name, _TYPES[kind.rstrip("?")], kind.endswith("?")))
    return T.StructType(fields)


# What the close reads from each ledger table, typed as in the lake. Mirrors the migrations
# (a test compares this with the migrated database); money is BIGINT minor units.
LEDGER_TABLES: dict[str, T.StructType] = {
    "account": _table("account_code string", "name string", "kind string"),
    "journal_entry": _table(
        "entry_id bigint",
        "posted_at timestamp",
        "lbg_id string?",
        "source_kind string",
        "source_id string",
        "description string",
    ),
    "journal_line": _table(
        "entry_id bigint", "line_no int", "account_code string", "amount_minor bigint", "currency string"
    ),
    "invoice": _table(
        "invoice_id string",
        "lbg_id string",
        "processor_ref string?",
        "currency string",
        "subtotal_minor bigint",
        "tax_minor bigint",
        "total_minor bigint",
        "issued_at timestamp",
    ),
    "payment": _table(
        "payment_id string",
        "lbg_id string",
        "invoice_id string?",
        "processor_ref string",
        "product_line string",
        "amount_minor bigint",
        "currency string",
        "captured_at timestamp",
        "entry_id bigint",
    ),
    "refund": _table(
        "refund_id string",
        "payment_id string",
        "lbg_id string",
        "processor_ref string",
        "amount_minor bigint",
        "currency string",
        "refunded_at timestamp",
        "entry_id bigint",
    ),
    "tax_line": _table(
        "tax_line_id string",
        "payment_id string",
        "lbg_id string",
        "processor_ref string?",
        "jurisdiction_country string",
        "jurisdiction_state string",
        "taxable_minor bigint",
        "tax_minor bigint",
        "currency string",
        "posted_at timestamp",
    ),
    "dispute": _table(
        "dispute_id string",
        "payment_id string",
        "lbg_id string",
        "processor_ref string",
        "amount_minor bigint",
        "currency string",
        "status string",
        "opened_at timestamp",
        "closed_at timestamp?",
        "entry_id bigint",
    ),
    "payout": _table(
        "payout_id string",
        "processor_ref string",
        "amount_minor bigint",
        "currency string",
        "status string",
        "created_at timestamp",
        "arrival_date date",
        "entry_id bigint?",
    ),
}


class LedgerExtractError(RuntimeError):
    """The ledger could not be read as one consistent, complete snapshot."""


@dataclass(frozen=True)
class LedgerJdbc:
    """How to reach the ledger database over JDBC."""

    url: str
    user: str = ""
    password: str = field(default="", repr=False)
    fetch_size: int = 10_000

    def properties(self) -> dict[str, str]:
        props = {"driver": "org.postgresql.Driver", "fetchsize": str(self.fetch_size)}
        if self.user:
            props["user"] = self.user
        if self.password:
            props["password"] = self.password
        return props


@dataclass(frozen=True)
class LedgerWatermark:
    """Which state of the ledger a close read: recorded with the close."""

    source: str  # jdbc | snapshot
    export_id: str
    snapshot_time: datetime  # UTC instant of the snapshot
    snapshot_id: str = ""  # PostgreSQL exported snapshot id (jdbc)
    wal_lsn: str = ""  # WAL position at the snapshot (jdbc)
    database: str = ""

    def to_json(self) -> dict:
        return {**asdict(self), "snapshot_time": self.snapshot_time.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> LedgerWatermark:
        return cls(**{**data, "snapshot_time": datetime.fromisoformat(data["snapshot_time"])})


@dataclass(frozen=True)
class LedgerSnapshot:
    tables: dict[str, DataFrame]
    watermark: LedgerWatermark
    row_counts: dict[str, int]


def table_folder(export_dir: str, database: str, table: str) -> str:
    """``<export_dir>/<database>/ledger.<table>/1`` (Aurora export: schema.table, then partition index)."""
    return f"{export_dir.rstrip('/')}/{database}/{SCHEMA}.{table}/1"


def export_info_path(export_dir: str) -> str:
    export_id = export_dir.rstrip("/").rsplit("/", 1)[-1]
    return f"{export_dir.rstrip('/')}/{EXPORT_INFO_PREFIX}{export_id}.json"


# ---------------------------------------------------------------------------------------------
# JDBC: one exported snapshot, every table read inside it


def _database_of(url: str) -> str:
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def _typed(frame: DataFrame, table: str) -> DataFrame:
    """The frame with exactly the columns of :data:`LEDGER_TABLES`, cast to their types."""
    schema = LEDGER_TABLES[table]
    have = {c.lower() for c in frame.columns}
    missing = [f.name for f in schema.fields if f.name not in have]
    if missing:
        raise LedgerExtractError(f"ledger table {table} lacks column(s) {', '.join(missing)}")
    return frame.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


@dataclass(frozen=True)
class JdbcSnapshot:
    """An open snapshot of the ledger: frames read through it all see the same instant.

    Frames from :meth:`read` are lazy; act on them (write, count) before the snapshot closes.
    """

    watermark: LedgerWatermark
    jdbc: LedgerJdbc
    spark: SparkSession

    def read(self, table: str) -> DataFrame:
        """One ledger table as of the snapshot, typed as :data:`LEDGER_TABLES` says."""
        init = (
            "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; "
            f"SET TRANSACTION SNAPSHOT '{self.watermark.snapshot_id}'"
        )
        frame = (
            self.spark.read.format("jdbc")
            .option("url", self.jdbc.url)
            .option("dbtable", f"{SCHEMA}.{table}")
            .option("sessionInitStatement", init)
            .options(**self.jdbc.properties())
            .load()
        )
        return _typed(frame, table)


@contextlib.contextmanager
def jdbc_snapshot(spark: SparkSession, jdbc: LedgerJdbc, export_id: str = "") -> Iterator[JdbcSnapshot]:
    """Hold one REPEATABLE READ transaction on the ledger open and share its exported snapshot."""
    coordinator = _jvm_connection(spark, jdbc)
    try:
        coordinator.setAutoCommit(False)
        statement = coordinator.createStatement()
        statement.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        result = statement.executeQuery(
            "SELECT pg_export_snapshot(), pg_current_wal_lsn()::text,"
            " to_char(transaction_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        )
        result.next()
        snapshot_id, lsn, at = result.getString(1), result.getString(2), result.getString(3)
        watermark = LedgerWatermark(
            source="jdbc",
            export_id=export_id,
            snapshot_time=datetime.fromisoformat(at).replace(tzinfo=UTC),
            snapshot_id=snapshot_id,
            wal_lsn=lsn,
            database=_database_of(jdbc.url),
        )
        yield JdbcSnapshot(watermark=watermark, jdbc=jdbc, spark=spark)
        coordinator.commit()
    finally:
        coordinator.close()


def export_ledger_jdbc(
    spark: SparkSession,
    jdbc: LedgerJdbc,
    export_root: str,
    export_id: str | None = None,
) -> LedgerWatermark:
    """Copy the ledger's tables into ``<export_root>/<export_id>`` from one snapshot; its watermark."""
    export_id = export_id or f"ledger-{uuid.uuid4().hex[:12]}"
    export_dir = f"{export_root.rstrip('/')}/{export_id}"
    if _exists(spark, export_info_path(export_dir)):
        raise LedgerExtractError(f"ledger export {export_id} already exists; an export is written once")
    with jdbc_snapshot(spark, jdbc, export_id) as snapshot:
        frames = {table: snapshot.read(table) for table in LEDGER_TABLES}
        write_ledger_export(spark, export_dir, frames, snapshot.watermark)
    return snapshot.watermark


def write_ledger_export(
    spark: SparkSession, export_dir: str, frames: dict[str, DataFrame], watermark: LedgerWatermark
) -> None:
    """Write the tables in the export layout, then the info file that makes the export complete."""
    database = watermark.database
    counts = {}
    for table in LEDGER_TABLES:
        folder = table_folder(export_dir, database, table)
        _typed(frames[table], table).write.mode("overwrite").parquet(folder)
        counts[table] = spark.read.parquet(folder).count()
    info = {
        "exportTaskIdentifier": watermark.export_id,
        "status": "COMPLETE",
        "sourceType": "POSTGRESQL",
        "snapshotTime": watermark.snapshot_time.isoformat(),
        "database": database,
        "tables": [{"target": f"{database}/{SCHEMA}.{t}", "rowCount": n} for t, n in counts.items()],
        "ledgerWatermark": watermark.to_json(),
    }
    _write_text(spark, export_info_path(export_dir), json.dumps(info, indent=2, sort_keys=True))
    log.info(
        "ledger export written",
        extra={"event": "ledger_export", "export_id": watermark.export_id, "rows": sum(counts.values())},
    )


def _jvm_connection(spark: SparkSession, jdbc: LedgerJdbc):
    jvm = spark.sparkContext._jvm
    props = jvm.java.util.Properties()
    for key, value in jdbc.properties().items():
        if key != "driver":
            props.setProperty(key, value)
    # The driver jar is on Spark's class loader (spark.jars), not the JVM's: load it through Spark.
    driver = jvm.org.apache.spark.util.Utils.classForName("org.postgresql.Driver", True, False).newInstance()
    try:
        connection = driver.connect(jdbc.url, props)
    except Exception as exc:  # noqa: BLE001 - py4j wraps the SQLException; say what failed
        raise LedgerExtractError(f"cannot connect to the ledger at {jdbc.url}: {_first_line(exc)}") from None
    if connection is None:
        raise LedgerExtractError(f"not a PostgreSQL JDBC URL: {jdbc.url}")
    return connection


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if "Exception:" in line:
            return line.split("Exception:", 1)[1].strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Reading an export (either source)


def read_ledger_export(spark: SparkSession, export_dir: str) -> LedgerSnapshot:
    """The ledger tables of one complete export, typed; its watermark and row counts."""
    info_path = export_info_path(export_dir)
    if not _exists(spark, info_path):
        raise LedgerExtractError(
            f"no complete ledger export at {export_dir}: {info_path.rsplit('/', 1)[-1]} is missing"
        )
    info = json.loads(_read_text(spark, info_path))
    if info.get("status") != "COMPLETE":
        raise LedgerExtractError(
            f"ledger export {export_dir} has status {info.get('status')!r}, not COMPLETE"
        )
    database = info["database"]
    if "ledgerWatermark" in info:
        watermark = LedgerWatermark.from_json(info["ledgerWatermark"])
    else:  # an export made by Aurora itself
        watermark = LedgerWatermark(
            source="snapshot",
            export_id=info["exportTaskIdentifier"],
            snapshot_time=datetime.fromisoformat(info["snapshotTime"].replace("Z", "+00:00")),
            database=database,
        )
    expected = {t["target"]: t.get("rowCount") for t in info["tables"]}
    tables, counts = {}, {}
    for table in LEDGER_TABLES:
        target = f"{database}/{SCHEMA}.{table}"
        if target not in expected:
            raise LedgerExtractError(f"ledger export {export_dir} has no table {SCHEMA}.{table}")
        frame = _typed(spark.read.parquet(table_folder(export_dir, database, table)), table)
        counts[table] = frame.count()
        if expected[target] is not None and counts[table] != expected[target]:
            raise LedgerExtractError(
                f"ledger export {export_dir}: {SCHEMA}.{table} has {counts[table]} rows, "
                f"its export info says {expected[target]}"
            )
        tables[table] = frame
    return LedgerSnapshot(tables=tables, watermark=watermark, row_counts=counts)


def latest_export(spark: SparkSession, export_root: str) -> str | None:
    """The folder of the newest complete export under ``export_root`` (by snapshot time), or None."""
    fs, root = _fs_path(spark, export_root)
    if not fs.exists(root):
        return None
    found = []
    for status in fs.listStatus(root):
        if not status.isDirectory():
            continue
        folder = f"{export_root.rstrip('/')}/{status.getPath().getName()}"
        info_path = export_info_path(folder)
        if not _exists(spark, info_path):
            continue
        info = json.loads(_read_text(spark, info_path))
        if info.get("status") == "COMPLETE":
            found.append((str(info.get("snapshotTime", "")), folder))
    return max(found)[1] if found else None


# ---------------------------------------------------------------------------------------------
# Small files on any Hadoop file system (local folder or S3)


def _fs_path(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def _exists(spark: SparkSession, uri: str) -> bool:
    fs, path = _fs_path(spark, uri)
    return bool(fs.exists(path))


def _write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Write ``text`` to ``uri`` under a temporary name, then rename it into place."""
    jvm = spark.sparkContext._jvm
    fs, path = _fs_path(spark, uri)
    fs.setWriteChecksum(False)  # no .crc beside it: the file stays readable after a hand edit
    tmp = jvm.org.apache.hadoop.fs.Path(path.getParent(), f"._{path.getName()}.{uuid.uuid4().hex}")
    out = fs.create(tmp, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()
    if not fs.rename(tmp, path):
        fs.delete(tmp, False)
        raise LedgerExtractError(f"could not place {uri}")


def _read_text(spark: SparkSession, uri: str) -> str:
    fs, path = _fs_path(spark, uri)
    fs.setVerifyChecksum(False)
    stream = fs.open(path)
    try:
        return spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
