"""Late arrivals: what reached the ledger or Stripe after its business day was published.

A published close is never changed by a late item. By default the item is *forward-posted*:
the next close (the open day) records a ``late_arrival_adjustment`` row naming the item, its
original close date and its amount. A restatement (``--restate DATE``) instead republishes
the day as its next close version, and records, per entity and side, how the new version
differs from the one it replaces.

Example::

    late = forward_posted(ledger_items, processor_items, published_match, window)
    changed = restated(new_match, previous_match)
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.finance.inputs import CloseWindow

ADJUSTMENT_COLUMNS = (
    "original_close_date",
    "side",
    "entity_type",
    "entity_id",
    "processor_ref",
    "finance_category",
    "amount_minor",
    "currency",
    "reason",
)

ADJUSTMENT_SCHEMA = (
    "original_close_date date, side string, entity_type string, entity_id string, processor_ref string, "
    "finance_category string, amount_minor bigint, currency string, reason string"
)


def _sides(ledger: DataFrame, processor: DataFrame, window: CloseWindow) -> DataFrame:
    def side(df: DataFrame, name: str) -> DataFrame:
        return df.select(
            window.business_date("at").alias("original_close_date"),
            F.lit(name).alias("side"),
            "entity_type",
            F.col("item_id").alias("entity_id"),
            "processor_ref",
            "finance_category",
            "amount_minor",
            "currency",
        )

    return side(ledger, "ledger").unionByName(side(processor, "processor"))


def forward_posted(
    ledger: DataFrame, processor: DataFrame, published_match: DataFrame, window: CloseWindow
) -> DataFrame:
    """Items dated on an earlier, published business day that its published close did not hold.

    ``ledger`` and ``processor`` are items of the look-back days (before the close date);
    ``published_match`` the published ``mart_ledger_processor_match`` rows of those days.
    """
    published_days = published_match.select(F.col("close_date").alias("original_close_date")).distinct()
    items = _sides(ledger, processor, window).join(published_days, "original_close_date", "left_semi")
    seen_ledger = published_match.where("ledger_id IS NOT NULL").select(
        F.lit("ledger").alias("side"), "entity_type", F.col("ledger_id").alias("entity_id")
    )
    seen_processor = published_match.where("processor_amount_minor IS NOT NULL").select(
        F.lit("processor").alias("side"), "entity_type", F.col("processor_ref").alias("entity_id")
    )
    seen = seen_ledger.unionByName(seen_processor)
    late = items.join(seen, ["side", "entity_type", "entity_id"], "left_anti")
    return late.withColumn("reason", F.lit("late_event")).select(*ADJUSTMENT_COLUMNS)


def restated(match: DataFrame, previous: DataFrame) -> DataFrame:
    """Per entity and side, the amount by which a restated close differs from the version it
    replaces (both: ``mart_ledger_processor_match`` rows of the same close date)."""

    def side(df: DataFrame, name: str, amount: str, currency: str, ref_column: str) -> DataFrame:
        return df.select(
            F.lit(name).alias("side"),
            "entity_type",
            F.col(ref_column).alias("entity_id"),
            "processor_ref",
            "finance_category",
            F.coalesce(F.col(amount), F.lit(0)).alias("amount"),
            F.col(currency).alias("currency"),
            F.col("close_date").alias("original_close_date"),
        ).where(F.col("entity_id").isNotNull())

    keys = ["side", "entity_type", "entity_id"]
    new = side(match, "ledger", "ledger_amount_minor", "ledger_currency", "ledger_id").unionByName(
        side(match, "processor", "processor_amount_minor", "processor_currency", "processor_ref")
    )
    old = side(previous, "ledger", "ledger_amount_minor", "ledger_currency", "ledger_id").unionByName(
        side(previous, "processor", "processor_amount_minor", "processor_currency", "processor_ref")
    )
    both = new.alias("n").join(old.alias("o"), keys, "full_outer")
    change = F.coalesce(F.col("n.amount"), F.lit(0)) - F.coalesce(F.col("o.amount"), F.lit(0))
    return both.where(change != 0).select(
        F.coalesce("n.original_close_date", "o.original_close_date").alias("original_close_date"),
        *keys,
        F.coalesce("n.processor_ref", "o.processor_ref").alias("processor_ref"),
        F.coalesce("n.finance_category", "o.finance_category").alias("finance_category"),
        change.cast("bigint").alias("amount_minor"),
        F.coalesce("n.currency", "o.currency").alias("currency"),
        F.lit("restatement").alias("reason"),
    )
