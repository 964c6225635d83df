"""Currencies as data: ISO 4217 minor-unit exponents from ``config/currency_exponents.csv``.

Amounts everywhere are integer minor units with a ``currency``; the exponent says how many
decimal places a display needs (JPY 0, EUR 2, KWD 3). A currency missing from the table
is bad input, reported by the marts that meet it, never guessed.

Example::

    currency_exponents()["KWD"]                    # 3
    exponent_frame(spark).columns                  # ['currency', 'currency_exponent']
"""

from __future__ import annotations

import csv
from functools import cache

from pyspark.sql import DataFrame, SparkSession

from lakehouse.assets import asset_dir


@cache
def currency_exponents() -> dict[str, int]:
    """``{currency: exponent}`` of every known currency."""
    path = asset_dir("config") / "currency_exponents.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["currency"]: int(row["exponent"]) for row in csv.DictReader(handle)}


def exponent_frame(spark: SparkSession) -> DataFrame:
    """The currency table as a small DataFrame (``currency``, ``currency_exponent``)."""
    rows = sorted(currency_exponents().items())
    return spark.createDataFrame(rows, "currency STRING, currency_exponent INT")
