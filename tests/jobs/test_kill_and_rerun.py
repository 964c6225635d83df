"""SIGKILL the bronze_to_silver process mid-run, run it again: every table ends equal to
the tables of one clean run over the same Bronze files."""

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

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # three full job runs in subprocesses

# Columns that say when or by which run a row was written; everything else must be equal.
RUN_COLUMNS = {"run_id", "ingested_at", "quarantined_at", "detected_at", "processed_at"}
TABLES = ["silver", "quarantine"]


def job_command(lake: Path) -> list[str]:
    return [sys.executable, "-m", "lakehouse.cli", "run", "bronze_to_silver", "--lake-root", str(lake),
            "--max-files-per-trigger", "2", "--log-format", "json"]  # fmt: skip


def run_to_completion(lake: Path) -> None:
    done = subprocess.run(job_command(lake), capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]


def run_and_kill_after(lake: Path, batches: int) -> None:
    """Start the job and SIGKILL it right after its n-th micro-batch was committed."""
    process = subprocess.Popen(
        job_command(lake),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    seen = 0
    for line in process.stdout:  # JSON log lines
        if '"msg": "batch processed"' in line:
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


def delta_tables(lake: Path) -> list[Path]:
    return sorted(p.parent for layer in TABLES for p in (lake / layer).glob("*/_delta_log"))


def test_killed_and_rerun_equals_one_clean_run(spark, tmp_path):
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    generate_bronze(
        clean, GeneratorSpec(events=1200, start=datetime(2026, 11, 20, 6, tzinfo=UTC), hours=2).with_faults()
    )
    shutil.copytree(clean / "bronze", killed / "bronze")

    run_to_completion(clean)
    run_and_kill_after(killed, batches=3)
    run_to_completion(killed)

    clean_tables = [p.relative_to(clean) for p in delta_tables(clean)]
    assert [p.relative_to(killed) for p in delta_tables(killed)] == clean_tables
    assert len(clean_tables) > 5
    for table in clean_tables:
        expected = spark.read.format("delta").load(str(clean / table))
        actual = spark.read.format("delta").load(str(killed / table))
        got, want = comparable(actual, killed), comparable(expected, clean)
        assert got.columns == want.columns, table
        assert got.count() == want.count(), table
        assert got.exceptAll(want).count() == 0, table  # every row of one is a row of the other,
        assert want.exceptAll(got).count() == 0, table  # duplicates included
