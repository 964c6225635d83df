"""Sample ratio mismatch: Pearson chi-square of units per variation against the weights.

``E_i = N·w_i/Σw``; ``χ² = Σ (O_i - E_i)²/E_i`` over variations with ``w_i > 0``; p is the
chi-square survival function with K - 1 degrees of freedom (all K variations), as gbstats'
``check_srm``. Count deduplicated first-exposure units; flag below the registry's
threshold (0.001 by default).

Example::

    srm_p_value([5000, 5100], [0.5, 0.5])    # 0.3197...
"""

from __future__ import annotations

from collections.abc import Sequence

from scipy import stats as distributions


def srm_chi2(units: Sequence[float], weights: Sequence[float]) -> float:
    if len(units) != len(weights):
        raise ValueError(f"{len(units)} unit counts for {len(weights)} weights")
    total, total_weight = sum(units), sum(weights)
    chi2 = 0.0
    for observed, weight in zip(units, weights, strict=True):
        if weight <= 0:
            continue
        expected = weight / total_weight * total
        chi2 += (observed - expected) ** 2 / expected
    return chi2


def srm_p_value(units: Sequence[float], weights: Sequence[float]) -> float:
    """p-value of the SRM test; 1 when no unit was counted."""
    if not sum(units):
        return 1.0
    return float(distributions.chi2.sf(srm_chi2(units, weights), len(units) - 1))
