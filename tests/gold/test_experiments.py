"""Experiment marts on a Silver of planted exposures: the registry loaded, every exposure
counted by status, the assignment of record, the hash audit and the SRM verdict."""

from datetime import UTC, date, datetime, timedelta

import pytest
from lakehouse.experiments.readout import experiment_readout
from lakehouse.experiments.registry import load_registry
from lakehouse.synthetic.experiments import synthetic_experiment
from pyspark.sql import functions as F
from silver_lake import ev

MARTS_BEFORE_STATS = [
    "exp_registry",
    "exp_exposure_status_daily",
    "exp_exposures_first",
    "exp_assignment_audit",
    "exp_health",
]
MARTS = [*MARTS_BEFORE_STATS, "exp_metric_stats_daily", "exp_results"]
CLIENT = "stg_client_events"
LIFTED = "checkout-one-page"
KEY = "search-ranking-v2"


def exposure(event_id, key, variant, at, user_id=None, anon_id=None, received_at=None):
    return ev(
        event_id,
        "experiment_exposed",
        at,
        experiment_key=key,
        variant=variant,
        user_id=user_id,
        anon_id=anon_id,
        received_at=received_at,
    )


def arrival(at: datetime, user_id: str, late_units: set[str]) -> datetime:
    """Minutes after the exposure; two days after for the units logged late (offline devices)."""
    return at + (timedelta(days=2) if user_id in late_units else timedelta(minutes=3))


@pytest.fixture(scope="module")
def lake(silver):
    planted = synthetic_experiment(
        load_registry()[KEY],
        units=1200,
        conversion=(0.10, 0.12),
        seed=7,
        drop_treatment_share=0.25,
        mismatch_share=0.03,
        multiple_share=0.02,
    )
    late_units = set(sorted({e[4] for e in planted.exposures})[::25])
    events = [
        exposure(
            event_id,
            key,
            variant,
            f"{at:%Y-%m-%d %H:%M:%S}",
            user_id,
            anon_id,
            arrival(at, user_id, late_units),
        )
        for event_id, key, variant, at, user_id, anon_id in planted.exposures
    ]
    events += [
        exposure("bad-1", "no-such-experiment", "control", "2026-11-03 10:00", user_id="u-x"),
        exposure("bad-2", KEY, "control", "2026-10-30 10:00", user_id="u-early"),  # before the phase
        exposure("bad-3", KEY, "purple", "2026-11-03 11:00", user_id="u-y"),
        exposure("bad-4", KEY, "control", "2026-11-03 12:00", anon_id="anon-only"),  # unit is user_id
    ]
    lifted = synthetic_experiment(
        load_registry()[LIFTED], units=8000, conversion=(0.10, 0.16), seed=11, pre_booker_share=0.0
    )
    events += [
        exposure(event_id, key, variant, f"{at:%Y-%m-%d %H:%M:%S}", user_id, anon_id)
        for event_id, key, variant, at, user_id, anon_id in lifted.exposures
    ]
    silver.add(CLIENT, *events)
    silver.add(
        "stg_lbg_events",
        *[
            ev(
                f"bk-{lbg_id}",
                name,
                f"{at:%Y-%m-%d %H:%M:%S}",
                user_id=user_id,
                lbg_id=lbg_id,
                total_minor=total,
                currency=currency,
            )
            for name, at, user_id, lbg_id, total, currency in planted.bookings + lifted.bookings
        ],
    )
    silver.summary = silver.run(MARTS, as_of="2026-11-10 00:00")
    silver.planted, silver.lifted, silver.late_units = planted, lifted, late_units
    return silver


def test_every_mart_is_published(lake):
    assert {m: s["status"] for m, s in lake.summary.items()} == dict.fromkeys(MARTS, "published")


def test_the_registry_is_loaded_one_row_per_experiment_phase(lake):
    registry = load_registry()
    rows = lake.table("exp_registry").select("experiment_key", "phase").collect()
    assert sorted((r.experiment_key, r.phase) for r in rows) == sorted(
        (e.key, p.index) for e in registry.values() for p in e.phases
    )


def test_every_exposure_is_counted_under_its_status(lake):
    counts = {
        (r.experiment_key, r.status): r.exposures
        for r in lake.table("exp_exposure_status_daily")
        .groupBy("experiment_key", "status")
        .agg(F.sum("exposures").alias("exposures"))
        .collect()
    }
    assert counts == {
        (KEY, "ok"): len(lake.planted.exposures),
        (LIFTED, "ok"): len(lake.lifted.exposures),
        ("no-such-experiment", "unknown_experiment"): 1,
        (KEY, "outside_phase"): 1,
        (KEY, "unknown_variation"): 1,
        (KEY, "missing_unit"): 1,
    }


def test_first_exposures_flag_units_seen_in_two_variations(lake):
    firsts = lake.table("exp_exposures_first").where(F.col("experiment_key") == KEY)
    planted = lake.planted
    assert firsts.count() == sum(planted.assigned.values()) - planted.dropped_treatment
    assert firsts.where(F.col("variation") == "__multiple__").count() == planted.multiple


