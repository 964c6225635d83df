"""DQDL ruleset files with a severity per rule.

A ruleset file is DQDL (the rule language of AWS Glue Data Quality) with line
comments. A rule is ``blocking`` unless the comment line just before it is
``# warn``; any other ``#`` line is documentation. The DQDL handed to the engine
has the comments removed, so the same rules run in Glue Data Quality unchanged.

Lists that restate the event canon are never typed by hand: ``{{ canon.<list> }}`` stands
for a DQDL list generated from the contract registry when the ruleset is loaded, so adding
a contract file is all a new event needs. The lists:

- ``{{ canon.families }}``: every family;
- ``{{ canon.channels }}``: every channel the families arrive on;
- ``{{ canon.event_names(<family>) }}``: every event name of a family;
- ``{{ canon.enum(<family>, <field.path>) }}``: every value the family's contracts allow
  in a payload field (the union of its ``enum``).

Example (``jobs/bronze_to_silver/rulesets/events.dqdl``)::

    Rules = [
        IsComplete "event_id",
        IsUnique "event_id",
        # warn
        ColumnValues "family" in {{ canon.families }}
    ]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakehouse.contracts import ContractRegistry

SEVERITIES = ("blocking", "warn")
_WARN_MARKER = re.compile(r"^#\s*warn\b", re.IGNORECASE)


class RulesetSyntaxError(ValueError):
    """A ruleset file that is not ``Rules = [ ... ]`` with balanced quotes and brackets."""


@dataclass(frozen=True)
class Rule:
    text: str
    severity: str = "blocking"


@dataclass(frozen=True)
class Ruleset:
    name: str
    rules: tuple[Rule, ...]

    def to_dqdl(self) -> str:
        """The ruleset as plain DQDL, comments removed."""
        return "Rules = [\n    " + ",\n    ".join(r.text for r in self.rules) + "\n]"


def _split_top_level(body: str) -> list[tuple[str, int]]:
    """Split on commas outside quotes, brackets and braces; returns (text, start offset)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(body):
        if quote:
            if ch == "\\":
                continue
            if ch == quote and (i == 0 or body[i - 1] != "\\"):
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
            if depth < 0:
                raise RulesetSyntaxError("unbalanced closing bracket")
        elif ch == "," and depth == 0:
            parts.append((body[start:i], start))
            start = i + 1
    if quote or depth:
        raise RulesetSyntaxError("unbalanced quote or bracket")
    parts.append((body[start:], start))
    return parts


_CANON_LIST = re.compile(r"\{\{\s*canon\.(?P<list>[a-z_]+)\s*(?:\((?P<args>[^)]*)\))?\s*\}\}")
_CANON_ARITY = {"families": 0, "channels": 0, "event_names": 1, "enum": 2}


def _canon_list(match: re.Match, canon: ContractRegistry | None, name: str) -> str:
    from lakehouse.contracts import ContractError

    placeholder, kind = match.group(0), match["list"]
    args = [a.strip() for a in (match["args"] or "").split(",") if a.strip()]
    if kind not in _CANON_ARITY or len(args) != _CANON_ARITY[kind]:
        known = "canon.families, canon.channels, canon.event_names(family), canon.enum(family, field)"
        raise RulesetSyntaxError(f"{name}: {placeholder} is not one of {known}")
    if canon is None:
        raise RulesetSyntaxError(f"{name}: {placeholder} is generated from the canon: pass canon=")
    if args and args[0] not in canon.families:
        raise RulesetSyntaxError(
            f"{name}: {placeholder}: unknown family {args[0]!r} (families: {', '.join(canon.families)})"
        )
    try:
        if kind == "families":
            values = canon.families
        elif kind == "channels":
            values = canon.channels
        elif kind == "event_names":
            values = canon.event_names(args[0])
        else:
            values = canon.enum_values(args[0], args[1])
    except (KeyError, ContractError) as exc:
        raise RulesetSyntaxError(f"{name}: {placeholder}: {exc}") from None
    if not values:
        raise RulesetSyntaxError(f"{name}: {placeholder}: the canon has no such values")
    return json.dumps(list(values), ensure_ascii=False)


def parse_ruleset(text: str, name: str = "ruleset", *, canon: ContractRegistry | None = None) -> Ruleset:
    """Parse ruleset text into rules with severities; ``{{ canon.* }}`` lists come from ``canon``."""
    kept_lines, warn_lines = [], set()
    pending_warn = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            pending_warn = pending_warn or bool(_WARN_MARKER.match(stripped))
            continue
        line = _CANON_LIST.sub(lambda m: _canon_list(m, canon, name), line)
        if stripped and pending_warn:
            warn_lines.add(len(kept_lines))
            pending_warn = False
        kept_lines.append(line)
    cleaned = "\n".join(kept_lines)
    match = re.fullmatch(r"\s*Rules\s*=\s*\[(.*)\]\s*", cleaned, re.DOTALL)
    if not match:
        raise RulesetSyntaxError(f"{name}: expected 'Rules = [ ... ]'")
    body, body_offset = match.group(1), match.start(1)
    line_starts = [0]
    for line in kept_lines:
        line_starts.append(line_starts[-1] + len(line) + 1)
    rules = []
    for part, offset in _split_top_level(body):
        rule_text = " ".join(part.split())
        if not rule_text:
            continue
        first_char = body_offset + offset + (len(part) - len(part.lstrip()))
        line_no = max(i for i, s in enumerate(line_starts) if s <= first_char)
        rules.append(Rule(rule_text, "warn" if line_no in warn_lines else "blocking"))
    if not rules:
        raise RulesetSyntaxError(f"{name}: no rules")
    return Ruleset(name=name, rules=tuple(rules))


def load_ruleset(path: str | Path, *, canon: ContractRegistry | None = None) -> Ruleset:
    """Read a ``.dqdl`` file; the ruleset is named after the file.

    :param canon: the contract registry the run uses (its ``contracts_path``), which the
        ``{{ canon.* }}`` lists are generated from; required when the file has any.
    """
    path = Path(path)
    return parse_ruleset(path.read_text(encoding="utf-8"), name=path.stem, canon=canon)
