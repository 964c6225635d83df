"""Mart specs: one YAML file per downstream table, beside its DQDL ruleset.

A spec is the single source of what a mart is: grain, keys, every column with its type
and description, partitioning, how it is published, which inputs it reads and the
offsets of what it reads around each of its dates. The same offsets drive what a
change in an input touches (:mod:`lakehouse.marts.dates`), so a mart states its
dependency rule once.

Example (``jobs/silver_to_gold/marts/mart_active_users_daily.yaml``)::

    name: mart_active_users_daily
    description: Active persons per day and platform, exact distinct counts.
    grain: one row per date x platform
    keys: [date, platform]
    date_column: date
    partitioned_by: [date]
    publish: replace_dates
    build: lakehouse.gold.activity:active_users_daily
    inputs:
      - table: gold.fct_user_day_activity
        dates: [date]
        offsets: [1 - mau_window_days, 0]   # date d reads user-days d-27 .. d
    incremental: a change of user-day e rebuilds e .. e+27
    columns:
      - {name: date, type: date, description: UTC date.}
      ...

    spec = load_spec(path, params={"mau_window_days": 28})
    spec.inputs[0].offsets       # (-27, 0)
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PUBLISH_MODES = ("replace_dates", "merge", "overwrite")
DATE_GRAINS = ("day", "week")
LAYERS = ("silver", "gold", "_system", "quarantine")


class MartDefinitionError(ValueError):
    """A spec (or what a build returned) contradicts itself: fix the mart, not the data."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str  # Spark SQL type as ``DataType.simpleString()`` spells it: bigint, date, decimal(38,0)
    description: str


