"""The run log: one row per job run in the ``_system/run_log`` Delta table.

Ops views are built on it. Arguments are stored with secrets masked; ``details``
holds the job's own figures (e.g. per-channel accounting) as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths

RUN_LOG_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("job", T.StringType(), False),
        T.StructField("env", T.StringType(), False),
        T.StructField("arguments", T.MapType(T.StringType(), T.StringType()), False),
        T.StructField("started_at", T.TimestampType(), False),
        T.StructField("ended_at", T.TimestampType(), False),
        T.StructField("status", T.StringType(), False),
        T.StructField("rows_in", T.LongType(), False),
        T.StructField("rows_out", T.LongType(), False),
        T.StructField("rows_quarantined", T.LongType(), False),
        T.StructField("details", T.StringType(), True),
        T.StructField("error", T.StringType(), True),
    ]
)


@dataclass
class RunRecord:
    run_id: str
    job: str
    env: str
    arguments: dict[str, str]
    started_at: datetime
    ended_at: datetime
    status: str
    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    details: dict = field(default_factory=dict)
    error: str | None = None


def write_run(spark: SparkSession, lake_root: str, record: RunRecord) -> None:
    """Append one run to the run log (idempotent per run id)."""
    row = (
        record.run_id,
        record.job,
        record.env,
        record.arguments,
        record.started_at,
        record.ended_at,
        record.status,
        int(record.rows_in),
        int(record.rows_out),
        int(record.rows_quarantined),
        json.dumps(record.details, sort_keys=True, default=str),
        record.error,
    )
    df = spark.createDataFrame([row], RUN_LOG_SCHEMA)
    delta.append(df, LakePaths(lake_root).system("run_log"), txn=(f"run_log:{record.run_id}", 0))


def read_runs(spark: SparkSession, lake_root: str):
    """The run log as a DataFrame."""
    return spark.read.format("delta").load(LakePaths(lake_root).system("run_log"))
