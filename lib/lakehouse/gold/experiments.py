"""Experiments in Gold: the registry, every exposure accounted for, the assignment of
record per unit, its audit against GrowthBook's hash, and each experiment's health.

Exposures are the ``experiment_exposed`` client events. Each is classified against the
registry (:func:`~lakehouse.experiments.exposures.classify_exposures`): ``ok``, or the
reason it cannot count (``unknown_experiment``, ``outside_phase``, ``unknown_variation``,
``missing_unit``); every one lands in ``exp_exposure_status_daily``. The ``ok`` ones give
one row per experiment x phase x unit (``exp_exposures_first``); the units whose logged
variation is not the one the registry assigns are listed in ``exp_assignment_audit``;
``exp_health`` compares the units per variation with the weights (SRM) and flags an
experiment ``invalid_srm`` below its threshold. ``exp_metric_stats_daily`` holds the
cumulative sufficient statistics per daily snapshot and ``exp_results`` the effects computed
from them; once published, the job logs a WARNING per experiment whose latest results are
``invalid_srm`` or ``stop_recommended`` (the alarm's metric filter matches it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.experiments.analysis import compare
from lakehouse.experiments.exposures import MULTIPLE, classify_exposures, first_exposures, registry_frame
from lakehouse.experiments.metrics import Measure
from lakehouse.experiments.registry import Registry, load_registry
from lakehouse.experiments.stats import adjust_p_values, srm_p_value
from lakehouse.experiments.unit_metrics import (
    UNIT_KEYS,
    measure_rows,
    sufficient_statistics,
    unit_metric_values,
)
from lakehouse.marts import BuildContext
from lakehouse.marts import dates as D

ALARMED_STATUSES = ("invalid_srm", "stop_recommended")  # each logged as "experiment <status>"

CLIENT = "silver.stg_client_events"
REGISTRY = "gold.exp_registry"
FIRSTS = "gold.exp_exposures_first"
STATS = "gold.exp_metric_stats_daily"
EXPOSURE_COLUMNS = ("event_id", "experiment_key", "variant", "occurred_at", "user_id", "anon_id")
STATS_SCHEMA = (
    "experiment_key string, phase int, variation string, metric_key string, currency string, "
    "as_of_date date, units bigint, sum_y decimal(38,0), sum_y2 decimal(38,0), sum_d decimal(38,0), "
    "sum_d2 decimal(38,0), sum_yd decimal(38,0), sum_x decimal(38,0), sum_x2 decimal(38,0), "
    "sum_xy decimal(38,0), sum_y_uncapped decimal(38,0), sum_y2_uncapped decimal(38,0), "
    "cap_value decimal(38,0)"
)


def exp_registry(ctx: BuildContext) -> DataFrame:
    return registry_frame(ctx.spark, load_registry())


def classified_exposures(ctx: BuildContext) -> DataFrame:
    """Every exposure event of Silver with its phase, hashed variation and status."""
    exposed = ctx.input(CLIENT).where(F.col("event_name") == "experiment_exposed")
    events = exposed.select(*EXPOSURE_COLUMNS, "received_at")
    return events.transform(classify_exposures(ctx.input(REGISTRY)))


def exp_exposure_status_daily(ctx: BuildContext) -> DataFrame:
    return (
        classified_exposures(ctx)
        .groupBy(
            F.to_date("occurred_at").alias("date"),
            F.coalesce(F.col("experiment_key"), F.lit("")).alias("experiment_key"),
            "status",
        )
        .agg(F.count(F.lit(1)).alias("exposures"), F.count_distinct("unit_id").alias("units"))
    )


def exp_exposures_first(ctx: BuildContext) -> DataFrame:
    return first_exposures(classified_exposures(ctx))


def exp_assignment_audit(ctx: BuildContext) -> DataFrame:
    return (
        ctx.input(FIRSTS)
        .where(F.col("hash_mismatch"))
        .select(
            "experiment_key",
            "phase",
            "unit_id",
            "first_exposure_ts",
            F.col("first_variation").alias("logged_variation"),
            "expected_variation",
            "hashed_variation",
        )
    )


HEALTH_SCHEMA = (
    "experiment_key string, phase int, variation string, units bigint, expected_share double, "
    "observed_share double, units_exposed bigint, units_multiple bigint, units_mismatched bigint, "
    "units_stale_bucket bigint, mismatch_rate double, units_late bigint, late_exposure_rate double, "
    "srm_p_value double, srm_p_threshold double, status string, as_of timestamp"
)


def exp_health(ctx: BuildContext) -> DataFrame:
    """One row per experiment x phase x variation of the registry, as of the run."""
    registry = load_registry()
    firsts = ctx.input(FIRSTS)
    per_variation = (
        firsts.where((F.col("variation") != MULTIPLE) & ~F.col("excluded_stale_bucket"))
        .groupBy("experiment_key", "phase", "variation")
        .agg(F.count(F.lit(1)).alias("units"))
    )
    per_phase = firsts.groupBy("experiment_key", "phase").agg(
        F.count(F.lit(1)).alias("units_exposed"),
        F.count_if(F.col("variation") == MULTIPLE).alias("units_multiple"),
        F.count_if(F.col("hash_mismatch")).alias("units_mismatched"),
        F.count_if(F.col("excluded_stale_bucket")).alias("units_stale_bucket"),
        F.count_if(F.col("late_exposure")).alias("units_late"),
    )
    counted = {(r.experiment_key, r.phase, r.variation): r.units for r in per_variation.collect()}
    phases = {(r.experiment_key, r.phase): r for r in per_phase.collect()}  # one row per experiment x phase
    rows = []
    for experiment in registry.values():
        for phase in experiment.phases:
            units = [counted.get((experiment.key, phase.index, v.key), 0) for v in experiment.variations]
            p_value = srm_p_value(units, phase.weights)
            threshold = experiment.analysis.srm_p_threshold
            status = "invalid_srm" if p_value < threshold else "ok"
            totals = phases.get((experiment.key, phase.index))
            exposed = totals.units_exposed if totals else 0
            for variation, n, weight in zip(experiment.variations, units, phase.weights, strict=True):
                rows.append(
                    (
                        experiment.key,
                        phase.index,
                        variation.key,
                        n,
                        weight / sum(phase.weights),
                        n / sum(units) if sum(units) else None,
                        exposed,
                        totals.units_multiple if totals else 0,
                        totals.units_mismatched if totals else 0,
                        totals.units_stale_bucket if totals else 0,
                        (totals.units_mismatched / exposed) if exposed else None,
                        totals.units_late if totals else 0,
                        (totals.units_late / exposed) if exposed else None,
                        p_value,
                        threshold,
                        status,
                        ctx.as_of,
                    )
                )
    return ctx.spark.createDataFrame(rows, HEALTH_SCHEMA)


def snapshot_spine(ctx: BuildContext, registry: Registry) -> DataFrame:
    """One row per experiment x phase x as-of date: every date from the phase start to the
    run's date, while units of the phase may still be inside an attribution window."""
    run_date = ctx.as_of.date()
    rows = []
    for experiment in registry.values():
        longest = max(registry.metrics[k].attribution_window_days for k in experiment.metric_keys())
        for phase in experiment.phases:
            start = phase.start.replace(tzinfo=None)
            last = run_date
            if phase.end is not None:
                last = min(last, (phase.end.replace(tzinfo=None) + timedelta(days=longest)).date())
            for day in D.days(start.date(), last) if start.date() <= last else []:
                end = min(datetime.combine(day + timedelta(days=1), datetime.min.time()), ctx.as_of)
                rows.append((experiment.key, phase.index, day, end))
    return ctx.spark.createDataFrame(
        rows, "experiment_key string, phase int, as_of_date date, as_of_ts timestamp"
    )


