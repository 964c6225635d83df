"""Logging for machines and for people.

Every log record becomes one JSON object per line, queryable in CloudWatch Logs Insights,
with the run's context (``job``, ``run_id``, ``workflow_run_id``) and any ``extra=`` fields::

    log = logging.getLogger(__name__)
    log.info("batch written", extra={"table": "silver.events", "rows": 120})

Where the JSON lines go:

- always to a file under ``<lake_root>/_system/logs/`` for a local lake (:func:`log_to_file`);
- to stdout with ``--log-format json`` and whenever the job runs under AWS Glue (stdout is
  Glue's output log group).

Otherwise the terminal gets the human view (:class:`HumanHandler`): one line per step with
its counts and elapsed time, a progress bar for long reads, warnings and failures in plain
words with the next step to take. Records reach it by their ``event`` field:
``event="step"`` (a finished step), ``event="progress"`` (``done``/``total``/``unit``),
``event="notice"`` (a line meant for a person); every WARNING or ERROR is shown too,
each distinct message once.

Only counts, names and ids are logged, never record contents (no PII, no secrets).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

LOG_FORMATS = ("human", "json")
# Fields of a warning or error record the human view adds to its message, when present.
HUMAN_DETAILS = ("table", "rule", "outcome", "path", "error")
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "lakehouse_log_context", default=None
)
_ROOT = "lakehouse"


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add fields (``job``, ``run_id``, ...) to every record logged inside the block."""
    token = _CONTEXT.set({**(_CONTEXT.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object with the run's context fields."""

    def __init__(self, context: dict[str, str] | None = None):
        super().__init__()
        self.context = context or {}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **self.context,
            **getattr(record, "_context", {}),
        }
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}
        )
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            entry["error"] = f"{type(exc).__name__}: {exc}"[:4000]
        return json.dumps(entry, default=str)


