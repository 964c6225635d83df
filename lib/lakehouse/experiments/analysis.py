"""From one variation pair's sufficient statistics to a result row (driver side).

:func:`statistic_from_sums` turns a row of :func:`~lakehouse.experiments.unit_metrics.sufficient_statistics`
into the statistic its metric kind needs (CUPED when the registry asks for it and the
covariate varies); :func:`compare` gives the fixed-horizon and sequential effects and,
for guardrails, the non-inferiority verdict.

Example::

    result = compare(control_sums, treatment_sums, metric, experiment.analysis, role="primary")
    result.fixed.ci_low, result.sequential.p_value, result.guardrail
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lakehouse.experiments.metrics import Metric
from lakehouse.experiments.registry import Analysis
from lakehouse.experiments.stats import (
    Effect,
    GuardrailVerdict,
    Proportion,
    Ratio,
    RegressionAdjusted,
    SampleMean,
    cuped_pair,
    fixed_horizon,
    non_inferiority,
    sequential,
)
from lakehouse.experiments.stats.moments import Statistic


def _f(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key)
    return float(value) if value is not None else 0.0


def statistic_from_sums(kind: str, row: Mapping[str, Any], cuped: bool = False) -> Statistic:
    """The statistic of one variation from its sums (``units, sum_y, sum_y2, ...``)."""
    n = _f(row, "units")
    post: SampleMean | Proportion = (
        Proportion(n, _f(row, "sum_y"))
        if kind == "proportion"
        else SampleMean(n, _f(row, "sum_y"), _f(row, "sum_y2"))
    )
    if kind == "ratio":
        return Ratio(n, post, SampleMean(n, _f(row, "sum_d"), _f(row, "sum_d2")), _f(row, "sum_yd"))
    if cuped:
        pre = (
            Proportion(n, _f(row, "sum_x"))
            if kind == "proportion"
            else SampleMean(n, _f(row, "sum_x"), _f(row, "sum_x2"))
        )
        return RegressionAdjusted(n, post, pre, _f(row, "sum_xy"))
    return post


@dataclass(frozen=True)
class Comparison:
    fixed: Effect
    sequential: Effect | None
    cuped: bool
    guardrail: GuardrailVerdict | None


def compare(
    control: Mapping[str, Any],
    treatment: Mapping[str, Any],
    metric: Metric,
    analysis: Analysis,
    role: str,
) -> Comparison:
    """Relative effect of ``treatment`` over ``control`` on one metric, as the registry asks."""
    use_cuped = analysis.cuped and metric.kind != "ratio"  # ratio CUPED is not in gbstats 0.8.0
    a = statistic_from_sums(metric.kind, control, use_cuped)
    b = statistic_from_sums(metric.kind, treatment, use_cuped)
    if use_cuped:
        a, b = cuped_pair(a, b)
        use_cuped = isinstance(a, RegressionAdjusted)
    fixed = fixed_horizon(a, b, relative=True, alpha=analysis.alpha)
    seq = (
        sequential(a, b, relative=True, alpha=analysis.alpha, tuning_n=analysis.sequential_tuning_n)
        if analysis.sequential
        else None
    )
    verdict = None
    if role == "guardrails" and metric.guardrail is not None:
        verdict = non_inferiority(
            a,
            b,
            margin=metric.guardrail.margin,
            margin_type=metric.guardrail.margin_type,
            direction=metric.direction,
            alpha=analysis.alpha,
            sequential_tuning_n=analysis.sequential_tuning_n if analysis.sequential else None,
        )
    return Comparison(fixed=fixed, sequential=seq, cuped=use_cuped, guardrail=verdict)
