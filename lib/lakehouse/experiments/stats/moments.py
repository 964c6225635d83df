"""Per-variation statistics from sufficient statistics (sums), as gbstats 0.8.0 defines them.

Notation: ``n`` units, ``sum`` = Σy, ``sum_squares`` = Σy². Every statistic exposes
``n``, ``mean`` (the estimate the effect compares), ``unadjusted_mean`` (the observed mean,
the denominator of a relative effect) and ``variance`` (per unit; the effect divides by n).

Example::

    a = SampleMean(n=5000, sum=52000, sum_squares=1_560_000)
    a.mean, a.variance                  # 10.4, 203.880776...
    r = Ratio(n=4000, m=SampleMean(4000, 80000, 4e6), d=SampleMean(4000, 6000, 14000),
              m_d_sum_of_products=150000)
    a_cv, b_cv = cuped_pair(a_ra, b_ra)  # theta pooled over both arms
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol


class Statistic(Protocol):
    n: float

    @property
    def mean(self) -> float: ...

    @property
    def unadjusted_mean(self) -> float: ...

    @property
    def variance(self) -> float: ...


class _MeanOfSum:
    """``mean = Σy/n`` (0 without units); nothing adjusts it, so it is also the observed mean."""

    n: float
    sum: float

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n else 0.0

    @property
    def unadjusted_mean(self) -> float:
        return self.mean


@dataclass(frozen=True)
class SampleMean(_MeanOfSum):
    """A count, sum or amount per unit: ``s² = (Σy² - (Σy)²/n)/(n-1)``."""

    n: float
    sum: float
    sum_squares: float

    @property
    def variance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.sum_squares - self.sum**2 / self.n) / (self.n - 1)

    def pooled(self, other: SampleMean) -> SampleMean:
        return SampleMean(self.n + other.n, self.sum + other.sum, self.sum_squares + other.sum_squares)


@dataclass(frozen=True)
class Proportion(_MeanOfSum):
    """A 0/1 outcome per unit: ``p = Σy/n``, ``s² = p(1-p)`` (gbstats' binomial variance)."""

    n: float
    sum: float

    @property
    def sum_squares(self) -> float:
        return self.sum

    @property
    def variance(self) -> float:
        return self.mean * (1 - self.mean)

    def pooled(self, other: Proportion) -> Proportion:
        return Proportion(self.n + other.n, self.sum + other.sum)


def _covariance(n: float, sum_x: float, sum_y: float, sum_xy: float) -> float:
    if n <= 1:
        return 0.0
    return (sum_xy - sum_x * sum_y / n) / (n - 1)


@dataclass(frozen=True)
class Ratio:
    """``R = ΣM/ΣD`` over units; per-unit delta-method variance
    ``s²_M/μ_D² - 2 cov(M,D) μ_M/μ_D³ + μ_M² s²_D/μ_D⁴`` (μ = Σ/n)."""

    n: float
    m: SampleMean | Proportion
    d: SampleMean | Proportion
    m_d_sum_of_products: float

    @property
    def mean(self) -> float:
        return self.m.sum / self.d.sum if self.d.sum else 0.0

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def covariance(self) -> float:
        return _covariance(self.n, self.m.sum, self.d.sum, self.m_d_sum_of_products)

    @property
    def variance(self) -> float:
        mu_m, mu_d = self.m.mean, self.d.mean
        if mu_d == 0 or self.n <= 1:
            return 0.0
        return (
            self.m.variance / mu_d**2
            - 2 * self.covariance * mu_m / mu_d**3
            + mu_m**2 * self.d.variance / mu_d**4
        )


@dataclass(frozen=True)
class RegressionAdjusted:
    """CUPED: outcome ``post`` adjusted by the pre-exposure covariate ``pre``.

    ``mean = ȳ - θ x̄``, ``variance = s²_Y + θ² s²_X - 2θ cov(Y, X)``; the relative effect
    divides by the unadjusted ``ȳ``. θ comes from :func:`cuped_pair` (pooled over arms).
    """

    n: float
    post: SampleMean | Proportion
    pre: SampleMean | Proportion
    post_pre_sum_of_products: float
    theta: float = 0.0

    @property
    def mean(self) -> float:
        return self.post.mean - self.theta * self.pre.mean

    @property
    def unadjusted_mean(self) -> float:
        return self.post.mean

    @property
    def covariance(self) -> float:
        return _covariance(self.n, self.post.sum, self.pre.sum, self.post_pre_sum_of_products)

    @property
    def variance(self) -> float:
        if self.n <= 1:
            return 0.0
        return self.post.variance + self.theta**2 * self.pre.variance - 2 * self.theta * self.covariance


def theta(a: RegressionAdjusted, b: RegressionAdjusted) -> float:
    """``θ = Cov(Y, X)/Var(X)`` on the pooled sample; 0 when either pooled variance is 0."""
    post, pre = a.post.pooled(b.post), a.pre.pooled(b.pre)
    if pre.variance == 0 or post.variance == 0:
        return 0.0
    n = a.n + b.n
    return (
        _covariance(n, post.sum, pre.sum, a.post_pre_sum_of_products + b.post_pre_sum_of_products)
        / pre.variance
    )


def cuped_pair(
    a: RegressionAdjusted, b: RegressionAdjusted
) -> tuple[RegressionAdjusted, RegressionAdjusted] | tuple[Statistic, Statistic]:
    """Control and treatment with the pooled θ set; the unadjusted outcomes when θ is 0
    (no variance in the period), as gbstats falls back."""
    t = theta(a, b)
    if t == 0:
        return a.post, b.post
    return replace(a, theta=t), replace(b, theta=t)
