"""Deterministic synthetic ledger and Stripe data for a few business days, with planted discrepancies.

One :class:`FinanceSpec` always gives the same :class:`FinanceWorld`: the rows of the ledger's
tables (as the migrations in ``lakehouse.finance.ledger`` define them, journal balanced), the
Stripe Events the product's webhook receives for the same bookings (the shapes the Bronze
generator writes for ``webhooks/stripe``, valid against the canon), every balance transaction
in full (``fee_details``, the automatic payout that settled it), and the list of discrepancies
planted on purpose, each with the outcome a reconciliation must find.

Business days are local days of ``business_tz``; the default spec starts on 2026-10-31 in New
York, so its second day (2026-11-01) has 25 hours. Currencies cover exponent 2 (usd, eur, gbp),
0 (jpy) and 3 (kwd; Stripe amounts end in 0).

Example::

    world = generate_finance(FinanceSpec(seed=7))
    load_ledger(conn, world)                  # into a migrated PostgreSQL database
    write_stripe_bronze("/tmp/lake", world)   # webhook files under bronze/webhooks/stripe
    world.planted[0]  # Planted(kind='amount_mismatch', close_date=..., diff_minor=1, ...)
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from lakehouse.finance.calendar import business_window
from lakehouse.synthetic import _values as fake
from lakehouse.synthetic._channels import Stripe, _stripe_id, _webhook, balance_transaction, user
from lakehouse.synthetic.bronze import write_bronze_file

CURRENCY_EXPONENT = {"usd": 2, "eur": 2, "gbp": 2, "jpy": 0, "kwd": 3}
CURRENCIES = ("usd", "eur", "gbp", "jpy", "kwd")
TAX_RATE_BP = {
    "usd": ("US", "NY", 887),
    "eur": ("DE", "", 1900),
    "gbp": ("GB", "", 2000),
    "jpy": ("JP", "", 1000),
    "kwd": ("KW", "", 0),
}

# The chart of accounts the synthetic ledger posts to (debit > 0, credit < 0).
ACCOUNTS = (
    ("stripe_balance", "Balance held at Stripe", "asset"),
    ("bank", "Operating bank account", "asset"),
    ("revenue", "Booking revenue", "revenue"),
    ("refunds", "Refunds given (contra revenue)", "revenue"),
    ("tax_payable", "Sales tax / VAT payable", "liability"),
    ("chargebacks", "Disputes lost or pending", "expense"),
)
LEDGER_TABLE_ORDER = (
    "account",
    "journal_entry",
    "journal_line",
    "invoice",
    "payment",
    "refund",
    "tax_line",
    "dispute",
    "payout",
)

PLANTED_KINDS = (
    "amount_mismatch",  # ledger amount one minor unit above the charge
    "currency_mismatch",  # ledger currency differs from the charge's presentment currency
    "missing_in_processor",  # a ledger payment with no Stripe charge
    "missing_in_ledger",  # a Stripe charge with no ledger payment
    "duplicate_ledger_row",  # the same charge recorded twice in the ledger
    "late_night_capture",  # captured at 23:59:30 business time: next UTC date, same close date
    "payout_mismatch",  # an automatic payout whose settled transactions do not sum to its amount
)


@dataclass(frozen=True)
class FinanceSpec:
    """What to generate: ``days`` business days from ``first_date`` in ``business_tz``."""

    seed: int = 16
    first_date: date = date(2026, 10, 31)
    days: int = 3
    business_tz: str = "America/New_York"
    bookings_per_day: int = 10
    plant_discrepancies: bool = True
    last_day_bookings: int = 0  # bookings of the last day (0: bookings_per_day, like the others)

    def __post_init__(self) -> None:
        if self.days < 1 or self.bookings_per_day < 3:
            raise ValueError("a finance world needs at least 1 day and 3 bookings per day")
        if self.plant_discrepancies and (self.days < 3 or self.bookings_per_day < 6):
            raise ValueError("planted discrepancies need at least 3 business days of 6 bookings")


@dataclass(frozen=True)
class Planted:
    """A discrepancy planted on purpose and what the close must find for it.

    ``diff_minor`` is ledger minus processor in ``currency`` (0 where the finding is not an
    amount difference); ``entity_id`` is the ledger payment id (for a duplicate: the second
    row, recorded after the one that matches), or the Stripe object id when the ledger has none.
    """

    kind: str
    close_date: date
    entity_id: str
    processor_ref: str
    currency: str
    diff_minor: int


@dataclass
class FinanceWorld:
    spec: FinanceSpec
    ledger: dict[str, list[dict[str, Any]]]
    stripe_events: list[dict[str, Any]]
    balance_transactions: list[dict[str, Any]]
    planted: list[Planted] = field(default_factory=list)

    def window_utc(self, close_date: date) -> tuple[datetime, datetime]:
        """Half-open UTC window ``[start, end)`` of a business day."""
        return business_window(close_date, self.spec.business_tz)


def _amount(rng: Random, currency: str) -> int:
    exponent = CURRENCY_EXPONENT[currency]
    major = rng.randrange(20, 900) if currency != "jpy" else rng.randrange(20, 900) * 150
    minor = major * 10**exponent + (rng.randrange(100) if exponent == 2 else 0)
    if exponent == 3:
        minor += rng.randrange(100) * 10  # Stripe: the last digit of a 3-decimal amount is 0
    return minor


def _fee(amount: int, currency: str) -> int:
    exponent = CURRENCY_EXPONENT[currency]
    fixed = {0: 0, 2: 30, 3: 100}[exponent]
    fee = abs(amount) * 29 // 1000 + fixed
    return fee // 10 * 10 if exponent == 3 else fee


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


class _Builder:
    def __init__(self, spec: FinanceSpec):
        self.spec = spec
        self.rng = Random(f"finance:{spec.seed}")
        self.stripe = Stripe(spec.seed, 500)
        self.ledger: dict[str, list[dict[str, Any]]] = {name: [] for name in LEDGER_TABLE_ORDER}
        self.ledger["account"] = [{"account_code": c, "name": n, "kind": k} for c, n, k in ACCOUNTS]
        self.events: list[tuple[int, dict]] = []
        self.bts: list[dict[str, Any]] = []
        self.planted: list[Planted] = []
        self.n = 0

    # ----------------------------------------------------------------- ids and ledger posting
    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n:06d}"

    def post(self, at: datetime, lbg_id: str | None, kind: str, source_id: str, lines: list) -> int:
        entry_id = len(self.ledger["journal_entry"]) + 1
        self.ledger["journal_entry"].append(
            {
                "entry_id": entry_id,
                "posted_at": at,
                "lbg_id": lbg_id,
                "source_kind": kind,
                "source_id": source_id,
                "description": f"{kind} {source_id}",
            }
        )
        for no, (account, amount, currency) in enumerate((x for x in lines if x[1] != 0), start=1):
            self.ledger["journal_line"].append(
                {
                    "entry_id": entry_id,
                    "line_no": no,
                    "account_code": account,
                    "amount_minor": amount,
                    "currency": currency,
                }
            )
        return entry_id

    # ----------------------------------------------------------------- Stripe side
    def event(self, at: datetime, etype: str, obj: dict, previous: dict | None = None) -> None:
        ms = _ts(at) * 1000
        self.events.append((ms, self.stripe._event(self.rng, ms, 0, etype, obj, previous)))

    def bt(
        self,
        at: datetime,
        amount: int,
        currency: str,
        kind: str,
        category: str,
        source: str,
        fee: int = 0,
        fee_description: str = "Stripe processing fees",
    ) -> dict:
        txn = balance_transaction(
            _stripe_id(self.rng, "txn"),
            amount,
            currency,
            _ts(at),
            kind=kind,
            category=category,
            source=source,
            fee=fee,
            fee_description=fee_description,
        ) | {"payout": None}
        self.bts.append(txn)
        return txn

    def webhook_bt(self, txn: dict) -> dict | str:
        """As webhooks carry it: sometimes expanded, usually the bare id (like the Bronze generator)."""
        if self.rng.random() >= 0.3:
            return txn["id"]
        return {k: v for k, v in txn.items() if k != "payout"}

    # ----------------------------------------------------------------- stories
    def booking(self, d: date, at: datetime, currency: str, plant: str | None = None) -> dict:
        rng = self.rng
        u = rng.randrange(500)
        who = user(self.spec.seed, u)
        lbg_id = f"lbg_{fake.b62(rng, 16)}"
        payment_id = self._id("pay")
        total = _amount(rng, currency)
        country, state, rate_bp = TAX_RATE_BP[currency]
        charge = self.stripe._charge(rng, who, _ts(at) * 1000, 0)
        charge_id = charge["id"]
        ledger_total, ledger_currency = total, currency
        if plant == "amount_mismatch":
            ledger_total = total + 1
        if plant == "currency_mismatch":
            ledger_currency = "eur" if currency != "eur" else "gbp"

        if plant != "missing_in_processor":
            txn = self.bt(at, total, currency, "charge", "charge", charge_id, fee=_fee(total, currency))
            charge.update(
                amount=total,
                amount_captured=total,
                currency=currency,
                created=_ts(at),
                balance_transaction=self.webhook_bt(txn),
                metadata={"user_id": who["user_id"], "lbg_id": lbg_id, "payment_id": payment_id},
            )
            charge["payment_method_details"]["card"]["amount_authorized"] = total
            self.event(at, "charge.succeeded", charge)
        recorded = payment_id
        if plant != "missing_in_ledger":
            copies = 2 if plant == "duplicate_ledger_row" else 1
            for copy in range(copies):
                pid = payment_id if copy == 0 else self._id("pay")
                recorded = pid
                invoice_id = self._id("inv")
                ledger_tax = ledger_total * rate_bp // (10_000 + rate_bp)
                entry = self.post(
                    at,
                    lbg_id,
                    "payment",
                    pid,
                    [
                        ("stripe_balance", ledger_total, ledger_currency),
                        ("revenue", -(ledger_total - ledger_tax), ledger_currency),
                        ("tax_payable", -ledger_tax, ledger_currency),
                    ],
                )
                self.ledger["invoice"].append(
                    {
                        "invoice_id": invoice_id,
                        "lbg_id": lbg_id,
                        "processor_ref": None,
                        "currency": ledger_currency,
                        "subtotal_minor": ledger_total - ledger_tax,
                        "tax_minor": ledger_tax,
                        "total_minor": ledger_total,
                        "issued_at": at,
                    }
                )
                self.ledger["payment"].append(
                    {
                        "payment_id": pid,
                        "lbg_id": lbg_id,
                        "invoice_id": invoice_id,
                        "processor_ref": charge_id,
                        "product_line": rng.choice(("flights", "hotels", "packages")),
                        "amount_minor": ledger_total,
                        "currency": ledger_currency,
                        "captured_at": at,
                        "entry_id": entry,
                    }
                )
                self.ledger["tax_line"].append(
                    {
                        "tax_line_id": self._id("taxl"),
                        "payment_id": pid,
                        "lbg_id": lbg_id,
                        "processor_ref": None,
                        "jurisdiction_country": country,
                        "jurisdiction_state": state,
                        "taxable_minor": ledger_total - ledger_tax,
                        "tax_minor": ledger_tax,
                        "currency": ledger_currency,
                        "posted_at": at,
                    }
                )
        if plant is not None and plant != "late_night_capture":
            diff = {
                "amount_mismatch": 1,
                "missing_in_processor": ledger_total,
                "missing_in_ledger": -total,
                "duplicate_ledger_row": ledger_total,
            }.get(plant, 0)
            entity = {"missing_in_ledger": charge_id, "duplicate_ledger_row": recorded}.get(plant, payment_id)
            self.planted.append(Planted(plant, d, entity, charge_id, ledger_currency, diff))
        if plant == "late_night_capture":
            self.planted.append(Planted(plant, d, payment_id, charge_id, currency, 0))
        return {
            "lbg_id": lbg_id,
            "payment_id": payment_id,
            "charge": charge,
            "total": total,
            "currency": currency,
            "at": at,
        }

    def refund(self, booking: dict, at: datetime) -> None:
        currency, amount = booking["currency"], booking["total"] // 2
        if CURRENCY_EXPONENT[currency] == 3:
            amount = amount // 10 * 10
        charge = booking["charge"]
        re_id = _stripe_id(self.rng, "re")
        txn = self.bt(at, -amount, currency, "refund", "refund", re_id)
        refund = {
            "id": re_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": self.webhook_bt(txn),
            "charge": charge["id"],
            "created": _ts(at),
            "currency": currency,
            "destination_details": {
                "card": {"reference_status": "pending", "type": "refund"},
                "type": "card",
            },
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": "requested_by_customer",
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.event(at, "refund.created", refund)
        refunded = {
            **charge,
            "amount_refunded": amount,
            "refunded": False,
            "refunds": {**charge["refunds"], "data": [refund], "total_count": 1},
        }
        self.event(at + timedelta(seconds=2), "charge.refunded", refunded, {"amount_refunded": 0})
        refund_id = self._id("ref")
        entry = self.post(
            at,
            booking["lbg_id"],
            "refund",
            refund_id,
            [("refunds", amount, currency), ("stripe_balance", -amount, currency)],
        )
        self.ledger["refund"].append(
            {
                "refund_id": refund_id,
                "payment_id": booking["payment_id"],
                "lbg_id": booking["lbg_id"],
                "processor_ref": re_id,
                "amount_minor": amount,
                "currency": currency,
                "refunded_at": at,
                "entry_id": entry,
            }
        )

    def dispute(self, booking: dict, opened: datetime, closed: datetime, outcome: str) -> None:
        currency, amount, charge = booking["currency"], booking["total"], booking["charge"]
        dp = _stripe_id(self.rng, "dp")
        dispute_fee = 15 * 10 ** CURRENCY_EXPONENT[currency] * (100 if currency == "jpy" else 1)
        self.bt(
            opened,
            -amount,
            currency,
            "adjustment",
            "dispute",
            dp,
            fee=dispute_fee,
            fee_description="Dispute fee",
        )
        base = {
            "id": dp,
            "object": "dispute",
            "amount": amount,
            "balance_transactions": [],
            "charge": charge["id"],
            "created": _ts(opened),
            "currency": currency,
            "evidence_details": {
                "due_by": _ts(opened) + 7 * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": True,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": "fraudulent",
            "status": "needs_response",
        }
        self.event(opened, "charge.dispute.created", base)
        closed_obj = {**base, "status": outcome}
        entry = self.post(
            opened,
            booking["lbg_id"],
            "dispute",
            dp,
            [("chargebacks", amount, currency), ("stripe_balance", -amount, currency)],
        )
        if outcome == "won":
            self.bt(closed, amount, currency, "adjustment", "dispute_reversal", dp)
            self.post(
                closed,
                booking["lbg_id"],
                "dispute",
                dp,
                [("stripe_balance", amount, currency), ("chargebacks", -amount, currency)],
            )
        self.event(closed, "charge.dispute.closed", closed_obj, {"status": "needs_response"})
        self.ledger["dispute"].append(
            {
                "dispute_id": self._id("dsp"),
                "payment_id": booking["payment_id"],
                "lbg_id": booking["lbg_id"],
                "processor_ref": dp,
                "amount_minor": amount,
                "currency": currency,
                "status": outcome,
                "opened_at": opened,
                "closed_at": closed,
                "entry_id": entry,
            }
        )

    def payout(self, settled: list[dict], currency: str, at: datetime, d: date, plant: bool) -> None:
        po = f"po_{fake.b62(self.rng, 24)}"
        net = sum(t["net"] for t in settled)
        amount = net + (100 if plant else 0)
        own = self.bt(at, -amount, currency, "payout", "payout", po)
        for t in [*settled, own]:
            t["payout"] = po
        payout = {
            "id": po,
            "object": "payout",
            "amount": amount,
            "arrival_date": _ts(at) + 2 * 86400 - _ts(at) % 86400,
            "automatic": True,
            "balance_transaction": self.webhook_bt(own),
            "created": _ts(at),
            "currency": currency,
            "description": "STRIPE PAYOUT",
            "destination": f"ba_{fake.b62(self.rng, 24)}",
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "livemode": True,
            "metadata": {},
            "method": "standard",
            "reconciliation_status": "not_applicable",
            "source_type": "card",
            "statement_descriptor": None,
            "status": "pending",
            "type": "bank_account",
        }
        self.event(at, "payout.created", payout)
        paid_at = at + timedelta(hours=6)
        self.event(
            paid_at,
            "payout.paid",
            {**payout, "status": "paid", "reconciliation_status": "completed"},
            {"status": "in_transit"},
        )
        payout_id = self._id("pout")
        entry = self.post(
            paid_at, None, "payout", po, [("bank", amount, currency), ("stripe_balance", -amount, currency)]
        )
        self.ledger["payout"].append(
            {
                "payout_id": payout_id,
                "processor_ref": po,
                "amount_minor": amount,
                "currency": currency,
                "status": "paid",
                "created_at": at,
                "arrival_date": (at + timedelta(days=2)).date(),
                "entry_id": entry,
            }
        )
        if plant:
            self.planted.append(Planted("payout_mismatch", d, payout_id, po, currency, 100))


_PLANTS = {
    (0, 0): "amount_mismatch",
    (0, 1): "currency_mismatch",
    (1, 0): "missing_in_processor",
    (1, 1): "missing_in_ledger",
    (1, 2): "duplicate_ledger_row",
}


def generate_finance(spec: FinanceSpec | None = None) -> FinanceWorld:
    """The world of ``spec``: the same spec always gives the same world."""
    spec = spec or FinanceSpec()
    b = _Builder(spec)
    zone = ZoneInfo(spec.business_tz)
    by_day: dict[int, list[dict]] = defaultdict(list)
    for day in range(spec.days):
        d = spec.first_date + timedelta(days=day)
        start, end = business_window(d, spec.business_tz)
        hours = (end - start) / timedelta(hours=1)
        per_day = (
            spec.last_day_bookings
            if day == spec.days - 1 and spec.last_day_bookings
            else spec.bookings_per_day
        )
        for i in range(per_day):
            plant = _PLANTS.get((day, i)) if spec.plant_discrepancies else None
            currency = CURRENCIES[(day + i) % len(CURRENCIES)]
            offset = timedelta(hours=1 + (hours - 3) * (i + b.rng.random()) / per_day)
            at = (start + offset).replace(microsecond=0)
            if spec.plant_discrepancies and day == spec.days - 1 and i == per_day - 1:
                plant = "late_night_capture"
                at = datetime.combine(d, time(23, 59, 30), zone).astimezone(UTC)
            by_day[day].append(b.booking(d, at, currency, plant))
    # After the bookings of every day: one partial refund, one dispute lost and one won, next day.
    for day in range(spec.days - 1):
        d_next = spec.first_date + timedelta(days=day + 1)
        start, _ = business_window(d_next, spec.business_tz)
        paid = [x for x in by_day[day] if x["charge"]["balance_transaction"] is not None]
        refundable = [x for x in paid if x["charge"]["id"] not in {p.processor_ref for p in b.planted}]
        b.refund(refundable[-1], start + timedelta(hours=10))
        if day == 0:
            b.dispute(refundable[-2], start + timedelta(hours=11), start + timedelta(hours=15), "lost")
        if day == 1:
            b.dispute(refundable[-2], start + timedelta(hours=11), start + timedelta(hours=15), "won")
    # Automatic payouts: on day d + 2, per currency, the charges created on day d.
    for day in range(spec.days - 2):
        d_pay = spec.first_date + timedelta(days=day + 2)
        start, end = business_window(spec.first_date + timedelta(days=day), spec.business_tz)
        pay_start, _ = business_window(d_pay, spec.business_tz)
        for k, currency in enumerate(CURRENCIES):
            settled = [
                t
                for t in b.bts
                if t["type"] == "charge"
                and t["currency"] == currency
                and _ts(start) <= t["created"] < _ts(end)
            ]
            if settled:
                plant = spec.plant_discrepancies and day == 0 and k == 0
                b.payout(settled, currency, pay_start + timedelta(hours=8, minutes=k), d_pay, plant)
    events = [ev for _, ev in sorted(b.events, key=lambda x: x[0])]
    return FinanceWorld(spec, b.ledger, events, b.bts, b.planted)


# ---------------------------------------------------------------------------------------------
# Sinks


def load_ledger(conn, world: FinanceWorld) -> None:
    """Insert the world's ledger rows into a migrated database, in one transaction (psycopg)."""
    with conn.transaction():
        for table in LEDGER_TABLE_ORDER:
            rows = world.ledger[table]
            if not rows:
                continue
            columns = list(rows[0])
            overriding = " OVERRIDING SYSTEM VALUE" if table == "journal_entry" else ""
            sql = (
                f"INSERT INTO ledger.{table} ({', '.join(columns)}){overriding}"
                f" VALUES ({', '.join(['%s'] * len(columns))})"
            )
            with conn.cursor() as cur:
                cur.executemany(sql, [tuple(r[c] for c in columns) for r in rows])
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('ledger.journal_entry', 'entry_id'),"
            " (SELECT coalesce(max(entry_id), 0) + 1 FROM ledger.journal_entry), false)"
        )


