"""bronze_to_silver: type every Bronze record into Silver or quarantine it, exactly once.

Flow of one run:

1. read the Bronze files of every channel that arrived since the last run (one file
   stream, ``Trigger.AvailableNow``, checkpoint under ``_system/checkpoints``);
2. per micro-batch: split files into records (channel = arrival folder), normalize
   them to the canonical envelope and validate them against the event canon
   (``contracts/``), hashing PII;
3. quarantine invalid records with a reason; dedupe valid ones on ``event_id``
   against the batch and Silver (look-back window), recording conflicts;
4. append new events to ``silver.events`` and the family tables, and record the
   batch's accounting per channel (read = written + duplicates + conflicts +
   quarantined).

Every write of a batch carries the Delta transaction id (table, batch id), so a run
killed at any point and started again ends with the same tables as one clean run.
After the stream: bring the Stripe object tables up to date with the Stripe events
of ``silver.events`` (one MERGE per table per run, see :func:`update_stripe_objects`),
register tables in the catalog and audit every Silver table's changes since its audit
watermark (``lakehouse.silver.audit``): a failed blocking rule fails the run, and every
later run, until the rules pass or a person overrides the version.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from py4j.protocol import Py4JJavaError
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from lakehouse.assets import asset_dir
from lakehouse.bronze.damage import FileDamage, diagnose, file_size, find_damaged_files
from lakehouse.bronze.reader import (
    batch_files,
    bronze_file_stream,
    file_channel,
    read_bronze_files,
    split_into_lines,
)
from lakehouse.config import ConfigError, JobConfig, option
from lakehouse.contracts import ContractRegistry
from lakehouse.dq import DqContext, enforce, evaluate, load_ruleset, persist_outcomes
from lakehouse.dq.metrics import publish_outcome_metrics
from lakehouse.events import project_family, stripe_objects, to_canonical
from lakehouse.events.canonical import EventTimeBounds
from lakehouse.jobs import JobResult
from lakehouse.lake import delta
from lakehouse.lake.audit import ensure_audit_log, record_audit
from lakehouse.lake.frames import release_checkpoint
from lakehouse.lake.paths import LakePaths
from lakehouse.privacy import PiiHasher
from lakehouse.silver import tables
from lakehouse.silver.audit import PARTITION_COLUMN, audit_entry, audit_scopes
from lakehouse.silver.dedupe import CONFLICT, DUPLICATE, NEW, classify_against_existing, rank_within_batch

log = logging.getLogger(__name__)

JOB = "bronze_to_silver"
APPEND_THREADS = 4
COUNT_KEYS = ("files", "records_read", "written", "duplicates", "conflicts", "quarantined")


@dataclass(frozen=True)
class Config(JobConfig):
    max_record_bytes: int = option(
        262144, help="Largest Bronze record accepted; larger ones are quarantined."
    )
    dedupe_lookback_days: int = option(7, help="How far back (days of event date) duplicates are looked for.")
    max_files_per_trigger: int = option(1000, help="Bronze files per micro-batch of the incremental read.")
    pii_key_file: str = option("", help="Local JSON file with the versioned PII hashing keys (development).")
    pii_secret_id: str = option("", help="Secrets Manager secret holding the PII hashing keys (AWS).")
    contracts_path: str = option("", help="Folder of event contracts to use instead of the shipped canon.")
    earliest_event_time: str = option(
        "2015-01-01", help="Earliest plausible event time (UTC date); earlier ones are quarantined."
    )
    max_event_time_ahead_hours: int = option(
        24, help="Event times later than received_at plus these hours are quarantined."
    )

    def event_time_bounds(self) -> EventTimeBounds:
        """The plausible event times of this run (``implausible_time`` outside them)."""
        try:
            earliest = datetime.fromisoformat(self.earliest_event_time).replace(tzinfo=None)
        except ValueError:
            raise ConfigError(
                f"argument --earliest_event_time: expected an ISO date, got {self.earliest_event_time!r}"
            ) from None
        return EventTimeBounds(earliest, timedelta(hours=self.max_event_time_ahead_hours))


class InputUnreadable(RuntimeError):
    """Reading a batch's input failed before anything was written (the cause says why)."""


