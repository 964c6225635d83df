"""Ingest lag percentiles and volume anomalies per arrival hour, on hand-made arrivals.

As of 2025-03-05 12:00. collect: 5 events at 10:00 on each of 03-01 .. 03-05; on 03-05 their
ingest lags are 10, 20, 30, 40, 100 s and delivery lags 1 .. 5 s. eventbridge: 5 events at 10:00
on 03-01 .. 03-04, then 30 on 03-05: the one anomaly (score (30 - 5) / sqrt(5) = 11.18).
"""

from datetime import datetime, timedelta

import pytest
from lakehouse.lake import delta
from pyspark.sql import functions as F
from silver_lake import assert_rows

MARTS = ["mart_ingest_lag_hourly", "mart_volume_anomalies_hourly"]
EVENTS = "event_id STRING, channel STRING, event_at TIMESTAMP, received_at TIMESTAMP, "
EVENTS += "ingested_at TIMESTAMP, event_date DATE"


def arrivals(channel: str, day: int, n: int, ingest_lags=None, delivery_lags=None):
    received = datetime(2025, 3, day, 10, 0, 0)
    rows = []
    for i in range(n):
        ingest = ingest_lags[i] if ingest_lags else 60
        delivery = delivery_lags[i] if delivery_lags else 5
        event_at = received - timedelta(seconds=delivery)
        rows.append(
            (
                f"{channel}-{day}-{i}",
                channel,
                event_at,
                received,
                received + timedelta(seconds=ingest),
                event_at.date(),
            )
        )
    return rows


@pytest.fixture(scope="module")
def lake(spark, silver):
    rows = [r for day in range(1, 5) for r in arrivals("collect", day, 5) + arrivals("eventbridge", day, 5)]
    rows += arrivals("collect", 5, 5, ingest_lags=[10, 20, 30, 40, 100], delivery_lags=[1, 2, 3, 4, 5])
    rows += arrivals("eventbridge", 5, 30)
    delta.append(spark.createDataFrame(rows, EVENTS), silver.paths.silver("events"), change_data_feed=True)
    silver.audit("events")
    silver.summary = silver.run(MARTS, as_of="2025-03-05 12:00")
    return silver


def test_both_marts_publish(lake):
    assert {m: s["status"] for m, s in lake.summary.items()} == dict.fromkeys(MARTS, "published")


def test_lag_percentiles_are_exact(spark, lake):
    # Spark's exact percentile interpolates: p95 of 10, 20, 30, 40, 100 is 40 + 0.8 * 60.
    expected = spark.createDataFrame(
        [("collect", 5, 30.0, 88.0, 97.6, 100, 3.0, 4.8, 4.96)],
        "channel STRING, n_events BIGINT, ingest_lag_p50_s DOUBLE, ingest_lag_p95_s DOUBLE, "
        "ingest_lag_p99_s DOUBLE, ingest_lag_max_s BIGINT, delivery_lag_p50_s DOUBLE, "
        "delivery_lag_p95_s DOUBLE, delivery_lag_p99_s DOUBLE",
    )
    day5 = lake.table("mart_ingest_lag_hourly").where("channel = 'collect' AND date = DATE'2025-03-05'")
    actual = day5.select(*expected.columns).withColumns(
        {c: F.round(c, 6) for c in expected.columns if c.endswith("_s") and c != "ingest_lag_max_s"}
    )
    assert_rows(actual, expected)
    assert lake.table("mart_ingest_lag_hourly").count() == 10  # two channels x five arrival hours


def test_only_the_burst_is_an_anomaly_and_quiet_hours_count_as_zero(lake):
    table = lake.table("mart_volume_anomalies_hourly")
    flagged = [
        (r.channel, r.arrival_hour, r.n_events, round(r.score, 4))
        for r in table.where("is_anomaly").collect()
    ]
    assert flagged == [("eventbridge", datetime(2025, 3, 5, 10), 30, round(25 / 5**0.5, 4))]
    quiet = table.where("channel = 'collect' AND arrival_hour = timestamp'2025-03-05 11:00'").collect()
    assert [(r.n_events, r.baseline_days, r.is_anomaly) for r in quiet] == [(0, 4, False)]
    # Hours come from the first arrival up to the as-of hour: 03-01 10:00 .. 03-05 12:00.
    assert table.where("channel = 'collect'").count() == 4 * 24 + 3
