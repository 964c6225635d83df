"""Bad input never stops the pipeline: broken device clocks and unreadable Bronze files are
quarantined with their reason, the run stays green, everything else lands in Silver."""

import gzip
import json
import random
import uuid
from datetime import UTC, date, datetime

import pytest
from lakehouse.jobs.bronze_to_silver import Config, run
from lakehouse.lake.audit import open_failures
from lakehouse.lake.paths import LakePaths
from lakehouse.synthetic.bronze import bronze_dir, write_bronze_file
from pyspark.sql import functions as F

ARRIVAL = datetime(2026, 11, 20, 9, tzinfo=UTC)
COUNTS = ("files_received", "files_read", "files_unreadable", "records_read", "written", "quarantined")


def page_view(n: int, occurred_at: str, sent_at: str, received_at: str = "2026-11-20T09:00:00Z") -> str:
    return json.dumps(
        {
            "event_id": str(uuid.UUID(int=n)),
            "event_name": "page_viewed",
            "event_version": 2,
            "occurred_at": occurred_at,
            "sent_at": sent_at,
            "received_at": received_at,
            "anon_id": f"anon-{n}",
            "context": {"app": "web", "locale": "en-GB", "user_agent": "Mozilla/5.0"},
            "payload": {"page_url": f"https://example.com/p/{n}/{random.Random(n).getrandbits(64):x}"},
        }
    )


@pytest.fixture(scope="module")
def loaded(spark, tmp_path_factory):
    lake = str(tmp_path_factory.mktemp("bad_input") / "lake")
    clocks = [
        page_view(1, "2026-11-20T08:59:00Z", "2026-11-20T08:59:30Z"),  # a good clock
        page_view(2, "1999-01-01T00:00:00Z", "2026-11-20T08:59:30Z"),  # stuck in 1999
        page_view(3, "2099-01-01T00:00:00Z", "2026-11-20T08:59:30Z"),  # set to 2099
        page_view(4, "2026-11-17T08:59:00Z", "2026-11-17T08:59:30Z"),  # three days behind, consistently
    ]
    write_bronze_file(lake, "collect", ARRIVAL, clocks, gzip=True, name="clocks.json.gz")
    folder = bronze_dir(lake, "collect", ARRIVAL)
    lines = [page_view(100 + i, "2026-11-20T08:00:00Z", "2026-11-20T08:00:01Z") for i in range(300)]
    whole = "".join(line + "\n" for line in lines)
    compressed = gzip.compress(whole.encode())
    (folder / "truncated.json.gz").write_bytes(compressed[: len(compressed) // 2])  # a partial Firehose write
    (folder / "zero.json.gz").write_bytes(b"")
    (folder / "blob.json.gz").write_bytes(random.Random(7).randbytes(600))
    result = run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="bad"))  # green
    return lake, result


def test_implausible_clocks_are_quarantined_and_a_skewed_one_lands_on_its_true_date(spark, loaded):
    lake, _ = loaded
    paths = LakePaths(lake)
    quarantined = {
        json.loads(r.raw_record)["event_id"]: r
        for r in spark.read.format("delta").load(paths.quarantine("records")).collect()
    }
    assert {quarantined[str(uuid.UUID(int=n))].error_type for n in (2, 3)} == {"implausible_time"}
    assert "is before the earliest accepted 2015-01-01" in quarantined[str(uuid.UUID(int=2))].error_message
    assert "more than 24 hours after it was received" in quarantined[str(uuid.UUID(int=3))].error_message
    client = spark.read.format("delta").load(paths.silver("stg_client_events"))
    (skewed,) = client.where(F.col("event_id") == str(uuid.UUID(int=4))).collect()
    assert skewed.occurred_at == datetime(2026, 11, 17, 8, 59)  # the device's clock, kept
    assert skewed.event_at == datetime(2026, 11, 20, 8, 59, 30)  # received_at - (sent_at - occurred_at)
    assert skewed.event_date == date(2026, 11, 20)
    (good,) = client.where(F.col("event_id") == str(uuid.UUID(int=1))).collect()
    assert good.event_at == datetime(2026, 11, 20, 8, 59, 30)


def test_unreadable_files_are_quarantined_with_their_reason_and_the_batch_goes_on(spark, loaded):
    lake, result = loaded
    paths = LakePaths(lake)
    files = {
        r.bronze_file.rsplit("/", 1)[1]: r
        for r in spark.read.format("delta").load(paths.quarantine("files")).collect()
    }
    assert set(files) == {"truncated.json.gz", "zero.json.gz", "blob.json.gz"}
    assert {r.error_type for r in files.values()} == {"unreadable_file"}
    assert "truncated" in files["truncated.json.gz"].error_message
    assert "0 bytes" in files["zero.json.gz"].error_message
    assert "not a gzip stream" in files["blob.json.gz"].error_message
    assert (files["zero.json.gz"].file_bytes, files["blob.json.gz"].file_bytes) == (0, 600)
    recovered = files["truncated.json.gz"].recovered_lines
    assert 0 < recovered < 300  # the complete lines before the damage, ingested
    events = spark.read.format("delta").load(paths.silver("events"))
    from_truncated = events.where(F.col("bronze_file").endswith("/truncated.json.gz"))
    assert from_truncated.count() == recovered
    assert events.where(F.col("bronze_file").endswith("/clocks.json.gz")).count() == 2
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (4 + recovered, 2 + recovered, 2)


def test_the_accounting_covers_every_file_and_record(spark, loaded):
    lake, _ = loaded
    paths = LakePaths(lake)
    (row,) = (
        spark.read.format("delta")
        .load(paths.system("ingest_batches"))
        .where(F.col("run_id") == "bad")
        .groupBy("channel")
        .agg(*[F.sum(c).alias(c) for c in COUNTS])
        .collect()
    )
    assert (row.channel, row.files_received, row.files_read, row.files_unreadable) == ("collect", 4, 1, 3)
    assert row.records_read == row.written + row.quarantined
    assert open_failures(spark, paths) == []  # every Silver table audited and passed
