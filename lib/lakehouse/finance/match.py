"""The ledger beside Stripe, one row per entity: ``mart_ledger_processor_match``.

Ledger items and processor items are joined on ``(entity_type, processor_ref)`` over the
business day and its neighbours, then every pair with a side dated on the close date gets a
status:

- ``duplicate``: a second ledger row for a Stripe object already recorded (the earliest
  ledger row, then the smallest id, is the one matched);
- ``missing_in_processor`` / ``missing_in_ledger``: no counterpart within a day;
- ``timing_prior_day`` / ``timing_next_day``: the counterpart is on the neighbouring day;
- ``currency_mismatch``, ``amount_mismatch``: both present, and they disagree;
- ``matched``.

``diff_minor`` is the ledger amount minus the processor amount, each counted only when its
side is dated on the close date, so summing it per currency ties the day's totals out (R11).

Example::

    match = ledger_processor_match(ledger, processor, window, currencies)
    match.where("match_status <> 'matched'").show()
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from lakehouse.finance.inputs import CloseWindow


def ledger_processor_match(
    ledger: DataFrame, processor: DataFrame, window: CloseWindow, currencies: DataFrame
) -> DataFrame:
    """One row per ledger item or unmatched processor item with a side on the close date."""
    d = F.lit(window.close_date)
    first = Window.partitionBy("entity_type", "processor_ref").orderBy("at", "item_id")
    led = ledger.withColumn(
        "ledger_rank", F.when(F.col("processor_ref").isNull(), 1).otherwise(F.row_number().over(first))
    ).select(
        "entity_type",
        F.col("item_id").alias("ledger_id"),
        F.col("processor_ref").alias("l_ref"),
        F.col("lbg_id").alias("l_lbg"),
        F.col("finance_category").alias("l_category"),
        F.col("amount_minor").alias("ledger_amount_minor"),
        F.col("currency").alias("ledger_currency"),
        window.business_date("at").alias("ledger_close_date"),
        "ledger_rank",
    )
    proc = processor.select(
        F.col("entity_type").alias("p_type"),
        F.col("processor_ref").alias("p_ref"),
        F.col("lbg_id").alias("p_lbg"),
        F.col("finance_category").alias("p_category"),
        F.col("amount_minor").alias("processor_amount_minor"),
        F.col("currency").alias("processor_currency"),
        window.business_date("at").alias("processor_close_date"),
    )
    primary = led.where("ledger_rank = 1")
    pairs = primary.join(
        proc, (primary.entity_type == proc.p_type) & (primary.l_ref == proc.p_ref), "full_outer"
    ).drop("ledger_rank")
    duplicates = (
        led.where("ledger_rank > 1")
        .drop("ledger_rank")
        .select("*", *[F.lit(None).cast(t).alias(c) for c, t in proc.dtypes])
    )
    rows = pairs.unionByName(duplicates.withColumn("_duplicate", F.lit(True)), allowMissingColumns=True)
    ledger_on_day = F.col("ledger_close_date") == d
    processor_on_day = F.col("processor_close_date") == d
    has_ledger = F.col("ledger_id").isNotNull()
    has_processor = F.col("p_ref").isNotNull()
    status = (
        F.when(F.col("_duplicate"), "duplicate")
        .when(~has_processor, "missing_in_processor")
        .when(~has_ledger, "missing_in_ledger")
        .when(ledger_on_day & (F.col("processor_close_date") < d), "timing_prior_day")
        .when(ledger_on_day & (F.col("processor_close_date") > d), "timing_next_day")
        .when(processor_on_day & (F.col("ledger_close_date") < d), "timing_prior_day")
        .when(processor_on_day & (F.col("ledger_close_date") > d), "timing_next_day")
        .when(F.col("ledger_currency") != F.col("processor_currency"), "currency_mismatch")
        .when(F.col("ledger_amount_minor") != F.col("processor_amount_minor"), "amount_mismatch")
        .otherwise("matched")
    )
    ledger_part = F.when(ledger_on_day, F.col("ledger_amount_minor")).otherwise(0)
    processor_part = F.when(
        processor_on_day & ~F.coalesce(F.col("_duplicate"), F.lit(False)), F.col("processor_amount_minor")
    ).otherwise(0)
    same_currency = F.coalesce(F.col("ledger_currency"), F.col("processor_currency")) == F.coalesce(
        F.col("processor_currency"), F.col("ledger_currency")
    )
    diff = F.when(same_currency, F.coalesce(ledger_part, F.lit(0)) - F.coalesce(processor_part, F.lit(0)))
    exponents = currencies.select(F.col("currency").alias("_cur"), "currency_exponent")
    out = (
        rows.where(ledger_on_day | processor_on_day)
        .withColumn("_duplicate", F.coalesce(F.col("_duplicate"), F.lit(False)))
        .select(
            F.coalesce("entity_type", "p_type").alias("entity_type"),
            F.coalesce("ledger_id", "p_ref").alias("entity_id"),
            "ledger_id",
            F.coalesce("l_ref", "p_ref").alias("processor_ref"),
            F.coalesce("l_lbg", "p_lbg").alias("lbg_id"),
            F.coalesce("l_category", "p_category").alias("finance_category"),
            "ledger_amount_minor",
            "processor_amount_minor",
            F.coalesce(diff, F.lit(0)).cast("bigint").alias("diff_minor"),
            "ledger_currency",
            "processor_currency",
            "ledger_close_date",
            "processor_close_date",
            status.alias("match_status"),
        )
    )
    return out.join(
        exponents, F.coalesce(out.ledger_currency, out.processor_currency) == exponents._cur, "left"
    ).drop("_cur")


def contributions(match: DataFrame) -> DataFrame:
    """Each match row's part in the day's totals, per currency and side:
    ``currency, finance_category, entity_id, match_status, ledger_minor, processor_minor``.

    A currency mismatch contributes to two currencies, one side each, so the totals of every
    currency are exactly the ledger's and Stripe's sums for the day.
    """
    d_ledger = F.col("ledger_close_date") == F.col("close_date")
    d_processor = (F.col("processor_close_date") == F.col("close_date")) & (
        F.col("match_status") != "duplicate"
    )
    ledger_side = match.where(d_ledger & F.col("ledger_id").isNotNull()).select(
        F.col("ledger_currency").alias("currency"),
        "finance_category",
        "entity_id",
        "match_status",
        F.col("ledger_amount_minor").alias("ledger_minor"),
        F.lit(0).cast("bigint").alias("processor_minor"),
    )
    processor_side = match.where(d_processor & F.col("processor_amount_minor").isNotNull()).select(
        F.col("processor_currency").alias("currency"),
        "finance_category",
        "entity_id",
        "match_status",
        F.lit(0).cast("bigint").alias("ledger_minor"),
        F.col("processor_amount_minor").alias("processor_minor"),
    )
    return ledger_side.unionByName(processor_side)
