"""The contract registry: every ``contracts/<family>/<event_name>.v<N>.json`` file, loaded and checked.

Adding an event (or a version of one) means adding a file; no code changes. The
custom keywords are documented in ``contracts/README.md``.

Example::

    registry = ContractRegistry.load()
    registry.families                       # ('client', 'esign', 'lbg', ...)
    registry.latest_version("page_viewed")  # 2
    registry.get("page_viewed", 1).upcast_path  # how v1 reaches v2
    registry.family_struct("client")        # Spark StructType of the typed family table's payload
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pyspark.sql import types as T

from lakehouse.contracts.schema import (
    ContractError,
    Node,
    canonical_type,
    json_default,
    merge_types,
    parse_node,
    parse_type,
    presence_type,
)

log = logging.getLogger(__name__)

CHANNELS = ("collect", "eventbridge", "webhooks/stripe", "webhooks/tax", "webhooks/esign", "webhooks/ses")
ENVELOPE_KEYS = ("user_id", "anon_id", "session_id", "lbg_id", "leg_id")
_FILE_RE = re.compile(r"^(?P<name>[a-z][a-z0-9_.]*)\.v(?P<version>[1-9][0-9]*)\.json$")
_FAMILY_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# The collect channel's envelope context, carried into the canonical payload of collect families.
COLLECT_CONTEXT_TYPE = T.StructType(
    [
        T.StructField("app", T.StringType()),
        T.StructField("locale", T.StringType()),
        T.StructField("user_agent", T.StringType()),
    ]
)


@dataclass(frozen=True)
class Contract:
    """One (event name, version) contract: the payload schema plus its x- metadata."""

    name: str
    version: int
    family: str
    channel: str
    path: str
    schema: dict = field(repr=False, compare=False)
    root: Node = field(repr=False, compare=False)
    envelope_required: tuple[str, ...] = ()
    upcast_from: int | None = None
    rename: dict = field(default_factory=dict, repr=False, compare=False)
    defaults: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, int]:
        """``(event_name, version)``."""
        return (self.name, self.version)

    @property
    def key_string(self) -> str:
        """``<event_name>:v<version>``, the dispatch key used in Spark expressions."""
        return f"{self.name}:v{self.version}"

    @property
    def properties(self) -> dict[str, Node]:
        """Top-level payload properties by name."""
        return {c.name: c for c in self.root.children}


class ContractRegistry:
    """All contracts, indexed by (event name, version), with per-family Spark types.

    Example::

        registry = ContractRegistry.load("contracts")
        registry.lookup("ses.bounce", 1).family   # 'ses'
    """

    def __init__(self, contracts: list[Contract]):
        self._by_key: dict[tuple[str, int], Contract] = {}
        for c in contracts:
            if c.key in self._by_key:
                raise ContractError(f"{c.path}: duplicate contract {c.key} (also {self._by_key[c.key].path})")
            self._by_key[c.key] = c
        self._check()

    # ----------------------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: str | None = None) -> ContractRegistry:
        """Load every ``<family>/<event_name>.v<N>.json`` under ``path`` (default: the contracts assets).

        :raises ContractError: for a malformed file, a name/family mismatch, a broken upcast chain
            or a field typed two ways within a family.
        """
        if path is None:
            from lakehouse.assets import asset_dir

            root = asset_dir("contracts")
        else:
            root = Path(path)
        contracts = [cls._load_file(p, root) for p in sorted(root.glob("*/*.json"))]
        if not contracts:
            raise ContractError(f"no contracts found under {root}")
        registry = cls(contracts)
        log.info("loaded %d contracts in %d families from %s", len(contracts), len(registry.families), root)
        return registry

    @staticmethod
    def _load_file(path: Path, root: Path) -> Contract:
        rel = str(path.relative_to(root))
        match = _FILE_RE.match(path.name)
        if not match:
            raise ContractError(f"{rel}: file name must be <event_name>.v<N>.json")
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ContractError(f"{rel}: not JSON: {exc}") from exc
        meta = schema.get("x-event")
        if not isinstance(meta, dict):
            raise ContractError(f"{rel}: missing x-event {{name, version, family, channel}}")
        name, version, family, channel = (meta.get(k) for k in ("name", "version", "family", "channel"))
        if name != match["name"] or version != int(match["version"]):
            raise ContractError(
                f"{rel}: x-event name/version ({name}, {version}) disagree with the file name"
            )
        if family != path.parent.name or not _FAMILY_RE.match(str(family)):
            raise ContractError(f"{rel}: x-event family {family!r} must be the folder name")
        if channel not in CHANNELS:
            raise ContractError(f"{rel}: x-event channel must be one of {CHANNELS}")
        envelope_required = tuple(meta.get("envelope_required", ()))
        if not set(envelope_required) <= set(ENVELOPE_KEYS):
            raise ContractError(f"{rel}: envelope_required may only name {ENVELOPE_KEYS}")
        if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
            raise ContractError(f"{rel}: the payload schema must be an object with properties")
        root_node = parse_node("payload", schema)
        upcast = schema.get("x-upcast-from")
        upcast_from, rename, defaults = None, {}, {}
        if upcast is not None:
            if not isinstance(upcast, dict) or not isinstance(upcast.get("version"), int):
                raise ContractError(f"{rel}: x-upcast-from needs an integer 'version'")
            upcast_from = upcast["version"]
            rename = dict(upcast.get("rename", {}))
            defaults = {k: json_default(v) for k, v in upcast.get("defaults", {}).items()}
            if upcast_from >= version:
                raise ContractError(f"{rel}: x-upcast-from.version must be lower than {version}")
        return Contract(
            name=name,
            version=version,
            family=family,
            channel=channel,
            path=rel,
            schema=schema,
            root=root_node,
            envelope_required=envelope_required,
            upcast_from=upcast_from,
            rename=rename,
            defaults=defaults,
        )

    def _check(self) -> None:
        channels: dict[str, str] = {}
        for c in self._by_key.values():
            if channels.setdefault(c.family, c.channel) != c.channel:
                raise ContractError(
                    f"{c.path}: family {c.family} mixes channels {channels[c.family]} and {c.channel}"
                )
            if c.channel == "collect" and "context" in c.properties:
                raise ContractError(f"{c.path}: 'context' is reserved in collect payloads (envelope context)")
        for c in self._by_key.values():
            latest = self.get(c.name, self.latest_version(c.name))
            if latest.family != c.family:
                raise ContractError(f"{c.path}: all versions of {c.name} must be in one family")
            self.field_sources(c)  # raises when the chain to latest is broken
        for family in self.families:
            self.family_parse_type(family)  # raises on a field with two types
            self.family_struct(family)

    # ----------------------------------------------------------------------------- lookups
    @property
    def contracts(self) -> tuple[Contract, ...]:
        """Every contract, sorted by (name, version)."""
        return tuple(self._by_key[k] for k in sorted(self._by_key))

    @cached_property
    def families(self) -> tuple[str, ...]:
        """Family names, sorted."""
        return tuple(sorted({c.family for c in self._by_key.values()}))

    @cached_property
    def channels(self) -> tuple[str, ...]:
        """The channels the canon's families arrive on, in :data:`CHANNELS` order."""
        used = {c.channel for c in self._by_key.values()}
        return tuple(ch for ch in CHANNELS if ch in used)

    def enum_values(self, family: str, field_path: str) -> tuple[Any, ...]:
        """Every value the canon allows in a payload field of a family: the union of the field's
        ``enum`` over every version of every event of the family that has the field, first seen first.

        ``field_path`` is dotted (``bounce.bounceType``); arrays are walked through to their items.

        :raises ContractError: when a version has the field without an ``enum`` (any value passes
            there, so no list of values holds), or no contract of the family has the field.

        Example::

            registry.enum_values("support", "category")  # ('billing', 'service', 'safety', 'other')
        """
        values: list[Any] = []
        for c in self.contracts_of(family):
            node: Node | None = c.root
            for part in field_path.split("."):
                node = next((child for child in node.children if child.name == part), None)
                while node is not None and node.items is not None:
                    node = node.items
                if node is None:
                    break
            if node is None:
                continue
            if "enum" not in node.schema:
                raise ContractError(f"{c.path}: {field_path} has no enum, so any value is allowed")
            values += [v for v in node.schema["enum"] if v not in values]
        if not values:
            raise ContractError(f"no contract of family {family!r} has an enum field {field_path!r}")
        return tuple(values)

    def family_channel(self, family: str) -> str:
        """The channel all events of a family arrive on."""
        return self.contracts_of(family)[0].channel

    def contracts_of(self, family: str) -> tuple[Contract, ...]:
        """Every contract (all versions) of one family."""
        found = tuple(c for c in self.contracts if c.family == family)
        if not found:
            raise KeyError(f"unknown family {family!r}")
        return found

    def event_names(self, family: str | None = None) -> tuple[str, ...]:
        """Event names (of one family, or all), sorted."""
        return tuple(sorted({c.name for c in self.contracts if family is None or c.family == family}))

    @cached_property
    def latest_versions(self) -> dict[str, int]:
        """event name -> latest version."""
        latest: dict[str, int] = {}
        for name, version in self._by_key:
            latest[name] = max(version, latest.get(name, 0))
        return latest

    def latest_version(self, event_name: str) -> int:
        """The latest version of one event; KeyError when the event is unknown."""
        return self.latest_versions[event_name]

    def lookup(self, event_name: str, version: int) -> Contract | None:
        """The contract of (event name, version), or None."""
        return self._by_key.get((event_name, version))

    def get(self, event_name: str, version: int) -> Contract:
        """The contract of (event name, version); KeyError when unknown."""
        try:
            return self._by_key[(event_name, version)]
        except KeyError:
            raise KeyError(f"no contract for {event_name} v{version}") from None

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)

    # ----------------------------------------------------------------------------- upcasting
    def field_sources(self, contract: Contract) -> dict[str, tuple[str | None, Any]]:
        """How each top-level latest-version field is obtained from a payload of ``contract``'s version.

        :returns: latest field name -> (field name in the received version, or None; default value).
        :raises ContractError: when no ``x-upcast-from`` chain leads from the version to the latest.

        Example::

            registry.field_sources(registry.get("page_viewed", 1))["page_url"]  # ('url', None)
        """
        latest = self.get(contract.name, self.latest_version(contract.name))
        sources: dict[str, tuple[str | None, Any]] = {}
        for field_name in latest.properties:
            name: str | None = field_name
            default: Any = None
            step = latest
            while step.version != contract.version:
                if step.upcast_from is None:
                    raise ContractError(
                        f"{contract.path}: {contract.name} v{contract.version} cannot reach "
                        f"v{latest.version}: "
                        f"v{step.version} declares no x-upcast-from"
                    )
                previous = self.lookup(step.name, step.upcast_from)
                if previous is None:
                    raise ContractError(
                        f"{step.path}: x-upcast-from names missing version {step.upcast_from}"
                    )
                if name is not None:
                    inverse = {new: old for old, new in step.rename.items()}
                    previous_name = inverse.get(name, name)
                    if previous_name in previous.properties:
                        name = previous_name
                    else:  # introduced by this step: its declared default (or null)
                        default, name = step.defaults.get(name), None
                step = previous
            if name is not None:
                got, want = parse_type(contract.properties[name]), parse_type(latest.properties[field_name])
                if got != want:
                    raise ContractError(
                        f"{contract.path}: {name} ({got.simpleString()}) cannot be upcast to "
                        f"{field_name} ({want.simpleString()})"
                    )
            sources[field_name] = (name, default)
        return sources

    # ----------------------------------------------------------------------------- Spark types
    def family_parse_type(self, family: str) -> T.StructType:
        """Union of the parse types of every version of every event in the family (what from_json reads)."""
        result: T.DataType = T.StructType([])
        for c in self.contracts_of(family):
            result = merge_types(result, parse_type(c.root), f"{family}:{c.key_string}")
        return result  # type: ignore[return-value]

    def family_presence_type(self, family: str) -> T.StructType:
        """Union of the presence types (string leaves) of every contract in the family."""
        result: T.DataType = T.StructType([])
        for c in self.contracts_of(family):
            result = merge_types(result, presence_type(c.root), f"{family}:{c.key_string}")
        return result  # type: ignore[return-value]

    def family_struct(self, family: str) -> T.StructType:
        """The canonical payload type of a family: union of the latest versions' canonical types.

        Collect families also carry ``context`` (app, locale, user_agent). This is the type
        ``project_family`` parses the canonical ``payload`` JSON with.
        """
        result: T.DataType = T.StructType([])
        for name in self.event_names(family):
            latest = self.get(name, self.latest_version(name))
            result = merge_types(result, canonical_type(latest.root), f"{family}:{latest.key_string}")
        if self.family_channel(family) == "collect":
            result = merge_types(
                result, T.StructType([T.StructField("context", COLLECT_CONTEXT_TYPE)]), family
            )
        return result  # type: ignore[return-value]

    def family_table_name(self, family: str) -> str:
        """Silver table of a family: ``stg_<family>_events``."""
        return f"stg_{family}_events"
