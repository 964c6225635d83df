"""Identity, person-days and DAU / WAU / MAU on a hand-built Silver across a month boundary.

Persons: A (user uA) active 01-30, 02-03; B (anonymous) 01-31; C browses as anon anC on 01-29
and signs up as uC on 02-01 (one person, first active 01-29); G (uG) active 02-09. An
experiment exposure is not activity; an event with neither id is in no person.
"""

from datetime import date

import pytest
from lakehouse.lake import delta
from pyspark.sql import functions as F
from silver_lake import FAMILIES, SilverLake, assert_rows, ev

MARTS = ["dim_identity_map", "fct_user_day_activity", "dim_persons", "mart_active_users_daily"]
CLIENT = "stg_client_events"


def d(month: int, day: int) -> date:
    return date(2025, month, day)


@pytest.fixture(scope="module")
def lake(silver):
    silver.add(
        CLIENT,
        ev("c1", "page_viewed", "2025-01-29 10:00", anon_id="anC"),
        ev("a1", "page_viewed", "2025-01-30 09:00", user_id="uA", anon_id="anA"),
        ev("b1", "search_performed", "2025-01-31 12:00", anon_id="anB"),
        ev("c2", "signup_completed", "2025-02-01 08:00", anon_id="anC", user_id="uC"),
        ev("x1", "experiment_exposed", "2025-02-01 08:00", user_id="uX"),
        ev("n1", "page_viewed", "2025-02-02 11:00"),
        ev("a2", "page_viewed", "2025-02-03 07:00", user_id="uA"),
        ev("g1", "page_viewed", "2025-02-09 07:00", user_id="uG", anon_id="-1"),
    )
    silver.summary = silver.run(MARTS)
    return silver


def active(lake, *days):
    rows = lake.table("mart_active_users_daily").where(F.col("date").isin(list(days)))
    return rows.select("date", "dau", "wau", "mau", "new_persons", "returning_persons")


def test_first_run_publishes_every_mart(lake):
    assert {m: s["status"] for m, s in lake.summary.items()} == dict.fromkeys(MARTS, "published")


def test_an_anon_who_signs_up_later_counts_as_one_person(spark, lake):
    identity = lake.table("dim_identity_map").select("anon_id", "user_id", "is_ambiguous")
    expected = spark.createDataFrame(
        [("anA", "uA", False), ("anC", "uC", False)], "anon_id STRING, user_id STRING, is_ambiguous BOOLEAN"
    )
    assert_rows(identity, expected)
    persons = lake.table("dim_persons").select("person_key", "first_active_date", "signup_date")
    expected = spark.createDataFrame(
        [
            ("uA", d(1, 30), None),
            ("anon:anB", d(1, 31), None),
            ("uC", d(1, 29), d(2, 1)),
            ("uG", d(2, 9), None),
        ],
        "person_key STRING, first_active_date DATE, signup_date DATE",
    )
    assert_rows(persons, expected)


def test_dau_wau_mau_across_a_month_boundary(spark, lake):
    expected = spark.createDataFrame(
        [
            (d(1, 29), 1, 1, 1, 1, 0),
            (d(1, 31), 1, 3, 3, 1, 0),
            (d(2, 1), 1, 3, 3, 0, 1),  # C again: 3 persons in the week, not 4
            (d(2, 2), 0, 3, 3, 0, 0),  # the event without ids is nobody's
            (d(2, 3), 1, 3, 3, 0, 1),
            (d(2, 9), 1, 2, 4, 1, 0),  # week 02-03..02-09: A, G; 28 days: all four
        ],
        "date DATE, dau BIGINT, wau BIGINT, mau BIGINT, new_persons BIGINT, returning_persons BIGINT",
    )
    assert_rows(
        active(lake, *[r.date for r in expected.collect()]),
        expected,
    )
    assert lake.table("mart_active_users_daily").count() == 12  # every date 01-29 .. 02-09


def test_a_run_with_nothing_new_changes_nothing(lake):
    versions = {m: lake.version(m) for m in MARTS}
    summary = lake.run(MARTS)
    assert {s["status"] for s in summary.values()} == {"unchanged"}
    assert {m: lake.version(m) for m in MARTS} == versions


