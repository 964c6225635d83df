"""Per-channel "stories": the source events one real-world thing produces, with their times.

A story is a pure function of ``(seed, channel, story index)``: it draws everything from
its own ``random.Random``, so any worker can rebuild any story and the output does not
depend on how the work was split. A story returns :class:`Draft` events (arrival time,
event name, the record as a dict); ``bronze.py`` then applies faults, redeliveries and
conflicts and writes them.

Every arrival of a story lies in ``[anchor, anchor + MAX_LAG_MS[channel]]``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from random import Random
from typing import Any

from lakehouse.experiments.registry import Experiment, load_registry
from lakehouse.synthetic import _values as fake
from lakehouse.synthetic.experiments import hashed_variation

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# Longest delay of any arrival after its story's anchor (bounds the look-back of a worker).
MAX_LAG_MS = {
    "collect": 6 * HOUR,
    "eventbridge": 72 * HOUR,
    "webhooks/stripe": 72 * HOUR,
    "webhooks/tax": 48 * HOUR,
    "webhooks/esign": 48 * HOUR,
    "webhooks/ses": 48 * HOUR,
}
# Approximate source events per story, used to size the number of stories.
MEAN_EVENTS_PER_STORY = {
    "collect": 1.0,
    "eventbridge": 7.0,
    "webhooks/stripe": 2.2,
    "webhooks/tax": 1.1,
    "webhooks/esign": 2.8,
    "webhooks/ses": 3.0,
}

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BAD_BYTES_MARK = "@@INVALID-UTF8@@"


@dataclass
class Draft:
    """One source event of a story, before faults and redeliveries."""

    arrival_ms: int
    name: str  # event name (and version) the report tallies valid events under
    obj: dict[str, Any]
    late: bool = False


# ---------------------------------------------------------------------------------------------
# Shared identities: a pool of users so that events of one user recur across stories/channels.


@lru_cache(maxsize=65536)
def user(seed: int, u: int) -> dict[str, str]:
    """Stable identity of user ``u`` (anon id, user id, name, email, phone, locale, app)."""
    digest = hashlib.blake2b(f"{seed}:user:{u}".encode(), digest_size=32).digest()
    rng = Random(digest)
    name, email = fake.person(rng)
    h = digest.hex()
    return {
        "anon_id": f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}",
        "user_id": f"usr_{h[32:52]}",
        "customer": f"cus_{fake.b62(rng, 14)}",
        "name": name,
        "email": email,
        "phone": fake.phone(rng),
        "locale": rng.choice(fake.LOCALES),
        "app": rng.choice(fake.APPS),
        "ip": fake.ip(rng),
    }


MISLOGGED_UNITS_PER_10K = 100  # units whose client logs the wrong variation (the audit finds them)


@lru_cache(maxsize=1)
def registry_experiments() -> dict[str, Experiment]:
    """The registry's experiments, by key in key order."""
    return dict(sorted(load_registry().items()))


def logged_variation(seed: int, u: int, experiment_key: str, occurred_ms: int) -> str | None:
    """The variation user ``u``'s client logs when exposed at ``occurred_ms``: GrowthBook's hash of
    the experiment's hash attribute in the phase running then (None: no phase, or outside coverage);
    for a fixed 1 % of units the next variation instead, as a client with a stale cache would."""
    phase = registry_experiments()[experiment_key].phase_at(datetime.fromtimestamp(occurred_ms / 1000, UTC))
    return None if phase is None else _unit_variation(seed, u, experiment_key, phase.index)


@lru_cache(maxsize=65536)
def _unit_variation(seed: int, u: int, experiment_key: str, phase_index: int) -> str | None:
    experiment = registry_experiments()[experiment_key]
    phase = experiment.phases[phase_index]
    variation = hashed_variation(experiment, phase, user(seed, u)[experiment.hash_attribute])
    if variation is None:
        return None
    digest = hashlib.blake2b(f"{seed}:mislogged:{experiment_key}:{u}".encode(), digest_size=4).digest()
    if int.from_bytes(digest, "big") % 10_000 < MISLOGGED_UNITS_PER_10K:
        keys = [v.key for v in experiment.variations]
        variation = keys[(keys.index(variation) + 1) % len(keys)]
    return variation


class Channel:
    """Story builder and record mutators of one channel."""

    name = ""
    supports_conflict = True
    supports_adapter_failure = False

    def __init__(self, seed: int, n_users: int):
        self.seed = seed
        self.n_users = max(1, n_users)

    def pick_user(self, rng: Random) -> tuple[int, dict[str, str]]:
        u = rng.randrange(self.n_users)
        return u, user(self.seed, u)

    def story(self, rng: Random, anchor: int, shift: int) -> list[Draft]:
        raise NotImplementedError

    def redeliver(self, obj: dict, arrival: int, rng: Random) -> dict:
        """The record as redelivered at ``arrival`` (transport fields may change, content not)."""
        if "received_at" in obj:
            return {**obj, "received_at": fake.iso_ms(arrival)}
        return obj

    def conflict(self, obj: dict, arrival: int, rng: Random) -> dict:
        """Same event id, different payload."""
        raise NotImplementedError

    # Faults: each returns the faulty record (dict) or None when the channel has no such fault.
    def unknown_event(self, obj: dict, rng: Random) -> dict | None:
        return None

    def schema_violation(self, obj: dict, rng: Random) -> dict | None:
        raise NotImplementedError

    def oversize(self, obj: dict, rng: Random) -> dict:
        raise NotImplementedError

    def bad_bytes(self, obj: dict, rng: Random) -> dict:
        """The record with :data:`BAD_BYTES_MARK` inside a string value (replaced by 0xff 0xfe)."""
        raise NotImplementedError

    def adapter_failure(self, obj: dict, rng: Random) -> dict | None:
        return None


def _webhook(provider: str, arrival: int, payload: dict) -> dict:
    return {
        "provider": provider,
        "received_at": fake.iso_ms(arrival),
        "signature_verified": True,
        "payload": payload,
    }


# ---------------------------------------------------------------------------------------------
# collect: client envelopes


