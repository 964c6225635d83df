"""Progress of a job's file stream, for the human view: ``bronze files [████░░] 412/1,000``.

A thread polls the running query's progress and counts the files each micro-batch read (a
whole-text file stream has one input row per file); the total is what the stream has left to
read when it starts: the Bronze files on disk less those its checkpoint already records.
Display only: nothing here feeds a table or a decision.

Example::

    with stream_progress(spark, "bronze_to_silver", lake_root):
        spec.run(spark, config)
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from lakehouse.lake.paths import LakePaths

log = logging.getLogger(__name__)


def _local(lake_root: str) -> Path | None:
    if "://" in lake_root and not lake_root.startswith("file://"):
        return None
    return Path(lake_root.removeprefix("file://"))


def bronze_files(lake_root: str) -> set[str]:
    """Every Bronze file of a local lake the file stream would read (``file:`` URIs)."""
    root = _local(lake_root)
    if root is None:
        return set()
    bronze = root / "bronze"
    patterns = ("collect/*/*/*/*/*", "eventbridge/*/*/*/*/*", "webhooks/*/*/*/*/*/*")
    found = set()
    for pattern in patterns:
        for path in bronze.glob(pattern):
            if path.is_file() and not path.name.startswith((".", "_")):
                found.add(path.resolve().as_uri())
    return found


def checkpointed_files(checkpoint: Path) -> set[str]:
    """Files a file-stream checkpoint records as read (its ``sources/0`` log, compacted or not)."""
    seen: set[str] = set()
    folder = checkpoint / "sources" / "0"
    if not folder.is_dir():
        return seen
    for entry in folder.iterdir():
        if entry.name.startswith(".") or not entry.is_file():
            continue
        for line in entry.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
            with contextlib.suppress(ValueError):
                path = json.loads(line).get("path", "")
                seen.add(path.replace("file:///", "file:/").replace("file:/", "file:///"))
    return seen


def pending_bronze_files(lake_root: str) -> int | None:
    """How many Bronze files the next bronze_to_silver run will read; None when unknown (S3)."""
    root = _local(lake_root)
    if root is None:
        return None
    checkpoint = Path(LakePaths(str(root)).checkpoint("bronze_to_silver", "bronze"))
    return len(bronze_files(lake_root) - checkpointed_files(checkpoint))


# The streaming jobs whose progress the human view shows, and how to size what is left.
STREAMS: dict[str, tuple[str, str, Callable[[str], int | None]]] = {
    "bronze_to_silver": ("bronze files", "files", pending_bronze_files),
}


class _Poller(threading.Thread):
    """Reads the named query's recent progress every ``interval`` seconds (Python to JVM calls
    only: no callback from the JVM, so nothing depends on Py4J's callback server)."""

    def __init__(self, spark, query_name: str, task: str, unit: str, total: int, interval: float = 1.0):
        super().__init__(name=f"progress-{query_name}", daemon=True)
        self.spark, self.query_name, self.task, self.unit, self.total = spark, query_name, task, unit, total
        self.interval, self.stopped = interval, threading.Event()
        self.done, self.seen_batches = 0, set()

    def _report(self) -> None:
        log.info(
            self.task,
            extra={"event": "progress", "task": self.task, "unit": self.unit}
            | {"done": min(self.done, self.total), "total": self.total},
        )

    def poll(self) -> None:
        for query in self.spark.streams.active:
            if query.name != self.query_name:
                continue
            for progress in query.recentProgress:
                batch = progress.get("batchId")
                if batch not in self.seen_batches:
                    self.seen_batches.add(batch)
                    self.done += int(progress.get("numInputRows") or 0)
                    self._report()

    def run(self) -> None:
        self._report()
        while not self.stopped.wait(self.interval):
            with contextlib.suppress(Exception):  # display only: never fail the job
                self.poll()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


@contextlib.contextmanager
def stream_progress(spark, job: str, lake_root: str) -> Iterator[None]:
    """Report the file progress of ``job``'s stream while the block runs (no-op for other jobs)."""
    if job not in STREAMS:
        yield
        return
    task, unit, sizer = STREAMS[job]
    try:
        total = sizer(lake_root)
    except OSError:
        total = None
    if not total:
        yield
        return
    poller = _Poller(spark, job, task, unit, total)
    poller.start()
    try:
        yield
    finally:
        poller.stop()
