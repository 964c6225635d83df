"""The close's state in ``_system``: every state change of every attempt, the exceptions each
attempt raised, and the resolutions people recorded.

- ``_system/close_runs``: one row per state change (append-only): pending -> extracting ->
  checking -> failed | audited -> published (-> restated when a later version is published);
  ``gold.close_run`` is its latest row per attempt.
- ``_system/close_exceptions``: every exception of every attempt, published or not, so that
  finance can see and resolve what blocked a close.
- ``_system/close_resolutions``: who resolved which exception (close date, check, entity) and why.

Published close marts are read through :func:`published`: the rows of the latest published
version of each close date, so a failed, partial or unaudited close is never what a reader sees.

Example::

    record_state(spark, paths, state.moved("checking"))
    published(spark, paths, "mart_recon_summary")       # only published close versions
    resolve(spark, paths, date(2026, 11, 1), "R9", "pay_000003", reason="...", resolved_by="ana")
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths

CLOSE_RUNS = "close_runs"
CLOSE_EXCEPTIONS = "close_exceptions"
CLOSE_CHECKS = "close_checks"
CLOSE_RESOLUTIONS = "close_resolutions"
STATES = ("pending", "extracting", "checking", "failed", "audited", "published", "restated")

CLOSE_RUN_SCHEMA = T.StructType(
    [
        T.StructField("close_date", T.DateType(), False),
        T.StructField("close_run_id", T.StringType(), False),
        T.StructField("close_version", T.IntegerType(), False),
        T.StructField("attempt_id", T.StringType(), False),
        T.StructField("run_seq", T.LongType(), False),
        T.StructField("state", T.StringType(), False),
        T.StructField("business_tz", T.StringType(), False),
        T.StructField("cutoff_utc_start", T.TimestampType(), False),
        T.StructField("cutoff_utc_end", T.TimestampType(), False),
        T.StructField("ledger_source", T.StringType(), True),
        T.StructField("ledger_export_id", T.StringType(), True),
        T.StructField("ledger_snapshot_time", T.TimestampType(), True),
        T.StructField("stripe_max_event_at", T.TimestampType(), True),
        T.StructField("input_versions", T.MapType(T.StringType(), T.LongType()), True),
        T.StructField("checks_passed", T.LongType(), True),
        T.StructField("checks_failed", T.LongType(), True),
        T.StructField("checks_warned", T.LongType(), True),
        T.StructField("exception_count", T.LongType(), True),
        T.StructField("blocking_open", T.LongType(), True),
        T.StructField("reason", T.StringType(), True),
        T.StructField("restates_run_id", T.StringType(), True),
        T.StructField("updated_at", T.TimestampType(), False),
    ]
)

RESOLUTION_SCHEMA = T.StructType(
    [
        T.StructField("resolution_id", T.StringType(), False),
        T.StructField("close_date", T.DateType(), False),
        T.StructField("check_id", T.StringType(), False),
        T.StructField("entity_id", T.StringType(), False),
        T.StructField("reason", T.StringType(), False),
        T.StructField("resolved_by", T.StringType(), False),
        T.StructField("resolved_at", T.TimestampType(), False),
    ]
)


class CloseStateError(ValueError):
    """A request the close's state does not allow (e.g. resolving an exception that does not exist)."""


@dataclass(frozen=True)
class CloseState:
    """One attempt of one close, as the next state change records it."""

    close_date: date
    close_run_id: str
    close_version: int
    attempt_id: str
    run_seq: int
    state: str
    business_tz: str
    cutoff_utc_start: datetime
    cutoff_utc_end: datetime
    ledger_source: str | None = None
    ledger_export_id: str | None = None
    ledger_snapshot_time: datetime | None = None
    stripe_max_event_at: datetime | None = None
    input_versions: dict[str, int] = field(default_factory=dict)
    checks_passed: int | None = None
    checks_failed: int | None = None
    checks_warned: int | None = None
    exception_count: int | None = None
    blocking_open: int | None = None
    reason: str | None = None
    restates_run_id: str | None = None

    def moved(self, state: str, **changes) -> CloseState:
        if state not in STATES:
            raise ValueError(f"unknown close state {state!r}")
        return replace(self, state=state, **changes)


