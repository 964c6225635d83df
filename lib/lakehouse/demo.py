"""The local demo: sample Bronze data with realistic faults, then the workflow on it.

``lakehouse demo`` (and ``make demo``) calls :func:`run_demo`; what it shows is
the state of the lake afterwards, gathered by :func:`lake_summary`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lakehouse.entrypoint import EXIT_OK, execute
from lakehouse.jobs import get_job

log = logging.getLogger(__name__)

# The jobs of the workflow, in order, that exist so far.
WORKFLOW = ("bronze_to_silver",)


def generate_sample_bronze(lake_root: str, events: int) -> dict:
    """Write sample Bronze files (all channels, faults included) for the last day."""
    from lakehouse.synthetic.bronze import GeneratorSpec, generate_bronze

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=24)
    spec = GeneratorSpec(events=events, start=start, hours=24).with_faults()
    return generate_bronze(lake_root, spec)


def lake_summary(spark, lake_root: str) -> dict:
    """Row counts of the Silver tables, quarantine reasons, and the last runs (small results)."""
    from pyspark.sql import functions as F

    from lakehouse.lake import delta
    from lakehouse.lake.paths import LakePaths

    paths = LakePaths(lake_root)
    summary: dict = {"tables": {}, "quarantine": {}, "runs": [], "dq": {}}
    for table in (t for t in spark.catalog.listTables("silver") if not t.isTemporary):
        summary["tables"][f"silver.{table.name}"] = spark.table(f"silver.{table.name}").count()
    if delta.table_exists(spark, paths.quarantine("records")):
        quarantine = spark.read.format("delta").load(paths.quarantine("records"))
        summary["quarantine"] = {r[0]: r[1] for r in quarantine.groupBy("error_type").count().collect()}
    runs = (
        spark.read.format("delta").load(paths.system("run_log")).orderBy(F.col("started_at").desc()).limit(5)
    )
    summary["runs"] = [
        r.asDict() for r in runs.select("job", "status", "rows_in", "rows_out", "rows_quarantined").collect()
    ]
    dq = spark.read.format("delta").load(paths.system("dq_results"))
    summary["dq"] = {f"{r[0]}/{r[1]}": r[2] for r in dq.groupBy("severity", "outcome").count().collect()}
    return summary


def run_demo(lake_root: str, *, events: int, report) -> int:
    """Generate data, run the workflow twice (the second run finds nothing new), report."""
    Path(lake_root).mkdir(parents=True, exist_ok=True)
    report(
        f"generating {events} sample events (with duplicates, late and bad records) under {lake_root}/bronze"
    )
    generate_sample_bronze(lake_root, events)
    for attempt in ("first run", "second run (incremental: nothing new)"):
        for job in WORKFLOW:
            spec = get_job(job)
            config = spec.config_class(JOB_NAME=job, lake_root=lake_root)
            report(f"{attempt}: {job}")
            code, _ = execute(spec, config)
            if code != EXIT_OK:
                return code
    from lakehouse.runtime import local_spark_session

    report("lake after the demo:")
    summary = lake_summary(local_spark_session(lake_root), lake_root)
    report(summary)
    return EXIT_OK
