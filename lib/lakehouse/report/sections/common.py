"""Helpers shared by the Gold sections."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def one_platform(df: DataFrame, column: str = "platform") -> tuple[DataFrame, str | None]:
    """Distinct counts do not add up across platforms: chart the all-platform rows when the mart
    has them, else the platform with the most rows (named in the section's summary)."""
    if column not in df.columns:
        return df, None
    platforms = [r[0] for r in df.groupBy(column).count().orderBy(F.desc("count")).collect()]
    for every in ("all", "any", "*"):
        if every in platforms:
            return df.where(F.col(column) == every), "all platforms"
    if not platforms:
        return df, None
    return df.where(F.col(column) == platforms[0]), f"platform {platforms[0]}"
