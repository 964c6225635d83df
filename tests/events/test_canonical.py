"""to_canonical: envelopes of every channel, upcast, identity, every error type, PII."""

import hashlib
import hmac
import json

import pytest
from lakehouse.events import CANONICAL_COLUMNS, ERROR_TYPES
from lakehouse.privacy import EMAIL_PATTERN, PHONE_PATTERN
from lakehouse.privacy.patterns import _EMAIL_RE, _PHONE_RE

from events.cases import RAW_EMAIL, RAW_PHONE, TEXT_EMAIL, TEXT_PHONE


def test_one_row_per_input_row_with_the_contracted_columns(canonical, bronze):
    assert tuple(canonical.columns) == CANONICAL_COLUMNS
    assert canonical.count() == bronze.count()
    assert canonical.select("bronze_line").distinct().count() == bronze.count()


def test_valid_rows_carry_no_raw_record_and_invalid_rows_no_payload(rows):
    for name, row in rows.items():
        if row.is_valid:
            assert row.raw_record is None and row.payload is not None and row.payload_hash is not None, name
            assert row.error_type is None and row.error_message is None, name
        else:
            assert row.raw_record is not None and row.payload is None, name
            assert row.error_type in ERROR_TYPES and row.error_message, name


def test_collect_envelope(rows):
    row = rows["screen"]
    assert row.is_valid, row.error_message
    assert (row.event_name, row.event_version, row.channel, row.source) == (
        "screen_viewed",
        1,
        "collect",
        "client.web",
    )
    assert (row.anon_id, row.user_id, row.session_id, row.family) == ("anon-1", "user-1", "sess-1", "client")
    assert (
        row.occurred_at.isoformat() == "2024-05-01T10:00:00"
        and row.received_at.isoformat() == "2024-05-01T10:00:02"
    )
    assert str(row.event_date) == "2024-05-01"
    payload = json.loads(row.payload)
    assert payload == {
        "app_version": "1.2.3",
        "screen_name": "home",
        "context": {"app": "web", "locale": "en-GB", "user_agent": "Mozilla/5.0"},
    }  # ip dropped


def test_event_time_corrects_a_skewed_device_clock_and_keeps_the_device_time(rows):
    row = rows["clock_skewed"]
    assert row.is_valid, row.error_message
    assert row.occurred_at.isoformat() == "2024-05-04T10:00:00"  # as the device said
    assert row.sent_at.isoformat() == "2024-05-04T10:00:01"
    assert row.event_at.isoformat() == "2024-05-01T10:00:01"  # received_at - (sent_at - occurred_at)
    assert str(row.event_date) == "2024-05-01"
    server = rows["lbg_booked"]
    assert server.sent_at is None and server.event_at == server.occurred_at


def test_eventbridge_envelope_uses_the_producer_id_not_eventbridges(rows):
    first, retry = rows["lbg_booked"], rows["lbg_booked_retry"]
    assert first.is_valid, first.error_message
    assert (first.event_id, first.source, first.lbg_id, first.family) == (
        "dom-1",
        "com.acme.booking",
        "lbg-1",
        "lbg",
    )
    assert first.occurred_at.isoformat() == "2024-05-01T09:00:00"
    assert first.received_at.isoformat() == "2024-05-01T09:00:01"  # EventBridge's time
    assert json.loads(first.payload) == {"currency": "EUR", "legs_count": 2, "total_minor": 25000}
    assert (retry.event_id, retry.payload_hash) == (first.event_id, first.payload_hash)


def test_stripe_envelope(rows):
    row = rows["stripe_succeeded"]
    assert row.is_valid, row.error_message
    assert (row.event_id, row.event_name, row.source, row.family) == (
        "evt_1",
        "stripe.charge.succeeded",
        "stripe",
        "stripe",
    )
    assert row.occurred_at.isoformat() == "2024-05-01T10:00:00"  # created 1714557600
    assert (row.user_id, row.lbg_id) == ("user-1", "lbg-1")  # from data.object.metadata
    obj = json.loads(row.payload)["data"]["object"]
    assert obj["currency"] == "EUR" and obj["amount"] == 12500
    assert "name" not in obj["billing_details"] and "address" not in obj["billing_details"]
    assert obj["billing_details"]["email_hash"].startswith("dev:")
    assert obj["balance_transaction"]["id"] == "txn_ch1"