class Collect(Channel):
    name = "collect"

    def story(self, rng: Random, anchor: int, shift: int) -> list[Draft]:
        u, who = self.pick_user(rng)
        logged_in = rng.random() < 0.45
        arrival = anchor
        latency = rng.randrange(80, 4000)
        batch_delay = rng.randrange(0, 30_000) if who["app"] != "web" else rng.randrange(0, 800)
        occurred = arrival - latency - batch_delay - shift
        sent = arrival - latency
        r = rng.random()
        lbg = f"lbg_{fake.b62(rng, 16)}" if rng.random() < 0.3 else None
        leg = f"leg_{fake.b62(rng, 16)}" if lbg and rng.random() < 0.4 else None
        if r < 0.15:
            name, version = "page_viewed", 1
            url, title = self._page(rng, lbg, leg)
            payload = {"url": url, "referrer": self._referrer(rng), "title": title}
        elif r < 0.45:
            name, version = "page_viewed", 2
            url, title = self._page(rng, lbg, leg)
            payload = {
                "page_url": url,
                "referrer": self._referrer(rng),
                "title": title,
                "duration_ms": rng.randrange(200, 180_000),
            }
        elif r < 0.70:
            name, version = "screen_viewed", 1
            payload = {"screen_name": rng.choice(fake.SCREENS), "app_version": rng.choice(fake.APP_VERSIONS)}
        elif r < 0.85:
            name, version = "search_performed", 1
            query = rng.choice(fake.SEARCH_TERMS)
            q = rng.random()
            if q < 0.06:
                query = f"{query} {who['email']}"
            elif q < 0.10:
                query = f"call me {fake.phone(rng)} about {query}"
            payload = {"query": query, "results_count": rng.randrange(0, 250)}
        elif r < 0.95 and (exposure := self._exposure(rng, u, occurred)) is not None:
            name, version = "experiment_exposed", 1
            payload, identified = exposure
            logged_in = logged_in or identified
        elif r < 0.95:
            name, version = "screen_viewed", 1  # the unit is in no running experiment: no exposure
            payload = {"screen_name": rng.choice(fake.SCREENS), "app_version": rng.choice(fake.APP_VERSIONS)}
        else:
            name, version = "signup_completed", 1
            logged_in = True
            payload = {
                "method": rng.choice(("email", "email", "google", "apple")),
                "email": who["email"],
                "marketing_opt_in": rng.random() < 0.4,
            }
            if rng.random() < 0.5:
                payload["phone"] = who["phone"]
        obj: dict[str, Any] = {
            "event_id": fake.uuid4(rng),
            "event_name": name,
            "event_version": version,
            "occurred_at": fake.iso_ms(occurred),
            "sent_at": fake.iso_ms(sent),
            "received_at": fake.iso_ms(arrival),
            "anon_id": who["anon_id"],
        }
        if logged_in:
            obj["user_id"] = who["user_id"]
        h = hashlib.blake2b(f"{u}:{anchor // HOUR}".encode(), digest_size=8).hexdigest()
        obj["session_id"] = f"ses_{h}"
        if lbg:
            obj["lbg_id"] = lbg
        if leg:
            obj["leg_id"] = leg
        app = who["app"]
        obj["context"] = {
            "app": app,
            "locale": who["locale"],
            "user_agent": fake.USER_AGENTS[app][u % len(fake.USER_AGENTS[app])],
            "ip": who["ip"],
        }
        obj["payload"] = payload
        return [Draft(arrival, f"{name}.v{version}", obj, late=shift > 0)]

    def _exposure(self, rng: Random, u: int, occurred_ms: int) -> tuple[dict, bool] | None:
        """An exposure to one of the registry's experiments, and whether it carries the user id
        (an experiment bucketed on ``user_id`` is evaluated for signed-in users only)."""
        experiment = rng.choice(list(registry_experiments().values()))
        variation = logged_variation(self.seed, u, experiment.key, occurred_ms)
        if variation is None:
            return None
        return {
            "experiment_key": experiment.key,
            "variant": variation,
        }, experiment.hash_attribute == "user_id"

    @staticmethod
    def _page(rng: Random, lbg: str | None, leg: str | None) -> tuple[str, str]:
        path, title = rng.choice(fake.PAGES)
        lbg = lbg or f"lbg_{fake.b62(rng, 16)}"
        leg = leg or f"leg_{fake.b62(rng, 16)}"
        path = path.format(lbg=lbg, leg=leg, n=rng.randrange(1, 30))
        query = (
            f"?utm_source=newsletter&utm_campaign=spring_{rng.randrange(1, 9)}" if rng.random() < 0.2 else ""
        )
        return f"https://www.acme-travel.example{path}{query}", title

    @staticmethod
    def _referrer(rng: Random) -> str:
        return rng.choice(fake.REFERRERS).format(n=rng.randrange(1, 500))

    def conflict(self, obj: dict, arrival: int, rng: Random) -> dict:
        payload = dict(obj["payload"])
        for key in ("duration_ms", "results_count"):
            if key in payload:
                payload[key] = payload[key] + rng.randrange(1, 1000)
                break
        else:
            if "title" in payload:
                payload["title"] = payload["title"] + " (updated)"
            elif "screen_name" in payload:
                payload["app_version"] = "9.9.9"
            elif "variant" in payload:
                payload["variant"] = "conflicting_variant"
            else:
                payload["marketing_opt_in"] = not payload["marketing_opt_in"]
        return {**obj, "received_at": fake.iso_ms(arrival), "payload": payload}

    def unknown_event(self, obj: dict, rng: Random) -> dict:
        if rng.random() < 0.5:
            return {**obj, "event_name": rng.choice(("page_scrolled", "cart_abandoned", "video_played"))}
        return {**obj, "event_version": 3 if obj["event_name"] == "page_viewed" else 2}

    def schema_violation(self, obj: dict, rng: Random) -> dict:
        r = rng.random()
        if r < 0.25:  # missing required envelope field
            bad = dict(obj)
            del bad["occurred_at"]
            return bad
        if r < 0.5:  # event_id must be a UUID
            return {**obj, "event_id": f"evt-{fake.b62(rng, 12)}"}
        if r < 0.75:  # wrong type
            payload = {"query": "train to rome", "results_count": "12.50"}
            return {**obj, "event_name": "search_performed", "event_version": 1, "payload": payload}
        # bad enum
        payload = {"method": "facebook", "email": "Jane.Doe+x@Example.com", "marketing_opt_in": False}
        return {
            **obj,
            "event_name": "signup_completed",
            "event_version": 1,
            "user_id": obj.get("user_id") or "usr_0",
            "payload": payload,
        }

    def oversize(self, obj: dict, rng: Random) -> dict:
        context = {**obj["context"], "user_agent": fake.filler(rng.randrange(270_000, 400_000))}
        return {**obj, "context": context}

    def bad_bytes(self, obj: dict, rng: Random) -> dict:
        context = {**obj["context"], "user_agent": obj["context"]["user_agent"][:40] + BAD_BYTES_MARK}
        return {**obj, "context": context}


