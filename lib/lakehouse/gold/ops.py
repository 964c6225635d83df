"""Ops views, near real time: freshness per channel, quarantine rate, DQ outcomes, job runs
and the SLO status with its error budget. Small overwrite marts rebuilt on every run (the
run log moves each run); "now" is the run's ``as_of``.
"""

from __future__ import annotations

from datetime import timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.gold.ratios import ratio
from lakehouse.marts import BuildContext

EVENTS = "silver.events"
RUN_LOG = "_system.run_log"
DQ_RESULTS = "_system.dq_results"
ACCOUNTING = "_system.ingest_batches"
QUARANTINE = "quarantine.records"
FRESHNESS = "gold.mart_pipeline_freshness"
QUARANTINE_DAILY = "gold.mart_quarantine_daily"
DQ_DAILY = "gold.mart_dq_outcomes_daily"
JOB_RUNS = "gold.mart_job_runs"
ALL_REASONS = "*"


def _empty(ctx: BuildContext, schema: str) -> DataFrame:
    return ctx.spark.createDataFrame([], schema)


def pipeline_freshness(ctx: BuildContext) -> DataFrame:
    settings = ctx.spec.extra
    window_days = int(settings.get("window_days", 28))
    warn = F.lit(int(settings["warn_after_minutes"]) * 60)
    error = F.lit(int(settings["error_after_minutes"]) * 60)
    now = F.lit(ctx.as_of)
    since = F.lit(ctx.as_of - timedelta(days=window_days))
    lag = F.col("ingested_at").cast("long") - F.col("received_at").cast("long")
    events = ctx.input(EVENTS)
    per_channel = events.groupBy("channel").agg(
        F.max("occurred_at").alias("max_occurred_at"),
        F.max("received_at").alias("max_received_at"),
        F.max("ingested_at").alias("max_ingested_at"),
        F.count_if(F.col("received_at") >= since).alias("n_events_window"),
        F.count_if(
            (F.col("received_at") >= since) & (lag <= F.lit(int(settings["warn_after_minutes"]) * 60))
        ).alias("n_on_time_window"),
    )
    freshness = now.cast("long") - F.col("max_ingested_at").cast("long")
    return per_channel.select(
        "channel",
        "max_occurred_at",
        "max_received_at",
        "max_ingested_at",
        freshness.alias("freshness_s"),
        warn.cast("bigint").alias("warn_after_s"),
        error.cast("bigint").alias("error_after_s"),
        F.when(freshness > error, "error").when(freshness > warn, "warn").otherwise("ok").alias("status"),
        F.col("n_events_window").cast("bigint").alias("n_events_window"),
        F.col("n_on_time_window").cast("bigint").alias("n_on_time_window"),
        now.alias("evaluated_at"),
    )


def quarantine_daily(ctx: BuildContext) -> DataFrame:
    accounting = ctx.optional_input(ACCOUNTING)
    if accounting is None:
        return _empty(
            ctx, "date DATE, channel STRING, reason STRING, n_quarantined BIGINT, n_read BIGINT, rate DOUBLE"
        )
    read = accounting.groupBy(F.to_date("processed_at").alias("date"), "channel").agg(
        F.sum("records_read").alias("n_read"), F.sum("quarantined").alias("n_total_quarantined")
    )
    totals = read.select(
        "date",
        "channel",
        F.lit(ALL_REASONS).alias("reason"),
        F.col("n_total_quarantined").alias("n_quarantined"),
        "n_read",
    )
    quarantine = ctx.optional_input(QUARANTINE)
    parts = totals
    if quarantine is not None:
        by_reason = quarantine.groupBy(
            F.to_date("quarantined_at").alias("date"), "channel", F.col("error_type").alias("reason")
        ).agg(F.count(F.lit(1)).alias("n_quarantined"))
        by_reason = by_reason.join(read.select("date", "channel", "n_read"), ["date", "channel"], "left")
        parts = totals.unionByName(by_reason)
    return parts.select(
        "date",
        "channel",
        "reason",
        F.col("n_quarantined").cast("bigint").alias("n_quarantined"),
        F.coalesce("n_read", F.lit(0)).cast("bigint").alias("n_read"),
        ratio(F.col("n_quarantined"), F.col("n_read")).alias("rate"),
    )


def dq_outcomes_daily(ctx: BuildContext) -> DataFrame:
    results = ctx.optional_input(DQ_RESULTS)
    if results is None:  # a lake where no rule was evaluated yet
        return _empty(
            ctx,
            "date DATE, job STRING, table_name STRING, severity STRING, n_evaluated BIGINT, "
            "n_passed BIGINT, n_failed BIGINT",
        )
    return results.groupBy(F.to_date("evaluated_at").alias("date"), "job", "table_name", "severity").agg(
        F.count(F.lit(1)).cast("bigint").alias("n_evaluated"),
        F.count_if(F.col("outcome") == "Passed").cast("bigint").alias("n_passed"),
        F.count_if(F.col("outcome") != "Passed").cast("bigint").alias("n_failed"),
    )


