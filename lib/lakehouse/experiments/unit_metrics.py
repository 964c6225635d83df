"""Per-unit metric values and per-variation sufficient statistics (pure DataFrame -> DataFrame).

- :func:`measure_rows`: a fact's rows for one measure: ``unit_id, ts, value, currency``;
- :func:`unit_metric_values`: per experiment x phase x unit (x currency for money), the
  numerator and denominator over the attribution window after first exposure
  ``[t0, min(t0 + window, as_of))`` and over the pre-exposure period ``[t0 - L days, t0)``
  (the CUPED covariate); units without facts count 0; proportions are 0/1;
- :func:`sufficient_statistics`: per experiment x phase x variation x metric x currency the
  sums gbstats needs (exact DECIMAL(38,0): every unit value is a count or minor units), with
  the numerator capped at the metric's absolute or pooled-percentile cap (uncapped sums kept).

A per-currency metric has one row per currency seen among the experiment's units; a unit
with no booking counts 0 in each, so amounts of different currencies are never added.

Daily snapshots: when the exposures carry ``as_of_date`` and ``as_of_ts`` (each unit
repeated once per snapshot), every value and sum is computed per snapshot, ``as_of_ts``
taking the place of ``as_of``: the cumulative results as they stood at the end of each day.

Example::

    num = measure_rows(spark.table("silver.stg_lbg_events"), metric.numerator, unit="user_id")
    values = exposures.transform(unit_metric_values(num, None, metric, pre_period_days=14, as_of=ts))
    stats = values.transform(sufficient_statistics(metric))
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.experiments.metrics import Measure, Metric

EXACT = "decimal(38,0)"
UNIT_KEYS = ["experiment_key", "phase", "unit_id"]
STAT_KEYS = ["experiment_key", "phase", "variation", "metric_key", "currency"]
SNAPSHOT = "as_of_date"


def _snapshot_keys(df: DataFrame) -> list[str]:
    return [SNAPSHOT] if SNAPSHOT in df.columns else []


def measure_rows(fact_table: DataFrame, measure: Measure, unit: str, per_currency: bool = False) -> DataFrame:
    """The rows of ``measure.fact`` in ``fact_table`` as ``unit_id, ts, value, currency``."""
    fact = measure.fact
    rows = fact_table.where(F.expr(fact.where)) if fact.where else fact_table
    value = F.lit(1) if measure.column is None else F.col(measure.column)
    currency = F.col(fact.currency) if per_currency else F.lit(None).cast("string")
    return rows.select(
        F.col(unit).alias("unit_id"),
        F.col(fact.time).alias("ts"),
        value.alias("value"),
        currency.alias("currency"),
    ).where(F.col("unit_id").isNotNull())


def _aggregate(measure: Measure, value: Column) -> Column:
    if measure.aggregate == "count_distinct":
        return F.count_distinct(value)
    if measure.aggregate == "count":
        return F.count(value)
    return F.coalesce(F.sum(value), F.lit(0))


def _measure_values(
    units: DataFrame,
    rows: DataFrame,
    measure: Measure,
    window_days: int,
    pre_days: int,
    as_of: Column,
    name: str,
) -> DataFrame:
    t0 = F.col("u.first_exposure_ts")
    window_end = F.least(t0 + F.make_interval(days=F.lit(window_days)), as_of)
    post = (F.col("f.ts") >= t0) & (F.col("f.ts") < window_end)
    pre = (F.col("f.ts") >= t0 - F.make_interval(days=F.lit(pre_days))) & (F.col("f.ts") < t0)
    joined = units.alias("u").join(
        rows.alias("f"),
        (F.col("u.unit_id") == F.col("f.unit_id")) & F.col("u.currency").eqNullSafe(F.col("f.currency")),
        "left",
    )
    keys = [*UNIT_KEYS, "variation", "currency", *_snapshot_keys(units)]
    return joined.groupBy(*[F.col(f"u.{k}") for k in keys]).agg(
        _aggregate(measure, F.when(post, F.col("f.value"))).cast(EXACT).alias(name),
        _aggregate(measure, F.when(pre, F.col("f.value"))).cast(EXACT).alias(f"{name}_pre"),
    )


def unit_metric_values(
    numerator_rows: DataFrame,
    denominator_rows: DataFrame | None,
    metric: Metric,
    *,
    pre_period_days: int,
    as_of: datetime | None = None,
) -> Callable[[DataFrame], DataFrame]:
    """First exposures (``experiment_key, phase, unit_id, variation, first_exposure_ts``;
    analysable units only) -> one row per unit (x currency) with ``num, den, num_pre, den_pre``.

    :param as_of: exclusive end of the data the snapshot sees (UTC); units first exposed
        at or after it are not counted (per snapshot: each row's ``as_of_ts``).
    """

    def transform(exposures: DataFrame) -> DataFrame:
        snapshot = _snapshot_keys(exposures)
        if not snapshot and as_of is None:
            raise ValueError("unit_metric_values needs as_of, or exposures with as_of_date and as_of_ts")
        end = F.col("as_of_ts") if snapshot else F.lit(as_of)
        units = exposures.where(F.col("first_exposure_ts") < end).select(
            *UNIT_KEYS, "variation", "first_exposure_ts", *snapshot, *(["as_of_ts"] if snapshot else [])
        )
        end = F.col("u.as_of_ts") if snapshot else F.lit(as_of)
        if metric.per_currency:
            currencies = (
                units.join(numerator_rows.select("unit_id", "currency"), "unit_id")
                .select("experiment_key", "phase", "currency")
                .distinct()
            )
            units = units.join(currencies, ["experiment_key", "phase"])
        else:
            units = units.withColumn("currency", F.lit(None).cast("string"))
        window, keys = metric.attribution_window_days, [*UNIT_KEYS, "variation", "currency", *snapshot]
        values = _measure_values(units, numerator_rows, metric.numerator, window, pre_period_days, end, "num")
        if metric.kind == "proportion":
            values = values.withColumn("num", F.least(F.col("num"), F.lit(1)).cast(EXACT)).withColumn(
                "num_pre", F.least(F.col("num_pre"), F.lit(1)).cast(EXACT)
            )
        if metric.kind == "ratio":
            den = _measure_values(
                units, denominator_rows, metric.denominator, window, pre_period_days, end, "den"
            )
            values = _join_null_safe(values, den, keys, how="inner")
        else:
            values = values.withColumn("den", F.lit(None).cast(EXACT)).withColumn(
                "den_pre", F.lit(None).cast(EXACT)
            )
        return values.withColumn("metric_key", F.lit(metric.key)).select(
            *keys, "metric_key", "num", "den", "num_pre", "den_pre"
        )

    return transform


def _cap(metric: Metric, values: DataFrame) -> DataFrame:
    """``cap_value`` per experiment x phase x metric x currency (null: no capping)."""
    groups = ["experiment_key", "phase", "metric_key", "currency", *_snapshot_keys(values)]
    capping = metric.capping
    if capping is None:
        return values.withColumn("cap_value", F.lit(None).cast(EXACT))
    if capping.method == "absolute":
        return values.withColumn("cap_value", F.lit(int(capping.value)).cast(EXACT))
    pool = values.where(F.col("num") != 0) if capping.ignore_zeros else values
    caps = pool.groupBy(*groups).agg(
        F.floor(F.percentile(F.col("num").cast("double"), F.lit(capping.value)))
        .cast(EXACT)
        .alias("cap_value")
    )
    return _join_null_safe(values, caps, groups)


def _join_null_safe(left: DataFrame, right: DataFrame, keys: list[str], how: str = "left") -> DataFrame:
    """Join on ``keys`` where null equals null (the currency of a metric that is not money)."""
    condition = None
    for k in keys:
        c = F.col(f"l.{k}").eqNullSafe(F.col(f"r.{k}"))
        condition = c if condition is None else condition & c
    extra = [F.col(f"r.{c}") for c in right.columns if c not in keys]
    return left.alias("l").join(right.alias("r"), condition, how).select("l.*", *extra)


def sufficient_statistics(metric: Metric) -> Callable[[DataFrame], DataFrame]:
    """Unit values -> per experiment x phase x variation x metric x currency sums:
    ``units, sum_y, sum_y2, sum_d, sum_d2, sum_yd, sum_x, sum_x2, sum_xy`` (x: the pre-period
    numerator), ``sum_y_uncapped, sum_y2_uncapped, cap_value``."""

    def transform(values: DataFrame) -> DataFrame:
        capped = _cap(metric, values)
        y = F.when(F.col("cap_value").isNull(), F.col("num")).otherwise(
            F.least(F.col("num"), F.col("cap_value"))
        )
        d, x = F.col("den"), F.col("num_pre")

        def total(c: Column) -> Column:
            return F.coalesce(F.sum(c), F.lit(0)).cast(EXACT)

        return (
            capped.withColumn("y", y.cast(EXACT))
            .groupBy(*STAT_KEYS, *_snapshot_keys(values))
            .agg(
                F.count(F.lit(1)).alias("units"),
                total(F.col("y")).alias("sum_y"),
                total(F.col("y") * F.col("y")).alias("sum_y2"),
                total(d).alias("sum_d"),
                total(d * d).alias("sum_d2"),
                total(F.col("y") * d).alias("sum_yd"),
                total(x).alias("sum_x"),
                total(x * x).alias("sum_x2"),
                total(F.col("y") * x).alias("sum_xy"),
                total(F.col("num")).alias("sum_y_uncapped"),
                total(F.col("num") * F.col("num")).alias("sum_y2_uncapped"),
                F.max("cap_value").alias("cap_value"),
            )
        )

    return transform