def test_a_late_event_rewrites_exactly_the_dates_its_rule_says(spark, lake):
    lake.add(CLIENT, ev("h1", "page_viewed", "2025-01-31 18:00", user_id="uH"))  # arrives ten days late
    summary = lake.run(MARTS, as_of="2025-02-10 06:00")
    assert lake.rewritten_dates("fct_user_day_activity", lake.version("fct_user_day_activity")) == {d(1, 31)}
    # MAU of 01-31 .. 01-31+27, clamped to the last date with data (02-09)
    rebuilt = lake.rewritten_dates("mart_active_users_daily", lake.version("mart_active_users_daily"))
    assert rebuilt == {date.fromordinal(d(1, 31).toordinal() + i) for i in range(10)}
    assert summary["mart_active_users_daily"]["dates"] == ["2025-01-31..2025-02-09"]
    expected = spark.createDataFrame(
        [(d(1, 30), 1, 2, 2, 1, 0), (d(1, 31), 2, 4, 4, 2, 0), (d(2, 9), 1, 2, 5, 1, 0)],
        "date DATE, dau BIGINT, wau BIGINT, mau BIGINT, new_persons BIGINT, returning_persons BIGINT",
    )
    assert_rows(active(lake, d(1, 30), d(1, 31), d(2, 9)), expected)
    incremental = {m: lake.table(m).collect() for m in MARTS}
    lake.run(MARTS, full_refresh=True)
    for mart in MARTS:
        assert sorted(lake.table(mart).collect()) == sorted(incremental[mart]), mart


def test_a_family_with_no_event_yet_reads_as_empty_and_a_later_first_event_counts(spark, tmp_path):
    fresh = SilverLake(spark, tmp_path, "t_unwritten_", unwritten=("stg_support_events",))
    fresh.add(CLIENT, ev("a1", "page_viewed", "2025-01-30 09:00", user_id="uA"))
    first = fresh.run(MARTS)
    assert {m: s["status"] for m, s in first.items()} == dict.fromkeys(MARTS, "published")
    assert active(fresh, d(1, 30)).select("dau").collect()[0].dau == 1

    # The family's first event creates its table: the marts that read it catch up with it.
    table = "stg_support_events"
    delta.create_if_absent(
        spark, fresh.paths.silver(table), FAMILIES[table], partition_by=["event_date"], change_data_feed=True
    )
    fresh.add(table, ev("s1", "complaint_filed", "2025-01-31 09:00", user_id="uB"))
    fresh.run(MARTS)
    assert active(fresh, d(1, 31)).select("dau").collect()[0].dau == 1


def test_a_link_seen_again_moves_nothing_and_a_new_link_moves_the_anon_history(spark, lake):
    lake.add(CLIENT, ev("a3", "page_viewed", "2025-02-09 12:00", user_id="uA", anon_id="anA"))
    lake.run(MARTS, as_of="2025-02-10 07:00")
    # anA's row changed (last seen 02-09) but it maps to uA as before: only the event's date
    assert lake.rewritten_dates("fct_user_day_activity", lake.version("fct_user_day_activity")) == {d(2, 9)}
    # uA's first active date (01-30) is unchanged: only 02-09 (and its window, clamped) is rebuilt
    active = lake.rewritten_dates("mart_active_users_daily", lake.version("mart_active_users_daily"))
    assert active == {d(2, 9)}

    lake.add(CLIENT, ev("b2", "signup_completed", "2025-02-09 13:00", anon_id="anB", user_id="uB"))
    lake.run(MARTS, as_of="2025-02-10 08:00")
    rewritten = lake.rewritten_dates("fct_user_day_activity", lake.version("fct_user_day_activity"))
    assert rewritten == {d(1, 31), d(2, 1), d(2, 3), d(2, 9)}  # anB's 01-31 .. 02-09, dates with rows
    persons = lake.table("fct_user_day_activity").where(F.col("date") == d(1, 31)).select("person_key")
    assert sorted(r.person_key for r in persons.collect()) == ["uB", "uH"]
    incremental = {m: lake.table(m).collect() for m in MARTS}
    lake.run(MARTS, full_refresh=True)
    for mart in MARTS:
        assert sorted(lake.table(mart).collect()) == sorted(incremental[mart]), mart
