"""Data quality: DQDL rulesets evaluated by Deequ, persisted per run, enforced by severity."""

from lakehouse.dq.engine import (
    DataQualityFailure,
    DqConfigurationError,
    DqContext,
    RuleOutcome,
    enforce,
    evaluate,
    persist_outcomes,
    row_level_outcomes,
)
from lakehouse.dq.ruleset import Rule, Ruleset, load_ruleset, parse_ruleset

__all__ = [
    "DataQualityFailure",
    "DqConfigurationError",
    "DqContext",
    "Rule",
    "RuleOutcome",
    "Ruleset",
    "enforce",
    "evaluate",
    "load_ruleset",
    "parse_ruleset",
    "persist_outcomes",
    "row_level_outcomes",
]
