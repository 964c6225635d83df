"""The contract lock: ``contracts/lock.json`` holds the content hash of every published version.

A published contract version is immutable, as in a schema registry: Silver's history was
typed and validated with it, so an edit in place (a new required field, a changed type, a
tightened pattern) would silently re-type history and quarantine what used to pass. A change
is a new version with an ``x-upcast-from``.

The rule: the hash covers the schema without its documentation (``title``, ``description``,
``$comment``, ``examples``) in canonical JSON (sorted keys, no whitespace). Rewording a
description or reformatting a file is allowed; every other edit is refused, additive
optional fields included: contracts allow additional properties, so a field added to a
published version with a type or constraints can reject records that passed it before.

``lakehouse contracts lock`` publishes the versions not yet locked (after the registry has
loaded them); ``lakehouse contracts check`` (and a test in ``make test``) fails on an edited
or removed locked version and on a version not locked yet.

Example::

    problems = check_lock(asset_dir("contracts"))  # [] when every version is locked and unchanged
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.contracts.schema import ContractError

LOCK_FILE = "lock.json"
DOCUMENTATION_KEYWORDS = frozenset({"title", "description", "$comment", "examples"})
# Keywords whose value maps property names to schemas (the names are not keywords).
NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
# Keywords whose value is data, hashed verbatim.
DATA_KEYWORDS = frozenset({"enum", "const", "default", "x-event", "x-upcast-from"})
HASH_RULE = "sha256 of the schema in canonical JSON (sorted keys, no whitespace) without " + ", ".join(
    sorted(DOCUMENTATION_KEYWORDS)
)
_FILE_RE = re.compile(r"^(?P<name>[a-z][a-z0-9_.]*)\.v(?P<version>[1-9][0-9]*)\.json$")


class ContractLockError(ContractError):
    """Locked contract versions were edited or removed; nothing was locked."""


def _semantic(node: Any, *, names: bool = False) -> Any:
    if isinstance(node, list):
        return [_semantic(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {name: _semantic(schema) for name, schema in node.items()}
    kept = {}
    for key, value in node.items():
        if key in DOCUMENTATION_KEYWORDS:
            continue
        if key in DATA_KEYWORDS:
            kept[key] = value
        else:
            kept[key] = _semantic(value, names=key in NAME_MAPS)
    return kept


def content_hash(schema: dict) -> str:
    """``sha256:<hex>`` of what a contract version means (its documentation left out)."""
    canonical = json.dumps(_semantic(schema), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LockState:
    """The contract files under a root against its lock."""

    root: Path
    locked: dict[str, str]
    current: dict[str, str]
    edited: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unlocked: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per problem, saying what to do."""
        lock = f"{self.root.name}/{LOCK_FILE}"
        lines = [_edited_message(rel, self.current, lock) for rel in self.edited]
        lines += [
            f"{rel}: published contract version removed; restore it (Silver's history was typed with it)"
            for rel in self.removed
        ]
        lines += [
            f"{rel}: not published yet; run `lakehouse contracts lock` to add it to {lock}"
            for rel in self.unlocked
        ]
        return lines


def _edited_message(rel: str, current: dict[str, str], lock: str) -> str:
    folder, _, file_name = rel.rpartition("/")
    match = _FILE_RE.match(file_name)
    if not match:
        return f"{rel}: locked in {lock} but edited in place; restore it"
    name, version = match["name"], int(match["version"])
    versions = [
        int(m["version"])
        for other in current
        if other.startswith(f"{folder}/")
        and (m := _FILE_RE.match(other.rpartition("/")[2]))
        and m["name"] == name
    ]
    latest = max(versions, default=version)
    return (
        f"{rel}: published contract version {name} v{version} was edited in place (its content hash "
        f"is locked in {lock}); restore it and add {folder}/{name}.v{latest + 1}.json with "
        f'"x-upcast-from": {{"version": {latest}}} instead'
    )


def read_lock(root: Path) -> dict[str, str]:
    """The locked hashes by ``<family>/<file>``; empty when there is no lock file."""
    path = root / LOCK_FILE
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        versions = doc["versions"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ContractError(f"{path}: not a contract lock ({exc})") from None
    return dict(versions)


def lock_state(root: str | Path | None = None) -> LockState:
    """Compare the contract files under ``root`` (default: the shipped canon) with its lock."""
    root = _root(root)
    current = {}
    for path in sorted(root.glob("*/*.json")):
        rel = path.relative_to(root).as_posix()
        try:
            current[rel] = content_hash(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ContractError(f"{rel}: not JSON: {exc}") from None
    locked = read_lock(root)
    return LockState(
        root=root,
        locked=locked,
        current=current,
        edited=[rel for rel, digest in locked.items() if rel in current and current[rel] != digest],
        removed=[rel for rel in locked if rel not in current],
        unlocked=[rel for rel in current if rel not in locked],
    )


def check_lock(root: str | Path | None = None) -> list[str]:
    """Problems of the contracts under ``root`` against their lock; [] when all is published and intact."""
    return lock_state(root).problems()


def write_lock(root: str | Path | None = None) -> list[str]:
    """Lock the versions not locked yet; returns them. Refuses (nothing written) when a locked
    version was edited or removed, or when the registry does not load.

    :raises ContractLockError: with one line per edited or removed version.
    """
    from lakehouse.contracts.registry import ContractRegistry

    root = _root(root)
    state = lock_state(root)
    refused = [line for line in state.problems() if "not published yet" not in line]
    if refused:
        raise ContractLockError("\n".join(refused))
    ContractRegistry.load(str(root))  # never publish a contract the registry rejects
    if not state.unlocked:
        return []
    doc = {
        "about": "Content hashes of the published contract versions: a locked version never changes; "
        "add a version with x-upcast-from instead. `lakehouse contracts lock` adds new versions.",
        "hash": HASH_RULE,
        "versions": dict(sorted({**state.locked, **{r: state.current[r] for r in state.unlocked}}.items())),
    }
    (root / LOCK_FILE).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return state.unlocked


def _root(root: str | Path | None) -> Path:
    if root is None:
        from lakehouse.assets import asset_dir

        return asset_dir("contracts")
    return Path(root)
