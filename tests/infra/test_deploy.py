"""lakehouse deploy against moto: what it uploads, and which CloudFormation calls it makes.

moto's CloudFormation skips Glue, Athena, Budgets and QuickSight resources (and does not
register exports of change-set-created stacks), so these tests deploy small stand-in templates
that declare the real templates' parameters. They prove the deployer's behaviour — order,
parameters, change sets, uploads — not that the real stacks deploy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from lakehouse.deploy import DeployError, add_arguments, command, default_version, deploy
from lakehouse.deploy.artifacts import find_jars
from lakehouse.deploy.cfn_yaml import load_template
from lakehouse.deploy.stacks import STACKS, deploy_stack, load_env_parameters, placeholders
from lakehouse.jobs import JOB_NAMES
from moto import mock_aws

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _stand_in(stack: str, real: dict) -> str:
    """A moto-deployable template with the real template's parameters."""
    resources = {
        "Marker": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": f"marker-{stack}"}}}
    }
    outputs = {}
    if stack == "storage":
        resources["ArtifactsBucket"] = {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Fn::Sub": "lakehouse-${Env}-artifacts-${AWS::AccountId}"}},
        }
        outputs["ArtifactsBucketName"] = {"Value": {"Ref": "ArtifactsBucket"}}
    doc = {"Parameters": real["Parameters"], "Resources": resources}
    if outputs:
        doc["Outputs"] = outputs
    return yaml.safe_dump(doc)