@dataclass
class RunTotals:
    """What one run did, summed over its micro-batches, per channel."""

    per_channel: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, channel: str, counts: dict[str, int]) -> None:
        totals = self.per_channel.setdefault(channel, dict.fromkeys(counts, 0))
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value

    def total(self, key: str) -> int:
        return sum(c.get(key, 0) for c in self.per_channel.values())


def pii_hasher(config: Config) -> PiiHasher:
    """The PII hasher for this run: Secrets Manager in AWS, a key file or the dev key locally."""
    if config.pii_secret_id:
        import boto3

        return PiiHasher.from_secrets_manager(config.pii_secret_id, boto3.client("secretsmanager"))
    if config.pii_key_file:
        return PiiHasher.from_key_file(config.pii_key_file)
    if config.env != "local":
        raise ConfigError(
            f"argument --pii_secret_id: required in env {config.env!r} (the dev key is local only)"
        )
    return PiiHasher.for_development()


@dataclass
class BatchContext:
    """Everything a micro-batch handler needs; built once per run."""

    spark: SparkSession
    config: Config
    paths: LakePaths
    registry: ContractRegistry
    pii: PiiHasher
    totals: RunTotals
    time_bounds: EventTimeBounds = field(default_factory=EventTimeBounds)
    step_seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Add the wall time of a step to the current batch's step timings (logged per batch)."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.step_seconds[step] = round(self.step_seconds.get(step, 0.0) + time.monotonic() - started, 2)


def existing_event_hashes(ctx: BatchContext, dates: tuple[date, date] | None, batch_id: int) -> DataFrame:
    """``event_id, payload_hash`` of Silver events near the batch's event dates ``(lo, hi)``.

    Rows written by this same batch are left out, so a batch replayed after a crash
    classifies its records exactly as the first attempt did.
    """
    events_path = ctx.paths.silver(tables.EVENTS)
    if dates is None or not delta.table_exists(ctx.spark, events_path):
        return ctx.spark.createDataFrame([], "event_id STRING, payload_hash STRING")
    lookback = timedelta(days=ctx.config.dedupe_lookback_days)
    return (
        ctx.spark.read.format("delta")
        .load(events_path)
        .where(F.col("event_date").between(dates[0] - lookback, dates[1] + lookback))
        .where(F.col("ingest_batch_id") != batch_id)
        .select("event_id", "payload_hash")
    )


@dataclass(frozen=True)
class BatchShape:
    """What one batch holds, from two small aggregates: enough to skip empty writes and
    to do the accounting without another pass over the rows."""

    classified: list  # rows of (channel, dedupe_status, family, event_date, count)
    per_channel: dict[str, dict[str, int]]  # channel -> quarantined, files

    def count(self, status: str, channel: str | None = None) -> int:
        return sum(
            r["count"]
            for r in self.classified
            if r["dedupe_status"] == status and (channel is None or r["channel"] == channel)
        )

    def new_rows(self) -> list:
        return [r for r in self.classified if r["dedupe_status"] == NEW]

    def channel_counts(self) -> dict[str, dict[str, int]]:
        """Per channel: files, records_read = written + duplicates + conflicts + quarantined."""
        counts = {}
        for channel in sorted(set(self.per_channel) | {r["channel"] for r in self.classified}):
            new, dup, conflict = (self.count(s, channel) for s in (NEW, DUPLICATE, CONFLICT))
            quarantined = self.per_channel.get(channel, {}).get("quarantined", 0)
            counts[channel] = {
                "files": self.per_channel.get(channel, {}).get("files", 0),
                "records_read": new + dup + conflict + quarantined,
                "written": new,
                "duplicates": dup,
                "conflicts": conflict,
                "quarantined": quarantined,
            }
        return counts


