"""One local run per lake: an exclusive lock file under ``<lake_root>/_system``.

A local lake's catalog is an embedded Derby database that only one process can open; a
second Spark session on the same lake fails deep inside Hive with tens of thousands of
lines of Java stack traces. The lock is taken before Spark starts, so a second run stops
at once with one line saying who holds the lake and since when. It is an ``flock`` on an
open file: the operating system releases it when the holding process ends, however it
ends, so a killed run never leaves a stale lock behind. Within one process it is
re-entrant (the workflow runner, then each job it runs).

Example::

    lock = acquire(Path(".lake/_system"), command="lakehouse workflow run")
    # ... later runs in other processes raise LakeBusyError until this process exits
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = "lakehouse.lock"


class LakeBusyError(RuntimeError):
    """Another process holds the lake; the message is one line a person can act on."""


@dataclass
class LakeLock:
    path: Path
    fd: int
    holder: dict

    def release(self) -> None:
        """Release the lock (processes release it anyway when they exit)."""
        _HELD.pop(str(self.path), None)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)


_HELD: dict[str, LakeLock] = {}


def _since(started_at: str, now: datetime) -> str:
    try:
        started = datetime.fromisoformat(started_at)
    except ValueError:
        return f"since {started_at}"
    minutes = int((now - started).total_seconds() // 60)
    ago = "less than a minute ago" if minutes < 1 else f"{minutes} min ago"
    return f"since {started:%Y-%m-%d %H:%M:%S} UTC, {ago}"


def describe_holder(holder: dict, now: datetime | None = None) -> str:
    """``pid 123 on host, `lakehouse workflow run`, since 2026-12-01 23:10:05 UTC, 2 min ago``."""
    now = now or datetime.now(UTC)
    parts = [f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"]
    if holder.get("command"):
        parts.append(f"`{holder['command']}`")
    parts.append(_since(str(holder.get("started_at", "?")), now))
    return ", ".join(parts)


def acquire(system_dir: Path, *, command: str) -> LakeLock:
    """Take the lake's lock for this process, or raise :class:`LakeBusyError` at once."""
    system_dir.mkdir(parents=True, exist_ok=True)
    path = (system_dir / LOCK_FILE).resolve()
    held = _HELD.get(str(path))
    if held is not None:
        return held
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            holder = {}
        os.close(fd)
        lake = system_dir.resolve().parent
        raise LakeBusyError(
            f"another run holds the lake {lake} ({describe_holder(holder)}); "
            "wait for it to finish, or stop that process, then run this again"
        ) from None
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode(), 0)
    lock = LakeLock(path=path, fd=fd, holder=holder)
    _HELD[str(path)] = lock
    return lock


def current_command() -> str:
    """The running program and its subcommand words (no option values, which may be paths or ids)."""
    import sys

    words = [Path(sys.argv[0]).name] if sys.argv and sys.argv[0] else ["python"]
    for arg in sys.argv[1:]:
        if arg.startswith("-"):
            break
        words.append(arg)
    return " ".join(words[:4])