def write_stripe_bronze(lake_root: str | Path, world: FinanceWorld) -> list[Path]:
    """The world's Stripe Events as webhook files under ``bronze/webhooks/stripe`` (arrival hour folders)."""
    by_hour: dict[datetime, list[str]] = defaultdict(list)
    for i, ev in enumerate(world.stripe_events):
        arrival_ms = ev["created"] * 1000 + 800 + (i * 37) % 4000
        hour = datetime.fromtimestamp(arrival_ms // 1000, UTC).replace(minute=0, second=0)
        by_hour[hour].append(json.dumps(_webhook("stripe", arrival_ms, ev), separators=(",", ":")))
    names = {
        h: f"acme-webhooks-stripe-1-{h:%Y-%m-%d-%H}-00-00-finance-{world.spec.seed}.json" for h in by_hour
    }
    return [
        write_bronze_file(lake_root, "webhooks/stripe", h, lines, name=names[h])
        for h, lines in by_hour.items()
    ]


def write_ledger_snapshot(spark, export_root: str, world: FinanceWorld, export_id: str = "") -> str:
    """The world's ledger as an Aurora-export-style Parquet snapshot under ``export_root``; its folder.

    What ``ledger_source=snapshot`` reads: the embedded default needs no database.
    """
    from lakehouse.finance.ledger.extract import LEDGER_TABLES, LedgerWatermark, write_ledger_export

    export_id = export_id or f"synthetic-{world.spec.seed}"
    _, last_end = business_window(
        world.spec.first_date + timedelta(days=world.spec.days - 1), world.spec.business_tz
    )
    watermark = LedgerWatermark(
        source="snapshot", export_id=export_id, snapshot_time=last_end + timedelta(hours=6), database="ledger"
    )
    frames = {
        table: spark.createDataFrame(
            [tuple(row[f.name] for f in schema.fields) for row in world.ledger[table]], schema
        )
        for table, schema in LEDGER_TABLES.items()
    }
    export_dir = f"{export_root.rstrip('/')}/{export_id}"
    write_ledger_export(spark, export_dir, frames, watermark)
    return export_dir


def write_finance_lake(spark, lake_root: str, spec: FinanceSpec | None = None) -> FinanceWorld:
    """The world's Stripe webhooks under ``bronze/`` and its ledger snapshot under
    ``ledger/exports``: a lake ready for bronze_to_silver, then finance_close."""
    world = generate_finance(spec)
    write_stripe_bronze(lake_root, world)
    write_ledger_snapshot(spark, f"{lake_root.rstrip('/')}/ledger/exports", world)
    return world