def test_tax_esign_ses_envelopes(rows):
    tax, esign = rows["tax"], rows["esign"]
    assert tax.is_valid and esign.is_valid, (tax.error_message, esign.error_message)
    assert tax.event_id == hashlib.sha256(b"tax|order-1|transaction").hexdigest()
    assert (tax.event_name, tax.lbg_id) == ("tax.transaction", "lbg-1")
    assert (esign.event_id, esign.event_name, esign.lbg_id) == ("es-1", "esign.envelope_sent", "lbg-1")
    assert "name" not in json.loads(esign.payload)["envelope"]["signer"]
    ses = rows["ses_delivery"]
    assert ses.is_valid, ses.error_message
    assert (ses.event_name, ses.source, ses.occurred_at.isoformat()) == (
        "ses.delivery",
        "ses",
        "2024-05-01T10:00:03",
    )
    mail = json.loads(ses.payload)["mail"]
    assert "subject" not in mail["commonHeaders"] and "headers" not in mail
    assert len(mail["destination_hash"]) == 2
    assert rows["ses_notification"].is_valid and rows["ses_notification"].event_name == "ses.complaint"


def test_ses_ids_are_deterministic_and_distinguish_repeated_opens(rows):
    assert rows["ses_delivery"].event_id == rows["ses_delivery_reordered"].event_id
    assert rows["ses_open_1"].event_id != rows["ses_open_2"].event_id
    assert rows["ses_delivery"].event_id != rows["ses_bounce"].event_id
    assert all(len(rows[n].event_id) == 64 for n in ("ses_delivery", "ses_open_1", "ses_bounce"))


def test_upcast_lands_both_versions_in_the_latest_shape(rows):
    v1, v2 = rows["page_v1"], rows["page_v2"]
    assert v1.is_valid and v2.is_valid, (v1.error_message, v2.error_message)
    assert (v1.event_version, v1.source_event_version) == (2, 1)
    assert (v2.event_version, v2.source_event_version) == (2, 2)
    p1, p2 = json.loads(v1.payload), json.loads(v2.payload)
    assert p1["page_url"] == p2["page_url"] == "https://acme.example/a" and "url" not in p1
    assert "duration_ms" not in p1 and p2["duration_ms"] == 1500


def test_payload_hash_ignores_producer_key_order(rows):
    assert rows["signup"].is_valid and rows["signup_reordered"].is_valid
    assert rows["signup"].payload == rows["signup_reordered"].payload
    assert rows["signup"].payload_hash == rows["signup_reordered"].payload_hash
    assert rows["signup"].payload_hash != rows["screen"].payload_hash


