"""Treatment vs control effects from two statistics (gbstats 0.8.0 frequentist engine).

- absolute ``Δ = m_b - m_a``, ``Var = s²_b/n_b + s²_a/n_a``;
- relative ``Δ = (m_b - m_a)/ȳ_a`` with the delta-method variance
  ``s²_b/(ȳ_a² n_b) + s²_a ȳ_b²/(ȳ_a⁴ n_a)`` (ȳ: unadjusted means, m: adjusted under CUPED);
- :func:`fixed_horizon`: Welch t test, two-sided CI and p-value (one-sided for guardrails);
- :func:`sequential`: GrowthBook's always-valid asymptotic confidence sequence
  (Waudby-Smith et al. 2023, arXiv 2103.06476 eqs. 9, 155, 161) with tuning N*.

Relative CUPED variance: ``relative_cuped="gbstats_0_8"`` (default) is the wheel's formula
above; ``"corrected"`` is GrowthBook's later derivation (PR #3610), which also carries the
covariate's covariance with the control mean and gives slightly wider intervals.

Example::

    effect = fixed_horizon(control, treatment, relative=True, alpha=0.05)
    effect.estimate, effect.ci_low, effect.ci_high, effect.p_value
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as distributions

from lakehouse.experiments.stats.moments import RegressionAdjusted, Statistic

RELATIVE_CUPED_FORMULAS = ("gbstats_0_8", "corrected")


@dataclass(frozen=True)
class Effect:
    """One comparison: estimate, its variance, interval and p-value; ``error`` when the
    comparison cannot be made (zero control mean, no variance), then estimate 0, p 1."""

    estimate: float
    variance: float
    ci_low: float
    ci_high: float
    p_value: float
    dof: float | None = None
    error: str | None = None

    @property
    def se(self) -> float:
        return math.sqrt(self.variance) if self.variance > 0 else 0.0

    @property
    def significant(self) -> bool:
        return self.error is None and not (self.ci_low <= 0 <= self.ci_high)


def _uninformative(error: str) -> Effect:
    return Effect(estimate=0.0, variance=0.0, ci_low=0.0, ci_high=0.0, p_value=1.0, error=error)


def _check(a: Statistic, b: Statistic) -> str | None:
    if a.mean == 0 or a.unadjusted_mean == 0:
        return "zero control mean"
    if a.variance <= 0 or b.variance <= 0:
        return "zero or negative variance"
    return None


def point_estimate(a: Statistic, b: Statistic, relative: bool) -> float:
    difference = b.mean - a.mean
    return difference / a.unadjusted_mean if relative else difference


def effect_variance(a: Statistic, b: Statistic, relative: bool, relative_cuped: str = "gbstats_0_8") -> float:
    """Variance of the estimate: absolute, or relative by the delta method."""
    if relative_cuped not in RELATIVE_CUPED_FORMULAS:
        raise ValueError(f"relative_cuped must be one of {RELATIVE_CUPED_FORMULAS}, not {relative_cuped!r}")
    if not relative:
        return b.variance / b.n + a.variance / a.n
    ya, yb = a.unadjusted_mean, b.unadjusted_mean
    if (
        relative_cuped == "corrected"
        and isinstance(a, RegressionAdjusted)
        and isinstance(b, RegressionAdjusted)
    ):
        t = a.theta
        v_control = (
            a.post.variance * yb**2 / ya**2 - 2 * t * a.covariance * yb / ya + t**2 * a.pre.variance
        ) / (a.n * ya**2)
        v_treatment = b.variance / (b.n * ya**2)
        return v_control + v_treatment
    return b.variance / (ya**2 * b.n) + a.variance * yb**2 / (ya**4 * a.n)


def welch_dof(a: Statistic, b: Statistic) -> float:
    """Welch-Satterthwaite degrees of freedom (always on the absolute-scale variances)."""
    va, vb = a.variance / a.n, b.variance / b.n
    return (va + vb) ** 2 / (vb**2 / (b.n - 1) + va**2 / (a.n - 1))


def fixed_horizon(
    a: Statistic,
    b: Statistic,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    test_value: float = 0.0,
    relative_cuped: str = "gbstats_0_8",
) -> Effect:
    """Welch t test of treatment ``b`` against control ``a``.

    :param alternative: ``two-sided``, ``greater`` (CI ``[lo, inf)``) or ``less`` (``(-inf, hi]``).
    :return: the :class:`Effect`; its CI is ``Δ ± t_{1-alpha/2, dof}·√Var`` when two-sided.
    """
    error = _check(a, b)
    if error:
        return _uninformative(error)
    estimate = point_estimate(a, b, relative)
    variance = effect_variance(a, b, relative, relative_cuped)
    dof = welch_dof(a, b)
    statistic = (estimate - test_value) / math.sqrt(variance)
    se = math.sqrt(variance)
    if alternative == "two-sided":
        width = distributions.t.ppf(1 - alpha / 2, dof) * se
        low, high = estimate - width, estimate + width
        p = 2 * distributions.t.sf(abs(statistic), dof)
    elif alternative == "greater":
        low, high = estimate - distributions.t.ppf(1 - alpha, dof) * se, math.inf
        p = distributions.t.sf(statistic, dof)
    elif alternative == "less":
        low, high = -math.inf, estimate + distributions.t.ppf(1 - alpha, dof) * se
        p = distributions.t.cdf(statistic, dof)
    else:
        raise ValueError(f"alternative must be two-sided, greater or less, not {alternative!r}")
    return Effect(estimate, variance, float(low), float(high), float(p), dof=float(dof))


def sequential_rho(alpha: float, tuning_n: float) -> float:
    """Mixture spread ``rho = √((-2 ln alpha + ln(1 - 2 ln alpha))/N*)`` (eq. 161)."""
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning_n)


def sequential_halfwidth(variance: float, n_total: float, alpha: float, tuning_n: float) -> float:
    """Half-width of the always-valid interval at ``N`` units (eq. 9)."""
    rho = sequential_rho(alpha, tuning_n)
    nr2 = n_total * rho**2
    return math.sqrt(variance * n_total) * math.sqrt(
        2 * (nr2 + 1) * math.log(math.sqrt(nr2 + 1) / alpha) / (n_total * rho) ** 2
    )


def sequential_p_value(
    estimate: float, variance: float, n_total: float, alpha: float, tuning_n: float, test_value: float = 0.0
) -> float:
    """Always-valid p-value ``min(1, 1/E)``, ``E = exp(rho² t²/(2(Nrho²+1)))/√(Nrho²+1)`` (eq. 155),
    computed in log space."""
    rho2 = sequential_rho(alpha, tuning_n) ** 2
    st2 = (estimate - test_value) ** 2 * n_total / variance
    tr2p1 = n_total * rho2 + 1
    log_e = rho2 * st2 / (2 * tr2p1) - 0.5 * math.log(tr2p1)
    return 1.0 if log_e <= 0 else math.exp(-log_e)


def sequential(
    a: Statistic,
    b: Statistic,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    tuning_n: float = 5000.0,
    test_value: float = 0.0,
    relative_cuped: str = "gbstats_0_8",
) -> Effect:
    """GrowthBook's sequential two-sided test: valid at every look (no t, no dof).

    Peeking daily keeps the false-positive rate at or below alpha; take the running minimum of
    the daily p-values for a monotone p.
    """
    error = _check(a, b)
    if error:
        return _uninformative(error)
    estimate = point_estimate(a, b, relative)
    variance = effect_variance(a, b, relative, relative_cuped)
    n_total = a.n + b.n
    width = sequential_halfwidth(variance, n_total, alpha, tuning_n)
    p = sequential_p_value(estimate, variance, n_total, alpha, tuning_n, test_value)
    return Effect(estimate, variance, estimate - width, estimate + width, p)
