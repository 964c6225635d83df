"""The local workflow runner on the daily graph, with small jobs standing in for the real ones
(real Spark, Delta state and run log): failure stops dependants, a rerun resumes, --from/--only,
and the BI step after a published close."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from lakehouse.config import JobConfig, option
from lakehouse.deploy.stacks import load_env_parameters
from lakehouse.jobs import JobResult, JobSpec
from lakehouse.runlog import read_runs
from lakehouse.workflow import bi
from lakehouse.workflow.graph import load_graph
from lakehouse.workflow.runner import WorkflowRequest, last_run_state, run_workflow

REPO = Path(__file__).resolve().parents[2]
GRAPH = load_graph("daily")


@dataclass(frozen=True)
class StandInConfig(JobConfig):
    business_date: str = option("", help="accepted like finance_close's")


def stand_in(name: str) -> JobSpec:
    """A job that counts its runs in the lake and fails while ``<lake>/fail-<name>`` exists."""

    def run(spark, config) -> JobResult:
        marker = Path(config.lake_root) / f"fail-{name}"
        runs = Path(config.lake_root) / f"runs-{name}"
        runs.write_text(str(int(runs.read_text() or 0) + 1) if runs.exists() else "1")
        if marker.exists():
            raise RuntimeError(f"{name} cannot read its input\njava.lang.Stack: frame")
        return JobResult(rows_in=10, rows_out=9, rows_quarantined=1)

    return JobSpec(name, f"stand-in for {name}", StandInConfig, run)


JOBS = {name: stand_in(name) for name in GRAPH.jobs()}


def runs_of(lake: str, job: str) -> int:
    path = Path(lake) / f"runs-{job}"
    return int(path.read_text()) if path.exists() else 0


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return str(tmp_path_factory.mktemp("workflow_lake"))


def statuses(outcome) -> dict[str, str]:
    return {s.step: s.status for s in outcome.steps}


def test_a_failed_job_stops_its_dependants_and_the_rerun_resumes_from_it(spark, lake):
    (Path(lake) / "fail-silver_to_gold").touch()
    first = run_workflow(WorkflowRequest(lake_root=lake), GRAPH, JOBS.__getitem__)
    assert statuses(first) == {
        "bronze_to_silver": "SUCCEEDED",
        "silver_to_gold": "FAILED",
        "finance_close": "STOPPED",
        "bi_refresh": "STOPPED",
    }
    assert first.failed_step == "silver_to_gold"
    failed = next(s for s in first.steps if s.step == "silver_to_gold")
    assert failed.summary == "silver_to_gold cannot read its input"  # first line, no Java frames
    assert runs_of(lake, "finance_close") == 0
    run_log = {r.job: r.status for r in read_runs(spark, lake).collect()}
    assert run_log == {"bronze_to_silver": "SUCCEEDED", "silver_to_gold": "FAILED"}
    run_id, state = last_run_state(spark, lake, "daily")
    assert run_id == first.workflow_run_id and state["finance_close"] == "STOPPED"

    (Path(lake) / "fail-silver_to_gold").unlink()
    second = run_workflow(WorkflowRequest(lake_root=lake), GRAPH, JOBS.__getitem__)
    assert second.resumes == first.workflow_run_id
    assert statuses(second) == {
        "bronze_to_silver": "RESUMED",
        "silver_to_gold": "SUCCEEDED",
        "finance_close": "SUCCEEDED",
        "bi_refresh": "SKIPPED",  # no close was published
    }
    assert (runs_of(lake, "bronze_to_silver"), runs_of(lake, "silver_to_gold")) == (1, 2)
    bi_step = next(s for s in second.steps if s.step == "bi_refresh")
    assert bi_step.summary == "nothing to refresh: no close has been published"

    third = run_workflow(WorkflowRequest(lake_root=lake), GRAPH, JOBS.__getitem__)
    assert third.resumes is None  # the last run finished: a new run starts from the top
    assert runs_of(lake, "bronze_to_silver") == 2


def test_from_runs_the_step_and_what_follows_and_only_runs_one(spark, lake):
    before = {job: runs_of(lake, job) for job in GRAPH.jobs()}
    only = run_workflow(WorkflowRequest(lake_root=lake, only_step="finance_close"), GRAPH, JOBS.__getitem__)
    assert statuses(only) == {"finance_close": "SUCCEEDED"}
    frm = run_workflow(WorkflowRequest(lake_root=lake, from_step="silver_to_gold"), GRAPH, JOBS.__getitem__)
    assert list(statuses(frm)) == ["silver_to_gold", "finance_close", "bi_refresh"]
    after = {job: runs_of(lake, job) for job in GRAPH.jobs()}
    assert {j: after[j] - before[j] for j in after} == {
        "bronze_to_silver": 0,
        "silver_to_gold": 1,
        "finance_close": 2,
    }


def test_job_arguments_reach_the_job_and_bad_ones_fail_the_step(spark, lake):
    request = WorkflowRequest(
        lake_root=lake, only_step="finance_close", job_arguments={"finance_close": {"no_such": "1"}}
    )
    outcome = run_workflow(request, GRAPH, JOBS.__getitem__)
    assert statuses(outcome) == {"finance_close": "FAILED"}
    assert "no_such" in outcome.steps[0].summary


def test_the_bi_step_records_the_lambdas_data_sets_once_per_published_close(spark, lake, monkeypatch):
    monkeypatch.setattr(bi, "latest_published_close", lambda s, r: bi.PublishedClose("2026-11-26", "pub-1"))
    first = run_workflow(WorkflowRequest(lake_root=lake, only_step="bi_refresh", bi_env="prod"), GRAPH)
    (step,) = first.steps
    expected = load_env_parameters(REPO / "infra" / "params", "prod").parameters["QuickSightDataSetIds"]
    assert step.status == "SUCCEEDED"
    assert step.summary == f"would refresh {expected.replace(',', ', ')} (prod), close of 2026-11-26"
    (row,) = spark.read.format("delta").load(f"{lake}/_system/bi_refreshes").collect()
    assert row.datasets == expected.split(",")
    assert row.ingestion_id.startswith("close-") and row.ingestion_id.endswith(first.workflow_run_id)
    again = run_workflow(WorkflowRequest(lake_root=lake, only_step="bi_refresh", bi_env="prod"), GRAPH)
    assert (again.steps[0].status, again.steps[0].summary) == (
        "SKIPPED",
        "close of 2026-11-26 was already refreshed",
    )


def test_every_record_of_a_run_is_in_the_lakes_json_log_file(lake):
    files = sorted((Path(lake) / "_system" / "logs").rglob("*.jsonl"))
    assert files
    records = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    steps = [r for r in records if r.get("event") == "step"]
    assert {r["step"] for r in steps} >= set(GRAPH.order())
    assert all(r["workflow_run_id"] for r in steps)
    job_lines = [r for r in records if r["msg"] == "job finished"]
    assert job_lines and all(r["job"] in GRAPH.jobs() and r["run_id"] for r in job_lines)
