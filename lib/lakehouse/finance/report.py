"""The one-file offline HTML report of one close attempt, for finance: its state and
watermarks, every check with its exact difference, the exceptions, and revenue per currency
(each currency in its own minor units, never converted).

Written to ``<lake_root>/report/close/<close_date>.html`` after every attempt, failed or
published; the same page renderer as the lake's report (charts as inline SVG, no script,
no network).

Example::

    path = write_close_report(spark, paths, attempt_id)   # .lake/report/close/2026-11-01.html
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.finance import state as S
from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths
from lakehouse.report import charts
from lakehouse.report.build import render_page
from lakehouse.report.model import Chart, Section, Table, rows_of

STATUS_ORDER = ["passed", "explained", "warn", "failed"]


def close_report_path(paths: LakePaths, close_date) -> Path:
    return Path(paths.root.removeprefix("file://")) / "report" / "close" / f"{close_date}.html"


def close_sections(spark: SparkSession, paths: LakePaths, attempt: dict) -> list[Section]:
    """The sections of one attempt's report."""
    state = attempt["state"]
    status = {"published": "ok", "failed": "fail"}.get(state, "warn")
    head = Section(
        key="close",
        title=f"Close of {attempt['close_date']} ({attempt['close_run_id']}): {state}",
        summary=(
            f"Business day {attempt['cutoff_utc_start']:%Y-%m-%d %H:%M} .. "
            f"{attempt['cutoff_utc_end']:%Y-%m-%d %H:%M} UTC ({attempt['business_tz']}); "
            f"ledger export {attempt.get('ledger_export_id') or '-'} "
            f"taken {attempt.get('ledger_snapshot_time') or '-'}; "
            f"latest Stripe event {attempt.get('stripe_max_event_at') or '-'}."
            + (
                f" Not published: {attempt['reason']}."
                if attempt.get("reason") and state != "published"
                else ""
            )
        ),
        status=status,
    )
    sections = [head]
    checks = S.attempt_rows(spark, paths, S.CLOSE_CHECKS, attempt["attempt_id"])
    if checks is not None:
        cols = ["check_id", "severity", "currency", "finance_category", "ledger_total_minor"]
        cols += ["processor_total_minor", "diff_minor", "matched_count", "exception_count", "status"]
        rows = rows_of(
            checks.select(*cols).orderBy(F.expr("int(substr(check_id, 2))"), "currency"), limit=400
        )
        by_status = rows_of(
            checks.groupBy("check_id", "status").agg(F.count("*").alias("rows")).orderBy("check_id")
        )
        sections.append(
            Section(
                key="checks",
                title="Checks (integer minor units per currency, zero tolerance)",
                summary=f"{sum(r['status'] == 'failed' for r in rows)} failed of {len(rows)} check rows.",
                status="fail" if any(r["status"] == "failed" for r in rows) else "ok",
                charts=[
                    Chart(
                        "Check rows by outcome",
                        charts.bar(
                            by_status,
                            x="check_id",
                            y="rows",
                            color="status",
                            color_domain=STATUS_ORDER,
                            title="Check rows by outcome",
                        ),
                    )
                ],
                tables=[
                    Table(
                        "Every check",
                        [c.replace("_", " ") for c in cols],
                        [[r[c] for c in cols] for r in rows],
                    )
                ],
            )
        )
    exceptions = S.attempt_rows(spark, paths, S.CLOSE_EXCEPTIONS, attempt["attempt_id"])
    if exceptions is not None:
        cols = ["check_id", "severity", "status", "entity_type", "entity_id", "currency"]
        cols += ["expected_minor", "actual_minor", "diff_minor", "detail", "resolution", "resolved_by"]
        rows = rows_of(exceptions.select(*cols).orderBy("status", "check_id", "entity_id"), limit=300)
        open_blocking = sum(r["status"] == "open" and r["severity"] == "blocking" for r in rows)
        sections.append(
            Section(
                key="exceptions",
                title="Exceptions",
                summary=f"{len(rows)} exception(s), {open_blocking} open and blocking.",
                status="fail" if open_blocking else "ok",
                tables=[
                    Table(
                        "Exceptions",
                        [c.replace("_", " ") for c in cols],
                        [[r[c] for c in cols] for r in rows],
                    )
                ],
            )
        )
    revenue_path = paths.gold("mart_revenue_daily")
    if state == "published" and delta.table_exists(spark, revenue_path):
        revenue = (
            spark.read.format("delta")
            .load(revenue_path)
            .where(F.col("close_run_id") == attempt["close_run_id"])
        )
        rows = rows_of(revenue.orderBy("currency", "product_line"))
        sections.append(
            Section(
                key="revenue",
                title="Revenue by currency (ledger)",
                summary="Gross sales, refunds and tax per product line, in minor units of each currency.",
                charts=[
                    Chart(
                        f"Gross sales, {currency} (minor units)",
                        charts.bar(
                            [r for r in rows if r["currency"] == currency],
                            x="product_line",
                            y="gross_sales_minor",
                            title=f"Gross sales, {currency} (minor units)",
                        ),
                    )
                    for currency in sorted({r["currency"] for r in rows})
                ],
                tables=[
                    Table(
                        "Revenue",
                        ["currency", "product line", "gross sales", "refunds", "tax", "net revenue"],
                        [
                            [
                                r["currency"],
                                r["product_line"],
                                r["gross_sales_minor"],
                                r["refunds_minor"],
                                r["tax_collected_minor"],
                                r["net_revenue_minor"],
                            ]
                            for r in rows
                        ],
                    )
                ],
            )
        )
    return sections


def write_close_report(spark: SparkSession, paths: LakePaths, attempt_id: str) -> Path:
    """Write the report of one attempt; its path."""
    (attempt,) = [
        r.asDict() for r in S.close_run_view(spark, paths).where(F.col("attempt_id") == attempt_id).collect()
    ]
    target = close_report_path(paths, attempt["close_date"])
    target.parent.mkdir(parents=True, exist_ok=True)
    sections = close_sections(spark, paths, attempt)
    page = render_page(paths.root, sections, [], datetime.now(UTC), title=f"Close {attempt['close_date']}")
    target.write_text(page, encoding="utf-8")
    return target
