"""Ops views and SLOs on a lake with quarantined records, a failed run and a stale channel;
then every Gold table read by delta-rs, an engine other than Spark, within Athena v3.

As of 2025-03-02 12:00: collect read 100 records (3 schema_violation, 1 missing_event_id
quarantined), eventbridge 50 (none); collect last reached Silver 10:30 (fresh), eventbridge
05:00 (7 hours: stale); bronze_to_silver succeeded, silver_to_gold failed; one blocking rule
of two failed.
"""

from datetime import datetime

import pytest
from deltalake import DeltaTable
from lakehouse.dq import DqContext, RuleOutcome, persist_outcomes
from lakehouse.jobs import silver_to_gold
from lakehouse.lake import delta
from lakehouse.runlog import RunRecord, write_run
from lakehouse.silver.tables import write_accounting
from silver_lake import assert_rows, ev

# What Athena engine v3 reads (Athena user guide, "Query Linux Foundation Delta Lake tables",
# considerations and limitations): reader protocol up to 3; of the reader table features,
# column mapping, deletion vectors and timestampNtz. Writer features do not concern a reader.
ATHENA_V3_MAX_READER_VERSION = 3
ATHENA_V3_READER_FEATURES = {"columnMapping", "deletionVectors", "timestampNtz"}
EVENTS = "event_id STRING, channel STRING, occurred_at TIMESTAMP, received_at TIMESTAMP, "
EVENTS += "ingested_at TIMESTAMP, event_date DATE, family STRING, event_at TIMESTAMP"
QUARANTINE = "error_type STRING, channel STRING, quarantined_at TIMESTAMP"


def at(text):
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def lake(spark, silver):
    paths = silver.paths
    events = [
        ("e1", "collect", at("2025-03-02 09:59"), at("2025-03-02 10:00"), at("2025-03-02 10:30"), "client"),
        ("e2", "eventbridge", at("2025-03-02 04:49"), at("2025-03-02 04:50"), at("2025-03-02 05:00"), "lbg"),
    ]
    rows = [(*e[:5], e[2].date(), e[5], e[2]) for e in events]
    delta.append(spark.createDataFrame(rows, EVENTS), paths.silver("events"), change_data_feed=True)
    silver.audit("events")
    counts = {
        "collect": {
            "files": 1,
            "records_read": 100,
            "written": 96,
            "duplicates": 0,
            "conflicts": 0,
            "quarantined": 4,
        },
        "eventbridge": {
            "files": 1,
            "records_read": 50,
            "written": 50,
            "duplicates": 0,
            "conflicts": 0,
            "quarantined": 0,
        },
    }
    write_accounting(spark, paths, "r1", 0, counts, ("test:accounting", 0))
    spark.sql(
        f"UPDATE delta.`{paths.system('ingest_batches')}` SET processed_at = timestamp'2025-03-02 10:00'"
    )
    reasons = ["schema_violation"] * 3 + ["missing_event_id"]
    quarantined = [(r, "collect", at("2025-03-02 10:00")) for r in reasons]
    delta.append(spark.createDataFrame(quarantined, QUARANTINE), paths.quarantine("records"))
    for run_id, job, status, start in [
        ("r1", "bronze_to_silver", "SUCCEEDED", "2025-03-02 10:00"),
        ("r2", "silver_to_gold", "FAILED", "2025-03-02 10:30"),
    ]:
        started = at(start)
        write_run(spark, silver.root, RunRecord(run_id, job, "local", {}, started, started, status))
    context = DqContext(silver.root, "bronze_to_silver", "r1", "silver.events")
    outcomes = [
        RuleOutcome("silver.events", "events", 'IsComplete "event_id"', "blocking", "Passed", None, {}),
        RuleOutcome(
            "silver.events", "events", 'IsUnique "event_id"', "blocking", "Failed", "1 duplicate", {}
        ),
    ]
    persist_outcomes(spark, outcomes, context)
    silver.add("stg_client_events", ev("c1", "page_viewed", "2025-03-02 09:59", user_id="u1"))
    specs = silver_to_gold.mart_specs(silver_to_gold.parameters(silver_to_gold.Config("s", silver.root)))
    silver.all_marts = [s.name for s in specs]
    silver.summary = silver.run(silver.all_marts, as_of="2025-03-02 12:00")
    return silver


def test_every_mart_is_published_and_registered_with_column_comments(spark, lake):
    assert {m: s["status"] for m, s in lake.summary.items()} == dict.fromkeys(lake.all_marts, "published")
    tables = {r.tableName for r in spark.sql(f"SHOW TABLES IN {lake.prefix}gold").collect()}
    assert set(lake.all_marts) <= tables
    columns = spark.sql(f"DESCRIBE TABLE {lake.prefix}gold.mart_slo_status").collect()
    comments = {r.col_name: r.comment for r in columns}
    assert comments["error_budget_remaining"].startswith("Share of the window's error budget left")
    details = spark.sql(f"DESCRIBE TABLE EXTENDED {lake.prefix}gold.mart_slo_status").collect()
    table_comment = next(r.data_type for r in details if r.col_name == "Comment")
    assert table_comment.startswith("SLOs (declared below) with their current value")
    assert table_comment.endswith("Grain: one row per SLO (freshness SLOs one per channel).")


def test_quarantine_rate_by_channel_and_reason(spark, lake):
    expected = spark.createDataFrame(
        [
            ("collect", "*", 4, 100, 0.04),
            ("collect", "schema_violation", 3, 100, 0.03),
            ("collect", "missing_event_id", 1, 100, 0.01),
            ("eventbridge", "*", 0, 50, 0.0),
        ],
        "channel STRING, reason STRING, n_quarantined BIGINT, n_read BIGINT, rate DOUBLE",
    )
    rows = lake.table("mart_quarantine_daily").select("channel", "reason", "n_quarantined", "n_read", "rate")
    assert_rows(rows, expected)


def test_freshness_job_runs_and_slo_status(spark, lake):
    fresh = {r.channel: (r.freshness_s, r.status) for r in lake.table("mart_pipeline_freshness").collect()}
    assert fresh == {"collect": (5400, "ok"), "eventbridge": (25200, "error")}
    runs = {r.job: (r.status, r.duration_s) for r in lake.table("mart_job_runs").collect()}
    assert runs == {"bronze_to_silver": ("SUCCEEDED", 0), "silver_to_gold": ("FAILED", 0)}
    slo = {r.slo_id: r for r in lake.table("mart_slo_status").collect()}
    assert {k: v.status for k, v in slo.items()} == {
        "freshness_collect": "ok",
        "freshness_eventbridge": "breach",  # stale now, although its events arrived on time
        "quarantine_rate": "breach",  # 4 of 150 records, objective 98 percent
        "dq_blocking": "breach",
        "job_success_bronze_to_silver": "ok",
        "job_success_silver_to_gold": "breach",
    }
    assert slo["quarantine_rate"].current_value == pytest.approx(146 / 150)
    assert slo["quarantine_rate"].error_budget_remaining == pytest.approx(1 - 4 / 3)  # budget 3, spent 4
    assert slo["job_success_bronze_to_silver"].error_budget_remaining == 1.0


def test_every_gold_table_is_read_by_delta_rs_within_athena_v3(spark, lake):
    for mart in lake.all_marts:
        table = DeltaTable(lake.paths.gold(mart))
        protocol = table.protocol()
        assert protocol.min_reader_version <= ATHENA_V3_MAX_READER_VERSION, mart
        assert set(protocol.reader_features or []) <= ATHENA_V3_READER_FEATURES, mart
        assert table.to_pyarrow_table().num_rows == lake.table(mart).count(), mart
