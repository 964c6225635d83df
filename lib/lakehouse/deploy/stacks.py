"""CloudFormation stacks of the platform, their parameters, and change-set deploys with boto3.

Stacks deploy in dependency order (each imports the exports of those before it)::

    security -> storage -> [artifacts uploaded] -> glue -> analytics -> observability -> cost
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from lakehouse.deploy.artifacts import DeployError

LOG = logging.getLogger(__name__)

ENVIRONMENTS = ("dev", "stage", "prod")
# (stack suffix, template file); order = deploy order.
STACKS: tuple[tuple[str, str], ...] = (
    ("security", "security.yaml"),
    ("storage", "storage.yaml"),
    ("glue", "glue.yaml"),
    ("analytics", "analytics.yaml"),
    ("observability", "observability.yaml"),
    ("cost", "cost.yaml"),
)
# Stacks that must exist before artifacts can be uploaded (the artifacts bucket is in storage).
BOOTSTRAP_STACKS = ("security", "storage")
# Parameters the deployer supplies itself; every other parameter comes from infra/params/<env>.json.
DEPLOY_TIME_PARAMETERS = ("ArtifactsVersion", "WheelFile")
TEMPLATE_BODY_LIMIT = 51_200
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# Values in the checked-in parameter files that stand for per-account facts (VPC ids, the Aurora
# endpoint) and must be replaced before a real deploy.
PLACEHOLDER = re.compile(r"^(subnet|sg)-0+$|-example\.")


def stack_name(env: str, stack: str) -> str:
    return f"lakehouse-{env}-{stack}"


@dataclass(frozen=True)
class EnvParameters:
    env: str
    parameters: dict[str, str]
    tags: dict[str, str]


def load_env_parameters(params_dir: Path, env: str) -> EnvParameters:
    """Read ``infra/params/<env>.json`` ({"Parameters": {...}, "Tags": {...}}); values as strings."""
    if env not in ENVIRONMENTS:
        raise DeployError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")
    path = params_dir / f"{env}.json"
    if not path.is_file():
        raise DeployError(f"parameter file missing: {path}")
    doc = json.loads(path.read_text(encoding="utf-8"))
    parameters = {k: str(v) for k, v in doc.get("Parameters", {}).items()}
    if parameters.get("Env") != env:
        raise DeployError(f"{path}: Parameters.Env must be {env!r}, got {parameters.get('Env')!r}")
    return EnvParameters(
        env=env, parameters=parameters, tags={k: str(v) for k, v in doc.get("Tags", {}).items()}
    )


def placeholders(params: EnvParameters) -> list[str]:
    """Names of parameters still holding the checked-in placeholder values."""
    return sorted(k for k, v in params.parameters.items() if PLACEHOLDER.search(v))


def stack_parameters(template: dict, available: dict[str, str]) -> list[dict[str, str]]:
    """The CloudFormation Parameters list of one template from the available values."""
    declared = template.get("Parameters", {})
    missing = [name for name, spec in declared.items() if name not in available and "Default" not in spec]
    if missing:
        raise DeployError(f"no value for parameter(s) {', '.join(missing)}")
    return [
        {"ParameterKey": name, "ParameterValue": available[name]} for name in declared if name in available
    ]


def _stack_status(cfn: Any, name: str) -> str | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0]["StackStatus"] if stacks else None


def physical_id(cfn: Any, name: str, logical_id: str) -> str:
    """Physical id (e.g. the bucket name) of one resource of a deployed stack."""
    try:
        detail = cfn.describe_stack_resource(StackName=name, LogicalResourceId=logical_id)[
            "StackResourceDetail"
        ]
    except ClientError as exc:
        raise DeployError(f"stack {name} has no resource {logical_id}: {exc}") from None
    return detail["PhysicalResourceId"]


def deploy_stack(
    cfn: Any,
    name: str,
    template_body: str,
    parameters: list[dict[str, str]],
    tags: dict[str, str],
    change_set_name: str,
    waiter_delay: int = 10,
) -> str:
    """Create, wait for, and execute one change set. Returns created, updated or unchanged."""
    if len(template_body.encode()) > TEMPLATE_BODY_LIMIT:
        raise DeployError(f"{name}: template exceeds {TEMPLATE_BODY_LIMIT} bytes; split it")
    status = _stack_status(cfn, name)
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"):
        raise DeployError(f"stack {name} is {status} (a failed first create): delete it, then deploy again")
    if status is not None and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(f"stack {name} is {status}: wait for it to finish")
    change_set_type = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
    LOG.info("%s: creating %s change set %s", name, change_set_type, change_set_name)
    try:
        cfn.create_change_set(
            StackName=name,
            ChangeSetName=change_set_name,
            ChangeSetType=change_set_type,
            TemplateBody=template_body,
            Parameters=parameters,
            Capabilities=CAPABILITIES,
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            Description=f"lakehouse deploy {change_set_name}",
        )
    except ClientError as exc:
        if any(marker in str(exc) for marker in _NO_CHANGES):
            LOG.info("%s: no changes", name)
            return "unchanged"
        raise DeployError(f"{name}: change set refused: {exc}") from None
    waiter_config = {"Delay": waiter_delay, "MaxAttempts": 360}
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set_name, WaiterConfig=waiter_config
        )
    except WaiterError as exc:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set_name)
        reason = described.get("StatusReason", "")
        if any(marker in reason for marker in _NO_CHANGES):
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set_name)
            LOG.info("%s: no changes", name)
            return "unchanged"
        raise DeployError(f"{name}: change set failed: {reason or exc}") from None
    changes = cfn.describe_change_set(StackName=name, ChangeSetName=change_set_name).get("Changes", [])
    for change in changes:
        rc = change.get("ResourceChange", {})
        LOG.info(
            "%s: %s %s (%s)", name, rc.get("Action"), rc.get("LogicalResourceId"), rc.get("ResourceType")
        )
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set_name)
    waiter = "stack_create_complete" if change_set_type == "CREATE" else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=waiter_config)
    except WaiterError as exc:
        raise DeployError(f"{name}: {waiter.replace('_', ' ')} failed: {exc}") from None
    return "created" if change_set_type == "CREATE" else "updated"


def change_set_name(version: str) -> str:
    """A valid change set name ([a-zA-Z][-a-zA-Z0-9]*) for this deploy."""
    safe = re.sub(r"[^A-Za-z0-9-]", "-", version)
    return f"lakehouse-{safe}-{int(time.time())}"[:128]
