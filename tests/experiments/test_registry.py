"""The registry and metric files: the shipped ones are valid, each kind of fault is one clear error."""

import json
import shutil
from datetime import UTC, datetime

import jsonschema
import pytest
import yaml
from lakehouse.assets import asset_dir
from lakehouse.experiments import DefinitionError
from lakehouse.experiments.metrics import load_facts, load_metrics
from lakehouse.experiments.registry import load_registry

SHIPPED_METRICS = {
    "booking_conversion_7d": "proportion",
    "revenue_per_unit": "mean",
    "refund_rate": "ratio",
    "complaint_rate": "ratio",
    "searches_per_unit": "mean",
}


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def test_the_schemas_are_valid_draft_2020_12():
    schemas = [*asset_dir("experiments").glob("schema/*.json"), *asset_dir("metrics").glob("schema/*.json")]
    assert len(schemas) == 3
    for path in schemas:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_every_shipped_file_loads(registry):
    assert set(registry) == {"search-ranking-v2", "checkout-one-page", "homepage-aa"}
    assert {k: m.kind for k, m in registry.metrics.items()} == SHIPPED_METRICS
    assert set(load_facts()) == {"bookings", "refunds", "complaints", "searches"}
    for experiment in registry.values():
        for phase in experiment.phases:
            assert sum(phase.weights) == pytest.approx(1.0)
        assert all(k in registry.metrics for k in experiment.metric_keys())


def test_experiment_fields_and_defaults(registry):
    search = registry["search-ranking-v2"]
    assert search.seed == "search-ranking-v2" and search.hash_version == 2 and not search.sticky
    assert search.control.key == "control" and search.variation("treatment").index == 1
    assert search.metrics["guardrails"] == ("refund_rate", "complaint_rate")
    assert search.analysis.sequential_tuning_n == 5000 and search.analysis.cuped_pre_period_days == 14
    assert search.phases[0].end is None and search.phases[0].ranges == ((0.0, 0.5), (0.5, 1.0))

    checkout = registry["checkout-one-page"]
    assert checkout.sticky and checkout.seed == "7b3c2f0e-checkout-one-page"
    ramp, full = checkout.phases
    assert ramp.ranges == ((0.0, 0.1), (0.5, 0.6)) and full.ranges == ((0.0, 0.5), (0.5, 1.0))
    assert checkout.phase_at(datetime(2026, 11, 8, 23, 59, tzinfo=UTC)) is ramp
    assert checkout.phase_at(datetime(2026, 11, 9, tzinfo=UTC)) is full
    assert checkout.phase_at(datetime(2026, 11, 1, tzinfo=UTC)) is None
    assert checkout.analysis.alpha == 0.05 and not checkout.analysis.cuped  # defaults and overrides

    aa = registry["homepage-aa"]
    assert len(aa.variations) == 3 and aa.analysis.correction == "benjamini_hochberg"


def test_metric_fields():
    metrics = load_metrics()
    refunds = metrics["refund_rate"]
    assert refunds.numerator.fact.table == "silver.stg_payments_events"
    assert refunds.denominator.column == "lbg_id"  # count_distinct defaults to the fact's entity
    assert refunds.guardrail.margin == 0.10 and refunds.guardrail.margin_type == "relative"
    assert not refunds.higher_is_better
    revenue = metrics["revenue_per_unit"]
    assert revenue.per_currency and revenue.numerator.column == "total_minor"
    assert revenue.capping.method == "percentile" and revenue.capping.value == 0.999
    assert metrics["searches_per_unit"].numerator.column is None
    assert metrics["complaint_rate"].guardrail.margin_type == "absolute"


@pytest.fixture
def assets(tmp_path):
    """A writable copy of the experiments and metrics folders."""
    shutil.copytree(asset_dir("experiments"), tmp_path / "experiments")
    shutil.copytree(asset_dir("metrics"), tmp_path / "metrics")
    return tmp_path


