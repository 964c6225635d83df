"""Experimentation: the registry and metrics as data, GrowthBook-compatible bucketing in
Spark, and the statistics of experiment results from sufficient statistics.

- :mod:`~lakehouse.experiments.documents`: YAML files checked against their JSON Schema;
- :mod:`~lakehouse.experiments.registry`: ``experiments/<key>.yaml``, phases and bucket ranges;
- :mod:`~lakehouse.experiments.metrics`: ``metrics/<key>.yaml`` and ``metrics/facts/<name>.yaml``;
- :mod:`~lakehouse.experiments.hashing`: GrowthBook's FNV-1a hash, bucket ranges and
  choice of variation as Spark built-in expressions;
- :mod:`~lakehouse.experiments.stats`: effects, CUPED, sequential intervals, SRM,
  guardrails and multiple-testing corrections (driver side, from sufficient statistics).
"""

from lakehouse.experiments.documents import DefinitionError

__all__ = ["DefinitionError"]
