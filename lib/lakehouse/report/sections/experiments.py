"""Experiments, from ``gold.exp_results`` and ``gold.exp_health_daily``: each metric's lift with
its confidence interval, the sample-ratio check and the guardrail verdicts, as of the latest date."""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.sql.window import Window

from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of


def _latest(df, *keys: str):
    window = Window.partitionBy(*keys).orderBy(F.desc("as_of_date"))
    return df.withColumn("_n", F.dense_rank().over(window)).where("_n = 1").drop("_n")


def build(ctx: ReportContext) -> Section | None:
    results = ctx.layer("gold", "exp_results")
    if results is None:
        return None
    latest = rows_of(
        _latest(results, "experiment_key", "phase").orderBy("experiment_key", "metric_role", "metric_key"),
        limit=400,
    )
    lifts = [
        {
            "metric": f"{r['experiment_key']} · {r['metric_key']} · {r['variation']}",
            "lift_pct": round(100 * r["effect_rel"], 2),
            "low_pct": round(100 * r["ci_low_rel"], 2),
            "high_pct": round(100 * r["ci_high_rel"], 2),
            "role": r["metric_role"],
        }
        for r in latest
        if r.get("effect_rel") is not None
        and r.get("ci_low_rel") is not None
        and r.get("ci_high_rel") is not None
    ]
    health = ctx.layer("gold", "exp_health_daily")
    health_rows = (
        rows_of(_latest(health, "experiment_key", "phase").orderBy("experiment_key"))
        if health is not None
        else []
    )
    srm_failed = [h["experiment_key"] for h in health_rows if h.get("invalid_srm")]
    guardrail_breaches = sorted(
        {
            r["experiment_key"]
            for r in latest
            if (r.get("guardrail_verdict") or "").lower() in ("fail", "breach")
        }
    )
    experiments = sorted({r["experiment_key"] for r in latest})
    summary = f"{len(experiments)} experiment(s)"
    summary += (
        f"; sample ratio mismatch in {', '.join(srm_failed)}" if srm_failed else "; no sample ratio mismatch"
    )
    summary += (
        f"; guardrail breached in {', '.join(guardrail_breaches)}."
        if guardrail_breaches
        else "; guardrails hold."
    )
    tables = [
        Table(
            "Latest results per metric",
            ["experiment", "metric", "role", "variation", "lift", "95% CI", "p", "guardrail", "decision"],
            [
                [
                    r["experiment_key"],
                    r["metric_key"],
                    r["metric_role"],
                    r["variation"],
                    _pct(r.get("effect_rel")),
                    f"{_pct(r.get('ci_low_rel'))} .. {_pct(r.get('ci_high_rel'))}",
                    r.get("p_value"),
                    r.get("guardrail_verdict") or "",
                    r.get("decision") or "",
                ]
                for r in latest
            ],
        )
    ]
    if health_rows:
        tables.append(
            Table(
                "Health (sample ratio, exposures)",
                ["experiment", "as of", "units", "SRM p", "SRM", "status", "decision"],
                [
                    [
                        h["experiment_key"],
                        h["as_of_date"],
                        h.get("units_total"),
                        h.get("srm_p"),
                        "mismatch" if h.get("invalid_srm") else "ok",
                        h.get("status") or "",
                        h.get("decision") or "",
                    ]
                    for h in health_rows
                ],
            )
        )
    chart_list = []
    if lifts:
        chart_list.append(
            Chart(
                "Lift per metric",
                charts.interval(
                    lifts,
                    category="metric",
                    estimate="lift_pct",
                    low="low_pct",
                    high="high_pct",
                    color="role",
                    title="Relative lift (%) with its 95% confidence interval",
                ),
            )
        )
    return Section(
        key="experiments",
        title="Experiments",
        summary=summary,
        status="fail" if srm_failed or guardrail_breaches else "ok",
        charts=chart_list,
        tables=tables,
    )


def _pct(value) -> str:
    return "" if value is None else f"{100 * value:+.2f}%"
