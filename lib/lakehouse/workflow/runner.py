"""The local workflow runner: the graph of ``workflows/<name>.yaml``, run step by step.

Semantics follow the Glue workflow: a step starts when every step it comes ``after``
SUCCEEDED in this workflow run (a CONDITIONAL trigger with Logical AND); a failed step
stops its dependants, which are recorded as STOPPED. Each step's outcome is appended to
``_system/workflow_runs`` as it ends, so the next run knows where the last one stopped:
without ``--from``/``--only``, a run after a failed (or killed) one resumes it (as Glue's
ResumeWorkflowRun does): the steps that succeeded are carried over (RESUMED), the failed
step and everything after it run again.

Example::

    outcome = run_workflow(WorkflowRequest(lake_root=".lake"))
    outcome.failed_step        # None when every step succeeded or was skipped
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.config import ConfigError, build_config
from lakehouse.jobs import JOB_NAMES, JobResult, JobSpec, get_job
from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths
from lakehouse.logs import log_context
from lakehouse.workflow.graph import Step, WorkflowGraph, load_graph

log = logging.getLogger(__name__)

SUCCEEDED, FAILED, STOPPED, SKIPPED, RESUMED, PENDING = (
    "SUCCEEDED",
    "FAILED",
    "STOPPED",
    "SKIPPED",
    "RESUMED",
    "PENDING",
)
DONE = frozenset({SUCCEEDED, SKIPPED, RESUMED})  # a dependant may run after these

WORKFLOW_RUNS_SCHEMA = T.StructType(
    [
        T.StructField("workflow_run_id", T.StringType(), False),
        T.StructField("workflow", T.StringType(), False),
        T.StructField("seq", T.IntegerType(), False),
        T.StructField("step", T.StringType(), False),
        T.StructField("status", T.StringType(), False),
        T.StructField("job_run_id", T.StringType(), True),
        T.StructField("started_at", T.TimestampType(), False),
        T.StructField("ended_at", T.TimestampType(), True),
        T.StructField("seconds", T.DoubleType(), True),
        T.StructField("summary", T.StringType(), True),
        T.StructField("error", T.StringType(), True),
        T.StructField("resumes", T.StringType(), True),
        T.StructField("selection", T.StringType(), False),
    ]
)


@dataclass(frozen=True)
class WorkflowRequest:
    """What to run: the lake, the workflow, a selection, and arguments for the jobs."""

    lake_root: str
    workflow: str = "daily"
    from_step: str | None = None
    only_step: str | None = None
    env: str = "local"
    bi_env: str = "dev"  # whose QuickSightDataSetIds the local BI step reports
    job_arguments: dict[str, dict[str, str]] = field(default_factory=dict)
    driver_memory: str | None = None


@dataclass
class StepOutcome:
    step: str
    status: str
    seconds: float | None = None
    summary: str = ""
    error: str | None = None
    job_run_id: str | None = None
    result: JobResult | None = None


@dataclass
class WorkflowOutcome:
    workflow_run_id: str
    steps: list[StepOutcome]
    resumes: str | None = None
    seconds: float = 0.0

    @property
    def failed_step(self) -> str | None:
        return next((s.step for s in self.steps if s.status == FAILED), None)

    @property
    def succeeded(self) -> bool:
        return self.failed_step is None


def runs_path(lake_root: str) -> str:
    return LakePaths(lake_root).system("workflow_runs")


def last_run_state(spark: SparkSession, lake_root: str, workflow: str) -> tuple[str, dict[str, str]] | None:
    """(workflow run id, step -> last status) of the latest run of ``workflow``, or None."""
    path = runs_path(lake_root)
    if not delta.table_exists(spark, path):
        return None
    runs = spark.read.format("delta").load(path).where(F.col("workflow") == workflow)
    latest = runs.groupBy("workflow_run_id").agg(F.min("started_at").alias("t")).orderBy(F.desc("t")).limit(1)
    rows = latest.collect()
    if not rows:
        return None
    run_id = rows[0]["workflow_run_id"]
    steps = runs.where(F.col("workflow_run_id") == run_id).select("step", "status", "seq").collect()
    state: dict[str, str] = {}
    for row in sorted(steps, key=lambda r: r["seq"]):
        state[row["step"]] = row["status"]
    return run_id, state


def plan(graph: WorkflowGraph, request: WorkflowRequest, last: tuple[str, dict[str, str]] | None):
    """(steps to run, steps carried over as RESUMED, the run resumed, selection label)."""
    if request.from_step and request.only_step:
        raise ConfigError("give --from or --only, not both")
    if request.only_step:
        return [request.only_step], [], None, f"only:{request.only_step}"
    if request.from_step:
        return list(graph.downstream(request.from_step)), [], None, f"from:{request.from_step}"
    if last is not None:
        run_id, state = last
        unfinished = [s for s, status in state.items() if status not in DONE]
        if unfinished:
            carried = [s for s in graph.order() if state.get(s) in DONE]
            to_run = [s for s in graph.order() if s in state and s not in carried]
            return to_run, carried, run_id, "resume"
    return list(graph.order()), [], None, "all"


class _Recorder:
    """Appends step outcomes of one workflow run to ``_system/workflow_runs``."""

    def __init__(self, spark: SparkSession, lake_root: str, workflow: str, run_id: str, resumes, selection):
        self.spark, self.path = spark, runs_path(lake_root)
        self.workflow, self.run_id, self.resumes, self.selection = workflow, run_id, resumes, selection
        self.seq = 0
        self.started_at = datetime.now(UTC).replace(tzinfo=None)

    def record(self, outcomes: list[StepOutcome], started_at: datetime | None = None) -> None:
        rows = []
        now = datetime.now(UTC).replace(tzinfo=None)
        for outcome in outcomes:
            self.seq += 1
            rows.append(
                (
                    self.run_id,
                    self.workflow,
                    self.seq,
                    outcome.step,
                    outcome.status,
                    outcome.job_run_id,
                    started_at or self.started_at,
                    None if outcome.status == PENDING else now,
                    outcome.seconds,
                    outcome.summary,
                    outcome.error,
                    self.resumes,
                    self.selection,
                )
            )
        df = self.spark.createDataFrame(rows, WORKFLOW_RUNS_SCHEMA)
        delta.append(df, self.path, txn=(f"workflow_runs:{self.run_id}", self.seq))


def job_summary(result: JobResult | None) -> str:
    """``19,573 read · 18,706 written · 318 quarantined`` (or the job's own summary)."""
    if result is None:
        return ""
    if result.details and isinstance(result.details.get("summary"), str):
        return result.details["summary"]
    parts = [f"{result.rows_in:,} read", f"{result.rows_out:,} written"]
    if result.rows_quarantined:
        parts.append(f"{result.rows_quarantined:,} quarantined")
    return " · ".join(parts)


def plain_error(step: str, error: str | None) -> str:
    """A failure in plain words: the exception's first line, without Java stack frames."""
    if not error:
        return "failed"
    kind, _, message = error.partition(": ")
    first = message.strip().splitlines()[0] if message.strip() else kind
    if kind == "NotImplementedError":
        return f"{step} is not available in this build"
    if kind == "DataQualityFailure":
        return f"blocking data-quality rules failed: {first}"
    return first if len(first) <= 160 else first[:157] + "..."


def _run_job_step(step: Step, request: WorkflowRequest, spec: JobSpec) -> StepOutcome:
    from lakehouse.entrypoint import run_job

    job_run_id = uuid.uuid4().hex
    values = {
        "JOB_NAME": step.name,
        "lake_root": request.lake_root,
        "env": request.env,
        "run_id": job_run_id,
        **request.job_arguments.get(step.name, {}),
    }
    fields = set(spec.config_class.__dataclass_fields__)
    unknown = sorted(set(values) - fields)
    if unknown:
        message = f"{step.name} has no argument {', '.join('--' + u for u in unknown)}"
        return StepOutcome(step.name, FAILED, 0.0, f"bad arguments: {message}", f"ConfigError: {message}")
    try:
        config = build_config(spec.config_class, values)
    except (ConfigError, TypeError) as exc:
        return StepOutcome(step.name, FAILED, 0.0, f"bad arguments: {exc}", f"ConfigError: {exc}")
    outcome = run_job(spec, config, driver_memory=request.driver_memory)
    status = SUCCEEDED if outcome.status == SUCCEEDED else FAILED
    summary = job_summary(outcome.result) if status == SUCCEEDED else plain_error(step.name, outcome.error)
    return StepOutcome(
        step.name, status, outcome.seconds, summary, outcome.error, job_run_id, result=outcome.result
    )


def _run_bi_step(spark, step: Step, request: WorkflowRequest, workflow_run_id: str) -> StepOutcome:
    from lakehouse.workflow import bi

    started = time.monotonic()
    try:
        outcome = bi.refresh(
            spark,
            request.lake_root,
            env=request.bi_env,
            parameter=step.datasets_parameter or "",
            workflow_run_id=workflow_run_id,
        )
    except Exception as exc:
        log.exception("bi refresh failed", extra={"human_silent": True})
        return StepOutcome(
            step.name, FAILED, round(time.monotonic() - started, 1), str(exc), f"{type(exc).__name__}: {exc}"
        )
    status = SUCCEEDED if outcome.refreshed else SKIPPED
    return StepOutcome(step.name, status, round(time.monotonic() - started, 1), outcome.summary)


def log_step(outcome: StepOutcome) -> None:
    """One step line for the human view (and a JSON record for the log file)."""
    level = logging.ERROR if outcome.status == FAILED else logging.INFO
    log.log(
        level,
        f"step {outcome.step} {outcome.status.lower()}",
        extra={
            "event": "step",
            "step": outcome.step,
            "status": outcome.status,
            "seconds": outcome.seconds,
            "summary": outcome.summary,
            "job_run_id": outcome.job_run_id,
        },
    )


def run_workflow(
    request: WorkflowRequest,
    graph: WorkflowGraph | None = None,
    jobs: Callable[[str], JobSpec] = get_job,
) -> WorkflowOutcome:
    """Run (or resume) one workflow run on a local lake; ``jobs`` names each job step's spec."""
    from lakehouse.runtime import local_spark_session, several_jobs

    graph = graph or load_graph(request.workflow)
    for name in filter(None, (request.from_step, request.only_step)):
        graph.step(name)  # GraphError naming the steps when unknown
    for name in request.job_arguments:
        if name not in JOB_NAMES and name not in graph.names():
            raise ConfigError(f"--job-arg for unknown job {name!r}; jobs: {', '.join(JOB_NAMES)}")
    spark = local_spark_session(request.lake_root, driver_memory=request.driver_memory)
    to_run, carried, resumes, selection = plan(
        graph, request, last_run_state(spark, request.lake_root, graph.name)
    )
    workflow_run_id, began = uuid.uuid4().hex, time.monotonic()
    recorder = _Recorder(spark, request.lake_root, graph.name, workflow_run_id, resumes, selection)
    steps: dict[str, StepOutcome] = {}
    with several_jobs(), log_context(workflow=graph.name, workflow_run_id=workflow_run_id):
        header = f"workflow {graph.name} on {request.lake_root}"
        if resumes:
            header += f" (resumes run {resumes[:8]} from {to_run[0]})" if to_run else ""
        elif selection != "all":
            header += f" ({selection.replace(':', ' ')})"
        log.info(header, extra={"event": "notice", "selection": selection, "resumes": resumes})
        carried_outcomes = [StepOutcome(s, RESUMED, None, f"succeeded in run {resumes[:8]}") for s in carried]
        pending = [StepOutcome(s, PENDING) for s in to_run]
        recorder.record(carried_outcomes + pending)
        for outcome in carried_outcomes:
            steps[outcome.step] = outcome
            log_step(outcome)
        for step in graph.order_steps():
            if step.name not in to_run:
                continue
            blocking = [a for a in step.after if a in steps and steps[a].status not in DONE]
            if blocking:
                outcome = StepOutcome(step.name, STOPPED, None, f"not run: {blocking[0]} did not succeed")
            elif step.kind == "job":
                outcome = _run_job_step(step, request, jobs(step.name))
            else:
                outcome = _run_bi_step(spark, step, request, workflow_run_id)
            steps[step.name] = outcome
            recorder.record([outcome])
            log_step(outcome)
    result = WorkflowOutcome(
        workflow_run_id, list(steps.values()), resumes, round(time.monotonic() - began, 1)
    )
    log.info(
        "workflow finished",
        extra={
            "steps": json.dumps({s.step: s.status for s in result.steps}),
            "failed_step": result.failed_step,
        },
    )
    return result
