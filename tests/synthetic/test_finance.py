"""The synthetic finance world: deterministic, balanced, valid Stripe shapes, planted discrepancies."""

import json
from collections import Counter
from datetime import date, timedelta

import jsonschema
import psycopg
import pytest
from lakehouse.assets import asset_dir
from lakehouse.finance.ledger.migrate import migrate
from lakehouse.synthetic.finance import (
    CURRENCY_EXPONENT,
    PLANTED_KINDS,
    FinanceSpec,
    business_window,
    generate_finance,
    load_ledger,
    write_stripe_bronze,
)

WORLD = generate_finance(FinanceSpec())


def without_nulls(value):
    """JSON as the canon reads it: a null field is an absent field."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def test_same_spec_same_world_other_seed_other_world():
    again = generate_finance(FinanceSpec())
    assert json.dumps(again.stripe_events) == json.dumps(WORLD.stripe_events)
    assert again.ledger == WORLD.ledger and again.planted == WORLD.planted
    other = generate_finance(FinanceSpec(seed=17))
    assert json.dumps(other.stripe_events) != json.dumps(WORLD.stripe_events)


def test_business_days_follow_the_time_zone_across_daylight_saving():
    hours = [
        (end - start) / timedelta(hours=1)
        for start, end in (
            business_window(date(2026, 10, 31) + timedelta(days=i), "America/New_York") for i in range(3)
        )
    ]
    assert hours == [24, 25, 24]
    assert business_window(date(2026, 3, 8), "America/New_York")[1] - business_window(
        date(2026, 3, 8), "America/New_York"
    )[0] == timedelta(hours=23)


def test_every_journal_entry_balances_per_currency():
    sums = Counter()
    for line in WORLD.ledger["journal_line"]:
        sums[(line["entry_id"], line["currency"])] += line["amount_minor"]
    assert sums and all(total == 0 for total in sums.values())
    entries = {e["entry_id"] for e in WORLD.ledger["journal_entry"]}
    assert entries == {line["entry_id"] for line in WORLD.ledger["journal_line"]}


def test_amounts_respect_currency_exponents():
    amounts = [(t["currency"], t["amount"]) for t in WORLD.balance_transactions]
    assert {c for c, _ in amounts} == set(CURRENCY_EXPONENT)
    assert all(a % 10 == 0 for c, a in amounts if CURRENCY_EXPONENT[c] == 3)
    assert all(
        t["net"] == t["amount"] - t["fee"] == t["amount"] - sum(f["amount"] for f in t["fee_details"])
        for t in WORLD.balance_transactions
    )


def test_stripe_events_are_valid_against_the_canon():
    schemas = {}
    for path in (asset_dir("contracts") / "stripe").glob("*.json"):
        schema = json.loads(path.read_text())
        schemas[schema["x-event"]["name"].removeprefix("stripe.")] = schema
    kinds = Counter(ev["type"] for ev in WORLD.stripe_events)
    assert set(kinds) == {
        "charge.succeeded",
        "refund.created",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.closed",
        "payout.created",
        "payout.paid",
    }
    for ev in WORLD.stripe_events:
        jsonschema.Draft202012Validator(schemas[ev["type"]]).validate(without_nulls(ev))


def test_planted_discrepancies_are_where_they_say():
    assert sorted(p.kind for p in WORLD.planted) == sorted(PLANTED_KINDS)
    charges = {
        ev["data"]["object"]["id"]: ev["data"]["object"]
        for ev in WORLD.stripe_events
        if ev["type"] == "charge.succeeded"
    }
    payments = Counter(p["processor_ref"] for p in WORLD.ledger["payment"])
    by_ref = {p["processor_ref"]: p for p in WORLD.ledger["payment"]}
    planted = {p.kind: p for p in WORLD.planted}
    clean = set(charges) - {p.processor_ref for p in WORLD.planted}
    assert all(
        payments[c] == 1
        and by_ref[c]["amount_minor"] == charges[c]["amount"]
        and by_ref[c]["currency"] == charges[c]["currency"]
        for c in clean
    )

    mismatch = planted["amount_mismatch"]
    assert by_ref[mismatch.processor_ref]["amount_minor"] - charges[mismatch.processor_ref]["amount"] == 1
    currency = planted["currency_mismatch"]
    assert by_ref[currency.processor_ref]["currency"] != charges[currency.processor_ref]["currency"]
    assert planted["missing_in_processor"].processor_ref not in charges
    assert planted["missing_in_ledger"].processor_ref not in payments
    assert payments[planted["duplicate_ledger_row"].processor_ref] == 2

    late = planted["late_night_capture"]
    captured = by_ref[late.processor_ref]["captured_at"]
    start, end = business_window(late.close_date, "America/New_York")
    assert start <= captured < end and captured.date() == late.close_date + timedelta(days=1)

    payout = planted["payout_mismatch"]
    listed = [t for t in WORLD.balance_transactions if t["payout"] == payout.processor_ref]
    own = [t for t in listed if t["type"] == "payout"]
    assert len(own) == 1 and -own[0]["amount"] - sum(t["net"] for t in listed if t["type"] != "payout") == 100
    for po in {t["payout"] for t in WORLD.balance_transactions if t["payout"]} - {payout.processor_ref}:
        assert sum(t["net"] for t in WORLD.balance_transactions if t["payout"] == po) == 0


def test_a_clean_world_plants_nothing():
    clean = generate_finance(FinanceSpec(plant_discrepancies=False, days=2))
    assert clean.planted == []
    charges = sorted(
        (ev["data"]["object"]["id"], ev["data"]["object"]["amount"])
        for ev in clean.stripe_events
        if ev["type"] == "charge.succeeded"
    )
    assert charges == sorted((p["processor_ref"], p["amount_minor"]) for p in clean.ledger["payment"])


def test_the_ledger_loads_into_postgres_and_the_database_accepts_it(ledger_db):
    with psycopg.connect(ledger_db, autocommit=True) as conn:
        migrate(conn)
        load_ledger(conn, WORLD)
        counts = {t: conn.execute(f"SELECT count(*) FROM ledger.{t}").fetchone()[0] for t in WORLD.ledger}
        next_id = conn.execute("SELECT nextval(pg_get_serial_sequence('ledger.journal_entry', 'entry_id'))")
        assert next_id.fetchone()[0] == len(WORLD.ledger["journal_entry"]) + 1
    assert counts == {t: len(rows) for t, rows in WORLD.ledger.items()}


def test_stripe_bronze_files_carry_every_event_once(tmp_path):
    paths = write_stripe_bronze(tmp_path, WORLD)
    lines = [json.loads(line) for p in paths for line in p.read_text().splitlines()]
    assert sorted(x["payload"]["id"] for x in lines) == sorted(ev["id"] for ev in WORLD.stripe_events)
    assert all(x["provider"] == "stripe" and x["signature_verified"] for x in lines)
    assert all("/bronze/webhooks/stripe/" in str(p) for p in paths)


@pytest.mark.parametrize("days", [1, 2])
def test_planting_needs_three_days(days):
    with pytest.raises(ValueError, match="at least 3 business days"):
        FinanceSpec(days=days)
