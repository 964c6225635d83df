"""Activity: person x day facts, one row per person, and active persons per day.

A person is active on a UTC date when they have at least one *active* event that day
(the spec's ``active_events``: page/screen views, searches, signups, lbg lifecycle events
and complaints; experiment exposures and system events are not activity). WAU and MAU are
exact distinct counts over the 7 and ``mau_window_days`` days ending on the date: a spine
of target dates joined with the person-days inside each date's window (Spark has no
distinct window aggregate).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.identity import IDENTITY, with_person
from lakehouse.gold.ratios import ratio
from lakehouse.marts import BuildContext, MartRows

ACTIVITY_INPUTS = ("silver.stg_client_events", "silver.stg_lbg_events", "silver.stg_support_events")
USER_DAYS = "gold.fct_user_day_activity"
PERSONS = "gold.dim_persons"
EVENT_COLUMNS = ("event_name", "occurred_at", "event_date", "user_id", "anon_id", "session_id")
VIEWS = ("page_viewed", "screen_viewed")


def active_events(ctx: BuildContext) -> DataFrame:
    """The active events of the target dates, each with its ``person_key``."""
    names = list(ctx.spec.extra["active_events"])
    parts = [
        ctx.window(table).where(ctx.target("event_date")).select(*EVENT_COLUMNS) for table in ACTIVITY_INPUTS
    ]
    events = parts[0]
    for part in parts[1:]:
        events = events.unionByName(part)
    events = events.where(F.col("event_name").isin(names))
    return with_person(events, ctx.optional_input(IDENTITY)).where(F.col("person_key").isNotNull())


def fct_user_day_activity(ctx: BuildContext) -> DataFrame:
    events = active_events(ctx)
    name = F.col("event_name")
    return events.groupBy(F.col("event_date").alias("date"), "person_key").agg(
        F.max("person_user_id").alias("user_id"),
        F.count(F.lit(1)).alias("n_events"),
        F.count_if(name.isin(*VIEWS)).alias("n_views"),
        F.count_if(name == "search_performed").alias("n_searches"),
        F.count_distinct("session_id").alias("n_client_sessions"),
        (F.count_if(name == "signup_completed") > 0).alias("did_signup"),
        (F.count_if(name == "lbg_booked") > 0).alias("did_book"),
        F.min("occurred_at").alias("first_event_at"),
        F.max("occurred_at").alias("last_event_at"),
    )


def persons(user_days: DataFrame) -> DataFrame:
    return user_days.groupBy("person_key").agg(
        F.max("user_id").alias("user_id"),
        F.min("date").alias("first_active_date"),
        F.max("date").alias("last_active_date"),
        F.count(F.lit(1)).alias("n_active_days"),
        F.min(F.when(F.col("did_signup"), F.col("date"))).alias("signup_date"),
        F.min(F.when(F.col("did_book"), F.col("date"))).alias("first_booking_date"),
    )


def dim_persons(ctx: BuildContext) -> DataFrame | MartRows:
    user_days = ctx.input(USER_DAYS)
    if ctx.full:
        return persons(user_days)
    keys = ctx.changed_keys(USER_DAYS, "person_key")
    return MartRows(persons(user_days.join(keys, "person_key", "left_semi")), keys)


def active_users_daily(ctx: BuildContext) -> DataFrame:
    window = int(ctx.param("mau_window_days"))
    spine = ctx.spark.createDataFrame([(d,) for d in ctx.dates], "date DATE")
    days = ctx.window(USER_DAYS).select("person_key", F.col("date").alias("day"))
    joined = spine.join(
        days, (F.col("day") <= F.col("date")) & (F.col("day") >= F.date_sub("date", window - 1)), "left"
    )
    counts = joined.groupBy("date").agg(
        F.count_distinct(F.when(F.col("day") == F.col("date"), F.col("person_key"))).alias("dau"),
        F.count_distinct(F.when(F.col("day") >= F.date_sub("date", 6), F.col("person_key"))).alias("wau"),
        F.count_distinct("person_key").alias("mau"),
    )
    new = (
        ctx.window(PERSONS)
        .groupBy(F.col("first_active_date").alias("date"))
        .agg(F.count(F.lit(1)).alias("new_persons"))
    )
    start = ctx.plan.horizon[0] if ctx.plan.horizon else None
    full_window = F.date_sub("date", window - 1) >= F.lit(start) if start else F.lit(False)
    out = counts.join(new, "date", "left").fillna(0, ["new_persons"])
    return out.select(
        "date",
        F.col("dau").cast("bigint").alias("dau"),
        F.col("wau").cast("bigint").alias("wau"),
        F.col("mau").cast("bigint").alias("mau"),
        ratio(F.col("dau"), F.col("mau")).alias("dau_mau"),
        ratio(F.col("wau"), F.col("mau")).alias("wau_mau"),
        F.col("new_persons").cast("bigint").alias("new_persons"),
        (F.col("dau") - F.col("new_persons")).cast("bigint").alias("returning_persons"),
        F.lit(window).alias("mau_window_days"),
        full_window.alias("is_full_window"),
    )
