"""Run a job the way its Glue entrypoint does: config in, Spark up, run, log, commit.

Both ``jobs/<job>/<job>.py`` (Glue, Glue Docker image, spark-submit) and
``lakehouse run <job>`` (CLI) end up in :func:`execute`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from lakehouse import logs
from lakehouse.config import ConfigError, JobConfig, parse_glue_arguments
from lakehouse.jobs import JobResult, JobSpec, get_job
from lakehouse.lake.lock import LakeBusyError
from lakehouse.runlog import RunRecord, write_run
from lakehouse.runtime import RuntimeSetupError, job_runtime
from lakehouse.workflow.progress import stream_progress

log = logging.getLogger(__name__)

# 75 is sysexits' EX_TEMPFAIL: nothing is wrong, try again later (another run holds the lake).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 75


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class JobOutcome:
    """How one job run ended: exit code, status (the run log's SUCCEEDED or FAILED; BUSY or
    NOT_STARTED when no run could start), the job's figures and the error, if any."""

    code: int
    status: str
    result: JobResult | None
    error: str | None
    seconds: float


def execute(
    spec: JobSpec, config: JobConfig, *, driver_memory: str | None = None
) -> tuple[int, JobResult | None]:
    """Run one job end to end and record it in the run log; returns (exit code, result)."""
    outcome = run_job(spec, config, driver_memory=driver_memory)
    return outcome.code, outcome.result


def run_job(spec: JobSpec, config: JobConfig, *, driver_memory: str | None = None) -> JobOutcome:
    """Run one job end to end and record it in the run log.

    Log lines carry the job and run id; where no caller set up logging (a Glue entrypoint,
    a test), they go to stdout as JSON.
    """
    if not logs.is_configured():
        logs.configure(log_format="json", level=config.log_level)
    logs.log_to_file(config.lake_root, spec.name)
    with logs.log_context(job=spec.name, run_id=config.run_id):
        started_at, started = _now(), time.monotonic()
        log.info("job started", extra={"arguments": config.masked_arguments()})
        try:
            with job_runtime(config, driver_memory=driver_memory) as runtime:
                result, status, error = _run_and_record(spec, config, runtime, started_at)
        except LakeBusyError as exc:
            log.error("lake busy", extra={"error": str(exc), "human_silent": True})
            return JobOutcome(EXIT_BUSY, "BUSY", None, str(exc), round(time.monotonic() - started, 1))
        except RuntimeSetupError as exc:
            log.error("runtime setup failed", extra={"error": str(exc), "human_silent": True})
            seconds = round(time.monotonic() - started, 1)
            return JobOutcome(EXIT_FAILED, "NOT_STARTED", None, str(exc), seconds)
        seconds = round(time.monotonic() - started, 1)
        log.info("job finished", extra={"status": status, "seconds": seconds, **_figures(result)})
        return JobOutcome(EXIT_OK if status == "SUCCEEDED" else EXIT_FAILED, status, result, error, seconds)


@contextlib.contextmanager
def _no_progress(*_args):
    yield


def _run_and_record(spec: JobSpec, config: JobConfig, runtime, started_at: datetime):
    result, error, status = None, None, "SUCCEEDED"
    try:
        watch = stream_progress if logs.human_view_active() else _no_progress
        with watch(runtime.spark, spec.name, config.lake_root):
            result = spec.run(runtime.spark, config)
    except Exception as exc:
        status, error = "FAILED", f"{type(exc).__name__}: {exc}"
        log.exception("job failed", extra={"human_silent": True})
    outcome = result or JobResult()
    write_run(
        runtime.spark,
        config.lake_root,
        RunRecord(
            run_id=config.run_id,
            job=spec.name,
            env=config.env,
            arguments=config.masked_arguments(),
            started_at=started_at,
            ended_at=_now(),
            status=status,
            rows_in=outcome.rows_in,
            rows_out=outcome.rows_out,
            rows_quarantined=outcome.rows_quarantined,
            details=outcome.details or {},
            error=error,
        ),
    )
    if status == "SUCCEEDED":
        runtime.commit()
    return result, status, error


def _figures(result: JobResult | None) -> dict:
    if result is None:
        return {}
    return {
        "rows_in": result.rows_in,
        "rows_out": result.rows_out,
        "rows_quarantined": result.rows_quarantined,
    }


def glue_main(job_name: str, argv: list[str]) -> int:
    """Entry of ``jobs/<job>/<job>.py``: Glue-style arguments, exit code out."""
    spec = get_job(job_name)
    try:
        config = parse_glue_arguments(spec.config_class, argv)
    except ConfigError as exc:
        sys.stderr.write(f"{job_name}: error: {exc}\n")
        return EXIT_USAGE
    outcome = run_job(spec, config)
    if outcome.status in ("BUSY", "NOT_STARTED"):  # no run started: say why on one line
        sys.stderr.write(f"{job_name}: error: {outcome.error}\n")
    return outcome.code
