"""The Silver DQDL rulesets: parse, carry the shared PII patterns, and pass on clean data (fail on PII)."""

import pytest
from lakehouse.assets import asset_dir
from lakehouse.dq import load_ruleset
from lakehouse.dq.engine import DqContext, evaluate
from lakehouse.events import STRIPE_TABLES, project_family, stripe_objects
from lakehouse.privacy import NO_PII_RULE
from pyspark.sql import functions as F

RULESETS = asset_dir("jobs") / "bronze_to_silver" / "rulesets"
TABLE_SPECS = asset_dir("jobs") / "bronze_to_silver" / "tables"


def silver_tables(registry):
    return ["events", *[registry.family_table_name(f) for f in registry.families], *STRIPE_TABLES.values()]


def test_every_silver_table_has_a_ruleset_and_a_spec_with_the_pii_rule(registry):
    for table in silver_tables(registry):
        ruleset = load_ruleset(RULESETS / f"{table}.dqdl")
        texts = [r.text for r in ruleset.rules]
        assert NO_PII_RULE in texts, table
        assert all(r.severity == "blocking" for r in ruleset.rules if "rlike" in r.text), table
        assert (TABLE_SPECS / f"{table}.yaml").is_file(), table


def _tables(canonical, registry):
    valid = canonical.filter("is_valid")
    events = valid.select(
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
        "family",
        "payload",
        "payload_hash",
    ).dropDuplicates(["event_id"])
    return {
        "events": events,
        "stg_client_events": project_family(events, registry, "client"),
        "stg_ses_events": project_family(events, registry, "ses"),
        "stg_payments_events": project_family(events, registry, "payments"),
        "stg_stripe_charges": stripe_objects(events, "charge"),
        "stg_stripe_balance_transactions": stripe_objects(events, "balance_transaction"),
    }


@pytest.fixture(scope="module")
def tables(canonical, registry):
    return {name: df.cache() for name, df in _tables(canonical, registry).items()}


def _failed(spark, df, table, tmp_path):
    context = DqContext(lake_root=str(tmp_path), job="test", run_id="r", table_name=table)
    outcomes = evaluate(spark, df, load_ruleset(RULESETS / f"{table}.dqdl"), context, persist=False)
    return [(o.rule, o.failure_reason) for o in outcomes if not o.passed and o.severity == "blocking"]


@pytest.mark.parametrize(
    "table",
    [
        "events",
        "stg_client_events",
        "stg_ses_events",
        "stg_payments_events",
        "stg_stripe_charges",
        "stg_stripe_balance_transactions",
    ],
)
def test_rulesets_pass_on_clean_silver(spark, tables, table, tmp_path):
    failed = _failed(spark, tables[table], table, tmp_path)
    assert failed == [], [(rule[:60], (reason or "")[:600]) for rule, reason in failed]


def test_pii_rule_blocks_a_leaked_email(spark, tables, tmp_path):
    leaked = tables["stg_client_events"].withColumn("source", F.lit("ann@example.com"))
    failed = _failed(spark, leaked, "stg_client_events", tmp_path)
    assert len(failed) == 1 and "rlike" in failed[0][0]