def _fact_rows(ctx: BuildContext, measure: Measure | None, unit: str, per_currency: bool) -> DataFrame | None:
    if measure is None:
        return None
    return measure_rows(ctx.input(measure.fact.table), measure, unit=unit, per_currency=per_currency)


def exp_metric_stats_daily(ctx: BuildContext) -> DataFrame:
    """Cumulative sufficient statistics per experiment x phase x variation x metric x currency
    x as-of date (the analysable units: not ``__multiple__``, not stale buckets)."""
    registry = load_registry()
    units = (
        ctx.input(FIRSTS)
        .where((F.col("variation") != MULTIPLE) & ~F.col("excluded_stale_bucket"))
        .select(*UNIT_KEYS, "variation", "first_exposure_ts")
    )
    snapshots = units.join(F.broadcast(snapshot_spine(ctx, registry)), ["experiment_key", "phase"])
    # One row per experiment with units (the registry's size): the others have no statistics.
    with_units = {r.experiment_key for r in units.select("experiment_key").distinct().collect()}
    parts = []
    for experiment in (e for e in registry.values() if e.key in with_units):
        exposed = snapshots.where(F.col("experiment_key") == experiment.key)
        for key in dict.fromkeys(experiment.metric_keys()):
            metric = registry.metrics[key]

            values = exposed.transform(
                unit_metric_values(
                    _fact_rows(ctx, metric.numerator, experiment.unit, metric.per_currency),
                    _fact_rows(ctx, metric.denominator, experiment.unit, metric.per_currency),
                    metric,
                    pre_period_days=experiment.analysis.cuped_pre_period_days,
                )
            )
            parts.append(values.transform(sufficient_statistics(metric)))
    if not parts:
        return ctx.spark.createDataFrame([], STATS_SCHEMA)
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.withColumn("currency", F.coalesce(F.col("currency"), F.lit("")))


