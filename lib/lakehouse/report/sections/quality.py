"""Data-quality outcomes by table, from ``_system/dq_results``."""

from __future__ import annotations

from pyspark.sql import functions as F

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of


def build(ctx: ReportContext) -> Section | None:
    results = ctx.system("dq_results")
    if results is None:
        return None
    by_table = rows_of(
        results.groupBy("table_name", "outcome").agg(F.count("*").alias("rules")).orderBy("table_name"),
        limit=2000,
    )
    failed = results.where(F.col("outcome") != "Passed")
    recent_failures = rows_of(
        failed.select("evaluated_at", "table_name", "severity", "rule", "failure_reason")
        .orderBy(F.desc("evaluated_at"))
        .limit(25)
    )
    blocking = failed.where(F.col("severity") == "blocking").count()
    warned = failed.where(F.col("severity") == "warn").count()
    total = results.count()
    status = "fail" if blocking else "warn" if warned else "ok"
    summary = f"{total:,} rule evaluations: {blocking} blocking failure(s), {warned} warning(s)."
    tables = []
    if recent_failures:
        tables.append(
            Table(
                "Most recent rules that did not pass",
                ["evaluated (UTC)", "table", "severity", "rule", "reason"],
                [
                    [r["evaluated_at"], r["table_name"], r["severity"], r["rule"], r["failure_reason"] or ""]
                    for r in recent_failures
                ],
            )
        )
    return Section(
        key="quality",
        title="Data quality by table",
        summary=summary,
        status=status,
        charts=[
            Chart(
                "Rule outcomes by table",
                charts.bar(
                    by_table,
                    x="table_name",
                    y="rules",
                    color="outcome",
                    color_domain=["Passed", "Failed"],
                    horizontal=True,
                    title="Rule evaluations by table and outcome",
                ),
            )
        ],
        tables=tables,
    )
