"""Payload validation rules and the canonical (upcast, PII-treated) payload, as Spark SQL text.

Both walk a contract's :class:`~lakehouse.contracts.schema.Node` tree over two parsed
columns of the raw payload: ``t`` (typed, the family parse type) and ``p`` (presence:
the same shape with string leaves). A field present in the raw JSON but null after the
typed parse broke its type.

The expressions are generated as SQL text (built-in functions only, no UDFs) and turned
into one ``Column`` each with ``F.expr``: a catalog of ~40 contracts yields thousands of
sub-expressions, which as individual Py4J ``Column`` calls would take many seconds to
build; as text they take milliseconds.

Example::

    rules = object_rules(contract.root, "`_t_client`", "`_p_client`", "payload")
    " ".join(cond for cond, msg in rules)   # SQL boolean expressions, true when violated
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import types as T

from lakehouse.contracts.schema import Node, expanded_parse_type, parse_type
from lakehouse.privacy import PiiHasher, redact_free_text_sql

ISO_DATETIME = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"

Rule = tuple[str, str]  # (SQL condition, true when violated; message)


def sql_str(text: str) -> str:
    """A Spark SQL string literal.

    Example::

        sql_str("it's")  # "'it\\\\'s'"
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ident(name: str) -> str:
    """A back-quoted identifier."""
    return "`" + name.replace("`", "``") + "`"


def field(expr: str, name: str) -> str:
    """``expr.name`` with the name quoted."""
    return f"{expr}.{ident(name)}"


def sql_type(data_type: T.DataType) -> str:
    """SQL type text usable in ``CAST(... AS <type>)``."""
    return data_type.simpleString()


def iso_timestamp_sql(expr: str) -> str:
    """ISO-8601 date-time string -> timestamp (UTC when no offset); null when not a date-time."""
    return f"CASE WHEN {expr} RLIKE {sql_str(ISO_DATETIME)} THEN try_to_timestamp({expr}) END"


def _safe(cond: str) -> str:
    return f"coalesce({cond}, false)"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return sql_str(str(value))


def _leaf_rules(node: Node, t: str, p: str, path: str) -> list[Rule]:
    s = node.schema
    rules: list[Rule] = []
    if node.kind in ("integer", "number", "boolean", "array"):
        expected = {
            "integer": "an integer",
            "number": "a number",
            "boolean": "a boolean",
            "array": "an array",
        }
        rules.append(
            (f"({p} IS NOT NULL AND {t} IS NULL)", f"{path}: expected {expected[node.kind]} (rule: type)")
        )
    if node.kind == "datetime":
        rules.append(
            (
                f"({t} IS NOT NULL AND ({iso_timestamp_sql(t)}) IS NULL)",
                f"{path}: expected an ISO-8601 date-time (rule: format)",
            )
        )
    if "enum" in s:
        values = ", ".join(_literal(v) for v in s["enum"])
        rules.append(
            (
                f"({t} IS NOT NULL AND NOT {t} IN ({values}))",
                f"{path}: value not in enum {s['enum']} (rule: enum)",
            )
        )
    if "const" in s:
        rules.append(
            (
                f"({t} IS NOT NULL AND {t} <> {_literal(s['const'])})",
                f"{path}: must equal {s['const']!r} (rule: const)",
            )
        )
    if "pattern" in s:
        rules.append(
            (
                f"({t} IS NOT NULL AND NOT {t} RLIKE {sql_str(s['pattern'])})",
                f"{path}: does not match {s['pattern']} (rule: pattern)",
            )
        )
    if node.kind in ("string", "datetime"):
        if "minLength" in s:
            rules.append(
                (
                    f"char_length({t}) < {s['minLength']}",
                    f"{path}: shorter than {s['minLength']} (rule: minLength)",
                )
            )
        if "maxLength" in s:
            rules.append(
                (
                    f"char_length({t}) > {s['maxLength']}",
                    f"{path}: longer than {s['maxLength']} (rule: maxLength)",
                )
            )
    if node.kind in ("integer", "number"):
        for keyword, op, text in (
            ("minimum", "<", "below the minimum"),
            ("maximum", ">", "above the maximum"),
            ("exclusiveMinimum", "<=", "not above the exclusive minimum"),
            ("exclusiveMaximum", ">=", "not below the exclusive maximum"),
        ):
            if keyword in s:
                rules.append(
                    (f"{t} {op} {_literal(s[keyword])}", f"{path}: {text} {s[keyword]} (rule: {keyword})")
                )
    if node.kind == "array":
        if "minItems" in s:
            rules.append(
                (f"size({t}) < {s['minItems']}", f"{path}: fewer than {s['minItems']} items (rule: minItems)")
            )
        if "maxItems" in s:
            rules.append(
                (f"size({t}) > {s['maxItems']}", f"{path}: more than {s['maxItems']} items (rule: maxItems)")
            )
    return [(_safe(cond), msg) for cond, msg in rules]


