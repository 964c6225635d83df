"""Sessions: the client's session_id where the event has one, else a new session after
``session_gap_minutes`` of inactivity of the person.

A session is dated by its start (UTC) and counted once, on that date; its events are
read from the day before its start date to the day after (the spec's offsets), so a
session crossing midnight is whole. Longer sessions are cut at the end of the day after
their start.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.gold.identity import IDENTITY, with_person
from lakehouse.marts import BuildContext

CLIENT = "silver.stg_client_events"
VIEWS = ("page_viewed", "screen_viewed")
CONVERSIONS = ("signup_completed", "search_performed")


def sessionize(events: DataFrame, gap_minutes: int) -> DataFrame:
    """``events`` (person_key, session_id, occurred_at, event_name) -> one row per session."""
    with_id = events.where(F.col("session_id").isNotNull()).withColumn(
        "session_no", F.lit(None).cast("bigint")
    )
    by_person = Window.partitionBy("person_key").orderBy("occurred_at", "event_name")
    gap = F.col("occurred_at").cast("long") - F.lag(F.col("occurred_at").cast("long")).over(by_person)
    inferred = (
        events.where(F.col("session_id").isNull())
        .withColumn("is_start", F.coalesce(gap > gap_minutes * 60, F.lit(True)).cast("int"))
        .withColumn("session_no", F.sum("is_start").over(by_person.rowsBetween(Window.unboundedPreceding, 0)))
        .drop("is_start")
        .withColumn("session_no", F.col("session_no").cast("bigint"))
    )
    name = F.col("event_name")
    sessions = (
        with_id.unionByName(inferred)
        .groupBy("person_key", "session_id", "session_no")
        .agg(
            F.min("occurred_at").alias("started_at"),
            F.max("occurred_at").alias("ended_at"),
            F.count(F.lit(1)).alias("n_events"),
            F.count_if(name.isin(*VIEWS)).alias("n_views"),
            F.count_if(name.isin(*CONVERSIONS)).alias("n_conversions"),
        )
    )
    key = F.coalesce(F.col("session_id"), F.concat(F.lit("t"), F.unix_millis("started_at").cast("string")))
    return sessions.select(
        F.to_date("started_at").alias("session_date"),
        F.concat_ws("|", "person_key", key).alias("session_key"),
        "person_key",
        "session_id",
        "started_at",
        "ended_at",
        (F.col("ended_at").cast("long") - F.col("started_at").cast("long")).alias("duration_s"),
        F.col("n_events").cast("bigint").alias("n_events"),
        F.col("n_views").cast("bigint").alias("n_views"),
        ((F.col("n_views") <= 1) & (F.col("n_conversions") == 0)).alias("is_bounce"),
        ((F.col("n_views") >= 2) | (F.col("n_conversions") > 0)).alias("is_engaged"),
        F.when(F.col("session_id").isNotNull(), "client").otherwise("inactivity").alias("boundary"),
    )


def fct_sessions(ctx: BuildContext) -> DataFrame:
    names = list(ctx.spec.extra["active_events"])
    events = (
        ctx.window(CLIENT)
        .where(F.col("event_name").isin(names))
        .select("event_name", "occurred_at", "user_id", "anon_id", "session_id")
    )
    events = with_person(events, ctx.optional_input(IDENTITY)).where(F.col("person_key").isNotNull())
    sessions = sessionize(
        events.select("person_key", "session_id", "occurred_at", "event_name"),
        int(ctx.param("session_gap_minutes")),
    )
    return sessions.where(ctx.target("session_date"))