class _ContextFilter(logging.Filter):
    """Stamps the current :func:`log_context` on each record (read by the formatters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "_context"):
            record._context = dict(_CONTEXT.get() or {})
        return True


def _utf8(stream: IO[str]) -> bool:
    return "utf" in (getattr(stream, "encoding", "") or "").lower()


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


class HumanHandler(logging.Handler):
    """The terminal view for a person: step lines, a progress bar, warnings and failures."""

    BAR_WIDTH = 28

    def __init__(self, stream: IO[str] | None = None):
        super().__init__(logging.INFO)
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.fancy = _utf8(self.stream)
        self._bar_open = False
        self._said: set[str] = set()
        self._last_progress_line = 0.0

    # --------------------------------------------------------------- rendering
    def mark(self, status: str) -> str:
        marks = {"SUCCEEDED": ("✓", "ok"), "FAILED": ("✗", "FAILED"), "SKIPPED": ("\u2013", "skipped")}
        marks |= {"STOPPED": ("·", "not run"), "RESUMED": ("↺", "done")}
        fancy, plain = marks.get(status, ("·", status.lower()))
        return fancy if self.fancy else f"[{plain}]"

    def step_line(self, record: logging.LogRecord) -> str:
        name = str(getattr(record, "step", "?"))
        status = str(getattr(record, "status", ""))
        seconds = getattr(record, "seconds", None)
        summary = getattr(record, "summary", None) or record.getMessage()
        elapsed = f"{seconds:>7.1f} s" if isinstance(seconds, int | float) else ""
        return f"  {self.mark(status)} {name:<18} {summary:<54} {elapsed}".rstrip()

    def progress_line(self, record: logging.LogRecord) -> str:
        done, total = int(getattr(record, "done", 0)), getattr(record, "total", None)
        unit = getattr(record, "unit", "")
        task = getattr(record, "task", record.getMessage())
        if not total:
            return f"    {task}: {_count(done)} {unit}"
        share = min(done / total, 1.0)
        filled = int(share * self.BAR_WIDTH)
        full, empty = ("█", "░") if self.fancy else ("#", ".")
        bar = full * filled + empty * (self.BAR_WIDTH - filled)
        return f"    {task} [{bar}] {_count(done)}/{_count(int(total))} {unit} {share:>4.0%}"

    def _write(self, text: str, *, end: str = "\n") -> None:
        if self._bar_open:
            self.stream.write("\r\033[K" if self.tty else "\n")
            self._bar_open = False
        self.stream.write(text + end)
        self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event = getattr(record, "event", None)
            if event == "progress":
                self._progress(record)
            elif event == "step":
                self._write(self.step_line(record))
            elif event == "notice":
                self._write(record.getMessage())
            elif record.levelno >= logging.WARNING and not getattr(record, "human_silent", False):
                message = record.getMessage()
                details = [f"{k} {getattr(record, k)}" for k in HUMAN_DETAILS if getattr(record, k, None)]
                if details:
                    message = f"{message}: {', '.join(details)}"
                if message in self._said:
                    return
                self._said.add(message)
                word = "warning" if record.levelno == logging.WARNING else "error"
                self._write(f"    {word}: {message}")
        except Exception:  # noqa: BLE001 - logging must never break a run
            self.handleError(record)

    def _progress(self, record: logging.LogRecord) -> None:
        line = self.progress_line(record)
        done, total = getattr(record, "done", 0), getattr(record, "total", None)
        finished = bool(total) and done >= total
        if self.tty:
            if self._bar_open:
                self.stream.write("\r\033[K")
            self.stream.write(line)
            self._bar_open = True
            if finished:
                self.stream.write("\n")
                self._bar_open = False
            self.stream.flush()
            return
        # Not a terminal (a CI log, a pipe): a plain line now and then, and the last one.
        now = time.monotonic()
        if finished or now - self._last_progress_line >= 10:
            self._last_progress_line = now
            self._write(line)


def _lakehouse_logger() -> logging.Logger:
    return logging.getLogger(_ROOT)


def _install(handler: logging.Handler) -> logging.Handler:
    handler.addFilter(_ContextFilter())
    _lakehouse_logger().addHandler(handler)
    return handler


def configure(
    *, log_format: str = "human", level: str = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Set up the terminal once per process: the human view, or JSON lines on stdout.

    File handlers added by :func:`log_to_file` stay; any earlier terminal handler is replaced.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    logger = _lakehouse_logger()
    logger.handlers[:] = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
    logger.setLevel(level.upper())
    logger.propagate = False
    for noisy in ("py4j", "py4j.clientserver", "py4j.java_gateway"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if log_format == "human":
        return _install(HumanHandler(stream))
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    return _install(handler)


def human_view_active() -> bool:
    return any(isinstance(h, HumanHandler) for h in _lakehouse_logger().handlers)


def is_configured() -> bool:
    return any(not isinstance(h, logging.FileHandler) for h in _lakehouse_logger().handlers)


def log_file_path(lake_root: str, name: str, now: datetime | None = None) -> Path | None:
    """``<lake_root>/_system/logs/<YYYY-MM-DD>/<HHMMSS>-<name>.jsonl`` for a local lake; None on S3."""
    if "://" in lake_root and not lake_root.startswith("file://"):
        return None
    now = now or datetime.now(UTC)
    root = Path(lake_root.removeprefix("file://")).resolve()
    return root / "_system" / "logs" / f"{now:%Y-%m-%d}" / f"{now:%H%M%S}-{name}.jsonl"


def log_to_file(lake_root: str, name: str) -> Path | None:
    """Also write every record as a JSON line to a new file of this lake; returns its path.

    One file per process and lake: calling it again for the same lake returns the same file.
    """
    logger = _lakehouse_logger()
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler) and getattr(handler, "lake_root", None) == lake_root:
            return Path(handler.baseFilename)
    path = log_file_path(lake_root, name)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.lake_root = lake_root  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    _install(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.propagate = False
    return path


def current_log_file() -> Path | None:
    for handler in _lakehouse_logger().handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def configure_logging(job: str, run_id: str, level: str = "INFO", stream=None) -> None:
    """JSON lines tagged with job and run id to ``stream`` (stdout by default) and nothing else."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter({"job": job, "run_id": run_id}))
    logger = _lakehouse_logger()
    logger.handlers[:] = []
    _install(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    for noisy in ("py4j", "py4j.clientserver", "py4j.java_gateway"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
