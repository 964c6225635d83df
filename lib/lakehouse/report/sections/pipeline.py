"""Pipeline health: the latest run of each job and each workflow step, and runs over time."""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.sql.window import Window

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of


def build(ctx: ReportContext) -> Section | None:
    runs = ctx.system("run_log")
    if runs is None:
        return None
    runs = runs.withColumn(
        "seconds", F.unix_timestamp("ended_at") - F.unix_timestamp("started_at")
    ).withColumn("day", F.to_date("started_at"))
    latest_window = Window.partitionBy("job").orderBy(F.desc("started_at"))
    latest = rows_of(
        runs.withColumn("n", F.row_number().over(latest_window))
        .where("n = 1")
        .select("job", "status", "started_at", "seconds", "rows_in", "rows_out", "rows_quarantined", "error")
        .orderBy("job")
    )
    failing = [r["job"] for r in latest if r["status"] != "SUCCEEDED"]
    per_day = rows_of(
        runs.groupBy("day", "job", "status").agg(F.count("*").alias("runs")).orderBy("day", "job"), limit=2000
    )
    durations = rows_of(
        runs.groupBy("job").agg(F.round(F.avg("seconds"), 1).alias("mean_seconds")).orderBy("job")
    )
    tables = [
        Table(
            "Latest run of each job",
            ["job", "status", "started (UTC)", "seconds", "read", "written", "quarantined", "error"],
            [
                [
                    *(r[k] for k in ("job", "status", "started_at", "seconds", "rows_in", "rows_out")),
                    r["rows_quarantined"],
                    (r["error"] or "")[:160],
                ]
                for r in latest
            ],
        )
    ]
    steps = _workflow_steps(ctx)
    if steps:
        tables.append(
            Table("Last workflow run, step by step", ["step", "status", "seconds", "summary"], steps)
        )
    summary = (
        f"{len(failing)} job(s) whose latest run failed: {', '.join(failing)}."
        if failing
        else f"The latest run of each of the {len(latest)} job(s) succeeded."
    )
    return Section(
        key="pipeline",
        title="Pipeline health",
        summary=summary,
        status="fail" if failing else "ok",
        charts=[
            Chart(
                "Job runs per day",
                charts.bar(
                    per_day,
                    x="day",
                    y="runs",
                    color="status",
                    color_domain=["SUCCEEDED", "FAILED"],
                    title="Job runs per day by outcome",
                ),
            ),
            Chart(
                "Mean run time per job",
                charts.bar(durations, x="job", y="mean_seconds", title="Mean run time (s)", horizontal=True),
            ),
        ],
        tables=tables,
    )


def _workflow_steps(ctx: ReportContext) -> list[list]:
    runs = ctx.system("workflow_runs")
    if runs is None:
        return []
    first = runs.groupBy("workflow_run_id").agg(F.min("started_at").alias("t")).orderBy(F.desc("t")).limit(1)
    last = runs.join(first, "workflow_run_id").where("status != 'PENDING'")
    rows = rows_of(last.select("step", "status", "seconds", "summary", "seq").orderBy("seq"))
    return [[r["step"], r["status"], r["seconds"], r["summary"] or ""] for r in rows]
