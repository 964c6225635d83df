"""The downstream mechanism end to end on a hand-built Silver table and three small marts.

One lake for the module; the tests run in file order, each adding one change to Silver
and checking what the next run rebuilds (read from the marts' Delta logs), that nothing
changes without new input, that a failed rule publishes nothing, that a killed run is
completed by the next one and that an unreadable change feed falls back to a full build.
"""

import json
from datetime import date
from pathlib import Path

import pytest
from lakehouse.dq import DataQualityFailure
from lakehouse.lake import delta
from lakehouse.lake.audit import AuditEntry, audited_version, record_audit
from lakehouse.lake.paths import LakePaths
from lakehouse.marts import MartRows, RunOptions, parse_spec, read_ledger, run_marts
from lakehouse.marts.spec import order_by_dependencies
from pyspark.sql import functions as F

JOB = "test_marts"
THINGS = "event_id STRING, thing_id STRING, amount_minor BIGINT, event_date DATE"


def d(day: int) -> date:
    return date(2025, 3, day)


# ------------------------------------------------------------------------------------- the marts


def daily_counts(ctx):
    things = ctx.window("silver.things").where(ctx.target("event_date"))
    return things.groupBy(F.col("event_date").alias("date")).agg(
        F.count(F.lit(1)).alias("n"), F.sum("amount_minor").cast("decimal(38,0)").alias("amount_minor")
    )


def rolling3(ctx):
    counts = ctx.window("gold.daily_counts")
    spine = ctx.spark.createDataFrame([(x,) for x in ctx.dates], "date DATE")
    joined = spine.join(
        counts.select(F.col("date").alias("day"), "n"),
        (F.col("day") >= F.date_sub("date", 2)) & (F.col("day") <= F.col("date")),
        "left",
    )
    return joined.groupBy("date").agg(F.coalesce(F.sum("n"), F.lit(0)).cast("bigint").alias("n_3d"))


def thing_totals(ctx):
    things = ctx.input("silver.things")
    if ctx.full:
        return things.groupBy("thing_id").agg(F.sum("amount_minor").alias("amount_minor"))
    keys = ctx.changed_keys("silver.things", "thing_id")
    rows = (
        things.join(keys, "thing_id", "left_semi")
        .groupBy("thing_id")
        .agg(F.sum("amount_minor").alias("amount_minor"))
    )
    return MartRows(rows, keys)


COLUMN = {"description": "see the test"}


def specs(folder: Path):
    (folder / "daily_counts.dqdl").write_text(
        'Rules = [\n    CustomSql "select count(*) from primary where n > 3" = 0\n]\n'
    )
    daily = {
        "name": "daily_counts",
        "description": "Things per day.",
        "grain": "one row per date",
        "keys": ["date"],
        "date_column": "date",
        "partitioned_by": ["date"],
        "publish": "replace_dates",
        "build": daily_counts,
        "inputs": [{"table": "silver.things", "dates": ["event_date"]}],
        "columns": [
            {"name": "date", "type": "date", **COLUMN},
            {"name": "n", "type": "bigint", **COLUMN},
            {"name": "amount_minor", "type": "decimal(38,0)", **COLUMN},
        ],
        "reconciliations": [
            {
                "name": "amount_equals_silver",
                "keys": ["date"],
                "actual": "select date, amount_minor as value from staged",
                "expected": "select event_date as date, amount_minor as value from silver_things "
                "where event_date in (select date from target_dates)",
            }
        ],
    }
    rolling = {
        "name": "rolling3",
        "description": "Things over three days.",
        "grain": "one row per date",
        "keys": ["date"],
        "date_column": "date",
        "partitioned_by": ["date"],
        "publish": "replace_dates",
        "build": rolling3,
        "inputs": [{"table": "gold.daily_counts", "dates": ["date"], "offsets": [-2, 0]}],
        "columns": [{"name": "date", "type": "date", **COLUMN}, {"name": "n_3d", "type": "bigint", **COLUMN}],
    }
    totals = {
        "name": "thing_totals",
        "description": "Amount per thing.",
        "grain": "one row per thing_id",
        "keys": ["thing_id"],
        "publish": "merge",
        "build": thing_totals,
        "inputs": [{"table": "silver.things"}],
        "columns": [
            {"name": "thing_id", "type": "string", **COLUMN},
            {"name": "amount_minor", "type": "bigint", **COLUMN},
        ],
    }
    return order_by_dependencies(
        [parse_spec(rolling), parse_spec(totals), parse_spec(daily, source=folder / "daily_counts.yaml")]
    )


