"""The Silver DQDL rulesets: parse, carry the shared PII patterns, restate no list of the canon by
hand, and pass on clean data (fail on PII)."""

import re

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
        ruleset = load_ruleset(RULESETS / f"{table}.dqdl", canon=registry)
        texts = [r.text for r in ruleset.rules]
        assert NO_PII_RULE in texts, table
        assert all(r.severity == "blocking" for r in ruleset.rules if "rlike" in r.text), table
        assert (TABLE_SPECS / f"{table}.yaml").is_file(), table


def _canon_lists(registry) -> dict[frozenset, str]:
    """Every list of values the canon defines: families, channels, event names, enum values."""

    def enums(node, path):
        if "enum" in node.schema:
            yield path, node.schema["enum"]
        for child in node.children:
            yield from enums(child, f"{path}.{child.name}".lstrip("."))
        if node.items is not None:
            yield from enums(node.items, path)

    lists = {frozenset(registry.families): "families", frozenset(registry.channels): "channels"}
    for family in registry.families:
        lists[frozenset(registry.event_names(family))] = f"event_names({family})"
        per_field: dict[str, set] = {}
        for contract in registry.contracts_of(family):
            for path, values in enums(contract.root, ""):
                per_field.setdefault(path, set()).update(values)
                lists.setdefault(frozenset(values), f"enum({family}, {path})")
        for path, values in per_field.items():  # the union over the family's events
            lists.setdefault(frozenset(values), f"enum({family}, {path})")
    return lists


def test_no_ruleset_restates_a_list_of_the_canon_by_hand(registry):
    canon = _canon_lists(registry)
    for path in sorted(RULESETS.glob("*.dqdl")):
        for literal in re.findall(r"\bin\s*(\[[^\]]*\])", path.read_text(encoding="utf-8")):
            values = frozenset(re.findall(r'"((?:[^"\\]|\\.)*)"', literal))
            assert values not in canon, f"{path.name}: {literal} is {{{{ canon.{canon[values]} }}}}"


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


def _failed(spark, df, table, tmp_path, registry):
    context = DqContext(lake_root=str(tmp_path), job="test", run_id="r", table_name=table)
    ruleset = load_ruleset(RULESETS / f"{table}.dqdl", canon=registry)
    outcomes = evaluate(spark, df, ruleset, context, persist=False)
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
def test_rulesets_pass_on_clean_silver(spark, tables, table, tmp_path, registry):
    failed = _failed(spark, tables[table], table, tmp_path, registry)
    assert failed == [], [(rule[:60], (reason or "")[:600]) for rule, reason in failed]


def test_pii_rule_blocks_a_leaked_email(spark, tables, tmp_path, registry):
    leaked = tables["stg_client_events"].withColumn("source", F.lit("ann@example.com"))
    failed = _failed(spark, leaked, "stg_client_events", tmp_path, registry)
    assert len(failed) == 1 and "rlike" in failed[0][0]
