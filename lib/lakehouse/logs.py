"""Structured JSON logging: one object per line, queryable in CloudWatch Logs Insights.

Every line carries ``job`` and ``run_id``; extra fields go in with ``extra=``::

    log = logging.getLogger(__name__)
    log.info("batch written", extra={"table": "silver.events", "rows": 120})

Only counts, names and ids are logged, never record contents (no PII, no secrets).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object with the run's context fields."""

    def __init__(self, context: dict[str, str]):
        super().__init__()
        self.context = context

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **self.context,
        }
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}
        )
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            entry["error"] = f"{type(exc).__name__}: {exc}"[:4000]
        return json.dumps(entry, default=str)


def configure_logging(job: str, run_id: str, level: str = "INFO", stream=None) -> None:
    """Send the ``lakehouse`` loggers to stderr as JSON lines tagged with job and run id."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter({"job": job, "run_id": run_id}))
    logger = logging.getLogger("lakehouse")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
    for noisy in ("py4j", "py4j.clientserver", "py4j.java_gateway"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
