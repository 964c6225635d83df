"""Query a local lake like Athena: Spark SQL over the ``silver`` and ``gold`` catalog.

Example::

    columns, rows, truncated = run_query(spark, "select count(*) as n from silver.events")
    format_rows(columns, rows, "table")   # "n\n-----\n18706\n(1 row)"
    list_tables(spark)   # [TableInfo(name='silver.events', rows=18706, description='...'), ...]
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pyspark.sql import SparkSession

LAYERS = ("silver", "gold")


class QueryError(ValueError):
    """A query Spark refused: the first line of its message."""


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    description: str


def spec_descriptions() -> dict[str, str]:
    """Table descriptions as the specs state them: ``{"silver.events": "...", "gold.mart_x": "..."}``.

    Silver's table specs and every mart spec of every job (``jobs/<job>/marts/*.yaml``).
    """
    import yaml

    from lakehouse.assets import asset_dir
    from lakehouse.silver.tables import table_specs

    found = {
        f"silver.{name}": str(spec.get("description", "")).strip() for name, spec in table_specs().items()
    }
    for path in sorted(asset_dir("jobs").glob("*/marts/*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        name = f"{raw.get('layer', 'gold')}.{raw.get('name', path.stem)}"
        description, grain = str(raw.get("description", "")).strip(), str(raw.get("grain", "")).strip()
        found[name] = f"{description} Grain: {grain}." if grain else description
    return found


def list_tables(
    spark: SparkSession, *, prefix: str = "", descriptions: dict[str, str] | None = None
) -> list[TableInfo]:
    """Every table of the layer databases with its row count and description.

    The description is the catalog's (or the Delta log's) where it has one, else the spec's
    (``descriptions``, by default :func:`spec_descriptions`).
    """
    if descriptions is None:
        descriptions = spec_descriptions()
    found = []
    databases = {d.name for d in spark.catalog.listDatabases()}
    for layer in LAYERS:
        database = f"{prefix}{layer}"
        if database not in databases:
            continue
        for table in sorted(spark.catalog.listTables(database), key=lambda t: t.name):
            if table.isTemporary:
                continue
            name = f"{database}.{table.name}"
            described = _description(spark, name, table) or descriptions.get(f"{layer}.{table.name}", "")
            found.append(TableInfo(name, spark.table(name).count(), described))
    return found


def _description(spark: SparkSession, name: str, table) -> str:
    """A Delta table keeps its comment in its own log (DESCRIBE DETAIL); others in the catalog."""
    if (table.tableType or "").upper() != "VIEW":
        try:
            (detail,) = spark.sql(f"DESCRIBE DETAIL {name}").select("format", "description").collect()
            if detail["format"] == "delta" and detail["description"]:
                return str(detail["description"]).strip()
        except Exception:  # noqa: BLE001 - not a Delta table: the catalog's description
            pass
    return (table.description or "").strip()


def run_query(spark: SparkSession, query: str, *, limit: int = 1000) -> tuple[list[str], list[tuple], bool]:
    """(column names, at most ``limit`` rows, whether more rows exist)."""
    from pyspark.errors import PySparkException

    try:
        df = spark.sql(query)
        rows = [tuple(r) for r in df.limit(limit + 1).collect()]
    except PySparkException as exc:
        message = str(exc).strip().splitlines()
        raise QueryError(message[0] if message else type(exc).__name__) from None
    return list(df.columns), rows[:limit], len(rows) > limit


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if hasattr(value, "asDict"):
        return {k: _plain(v) for k, v in value.asDict().items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cell(value) -> str:
    if value is None:
        return "NULL"
    plain = _plain(value)
    return json.dumps(plain, default=str) if isinstance(plain, dict | list) else str(plain)


def format_rows(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """Rows as an aligned text table, CSV (with a header) or JSON lines."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _cell(v) for v in row] for row in rows])
        return out.getvalue()
    if fmt == "json":
        return "".join(
            json.dumps(dict(zip(columns, (_plain(v) for v in row), strict=True)), default=str) + "\n"
            for row in rows
        )
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(columns))
    ]

    def line(values: list[str]) -> str:
        return " | ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(columns), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
