"""Experiment statistics on the driver, from sufficient statistics (they are small).

The formulas are gbstats 0.8.0's (the PyPI wheel; GrowthBook's frequentist engine), so
results agree with it on the same sums:

- :mod:`.moments`: per-variation statistics from sums (mean, proportion, ratio, CUPED);
- :mod:`.effects`: absolute and relative effects, fixed-horizon Welch t test and
  GrowthBook's always-valid sequential interval and p-value;
- :mod:`.srm`: sample-ratio-mismatch chi-square test;
- :mod:`.guardrails`: one-sided non-inferiority verdicts;
- :mod:`.corrections`: Holm and Benjamini-Hochberg adjusted p-values.
"""

from lakehouse.experiments.stats.corrections import adjust_p_values, benjamini_hochberg, holm
from lakehouse.experiments.stats.effects import Effect, fixed_horizon, sequential
from lakehouse.experiments.stats.guardrails import GuardrailVerdict, non_inferiority
from lakehouse.experiments.stats.moments import (
    Proportion,
    Ratio,
    RegressionAdjusted,
    SampleMean,
    cuped_pair,
)
from lakehouse.experiments.stats.srm import srm_p_value

__all__ = [
    "Effect",
    "GuardrailVerdict",
    "Proportion",
    "Ratio",
    "RegressionAdjusted",
    "SampleMean",
    "adjust_p_values",
    "benjamini_hochberg",
    "cuped_pair",
    "fixed_horizon",
    "holm",
    "non_inferiority",
    "sequential",
    "srm_p_value",
]
