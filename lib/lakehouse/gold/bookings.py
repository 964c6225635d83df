"""Bookings: one row per lbg (booking group), bookings and GMV per day and currency,
refunds and complaints per day.

Money is BIGINT minor units with its currency, never converted and never summed across
currencies. An lbg takes its amount and currency from its first ``lbg_booked`` event
(else its first ``lbg_created``); captured and refunded amounts count only payments in
the lbg's currency (a payment in another currency is bad input, counted in
``gold.audit_orphans``). Daily marts count flows on the UTC date they happened: bookings
on the booked date, cancellations on the cancel date (net GMV = booked - cancelled).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.ratios import ratio
from lakehouse.marts import BuildContext, MartRows
from lakehouse.money import exponent_frame

LBG_EVENTS = "silver.stg_lbg_events"
PAYMENTS = "silver.stg_payments_events"
SUPPORT = "silver.stg_support_events"
LBGS = "gold.fct_lbg"


def _first(name: str, column: str) -> F.Column:
    return F.min_by(
        F.when(F.col("event_name") == name, F.col(column)),
        F.when(F.col("event_name") == name, F.col("occurred_at")),
    )


def _at(name: str) -> F.Column:
    return F.min(F.when(F.col("event_name") == name, F.col("occurred_at")))


def lbg_rows(lbg_events: DataFrame, payments: DataFrame, known_currencies: DataFrame) -> DataFrame:
    """One row per lbg_id from all its lifecycle events and payments."""
    lbgs = (
        lbg_events.where(F.col("lbg_id").isNotNull())
        .groupBy("lbg_id")
        .agg(
            F.max("user_id").alias("user_id"),
            _at("lbg_created").alias("created_at"),
            _at("lbg_booked").alias("booked_at"),
            _at("lbg_cancelled").alias("cancelled_at"),
            _at("lbg_completed").alias("completed_at"),
            F.coalesce(_first("lbg_booked", "currency"), _first("lbg_created", "currency")).alias("currency"),
            F.coalesce(_first("lbg_booked", "total_minor"), _first("lbg_created", "total_minor")).alias(
                "total_minor"
            ),
            F.coalesce(_first("lbg_booked", "legs_count"), _first("lbg_created", "legs_count")).alias(
                "n_legs"
            ),
            F.max(F.when(F.col("event_name") == "lbg_completed", F.col("occurred_at"))).alias(
                "_completed_last"
            ),
            F.collect_list(F.col("occurred_at")).alias("_times"),
        )
    )
    pay = payments.where(F.col("lbg_id").isNotNull()).select(
        "lbg_id",
        "event_name",
        "amount_minor",
        F.col("currency").alias("pay_currency"),
        F.col("occurred_at").alias("paid_at"),
    )
    joined = lbgs.join(pay, "lbg_id", "left")
    same = F.col("pay_currency") == F.col("currency")
    money = joined.groupBy("lbg_id").agg(
        F.sum(F.when(same & (F.col("event_name") == "payment_captured"), F.col("amount_minor"))).alias(
            "captured_minor"
        ),
        F.sum(F.when(same & (F.col("event_name") == "refund_issued"), F.col("amount_minor"))).alias(
            "refunded_minor"
        ),
        F.count_if(F.col("pay_currency").isNotNull() & ~same).alias("n_payments_other_currency"),
        F.count_if(F.col("paid_at") > F.col("completed_at")).alias("_payments_after"),
    )
    known = known_currencies.select(F.col("currency").alias("_known"))
    out = lbgs.join(money, "lbg_id", "left").join(
        F.broadcast(known), F.col("currency") == F.col("_known"), "left"
    )
    after = F.size(F.filter("_times", lambda t: t > F.col("completed_at")))
    status = (
        F.when(F.col("cancelled_at").isNotNull(), "cancelled")
        .when(F.col("completed_at").isNotNull(), "completed")
        .when(F.col("booked_at").isNotNull(), "booked")
        .otherwise("created")
    )
    return out.select(
        "lbg_id",
        "user_id",
        status.alias("status"),
        "created_at",
        "booked_at",
        "cancelled_at",
        "completed_at",
        F.to_date(F.coalesce("created_at", "booked_at")).alias("created_date"),
        "currency",
        F.col("total_minor").cast("bigint").alias("total_minor"),
        F.col("n_legs").cast("bigint").alias("n_legs"),
        F.coalesce("captured_minor", F.lit(0)).cast("bigint").alias("captured_minor"),
        F.coalesce("refunded_minor", F.lit(0)).cast("bigint").alias("refunded_minor"),
        F.col("created_at").isNotNull().alias("has_created_event"),
        F.col("_known").isNotNull().alias("is_currency_known"),
        F.coalesce("n_payments_other_currency", F.lit(0)).cast("bigint").alias("n_payments_other_currency"),
        F.coalesce(after + F.col("_payments_after"), F.lit(0))
        .cast("bigint")
        .alias("n_events_after_completed"),
    )


def fct_lbg(ctx: BuildContext) -> DataFrame | MartRows:
    lbg_events, payments = ctx.input(LBG_EVENTS), ctx.input(PAYMENTS)
    known = exponent_frame(ctx.spark)
    if ctx.full:
        return lbg_rows(lbg_events, payments, known)
    keys = ctx.changed_keys(LBG_EVENTS, "lbg_id").unionByName(ctx.changed_keys(PAYMENTS, "lbg_id")).distinct()
    rows = lbg_rows(
        lbg_events.join(keys, "lbg_id", "left_semi"), payments.join(keys, "lbg_id", "left_semi"), known
    )
    return MartRows(rows, keys)


def _flow(lbgs: DataFrame, at: str, prefix: str) -> DataFrame:
    return (
        lbgs.where(F.col(at).isNotNull())
        .groupBy(F.to_date(at).alias("date"), "currency")
        .agg(F.count(F.lit(1)).alias(f"n_{prefix}"), F.sum("total_minor").alias(f"gmv_{prefix}_minor"))
    )


def bookings_daily(ctx: BuildContext) -> DataFrame:
    lbgs = ctx.input(LBGS)
    payments = ctx.window(PAYMENTS).where(ctx.target("event_date"))
    money = payments.groupBy(F.col("event_date").alias("date"), "currency").agg(
        F.sum(F.when(F.col("event_name") == "payment_captured", F.col("amount_minor"))).alias(
            "captured_minor"
        ),
        F.sum(F.when(F.col("event_name") == "refund_issued", F.col("amount_minor"))).alias("refunded_minor"),
    )
    keys = ["date", "currency"]
    out = (
        _flow(lbgs, "booked_at", "booked")
        .join(_flow(lbgs, "cancelled_at", "cancelled"), keys, "full")
        .join(_flow(lbgs, "completed_at", "completed").drop("gmv_completed_minor"), keys, "full")
        .join(money, keys, "full")
        .where(ctx.target("date"))
        .where(F.col("currency").isNotNull())
    )
    zero = lambda c: F.coalesce(F.col(c), F.lit(0)).cast("bigint")  # noqa: E731
    return out.select(
        "date",
        "currency",
        zero("n_booked").alias("n_booked"),
        zero("n_cancelled").alias("n_cancelled"),
        zero("n_completed").alias("n_completed"),
        zero("gmv_booked_minor").alias("gmv_booked_minor"),
        zero("gmv_cancelled_minor").alias("gmv_cancelled_minor"),
        (zero("gmv_booked_minor") - zero("gmv_cancelled_minor")).alias("net_gmv_minor"),
        zero("captured_minor").alias("captured_minor"),
        zero("refunded_minor").alias("refunded_minor"),
    )


def refunds_daily(ctx: BuildContext) -> DataFrame:
    payments = ctx.window(PAYMENTS).where(ctx.target("event_date")).where(F.col("currency").isNotNull())
    name = F.col("event_name")
    out = payments.groupBy(F.col("event_date").alias("date"), "currency").agg(
        F.count_if(name == "payment_captured").alias("n_captures"),
        F.coalesce(F.sum(F.when(name == "payment_captured", F.col("amount_minor"))), F.lit(0)).alias(
            "captured_minor"
        ),
        F.count_if(name == "refund_issued").alias("n_refunds"),
        F.coalesce(F.sum(F.when(name == "refund_issued", F.col("amount_minor"))), F.lit(0)).alias(
            "refund_minor"
        ),
    )
    return out.select(
        "date",
        "currency",
        F.col("n_captures").cast("bigint").alias("n_captures"),
        F.col("captured_minor").cast("bigint").alias("captured_minor"),
        F.col("n_refunds").cast("bigint").alias("n_refunds"),
        F.col("refund_minor").cast("bigint").alias("refund_minor"),
        ratio(F.col("refund_minor"), F.col("captured_minor")).alias("refund_rate_flow"),
    )


def complaints_daily(ctx: BuildContext) -> DataFrame:
    complaints = (
        ctx.window(SUPPORT).where(ctx.target("event_date")).where(F.col("event_name") == "complaint_filed")
    )
    return (
        complaints.groupBy(
            F.col("event_date").alias("date"),
            F.coalesce(F.col("category"), F.lit("unknown")).alias("category"),
        )
        .agg(
            F.count(F.lit(1)).alias("n_complaints"),
            F.count_distinct(F.coalesce("complaint_id", "event_id")).alias("n_distinct_complaints"),
            F.count_if(F.col("lbg_id").isNotNull()).alias("n_with_lbg"),
        )
        .select(
            "date",
            "category",
            F.col("n_complaints").cast("bigint").alias("n_complaints"),
            F.col("n_distinct_complaints").cast("bigint").alias("n_distinct_complaints"),
            F.col("n_with_lbg").cast("bigint").alias("n_with_lbg"),
        )
    )
