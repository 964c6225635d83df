"""Synthetic experiments through the whole chain: exposures classified and deduplicated,
per-unit metrics, sufficient statistics, results. Each planted effect is detected."""

from dataclasses import replace
from datetime import datetime

import pytest
from lakehouse.experiments.analysis import compare
from lakehouse.experiments.exposures import MULTIPLE, classify_exposures, first_exposures, registry_frame
from lakehouse.experiments.registry import load_registry
from lakehouse.experiments.stats import srm_p_value
from lakehouse.experiments.unit_metrics import measure_rows, sufficient_statistics, unit_metric_values
from lakehouse.synthetic.experiments import BOOKING_COLUMNS, EXPOSURE_COLUMNS, synthetic_experiment
from pyspark.sql import functions as F

AS_OF = datetime(2026, 11, 20)


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def firsts_of(spark, registry, world):
    events = spark.createDataFrame(world.exposures, EXPOSURE_COLUMNS)
    classified = events.transform(classify_exposures(registry_frame(spark, registry)))
    return first_exposures(classified).cache()


def test_planted_lift_mismatches_and_multiple_exposures(spark, registry):
    experiment = registry["search-ranking-v2"]
    world = synthetic_experiment(
        experiment, units=6000, conversion=(0.10, 0.13), seed=3, mismatch_share=0.02, multiple_share=0.01
    )
    firsts = firsts_of(spark, registry, world)
    audit = firsts.agg(
        F.sum(F.col("hash_mismatch").cast("int")).alias("mismatches"),
        F.sum((F.col("variation") == MULTIPLE).cast("int")).alias("multiple"),
        F.count(F.lit(1)).alias("units"),
    ).first()
    assert (audit.mismatches, audit.multiple, audit.units) == (world.mismatched, world.multiple, 6000)
    assert world.mismatched > 50 and world.multiple > 20

    metric = registry.metrics["booking_conversion_7d"]
    bookings = measure_rows(
        spark.createDataFrame(world.bookings, BOOKING_COLUMNS), metric.numerator, "user_id"
    )
    analysable = firsts.where(F.col("variation") != MULTIPLE)
    values = analysable.transform(
        unit_metric_values(
            bookings, None, metric, pre_period_days=experiment.analysis.cuped_pre_period_days, as_of=AS_OF
        )
    )
    sums = {r.variation: r.asDict() for r in values.transform(sufficient_statistics(metric)).collect()}
    result = compare(sums["control"], sums["treatment"], metric, experiment.analysis, role="primary")
    assert result.cuped and result.fixed.significant
    assert result.fixed.ci_low < world.true_relative_lift < result.fixed.ci_high
    assert result.sequential.ci_low < world.true_relative_lift < result.sequential.ci_high
    plain = compare(
        sums["control"], sums["treatment"], metric, replace(experiment.analysis, cuped=False), "primary"
    )
    assert result.fixed.variance < plain.fixed.variance  # the pre-period bookings reduce the variance


def test_dropped_treatment_exposures_are_an_srm(spark, registry):
    experiment = registry["homepage-aa"]  # three arms, hashed on anon_id
    world = synthetic_experiment(
        experiment, units=6000, conversion=(0.1, 0.1), seed=5, drop_treatment_share=0.15
    )
    counts = {
        r.variation: r.n
        for r in firsts_of(spark, registry, world)
        .groupBy("variation")
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    }
    keys = [v.key for v in experiment.variations]
    observed = [counts.get(k, 0) for k in keys]
    assert sum(observed) == 6000 - world.dropped_treatment
    p = srm_p_value(observed, list(experiment.phases[0].weights))
    assert p < experiment.analysis.srm_p_threshold

    healthy = synthetic_experiment(experiment, units=6000, conversion=(0.1, 0.1), seed=5)
    assert srm_p_value([healthy.assigned[k] for k in keys], list(experiment.phases[0].weights)) > 0.001