RESULTS_SCHEMA = (
    "experiment_key string, phase int, as_of_date date, metric_key string, role string, currency string, "
    "variation string, units_control bigint, units bigint, mean_control double, mean double, "
    "lift double, ci_low double, ci_high double, p_value double, p_value_adjusted double, "
    "sequential_ci_low double, sequential_ci_high double, sequential_p_value double, cuped boolean, "
    "guardrail_status string, error string, status string, decision string"
)
RESULT_COLUMNS = [c.strip().split(" ")[0] for c in RESULTS_SCHEMA.split(",")]


def _roles(experiment) -> dict[str, str]:
    roles: dict[str, str] = {}
    for role in ("guardrails", "secondary", "primary"):  # a metric listed twice takes the first role
        for key in experiment.metrics.get(role, ()):
            roles[key] = role
    return roles


def decide(experiment, rows: list[dict], srm_p: float) -> tuple[str, str]:
    """``(status, decision)`` of one experiment snapshot from its result rows.

    invalid_srm (SRM p below the threshold) stops the analysis; a breached guardrail
    recommends stopping; otherwise a primary metric whose interval (sequential when
    enabled) lies wholly on its good side ships it, wholly on its bad side stops it, and
    anything else, or too few units per variation, keeps it running.
    """
    analysis = experiment.analysis
    if srm_p < analysis.srm_p_threshold:
        return "invalid_srm", "stop"
    if any(r.get("guardrail_status") == "breached" for r in rows):
        return "stop_recommended", "stop"
    primary = [r for r in rows if r["role"] == "primary" and r["error"] is None]
    if (
        not primary
        or min(min(r["units"], r["units_control"]) for r in primary) < analysis.min_units_per_variation
    ):
        return "ok", "keep_running"
    decisions = set()
    for r in primary:
        low, high = (
            (r["sequential_ci_low"], r["sequential_ci_high"])
            if analysis.sequential
            else (r["ci_low"], r["ci_high"])
        )
        good_low, good_high = (low, high) if r["higher_is_better"] else (-high, -low)
        decisions.add("ship" if good_low > 0 else "stop" if good_high < 0 else "keep_running")
    return "ok", ("stop" if "stop" in decisions else "ship" if decisions == {"ship"} else "keep_running")


