"""The local demo: several days of sample data, the workflow, a late hour, an incremental rerun.

``lakehouse demo`` (and ``make demo``) calls :func:`run_demo`:

1. write ``days`` days of Bronze for every channel, realistic faults included;
2. run the daily workflow (``workflows/daily.yaml``) on it;
3. land one late hour: new events, events that happened days ago arriving only now, and a
   Stripe webhook delivered a second time;
4. run the workflow again: incremental, it reads only the late hour;
5. print a short summary and write the report (``<lake_root>/report/index.html``).

Step lines, progress and warnings come from the terminal view of :mod:`lakehouse.logs`;
``report`` receives the demo's own lines and the closing summary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lakehouse.workflow.runner import WorkflowOutcome, WorkflowRequest, run_workflow

log = logging.getLogger(__name__)

LATE_HOUR_EVENTS_SHARE = 0.05  # the late hour carries this share of the demo's events
LATE_HOUR_LATE_RATE = 0.4  # of which this share happened hours to days before


@dataclass(frozen=True)
class LateHour:
    hour: datetime
    records: int
    late_events: int
    redelivered_file: Path | None


def _generator():
    """The synthetic Bronze generator, which ships with a source checkout and not in the Glue wheel."""
    try:
        from lakehouse.synthetic import bronze
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "the demo needs the synthetic data generator, which is not part of the Glue wheel: "
            "run it from a source checkout (make demo)"
        ) from exc
    return bronze


def generate_sample_bronze(lake_root: str, events: int, *, days: int = 3, end: datetime | None = None):
    """Write sample Bronze files (all channels, faults included) for the ``days`` before ``end``."""
    generator = _generator()

    end = (end or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    spec = generator.GeneratorSpec(events=events, start=start, hours=24 * days).with_faults()
    return generator.generate_bronze(lake_root, spec)


def _redeliver_a_stripe_webhook(lake_root: str, hour: datetime) -> Path | None:
    """Copy one delivered Stripe webhook (same event id) into the late hour's folder."""
    for path in sorted(Path(lake_root, "bronze", "webhooks", "stripe").rglob("*.json")):
        line = next((x for x in path.read_text(encoding="utf-8").splitlines() if '"evt_' in x), None)
        if line:
            folder = Path(lake_root, "bronze", "webhooks", "stripe", f"{hour:%Y/%m/%d/%H}")
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / "redelivery-0001.json"
            target.write_text(line + "\n", encoding="utf-8")
            return target
    return None


def land_late_hour(lake_root: str, events: int, *, hour: datetime) -> LateHour:
    """One more arrival hour: new events, events from earlier days, a redelivered webhook."""
    generator = _generator()

    spec = generator.GeneratorSpec(events=events, start=hour, hours=1, seed=11, late_rate=LATE_HOUR_LATE_RATE)
    generated = generator.generate_bronze(lake_root, spec)
    records = sum(c.lines for c in generated.channels.values())
    late = sum(c.late_events for c in generated.channels.values())
    return LateHour(hour, records, late, _redeliver_a_stripe_webhook(lake_root, hour))


def _bronze_step(outcome: WorkflowOutcome):
    return next((s for s in outcome.steps if s.step == "bronze_to_silver"), None)


def summary_lines(spark, lake_root: str, late: LateHour, rerun: WorkflowOutcome) -> list[str]:
    """The closing summary: what is in the lake and what the incremental rerun did."""
    from pyspark.sql import functions as F

    from lakehouse.lake import delta
    from lakehouse.lake.paths import LakePaths
    from lakehouse.workflow.query import list_tables

    paths = LakePaths(lake_root)
    tables = list_tables(spark)
    lines = []
    for layer in ("silver", "gold"):
        mine = [t for t in tables if t.name.startswith(f"{layer}.")]
        if mine:
            biggest = ", ".join(
                f"{t.name.split('.', 1)[1]} {t.rows:,}" for t in sorted(mine, key=lambda t: -t.rows)[:4]
            )
            lines.append(f"  {layer}: {len(mine)} tables ({biggest}, ...)")
    if delta.table_exists(spark, paths.quarantine("records")):
        reasons = (
            spark.read.format("delta")
            .load(paths.quarantine("records"))
            .groupBy("error_type")
            .count()
            .collect()
        )
        total = sum(r["count"] for r in reasons)
        detail = ", ".join(
            f"{r['error_type']} {r['count']}" for r in sorted(reasons, key=lambda r: -r["count"])
        )
        lines.append(f"  quarantine: {total:,} records with a reason ({detail})")
    dq = spark.read.format("delta").load(paths.system("dq_results"))
    counts = {
        (r["severity"], r["outcome"]): r["count"] for r in dq.groupBy("severity", "outcome").count().collect()
    }
    failed_blocking = counts.get(("blocking", "Failed"), 0)
    warned = counts.get(("warn", "Failed"), 0)
    lines.append(
        f"  data quality: {sum(counts.values()):,} rule evaluations, {failed_blocking} blocking failures, "
        f"{warned} warnings"
    )
    step = _bronze_step(rerun)
    channels = (step.result.details or {}).get("channels", {}) if step and step.result else {}
    written = sum(c.get("written", 0) for c in channels.values())
    duplicates = sum(c.get("duplicates", 0) for c in channels.values())
    stripe_dupes = channels.get("webhooks/stripe", {}).get("duplicates", 0)
    lines.append(
        f"  late hour {late.hour:%Y-%m-%d %H:00} UTC: {late.records:,} records ({late.late_events} from "
        f"earlier days, 1 Stripe webhook delivered again); the rerun wrote {written:,} new events, "
        f"recognised {duplicates} duplicate(s) ({stripe_dupes} from Stripe)"
    )
    latest = (
        spark.read.format("delta").load(paths.system("run_log")).where(F.col("status") == "FAILED").count()
    )
    if latest:
        lines.append(f"  failed job runs recorded in _system/run_log: {latest}")
    return lines


def run_demo(
    lake_root: str,
    *,
    events: int,
    report: Callable[[str], None],
    days: int = 3,
    now: datetime | None = None,
) -> int:
    """Generate data, run the workflow, land a late hour, run it again, summarise, write the report."""
    from lakehouse.report import build_report
    from lakehouse.runtime import local_spark_session, several_jobs

    Path(lake_root).mkdir(parents=True, exist_ok=True)
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    late_events = max(1, int(events * LATE_HOUR_EVENTS_SHARE))
    report(
        f"== {days} days of sample data: {events:,} events with realistic faults, under {lake_root}/bronze"
    )
    generate_sample_bronze(lake_root, events, days=days, end=now - timedelta(hours=1))
    spark = local_spark_session(lake_root)  # takes the lake's lock for the whole demo
    with several_jobs():  # one process, one Spark session, every job of both runs
        report("== the daily workflow")
        first = run_workflow(WorkflowRequest(lake_root=lake_root))
        report(f"== a late hour lands ({now:%H:00} UTC): new events, events from earlier days, a redelivery")
        late = land_late_hour(lake_root, late_events, hour=now)
        report("== the workflow again, incremental: only the late hour is read")
        rerun = run_workflow(WorkflowRequest(lake_root=lake_root, from_step="bronze_to_silver"))
    report("== the lake after the demo")
    for line in summary_lines(spark, lake_root, late, rerun):
        report(line)
    path = build_report(spark, lake_root)
    report(f"== report: {path}")
    failed = [o.failed_step for o in (first, rerun) if o.failed_step]
    if failed:
        report(f"== the workflow stopped at {failed[-1]}: see its step line above")
        return 1
    return 0
