"""The checks of the close (``jobs/finance_close/checks.yaml``): exceptions per entity and one
summary row per check, currency and finance category, exact in integer minor units.

:func:`raise_exceptions` turns the day's inputs into ``recon_exception`` rows (before
resolutions): one per entity a check finds wrong, with what the ledger says (``actual``),
what the processor or the rule says (``expected``) and the difference. :func:`summary` rolls
them up per check and currency, and computes the daily tie-out (R11) from the match's
contributions: ``ledger_total - processor_total - timing``, explained only when every entity
that makes up the difference was resolved by a person with a reason.

Example::

    raised = raise_exceptions(spark, inputs, ref)
    exceptions = with_resolutions(raised, resolutions)
    rows = summary(spark, exceptions, match, ref)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.finance.calendar import naive_utc
from lakehouse.finance.inputs import CloseWindow
from lakehouse.finance.match import contributions
from lakehouse.finance.reference import Reference

RAISED_COLUMNS = (
    "check_id",
    "severity",
    "entity_type",
    "entity_id",
    "finance_category",
    "currency",
    "expected_minor",
    "actual_minor",
    "diff_minor",
    "detail",
)
TIE_OUT_CATEGORIES = ("sales", "refunds", "disputes", "payouts")
POSITIVE_AMOUNT_ENTITIES = ("payment", "refund", "dispute")
# An exception about one ledger item names it with these columns.
LEDGER_ROW = {
    "entity_type": "entity_type",
    "entity_id": "item_id",
    "finance_category": "finance_category",
    "currency": "currency",
    "actual_minor": "amount_minor",
}


@dataclass
class CloseInputs:
    """What the checks read for one business day."""

    window: CloseWindow
    ledger: DataFrame  # ledger items of the read window (lakehouse.finance.inputs)
    processor: DataFrame  # processor items of the read window
    match: DataFrame  # mart_ledger_processor_match rows (with close columns)
    stripe_objects: DataFrame  # Stripe objects created on the day
    balance_transactions: DataFrame  # Silver balance transactions created on the day
    charges: DataFrame  # Silver charges (every state, latest)
    refunds: DataFrame  # Silver refunds
    stripe_max_event_at: datetime | None
    ledger_snapshot_time: datetime
    expect_livemode: bool = True


def _raised(
    df: DataFrame, check_id: str, severity: str | Column, **columns: Column | str | None
) -> DataFrame:
    """``df`` as exception rows of ``check_id`` (columns not given are null)."""
    types = {"expected_minor": "bigint", "actual_minor": "bigint", "diff_minor": "bigint"}
    out = []
    for name in RAISED_COLUMNS:
        if name == "check_id":
            out.append(F.lit(check_id).alias(name))
        elif name == "severity":
            value = severity if isinstance(severity, Column) else F.lit(severity)
            out.append(value.alias(name))
        else:
            value = columns.get(name)
            if value is None:
                value = F.lit(None)
            elif isinstance(value, str):
                value = F.col(value)
            out.append(value.cast(types.get(name, "string")).alias(name))
    return df.select(*out)


def _match_exceptions(inputs: CloseInputs, ref: Reference) -> list[DataFrame]:
    m = inputs.match
    r9 = m.where(F.col("match_status").isin("amount_mismatch", "currency_mismatch"))
    r10 = m.where(~F.col("match_status").isin("matched", "amount_mismatch", "currency_mismatch"))
    timing = F.col("match_status").startswith("timing_")
    ledger_on_day = F.col("ledger_close_date") == F.col("close_date")
    processor_on_day = F.col("processor_close_date") == F.col("close_date")
    words = {
        "amount_mismatch": "ledger and Stripe amounts differ",
        "currency_mismatch": "ledger currency differs from Stripe's presentment currency",
        "missing_in_processor": "ledger row with no Stripe object within a business day",
        "missing_in_ledger": "Stripe object with no ledger row within a business day",
        "duplicate": "a second ledger row for the same Stripe object",
        "timing_prior_day": "counterpart dated on the previous business day",
        "timing_next_day": "counterpart dated on the next business day",
    }
    detail = F.element_at(
        F.create_map(*[F.lit(x) for kv in words.items() for x in kv]), F.col("match_status")
    )
    detail = F.concat_ws(
        ": ", F.col("match_status"), detail, F.concat(F.lit("Stripe "), F.col("processor_ref"))
    )
    common = {
        "entity_type": "entity_type",
        "entity_id": "entity_id",
        "finance_category": "finance_category",
        "currency": F.coalesce("ledger_currency", "processor_currency"),
        "expected_minor": F.when(processor_on_day | ~ledger_on_day, F.col("processor_amount_minor")),
        "actual_minor": F.when(ledger_on_day, F.col("ledger_amount_minor")),
        "diff_minor": "diff_minor",
        "detail": detail,
    }
    return [
        _raised(r9, "R9", ref.severity("R9"), **common),
        _raised(r10, "R10", F.when(timing, F.lit("warn")).otherwise(F.lit(ref.severity("R10"))), **common),
    ]


def _dispute_status_exceptions(inputs: CloseInputs, ref: Reference) -> DataFrame:
    led = inputs.ledger.where("entity_type = 'dispute'").select(
        F.col("item_id").alias("dispute_id"),
        F.col("processor_ref"),
        F.col("status").alias("ledger_status"),
        "currency",
        F.col("at"),
    )
    proc = inputs.processor.where("entity_type = 'dispute'").select(
        F.col("processor_ref"), F.col("status").alias("processor_status")
    )
    differ = (
        led.where(inputs.window.on_day("at"))
        .join(proc, "processor_ref")
        .where("ledger_status <> processor_status")
    )
    return _raised(
        differ,
        "R8",
        ref.severity("R8"),
        entity_type=F.lit("dispute"),
        entity_id="dispute_id",
        finance_category=F.lit("disputes"),
        currency="currency",
        detail=F.concat(
            F.lit("ledger says "),
            F.col("ledger_status"),
            F.lit(", Stripe says "),
            F.col("processor_status"),
            F.lit(" for "),
            F.col("processor_ref"),
        ),
    )


def _balance_transaction_exceptions(inputs: CloseInputs, ref: Reference) -> list[DataFrame]:
    bts = inputs.balance_transactions.select(
        "balance_transaction_id",
        "amount_minor",
        "fee_minor",
        "net_minor",
        F.lower("currency").alias("currency"),
        "reporting_category",
    )
    identity = bts.where(
        "net_minor IS NULL OR amount_minor IS NULL OR fee_minor IS NULL "
        "OR net_minor <> amount_minor - fee_minor"
    )
    known = list(ref.finance_category)
    unmapped = bts.where(F.col("reporting_category").isNull() | ~F.col("reporting_category").isin(known))
    return [
        _raised(
            identity,
            "R1",
            ref.severity("R1"),
            entity_type=F.lit("balance_transaction"),
            entity_id="balance_transaction_id",
            finance_category=F.lit("all"),
            currency="currency",
            expected_minor=F.col("amount_minor") - F.col("fee_minor"),
            actual_minor="net_minor",
            diff_minor=F.col("net_minor") - (F.col("amount_minor") - F.col("fee_minor")),
            detail=F.lit("net differs from amount - fee"),
        ),
        _raised(
            unmapped,
            "R4",
            ref.severity("R4"),
            entity_type=F.lit("balance_transaction"),
            entity_id="balance_transaction_id",
            finance_category=F.lit("all"),
            currency="currency",
            actual_minor="net_minor",
            detail=F.concat(
                F.lit("reporting category not in the mapping: "),
                F.coalesce(F.col("reporting_category"), F.lit("(none)")),
            ),
        ),
    ]


def _structure_exceptions(inputs: CloseInputs, ref: Reference) -> list[DataFrame]:
    on_day = inputs.window.on_day("at")
    ledger_day = inputs.ledger.where(on_day)
    key_counts = inputs.ledger.groupBy("entity_type", "item_id").agg(F.count("*").alias("n"))
    repeated = key_counts.where("n > 1").join(
        ledger_day.select("entity_type", "item_id").distinct(), ["entity_type", "item_id"]
    )
    malformed = ledger_day.where(
        F.col("currency").isNull()
        | F.col("amount_minor").isNull()
        | (F.col("entity_type").isin(*POSITIVE_AMOUNT_ENTITIES) & (F.col("amount_minor") <= 0))
    )
    no_bt = inputs.charges.where(
        inputs.window.on_day("created_at")
        & F.col("captured")
        & (F.col("status") == "succeeded")
        & F.col("balance_transaction_id").isNull()
    )
    severity = ref.severity("R3")
    currencies = list(ref.exponent)
    unknown = ledger_day.where(F.col("currency").isNotNull() & ~F.col("currency").isin(currencies))
    stripe_unknown = inputs.stripe_objects.where(
        F.col("currency").isNotNull() & ~F.col("currency").isin(currencies)
    )
    three = [c for c, e in ref.exponent.items() if e == 3]
    unrounded = ledger_day.where(F.col("currency").isin(three) & (F.col("amount_minor") % 10 != 0))
    livemode = inputs.stripe_objects.where(
        ~F.coalesce(F.col("livemode") == inputs.expect_livemode, F.lit(False))
    )
    return [
        _raised(
            repeated,
            "R3",
            severity,
            entity_type="entity_type",
            entity_id="item_id",
            finance_category=F.lit("all"),
            detail=F.concat(F.lit("ledger id recorded "), F.col("n"), F.lit(" times")),
        ),
        _raised(
            malformed,
            "R3",
            severity,
            **LEDGER_ROW,
            detail=F.when(F.col("currency").isNull(), F.lit("ledger row without a currency"))
            .when(F.col("amount_minor").isNull(), F.lit("ledger row without an amount"))
            .otherwise(F.lit("amount must be positive")),
        ),
        _raised(
            no_bt,
            "R3",
            severity,
            entity_type=F.lit("charge"),
            entity_id="charge_id",
            finance_category=F.lit("sales"),
            currency=F.lower("currency"),
            expected_minor="amount_captured_minor",
            detail=F.lit("captured charge without a balance transaction"),
        ),
        _raised(
            unknown,
            "R18",
            ref.severity("R18"),
            **LEDGER_ROW,
            detail=F.concat(F.lit("currency not accepted: "), F.col("currency")),
        ),
        _raised(
            stripe_unknown,
            "R18",
            ref.severity("R18"),
            entity_type="object_type",
            entity_id="object_id",
            finance_category=F.lit("all"),
            currency="currency",
            expected_minor="amount_minor",
            detail=F.concat(F.lit("Stripe currency not accepted: "), F.col("currency")),
        ),
        _raised(
            unrounded,
            "R18",
            ref.severity("R18"),
            **LEDGER_ROW,
            detail=F.lit("three-decimal amount must end in 0"),
        ),
        _raised(
            livemode,
            "R19",
            ref.severity("R19"),
            entity_type="object_type",
            entity_id="object_id",
            finance_category=F.lit("all"),
            currency="currency",
            detail=F.concat(
                F.lit("livemode is "), F.coalesce(F.col("livemode").cast("string"), F.lit("null"))
            ),
        ),
    ]


def _refund_bound_exceptions(inputs: CloseInputs, ref: Reference) -> DataFrame:
    refunded = (
        inputs.refunds.where("status = 'succeeded'")
        .groupBy("charge_id")
        .agg(F.sum(F.col("amount_minor").cast("decimal(38,0)")).cast("bigint").alias("refunds_minor"))
    )
    touched = inputs.refunds.where(inputs.window.on_day("created_at")).select("charge_id").distinct()
    charges = inputs.charges.select(
        "charge_id", "amount_refunded_minor", "amount_captured_minor", F.lower("currency").alias("currency")
    )
    rows = touched.join(refunded, "charge_id").join(charges, "charge_id", "left")
    wrong = rows.where(
        F.col("amount_refunded_minor").isNull()
        | (F.col("refunds_minor") != F.col("amount_refunded_minor"))
        | (F.col("amount_refunded_minor") > F.col("amount_captured_minor"))
    )
    return _raised(
        wrong,
        "R7",
        ref.severity("R7"),
        entity_type=F.lit("charge"),
        entity_id="charge_id",
        finance_category=F.lit("refunds"),
        currency="currency",
        expected_minor="amount_refunded_minor",
        actual_minor="refunds_minor",
        diff_minor=F.col("refunds_minor") - F.col("amount_refunded_minor"),
        detail=F.when(
            F.col("amount_refunded_minor") > F.col("amount_captured_minor"),
            F.lit("refunded more than captured"),
        ).otherwise(F.lit("succeeded refunds differ from the charge's amount_refunded")),
    )


def _freshness_exceptions(spark: SparkSession, inputs: CloseInputs, ref: Reference) -> DataFrame:
    _, end = inputs.window.utc
    rows = []
    if inputs.stripe_max_event_at is None or naive_utc(inputs.stripe_max_event_at) < naive_utc(end):
        seen = inputs.stripe_max_event_at.isoformat() if inputs.stripe_max_event_at else "none"
        rows.append(("stripe", f"latest Stripe event {seen} is before the end of the day {end.isoformat()}"))
    if naive_utc(inputs.ledger_snapshot_time) < naive_utc(end):
        rows.append(
            (
                "ledger",
                f"ledger snapshot {inputs.ledger_snapshot_time.isoformat()} is before the end "
                f"of the day {end.isoformat()}",
            )
        )
    df = spark.createDataFrame(rows, "input string, detail string")
    return _raised(
        df,
        "R20",
        ref.severity("R20"),
        entity_type=F.lit("input"),
        entity_id="input",
        finance_category=F.lit("all"),
        detail="detail",
    )


def raise_exceptions(spark: SparkSession, inputs: CloseInputs, ref: Reference) -> DataFrame:
    """Every exception of the day, before resolutions (columns: :data:`RAISED_COLUMNS`)."""
    frames = [
        *_match_exceptions(inputs, ref),
        _dispute_status_exceptions(inputs, ref),
        *_balance_transaction_exceptions(inputs, ref),
        *_structure_exceptions(inputs, ref),
        _refund_bound_exceptions(inputs, ref),
        _freshness_exceptions(spark, inputs, ref),
    ]
    raised = reduce(DataFrame.unionByName, frames)
    # One row per check and entity (a ledger row can break R3 twice): the first reason is kept.
    return raised.groupBy("check_id", "entity_id").agg(
        *[F.first(c).alias(c) for c in RAISED_COLUMNS if c not in ("check_id", "entity_id")]
    )


def with_resolutions(raised: DataFrame, resolutions: DataFrame, currencies: DataFrame) -> DataFrame:
    """Exceptions with their status: ``allowed`` (warn), ``resolved`` (a recorded reason) or ``open``."""
    latest = resolutions.groupBy("check_id", "entity_id").agg(
        F.max_by("reason", "resolved_at").alias("resolution"),
        F.max_by("resolved_by", "resolved_at").alias("resolved_by"),
    )
    exponents = currencies.select(F.col("currency").alias("_cur"), "currency_exponent")
    out = raised.join(latest, ["check_id", "entity_id"], "left")
    out = out.join(exponents, out.currency == exponents._cur, "left").drop("_cur")
    status = (
        F.when(F.col("resolution").isNotNull(), "resolved")
        .when(F.col("severity") == "warn", "allowed")
        .otherwise("open")
    )
    return out.withColumn("status", status)


def summary(spark: SparkSession, exceptions: DataFrame, match: DataFrame, ref: Reference) -> DataFrame:
    """One row per check, currency and finance category of the day (before the close columns)."""
    counted = exceptions.groupBy("check_id", F.coalesce("currency", F.lit("all")).alias("currency")).agg(
        F.sum(F.coalesce(F.col("diff_minor"), F.lit(0)).cast("decimal(38,0)")).alias("diff"),
        F.count("*").alias("exception_count"),
        F.count_if(F.col("status") == "open").alias("open"),
        F.count_if(F.col("status") == "resolved").alias("resolved"),
        F.count_if(F.col("status") == "allowed").alias("allowed"),
    )
    matched = (
        match.where("match_status = 'matched'")
        .groupBy(F.col("ledger_currency").alias("currency"))
        .agg(F.count("*").alias("matched"))
    )
    entity_checks = [c for c in ref.checks if c != "R11"]
    catalogue = spark.createDataFrame(
        [(c, ref.severity(c)) for c in entity_checks], "check_id string, severity string"
    )
    with_rows = catalogue.join(counted, "check_id", "left")
    entity = with_rows.join(matched, "currency", "left").select(
        "check_id",
        "severity",
        F.coalesce("currency", F.lit("all")).alias("currency"),
        F.lit("all").alias("finance_category"),
        F.lit(None).cast("bigint").alias("ledger_total_minor"),
        F.lit(None).cast("bigint").alias("processor_total_minor"),
        F.coalesce(F.col("diff"), F.lit(0)).cast("bigint").alias("diff_minor"),
        F.when(F.col("check_id").isin("R9", "R10"), F.coalesce("matched", F.lit(0)))
        .otherwise(0)
        .cast("bigint")
        .alias("matched_count"),
        F.coalesce("exception_count", F.lit(0)).cast("bigint").alias("exception_count"),
        F.when(F.coalesce("exception_count", F.lit(0)) == 0, "passed")
        .when(F.col("open") > 0, F.when(F.col("severity") == "warn", "warn").otherwise("failed"))
        .when(F.col("resolved") > 0, "explained")
        .otherwise("warn")
        .alias("status"),
    )
    return entity.unionByName(_tie_out(spark, exceptions, match, ref))


def _tie_out(spark: SparkSession, exceptions: DataFrame, match: DataFrame, ref: Reference) -> DataFrame:
    """R11 per currency and category: ledger - processor - timing, and what resolutions explain."""
    parts = contributions(match)
    resolved = exceptions.where("status = 'resolved' AND check_id IN ('R9', 'R10')").select(
        "entity_id", F.lit(True).alias("resolved")
    )
    parts = parts.join(resolved, "entity_id", "left")
    net = (F.col("ledger_minor") - F.col("processor_minor")).cast("decimal(38,0)")
    timing = F.col("match_status").startswith("timing_")
    exception = F.col("match_status").isNotNull() & (F.col("match_status") != "matched") & ~timing
    grid = spark.createDataFrame([(c,) for c in TIE_OUT_CATEGORIES], "finance_category string")
    day_currencies = parts.select("currency").distinct()
    totals = (
        day_currencies.crossJoin(grid)
        .join(parts, ["currency", "finance_category"], "left")
        .groupBy("currency", "finance_category")
        .agg(
            F.sum(F.coalesce(F.col("ledger_minor"), F.lit(0)).cast("decimal(38,0)")).alias("ledger_total"),
            F.sum(F.coalesce(F.col("processor_minor"), F.lit(0)).cast("decimal(38,0)")).alias(
                "processor_total"
            ),
            F.sum(F.when(timing, net).otherwise(0)).alias("timing"),
            F.sum(
                F.when(
                    ~timing & F.col("resolved").isNull() & (F.col("match_status") != "matched"), net
                ).otherwise(0)
            ).alias("unexplained"),
            F.count_distinct(F.when(F.col("match_status") == "matched", F.col("entity_id"))).alias("matched"),
            F.count_distinct(F.when(exception, F.col("entity_id"))).alias("exceptions"),
            F.count_distinct(F.when(exception & F.col("resolved").isNull(), F.col("entity_id"))).alias(
                "open"
            ),
        )
    )
    diff = F.col("ledger_total") - F.col("processor_total") - F.col("timing")
    return totals.select(
        F.lit("R11").alias("check_id"),
        F.lit(ref.severity("R11")).alias("severity"),
        F.coalesce("currency", F.lit("all")).alias("currency"),
        "finance_category",
        F.col("ledger_total").cast("bigint").alias("ledger_total_minor"),
        F.col("processor_total").cast("bigint").alias("processor_total_minor"),
        diff.cast("bigint").alias("diff_minor"),
        F.col("matched").cast("bigint").alias("matched_count"),
        F.col("exceptions").cast("bigint").alias("exception_count"),
        F.when(F.col("exceptions") == 0, F.when(diff == 0, "passed").otherwise("failed"))
        .when((F.col("open") == 0) & (F.col("unexplained") == 0), "explained")
        .otherwise(F.when(F.lit(ref.severity("R11")) == "warn", "warn").otherwise("failed"))
        .alias("status"),
    )
