"""Bronze lines -> canonical events (or quarantine verdicts), one output row per input row.

Checks run in this order; the first failing one decides ``error_type``:

1. ``size_violation``: the line is longer than ``max_record_bytes`` UTF-8 bytes (checked
   first, on the length only; an oversized line is never parsed).
2. ``parse_error``: U+FFFD in the line (the reader replaced invalid UTF-8), an empty line,
   or not a JSON object.
3. ``adapter_failure``: a channel or webhook provider without an adapter, an unverified
   webhook signature, or a provider shape we do not support (see ``adapters``).
4. ``unknown_event``: no contract for (event_name, event_version) on the record's channel.
5. ``schema_violation``: envelope rules (ids, version, timestamps, per-contract required
   envelope keys) and the contract's payload rules (required, type, enum, pattern,
   min/max, lengths, items). The message lists every violated rule, naming field and rule.
6. ``implausible_time``: the event time (below) is before ``time_bounds.earliest`` or more
   than ``time_bounds.max_ahead`` after ``received_at``: a broken device or producer clock.

The event time ``event_at`` is the device's ``occurred_at`` corrected for clock skew where the
channel says when the device sent the event (collect: ``received_at - (sent_at -
occurred_at)``, Snowplow's derived timestamp), else ``occurred_at``; ``event_date`` (the
partition) is its UTC date. ``occurred_at`` stays as the producer said.

A missing ``event_name`` or ``event_version`` is a ``schema_violation`` of the envelope
(there is nothing to look up).

Valid rows carry the canonical payload: upcast to the latest version, unknown fields
left out, PII treated (``x-pii``: ``hash_email``/``hash_phone`` -> ``<field>_hash`` holding
``<key version>:<hmac hex>``; ``drop`` -> absent; ``redact`` -> emails and phones replaced),
serialized by ``to_json`` with fields in sorted order and timestamps in UTC, so equal
content gives equal text whatever key order the producer used. ``payload_hash`` is the
SHA-256 of that text plus the envelope identity fields.

**Persist the result before splitting it** (``canonical.persist()``, then filter ``is_valid``
and ``not is_valid``): the plan is large (every contract's rules and canonical payload) and a
filter on ``is_valid`` over the unpersisted plan is pushed below the projection, duplicating
the whole validation expression into a predicate that Janino compiles very slowly.

Example::

    canonical = bronze.transform(
        lambda df: to_canonical(df, registry, max_record_bytes=262144, pii=PiiHasher.for_development()))
    canonical.filter("is_valid")       # -> Silver
    canonical.filter("not is_valid")   # -> quarantine (raw_record, error_type, error_message, file/line)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.contracts import ContractRegistry
from lakehouse.contracts.registry import Contract
from lakehouse.events import adapters
from lakehouse.events.payload import canonical_value, default_value, field, ident, object_rules, sql_str
from lakehouse.privacy import PiiHasher, redact_free_text_sql

log = logging.getLogger(__name__)

ERROR_TYPES = (
    "parse_error",
    "schema_violation",
    "unknown_event",
    "size_violation",
    "adapter_failure",
    "implausible_time",
)
INPUT_COLUMNS = ("value", "channel", "bronze_file", "bronze_line", "received_hour")
ENVELOPE_COLUMNS = (
    "event_id",
    "event_name",
    "event_version",
    "source_event_version",
    "occurred_at",
    "sent_at",
    "received_at",
    "event_at",
    "event_date",
    "channel",
    "source",
    "user_id",
    "anon_id",
    "session_id",
    "lbg_id",
    "leg_id",
)
CANONICAL_COLUMNS = (
    "is_valid",
    "error_type",
    "error_message",
    "raw_record",
    *ENVELOPE_COLUMNS,
    "family",
    "payload",
    "payload_hash",
    "bronze_file",
    "bronze_line",
    "received_hour",
)
_VALIDATION_ONLY = {
    "enum",
    "const",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "required",
    "description",
    "title",
    "$comment",
    "examples",
}
_TS_OPTIONS = {"timeZone": "UTC", "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"}


@dataclass(frozen=True)
class EventTimeBounds:
    """The plausible event times: not before ``earliest``, not after ``received_at + max_ahead``."""

    earliest: datetime = datetime(2015, 1, 1)
    max_ahead: timedelta = timedelta(hours=24)


def event_time(occurred: Column, sent: Column, received: Column) -> Column:
    """The event time: the device's ``occurred_at`` corrected for its clock's skew.

    As Snowplow's derived timestamp: ``received_at - (sent_at - occurred_at)``, i.e. the
    device's own interval between the event and its send, placed before the collector's
    stamp. Without ``sent_at`` (every server channel) it is ``occurred_at``.
    """
    micros = F.unix_micros(received) - (F.unix_micros(sent) - F.unix_micros(occurred))
    return F.when(sent.isNotNull() & received.isNotNull(), F.timestamp_micros(micros)).otherwise(occurred)


def _iso(ts: Column) -> Column:
    return F.coalesce(F.date_format(ts, "yyyy-MM-dd'T'HH:mm:ss'Z'"), F.lit("-"))


def _strip_validation(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip_validation(v) for k, v in value.items() if k not in _VALIDATION_ONLY}
    if isinstance(value, list):
        return [_strip_validation(v) for v in value]
    return value


def _map_lookup(mapping: dict[str, object], key: Column) -> Column:
    if not mapping:
        return F.lit(None)
    pairs = [F.lit(x) for item in sorted(mapping.items()) for x in item]
    return F.element_at(F.create_map(*pairs), key)


def _payload_rules(registry: ContractRegistry) -> Column:
    """``; ``-joined payload violations of each row's own contract (empty when none).

    One branch per family (a row evaluates only its family's rules); within it, a rule
    shared by several contracts (same condition and message) is evaluated once:
    ``CASE WHEN _key IN (...) AND <cond> THEN '<msg>' END``.
    """
    by_family: dict[str, dict[tuple[str, str], list[str]]] = {}
    for contract in registry.contracts:
        shared = by_family.setdefault(contract.family, {})
        t, p = ident(f"_t_{contract.family}"), ident(f"_p_{contract.family}")
        for cond, msg in object_rules(contract.root, t, p, "payload"):
            shared.setdefault((cond, msg), []).append(contract.key_string)
        for env_key in contract.envelope_required:
            column = ident(f"_env_{env_key}")
            msg = f"envelope.{env_key}: required for {contract.name} (rule: required)"
            shared.setdefault((f"({column} IS NULL OR trim({column}) = '')", msg), []).append(
                contract.key_string
            )
    branches = []
    for family, shared in sorted(by_family.items()):
        parts = [
            f"CASE WHEN _key IN ({', '.join(sql_str(k) for k in keys)}) AND {cond} THEN {sql_str(msg)} END"
            for (cond, msg), keys in shared.items()
        ]
        if parts:
            branches.append(f"WHEN {sql_str(family)} THEN concat_ws('; ', {', '.join(parts)})")
    if not branches:
        return F.lit("")
    return F.expr(f"coalesce(CASE _family {' '.join(branches)} END, '')")


def _canonical_struct(registry: ContractRegistry, contract: Contract, pii: PiiHasher) -> str:
    latest = registry.get(contract.name, registry.latest_version(contract.name))
    sources = registry.field_sources(contract)
    t = ident(f"_t_{contract.family}")
    fields: list[tuple[str, str]] = []
    for node in latest.root.kept_children():
        source_name, default = sources[node.name]
        typed = field(t, source_name) if source_name is not None else default_value(node, default)
        fields.append((node.canonical_name, canonical_value(node, typed, pii)))
    if registry.family_channel(contract.family) == "collect":
        ctx = ident("_env_context")
        fields.append(
            (
                "context",
                f"CASE WHEN {ctx} IS NOT NULL THEN named_struct('app', {ctx}.app, 'locale', {ctx}.locale, "
                f"'user_agent', {redact_free_text_sql(f'{ctx}.user_agent')}) END",
            )
        )
    return "named_struct(" + ", ".join(f"{sql_str(n)}, {v}" for n, v in sorted(fields)) + ")"


def _canonical_payload(registry: ContractRegistry, pii: PiiHasher) -> Column:
    """One CASE over the dispatch key; contracts that canonicalize identically share a branch."""
    groups: dict[str, tuple[Contract, list[str]]] = {}
    for contract in registry.contracts:
        latest = registry.get(contract.name, registry.latest_version(contract.name))
        signature = json.dumps(
            [
                contract.family,
                _strip_validation(latest.schema["properties"]),
                sorted(registry.field_sources(contract).items()),
                _strip_validation(contract.schema["properties"]),
            ],
            sort_keys=True,
            default=str,
        )
        groups.setdefault(signature, (contract, []))[1].append(contract.key_string)
    options = "map(" + ", ".join(f"{sql_str(k)}, {sql_str(v)}" for k, v in _TS_OPTIONS.items()) + ")"
    branches = [
        f"WHEN _key IN ({', '.join(sql_str(k) for k in keys)}) "
        f"THEN to_json({_canonical_struct(registry, c, pii)}, {options})"
        for c, keys in groups.values()
    ]
    log.debug("canonical payload: %d contracts in %d branches", len(registry), len(groups))
    return F.expr("CASE " + " ".join(branches) + " END")


def to_canonical(
    raw: DataFrame,
    registry: ContractRegistry,
    *,
    max_record_bytes: int,
    pii: PiiHasher,
    time_bounds: EventTimeBounds = EventTimeBounds(),
) -> DataFrame:
    """Normalize Bronze lines of any channel to canonical events, or to a quarantine verdict.

    :param raw: columns ``value`` (one line, decoded), ``channel``, ``bronze_file``, ``bronze_line``,
        ``received_hour`` (arrival-folder hour, may be null).
    :param registry: the contracts.
    :param max_record_bytes: longest accepted line in UTF-8 bytes.
    :param pii: the hasher for ``x-pii`` fields and SES recipient ids.
    :param time_bounds: event times outside these are ``implausible_time``.
    :returns: one row per input row with :data:`CANONICAL_COLUMNS`. ``raw_record`` is set only on
        invalid rows; ``payload`` and ``payload_hash`` only on valid rows. ``event_version`` is the
        latest version (after upcast) on valid rows, ``source_event_version`` the version received.

    Example::

        out = to_canonical(bronze, ContractRegistry.load(), max_record_bytes=262144,
                           pii=PiiHasher.for_development())
    """
    missing = [c for c in INPUT_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"to_canonical: input lacks column(s) {missing}")
    value, _channel = F.col("value"), F.col("channel")
    df = raw.select(*INPUT_COLUMNS).withColumns(
        {
            "_size": F.coalesce(F.octet_length(value), F.lit(0)),
            "_oversize": F.coalesce(F.octet_length(value), F.lit(0)) > F.lit(max_record_bytes),
        }
    )
    df = df.withColumn("_v", F.when(~F.col("_oversize") & ~value.contains("\ufffd"), value))
    df = adapters.parse_stages(df, pii)
    df = df.withColumns({f"_env_{name}": expr for name, expr in adapters.envelope_columns().items()})

    version_raw = F.trim(F.col("_env_event_version_raw"))
    df = df.withColumn("_version", F.when(version_raw.rlike("^[1-9][0-9]{0,5}$"), version_raw.cast("int")))
    key = F.concat(F.col("_env_event_name"), F.lit(":v"), F.col("_version").cast("string"))
    # A contract belongs to one channel: an event arriving on another (a client posting a
    # domain event to /collect) has no contract there.
    families = {c.key_string: c.family for c in registry.contracts}
    channels = {c.key_string: c.channel for c in registry.contracts}
    df = df.withColumn("_key", key).withColumn(
        "_family",
        F.when(_map_lookup(channels, F.col("_key")) == _channel, _map_lookup(families, F.col("_key"))),
    )

    payload_raw = F.col("_env_payload_raw")
    payload_is_object = F.coalesce(F.ltrim(payload_raw).startswith("{"), F.lit(False))
    df = df.withColumns(
        {
            f"_{kind}_{family}": F.when(
                (F.col("_family") == family) & payload_is_object,
                F.from_json(payload_raw, type_of(family)),
            )
            for family in registry.families
            for kind, type_of in (("t", registry.family_parse_type), ("p", registry.family_presence_type))
        }
    )

    env_id, env_name = F.col("_env_event_id"), F.col("_env_event_name")
    occurred_raw, occurred = F.col("_env_occurred_at_raw"), F.col("_env_occurred_at")
    envelope_errors = F.concat_ws(
        "; ",
        F.when(F.col("_env_envelope_errors") != "", F.col("_env_envelope_errors")),
        F.when(
            adapters._missing(env_id), F.lit("envelope.event_id: required field is missing (rule: required)")
        ),
        F.when(F.length(env_id) > 256, F.lit("envelope.event_id: longer than 256 (rule: maxLength)")),
        F.when(
            adapters._missing(env_name),
            F.lit("envelope.event_name: required field is missing (rule: required)"),
        ),
        F.when(
            F.col("_version").isNull(),
            F.lit("envelope.event_version: required positive integer is missing or malformed (rule: type)"),
        ),
        F.when(
            adapters._missing(occurred_raw),
            F.lit("envelope.occurred_at: required field is missing (rule: required)"),
        ),
        F.when(
            ~adapters._missing(occurred_raw) & occurred.isNull(),
            F.lit("envelope.occurred_at: expected an ISO-8601 date-time (rule: format)"),
        ),
        F.when(
            F.col("_env_received_at").isNull(),
            F.lit("envelope.received_at: required field is missing (rule: required)"),
        ),
        F.when(~payload_is_object, F.lit("envelope.payload: expected a JSON object (rule: type)")),
    )
    df = df.withColumns({"_envelope_errors": envelope_errors, "_payload_errors": _payload_rules(registry)})

    received = F.col("_env_received_at")
    df = df.withColumn("_event_at", event_time(occurred, F.col("_env_sent_at"), received))
    event_at = F.col("_event_at")
    too_early = event_at < F.lit(time_bounds.earliest.strftime("%Y-%m-%d %H:%M:%S")).cast("timestamp")
    latest_plausible = F.timestamp_micros(
        F.unix_micros(received) + F.lit(int(time_bounds.max_ahead / timedelta(microseconds=1)))
    )
    too_late = event_at > latest_plausible
    implausible = F.coalesce(too_early | too_late, F.lit(False))
    clocks = F.format_string(
        "(device occurred_at %s, sent_at %s; received_at %s)",
        _iso(occurred),
        _iso(F.col("_env_sent_at")),
        _iso(received),
    )

    corrupt = adapters.corrupt_column()
    bad_utf8 = F.coalesce(value.contains("\ufffd"), F.lit(False))
    error_type = (
        F.when(F.col("_oversize"), F.lit("size_violation"))
        .when(bad_utf8, F.lit("parse_error"))
        .when(value.isNull() | (F.trim(value) == "") | adapters.outer_parsed_null(), F.lit("parse_error"))
        .when(corrupt.isNotNull(), F.lit("parse_error"))
        .when(F.col("_env_adapter_error").isNotNull(), F.lit("adapter_failure"))
        .when(
            adapters._missing(env_name) | F.col("_version").isNull(),
            F.lit("schema_violation"),
        )
        .when(F.col("_family").isNull(), F.lit("unknown_event"))
        .when((F.col("_envelope_errors") != "") | (F.col("_payload_errors") != ""), F.lit("schema_violation"))
        .when(implausible, F.lit("implausible_time"))
    )
    error_message = (
        F.when(
            F.col("_oversize"),
            F.format_string(
                "record is %d bytes, above the limit of %d bytes", F.col("_size"), F.lit(max_record_bytes)
            ),
        )
        .when(bad_utf8, F.lit("invalid UTF-8: the record contains bytes that are not valid UTF-8 (U+FFFD)"))
        .when(value.isNull() | (F.trim(value) == "") | adapters.outer_parsed_null(), F.lit("empty record"))
        .when(corrupt.isNotNull(), F.lit("not a JSON object"))
        .when(F.col("_env_adapter_error").isNotNull(), F.col("_env_adapter_error"))
        .when(adapters._missing(env_name) | F.col("_version").isNull(), F.col("_envelope_errors"))
        .when(
            F.col("_family").isNull(),
            F.format_string(
                "no contract for event %s version %s on channel %s",
                env_name,
                F.coalesce(version_raw, F.lit("?")),
                _channel,
            ),
        )
        .when(
            (F.col("_envelope_errors") != "") | (F.col("_payload_errors") != ""),
            F.concat_ws(
                "; ",
                F.when(F.col("_envelope_errors") != "", F.col("_envelope_errors")),
                F.when(F.col("_payload_errors") != "", F.col("_payload_errors")),
            ),
        )
        .when(
            too_early,
            F.format_string(
                "event time %s is before the earliest accepted %s %s",
                _iso(event_at),
                F.lit(time_bounds.earliest.strftime("%Y-%m-%dT%H:%M:%SZ")),
                clocks,
            ),
        )
        .when(
            implausible,
            F.format_string(
                "event time %s is more than %s after it was received %s",
                _iso(event_at),
                F.lit(f"{time_bounds.max_ahead / timedelta(hours=1):g} hours"),
                clocks,
            ),
        )
    )
    df = df.withColumns({"error_type": error_type, "error_message": error_message})
    is_valid = F.col("error_type").isNull()
    latest = _map_lookup(registry.latest_versions, env_name)
    df = df.withColumns(
        {
            "is_valid": is_valid,
            "raw_record": F.when(~is_valid, value),
            "event_id": env_id,
            "event_name": env_name,
            "event_version": F.when(is_valid, latest.cast("int")).otherwise(F.col("_version")),
            "source_event_version": F.col("_version"),
            "occurred_at": occurred,
            "sent_at": F.col("_env_sent_at"),
            "received_at": received,
            "event_at": event_at,
            "event_date": F.to_date(event_at),
            "source": F.col("_env_source"),
            "user_id": F.col("_env_user_id"),
            "anon_id": F.col("_env_anon_id"),
            "session_id": F.col("_env_session_id"),
            "lbg_id": F.col("_env_lbg_id"),
            "leg_id": F.col("_env_leg_id"),
            "family": F.col("_family"),
            "payload": F.when(is_valid, _canonical_payload(registry, pii)),
        }
    )
    identity = F.to_json(
        F.struct(
            *[
                F.col(c)
                for c in (
                    "event_id",
                    "event_name",
                    "event_version",
                    "occurred_at",
                    "source",
                    "user_id",
                    "anon_id",
                    "session_id",
                    "lbg_id",
                    "leg_id",
                    "payload",
                )
            ]
        ),
        _TS_OPTIONS,
    )
    df = df.withColumn("payload_hash", F.when(is_valid, F.sha2(identity, 256)))
    return df.select(*CANONICAL_COLUMNS)
