"""Stage, check and publish one mart: the write-audit-publish steps every layer shares.

- :func:`stage` conforms a build's rows to the spec (column order, types, column
  comments), persists them once and counts them.
- :func:`spec_outcomes` evaluates what the spec itself promises (keys complete and
  unique, rows only on the rebuilt dates) in one aggregate.
- :func:`publish` writes one commit: ``replaceWhere`` on exactly the rebuilt dates, a
  MERGE for entity marts, or an overwrite; the commit carries the Delta transaction
  ``(<job>:<mart>, run_seq)`` (a replay is skipped by Delta) and the ledger entry as
  ``userMetadata``.

Example::

    staged = stage(spec, rows, full=False, dates=[date(2025, 3, 2)])
    outcomes = spec_outcomes(staged)
    version = publish(spark, paths, staged, job="silver_to_gold", run_seq=7, metadata=entry.to_json())
"""

from __future__ import annotations

import contextlib
import functools
import logging
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.dq import RuleOutcome
from lakehouse.lake import delta
from lakehouse.lake.audit import table_path
from lakehouse.lake.frames import checkpointed, release_checkpoint
from lakehouse.lake.paths import LakePaths
from lakehouse.marts import dates as D
from lakehouse.marts.spec import MartDefinitionError, MartSpec

log = logging.getLogger(__name__)

PRESENT = "__lakehouse_present"


@dataclass
class StagedTable:
    """A mart's rebuilt rows, persisted, waiting for their audit and their commit.

    ``dates`` are the rebuilt dates of a ``replace_dates`` mart (ignored when ``full``);
    ``rebuilt_keys`` are the keys a ``merge`` mart recomputed: a key there and not in
    ``df`` is deleted.
    """

    spec: MartSpec
    df: DataFrame
    rows: int
    full: bool
    dates: tuple[date, ...] = ()
    rebuilt_keys: DataFrame | None = None
    outcomes: list[RuleOutcome] = field(default_factory=list)

    def release(self) -> None:
        release_checkpoint(self.df)
        if self.rebuilt_keys is not None:
            release_checkpoint(self.rebuilt_keys)


def conform(spec: MartSpec, df: DataFrame) -> DataFrame:
    """``df`` with exactly the spec's columns, in its order, typed as declared, with the
    column descriptions as comments; :class:`MartDefinitionError` if a column is missing,
    extra or of another type (a float where money belongs is caught here)."""
    have = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    missing = [c.name for c in spec.columns if c.name not in have]
    extra = [name for name in have if name not in spec.column_names]
    wrong = [
        f"{c.name} is {have[c.name]}, spec says {c.type}"
        for c in spec.columns
        if c.name in have and have[c.name] != c.type
    ]
    if missing or extra or wrong:
        problems = []
        if missing:
            problems.append(f"missing {missing}")
        if extra:
            problems.append(f"not in the spec {extra}")
        problems.extend(wrong)
        raise MartDefinitionError(f"{spec.name}: build output does not match its spec: {'; '.join(problems)}")
    return df.select(
        *[F.col(c.name).alias(c.name, metadata={"comment": c.description}) for c in spec.columns]
    )


def stage(
    spec: MartSpec,
    df: DataFrame,
    *,
    full: bool,
    dates: list[date] | tuple[date, ...] = (),
    rebuilt_keys: DataFrame | None = None,
) -> StagedTable:
    """Conform, checkpoint and count a mart's rebuilt rows."""
    if spec.publish == "replace_dates" and not full and not dates:
        raise MartDefinitionError(f"{spec.name}: a replace_dates stage needs its rebuilt dates")
    staged_df = checkpointed(conform(spec, df))
    rows = staged_df.count()
    keys = None
    if rebuilt_keys is not None:
        keys = checkpointed(rebuilt_keys.select(*spec.keys).distinct())
    return StagedTable(spec, staged_df, rows, full, tuple(sorted(set(dates))), keys)


def spec_outcomes(staged: StagedTable) -> list[RuleOutcome]:
    """Outcomes of the spec's own promises, from one aggregate over the staged rows."""
    spec, df = staged.spec, staged.df
    checks: list[tuple[str, str, F.Column]] = []  # rule text, metric name, violations
    for key in spec.keys:
        checks.append((f'IsComplete "{key}"', f"Column.{key}.Nulls", F.count_if(F.col(key).isNull())))
    if spec.keys:
        any_null = F.count_if(functools.reduce(operator.or_, [F.col(k).isNull() for k in spec.keys]))
        duplicates = F.count(F.lit(1)) - any_null - F.count_distinct(*[F.col(k) for k in spec.keys])
        keys_text = " ".join(f'"{k}"' for k in spec.keys)
        checks.append((f"IsPrimaryKey {keys_text}", "Dataset.*.DuplicateKeys", duplicates))
    if spec.publish == "replace_dates" and not staged.full and spec.date_column:
        inside = F.expr(D.replace_where(spec.date_column, staged.dates))
        checks.append(
            (
                f'RowsOnRebuiltDates "{spec.date_column}"',
                "Dataset.*.RowsOutsideRebuiltDates",
                F.count_if(~inside | F.col(spec.date_column).isNull()),
            )
        )
    if not checks or staged.rows == 0:
        return [
            RuleOutcome(spec.table_name, f"{spec.name}.spec", text, "blocking", "Passed", None, {metric: 0.0})
            for text, metric, _ in checks
        ]
    (row,) = df.agg(*[violations.alias(f"v{i}") for i, (_, _, violations) in enumerate(checks)]).collect()
    outcomes = []
    for i, (text, metric, _) in enumerate(checks):
        violations = int(row[f"v{i}"])
        outcomes.append(
            RuleOutcome(
                table_name=spec.table_name,
                ruleset=f"{spec.name}.spec",
                rule=text,
                severity="blocking",
                outcome="Failed" if violations else "Passed",
                failure_reason=f"{violations} violating row(s)" if violations else None,
                evaluated_metrics={metric: float(violations)},
            )
        )
    return outcomes


