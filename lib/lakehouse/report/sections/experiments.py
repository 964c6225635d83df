"""Experiments, from ``gold.exp_results`` and ``gold.exp_health``: each metric's relative lift
with its confidence interval as of the latest snapshot, the sample-ratio check per variation
and the guardrail verdicts."""

from __future__ import annotations

from lakehouse.experiments.readout import latest_snapshot
from lakehouse.gold.experiments import ALARMED_STATUSES
from lakehouse.report import charts
from lakehouse.report.model import Chart, ReportContext, Section, Table, rows_of


def build(ctx: ReportContext) -> Section | None:
    results = ctx.layer("gold", "exp_results")
    health = ctx.layer("gold", "exp_health")
    if results is None and health is None:
        return None
    latest = (
        rows_of(
            latest_snapshot(results).orderBy("experiment_key", "phase", "role", "metric_key", "variation"),
            limit=400,
        )
        if results is not None
        else []
    )
    health_rows = (
        rows_of(health.orderBy("experiment_key", "phase", "variation"), limit=400)
        if health is not None
        else []
    )
    lifts = [
        {
            "metric": " · ".join(
                (r["experiment_key"], f"{r['metric_key']} {r['currency']}".strip(), r["variation"])
            ),
            "lift_pct": round(100 * r["lift"], 2),
            "low_pct": round(100 * r["ci_low"], 2),
            "high_pct": round(100 * r["ci_high"], 2),
            "role": r["role"],
        }
        for r in latest
        if r.get("error") is None and None not in (r.get("lift"), r.get("ci_low"), r.get("ci_high"))
    ]
    srm_failed = sorted({h["experiment_key"] for h in health_rows if h.get("status") == "invalid_srm"})
    breached = sorted({r["experiment_key"] for r in latest if r.get("guardrail_status") == "breached"})
    alarmed = sorted({r["experiment_key"] for r in latest if r.get("status") in ALARMED_STATUSES})
    experiments = sorted({r["experiment_key"] for r in (*latest, *health_rows)})
    summary = f"{len(experiments)} experiment(s)"
    summary += (
        f"; sample ratio mismatch in {', '.join(srm_failed)}" if srm_failed else "; no sample ratio mismatch"
    )
    summary += f"; guardrail breached in {', '.join(breached)}." if breached else "; guardrails hold."
    tables = [
        Table(
            "Latest results per metric",
            [
                "experiment",
                "as of",
                "metric",
                "role",
                "currency",
                "variation",
                "units",
                "lift",
                "95% CI",
                "p (adjusted)",
                "guardrail",
                "status",
                "decision",
            ],
            [
                [
                    r["experiment_key"],
                    r["as_of_date"],
                    r["metric_key"],
                    r["role"],
                    r.get("currency") or "",
                    r["variation"],
                    r.get("units"),
                    _pct(r.get("lift")),
                    f"{_pct(r.get('ci_low'))} .. {_pct(r.get('ci_high'))}",
                    r.get("p_value_adjusted"),
                    r.get("guardrail_status") or "",
                    r.get("status") or "",
                    r.get("decision") or r.get("error") or "",
                ]
                for r in latest
            ],
        )
    ]
    if health_rows:
        tables.append(
            Table(
                "Health (units per variation, sample ratio)",
                [
                    "experiment",
                    "phase",
                    "variation",
                    "units",
                    "expected share",
                    "observed share",
                    "multiple",
                    "mismatched",
                    "late",
                    "SRM p",
                    "status",
                ],
                [
                    [
                        h["experiment_key"],
                        h["phase"],
                        h["variation"],
                        h.get("units"),
                        h.get("expected_share"),
                        h.get("observed_share"),
                        h.get("units_multiple"),
                        h.get("units_mismatched"),
                        h.get("units_late"),
                        h.get("srm_p_value"),
                        h.get("status") or "",
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
        status="fail" if srm_failed or breached or alarmed else "ok",
        charts=chart_list,
        tables=tables,
    )


def _pct(value) -> str:
    return "" if value is None else f"{100 * value:+.2f}%"
