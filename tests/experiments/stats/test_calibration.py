"""Calibration on simulated A/A experiments (numpy, seeded, no Spark).

- fixed horizon: the false-positive rate stays within a two-sided 99.9% binomial bound of alpha;
- sequential, peeked daily over 20 looks: the rate of "significant at any look" stays at or
  below alpha (not significantly above it), while the naive fixed-horizon test peeked the
  same way is significantly above alpha.

Only sums leave the simulation: the statistics see exactly what the Gold tables hold.
"""

import numpy as np
import pytest
from lakehouse.experiments.stats import (
    Proportion,
    RegressionAdjusted,
    SampleMean,
    cuped_pair,
    fixed_horizon,
    sequential,
)
from scipy import stats as distributions

ALPHA = 0.05
LOOKS = 20


def binomial_bounds(trials, alpha=ALPHA, level=0.999):
    low, high = distributions.binom.interval(level, trials, alpha)
    return low, high


def aa_outcomes(rng, kind, shape):
    """One A/A outcome per unit: both arms from the same distribution."""
    if kind == "proportion":
        return (rng.random(shape) < 0.08).astype(float)
    return rng.lognormal(mean=2.0, sigma=1.0, size=shape)  # skewed, like revenue per unit


def statistic(kind, n, s, q):
    return Proportion(n, s) if kind == "proportion" else SampleMean(n, s, q)


def fixed_horizon_rate(kind, experiments=2000, units=800, seed=1):
    rng = np.random.default_rng(seed)
    y = aa_outcomes(rng, kind, (experiments, 2, units))
    s, q = y.sum(axis=2), (y * y).sum(axis=2)
    rejections = 0
    for e in range(experiments):
        a = statistic(kind, units, s[e, 0], q[e, 0])
        b = statistic(kind, units, s[e, 1], q[e, 1])
        rejections += fixed_horizon(a, b, relative=True, alpha=ALPHA).p_value < ALPHA
    return rejections, experiments


def cuped_fixed_horizon_rate(experiments=2000, units=800, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.lognormal(2.0, 1.0, (experiments, 2, units))
    y = 0.8 * x + rng.normal(0, 3, x.shape)
    s, q = y.sum(axis=2), (y * y).sum(axis=2)
    xs, xq, xy = x.sum(axis=2), (x * x).sum(axis=2), (x * y).sum(axis=2)
    rejections = 0
    for e in range(experiments):
        a, b = (
            RegressionAdjusted(
                units, SampleMean(units, s[e, v], q[e, v]), SampleMean(units, xs[e, v], xq[e, v]), xy[e, v]
            )
            for v in (0, 1)
        )
        a, b = cuped_pair(a, b)
        rejections += fixed_horizon(a, b, relative=True, alpha=ALPHA).p_value < ALPHA
    return rejections, experiments


def peeking_rates(kind, experiments=600, units_per_day=100, seed=3, tuning_n=None):
    """Share of A/A experiments called significant at any of 20 daily looks: (sequential, naive)."""
    rng = np.random.default_rng(seed)
    y = aa_outcomes(rng, kind, (experiments, 2, LOOKS, units_per_day))
    s = y.sum(axis=3).cumsum(axis=2)  # cumulative daily sums, as exp_metric_stats_daily holds
    q = (y * y).sum(axis=3).cumsum(axis=2)
    tuning_n = tuning_n or 2 * LOOKS * units_per_day
    sequential_hits = naive_hits = 0
    for e in range(experiments):
        seq_hit = naive_hit = False
        for day in range(LOOKS):
            n = units_per_day * (day + 1)
            a = statistic(kind, n, s[e, 0, day], q[e, 0, day])
            b = statistic(kind, n, s[e, 1, day], q[e, 1, day])
            seq_hit = (
                seq_hit or sequential(a, b, relative=True, alpha=ALPHA, tuning_n=tuning_n).p_value < ALPHA
            )
            naive_hit = naive_hit or fixed_horizon(a, b, relative=True, alpha=ALPHA).p_value < ALPHA
            if seq_hit and naive_hit:
                break
        sequential_hits += seq_hit
        naive_hits += naive_hit
    return sequential_hits, naive_hits, experiments


@pytest.mark.parametrize("kind", ["proportion", "mean"])
def test_fixed_horizon_false_positive_rate_is_alpha(kind):
    rejections, trials = fixed_horizon_rate(kind)
    low, high = binomial_bounds(trials)
    assert low <= rejections <= high, f"{rejections}/{trials} false positives"


def test_cuped_false_positive_rate_is_alpha():
    rejections, trials = cuped_fixed_horizon_rate()
    low, high = binomial_bounds(trials)
    assert low <= rejections <= high, f"{rejections}/{trials} false positives"


@pytest.mark.parametrize("kind", ["proportion", "mean"])
def test_sequential_keeps_alpha_under_daily_peeking_and_naive_does_not(kind):
    sequential_hits, naive_hits, trials = peeking_rates(kind)
    _, high = binomial_bounds(trials)
    assert sequential_hits <= high, (
        f"sequential: {sequential_hits}/{trials} false positives over {LOOKS} looks"
    )
    assert naive_hits > high, f"naive: only {naive_hits}/{trials} false positives over {LOOKS} looks"
    assert sequential_hits / trials <= ALPHA + 0.01 and naive_hits / trials > 2 * ALPHA
