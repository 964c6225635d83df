"""Experiment marts on a Silver of planted exposures: the registry loaded, every exposure
counted by status, the assignment of record, the hash audit and the SRM verdict."""

from datetime import datetime

import pytest
from lakehouse.experiments.registry import load_registry
from lakehouse.synthetic.experiments import synthetic_experiment
from pyspark.sql import functions as F
from silver_lake import ev

MARTS = [
    "exp_registry",
    "exp_exposure_status_daily",
    "exp_exposures_first",
    "exp_assignment_audit",
    "exp_health",
]
CLIENT = "stg_client_events"
KEY = "search-ranking-v2"


def exposure(event_id, key, variant, at, user_id=None, anon_id=None):
    return ev(
        event_id,
        "experiment_exposed",
        at,
        experiment_key=key,
        variant=variant,
        user_id=user_id,
        anon_id=anon_id,
    )


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
    events = [
        exposure(event_id, key, variant, f"{at:%Y-%m-%d %H:%M:%S}", user_id, anon_id)
        for event_id, key, variant, at, user_id, anon_id in planted.exposures
    ]
    events += [
        exposure("bad-1", "no-such-experiment", "control", "2026-11-03 10:00", user_id="u-x"),
        exposure("bad-2", KEY, "control", "2026-10-30 10:00", user_id="u-early"),  # before the phase
        exposure("bad-3", KEY, "purple", "2026-11-03 11:00", user_id="u-y"),
        exposure("bad-4", KEY, "control", "2026-11-03 12:00", anon_id="anon-only"),  # unit is user_id
    ]
    silver.add(CLIENT, *events)
    silver.summary = silver.run(MARTS, as_of="2026-11-10 00:00")
    silver.planted = planted
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


def test_a_run_with_nothing_new_changes_nothing(lake):
    versions = {m: lake.version(m) for m in MARTS}
    summary = lake.run(MARTS, as_of="2026-11-10 01:00")
    assert {s["status"] for s in summary.values()} == {"unchanged"}
    assert {m: lake.version(m) for m in MARTS} == versions
