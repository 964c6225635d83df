"""One experiment's health and latest results, read from the published Gold tables.

What ``lakehouse experiments report`` prints: per experiment phase, its health rows
(units per variation against the weights, SRM) and its results as of the latest snapshot
(lift, intervals, guardrail verdicts, status and decision).

Example::

    readout = experiment_readout(spark, LakePaths("/tmp/lake"), key="search-ranking-v2")
    readout.health_columns, readout.health_rows, readout.result_columns, readout.result_rows
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakehouse.lake.audit import read_audited
from lakehouse.lake.paths import LakePaths

HEALTH_COLUMNS = [
    "experiment_key", "phase", "variation", "units", "expected_share", "observed_share",
    "units_multiple", "units_mismatched", "units_late", "srm_p_value", "status",
]  # fmt: skip
RESULT_COLUMNS = [
    "experiment_key", "phase", "as_of_date", "metric_key", "role", "currency", "variation",
    "units_control", "units", "lift", "ci_low", "ci_high", "p_value_adjusted",
    "sequential_ci_low", "sequential_ci_high", "guardrail_status", "status", "decision",
]  # fmt: skip


@dataclass(frozen=True)
class Readout:
    health_columns: list[str]
    health_rows: list[tuple]
    result_columns: list[str]
    result_rows: list[tuple]


def latest_snapshot(results: DataFrame) -> DataFrame:
    """The rows of each experiment phase's latest as-of date."""
    latest = F.max("as_of_date").over(Window.partitionBy("experiment_key", "phase"))
    return (
        results.withColumn("_latest", latest).where(F.col("as_of_date") == F.col("_latest")).drop("_latest")
    )


def experiment_readout(spark: SparkSession, paths: LakePaths, key: str | None = None) -> Readout:
    """Health and latest-snapshot results of one experiment (every experiment when ``key`` is None),
    as of the tables' audit watermarks."""
    health = read_audited(spark, paths, "gold.exp_health").df
    results = read_audited(spark, paths, "gold.exp_results").df
    if key is not None:
        health = health.where(F.col("experiment_key") == key)
        results = results.where(F.col("experiment_key") == key)
    results = latest_snapshot(results)
    order = ["experiment_key", "phase"]
    health_rows = [tuple(r) for r in health.select(*HEALTH_COLUMNS).orderBy(*order, "variation").collect()]
    result_rows = [
        tuple(r)
        for r in results.select(*RESULT_COLUMNS)
        .orderBy(*order, "role", "metric_key", "currency", "variation")
        .collect()
    ]
    return Readout(HEALTH_COLUMNS, health_rows, RESULT_COLUMNS, result_rows)
