"""What a report section is made of: text, charts (Vega-Lite specs) and small tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths


@dataclass(frozen=True)
class Chart:
    """One chart: a title and a Vega-Lite specification with its data inlined."""

    title: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class Section:
    """A titled part of the report; ``status`` (ok / warn / fail) colours its heading."""

    key: str
    title: str
    summary: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    status: str = "ok"
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportContext:
    """What a section reads from: the lake's ``_system`` and layer tables, by path or name."""

    spark: SparkSession
    lake_root: str
    database_prefix: str = ""

    @property
    def paths(self) -> LakePaths:
        return LakePaths(self.lake_root)

    def system(self, name: str) -> DataFrame | None:
        """``_system/<name>`` as a DataFrame, None when the table does not exist yet."""
        return self._load(self.paths.system(name))

    def quarantine(self, name: str = "records") -> DataFrame | None:
        return self._load(self.paths.quarantine(name))

    def layer(self, layer: str, table: str) -> DataFrame | None:
        """``silver/<table>`` or ``gold/<table>`` by path (the catalog may lag behind)."""
        path = self.paths.silver(table) if layer == "silver" else self.paths.gold(table)
        return self._load(path)

    def _load(self, path: str) -> DataFrame | None:
        if not delta.table_exists(self.spark, path):
            return None
        return self.spark.read.format("delta").load(path)


def rows_of(df: DataFrame, limit: int = 500) -> list[dict[str, Any]]:
    """Small, already aggregated results as plain dicts (dates and decimals as text)."""
    out = []
    for row in df.limit(limit).collect():
        record = {}
        for key, value in row.asDict().items():
            if hasattr(value, "hour"):
                value = value.isoformat(sep=" ", timespec="seconds")
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            elif type(value).__name__ == "Decimal":
                value = int(value) if value == value.to_integral_value() else float(value)
            record[key] = value
        out.append(record)
    return out
