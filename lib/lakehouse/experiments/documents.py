"""Registry and metric files: YAML documents validated by a JSON Schema kept beside them.

Every problem with a file surfaces as one :class:`DefinitionError` that names the file,
the place inside it and what is wrong, so a broken file fails the test suite and the
job with the same message.

Example::

    doc = load_document(path, schema_path)   # dict, or DefinitionError
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml


class DefinitionError(ValueError):
    """A registry, metric or fact file is invalid; the message names the file and the fault."""


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as the strings the schema checks (no datetime objects)."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def _validator(schema_path: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


ASSET_FOLDERS = ("experiments", "metrics")


def display_name(path: Path) -> str:
    """``experiments/x.yaml``, ``metrics/facts/y.yaml``: the path from its asset folder, for messages."""
    parts = Path(path).parts
    starts = [i for i, part in enumerate(parts[:-1]) if part in ASSET_FOLDERS]
    return "/".join(parts[starts[-1] :] if starts else parts[-2:])


def load_document(path: Path, schema_path: Path) -> dict[str, Any]:
    """Parse one YAML file and validate it against the schema; the first fault is the error.

    :param path: the YAML file.
    :param schema_path: its JSON Schema (draft 2020-12).
    :return: the document as plain data.
    :raises DefinitionError: unreadable YAML, or the most relevant schema violation.
    """
    name = display_name(path)
    try:
        doc = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_PlainLoader)
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{name}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise DefinitionError(f"{name}: expected a mapping at the top level, got {type(doc).__name__}")
    error = jsonschema.exceptions.best_match(_validator(Path(schema_path)).iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise DefinitionError(f"{name}: {where}: {error.message}")
    return doc


def check_stem(path: Path, doc: dict[str, Any], field: str) -> None:
    """A file ``<x>.yaml`` must declare ``field: x``, so a key is found from its file name."""
    if doc[field] != Path(path).stem:
        raise DefinitionError(
            f"{display_name(path)}: {field} {doc[field]!r} differs from the file name {Path(path).stem!r}"
        )
