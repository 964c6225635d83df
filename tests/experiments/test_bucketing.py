"""GrowthBook's own SDK test vectors (data/growthbook-hash-cases.json, spec 0.8.0),
reproduced exactly by the Spark expressions and by their pure-Python twins."""

import json
import random
from pathlib import Path

import pytest
from lakehouse.experiments.bucketing import (
    assign_variation,
    bucket_ranges,
    choose_variation,
    choose_variation_py,
    equal_weights,
    experiment_ranges,
    fnv1a32,
    fnv1a32_py,
    gb_hash,
    gb_hash_py,
    in_namespace,
    in_namespace_py,
)
from pyspark.sql import functions as F
from pyspark.sql import types as T

CASES = json.loads((Path(__file__).parent / "data" / "growthbook-hash-cases.json").read_text())
RUN_EXPERIMENT_FIELDS = {
    "key",
    "variations",
    "weights",
    "coverage",
    "seed",
    "hashVersion",
    "ranges",
    "hashAttribute",
}
RANGES = T.ArrayType(
    T.StructType([T.StructField("start", T.DoubleType()), T.StructField("end", T.DoubleType())])
)


def run_cases():
    """The ``run`` cases decided by bucketing alone: no forcing, conditions, filters, QA mode, URL."""
    cases = []
    for name, context, experiment, value, in_experiment, hash_used in CASES["run"]:
        if set(context) <= {"attributes"} and set(experiment) <= RUN_EXPERIMENT_FIELDS:
            cases.append((name, context, experiment, value, in_experiment, hash_used))
    return cases


def run_inputs(context, experiment):
    attribute = experiment.get("hashAttribute", "id")
    hash_value = context.get("attributes", {}).get(attribute)
    ranges = experiment_ranges(
        len(experiment["variations"]),
        experiment.get("coverage", 1),
        experiment.get("weights"),
        experiment.get("ranges"),
    )
    seed = experiment.get("seed") or experiment["key"]
    return hash_value, seed, experiment.get("hashVersion") or 1, ranges


def expected_value(experiment, index):
    return experiment["variations"][index if index >= 0 else 0]


def test_the_cases_file_has_what_the_tests_rely_on():
    assert len(CASES["hash"]) == 15 and len(CASES["getBucketRange"]) == 13
    assert len(CASES["chooseVariation"]) == 13 and len(run_cases()) == 51


# ------------------------------------------------------------ pure Python (the generator uses these)


def test_python_twins_reproduce_every_case():
    for seed, value, version, expected in CASES["hash"]:
        assert gb_hash_py(seed, value, version) == expected, (seed, value, version)
    for name, (n, coverage, weights), expected in CASES["getBucketRange"]:
        got = [[round(x, 6) for x in r] for r in bucket_ranges(n, coverage, weights)]
        assert got == [[round(x, 6) for x in r] for r in expected], name
    for name, n, ranges, expected in CASES["chooseVariation"]:
        assert choose_variation_py(n, ranges) == expected, name
    for n, expected in CASES["getEqualWeights"]:
        assert [round(w, 8) for w in equal_weights(n)] == expected
    for name, value, namespace, expected in CASES["inNamespace"]:
        assert in_namespace_py(value, tuple(namespace)) is expected, name
    for name, context, experiment, value, in_experiment, _ in run_cases():
        hash_value, seed, version, ranges = run_inputs(context, experiment)
        n = gb_hash_py(seed, hash_value, version) if hash_value else None
        index = choose_variation_py(n, ranges) if n is not None else -1
        assert (expected_value(experiment, index), index >= 0) == (value, in_experiment), name


def test_fnv_runs_over_utf16_code_units():
    assert fnv1a32_py("a") == 3826002220 and fnv1a32_py("seeda") == 717764279
    assert fnv1a32_py("u\U0001f600") == 293983861  # JavaScript's charCodeAt, not code points or bytes


# ------------------------------------------------------------ Spark built-ins


def test_hash_cases_in_spark(spark):
    schema = "seed string, value string, version int, expected double"
    df = spark.createDataFrame([tuple(c) for c in CASES["hash"]], schema)
    rows = df.select(
        "seed",
        "value",
        "version",
        "expected",
        gb_hash(F.col("seed"), F.col("value"), F.col("version")).alias("n"),
    )
    mismatches = [r for r in rows.collect() if r.n != r.expected]
    assert mismatches == []
    assert df.count() == 15


