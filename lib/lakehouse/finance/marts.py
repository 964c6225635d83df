"""Close marts computed from the ledger (the source of record) for one business day.

Example::

    revenue = revenue_daily(snapshot.tables, window, currencies)
    tax = tax_liability_daily(snapshot.tables, window, currencies)
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.finance.inputs import CloseWindow

EXACT = "decimal(38,0)"


def _total(column: str) -> F.Column:
    return F.sum(F.col(column).cast(EXACT)).cast("bigint")


def day_payments(tables: dict[str, DataFrame], window: CloseWindow) -> DataFrame:
    return tables["payment"].where(window.on_day("captured_at"))


def day_refunds(tables: dict[str, DataFrame], window: CloseWindow) -> DataFrame:
    return tables["refund"].where(window.on_day("refunded_at"))


def day_tax_lines(tables: dict[str, DataFrame], window: CloseWindow) -> DataFrame:
    return tables["tax_line"].where(window.on_day("posted_at"))


def revenue_daily(tables: dict[str, DataFrame], window: CloseWindow, currencies: DataFrame) -> DataFrame:
    """Gross sales, refunds and tax per currency and product line (refunds and tax take the
    product line of their payment)."""
    lines = tables["payment"].select("payment_id", "product_line")
    sales = (
        day_payments(tables, window)
        .groupBy("currency", "product_line")
        .agg(_total("amount_minor").alias("gross_sales_minor"), F.count("*").alias("payment_count"))
    )
    refunds = (
        day_refunds(tables, window)
        .join(lines, "payment_id", "left")
        .groupBy("currency", F.coalesce("product_line", F.lit("unknown")).alias("product_line"))
        .agg(_total("amount_minor").alias("refunds_minor"), F.count("*").alias("refund_count"))
    )
    tax = (
        day_tax_lines(tables, window)
        .join(lines, "payment_id", "left")
        .groupBy("currency", F.coalesce("product_line", F.lit("unknown")).alias("product_line"))
        .agg(_total("tax_minor").alias("tax_collected_minor"))
    )
    keys = ["currency", "product_line"]
    joined = sales.join(refunds, keys, "full_outer").join(tax, keys, "full_outer")
    zero = F.lit(0).cast("bigint")
    out = joined.select(
        *keys,
        F.coalesce("gross_sales_minor", zero).alias("gross_sales_minor"),
        F.coalesce("refunds_minor", zero).alias("refunds_minor"),
        F.coalesce("tax_collected_minor", zero).alias("tax_collected_minor"),
        F.coalesce("payment_count", zero).cast("bigint").alias("payment_count"),
        F.coalesce("refund_count", zero).cast("bigint").alias("refund_count"),
    ).withColumn(
        "net_revenue_minor",
        F.col("gross_sales_minor") - F.col("refunds_minor") - F.col("tax_collected_minor"),
    )
    return out.join(currencies, "currency", "left")


def tax_liability_daily(
    tables: dict[str, DataFrame], window: CloseWindow, currencies: DataFrame
) -> DataFrame:
    """Tax per currency and jurisdiction by ``posted_at`` (the filing period)."""
    lines = day_tax_lines(tables, window)
    out = lines.groupBy("currency", "jurisdiction_country", "jurisdiction_state").agg(
        _total("taxable_minor").alias("taxable_amount_minor"),
        F.sum(F.when(F.col("tax_minor") > 0, F.col("tax_minor")).otherwise(0).cast(EXACT))
        .cast("bigint")
        .alias("tax_collected_minor"),
        F.sum(F.when(F.col("tax_minor") < 0, -F.col("tax_minor")).otherwise(0).cast(EXACT))
        .cast("bigint")
        .alias("tax_reversed_minor"),
        F.count("*").cast("bigint").alias("txn_count"),
    )
    out = out.withColumn("provider", F.lit("ledger")).withColumn(
        "net_tax_minor", F.col("tax_collected_minor") - F.col("tax_reversed_minor")
    )
    return out.join(currencies, "currency", "left")
