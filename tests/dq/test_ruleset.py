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
