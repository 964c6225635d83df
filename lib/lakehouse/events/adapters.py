"""Channel adapters: each Bronze channel's envelope mapped onto the canonical envelope.

An adapter is a set of Spark expressions over the parsed Bronze line. Every adapter
yields the same fields (:data:`ENVELOPE_FIELDS`); ``adapter_error`` is non-null when
the record comes in a shape the adapter does not support (-> ``adapter_failure``) and
``envelope_errors`` lists channel-specific envelope rule violations
(-> ``schema_violation``).

Channels and their identity rules:

- ``collect``: the client envelope; ``event_id`` must be a UUID, ``anon_id`` is required;
  ``source`` = ``client.<context.app>``; ``sent_at`` (device clock) corrects the device's
  ``occurred_at`` for clock skew (see ``canonical``).
- ``eventbridge``: the domain event is ``detail``; ``event_id`` is ``detail.event_id``
  (EventBridge's own ``id`` changes on producer retries and is ignored); ``event_name`` is
  ``detail.event_name`` (falling back to ``detail-type``; the two must agree);
  ``received_at`` is EventBridge's ``time``; ``source`` is EventBridge's ``source``.
- ``webhooks/<provider>``: ``{provider, received_at, signature_verified, payload}``; the
  provider must have an adapter, match the channel folder and have a verified signature.

  - stripe: ``event_id`` = ``evt_`` id, ``event_name`` = ``stripe.<type>``, ``occurred_at`` =
    ``created``; ``user_id``/``lbg_id``/``leg_id`` from ``data.object.metadata``.
  - tax: ``event_id`` = sha256 hex of ``tax|<reference>|<type>``, ``event_name`` = ``tax.<type>``,
    ``occurred_at`` = ``posted_at``.
  - esign: ``event_id`` = provider event id, ``event_name`` = ``esign.envelope_<action>``,
    ``occurred_at`` = ``created_at``, ``lbg_id`` = ``envelope.lbg_id``.
  - ses: one event per record. ``event_id`` = sha256 hex of ``messageId|eventType|<sorted
    keyed digests of the recipients>|<open/click timestamp>|<click link>``; the recipients
    (bounced, complained, delivered, else ``mail.destination``) enter only as HMAC digests
    under the PII *id key*, so the id reveals no address and survives key rotation.
    ``event_name`` = ``ses.<lower(eventType or notificationType)>``, ``occurred_at`` = the
    event's own timestamp, else ``mail.timestamp``.

Example::

    parsed = parse_stages(df.withColumn("_v", F.col("value")), pii)   # as to_canonical does
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.events.payload import ISO_DATETIME
from lakehouse.privacy import PiiHasher

WEBHOOK_PROVIDERS = ("stripe", "tax", "esign", "ses")
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
CORRUPT = "_corrupt_record"
PARSE_OPTIONS = {"columnNameOfCorruptRecord": CORRUPT, "mode": "PERMISSIVE"}

ENVELOPE_FIELDS = (
    "event_id",
    "event_name",
    "event_version_raw",
    "occurred_at_raw",
    "occurred_at",
    "sent_at",
    "received_at",
    "source",
    "user_id",
    "anon_id",
    "session_id",
    "lbg_id",
    "leg_id",
    "payload_raw",
    "context",
    "adapter_error",
    "envelope_errors",
)


def _strings(*names: str) -> T.StructType:
    return T.StructType([T.StructField(n, T.StringType()) for n in names])


# Outer shapes: every field a string, so from_json flags only non-JSON / non-object input as corrupt.
COLLECT_SCHEMA = _strings(
    "event_id",
    "event_name",
    "event_version",
    "occurred_at",
    "sent_at",
    "received_at",
    "anon_id",
    "user_id",
    "session_id",
    "lbg_id",
    "leg_id",
    "context",
    "payload",
    CORRUPT,
)
CONTEXT_SCHEMA = _strings("app", "locale", "user_agent")
EVENTBRIDGE_SCHEMA = _strings(
    "version", "id", "detail-type", "source", "account", "time", "region", "detail", CORRUPT
)
DETAIL_SCHEMA = _strings(
    "event_id",
    "event_name",
    "event_version",
    "occurred_at",
    "user_id",
    "anon_id",
    "session_id",
    "lbg_id",
    "leg_id",
    "payload",
)
WEBHOOK_SCHEMA = _strings("provider", "received_at", "signature_verified", "payload", CORRUPT)
STRIPE_SCHEMA = _strings("id", "type", "created", "data")
STRIPE_DATA_SCHEMA = T.StructType(
    [
        T.StructField(
            "object", T.StructType([T.StructField("metadata", T.MapType(T.StringType(), T.StringType()))])
        )
    ]
)
TAX_SCHEMA = _strings("reference", "type", "posted_at", "lbg_id")
ESIGN_SCHEMA = _strings("event_id", "event_type", "created_at", "envelope")
ESIGN_ENVELOPE_SCHEMA = _strings("lbg_id")
SES_SCHEMA = _strings(
    "eventType", "notificationType", "mail", "send", "delivery", "bounce", "complaint", "open", "click"
)
SES_MAIL_SCHEMA = T.StructType(
    [
        T.StructField("timestamp", T.StringType()),
        T.StructField("messageId", T.StringType()),
        T.StructField("destination", T.ArrayType(T.StringType())),
    ]
)
_ADDRESS_LIST = T.ArrayType(T.StructType([T.StructField("emailAddress", T.StringType())]))
SES_DETAIL_SCHEMA = T.StructType(
    [
        T.StructField("timestamp", T.StringType()),
        T.StructField("link", T.StringType()),
        T.StructField("recipients", T.ArrayType(T.StringType())),
        T.StructField("bouncedRecipients", _ADDRESS_LIST),
        T.StructField("complainedRecipients", _ADDRESS_LIST),
    ]
)
SES_DETAIL_KEYS = {
    "Send": "send",
    "Delivery": "delivery",
    "Bounce": "bounce",
    "Complaint": "complaint",
    "Open": "open",
    "Click": "click",
}


def _null_string() -> Column:
    return F.lit(None).cast("string")


def iso_timestamp(col: Column) -> Column:
    """ISO-8601 date-time string -> timestamp (UTC when no offset); null when not a date-time.

    Example::

        iso_timestamp(F.lit("2024-05-01T10:00:00Z"))
    """
    return F.when(col.rlike(ISO_DATETIME), F.try_to_timestamp(col))


def _errors(*checks: tuple[Column, str]) -> Column:
    """``; ``-joined messages of the violated checks (empty string when none)."""
    return F.concat_ws("; ", *[F.when(F.coalesce(cond, F.lit(False)), F.lit(msg)) for cond, msg in checks])


def _missing(col: Column) -> Column:
    return col.isNull() | (F.trim(col) == "")


def parse_stages(df: DataFrame, pii: PiiHasher) -> DataFrame:
    """Add the parsed intermediate columns (``_c``, ``_e``, ``_w``, ...); each parse runs only on its channel.

    Expects ``_v`` (the value, null when oversized) and ``channel``.
    """
    channel = F.col("channel")
    v = F.col("_v")
    is_webhook = channel.startswith("webhooks/")
    df = df.withColumns(
        {
            "_c": F.when(channel == "collect", F.from_json(v, COLLECT_SCHEMA, PARSE_OPTIONS)),
            "_e": F.when(channel == "eventbridge", F.from_json(v, EVENTBRIDGE_SCHEMA, PARSE_OPTIONS)),
            "_w": F.when(is_webhook, F.from_json(v, WEBHOOK_SCHEMA, PARSE_OPTIONS)),
        }
    )
    w_payload = F.col("_w.payload")
    provider = F.coalesce(F.col("_w.provider"), F.regexp_extract(channel, "^webhooks/(.*)$", 1))
    df = df.withColumn("_provider", F.when(is_webhook, provider))
    on = {p: (channel == f"webhooks/{p}") & (F.col("_provider") == p) for p in WEBHOOK_PROVIDERS}
    df = df.withColumns(
        {
            "_c_ctx": F.from_json(F.col("_c.context"), CONTEXT_SCHEMA),
            "_e_detail": F.from_json(F.col("_e.detail"), DETAIL_SCHEMA),
            "_stripe": F.when(on["stripe"], F.from_json(w_payload, STRIPE_SCHEMA)),
            "_tax": F.when(on["tax"], F.from_json(w_payload, TAX_SCHEMA)),
            "_esign": F.when(on["esign"], F.from_json(w_payload, ESIGN_SCHEMA)),
            "_ses": F.when(on["ses"], F.from_json(w_payload, SES_SCHEMA)),
        }
    )
    ses_type = F.coalesce(F.col("_ses.eventType"), F.col("_ses.notificationType"))
    detail_raw = F.lit(None).cast("string")
    for etype, key in SES_DETAIL_KEYS.items():
        detail_raw = F.when(ses_type == etype, F.col(f"_ses.{key}")).otherwise(detail_raw)
    df = df.withColumns(
        {
            "_stripe_data": F.from_json(F.col("_stripe.data"), STRIPE_DATA_SCHEMA),
            "_esign_env": F.from_json(F.col("_esign.envelope"), ESIGN_ENVELOPE_SCHEMA),
            "_ses_type": ses_type,
            "_ses_mail": F.from_json(F.col("_ses.mail"), SES_MAIL_SCHEMA),
            "_ses_detail": F.from_json(detail_raw, SES_DETAIL_SCHEMA),
        }
    )
    return df.withColumn("_ses_event_id", _ses_event_id(pii))


def _ses_event_id(pii: PiiHasher) -> Column:
    etype = F.col("_ses_type")
    detail = F.col("_ses_detail")
    email = lambda x: x["emailAddress"]  # noqa: E731
    recipients = (
        F.when(etype == "Bounce", F.transform(detail["bouncedRecipients"], email))
        .when(etype == "Complaint", F.transform(detail["complainedRecipients"], email))
        .when(etype == "Delivery", detail["recipients"])
        .otherwise(F.col("_ses_mail.destination"))
    )
    digests = F.array_sort(
        F.transform(F.coalesce(recipients, F.array()), lambda r: pii.id_digest(F.lower(F.trim(r))))
    )
    repeated = etype.isin("Open", "Click")
    return F.sha2(
        F.concat_ws(
            "|",
            F.col("_ses_mail.messageId"),
            etype,
            F.array_join(digests, ","),
            F.coalesce(F.when(repeated, detail["timestamp"]), F.lit("")),
            F.coalesce(F.when(etype == "Click", detail["link"]), F.lit("")),
        ),
        256,
    )


def _collect() -> dict[str, Column]:
    c = F.col("_c")
    return {
        "event_id": c["event_id"],
        "event_name": c["event_name"],
        "event_version_raw": c["event_version"],
        "occurred_at_raw": c["occurred_at"],
        "sent_at": iso_timestamp(c["sent_at"]),
        "received_at": F.coalesce(iso_timestamp(c["received_at"]), F.col("received_hour")),
        "source": F.concat(F.lit("client."), F.coalesce(F.lower(F.col("_c_ctx.app")), F.lit("unknown"))),
        "user_id": c["user_id"],
        "anon_id": c["anon_id"],
        "session_id": c["session_id"],
        "lbg_id": c["lbg_id"],
        "leg_id": c["leg_id"],
        "payload_raw": c["payload"],
        "context": F.col("_c_ctx"),
        "adapter_error": _null_string(),
        "envelope_errors": _errors(
            (
                c["event_id"].isNotNull() & ~c["event_id"].rlike(UUID_PATTERN),
                "envelope.event_id: must be a UUID (rule: pattern)",
            ),
            (_missing(c["anon_id"]), "envelope.anon_id: required field is missing (rule: required)"),
            (
                ~_missing(c["sent_at"]) & iso_timestamp(c["sent_at"]).isNull(),
                "envelope.sent_at: expected an ISO-8601 date-time (rule: format)",
            ),
        ),
    }


def _eventbridge() -> dict[str, Column]:
    e, d = F.col("_e"), F.col("_e_detail")
    detail_type = e["detail-type"]
    return {
        "event_id": d["event_id"],
        "event_name": F.coalesce(d["event_name"], detail_type),
        "event_version_raw": d["event_version"],
        "occurred_at_raw": d["occurred_at"],
        "received_at": F.coalesce(iso_timestamp(e["time"]), F.col("received_hour")),
        "source": e["source"],
        "user_id": d["user_id"],
        "anon_id": d["anon_id"],
        "session_id": d["session_id"],
        "lbg_id": d["lbg_id"],
        "leg_id": d["leg_id"],
        "payload_raw": d["payload"],
        "context": F.lit(None).cast(CONTEXT_SCHEMA),
        "adapter_error": F.when(
            F.coalesce(e["version"], F.lit("")) != "0",
            F.lit("eventbridge: unsupported envelope version (expected '0')"),
        )
        .when(_missing(e["source"]), F.lit("eventbridge: source is missing"))
        .when(
            e["source"].startswith("aws."),
            F.concat(F.lit("eventbridge: AWS service events are not supported: "), e["source"]),
        )
        .when(_missing(detail_type), F.lit("eventbridge: detail-type is missing"))
        .when(
            d.isNull() | ~F.ltrim(e["detail"]).startswith("{"),
            F.lit("eventbridge: detail is missing or not an object"),
        ),
        "envelope_errors": _errors(
            (
                d["event_name"].isNotNull() & (d["event_name"] != detail_type),
                "envelope.event_name: detail.event_name differs from detail-type (rule: const)",
            ),
        ),
    }


def _webhook_common() -> tuple[Column, Column]:
    w = F.col("_w")
    provider = F.col("_provider")
    error = (
        F.when(
            _missing(w["payload"]) | ~F.ltrim(w["payload"]).startswith("{"),
            F.lit("webhook: payload is missing or not an object"),
        )
        .when(
            ~provider.isin(*WEBHOOK_PROVIDERS),
            F.concat(F.lit("webhook: no adapter for provider '"), provider, F.lit("'")),
        )
        .when(
            F.col("channel") != F.concat(F.lit("webhooks/"), provider),
            F.concat(
                F.lit("webhook: provider '"), provider, F.lit("' delivered on channel "), F.col("channel")
            ),
        )
        .when(
            F.lower(F.coalesce(w["signature_verified"], F.lit("false"))) != "true",
            F.lit("webhook: signature not verified"),
        )
    )
    received_at = F.coalesce(iso_timestamp(w["received_at"]), F.col("received_hour"))
    return error, received_at


def _webhook(provider: str, fields: dict[str, Column], own_error: Column) -> dict[str, Column]:
    common_error, received_at = _webhook_common()
    base = {
        "received_at": received_at,
        "source": F.lit(provider),
        "user_id": _null_string(),
        "anon_id": _null_string(),
        "session_id": _null_string(),
        "lbg_id": _null_string(),
        "leg_id": _null_string(),
        "payload_raw": F.col("_w.payload"),
        "context": F.lit(None).cast(CONTEXT_SCHEMA),
        "envelope_errors": F.lit(""),
        "event_version_raw": F.lit("1"),
    }
    base.update(fields)
    base["adapter_error"] = F.coalesce(common_error, own_error)
    return base


def _stripe() -> dict[str, Column]:
    s = F.col("_stripe")
    meta = F.col("_stripe_data.object.metadata")
    created = s["created"]
    return _webhook(
        "stripe",
        {
            "event_id": s["id"],
            "event_name": F.concat(F.lit("stripe."), s["type"]),
            "occurred_at_raw": created,
            "occurred_at": F.when(created.rlike("^[0-9]{1,12}$"), F.timestamp_seconds(created.cast("long"))),
            "user_id": meta["user_id"],
            "lbg_id": meta["lbg_id"],
            "leg_id": meta["leg_id"],
        },
        F.when(~F.coalesce(s["id"], F.lit("")).startswith("evt_"), F.lit("stripe: payload has no evt_ id"))
        .when(_missing(s["type"]), F.lit("stripe: payload has no type"))
        .when(~created.rlike("^[0-9]{1,12}$"), F.lit("stripe: payload has no integer created")),
    )


def _tax() -> dict[str, Column]:
    t = F.col("_tax")
    return _webhook(
        "tax",
        {
            "event_id": F.sha2(F.concat_ws("|", F.lit("tax"), t["reference"], t["type"]), 256),
            "event_name": F.concat(F.lit("tax."), t["type"]),
            "occurred_at_raw": t["posted_at"],
            "lbg_id": t["lbg_id"],
        },
        F.when(_missing(t["reference"]), F.lit("tax: payload has no reference")).when(
            _missing(t["type"]), F.lit("tax: payload has no type")
        ),
    )


def _esign() -> dict[str, Column]:
    s = F.col("_esign")
    return _webhook(
        "esign",
        {
            "event_id": s["event_id"],
            "event_name": F.concat(F.lit("esign."), F.regexp_replace(s["event_type"], "[.]", "_")),
            "occurred_at_raw": s["created_at"],
            "lbg_id": F.col("_esign_env.lbg_id"),
        },
        F.when(_missing(s["event_id"]), F.lit("esign: payload has no event_id")).when(
            _missing(s["event_type"]), F.lit("esign: payload has no event_type")
        ),
    )


def _ses() -> dict[str, Column]:
    etype = F.col("_ses_type")
    occurred = F.coalesce(F.col("_ses_detail.timestamp"), F.col("_ses_mail.timestamp"))
    return _webhook(
        "ses",
        {
            "event_id": F.col("_ses_event_id"),
            "event_name": F.concat(F.lit("ses."), F.lower(F.regexp_replace(F.trim(etype), " ", "_"))),
            "occurred_at_raw": occurred,
        },
        F.when(_missing(etype), F.lit("ses: record has neither eventType nor notificationType")).when(
            _missing(F.col("_ses_mail.messageId")), F.lit("ses: record has no mail.messageId")
        ),
    )


ADAPTERS = {
    "collect": _collect,
    "eventbridge": _eventbridge,
    "webhooks/stripe": _stripe,
    "webhooks/tax": _tax,
    "webhooks/esign": _esign,
    "webhooks/ses": _ses,
}


def envelope_columns() -> dict[str, Column]:
    """The canonical envelope fields as one CASE expression per field over the channel.

    A channel without an adapter (or a webhook provider without one) gets an ``adapter_error``.
    """
    channel = F.col("channel")
    per_channel = {ch: build() for ch, build in ADAPTERS.items()}
    columns: dict[str, Column] = {}
    for name in ENVELOPE_FIELDS:
        expr = None
        for ch, fields in per_channel.items():
            value = fields.get(name)
            if value is None and name == "occurred_at":
                value = iso_timestamp(fields["occurred_at_raw"])
            if value is None and name == "sent_at":  # only client devices say when they sent
                value = F.lit(None).cast("timestamp")
            expr = F.when(channel == ch, value) if expr is None else expr.when(channel == ch, value)
        columns[name] = expr
    webhook_error, _ = _webhook_common()
    columns["adapter_error"] = F.coalesce(
        columns["adapter_error"],
        F.when(channel.startswith("webhooks/"), webhook_error),
        F.when(
            ~channel.isin(*ADAPTERS) & ~channel.startswith("webhooks/"),
            F.concat(F.lit("no adapter for channel '"), F.coalesce(channel, F.lit("<null>")), F.lit("'")),
        ),
    )
    return columns


def corrupt_column() -> Column:
    """The parsed outer record's corrupt-record text (non-null: not a JSON object)."""
    return F.coalesce(F.col(f"_c.{CORRUPT}"), F.col(f"_e.{CORRUPT}"), F.col(f"_w.{CORRUPT}"))


def outer_parsed_null() -> Column:
    """True where the channel's outer parse produced nothing (empty line)."""
    channel = F.col("channel")
    return (
        F.when(channel == "collect", F.col("_c").isNull())
        .when(channel == "eventbridge", F.col("_e").isNull())
        .when(channel.startswith("webhooks/"), F.col("_w").isNull())
        .otherwise(F.lit(False))
    )