def ingest_records(
    ctx: BatchContext,
    records: DataFrame,
    batch_id: int,
    *,
    writer: str = JOB,
    quarantine_invalid: bool = True,
) -> dict[str, dict[str, int]]:
    """Validate, dedupe and write one batch of records (any channels); returns counts per channel.

    ``records`` has ``value, channel, bronze_file, bronze_line, received_hour``. Used
    by the micro-batches of a run and by the quarantine replay (which leaves records
    that still fail where they are: ``quarantine_invalid=False``). Writes are idempotent
    under the Delta transaction ``(<writer>:<table>, |batch_id|)``.
    """
    config = ctx.config
    txn = lambda table: (f"{writer}:{table}", abs(batch_id))  # noqa: E731 - one per (table, batch)
    with ctx.timed("plan"):
        canonical = to_canonical(
            records,
            ctx.registry,
            max_record_bytes=config.max_record_bytes,
            pii=ctx.pii,
            time_bounds=ctx.time_bounds,
        )
        # Materialize once and cut the lineage: the validation expressions are large, and
        # every later plan (filters, MERGE sources) would otherwise optimize them again.
        # This first action reads the input; it fails before anything is written.
        try:
            canonical = canonical.withColumn(
                "ingest_batch_id", F.lit(batch_id).cast("long")
            ).localCheckpoint()
        except Py4JJavaError as exc:
            raise InputUnreadable(
                str(exc).splitlines()[0] if str(exc) else "the input cannot be read"
            ) from exc
    try:
        with ctx.timed("validate"):  # one pass: per-channel counts and the valid rows' date range
            by_channel = (
                canonical.groupBy("channel")
                .agg(
                    F.count_if(~F.col("is_valid")).alias("quarantined"),
                    F.count_distinct("bronze_file").alias("files"),
                    F.min(F.when(F.col("is_valid"), F.col("event_date"))).alias("lo"),
                    F.max(F.when(F.col("is_valid"), F.col("event_date"))).alias("hi"),
                )
                .collect()
            )
            per_channel = {r.channel: {"quarantined": r.quarantined, "files": r.files} for r in by_channel}
            los = [r["lo"] for r in by_channel if r["lo"] is not None]
            dates = (min(los), max(r["hi"] for r in by_channel if r["hi"] is not None)) if los else None
            existing = existing_event_hashes(ctx, dates, batch_id)
        with ctx.timed("dedupe"):
            valid = canonical.where("is_valid")
            classified = classify_against_existing(valid.transform(rank_within_batch), existing).persist()
        try:
            with ctx.timed("dedupe"):
                shape = BatchShape(
                    classified=classified.groupBy("channel", "dedupe_status", "family", "event_date")
                    .count()
                    .collect(),
                    per_channel=per_channel,
                )
            if quarantine_invalid and any(c["quarantined"] for c in shape.per_channel.values()):
                with ctx.timed("quarantine"):
                    invalid = canonical.where(~F.col("is_valid"))
                    tables.write_quarantine(invalid, ctx.paths, config.run_id, txn("quarantine"))
            if shape.count(CONFLICT):
                with ctx.timed("quarantine"):
                    conflicts = classified.where(F.col("dedupe_status") == CONFLICT)
                    tables.write_conflicts(conflicts, ctx.paths, config.run_id, txn("conflicts"))
            if shape.new_rows():
                write_new_events(ctx, classified.where(F.col("dedupe_status") == NEW), shape.new_rows(), txn)
        finally:
            classified.unpersist()
    finally:
        release_checkpoint(canonical)
    return shape.channel_counts()