def job_runs(ctx: BuildContext) -> DataFrame:
    runs = ctx.optional_input(RUN_LOG)
    if runs is None:  # the first run of a lake
        return _empty(
            ctx,
            "run_id STRING, job STRING, status STRING, run_date DATE, started_at TIMESTAMP, "
            "ended_at TIMESTAMP, duration_s BIGINT, rows_in BIGINT, rows_out BIGINT, "
            "rows_quarantined BIGINT, error STRING",
        )
    return runs.select(
        "run_id",
        "job",
        "status",
        F.to_date("started_at").alias("run_date"),
        "started_at",
        "ended_at",
        (F.col("ended_at").cast("long") - F.col("started_at").cast("long")).alias("duration_s"),
        "rows_in",
        "rows_out",
        "rows_quarantined",
        "error",
    )


def _budget(good: F.Column, total: F.Column, objective: float) -> tuple[F.Column, F.Column]:
    current = ratio(good, total)
    allowed = F.lit(1.0 - objective) * total
    remaining = F.when(total > 0, F.lit(1.0) - ratio(total - good, allowed)).otherwise(F.lit(1.0))
    return current, remaining


def slo_status(ctx: BuildContext) -> DataFrame:
    window_days = int(ctx.spec.extra.get("window_days", 28))
    since = (ctx.as_of - timedelta(days=window_days)).date()
    rows: list[DataFrame] = []
    for slo in ctx.spec.extra["slos"]:
        kind, objective = slo["kind"], float(slo["objective"])
        if kind == "freshness":
            fresh = ctx.optional_input(FRESHNESS)
            if fresh is None:
                continue
            base = fresh.select(
                F.concat(F.lit(f"{slo['id']}_"), F.regexp_replace("channel", "[^A-Za-z0-9]+", "_")).alias(
                    "slo_id"
                ),
                F.concat(F.lit(slo["description"] + " Channel "), F.col("channel"), F.lit(".")).alias(
                    "description"
                ),
                F.col("n_on_time_window").alias("good"),
                F.col("n_events_window").alias("total"),
                (F.col("status") == "error").alias("stale_now"),
            )
        else:
            if kind == "quarantine_rate":
                src = ctx.optional_input(QUARANTINE_DAILY)
                src = (
                    None
                    if src is None
                    else src.where((F.col("reason") == ALL_REASONS) & (F.col("date") >= F.lit(since)))
                )
                agg = (F.sum(F.col("n_read") - F.col("n_quarantined")), F.sum("n_read"))
            elif kind == "dq_blocking":
                src = ctx.optional_input(DQ_DAILY)
                src = (
                    None
                    if src is None
                    else src.where((F.col("severity") == "blocking") & (F.col("date") >= F.lit(since)))
                )
                agg = (F.sum("n_passed"), F.sum("n_evaluated"))
            elif kind == "job_success":
                src = ctx.optional_input(JOB_RUNS)
                src = (
                    None
                    if src is None
                    else src.where((F.col("job") == slo["job"]) & (F.col("run_date") >= F.lit(since)))
                )
                agg = (F.count_if(F.col("status") == "SUCCEEDED"), F.count(F.lit(1)))
            else:
                raise ValueError(f"SLO {slo['id']}: unknown kind {kind!r}")
            if src is None:
                continue
            base = src.agg(agg[0].alias("good"), agg[1].alias("total")).select(
                F.lit(slo["id"]).alias("slo_id"),
                F.lit(slo["description"]).alias("description"),
                F.coalesce("good", F.lit(0)).alias("good"),
                F.coalesce("total", F.lit(0)).alias("total"),
                F.lit(False).alias("stale_now"),
            )
        current, remaining = _budget(F.col("good").cast("double"), F.col("total").cast("double"), objective)
        rows.append(
            base.select(
                "slo_id",
                F.lit(kind).alias("kind"),
                "description",
                F.when(F.col("stale_now") | (current < F.lit(objective)), "breach")
                .otherwise("ok")
                .alias("status"),
                current.alias("current_value"),
                F.lit(objective).alias("objective"),
                remaining.alias("error_budget_remaining"),
                F.lit(window_days).alias("window_days"),
                F.col("good").cast("bigint").alias("n_good"),
                F.col("total").cast("bigint").alias("n_total"),
                F.lit(ctx.as_of).alias("evaluated_at"),
            )
        )
    if not rows:
        return _empty(
            ctx,
            "slo_id STRING, kind STRING, description STRING, status STRING, current_value DOUBLE, "
            "objective DOUBLE, error_budget_remaining DOUBLE, window_days INT, n_good BIGINT, "
            "n_total BIGINT, evaluated_at TIMESTAMP",
        )
    out = rows[0]
    for r in rows[1:]:
        out = out.unionByName(r)
    return out


