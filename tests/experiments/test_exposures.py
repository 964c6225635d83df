"""Exposures classified against the registry, re-derived with GrowthBook's hash, first
exposure per experiment x phase x unit, sticky bucketing and bucket versions."""

from datetime import datetime

import pytest
from lakehouse.experiments.bucketing import gb_hash_py
from lakehouse.experiments.exposures import (
    MULTIPLE,
    classify_exposures,
    exposure_counts,
    first_exposures,
    registry_frame,
    registry_rows,
)
from lakehouse.experiments.metrics import load_metrics
from lakehouse.experiments.registry import Registry, load_registry, parse_experiment

STICKY = {
    "key": "sticky-exp",
    "name": "Sticky",
    "owner": "t",
    "unit": "user_id",
    "hash_attribute": "user_id",
    "hash_version": 2,
    "sticky": True,
    "variations": [{"key": "control"}, {"key": "treatment"}],
    "phases": [
        {"start": "2026-11-01T00:00:00Z", "end": "2026-11-05T00:00:00Z", "weights": [0.5, 0.5]},
        {"start": "2026-11-05T00:00:00Z", "end": "2026-11-10T00:00:00Z", "weights": [0.1, 0.9]},
        {
            "start": "2026-11-10T00:00:00Z",
            "weights": [0.5, 0.5],
            "bucket_version": 1,
            "min_bucket_version": 1,
        },
    ],
    "metrics": {"primary": ["booking_conversion_7d"]},
}


def ids_where(seed, predicate, count):
    found = [u for u in (f"user-{i}" for i in range(10_000)) if predicate(gb_hash_py(seed, u, 2))]
    return found[:count]


@pytest.fixture(scope="module")
def registry():
    shipped = load_registry()
    metrics = load_metrics()
    sticky = parse_experiment(STICKY, metrics, "sticky-exp.yaml")
    return Registry(experiments={**shipped.experiments, sticky.key: sticky}, metrics=metrics)


@pytest.fixture(scope="module")
def outcome(spark, registry):
    search = "search-ranking-v2"
    hashed = lambda u: "control" if gb_hash_py(search, u, 2) < 0.5 else "treatment"  # noqa: E731
    other = {"control": "treatment", "treatment": "control"}
    u_ok, u_bad, u_multi = ids_where(search, lambda n: True, 3)
    s1, s2 = ids_where("sticky-exp", lambda n: 0.1 <= n < 0.5, 2)  # control at 50/50, treatment at 10/90
    t = datetime
    events = [
        ("e1", search, hashed(u_ok), t(2026, 11, 3, 10), u_ok, None),
        ("e2", search, hashed(u_ok), t(2026, 11, 3, 9), u_ok, None),
        ("e3", search, other[hashed(u_bad)], t(2026, 11, 3), u_bad, None),
        ("e4", search, "control", t(2026, 11, 3, 1), u_multi, None),
        ("e5", search, "treatment", t(2026, 11, 3, 2), u_multi, None),
        ("e6", "nope", "control", t(2026, 11, 3), u_ok, None),
        ("e7", search, "control", t(2026, 10, 1), u_ok, None),
        ("e8", search, "blue", t(2026, 11, 3), u_ok, None),
        ("e9", search, "control", t(2026, 11, 3), None, "anon-1"),
        ("s1a", "sticky-exp", "control", t(2026, 11, 2), s1, None),
        ("s1b", "sticky-exp", "control", t(2026, 11, 6), s1, None),  # sticky: keeps control
        ("s2b", "sticky-exp", "control", t(2026, 11, 6), s2, None),  # new in phase 1: hash says treatment
        ("s1c", "sticky-exp", "treatment", t(2026, 11, 11), s1, None),  # bucket version 0 < min 1
    ]
    schema = (
        "event_id string, experiment_key string, variant string, occurred_at timestamp, "
        "user_id string, anon_id string"
    )
    df = spark.createDataFrame(events, schema)
    classified = df.transform(classify_exposures(registry_frame(spark, registry))).cache()
    firsts = {(r.experiment_key, r.phase, r.unit_id): r for r in first_exposures(classified).collect()}
    statuses = {r.event_id: r.status for r in classified.collect()}
    counts = {(r.experiment_key, r.status): r.exposures for r in exposure_counts(classified).collect()}
    return {"ids": (u_ok, u_bad, u_multi, s1, s2), "firsts": firsts, "statuses": statuses, "counts": counts}


def test_registry_rows_carry_ranges(registry):
    rows = {(r[0], r[1]): r for r in registry_rows(registry)}
    assert rows[("checkout-one-page", 0)][14] == [(0.0, 0.1), (0.5, 0.6)]
    assert rows[("sticky-exp", 2)][9:11] == (1, 1)
    assert len(rows) == 7


def test_every_exposure_gets_a_status(outcome):
    s = outcome["statuses"]
    assert [s[e] for e in ("e1", "e3", "e4", "e6", "e7", "e8", "e9")] == [
        "ok",
        "ok",
        "ok",
        "unknown_experiment",
        "outside_phase",
        "unknown_variation",
        "missing_unit",
    ]
    assert sum(outcome["counts"].values()) == 13  # nothing dropped
    assert outcome["counts"][("search-ranking-v2", "ok")] == 5


def test_first_exposure_and_hash_audit(outcome):
    u_ok, u_bad, u_multi, *_ = outcome["ids"]
    ok = outcome["firsts"][("search-ranking-v2", 0, u_ok)]
    assert ok.first_exposure_ts == datetime(2026, 11, 3, 9) and ok.n_exposure_events == 2
    assert ok.variation == ok.expected_variation and not ok.hash_mismatch
    bad = outcome["firsts"][("search-ranking-v2", 0, u_bad)]
    assert bad.hash_mismatch and bad.variation != bad.hashed_variation
    multi = outcome["firsts"][("search-ranking-v2", 0, u_multi)]
    assert multi.variation == MULTIPLE and multi.first_variation == "control" and multi.n_variations == 2


def test_sticky_assignment_is_not_a_mismatch(outcome):
    *_, s1, s2 = outcome["ids"]
    f = outcome["firsts"]
    assert (
        f[("sticky-exp", 0, s1)].hashed_variation == "control" and not f[("sticky-exp", 0, s1)].hash_mismatch
    )
    kept = f[("sticky-exp", 1, s1)]
    assert kept.hashed_variation == "treatment" and kept.expected_variation == "control"
    assert not kept.hash_mismatch
    newcomer = f[("sticky-exp", 1, s2)]
    assert newcomer.expected_variation == "treatment" and newcomer.hash_mismatch
    stale = f[("sticky-exp", 2, s1)]
    assert stale.excluded_stale_bucket and stale.expected_variation is None and not stale.hash_mismatch
