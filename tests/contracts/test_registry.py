"""ContractRegistry: loading, lookups, upcast chains, Spark types, and the catalog file."""

import json
import re
import shutil

import pytest
from lakehouse.assets import asset_dir
from lakehouse.contracts import ContractError, ContractRegistry
from pyspark.sql import types as T


@pytest.fixture(scope="module")
def registry():
    return ContractRegistry.load()


def test_loads_the_starter_catalog(registry):
    assert registry.families == (
        "client",
        "esign",
        "lbg",
        "leg",
        "payments",
        "ses",
        "stripe",
        "support",
        "tax",
    )
    assert registry.latest_version("page_viewed") == 2
    assert registry.get("page_viewed", 1).family == "client"
    assert registry.lookup("page_viewed", 3) is None and ("ses.click", 1) in registry
    assert len(registry.event_names("stripe")) == 13 and len(registry.event_names("ses")) == 6


def test_every_contract_is_a_valid_draft_2020_12_schema():
    jsonschema = pytest.importorskip("jsonschema")
    for path in asset_dir("contracts").glob("*/*.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_upcast_sources(registry):
    sources = registry.field_sources(registry.get("page_viewed", 1))
    assert sources["page_url"] == ("url", None) and sources["duration_ms"] == (None, None)


def test_family_struct_is_canonical(registry):
    client = registry.family_struct("client")
    names = client.fieldNames()
    assert "email_hash" in names and "email" not in names and "url" not in names and "page_url" in names
    assert client["duration_ms"].dataType == T.LongType()
    ses = registry.family_struct("ses")
    assert "subject" not in ses["mail"].dataType["commonHeaders"].dataType.fieldNames()
    assert ses["bounce"].dataType["timestamp"].dataType == T.TimestampType()


def test_no_money_is_floating_point(registry):
    def walk(data_type, path):
        if isinstance(data_type, T.StructType):
            for f in data_type.fields:
                yield from walk(f.dataType, f"{path}.{f.name}")
        elif isinstance(data_type, T.ArrayType):
            yield from walk(data_type.elementType, path + "[]")
        else:
            yield path, data_type

    for family in registry.families:
        for path, data_type in walk(registry.family_struct(family), family):
            assert not isinstance(data_type, T.FloatType | T.DoubleType), path
            if re.search(r"(amount|_minor|fee|net)$", path):
                assert data_type == T.LongType(), path


def _copy(tmp_path):
    target = tmp_path / "contracts"
    shutil.copytree(asset_dir("contracts"), target, ignore=shutil.ignore_patterns("*.md"))
    return target


def test_adding_a_version_is_adding_a_file_with_defaults(tmp_path):
    root = _copy(tmp_path)
    v2 = json.loads((root / "client" / "screen_viewed.v1.json").read_text())
    v2["x-event"]["version"] = 2
    v2["properties"]["screen"] = v2["properties"].pop("screen_name")
    v2["properties"]["orientation"] = {"type": "string"}
    v2["required"] = ["screen"]
    v2["x-upcast-from"] = {
        "version": 1,
        "rename": {"screen_name": "screen"},
        "defaults": {"orientation": "portrait"},
    }
    (root / "client" / "screen_viewed.v2.json").write_text(json.dumps(v2))
    registry = ContractRegistry.load(str(root))
    assert registry.field_sources(registry.get("screen_viewed", 1)) == {
        "app_version": ("app_version", None),
        "orientation": (None, "portrait"),
        "screen": ("screen_name", None),
    }


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["x-event"].update(version=3), "disagree with the file name"),
        (lambda d: d["x-event"].update(family="other"), "must be the folder name"),
        (lambda d: d["x-event"].update(channel="fax"), "channel must be one of"),
        (lambda d: d.pop("x-upcast-from"), "cannot reach v2"),
        (lambda d: d["properties"]["duration_ms"].update(type="string"), "two types"),
        (lambda d: d["properties"]["title"].update({"x-pii": "encrypt"}), "x-pii must be one of"),
    ],
)
def test_broken_contracts_are_rejected(tmp_path, mutate, message):
    root = _copy(tmp_path)
    path = root / "client" / "page_viewed.v2.json"
    doc = json.loads(path.read_text())
    mutate(doc)
    if message == "two types":  # the same field typed two ways across the family
        other = json.loads((root / "client" / "screen_viewed.v1.json").read_text())
        other["properties"]["duration_ms"] = {"type": "integer"}
        (root / "client" / "screen_viewed.v1.json").write_text(json.dumps(other))
    path.write_text(json.dumps(doc))
    with pytest.raises(ContractError, match=message):
        ContractRegistry.load(str(root))


def test_catalog_lists_every_contract(registry):
    text = (asset_dir("contracts") / "catalog.md").read_text()
    listed = set()
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in registry.families:
            for version in re.findall(r"\d+", cells[2]):
                listed.add((cells[1], int(version)))
    assert listed == {c.key for c in registry.contracts}
