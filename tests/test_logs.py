"""The terminal for people and the JSON lines for machines."""

from __future__ import annotations

import io
import json
import logging

import pytest
from lakehouse import logs

log = logging.getLogger("lakehouse.test")


class Pipe(io.StringIO):
    def __init__(self, encoding: str = "utf-8"):
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


class Terminal(Pipe):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    logger = logging.getLogger("lakehouse")
    for handler in logger.handlers:
        handler.close()
    logger.handlers.clear()
    logger.propagate = True


def test_the_human_view_shows_steps_warnings_and_failures_not_the_chatter(tmp_path):
    out = Pipe()
    logs.configure(log_format="human", stream=out)
    path = logs.log_to_file(str(tmp_path), "workflow")
    with logs.log_context(job="bronze_to_silver", run_id="r1"):
        log.info("batch processed", extra={"files": 3})
        log.warning("using the DEVELOPMENT PII key: hashes are not secret")
        log.warning("using the DEVELOPMENT PII key: hashes are not secret")
        log.info(
            "s",
            extra={"event": "step", "step": "bronze_to_silver", "status": "SUCCEEDED"}
            | {"seconds": 41.23, "summary": "19,573 read · 18,706 written"},
        )
        log.error("job failed", extra={"human_silent": True})
        log.error(
            "s",
            extra={
                "event": "step",
                "step": "silver_to_gold",
                "status": "FAILED",
                "seconds": 0.4,
                "summary": "silver_to_gold is not available in this build",
            },
        )
    lines = out.getvalue().splitlines()
    assert lines[0] == "    warning: using the DEVELOPMENT PII key: hashes are not secret"
    assert lines[1].startswith("  ✓ bronze_to_silver   19,573 read · 18,706 written")
    assert lines[1].endswith("41.2 s")
    assert lines[2].startswith("  ✗ silver_to_gold     silver_to_gold is not available in this build")
    assert len(lines) == 3
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["msg"] for r in records] == [
        "batch processed",
        *["using the DEVELOPMENT PII key: hashes are not secret"] * 2,
        "s",
        "job failed",
        "s",
    ]
    assert all(r["job"] == "bronze_to_silver" and r["run_id"] == "r1" for r in records)
    assert path.parent.parent == tmp_path / "_system" / "logs"


def test_on_a_terminal_the_progress_bar_redraws_in_place_and_ends_with_a_newline():
    term = Terminal()
    logs.configure(log_format="human", stream=term)
    for done in (0, 500, 1000):
        log.info(
            "bronze files",
            extra={"event": "progress", "task": "bronze files", "unit": "files", "done": done, "total": 1000},
        )
    log.info("next", extra={"event": "notice"})
    text = term.getvalue()
    assert text.count("\r\033[K") == 2  # two redraws of one line
    assert "bronze files [██████████████░░░░░░░░░░░░░░] 500/1,000 files  50%" in text
    assert text.endswith("1,000/1,000 files 100%\nnext\n")


def test_without_utf8_the_marks_are_plain_words():
    out = Pipe("ascii")
    logs.configure(log_format="human", stream=out)
    log.info("s", extra={"event": "step", "step": "finance_close", "status": "STOPPED", "summary": "not run"})
    assert out.getvalue().startswith("  [not run] finance_close")


def test_json_format_writes_every_record_to_stdout_with_its_context():
    out = io.StringIO()
    logs.configure(log_format="json", stream=out)
    with logs.log_context(workflow_run_id="w1"):
        log.info("batch processed", extra={"rows": 3})
    (record,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (record["msg"], record["rows"], record["workflow_run_id"]) == ("batch processed", 3, "w1")


def test_s3_lakes_get_no_local_log_file():
    assert logs.log_file_path("s3://bucket/lake", "x") is None
