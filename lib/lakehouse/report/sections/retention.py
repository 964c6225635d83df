"""Cohort retention, from ``gold.mart_cohort_retention``: a cohort x period heatmap."""

from __future__ import annotations

from pyspark.sql import functions as F

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, rows_of


def build(ctx: ReportContext) -> Section | None:
    mart = ctx.layer("gold", "mart_cohort_retention")
    if mart is None:
        return None
    kinds = mart.groupBy("cohort_type", "unit").count().orderBy(F.desc("count")).limit(1).collect()
    if not kinds:
        return Section("retention", "Retention", "No cohorts yet.")
    cohort_type, unit = kinds[0]["cohort_type"], kinds[0]["unit"]
    cells = rows_of(
        mart.where((F.col("cohort_type") == cohort_type) & (F.col("unit") == unit))
        .select("cohort_date", "n", F.round(F.col("rate_on") * 100, 1).alias("retained_pct"))
        .orderBy("cohort_date", "n"),
        limit=5000,
    )
    return Section(
        key="retention",
        title="Retention",
        summary=f"Share of each {cohort_type} cohort active on {unit} n after joining.",
        charts=[
            Chart(
                "Retention heatmap",
                charts.heatmap(
                    cells, x="n", y="cohort_date", value="retained_pct", title=f"Retained % by {unit}"
                ),
            )
        ],
    )
