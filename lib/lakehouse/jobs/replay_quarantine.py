"""replay_quarantine: after a contract fix, move the quarantined records that now pass to Silver, once.

A job like the others: its config is bronze_to_silver's (the same PII key, environment,
contracts and limits, so a replayed row is hashed and typed exactly as the main job
would have written it) plus ``error_type``; it runs from its Glue entrypoint
(``jobs/replay_quarantine/replay_quarantine.py``), ``lakehouse run replay_quarantine``
or ``lakehouse replay-quarantine``, and is recorded in the run log. Outside ``env=local``
a run without ``pii_secret_id`` or ``pii_key_file`` is refused before it starts.

Each replay has a sequence number (completed replays + 1) used as its Delta
transaction version, so a replay killed half-way and started again applies each
write once; events already in Silver are recognised by the usual dedupe. Replayed
records are marked (``replayed_run_id``, ``replayed_at``) and never replayed again;
records that still fail stay in quarantine as they were.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.config import ConfigError, option
from lakehouse.events import to_canonical
from lakehouse.jobs import JobResult
from lakehouse.jobs import bronze_to_silver as b2s
from lakehouse.lake import delta
from lakehouse.silver import tables

log = logging.getLogger(__name__)

REPLAY_RUNS_SCHEMA = T.StructType(
    [
        T.StructField("replay_seq", T.LongType(), False),
        T.StructField("run_id", T.StringType(), False),
        T.StructField("records", T.LongType(), False),
        T.StructField("moved_to_silver", T.LongType(), False),
        T.StructField("finished_at", T.TimestampType(), False),
    ]
)


@dataclass(frozen=True)
class Config(b2s.Config):
    error_type: str = option("", help="Replay only quarantined records of this error_type (default: all).")

    def __post_init__(self) -> None:
        super().__post_init__()
        # Refused here, before any Spark starts; bronze_to_silver's pii_hasher refuses the same at run time.
        if self.env != "local" and not (self.pii_secret_id or self.pii_key_file):
            raise ConfigError(
                f"argument --pii_secret_id: required in env {self.env!r} (the dev key is local only)"
            )


def run(spark: SparkSession, config: Config) -> JobResult:
    counts = replay(spark, config)
    return JobResult(rows_in=counts["records"], rows_out=counts["moved_to_silver"], details=counts)


def replay(spark: SparkSession, config: Config) -> dict[str, int]:
    """Re-validate pending quarantined records; returns counts (records, moved, still_failing)."""
    from delta.tables import DeltaTable

    ctx = b2s.batch_context(spark, config)
    paths = ctx.paths
    quarantine_path = paths.quarantine("records")
    if not delta.table_exists(spark, quarantine_path):
        return {"records": 0, "moved_to_silver": 0, "still_failing": 0}
    runs_path = paths.system("replay_runs")
    delta.create_if_absent(spark, runs_path, REPLAY_RUNS_SCHEMA)
    seq = spark.read.format("delta").load(runs_path).count() + 1
    pending = spark.read.format("delta").load(quarantine_path).where(F.col("replayed_run_id").isNull())
    if config.error_type:
        pending = pending.where(F.col("error_type") == config.error_type)
    pending = pending.persist()
    totals = {"records": 0, "moved_to_silver": 0, "duplicates": 0}
    try:
        records = pending.select(
            F.col("raw_record").alias("value"), "channel", "bronze_file", "bronze_line", "received_hour"
        )
        # Replayed events carry the negative sequence as their batch id: never a stream's.
        per_channel = b2s.ingest_records(
            ctx, records, -seq, writer="replay_quarantine", quarantine_invalid=False
        )
        b2s.update_stripe_objects(ctx)  # replayed Stripe events reach the object tables
        for counts in per_channel.values():
            totals["records"] += counts["records_read"]
            totals["moved_to_silver"] += counts["written"]
            totals["duplicates"] += counts["duplicates"] + counts["conflicts"]
        # Mark every record that passes now: it is in Silver, written now or already there.
        verdicts = to_canonical(records, ctx.registry, max_record_bytes=config.max_record_bytes, pii=ctx.pii)
        # Checkpoint before filtering: a filter over the unmaterialized validation plan is huge.
        passing = verdicts.localCheckpoint().where("is_valid").select("channel", "bronze_file", "bronze_line")
        now = datetime.now(UTC).replace(tzinfo=None)
        (
            DeltaTable.forPath(spark, quarantine_path)
            .alias("q")
            .merge(
                passing.alias("p"),
                "q.replayed_run_id IS NULL AND q.channel = p.channel AND q.bronze_file = p.bronze_file "
                "AND q.bronze_line = p.bronze_line",
            )
            .whenMatchedUpdate(set={"replayed_run_id": F.lit(config.run_id), "replayed_at": F.lit(now)})
            .execute()
        )
    finally:
        pending.unpersist()
    still = spark.read.format("delta").load(quarantine_path).where(F.col("replayed_run_id").isNull()).count()
    row = (
        seq,
        config.run_id,
        totals["records"],
        totals["moved_to_silver"],
        datetime.now(UTC).replace(tzinfo=None),
    )
    delta.append(spark.createDataFrame([row], REPLAY_RUNS_SCHEMA), runs_path, txn=("replay_runs", seq))
    tables.register_silver_tables(spark, paths, ctx.registry, config.database("silver"))
    result = {**totals, "still_failing": still}
    log.info("quarantine replayed", extra=result)
    return result
