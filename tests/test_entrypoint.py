"""Running a job end to end: run log, data-quality severities, JSON logs."""

import io
import json
import logging
from dataclasses import dataclass

import pytest
from lakehouse.config import JobConfig, option
from lakehouse.dq import DqContext, enforce, evaluate, parse_ruleset
from lakehouse.entrypoint import EXIT_FAILED, EXIT_OK, execute
from lakehouse.jobs import JobResult, JobSpec
from lakehouse.lake import delta
from lakehouse.logs import configure_logging
from lakehouse.runlog import read_runs


@dataclass(frozen=True)
class PublishConfig(JobConfig):
    ruleset: str = option("", help="DQDL guarding the publication")
    api_token: str = option("", help="a secret that must never be logged or stored")


def publish_job(spark, config: PublishConfig) -> JobResult:
    """A small job: stage rows, check them, publish only if no blocking rule failed."""
    staged = spark.createDataFrame([("a", 100), ("b", -3)], "id STRING, amount_minor BIGINT")
    outcomes = evaluate(
        spark,
        staged,
        parse_ruleset(config.ruleset),
        DqContext(config.lake_root, config.JOB_NAME, config.run_id, "gold.published"),
    )
    enforce(outcomes)
    delta.append(staged, f"{config.lake_root}/gold/published")
    return JobResult(rows_in=2, rows_out=2)


SPEC = JobSpec("publish", "test job", PublishConfig, publish_job)


def run(lake, ruleset, run_id):
    config = PublishConfig(
        JOB_NAME="publish", lake_root=lake, run_id=run_id, ruleset=ruleset, api_token="s3cr3t"
    )
    return execute(SPEC, config)


def test_a_failed_warn_rule_is_recorded_and_the_run_publishes(spark, lake):
    code, _ = run(lake, 'Rules = [\n# warn\nColumnValues "amount_minor" >= 0\n]', "warn-run")
    assert code == EXIT_OK
    assert spark.read.format("delta").load(f"{lake}/gold/published").count() == 2
    (row,) = read_runs(spark, lake).where("run_id = 'warn-run'").collect()
    assert (row.status, row.rows_in, row.rows_out, row.error) == ("SUCCEEDED", 2, 2, None)
    assert row.arguments["api_token"] == "****"
    dq = spark.read.format("delta").load(f"{lake}/_system/dq_results").where("run_id = 'warn-run'").collect()
    assert [(r.severity, r.outcome) for r in dq] == [("warn", "Failed")]


def test_a_failed_blocking_rule_stops_the_run_before_publication(spark, lake):
    code, result = run(lake, 'Rules = [ ColumnValues "amount_minor" >= 0 ]', "blocking-run")
    assert code == EXIT_FAILED
    assert result is None
    assert not delta.table_exists(spark, f"{lake}/gold/published")
    (row,) = read_runs(spark, lake).where("run_id = 'blocking-run'").collect()
    assert row.status == "FAILED"
    assert "DataQualityFailure" in row.error and 'ColumnValues "amount_minor" >= 0' in row.error


def test_log_lines_are_json_with_job_and_run_id_and_no_secrets():
    stream = io.StringIO()
    configure_logging("publish", "run-42", "INFO", stream=stream)
    config = PublishConfig(JOB_NAME="publish", lake_root="/l", api_token="s3cr3t", run_id="run-42")
    logging.getLogger("lakehouse.test").info("job started", extra={"arguments": config.masked_arguments()})
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("lakehouse.test").exception("failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["job"], line["run_id"], line["level"]) for line in lines] == [
        ("publish", "run-42", "INFO"),
        ("publish", "run-42", "ERROR"),
    ]
    assert lines[0]["arguments"]["api_token"] == "****"
    assert lines[1]["error"] == "ValueError: boom"
    assert "s3cr3t" not in stream.getvalue()


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    logging.getLogger("lakehouse").handlers.clear()
    logging.getLogger("lakehouse").propagate = True
