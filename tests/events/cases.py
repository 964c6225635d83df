"""Bronze lines for the event tests: one line per named case, in every channel's real envelope."""

from __future__ import annotations

import copy
import json
import uuid

RAW_EMAIL = "Ann.Example+tag@Example.COM"
RAW_PHONE = "+44 20 7946 0958"
TEXT_EMAIL = "bob.smith@mail.example.org"
TEXT_PHONE = "(555) 123-4567"


def uid(n: int) -> str:
    return str(uuid.UUID(int=n))


def collect(name: str, version: int, payload: dict, n: int = 1, **envelope) -> str:
    record = {
        "event_id": uid(n),
        "event_name": name,
        "event_version": version,
        "occurred_at": "2024-05-01T10:00:00Z",
        "sent_at": "2024-05-01T10:00:01Z",
        "received_at": "2024-05-01T10:00:02Z",
        "anon_id": "anon-1",
        "user_id": "user-1",
        "session_id": "sess-1",
        "context": {"app": "web", "locale": "en-GB", "user_agent": "Mozilla/5.0", "ip": "203.0.113.9"},
        "payload": payload,
    }
    record.update(envelope)
    return json.dumps({k: v for k, v in record.items() if v is not None})


def eventbridge(name: str, payload: dict, event_id: str, eb_id: str = "eb-1", **detail) -> str:
    body = {
        "event_id": event_id,
        "event_name": name,
        "event_version": 1,
        "occurred_at": "2024-05-01T09:00:00Z",
        "user_id": "user-1",
        "lbg_id": "lbg-1",
        "payload": payload,
    }
    body.update(detail)
    return json.dumps(
        {
            "version": "0",
            "id": eb_id,
            "detail-type": name,
            "source": "com.acme.booking",
            "account": "123456789012",
            "time": "2024-05-01T09:00:01Z",
            "region": "eu-west-1",
            "resources": [],
            "detail": {k: v for k, v in body.items() if v is not None},
        }
    )


def webhook(provider: str, payload, signature_verified=True) -> str:
    return json.dumps(
        {
            "provider": provider,
            "received_at": "2024-05-01T12:00:00Z",
            "signature_verified": signature_verified,
            "payload": payload,
        }
    )


