"""Silver volumes and the quarantine: events per day and family, accounting per channel,
quarantined records by reason."""

from __future__ import annotations

from pyspark.sql import functions as F

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of


def build(ctx: ReportContext) -> Section | None:
    events = ctx.layer("silver", "events")
    accounting = ctx.system("ingest_batches")
    if events is None and accounting is None:
        return None
    chart_list, tables, notes = [], [], []
    if events is not None:
        per_day = rows_of(
            events.groupBy("event_date", "family").agg(F.count("*").alias("events")).orderBy("event_date"),
            limit=5000,
        )
        chart_list.append(
            Chart(
                "Events per day",
                charts.bar(
                    per_day,
                    x="event_date",
                    y="events",
                    color="family",
                    title="Silver events per day and family",
                ),
            )
        )
    totals: dict = {}
    if accounting is not None:
        per_channel = rows_of(
            accounting.groupBy("channel")
            .agg(
                *(
                    F.sum(c).alias(c)
                    for c in ("files", "records_read", "written", "duplicates", "conflicts", "quarantined")
                )
            )
            .orderBy("channel")
        )
        for key in ("records_read", "written", "duplicates", "conflicts", "quarantined"):
            totals[key] = sum(r[key] or 0 for r in per_channel)
        tables.append(
            Table(
                "Every Bronze record accounted for, per channel",
                ["channel", "files", "read", "written", "duplicates", "conflicts", "quarantined"],
                [
                    [
                        r["channel"],
                        r["files"],
                        r["records_read"],
                        r["written"],
                        r["duplicates"],
                        r["conflicts"],
                        r["quarantined"],
                    ]
                    for r in per_channel
                ],
            )
        )
    quarantine = ctx.quarantine("records")
    if quarantine is not None and quarantine.limit(1).count():
        reasons = rows_of(
            quarantine.groupBy("error_type", "channel")
            .agg(F.count("*").alias("records"))
            .orderBy("error_type")
        )
        chart_list.append(
            Chart(
                "Quarantine by reason",
                charts.bar(
                    reasons,
                    x="error_type",
                    y="records",
                    color="channel",
                    horizontal=True,
                    title="Quarantined records by reason and channel",
                ),
            )
        )
    else:
        notes.append("Nothing is in quarantine.")
    read = totals.get("records_read", 0)
    share = totals.get("quarantined", 0) / read if read else 0.0
    t = {k: f"{totals.get(k, 0):,}" for k in ("written", "duplicates", "conflicts", "quarantined")}
    summary = (
        f"{read:,} Bronze records read: {t['written']} written, {t['duplicates']} duplicates, "
        f"{t['conflicts']} conflicts, {t['quarantined']} quarantined ({share:.1%})."
        if accounting is not None
        else "No ingest accounting yet."
    )
    return Section(
        key="silver",
        title="Silver volumes and quarantine",
        summary=summary,
        status="warn" if share > 0.05 else "ok",
        charts=chart_list,
        tables=tables,
        notes=notes,
    )
