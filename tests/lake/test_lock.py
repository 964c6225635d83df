"""One local run per lake: the second says so in one line, before any JVM starts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lakehouse.lake import lock

REPO = Path(__file__).resolve().parents[2]
LAKEHOUSE = Path(sys.executable).parent / "lakehouse"

TRY_LOCK = """
import sys
from pathlib import Path
from lakehouse.lake.lock import LakeBusyError, acquire
try:
    acquire(Path(sys.argv[1]), command="second")
except LakeBusyError as exc:
    print(exc)
    sys.exit(75)
"""


def test_the_lock_is_reentrant_in_a_process_and_refused_to_another(tmp_path):
    system = tmp_path / "lake" / "_system"
    held = lock.acquire(system, command="lakehouse workflow run")
    assert lock.acquire(system, command="again") is held
    holder = json.loads((system / lock.LOCK_FILE).read_text())
    assert holder["command"] == "lakehouse workflow run" and holder["pid"] > 0
    done = subprocess.run([sys.executable, "-c", TRY_LOCK, str(system)], capture_output=True, text=True)
    assert done.returncode == 75
    (line,) = done.stdout.splitlines()
    assert line.startswith(f"another run holds the lake {system.parent.resolve()} (pid ")
    assert "`lakehouse workflow run`, since " in line and "UTC" in line
    held.release()
    done = subprocess.run([sys.executable, "-c", TRY_LOCK, str(system)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    system = tmp_path / "lake" / "_system"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            TRY_LOCK + "\nimport time; print('held', flush=True); time.sleep(60)",
            str(system),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(lock.LakeBusyError):
        lock.acquire(system, command="me")
    holder.kill()
    holder.wait(10)
    lock.acquire(system, command="me").release()


def test_the_holder_is_described_with_its_age():
    started = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    holder = {"pid": 7, "host": "box", "command": "lakehouse demo", "started_at": started.isoformat()}
    text = lock.describe_holder(holder, now=started + timedelta(minutes=3, seconds=5))
    assert text == "pid 7 on box, `lakehouse demo`, since 2026-12-01 10:00:00 UTC, 3 min ago"


@pytest.mark.slow
def test_a_second_cli_run_on_a_held_lake_says_so_in_one_line(tmp_path):
    lake = tmp_path / "lake"
    held = lock.acquire(lake / "_system", command="lakehouse workflow run")
    try:
        for argv in (["workflow", "run"], ["run", "bronze_to_silver"], ["tables"]):
            started = time.monotonic()
            done = subprocess.run(
                [str(LAKEHOUSE), *argv, "--lake-root", str(lake)], capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 75, done.stderr
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1, done.stderr[:2000]
            assert "another run holds the lake" in lines[0] and "since" in lines[0]
            assert "Traceback" not in done.stdout + done.stderr
            assert time.monotonic() - started < 60  # no JVM was started
        assert not (lake / "_system" / "metastore").exists()
    finally:
        held.release()