@pytest.fixture
def repo(tmp_path):
    """A copy of the repository's deployable files, with stand-in templates, rulesets and jars."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "infra" / "params", root / "infra" / "params")
    shutil.copytree(
        REPO / "infra" / "lambdas", root / "infra" / "lambdas", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "infra" / "templates").mkdir(parents=True)
    for stack, file in STACKS:
        real = load_template(REPO / "infra" / "templates" / file)
        (root / "infra" / "templates" / file).write_text(_stand_in(stack, real))
    for job in JOB_NAMES:
        (root / "jobs" / job).mkdir(parents=True)
        shutil.copy(REPO / "jobs" / job / f"{job}.py", root / "jobs" / job / f"{job}.py")
    (root / "jobs" / "bronze_to_silver" / "rulesets").mkdir()
    (root / "jobs" / "bronze_to_silver" / "rulesets" / "stg_events.dqdl").write_text(
        'Rules = [ IsComplete "event_id" ]\n'
    )
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in (
        "deequ-2.1.0-spark-3.5.jar",
        "dqdl-1.0.0.jar",
        "postgresql-42.7.14.jar",
        "delta-spark_2.12-3.3.2.jar",
    ):
        (jars / name).write_bytes(name.encode())
    wheel = tmp_path / "lakehouse-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK wheel")
    return root, jars, wheel


def _record(session):
    calls = []

    def before(model, params, **_):
        calls.append((model.service_model.service_name, model.name, dict(params)))

    session.events.register("before-parameter-build", before)
    return calls


def _deploy(session, repo, version="v1", **kwargs):
    root, jars, wheel = repo
    lines: list[str] = []
    kwargs.setdefault("allow_placeholders", True)
    result = deploy(
        session,
        "dev",
        version,
        root=root,
        jars_dir=jars,
        wheel=wheel,
        waiter_delay=0,
        out=lines.append,
        **kwargs,
    )
    return result, lines


@mock_aws
def test_deploy_uploads_artifacts_under_the_version_and_change_sets_every_stack_in_order(repo):
    session = boto3.Session(region_name=REGION)
    calls = _record(session)
    result, _ = _deploy(session, repo)

    assert result.stacks == {stack: "created" for stack, _ in STACKS}
    ops = [
        (svc, op, p.get("StackName") or p.get("Key"))
        for svc, op, p in calls
        if op in {"CreateChangeSet", "ExecuteChangeSet", "PutObject"}
    ]
    change_sets = [name for svc, op, name in ops if op == "CreateChangeSet"]
    assert change_sets == [f"lakehouse-dev-{s}" for s, _ in STACKS]
    executed = [name for svc, op, name in ops if op == "ExecuteChangeSet"]
    assert executed == change_sets
    first_put = next(i for i, o in enumerate(ops) if o[1] == "PutObject")
    last_put = max(i for i, o in enumerate(ops) if o[1] == "PutObject")
    assert ops.index(("cloudformation", "ExecuteChangeSet", "lakehouse-dev-storage")) < first_put
    assert last_put < ops.index(("cloudformation", "CreateChangeSet", "lakehouse-dev-glue"))
    assert ops[last_put][2] == "v1/manifest.json"  # the manifest goes last

    s3 = session.client("s3")
    bucket = "lakehouse-dev-artifacts-123456789012"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    expected = {
        *(f"v1/jobs/{j}/{j}.py" for j in JOB_NAMES),
        "v1/python/lakehouse-0.1.0-py3-none-any.whl",
        "v1/jars/deequ.jar",
        "v1/jars/dqdl.jar",
        "v1/jars/postgresql.jar",
        "v1/rulesets/bronze_to_silver/rulesets/stg_events.dqdl",
        "v1/lambdas/spice_refresh.zip",
        "v1/manifest.json",
        *(f"v1/templates/{f}" for _, f in STACKS),
    }
    assert set(keys) == expected  # the delta jars are not uploaded: Glue has --datalake-formats delta
    body = s3.get_object(Bucket=bucket, Key="v1/jobs/finance_close/finance_close.py")["Body"].read()
    assert body == (REPO / "jobs" / "finance_close" / "finance_close.py").read_bytes()
    manifest = json.loads(s3.get_object(Bucket=bucket, Key="v1/manifest.json")["Body"].read())
    deequ = next(a for a in manifest["artifacts"] if a["key"] == "v1/jars/deequ.jar")
    assert deequ["source"] == "deequ-2.1.0-spark-3.5.jar"
    assert deequ["sha256"] == hashlib.sha256(b"deequ-2.1.0-spark-3.5.jar").hexdigest()


@mock_aws
def test_each_stack_gets_only_its_parameters_plus_the_version(repo):
    session = boto3.Session(region_name=REGION)
    calls = _record(session)
    _deploy(session, repo)
    params = {
        p["StackName"]: {x["ParameterKey"]: x["ParameterValue"] for x in p["Parameters"]}
        for _, op, p in calls
        if op == "CreateChangeSet"
    }
    glue = params["lakehouse-dev-glue"]
    assert glue["ArtifactsVersion"] == "v1" and glue["WheelFile"] == "lakehouse-0.1.0-py3-none-any.whl"
    assert glue["FlexExecution"] == "true" and "BudgetMonthlyUsd" not in glue
    assert set(params["lakehouse-dev-security"]) == {"Env", "LedgerDbUser"}
    create = next(p for _, op, p in calls if op == "CreateChangeSet")
    assert create["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert {"Key": "lakehouse:version", "Value": "v1"} in create["Tags"]


@mock_aws
def test_a_second_deploy_updates_the_stacks(repo):
    session = boto3.Session(region_name=REGION)
    _deploy(session, repo, "v1")
    calls = _record(session)
    result, _ = _deploy(session, repo, "v2")
    types = {p["StackName"]: p["ChangeSetType"] for _, op, p in calls if op == "CreateChangeSet"}
    assert set(types.values()) == {"UPDATE"} and len(types) == len(STACKS)
    assert result.stacks["security"] == "unchanged"  # same template and parameters
    assert result.stacks["glue"] == "updated"  # a new ArtifactsVersion


@mock_aws
def test_only_selected_stacks_are_deployed_but_artifacts_always_upload(repo):
    session = boto3.Session(region_name=REGION)
    _deploy(session, repo, "v1")
    calls = _record(session)
    result, _ = _deploy(session, repo, "v2", only=["glue"])
    assert list(result.stacks) == ["glue"]
    assert any(op == "PutObject" and p["Key"].startswith("v2/") for _, op, p in calls)


def test_dry_run_makes_no_aws_call_and_lists_the_plan(repo):
    result, lines = _deploy(None, repo, dry_run=True, allow_placeholders=False)
    assert result.stacks == {} and result.uploaded == []
    assert "  would upload v1/jars/dqdl.jar" in lines
    glue = next(line for line in lines if line.startswith("  would deploy lakehouse-dev-glue with "))
    assert {"Env", "ArtifactsVersion", "WheelFile", "FlexExecution"} <= set(
        glue.split(" with ")[1].split(", ")
    )


def test_placeholder_parameters_block_a_real_deploy(repo):
    assert "LedgerSubnetId" in placeholders(load_env_parameters(repo[0] / "infra" / "params", "prod"))
    with pytest.raises(DeployError, match=r"placeholder values for .*LedgerSubnetId"):
        _deploy(None, repo, allow_placeholders=False)


def test_missing_jars_fail_with_a_clear_message(tmp_path, repo):
    (repo[1] / "dqdl-1.0.0.jar").unlink()
    with pytest.raises(DeployError, match=r"no dqdl-\*\.jar .*make jars"):
        find_jars(repo[1])
    (repo[1] / "deequ-2.0.0-spark-3.5.jar").write_bytes(b"old")
    with pytest.raises(DeployError, match="several deequ"):
        find_jars(repo[1])
    with pytest.raises(DeployError, match="make jars"):
        find_jars(tmp_path / "absent")


def test_a_change_set_without_changes_is_deleted_and_reported_unchanged():
    cfn = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cfn) as stub:
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": "s", "StackStatus": "UPDATE_COMPLETE", "CreationTime": datetime.now(UTC)}
                ]
            },
        )
        stub.add_response("create_change_set", {"Id": "cs", "StackId": "s"})
        failed = {
            "Status": "FAILED",
            "StatusReason": "The submitted information didn't contain changes.",
            "ChangeSetName": "cs",
        }
        stub.add_response("describe_change_set", failed)  # the waiter's poll
        stub.add_response("describe_change_set", failed)  # the deployer's look at the reason
        stub.add_response("delete_change_set", {})
        assert deploy_stack(cfn, "s", "{}", [], {}, "cs", waiter_delay=0) == "unchanged"
        stub.assert_no_pending_responses()


def test_a_failed_change_set_is_an_error_with_its_reason():
    cfn = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cfn) as stub:
        stub.add_client_error("describe_stacks", "ValidationError", "Stack with id s does not exist")
        stub.add_response("create_change_set", {"Id": "cs", "StackId": "s"})
        failed = {"Status": "FAILED", "StatusReason": "No export named lakehouse-dev-lake-bucket found"}
        stub.add_response("describe_change_set", failed)
        stub.add_response("describe_change_set", failed)
        with pytest.raises(DeployError, match="No export named"):
            deploy_stack(cfn, "s", "{}", [], {}, "cs", waiter_delay=0)


def test_a_stack_left_in_rollback_complete_must_be_deleted_first():
    cfn = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cfn) as stub:
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": "s", "StackStatus": "ROLLBACK_COMPLETE", "CreationTime": datetime.now(UTC)}
                ]
            },
        )
        with pytest.raises(DeployError, match="delete it"):
            deploy_stack(cfn, "s", "{}", [], {}, "cs")


def test_cli_arguments_and_exit_codes(repo, monkeypatch, capsys):
    _, jars, wheel = repo
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--env", "qa"])
    args = parser.parse_args(
        ["--env", "dev", "--dry-run", "--version", "abc", "--wheel", str(wheel), "--jars-dir", str(jars)]
    )
    assert args.stacks is None and args.profile is None
    # The real repository's files, the stand-in wheel and jars: a dry run needs no AWS.
    assert command(args) == 0
    assert "would deploy lakehouse-dev-cost" in capsys.readouterr().out
    args = parser.parse_args(
        ["--env", "dev", "--dry-run", "--wheel", str(wheel), "--jars-dir", str(repo[0] / "nojars")]
    )
    assert command(args) == 1
    assert "make jars" in capsys.readouterr().err


def test_default_version_is_the_git_sha_or_a_timestamp(tmp_path):
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert default_version(tmp_path, now) == "20250102T030405Z"
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f").write_text("1")
    subprocess.run([*git, "-C", str(tmp_path), "add", "f"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-qm", "x"], check=True)
    sha = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert default_version(tmp_path, now) == sha
    (tmp_path / "f").write_text("2")
    assert default_version(tmp_path, now) == f"{sha}-dirty-20250102T030405Z"