def _edit(path, change):
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _load(assets):
    metrics = load_metrics(assets / "metrics")
    return load_registry(assets / "experiments", metrics)


def _set(*path_and_value):
    *path, value = path_and_value

    def change(doc):
        for part in path[:-1]:
            doc = doc[part]
        if value is KeyError:
            del doc[path[-1]]
        else:
            doc[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        (
            "experiments/search-ranking-v2.yaml",
            _set("phases", 0, "weights", [0.5, 0.4]),
            r"^experiments/search-ranking-v2.yaml: phases/0/weights: the weights sum to 0.9, not 1$",
        ),
        (
            "experiments/search-ranking-v2.yaml",
            _set("phases", 0, "weights", [0.5, 0.25, 0.25]),
            "phases/0/weights: 3 weights for 2 variations",
        ),
        (
            "experiments/search-ranking-v2.yaml",
            _set("hash_version", 3),
            r"^experiments/search-ranking-v2.yaml: hash_version: 3 is not one of \[1, 2\]$",
        ),
        ("experiments/search-ranking-v2.yaml", _set("owner", KeyError), "'owner' is a required property"),
        ("experiments/search-ranking-v2.yaml", _set("colour", "red"), "'colour' was unexpected"),
        (
            "experiments/search-ranking-v2.yaml",
            _set("phases", 0, "start", "2026-11-02"),
            "phases/0/start: '2026-11-02' does not match",
        ),
        ("experiments/search-ranking-v2.yaml", _set("key", "other"), "differs from the file name"),
        (
            "experiments/search-ranking-v2.yaml",
            _set("metrics", "secondary", ["no_such_metric"]),
            "metrics/secondary: unknown metric 'no_such_metric'",
        ),
        (
            "experiments/checkout-one-page.yaml",
            _set("metrics", "guardrails", ["searches_per_unit"]),
            "metric 'searches_per_unit' has no guardrail margin",
        ),
        (
            "experiments/search-ranking-v2.yaml",
            _set("metrics", "guardrails", ["booking_conversion_7d"]),
            "'booking_conversion_7d' is both primary and guardrails",
        ),
        (
            "experiments/checkout-one-page.yaml",
            _set("phases", 1, "start", "2026-11-08T00:00:00Z"),
            "phases/1: starts before phase 0 ends",
        ),
        (
            "experiments/checkout-one-page.yaml",
            _set("phases", 0, "end", "2026-11-01T00:00:00Z"),
            "phases/0: end 2026-11-01T00:00:00Z is not after start",
        ),
        (
            "metrics/refund_rate.yaml",
            _set("denominator", KeyError),
            r"metrics/refund_rate.yaml: \(top level\)",
        ),
        ("metrics/refund_rate.yaml", _set("capping", {"method": "percentile", "value": 99}), "capping/value"),
        ("metrics/refund_rate.yaml", _set("numerator", "fact", "refundz"), "unknown fact 'refundz'"),
        ("metrics/revenue_per_unit.yaml", _set("per_currency", False), "must set per_currency: true"),
        ("metrics/facts/bookings.yaml", _set("table", "bookings"), "metrics/facts/bookings.yaml: table:"),
    ],
)
def test_a_broken_file_is_one_clear_error(assets, file, change, message):
    _edit(assets / file, change)
    with pytest.raises(DefinitionError, match=message):
        _load(assets)


def test_unreadable_yaml_is_named(assets):
    (assets / "experiments" / "homepage-aa.yaml").write_text("key: [unclosed\n")
    with pytest.raises(DefinitionError, match=r"^experiments/homepage-aa.yaml: not valid YAML"):
        _load(assets)


def test_weights_within_float_rounding_of_one_are_accepted(assets):
    _edit(assets / "experiments/homepage-aa.yaml", _set("phases", 0, "weights", [0.1, 0.2, 0.7]))
    assert _load(assets)["homepage-aa"].phases[0].weights == (0.1, 0.2, 0.7)  # sums to 1.0000000000000002
