"""silver_to_gold: rebuild the Gold marts for the event dates Silver changed.

Flow of one run (the mechanism is :mod:`lakehouse.marts`; the marts are data):

1. load the mart specs of ``jobs/silver_to_gold/marts/`` (YAML, each beside its DQDL
   ruleset), with the run's parameters (MAU window, session gap, funnel windows);
2. read every Silver input as of its audit watermark; a mart whose input has no audited
   version is skipped with the reason in the log and the run's summary;
3. per mart, in dependency order: turn the change feeds since its last run into touched
   dates, widen them by the mart's offsets, build and stage the rebuilt rows, evaluate the
   spec's promises, its DQDL rules and its exact reconciliations against Silver;
4. a failed blocking rule publishes nothing; otherwise one commit per mart (``replaceWhere``
   on exactly the rebuilt dates, MERGE for entity tables, overwrite for small views), each
   carrying the Delta transaction ``(silver_to_gold:<mart>, run_seq)``, then the audit log
   and the ledger; every mart is registered in the ``gold`` catalog with its comments.

The build functions live in :mod:`lakehouse.gold` (one module per area).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pyspark.sql import SparkSession

from lakehouse.assets import asset_dir
from lakehouse.config import ConfigError, JobConfig, option
from lakehouse.experiments.registry import registry_digest
from lakehouse.jobs import JobResult
from lakehouse.lake.paths import LakePaths
from lakehouse.marts import MartSpec, RunOptions, load_specs, run_marts

log = logging.getLogger(__name__)

JOB = "silver_to_gold"


@dataclass(frozen=True)
class Config(JobConfig):
    full_refresh: bool = option(False, help="Rebuild every Gold partition instead of the changed dates.")
    from_date: date | None = option(None, help="First date (YYYY-MM-DD) of a backfill; needs --to_date.")  # noqa: RUF009
    to_date: date | None = option(None, help="Last date (YYYY-MM-DD) of a backfill; needs --from_date.")  # noqa: RUF009
    mau_window_days: int = option(28, help="Days of the monthly-active window (MAU).")
    session_gap_minutes: int = option(30, help="Inactivity that ends a session without a client session id.")
    marts: str = option("", help="Comma-separated marts to run (default: every mart).")

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.from_date is None) != (self.to_date is None):
            raise ConfigError("arguments --from_date and --to_date: give both or neither")
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise ConfigError("argument --from_date: must not be after --to_date")
        if self.mau_window_days < 7:
            raise ConfigError("argument --mau_window_days: must be at least 7")
        if self.session_gap_minutes < 1:
            raise ConfigError("argument --session_gap_minutes: must be at least 1")

    @property
    def mart_names(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in self.marts.split(",") if m.strip())


def job_dir() -> Path:
    return asset_dir("jobs") / JOB


@cache
def funnel(name: str) -> dict[str, Any]:
    """A funnel definition (``jobs/silver_to_gold/funnels/<name>.yaml``)."""
    return yaml.safe_load((job_dir() / "funnels" / f"{name}.yaml").read_text(encoding="utf-8"))


def funnel_window_days(definition: dict[str, Any]) -> int:
    """Whole days after an entry date in which the funnel's last step may still happen."""
    hours = max(int(s.get("within_hours", 0)) for s in definition["steps"])
    return max(1, math.ceil(hours / 24))


def parameters(config: Config) -> dict[str, int]:
    """The integers a spec's offsets may name, and the builds read."""
    return {
        "mau_window_days": config.mau_window_days,
        "session_gap_minutes": config.session_gap_minutes,
        "funnel_window_days": funnel_window_days(funnel("booking")),
    }


def mart_specs(params: dict[str, int]) -> list[MartSpec]:
    """Every Gold mart spec, in dependency order; a spec built from the experiment registry
    (``extra.registry``) carries the registry's digest, so an edited experiment rebuilds it."""
    specs = load_specs(job_dir() / "marts", params)
    if not any(s.extra.get("registry") for s in specs):
        return specs
    digest = registry_digest()
    return [
        replace(s, extra={**s.extra, "registry_digest": digest}) if s.extra.get("registry") else s
        for s in specs
    ]


def run_options(config: Config, *, as_of: datetime | None = None) -> RunOptions:
    specs = {s.name for s in mart_specs(parameters(config))}
    unknown = [m for m in config.mart_names if m not in specs]
    if unknown:
        raise ConfigError(
            f"argument --marts: unknown mart(s) {', '.join(unknown)}; known: {', '.join(sorted(specs))}"
        )
    return RunOptions(
        full_refresh=config.full_refresh,
        from_date=config.from_date,
        to_date=config.to_date,
        as_of=as_of,
        params=parameters(config),
        database=config.database("gold"),
        marts=config.mart_names,
    )


def run(spark: SparkSession, config: Config, *, as_of: datetime | None = None) -> JobResult:
    options = run_options(config, as_of=as_of)
    specs = mart_specs(dict(options.params))
    summary = run_marts(
        spark, LakePaths(config.lake_root), specs, job=JOB, run_id=config.run_id, options=options
    )
    skipped = {m: s["reason"] for m, s in summary.items() if s["status"] == "skipped"}
    for mart, reason in skipped.items():
        log.warning("mart not built: an input has no audited version", extra={"mart": mart, "reason": reason})
    if summary.get("exp_results", {}).get("status") == "published":
        log_experiment_verdicts(spark, LakePaths(config.lake_root))
    published = [s for s in summary.values() if s["status"] == "published"]
    return JobResult(
        rows_in=0,
        rows_out=sum(s["rows"] for s in published),
        details={"marts": summary},
    )


def log_experiment_verdicts(spark: SparkSession, paths: LakePaths) -> None:
    """A WARNING per experiment phase whose latest published snapshot is ``invalid_srm`` or
    ``stop_recommended`` (the observability stack's metric filter turns it into an alarm)."""
    from lakehouse.experiments.readout import experiment_readout

    readout = experiment_readout(spark, paths)
    verdicts = {}
    for row in readout.result_rows:
        r = dict(zip(readout.result_columns, row, strict=True))
        if r["status"] != "ok":
            verdicts[(r["experiment_key"], r["phase"])] = (r["status"], r["decision"], r["as_of_date"])
    for (key, phase), (status, decision, as_of_date) in sorted(verdicts.items()):
        log.warning(
            f"experiment {status}",
            extra={
                "experiment": key,
                "phase": phase,
                "experiment_status": status,
                "decision": decision,
                "as_of_date": str(as_of_date),
            },
        )
