"""A hand-built Silver for the Gold tests: the family tables the marts read, written with the
change feed on and audited explicitly (as bronze_to_silver's audit does), and a helper to
run silver_to_gold on a chosen set of marts and read what it published."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from chispa import assert_df_equality
from lakehouse.jobs import silver_to_gold
from lakehouse.lake import delta
from lakehouse.lake.audit import AuditEntry, record_audit
from lakehouse.lake.paths import LakePaths

ENVELOPE = (
    "event_id STRING, event_name STRING, occurred_at TIMESTAMP, received_at TIMESTAMP, event_date DATE, "
    "user_id STRING, anon_id STRING, session_id STRING, lbg_id STRING"
)
FAMILIES = {
    "stg_client_events": f"{ENVELOPE}, experiment_key STRING, variant STRING",
    "stg_lbg_events": f"{ENVELOPE}, currency STRING, total_minor BIGINT, legs_count BIGINT",
    "stg_payments_events": f"{ENVELOPE}, amount_minor BIGINT, currency STRING, payment_id STRING",
    "stg_support_events": f"{ENVELOPE}, category STRING, complaint_id STRING",
    "stg_ses_events": (
        f"{ENVELOPE}, event_type STRING, notification_type STRING, "
        "mail STRUCT<messageId: STRING, timestamp: TIMESTAMP>, bounce STRUCT<bounceType: STRING>"
    ),
}


def ts(text: str) -> datetime:
    """'2025-01-30 10:00' (or with seconds) as a naive UTC datetime."""
    return datetime.fromisoformat(text)


def ev(event_id: str, name: str, at: str, **fields) -> dict:
    """One Silver event; ``at`` is its UTC occurred_at."""
    when = ts(at)
    return {
        "event_id": event_id,
        "event_name": name,
        "occurred_at": when,
        "event_date": when.date(),
        **fields,
    }


class SilverLake:
    def __init__(self, spark, root: Path, prefix: str, *, unwritten: tuple[str, ...] = ()):
        """``unwritten``: family tables no event has reached yet (never created)."""
        self.spark = spark
        self.root = str(root)
        self.paths = LakePaths(self.root)
        self.prefix = prefix
        written = [t for t in FAMILIES if t not in unwritten]
        for table in written:
            delta.create_if_absent(
                spark,
                self.paths.silver(table),
                FAMILIES[table],
                partition_by=["event_date"],
                change_data_feed=True,
            )
        self.audit(*written)

    def add(self, table: str, *events: dict) -> None:
        """Append events to a family table and audit the new version."""
        columns = self.spark.createDataFrame([], FAMILIES[table]).columns
        rows = [tuple(e.get(c) for c in columns) for e in events]
        df = self.spark.createDataFrame(rows, FAMILIES[table])
        delta.append(df, self.paths.silver(table), partition_by=["event_date"], change_data_feed=True)
        self.audit(table)

    def audit(self, *tables: str) -> None:
        entries = [
            AuditEntry(
                f"silver.{t}", delta.current_version(self.spark, self.paths.silver(t)), "passed", "t", "test"
            )
            for t in tables
        ]
        record_audit(self.spark, self.paths, entries)

    def run(self, marts: list[str], *, as_of: str = "2025-03-01 00:00", **options) -> dict:
        args = {"JOB_NAME": "silver_to_gold", "lake_root": self.root, "database_prefix": self.prefix}
        config = silver_to_gold.Config(**args, marts=",".join(marts), **options)
        result = silver_to_gold.run(self.spark, config, as_of=ts(as_of))
        return result.details["marts"]

    def table(self, mart: str):
        return self.spark.read.format("delta").load(self.paths.gold(mart))

    def version(self, mart: str) -> int | None:
        return delta.current_version(self.spark, self.paths.gold(mart))

    def rewritten_dates(self, mart: str, version: int, column: str = "date") -> set[date]:
        """Partition dates a commit of the mart added or removed files in (from its Delta log)."""
        log = Path(self.paths.gold(mart), "_delta_log", f"{version:020d}.json")
        touched = set()
        for line in log.read_text().splitlines():
            action = json.loads(line)
            for kind in ("add", "remove"):
                if kind in action:
                    touched.add(date.fromisoformat(action[kind]["partitionValues"][column]))
        return touched


def assert_rows(actual, expected) -> None:
    """chispa equality ignoring row order, nullability and the column comments of Gold."""
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


@pytest.fixture(scope="module")
def silver(spark, tmp_path_factory, request):
    prefix = f"t_{request.module.__name__.rsplit('.', 1)[-1].removeprefix('test_')}_"
    return SilverLake(spark, tmp_path_factory.mktemp("gold"), prefix)
