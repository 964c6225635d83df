"""Funnels defined as data (``jobs/silver_to_gold/funnels/<name>.yaml``), attributed to the
entry date.

An entry is a person's first entry event of a UTC date (later entry events that day do not
restart the clock). The second step is matched on the person and introduces the key the
later steps hold constant (``match: lbg_id``: the same booking group). Steps count only in
order (each at or after the previous one, within the tie tolerance) and within their own
window after the entry (``within_hours``). With several candidate lbgs an entry counts the
most complete one, then the earliest. Conversions of an entry date are counted up to the
end of its longest window: until then the date is ``is_complete = false``.
"""

from __future__ import annotations

from datetime import timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.gold.identity import IDENTITY, with_person
from lakehouse.gold.ratios import ratio
from lakehouse.jobs.silver_to_gold import funnel, funnel_window_days
from lakehouse.marts import BuildContext, MartDefinitionError


def _step_events(ctx: BuildContext, step: dict) -> DataFrame:
    rows = ctx.window(step["table"]).where(F.col("event_name") == step["event"])
    return rows.select("user_id", "anon_id", "lbg_id", "occurred_at", "event_date")


def funnel_entries(ctx: BuildContext, definition: dict) -> DataFrame:
    """One row per entry: ``person_key, entry_date, entry_at, max_step`` (1-based)."""
    steps = definition["steps"]
    if (
        len(steps) < 2
        or steps[1].get("match") != "person"
        or any(s.get("match") == "person" for s in steps[2:])
    ):
        raise MartDefinitionError(
            f"funnel {definition['name']}: step 2 must match on the person, later steps on a key"
        )
    tolerance = int(definition.get("tie_tolerance_seconds", 0))
    identity = ctx.optional_input(IDENTITY)
    first = with_person(_step_events(ctx, steps[0]), identity).where(F.col("person_key").isNotNull())
    entries = (
        first.where(ctx.target("event_date"))
        .groupBy("person_key", F.col("event_date").alias("entry_date"))
        .agg(F.min("occurred_at").alias("entry_at"))
    )

    def deadline(step: dict) -> F.Column:
        return F.col("entry_at") + F.expr(f"INTERVAL {int(step['within_hours'])} HOURS")

    second = with_person(_step_events(ctx, steps[1]), identity).select(
        F.col("person_key").alias("_p"), "lbg_id", F.col("occurred_at").alias("_t")
    )
    candidates = (
        entries.join(
            second,
            (F.col("_p") == F.col("person_key"))
            & (F.col("_t") >= F.col("entry_at") - F.expr(f"INTERVAL {tolerance} SECONDS"))
            & (F.col("_t") <= deadline(steps[1]))
            & F.col("lbg_id").isNotNull(),
        )
        .groupBy("person_key", "entry_date", "entry_at", "lbg_id")
        .agg(F.min("_t").alias("at_2"))
    )
    key = steps[2]["match"] if len(steps) > 2 else "lbg_id"
    for k, step in enumerate(steps[2:], start=3):
        rows = _step_events(ctx, step).select(F.col(key).alias("_k"), F.col("occurred_at").alias("_t"))
        previous = F.col(f"at_{k - 1}")
        matched = candidates.join(
            rows,
            (F.col("_k") == F.col(key))
            & (F.col("_t") >= previous - F.expr(f"INTERVAL {tolerance} SECONDS"))
            & (F.col("_t") <= deadline(step)),
            "left",
        )
        candidates = matched.groupBy(*candidates.columns).agg(F.min("_t").alias(f"at_{k}"))
    # a step's time is set only when the step before it was reached (its join needs at_{k-1})
    reached = F.lit(2)
    for k in range(3, len(steps) + 1):
        reached = reached + F.col(f"at_{k}").isNotNull().cast("int")
    ranked = candidates.withColumn("max_step", reached).withColumn(
        "_rank",
        F.row_number().over(
            Window.partitionBy("person_key", "entry_date").orderBy(F.desc("max_step"), "at_2", "lbg_id")
        ),
    )
    best = ranked.where("_rank = 1").select("person_key", "entry_date", "lbg_id", "max_step")
    return (
        entries.join(best, ["person_key", "entry_date"], "left")
        .withColumn("max_step", F.coalesce("max_step", F.lit(1)))
        .select("person_key", "entry_date", "entry_at", "lbg_id", "max_step")
    )


def funnel_daily(entries: DataFrame, definition: dict, ctx: BuildContext) -> DataFrame:
    steps = definition["steps"]
    window_days = funnel_window_days(definition)
    spark = ctx.spark
    step_rows = spark.createDataFrame(
        [(i + 1, s["name"]) for i, s in enumerate(steps)], "step_index INT, step_name STRING"
    )
    per_day = entries.groupBy("entry_date").agg(
        F.count(F.lit(1)).alias("entrants"),
        *[F.count_if(F.col("max_step") >= i + 1).alias(f"r{i + 1}") for i in range(len(steps))],
    )
    reached = F.element_at(F.array(*[F.col(f"r{i + 1}") for i in range(len(steps))]), F.col("step_index"))
    previous = F.when(
        F.col("step_index") > 1,
        F.element_at(
            F.array(*[F.col(f"r{i + 1}") for i in range(len(steps))]),
            F.greatest(F.col("step_index") - 1, F.lit(1)),
        ),
    ).otherwise(F.col("entrants"))
    last_closed = ctx.as_of.date() - timedelta(days=1)
    return per_day.crossJoin(step_rows).select(
        "entry_date",
        "step_index",
        "step_name",
        F.col("entrants").cast("bigint").alias("entrants"),
        reached.cast("bigint").alias("reached"),
        (reached / F.col("entrants")).alias("conv_overall"),
        ratio(reached, previous).alias("conv_step"),
        (F.date_add("entry_date", window_days) <= F.lit(last_closed)).alias("is_complete"),
    )


def booking_funnel_daily(ctx: BuildContext) -> DataFrame:
    definition = funnel(ctx.spec.extra.get("funnel", "booking"))
    return funnel_daily(funnel_entries(ctx, definition), definition, ctx)
