"""Pure Bronze -> Silver event transforms (no I/O): canonical events, family tables, Stripe objects.

Example::

    from lakehouse.events import project_family, stripe_objects, to_canonical

    canonical = to_canonical(bronze, registry, max_record_bytes=262144, pii=pii)
    clients = project_family(canonical, registry, "client")
    charges = stripe_objects(canonical, "charge")
"""

from lakehouse.events.canonical import (
    CANONICAL_COLUMNS,
    ENVELOPE_COLUMNS,
    ERROR_TYPES,
    INPUT_COLUMNS,
    to_canonical,
)
from lakehouse.events.family import family_columns, family_table_schema, project_family, snake_case
from lakehouse.events.stripe import (
    STRIPE_OBJECT_KEYS,
    STRIPE_OBJECT_TYPES,
    STRIPE_TABLES,
    latest_state,
    stripe_merge_condition,
    stripe_objects,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "ENVELOPE_COLUMNS",
    "ERROR_TYPES",
    "INPUT_COLUMNS",
    "STRIPE_OBJECT_KEYS",
    "STRIPE_OBJECT_TYPES",
    "STRIPE_TABLES",
    "family_columns",
    "family_table_schema",
    "latest_state",
    "project_family",
    "snake_case",
    "stripe_merge_condition",
    "stripe_objects",
    "to_canonical",
]
