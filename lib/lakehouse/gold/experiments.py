"""Experiments in Gold: the registry, every exposure accounted for, the assignment of
record per unit, its audit against GrowthBook's hash, and each experiment's health.

Exposures are the ``experiment_exposed`` client events. Each is classified against the
registry (:func:`~lakehouse.experiments.exposures.classify_exposures`): ``ok``, or the
reason it cannot count (``unknown_experiment``, ``outside_phase``, ``unknown_variation``,
``missing_unit``); every one lands in ``exp_exposure_status_daily``. The ``ok`` ones give
one row per experiment x phase x unit (``exp_exposures_first``); the units whose logged
variation is not the one the registry assigns are listed in ``exp_assignment_audit``;
``exp_health`` compares the units per variation with the weights (SRM) and flags an
experiment ``invalid_srm`` below its threshold, with a structured WARNING line.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.experiments.exposures import MULTIPLE, classify_exposures, first_exposures, registry_frame
from lakehouse.experiments.registry import load_registry
from lakehouse.experiments.stats.srm import srm_p_value
from lakehouse.marts import BuildContext

log = logging.getLogger(__name__)

CLIENT = "silver.stg_client_events"
REGISTRY = "gold.exp_registry"
FIRSTS = "gold.exp_exposures_first"
EXPOSURE_COLUMNS = ("event_id", "experiment_key", "variant", "occurred_at", "user_id", "anon_id")


def exp_registry(ctx: BuildContext) -> DataFrame:
    return registry_frame(ctx.spark, load_registry())


def classified_exposures(ctx: BuildContext) -> DataFrame:
    """Every exposure event of Silver with its phase, hashed variation and status."""
    events = ctx.input(CLIENT).where(F.col("event_name") == "experiment_exposed").select(*EXPOSURE_COLUMNS)
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
            if status == "invalid_srm":
                log.warning(
                    "experiment invalid_srm",
                    extra={
                        "experiment": experiment.key,
                        "phase": phase.index,
                        "srm_p_value": p_value,
                        "threshold": threshold,
                        "units": dict(zip([v.key for v in experiment.variations], units, strict=True)),
                    },
                )
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
                        p_value,
                        threshold,
                        status,
                        ctx.as_of,
                    )
                )
    return ctx.spark.createDataFrame(
        rows,
        "experiment_key string, phase int, variation string, units bigint, expected_share double, "
        "observed_share double, units_exposed bigint, units_multiple bigint, units_mismatched bigint, "
        "units_stale_bucket bigint, mismatch_rate double, srm_p_value double, srm_p_threshold double, "
        "status string, as_of timestamp",
    )
