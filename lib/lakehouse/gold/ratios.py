"""Ratios of counts and amounts: null where the denominator is 0 (never a division error)."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def ratio(numerator: Column, denominator: Column) -> Column:
    """``numerator / denominator`` as a double; null when the denominator is 0 or null."""
    return F.when(denominator != 0, numerator.cast("double") / denominator)
