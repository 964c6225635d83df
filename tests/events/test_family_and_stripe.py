"""project_family and stripe_objects over the shared canonical batch."""

import pytest
from lakehouse.events import (
    STRIPE_OBJECT_KEYS,
    family_table_schema,
    project_family,
    snake_case,
    stripe_merge_condition,
    stripe_objects,
)
from pyspark.sql import functions as F


def test_snake_case():
    assert snake_case("eventType") == "event_type" and snake_case("total_minor") == "total_minor"


def test_every_family_projects_to_its_declared_schema(canonical, registry):
    for family in registry.families:
        table = project_family(canonical, registry, family)
        assert table.schema == family_table_schema(registry, family), family


def test_family_rows_are_typed(canonical, registry):
    client = project_family(canonical, registry, "client")
    pages = {r.source_event_version: r for r in client.filter("event_name = 'page_viewed'").collect()}
    assert set(pages) == {1, 2} and pages[1].page_url == pages[2].page_url == "https://acme.example/a"
    assert pages[2].duration_ms == 1500 and pages[1].context.app == "web"
    ses = project_family(canonical, registry, "ses").filter("event_name = 'ses.bounce'").collect()
    assert ses[0].event_type == "Bounce" and ses[0].bounce.bouncedRecipients[0].emailAddress_hash.startswith(
        "dev:"
    )
    esign = project_family(canonical, registry, "esign").collect()
    assert esign[0].payload_event_id == "es-1"  # collides with the envelope column, so prefixed
    with pytest.raises(KeyError):
        project_family(canonical, registry, "nope")


def test_charge_latest_state_follows_stripe_created_not_arrival(canonical):
    # The refunded event arrives first in the batch but was created later: it wins either way.
    charges = stripe_objects(canonical, "charge").collect()
    assert len(charges) == 1
    charge = charges[0]
    assert (charge.charge_id, charge.event_id, charge.refunded, charge.amount_refunded_minor) == (
        "ch_1",
        "evt_2",
        True,
        12500,
    )
    assert (charge.amount_minor, charge.currency, charge.balance_transaction_id) == (12500, "EUR", "txn_ch1")
    assert charge.receipt_email_hash.startswith("dev:") and str(charge.created_date) == "2024-05-01"


def test_same_second_tie_is_broken_by_state_rank(canonical):
    payout = stripe_objects(canonical, "payout").collect()
    assert [(p.payout_id, p.status, p.event_id) for p in payout] == [("po_1", "paid", "evt_0")]
    assert payout[0].balance_transaction_id == "txn_po1"


def test_refunds_disputes_and_balance_transactions(canonical):
    refund = stripe_objects(canonical, "refund").collect()
    assert [(r.refund_id, r.charge_id, r.amount_minor, r.balance_transaction_id) for r in refund] == [
        ("re_1", "ch_1", 12500, "txn_re1")
    ]
    dispute = stripe_objects(canonical, "dispute").collect()
    assert dispute[0].balance_transaction_ids == ["txn_dp1"] and dispute[0].status == "needs_response"
    bts = {r.balance_transaction_id: r for r in stripe_objects(canonical, "balance_transaction").collect()}
    assert set(bts) == {"txn_ch1", "txn_re1", "txn_dp1"}  # txn_po1 is only an id: no state to take
    assert bts["txn_ch1"].status == "available" and bts["txn_ch1"].event_id == "evt_2"
    assert (bts["txn_dp1"].fee_minor, bts["txn_dp1"].net_minor, bts["txn_dp1"].currency) == (
        1500,
        -14000,
        "EUR",
    )
    assert dict(bts["txn_dp1"].asDict())["carried_by_object_type"] == "dispute"


def test_money_columns_are_bigint(canonical):
    for object_type in STRIPE_OBJECT_KEYS:
        schema = stripe_objects(canonical, object_type).schema
        for field in schema.fields:
            if field.name.endswith("_minor"):
                assert field.dataType.simpleString() == "bigint", (object_type, field.name)


def test_merge_condition_and_idempotent_batches(canonical, spark):
    on, newer = stripe_merge_condition("charge")
    assert on == "t.charge_id = s.charge_id" and newer == "s.state_order_key > t.state_order_key"
    # Any split of the events into batches converges to the one-batch result.
    stripe_rows = canonical.filter("family = 'stripe'")
    first = stripe_objects(stripe_rows.filter(F.col("event_id") == "evt_2"), "charge").collect()[0]
    second = stripe_objects(stripe_rows.filter(F.col("event_id") == "evt_1"), "charge").collect()[0]
    assert max(first.state_order_key, second.state_order_key) == first.state_order_key
