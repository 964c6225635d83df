"""One row per lbg, bookings and GMV per day and currency, bad input counted, and a blocking
Gold rule that publishes nothing.

d1: L1 EUR 1999 and L2 EUR 1 created, booked and captured; L3 JPY 500 booked d1, captured d2;
L4 KWD 1234 booked with no created event; a ZZZ payment with no lbg on d2. Later L1 is
cancelled on d3.
"""

from datetime import date

import pytest
from lakehouse.dq import DataQualityFailure
from pyspark.sql import functions as F
from silver_lake import assert_rows, ev

MARTS = ["dim_identity_map", "fct_lbg", "mart_bookings_daily", "audit_orphans"]
LBG, PAY = "stg_lbg_events", "stg_payments_events"
BOOKINGS = "date DATE, currency STRING, n_booked BIGINT, n_cancelled BIGINT, net_gmv_minor BIGINT, "
BOOKINGS += "captured_minor BIGINT"


def d(day: int) -> date:
    return date(2025, 3, day)


def lbg(event_id, name, at, lbg_id, currency, total):
    return ev(
        event_id, name, at, user_id="u1", lbg_id=lbg_id, currency=currency, total_minor=total, legs_count=1
    )


def paid(event_id, at, lbg_id, currency, amount, name="payment_captured"):
    return ev(event_id, name, at, user_id="u1", lbg_id=lbg_id, currency=currency, amount_minor=amount)


@pytest.fixture(scope="module")
def lake(silver):
    silver.add(
        LBG,
        lbg("l1c", "lbg_created", "2025-03-01 10:00", "L1", "EUR", 1999),
        lbg("l1b", "lbg_booked", "2025-03-01 10:05", "L1", "EUR", 1999),
        lbg("l2c", "lbg_created", "2025-03-01 11:00", "L2", "EUR", 1),
        lbg("l2b", "lbg_booked", "2025-03-01 11:05", "L2", "EUR", 1),
        lbg("l3c", "lbg_created", "2025-03-01 12:00", "L3", "JPY", 500),
        lbg("l3b", "lbg_booked", "2025-03-01 12:05", "L3", "JPY", 500),
        lbg("l4b", "lbg_booked", "2025-03-01 13:05", "L4", "KWD", 1234),
    )
    silver.add(
        PAY,
        paid("p1", "2025-03-01 10:06", "L1", "EUR", 1999),
        paid("p2", "2025-03-01 11:06", "L2", "EUR", 1),
        paid("p3", "2025-03-02 00:30", "L3", "JPY", 500),
        paid("p4", "2025-03-01 13:06", "L4", "KWD", 1234),
        paid("p5", "2025-03-02 09:00", None, "ZZZ", 100),
    )
    silver.summary = silver.run(MARTS)
    return silver


def bookings(lake):
    return lake.table("mart_bookings_daily").select(
        "date", "currency", "n_booked", "n_cancelled", "net_gmv_minor", "captured_minor"
    )


def test_bookings_and_gmv_per_currency_in_minor_units(spark, lake):
    assert {m: s["status"] for m, s in lake.summary.items()} == dict.fromkeys(MARTS, "published")
    expected = spark.createDataFrame(
        [
            (d(1), "EUR", 2, 0, 2000, 2000),
            (d(1), "JPY", 1, 0, 500, 0),
            (d(1), "KWD", 1, 0, 1234, 1234),
            (d(2), "JPY", 0, 0, 0, 500),
            (d(2), "ZZZ", 0, 0, 0, 100),
        ],
        BOOKINGS,
    )
    assert_rows(bookings(lake), expected)
    types = {f.name: f.dataType.simpleString() for f in lake.table("mart_bookings_daily").schema.fields}
    assert not [c for c, t in types.items() if t in ("float", "double")]
    assert types["net_gmv_minor"] == "bigint"


def test_one_row_per_lbg_with_its_lifecycle(spark, lake):
    rows = lake.table("fct_lbg").select("lbg_id", "status", "currency", "total_minor", "captured_minor")
    expected = spark.createDataFrame(
        [
            ("L1", "booked", "EUR", 1999, 1999),
            ("L2", "booked", "EUR", 1, 1),
            ("L3", "booked", "JPY", 500, 500),
            ("L4", "booked", "KWD", 1234, 1234),
        ],
        "lbg_id STRING, status STRING, currency STRING, total_minor BIGINT, captured_minor BIGINT",
    )
    assert_rows(rows, expected)


def test_bad_input_is_counted_not_dropped(lake):
    counts = {r.rule: (r.n_rows, r.example_key) for r in lake.table("audit_orphans").collect()}
    assert counts["lbg_booked_without_created"] == (1, "L4")
    assert counts["payment_without_lbg"] == (1, "p5")
    assert counts["payment_unknown_currency"] == (1, "p5")
    assert counts["events_after_completed"][0] == counts["client_event_without_identity"][0] == 0
    warned = (
        lake.spark.read.format("delta")
        .load(lake.paths.system("dq_results"))
        .where((F.col("table_name") == "gold.audit_orphans") & (F.col("outcome") == "Failed"))
        .select("severity")
        .distinct()
        .collect()
    )
    assert [r.severity for r in warned] == ["warn"]


def test_a_late_cancel_rewrites_the_booked_and_cancel_dates(spark, lake):
    lake.add(LBG, lbg("l1x", "lbg_cancelled", "2025-03-03 08:00", "L1", "EUR", 1999))
    summary = lake.run(MARTS)
    assert summary["mart_bookings_daily"]["dates"] == ["2025-03-01..2025-03-01", "2025-03-03..2025-03-03"]
    assert lake.rewritten_dates("mart_bookings_daily", lake.version("mart_bookings_daily")) == {d(1), d(3)}
    cancelled = bookings(lake).where(F.col("date") == d(3))
    assert_rows(cancelled, spark.createDataFrame([(d(3), "EUR", 0, 1, -1999, 0)], BOOKINGS))
    assert lake.table("fct_lbg").where("lbg_id = 'L1'").first().status == "cancelled"


def test_a_failed_blocking_gold_rule_publishes_nothing(lake):
    versions = {m: lake.version(m) for m in MARTS}
    lake.add(LBG, lbg("l5b", "lbg_booked", "2025-03-04 09:00", "L5", "eur", 10))  # not an ISO code
    with pytest.raises(DataQualityFailure, match="currency"):
        lake.run(MARTS)
    assert {m: lake.version(m) for m in MARTS} == versions
    failed = (
        lake.spark.read.format("delta")
        .load(lake.paths.system("dq_results"))
        .where((F.col("outcome") == "Failed") & (F.col("severity") == "blocking"))
        .select("table_name")
        .distinct()
        .collect()
    )
    assert [r.table_name for r in failed] == ["gold.mart_bookings_daily"]
