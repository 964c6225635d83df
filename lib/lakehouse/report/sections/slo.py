"""SLO status and error budgets, from ``gold.mart_slo_status``."""

from __future__ import annotations

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of


def build(ctx: ReportContext) -> Section | None:
    mart = ctx.layer("gold", "mart_slo_status")
    if mart is None:
        return None
    rows = rows_of(mart.orderBy("slo_id"))
    breached = [r["slo_id"] for r in rows if r["status"] != "ok"]
    return Section(
        key="slo",
        title="SLO status",
        summary=f"{len(rows)} SLOs, {len(breached)} in breach"
        + (f": {', '.join(breached)}." if breached else "."),
        status="fail" if breached else "ok",
        charts=[
            Chart(
                "Error budget left",
                charts.bar(
                    [{**r, "budget_left": r["error_budget_remaining"] or 0.0} for r in rows],
                    x="slo_id",
                    y="budget_left",
                    color="status",
                    color_domain=["ok", "breach"],
                    horizontal=True,
                    title="Error budget left over the window (share)",
                ),
            )
        ],
        tables=[
            Table(
                "SLOs",
                ["slo", "status", "current", "objective", "budget left", "window (days)", "description"],
                [
                    [
                        r["slo_id"],
                        r["status"],
                        r["current_value"],
                        r["objective"],
                        r["error_budget_remaining"],
                        r["window_days"],
                        r["description"],
                    ]
                    for r in rows
                ],
            )
        ],
    )