@dataclass(frozen=True)
class InputSpec:
    """One input of a mart and how its changes map onto the mart's dates.

    ``dates`` are SQL expressions over the input's rows; each gives a date that a changed
    row touches (``event_date``, ``to_date(mail.timestamp)``). ``date_range`` is a pair of
    expressions: a changed row touches every date between them. ``offsets`` (lo, hi): the
    mart's date d reads input dates d+lo .. d+hi, so a change on input date x touches mart
    dates x-hi .. x-lo. ``read_column`` is the input column a build's window read filters
    on (default: the first of ``dates`` when it is a plain column). An input with neither
    ``dates`` nor ``date_range`` rebuilds the whole mart when it changes (date marts) or
    hands its changed rows to the build (merge marts). ``trigger: false`` reads the input
    without letting its changes start a rebuild. ``audited: false`` reads the latest
    version instead of the audit watermark (operational tables under ``_system``).
    ``changed_when`` (columns of an upstream mart) narrows its changes to the rows whose
    key was added or removed or whose values of those columns differ between the old and
    the new image: a stitched anon whose mapping stayed the same touches no date.
    """

    table: str
    dates: tuple[str, ...] = ()
    date_range: tuple[str, str] | None = None
    offsets: tuple[int, int] = (0, 0)
    read_column: str | None = None
    trigger: bool = True
    audited: bool = True
    changed_when: tuple[str, ...] = ()

    @property
    def layer(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def view_name(self) -> str:
        """Temp-view name of the input in reconciliation SQL (``silver.events`` -> ``silver_events``)."""
        return self.table.replace(".", "_").lstrip("_")

    @property
    def has_dates(self) -> bool:
        return bool(self.dates) or self.date_range is not None


@dataclass(frozen=True)
class ReconciliationSpec:
    """An exact check: ``actual`` and ``expected`` SQL each return ``keys`` plus an integral
    ``value``; every key whose values differ (a missing side counts as 0) is a mismatch."""

    name: str
    keys: tuple[str, ...]
    actual: str
    expected: str
    severity: str = "blocking"
    description: str = ""


@dataclass(frozen=True)
class MartSpec:
    name: str
    description: str
    grain: str
    keys: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    publish: str
    build: str | Callable  # "package.module:function" (or the function itself)
    inputs: tuple[InputSpec, ...] = ()
    layer: str = "gold"
    date_column: str | None = None
    date_grain: str = "day"
    partitioned_by: tuple[str, ...] = ()
    # (input table, date column) bounding the mart's dates, or several such pairs (their union)
    horizon: tuple[str, str] | tuple[tuple[str, str], ...] | None = None
    incremental: str = ""
    reconciliations: tuple[ReconciliationSpec, ...] = ()
    ruleset: Path | None = None
    version: int = 1  # bump when the build logic changes: the mart is then rebuilt in full
    source: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # mart-specific settings (funnel steps, SLOs)

    @property
    def table_name(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def horizon_sources(self) -> list[tuple[str, str]]:
        """The (input table, date column) pairs whose dates bound the mart's dates."""
        if self.horizon is None:
            return []
        if isinstance(self.horizon[0], str):
            return [self.horizon]  # type: ignore[list-item]
        return list(self.horizon)  # type: ignore[arg-type]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def input(self, table: str) -> InputSpec:
        for i in self.inputs:
            if i.table == table:
                return i
        raise KeyError(f"{self.name} has no input {table}")

    @property
    def fingerprint(self) -> str:
        """Hash of what defines the mart's rows (columns, inputs, offsets, version)."""
        payload = {
            "columns": [(c.name, c.type) for c in self.columns],
            "keys": self.keys,
            "inputs": [(i.table, i.dates, i.date_range, i.offsets) for i in self.inputs],
            "date_column": self.date_column,
            "publish": self.publish,
            "version": self.version,
            "build": self.build if isinstance(self.build, str) else self.build.__qualname__,
            "extra": self.extra,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def build_function(self) -> Callable:
        if callable(self.build):
            return self.build
        module, _, function = self.build.partition(":")
        try:
            return getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError) as exc:
            raise MartDefinitionError(f"{self.name}: build {self.build!r} not found ({exc})") from None

    def upstream_marts(self) -> list[str]:
        """Names of the marts of this mart's layer that it reads."""
        return [i.table.split(".", 1)[1] for i in self.inputs if i.layer == self.layer]


# ------------------------------------------------------------------------------------------- loading

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def _int_expression(value: Any, params: Mapping[str, int], where: str) -> int:
    """An offset: an int, or an expression of ints, params, + - * (``1 - mau_window_days``)."""
    if isinstance(value, bool):
        raise MartDefinitionError(f"{where}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in params:
                raise MartDefinitionError(f"{where}: unknown parameter {node.id!r} in {value!r}")
            return int(params[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        raise MartDefinitionError(f"{where}: {value!r} is not an integer expression")

    try:
        tree = ast.parse(str(value), mode="eval")
    except SyntaxError:
        raise MartDefinitionError(f"{where}: {value!r} is not an integer expression") from None
    return walk(tree.body)


def _input(raw: Mapping, params: Mapping[str, int], where: str) -> InputSpec:
    table = str(raw["table"])
    layer = table.split(".", 1)[0]
    if "." not in table or layer not in LAYERS:
        raise MartDefinitionError(f"{where}: input table must be <layer>.<table> with a layer of {LAYERS}")
    offsets = tuple(_int_expression(v, params, f"{where} offsets") for v in raw.get("offsets", (0, 0)))
    if len(offsets) != 2 or offsets[0] > offsets[1]:
        raise MartDefinitionError(f"{where}: offsets must be [lo, hi] with lo <= hi, got {offsets}")
    dates = tuple(str(d) for d in raw.get("dates", ()))
    date_range = tuple(str(d) for d in raw["date_range"]) if raw.get("date_range") else None
    if date_range is not None and len(date_range) != 2:
        raise MartDefinitionError(f"{where}: date_range must be [from, to]")
    changed_when = tuple(str(c) for c in raw.get("changed_when", ()))
    if changed_when and layer != "gold":
        raise MartDefinitionError(f"{where}: changed_when applies to an upstream mart (a gold input)")
    read_column = raw.get("read_column")
    if read_column is None and dates and dates[0].isidentifier():
        read_column = dates[0]
    return InputSpec(
        table=table,
        dates=dates,
        date_range=date_range,  # type: ignore[arg-type]
        offsets=offsets,  # type: ignore[arg-type]
        read_column=read_column,
        trigger=bool(raw.get("trigger", True)),
        audited=bool(raw.get("audited", layer in ("silver", "gold"))),
        changed_when=changed_when,
    )


def parse_spec(
    raw: Mapping, *, source: Path | None = None, params: Mapping[str, int] | None = None
) -> MartSpec:
    """Build a :class:`MartSpec` from a parsed YAML mapping; :class:`MartDefinitionError` if it
    contradicts itself."""
    params = params or {}
    name = str(raw.get("name") or (source.stem if source else ""))
    where = f"mart {name}"
    missing = [k for k in ("description", "grain", "keys", "columns", "publish", "build") if k not in raw]
    if missing:
        raise MartDefinitionError(f"{where}: missing {', '.join(missing)}")
    columns = tuple(
        ColumnSpec(
            str(c["name"]), str(c["type"]).replace(" ", "").lower(), str(c.get("description", "")).strip()
        )
        for c in raw["columns"]
    )
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise MartDefinitionError(f"{where}: duplicate column names")
    undocumented = [c.name for c in columns if not c.description]
    if undocumented:
        raise MartDefinitionError(f"{where}: columns without a description: {', '.join(undocumented)}")
    keys = tuple(str(k) for k in raw["keys"])
    partitioned_by = tuple(str(p) for p in raw.get("partitioned_by", ()))
    date_column = raw.get("date_column")
    for label, cols in (("keys", keys), ("partitioned_by", partitioned_by), ("date_column", [date_column])):
        unknown = [c for c in cols if c is not None and c not in names]
        if unknown:
            raise MartDefinitionError(f"{where}: {label} names unknown columns {unknown}")
    publish = str(raw["publish"])
    if publish not in PUBLISH_MODES:
        raise MartDefinitionError(f"{where}: publish must be one of {PUBLISH_MODES}, got {publish!r}")
    if publish == "replace_dates" and not date_column:
        raise MartDefinitionError(f"{where}: publish replace_dates needs a date_column")
    if publish == "merge" and not keys:
        raise MartDefinitionError(f"{where}: publish merge needs keys")
    date_grain = str(raw.get("date_grain", "day"))
    if date_grain not in DATE_GRAINS:
        raise MartDefinitionError(f"{where}: date_grain must be one of {DATE_GRAINS}")
    inputs = tuple(_input(i, params, f"{where} input {i.get('table')}") for i in raw.get("inputs", ()))
    reconciliations = tuple(
        ReconciliationSpec(
            name=str(r["name"]),
            keys=tuple(r.get("keys", ())),
            actual=str(r["actual"]).strip(),
            expected=str(r["expected"]).strip(),
            severity=str(r.get("severity", "blocking")),
            description=str(r.get("description", "")).strip(),
        )
        for r in raw.get("reconciliations", ())
    )
    bad = [r.name for r in reconciliations if r.severity not in ("blocking", "warn")]
    if bad:
        raise MartDefinitionError(f"{where}: reconciliation severity must be blocking or warn: {bad}")
    horizon = None
    if raw.get("horizon"):
        nested = not isinstance(raw["horizon"][0], str)
        horizon = tuple(tuple(h) for h in raw["horizon"]) if nested else tuple(raw["horizon"])
    if horizon is None and date_column and inputs and inputs[0].read_column:
        horizon = (inputs[0].table, inputs[0].read_column)
    ruleset = None
    if raw.get("ruleset"):
        ruleset = (source.parent if source else Path(".")) / str(raw["ruleset"])
    elif source is not None and source.with_suffix(".dqdl").is_file():
        ruleset = source.with_suffix(".dqdl")
    return MartSpec(
        name=name,
        description=str(raw["description"]).strip(),
        grain=str(raw["grain"]).strip(),
        keys=keys,
        columns=columns,
        publish=publish,
        build=raw["build"] if callable(raw["build"]) else str(raw["build"]),
        inputs=inputs,
        layer=str(raw.get("layer", "gold")),
        date_column=date_column,
        date_grain=date_grain,
        partitioned_by=partitioned_by,
        horizon=horizon,  # type: ignore[arg-type]
        incremental=str(raw.get("incremental", "")).strip(),
        reconciliations=reconciliations,
        ruleset=ruleset,
        version=int(raw.get("version", 1)),
        source=source,
        extra=dict(raw.get("extra", {}) or {}),
    )


def load_spec(path: Path, params: Mapping[str, int] | None = None) -> MartSpec:
    """Load one mart spec file."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return parse_spec(raw, source=Path(path), params=params)


def load_specs(folder: Path, params: Mapping[str, int] | None = None) -> list[MartSpec]:
    """Every ``*.yaml`` spec of a folder, in dependency order (a mart after the marts it reads)."""
    specs = [load_spec(p, params) for p in sorted(Path(folder).glob("*.yaml"))]
    return order_by_dependencies(specs)


def order_by_dependencies(specs: list[MartSpec]) -> list[MartSpec]:
    """Topological order (stable by name); a cycle is a :class:`MartDefinitionError`."""
    by_name = {s.name: s for s in specs}
    ordered: list[MartSpec] = []
    state: dict[str, str] = {}

    def visit(spec: MartSpec, path: tuple[str, ...]) -> None:
        if state.get(spec.name) == "done":
            return
        if state.get(spec.name) == "visiting":
            raise MartDefinitionError(f"mart dependency cycle: {' -> '.join((*path, spec.name))}")
        state[spec.name] = "visiting"
        for upstream in spec.upstream_marts():
            if upstream in by_name:
                visit(by_name[upstream], (*path, spec.name))
        state[spec.name] = "done"
        ordered.append(spec)

    for spec in sorted(specs, key=lambda s: s.name):
        visit(spec, ())
    return ordered
