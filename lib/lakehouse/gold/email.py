"""Email deliverability from SES events, attributed to the message's send date (UTC date of
``mail.timestamp``): a complaint days later counts to the day the message was sent.
Each message counts once per event type (a redelivered SES record is not counted twice);
opens and clicks are unique per message.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.ratios import ratio
from lakehouse.marts import BuildContext

SES = "silver.stg_ses_events"


def email_deliverability_daily(ctx: BuildContext) -> DataFrame:
    events = (
        ctx.input(SES)
        .withColumn("send_date", F.to_date(F.col("mail.timestamp")))
        .withColumn("message_id", F.col("mail.messageId"))
        .where(ctx.target("send_date"))
        .where(F.col("message_id").isNotNull())
    )
    kind = F.lower(F.coalesce("event_type", "notification_type"))

    def messages(condition: F.Column) -> F.Column:
        return F.count_distinct(F.when(condition, F.col("message_id")))

    bounce_type = F.col("bounce.bounceType")
    out = events.groupBy("send_date").agg(
        messages(kind == "send").alias("n_sends"),
        messages(kind == "delivery").alias("n_deliveries"),
        messages((kind == "bounce") & (bounce_type == "Permanent")).alias("n_bounces_permanent"),
        messages((kind == "bounce") & (bounce_type != "Permanent")).alias("n_bounces_transient"),
        messages(kind == "complaint").alias("n_complaints"),
        messages(kind == "open").alias("n_unique_opens"),
        messages(kind == "click").alias("n_unique_clicks"),
    )
    counts = [c for c in out.columns if c.startswith("n_")]
    return out.select(
        "send_date",
        *[F.col(c).cast("bigint").alias(c) for c in counts],
        ratio(F.col("n_bounces_permanent"), F.col("n_sends")).alias("bounce_rate"),
        ratio(F.col("n_complaints"), F.col("n_deliveries")).alias("complaint_rate"),
    )
