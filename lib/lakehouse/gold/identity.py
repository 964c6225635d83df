"""Identity: anon_id -> user_id stitching and the person key of every event.

Edges come only from events that carry both ids. An anon_id seen with one user_id maps
to it, so that pre-signup activity counts to the person; an anon_id seen with two or more
user_ids (a shared device) maps to none (``is_ambiguous``): its events with a user_id go
to that user, its anonymous events stay ``anon:<anon_id>``. Two user_ids are never merged.
Placeholder ids (null, empty, ``-1``, ``anonymous``, zeros) make no edges and no persons.

``person_key`` = the event's user_id, else the mapped user_id, else ``anon:<anon_id>``.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.marts import BuildContext, MartRows

CLIENT = "silver.stg_client_events"
IDENTITY = "gold.dim_identity_map"
BLOCKED_IDS = ("", "-1", "anonymous", "null", "undefined", "none")


def clean_id(column: str) -> Column:
    """The id, or null when it is a placeholder that must not identify anyone."""
    value = F.trim(F.col(column))
    blocked = F.lower(value).isin(*BLOCKED_IDS) | value.rlike("^[0-]*$")
    return F.when(value.isNull() | blocked, F.lit(None).cast("string")).otherwise(value)


def identity_map(events: DataFrame) -> DataFrame:
    """One row per anon_id seen with at least one user_id (columns of ``dim_identity_map``)."""
    ids = events.select(
        clean_id("anon_id").alias("anon_id"),
        clean_id("user_id").alias("user_id"),
        "occurred_at",
        "event_date",
    ).where(F.col("anon_id").isNotNull())
    per_user = (
        ids.where(F.col("user_id").isNotNull())
        .groupBy("anon_id", "user_id")
        .agg(F.min("occurred_at").alias("linked_at"))
    )
    edges = per_user.groupBy("anon_id").agg(
        F.count(F.lit(1)).alias("n_user_ids_seen"),
        F.min_by("user_id", "linked_at").alias("first_user_id"),
        F.min("linked_at").alias("linked_at"),
    )
    seen = ids.groupBy("anon_id").agg(
        F.min("event_date").alias("first_seen_date"), F.max("event_date").alias("last_seen_date")
    )
    ambiguous = F.col("n_user_ids_seen") > 1
    return edges.join(seen, "anon_id").select(
        "anon_id",
        F.when(ambiguous, F.lit(None).cast("string")).otherwise(F.col("first_user_id")).alias("user_id"),
        F.col("n_user_ids_seen").cast("bigint").alias("n_user_ids_seen"),
        ambiguous.alias("is_ambiguous"),
        "linked_at",
        "first_seen_date",
        "last_seen_date",
    )


def dim_identity_map(ctx: BuildContext) -> DataFrame | MartRows:
    events = ctx.input(CLIENT)
    if ctx.full:
        return identity_map(events)
    keys = (
        ctx.changed_keys(CLIENT, "anon_id")
        .select(clean_id("anon_id").alias("anon_id"))
        .where("anon_id IS NOT NULL")
    )
    touched = events.join(keys, events["anon_id"] == keys["anon_id"], "left_semi")
    return MartRows(identity_map(touched), keys)


def with_person(events: DataFrame, identity: DataFrame | None) -> DataFrame:
    """``events`` (with user_id, anon_id) plus ``person_user_id`` and ``person_key`` (null when
    the event has neither id)."""
    out = events.withColumn("_user", clean_id("user_id")).withColumn("_anon", clean_id("anon_id"))
    if identity is not None:
        mapped = identity.where(~F.col("is_ambiguous")).select(
            F.col("anon_id").alias("_anon"), F.col("user_id").alias("_mapped")
        )
        out = out.join(F.broadcast(mapped), "_anon", "left")
    else:
        out = out.withColumn("_mapped", F.lit(None).cast("string"))
    person_user = F.coalesce(F.col("_user"), F.col("_mapped"))
    return (
        out.withColumn("person_user_id", person_user)
        .withColumn(
            "person_key",
            F.coalesce(
                person_user, F.when(F.col("_anon").isNotNull(), F.concat(F.lit("anon:"), F.col("_anon")))
            ),
        )
        .drop("_user", "_anon", "_mapped")
    )
