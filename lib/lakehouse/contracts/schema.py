"""JSON Schema (the subset the contracts use) to a field tree and to Spark types.

A contract's payload schema becomes a tree of :class:`Node` objects. Three Spark
types are derived from a node:

- the **parse type**: what ``from_json`` reads (date-times as strings, expandable
  objects as strings, ``x-pii: drop`` fields absent so they are never even read);
- the **presence type**: the same shape with every leaf a string, so a field present
  in the raw JSON is non-null there even when the typed parse failed (type check);
- the **canonical type**: what Silver stores (date-times as timestamps, hashed fields
  renamed ``<name>_hash``, dropped fields gone, expandable objects as structs).

JSON types map as: string -> string, ``format: date-time`` -> timestamp, integer ->
bigint, number -> decimal(38,12) (never double), boolean -> boolean, object with
``properties`` -> struct (fields sorted by name), object with only
``additionalProperties`` (or neither) -> map<string, ...>, array -> array.

Example::

    node = parse_node("payload", schema)
    parse_type(node), presence_type(node), canonical_type(node)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import types as T

PII_ACTIONS = ("hash_email", "hash_phone", "drop", "redact")
NORMALIZE_ACTIONS = ("upper", "lower")
NUMBER_TYPE = T.DecimalType(38, 12)


class ContractError(ValueError):
    """A contract file that is not a valid event contract."""


@dataclass(frozen=True)
class Node:
    """One property of a payload schema."""

    name: str
    kind: str  # string | datetime | integer | number | boolean | object | map | array | expandable
    schema: dict = field(compare=False, repr=False)
    children: tuple[Node, ...] = ()  # object properties / the expanded object's properties
    items: Node | None = None  # array items
    values: Node | None = None  # map values
    required: tuple[str, ...] = ()  # required child names (object / expandable object)
    pii: str | None = None
    normalize: str | None = None

    @property
    def canonical_name(self) -> str:
        """The name in Silver: ``<name>_hash`` for hashed fields."""
        return f"{self.name}_hash" if self.pii in ("hash_email", "hash_phone") else self.name

    @property
    def kept(self) -> bool:
        """False for ``x-pii: drop`` fields."""
        return self.pii != "drop"

    def kept_children(self) -> list[Node]:
        """Children that reach Silver, sorted by name (the canonical field order)."""
        return sorted((c for c in self.children if c.kept), key=lambda c: c.canonical_name)


def _json_type(schema: dict, path: str) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        non_null = [t for t in declared if t != "null"]
        if sorted(non_null) == ["object", "string"] and "x-expandable" in schema:
            return "expandable"
        if len(non_null) != 1:
            raise ContractError(f"{path}: a type list may only add 'null' (got {declared})")
        return non_null[0]
    return declared


def parse_node(name: str, schema: dict, path: str = "payload") -> Node:
    """Build the node tree of one (sub)schema.

    :raises ContractError: for constructs the contracts do not support.

    Example::

        parse_node("payload", {"type": "object", "properties": {"a": {"type": "integer"}}})
    """
    if not isinstance(schema, dict):
        raise ContractError(f"{path}: schema must be an object")
    pii = schema.get("x-pii")
    if pii is not None and pii not in PII_ACTIONS:
        raise ContractError(f"{path}: x-pii must be one of {PII_ACTIONS}, got {pii!r}")
    normalize = schema.get("x-normalize")
    if normalize is not None and normalize not in NORMALIZE_ACTIONS:
        raise ContractError(f"{path}: x-normalize must be one of {NORMALIZE_ACTIONS}, got {normalize!r}")
    kind = _json_type(schema, path)
    common = {"name": name, "schema": schema, "pii": pii, "normalize": normalize}
    if pii == "drop":
        return Node(kind=kind or "string", **common)
    if kind == "string":
        kind = "datetime" if schema.get("format") == "date-time" else "string"
    if pii in ("hash_email", "hash_phone", "redact") and kind not in ("string", "array", "object"):
        raise ContractError(f"{path}: x-pii {pii} needs a string (or array/map of strings)")
    if kind in ("string", "datetime", "integer", "number", "boolean"):
        return Node(kind=kind, **common)
    if kind == "array":
        items = schema.get("items")
        if not isinstance(items, dict):
            raise ContractError(f"{path}: arrays need an 'items' schema")
        item_schema = dict(items)
        if pii and "x-pii" not in item_schema:
            item_schema["x-pii"] = pii  # x-pii on an array applies to its string items
        item = parse_node("element", item_schema, f"{path}[]")
        return Node(
            kind="array", items=item, **{**common, "pii": item.pii if item.kind == "string" else None}
        )
    if kind == "object":
        props = schema.get("properties")
        if props:
            children = tuple(parse_node(n, s, f"{path}.{n}") for n, s in props.items())
            return Node(
                kind="object", children=children, required=tuple(schema.get("required", ())), **common
            )
        extra = schema.get("additionalProperties")
        value_schema = dict(extra) if isinstance(extra, dict) else {"type": "string"}
        if pii and "x-pii" not in value_schema:
            value_schema["x-pii"] = pii
        value = parse_node("value", value_schema, f"{path}{{}}")
        return Node(kind="map", values=value, **{**common, "pii": None})
    if kind == "expandable":
        expanded = parse_node(name, schema["x-expandable"], f"{path}(expanded)")
        if expanded.kind != "object" or "id" not in {c.name for c in expanded.children}:
            raise ContractError(f"{path}: x-expandable must be an object schema with an 'id' property")
        return Node(kind="expandable", children=expanded.children, required=expanded.required, **common)
    raise ContractError(f"{path}: unsupported type {schema.get('type')!r}")


def _leaf_type(kind: str) -> T.DataType:
    return {
        "string": T.StringType(),
        "datetime": T.StringType(),
        "integer": T.LongType(),
        "number": NUMBER_TYPE,
        "boolean": T.BooleanType(),
    }[kind]


def parse_type(node: Node) -> T.DataType:
    """The type ``from_json`` reads the raw value with."""
    if node.kind in ("string", "datetime", "integer", "number", "boolean"):
        return _leaf_type(node.kind)
    if node.kind == "expandable":
        return T.StringType()
    if node.kind == "array":
        return T.ArrayType(parse_type(node.items))
    if node.kind == "map":
        return T.MapType(T.StringType(), parse_type(node.values))
    return T.StructType(
        [T.StructField(c.name, parse_type(c)) for c in sorted(node.children, key=lambda c: c.name) if c.kept]
    )


def expanded_parse_type(node: Node) -> T.StructType:
    """Parse type of an expandable node's expanded object."""
    return T.StructType(
        [T.StructField(c.name, parse_type(c)) for c in sorted(node.children, key=lambda c: c.name) if c.kept]
    )


