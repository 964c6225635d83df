"""The report: built from _system and layer tables alone, opened in headless Chromium."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from browser import visit
from lakehouse.dq.engine import DQ_RESULTS_SCHEMA
from lakehouse.gold.experiments import HEALTH_SCHEMA, RESULT_COLUMNS, RESULTS_SCHEMA
from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths
from lakehouse.report import build_report
from lakehouse.runlog import RunRecord, write_run
from lakehouse.silver.tables import ACCOUNTING_SCHEMA

CHART_STATS = """
Array.from(document.querySelectorAll('figure.chart')).map(f => {
  const svg = f.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {id: f.id, width: box.width, height: box.height,
          marks: svg ? svg.querySelectorAll('path, rect, line, circle, symbol, text').length : 0};
})
"""
T0 = datetime(2026, 11, 24, 3, 30)


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> str:
    """A small lake: two days of runs (one failed), DQ outcomes, Silver events, quarantine."""
    root = str(tmp_path_factory.mktemp("report_lake"))
    paths = LakePaths(root)
    for day, (job, status) in enumerate([("bronze_to_silver", "SUCCEEDED"), ("silver_to_gold", "FAILED")]):
        start = T0 + timedelta(days=day)
        write_run(
            spark,
            root,
            RunRecord(
                f"r{day}",
                job,
                "local",
                {},
                start,
                start + timedelta(seconds=40),
                status,
                rows_in=100,
                rows_out=90,
                rows_quarantined=10,
                error=None if status == "SUCCEEDED" else "NotImplementedError: x",
            ),
        )
    dq = [
        (
            "r0",
            "bronze_to_silver",
            "silver.events",
            "events",
            f"rule {i}",
            sev,
            out,
            None if out == "Passed" else "too few",
            {},
            T0,
        )
        for i, (sev, out) in enumerate([("blocking", "Passed")] * 5 + [("warn", "Failed")])
    ]
    delta.append(spark.createDataFrame(dq, DQ_RESULTS_SCHEMA), paths.system("dq_results"))
    accounting = [("r0", ch, 0, 3, 50, 45, 2, 1, 2, T0, 3, 3, 0) for ch in ("collect", "webhooks/stripe")]
    delta.append(spark.createDataFrame(accounting, ACCOUNTING_SCHEMA), paths.system("ingest_batches"))
    events = [
        (f"e{i}", T0.date() - timedelta(days=i % 3), "client" if i % 2 else "stripe") for i in range(30)
    ]
    delta.append(
        spark.createDataFrame(events, "event_id STRING, event_date DATE, family STRING"),
        paths.silver("events"),
    )
    quarantine = [
        ("parse_error", "collect"),
        ("schema_violation", "collect"),
        ("parse_error", "webhooks/stripe"),
    ]
    delta.append(
        spark.createDataFrame(quarantine, "error_type STRING, channel STRING"), paths.quarantine("records")
    )
    gold = {
        "mart_active_users_daily": (
            [("all", T0.date() - timedelta(days=d), 10 + d, 20 + d, 40 + d) for d in range(5)],
            "platform STRING, date DATE, dau BIGINT, wau BIGINT, mau BIGINT",
        ),
        "mart_booking_funnel_daily": (
            [
                (T0.date(), "all", i, name, 100, 100 // (i + 1))
                for i, name in enumerate(["search", "lbg_created", "lbg_booked"])
            ],
            "entry_date DATE, platform STRING, step_index INT, step_name STRING, "
            "entrants BIGINT, reached BIGINT",
        ),
        "mart_cohort_retention": (
            [
                ("signup", T0.date() - timedelta(days=c), "week", n, 0.5 / (n + 1))
                for c in range(3)
                for n in range(3)
            ],
            "cohort_type STRING, cohort_date DATE, unit STRING, n INT, rate_on DOUBLE",
        ),
        "mart_bookings_daily": (
            [(T0.date(), cur, 3, 1, Decimal(12500), Decimal(9000)) for cur in ("EUR", "JPY")],
            "date DATE, currency STRING, n_booked BIGINT, n_cancelled BIGINT, net_gmv_minor DECIMAL(38,0), "
            "captured_minor DECIMAL(38,0)",
        ),
        "mart_slo_status": (
            [
                ("freshness_collect", "fresh", "breach", 3.0, 0.99, -0.2, 28),
                ("jobs_succeed", "ok", "ok", 1.0, 0.95, 0.8, 28),
            ],
            "slo_id STRING, description STRING, status STRING, current_value DOUBLE, objective DOUBLE, "
            "error_budget_remaining DOUBLE, window_days INT",
        ),
    }
    results = [
        {
            "experiment_key": "checkout_v2",
            "phase": 0,
            "as_of_date": day,
            "metric_key": metric,
            "role": role,
            "currency": "",
            "variation": "B",
            "units_control": 1000,
            "units": 1000,
            "lift": 0.031 * k if day == T0.date() else 0.9,
            "ci_low": 0.01 * k - 0.02,
            "ci_high": 0.05 * k,
            "p_value": 0.04,
            "p_value_adjusted": 0.04,
            "guardrail_status": "ok" if role == "guardrail" else None,
            "status": "invalid_srm",
            "decision": "stop",
        }
        for day in (T0.date() - timedelta(days=1), T0.date())
        for k, (metric, role) in enumerate([("conversion", "primary"), ("refund_rate", "guardrail")], start=1)
    ]
    gold["exp_results"] = ([tuple(r.get(c) for c in RESULT_COLUMNS) for r in results], RESULTS_SCHEMA)
    gold["exp_health"] = (
        [
            (
                "checkout_v2",
                0,
                v,
                n,
                0.5,
                n / 2000,
                n,
                0,
                0,
                0,
                0.0,
                3,
                0.0015,
                0.0004,
                0.001,
                "invalid_srm",
                T0,
            )
            for v, n in (("A", 1080), ("B", 920))
        ],
        HEALTH_SCHEMA,
    )
    gold["close_run"] = (
        [
            ("c1", T0.date(), 1, "published", 20, 0, 1, 2, 0, None),
            ("c2", T0.date() + timedelta(days=1), 1, "failed", 18, 2, 0, 3, 1, "R4 failed"),
        ],
        "close_run_id STRING, close_date DATE, run_seq INT, state STRING, checks_passed INT, "
        "checks_failed INT, "
        "checks_warned INT, exception_count INT, blocking_open INT, reason STRING",
    )
    gold["mart_daily_balance"] = (
        [(T0.date(), "EUR", Decimal(1000), Decimal(250), Decimal(-200), Decimal(0), Decimal(1050))],
        "close_date DATE, currency STRING, starting_balance_minor DECIMAL(38,0), "
        "activity_net_minor DECIMAL(38,0), payouts_minor DECIMAL(38,0), "
        "prior_period_adjustment_minor DECIMAL(38,0), ending_balance_minor DECIMAL(38,0)",
    )
    for table, (rows, schema) in gold.items():
        delta.append(spark.createDataFrame(rows, schema), paths.gold(table))
    return root


@pytest.fixture(scope="module")
def report(spark, lake) -> Path:
    return build_report(spark, lake)


def test_the_report_is_one_offline_file_with_every_section(report):
    assert report.name == "index.html" and report.parent.name == "report"
    text = report.read_text()
    sections = ("pipeline", "slo", "quality", "silver", "activity", "funnel", "retention", "bookings")
    for section in (*sections, "experiments", "finance"):
        assert f'<section id="{section}"' in text
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org", "")
    assert "https://" not in text
    assert 'data-status="fail"' in text  # silver_to_gold's latest run failed
    assert "1 job(s) whose latest run failed: silver_to_gold." in text
    assert "2 SLOs, 1 in breach: freshness_collect." in text
    assert "<td>EUR</td>" in text and '<td class="num">12,500</td>' in text  # minor units, exact
    assert "sample ratio mismatch in checkout_v2" in text
    assert "+6.20%" in text and "+90.00%" not in text  # the latest snapshot's lift only
    assert f"not published: {T0.date() + timedelta(days=1)}." in text
    assert '<td class="num">1,050</td>' in text  # the roll-forward's ending balance


def test_the_report_renders_in_chromium_without_errors_and_every_chart_drawn(report, tmp_path):
    shot = tmp_path / "report.png"
    page = visit(report.resolve().as_uri(), tmp_path / "profile", CHART_STATS, shot)
    assert page.console_errors == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in page.requests), page.requests
    charts = page.result
    assert len(charts) == 12, charts
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 50, chart
        assert chart["marks"] > 5, chart
    assert shot.stat().st_size > 20_000
