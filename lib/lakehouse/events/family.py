"""Typed family tables: canonical events of one family -> envelope columns + typed payload columns.

Payload columns are the family's canonical payload fields (union of the latest versions),
top-level names in snake_case (``eventType`` -> ``event_type``); a payload field whose name
collides with an envelope column gets a ``payload_`` prefix (``event_id`` -> ``payload_event_id``).
Nested objects stay structs (their inner names as the provider spells them).

Example::

    stg_client_events = canonical.transform(lambda df: project_family(df, registry, "client"))
"""

from __future__ import annotations

import re

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.contracts import ContractRegistry
from lakehouse.events.canonical import ENVELOPE_COLUMNS

FAMILY_ENVELOPE_COLUMNS = (*ENVELOPE_COLUMNS, "payload_hash")


def snake_case(name: str) -> str:
    """``eventType`` -> ``event_type``; ``already_snake`` unchanged.

    Example::

        snake_case("processingTimeMillis")  # 'processing_time_millis'
    """
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def family_columns(registry: ContractRegistry, family: str) -> dict[str, str]:
    """Payload field name -> column name in the family table."""
    columns: dict[str, str] = {}
    for f in registry.family_struct(family).fields:
        column = snake_case(f.name)
        if column in FAMILY_ENVELOPE_COLUMNS or column in columns.values():
            column = f"payload_{column}"
        columns[f.name] = column
    return columns


def family_table_schema(registry: ContractRegistry, family: str) -> T.StructType:
    """The Spark schema of a family table (what :func:`project_family` returns).

    Example::

        family_table_schema(registry, "payments").fieldNames()
    """
    envelope = {
        "event_version": T.IntegerType(),
        "source_event_version": T.IntegerType(),
        "occurred_at": T.TimestampType(),
        "sent_at": T.TimestampType(),
        "received_at": T.TimestampType(),
        "event_at": T.TimestampType(),
        "event_date": T.DateType(),
    }
    fields = [T.StructField(c, envelope.get(c, T.StringType())) for c in FAMILY_ENVELOPE_COLUMNS]
    payload = registry.family_struct(family)
    names = family_columns(registry, family)
    fields += [T.StructField(names[f.name], f.dataType) for f in payload.fields]
    return T.StructType(fields)


def project_family(events: DataFrame, registry: ContractRegistry, family: str) -> DataFrame:
    """Valid canonical events of one family -> the typed family table ``stg_<family>_events``.

    :param events: output of ``to_canonical`` (or the Silver ``events`` table); rows with
        ``is_valid = false`` (when the column exists) and other families are filtered out.
    :param registry: the contracts (gives the family's canonical payload type).
    :param family: a family name from ``registry.families``.
    :returns: envelope columns + one typed column per canonical payload field; grain one row
        per event (as unique as the input).

    Example::

        project_family(canonical, registry, "stripe").select("event_id", "type", "data")
    """
    if family not in registry.families:
        raise KeyError(f"unknown family {family!r}; known: {registry.families}")
    rows = events.filter(F.col("family") == family)
    if "is_valid" in events.columns:
        rows = rows.filter(F.col("is_valid"))
    payload_type = registry.family_struct(family)
    names = family_columns(registry, family)
    parsed = rows.select(
        *[F.col(c) for c in FAMILY_ENVELOPE_COLUMNS],
        F.from_json(F.col("payload"), payload_type, {"timeZone": "UTC"}).alias("_payload"),
    )
    return parsed.select(
        *[F.col(c) for c in FAMILY_ENVELOPE_COLUMNS],
        *[F.col("_payload").getField(f.name).alias(names[f.name]) for f in payload_type.fields],
    )
