"""A new event is a new file: contract files alone (a new event, a new version with an upcast
default) passed with ``contracts_path`` to a lake already holding Silver give a green run,
with the rules that list the canon generated from the new contracts."""

import json
import shutil
from datetime import UTC, datetime

from lakehouse.assets import asset_dir
from lakehouse.jobs.bronze_to_silver import Config, run
from lakehouse.lake.paths import LakePaths
from lakehouse.synthetic.bronze import write_bronze_file
from pyspark.sql import functions as F

ARRIVAL = datetime(2026, 11, 21, 9, tzinfo=UTC)


def client_event(n: int, name: str, version: int, payload: dict) -> str:
    return json.dumps(
        {
            "event_id": f"20000000-0000-4000-8000-00000000000{n}",
            "event_name": name,
            "event_version": version,
            "occurred_at": "2026-11-21T08:59:00Z",
            "sent_at": "2026-11-21T08:59:01Z",
            "received_at": "2026-11-21T08:59:02Z",
            "anon_id": "anon-1",
            "context": {"app": "web", "locale": "en-GB"},
            "payload": payload,
        }
    )


def canon_with_new_files(target):
    """The shipped canon plus app_opened v1 and page_viewed v3 (upcast from v2, with a default)."""
    shutil.copytree(asset_dir("contracts"), target)
    app_opened = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "app_opened v1",
        "x-event": {"name": "app_opened", "version": 1, "family": "client", "channel": "collect"},
        "type": "object",
        "required": ["cold_start"],
        "properties": {"cold_start": {"type": "boolean"}, "launch_ms": {"type": "integer", "minimum": 0}},
    }
    (target / "client" / "app_opened.v1.json").write_text(json.dumps(app_opened))
    v3 = json.loads((target / "client" / "page_viewed.v2.json").read_text())
    v3["x-event"]["version"] = 3
    v3["x-upcast-from"] = {"version": 2, "defaults": {"consent": "unknown"}}
    v3["properties"]["consent"] = {"type": "string", "enum": ["granted", "denied", "unknown"]}
    (target / "client" / "page_viewed.v3.json").write_text(json.dumps(v3))
    return target


def test_new_contract_files_alone_give_a_green_run_on_a_lake_holding_silver(spark, tmp_path):
    lake = str(tmp_path / "lake")
    page = {"page_url": "https://example.com/a", "duration_ms": 1200}
    write_bronze_file(lake, "collect", ARRIVAL, [client_event(1, "page_viewed", 2, page)])
    run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="shipped-canon"))

    contracts = canon_with_new_files(tmp_path / "contracts")
    records = [
        client_event(2, "app_opened", 1, {"cold_start": True, "launch_ms": 840}),
        client_event(3, "page_viewed", 3, {**page, "consent": "granted"}),
        client_event(4, "page_viewed", 2, page),  # an older client: upcast to v3 with the default
    ]
    write_bronze_file(lake, "collect", ARRIVAL.replace(hour=10), records)
    # a failed blocking rule would raise here
    result = run(
        spark,
        Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="grown", contracts_path=str(contracts)),
    )
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (3, 3, 0)

    paths = LakePaths(lake)
    client = spark.read.format("delta").load(paths.silver("stg_client_events"))
    columns = ["event_id", "event_name", "event_version", "source_event_version", "cold_start", "launch_ms"]
    rows = {r.event_id[-1]: r for r in client.select(*columns, "consent").collect()}
    assert dict(client.dtypes)["cold_start"] == "boolean" and dict(client.dtypes)["launch_ms"] == "bigint"
    assert (rows["2"].event_name, rows["2"].cold_start, rows["2"].launch_ms) == ("app_opened", True, 840)
    assert (rows["3"].event_version, rows["3"].consent) == (3, "granted")
    assert (rows["4"].event_version, rows["4"].source_event_version, rows["4"].consent) == (3, 2, "unknown")
    assert (rows["1"].event_version, rows["1"].consent) == (2, None)  # history is not re-typed

    dq = spark.read.format("delta").load(paths.system("dq_results")).where(F.col("run_id") == "grown")
    names_rule = dq.where(F.col("rule").startswith('ColumnValues "event_name" in'))
    rule = names_rule.where(F.col("table_name").endswith("stg_client_events")).first()
    assert '"app_opened"' in rule.rule and rule.outcome == "Passed"
    assert dq.where("severity = 'blocking' and outcome <> 'Passed'").count() == 0
