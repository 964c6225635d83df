"""The booking funnel as data: ordered steps, per-step windows, the lbg held constant.

Entry date 03-01. P1 goes all the way (a second search that day does not make a second
entry); P2's lbg is booked a minute before it was created (out of order: step 2 only);
P3 searches anonymously, signs up, and creates an lbg 25 hours later (outside the 24-hour
window of step 2: step 1 only). Expected reached: 3, 2, 1, 1, 1.
"""

from datetime import date

import pytest
from silver_lake import assert_rows, ev

MARTS = ["dim_identity_map", "mart_booking_funnel_daily"]


def lbg(event_id, name, at, user, lbg_id):
    return ev(event_id, name, at, user_id=user, lbg_id=lbg_id, currency="EUR", total_minor=100, legs_count=1)


@pytest.fixture(scope="module")
def lake(silver):
    silver.add(
        "stg_client_events",
        ev("s1", "search_performed", "2025-03-01 09:00", user_id="uP1"),
        ev("s1b", "search_performed", "2025-03-01 15:00", user_id="uP1"),
        ev("s2", "search_performed", "2025-03-01 10:00", user_id="uP2"),
        ev("s3", "search_performed", "2025-03-01 11:00", anon_id="anP3"),
        ev("u3", "signup_completed", "2025-03-01 11:30", anon_id="anP3", user_id="uP3"),
    )
    silver.add(
        "stg_lbg_events",
        lbg("c1", "lbg_created", "2025-03-01 09:10", "uP1", "L1"),
        lbg("b1", "lbg_booked", "2025-03-02 09:00", "uP1", "L1"),
        lbg("f1", "lbg_completed", "2025-03-21 09:00", "uP1", "L1"),
        lbg("c2", "lbg_created", "2025-03-01 10:05", "uP2", "L2"),
        lbg("b2", "lbg_booked", "2025-03-01 10:04", "uP2", "L2"),
        lbg("c3", "lbg_created", "2025-03-02 12:00", "uP3", "L3"),
    )
    silver.add(
        "stg_payments_events",
        ev(
            "p1",
            "payment_captured",
            "2025-03-02 09:01",
            user_id="uP1",
            lbg_id="L1",
            currency="EUR",
            amount_minor=100,
        ),
        ev(
            "p2",
            "payment_captured",
            "2025-03-01 10:06",
            user_id="uP2",
            lbg_id="L2",
            currency="EUR",
            amount_minor=100,
        ),
    )
    silver.run(MARTS, as_of="2025-06-01 00:00")
    return silver


def test_funnel_with_an_out_of_order_step_and_one_outside_its_window(spark, lake):
    steps = ["search_performed", "lbg_created", "lbg_booked", "payment_captured", "lbg_completed"]
    reached = [3, 2, 1, 1, 1]
    expected = spark.createDataFrame(
        [(date(2025, 3, 1), i + 1, name, 3, reached[i], True) for i, name in enumerate(steps)],
        "entry_date DATE, step_index INT, step_name STRING, entrants BIGINT, reached BIGINT, "
        "is_complete BOOLEAN",
    )
    rows = lake.table("mart_booking_funnel_daily").select(
        "entry_date", "step_index", "step_name", "entrants", "reached", "is_complete"
    )
    assert_rows(rows, expected)
    step3 = lake.table("mart_booking_funnel_daily").where("step_index = 3").first()
    assert step3.conv_step == 0.5 and step3.conv_overall == pytest.approx(1 / 3)