# ---------------------------------------------------------------------------------------------
# eventbridge: domain events of the backend services


class EventBridge(Channel):
    name = "eventbridge"

    def _event(
        self,
        rng: Random,
        occurred: int,
        shift: int,
        name: str,
        who: dict,
        payload: dict,
        lbg: str | None = None,
        leg: str | None = None,
    ) -> Draft:
        if name.startswith(("lbg_", "leg_")):
            service = "bookings"
        elif name.startswith(("payment_", "refund_")):
            service = "payments"
        else:
            service = "support"
        detail: dict[str, Any] = {
            "event_id": fake.uuid4(rng),
            "event_name": name,
            "event_version": 1,
            "occurred_at": fake.iso_ms(occurred - shift),
            "user_id": who["user_id"],
        }
        if lbg:
            detail["lbg_id"] = lbg
        if leg:
            detail["leg_id"] = leg
        detail["payload"] = payload
        arrival = occurred + rng.randrange(300, 3000)
        obj = {
            "version": "0",
            "id": fake.uuid4(rng),
            "detail-type": name,
            "source": f"com.acme.{service}",
            "account": ACCOUNT,
            "time": fake.iso_s(occurred - shift),
            "region": REGION,
            "resources": [],
            "detail": detail,
        }
        return Draft(arrival, f"{name}.v1", obj, late=shift > 0)

    def story(self, rng: Random, anchor: int, shift: int) -> list[Draft]:
        _, who = self.pick_user(rng)
        lbg = f"lbg_{fake.b62(rng, 16)}"
        currency = rng.choice(fake.CURRENCIES)
        legs = []
        t = anchor
        n_legs = rng.choice((1, 1, 2, 2, 3, 4))
        dep = anchor + rng.randrange(2, 40) * DAY
        for _ in range(n_legs):
            origin, destination = rng.sample(fake.AIRPORTS, 2)
            legs.append(
                (
                    f"leg_{fake.b62(rng, 16)}",
                    {
                        "origin": origin,
                        "destination": destination,
                        "departure_at": fake.iso_s(dep - dep % (5 * MINUTE)),
                        "price_minor": fake.money(rng, currency, 20, 400),
                        "currency": currency,
                    },
                )
            )
            dep += rng.randrange(3, 30) * HOUR
        total = sum(p["price_minor"] for _, p in legs)
        out = [
            self._event(
                rng,
                t,
                shift,
                "lbg_created",
                who,
                {"total_minor": total, "currency": currency, "legs_count": n_legs},
                lbg,
            )
        ]
        for leg_id, payload in legs:
            t += rng.randrange(50, 2000)
            out.append(self._event(rng, t, shift, "leg_created", who, dict(payload), lbg, leg_id))
        if rng.random() < 0.3:
            return out  # abandoned basket
        t += rng.randrange(1, 20) * MINUTE
        lbg_payload = {"total_minor": total, "currency": currency, "legs_count": n_legs}
        out.append(self._event(rng, t, shift, "lbg_booked", who, dict(lbg_payload), lbg))
        for leg_id, payload in legs:
            t += rng.randrange(20, 500)
            out.append(self._event(rng, t, shift, "leg_booked", who, dict(payload), lbg, leg_id))
        payment_id = f"pay_{fake.b62(rng, 16)}"
        t += rng.randrange(500, 5000)
        out.append(
            self._event(
                rng,
                t,
                shift,
                "payment_captured",
                who,
                {
                    "payment_id": payment_id,
                    "amount_minor": total,
                    "currency": currency,
                    "stripe_charge_id": f"ch_3{fake.b62(rng, 23)}",
                },
                lbg,
            )
        )
        r = rng.random()
        if r < 0.12:
            t += rng.randrange(1, 48) * HOUR + rng.randrange(HOUR)
            reason = rng.choice(fake.CANCEL_REASONS)
            out.append(
                self._event(rng, t, shift, "lbg_cancelled", who, {**lbg_payload, "reason": reason}, lbg)
            )
            for leg_id, payload in legs:
                t += rng.randrange(20, 500)
                out.append(self._event(rng, t, shift, "leg_cancelled", who, dict(payload), lbg, leg_id))
            refund = total if rng.random() < 0.7 else total // 2
            t += rng.randrange(1000, 60_000)
            out.append(
                self._event(
                    rng,
                    t,
                    shift,
                    "refund_issued",
                    who,
                    {
                        "refund_id": f"rfd_{fake.b62(rng, 16)}",
                        "payment_id": payment_id,
                        "amount_minor": refund,
                        "currency": currency,
                        "reason": rng.choice(fake.REFUND_REASONS),
                    },
                    lbg,
                )
            )
        elif r < 0.75:
            t = anchor + rng.randrange(24, 68) * HOUR
            for leg_id, payload in legs:
                t += rng.randrange(1, 30) * MINUTE
                out.append(self._event(rng, t, shift, "leg_completed", who, dict(payload), lbg, leg_id))
            t += rng.randrange(1, 30) * MINUTE
            out.append(self._event(rng, t, shift, "lbg_completed", who, dict(lbg_payload), lbg))
        if rng.random() < 0.04:
            t += rng.randrange(5, 120) * MINUTE
            text = rng.choice(fake.COMPLAINT_TEXTS).format(phone=who["phone"], email=who["email"])
            out.append(
                self._event(
                    rng,
                    t,
                    shift,
                    "complaint_filed",
                    who,
                    {
                        "complaint_id": f"cmp_{fake.b62(rng, 16)}",
                        "category": rng.choice(fake.COMPLAINT_CATEGORIES),
                        "description": text,
                        "contact_email": who["email"],
                        "contact_phone": who["phone"],
                    },
                    lbg,
                )
            )
        return out

    def redeliver(self, obj: dict, arrival: int, rng: Random) -> dict:
        # A producer retrying PutEvents gets a new EventBridge id; detail.event_id stays.
        return {**obj, "id": fake.uuid4(rng)}

    def conflict(self, obj: dict, arrival: int, rng: Random) -> dict:
        detail = obj["detail"]
        payload = dict(detail["payload"])
        for key in ("amount_minor", "total_minor", "price_minor"):
            if key in payload:
                payload[key] = payload[key] + (100 if payload["currency"] != "JPY" else 1000)
                break
        else:
            payload["category"] = "other" if payload.get("category") != "other" else "billing"
        return {
            **obj,
            "id": fake.uuid4(rng),
            "time": fake.iso_s(arrival - 1000),
            "detail": {**detail, "payload": payload},
        }

    def unknown_event(self, obj: dict, rng: Random) -> dict:
        detail = obj["detail"]
        if rng.random() < 0.5:
            name = rng.choice(("lbg_archived", "loyalty_points_granted", "leg_delayed"))
            return {**obj, "detail-type": name, "detail": {**detail, "event_name": name}}
        return {**obj, "detail": {**detail, "event_version": 2}}

    def schema_violation(self, obj: dict, rng: Random) -> dict:
        detail = obj["detail"]
        payload = dict(detail["payload"])
        r = rng.random()
        if r < 0.3:
            d = dict(detail)
            del d["occurred_at"]
            return {**obj, "detail": d}
        money_key = next((k for k in ("amount_minor", "total_minor", "price_minor") if k in payload), None)
        if money_key and r < 0.55:
            payload[money_key] = "12.50"
        elif money_key and r < 0.8:
            payload[money_key] = -abs(payload[money_key]) or -100
        elif "lbg_id" in detail and detail["event_name"].startswith(("lbg_", "leg_")):
            d = dict(detail)
            del d["lbg_id"]  # required in the envelope of lbg_/leg_ events
            return {**obj, "detail": d}
        else:
            d = dict(detail)
            del d["occurred_at"]
            return {**obj, "detail": d}
        return {**obj, "detail": {**detail, "payload": payload}}

    def oversize(self, obj: dict, rng: Random) -> dict:
        n = rng.randrange(2600, 4000)
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/bookings/stream/2024-05-01T00:00:00.000/"
        return {**obj, "resources": [f"{arn}{i:08d}-{fake.filler(40)}" for i in range(n)]}

    def bad_bytes(self, obj: dict, rng: Random) -> dict:
        return {**obj, "source": obj["source"] + BAD_BYTES_MARK}


