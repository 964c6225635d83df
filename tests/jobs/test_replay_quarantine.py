"""Replaying quarantine after a contract fix moves the now-valid records to Silver, once."""

import json
import shutil
from datetime import UTC, datetime

from lakehouse.assets import asset_dir
from lakehouse.jobs.bronze_to_silver import Config, run
from lakehouse.jobs.replay_quarantine import replay
from lakehouse.lake.paths import LakePaths
from lakehouse.synthetic.bronze import write_bronze_file
from pyspark.sql import functions as F

ARRIVAL = datetime(2026, 11, 21, 9, tzinfo=UTC)


def scrolled(event_id: str) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "event_name": "page_scrolled",
            "event_version": 1,
            "occurred_at": "2026-11-21T08:59:00Z",
            "sent_at": "2026-11-21T08:59:01Z",
            "received_at": "2026-11-21T08:59:02Z",
            "anon_id": "anon-1",
            "context": {"app": "web", "locale": "en-GB"},
            "payload": {"depth_pct": 75},
        }
    )


def test_replay_after_adding_the_missing_contract(spark, tmp_path):
    lake = str(tmp_path / "lake")
    ids = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(3)]
    write_bronze_file(lake, "collect", ARRIVAL, [scrolled(i) for i in ids] + ["not json"])
    run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="before-fix"))
    paths = LakePaths(lake)
    quarantine = spark.read.format("delta").load(paths.quarantine("records"))
    assert sorted(r.error_type for r in quarantine.collect()) == ["parse_error"] + ["unknown_event"] * 3

    fixed = tmp_path / "contracts"
    shutil.copytree(asset_dir("contracts"), fixed)
    (fixed / "client" / "page_scrolled.v1.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": "page_scrolled v1",
                "x-event": {"name": "page_scrolled", "version": 1, "family": "client", "channel": "collect"},
                "type": "object",
                "required": ["depth_pct"],
                "properties": {"depth_pct": {"type": "integer", "minimum": 0, "maximum": 100}},
            }
        )
    )
    config = Config(
        JOB_NAME="replay_quarantine", lake_root=lake, run_id="replay-1", contracts_path=str(fixed)
    )
    first = replay(spark, config)
    assert (first["records"], first["moved_to_silver"], first["still_failing"]) == (4, 3, 1)

    events = spark.read.format("delta").load(paths.silver("events"))
    assert sorted(r.event_id for r in events.where("event_name = 'page_scrolled'").collect()) == ids
    marked = (
        spark.read.format("delta")
        .load(paths.quarantine("records"))
        .where(F.col("replayed_run_id") == "replay-1")
    )
    assert marked.count() == 3

    again = replay(spark, Config(JOB_NAME="replay_quarantine", lake_root=lake, run_id="replay-2",
                                 contracts_path=str(fixed)))  # fmt: skip
    assert (again["records"], again["moved_to_silver"], again["still_failing"]) == (1, 0, 1)
    assert spark.read.format("delta").load(paths.silver("events")).count() == 3
