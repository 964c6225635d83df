"""Synthetic experiments at Silver grain: exposure events assigned by GrowthBook's hash from
the registry, and bookings with a planted conversion lift (deterministic, seeded).

Planted faults, each with its expected count in :class:`PlantedExperiment`: treatment
exposures dropped (an SRM), exposures logged under the wrong variation (hash mismatches)
and units logged in both variations (``__multiple__``).

Example::

    world = synthetic_experiment(registry["search-ranking-v2"], units=4000,
                                 conversion=(0.10, 0.12), seed=1)
    world.exposures    # rows: event_id, experiment_key, variant, occurred_at, user_id, anon_id
    world.bookings     # rows: event_name, occurred_at, user_id, lbg_id, total_minor, currency
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

from lakehouse.experiments.bucketing import choose_variation_py, gb_hash_py
from lakehouse.experiments.registry import Experiment, Phase

EXPOSURE_COLUMNS = (
    "event_id string, experiment_key string, variant string, occurred_at timestamp, "
    "user_id string, anon_id string"
)
BOOKING_COLUMNS = (
    "event_name string, occurred_at timestamp, user_id string, lbg_id string, "
    "total_minor bigint, currency string"
)


@dataclass
class PlantedExperiment:
    exposures: list[tuple] = field(default_factory=list)
    bookings: list[tuple] = field(default_factory=list)
    assigned: dict[str, int] = field(default_factory=dict)  # units per variation by the hash
    dropped_treatment: int = 0
    mismatched: int = 0
    multiple: int = 0
    true_relative_lift: float = 0.0


def synthetic_experiment(
    experiment: Experiment,
    *,
    units: int,
    conversion: tuple[float, float],
    seed: int,
    drop_treatment_share: float = 0.0,
    mismatch_share: float = 0.0,
    multiple_share: float = 0.0,
    pre_booker_share: float = 0.3,
) -> PlantedExperiment:
    """Exposures in the experiment's first phase and bookings within 7 days of exposure.

    :param conversion: booking probability of control and of every other variation (units
        who booked before exposure convert twice as often: a CUPED covariate).
    """
    rng = Random(seed)
    phase = experiment.phases[0]
    keys = [v.key for v in experiment.variations]
    out = PlantedExperiment(true_relative_lift=conversion[1] / conversion[0] - 1)
    for i in range(units):
        unit, anon = f"{experiment.key}-u{i}", f"anon-{experiment.key}-u{i}"
        hash_value = unit if experiment.hash_attribute == "user_id" else anon
        assigned = hashed_variation(experiment, phase, hash_value)
        if assigned is None:
            continue
        index = keys.index(assigned)
        out.assigned[keys[index]] = out.assigned.get(keys[index], 0) + 1
        t0 = phase.start + timedelta(minutes=rng.randrange(3 * 24 * 60))
        if index > 0 and rng.random() < drop_treatment_share:
            out.dropped_treatment += 1
            continue
        logged = keys[index]
        if rng.random() < mismatch_share:
            logged = keys[(index + 1) % len(keys)]
            out.mismatched += 1
        out.exposures.append((f"{unit}-x0", experiment.key, logged, t0, unit, anon))
        if rng.random() < multiple_share:
            other = keys[(keys.index(logged) + 1) % len(keys)]
            out.exposures.append((f"{unit}-x1", experiment.key, other, t0 + timedelta(hours=1), unit, anon))
            out.multiple += 1
        pre_booker = rng.random() < pre_booker_share
        if pre_booker:
            out.bookings.append(_booking(unit, "pre", t0 - timedelta(days=rng.randint(1, 10)), rng))
        p = conversion[0] if index == 0 else conversion[1]
        if rng.random() < min(1.0, p * (2 if pre_booker else 1) / (1 + pre_booker_share)):
            out.bookings.append(_booking(unit, "post", t0 + timedelta(hours=rng.randint(1, 6 * 24)), rng))
    return out


def hashed_variation(experiment: Experiment, phase: Phase, hash_value: str) -> str | None:
    """The variation GrowthBook's SDK assigns ``hash_value`` in ``phase``; None outside coverage."""
    index = choose_variation_py(gb_hash_py(phase.seed, hash_value, experiment.hash_version), phase.ranges)
    return experiment.variations[index].key if index >= 0 else None


def _booking(unit: str, tag: str, at: datetime, rng: Random) -> tuple:
    return ("lbg_booked", at, unit, f"{unit}-{tag}", rng.randint(2_000, 40_000), "EUR")