def snapshot_results(registry: Registry, stats: list[dict]) -> list[dict]:
    """The result rows of one experiment x phase x as-of date from its sufficient statistics."""
    first = stats[0]
    experiment = registry[first["experiment_key"]]
    roles = _roles(experiment)
    control = experiment.control.key
    groups: dict[tuple[str, str], dict[str, dict]] = {}
    for row in stats:
        groups.setdefault((row["metric_key"], row["currency"]), {})[row["variation"]] = row
    rows: list[dict] = []
    for (metric_key, currency), by_variation in sorted(groups.items()):
        metric = registry.metrics[metric_key]
        for variation in experiment.variations[1:]:
            a, b = by_variation.get(control), by_variation.get(variation.key)
            base = {
                "experiment_key": experiment.key,
                "phase": first["phase"],
                "as_of_date": first["as_of_date"],
                "metric_key": metric_key,
                "role": roles[metric_key],
                "currency": currency,
                "variation": variation.key,
                "units_control": a["units"] if a else 0,
                "units": b["units"] if b else 0,
                "higher_is_better": metric.higher_is_better,
            }
            if a is None or b is None:
                rows.append({**base, "error": "a variation has no analysed units"})
                continue
            result = compare(a, b, metric, experiment.analysis, roles[metric_key])
            seq = result.sequential
            rows.append(
                {
                    **base,
                    "mean_control": float(a["sum_y"]) / a["units"] if a["units"] else None,
                    "mean": float(b["sum_y"]) / b["units"] if b["units"] else None,
                    "lift": result.fixed.estimate,
                    "ci_low": result.fixed.ci_low,
                    "ci_high": result.fixed.ci_high,
                    "p_value": result.fixed.p_value,
                    "sequential_ci_low": seq.ci_low if seq else None,
                    "sequential_ci_high": seq.ci_high if seq else None,
                    "sequential_p_value": seq.p_value if seq else None,
                    "cuped": result.cuped,
                    "guardrail_status": result.guardrail.status if result.guardrail else None,
                    "error": result.fixed.error,
                }
            )
    secondary = [r for r in rows if r["role"] == "secondary" and r.get("p_value") is not None]
    adjusted = adjust_p_values([r["p_value"] for r in secondary], experiment.analysis.correction)
    for r, p in zip(secondary, adjusted, strict=True):
        r["p_value_adjusted"] = p
    for r in rows:
        r.setdefault("p_value_adjusted", r.get("p_value"))
    units: dict[str, int] = {}
    for (metric_key, _), by_variation in groups.items():
        if not registry.metrics[metric_key].per_currency:
            units = {v: row["units"] for v, row in by_variation.items()}
            break
    phase = experiment.phases[first["phase"]]
    srm_p = srm_p_value([units.get(v.key, 0) for v in experiment.variations], phase.weights)
    status, decision = decide(experiment, rows, srm_p)
    return [{**{c: r.get(c) for c in RESULT_COLUMNS}, "status": status, "decision": decision} for r in rows]


def exp_results(ctx: BuildContext) -> DataFrame:
    """Effects with their intervals per experiment x phase x metric x currency x variation x
    as-of date, computed on the driver from ``exp_metric_stats_daily`` (a few rows per
    snapshot: the statistics need the sums, not the units)."""
    registry = load_registry()
    snapshots: dict[tuple, list[dict]] = {}
    for row in ctx.input(STATS).collect():
        record = row.asDict()
        snapshots.setdefault((record["experiment_key"], record["phase"], record["as_of_date"]), []).append(
            record
        )
    rows = [r for key in sorted(snapshots) for r in snapshot_results(registry, snapshots[key])]
    return ctx.spark.createDataFrame([tuple(r[c] for c in RESULT_COLUMNS) for r in rows], RESULTS_SCHEMA)