def presence_type(node: Node) -> T.DataType:
    """Same shape as :func:`parse_type` with string leaves (strings accept any JSON value)."""
    if node.kind == "array":
        return T.ArrayType(presence_type(node.items))
    if node.kind == "object":
        return T.StructType(
            [
                T.StructField(c.name, presence_type(c))
                for c in sorted(node.children, key=lambda c: c.name)
                if c.kept
            ]
        )
    return T.StringType()


def canonical_type(node: Node) -> T.DataType:
    """The type stored in Silver."""
    if node.kind == "datetime":
        return T.TimestampType()
    if node.kind in ("string", "integer", "number", "boolean"):
        return _leaf_type(node.kind)
    if node.kind == "array":
        return T.ArrayType(canonical_type(node.items))
    if node.kind == "map":
        return T.MapType(T.StringType(), canonical_type(node.values))
    return T.StructType([T.StructField(c.canonical_name, canonical_type(c)) for c in node.kept_children()])


def merge_types(a: T.DataType, b: T.DataType, path: str) -> T.DataType:
    """Union of two struct types (recursively); any other type must be equal.

    :raises ContractError: when a field has two different types.
    """
    if isinstance(a, T.StructType) and isinstance(b, T.StructType):
        fields = {f.name: f.dataType for f in a.fields}
        for f in b.fields:
            fields[f.name] = (
                merge_types(fields[f.name], f.dataType, f"{path}.{f.name}")
                if f.name in fields
                else (f.dataType)
            )
        return T.StructType([T.StructField(n, fields[n]) for n in sorted(fields)])
    if isinstance(a, T.ArrayType) and isinstance(b, T.ArrayType):
        return T.ArrayType(merge_types(a.elementType, b.elementType, f"{path}[]"))
    if a != b:
        raise ContractError(
            f"{path}: one field, two types within a family ({a.simpleString()} vs {b.simpleString()})"
        )
    return a


def json_default(value: Any) -> Any:
    """Validate an ``x-upcast-from.defaults`` value (plain JSON only)."""
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    raise ContractError(f"upcast default {value!r} is not JSON")
