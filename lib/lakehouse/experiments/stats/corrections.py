"""Multiple-testing corrections across a family of p-values (secondary metrics x arms).

- Holm (family-wise error): sorted ascending, ``p̃_(k) = max_{j≤k} min(1, (m-j+1)·p_(j))``;
- Benjamini-Hochberg (false discovery rate): ``p̃_(k) = min_{j≥k} min(1, m·p_(j)/j)``.

Adjusted p-values come back in the input order. Guardrails are not part of the family.

Example::

    holm([0.01, 0.04, 0.03])                 # [0.03, 0.06, 0.06]
    benjamini_hochberg([0.01, 0.04, 0.03])   # [0.03, 0.04, 0.04]
"""

from __future__ import annotations

from collections.abc import Sequence

CORRECTIONS = ("holm", "benjamini_hochberg", "none")


def holm(p_values: Sequence[float]) -> list[float]:
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        running = min(running, min(1.0, m * p_values[i] / (rank + 1)))
        adjusted[i] = running
    return adjusted


def adjust_p_values(p_values: Sequence[float], method: str) -> list[float]:
    """The registry's ``analysis.correction`` applied to one family."""
    if method == "holm":
        return holm(p_values)
    if method == "benjamini_hochberg":
        return benjamini_hochberg(p_values)
    if method == "none":
        return list(p_values)
    raise ValueError(f"correction must be one of {CORRECTIONS}, not {method!r}")
