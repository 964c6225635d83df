"""One to_canonical run over every case (planning a catalog-wide plan costs seconds, so it is shared)."""

import pytest
from lakehouse.contracts import ContractRegistry
from lakehouse.events import to_canonical
from lakehouse.privacy import PiiHasher

from events.cases import MAX_RECORD_BYTES, build_cases

INPUT_SCHEMA = "value string, channel string, bronze_file string, bronze_line long, received_hour timestamp"


@pytest.fixture(scope="session")
def registry():
    return ContractRegistry.load()


@pytest.fixture(scope="session")
def pii():
    return PiiHasher.for_development()


@pytest.fixture(scope="session")
def cases():
    return build_cases()


@pytest.fixture(scope="session")
def bronze(spark, cases):
    rows = [
        (line, channel, f"bronze/{channel}/2024/05/01/12/f.json", i, None)
        for i, (channel, line) in enumerate(cases.values())
    ]
    return spark.createDataFrame(rows, INPUT_SCHEMA)


@pytest.fixture(scope="module")
def canonical(bronze, registry, pii):
    # Module-scoped: the cache of each test module is released when it ends (tests/conftest.py).
    out = to_canonical(bronze, registry, max_record_bytes=MAX_RECORD_BYTES, pii=pii).cache()
    yield out
    out.unpersist()


@pytest.fixture(scope="module")
def rows(canonical, cases):
    """case name -> output Row."""
    by_line = {r.bronze_line: r for r in canonical.collect()}
    return {name: by_line[i] for i, name in enumerate(cases)}
