"""Parsing DQDL ruleset files with per-rule severities."""

import json
from pathlib import Path

import lakehouse.dq.ruleset as ruleset_module
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lakehouse.assets import asset_dir
from lakehouse.dq.ruleset import RulesetSyntaxError, load_ruleset, parse_ruleset
from lakehouse.privacy import NO_PII_RULE

RULESET = """
# Guards silver.example
Rules = [
    IsComplete "id",
    # warn
    ColumnValues "status" in ["open", "closed, pending"],
    # comment only
    CustomSql "select count(*) from primary where amount_minor < 0" = 0
]
"""


def test_rules_and_severities():
    ruleset = parse_ruleset(RULESET, name="example")
    assert [(r.text, r.severity) for r in ruleset.rules] == [
        ('IsComplete "id"', "blocking"),
        ('ColumnValues "status" in ["open", "closed, pending"]', "warn"),
        ('CustomSql "select count(*) from primary where amount_minor < 0" = 0', "blocking"),
    ]
    assert "#" not in ruleset.to_dqdl()
    assert parse_ruleset(ruleset.to_dqdl()).rules == tuple(r.__class__(r.text) for r in ruleset.rules)


@pytest.mark.parametrize(
    "text",
    ['IsComplete "id"', 'Rules = [ IsComplete "id ]', 'Rules = [ ColumnValues "a" in [1, 2 ]', "Rules = [ ]"],
)
def test_malformed_rulesets_are_rejected(text):
    with pytest.raises(RulesetSyntaxError):
        parse_ruleset(text)


@given(st.lists(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), min_size=1, max_size=8), st.data())
def test_any_list_of_rules_round_trips_with_its_severities(columns, data):
    severities = [data.draw(st.sampled_from(["blocking", "warn"])) for _ in columns]
    lines = []
    for column, severity in zip(columns, severities, strict=True):
        if severity == "warn":
            lines.append("  # warn")
        lines.append(f'  ColumnValues "{column}" in ["a,b", "c"]')
    text = "Rules = [\n" + ",\n".join(lines) + "\n]"
    ruleset = parse_ruleset(text)
    assert [r.severity for r in ruleset.rules] == severities
    assert [r.text for r in ruleset.rules] == [f'ColumnValues "{c}" in ["a,b", "c"]' for c in columns]


# ---------------------------------------------------------------- lists generated from the canon
CANON_RULESET = """
Rules = [
    ColumnValues "family" in {{ canon.families }},
    # warn
    ColumnValues "channel" in {{canon.channels}},
    ColumnValues "event_name" in {{ canon.event_names(support) }},
    ColumnValues "category" in {{ canon.enum(support, category) }},
    ColumnValues "status" in {{ canon.enum(stripe, data.object.balance_transactions.status) }}
]
"""


@pytest.fixture(scope="module")
def canon():
    from lakehouse.contracts import ContractRegistry

    return ContractRegistry.load()


def test_canon_lists_are_generated_from_the_registry(canon):
    rules = parse_ruleset(CANON_RULESET, canon=canon).rules
    families = ", ".join(f'"{f}"' for f in canon.families)
    assert [(r.text, r.severity) for r in rules] == [
        (f'ColumnValues "family" in [{families}]', "blocking"),
        (
            'ColumnValues "channel" in ["collect", "eventbridge", "webhooks/stripe", "webhooks/tax", '
            '"webhooks/esign", "webhooks/ses"]',
            "warn",
        ),
        ('ColumnValues "event_name" in ["complaint_filed"]', "blocking"),
        ('ColumnValues "category" in ["billing", "service", "safety", "other"]', "blocking"),
        ('ColumnValues "status" in ["pending", "available"]', "blocking"),
    ]


@pytest.mark.parametrize(
    ("placeholder", "message"),
    [
        ("{{ canon.events }}", "is not one of"),
        ("{{ canon.event_names }}", "is not one of"),
        ("{{ canon.event_names(fax) }}", "unknown family 'fax'"),
        ("{{ canon.enum(support, colour) }}", "no contract of family 'support' has an enum field 'colour'"),
        ("{{ canon.enum(support, description) }}", "description has no enum"),
    ],
)
def test_a_canon_list_that_cannot_be_generated_is_a_clear_error(canon, placeholder, message):
    with pytest.raises(RulesetSyntaxError, match=message):
        parse_ruleset(f'Rules = [ ColumnValues "x" in {placeholder} ]', name="t", canon=canon)


def test_a_canon_list_needs_the_registry():
    with pytest.raises(RulesetSyntaxError, match="generated from the canon"):
        parse_ruleset('Rules = [ ColumnValues "family" in {{ canon.families }} ]')


# ----------------------------------------------------------------------------- shared rulesets

EXPANDED_SILVER = Path(__file__).with_name("silver_rulesets_expanded.json")


def test_the_silver_rulesets_expand_to_exactly_the_rules_deequ_evaluates_and_persists(canon):
    """Every Silver ruleset, shared rules and canon lists expanded, equals the recorded
    rules and severities (rules written out in full in each file before shared rules existed)."""
    rulesets = asset_dir("jobs") / "bronze_to_silver" / "rulesets"
    expanded = {
        p.stem: [[r.severity, r.text] for r in load_ruleset(p, canon=canon).rules]
        for p in sorted(rulesets.glob("*.dqdl"))
    }
    assert expanded == json.loads(EXPANDED_SILVER.read_text(encoding="utf-8"))


def test_each_silver_ruleset_names_the_pii_rule_instead_of_copying_it():
    for path in sorted((asset_dir("jobs") / "bronze_to_silver" / "rulesets").glob("*.dqdl")):
        assert "to_json(struct(*))" not in path.read_text(encoding="utf-8"), path.name


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """A shared-rules folder of our own: ``keys`` (blocking) and ``soft`` (one warn rule)."""
    (tmp_path / "keys.dqdl").write_text('# keys\nRules = [\n    IsComplete "id",\n    IsUnique "id"\n]\n')
    (tmp_path / "soft.dqdl").write_text('Rules = [\n    # warn\n    IsComplete "note"\n]\n')
    monkeypatch.setattr(ruleset_module, "shared_rules_dir", lambda: tmp_path)
    ruleset_module._shared_body.cache_clear()
    yield tmp_path
    ruleset_module._shared_body.cache_clear()


def test_a_shared_ruleset_is_included_in_place_with_its_severities(shared):
    text = """Rules = [
        {{ rules.keys }},
        IsComplete "a",
        {{ rules.soft }},
        {{ rules.no_pii }}
    ]"""
    rules = [(r.text, r.severity) for r in parse_ruleset(text, name="t").rules]
    assert rules == [
        ('IsComplete "id"', "blocking"),
        ('IsUnique "id"', "blocking"),
        ('IsComplete "a"', "blocking"),
        ('IsComplete "note"', "warn"),
        (NO_PII_RULE, "blocking"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Rules = [\n    {{ rules.nothing }}\n]", r"nothing.dqdl \(known: keys, no_pii, soft\)"),
        ('Rules = [\n    IsComplete "a", {{ rules.keys }}\n]', "must stand alone on its line"),
        ("Rules = [\n    # warn\n    {{ rules.keys }}\n]", "the shared ruleset sets its severities"),
    ],
)
def test_a_shared_ruleset_that_cannot_be_included_is_a_clear_error(shared, text, message):
    with pytest.raises(RulesetSyntaxError, match=message):
        parse_ruleset(text, name="t")