def stripe_event(evt: str, etype: str, created: int, obj: dict) -> dict:
    return {
        "id": evt,
        "object": "event",
        "type": etype,
        "created": created,
        "livemode": False,
        "api_version": "2024-04-10",
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


def charge(status="succeeded", refunded=False, amount_refunded=0, bt_status="pending") -> dict:
    return {
        "id": "ch_1",
        "object": "charge",
        "amount": 12500,
        "amount_captured": 12500,
        "amount_refunded": amount_refunded,
        "captured": True,
        "paid": True,
        "refunded": refunded,
        "disputed": False,
        "currency": "eur",
        "created": 1714557600,
        "status": status,
        "payment_intent": "pi_1",
        "customer": "cus_1",
        "receipt_email": RAW_EMAIL,
        "billing_details": {
            "email": RAW_EMAIL,
            "phone": RAW_PHONE,
            "name": "Ann Example",
            "address": {"city": "X"},
        },
        "metadata": {"user_id": "user-1", "lbg_id": "lbg-1"},
        "description": f"booking for {TEXT_EMAIL}",
        "balance_transaction": {
            "id": "txn_ch1",
            "object": "balance_transaction",
            "amount": 12500,
            "fee": 390,
            "net": 12110,
            "currency": "eur",
            "type": "charge",
            "reporting_category": "charge",
            "source": "ch_1",
            "status": bt_status,
            "created": 1714557600,
            "available_on": 1714780800,
            "exchange_rate": None,
        },
    }


def ses(
    event_type: str, detail_key: str, detail: dict, recipients=("c@d.example", "e@f.example"), key="eventType"
):
    return {
        key: event_type,
        "mail": {
            "timestamp": "2024-05-01T10:00:00.000Z",
            "messageId": "0100018f-msg-1",
            "source": "Acme <no-reply@acme.example>",
            "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/acme.example",
            "sendingAccountId": "123456789012",
            "destination": list(recipients),
            "headersTruncated": False,
            "headers": [{"name": "To", "value": recipients[0]}],
            "commonHeaders": {
                "from": ["no-reply@acme.example"],
                "to": list(recipients),
                "subject": "Your booking",
            },
        },
        detail_key: detail,
    }


def build_cases() -> dict[str, tuple[str, str]]:
    """name -> (channel, line)."""
    cases: dict[str, tuple[str, str]] = {}
    signup = {"method": "email", "email": RAW_EMAIL, "phone": RAW_PHONE, "marketing_opt_in": True}
    cases["page_v1"] = (
        "collect",
        collect("page_viewed", 1, {"url": "https://acme.example/a", "title": "A"}, n=1),
    )
    cases["page_v2"] = (
        "collect",
        collect(
            "page_viewed", 2, {"page_url": "https://acme.example/a", "title": "A", "duration_ms": 1500}, n=2
        ),
    )
    cases["signup"] = ("collect", collect("signup_completed", 1, signup, n=3))
    reordered = json.loads(collect("signup_completed", 1, dict(reversed(list(signup.items()))), n=3))
    cases["signup_reordered"] = ("collect", json.dumps(dict(reversed(list(reordered.items())))))
    cases["search"] = (
        "collect",
        collect(
            "search_performed",
            1,
            {"query": f"flights for {TEXT_EMAIL} call {TEXT_PHONE}", "results_count": 3},
            n=4,
        ),
    )
    cases["screen"] = (
        "collect",
        collect("screen_viewed", 1, {"screen_name": "home", "app_version": "1.2.3"}, n=5),
    )
    cases["experiment"] = (
        "collect",
        collect("experiment_exposed", 1, {"experiment_key": "checkout_v2", "variant": "treatment"}, n=6),
    )
    lbg = {"total_minor": 25000, "currency": "eur", "legs_count": 2}
    cases["lbg_booked"] = ("eventbridge", eventbridge("lbg_booked", lbg, "dom-1", eb_id="eb-1"))
    cases["lbg_booked_retry"] = ("eventbridge", eventbridge("lbg_booked", lbg, "dom-1", eb_id="eb-2"))
    cases["leg_created"] = (
        "eventbridge",
        eventbridge(
            "leg_created",
            {
                "origin": "LHR",
                "destination": "JFK",
                "departure_at": "2024-06-01T08:00:00Z",
                "price_minor": 12500,
                "currency": "GBP",
            },
            "dom-2",
            leg_id="leg-1",
        ),
    )
    cases["payment"] = (
        "eventbridge",
        eventbridge(
            "payment_captured",
            {"payment_id": "pay-1", "amount_minor": 12500, "currency": "eur", "stripe_charge_id": "ch_1"},
            "dom-3",
            source=None,
        ),
    )
    cases["complaint"] = (
        "eventbridge",
        eventbridge(
            "complaint_filed",
            {
                "complaint_id": "cmp-1",
                "category": "billing",
                "description": f"charged twice, reach me at {TEXT_EMAIL} or {TEXT_PHONE}",
                "contact_email": RAW_EMAIL,
                "contact_phone": RAW_PHONE,
            },
            "dom-4",
        ),
    )
    cases["stripe_refunded"] = (
        "webhooks/stripe",
        webhook(
            "stripe",
            stripe_event(
                "evt_2", "charge.refunded", 1714560000, charge("succeeded", True, 12500, "available")
            ),
        ),
    )
    cases["stripe_succeeded"] = (
        "webhooks/stripe",
        webhook("stripe", stripe_event("evt_1", "charge.succeeded", 1714557600, charge())),
    )
    refund = {
        "id": "re_1",
        "object": "refund",
        "amount": 12500,
        "currency": "eur",
        "charge": "ch_1",
        "status": "succeeded",
        "reason": "requested_by_customer",
        "created": 1714560000,
        "balance_transaction": {
            "id": "txn_re1",
            "object": "balance_transaction",
            "amount": -12500,
            "fee": 0,
            "net": -12500,
            "currency": "eur",
            "type": "refund",
            "status": "available",
            "created": 1714560000,
            "reporting_category": "refund",
        },
    }
    cases["stripe_refund"] = (
        "webhooks/stripe",
        webhook("stripe", stripe_event("evt_3", "refund.created", 1714560000, refund)),
    )
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 12500,
        "currency": "eur",
        "charge": "ch_1",
        "status": "needs_response",
        "reason": "fraudulent",
        "created": 1714570000,
        "evidence_details": {"due_by": 1715000000, "has_evidence": False},
        "balance_transactions": [
            {
                "id": "txn_dp1",
                "object": "balance_transaction",
                "amount": -12500,
                "fee": 1500,
                "net": -14000,
                "currency": "eur",
                "type": "adjustment",
                "status": "available",
                "created": 1714570000,
                "reporting_category": "dispute",
            }
        ],
    }
    cases["stripe_dispute"] = (
        "webhooks/stripe",
        webhook("stripe", stripe_event("evt_4", "charge.dispute.created", 1714570000, dispute)),
    )
    payout = {
        "id": "po_1",
        "object": "payout",
        "amount": 50000,
        "currency": "eur",
        "status": "in_transit",
        "arrival_date": 1714780800,
        "method": "standard",
        "type": "bank_account",
        "automatic": True,
        "created": 1714600000,
        "balance_transaction": "txn_po1",
    }
    cases["payout_created"] = (
        "webhooks/stripe",
        webhook("stripe", stripe_event("evt_5", "payout.created", 1714600000, payout)),
    )
    cases["payout_paid"] = (
        "webhooks/stripe",
        webhook("stripe", stripe_event("evt_0", "payout.paid", 1714600000, {**payout, "status": "paid"})),
    )
    tax = {
        "reference": "order-1",
        "type": "transaction",
        "posted_at": "2024-05-01T10:00:00Z",
        "currency": "usd",
        "customer_email": RAW_EMAIL,
        "lbg_id": "lbg-1",
        "line_items": [
            {
                "line_id": "li-1",
                "amount": 10000,
                "amount_tax": 825,
                "tax_behavior": "exclusive",
                "jurisdiction": {"country": "US", "state": "CA"},
            }
        ],
    }
    cases["tax"] = ("webhooks/tax", webhook("tax", tax))
    esign = {
        "event_id": "es-1",
        "event_type": "envelope.sent",
        "created_at": "2024-05-01T10:00:00Z",
        "envelope": {
            "envelope_id": "env-1",
            "lbg_id": "lbg-1",
            "signer": {"email": RAW_EMAIL, "name": "Ann Example"},
        },
    }
    cases["esign"] = ("webhooks/esign", webhook("esign", esign))
    delivery = {
        "timestamp": "2024-05-01T10:00:03.000Z",
        "processingTimeMillis": 512,
        "recipients": ["c@d.example", "e@f.example"],
        "smtpResponse": "250 ok",
        "reportingMTA": "a.example",
    }
    cases["ses_delivery"] = ("webhooks/ses", webhook("ses", ses("Delivery", "delivery", delivery)))
    cases["ses_delivery_reordered"] = (
        "webhooks/ses",
        webhook(
            "ses",
            ses(
                "Delivery",
                "delivery",
                {**delivery, "recipients": ["e@f.example", "c@d.example"]},
                recipients=("e@f.example", "c@d.example"),
            ),
        ),
    )
    bounce = {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "timestamp": "2024-05-01T10:00:04.000Z",
        "feedbackId": "fb-1",
        "bouncedRecipients": [{"emailAddress": "c@d.example", "diagnosticCode": "550 c@d.example"}],
    }
    cases["ses_bounce"] = ("webhooks/ses", webhook("ses", ses("Bounce", "bounce", bounce)))
    cases["ses_open_1"] = (
        "webhooks/ses",
        webhook(
            "ses",
            ses(
                "Open",
                "open",
                {"timestamp": "2024-05-01T11:00:00.000Z", "userAgent": "x", "ipAddress": "1.2.3.4"},
            ),
        ),
    )
    cases["ses_open_2"] = (
        "webhooks/ses",
        webhook(
            "ses",
            ses(
                "Open",
                "open",
                {"timestamp": "2024-05-01T12:00:00.000Z", "userAgent": "x", "ipAddress": "1.2.3.4"},
            ),
        ),
    )
    cases["ses_notification"] = (
        "webhooks/ses",
        webhook(
            "ses",
            ses(
                "Complaint",
                "complaint",
                {
                    "timestamp": "2024-05-01T10:00:05.000Z",
                    "complainedRecipients": [{"emailAddress": "c@d.example"}],
                },
                key="notificationType",
            ),
        ),
    )
    # ---------------------------------------------------------------- failures
    cases["err_not_json"] = ("collect", "{not json")
    cases["err_array"] = ("collect", "[1, 2]")
    cases["err_empty"] = ("eventbridge", "")
    cases["err_utf8"] = (
        "collect",
        collect("screen_viewed", 1, {"screen_name": "caf\ufffd"}, n=20).replace("\\ufffd", "\ufffd"),
    )
    cases["err_size"] = ("collect", collect("search_performed", 1, {"query": "x" * 5000}, n=21))
    cases["err_unknown_name"] = ("collect", collect("button_clicked", 1, {}, n=22))
    cases["err_wrong_channel"] = (  # a client posting a domain event to /collect
        "collect",
        collect("payment_captured", 1, {"payment_id": "pay_1", "amount_minor": 100, "currency": "EUR"}, n=40),
    )
    cases["err_unknown_version"] = ("collect", collect("page_viewed", 9, {"page_url": "https://a"}, n=23))
    cases["err_stripe_unknown_type"] = (
        "webhooks/stripe",
        webhook(
            "stripe", stripe_event("evt_9", "invoice.paid", 1714557600, {"id": "in_1", "object": "invoice"})
        ),
    )
    cases["err_required"] = ("collect", collect("signup_completed", 1, {"method": "email"}, n=24))
    cases["err_types"] = (
        "eventbridge",
        eventbridge(
            "payment_captured", {"payment_id": "p", "amount_minor": 12.5, "currency": "eur"}, "dom-9"
        ),
    )
    cases["err_enum_pattern"] = (
        "eventbridge",
        eventbridge(
            "refund_issued",
            {"refund_id": "r", "payment_id": "p", "amount_minor": 0, "currency": "euro", "reason": "whim"},
            "dom-10",
        ),
    )
    cases["err_nested"] = (
        "webhooks/tax",
        webhook("tax", {**tax, "reference": "order-2", "line_items": [{"line_id": "li", "amount": "ten"}]}),
    )
    cases["err_not_uuid"] = ("collect", collect("screen_viewed", 1, {"screen_name": "home"}, event_id="abc"))
    cases["err_no_anon"] = (
        "collect",
        collect("screen_viewed", 1, {"screen_name": "home"}, n=25, anon_id=None),
    )
    cases["err_no_lbg"] = ("eventbridge", eventbridge("lbg_booked", lbg, "dom-11", lbg_id=None))
    cases["err_bad_time"] = (
        "collect",
        collect("screen_viewed", 1, {"screen_name": "h"}, n=26, occurred_at="yesterday"),
    )
    # Device clocks: a skewed one is corrected by sent_at; times that stay implausible are quarantined.
    screen = {"screen_name": "h"}
    skewed = {"occurred_at": "2024-05-04T10:00:00Z", "sent_at": "2024-05-04T10:00:01Z"}  # 3 days ahead
    cases["clock_skewed"] = ("collect", collect("screen_viewed", 1, screen, n=90, **skewed))
    cases["err_clock_1999"] = (
        "collect",
        collect("screen_viewed", 1, screen, n=91, occurred_at="1999-01-01T00:00:00Z"),
    )
    cases["err_clock_2099"] = (
        "collect",
        collect("screen_viewed", 1, screen, n=92, occurred_at="2099-01-01T00:00:00Z"),
    )
    cases["err_clock_unsent"] = (  # no sent_at: nothing to correct with, the device time stands
        "collect",
        collect("screen_viewed", 1, screen, n=93, occurred_at="2099-01-01T00:00:00Z", sent_at=None),
    )
    cases["err_server_clock"] = (
        "eventbridge",
        eventbridge("lbg_booked", lbg, "dom-90", occurred_at="1999-12-31T23:00:00Z"),
    )
    cases["err_bad_sent_at"] = ("collect", collect("screen_viewed", 1, screen, n=94, sent_at="soon"))
    cases["err_provider"] = ("webhooks/paypal", webhook("paypal", {"id": "x"}))
    cases["err_unsigned"] = (
        "webhooks/stripe",
        webhook("stripe", stripe_event("evt_8", "charge.succeeded", 1, charge()), False),
    )
    cases["err_ses_shape"] = ("webhooks/ses", webhook("ses", {"mail": {"messageId": "m"}}))
    cases["err_stripe_shape"] = (
        "webhooks/stripe",
        webhook("stripe", {"object": "event", "type": "charge.succeeded"}),
    )
    cases["err_eb_detail"] = (
        "eventbridge",
        json.dumps(
            {
                "version": "0",
                "id": "x",
                "detail-type": "lbg_booked",
                "source": "com.acme.booking",
                "time": "2024-05-01T00:00:00Z",
            }
        ),
    )
    cases["err_channel"] = ("fax", collect("screen_viewed", 1, {"screen_name": "h"}, n=27))
    return copy.deepcopy(cases)


MAX_RECORD_BYTES = 4096
