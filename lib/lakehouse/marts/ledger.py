"""The mart ledger: per mart and run, which input versions it consumed and what it rebuilt.

``_system/mart_ledger`` (Delta) gets one row per mart a run published or advanced, all in
one commit after the marts' commits. The same facts travel inside each mart's own commit as
Delta ``userMetadata`` (JSON), so a run killed between its commits and the ledger's is
caught up from the table's log by the next run (:func:`entry_from_commit`).

Example::

    last = last_entries(spark, paths, "silver_to_gold")["mart_active_users_daily"]
    last.input_versions["gold.fct_user_day_activity"]    # 17
    last.rebuilt                                         # [(date(2025, 3, 2), date(2025, 3, 29))]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths
from lakehouse.marts.dates import DateRange

MART_LEDGER = "mart_ledger"

LEDGER_SCHEMA = T.StructType(
    [
        T.StructField("job", T.StringType(), False),
        T.StructField("mart", T.StringType(), False),
        T.StructField("run_seq", T.LongType(), False),
        T.StructField("run_id", T.StringType(), False),
        T.StructField("fingerprint", T.StringType(), False),
        T.StructField("input_versions", T.MapType(T.StringType(), T.LongType()), False),
        T.StructField("full_rebuild", T.BooleanType(), False),
        T.StructField("reason", T.StringType(), True),
        T.StructField(
            "rebuilt",
            T.ArrayType(
                T.StructType([T.StructField("start", T.DateType()), T.StructField("end", T.DateType())])
            ),
            True,
        ),
        T.StructField("horizon_start", T.DateType(), True),
        T.StructField("horizon_end", T.DateType(), True),
        T.StructField("mart_version", T.LongType(), True),
        T.StructField("rows_staged", T.LongType(), False),
        T.StructField("recorded_at", T.TimestampType(), False),
    ]
)


@dataclass(frozen=True)
class LedgerEntry:
    """One mart's progress in one run. ``mart_version`` is None when the run advanced the
    inputs without a commit (their changes touched none of the mart's dates)."""

    job: str
    mart: str
    run_seq: int
    run_id: str
    fingerprint: str
    input_versions: dict[str, int]
    full_rebuild: bool = False
    reason: str | None = None
    rebuilt: list[DateRange] = field(default_factory=list)
    horizon: DateRange | None = None
    mart_version: int | None = None
    rows_staged: int = 0

    def to_json(self) -> str:
        raw = asdict(self)
        raw["rebuilt"] = [[a.isoformat(), b.isoformat()] for a, b in self.rebuilt]
        raw["horizon"] = [d.isoformat() for d in self.horizon] if self.horizon else None
        raw.pop("mart_version")
        return json.dumps({"lakehouse_mart": raw}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, mart_version: int) -> LedgerEntry | None:
        try:
            raw = json.loads(text)["lakehouse_mart"]
        except (ValueError, KeyError, TypeError):
            return None
        return cls(
            job=raw["job"],
            mart=raw["mart"],
            run_seq=int(raw["run_seq"]),
            run_id=raw["run_id"],
            fingerprint=raw["fingerprint"],
            input_versions={k: int(v) for k, v in raw["input_versions"].items()},
            full_rebuild=bool(raw["full_rebuild"]),
            reason=raw.get("reason"),
            rebuilt=[(date.fromisoformat(a), date.fromisoformat(b)) for a, b in raw.get("rebuilt") or []],
            horizon=tuple(date.fromisoformat(d) for d in raw["horizon"]) if raw.get("horizon") else None,  # type: ignore[arg-type]
            mart_version=mart_version,
            rows_staged=int(raw.get("rows_staged", 0)),
        )


def ensure_ledger(spark: SparkSession, paths: LakePaths) -> None:
    delta.create_if_absent(spark, paths.system(MART_LEDGER), LEDGER_SCHEMA)


def read_ledger(spark: SparkSession, paths: LakePaths):
    """The whole ledger as a DataFrame."""
    ensure_ledger(spark, paths)
    return spark.read.format("delta").load(paths.system(MART_LEDGER))


def last_entries(spark: SparkSession, paths: LakePaths, job: str) -> dict[str, LedgerEntry]:
    """The latest entry of every mart of ``job`` (one small row per mart)."""
    ledger = read_ledger(spark, paths).where(F.col("job") == job)
    latest = ledger.groupBy("mart").agg(F.max_by(F.struct(*ledger.columns), "run_seq").alias("e"))
    entries = {}
    for row in latest.select("e.*").collect():
        entries[row.mart] = LedgerEntry(
            job=row.job,
            mart=row.mart,
            run_seq=int(row.run_seq),
            run_id=row.run_id,
            fingerprint=row.fingerprint,
            input_versions={k: int(v) for k, v in (row.input_versions or {}).items()},
            full_rebuild=bool(row.full_rebuild),
            reason=row.reason,
            rebuilt=[(r.start, r.end) for r in row.rebuilt or []],
            horizon=(row.horizon_start, row.horizon_end) if row.horizon_start else None,
            mart_version=row.mart_version,
            rows_staged=int(row.rows_staged),
        )
    return entries


def append_entries(
    spark: SparkSession, paths: LakePaths, entries: list[LedgerEntry], *, txn: delta.Txn | None = None
) -> None:
    """Append entries in one commit, idempotent under ``txn`` (default, for one entry:
    ``(<job>:ledger:<mart>, run_seq)``, the transaction a recovered commit's entry carries)."""
    if not entries:
        return
    if txn is None:
        if len(entries) != 1:
            raise ValueError("appending several ledger entries needs one transaction id for all")
        (only,) = entries
        txn = (f"{only.job}:ledger:{only.mart}", int(only.run_seq))
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            e.job,
            e.mart,
            int(e.run_seq),
            e.run_id,
            e.fingerprint,
            dict(e.input_versions),
            bool(e.full_rebuild),
            e.reason,
            [(a, b) for a, b in e.rebuilt],
            e.horizon[0] if e.horizon else None,
            e.horizon[1] if e.horizon else None,
            e.mart_version,
            int(e.rows_staged),
            now,
        )
        for e in entries
    ]
    delta.append(spark.createDataFrame(rows, LEDGER_SCHEMA), paths.system(MART_LEDGER), txn=txn)


def entry_from_commit(spark: SparkSession, path: str, run_seq: int) -> LedgerEntry | None:
    """The ledger entry a mart commit carried in its ``userMetadata`` (for ``run_seq``)."""
    from delta.tables import DeltaTable

    rows = (
        DeltaTable.forPath(spark, path)
        .history()
        .where(F.col("userMetadata").contains('"lakehouse_mart"'))
        .select("version", "userMetadata")
        .orderBy(F.col("version").desc())
        .collect()
    )
    for row in rows:
        entry = LedgerEntry.from_json(row.userMetadata, int(row.version))
        if entry is not None and entry.run_seq == run_seq:
            return entry
    return None