# ------------------------------------------------------------------------------------- helpers


class Lake:
    def __init__(self, spark, root: Path):
        self.spark = spark
        self.paths = LakePaths(str(root))
        self.specs = specs(root)
        self.things = self.paths.silver("things")

    def add(self, *rows):
        df = self.spark.createDataFrame(list(rows), THINGS)
        delta.append(df, self.things, partition_by=["event_date"], change_data_feed=True)
        self.audit()

    def audit(self):
        version = delta.current_version(self.spark, self.things)
        record_audit(self.spark, self.paths, [AuditEntry("silver.things", version, "passed", "r", "test")])

    def run(self, **options):
        hook = options.pop("step_hook", None)
        return run_marts(
            self.spark,
            self.paths,
            self.specs,
            job=JOB,
            run_id="run",
            options=RunOptions(database="test_marts_gold", **options),
            step_hook=hook,
        )

    def rows(self, mart):
        df = self.spark.read.format("delta").load(self.paths.gold(mart))
        return sorted(tuple(r) for r in df.collect())

    def version(self, mart):
        return delta.current_version(self.spark, self.paths.gold(mart))

    def rewritten_dates(self, mart, version):
        log = Path(self.paths.gold(mart), "_delta_log", f"{version:020d}.json")
        touched = set()
        for line in log.read_text().splitlines():
            action = json.loads(line)
            for kind in ("add", "remove"):
                if kind in action:
                    touched.add(date.fromisoformat(action[kind]["partitionValues"]["date"]))
        return touched


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    lake = Lake(spark, tmp_path_factory.mktemp("marts"))
    lake.add(("t1", "A", 100, d(1)), ("t2", "B", 200, d(1)), ("t3", "A", 50, d(2)), ("t4", "C", 10, d(4)))
    return lake


# ------------------------------------------------------------------------------------- the runs


def test_first_run_builds_everything_and_records_ledger_and_audits(lake):
    summary = lake.run()
    assert {m: s["status"] for m, s in summary.items()} == dict.fromkeys(
        ["daily_counts", "rolling3", "thing_totals"], "published"
    )
    assert all(s["full"] for s in summary.values())
    assert lake.rows("daily_counts") == [(d(1), 2, 300), (d(2), 1, 50), (d(4), 1, 10)]
    assert lake.rows("rolling3") == [(d(1), 2), (d(2), 3), (d(3), 3), (d(4), 2)]
    assert lake.rows("thing_totals") == [("A", 150), ("B", 200), ("C", 10)]
    assert audited_version(lake.spark, lake.paths, "gold.daily_counts") == lake.version("daily_counts")
    ledger = read_ledger(lake.spark, lake.paths).where(F.col("job") == JOB).collect()
    assert sorted(r.mart for r in ledger) == ["daily_counts", "rolling3", "thing_totals"]


def test_a_run_with_nothing_new_changes_nothing(lake):
    versions = {m: lake.version(m) for m in ("daily_counts", "rolling3", "thing_totals")}
    ledger_rows = read_ledger(lake.spark, lake.paths).count()
    summary = lake.run()
    assert {s["status"] for s in summary.values()} == {"unchanged"}
    assert {m: lake.version(m) for m in versions} == versions
    assert read_ledger(lake.spark, lake.paths).count() == ledger_rows


