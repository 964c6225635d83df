"""The worked examples of gbstats 0.8.0 (experimentation-compat.md section 4), to 1e-6 relative.

Control is listed first everywhere; alpha = 0.05.
"""

import pytest
from lakehouse.experiments.stats import (
    Proportion,
    Ratio,
    RegressionAdjusted,
    SampleMean,
    cuped_pair,
    fixed_horizon,
    sequential,
    srm_p_value,
)
from lakehouse.experiments.stats.effects import sequential_halfwidth, sequential_rho, welch_dof
from lakehouse.experiments.stats.moments import theta


def close(x):
    return pytest.approx(x, rel=1e-6)


A = SampleMean(n=5000, sum=52000, sum_squares=1_560_000)
B = SampleMean(n=5100, sum=55590, sum_squares=1_660_000)


def test_a_mean():
    assert (A.variance, B.variance) == (close(203.880776), close(206.720730))
    assert welch_dof(A, B) == pytest.approx(10096.32, abs=0.005)
    rel = fixed_horizon(A, B, relative=True)
    assert (rel.estimate, rel.ci_low, rel.ci_high, rel.p_value) == (
        close(0.0480769231),
        close(-0.0069790085),
        close(0.1031328547),
        close(0.0869790054),
    )
    ab = fixed_horizon(A, B, relative=False)
    assert (ab.estimate, ab.ci_low, ab.ci_high, ab.p_value) == (
        close(0.5),
        close(-0.0589476759),
        close(1.0589476759),
        close(0.0795512450),
    )
    assert not rel.significant and rel.error is None


def test_a_sequential():
    assert sequential_rho(0.05, 5000) == close(0.0398400668)
    seq = sequential(A, B, relative=True, alpha=0.05, tuning_n=5000)
    assert seq.ci_high - seq.estimate == close(3.0622035 * seq.se)
    assert sequential_halfwidth(seq.variance, 10100, 0.05, 5000) == close(3.0622035 * seq.se)
    assert (seq.estimate, seq.ci_low, seq.ci_high, seq.p_value) == (
        close(0.0480769231),
        close(-0.0379309094),
        close(0.1340847555),
        1.0,
    )


def test_b_binomial():
    effect = fixed_horizon(Proportion(n=10000, sum=1000), Proportion(n=10050, sum=1100), relative=True)
    assert (effect.estimate, effect.ci_low, effect.ci_high, effect.p_value) == (
        close(0.0945273632),
        close(0.0058226388),
        close(0.1832320876),
        close(0.0367434047),
    )
    assert effect.significant


def test_c_ratio():
    a = Ratio(
        n=4000,
        m=SampleMean(4000, 80000, 4.0e6),
        d=SampleMean(4000, 6000, 14000),
        m_d_sum_of_products=150000,
    )
    b = Ratio(
        n=4100,
        m=SampleMean(4100, 86000, 4.3e6),
        d=SampleMean(4100, 6200, 14500),
        m_d_sum_of_products=158000,
    )
    assert (a.mean, b.mean) == (close(13.3333333), close(13.8709677))
    assert (a.variance, b.variance) == (close(276.6123630), close(288.7586938))
    effect = fixed_horizon(a, b, relative=True)
    assert (effect.estimate, effect.ci_low, effect.ci_high, effect.p_value) == (
        close(0.0403225806),
        close(-0.0157130471),
        close(0.0963582084),
        close(0.1584075133),
    )


def cuped_example():
    a = RegressionAdjusted(
        n=5000, post=A, pre=SampleMean(5000, 50000, 1.40e6), post_pre_sum_of_products=1.30e6
    )
    b = RegressionAdjusted(
        n=5100, post=B, pre=SampleMean(5100, 51200, 1.43e6), post_pre_sum_of_products=1.36e6
    )
    return a, b


def test_d_cuped():
    a, b = cuped_example()
    assert theta(a, b) == close(0.8711304818)
    a, b = cuped_pair(a, b)
    assert (a.theta, b.theta) == (close(0.8711304818), close(0.8711304818))
    assert (a.variance, b.variance) == (close(68.6573181), close(69.0395203))
    effect = fixed_horizon(a, b, relative=True)
    assert (effect.estimate, effect.ci_low, effect.ci_high, effect.p_value) == (
        close(0.0447921173),
        close(0.0129056121),
        close(0.0766786225),
        close(0.0059056073),
    )
    reduction = 1 - a.variance / A.variance
    assert reduction == pytest.approx(0.663, abs=1e-3)  # CUPED shrinks the control variance by two thirds


def test_d_cuped_with_growthbooks_corrected_relative_variance():
    a, b = cuped_pair(*cuped_example())
    effect = fixed_horizon(a, b, relative=True, relative_cuped="corrected")
    assert (effect.ci_low, effect.ci_high) == (close(0.0128783016), close(0.0767059330))
    assert effect.estimate == close(0.0447921173)
    with pytest.raises(ValueError, match="relative_cuped must be one of"):
        fixed_horizon(a, b, relative=True, relative_cuped="new")


def test_cuped_falls_back_without_pre_period_variance():
    a = RegressionAdjusted(n=5000, post=A, pre=SampleMean(5000, 0, 0), post_pre_sum_of_products=0)
    b = RegressionAdjusted(n=5100, post=B, pre=SampleMean(5100, 0, 0), post_pre_sum_of_products=0)
    assert cuped_pair(a, b) == (A, B)


def test_srm():
    assert srm_p_value([5000, 5100], [0.5, 0.5]) == close(0.3197181768)
    assert srm_p_value([3300, 3350, 3200], [1 / 3, 1 / 3, 1 / 3]) == close(0.1692040753)
    assert srm_p_value([0, 0], [0.5, 0.5]) == 1.0
    assert srm_p_value([5000, 4000], [0.5, 0.5]) < 1e-20


def test_uninformative_when_the_control_mean_is_zero_or_no_variance():
    zero = fixed_horizon(SampleMean(100, 0, 0), B)
    assert (zero.estimate, zero.ci_low, zero.ci_high, zero.p_value, zero.error) == (
        0.0,
        0.0,
        0.0,
        1.0,
        "zero control mean",
    )
    flat = sequential(Proportion(100, 100), Proportion(100, 50))
    assert flat.error == "zero or negative variance" and flat.p_value == 1.0
