"""Cohort retention: per cohort (first-active or signup date) and unit (day or week), the
share of the cohort active in period n ("on") and active in period n or later
("on or after", non-increasing in n). Periods are calendar UTC days from the cohort date
(week n = days 7n .. 7n+6). A cell is complete when its period has ended by the last
active date in the data; later periods are not emitted.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.activity import PERSONS, USER_DAYS
from lakehouse.marts import BuildContext

UNITS = {"day": 1, "week": 7}
COHORTS = {"first_active": "first_active_date", "signup": "signup_date"}


def cohort_retention(persons: DataFrame, user_days: DataFrame, max_periods: dict[str, int]) -> DataFrame:
    (last,) = user_days.agg(F.max("date")).first()
    spark = persons.sparkSession
    units = spark.createDataFrame(
        [(u, UNITS[u], int(n)) for u, n in max_periods.items()], "unit STRING, unit_days INT, max_n INT"
    )
    members = (
        persons.select(
            "person_key",
            F.explode(
                F.array(
                    *[
                        F.struct(F.lit(k).alias("cohort_type"), F.col(c).alias("cohort_date"))
                        for k, c in COHORTS.items()
                    ]
                )
            ).alias("c"),
        )
        .select("person_key", "c.*")
        .where(F.col("cohort_date").isNotNull())
    )
    last_date = F.lit(None).cast("date") if last is None else F.lit(last)
    active = (
        members.join(user_days.select("person_key", "date"), "person_key")
        .where(F.col("date") >= F.col("cohort_date"))
        .crossJoin(units)
        .select(
            "cohort_type",
            "cohort_date",
            "unit",
            "person_key",
            F.floor(F.datediff("date", "cohort_date") / F.col("unit_days")).cast("int").alias("period"),
        )
        .distinct()
    )
    last_period = active.groupBy("cohort_type", "cohort_date", "unit", "person_key").agg(
        F.max("period").alias("last_period")
    )
    sizes = members.groupBy("cohort_type", "cohort_date").agg(F.count(F.lit(1)).alias("size"))
    cells = (
        sizes.crossJoin(units)
        .withColumn(
            "n_max",
            F.least(
                F.col("max_n"), F.floor(F.datediff(last_date, "cohort_date") / F.col("unit_days")).cast("int")
            ),
        )
        .where(F.col("n_max") >= 0)
        .select(
            "cohort_type",
            "cohort_date",
            "unit",
            "unit_days",
            "size",
            F.explode(F.sequence(F.lit(0), F.col("n_max"))).alias("n"),
        )
    )
    on = active.groupBy("cohort_type", "cohort_date", "unit", F.col("period").alias("n")).agg(
        F.count(F.lit(1)).alias("retained_on")
    )
    after = (
        cells.select("cohort_type", "cohort_date", "unit", "n")
        .join(last_period, ["cohort_type", "cohort_date", "unit"])
        .where(F.col("last_period") >= F.col("n"))
        .groupBy("cohort_type", "cohort_date", "unit", "n")
        .agg(F.count(F.lit(1)).alias("retained_on_or_after"))
    )
    keys = ["cohort_type", "cohort_date", "unit", "n"]
    out = (
        cells.join(on, keys, "left")
        .join(after, keys, "left")
        .fillna(0, ["retained_on", "retained_on_or_after"])
    )
    period_end = F.date_add("cohort_date", (F.col("n") + 1) * F.col("unit_days") - 1)
    return out.select(
        "cohort_type",
        "cohort_date",
        "unit",
        F.col("n").cast("int").alias("n"),
        F.col("size").cast("bigint").alias("size"),
        F.col("retained_on").cast("bigint").alias("retained_on"),
        F.col("retained_on_or_after").cast("bigint").alias("retained_on_or_after"),
        (F.col("retained_on") / F.col("size")).alias("rate_on"),
        (F.col("retained_on_or_after") / F.col("size")).alias("rate_on_or_after"),
        (period_end <= last_date).alias("is_complete"),
    )


def mart_cohort_retention(ctx: BuildContext) -> DataFrame:
    max_periods = {unit: int(n) for unit, n in ctx.spec.extra["max_periods"].items()}
    return cohort_retention(ctx.input(PERSONS), ctx.input(USER_DAYS), max_periods)