def test_a_late_event_rewrites_exactly_the_dates_its_offsets_say(lake):
    lake.add(("t5", "B", 5, d(2)), ("t6", "C", 1, d(5)))
    summary = lake.run()
    assert summary["daily_counts"]["dates"] == ["2025-03-02..2025-03-02", "2025-03-05..2025-03-05"]
    assert lake.rewritten_dates("daily_counts", lake.version("daily_counts")) == {d(2), d(5)}
    # rolling3 reads d-2..d: d2 touches d2..d4, the new day d5 touches d5 (nothing after d5 yet)
    assert lake.rewritten_dates("rolling3", lake.version("rolling3")) == {d(2), d(3), d(4), d(5)}
    assert lake.rows("daily_counts") == [(d(1), 2, 300), (d(2), 2, 55), (d(4), 1, 10), (d(5), 1, 1)]
    assert lake.rows("rolling3") == [(d(1), 2), (d(2), 4), (d(3), 4), (d(4), 3), (d(5), 2)]
    assert lake.rows("thing_totals") == [("A", 150), ("B", 205), ("C", 11)]
    incremental = {m: lake.rows(m) for m in ("daily_counts", "rolling3", "thing_totals")}
    lake.run(full_refresh=True)
    assert {m: lake.rows(m) for m in incremental} == incremental


def test_a_failed_blocking_rule_publishes_nothing(lake):
    versions = {m: lake.version(m) for m in ("daily_counts", "rolling3", "thing_totals")}
    lake.add(("t90", "D", 1, d(1)), ("t91", "D", 1, d(1)))  # d1 now has 4 things: the rule allows 3
    with pytest.raises(DataQualityFailure, match="n > 3"):
        lake.run()
    assert {m: lake.version(m) for m in versions} == versions
    failed = (
        lake.spark.read.format("delta")
        .load(lake.paths.system("dq_results"))
        .where((F.col("job") == JOB) & (F.col("outcome") == "Failed"))
        .select("table_name", "severity")
        .collect()
    )
    assert [tuple(r) for r in failed] == [("gold.daily_counts", "blocking")]
    lake.spark.sql(f"DELETE FROM delta.`{lake.things}` WHERE thing_id = 'D'")
    lake.audit()
    lake.run()
    assert lake.rows("daily_counts")[0] == (d(1), 2, 300)
    assert lake.rows("thing_totals") == [("A", 150), ("B", 205), ("C", 11)]  # D came and went


def test_a_run_killed_after_a_commit_is_completed_by_the_next(lake):
    lake.add(("t7", "A", 7, d(3)))

    def crash(step, mart):
        if (step, mart) == ("published", "daily_counts"):
            raise RuntimeError("killed")

    before = lake.version("daily_counts")
    with pytest.raises(RuntimeError, match="killed"):
        lake.run(step_hook=crash)
    assert lake.version("daily_counts") == before + 1  # committed, ledger not advanced
    summary = lake.run()
    assert summary["daily_counts"]["status"] == "unchanged"  # its commit was recovered, not repeated
    assert lake.version("daily_counts") == before + 1
    assert summary["rolling3"]["status"] == summary["thing_totals"]["status"] == "published"
    clean = {m: lake.rows(m) for m in ("daily_counts", "rolling3", "thing_totals")}
    assert clean["rolling3"] == [(d(1), 2), (d(2), 4), (d(3), 5), (d(4), 4), (d(5), 3)]
    lake.run(full_refresh=True)
    assert {m: lake.rows(m) for m in clean} == clean


def test_an_unreadable_change_feed_falls_back_to_a_full_rebuild(lake):
    lake.spark.sql(f"UPDATE delta.`{lake.things}` SET amount_minor = 12 WHERE event_id = 't4'")
    lake.audit()
    lake.spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        lake.spark.sql(f"VACUUM delta.`{lake.things}` RETAIN 0 HOURS")
    finally:
        lake.spark.conf.unset("spark.databricks.delta.retentionDurationCheck.enabled")
    summary = lake.run()
    assert summary["daily_counts"]["full"]
    assert "change feed of silver.things unreadable" in summary["daily_counts"]["reason"]
    assert (d(4), 1, 12) in lake.rows("daily_counts")
    assert lake.rows("thing_totals") == [("A", 157), ("B", 205), ("C", 13)]