def write_new_events(ctx: BatchContext, new_events: DataFrame, new_rows: list, txn) -> None:
    """Append new events to ``events`` and their family tables."""
    config = ctx.config
    families = sorted({r["family"] for r in new_rows})
    appends = {
        tables.EVENTS: functools.partial(
            tables.append_events, new_events, ctx.paths, config.run_id, txn(tables.EVENTS)
        )
    }
    for family in families:
        name = ctx.registry.family_table_name(family)
        rows = project_family(new_events, ctx.registry, family)
        appends[name] = functools.partial(
            tables.append_family, rows, ctx.paths, name, config.run_id, txn(name)
        )
    # Appends to different tables are independent commits; run side by side, their fixed
    # costs (job scheduling, Delta log writes) overlap. Each is idempotent under its txn.
    with ctx.timed("appends"), ThreadPoolExecutor(APPEND_THREADS, thread_name_prefix="append") as pool:
        for future in [pool.submit(append) for append in appends.values()]:
            future.result()


STRIPE_PROGRESS_APP = f"{JOB}:stripe_objects_from_events"


def update_stripe_objects(ctx: BatchContext) -> None:
    """Merge the Stripe events that ``silver.events`` gained since each object table was last
    merged: one MERGE per table per run, not one per micro-batch.

    Each object table records, as its Delta transaction ``(STRIPE_PROGRESS_APP, v)``, the
    version ``v`` of ``events`` it has merged up to; the new events are read from the change
    feed of ``events`` after that version (the whole table the first time). A run killed
    after its micro-batches and before or during these MERGEs is caught up by the next run,
    with or without new Bronze; replaying a MERGE is a no-op (newer state wins, never arrival).
    A table with nothing new of its type records its progress with an empty commit, so the
    next run's read stays as small as the new data.
    """
    spark, paths = ctx.spark, ctx.paths
    events_path = paths.silver(tables.EVENTS)
    upto = delta.current_version(spark, events_path)
    if upto is None:
        return
    behind: dict[int | None, list[str]] = {}
    for object_type in tables.STRIPE_OBJECT_TYPES:
        done = delta.applied_txn_version(
            spark, paths.silver(tables.stripe_table_name(object_type)), STRIPE_PROGRESS_APP
        )
        if done is None or done < upto:
            behind.setdefault(done, []).append(object_type)
    for done, object_types in behind.items():
        with ctx.timed("stripe_objects"):
            if done is None:
                rows = spark.read.format("delta").option("versionAsOf", upto).load(events_path)
            else:
                feed = delta.change_feed(spark, events_path, starting=done + 1, ending=upto)
                rows = feed.where(F.col("_change_type") == "insert")
            rows = rows.where(F.col("family") == "stripe")
            stripe_events = rows.localCheckpoint()
        try:
            for object_type in object_types:
                with ctx.timed("stripe_objects"):
                    latest = stripe_objects(stripe_events, object_type).localCheckpoint()
                    tables.merge_stripe_objects(
                        spark, latest, ctx.paths, object_type, (STRIPE_PROGRESS_APP, upto)
                    )
                    release_checkpoint(latest)
        finally:
            release_checkpoint(stripe_events)
    if ctx.step_seconds:
        log.info("stripe objects updated", extra={"events_version": upto, "step_seconds": ctx.step_seconds})
        ctx.step_seconds = {}


