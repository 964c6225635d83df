"""Per-unit metric values in the attribution and pre-exposure windows, per currency for money,
and the per-variation sufficient statistics with caps."""

from datetime import datetime
from decimal import Decimal

import pytest
from lakehouse.experiments.metrics import load_metrics
from lakehouse.experiments.unit_metrics import measure_rows, sufficient_statistics, unit_metric_values

T = datetime
AS_OF = T(2026, 11, 20)


@pytest.fixture(scope="module")
def frames(spark):
    exposures = spark.createDataFrame(
        [
            ("x", 0, "u1", "control", T(2026, 11, 3)),
            ("x", 0, "u2", "treatment", T(2026, 11, 3)),
            ("x", 0, "u3", "treatment", T(2026, 11, 4)),
            ("x", 0, "late", "control", T(2026, 11, 21)),  # first exposed after the snapshot
        ],
        "experiment_key string, phase int, unit_id string, variation string, first_exposure_ts timestamp",
    )
    lbg = spark.createDataFrame(
        [
            ("lbg_booked", T(2026, 11, 4), "u1", "A", 1000, "EUR"),
            (
                "lbg_booked",
                T(2026, 11, 12),
                "u1",
                "B",
                500,
                "EUR",
            ),  # day 9: revenue (14 d), not conversion (7 d)
            ("lbg_booked", T(2026, 11, 1), "u1", "P", 300, "EUR"),  # pre-exposure
            ("lbg_booked", T(2026, 11, 3, 12), "u2", "C", 2000, "GBP"),
            ("lbg_cancelled", T(2026, 11, 5), "u2", "C", 2000, "GBP"),
            ("lbg_booked", T(2026, 11, 5), "u9", "Z", 99, "USD"),  # not exposed
        ],
        "event_name string, occurred_at timestamp, user_id string, lbg_id string, total_minor bigint, "
        "currency string",
    )
    payments = spark.createDataFrame(
        [("refund_issued", T(2026, 11, 10), "u1", "A", 1000, "EUR")],
        "event_name string, occurred_at timestamp, user_id string, lbg_id string, amount_minor bigint, "
        "currency string",
    )
    searches = spark.createDataFrame(
        [("search_performed", T(2026, 11, 3, 1 + i % 20), "u1", f"s{i}") for i in range(3)]
        + [("search_performed", T(2026, 11, 2), "u1", "pre")]
        + [("search_performed", T(2026, 11, 5), "u2", f"t{i}") for i in range(250)],
        "event_name string, occurred_at timestamp, user_id string, event_id string",
    )
    return {"exposures": exposures, "lbg": lbg, "payments": payments, "searches": searches}


def metric_rows(frames, key, numerator_table, denominator_table=None):
    """The metric and its numerator and denominator rows (None without a denominator)."""
    metric = load_metrics()[key]
    num = measure_rows(frames[numerator_table], metric.numerator, "user_id", metric.per_currency)
    den = (
        measure_rows(frames[denominator_table], metric.denominator, "user_id", metric.per_currency)
        if denominator_table
        else None
    )
    return metric, num, den


def values_and_stats(frames, key, numerator_table, denominator_table=None):
    metric, num, den = metric_rows(frames, key, numerator_table, denominator_table)
    values = frames["exposures"].transform(
        unit_metric_values(num, den, metric, pre_period_days=14, as_of=AS_OF)
    )
    stats = values.transform(sufficient_statistics(metric))
    by_unit = {(r.unit_id, r.currency): r for r in values.collect()}
    by_variation = {(r.variation, r.currency): r for r in stats.collect()}
    return by_unit, by_variation


def D(x):
    return Decimal(x)


def test_proportion_within_seven_days(frames):
    units, stats = values_and_stats(frames, "booking_conversion_7d", "lbg")
    assert {u: (r.num, r.num_pre) for (u, _), r in units.items()} == {
        "u1": (1, 1),
        "u2": (1, 0),
        "u3": (0, 0),
    }
    control, treatment = stats[("control", None)], stats[("treatment", None)]
    assert (control.units, control.sum_y, control.sum_x, control.sum_xy) == (1, 1, 1, 1)
    assert (treatment.units, treatment.sum_y, treatment.sum_y2, treatment.sum_x) == (2, 1, 1, 0)


def test_revenue_per_currency_never_summed_across(frames):
    units, stats = values_and_stats(frames, "revenue_per_unit", "lbg")
    assert {k: (r.num, r.num_pre) for k, r in units.items()} == {
        ("u1", "EUR"): (1500, 300),
        ("u1", "GBP"): (0, 0),
        ("u2", "EUR"): (0, 0),
        ("u2", "GBP"): (2000, 0),
        ("u3", "EUR"): (0, 0),
        ("u3", "GBP"): (0, 0),
    }
    eur = stats[("control", "EUR")]
    assert (eur.units, eur.sum_y, eur.sum_y2, eur.sum_x, eur.sum_xy) == (1, 1500, 2_250_000, 300, 450_000)
    assert eur.cap_value == D(1500)  # 99.9th percentile of the non-zero EUR values, floored
    assert (stats[("treatment", "GBP")].units, stats[("treatment", "GBP")].sum_y) == (2, 2000)
    assert isinstance(eur.sum_y, Decimal)  # exact minor units


def test_refund_ratio(frames):
    units, stats = values_and_stats(frames, "refund_rate", "payments", "lbg")
    assert {u: (r.num, r.den) for (u, _), r in units.items()} == {"u1": (1, 2), "u2": (0, 1), "u3": (0, 0)}
    control, treatment = stats[("control", None)], stats[("treatment", None)]
    assert (control.sum_y, control.sum_d, control.sum_d2, control.sum_yd) == (1, 2, 4, 2)
    assert (treatment.units, treatment.sum_y, treatment.sum_d, treatment.sum_d2) == (2, 0, 1, 1)


def test_absolute_cap_keeps_uncapped_sums(frames):
    units, stats = values_and_stats(frames, "searches_per_unit", "searches")
    assert units[("u2", None)].num == 250 and units[("u1", None)].num_pre == 1
    treatment = stats[("treatment", None)]
    assert (treatment.sum_y, treatment.sum_y2, treatment.sum_y_uncapped, treatment.cap_value) == (
        200,
        40_000,
        250,
        200,
    )
    assert stats[("control", None)].sum_y == 3


@pytest.mark.parametrize(
    ("key", "numerator_table", "denominator_table"),
    [
        ("booking_conversion_7d", "lbg", None),
        ("revenue_per_unit", "lbg", None),
        ("refund_rate", "payments", "lbg"),
    ],
)
def test_daily_snapshots_equal_one_snapshot_per_as_of(spark, frames, key, numerator_table, denominator_table):
    metric, num, den = metric_rows(frames, key, numerator_table, denominator_table)
    ends = [T(2026, 11, 4), T(2026, 11, 6), T(2026, 11, 11), AS_OF]
    spine = spark.createDataFrame([(e.date(), e) for e in ends], "as_of_date date, as_of_ts timestamp")
    daily = (
        frames["exposures"]
        .crossJoin(spine)
        .transform(unit_metric_values(num, den, metric, pre_period_days=14))
        .transform(sufficient_statistics(metric))
    )
    for end in ends:
        one = (
            frames["exposures"]
            .transform(unit_metric_values(num, den, metric, pre_period_days=14, as_of=end))
            .transform(sufficient_statistics(metric))
        )
        snapshot = daily.where(daily.as_of_date == end.date()).drop("as_of_date")
        assert sorted(snapshot.collect()) == sorted(one.select(*snapshot.columns).collect()), (key, end)
