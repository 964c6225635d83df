"""Exposures: every logged exposure classified and re-derived from the registry, then one
row per experiment x phase x unit (the assignment of record).

- :func:`registry_frame`: ``gold.exp_registry`` rows, one per experiment x phase, with the
  bucket ranges computed on the driver;
- :func:`classify_exposures`: each exposure event gets its phase, a status (``ok``,
  ``unknown_experiment``, ``outside_phase``, ``unknown_variation``, ``missing_unit``) and
  the variation GrowthBook's hash assigns (``hashed_variation``); nothing is dropped;
- :func:`first_exposures`: per experiment x phase x unit over the ``ok`` exposures: first
  exposure time and variation, ``__multiple__`` for units seen in more than one variation,
  the variation the unit should hold (sticky: its first assignment of the same bucket
  version; otherwise the hash), ``hash_mismatch`` and ``late_exposure`` (the first exposure
  reached the lake more than :data:`LATE_EXPOSURE_AFTER` after it happened, so the daily
  snapshots in between did not count the unit);
- :func:`exposure_counts`: exposures per experiment and status, for the health table.

Example::

    registry_df = registry_frame(spark, load_registry())
    classified = events.transform(classify_exposures(registry_df))
    firsts = classified.transform(first_exposures)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.experiments.bucketing import assign_variation
from lakehouse.experiments.registry import Registry

MULTIPLE = "__multiple__"
LATE_EXPOSURE_AFTER = timedelta(hours=24)
STATUSES = ("ok", "unknown_experiment", "outside_phase", "unknown_variation", "missing_unit")

REGISTRY_SCHEMA = T.StructType(
    [
        T.StructField("experiment_key", T.StringType(), False),
        T.StructField("phase", T.IntegerType(), False),
        T.StructField("start_ts", T.TimestampType(), False),
        T.StructField("end_ts", T.TimestampType(), True),
        T.StructField("unit", T.StringType(), False),
        T.StructField("hash_attribute", T.StringType(), False),
        T.StructField("seed", T.StringType(), False),
        T.StructField("hash_version", T.IntegerType(), False),
        T.StructField("sticky", T.BooleanType(), False),
        T.StructField("bucket_version", T.IntegerType(), False),
        T.StructField("min_bucket_version", T.IntegerType(), False),
        T.StructField("coverage", T.DoubleType(), False),
        T.StructField("variation_keys", T.ArrayType(T.StringType(), False), False),
        T.StructField("weights", T.ArrayType(T.DoubleType(), False), False),
        T.StructField(
            "ranges",
            T.ArrayType(
                T.StructType([T.StructField("start", T.DoubleType()), T.StructField("end", T.DoubleType())]),
                False,
            ),
            False,
        ),
        T.StructField("alpha", T.DoubleType(), False),
        T.StructField("srm_p_threshold", T.DoubleType(), False),
    ]
)


def registry_rows(registry: Registry) -> list[tuple]:
    """One tuple per experiment x phase, in :data:`REGISTRY_SCHEMA` order (UTC-naive times)."""
    rows = []
    for experiment in registry.values():
        for phase in experiment.phases:
            rows.append(
                (
                    experiment.key,
                    phase.index,
                    phase.start.replace(tzinfo=None),
                    phase.end.replace(tzinfo=None) if phase.end else None,
                    experiment.unit,
                    experiment.hash_attribute,
                    phase.seed,
                    experiment.hash_version,
                    experiment.sticky,
                    phase.bucket_version,
                    phase.min_bucket_version,
                    phase.coverage,
                    [v.key for v in experiment.variations],
                    list(phase.weights),
                    [tuple(r) for r in phase.ranges],
                    experiment.analysis.alpha,
                    experiment.analysis.srm_p_threshold,
                )
            )
    return rows


def registry_frame(spark: SparkSession, registry: Registry) -> DataFrame:
    """``gold.exp_registry``: one row per experiment x phase."""
    return spark.createDataFrame(registry_rows(registry), REGISTRY_SCHEMA)


def _id_column(which: str) -> F.Column:
    return F.when(F.col(which) == "user_id", F.col("user_id")).when(
        F.col(which) == "anon_id", F.col("anon_id")
    )


def classify_exposures(registry_df: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Exposure events (``event_id, experiment_key, variant, occurred_at, user_id, anon_id``)
    -> the same rows plus ``phase``, ``unit_id``, ``hashed_variation``, ``bucket_version``,
    ``sticky``, ``min_bucket_version`` and ``status``.

    The registry is small: broadcast, joined on key and phase window (phases never overlap).
    """

    def transform(events: DataFrame) -> DataFrame:
        phases = F.broadcast(registry_df.alias("r"))
        known = F.broadcast(registry_df.select(F.col("experiment_key").alias("known_key")).distinct())
        e = events.alias("e")
        joined = (
            e.join(
                phases,
                (F.col("e.experiment_key") == F.col("r.experiment_key"))
                & (F.col("e.occurred_at") >= F.col("r.start_ts"))
                & (F.col("r.end_ts").isNull() | (F.col("e.occurred_at") < F.col("r.end_ts"))),
                "left",
            )
            .join(known, F.col("e.experiment_key") == F.col("known_key"), "left")
            .select(
                "e.*", *[F.col(f"r.{c}") for c in registry_df.columns if c != "experiment_key"], "known_key"
            )
        )
        hashed_index = assign_variation(
            _id_column("hash_attribute"), F.col("seed"), F.col("hash_version"), F.col("ranges")
        )
        status = (
            F.when(F.col("known_key").isNull(), "unknown_experiment")
            .when(F.col("phase").isNull(), "outside_phase")
            .when(~F.array_contains(F.col("variation_keys"), F.col("variant")), "unknown_variation")
            .when(_id_column("unit").isNull() | (_id_column("unit") == ""), "missing_unit")
            .otherwise("ok")
        )
        return (
            joined.withColumn("unit_id", _id_column("unit"))
            .withColumn(
                "hashed_variation",
                F.when(hashed_index >= 0, F.element_at(F.col("variation_keys"), hashed_index + 1)),
            )
            .withColumn("status", status)
            .select(
                *events.columns,
                "phase",
                "unit_id",
                "hashed_variation",
                "sticky",
                "bucket_version",
                "min_bucket_version",
                "status",
            )
        )

    return transform


