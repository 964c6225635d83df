"""Conformed Stripe object tables: the latest state of each charge, refund, dispute, payout, balance txn.

State is taken from the ``data.object`` of Stripe Events (canonical ``stripe`` family rows).
Stripe delivers events unordered and repeated, so the latest state is chosen by the Stripe
Event's ``created`` (unix seconds), then a per-object-type **state rank** (a later lifecycle
state wins a same-second tie: e.g. ``paid`` over ``in_transit``), then the event id; never
by arrival. All three are packed into ``state_order_key``, a string that sorts in that
order (``<created, 12 digits>|<rank, 2 digits>|<event id>``).

Balance transactions come from the *expanded* ``balance_transaction`` objects inside
charge, refund and payout events and the expanded ``balance_transactions`` of disputes
(an unexpanded id carries no state and is skipped).

Money is ``*_minor`` BIGINT plus ``currency`` as upper-case ISO 4217.

**Merging into the Silver table** (key from :data:`STRIPE_OBJECT_KEYS`)::

    MERGE INTO silver.stg_stripe_charges t
    USING batch s                                   -- stripe_objects(batch_events, "charge")
    ON t.charge_id = s.charge_id
    WHEN MATCHED AND s.state_order_key > t.state_order_key THEN UPDATE SET *
    WHEN NOT MATCHED THEN INSERT *

``stripe_merge_condition(object_type)`` returns that ON clause and update condition. The
batch is already one row per object, and re-running the merge with the same batch is a
no-op, so the table converges to the same state whatever order batches arrive in.
Partition by ``created_date`` (UTC date of the object's own ``created``), which never
changes for an object, so updates stay in their partition.

Example::

    charges = canonical.transform(lambda df: stripe_objects(df, "charge"))
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

STRIPE_OBJECT_TYPES = ("charge", "refund", "dispute", "payout", "balance_transaction")
STRIPE_OBJECT_KEYS = {
    "charge": "charge_id",
    "refund": "refund_id",
    "dispute": "dispute_id",
    "payout": "payout_id",
    "balance_transaction": "balance_transaction_id",
}
STRIPE_TABLES = {
    "charge": "stg_stripe_charges",
    "refund": "stg_stripe_refunds",
    "dispute": "stg_stripe_disputes",
    "payout": "stg_stripe_payouts",
    "balance_transaction": "stg_stripe_balance_transactions",
}

_S, _L, _B = T.StringType(), T.LongType(), T.BooleanType()


def _struct(**fields: T.DataType) -> T.StructType:
    return T.StructType([T.StructField(n, t) for n, t in fields.items()])


_BT = _struct(
    id=_S,
    object=_S,
    amount=_L,
    fee=_L,
    net=_L,
    currency=_S,
    exchange_rate=T.DecimalType(38, 12),
    type=_S,
    reporting_category=_S,
    source=_S,
    status=_S,
    created=_L,
    available_on=_L,
    description=_S,
)
# The part of the canonical stripe payload (see contracts/stripe) these tables read.
STRIPE_PAYLOAD_TYPE = _struct(
    id=_S,
    type=_S,
    created=_L,
    livemode=_B,
    api_version=_S,
    data=_struct(
        object=_struct(
            id=_S,
            object=_S,
            amount=_L,
            currency=_S,
            created=_L,
            livemode=_B,
            status=_S,
            description=_S,
            metadata=T.MapType(_S, _S),
            amount_captured=_L,
            amount_refunded=_L,
            captured=_B,
            paid=_B,
            refunded=_B,
            disputed=_B,
            payment_intent=_S,
            customer=_S,
            invoice=_S,
            balance_transaction=_BT,
            failure_code=_S,
            failure_message=_S,
            receipt_email_hash=_S,
            billing_details=_struct(email_hash=_S, phone_hash=_S),
            charge=_S,
            reason=_S,
            balance_transactions=T.ArrayType(_BT),
            evidence_details=_struct(due_by=_L, has_evidence=_B),
            is_charge_refundable=_B,
            arrival_date=_L,
            method=_S,
            type=_S,
            automatic=_B,
            destination=_S,
        )
    ),
)

_STATE_RANKS = {
    "charge": {"pending": 1, "failed": 2, "succeeded": 2},
    "refund": {"pending": 1, "requires_action": 1, "succeeded": 3, "failed": 3, "canceled": 3},
    "dispute": {
        "warning_needs_response": 1,
        "needs_response": 1,
        "warning_under_review": 2,
        "under_review": 2,
        "warning_closed": 3,
        "won": 3,
        "lost": 3,
    },
    "payout": {"pending": 1, "in_transit": 2, "paid": 3, "failed": 3, "canceled": 3},
    "balance_transaction": {"pending": 1, "available": 2},
}


def _rank(object_type: str, status: Column) -> Column:
    ranks = _STATE_RANKS[object_type]
    mapping = F.create_map(*[F.lit(x) for item in sorted(ranks.items()) for x in item])
    return F.coalesce(F.element_at(mapping, status), F.lit(0))


def _charge_rank(o: Column) -> Column:
    # Within a status, progress only grows: captured, then refunded amounts, then fully refunded.
    return (
        _rank("charge", o["status"]) * 10
        + F.when(o["captured"], 1).otherwise(0)
        + F.when(F.coalesce(o["amount_refunded"], F.lit(0)) > 0, 2).otherwise(0)
        + F.when(o["refunded"], 4).otherwise(0)
    )


def _ts(seconds: Column) -> Column:
    return F.timestamp_seconds(seconds)


def _event_columns(rank: Column) -> list[Column]:
    created = F.col("_p.created")
    return [
        F.col("_p.livemode").alias("livemode"),
        F.col("event_id"),
        F.col("_p.type").alias("event_type"),
        created.alias("event_created"),
        _ts(created).alias("event_created_at"),
        F.col("_p.api_version").alias("api_version"),
        rank.cast("int").alias("state_rank"),
        F.format_string("%012d|%02d|%s", created, rank.cast("int"), F.col("event_id")).alias(
            "state_order_key"
        ),
    ]


def _stripe_events(events: DataFrame) -> DataFrame:
    rows = events.filter(F.col("family") == "stripe")
    if "is_valid" in events.columns:
        rows = rows.filter(F.col("is_valid"))
    return rows.select(
        "event_id",
        "user_id",
        "lbg_id",
        "leg_id",
        F.from_json(F.col("payload"), STRIPE_PAYLOAD_TYPE).alias("_p"),
    )


# Each Silver column of a Stripe object table, in table order: (column, field of the Stripe object
# as a dotted path, conversion). "@" marks a column of the canonical envelope instead of the object.
_MONEY = (("amount_minor", "amount", ""), ("currency", "currency", "upper"))
_DESCRIBED_AND_OWNED = (
    ("description", "description", ""),
    ("metadata", "metadata", ""),
    ("user_id", "@user_id", ""),
    ("lbg_id", "@lbg_id", ""),
    ("leg_id", "@leg_id", ""),
)
STRIPE_OBJECT_COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "charge": (
        ("charge_id", "id", ""),
        *_MONEY,
        ("amount_captured_minor", "amount_captured", ""),
        ("amount_refunded_minor", "amount_refunded", ""),
        ("status", "status", ""),
        ("captured", "captured", ""),
        ("paid", "paid", ""),
        ("refunded", "refunded", ""),
        ("disputed", "disputed", ""),
        ("payment_intent_id", "payment_intent", ""),
        ("customer_id", "customer", ""),
        ("invoice_id", "invoice", ""),
        ("balance_transaction_id", "balance_transaction.id", ""),
        ("failure_code", "failure_code", ""),
        ("failure_message", "failure_message", ""),
        ("receipt_email_hash", "receipt_email_hash", ""),
        ("billing_email_hash", "billing_details.email_hash", ""),
        ("billing_phone_hash", "billing_details.phone_hash", ""),
        *_DESCRIBED_AND_OWNED,
    ),
    "refund": (
        ("refund_id", "id", ""),
        ("charge_id", "charge", ""),
        ("payment_intent_id", "payment_intent", ""),
        *_MONEY,
        ("status", "status", ""),
        ("reason", "reason", ""),
        ("balance_transaction_id", "balance_transaction.id", ""),
        *_DESCRIBED_AND_OWNED,
    ),
    "dispute": (
        ("dispute_id", "id", ""),
        ("charge_id", "charge", ""),
        ("payment_intent_id", "payment_intent", ""),
        *_MONEY,
        ("status", "status", ""),
        ("reason", "reason", ""),
        ("is_charge_refundable", "is_charge_refundable", ""),
        ("evidence_due_by", "evidence_details.due_by", "timestamp"),
        ("balance_transaction_ids", "balance_transactions", "ids"),
        ("metadata", "metadata", ""),
    ),
    "payout": (
        ("payout_id", "id", ""),
        *_MONEY,
        ("status", "status", ""),
        ("method", "method", ""),
        ("payout_type", "type", ""),
        ("automatic", "automatic", ""),
        ("destination_id", "destination", ""),
        ("arrival_date", "arrival_date", "date"),
        ("balance_transaction_id", "balance_transaction.id", ""),
        ("failure_code", "failure_code", ""),
        ("failure_message", "failure_message", ""),
        ("description", "description", ""),
        ("metadata", "metadata", ""),
    ),
    "balance_transaction": (
        ("balance_transaction_id", "id", ""),
        ("amount_minor", "amount", ""),
        ("fee_minor", "fee", ""),
        ("net_minor", "net", ""),
        ("currency", "currency", "upper"),
        ("exchange_rate", "exchange_rate", ""),
        ("type", "type", ""),
        ("reporting_category", "reporting_category", ""),
        ("source_id", "source", ""),
        ("status", "status", ""),
        ("available_on", "available_on", "timestamp"),
    ),
}
_CONVERSIONS = {
    "": lambda c: c,
    "upper": F.upper,
    "timestamp": _ts,
    "date": lambda c: F.to_date(_ts(c)),
    "ids": lambda c: F.transform(c, lambda b: b["id"]),
}


def _object_columns(object_type: str, o: Column) -> list[Column]:
    """The table's columns read from the Stripe object ``o``, then its ``created_at`` / ``created_date``
    (the object's own ``created``, else its event's), and for balance transactions ``description``."""
    columns = []
    for name, path, conversion in STRIPE_OBJECT_COLUMNS[object_type]:
        if path.startswith("@"):
            source = F.col(path[1:])
        else:
            source = o
            for part in path.split("."):
                source = source[part]
        columns.append(_CONVERSIONS[conversion](source).alias(name))
    created = F.coalesce(o["created"], F.col("_p.created"))
    columns += [_ts(created).alias("created_at"), F.to_date(_ts(created)).alias("created_date")]
    if object_type == "balance_transaction":
        columns.append(o["description"].alias("description"))
    return columns


def _object_rank(object_type: str, o: Column) -> Column:
    return _charge_rank(o) if object_type == "charge" else _rank(object_type, o["status"])


def latest_state(objects: DataFrame, key: str) -> DataFrame:
    """One row per ``key``: the row with the greatest ``state_order_key`` (deterministic).

    Example::

        latest_state(candidates, "charge_id")
    """
    window = Window.partitionBy(key).orderBy(F.col("state_order_key").desc())
    return objects.withColumn("_n", F.row_number().over(window)).filter(F.col("_n") == 1).drop("_n")


def stripe_objects(events: DataFrame, object_type: str) -> DataFrame:
    """Canonical stripe events -> the latest state of each Stripe object of one type.

    :param events: output of ``to_canonical`` or the Silver ``events`` table (non-stripe and
        invalid rows are ignored).
    :param object_type: ``charge``, ``refund``, ``dispute``, ``payout`` or ``balance_transaction``.
    :returns: one row per object id (column :data:`STRIPE_OBJECT_KEYS`), with ``state_order_key``
        for the MERGE described in the module docstring.

    Example::

        stripe_objects(canonical, "payout").select("payout_id", "status", "amount_minor", "currency")
    """
    if object_type not in STRIPE_OBJECT_TYPES:
        raise ValueError(f"object_type must be one of {STRIPE_OBJECT_TYPES}, got {object_type!r}")
    stripe = _stripe_events(events)
    obj = F.col("_p.data.object")
    if object_type == "balance_transaction":
        carried = F.filter(
            F.concat(F.array(obj["balance_transaction"]), F.coalesce(obj["balance_transactions"], F.array())),
            lambda b: b["amount"].isNotNull(),  # expanded objects only (an id alone carries no state)
        )
        exploded = stripe.select("*", F.explode(carried).alias("_bt"))
        rank = _object_rank("balance_transaction", F.col("_bt"))
        candidates = exploded.select(
            *_object_columns("balance_transaction", F.col("_bt")),
            obj["object"].alias("carried_by_object_type"),
            obj["id"].alias("carried_by_object_id"),
            *_event_columns(rank),
        )
    else:
        typed = stripe.filter(obj["object"] == object_type)
        candidates = typed.select(
            *_object_columns(object_type, obj), *_event_columns(_object_rank(object_type, obj))
        )
    return latest_state(candidates, STRIPE_OBJECT_KEYS[object_type])


def stripe_merge_condition(object_type: str, target: str = "t", source: str = "s") -> tuple[str, str]:
    """``(ON clause, WHEN MATCHED AND condition)`` for merging a batch into a Stripe object table.

    Example::

        on, newer = stripe_merge_condition("charge")
        # on == "t.charge_id = s.charge_id"; newer == "s.state_order_key > t.state_order_key"
    """
    key = STRIPE_OBJECT_KEYS[object_type]
    return f"{target}.{key} = {source}.{key}", f"{source}.state_order_key > {target}.state_order_key"
