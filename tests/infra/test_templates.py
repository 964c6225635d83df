"""Structural tests over infra/templates and infra/params; each checker is also shown to fail."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cfn_checks import (
    PARAMS_DIR,
    TEMPLATES_DIR,
    bucket_problems,
    iam_problems,
    job_argument_problems,
    job_problems,
    load_all,
    mutated,
    parameter_file_problems,
    parse_problems,
    render,
    resources,
    workflow_chain,
)
from lakehouse.config import required_arguments
from lakehouse.deploy.artifacts import plan_artifacts
from lakehouse.deploy.cfn_yaml import loads
from lakehouse.deploy.stacks import STACKS, TEMPLATE_BODY_LIMIT, load_env_parameters
from lakehouse.jobs import JOB_NAMES, get_job
from lakehouse.workflow.graph import load_graph
from moto.events.models import EventPattern

TEMPLATES = load_all()
ENVS = ("dev", "stage", "prod")


@pytest.fixture(scope="module")
def job_configs():
    return {name: get_job(name).config_class for name in JOB_NAMES}


# ---------------------------------------------------------------- loader
def test_loader_turns_short_form_tags_into_long_form():
    doc = loads("a: !Ref X\nb: !GetAtt R.Arn\nc: !Sub 'x-${Env}'\nd: !If [C, 1, 2]\ne: !Condition C\n")
    assert doc == {
        "a": {"Ref": "X"},
        "b": {"Fn::GetAtt": ["R", "Arn"]},
        "c": {"Fn::Sub": "x-${Env}"},
        "d": {"Fn::If": ["C", 1, 2]},
        "e": {"Condition": "C"},
    }


def test_every_template_file_is_a_deployed_stack_and_fits_template_body():
    assert sorted(p.name for p in TEMPLATES_DIR.glob("*.yaml")) == sorted(f for _, f in STACKS)
    for _, file in STACKS:
        assert len((TEMPLATES_DIR / file).read_bytes()) < TEMPLATE_BODY_LIMIT, file


# ---------------------------------------------------------------- workflow
def test_workflow_runs_the_three_jobs_in_order():
    graph = load_graph("daily")
    order, problems = workflow_chain(TEMPLATES["glue"], frozenset(s.name for s in graph.on_demand))
    assert problems == []
    assert order == ["bronze_to_silver", "silver_to_gold", "finance_close"]
    assert tuple(order) == graph.jobs()


def test_workflow_checker_catches_broken_triggers():
    t = mutated(TEMPLATES["glue"])
    del t["Resources"]["SilverToGoldTrigger"]["Properties"]["StartOnCreation"]
    assert any("StartOnCreation" in p for p in workflow_chain(t)[1])

    t = mutated(TEMPLATES["glue"])
    del t["Resources"]["FinanceCloseTrigger"]["Properties"]["Predicate"]["Logical"]
    assert any("Logical" in p for p in workflow_chain(t)[1])

    t = mutated(TEMPLATES["glue"])  # the last trigger watches the wrong job: finance_close is unreachable
    t["Resources"]["FinanceCloseTrigger"]["Properties"]["Actions"] = [{"JobName": {"Ref": "SilverToGoldJob"}}]
    t["Resources"]["FinanceCloseTrigger"]["Properties"]["Predicate"]["Conditions"][0]["JobName"] = {
        "Ref": "BronzeToSilverJob"
    }
    assert any("branches" in p or "not reached" in p for p in workflow_chain(t)[1])

    t = mutated(TEMPLATES["glue"])
    t["Resources"]["FinanceCloseTrigger"]["Properties"]["Actions"] = [{"JobName": {"Ref": "SilverToGoldJob"}}]
    assert any("restarts itself" in p for p in workflow_chain(t)[1])

    t = mutated(TEMPLATES["glue"])
    t["Resources"]["DailyWorkflow"]["Properties"]["MaxConcurrentRuns"] = 2
    assert any("MaxConcurrentRuns" in p for p in workflow_chain(t)[1])


# ---------------------------------------------------------------- S3
def test_every_bucket_has_kms_tls_only_public_access_block_and_lifecycle():
    assert len(resources(TEMPLATES["storage"], "AWS::S3::Bucket")) == 4
    for stack, template in TEMPLATES.items():
        assert bucket_problems(template) == [], stack


def test_only_the_access_log_bucket_is_sse_s3_and_it_says_why():
    for name, bucket in resources(TEMPLATES["storage"], "AWS::S3::Bucket").items():
        algorithm = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        assert (algorithm == "AES256") == (name == "AccessLogBucket")
    reason = TEMPLATES["storage"]["Resources"]["AccessLogBucket"]["Metadata"]["lakehouse"][
        "encryption-exception"
    ]
    assert "SSE-KMS" in reason


def test_bucket_checker_catches_missing_controls():
    t = mutated(TEMPLATES["storage"])
    t["Resources"]["LakeBucket"]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = (
        False
    )
    assert any("RestrictPublicBuckets" in p for p in bucket_problems(t))

    t = mutated(TEMPLATES["storage"])
    sse = t["Resources"]["LakeBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][
        0
    ]
    sse["ServerSideEncryptionByDefault"] = {"SSEAlgorithm": "AES256"}
    assert any("LakeBucket: not SSE-KMS" in p for p in bucket_problems(t))

    t = mutated(TEMPLATES["storage"])  # short-form !Sub "${Bucket.Arn}/*" is not accepted
    st = t["Resources"]["ArtifactsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    st["Resource"][1] = {"Fn::Sub": "${ArtifactsBucket.Arn}/*"}
    assert any("ArtifactsBucket: no TLS-only" in p for p in bucket_problems(t))

    t = mutated(TEMPLATES["storage"])
    del t["Resources"]["AthenaResultsBucket"]["Properties"]["LifecycleConfiguration"]
    assert any("AthenaResultsBucket: no lifecycle" in p for p in bucket_problems(t))


def test_lake_lifecycle_tiers_bronze_expires_quarantine_and_cleans_staging():
    rules = {
        r["Id"]: r
        for r in TEMPLATES["storage"]["Resources"]["LakeBucket"]["Properties"]["LifecycleConfiguration"][
            "Rules"
        ]
    }
    bronze = rules["bronze-tiering-and-expiry"]
    assert bronze["Prefix"] == "bronze/"
    assert [t["StorageClass"] for t in bronze["Transitions"]] == ["STANDARD_IA", "GLACIER_IR"]
    assert bronze["ExpirationInDays"] == {"Ref": "BronzeExpirationDays"}
    assert rules["quarantine-expiry"]["Prefix"] == "quarantine/"
    assert rules["spark-staging-cleanup"]["Prefix"] == "_system/tmp/"
    assert "NoncurrentVersionExpiration" in rules["noncurrent-versions-and-uploads"]
    # Glue's TempDir (where Spark staging goes) is under the cleaned prefix.
    for job in resources(TEMPLATES["glue"], "AWS::Glue::Job").values():
        assert "/_system/tmp/" in render(job["Properties"]["DefaultArguments"]["--TempDir"])


# ---------------------------------------------------------------- IAM
def test_no_wildcard_action_or_unscoped_resource():
    for stack, template in TEMPLATES.items():
        assert iam_problems(stack, template) == [], stack


def test_iam_checker_catches_wildcards():
    t = mutated(TEMPLATES["glue"])
    t["Resources"]["BronzeToSilverRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0][
        "Action"
    ] = "s3:*"
    assert any("wildcard action" in p for p in iam_problems("glue", t))

    t = mutated(TEMPLATES["glue"])
    t["Resources"]["SilverToGoldRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][1][
        "Resource"
    ] = "*"
    assert any("Resource '*'" in p for p in iam_problems("glue", t))

    t = mutated(TEMPLATES["glue"])
    statement = t["Resources"]["FinanceCloseRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ][0]
    statement["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}
    assert any("service-wide" in p for p in iam_problems("glue", t))

    t = mutated(TEMPLATES["security"])  # the root delegation is allowed only where it is
    t["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"][1]["Action"] = "kms:*"
    assert any("wildcard action" in p for p in iam_problems("security", t))


def test_each_job_role_reaches_only_its_layers():
    def object_prefixes(role: str) -> set[str]:
        doc = TEMPLATES["glue"]["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
        found = set()
        for st in doc["Statement"]:
            if any(str(a).startswith("s3:") for a in st["Action"] if isinstance(st["Action"], list)) or str(
                st["Action"]
            ).startswith("s3:"):
                for r in st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]:
                    found.add(
                        (
                            tuple(st["Action"]) if isinstance(st["Action"], list) else (st["Action"],),
                            render(r),
                        )
                    )
        return {f"{'write' if 's3:PutObject' in a else 'read'}:{r.rsplit('/', 2)[-2]}" for a, r in found}

    assert object_prefixes("BronzeToSilverRole") == {"read:bronze", "write:silver", "write:quarantine"}
    assert object_prefixes("SilverToGoldRole") == {"read:silver", "write:gold"}
    assert object_prefixes("FinanceCloseRole") == {"read:silver", "write:gold"}


# ---------------------------------------------------------------- Glue jobs and their arguments
def test_glue_jobs_are_glue_51_delta_with_string_arguments():
    assert job_problems(TEMPLATES["glue"]) == []


def test_job_checker_catches_non_string_arguments_and_wrong_runtime():
    t = mutated(TEMPLATES["glue"])
    t["Resources"]["BronzeToSilverJob"]["Properties"]["DefaultArguments"]["--enable-metrics"] = True
    assert any("--enable-metrics" in p for p in job_problems(t))

    t = mutated(TEMPLATES["glue"])
    t["Resources"]["SilverToGoldJob"]["Properties"]["GlueVersion"] = 5.1
    t["Resources"]["SilverToGoldJob"]["Properties"]["DefaultArguments"][
        "--enable-continuous-cloudwatch-log"
    ] = "true"
    problems = job_problems(t)
    assert any("GlueVersion" in p for p in problems)
    assert any("continuous" in p for p in problems)

    t = mutated(TEMPLATES["glue"])
    args = t["Resources"]["FinanceCloseJob"]["Properties"]["DefaultArguments"]
    args["--extra-jars"] = {"Fn::Sub": "s3://b/v/jars/deequ.jar"}
    assert any("dqdl" in p for p in job_problems(t))


def test_template_job_arguments_match_the_job_configs(job_configs):
    required = {name: required_arguments(cls) for name, cls in job_configs.items()}
    assert job_argument_problems(TEMPLATES["glue"], job_configs, required) == []


@pytest.mark.parametrize("env", ENVS)
def test_the_jobs_own_parser_accepts_the_template_arguments(job_configs, env):
    params = load_env_parameters(PARAMS_DIR, env).parameters
    assert (
        parse_problems(
            TEMPLATES["glue"], job_configs, {**params, "ArtifactsVersion": "v1", "WheelFile": "w.whl"}
        )
        == []
    )


def test_parse_checker_catches_an_argument_the_job_rejects(job_configs):
    t = mutated(TEMPLATES["glue"])
    t["Resources"]["SilverToGoldJob"]["Properties"]["DefaultArguments"]["--full_refresh"] = "maybe"
    problems = parse_problems(t, job_configs, {"Env": "dev"})
    assert any("silver_to_gold" in p and "full_refresh" in p for p in problems)


def test_job_argument_checker_catches_drift(job_configs):
    required = {name: required_arguments(cls) for name, cls in job_configs.items()}
    t = mutated(TEMPLATES["glue"])
    args = t["Resources"]["SilverToGoldJob"]["Properties"]["DefaultArguments"]
    args["--pii_secret_id"] = "x"  # a bronze_to_silver argument silver_to_gold does not accept
    del args["--lake_root"]
    problems = job_argument_problems(t, job_configs, required)
    assert any("--pii_secret_id is not an argument" in p for p in problems)
    assert any("--lake_root not supplied" in p for p in problems)

    t = mutated(TEMPLATES["glue"])
    del t["Resources"]["FinanceCloseJob"]
    assert any("template jobs" in p for p in job_argument_problems(t, job_configs, required))


def test_job_names_databases_and_finance_arguments_follow_conventions():
    glue = TEMPLATES["glue"]
    jobs = resources(glue, "AWS::Glue::Job")
    assert sorted(render(j["Properties"]["Name"], {"Env": "prod"}) for j in jobs.values()) == sorted(
        f"lakehouse-prod-{n}" for n in JOB_NAMES
    )
    dbs = {
        render(d["Properties"]["DatabaseInput"]["Name"], {"Env": "dev"})
        for d in resources(glue, "AWS::Glue::Database").values()
    }
    assert {"dev_silver", "dev_gold"} <= dbs
    fc = jobs["FinanceCloseJob"]["Properties"]
    assert fc["DefaultArguments"]["--ledger_source"] == "jdbc"
    assert fc["DefaultArguments"]["--jdbc_connection_name"] == {"Ref": "LedgerConnection"}
    assert fc["Connections"]["Connections"] == [{"Ref": "LedgerConnection"}]
    assert fc["ExecutionClass"] == "STANDARD"
    for job in jobs.values():
        assert job["Properties"]["DefaultArguments"]["--database_prefix"] == {"Fn::Sub": "${Env}_"}


def test_security_configuration_encrypts_s3_cloudwatch_and_bookmarks():
    config = resources(TEMPLATES["glue"], "AWS::Glue::SecurityConfiguration")["SecurityConfiguration"]
    enc = config["Properties"]["EncryptionConfiguration"]
    assert enc["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert enc["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert enc["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"


# ---------------------------------------------------------------- parameter files
@pytest.mark.parametrize("env", ENVS)
def test_parameter_file_resolves_every_parameter(env):
    params = load_env_parameters(PARAMS_DIR, env)
    assert parameter_file_problems(TEMPLATES, params.parameters) == []


def test_parameter_checker_catches_missing_and_invalid_values():
    values = dict(load_env_parameters(PARAMS_DIR, "dev").parameters)
    del values["BudgetMonthlyUsd"]
    values["FlexExecution"] = "yes"
    values["AthenaBytesScannedCutoff"] = "1000"
    values["LedgerSubnetId"] = "subnet-dev"
    values["BronzeGlacierDays"] = values["BronzeExpirationDays"]
    values["Stray"] = "1"
    problems = "\n".join(parameter_file_problems(TEMPLATES, values))
    for needle in (
        "BudgetMonthlyUsd: no value",
        "FlexExecution",
        "AthenaBytesScannedCutoff",
        "LedgerSubnetId",
        "Bronze lifecycle",
        "Stray",
    ):
        assert needle in problems


def test_environments_differ_where_they_should():
    dev, prod = (load_env_parameters(PARAMS_DIR, e).parameters for e in ("dev", "prod"))
    assert dev["FlexExecution"] == "true" and prod["FlexExecution"] == "false"
    assert int(prod["BronzeExpirationDays"]) > int(dev["BronzeExpirationDays"])
    assert int(prod["BudgetMonthlyUsd"]) > int(dev["BudgetMonthlyUsd"])
    for env in ENVS:
        doc = json.loads((PARAMS_DIR / f"{env}.json").read_text())
        assert doc["Parameters"]["Env"] == env


# ---------------------------------------------------------------- cross-stack wiring and artifacts
def test_every_import_is_exported_by_an_earlier_stack():
    exported: set[str] = set()
    for stack, _ in STACKS:
        text = json.dumps(TEMPLATES[stack])
        for name in re.findall(r'"Fn::ImportValue": \{"Fn::Sub": "([^"]+)"\}', text):
            assert name in exported, f"{stack} imports {name} before it is exported"
        for output in TEMPLATES[stack].get("Outputs", {}).values():
            if "Export" in output:
                exported.add(output["Export"]["Name"]["Fn::Sub"])


def test_templates_reference_exactly_what_the_deployer_uploads(tmp_path):
    jars = tmp_path / "jars"
    jars.mkdir()
    for name in ("deequ-2.1.0-spark-3.5.jar", "dqdl-1.0.0.jar", "postgresql-42.7.14.jar"):
        (jars / name).write_bytes(b"jar")
    wheel = tmp_path / "lakehouse-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    plan = plan_artifacts(Path(__file__).resolve().parents[2], "v1", jars, wheel=wheel)
    uploaded = {f"s3://import:lakehouse-dev-artifacts-bucket/{k}" for k in plan.object_keys()}
    params = {"Env": "dev", "ArtifactsVersion": "v1", "WheelFile": wheel.name}
    referenced = set()
    for job in resources(TEMPLATES["glue"], "AWS::Glue::Job").values():
        p = job["Properties"]
        referenced.add(render(p["Command"]["ScriptLocation"], params))
        referenced.update(render(p["DefaultArguments"]["--extra-jars"], params).split(","))
        referenced.add(render(p["DefaultArguments"]["--additional-python-modules"], params))
    code = TEMPLATES["analytics"]["Resources"]["SpiceRefreshFunction"]["Properties"]["Code"]
    referenced.add(f"s3://import:lakehouse-dev-artifacts-bucket/{render(code['S3Key'], params)}")
    assert referenced <= uploaded, referenced - uploaded


# ---------------------------------------------------------------- analytics, cost, observability
def test_athena_workgroup_is_enforced_encrypted_and_capped():
    wg = TEMPLATES["analytics"]["Resources"]["AthenaWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert wg["EnforceWorkGroupConfiguration"] is True
    assert wg["PublishCloudWatchMetricsEnabled"] is True
    assert wg["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    cutoff = TEMPLATES["analytics"]["Parameters"][wg["BytesScannedCutoffPerQuery"]["Ref"]]
    assert cutoff["MinValue"] >= 10_000_000


def test_budget_notifies_actual_and_forecast_to_a_topic_budgets_may_publish_to():
    cost = TEMPLATES["cost"]
    budget = resources(cost, "AWS::Budgets::Budget")["MonthlyBudget"]["Properties"]
    assert budget["Budget"]["TimeUnit"] == "MONTHLY" and budget["Budget"]["BudgetType"] == "COST"
    kinds = {n["Notification"]["NotificationType"] for n in budget["NotificationsWithSubscribers"]}
    assert {"ACTUAL", "FORECASTED"} <= kinds
    topics = {s["Address"]["Ref"] for n in budget["NotificationsWithSubscribers"] for s in n["Subscribers"]}
    policies = [
        p
        for p in resources(cost, "AWS::SNS::TopicPolicy").values()
        if any({"Ref": t} in p["Properties"]["Topics"] for t in topics)
    ]
    assert len(policies) == 1
    policy = policies[0]
    principals = [
        s["Principal"].get("Service")
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert "budgets.amazonaws.com" in principals


def test_topics_queues_and_log_groups_are_encrypted_and_log_groups_expire():
    for stack, template in TEMPLATES.items():
        for name, topic in resources(template, "AWS::SNS::Topic").items():
            assert "KmsMasterKeyId" in topic["Properties"], (stack, name)
        for name, queue in resources(template, "AWS::SQS::Queue").items():
            assert "KmsMasterKeyId" in queue["Properties"], (stack, name)
        for name, group in resources(template, "AWS::Logs::LogGroup").items():
            assert "KmsKeyId" in group["Properties"] and "RetentionInDays" in group["Properties"], (
                stack,
                name,
            )


def _pattern(stack: str, rule: str, env: str = "dev") -> EventPattern:
    raw = TEMPLATES[stack]["Resources"][rule]["Properties"]["EventPattern"]

    def resolve(value):
        if isinstance(value, dict) and set(value) <= {"Fn::Sub", "Ref"}:
            return render(value, {"Env": env})
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    return EventPattern.load(json.dumps(resolve(raw)))


def _glue_event(job: str, state: str) -> dict:
    return {
        "source": "aws.glue",
        "detail-type": "Glue Job State Change",
        "detail": {"jobName": job, "state": state, "jobRunId": "jr_1", "severity": "ERROR", "message": "m"},
    }


@pytest.mark.parametrize(
    ("job", "state", "expected"),
    [
        ("lakehouse-dev-finance_close", "FAILED", True),
        ("lakehouse-dev-bronze_to_silver", "TIMEOUT", True),
        ("lakehouse-dev-silver_to_gold", "ERROR", True),
        ("lakehouse-dev-finance_close", "SUCCEEDED", False),
        ("lakehouse-prod-finance_close", "FAILED", False),
        ("someone-elses-job", "FAILED", False),
    ],
)
def test_job_failure_rule_pattern(job, state, expected):
    assert _pattern("observability", "GlueJobFailedRule").matches_event(_glue_event(job, state)) is expected


def test_data_quality_rule_pattern():
    pattern = _pattern("observability", "DataQualityFailedRule")

    def event(state, failed, job="lakehouse-dev-bronze_to_silver"):
        return {
            "source": "aws.glue-dataquality",
            "detail-type": "Data Quality Evaluation Results Available",
            "detail": {
                "context": {"contextType": "GLUE_JOB", "jobName": job},
                "state": state,
                "rulesFailed": failed,
            },
        }

    assert pattern.matches_event(event("FAILED", 2))
    assert pattern.matches_event(event("SUCCEEDED", 1))
    assert not pattern.matches_event(event("SUCCEEDED", 0))
    assert not pattern.matches_event(event("FAILED", 2, job="lakehouse-stage-bronze_to_silver"))


def test_spice_refresh_rule_fires_only_on_finance_close_success():
    pattern = _pattern("analytics", "FinanceCloseSucceededRule")
    assert pattern.matches_event(_glue_event("lakehouse-dev-finance_close", "SUCCEEDED"))
    assert not pattern.matches_event(_glue_event("lakehouse-dev-finance_close", "FAILED"))
    assert not pattern.matches_event(_glue_event("lakehouse-dev-silver_to_gold", "SUCCEEDED"))


def test_alarms_cover_each_job_duration_and_data_quality():
    alarms = resources(TEMPLATES["observability"], "AWS::CloudWatch::Alarm")
    durations = {
        render(d["Value"], {"Env": "dev"})
        for a in alarms.values()
        if a["Properties"].get("MetricName") == "glue.driver.aggregate.elapsedTime"
        for d in a["Properties"]["Dimensions"]
        if d["Name"] == "JobName"
    }
    assert durations == {f"lakehouse-dev-{n}" for n in JOB_NAMES}
    assert any(
        "data-quality" in render(a["Properties"]["AlarmName"], {"Env": "dev"}) for a in alarms.values()
    )
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"], alarm


def test_checkov_suppressions_carry_a_reason():
    for stack, template in TEMPLATES.items():
        for name, res in template["Resources"].items():
            for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (stack, name)
                assert len(skip.get("comment", "")) > 40, (stack, name, skip["id"])


def test_experiment_verdicts_raise_the_alarm_from_the_jobs_log_group():
    from lakehouse.gold.experiments import ALARMED_STATUSES

    (metric_filter,) = resources(TEMPLATES["observability"], "AWS::Logs::MetricFilter").values()
    pattern = metric_filter["Properties"]["FilterPattern"]
    for status in ALARMED_STATUSES:
        assert f'$.msg = "experiment {status}"' in pattern
    output_group = resources(TEMPLATES["glue"], "AWS::Logs::LogGroup")["JobsOutputLogGroup"]
    assert render(metric_filter["Properties"]["LogGroupName"], {"Env": "dev"}) == render(
        output_group["Properties"]["LogGroupName"], {"Env": "dev"}
    )
    (transform,) = metric_filter["Properties"]["MetricTransformations"]
    alarm = resources(TEMPLATES["observability"], "AWS::CloudWatch::Alarm")["ExperimentVerdictAlarm"]
    assert alarm["Properties"]["MetricName"] == transform["MetricName"]
    assert alarm["Properties"]["AlarmActions"]
