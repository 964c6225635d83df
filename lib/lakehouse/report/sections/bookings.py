"""Bookings and GMV per currency, from ``gold.mart_bookings_daily`` (integer minor units:
amounts are never converted or summed across currencies)."""

from __future__ import annotations

from pyspark.sql import functions as F

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of


def build(ctx: ReportContext) -> Section | None:
    mart = ctx.layer("gold", "mart_bookings_daily")
    if mart is None:
        return None
    daily = rows_of(mart.select("date", "currency", "n_booked").orderBy("date"), limit=5000)
    totals = rows_of(
        mart.groupBy("currency")
        .agg(
            F.sum("n_booked").alias("n_booked"),
            F.sum("n_cancelled").alias("n_cancelled"),
            F.sum("net_gmv_minor").alias("net_gmv_minor"),
            F.sum("captured_minor").alias("captured_minor"),
        )
        .orderBy("currency")
    )
    return Section(
        key="bookings",
        title="Bookings and GMV per currency",
        summary=f"{sum(t['n_booked'] or 0 for t in totals):,} bookings in {len(totals)} currencies.",
        charts=[
            Chart(
                "Bookings per day",
                charts.bar(
                    daily, x="date", y="n_booked", color="currency", title="Bookings per day and currency"
                ),
            )
        ],
        tables=[
            Table(
                "Totals per currency (amounts in minor units)",
                ["currency", "booked", "cancelled", "net GMV", "captured"],
                [
                    [t["currency"], t["n_booked"], t["n_cancelled"], t["net_gmv_minor"], t["captured_minor"]]
                    for t in totals
                ],
            )
        ],
    )
