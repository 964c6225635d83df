"""The experiment registry as data: ``experiments/<key>.yaml``, one file per experiment.

Each file is validated by ``experiments/schema/experiment.schema.json``; on top of the
schema the loader checks what a schema cannot: weights that sum to 1 and match the
variations, phases in order without overlap, metric keys that exist in ``metrics/`` and
guardrails that carry a margin. Any fault is one :class:`DefinitionError`.

Example (``experiments/search-ranking-v2.yaml``)::

    key: search-ranking-v2
    name: Search ranking v2
    owner: search
    unit: user_id                 # the unit of analysis
    hash_attribute: user_id       # the id the SDK hashed
    hash_version: 2               # GrowthBook v1 or v2; seed defaults to the key
    variations: [{key: control}, {key: treatment}]
    phases:
      - {start: "2026-11-02T00:00:00Z", weights: [0.5, 0.5]}
    metrics: {primary: [booking_conversion_7d], guardrails: [refund_rate]}
    analysis: {alpha: 0.05, sequential: {enabled: true, tuning_n: 5000}}

    registry = load_registry()
    registry["search-ranking-v2"].phases[0].ranges    # ((0.0, 0.5), (0.5, 1.0))
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakehouse.assets import asset_dir
from lakehouse.experiments.bucketing import Range, bucket_ranges
from lakehouse.experiments.documents import DefinitionError, check_stem, display_name, load_document
from lakehouse.experiments.metrics import Metric, load_metrics

WEIGHT_TOLERANCE = 1e-9
METRIC_ROLES = ("primary", "secondary", "guardrails")


@dataclass(frozen=True)
class Variation:
    index: int
    key: str
    name: str


@dataclass(frozen=True)
class Phase:
    """One period of fixed bucketing (weights, coverage, seed, bucket version)."""

    index: int
    start: datetime
    end: datetime | None  # exclusive; None while running
    coverage: float
    weights: tuple[float, ...]
    seed: str
    bucket_version: int
    min_bucket_version: int
    note: str = ""

    @property
    def ranges(self) -> tuple[Range, ...]:
        """GrowthBook bucket ranges of this phase, one per variation."""
        return tuple(bucket_ranges(len(self.weights), self.coverage, self.weights))

    def contains(self, ts: datetime) -> bool:
        return self.start <= ts and (self.end is None or ts < self.end)


@dataclass(frozen=True)
class Analysis:
    alpha: float = 0.05
    correction: str = "holm"
    sequential: bool = True
    sequential_tuning_n: float = 5000.0
    cuped: bool = True
    cuped_pre_period_days: int = 14
    srm_p_threshold: float = 0.001
    min_units_per_variation: int = 100


@dataclass(frozen=True)
class Experiment:
    key: str
    name: str
    description: str
    owner: str
    unit: str
    hash_attribute: str
    seed: str
    hash_version: int
    sticky: bool
    variations: tuple[Variation, ...]
    phases: tuple[Phase, ...]
    metrics: Mapping[str, tuple[str, ...]]  # role -> metric keys
    analysis: Analysis
    source: str = field(default="", compare=False)

    @property
    def control(self) -> Variation:
        return self.variations[0]

    def variation(self, key: str) -> Variation | None:
        return next((v for v in self.variations if v.key == key), None)

    def phase_at(self, ts: datetime) -> Phase | None:
        return next((p for p in self.phases if p.contains(ts)), None)

    def metric_keys(self) -> tuple[str, ...]:
        return tuple(k for role in METRIC_ROLES for k in self.metrics[role])


@dataclass(frozen=True)
class Registry(Mapping[str, Experiment]):
    """Experiments by key, with the metric catalog they refer to."""

    experiments: Mapping[str, Experiment]
    metrics: Mapping[str, Metric]

    def __getitem__(self, key: str) -> Experiment:
        return self.experiments[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.experiments)

    def __len__(self) -> int:
        return len(self.experiments)


def _timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _phases(doc: dict[str, Any], name: str, n_variations: int, seed: str) -> tuple[Phase, ...]:
    phases = []
    for i, raw in enumerate(doc["phases"]):
        where = f"{name}: phases/{i}"
        weights = tuple(float(w) for w in raw["weights"])
        if len(weights) != n_variations:
            raise DefinitionError(f"{where}/weights: {len(weights)} weights for {n_variations} variations")
        if not math.isclose(math.fsum(weights), 1.0, rel_tol=0, abs_tol=WEIGHT_TOLERANCE):
            raise DefinitionError(f"{where}/weights: the weights sum to {math.fsum(weights):g}, not 1")
        start = _timestamp(raw["start"])
        end = _timestamp(raw["end"]) if raw.get("end") else None
        if end is not None and end <= start:
            raise DefinitionError(f"{where}: end {raw['end']} is not after start {raw['start']}")
        if phases:
            previous = phases[-1]
            if previous.end is None or previous.end > start:
                raise DefinitionError(
                    f"{where}: starts before phase {i - 1} ends (phases run one after another)"
                )
        if raw.get("min_bucket_version", 0) > raw.get("bucket_version", 0):
            raise DefinitionError(f"{where}: min_bucket_version is above bucket_version")
        seed = raw.get("seed", seed)
        phases.append(
            Phase(
                index=i,
                start=start,
                end=end,
                coverage=float(raw.get("coverage", 1.0)),
                weights=weights,
                seed=seed,
                bucket_version=int(raw.get("bucket_version", 0)),
                min_bucket_version=int(raw.get("min_bucket_version", 0)),
                note=raw.get("note", ""),
            )
        )
    return tuple(phases)


def parse_experiment(doc: dict[str, Any], metrics: Mapping[str, Metric], name: str) -> Experiment:
    """A schema-valid experiment document as an :class:`Experiment` (cross-checks raise)."""
    variations = tuple(
        Variation(index=i, key=v["key"], name=v.get("name", v["key"]))
        for i, v in enumerate(doc["variations"])
    )
    keys = [v.key for v in variations]
    if len(set(keys)) != len(keys):
        raise DefinitionError(f"{name}: variations: duplicate variation keys {keys}")
    roles = {role: tuple(doc["metrics"].get(role, ())) for role in METRIC_ROLES}
    seen: dict[str, str] = {}
    for role, metric_keys in roles.items():
        for key in metric_keys:
            if key not in metrics:
                raise DefinitionError(
                    f"{name}: metrics/{role}: unknown metric {key!r} (no metrics/{key}.yaml)"
                )
            if key in seen:
                raise DefinitionError(f"{name}: metrics: {key!r} is both {seen[key]} and {role}")
            seen[key] = role
            if role == "guardrails" and metrics[key].guardrail is None:
                raise DefinitionError(
                    f"{name}: metrics/guardrails: metric {key!r} has no guardrail margin "
                    f"in metrics/{key}.yaml"
                )
    raw_analysis = doc.get("analysis", {})
    sequential = raw_analysis.get("sequential", {})
    cuped = raw_analysis.get("cuped", {})
    defaults = Analysis()
    analysis = Analysis(
        alpha=float(raw_analysis.get("alpha", defaults.alpha)),
        correction=raw_analysis.get("correction", defaults.correction),
        sequential=bool(sequential.get("enabled", defaults.sequential)),
        sequential_tuning_n=float(sequential.get("tuning_n", defaults.sequential_tuning_n)),
        cuped=bool(cuped.get("enabled", defaults.cuped)),
        cuped_pre_period_days=int(cuped.get("pre_period_days", defaults.cuped_pre_period_days)),
        srm_p_threshold=float(raw_analysis.get("srm_p_threshold", defaults.srm_p_threshold)),
        min_units_per_variation=int(
            raw_analysis.get("min_units_per_variation", defaults.min_units_per_variation)
        ),
    )
    seed = doc.get("seed", doc["key"])
    return Experiment(
        key=doc["key"],
        name=doc["name"],
        description=doc.get("description", ""),
        owner=doc["owner"],
        unit=doc["unit"],
        hash_attribute=doc["hash_attribute"],
        seed=seed,
        hash_version=int(doc["hash_version"]),
        sticky=bool(doc.get("sticky", False)),
        variations=variations,
        phases=_phases(doc, name, len(variations), seed),
        metrics=roles,
        analysis=analysis,
        source=name,
    )


def load_experiment(path: Path, metrics: Mapping[str, Metric]) -> Experiment:
    """One registry file, validated against the schema and the metric catalog."""
    doc = load_document(path, asset_dir("experiments") / "schema" / "experiment.schema.json")
    check_stem(path, doc, "key")
    return parse_experiment(doc, metrics, display_name(path))


def load_registry(folder: Path | None = None, metrics: Mapping[str, Metric] | None = None) -> Registry:
    """Every ``<key>.yaml`` of the experiments folder (default: the shipped one), by key.

    :raises DefinitionError: the first broken file, naming it and its fault.
    """
    folder = Path(folder) if folder is not None else asset_dir("experiments")
    metrics = metrics if metrics is not None else load_metrics()
    experiments = {}
    for path in sorted(folder.glob("*.yaml")):
        experiment = load_experiment(path, metrics)
        experiments[experiment.key] = experiment
    return Registry(experiments=experiments, metrics=dict(metrics))


def registry_digest() -> str:
    """Hash of every shipped registry, metric and fact file: a mart built from the registry
    carries it, so editing an experiment rebuilds that mart."""
    digest = hashlib.sha256()
    for folder in (asset_dir("experiments"), asset_dir("metrics")):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(folder.parent)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
