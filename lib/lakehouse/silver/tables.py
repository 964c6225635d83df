"""Writers of the Silver tables, the quarantine and the ingest accounting.

Table names follow the specs in ``jobs/bronze_to_silver/tables/``. Every writer takes
the batch's Delta transaction id so a replayed micro-batch is applied once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import yaml
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.assets import asset_dir
from lakehouse.bronze.damage import ERROR_TYPE as UNREADABLE_FILE
from lakehouse.events.canonical import ENVELOPE_COLUMNS
from lakehouse.events.stripe import STRIPE_OBJECT_TYPES, STRIPE_TABLES, stripe_merge_condition
from lakehouse.lake import delta
from lakehouse.lake.delta import Txn
from lakehouse.lake.paths import LakePaths

log = logging.getLogger(__name__)

EVENTS = "events"

EVENT_COLUMNS = [
    *ENVELOPE_COLUMNS,
    "family",
    "payload",
    "payload_hash",
    "bronze_file",
    "bronze_line",
    "ingest_batch_id",
]

QUARANTINE_COLUMNS = [
    "error_type",
    "error_message",
    "raw_record",
    "channel",
    "bronze_file",
    "bronze_line",
    "received_hour",
    "ingest_batch_id",
]

ACCOUNTING_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("channel", T.StringType(), False),
        T.StructField("batch_id", T.LongType(), False),
        T.StructField("files", T.LongType(), False),  # files with at least one record
        T.StructField("records_read", T.LongType(), False),
        T.StructField("written", T.LongType(), False),
        T.StructField("duplicates", T.LongType(), False),
        T.StructField("conflicts", T.LongType(), False),
        T.StructField("quarantined", T.LongType(), False),
        T.StructField("processed_at", T.TimestampType(), False),
        # Files: received (listed by the stream) = read + unreadable (quarantine/files).
        T.StructField("files_received", T.LongType(), True),
        T.StructField("files_read", T.LongType(), True),
        T.StructField("files_unreadable", T.LongType(), True),
    ]
)
FILE_COUNT_KEYS = ("files_received", "files_read", "files_unreadable")

FILE_QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("bronze_file", T.StringType(), False),
        T.StructField("channel", T.StringType(), True),
        T.StructField("error_type", T.StringType(), False),
        T.StructField("error_message", T.StringType(), False),
        T.StructField("file_bytes", T.LongType(), False),
        T.StructField("recovered_bytes", T.LongType(), False),  # decompressed before the damage
        T.StructField("recovered_lines", T.LongType(), False),  # complete lines among them, ingested
        T.StructField("ingest_batch_id", T.LongType(), False),
        T.StructField("run_id", T.StringType(), False),
        T.StructField("quarantined_at", T.TimestampType(), False),
    ]
)


def stripe_table_name(object_type: str) -> str:
    return STRIPE_TABLES[object_type]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def path_exists(spark: SparkSession, uri: str) -> bool:
    """Whether a path exists, on any Hadoop file system (local, s3a)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(path)


def _run_columns(df: DataFrame, run_id: str) -> DataFrame:
    return df.withColumn("run_id", F.lit(run_id)).withColumn("ingested_at", F.current_timestamp())


def append_events(events: DataFrame, paths: LakePaths, run_id: str, txn: Txn) -> None:
    """Append new events to ``silver/events`` (partitioned by event date, change data feed on)."""
    rows = _run_columns(events.select(*EVENT_COLUMNS), run_id)
    delta.append(rows, paths.silver(EVENTS), partition_by=["event_date"], txn=txn, change_data_feed=True)


def append_family(rows: DataFrame, paths: LakePaths, table: str, run_id: str, txn: Txn) -> None:
    """Append the typed rows of one event family to its Silver table."""
    delta.append(
        _run_columns(rows, run_id),
        paths.silver(table),
        partition_by=["event_date"],
        txn=txn,
        change_data_feed=True,
    )


def write_quarantine(invalid: DataFrame, paths: LakePaths, run_id: str, txn: Txn) -> None:
    """Append rejected records, with their reason, file and line, to ``quarantine/records``."""
    rows = (
        invalid.select(*QUARANTINE_COLUMNS)
        .withColumn("run_id", F.lit(run_id))
        .withColumn("quarantined_at", F.current_timestamp())
        .withColumn("replayed_run_id", F.lit(None).cast("string"))
        .withColumn("replayed_at", F.lit(None).cast("timestamp"))
    )
    delta.append(rows, paths.quarantine("records"), txn=txn)


def write_conflicts(conflicts: DataFrame, paths: LakePaths, run_id: str, txn: Txn) -> None:
    """Record events whose id was seen with a different payload (kept once, never silently)."""
    rows = conflicts.select(
        "event_id",
        "event_name",
        "channel",
        F.col("kept_payload_hash"),
        F.col("payload_hash").alias("conflicting_payload_hash"),
        F.col("payload").alias("conflicting_payload"),
        "bronze_file",
        "bronze_line",
    ).withColumn("run_id", F.lit(run_id))
    delta.append(
        rows.withColumn("detected_at", F.current_timestamp()), paths.quarantine("conflicts"), txn=txn
    )


