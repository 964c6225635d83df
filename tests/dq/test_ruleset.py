"""Parsing DQDL ruleset files with per-rule severities."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lakehouse.dq.ruleset import RulesetSyntaxError, parse_ruleset

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