# ---------------------------------------------------------------------------------------------
# webhooks/stripe: Stripe Event objects


def _stripe_id(rng: Random, prefix: str) -> str:
    return (
        f"{prefix}_3{fake.b62(rng, 23)}"
        if prefix in ("ch", "pi", "re", "txn", "py")
        else f"{prefix}_{fake.b62(rng, 24)}"
    )


def balance_transaction(
    txn: str,
    amount: int,
    currency: str,
    created: int,
    *,
    kind: str,
    category: str,
    source: str,
    fee: int = 0,
    fee_description: str = "Stripe processing fees",
) -> dict:
    """A Stripe balance transaction object, as the API returns it (pending, settling in two days)."""
    return {
        "id": txn,
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + 2 * 86400,
        "created": created,
        "currency": currency,
        "description": None,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": fee_description,
                "type": "stripe_fee",
            }
        ]
        if fee
        else [],
        "net": amount - fee,
        "reporting_category": category,
        "source": source,
        "status": "pending",
        "type": kind,
    }


class Stripe(Channel):
    name = "webhooks/stripe"
    supports_adapter_failure = True

    def _event(
        self, rng: Random, created_ms: int, shift: int, etype: str, obj: dict, previous: dict | None = None
    ) -> dict:
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        automatic = etype.startswith("payout.") or etype.endswith(("dispute.updated", "dispute.closed"))
        return {
            "id": f"evt_3{fake.b62(rng, 23)}",
            "object": "event",
            "api_version": rng.choice(fake.STRIPE_API_VERSIONS),
            "created": (created_ms - shift) // 1000,
            "data": data,
            "livemode": True,
            "pending_webhooks": rng.choice((1, 1, 1, 2)),
            "request": {"id": None, "idempotency_key": None}
            if automatic
            else {"id": f"req_{fake.b62(rng, 14)}", "idempotency_key": fake.uuid4(rng)},
            "type": etype,
        }

    def _balance_tx(
        self, rng: Random, txn: str, amount: int, currency: str, created: int, kind: str, source: str
    ):
        if rng.random() >= 0.3:
            return txn  # not expanded
        fee = 0 if kind != "charge" else (amount * 29 // 1000 + (30 if currency != "jpy" else 0))
        return balance_transaction(
            txn, amount, currency, created, kind=kind, category=kind, source=source, fee=fee
        )

    def _charge(self, rng: Random, who: dict, created: int, shift: int) -> dict:
        currency = rng.choice(fake.CURRENCIES).lower()
        amount = fake.money(rng, currency.upper(), 15, 900)
        brand, funding = rng.choice(fake.CARD_BRANDS)
        ch = _stripe_id(rng, "ch")
        created_s = (created - shift) // 1000
        billing_email = who["email"] if rng.random() < 0.9 else None
        return {
            "id": ch,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": self._balance_tx(
                rng, _stripe_id(rng, "txn"), amount, currency, created_s, "charge", ch
            ),
            "billing_details": {
                "address": {
                    "city": rng.choice(("London", "Paris", "Berlin", "Madrid", "New York", "Tokyo")),
                    "country": rng.choice(("GB", "FR", "DE", "ES", "US", "JP")),
                    "line1": f"{rng.randrange(1, 200)} Example Street",
                    "line2": None,
                    "postal_code": f"{rng.randrange(10000, 99999)}",
                    "state": None,
                },
                "email": billing_email,
                "name": who["name"],
                "phone": who["phone"] if rng.random() < 0.6 else None,
            },
            "calculated_statement_descriptor": "ACME TRAVEL",
            "captured": True,
            "created": created_s,
            "currency": currency,
            "customer": who["customer"],
            "description": f"Booking {fake.b62(rng, 8)}",
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "fraud_details": {},
            "invoice": None,
            "livemode": True,
            "metadata": {
                "user_id": who["user_id"],
                "lbg_id": f"lbg_{fake.b62(rng, 16)}",
                "payment_id": f"pay_{fake.b62(rng, 16)}",
            },
            "on_behalf_of": None,
            "outcome": {
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "risk_score": rng.randrange(0, 60),
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
            "paid": True,
            "payment_intent": _stripe_id(rng, "pi"),
            "payment_method": f"pm_{fake.b62(rng, 24)}",
            "payment_method_details": {
                "card": {
                    "amount_authorized": amount,
                    "brand": brand,
                    "checks": {
                        "address_line1_check": "pass",
                        "address_postal_code_check": "pass",
                        "cvc_check": "pass",
                    },
                    "country": rng.choice(("GB", "FR", "DE", "US", "JP")),
                    "exp_month": rng.randrange(1, 13),
                    "exp_year": rng.randrange(2026, 2031),
                    "fingerprint": fake.b62(rng, 16),
                    "funding": funding,
                    "last4": f"{rng.randrange(10000):04d}",
                    "network": brand,
                    "three_d_secure": None,
                    "wallet": None,
                },
                "type": "card",
            },
            "receipt_email": billing_email,
            "receipt_number": None,
            "receipt_url": f"https://pay.stripe.com/receipts/payment/{fake.b62(rng, 96)}",
            "refunded": False,
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/charges/{ch}/refunds",
            },
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        }

    def story(self, rng: Random, anchor: int, shift: int) -> list[Draft]:
        if rng.random() < 0.06:
            return self._payout_story(rng, anchor, shift)
        _, who = self.pick_user(rng)
        t = anchor
        charge = self._charge(rng, who, t, shift)
        events: list[tuple[int, dict]] = []
        r = rng.random()
        if r < 0.08:
            charge.update(
                amount_captured=0,
                captured=False,
                paid=False,
                status="failed",
                balance_transaction=None,
                failure_code="card_declined",
                failure_message="Your card was declined.",
                outcome={
                    **charge["outcome"],
                    "network_status": "declined_by_network",
                    "reason": "generic_decline",
                    "seller_message": "The bank did not return any further details with this decline.",
                    "type": "issuer_declined",
                },
            )
            events.append((t, self._event(rng, t, shift, "charge.failed", charge)))
            return self._deliver(rng, anchor, events, shift)
        if r < 0.23:
            auth = {**charge, "captured": False, "amount_captured": 0, "balance_transaction": None}
            events.append((t, self._event(rng, t, shift, "charge.succeeded", auth)))
            t += rng.randrange(1, 30) * MINUTE
            events.append(
                (
                    t,
                    self._event(
                        rng, t, shift, "charge.captured", charge, {"amount_captured": 0, "captured": False}
                    ),
                )
            )
        else:
            events.append((t, self._event(rng, t, shift, "charge.succeeded", charge)))
        if rng.random() < 0.2:
            t += rng.randrange(1, 60) * MINUTE
            old = charge["description"]
            charge = {**charge, "description": f"{old} (amended)"}
            events.append((t, self._event(rng, t, shift, "charge.updated", charge, {"description": old})))
        r = rng.random()
        if r < 0.1:
            t += rng.randrange(1, 48) * HOUR + rng.randrange(HOUR)
            amount = charge["amount"] if rng.random() < 0.7 else charge["amount"] // 2
            currency = charge["currency"]
            re_id = _stripe_id(rng, "re")
            created_s = (t - shift) // 1000
            refund = {
                "id": re_id,
                "object": "refund",
                "amount": amount,
                "balance_transaction": self._balance_tx(
                    rng, _stripe_id(rng, "txn"), -amount, currency, created_s, "refund", re_id
                ),
                "charge": charge["id"],
                "created": created_s,
                "currency": currency,
                "destination_details": {
                    "card": {"reference_status": "pending", "type": "refund"},
                    "type": "card",
                },
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": rng.choice(("requested_by_customer", "duplicate", None)),
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "pending",
                "transfer_reversal": None,
            }
            events.append((t, self._event(rng, t, shift, "refund.created", refund)))
            t += rng.randrange(1, 20) * 1000
            refunded = {
                **charge,
                "amount_refunded": amount,
                "refunded": amount == charge["amount"],
                "refunds": {**charge["refunds"], "data": [refund], "total_count": 1},
            }
            events.append(
                (t, self._event(rng, t, shift, "charge.refunded", refunded, {"amount_refunded": 0}))
            )
            if rng.random() < 0.5:
                t += rng.randrange(1, 12) * HOUR
                events.append(
                    (
                        t,
                        self._event(
                            rng,
                            t,
                            shift,
                            "refund.updated",
                            {**refund, "status": "succeeded"},
                            {"status": "pending"},
                        ),
                    )
                )
        elif r < 0.13:
            t = anchor + rng.randrange(12, 40) * HOUR
            dp = _stripe_id(rng, "dp")
            created_s = (t - shift) // 1000
            dispute = {
                "id": dp,
                "object": "dispute",
                "amount": charge["amount"],
                "balance_transactions": [],
                "charge": charge["id"],
                "created": created_s,
                "currency": charge["currency"],
                "evidence_details": {
                    "due_by": created_s + 7 * 86400,
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "is_charge_refundable": False,
                "livemode": True,
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": rng.choice(("fraudulent", "product_not_received", "duplicate", "general")),
                "status": "needs_response",
            }
            events.append((t, self._event(rng, t, shift, "charge.dispute.created", dispute)))
            t += rng.randrange(1, 12) * HOUR
            updated = {
                **dispute,
                "status": "under_review",
                "evidence_details": {
                    **dispute["evidence_details"],
                    "has_evidence": True,
                    "submission_count": 1,
                },
            }
            events.append(
                (
                    t,
                    self._event(
                        rng, t, shift, "charge.dispute.updated", updated, {"status": "needs_response"}
                    ),
                )
            )
            t += rng.randrange(1, 12) * HOUR
            closed = {**updated, "status": rng.choice(("won", "lost"))}
            events.append(
                (t, self._event(rng, t, shift, "charge.dispute.closed", closed, {"status": "under_review"}))
            )
        return self._deliver(rng, anchor, events, shift)

    def _payout_story(self, rng: Random, anchor: int, shift: int) -> list[Draft]:
        currency = rng.choice(("eur", "gbp", "usd", "jpy"))
        amount = fake.money(rng, currency.upper(), 2_000, 90_000)
        po = f"po_{fake.b62(rng, 24)}"
        created_s = (anchor - shift) // 1000
        payout = {
            "id": po,
            "object": "payout",
            "amount": amount,
            "arrival_date": created_s + 2 * 86400 - created_s % 86400,
            "automatic": True,
            "balance_transaction": self._balance_tx(
                rng, _stripe_id(rng, "txn"), -amount, currency, created_s, "payout", po
            ),
            "created": created_s,
            "currency": currency,
            "description": "STRIPE PAYOUT",
            "destination": f"ba_{fake.b62(rng, 24)}",
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
        events = [(anchor, self._event(rng, anchor, shift, "payout.created", payout))]
        t = anchor + rng.randrange(20, 50) * HOUR
        if rng.random() < 0.05:
            final = {
                **payout,
                "status": "failed",
                "failure_code": "account_closed",
                "failure_message": "The bank account has been closed.",
            }
            events.append((t, self._event(rng, t, shift, "payout.failed", final, {"status": "pending"})))
        else:
            final = {**payout, "status": "paid", "reconciliation_status": "completed"}
            events.append((t, self._event(rng, t, shift, "payout.paid", final, {"status": "in_transit"})))
        return self._deliver(rng, anchor, events, shift)

    def _deliver(self, rng: Random, anchor: int, events: list[tuple[int, dict]], shift: int) -> list[Draft]:
        """Webhook deliveries: usually seconds after ``created``; sometimes the first one is
        retried and arrives after a later event of the same object (out of order)."""
        arrivals = [t + rng.randrange(500, 6000) for t, _ in events]
        if len(events) > 1 and rng.random() < 0.08:
            arrivals[0] = min(arrivals[-1] + rng.randrange(5, 90) * MINUTE, anchor + MAX_LAG_MS[self.name])
        late = shift > 0
        return [
            Draft(arrival, ev["type"], _webhook("stripe", arrival, ev), late=late)
            for arrival, (_, ev) in zip(arrivals, events, strict=True)
        ]

    def conflict(self, obj: dict, arrival: int, rng: Random) -> dict:
        ev = obj["payload"]
        o = dict(ev["data"]["object"])
        o["amount"] = o["amount"] + (100 if o["currency"] != "jpy" else 1000)
        return {
            **obj,
            "received_at": fake.iso_ms(arrival),
            "payload": {**ev, "data": {**ev["data"], "object": o}},
        }

    def unknown_event(self, obj: dict, rng: Random) -> dict:
        ev = obj["payload"]
        etype = rng.choice(("customer.created", "invoice.paid", "payment_intent.succeeded", "charge.expired"))
        return {**obj, "payload": {**ev, "type": etype}}

    def schema_violation(self, obj: dict, rng: Random) -> dict:
        ev = obj["payload"]
        r = rng.random()
        if r < 0.35:
            o = {**ev["data"]["object"], "amount": "12.50"}
            return {**obj, "payload": {**ev, "data": {**ev["data"], "object": o}}}
        o = dict(ev["data"]["object"])
        if r < 0.65 and "amount_refunded" in o:
            o["amount_refunded"] = -o["amount"]
        else:
            del o["id"]
        return {**obj, "payload": {**ev, "data": {**ev["data"], "object": o}}}

    def oversize(self, obj: dict, rng: Random) -> dict:
        ev = obj["payload"]
        o = {**ev["data"]["object"], "metadata": {"notes": fake.filler(rng.randrange(270_000, 400_000))}}
        return {**obj, "payload": {**ev, "data": {**ev["data"], "object": o}}}

    def bad_bytes(self, obj: dict, rng: Random) -> dict:
        ev = obj["payload"]
        o = {**ev["data"]["object"], "description": f"Booking {BAD_BYTES_MARK}"}
        return {**obj, "payload": {**ev, "data": {**ev["data"], "object": o}}}

    def adapter_failure(self, obj: dict, rng: Random) -> dict:
        ev = obj["payload"]
        # A Stripe v2 "thin" event: no data.object, different object type.
        thin = {
            "id": ev["id"],
            "object": "v2.core.event",
            "type": "v1.billing.meter.error_report_triggered",
            "created": fake.iso_ms(ev["created"] * 1000),
            "livemode": True,
            "related_object": {
                "id": f"mtr_{fake.b62(rng, 24)}",
                "type": "billing.meter",
                "url": "/v1/billing/meters/mtr_test",
            },
            "reason": None,
        }
        return {**obj, "payload": thin}


# ---------------------------------------------------------------------------------------------
# webhooks/tax


class Tax(Channel):
    name = "webhooks/tax"
    supports_adapter_failure = True

    def story(self, rng: Random, anchor: int, shift: int) -> list[Draft]:
        _, who = self.pick_user(rng)
        currency = rng.choice(fake.CURRENCIES).lower()
        reference = f"ord_{fake.b62(rng, 18)}"
        country, state = rng.choice(fake.JURISDICTIONS)
        jurisdiction = {"country": country, "state": state} if state else {"country": country}
        items = []
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            amount = fake.money(rng, currency.upper(), 10, 500)
            items.append(
                {
                    "line_id": f"tax_li_{fake.b62(rng, 16)}",
                    "amount": amount,
                    "amount_tax": amount * rng.choice((0, 5, 10, 19, 20)) // 100,
                    "jurisdiction": jurisdiction,
                }
            )
        arrival = anchor + rng.randrange(200, 4000)
        txn = {
            "reference": reference,
            "type": "transaction",
            "posted_at": fake.iso_ms(anchor - shift),
            "currency": currency,
            "customer_email": who["email"],
            "line_items": items,
        }
        out = [Draft(arrival, "transaction", _webhook("tax", arrival, txn), late=shift > 0)]
        if rng.random() < 0.1:
            t = anchor + rng.randrange(1, 47) * HOUR
            full = rng.random() < 0.6
            rev_items = [
                {
                    **it,
                    "amount": -it["amount"] if full else -(it["amount"] // 2),
                    "amount_tax": -it["amount_tax"] if full else -(it["amount_tax"] // 2),
                }
                for it in items
            ]
            rev = {
                **txn,
                "reference": f"{reference}-rev1",
                "type": "reversal",
                "original_reference": reference,
                "posted_at": fake.iso_ms(t - shift),
                "line_items": rev_items,
            }
            arrival = t + rng.randrange(200, 4000)
            out.append(Draft(arrival, "reversal", _webhook("tax", arrival, rev), late=shift > 0))
        return out

    def conflict(self, obj: dict, arrival: int, rng: Random) -> dict:
        p = obj["payload"]
        items = [dict(it) for it in p["line_items"]]
        items[0]["amount_tax"] = items[0]["amount_tax"] + (1 if items[0]["amount_tax"] >= 0 else -1)
        return {**obj, "received_at": fake.iso_ms(arrival), "payload": {**p, "line_items": items}}

    def schema_violation(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        r = rng.random()
        if r < 0.35:
            items = [dict(it) for it in p["line_items"]]
            items[0]["amount"] = "12.50"
            return {**obj, "payload": {**p, "line_items": items}}
        items = [dict(it) for it in p["line_items"]]
        if r < 0.7:  # jurisdiction country must be an upper-case ISO code
            items[0]["jurisdiction"] = {"country": "United Kingdom"}
        else:
            del items[0]["amount_tax"]
        return {**obj, "payload": {**p, "line_items": items}}

    def oversize(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        base = p["line_items"][0]
        items = [
            {**base, "line_id": f"tax_li_{i:010d}{fake.filler(60)}"} for i in range(rng.randrange(2500, 3500))
        ]
        return {**obj, "payload": {**p, "line_items": items}}

    def bad_bytes(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        return {**obj, "payload": {**p, "reference": p["reference"] + BAD_BYTES_MARK}}

    def adapter_failure(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        # A TaxJar-style order: decimal major units, no line_items/type: not our provider shape.
        total = sum(it["amount"] for it in p["line_items"])
        return {
            **obj,
            "payload": {
                "transaction_id": p["reference"],
                "transaction_date": p["posted_at"],
                "to_country": "US",
                "to_state": "CA",
                "amount": total / 100,
                "shipping": 0.0,
                "sales_tax": round(total * 0.0725 / 100, 2),
            },
        }


# ---------------------------------------------------------------------------------------------
# webhooks/esign


class ESign(Channel):
    name = "webhooks/esign"
    supports_adapter_failure = True

    def story(self, rng: Random, anchor: int, shift: int) -> list[Draft]:
        _, who = self.pick_user(rng)
        envelope = {
            "envelope_id": fake.uuid4(rng),
            "lbg_id": f"lbg_{fake.b62(rng, 16)}",
            "signer": {"email": who["email"], "name": who["name"], "role": "traveller"},
        }
        steps = [("envelope.sent", anchor)]
        t = anchor
        if rng.random() < 0.85:
            t += rng.randrange(1, 600) * MINUTE
            steps.append(("envelope.viewed", t))
            if rng.random() < 0.9:
                t += rng.randrange(1, 240) * MINUTE
                steps.append(("envelope.completed" if rng.random() < 0.9 else "envelope.declined", t))
        out = []
        for etype, at in steps:
            arrival = min(at + rng.randrange(300, 5000), anchor + MAX_LAG_MS[self.name])
            payload = {
                "event_id": fake.uuid4(rng),
                "event_type": etype,
                "created_at": fake.iso_ms(at - shift),
                "envelope": envelope,
            }
            out.append(Draft(arrival, etype, _webhook("esign", arrival, payload), late=shift > 0))
        return out

    def conflict(self, obj: dict, arrival: int, rng: Random) -> dict:
        p = obj["payload"]
        env = p["envelope"]
        signer = {**env["signer"], "name": env["signer"]["name"] + " Jr."}
        return {
            **obj,
            "received_at": fake.iso_ms(arrival),
            "payload": {**p, "envelope": {**env, "signer": signer}},
        }

    def unknown_event(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        return {**obj, "payload": {**p, "event_type": rng.choice(("envelope.voided", "envelope.corrected"))}}

    def schema_violation(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        if rng.random() < 0.5:
            env = dict(p["envelope"])
            del env["envelope_id"]
            return {**obj, "payload": {**p, "envelope": env}}
        q = dict(p)
        del q["created_at"]
        return {**obj, "payload": q}

    def oversize(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        env = p["envelope"]
        signer = {**env["signer"], "name": fake.filler(rng.randrange(270_000, 400_000))}
        return {**obj, "payload": {**p, "envelope": {**env, "signer": signer}}}

    def bad_bytes(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        env = p["envelope"]
        signer = {**env["signer"], "name": env["signer"]["name"] + BAD_BYTES_MARK}
        return {**obj, "payload": {**p, "envelope": {**env, "signer": signer}}}

    def adapter_failure(self, obj: dict, rng: Random) -> dict:
        p = obj["payload"]
        # A DocuSign-Connect-style body: a different provider shape.
        return {
            **obj,
            "payload": {
                "event": p["event_type"].replace(".", "-"),
                "apiVersion": "v2.1",
                "uri": f"/restapi/v2.1/accounts/1234/envelopes/{p['envelope']['envelope_id']}",
                "retryCount": 0,
                "generatedDateTime": p["created_at"],
                "data": {"accountId": "1234", "envelopeId": p["envelope"]["envelope_id"]},
            },
        }


# ---------------------------------------------------------------------------------------------
# webhooks/ses: SES event-publishing records


class SES(Channel):
    name = "webhooks/ses"
    supports_conflict = False  # SES records carry no producer event id to conflict on
    supports_adapter_failure = True

    def story(self, rng: Random, anchor: int, shift: int) -> list[Draft]:
        _, who = self.pick_user(rng)
        source = f"Acme Travel <no-reply@{fake.SENDER_DOMAIN}>"
        sender = f"no-reply@{fake.SENDER_DOMAIN}"
        to = who["email"]
        message_id = f"0102018f{fake.b62(rng, 8).lower()}-{fake.uuid4(rng)}-000000"
        subject = rng.choice(fake.EMAIL_SUBJECTS).format(dest=rng.choice(fake.AIRPORTS))
        sent_ms = anchor - shift
        mail = {
            "timestamp": fake.iso_ms(sent_ms),
            "source": sender,
            "sourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{fake.SENDER_DOMAIN}",
            "sendingAccountId": ACCOUNT,
            "messageId": message_id,
            "destination": [to],
            "headersTruncated": False,
            "headers": [
                {"name": "From", "value": source},
                {"name": "To", "value": f"{who['name']} <{to}>"},
                {"name": "Subject", "value": subject},
                {"name": "MIME-Version", "value": "1.0"},
                {
                    "name": "Content-Type",
                    "value": 'multipart/alternative; boundary="----=_Part_1_'
                    + f'{rng.randrange(10**9)}.{rng.randrange(10**12)}"',
                },
                {"name": "X-Acme-Template", "value": "booking_confirmation_v7"},
            ],
            "commonHeaders": {
                "from": [source],
                "to": [f"{who['name']} <{to}>"],
                "messageId": message_id,
                "subject": subject,
            },
            "tags": {
                "ses:configuration-set": ["acme-transactional"],
                "ses:source-ip": [fake.ip(rng)],
                "ses:from-domain": [fake.SENDER_DOMAIN],
                "ses:caller-identity": ["notifications-service"],
                "ses:outgoing-ip": [f"54.240.{rng.randrange(0, 255)}.{rng.randrange(1, 255)}"],
                "template": ["booking_confirmation_v7"],
            },
        }
        records: list[tuple[int, dict]] = [(anchor, {"eventType": "Send", "mail": mail, "send": {}})]
        t = anchor + rng.randrange(300, 5000)
        if rng.random() < 0.04:
            permanent = rng.random() < 0.7
            records.append(
                (
                    t,
                    {
                        "eventType": "Bounce",
                        "mail": mail,
                        "bounce": {
                            "bounceType": "Permanent" if permanent else "Transient",
                            "bounceSubType": "General" if permanent else "MailboxFull",
                            "bouncedRecipients": [
                                {
                                    "emailAddress": to,
                                    "action": "failed",
                                    "status": "5.1.1" if permanent else "4.2.2",
                                    "diagnosticCode": "smtp; 550 5.1.1 user unknown"
                                    if permanent
                                    else "smtp; 452 4.2.2 mailbox full",
                                }
                            ],
                            "timestamp": fake.iso_ms(t - shift),
                            "feedbackId": f"0102018f{fake.b62(rng, 8).lower()}-{fake.uuid4(rng)}-000000",
                            "reportingMTA": "dsn; e242-8.smtp-out.eu-west-1.amazonses.com",
                        },
                    },
                )
            )
        else:
            records.append(
                (
                    t,
                    {
                        "eventType": "Delivery",
                        "mail": mail,
                        "delivery": {
                            "timestamp": fake.iso_ms(t - shift),
                            "processingTimeMillis": t - anchor,
                            "recipients": [to],
                            "smtpResponse": "250 2.0.0 OK  1714567890 d75a77b69052e-43e0b0 - gsmtp",
                            "reportingMTA": "e242-8.smtp-out.eu-west-1.amazonses.com",
                            "remoteMtaIp": fake.ip(rng),
                        },
                    },
                )
            )
            ua = rng.choice(fake.USER_AGENTS["web"])
            if rng.random() < 0.5:
                t += rng.randrange(1, 600) * MINUTE
                records.append(
                    (
                        t,
                        {
                            "eventType": "Open",
                            "mail": mail,
                            "open": {
                                "ipAddress": fake.ip(rng),
                                "timestamp": fake.iso_ms(t - shift),
                                "userAgent": ua,
                            },
                        },
                    )
                )
                if rng.random() < 0.35:
                    t += rng.randrange(5, 600) * 1000
                    records.append(
                        (
                            t,
                            {
                                "eventType": "Click",
                                "mail": mail,
                                "click": {
                                    "ipAddress": fake.ip(rng),
                                    "link": "https://www.acme-travel.example/trips?utm_source=email",
                                    "linkTags": {"campaign": ["booking_confirmation"]},
                                    "timestamp": fake.iso_ms(t - shift),
                                    "userAgent": ua,
                                },
                            },
                        )
                    )
            if rng.random() < 0.01:
                t += rng.randrange(1, 24) * HOUR
                records.append(
                    (
                        t,
                        {
                            "eventType": "Complaint",
                            "mail": mail,
                            "complaint": {
                                "feedbackId": f"0102018f{fake.b62(rng, 8).lower()}-{fake.uuid4(rng)}-000000",
                                "complaintSubType": None,
                                "complainedRecipients": [{"emailAddress": to}],
                                "timestamp": fake.iso_ms(t - shift),
                                "userAgent": "Yahoo!-Mail-Feedback/2.0",
                                "complaintFeedbackType": "abuse",
                                "arrivalDate": fake.iso_ms(t - shift - 1000),
                            },
                        },
                    )
                )
        out = []
        for at, rec in records:
            arrival = min(at + rng.randrange(1000, 60_000), anchor + MAX_LAG_MS[self.name])
            out.append(Draft(arrival, rec["eventType"], _webhook("ses", arrival, rec), late=shift > 0))
        return out

    def unknown_event(self, obj: dict, rng: Random) -> dict:
        rec = dict(obj["payload"])
        event = rec.pop(rec["eventType"].lower(), {})
        if rng.random() < 0.5:
            rec["eventType"] = "DeliveryDelay"
            rec["deliveryDelay"] = {"delayType": "MailboxFull", "timestamp": event.get("timestamp", "")}
        else:
            rec["eventType"] = "Rendering Failure"
            rec["failure"] = {
                "templateName": "booking_confirmation_v7",
                "errorMessage": "Attribute 'name' missing",
            }
        return {**obj, "payload": rec}

    def schema_violation(self, obj: dict, rng: Random) -> dict:
        rec = obj["payload"]
        key = rec["eventType"].lower()
        if "timestamp" in rec.get(key, {}):  # the event object's required timestamp is missing
            detail = dict(rec[key])
            del detail["timestamp"]
            return {**obj, "payload": {**rec, key: detail}}
        mail = dict(rec["mail"])
        del mail["timestamp"]
        return {**obj, "payload": {**rec, "mail": mail}}

    def oversize(self, obj: dict, rng: Random) -> dict:
        rec = obj["payload"]
        headers = [
            *rec["mail"]["headers"],
            {"name": "X-Debug-Trace", "value": fake.filler(rng.randrange(270_000, 400_000))},
        ]
        return {**obj, "payload": {**rec, "mail": {**rec["mail"], "headers": headers}}}

    def bad_bytes(self, obj: dict, rng: Random) -> dict:
        rec = obj["payload"]
        common = {
            **rec["mail"]["commonHeaders"],
            "subject": rec["mail"]["commonHeaders"]["subject"] + BAD_BYTES_MARK,
        }
        return {**obj, "payload": {**rec, "mail": {**rec["mail"], "commonHeaders": common}}}

    def adapter_failure(self, obj: dict, rng: Random) -> dict:
        rec = dict(obj["payload"])
        del rec["eventType"]  # neither eventType nor notificationType: not an SES record we know
        return {**obj, "payload": rec}


CHANNEL_CLASSES: dict[str, type[Channel]] = {
    cls.name: cls for cls in (Collect, EventBridge, Stripe, Tax, ESign, SES)
}
