"""Guardrails as one-sided non-inferiority tests with a verdict.

The harm ``h`` is the effect in the metric's bad direction (``Δ`` for a metric whose good
direction is ``decrease``, ``-Δ`` otherwise), relative or absolute as the margin ``δ`` is.
With the one-sided (1 - alpha) bounds of ``h`` (the two-sided always-valid interval when the
experiment is sequential, which is conservative):

- ``ok``: the upper bound of h is below δ (the harm is shown to stay within the margin);
- ``breached``: the treatment is significantly worse (lower bound of h above 0) and the
  estimated harm exceeds δ;
- ``inconclusive``: otherwise (too little data either way), including an effect that
  cannot be computed.

Example::

    verdict = non_inferiority(control, treatment, margin=0.10, margin_type="relative",
                              direction="decrease", alpha=0.05)
    verdict.status          # 'ok' | 'breached' | 'inconclusive'
"""

from __future__ import annotations

from dataclasses import dataclass

from lakehouse.experiments.stats.effects import Effect, fixed_horizon, sequential
from lakehouse.experiments.stats.moments import Statistic

VERDICTS = ("ok", "breached", "inconclusive")


@dataclass(frozen=True)
class GuardrailVerdict:
    status: str
    harm: float  # estimated harm in the bad direction (relative or absolute as the margin)
    harm_low: float
    harm_high: float
    margin: float
    effect: Effect


def non_inferiority(
    a: Statistic,
    b: Statistic,
    *,
    margin: float,
    margin_type: str,
    direction: str,
    alpha: float = 0.05,
    sequential_tuning_n: float | None = None,
    relative_cuped: str = "gbstats_0_8",
) -> GuardrailVerdict:
    """Verdict of treatment ``b`` against control ``a`` on one guardrail metric.

    :param margin: δ > 0, the harm tolerated.
    :param margin_type: ``relative`` (δ on the relative effect) or ``absolute``.
    :param direction: the metric's good direction, ``increase`` or ``decrease``.
    :param sequential_tuning_n: N* when the experiment is sequential, else None (fixed horizon).
    """
    if margin <= 0:
        raise ValueError(f"margin must be positive, got {margin}")
    if margin_type not in ("relative", "absolute"):
        raise ValueError(f"margin_type must be relative or absolute, not {margin_type!r}")
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be increase or decrease, not {direction!r}")
    relative = margin_type == "relative"
    if sequential_tuning_n is None:
        # the one-sided (1 - alpha) bounds are the two-sided (1 - 2 alpha) interval's ends
        effect = fixed_horizon(a, b, relative=relative, alpha=2 * alpha, relative_cuped=relative_cuped)
    else:
        effect = sequential(
            a, b, relative=relative, alpha=alpha, tuning_n=sequential_tuning_n, relative_cuped=relative_cuped
        )
    sign = 1.0 if direction == "decrease" else -1.0
    harm = sign * effect.estimate
    low, high = sorted((sign * effect.ci_low, sign * effect.ci_high))
    if effect.error is not None:
        status = "inconclusive"
    elif high < margin:
        status = "ok"
    elif low > 0 and harm > margin:
        status = "breached"
    else:
        status = "inconclusive"
    return GuardrailVerdict(status, harm, low, high, margin, effect)