@pytest.mark.parametrize(
    ("case", "error_type", "fragments"),
    [
        ("err_not_json", "parse_error", ["not a JSON object"]),
        ("err_array", "parse_error", ["not a JSON object"]),
        ("err_empty", "parse_error", ["empty record"]),
        ("err_utf8", "parse_error", ["invalid UTF-8"]),
        ("err_size", "size_violation", ["bytes, above the limit of 4096"]),
        ("err_unknown_name", "unknown_event", ["button_clicked", "version 1"]),
        ("err_unknown_version", "unknown_event", ["page_viewed", "version 9"]),
        ("err_wrong_channel", "unknown_event", ["payment_captured version 1 on channel collect"]),
        ("err_stripe_unknown_type", "unknown_event", ["stripe.invoice.paid"]),
        ("err_required", "schema_violation", ["payload.email: required field is missing (rule: required)"]),
        ("err_types", "schema_violation", ["payload.amount_minor: expected an integer (rule: type)"]),
        (
            "err_enum_pattern",
            "schema_violation",
            [
                "payload.reason: value not in enum",
                "payload.currency: does not match",
                "rule: exclusiveMinimum",
            ],
        ),
        (
            "err_nested",
            "schema_violation",
            [
                "payload.line_items[].amount: expected an integer",
                "payload.line_items[].jurisdiction: required field is missing",
            ],
        ),
        ("err_not_uuid", "schema_violation", ["envelope.event_id: must be a UUID"]),
        ("err_no_anon", "schema_violation", ["envelope.anon_id: required"]),
        ("err_no_lbg", "schema_violation", ["envelope.lbg_id: required for lbg_booked"]),
        ("err_bad_time", "schema_violation", ["envelope.occurred_at: expected an ISO-8601 date-time"]),
        ("err_bad_sent_at", "schema_violation", ["envelope.sent_at: expected an ISO-8601 date-time"]),
        (
            "err_clock_1999",
            "implausible_time",
            [
                "event time 1999-01-01T00:00:01Z is before the earliest accepted 2015-01-01T00:00:00Z",
                "device occurred_at 1999-01-01T00:00:00Z, sent_at 2024-05-01T10:00:01Z",
            ],
        ),
        (
            "err_clock_2099",
            "implausible_time",
            ["event time 2099-01-01T00:00:01Z is more than 24 hours after"],
        ),
        ("err_clock_unsent", "implausible_time", ["event time 2099-01-01T00:00:00Z", "sent_at -"]),
        ("err_server_clock", "implausible_time", ["event time 1999-12-31T23:00:00Z is before"]),
        ("err_provider", "adapter_failure", ["no adapter for provider 'paypal'"]),
        ("err_unsigned", "adapter_failure", ["signature not verified"]),
        ("err_ses_shape", "adapter_failure", ["neither eventType nor notificationType"]),
        ("err_stripe_shape", "adapter_failure", ["no evt_ id"]),
        ("err_eb_detail", "adapter_failure", ["detail is missing"]),
        ("err_channel", "adapter_failure", ["no adapter for channel 'fax'"]),
    ],
)
def test_error_types_and_messages(rows, cases, case, error_type, fragments):
    row = rows[case]
    assert not row.is_valid
    assert row.error_type == error_type, row.error_message
    for fragment in fragments:
        assert fragment in row.error_message, row.error_message
    assert row.raw_record == cases[case][1]


def test_every_error_type_is_exercised(rows):
    assert {r.error_type for r in rows.values() if not r.is_valid} == set(ERROR_TYPES)


def test_oversized_line_is_not_parsed(rows):
    row = rows["err_size"]
    assert row.event_id is None and row.event_name is None


def _hmac(pii, text: str) -> str:
    return "dev:" + hmac.new(pii.key_bytes(), text.encode(), hashlib.sha256).hexdigest()


def test_pii_fields_hashed_with_the_keyed_hmac_of_the_normalized_value(rows, pii):
    payload = json.loads(rows["signup"].payload)
    assert "email" not in payload and "phone" not in payload
    assert payload["email_hash"] == _hmac(pii, RAW_EMAIL.strip().lower())
    assert payload["phone_hash"] == _hmac(pii, "+442079460958")
    complaint = json.loads(rows["complaint"].payload)
    assert complaint["contact_email_hash"] == payload["email_hash"]
    assert complaint["description"] == "charged twice, reach me at [email] or [phone]"
    search = json.loads(rows["search"].payload)
    assert search["query"] == "flights for [email] call [phone]"


def test_no_raw_email_or_phone_in_any_string_of_valid_rows(canonical):
    valid = list(canonical.filter("is_valid").drop("raw_record").collect())
    raw_values = [
        RAW_EMAIL,
        RAW_EMAIL.lower(),
        RAW_PHONE,
        "+442079460958",
        TEXT_EMAIL,
        TEXT_PHONE,
        "c@d.example",
        "no-reply@acme.example",
        "Ann Example",
        "203.0.113.9",
    ]
    for row in valid:
        for column, value in row.asDict().items():
            if isinstance(value, str):
                assert not _EMAIL_RE.search(value), (column, value)
                assert not _PHONE_RE.search(value), (column, value)
                for raw in raw_values:
                    assert raw not in value, (column, raw)
    assert EMAIL_PATTERN and PHONE_PATTERN
