"""A blocking failure holds: later runs re-evaluate it and fail with the same reason, the audit
watermark (what downstream reads) stays, until the data is fixed or a person overrides it."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from lakehouse.cli import main
from lakehouse.dq import DataQualityFailure
from lakehouse.jobs.bronze_to_silver import Config, run
from lakehouse.lake import delta
from lakehouse.lake.audit import audited_version, open_failures, read_audit_log, read_audited
from lakehouse.lake.paths import LakePaths
from lakehouse.synthetic.bronze import write_bronze_file
from pyspark.sql import functions as F

ARRIVAL = datetime(2026, 11, 20, 9, tzinfo=UTC)
TABLE = "silver.stg_client_events"


def page_view(n: int) -> str:
    return json.dumps(
        {
            "event_id": str(uuid.UUID(int=n)),
            "event_name": "page_viewed",
            "event_version": 2,
            "occurred_at": "2026-11-20T08:59:00Z",
            "sent_at": "2026-11-20T08:59:01Z",
            "received_at": "2026-11-20T09:00:00Z",
            "anon_id": f"anon-{n}",
            "context": {"app": "web", "locale": "en-GB", "user_agent": "Mozilla/5.0"},
            "payload": {"page_url": f"https://example.com/p/{n}", "duration_ms": 1200},
        }
    )


def job(spark, lake, run_id):
    return run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id=run_id))


def failing_run(spark, lake, run_id) -> str:
    with pytest.raises(DataQualityFailure) as failure:
        job(spark, lake, run_id)
    return str(failure.value)


def reasons(spark, lake, run_id):
    log = read_audit_log(spark, LakePaths(lake)).where(
        (F.col("run_id") == run_id) & (F.col("table_name") == TABLE)
    )
    return [(r.status, r.reason) for r in log.collect()]


def plant_duplicate(spark, lake) -> None:
    """A bug's write: a second copy of one Silver row (IsUnique "event_id" is blocking)."""
    path = LakePaths(lake).silver("stg_client_events")
    row = spark.read.format("delta").load(path).where(F.col("event_id") == str(uuid.UUID(int=1)))
    delta.append(row, path)


def test_a_blocking_failure_holds_until_it_is_overridden_or_fixed(spark, lake, capsys):
    paths = LakePaths(lake)
    write_bronze_file(lake, "collect", ARRIVAL, [page_view(n) for n in range(1, 4)])
    job(spark, lake, "clean")
    clean = audited_version(spark, paths, TABLE)
    assert clean == delta.current_version(spark, paths.silver("stg_client_events"))
    assert read_audited(spark, paths, TABLE).df.count() == 3

    plant_duplicate(spark, lake)
    planted = delta.current_version(spark, paths.silver("stg_client_events"))
    first = failing_run(spark, lake, "fails-1")  # nothing new in Bronze: the planted change is audited
    second = failing_run(spark, lake, "fails-2")
    assert first == second and "IsUnique" in first
    (status_1, reason_1), (status_2, reason_2) = reasons(spark, lake, "fails-1") + reasons(
        spark, lake, "fails-2"
    )
    assert status_1 == status_2 == "failed" and reason_1 == reason_2 and "\n" not in reason_1
    assert reason_1.startswith("silver.stg_client_events: IsUnique")
    assert audited_version(spark, paths, TABLE) == clean  # downstream still reads the clean version
    assert read_audited(spark, paths, TABLE).df.count() == 3
    assert [f["version"] for f in open_failures(spark, paths, TABLE)] == [planted]

    assert main(["audit", "status", "--lake-root", lake]) == 1
    assert f"FAILED at version {planted}: {reason_1}" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # an override without a reason is refused
        main(["audit", "override", "--lake-root", lake, "--table", TABLE, "--version", str(planted)])
    assert main(["audit", "override", "--lake-root", lake, "--table", TABLE, "--version", str(planted),
                 "--reason", "known duplicate, removed by the consumer"]) == 0  # fmt: skip
    assert audited_version(spark, paths, TABLE) == planted
    job(spark, lake, "after-override")  # green: nothing changed after the accepted version
    assert open_failures(spark, paths) == []

    # Fixed by the data: a second bad write fails, deleting it makes the next run pass.
    plant_duplicate(spark, lake)
    failing_run(spark, lake, "fails-3")
    assert audited_version(spark, paths, TABLE) == planted
    spark.sql(
        f"DELETE FROM delta.`{paths.silver('stg_client_events')}` WHERE event_id = '{uuid.UUID(int=1)}'"
    )
    job(spark, lake, "fixed")
    fixed = delta.current_version(spark, paths.silver("stg_client_events"))
    assert audited_version(spark, paths, TABLE) == fixed > planted
    assert reasons(spark, lake, "fixed") == [("passed", None)]
    assert main(["audit", "status", "--lake-root", lake]) == 0
