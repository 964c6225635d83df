"""Exactly-once events: pick one row per ``event_id`` and classify the others.

A Bronze record whose ``event_id`` was already seen is a *duplicate* when its
``payload_hash`` matches the kept row and a *conflict* when it does not (same id,
different content). Neither becomes a new Silver row; conflicts are recorded.

Example::

    ranked = valid.transform(rank_within_batch)
    classified = classify_against_existing(ranked, existing_ids)
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

NEW, DUPLICATE, CONFLICT = "new", "duplicate", "conflict"


def _arrival_order() -> list:
    """The first arrival wins: earliest receipt, then file and line (deterministic on replays)."""
    return [F.col("received_at").asc_nulls_last(), F.col("bronze_file"), F.col("bronze_line")]


def rank_within_batch(valid: DataFrame) -> DataFrame:
    """Add ``first_payload_hash`` and ``is_first``: the batch's first row of each ``event_id``."""
    by_id = Window.partitionBy("event_id").orderBy(*_arrival_order())
    return valid.withColumn("is_first", F.row_number().over(by_id) == 1).withColumn(
        "first_payload_hash", F.first("payload_hash").over(by_id.rowsBetween(Window.unboundedPreceding, 0))
    )


def classify_against_existing(ranked: DataFrame, existing: DataFrame) -> DataFrame:
    """Add ``dedupe_status`` (new | duplicate | conflict) and ``kept_payload_hash``.

    ``existing`` holds ``event_id, payload_hash`` of the events already in Silver
    (within the look-back window). A batch's first row is new unless Silver has the
    id; every other row is compared with the kept row: Silver's if the id existed,
    else the batch's first.
    """
    known = existing.select("event_id", F.col("payload_hash").alias("existing_payload_hash"))
    joined = ranked.join(known, "event_id", "left")
    kept_hash = F.coalesce(F.col("existing_payload_hash"), F.col("first_payload_hash"))
    status = (
        F.when(F.col("is_first") & F.col("existing_payload_hash").isNull(), F.lit(NEW))
        .when(F.col("payload_hash") == kept_hash, F.lit(DUPLICATE))
        .otherwise(F.lit(CONFLICT))
    )
    return joined.withColumn("kept_payload_hash", kept_hash).withColumn("dedupe_status", status)