def _arrivals(ctx: BuildContext) -> DataFrame:
    """Silver events with their UTC arrival date and hour (Bronze receipt)."""
    return ctx.window(EVENTS).withColumns(
        {
            "date": F.to_date("received_at"),
            "arrival_hour": F.date_trunc("hour", "received_at"),
        }
    )


def ingest_lag_hourly(ctx: BuildContext) -> DataFrame:
    """Exact lag percentiles per arrival hour and channel, in seconds.

    Ingest lag is receipt to Silver (``received_at`` -> ``ingested_at``); delivery lag is the
    event to its receipt (``event_at``, clock-skew corrected, -> ``received_at``).
    """
    events = _arrivals(ctx).where(ctx.target("date"))
    ingest = F.col("ingested_at").cast("long") - F.col("received_at").cast("long")
    delivery = F.col("received_at").cast("long") - F.col("event_at").cast("long")
    return events.groupBy("date", "arrival_hour", "channel").agg(
        F.count(F.lit(1)).alias("n_events"),
        F.percentile(ingest, 0.5).alias("ingest_lag_p50_s"),
        F.percentile(ingest, 0.95).alias("ingest_lag_p95_s"),
        F.percentile(ingest, 0.99).alias("ingest_lag_p99_s"),
        F.max(ingest).alias("ingest_lag_max_s"),
        F.percentile(delivery, 0.5).alias("delivery_lag_p50_s"),
        F.percentile(delivery, 0.95).alias("delivery_lag_p95_s"),
        F.percentile(delivery, 0.99).alias("delivery_lag_p99_s"),
    )


def volume_anomalies_hourly(ctx: BuildContext) -> DataFrame:
    """Events per channel and arrival hour against the same hour of the previous days.

    Hours without events count as zero (a channel that goes quiet is the anomaly to catch),
    from the channel's first arrival on and up to the run's as-of hour. The score is
    ``(n - mean) / max(stddev, sqrt(mean), 1)`` over the baseline days, so a count that is
    usually small is not flagged for ordinary noise; an hour is flagged when at least
    ``min_baseline_days`` days are behind it and ``|score| >= z_threshold``.
    """
    settings = ctx.spec.extra
    baseline_days = int(settings["baseline_days"])
    min_days = int(settings["min_baseline_days"])
    threshold = float(settings["z_threshold"])
    arrivals = _arrivals(ctx)
    counts = arrivals.groupBy("channel", "arrival_hour").agg(F.count(F.lit(1)).alias("n_events"))
    first = (
        ctx.input(EVENTS).groupBy("channel").agg(F.date_trunc("hour", F.min("received_at")).alias("first"))
    )
    last = F.lit(ctx.as_of).cast("timestamp")
    bounds = arrivals.agg(F.to_date(F.min("arrival_hour")).alias("lo"), F.max("arrival_hour").alias("hi"))
    spine = first.crossJoin(bounds).select(
        "channel",
        F.explode(
            F.sequence(
                F.greatest(F.col("first"), F.col("lo").cast("timestamp")),
                F.least(
                    F.date_trunc("hour", last), F.date_trunc("day", F.col("hi")) + F.expr("INTERVAL 23 HOURS")
                ),
                F.expr("INTERVAL 1 HOUR"),
            )
        ).alias("arrival_hour"),
    )
    hours = spine.join(counts, ["channel", "arrival_hour"], "left").fillna(0, ["n_events"])
    hours = hours.withColumns({"date": F.to_date("arrival_hour"), "hour_of_day": F.hour("arrival_hour")})
    same_hour = (
        Window.partitionBy("channel", "hour_of_day").orderBy("arrival_hour").rowsBetween(-baseline_days, -1)
    )
    n = F.col("n_events")
    scored = hours.withColumns(
        {
            "baseline_days": F.count(n).over(same_hour),
            "baseline_mean": F.avg(n).over(same_hour),
            "baseline_stddev": F.stddev_pop(n).over(same_hour),
        }
    )
    scale = F.greatest(F.col("baseline_stddev"), F.sqrt("baseline_mean"), F.lit(1.0))
    score = F.when(F.col("baseline_days") > 0, (n - F.col("baseline_mean")) / scale)
    return scored.where(ctx.target("date")).select(
        "date",
        "arrival_hour",
        "channel",
        n.cast("bigint").alias("n_events"),
        F.col("baseline_days").cast("bigint").alias("baseline_days"),
        "baseline_mean",
        "baseline_stddev",
        score.alias("score"),
        ((F.col("baseline_days") >= min_days) & (F.abs(score) >= threshold)).alias("is_anomaly"),
    )