def node_rules(node: Node, t: str, p: str, path: str, depth: int = 0) -> list[Rule]:
    """Every rule of one node (its own and, for objects and arrays, its descendants').

    A rule is ``(SQL condition, message)``; the condition is true (never null) when violated.
    Maps and expanded objects are typed but not validated; dropped fields are never read.
    """
    if not node.kept or node.kind in ("map", "expandable"):
        return []
    rules = _leaf_rules(node, t, p, path)
    if node.kind == "object":
        rules += [
            (_safe(f"({p} IS NOT NULL AND {cond})"), msg)
            for cond, msg in object_rules(node, t, p, path, depth)
        ]
    elif node.kind == "array" and node.items is not None:
        te, pe = f"te{depth}", f"pe{depth}"
        for cond, msg in node_rules(node.items, te, pe, f"{path}[]", depth + 1):
            rules.append(
                (_safe(f"exists(zip_with({t}, {p}, ({te}, {pe}) -> {cond}), v{depth} -> v{depth})"), msg)
            )
    return rules


def object_rules(node: Node, t: str, p: str, path: str, depth: int = 0) -> list[Rule]:
    """Rules of an object node's properties: required fields, then each property's rules."""
    rules: list[Rule] = []
    children = {c.name: c for c in node.children}
    for name in node.required:
        child = children.get(name)
        if child is not None and child.kept:
            rules.append(
                (f"({field(p, name)} IS NULL)", f"{path}.{name}: required field is missing (rule: required)")
            )
    for child in sorted(node.children, key=lambda c: c.name):
        if child.kept:
            rules += node_rules(
                child, field(t, child.name), field(p, child.name), f"{path}.{child.name}", depth
            )
    return rules


# --------------------------------------------------------------------------------- canonical values
def canonical_value(node: Node, t: str, pii: PiiHasher, depth: int = 0) -> str:
    """SQL of the Silver value of one node: normalized, typed, hashed / redacted; null stays null.

    Example::

        canonical_value(contract.properties["email"], "`_t_client`.`email`", pii)  # SQL text
    """
    kind = node.kind
    if kind == "string":
        value = t
        if node.normalize == "upper":
            value = f"upper(trim({value}))"
        elif node.normalize == "lower":
            value = f"lower(trim({value}))"
        if node.pii in ("hash_email", "hash_phone"):
            return pii.sql(node.pii, value)
        if node.pii == "redact":
            return redact_free_text_sql(value)
        return value
    if kind == "datetime":
        return iso_timestamp_sql(t)
    if kind in ("integer", "number", "boolean"):
        return t
    if kind == "array":
        x = f"x{depth}"
        return f"transform({t}, {x} -> {canonical_value(node.items, x, pii, depth + 1)})"
    if kind == "map":
        k, v = f"k{depth}", f"v{depth}"
        treated = f"transform_values({t}, ({k}, {v}) -> {canonical_value(node.values, v, pii, depth + 1)})"
        return (
            f"map_from_entries(array_sort(map_entries({treated})))"  # key order independent of the producer
        )
    if kind == "expandable":
        as_json = f"CASE WHEN startswith({t}, '{{') THEN {t} ELSE to_json(named_struct('id', {t})) END"
        expanded = f"from_json({as_json}, {sql_str(sql_type(expanded_parse_type(node)))})"
        obj = Node(name=node.name, kind="object", schema=node.schema, children=node.children)
        e = f"e{depth}"  # bind the parsed object once: element_at(transform(array(x), e -> f(e)), 1)
        body = canonical_value(obj, e, pii, depth + 1)
        return f"if({t} IS NULL, NULL, element_at(transform(array({expanded}), {e} -> {body}), 1))"
    # object
    parts = ", ".join(
        f"{sql_str(c.canonical_name)}, {canonical_value(c, field(t, c.name), pii, depth)}"
        for c in node.kept_children()
    )
    return f"if({t} IS NULL, NULL, named_struct({parts}))"


def default_value(node: Node, default: Any) -> str:
    """SQL of a declared upcast default, typed as the node's parse type (null when None)."""
    if default is None:
        return f"CAST(NULL AS {sql_type(parse_type(node))})"
    schema = sql_type(T.StructType([T.StructField("v", parse_type(node))]))
    return f"from_json({sql_str(json.dumps({'v': default}))}, {sql_str(schema)}).v"
