"""Cohort retention, "on day n" and "on or after day n": cohort 03-01 = {A, B, C, D};
A and B active again on 03-03, C on 03-07, D never again; A signed up on 03-01."""

from datetime import date

import pytest
from pyspark.sql import functions as F
from silver_lake import assert_rows, ev

MARTS = ["dim_identity_map", "fct_user_day_activity", "dim_persons", "mart_cohort_retention"]
CELLS = "n INT, size BIGINT, retained_on BIGINT, retained_on_or_after BIGINT"


@pytest.fixture(scope="module")
def lake(silver):
    silver.add(
        "stg_client_events",
        ev("a1", "signup_completed", "2025-03-01 09:00", user_id="A"),
        *[ev(f"{p}1", "page_viewed", "2025-03-01 10:00", user_id=p) for p in "BCD"],
        ev("a3", "page_viewed", "2025-03-03 10:00", user_id="A"),
        ev("b3", "page_viewed", "2025-03-03 11:00", user_id="B"),
        ev("c7", "page_viewed", "2025-03-07 10:00", user_id="C"),
    )
    silver.run(MARTS)
    return silver


def cells(lake, cohort_type, unit):
    rows = lake.table("mart_cohort_retention").where(
        (F.col("cohort_type") == cohort_type)
        & (F.col("unit") == unit)
        & (F.col("cohort_date") == date(2025, 3, 1))
    )
    return rows.select("n", "size", "retained_on", "retained_on_or_after")


def test_day_retention_on_and_on_or_after(spark, lake):
    on = [4, 0, 2, 0, 0, 0, 1]
    after = [4, 3, 3, 1, 1, 1, 1]
    expected = spark.createDataFrame([(n, 4, on[n], after[n]) for n in range(7)], CELLS)
    assert_rows(cells(lake, "first_active", "day"), expected)


def test_week_and_signup_cohorts(spark, lake):
    assert_rows(cells(lake, "first_active", "week"), spark.createDataFrame([(0, 4, 4, 4)], CELLS))
    signup = spark.createDataFrame([(n, 1, int(n in (0, 2)), int(n <= 2)) for n in range(7)], CELLS)
    assert_rows(cells(lake, "signup", "day"), signup)