def _ingest_files(
    ctx: BatchContext, files: DataFrame, batch_id: int, recovered: list[FileDamage]
) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Ingest the records of ``files`` (and the lines recovered from damaged files); returns the
    counts per channel and the files the reader returned (observed while reading, no extra pass)."""
    observation = Observation(f"files_read_{batch_id}")
    contents = files.observe(observation, F.to_json(F.collect_list("bronze_file")).alias("files"))
    if recovered:
        rows = [(d.bronze_file, d.recovered_text) for d in recovered if d.recovered_text]
        contents = contents.unionByName(ctx.spark.createDataFrame(rows, "bronze_file string, content string"))
    counts = ingest_records(ctx, contents.transform(split_into_lines), batch_id)
    return counts, json.loads(observation.get["files"] or "[]")


def process_batch(ctx: BatchContext, files: DataFrame, batch_id: int) -> dict[str, dict[str, int]]:
    """One micro-batch of Bronze files: ingest its records, record the accounting per channel.

    A file the reader cannot open (truncated or 0-byte gzip, binary bytes) is recorded in
    ``quarantine/files`` with its reason and the lines read before the damage (those are
    ingested); the rest of the batch goes on. Per channel, files received = read + unreadable.
    """
    spark = ctx.spark
    listed = batch_files(spark, ctx.paths.checkpoint(JOB, "bronze"), batch_id)
    damaged: list[FileDamage] = []
    try:
        counts, read = _ingest_files(ctx, files, batch_id, [])
    except InputUnreadable as failure:
        with ctx.timed("damaged_files"):
            damaged = find_damaged_files(spark, listed)
        if not damaged:
            raise failure.__cause__ from None
        bad = {d.bronze_file for d in damaged}
        readable = [uri for uri in listed if uri not in bad]
        good = read_bronze_files(spark, readable) if readable else spark.createDataFrame([], files.schema)
        counts, read = _ingest_files(ctx, good, batch_id, damaged)
    with ctx.timed("damaged_files"):
        # Spark skips 0-byte files without a word: a 0-byte .gz is a failed write; other ones are empty.
        for uri in sorted(set(listed) - set(read) - {d.bronze_file for d in damaged}):
            if file_size(spark, uri) == 0:
                if uri.endswith(".gz"):
                    damaged.append(diagnose(spark, uri))
                else:
                    read.append(uri)
        if damaged:
            tables.write_file_quarantine(
                spark,
                ctx.paths,
                damaged,
                [file_channel(d.bronze_file) for d in damaged],
                batch_id,
                ctx.config.run_id,
                (f"{JOB}:quarantine_files", batch_id),
            )
    counts = with_file_counts(counts, listed, read, [d.bronze_file for d in damaged])
    with ctx.timed("accounting"):
        tables.write_accounting(
            ctx.spark, ctx.paths, ctx.config.run_id, batch_id, counts, (f"{JOB}:accounting", batch_id)
        )
    for channel, channel_counts in counts.items():
        ctx.totals.add(channel, channel_counts)
    timings, ctx.step_seconds = ctx.step_seconds, {}
    log.info(
        "batch processed",
        extra={
            "batch_id": batch_id,
            **{key: sum(c[key] for c in counts.values()) for key in COUNT_KEYS},
            "channels": counts,
            "step_seconds": timings,
        },
    )
    return counts


def with_file_counts(
    counts: dict[str, dict[str, int]], listed: list[str], read: list[str], unreadable: list[str]
) -> dict[str, dict[str, int]]:
    """Record counts per channel plus the batch's file counts (a channel may have files and no record)."""
    out = {channel: dict(c) for channel, c in counts.items()}
    for key, uris in (("files_received", listed), ("files_read", read), ("files_unreadable", unreadable)):
        for uri in uris:
            channel = out.setdefault(file_channel(uri), dict.fromkeys(COUNT_KEYS, 0))
            channel[key] = channel.get(key, 0) + 1
    for channel in out.values():
        for key in tables.FILE_COUNT_KEYS:
            channel.setdefault(key, 0)
    return out