def merge_stripe_objects(
    spark: SparkSession, latest: DataFrame, paths: LakePaths, object_type: str, txn: Txn
) -> bool:
    """Upsert the latest state of Stripe objects, ordered by Stripe's event time, never arrival.

    ``latest`` is one row per object (``stripe_objects``); an incoming row replaces the
    stored one only when its ``state_order_key`` (Stripe ``created``, lifecycle rank,
    event id) is greater, so batches may arrive in any order. The table is created
    outside the transaction so that its creation does not use up ``txn``. With no rows,
    only ``txn`` is recorded (an empty commit). Returns whether rows were merged.
    """
    from delta.tables import DeltaTable

    path = paths.silver(stripe_table_name(object_type))
    if not delta.table_exists(spark, path):
        delta.create_if_absent(
            spark, path, latest.schema, partition_by=["created_date"], change_data_feed=True
        )
    if latest.isEmpty():
        delta.append(latest, path, partition_by=["created_date"], txn=txn)
        return False
    on, newer = stripe_merge_condition(object_type)
    with delta.dml_transaction(spark, txn):
        (
            DeltaTable.forPath(spark, path)
            .alias("t")
            .merge(latest.alias("s"), on)
            .whenMatchedUpdateAll(condition=newer)
            .whenNotMatchedInsertAll()
            .execute()
        )
    return True


def write_accounting(
    spark: SparkSession,
    paths: LakePaths,
    run_id: str,
    batch_id: int,
    per_channel: dict[str, dict[str, int]],
    txn: Txn,
) -> None:
    """Append one accounting row per channel of a batch (one commit, idempotent under ``txn``)."""
    now = _now()
    rows = [
        (
            run_id,
            channel,
            int(batch_id),
            counts["files"],
            counts["records_read"],
            counts["written"],
            counts["duplicates"],
            counts["conflicts"],
            counts["quarantined"],
            now,
            *[counts.get(key) for key in FILE_COUNT_KEYS],
        )
        for channel, counts in sorted(per_channel.items())
    ]
    if rows:
        delta.append(spark.createDataFrame(rows, ACCOUNTING_SCHEMA), paths.system("ingest_batches"), txn=txn)


def write_file_quarantine(
    spark: SparkSession,
    paths: LakePaths,
    damaged: list,
    channels: list[str],
    batch_id: int,
    run_id: str,
    txn: Txn,
) -> None:
    """Record unreadable Bronze files (``FileDamage``), one row each, in ``quarantine/files``."""
    now = _now()
    rows = [
        (
            d.bronze_file,
            channel,
            UNREADABLE_FILE,
            d.error_message,
            d.file_bytes,
            d.recovered_bytes,
            d.recovered_lines,
            int(batch_id),
            run_id,
            now,
        )
        for d, channel in zip(damaged, channels, strict=True)
    ]
    delta.append(spark.createDataFrame(rows, FILE_QUARANTINE_SCHEMA), paths.quarantine("files"), txn=txn)


def read_accounting(spark: SparkSession, paths: LakePaths) -> DataFrame:
    return spark.read.format("delta").load(paths.system("ingest_batches"))


def empty_family_table(spark: SparkSession, registry, table: str) -> DataFrame | None:
    """A family table that no event of its family has reached yet, as its (empty) rows would be.

    None when ``table`` is not a family table of the canon. Downstream layers read a family that
    has not happened yet (no support ticket so far, say) as empty rather than as missing.
    """
    from lakehouse.events import family_table_schema

    families = {registry.family_table_name(f): f for f in registry.families}
    if table not in families:
        return None
    schema = family_table_schema(registry, families[table])
    schema = schema.add("run_id", T.StringType()).add("ingested_at", T.TimestampType())
    return spark.createDataFrame([], schema)


def ensure_system_tables(spark: SparkSession, paths: LakePaths) -> None:
    delta.create_if_absent(spark, paths.system("ingest_batches"), ACCOUNTING_SCHEMA)


def table_specs() -> dict[str, dict]:
    """The Silver table specs (grain, keys, column descriptions) keyed by table name."""
    folder = asset_dir("jobs") / "bronze_to_silver" / "tables"
    specs = {}
    for path in sorted(folder.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        specs[spec.get("name", path.stem)] = spec
    return specs


def register_silver_tables(spark: SparkSession, paths: LakePaths, registry, database: str) -> None:
    """Register every Silver table that exists in the catalog, with its description."""
    specs = table_specs()
    names = [EVENTS]
    names += [registry.family_table_name(f) for f in registry.families]
    names += [stripe_table_name(t) for t in STRIPE_OBJECT_TYPES]
    for name in names:
        path = paths.silver(name)
        if delta.table_exists(spark, path):
            spec = specs.get(name, {})
            delta.register_table(
                spark, f"{database}.{name}", path, comment=str(spec.get("description", "")).strip()
            )