def test_fnv_in_spark_equals_utf16_fnv_on_open_ended_strings(spark):
    rng = random.Random(20261202)
    alphabet = [
        "a",
        "Z",
        "0",
        "-",
        "_",
        " ",
        "é",
        "ß",
        "中",
        "\u00ff",
        "\uffff",
        "😀",
        "\U00010000",
        "\U0010ffff",
    ]
    texts = [
        "",
        "a",
        "seeda",
        "u😀",
        *("".join(rng.choices(alphabet, k=rng.randint(1, 24))) for _ in range(300)),
    ]
    df = spark.createDataFrame([(t,) for t in texts], "text string")
    got = {r.text: r.h for r in df.select("text", fnv1a32(F.col("text")).alias("h")).collect()}
    assert got == {t: fnv1a32_py(t) for t in texts}
    assert got["u😀"] == 293983861 and got[""] == 2166136261
    null = spark.createDataFrame([(None,)], "text string").select(fnv1a32(F.col("text")).alias("h")).first()
    assert null.h is None


def test_choose_variation_cases_in_spark(spark):
    rows = [
        (name, float(n), [(float(s), float(e)) for s, e in ranges], expected)
        for name, n, ranges, expected in CASES["chooseVariation"]
    ]
    schema = T.StructType(
        [
            T.StructField("name", T.StringType()),
            T.StructField("n", T.DoubleType()),
            T.StructField("ranges", RANGES),
            T.StructField("expected", T.IntegerType()),
        ]
    )
    df = spark.createDataFrame(rows, schema)
    got = df.select(
        "name", "expected", choose_variation(F.col("n"), F.col("ranges")).alias("chosen")
    ).collect()
    assert [(r.name, r.chosen) for r in got] == [(r.name, r.expected) for r in got]
    # the driver-side form: ranges as a literal
    literal = df.select(choose_variation(F.col("n"), [(0.0, 0.25), (0.5, 0.75)]).alias("i"), "n").collect()
    assert {r.n: r.i for r in literal} == {0.2: 0, 0.4: -1, 0.6: 1, 0.8: -1, 0.0: 0, 0.5: 1, 0.25: -1}


def test_bucket_range_cases_feed_spark_ranges(spark):
    """Ranges computed on the driver arrive in Spark as the same doubles."""
    rows = [
        (name, [tuple(map(float, r)) for r in bucket_ranges(n, c, w)])
        for name, (n, c, w), _ in CASES["getBucketRange"]
    ]
    schema = T.StructType([T.StructField("name", T.StringType()), T.StructField("ranges", RANGES)])
    got = {
        r.name: [(x.start, x.end) for x in r.ranges] for r in spark.createDataFrame(rows, schema).collect()
    }
    for name, _, expected in CASES["getBucketRange"]:
        assert [[round(x, 6) for x in r] for r in got[name]] == [
            [round(x, 6) for x in r] for r in expected
        ], name


def test_run_cases_in_spark(spark):
    cases = run_cases()
    rows = []
    for name, context, experiment, *_ in cases:
        hash_value, seed, version, ranges = run_inputs(context, experiment)
        rows.append((name, None if hash_value is None else str(hash_value), seed, version, ranges))
    schema = T.StructType(
        [
            T.StructField("name", T.StringType()),
            T.StructField("hash_value", T.StringType()),
            T.StructField("seed", T.StringType()),
            T.StructField("version", T.IntegerType()),
            T.StructField("ranges", RANGES),
        ]
    )
    df = spark.createDataFrame(rows, schema)
    index = assign_variation(F.col("hash_value"), F.col("seed"), F.col("version"), F.col("ranges"))
    got = {r.name: r.chosen for r in df.select("name", index.alias("chosen")).collect()}
    for name, _, experiment, value, in_experiment, hash_used in cases:
        assert (expected_value(experiment, got[name]), got[name] >= 0) == (value, in_experiment), name
        assert hash_used == in_experiment, name


def test_in_namespace_cases_in_spark(spark):
    rows = [
        (name, value, ns[0], float(ns[1]), float(ns[2]), expected)
        for name, value, ns, expected in CASES["inNamespace"]
    ]
    df = spark.createDataFrame(
        rows, "name string, value string, ns string, s double, e double, expected boolean"
    )
    for ns, start, end in {(r[2], r[3], r[4]) for r in rows}:
        part = df.where((F.col("ns") == ns) & (F.col("s") == start) & (F.col("e") == end))
        got = part.select("name", "expected", in_namespace(F.col("value"), (ns, start, end)).alias("inside"))
        assert all(r.inside == r.expected for r in got.collect())


@pytest.mark.parametrize("version", [1, 2])
def test_a_literal_seed_and_version_match_the_sdk(spark, version):
    ids = [f"user-{i}" for i in range(200)]
    ranges = bucket_ranges(2, 0.4, [0.5, 0.5])
    df = spark.createDataFrame([(i,) for i in ids], "user_id string")
    got = {
        r.user_id: r.v
        for r in df.select(
            "user_id", assign_variation(F.col("user_id"), "my-test", version, ranges).alias("v")
        ).collect()
    }
    assert got == {i: choose_variation_py(gb_hash_py("my-test", i, version), ranges) for i in ids}
    assert set(got.values()) == {-1, 0, 1}
