"""Active users: DAU, WAU and MAU over time, from ``gold.mart_active_users_daily``."""

from __future__ import annotations

from pyspark.sql import functions as F

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, rows_of
from lakehouse.report.sections.common import one_platform


def build(ctx: ReportContext) -> Section | None:
    mart = ctx.layer("gold", "mart_active_users_daily")
    if mart is None:
        return None
    mart, platform = one_platform(mart)
    long = mart.select(
        "date",
        F.explode(
            F.map_from_arrays(F.array(*map(F.lit, ("DAU", "WAU", "MAU"))), F.array("dau", "wau", "mau"))
        ),
    ).toDF("date", "metric", "persons")
    rows = rows_of(long.orderBy("date"), limit=3000)
    latest = rows_of(mart.orderBy(F.desc("date")).limit(1))
    summary = "No activity yet."
    if latest:
        r = latest[0]
        summary = (
            f"On {r['date']}: {r['dau']:,} daily, {r['wau']:,} weekly, {r['mau']:,} monthly active persons"
        )
        summary += f" ({platform})." if platform else "."
    return Section(
        key="activity",
        title="Active users",
        summary=summary,
        charts=[
            Chart(
                "DAU, WAU, MAU",
                charts.line(rows, x="date", y="persons", color="metric", title="Active persons"),
            )
        ],
    )
