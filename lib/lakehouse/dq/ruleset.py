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

Rules that many tables share are written once and included by name: a line that is only
``{{ rules.<name> }}`` (with its comma) stands for the rules of the shared ruleset
``jobs/_shared/rules/<name>.dqdl``, severities included, in their order. ``{{ rules.no_pii }}``
is generated from the PII patterns of :mod:`lakehouse.privacy` (one home for them).

Example (``jobs/bronze_to_silver/rulesets/stg_lbg_events.dqdl``)::

    Rules = [
        IsComplete "event_id",
        IsUnique "event_id",
        ColumnValues "event_name" in {{ canon.event_names(lbg) }},
        {{ rules.event_time }},
        IsComplete "lbg_id",
        {{ rules.no_pii }}
    ]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.assets import asset_dir

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


_SHARED_RULES = re.compile(r"^\s*\{\{\s*rules\.(?P<name>[a-z0-9_]+)\s*\}\}\s*(?P<comma>,?)\s*$")
_SHARED_PLACEHOLDER = re.compile(r"\{\{\s*rules\.")


def shared_rules_dir() -> Path:
    """Where the shared rulesets live (``jobs/_shared/rules``)."""
    return asset_dir("jobs") / "_shared" / "rules"


@cache
def _shared_body(name: str) -> tuple[str, ...]:
    """The lines inside ``Rules = [ ... ]`` of a shared ruleset, comments included."""
    if name == "no_pii":
        from lakehouse.privacy import NO_PII_RULE

        return (NO_PII_RULE,)
    path = shared_rules_dir() / f"{name}.dqdl"
    if not path.is_file():
        known = sorted(["no_pii", *(p.stem for p in shared_rules_dir().glob("*.dqdl"))])
        raise RulesetSyntaxError(
            f"{{{{ rules.{name} }}}}: no shared ruleset {path} (known: {', '.join(known)})"
        )
    text = path.read_text(encoding="utf-8")
    match = re.fullmatch(r"(?:\s*#[^\n]*\n)*\s*Rules\s*=\s*\[(.*)\]\s*", text, re.DOTALL)
    if not match:
        raise RulesetSyntaxError(f"{path.name}: expected 'Rules = [ ... ]'")
    lines = tuple(line for line in match.group(1).splitlines() if line.strip())
    if any(_SHARED_PLACEHOLDER.search(line) for line in lines):
        raise RulesetSyntaxError(f"{path.name}: a shared ruleset includes no other")
    return lines


def _include_shared(text: str, name: str) -> list[str]:
    """The ruleset's lines with each ``{{ rules.<name> }}`` line replaced by that shared body."""
    lines: list[str] = []
    for line in text.splitlines():
        match = _SHARED_RULES.match(line)
        if not match:
            if _SHARED_PLACEHOLDER.search(line):
                raise RulesetSyntaxError(
                    f"{name}: {{{{ rules.* }}}} must stand alone on its line: {line.strip()}"
                )
            lines.append(line)
            continue
        previous = next((prior.strip() for prior in reversed(lines) if prior.strip()), "")
        if _WARN_MARKER.match(previous):
            raise RulesetSyntaxError(
                f"{name}: # warn before {{{{ rules.{match['name']} }}}}: "
                "the shared ruleset sets its severities"
            )
        body = list(_shared_body(match["name"]))
        last = max(i for i, b in enumerate(body) if not b.strip().startswith("#"))
        body[last] = body[last].rstrip().rstrip(",") + match["comma"]
        lines.extend(body)
    return lines


def parse_ruleset(text: str, name: str = "ruleset", *, canon: ContractRegistry | None = None) -> Ruleset:
    """Parse ruleset text into rules with severities; ``{{ rules.* }}`` lines include the
    shared rulesets, ``{{ canon.* }}`` lists come from ``canon``."""
    kept_lines, warn_lines = [], set()
    pending_warn = False
    for line in _include_shared(text, name):
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
