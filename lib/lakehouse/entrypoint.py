"""Run a job the way its Glue entrypoint does: config in, Spark up, run, log, commit.

Both ``jobs/<job>/<job>.py`` (Glue, Glue Docker image, spark-submit) and
``lakehouse run <job>`` (CLI) end up in :func:`execute`.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime

from lakehouse.config import ConfigError, JobConfig, parse_glue_arguments
from lakehouse.jobs import JobResult, JobSpec, get_job
from lakehouse.logs import configure_logging
from lakehouse.runlog import RunRecord, write_run
from lakehouse.runtime import RuntimeSetupError, job_runtime

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def execute(
    spec: JobSpec, config: JobConfig, *, driver_memory: str | None = None
) -> tuple[int, JobResult | None]:
    """Run one job end to end and record it in the run log; returns (exit code, result)."""
    configure_logging(spec.name, config.run_id, config.log_level)
    started_at, started = _now(), time.monotonic()
    log.info("job started", extra={"arguments": config.masked_arguments()})
    try:
        with job_runtime(config, driver_memory=driver_memory) as runtime:
            result, status, _ = _run_and_record(spec, config, runtime, started_at)
    except RuntimeSetupError as exc:
        log.error("runtime setup failed", extra={"error": str(exc)})
        sys.stderr.write(f"lakehouse {spec.name}: error: {exc}\n")
        return EXIT_FAILED, None
    log.info(
        "job finished",
        extra={"status": status, "seconds": round(time.monotonic() - started, 1), **_figures(result)},
    )
    return (EXIT_OK if status == "SUCCEEDED" else EXIT_FAILED), result


def _run_and_record(spec: JobSpec, config: JobConfig, runtime, started_at: datetime):
    result, error, status = None, None, "SUCCEEDED"
    try:
        result = spec.run(runtime.spark, config)
    except Exception as exc:
        status, error = "FAILED", f"{type(exc).__name__}: {exc}"
        log.exception("job failed")
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
    code, _ = execute(spec, config)
    return code