def ingest_bronze(ctx: BatchContext) -> None:
    """Run the incremental read of every channel to completion (AvailableNow)."""
    if not tables.path_exists(ctx.spark, ctx.paths.bronze()):
        log.info("no bronze folder", extra={"path": ctx.paths.bronze()})
        return
    stream = bronze_file_stream(ctx.spark, ctx.paths, max_files_per_trigger=ctx.config.max_files_per_trigger)
    query = (
        stream.writeStream.queryName(JOB)
        .foreachBatch(lambda files, batch_id: process_batch(ctx, files, batch_id))
        .option("checkpointLocation", ctx.paths.checkpoint(JOB, "bronze"))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()


def silver_table_names(registry: ContractRegistry) -> list[str]:
    """Every Silver table this job writes."""
    return [
        tables.EVENTS,
        *[registry.family_table_name(f) for f in registry.families],
        *[tables.stripe_table_name(t) for t in tables.STRIPE_OBJECT_TYPES],
    ]


def check_quality(ctx: BatchContext) -> None:
    """Audit every Silver table's changes since its watermark, and this run's accounting.

    Per table, the partitions changed after its audit watermark are evaluated (those this
    run wrote, and those of earlier failed versions: a failure holds until the rules pass
    or a person overrides it); each outcome is recorded in ``_system/audit_log``. Rule
    outcomes are persisted in one commit after every ruleset ran; a failed blocking rule
    then fails the run.
    """
    spark, config = ctx.spark, ctx.config
    rulesets = asset_dir("jobs") / JOB / "rulesets"
    outcomes = []
    entries = []
    for scope in audit_scopes(spark, ctx.paths, silver_table_names(ctx.registry)):
        ruleset_file = rulesets / f"{scope.table}.dqdl"
        if not ruleset_file.is_file():
            continue
        table_outcomes = []
        if not scope.empty:  # Deequ fails every rule on no rows: nothing changed, nothing to check
            rows = (
                spark.read.format("delta")
                .option("versionAsOf", scope.version)
                .load(ctx.paths.silver(scope.table))
            )
            if scope.dates is not None:
                rows = rows.where(F.col(PARTITION_COLUMN).isin(list(scope.dates)))
            context = DqContext(
                config.lake_root, JOB, config.run_id, f"{config.database('silver')}.{scope.table}"
            )
            table_outcomes = evaluate(
                spark, rows, load_ruleset(ruleset_file, canon=ctx.registry), context, persist=False
            )
        outcomes += table_outcomes
        entries.append(audit_entry(scope, table_outcomes, run_id=config.run_id, job=JOB))
    accounting = tables.read_accounting(spark, ctx.paths).where(F.col("run_id") == config.run_id)
    context = DqContext(config.lake_root, JOB, config.run_id, "_system.ingest_batches")
    outcomes += evaluate(
        spark, accounting, load_ruleset(rulesets / "ingest_accounting.dqdl"), context, persist=False
    )
    if outcomes:
        persist_outcomes(spark, outcomes, context)
    record_audit(spark, ctx.paths, entries)
    for entry in entries:
        if entry.status == "failed":
            log.error("blocking failure holds", extra={"table": entry.table_name, "reason": entry.reason})
    if config.env != "local":  # in AWS the failure counts feed the data-quality alarm
        import boto3

        publish_outcome_metrics(outcomes, job=JOB, env=config.env, cloudwatch=boto3.client("cloudwatch"))
    enforce(outcomes)


def batch_context(spark: SparkSession, config: Config) -> BatchContext:
    return BatchContext(
        spark=spark,
        config=config,
        paths=LakePaths(config.lake_root),
        registry=ContractRegistry.load(config.contracts_path or None),
        pii=pii_hasher(config),
        totals=RunTotals(),
        time_bounds=config.event_time_bounds(),
    )


def run(spark: SparkSession, config: Config) -> JobResult:
    ctx = batch_context(spark, config)
    tables.ensure_system_tables(spark, ctx.paths)
    ensure_audit_log(spark, ctx.paths)
    ingest_bronze(ctx)
    update_stripe_objects(ctx)
    tables.register_silver_tables(spark, ctx.paths, ctx.registry, config.database("silver"))
    check_quality(ctx)
    totals = ctx.totals
    return JobResult(
        rows_in=totals.total("records_read"),
        rows_out=totals.total("written"),
        rows_quarantined=totals.total("quarantined"),
        details={"channels": totals.per_channel},
    )
