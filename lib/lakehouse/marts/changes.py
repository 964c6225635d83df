"""What changed in an input between the version a mart last consumed and the pinned one.

Changes come from the input's Delta change data feed (inserts, deletes and both images
of updates: a pre-image catches a row that moved to another date). The feed exists only
from when it was enabled and goes with ``VACUUM``; a table may also have been restored.
Then there is no trustworthy list of changes and the mart is rebuilt in full, with the
reason in the log (``ChangeSet.full_reason``).

Example::

    changes = read_changes(spark, paths.silver("events"), "silver.events", since=41, upto=44)
    changes.full_reason       # None, or e.g. "change feed of silver.events unreadable ..."
    changed_dates(changes.rows, dates=("event_date",))   # {date(2025, 3, 2), ...}
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from py4j.protocol import Py4JJavaError
from pyspark import StorageLevel
from pyspark.errors.exceptions.captured import CapturedException
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakehouse.lake import delta

log = logging.getLogger(__name__)

CDF_COLUMNS = ("_change_type", "_commit_version", "_commit_timestamp")


@dataclass
class ChangeSet:
    """Changes of one input from ``since`` (exclusive) to ``upto`` (inclusive)."""

    table: str
    since: int | None
    upto: int
    rows: DataFrame | None = None  # change rows (persisted); None when unchanged or full
    full_reason: str | None = None

    @property
    def moved(self) -> bool:
        return self.since != self.upto

    def release(self) -> None:
        if self.rows is not None:
            self.rows.unpersist()


def _restores_between(spark: SparkSession, path: str, since: int, upto: int) -> list[int]:
    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, path).history()
    rows = (
        history.where((F.col("version") > since) & (F.col("version") <= upto))
        .where(F.col("operation") == "RESTORE")
        .select("version")
        .collect()
    )
    return sorted(int(r.version) for r in rows)


def read_changes(spark: SparkSession, path: str, table: str, *, since: int | None, upto: int) -> ChangeSet:
    """The change rows of ``table`` after version ``since`` up to ``upto``.

    ``since`` None (never consumed) or greater than ``upto`` (the table went back), a
    restore in between, or a change feed that cannot be read (not enabled for those
    versions, files vacuumed, log cleaned up) give a :class:`ChangeSet` with
    ``full_reason`` set and no rows.
    """
    if since is None:
        return ChangeSet(table, since, upto, full_reason=f"{table}: first build (nothing consumed yet)")
    if since == upto:
        return ChangeSet(table, since, upto)
    if since > upto:
        return ChangeSet(table, since, upto, full_reason=f"{table} went back from version {since} to {upto}")
    try:
        restores = _restores_between(spark, path, since, upto)
        if restores:
            return ChangeSet(table, since, upto, full_reason=f"{table} was restored (version {restores[-1]})")
        rows = delta.change_feed(spark, path, starting=since + 1, ending=upto).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        rows.count()  # read now: a vacuumed feed fails here, not inside a build
    except (CapturedException, Py4JJavaError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        return ChangeSet(
            table,
            since,
            upto,
            full_reason=f"change feed of {table} unreadable for versions {since + 1}..{upto}: {first_line}",
        )
    return ChangeSet(table, since, upto, rows=rows)


def material_changes(rows: DataFrame, keys: Iterable[str], columns: Iterable[str]) -> DataFrame:
    """The change rows of the keys that were added or removed, or whose ``columns`` differ
    between their images (the other keys changed only in columns nothing depends on).

    ``rows`` holds both images of each changed key: the pre- and post-images of a change
    feed, or the old and the staged rows of a mart rebuilt in this run (a key in one of
    them only was added or removed). A key changed and changed back counts as changed.

    Example::

        material_changes(identity_changes, ["anon_id"], ["user_id", "is_ambiguous"])
    """
    keys, columns = list(keys), list(columns)
    per_key = Window.partitionBy(*keys)
    added_or_removed = F.count(F.lit(1)).over(per_key) == 1
    if "_change_type" in rows.columns:
        inserted_or_deleted = F.col("_change_type").isin("insert", "delete").cast("int")
        added_or_removed = added_or_removed | (F.max(inserted_or_deleted).over(per_key) == 1)
    differs = F.size(F.collect_set(F.struct(*columns)).over(per_key)) > 1
    flag = "_material_change"
    return rows.withColumn(flag, added_or_removed | differs).where(F.col(flag)).drop(flag)


def touched_date_column(dates: Iterable[str], date_range: tuple[str, str] | None) -> Column:
    """An ``array<date>`` column of every date a row touches under an input's date mapping."""
    parts = [F.array(F.expr(e).cast("date")) for e in dates]
    if date_range is not None:
        a, b = (F.expr(e).cast("date") for e in date_range)
        parts.append(
            F.when(a.isNull() | b.isNull(), F.array(F.coalesce(a, b))).otherwise(
                F.sequence(F.least(a, b), F.greatest(a, b))
            )
        )
    if not parts:
        return F.array().cast("array<date>")
    return F.concat(*parts) if len(parts) > 1 else parts[0]


def changed_dates(
    rows: DataFrame | None, *, dates: Iterable[str] = (), date_range: tuple[str, str] | None = None
) -> set[date]:
    """Distinct dates the change rows touch (nulls ignored); a small collect."""
    if rows is None:
        return set()
    touched = rows.select(F.explode(touched_date_column(dates, date_range)).alias("d")).where("d IS NOT NULL")
    return {r.d for r in touched.distinct().collect()}