def first_exposures(classified: DataFrame) -> DataFrame:
    """One row per experiment x phase x unit over the ``ok`` exposures.

    ``variation`` is the first logged variation, or ``__multiple__`` when the unit was seen
    in several (excluded from analysis). ``expected_variation`` is what the unit should
    hold: under sticky bucketing its first assignment in an earlier phase of the same bucket
    version, else the hash; a unit holding an assignment of a bucket version below the
    phase's ``min_bucket_version`` is ``excluded_stale_bucket`` (GrowthBook excludes it).
    ``first_exposure_received_at`` is the arrival (``received_at``) of the first exposure, null
    where the events carry no arrival time; ``late_exposure`` compares it with
    :data:`LATE_EXPOSURE_AFTER`.
    """
    ok = classified.where(F.col("status") == "ok")
    received = F.col("received_at") if "received_at" in classified.columns else F.lit(None).cast("timestamp")
    keys = ["experiment_key", "phase", "unit_id"]
    firsts = ok.groupBy(*keys).agg(
        F.min("occurred_at").alias("first_exposure_ts"),
        F.min_by(received, "occurred_at").alias("first_exposure_received_at"),
        F.min_by("variant", "occurred_at").alias("first_variation"),
        F.countDistinct("variant").alias("n_variations"),
        F.count(F.lit(1)).alias("n_exposure_events"),
        F.min_by("hashed_variation", "occurred_at").alias("hashed_variation"),
        F.first("sticky").alias("sticky"),
        F.first("bucket_version").alias("bucket_version"),
        F.first("min_bucket_version").alias("min_bucket_version"),
    )
    earlier = Window.partitionBy("experiment_key", "unit_id").orderBy("phase")
    same_version = Window.partitionBy("experiment_key", "unit_id", "bucket_version").orderBy("phase")
    before = (Window.unboundedPreceding, -1)
    held_variation = F.first("first_variation").over(same_version.rowsBetween(*before))
    oldest_version = F.min("bucket_version").over(earlier.rowsBetween(*before))
    stale = F.coalesce(oldest_version < F.col("min_bucket_version"), F.lit(False))
    expected = F.when(F.col("sticky") & held_variation.isNotNull(), held_variation).otherwise(
        F.col("hashed_variation")
    )
    return (
        firsts.withColumn("excluded_stale_bucket", stale)
        .withColumn("expected_variation", F.when(~F.col("excluded_stale_bucket"), expected))
        .withColumn(
            "variation",
            F.when(F.col("n_variations") > 1, F.lit(MULTIPLE)).otherwise(F.col("first_variation")),
        )
        .withColumn("first_exposure_date", F.to_date("first_exposure_ts"))
        .withColumn(
            "late_exposure",
            F.coalesce(
                F.col("first_exposure_received_at")
                > F.col("first_exposure_ts")
                + F.expr(f"INTERVAL {int(LATE_EXPOSURE_AFTER.total_seconds())} SECONDS"),
                F.lit(False),
            ),
        )
        .withColumn(
            "hash_mismatch",
            ~F.col("excluded_stale_bucket")
            & ~F.col("first_variation").eqNullSafe(F.col("expected_variation")),
        )
        .select(
            *keys,
            "first_exposure_ts",
            "first_exposure_date",
            "variation",
            "first_variation",
            "n_variations",
            "n_exposure_events",
            "hashed_variation",
            "expected_variation",
            "hash_mismatch",
            "excluded_stale_bucket",
            "first_exposure_received_at",
            "late_exposure",
        )
    )


def exposure_counts(classified: DataFrame) -> DataFrame:
    """Exposure events per experiment key and status (every event counted once)."""
    return classified.groupBy("experiment_key", "status").agg(F.count(F.lit(1)).alias("exposures"))
