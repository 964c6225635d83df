"""Replaying quarantine after a contract fix moves the now-valid records to Silver, once,
as a job with bronze_to_silver's configuration (the same PII key, env and contracts)."""

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lakehouse.assets import asset_dir
from lakehouse.cli import main
from lakehouse.config import ConfigError, parse_glue_arguments
from lakehouse.jobs import get_job, replay_quarantine
from lakehouse.jobs.bronze_to_silver import Config, run
from lakehouse.jobs.replay_quarantine import replay
from lakehouse.lake.paths import LakePaths
from lakehouse.privacy import PiiHasher
from lakehouse.synthetic.bronze import write_bronze_file
from pyspark.sql import functions as F

REPO = Path(__file__).resolve().parents[2]

ARRIVAL = datetime(2026, 11, 21, 9, tzinfo=UTC)


def client_event(event_id: str, name: str, payload: dict, **envelope) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "event_name": name,
            "event_version": 1,
            "occurred_at": "2026-11-21T08:59:00Z",
            "sent_at": "2026-11-21T08:59:01Z",
            "received_at": "2026-11-21T08:59:02Z",
            "anon_id": "anon-1",
            "context": {"app": "web", "locale": "en-GB"},
            "payload": payload,
            **envelope,
        }
    )


def scrolled(event_id: str, **payload) -> str:
    return client_event(event_id, "page_scrolled", {"depth_pct": 75, **payload})


def canon_with_page_scrolled(target: Path, **properties) -> Path:
    """A copy of the canon with the contract page_scrolled v1 added (the fix)."""
    shutil.copytree(asset_dir("contracts"), target)
    (target / "client" / "page_scrolled.v1.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": "page_scrolled v1",
                "x-event": {"name": "page_scrolled", "version": 1, "family": "client", "channel": "collect"},
                "type": "object",
                "required": ["depth_pct"],
                "properties": {"depth_pct": {"type": "integer", "minimum": 0, "maximum": 100}, **properties},
            }
        )
    )
    return target


def test_replay_after_adding_the_missing_contract(spark, tmp_path):
    lake = str(tmp_path / "lake")
    ids = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(3)]
    write_bronze_file(lake, "collect", ARRIVAL, [scrolled(i) for i in ids] + ["not json"])
    run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="before-fix"))
    paths = LakePaths(lake)
    quarantine = spark.read.format("delta").load(paths.quarantine("records"))
    assert sorted(r.error_type for r in quarantine.collect()) == ["parse_error"] + ["unknown_event"] * 3

    fixed = canon_with_page_scrolled(tmp_path / "contracts")
    config = replay_quarantine.Config(
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

    again = replay(spark, replay_quarantine.Config(JOB_NAME="replay_quarantine", lake_root=lake,
                                                   run_id="replay-2", contracts_path=str(fixed)))  # fmt: skip
    assert (again["records"], again["moved_to_silver"], again["still_failing"]) == (1, 0, 1)
    assert spark.read.format("delta").load(paths.silver("events")).count() == 3


def test_replay_hashes_with_the_lakes_key_as_the_main_job_does(spark, tmp_path):
    """A lake written with a key file; a record quarantined; the contract fixed; the replay job,
    configured through the same Glue arguments as bronze_to_silver, hashes as the main job did."""
    lake, keys = str(tmp_path / "lake"), tmp_path / "keys.json"
    keys.write_text(json.dumps({"current": "k1", "keys": {"k1": "ab" * 32}}))
    email = " Ann.Lee@Example.com"
    signup = {"method": "email", "email": email}
    records = [
        client_event("10000000-0000-4000-8000-000000000001", "signup_completed", signup, user_id="user-1"),
        scrolled("10000000-0000-4000-8000-000000000002", email=email),
    ]
    write_bronze_file(lake, "collect", ARRIVAL, records)
    main_job = ["--JOB_NAME", "bronze_to_silver", "--lake_root", lake, "--pii_key_file", str(keys)]
    run(spark, parse_glue_arguments(Config, [*main_job, "--run_id", "main-with-key"]))

    fixed = canon_with_page_scrolled(
        tmp_path / "contracts", email={"type": "string", "maxLength": 320, "x-pii": "hash_email"}
    )
    spec = get_job("replay_quarantine")
    argv = [*main_job[2:], "--contracts_path", str(fixed), "--error_type", "unknown_event"]
    argv = ["--JOB_NAME", "replay_quarantine", *argv, "--run_id", "replay-key"]
    result = spec.run(spark, parse_glue_arguments(spec.config_class, argv))
    assert (result.rows_in, result.rows_out) == (1, 1)

    client = spark.read.format("delta").load(LakePaths(lake).silver("stg_client_events"))
    hashes = {r.event_name: r.email_hash for r in client.select("event_name", "email_hash").collect()}
    assert hashes["page_scrolled"] == hashes["signup_completed"]
    assert hashes["page_scrolled"].startswith("k1:")
    dev = PiiHasher.for_development()
    dev_hash = spark.range(1).select(dev.hash_email(F.lit(email)).alias("h")).first().h
    assert hashes["page_scrolled"] != dev_hash


NO_KEY = ["--lake_root", "/nonexistent/lake", "--env", "dev"]


def test_replay_without_a_key_outside_local_is_refused_in_one_line(capsys):
    with pytest.raises(ConfigError, match=r"--pii_secret_id: required in env 'dev'"):
        parse_glue_arguments(replay_quarantine.Config, ["--JOB_NAME", "replay_quarantine", *NO_KEY])

    assert main(["replay-quarantine", "--lake-root", "/nonexistent/lake", "--env", "dev"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "lakehouse replay-quarantine: error: argument --pii_secret_id: required in env 'dev' "
        "(the dev key is local only)"
    ]
    script = REPO / "jobs" / "replay_quarantine" / "replay_quarantine.py"
    done = subprocess.run(
        [sys.executable, str(script), "--JOB_NAME", "replay_quarantine", *NO_KEY],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "replay_quarantine: error: argument --pii_secret_id: required in env 'dev' "
        "(the dev key is local only)"
    ]
