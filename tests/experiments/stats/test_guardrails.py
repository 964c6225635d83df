"""Guardrail verdicts: ok when the harm is bounded below the margin, breached when the
treatment is significantly worse beyond it, inconclusive otherwise."""

import pytest
from lakehouse.experiments.stats import Proportion, SampleMean, non_inferiority


def refunds(n, rate):
    return Proportion(n=n, sum=round(n * rate))


def test_ok_when_the_upper_bound_is_below_the_margin():
    verdict = non_inferiority(
        refunds(200_000, 0.050),
        refunds(200_000, 0.050),
        margin=0.10,
        margin_type="relative",
        direction="decrease",
    )
    assert verdict.status == "ok" and verdict.harm_high < 0.10 and verdict.harm == pytest.approx(0.0)


def test_breached_when_significantly_worse_beyond_the_margin():
    verdict = non_inferiority(
        refunds(50_000, 0.050),
        refunds(50_000, 0.065),
        margin=0.10,
        margin_type="relative",
        direction="decrease",
    )
    assert verdict.status == "breached"
    assert verdict.harm == pytest.approx(0.30) and verdict.harm_low > 0


def test_inconclusive_with_little_data():
    verdict = non_inferiority(
        refunds(500, 0.05), refunds(500, 0.06), margin=0.10, margin_type="relative", direction="decrease"
    )
    assert verdict.status == "inconclusive" and verdict.harm_low < 0 < verdict.harm_high


def test_harm_of_an_increase_metric_is_a_drop_and_absolute_margins():
    control = SampleMean(n=20_000, sum=20_000 * 10.0, sum_squares=20_000 * (100 + 4))
    worse = SampleMean(n=20_000, sum=20_000 * 9.0, sum_squares=20_000 * (81 + 4))
    verdict = non_inferiority(control, worse, margin=0.5, margin_type="absolute", direction="increase")
    assert verdict.status == "breached" and verdict.harm == pytest.approx(1.0)
    better = non_inferiority(worse, control, margin=0.5, margin_type="absolute", direction="increase")
    assert better.status == "ok" and better.harm == pytest.approx(-1.0)


def test_sequential_bounds_are_wider_than_fixed_horizon():
    args = {"margin": 0.10, "margin_type": "relative", "direction": "decrease"}
    fixed = non_inferiority(refunds(20_000, 0.05), refunds(20_000, 0.05), **args)
    seq = non_inferiority(refunds(20_000, 0.05), refunds(20_000, 0.05), sequential_tuning_n=5000, **args)
    assert seq.harm_high > fixed.harm_high and fixed.status == "ok"


def test_bad_arguments():
    with pytest.raises(ValueError, match="margin must be positive"):
        non_inferiority(
            refunds(10, 0.5), refunds(10, 0.5), margin=0, margin_type="relative", direction="decrease"
        )
    with pytest.raises(ValueError, match="direction must be"):
        non_inferiority(refunds(10, 0.5), refunds(10, 0.5), margin=1, margin_type="relative", direction="up")
