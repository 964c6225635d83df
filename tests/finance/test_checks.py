"""The close's match and checks on small inline frames: timing differences either side of the
day, a daylight-saving day, and bad input that must become a blocking exception naming its
entity (unknown currency, negative amount, unmapped reporting category, a captured charge
without a balance transaction, a three-decimal amount not ending in 0)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from lakehouse.finance.calendar import business_window
from lakehouse.finance.checks import CloseInputs, raise_exceptions, summary, with_resolutions
from lakehouse.finance.inputs import CloseWindow
from lakehouse.finance.late import forward_posted, restated
from lakehouse.finance.match import ledger_processor_match
from lakehouse.finance.reference import load_reference
from pyspark.sql import functions as F

ITEMS = (
    "entity_type string, item_id string, processor_ref string, lbg_id string, finance_category string, "
    "amount_minor bigint, currency string, at timestamp, status string"
)
DAY = date(2026, 11, 1)  # New York: 25 hours, 04:00 UTC .. 05:00 UTC the next day
WINDOW = CloseWindow(DAY, "America/New_York")
REF = load_reference()


def test_a_daylight_saving_day_has_25_hours_and_the_spring_one_23():
    start, end = business_window(DAY, "America/New_York")
    assert (end - start).total_seconds() == 25 * 3600
    start, end = business_window(date(2027, 3, 14), "America/New_York")
    assert (end - start).total_seconds() == 23 * 3600


def _item(kind, item_id, ref, amount, currency, at, status=None):
    category = {"payment": "sales", "refund": "refunds", "dispute": "disputes", "payout": "payouts"}[kind]
    return (kind, item_id, ref, "lbg_1", category, amount, currency, at, status)


def _inputs(spark, ledger, processor, *, bts=(), charges=()):
    led = spark.createDataFrame(ledger, ITEMS)
    proc = spark.createDataFrame(processor, ITEMS)
    match = ledger_processor_match(led, proc, WINDOW, REF.currencies(spark)).withColumn(
        "close_date", F.lit(DAY)
    )
    bt = spark.createDataFrame(
        list(bts),
        "balance_transaction_id string, amount_minor bigint, fee_minor bigint, net_minor bigint, "
        "currency string, reporting_category string, created_at timestamp",
    )
    charge = spark.createDataFrame(
        list(charges),
        "charge_id string, amount_captured_minor bigint, amount_refunded_minor bigint, currency string, "
        "status string, captured boolean, balance_transaction_id string, created_at timestamp",
    )
    refunds = spark.createDataFrame(
        [], "charge_id string, amount_minor bigint, status string, created_at timestamp"
    )
    objects = spark.createDataFrame(
        [], "object_type string, object_id string, livemode boolean, currency string, amount_minor bigint"
    )
    return CloseInputs(
        window=WINDOW,
        ledger=led,
        processor=proc,
        match=match,
        stripe_objects=objects,
        balance_transactions=bt,
        charges=charge,
        refunds=refunds,
        stripe_max_event_at=datetime(2026, 11, 3),
        ledger_snapshot_time=datetime(2026, 11, 3),
    )


def _exceptions(spark, inputs):
    raised = raise_exceptions(spark, inputs, REF)
    resolutions = spark.createDataFrame(
        [], "check_id string, entity_id string, reason string, resolved_by string, resolved_at timestamp"
    )
    return with_resolutions(raised, resolutions, REF.currencies(spark))


def test_counterparts_a_day_apart_are_timing_differences_and_a_lone_row_is_missing(spark):
    ledger = [
        _item(
            "payment", "pay_a", "ch_a", 1000, "usd", datetime(2026, 11, 1, 4, 30)
        ),  # 00:30 local, on the day
        _item(
            "payment", "pay_b", "ch_b", 2000, "usd", datetime(2026, 11, 2, 4, 59)
        ),  # 23:59 local, on the day
        _item("payment", "pay_c", "ch_c", 3000, "usd", datetime(2026, 11, 1, 12)),
        _item("payment", "pay_d", "ch_d", 500, "jpy", datetime(2026, 11, 1, 12)),
    ]
    processor = [
        _item("payment", "ch_a", "ch_a", 1000, "usd", datetime(2026, 11, 1, 3, 59)),  # the day before
        _item("payment", "ch_b", "ch_b", 2000, "usd", datetime(2026, 11, 2, 5, 0)),  # the day after
        _item("payment", "ch_d", "ch_d", 500, "jpy", datetime(2026, 11, 1, 13)),
    ]
    inputs = _inputs(spark, ledger, processor)
    statuses = {r.entity_id: (r.match_status, r.diff_minor) for r in inputs.match.collect()}
    assert statuses == {
        "pay_a": ("timing_prior_day", 1000),
        "pay_b": ("timing_next_day", 2000),
        "pay_c": ("missing_in_processor", 3000),
        "pay_d": ("matched", 0),
    }
    exceptions = {
        (r.check_id, r.entity_id): (r.severity, r.status) for r in _exceptions(spark, inputs).collect()
    }
    assert exceptions == {
        ("R10", "pay_a"): ("warn", "allowed"),
        ("R10", "pay_b"): ("warn", "allowed"),
        ("R10", "pay_c"): ("blocking", "open"),
    }
    tie_out = summary(spark, _exceptions(spark, inputs), inputs.match, REF).where("check_id = 'R11'")
    rows = {(r.currency, r.finance_category): (r.diff_minor, r.status) for r in tie_out.collect()}
    # Timing differences are taken out of the tie-out; the missing row is what is left.
    assert rows[("usd", "sales")] == (3000, "failed") and rows[("jpy", "sales")] == (0, "passed")


@pytest.mark.parametrize(
    ("ledger", "bts", "charges", "expected"),
    [
        (
            [_item("payment", "pay_x", "ch_x", 100, "xyz", datetime(2026, 11, 1, 12))],
            [],
            [],
            ("R18", "pay_x"),
        ),
        ([_item("refund", "ref_n", "re_n", -50, "usd", datetime(2026, 11, 1, 12))], [], [], ("R3", "ref_n")),
        (
            [_item("payment", "pay_k", "ch_k", 1005, "kwd", datetime(2026, 11, 1, 12))],
            [],
            [],
            ("R18", "pay_k"),
        ),
        (
            [],
            [("txn_1", 100, 3, 97, "usd", "climate_order_purchase", datetime(2026, 11, 1, 12))],
            [],
            ("R4", "txn_1"),
        ),
        ([], [("txn_2", 100, 3, 98, "usd", "charge", datetime(2026, 11, 1, 12))], [], ("R1", "txn_2")),
        (
            [],
            [],
            [("ch_n", 100, 0, "USD", "succeeded", True, None, datetime(2026, 11, 1, 12))],
            ("R3", "ch_n"),
        ),
    ],
    ids=[
        "unknown_currency",
        "negative_refund",
        "kwd_last_digit",
        "unmapped_category",
        "bt_identity",
        "no_bt",
    ],
)
def test_bad_input_is_a_blocking_exception_naming_its_entity(spark, ledger, bts, charges, expected):
    inputs = _inputs(spark, ledger, [], bts=bts, charges=charges)
    found = {
        (r.check_id, r.entity_id)
        for r in _exceptions(spark, inputs)
        .where("severity = 'blocking' AND check_id NOT IN ('R10')")
        .collect()
    }
    assert found == {expected}


MATCH = (
    "close_date date, entity_type string, entity_id string, ledger_id string, processor_ref string, "
    "finance_category string, ledger_amount_minor bigint, processor_amount_minor bigint, "
    "ledger_currency string, processor_currency string"
)


def test_items_of_a_published_day_that_its_close_did_not_hold_are_forward_posted(spark):
    published_day, open_day = date(2026, 10, 30), date(2026, 10, 31)
    window = CloseWindow(date(2026, 11, 2), "America/New_York")
    published = spark.createDataFrame(
        [(published_day, "payment", "pay_1", "pay_1", "ch_1", "sales", 100, 100, "usd", "usd")], MATCH
    )
    noon = datetime(2026, 10, 30, 16)
    ledger = spark.createDataFrame(
        [
            _item("payment", "pay_1", "ch_1", 100, "usd", noon),
            _item("refund", "ref_2", "re_2", 40, "usd", noon),  # late: not in the published close
            _item(
                "payment", "pay_3", "ch_3", 70, "usd", datetime(2026, 10, 31, 16)
            ),  # its day is not published
        ],
        ITEMS,
    )
    processor = spark.createDataFrame(
        [
            _item("payment", "ch_1", "ch_1", 100, "usd", noon),
            _item("dispute", "dp_4", "dp_4", 55, "usd", noon),
        ],
        ITEMS,
    )
    late = forward_posted(ledger, processor, published, window)
    assert {
        (r.side, r.entity_id, r.original_close_date, r.amount_minor, r.reason) for r in late.collect()
    } == {
        ("ledger", "ref_2", published_day, 40, "late_event"),
        ("processor", "dp_4", published_day, 55, "late_event"),
    }
    assert open_day not in {r.original_close_date for r in late.collect()}


def test_a_restatement_records_how_each_entity_changed(spark):
    day = date(2026, 11, 2)
    old = spark.createDataFrame(
        [
            (day, "payment", "pay_1", "pay_1", "ch_1", "sales", 100, 100, "usd", "usd"),
            (day, "payment", "pay_2", "pay_2", "ch_2", "sales", 50, 50, "eur", "eur"),
        ],
        MATCH,
    )
    new = spark.createDataFrame(
        [
            (day, "payment", "pay_1", "pay_1", "ch_1", "sales", 101, 100, "usd", "usd"),
            (day, "payment", "pay_2", "pay_2", "ch_2", "sales", 50, 50, "eur", "eur"),
            (day, "refund", "re_9", None, "re_9", "refunds", None, 30, None, "usd"),
        ],
        MATCH,
    )
    changes = {(r.side, r.entity_id, r.amount_minor, r.reason) for r in restated(new, old).collect()}
    assert changes == {("ledger", "pay_1", 1, "restatement"), ("processor", "re_9", 30, "restatement")}
