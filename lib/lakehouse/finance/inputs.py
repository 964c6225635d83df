"""What one close reads, in one shape per side: ledger items and processor (Stripe) items.

Every payment, refund, dispute and payout becomes an *item*: ``entity_type, item_id,
processor_ref, lbg_id, finance_category, amount_minor, currency, at, status`` (``currency``
lowercase, ``at`` the UTC instant that dates it, ``status`` normalised to what both sides
share). The ledger side comes from one ledger snapshot; the processor side from Silver's
Stripe object tables as of their audit watermarks.

Example::

    window = CloseWindow(date(2026, 11, 1), "America/New_York")
    ledger = ledger_items(snapshot.tables).where(window.in_read_window("at"))   # d-1 .. d+1
    processor = processor_items(silver).where(window.in_read_window("at"))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.finance.calendar import business_date, business_window, within

ITEM_COLUMNS = (
    "entity_type",
    "item_id",
    "processor_ref",
    "lbg_id",
    "finance_category",
    "amount_minor",
    "currency",
    "at",
    "status",
)

# The Silver tables of the Stripe side (read as of their audit watermarks).
STRIPE_TABLES = (
    "stg_stripe_charges",
    "stg_stripe_refunds",
    "stg_stripe_disputes",
    "stg_stripe_payouts",
    "stg_stripe_balance_transactions",
)


@dataclass(frozen=True)
class CloseWindow:
    """A business day and the neighbouring days a timing difference may fall on."""

    close_date: date
    business_tz: str

    @property
    def utc(self) -> tuple[datetime, datetime]:
        return business_window(self.close_date, self.business_tz)

    @property
    def read_utc(self) -> tuple[datetime, datetime]:
        """``[start(d-1), end(d+1))``: what the match reads to tell timing from missing."""
        start, _ = business_window(self.close_date - timedelta(days=1), self.business_tz)
        _, end = business_window(self.close_date + timedelta(days=1), self.business_tz)
        return start, end

    def on_day(self, timestamp: str | Column) -> Column:
        return within(timestamp, *self.utc)

    def in_read_window(self, timestamp: str | Column) -> Column:
        return within(timestamp, *self.read_utc)

    def before_day(self, timestamp: str | Column, days: int) -> Column:
        """Dated on one of the ``days`` business days before the close date."""
        start, _ = business_window(self.close_date - timedelta(days=days), self.business_tz)
        return within(timestamp, start, self.utc[0])

    def business_date(self, timestamp: str | Column) -> Column:
        return business_date(timestamp, self.business_tz)


# Where each item comes from: entity type, table, id column, processor id column, lbg_id
# column, finance category, amount column, the timestamp that dates it, and (processor side)
# the rows that count.
LEDGER_ITEMS = (
    (
        "payment",
        "payment",
        "payment_id",
        "processor_ref",
        "lbg_id",
        "sales",
        "amount_minor",
        "captured_at",
        None,
    ),
    (
        "refund",
        "refund",
        "refund_id",
        "processor_ref",
        "lbg_id",
        "refunds",
        "amount_minor",
        "refunded_at",
        None,
    ),
    (
        "dispute",
        "dispute",
        "dispute_id",
        "processor_ref",
        "lbg_id",
        "disputes",
        "amount_minor",
        "opened_at",
        None,
    ),
    ("payout", "payout", "payout_id", "processor_ref", None, "payouts", "amount_minor", "created_at", None),
)
CAPTURED = "status = 'succeeded' AND captured"
SUCCEEDED = "status = 'succeeded'"
PROCESSOR_ITEMS = (
    ("payment", "stg_stripe_charges", "charge_id", "charge_id", "lbg_id", "sales", "amount_captured_minor",
     "created_at", CAPTURED),
    ("refund", "stg_stripe_refunds", "refund_id", "refund_id", "lbg_id", "refunds", "amount_minor",
     "created_at", SUCCEEDED),
    ("dispute", "stg_stripe_disputes", "dispute_id", "dispute_id", None, "disputes", "amount_minor",
     "created_at", None),
    ("payout", "stg_stripe_payouts", "payout_id", "payout_id", None, "payouts", "amount_minor",
     "created_at", None),
)  # fmt: skip


def _status(entity_type: str) -> Column:
    """What both sides share of an item's status: a dispute's outcome, a payout's status."""
    if entity_type == "dispute":
        return F.when(F.col("status").isin("won", "lost"), F.col("status")).otherwise(F.lit("open"))
    if entity_type == "payout":
        return F.col("status")
    return F.lit(None).cast("string")


def _items(frames: dict[str, DataFrame], sources: tuple) -> DataFrame:
    parts = []
    for entity_type, table, item_id, processor_ref, lbg_id, category, amount, at, rows in sources:
        df = frames[table] if rows is None else frames[table].where(rows)
        parts.append(
            df.select(
                F.lit(entity_type).alias("entity_type"),
                F.col(item_id).alias("item_id"),
                F.col(processor_ref).alias("processor_ref"),
                (F.col(lbg_id) if lbg_id else F.lit(None).cast("string")).alias("lbg_id"),
                F.lit(category).alias("finance_category"),
                F.col(amount).cast("bigint").alias("amount_minor"),
                F.lower("currency").alias("currency"),
                F.col(at).alias("at"),
                _status(entity_type).alias("status"),
            )
        )
    return reduce(DataFrame.unionByName, parts)


def ledger_items(tables: dict[str, DataFrame]) -> DataFrame:
    """The ledger's payments, refunds, disputes and payouts as items."""
    return _items(tables, LEDGER_ITEMS)


def processor_items(silver: dict[str, DataFrame]) -> DataFrame:
    """Stripe's captured charges, succeeded refunds, disputes and payouts as items
    (presentment currency and amount: what the ledger records)."""
    return _items(silver, PROCESSOR_ITEMS)


def stripe_objects_of_day(silver: dict[str, DataFrame], window: CloseWindow) -> DataFrame:
    """``object_type, object_id, livemode, currency, amount_minor`` of every Stripe object created
    in the business day (the shape checks read them)."""
    frames = []
    for table, object_type, key in (
        ("stg_stripe_charges", "charge", "charge_id"),
        ("stg_stripe_refunds", "refund", "refund_id"),
        ("stg_stripe_disputes", "dispute", "dispute_id"),
        ("stg_stripe_payouts", "payout", "payout_id"),
        ("stg_stripe_balance_transactions", "balance_transaction", "balance_transaction_id"),
    ):
        frames.append(
            silver[table]
            .where(window.on_day("created_at"))
            .select(
                F.lit(object_type).alias("object_type"),
                F.col(key).alias("object_id"),
                F.col("livemode"),
                F.lower("currency").alias("currency"),
                F.col("amount_minor").cast("bigint").alias("amount_minor"),
            )
        )
    return reduce(DataFrame.unionByName, frames)
