"""Load CloudFormation YAML templates, short-form intrinsic tags included.

PyYAML's ``safe_load`` rejects ``!Ref``, ``!Sub``, ``!GetAtt`` ...; this loader turns every
``!Tag`` into its long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``, ``{"Condition": ...}``), as
CloudFormation itself does, so templates can be inspected as plain dicts and lists.

Example::

    template = load_template(Path("infra/templates/glue.yaml"))
    template["Resources"]["DailyWorkflow"]["Properties"]["MaxConcurrentRuns"]  # 1
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic function tags."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def loads(text: str) -> dict[str, Any]:
    """Parse template text."""
    return yaml.load(text, Loader=CfnLoader)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a template file."""
    return loads(Path(path).read_text(encoding="utf-8"))
