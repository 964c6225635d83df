"""The booking funnel, from ``gold.mart_booking_funnel_daily``: persons reaching each step."""

from __future__ import annotations

from pyspark.sql import functions as F

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of
from lakehouse.report.sections.common import one_platform


def build(ctx: ReportContext) -> Section | None:
    mart = ctx.layer("gold", "mart_booking_funnel_daily")
    if mart is None:
        return None
    mart, platform = one_platform(mart)
    steps = rows_of(
        mart.groupBy("step_index", "step_name")
        .agg(F.sum("entrants").alias("entrants"), F.sum("reached").alias("reached"))
        .orderBy("step_index")
    )
    for step in steps:
        step["step"] = f"{step['step_index']}. {step['step_name']}"
    first = steps[0]["entrants"] if steps else 0
    last = steps[-1]["reached"] if steps else 0
    rate = f"{last / first:.1%}" if first else "n/a"
    return Section(
        key="funnel",
        title="Booking funnel",
        summary=f"{first:,} entrants, {last:,} reached the last step ({rate}) over every entry date"
        + (f", {platform}." if platform else "."),
        charts=[
            Chart("Funnel", charts.bar(steps, x="step", y="reached", title="Persons reaching each step"))
        ],
        tables=[
            Table(
                "Steps",
                ["step", "entrants", "reached", "of entrants"],
                [
                    [s["step"], s["entrants"], s["reached"], f"{s['reached'] / first:.1%}" if first else ""]
                    for s in steps
                ],
            )
        ],
    )
