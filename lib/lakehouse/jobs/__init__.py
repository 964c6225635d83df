"""The job registry: each job is a typed config plus a ``run(spark, config)`` flow.

Example::

    spec = get_job("bronze_to_silver")
    config = parse_glue_arguments(spec.config_class, argv)
    result = spec.run(spark, config)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from lakehouse.config import JobConfig

JOB_NAMES = ("bronze_to_silver", "silver_to_gold", "finance_close", "replay_quarantine")


@dataclass(frozen=True)
class JobResult:
    """What a run reports to the run log."""

    rows_in: int = 0
    rows_out: int = 0
    rows_quarantined: int = 0
    details: dict | None = None


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    config_class: type[JobConfig]
    run: Callable[..., JobResult]


def get_job(name: str) -> JobSpec:
    """The spec of a job by name; ``ValueError`` naming the known jobs otherwise."""
    if name not in JOB_NAMES:
        raise ValueError(f"unknown job {name!r}; known jobs: {', '.join(JOB_NAMES)}")
    module = importlib.import_module(f"lakehouse.jobs.{name}")
    return JobSpec(
        name=name,
        description=(module.__doc__ or "").strip().splitlines()[0],
        config_class=module.Config,
        run=module.run,
    )
