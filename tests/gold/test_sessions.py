"""Sessions: inactivity splits, a session across midnight, the client's session id kept."""

from datetime import date

import pytest
from silver_lake import assert_rows, ev, ts

MARTS = ["dim_identity_map", "fct_sessions"]


@pytest.fixture(scope="module")
def lake(silver):
    silver.add(
        "stg_client_events",
        *[
            ev(f"s{i}", "page_viewed", f"2025-03-01 {t}", user_id="uS")
            for i, t in enumerate(["10:00", "10:10", "10:50", "10:55"])
        ],
        ev("m1", "page_viewed", "2025-03-01 23:50", user_id="uM"),
        ev("m2", "search_performed", "2025-03-02 00:10", user_id="uM"),
        ev("k1", "page_viewed", "2025-03-01 12:00", user_id="uK", session_id="s1"),
        ev("k2", "page_viewed", "2025-03-01 12:45", user_id="uK", session_id="s1"),
    )
    silver.run(MARTS)
    return silver


def test_sessions_split_by_inactivity_and_across_midnight(spark, lake):
    d1 = date(2025, 3, 1)
    expected = spark.createDataFrame(
        [
            (d1, "uS", ts("2025-03-01 10:00"), ts("2025-03-01 10:10"), 2, "inactivity", False),
            (d1, "uS", ts("2025-03-01 10:50"), ts("2025-03-01 10:55"), 2, "inactivity", False),
            (d1, "uM", ts("2025-03-01 23:50"), ts("2025-03-02 00:10"), 2, "inactivity", False),
            (d1, "uK", ts("2025-03-01 12:00"), ts("2025-03-01 12:45"), 2, "client", False),
        ],
        "session_date DATE, person_key STRING, started_at TIMESTAMP, ended_at TIMESTAMP, n_events BIGINT, "
        "boundary STRING, is_bounce BOOLEAN",
    )
    rows = lake.table("fct_sessions").select(
        "session_date", "person_key", "started_at", "ended_at", "n_events", "boundary", "is_bounce"
    )
    assert_rows(rows, expected)
