"""Metrics as data: ``metrics/<key>.yaml`` over the named facts of ``metrics/facts/<name>.yaml``.

A fact is the one home of a table, its row filter, its time column and what one fact is
(``entity``); a metric counts or sums a fact per unit over an attribution window after the
unit's first exposure.

Example (``metrics/refund_rate.yaml``)::

    key: refund_rate
    name: Refund rate
    kind: ratio                          # proportion | mean | ratio
    numerator: {fact: refunds, aggregate: count_distinct}
    denominator: {fact: bookings, aggregate: count_distinct}
    attribution_window_days: 28
    direction: decrease                  # the good direction
    guardrail: {margin: 0.10, margin_type: relative}

    catalog = load_metrics()
    catalog["refund_rate"].denominator.column    # 'lbg_id' (the fact's entity)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.assets import asset_dir
from lakehouse.experiments.documents import DefinitionError, check_stem, display_name, load_document


@dataclass(frozen=True)
class Fact:
    """Rows of one Silver/Gold table that metrics aggregate."""

    name: str
    description: str
    table: str
    where: str | None
    time: str
    entity: str
    currency: str | None


@dataclass(frozen=True)
class Measure:
    """``aggregate(column)`` over a fact's rows of one unit in its window."""

    fact: Fact
    aggregate: str  # count | count_distinct | sum
    column: str | None  # None for count


@dataclass(frozen=True)
class Capping:
    """Winsorize unit values at a pooled percentile or an absolute value (uncapped sums are kept)."""

    method: str  # percentile | absolute
    value: float
    ignore_zeros: bool = True


@dataclass(frozen=True)
class Guardrail:
    """Non-inferiority margin: the harm tolerated in the metric's bad direction."""

    margin: float
    margin_type: str  # relative | absolute


@dataclass(frozen=True)
class Metric:
    key: str
    name: str
    description: str
    kind: str  # proportion | mean | ratio
    numerator: Measure
    denominator: Measure | None
    per_currency: bool
    attribution_window_days: int
    capping: Capping | None
    direction: str  # increase | decrease
    guardrail: Guardrail | None

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "increase"


def _schema(name: str) -> Path:
    return asset_dir("metrics") / "schema" / f"{name}.schema.json"


def load_facts(folder: Path | None = None) -> dict[str, Fact]:
    """Every ``facts/<name>.yaml`` of the metrics folder, by name."""
    folder = Path(folder) if folder is not None else asset_dir("metrics") / "facts"
    facts = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = load_document(path, _schema("fact"))
        check_stem(path, doc, "name")
        facts[doc["name"]] = Fact(
            name=doc["name"],
            description=doc["description"],
            table=doc["table"],
            where=doc.get("where"),
            time=doc["time"],
            entity=doc["entity"],
            currency=doc.get("currency"),
        )
    return facts


def _measure(raw: dict[str, Any], facts: dict[str, Fact], where: str) -> Measure:
    fact = facts.get(raw["fact"])
    if fact is None:
        raise DefinitionError(f"{where}: unknown fact {raw['fact']!r} (known: {', '.join(sorted(facts))})")
    column = raw.get("column")
    if raw["aggregate"] == "count_distinct" and column is None:
        column = fact.entity
    return Measure(fact=fact, aggregate=raw["aggregate"], column=column)


def parse_metric(doc: dict[str, Any], facts: dict[str, Fact], name: str) -> Metric:
    """A validated metric document as a :class:`Metric`; cross-file faults raise DefinitionError."""
    numerator = _measure(doc["numerator"], facts, f"{name}: numerator")
    denominator = (
        _measure(doc["denominator"], facts, f"{name}: denominator") if "denominator" in doc else None
    )
    per_currency = bool(doc.get("per_currency", False))
    if per_currency and numerator.fact.currency is None:
        raise DefinitionError(
            f"{name}: per_currency needs a fact with a currency column ({numerator.fact.name})"
        )
    if numerator.aggregate == "sum" and numerator.fact.currency is not None and not per_currency:
        raise DefinitionError(
            f"{name}: a sum over the money fact {numerator.fact.name!r} must set per_currency: true "
            "(amounts of different currencies are never added)"
        )
    capping = doc.get("capping")
    guardrail = doc.get("guardrail")
    return Metric(
        key=doc["key"],
        name=doc["name"],
        description=doc.get("description", ""),
        kind=doc["kind"],
        numerator=numerator,
        denominator=denominator,
        per_currency=per_currency,
        attribution_window_days=int(doc["attribution_window_days"]),
        capping=Capping(capping["method"], float(capping["value"]), bool(capping.get("ignore_zeros", True)))
        if capping
        else None,
        direction=doc["direction"],
        guardrail=Guardrail(float(guardrail["margin"]), guardrail["margin_type"]) if guardrail else None,
    )


def load_metrics(folder: Path | None = None, facts: dict[str, Fact] | None = None) -> dict[str, Metric]:
    """Every ``<key>.yaml`` of the metrics folder, by key (facts from its ``facts/`` folder)."""
    folder = Path(folder) if folder is not None else asset_dir("metrics")
    facts = facts if facts is not None else load_facts(folder / "facts")
    metrics = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = load_document(path, _schema("metric"))
        check_stem(path, doc, "key")
        metrics[doc["key"]] = parse_metric(doc, facts, display_name(path))
    return metrics
