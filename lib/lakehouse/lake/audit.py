"""Audit watermarks: the last version of each table whose blocking data-quality rules passed.

A job that writes a table evaluates its blocking rules and records the outcome here, in the
``_system/audit_log`` Delta table (one row per table, version and evaluation). Downstream
jobs never read the latest version of an input: they read it as of its audit watermark
(Delta time travel), so rows a failed rule covers stop at the layer that wrote them.

- ``passed``: every blocking rule of the table passed on this version (including the
  scopes that failed before and were re-evaluated).
- ``failed``: a blocking rule failed; the watermark stays where it was until a later
  evaluation passes. ``reason`` is the one-line explanation shown to users.
- ``overridden``: a person accepted this version despite a failure, with a recorded reason.

Example::

    entry = AuditEntry("silver.events", 12, "passed", run_id="r1", job="bronze_to_silver")
    record_audit(spark, paths, [entry])
    audited_version(spark, paths, "silver.events")     # 12
    audited = read_audited(spark, paths, "silver.events")
    audited.df, audited.version                        # the table as of version 12
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths

AUDIT_LOG = "audit_log"
STATUSES = ("passed", "failed", "overridden")
ACCEPTED = ("passed", "overridden")

AUDIT_LOG_SCHEMA = T.StructType(
    [
        T.StructField("table_name", T.StringType(), False),  # <layer>.<table>, without env prefix
        T.StructField("version", T.LongType(), False),
        T.StructField("status", T.StringType(), False),
        T.StructField("run_id", T.StringType(), False),
        T.StructField("job", T.StringType(), False),
        T.StructField("blocking_failures", T.LongType(), False),
        T.StructField("reason", T.StringType(), True),
        T.StructField("scope", T.StringType(), True),  # JSON: what was evaluated (e.g. event dates)
        T.StructField("recorded_at", T.TimestampType(), False),
    ]
)


class UnauditedInputError(RuntimeError):
    """A downstream job asked for a table that has no audited version yet."""


@dataclass(frozen=True)
class AuditEntry:
    """One audit outcome of one table version."""

    table_name: str
    version: int
    status: str
    run_id: str
    job: str
    blocking_failures: int = 0
    reason: str | None = None
    scope: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"audit status must be one of {STATUSES}, got {self.status!r}")
        if "." not in self.table_name:
            raise ValueError(f"audit table name must be <layer>.<table>, got {self.table_name!r}")


@dataclass(frozen=True)
class AuditedRead:
    """A table read as of its audit watermark."""

    table_name: str
    version: int
    df: DataFrame


def table_path(paths: LakePaths, table_name: str) -> str:
    """Storage path of ``<layer>.<table>`` (``silver.events`` -> ``<root>/silver/events``)."""
    layer, name = table_name.split(".", 1)
    if layer == "silver":
        return paths.silver(name)
    if layer == "gold":
        return paths.gold(name)
    if layer == "_system":
        return paths.system(name)
    raise ValueError(f"unknown layer {layer!r} in {table_name!r}")


def ensure_audit_log(spark: SparkSession, paths: LakePaths) -> None:
    """Create ``_system/audit_log`` unless it exists."""
    delta.create_if_absent(spark, paths.system(AUDIT_LOG), AUDIT_LOG_SCHEMA)


def record_audit(
    spark: SparkSession, paths: LakePaths, entries: list[AuditEntry], *, txn: delta.Txn | None = None
) -> None:
    """Append audit outcomes in one commit (idempotent under ``txn``)."""
    if not entries:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            e.table_name,
            int(e.version),
            e.status,
            e.run_id,
            e.job,
            int(e.blocking_failures),
            e.reason,
            json.dumps(e.scope, sort_keys=True, default=str) if e.scope else None,
            now,
        )
        for e in entries
    ]
    delta.append(spark.createDataFrame(rows, AUDIT_LOG_SCHEMA), paths.system(AUDIT_LOG), txn=txn)


def read_audit_log(spark: SparkSession, paths: LakePaths) -> DataFrame:
    """The audit log (empty when nothing was audited yet)."""
    ensure_audit_log(spark, paths)
    return spark.read.format("delta").load(paths.system(AUDIT_LOG))


def audited_versions(spark: SparkSession, paths: LakePaths) -> dict[str, int]:
    """Audit watermark of every audited table: ``{table_name: version}`` (one row per table)."""
    rows = (
        read_audit_log(spark, paths)
        .where(F.col("status").isin(*ACCEPTED))
        .groupBy("table_name")
        .agg(F.max("version").alias("version"))
        .collect()
    )
    return {r["table_name"]: int(r["version"]) for r in rows}


def audited_version(spark: SparkSession, paths: LakePaths, table_name: str) -> int | None:
    """The audit watermark of one table, or None when no version passed yet."""
    return audited_versions(spark, paths).get(table_name)


def open_failures(spark: SparkSession, paths: LakePaths, table_name: str | None = None) -> list[dict]:
    """Failed evaluations newer than their table's watermark (what keeps a table failed).

    One dict per (table, latest failed evaluation): ``table_name, version, reason, scope, run_id``.
    """
    log = read_audit_log(spark, paths)
    if table_name is not None:
        log = log.where(F.col("table_name") == table_name)
    accepted = (
        log.where(F.col("status").isin(*ACCEPTED))
        .groupBy("table_name")
        .agg(F.max("version").alias("watermark"))
    )
    failed = log.where(F.col("status") == "failed").join(accepted, "table_name", "left")
    failed = failed.where(F.col("watermark").isNull() | (F.col("version") > F.col("watermark")))
    latest = (
        failed.groupBy("table_name")
        .agg(F.max(F.struct("recorded_at", "version", "reason", "scope", "run_id")).alias("last"))
        .select("table_name", "last.*")
        .orderBy("table_name")
    )
    return [
        {
            "table_name": r["table_name"],
            "version": int(r["version"]),
            "reason": r["reason"],
            "scope": json.loads(r["scope"]) if r["scope"] else {},
            "run_id": r["run_id"],
        }
        for r in latest.collect()
    ]


def read_audited(
    spark: SparkSession,
    paths: LakePaths,
    table_name: str,
    *,
    watermarks: Mapping[str, int] | None = None,
) -> AuditedRead:
    """Read ``<layer>.<table>`` as of its audit watermark; :class:`UnauditedInputError` if none.

    ``watermarks`` (an :func:`audited_versions` answer a caller already holds) saves reading
    the audit log once per table.
    """
    version = (watermarks if watermarks is not None else audited_versions(spark, paths)).get(table_name)
    if version is None:
        raise UnauditedInputError(
            f"{table_name} has no audited version yet: its writing job has not passed its blocking rules"
        )
    df = spark.read.format("delta").option("versionAsOf", version).load(table_path(paths, table_name))
    return AuditedRead(table_name, version, df)


@dataclass(frozen=True)
class TableAuditStatus:
    """One audited table as ``lakehouse audit status`` shows it."""

    table_name: str
    watermark: int | None
    latest_version: int | None
    failure: dict | None  # the open failure (``open_failures`` row), if any


def audit_status(spark: SparkSession, paths: LakePaths) -> list[TableAuditStatus]:
    """Every table in the audit log: its watermark, latest version and open failure."""
    watermarks = audited_versions(spark, paths)
    failures = {f["table_name"]: f for f in open_failures(spark, paths)}
    names = sorted(
        r["table_name"] for r in read_audit_log(spark, paths).select("table_name").distinct().collect()
    )
    return [
        TableAuditStatus(
            name,
            watermarks.get(name),
            delta.current_version(spark, table_path(paths, name)),
            failures.get(name),
        )
        for name in names
    ]


def override(
    spark: SparkSession, paths: LakePaths, table_name: str, version: int, *, reason: str, run_id: str
) -> AuditEntry:
    """Accept ``version`` of a table despite its failure, with a person's reason (moves the watermark).

    Raises ``ValueError`` for an empty reason, an unknown table or a version it does not have.
    """
    if not reason or not reason.strip():
        raise ValueError("an override needs a reason (--reason)")
    latest = delta.current_version(spark, table_path(paths, table_name))
    if latest is None:
        raise ValueError(f"no table {table_name}")
    if not 0 <= version <= latest:
        raise ValueError(f"{table_name} has versions 0..{latest}, not {version}")
    entry = AuditEntry(
        table_name, version, "overridden", run_id=run_id, job="audit override", reason=reason.strip()
    )
    record_audit(spark, paths, [entry])
    return entry