@contextlib.contextmanager
def _commit_metadata(spark: SparkSession, metadata: str | None) -> Iterator[None]:
    """``userMetadata`` of a DML commit (MERGE has no writer option for it)."""
    key = "spark.databricks.delta.commitInfo.userMetadata"
    if metadata is None:
        yield
        return
    spark.conf.set(key, metadata)
    try:
        yield
    finally:
        spark.conf.unset(key)


def mart_path(paths: LakePaths, spec: MartSpec) -> str:
    return table_path(paths, spec.table_name)


def ensure_table(spark: SparkSession, path: str, staged: StagedTable) -> None:
    """Create the mart's table (partitioned as the spec says, change feed on) if absent."""
    delta.create_if_absent(
        spark,
        path,
        staged.df.schema,
        partition_by=list(staged.spec.partitioned_by) or None,
        change_data_feed=True,
        comment=table_comment(staged.spec),
    )


def table_comment(spec: MartSpec) -> str:
    """The mart's table comment: its description and grain."""
    return f"{spec.description} Grain: {spec.grain}."


def _merge(spark: SparkSession, path: str, staged: StagedTable) -> None:
    from delta.tables import DeltaTable

    spec = staged.spec
    columns = spec.column_names
    rows = staged.df.withColumn(PRESENT, F.lit(True))
    if staged.rebuilt_keys is not None:
        source = staged.rebuilt_keys.join(rows, list(spec.keys), "left")
    else:
        source = rows
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in spec.keys)
    differs = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in columns if c not in spec.keys) or "false"
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(source.alias("s"), on)
        .whenMatchedDelete(condition=f"s.`{PRESENT}` IS NULL")
        .whenMatchedUpdate(condition=f"s.`{PRESENT}` AND ({differs})", set={c: f"s.`{c}`" for c in columns})
        .whenNotMatchedInsert(condition=f"s.`{PRESENT}`", values={c: f"s.`{c}`" for c in columns})
        .execute()
    )


def publish(
    spark: SparkSession,
    paths: LakePaths,
    staged: StagedTable,
    *,
    job: str,
    run_seq: int,
    metadata: str | None = None,
) -> int:
    """One commit for one staged mart; returns the mart's version after it.

    A commit of ``(<job>:<mart>, run_seq)`` that already happened (a rerun after a crash)
    is not repeated.
    """
    spec = staged.spec
    path = mart_path(paths, spec)
    app_id = f"{job}:{spec.name}"
    applied = delta.applied_txn_version(spark, path, app_id)
    if applied is not None and applied >= run_seq:
        log.info("mart already published by this run", extra={"mart": spec.name, "run_seq": run_seq})
        return int(delta.current_version(spark, path) or 0)
    ensure_table(spark, path, staged)
    if spec.publish == "merge" and not staged.full:
        with delta.dml_transaction(spark, (app_id, run_seq)), _commit_metadata(spark, metadata):
            _merge(spark, path, staged)
    else:
        writer = (
            staged.df.write.format("delta")
            .mode("overwrite")
            # the session default is dynamic (Silver's writes); a mart replaces exactly what it says
            .option("partitionOverwriteMode", "static")
            .option("txnAppId", app_id)
            .option("txnVersion", str(run_seq))
        )
        if metadata is not None:
            writer = writer.option("userMetadata", metadata)
        if spec.publish == "replace_dates" and not staged.full:
            assert spec.date_column is not None
            writer = writer.option("replaceWhere", D.replace_where(spec.date_column, staged.dates))
        else:
            writer = writer.option("overwriteSchema", "true")
            if spec.partitioned_by:
                writer = writer.partitionBy(*spec.partitioned_by)
        writer.save(path)
    version = int(delta.current_version(spark, path) or 0)
    log.info(
        "mart published",
        extra={
            "mart": spec.name,
            "mode": "full" if staged.full else spec.publish,
            "rows": staged.rows,
            "dates": [f"{a}..{b}" for a, b in D.as_ranges(staged.dates)],
            "version": version,
        },
    )
    return version


def register(spark: SparkSession, paths: LakePaths, spec: MartSpec, database: str) -> None:
    """Register the mart in the catalog with its description (columns carry their comments)."""
    path = mart_path(paths, spec)
    if delta.table_exists(spark, path):
        delta.register_table(spark, f"{database}.{spec.name}", path, comment=table_comment(spec))
