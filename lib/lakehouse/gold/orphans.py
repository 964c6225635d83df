"""Bad Silver input that the marts cannot place, counted per rule (never silently dropped).

Each rule has a documented consequence in the marts; the counts are checked by the warn
rules of ``audit_orphans.dqdl``.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.bookings import LBGS, PAYMENTS
from lakehouse.gold.identity import CLIENT, IDENTITY, clean_id
from lakehouse.marts import BuildContext
from lakehouse.money import exponent_frame

RULES = {
    "lbg_booked_without_created": (
        "A booked lbg with no lbg_created event: counted in bookings from its booked event, "
        "absent from the funnel's lbg_created step."
    ),
    "lbg_unknown_currency": (
        "An lbg whose currency has no entry in config/currency_exponents.csv: its amounts are kept "
        "under that code and never converted."
    ),
    "payment_unknown_currency": (
        "A payment in a currency with no exponent entry: kept in the daily money marts under its code."
    ),
    "payment_other_currency": (
        "A payment in another currency than its lbg: left out of the lbg's captured and refunded amounts."
    ),
    "payment_without_lbg": "A payment with no lbg_id: counted in daily captures, attached to no lbg.",
    "events_after_completed": (
        "Lifecycle events or payments after an lbg completed: kept; the lbg stays completed."
    ),
    "client_event_without_identity": (
        "A client event with neither user_id nor anon_id: in no person, session or funnel."
    ),
    "ambiguous_anon_id": (
        "An anon_id seen with several user_ids (a shared device): its anonymous events stay anon."
    ),
}


def _rule(name: str, rows: DataFrame, key: str) -> DataFrame:
    return rows.agg(F.count(F.lit(1)).alias("n_rows"), F.min(F.col(key)).alias("example_key")).select(
        F.lit(name).alias("rule"),
        F.lit(RULES[name]).alias("description"),
        F.col("n_rows").cast("bigint"),
        "example_key",
    )


def audit_orphans(ctx: BuildContext) -> DataFrame:
    lbgs, payments, client = ctx.input(LBGS), ctx.input(PAYMENTS), ctx.input(CLIENT)
    identity = ctx.optional_input(IDENTITY)
    known = [r.currency for r in exponent_frame(ctx.spark).collect()]
    parts = [
        _rule(
            "lbg_booked_without_created",
            lbgs.where(F.col("booked_at").isNotNull() & ~F.col("has_created_event")),
            "lbg_id",
        ),
        _rule("lbg_unknown_currency", lbgs.where(~F.col("is_currency_known")), "lbg_id"),
        _rule(
            "payment_unknown_currency",
            payments.where(~F.col("currency").isin(known) | F.col("currency").isNull()),
            "event_id",
        ),
        _rule("payment_other_currency", lbgs.where(F.col("n_payments_other_currency") > 0), "lbg_id"),
        _rule("payment_without_lbg", payments.where(F.col("lbg_id").isNull()), "event_id"),
        _rule("events_after_completed", lbgs.where(F.col("n_events_after_completed") > 0), "lbg_id"),
        _rule(
            "client_event_without_identity",
            client.where(clean_id("user_id").isNull() & clean_id("anon_id").isNull()),
            "event_id",
        ),
    ]
    if identity is not None:
        parts.append(_rule("ambiguous_anon_id", identity.where("is_ambiguous"), "anon_id"))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out
