"""Delta Lake writers and catalog registration used by every job.

The appends, creations and transactions every job writes through. MERGEs are built beside
the table they change (``silver/tables.py``, ``marts/publish.py``, the quarantine replay)
and run inside ``dml_transaction``. Each write takes an optional ``txn`` (application id,
version) so a retried micro-batch is applied once: Delta records the pair in the table's
log and skips a write it has already seen.

Example::

    append(df, paths.system("run_log"))
    register_table(spark, "silver.events", paths.silver("events"), comment="One row per unique event")
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator

from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

Txn = tuple[str, int]


def table_exists(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def append(
    df: DataFrame,
    path: str,
    *,
    partition_by: list[str] | None = None,
    txn: Txn | None = None,
    change_data_feed: bool = False,
) -> None:
    """Append rows to a Delta table (created on first write), idempotently under ``txn``."""
    writer = df.write.format("delta").mode("append").option("mergeSchema", "true")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if txn:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", str(txn[1]))
    if change_data_feed:
        writer = writer.option("delta.enableChangeDataFeed", "true")
    writer.save(path)


def create_if_absent(
    spark: SparkSession,
    path: str,
    schema,
    *,
    partition_by: list[str] | None = None,
    change_data_feed: bool = False,
    comment: str = "",
) -> None:
    """Create an empty Delta table with ``schema`` at ``path`` unless one exists.

    ``comment`` becomes the table's description in its first commit, where the catalog and
    other engines read it; later writes keep it.

    Example::

        create_if_absent(spark, "/lake/gold/mart_x", schema, partition_by=["date"],
                         change_data_feed=True, comment="Daily x. Grain: one row per date.")
    """
    if table_exists(spark, path):
        return
    if comment:
        from delta.tables import DeltaTable

        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema).comment(comment)
        if partition_by:
            builder = builder.partitionedBy(*partition_by)
        if change_data_feed:
            builder = builder.property("delta.enableChangeDataFeed", "true")
        builder.execute()
        return
    writer = spark.createDataFrame([], schema).write.format("delta").mode("ignore")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if change_data_feed:
        writer = writer.option("delta.enableChangeDataFeed", "true")
    writer.save(path)


@contextlib.contextmanager
def dml_transaction(spark: SparkSession, txn: Txn | None) -> Iterator[None]:
    """Make the DML (MERGE, UPDATE, DELETE) inside idempotent under ``txn``."""
    if txn is None:
        yield
        return
    spark.conf.set("spark.databricks.delta.write.txnAppId", txn[0])
    spark.conf.set("spark.databricks.delta.write.txnVersion", str(txn[1]))
    try:
        yield
    finally:
        spark.conf.unset("spark.databricks.delta.write.txnAppId")
        spark.conf.unset("spark.databricks.delta.write.txnVersion")


def applied_txn_version(spark: SparkSession, path: str, app_id: str) -> int | None:
    """The last ``txnVersion`` Delta recorded for ``app_id`` on a table, if any.

    Read from the latest commit when that commit carries it (the common case: the job wrote
    last); otherwise from the table's reconstructed state, which is a Spark job.
    """
    if not table_exists(spark, path):
        return None
    jvm = spark.sparkContext._jvm
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    snapshot = delta_log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty())
    for action in _commit_actions(spark, delta_log, int(snapshot.version())):
        txn = action.get("txn")
        if txn and txn.get("appId") == app_id:
            return int(txn["version"])
    version = snapshot.transactions().get(app_id)
    return None if version.isEmpty() else int(version.get())


def _commit_actions(spark: SparkSession, delta_log, version: int) -> list[dict]:
    """The actions of one commit file of the log (empty when it cannot be read)."""
    jvm = spark.sparkContext._jvm
    try:
        commit = jvm.org.apache.hadoop.fs.Path(delta_log.logPath(), f"{version:020d}.json")
        stream = commit.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).open(commit)
        try:
            text = jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()
    except Exception:  # noqa: BLE001 (a log without the JSON file: the reconstructed state answers)
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def change_feed(spark: SparkSession, path: str, *, starting: int, ending: int) -> DataFrame:
    """The change rows (``_change_type``, ``_commit_version``, ...) of versions ``starting..ending``.

    Lazy: a feed that is off or vacuumed for those versions fails when the frame is read.

    Example::

        inserted = change_feed(spark, paths.silver("events"), starting=4, ending=7).where(
            "_change_type = 'insert'"
        )
    """
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", starting)
        .option("endingVersion", ending)
        .load(path)
    )


def current_version(spark: SparkSession, path: str) -> int | None:
    """The latest version of a Delta table, or None if there is no table at ``path``."""
    if not table_exists(spark, path):
        return None
    jvm = spark.sparkContext._jvm
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    return int(delta_log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty()).version())


def _catalog_location(spark: SparkSession, database: str, table: str) -> str | None:
    """Where the catalog says a table lives (a metastore lookup, no Delta log read)."""
    jvm = spark.sparkContext._jvm
    identifier = jvm.org.apache.spark.sql.catalyst.TableIdentifier(table, jvm.scala.Some(database))
    catalog = spark._jsparkSession.sessionState().catalog()
    if not catalog.tableExists(identifier):
        return None
    return catalog.getTableMetadata(identifier).location().toString()


def _same_location(a: str, b: str) -> bool:
    normalize = lambda uri: uri.removeprefix("file:").replace("///", "/").rstrip("/")  # noqa: E731
    return normalize(a) == normalize(b)


def register_table(spark: SparkSession, name: str, path: str, *, comment: str = "") -> None:
    """Register a Delta table in the catalog at ``path`` (re-pointed if it moved)."""
    database, table = name.split(".", 1)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    location = _catalog_location(spark, database, table)
    if location is not None:
        if _same_location(location, path):
            return
        spark.sql(f"DROP TABLE {name}")
    # COMMENT applies only where CREATE starts the log; an existing log keeps the description of
    # its first commit (create_if_absent's comment) and is never given a COMMENT ON commit, which
    # would move the table past its audit watermark and its Delta txn ids.
    escaped = comment.replace("'", "\\'")
    spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION '{path}' COMMENT '{escaped}'")
    log.info("table registered", extra={"table": name})