def test_the_audit_lists_exactly_the_mismatched_units(lake):
    audit = lake.table("exp_assignment_audit").where(F.col("experiment_key") == KEY)
    assert audit.count() == lake.planted.mismatched > 0
    assert audit.where(F.col("logged_variation") == F.col("expected_variation")).count() == 0


def test_exposures_that_arrived_a_day_late_are_counted_in_the_health(lake):
    firsts = lake.table("exp_exposures_first").where(F.col("experiment_key") == KEY)
    late = {r.unit_id for r in firsts.where(F.col("late_exposure")).collect()}
    assert late == lake.late_units and len(late) > 10
    health = lake.table("exp_health").where(F.col("experiment_key") == KEY).collect()
    assert {(r.units_late, r.late_exposure_rate) for r in health} == {
        (len(late), len(late) / health[0].units_exposed)
    }
    lifted = lake.table("exp_health").where(F.col("experiment_key") == LIFTED).collect()
    assert {r.units_late for r in lifted} == {0}  # arrival unknown: never counted late


def test_dropped_treatment_exposures_make_the_experiment_invalid_srm(lake):
    health = {
        r.variation: r for r in lake.table("exp_health").where(F.col("experiment_key") == KEY).collect()
    }
    assert {r.status for r in health.values()} == {"invalid_srm"}
    assert health["control"].srm_p_value < 0.001
    assert health["control"].units_multiple == lake.planted.multiple
    assert health["treatment"].units < health["control"].units
    assert health["control"].as_of == datetime(2026, 11, 10)
    others = lake.table("exp_health").where(F.col("experiment_key") != KEY)
    assert {r.status for r in others.collect()} == {"ok"}  # no exposures: nothing to test, p = 1


def booked_within(bookings, exposures, days):
    first = {}
    for _, _, _, at, user_id, _ in exposures:
        first[user_id] = min(at, first.get(user_id, at))
    return {
        user_id
        for _, at, user_id, _, _, _ in bookings
        if user_id in first
        and first[user_id] <= at < first[user_id] + timedelta(days=days)
        and at < datetime(2026, 11, 10, tzinfo=UTC)
    }


def test_the_last_snapshot_counts_the_units_and_their_conversions(lake):
    stats = lake.table("exp_metric_stats_daily").where(
        (F.col("experiment_key") == LIFTED)
        & (F.col("metric_key") == "booking_conversion_7d")
        & (F.col("phase") == 0)
    )
    last = {r.variation: r for r in stats.where(F.col("as_of_date") == date(2026, 11, 9)).collect()}
    assert sum(r.units for r in last.values()) == sum(lake.lifted.assigned.values())
    converted = booked_within(lake.lifted.bookings, lake.lifted.exposures, 7)
    assert sum(int(r.sum_y) for r in last.values()) == len(converted) > 0
    dates = sorted({r.as_of_date for r in stats.collect()})
    assert dates[0] == date(2026, 11, 2) and dates[-1] == date(2026, 11, 10)  # the run's date, partial


def test_the_planted_lift_lies_inside_the_reported_interval(lake):
    (row,) = (
        lake.table("exp_results")
        .where(
            (F.col("experiment_key") == LIFTED)
            & (F.col("phase") == 0)
            & (F.col("metric_key") == "booking_conversion_7d")
            & (F.col("as_of_date") == date(2026, 11, 9))
        )
        .collect()
    )
    assert row.ci_low < lake.lifted.true_relative_lift < row.ci_high
    assert (
        row.sequential_ci_low <= row.ci_low and row.ci_high <= row.sequential_ci_high
    )  # always valid: wider
    assert row.ci_low > 0 and row.status == "ok" and row.role == "primary"


def test_an_srm_stops_the_experiment_in_the_results(lake):
    rows = lake.table("exp_results").where(
        (F.col("experiment_key") == KEY) & (F.col("as_of_date") == date(2026, 11, 9))
    )
    assert {(r.status, r.decision) for r in rows.collect()} == {("invalid_srm", "stop")}
    secondary = rows.where(F.col("role") == "secondary").collect()
    assert secondary and all(r.p_value_adjusted >= r.p_value for r in secondary)


def test_a_run_with_nothing_new_changes_nothing(lake):
    versions = {m: lake.version(m) for m in MARTS}
    summary = lake.run(MARTS, as_of="2026-11-10 01:00")
    assert {s["status"] for s in summary.values()} == {"unchanged"}
    assert {m: lake.version(m) for m in MARTS} == versions


def test_the_readout_shows_each_experiment_health_and_latest_results(lake):
    readout = experiment_readout(lake.spark, lake.paths, key=KEY)
    health = [dict(zip(readout.health_columns, r, strict=True)) for r in readout.health_rows]
    assert [(h["variation"], h["status"]) for h in health] == [
        ("control", "invalid_srm"),
        ("treatment", "invalid_srm"),
    ]
    results = [dict(zip(readout.result_columns, r, strict=True)) for r in readout.result_rows]
    assert results and {r["as_of_date"] for r in results} == {date(2026, 11, 10)}
    assert {r["metric_key"] for r in results} == set(load_registry()[KEY].metric_keys())
