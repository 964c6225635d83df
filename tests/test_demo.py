"""The demo end to end, small: days of Bronze, the workflow, a late hour, the incremental rerun."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lakehouse import demo
from lakehouse.runlog import read_runs

pytestmark = pytest.mark.slow


@pytest.mark.timeout(1500)
def test_the_demo_runs_the_workflow_twice_and_the_rerun_reads_only_the_late_hour(
    spark, tmp_path, monkeypatch
):
    lake = str(tmp_path / "lake")
    lines: list[str] = []
    reruns = []
    run_workflow = demo.run_workflow
    monkeypatch.setattr(
        demo, "run_workflow", lambda request: reruns.append(run_workflow(request)) or reruns[-1]
    )
    code = demo.run_demo(
        lake, events=600, days=1, report=lines.append, now=datetime(2026, 11, 25, 12, tzinfo=UTC)
    )
    first, rerun = reruns
    b2s = [next(s for s in o.steps if s.step == "bronze_to_silver") for o in (first, rerun)]
    assert [s.status for s in b2s] == ["SUCCEEDED", "SUCCEEDED"]
    s2g = [next(s for s in o.steps if s.step == "silver_to_gold") for o in (first, rerun)]
    assert [s.status for s in s2g] == ["SUCCEEDED", "SUCCEEDED"], [s.summary for s in s2g]
    channels = b2s[1].result.details["channels"]
    assert channels["webhooks/stripe"]["duplicates"] >= 1  # the redelivered webhook
    assert sum(c["records_read"] for c in channels.values()) < b2s[0].result.rows_in  # only the late hour
    assert sum(c["written"] for c in channels.values()) > 0
    runs = read_runs(spark, lake).where("job = 'bronze_to_silver'").collect()
    assert sorted(r.status for r in runs) == ["SUCCEEDED", "SUCCEEDED"]
    assert any(line.startswith("  late hour 2026-11-25 12:00 UTC") for line in lines)
    report = Path(lake) / "report" / "index.html"
    assert lines[-2 if code else -1].endswith(str(report)) and report.is_file()
    # The demo's exit code is the workflow's: a step that fails fails the demo.
    assert code == (0 if first.succeeded and rerun.succeeded else 1)
