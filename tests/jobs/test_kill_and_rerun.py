"""SIGKILL a job's process mid-run, run it again: every table ends equal to the tables of one
clean run over the same inputs (bronze_to_silver over the same Bronze files, silver_to_gold
over the same Silver)."""

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lakehouse.synthetic.bronze import GeneratorSpec, generate_bronze
from pyspark.sql import functions as F

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # full job runs in subprocesses

# Columns that say when or by which run a row was written; everything else must be equal.
RUN_COLUMNS = {"run_id", "ingested_at", "quarantined_at", "detected_at", "processed_at"}
TABLES = ["silver", "quarantine"]


# The Gold marts killed and rerun: closed under their inputs, every publish mode (MERGE,
# replaceWhere, overwrite) and marts built on marts staged in the same run. The marts made
# from the clock or the run log are left out: a killed run is a run they rightly record.
KILLED_MARTS = (
    "fct_lbg", "dim_identity_map", "audit_orphans", "fct_user_day_activity", "dim_persons",
    "mart_active_users_daily", "mart_bookings_daily", "mart_cohort_retention", "fct_sessions",
    "mart_refunds_daily",
)  # fmt: skip


def job_command(lake: Path, job: str = "bronze_to_silver") -> list[str]:
    if job == "bronze_to_silver":
        extra = ["--max-files-per-trigger", "2"]
    else:
        extra = ["--marts", ",".join(KILLED_MARTS)]
    return [sys.executable, "-m", "lakehouse.cli", "run", job, "--lake-root", str(lake), *extra,
            "--log-format", "json"]  # fmt: skip


def run_to_completion(lake: Path, job: str = "bronze_to_silver") -> None:
    done = subprocess.run(job_command(lake, job), capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]


def run_and_kill_after(
    lake: Path, batches: int, *, job: str = "bronze_to_silver", step: str = "batch processed"
) -> None:
    """Start the job and SIGKILL it right after its n-th ``step`` log line (a committed
    micro-batch, a published mart)."""
    process = subprocess.Popen(
        job_command(lake, job),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    seen = 0
    for line in process.stdout:  # JSON log lines
        if f'"msg": "{step}"' in line:
            seen += 1
            if seen == batches:
                time.sleep(1.5)  # land inside the next batch's writes
                os.killpg(process.pid, signal.SIGKILL)
                break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the job finished before it could be killed"


def comparable(df, lake: Path):
    """The table without run columns, Bronze paths made relative to the lake, and map-typed
    columns as JSON text (set operations cannot compare maps)."""
    df = df.drop(*RUN_COLUMNS)
    if "bronze_file" in df.columns:
        df = df.withColumn("bronze_file", F.regexp_replace("bronze_file", f"^.*/{lake.name}/", ""))
    as_text = lambda c: F.to_json(F.struct(c)).alias(c)  # noqa: E731
    return df.select(*[as_text(c) if "map<" in df.schema[c].dataType.simpleString() else F.col(c)
                       for c in sorted(df.columns)])  # fmt: skip


def delta_tables(lake: Path, layers: list[str] = TABLES) -> list[Path]:
    return sorted(p.parent for layer in layers for p in (lake / layer).glob("*/_delta_log"))


def assert_same_tables(spark, clean: Path, killed: Path, tables: list[Path]) -> None:
    for table in tables:
        expected = spark.read.format("delta").load(str(clean / table))
        actual = spark.read.format("delta").load(str(killed / table))
        got, want = comparable(actual, killed), comparable(expected, clean)
        assert got.columns == want.columns, table
        assert got.count() == want.count(), table
        assert got.exceptAll(want).count() == 0, table  # every row of one is a row of the other,
        assert want.exceptAll(got).count() == 0, table  # duplicates included


@pytest.fixture(scope="module")
def lakes(tmp_path_factory):
    """Two lakes from the same Bronze: one run clean, one killed after its third micro-batch
    and run again."""
    root = tmp_path_factory.mktemp("kill")
    clean, killed = root / "clean", root / "killed"
    generate_bronze(
        clean, GeneratorSpec(events=1200, start=datetime(2026, 11, 20, 6, tzinfo=UTC), hours=2).with_faults()
    )
    shutil.copytree(clean / "bronze", killed / "bronze")
    run_to_completion(clean)
    run_and_kill_after(killed, batches=3)
    run_to_completion(killed)
    return clean, killed


def test_killed_and_rerun_equals_one_clean_run(spark, lakes):
    clean, killed = lakes
    clean_tables = [p.relative_to(clean) for p in delta_tables(clean)]
    assert [p.relative_to(killed) for p in delta_tables(killed)] == clean_tables
    assert len(clean_tables) > 5
    assert_same_tables(spark, clean, killed, clean_tables)


def test_gold_killed_and_rerun_equals_one_clean_run(spark, lakes, tmp_path):
    """silver_to_gold over KILLED_MARTS, SIGKILLed after its fifth published mart and run
    again: every mart equals the mart of one clean run over the same Silver."""
    _, silver = lakes
    reference = tmp_path / "reference"
    shutil.copytree(silver, reference)
    run_to_completion(reference, "silver_to_gold")
    run_and_kill_after(silver, batches=5, job="silver_to_gold", step="mart published")
    run_to_completion(silver, "silver_to_gold")

    marts = [p.relative_to(reference) for p in delta_tables(reference, ["gold"])]
    assert [p.relative_to(silver) for p in delta_tables(silver, ["gold"])] == marts
    assert sorted(m.name for m in marts) == sorted(KILLED_MARTS)
    assert_same_tables(spark, reference, silver, marts)
