"""The finance close per day, from ``gold.close_run``, ``gold.mart_recon_summary``,
``gold.recon_exception`` and ``gold.mart_daily_balance``: checks, differences, exceptions and
the balance roll-forward (integer minor units per currency, never converted)."""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.sql.window import Window

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of


def _published(ctx: ReportContext, mart: str):
    """The mart's rows of published close versions only (None when the mart does not exist);
    rows without a close run (written by another tool) are shown as they are."""
    rows = ctx.layer("gold", mart)
    runs = ctx.system("close_runs")
    if rows is None or runs is None or "close_run_id" not in rows.columns:
        return rows
    from lakehouse.finance.state import published_close_runs

    return rows.join(
        published_close_runs(ctx.spark, ctx.paths).select("close_run_id"), "close_run_id", "left_semi"
    )


def build(ctx: ReportContext) -> Section | None:
    runs = ctx.layer("gold", "close_run")
    if runs is None:
        return None
    latest = runs.withColumn(
        "_n", F.row_number().over(Window.partitionBy("close_date").orderBy(F.desc("run_seq")))
    ).where("_n = 1")
    closes = rows_of(latest.orderBy("close_date"), limit=400)
    checks = [
        {"close_date": c["close_date"], "outcome": outcome, "checks": c.get(f"checks_{key}") or 0}
        for c in closes
        for outcome, key in (("Passed", "passed"), ("warn", "warned"), ("Failed", "failed"))
    ]
    unpublished = [c["close_date"] for c in closes if (c.get("state") or "").lower() != "published"]
    tables = [
        Table(
            "Close per day (latest run)",
            ["close date", "state", "passed", "failed", "warned", "exceptions", "open blocking", "reason"],
            [
                [
                    c["close_date"],
                    c.get("state"),
                    c.get("checks_passed"),
                    c.get("checks_failed"),
                    c.get("checks_warned"),
                    c.get("exception_count"),
                    c.get("blocking_open"),
                    c.get("reason") or "",
                ]
                for c in closes
            ],
        )
    ]
    summary_table = _published(ctx, "mart_recon_summary")
    if summary_table is not None:
        diffs = rows_of(
            summary_table.where(F.col("abs_diff_minor") != 0)
            .select("close_date", "check_id", "currency", "exception_count", "diff_minor", "status")
            .orderBy(F.desc("close_date"), "check_id"),
            limit=50,
        )
        if diffs:
            tables.append(
                Table(
                    "Checks with differences (minor units)",
                    ["close date", "check", "currency", "exceptions", "difference", "status"],
                    [
                        [
                            d[k]
                            for k in (
                                "close_date",
                                "check_id",
                                "currency",
                                "exception_count",
                                "diff_minor",
                                "status",
                            )
                        ]
                        for d in diffs
                    ],
                )
            )
    exceptions = _published(ctx, "recon_exception")
    if exceptions is not None:
        open_rows = rows_of(
            exceptions.where(F.col("status") != "resolved")
            .select(
                "close_date",
                "check_id",
                "severity",
                "entity_type",
                "entity_id",
                "currency",
                "diff_minor",
                "detail",
            )
            .orderBy(F.desc("close_date")),
            limit=50,
        )
        if open_rows:
            tables.append(
                Table(
                    "Open exceptions",
                    ["close date", "check", "severity", "entity", "id", "currency", "difference", "detail"],
                    [list(r.values()) for r in open_rows],
                )
            )
    balance = _published(ctx, "mart_daily_balance")
    if balance is not None:
        cols = ("close_date", "currency", "starting_balance_minor", "activity_net_minor", "payouts_minor")
        cols += ("prior_period_adjustment_minor", "ending_balance_minor")
        roll = rows_of(balance.select(*cols).orderBy(F.desc("close_date"), "currency"), limit=60)
        tables.append(
            Table(
                "Balance roll-forward (minor units): start + activity + payouts + adjustments = end",
                ["close date", "currency", "start", "activity (net)", "payouts", "adjustments", "end"],
                [[r[c] for c in cols] for r in roll],
            )
        )
    return Section(
        key="finance",
        title="Finance close",
        summary=f"{len(closes)} close day(s); "
        + (
            f"not published: {', '.join(map(str, unpublished))}."
            if unpublished
            else "every close is published."
        ),
        status="fail" if unpublished else "ok",
        charts=[
            Chart(
                "Checks per close day",
                charts.bar(
                    checks,
                    x="close_date",
                    y="checks",
                    color="outcome",
                    color_domain=["Passed", "warn", "Failed"],
                    title="Close checks per day by outcome",
                ),
            )
        ]
        if checks
        else [],
        tables=tables,
    )