def _naive(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def ensure_state_tables(spark: SparkSession, paths: LakePaths) -> None:
    delta.create_if_absent(spark, paths.system(CLOSE_RUNS), CLOSE_RUN_SCHEMA)
    delta.create_if_absent(spark, paths.system(CLOSE_RESOLUTIONS), RESOLUTION_SCHEMA)


def record_state(spark: SparkSession, paths: LakePaths, state: CloseState) -> None:
    """Append one state change."""
    values = asdict(state)
    for key in ("cutoff_utc_start", "cutoff_utc_end", "ledger_snapshot_time", "stripe_max_event_at"):
        values[key] = _naive(values[key])
    values["updated_at"] = datetime.now(UTC).replace(tzinfo=None)
    row = tuple(values[f.name] for f in CLOSE_RUN_SCHEMA.fields)
    delta.append(spark.createDataFrame([row], CLOSE_RUN_SCHEMA), paths.system(CLOSE_RUNS))


def read_close_runs(spark: SparkSession, paths: LakePaths) -> DataFrame:
    ensure_state_tables(spark, paths)
    return spark.read.format("delta").load(paths.system(CLOSE_RUNS))


def close_run_view(spark: SparkSession, paths: LakePaths) -> DataFrame:
    """The latest state of every attempt (``gold.close_run``)."""
    runs = read_close_runs(spark, paths)
    latest = Window.partitionBy("attempt_id").orderBy(F.desc("updated_at"), F.desc("_order"))
    order = F.expr(f"array_position(array({', '.join(repr(s) for s in STATES)}), state)")
    return (
        runs.withColumn("_order", order)
        .withColumn("_n", F.row_number().over(latest))
        .where("_n = 1")
        .drop("_n", "_order")
    )


def next_run_seq(spark: SparkSession, paths: LakePaths) -> int:
    (row,) = read_close_runs(spark, paths).agg(F.max("run_seq").alias("m")).collect()
    return int(row.m or 0) + 1


def published_versions(spark: SparkSession, paths: LakePaths, close_date: date) -> list[tuple[int, str]]:
    """``(close_version, close_run_id)`` of every published version of a close date, oldest first."""
    rows = (
        read_close_runs(spark, paths)
        .where((F.col("close_date") == F.lit(close_date)) & (F.col("state") == "published"))
        .select("close_version", "close_run_id")
        .distinct()
        .orderBy("close_version")
        .collect()
    )
    return [(int(r.close_version), r.close_run_id) for r in rows]


def mark_restated(spark: SparkSession, paths: LakePaths, close_run_id: str) -> None:
    """A later version was published: the attempt that published ``close_run_id`` is restated."""
    rows = (
        read_close_runs(spark, paths)
        .where((F.col("close_run_id") == close_run_id) & (F.col("state") == "published"))
        .orderBy(F.desc("updated_at"))
        .limit(1)
        .collect()
    )
    if rows:
        row = rows[0].asDict()
        row.update(state="restated", updated_at=datetime.now(UTC).replace(tzinfo=None))
        frame = spark.createDataFrame([tuple(row[f.name] for f in CLOSE_RUN_SCHEMA.fields)], CLOSE_RUN_SCHEMA)
        delta.append(frame, paths.system(CLOSE_RUNS))


def published_close_runs(spark: SparkSession, paths: LakePaths) -> DataFrame:
    """``close_date, close_run_id, close_version`` of the latest published version per date."""
    runs = read_close_runs(spark, paths).where("state = 'published'")
    latest = Window.partitionBy("close_date").orderBy(F.desc("close_version"))
    return (
        runs.select("close_date", "close_run_id", "close_version")
        .distinct()
        .withColumn("_n", F.row_number().over(latest))
        .where("_n = 1")
        .drop("_n")
    )


def published(spark: SparkSession, paths: LakePaths, mart: str) -> DataFrame:
    """The rows of a close mart that belong to the latest published version of their date."""
    rows = spark.read.format("delta").load(paths.gold(mart))
    return rows.join(published_close_runs(spark, paths).select("close_run_id"), "close_run_id", "left_semi")


# ------------------------------------------------------------------------------ exceptions


def record_attempt(
    spark: SparkSession, paths: LakePaths, table: str, rows: DataFrame, *, attempt_id: str, run_seq: int
) -> None:
    """An attempt's exceptions or check rows, published or not (idempotent per attempt)."""
    if table not in (CLOSE_EXCEPTIONS, CLOSE_CHECKS):
        raise ValueError(f"not a close attempt table: {table}")
    rows = rows.withColumn("attempt_id", F.lit(attempt_id)).withColumn(
        "recorded_at", F.lit(datetime.now(UTC).replace(tzinfo=None))
    )
    delta.append(rows, paths.system(table), txn=(f"finance_close:{table}", run_seq))


def attempt_rows(spark: SparkSession, paths: LakePaths, table: str, attempt_id: str) -> DataFrame | None:
    """What :func:`record_attempt` recorded for one attempt (None before any)."""
    path = paths.system(table)
    if not delta.table_exists(spark, path):
        return None
    return spark.read.format("delta").load(path).where(F.col("attempt_id") == attempt_id)


def latest_attempt(spark: SparkSession, paths: LakePaths, close_date: date) -> dict | None:
    """The latest state of the latest attempt of a close date (a dict), or None."""
    rows = (
        close_run_view(spark, paths)
        .where(F.col("close_date") == F.lit(close_date))
        .orderBy(F.desc("run_seq"))
        .limit(1)
        .collect()
    )
    return rows[0].asDict() if rows else None


def read_resolutions(spark: SparkSession, paths: LakePaths, close_date: date) -> DataFrame:
    ensure_state_tables(spark, paths)
    return (
        spark.read.format("delta")
        .load(paths.system(CLOSE_RESOLUTIONS))
        .where(F.col("close_date") == F.lit(close_date))
    )


def resolve(
    spark: SparkSession,
    paths: LakePaths,
    close_date: date,
    check_id: str,
    entity_id: str,
    *,
    reason: str,
    resolved_by: str,
) -> str:
    """Record that a person resolved an exception of the latest attempt of ``close_date``."""
    if not reason.strip() or not resolved_by.strip():
        raise CloseStateError("a resolution needs a reason and who resolved it")
    attempt = latest_attempt(spark, paths, close_date)
    if attempt is None:
        raise CloseStateError(f"no close of {close_date} has been attempted")
    found = attempt_rows(spark, paths, CLOSE_EXCEPTIONS, attempt["attempt_id"])
    match = None
    if found is not None:
        match = (
            found.where((F.col("check_id") == check_id) & (F.col("entity_id") == entity_id))
            .limit(1)
            .collect()
        )
    if not match:
        raise CloseStateError(
            f"the latest close of {close_date} ({attempt['close_run_id']}) has no {check_id} exception "
            f"for {entity_id}"
        )
    resolution_id = uuid.uuid4().hex
    row = (
        resolution_id,
        close_date,
        check_id,
        entity_id,
        reason.strip(),
        resolved_by.strip(),
        datetime.now(UTC).replace(tzinfo=None),
    )
    delta.append(spark.createDataFrame([row], RESOLUTION_SCHEMA), paths.system(CLOSE_RESOLUTIONS))
    return resolution_id


@dataclass(frozen=True)
class PublishedClose:
    business_date: date
    publication_id: str


def latest_published_close(spark: SparkSession, lake_root: str) -> PublishedClose | None:
    """The close published most recently (what the BI refresh follows), or None before any."""
    paths = LakePaths(lake_root)
    if not delta.table_exists(spark, paths.system(CLOSE_RUNS)):
        return None
    rows = (
        read_close_runs(spark, paths)
        .where("state = 'published'")
        .orderBy(F.desc("updated_at"))
        .limit(1)
        .collect()
    )
    if not rows:
        return None
    return PublishedClose(rows[0].close_date, rows[0].close_run_id)
