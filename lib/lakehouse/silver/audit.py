"""What bronze_to_silver audits each run: every change of a Silver table since its watermark.

A Silver table's audit watermark (``_system/audit_log``) is the last version whose blocking
rules passed, or that a person accepted with a reason. Each run evaluates, per table, the
partitions that changed after the watermark (from the table's change feed), whoever wrote
them: this run, a replay, or a hand edit. A blocking failure therefore holds: the failed
partitions stay after the watermark, so every later run evaluates them again and fails with
the same reason, until the data is fixed (the rules pass) or the version is overridden.

Tables without event-date partitions (the Stripe object tables) are evaluated whole when
rows changed. A table never audited is evaluated whole.

Example::

    scopes = audit_scopes(spark, paths, ["events", "stg_client_events"])
    scopes["events"].dates          # event dates to evaluate, or None for the whole table
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from pyspark.sql import SparkSession

from lakehouse.dq.engine import RuleOutcome
from lakehouse.lake import delta
from lakehouse.lake.audit import AuditEntry, audited_versions
from lakehouse.lake.paths import LakePaths

log = logging.getLogger(__name__)

PARTITION_COLUMN = "event_date"


@dataclass(frozen=True)
class AuditScope:
    """One table's pending evaluation: the version to audit and what to evaluate in it."""

    table: str
    version: int
    watermark: int | None
    dates: tuple[date, ...] | None  # None: the whole table
    empty: bool = False  # nothing to evaluate (no rows changed): passes as it is

    @property
    def table_name(self) -> str:
        return f"silver.{self.table}"

    def as_json(self) -> dict:
        if self.empty:
            return {"rows_changed": 0, "since_version": self.watermark}
        if self.dates is None:
            return {"whole_table": True}
        return {"event_dates": [d.isoformat() for d in self.dates], "since_version": self.watermark}


def _changed_dates(spark: SparkSession, path: str, start: int, end: int) -> tuple[date, ...] | None:
    """Event dates of the rows changed in versions ``start..end``; None if the feed is gone."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import AnalysisException

    try:
        feed = delta.change_feed(spark, path, starting=start, ending=end)
        rows = feed.select(PARTITION_COLUMN).distinct().collect()
    except (AnalysisException, Py4JJavaError) as exc:  # change feed off, or vacuumed
        log.warning(
            "change feed unavailable: auditing the whole table", extra={"path": path, "error": str(exc)[:200]}
        )
        return None
    return tuple(sorted(r[PARTITION_COLUMN] for r in rows if r[PARTITION_COLUMN] is not None))


def _rows_changed(spark: SparkSession, path: str, start: int, end: int) -> bool | None:
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import AnalysisException

    try:
        return not delta.change_feed(spark, path, starting=start, ending=end).isEmpty()
    except (AnalysisException, Py4JJavaError):
        return None


def audit_scopes(spark: SparkSession, paths: LakePaths, tables: list[str]) -> list[AuditScope]:
    """Per existing table whose latest version is not audited yet: what to evaluate."""
    watermarks = audited_versions(spark, paths)
    scopes = []
    for table in tables:
        path = paths.silver(table)
        version = delta.current_version(spark, path)
        if version is None:
            continue
        watermark = watermarks.get(f"silver.{table}")
        if watermark is not None and watermark >= version:
            continue
        current = spark.read.format("delta").option("versionAsOf", version).load(path)
        partitioned = PARTITION_COLUMN in current.columns
        if watermark is None:
            scopes.append(AuditScope(table, version, None, None, empty=current.isEmpty()))
        elif partitioned:
            dates = _changed_dates(spark, path, watermark + 1, version)
            scopes.append(AuditScope(table, version, watermark, dates, empty=dates == ()))
        else:
            changed = _rows_changed(spark, path, watermark + 1, version)
            scopes.append(AuditScope(table, version, watermark, None, empty=changed is False))
    return scopes


def one_line_reason(failed: list[RuleOutcome]) -> str:
    """The first failed blocking rule and why, plus how many more: one line for people."""
    first = failed[0]
    reason = " ".join(f"{first.rule} ({first.failure_reason or 'failed'})".split())
    more = f" (and {len(failed) - 1} more blocking rule(s))" if len(failed) > 1 else ""
    return f"{first.table_name}: {reason}{more}"


def audit_entry(scope: AuditScope, outcomes: list[RuleOutcome], *, run_id: str, job: str) -> AuditEntry:
    """The audit outcome of one scope from its rule outcomes."""
    failed = [o for o in outcomes if not o.passed and o.severity == "blocking"]
    return AuditEntry(
        scope.table_name,
        scope.version,
        "failed" if failed else "passed",
        run_id=run_id,
        job=job,
        blocking_failures=len(failed),
        reason=one_line_reason(failed) if failed else None,
        scope=scope.as_json(),
    )
