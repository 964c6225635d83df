"""Structural checks over the parsed CloudFormation templates (what no validator catches).

Each ``*_problems`` function returns a list of human-readable problems (empty = pass), so the
tests can assert both that the real templates pass and that broken fragments are caught.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from lakehouse.config import GLUE_SYSTEM_ARGUMENTS, ConfigError, parse_glue_arguments
from lakehouse.deploy.cfn_yaml import load_template
from lakehouse.deploy.stacks import DEPLOY_TIME_PARAMETERS, STACKS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "infra" / "templates"
PARAMS_DIR = ROOT / "infra" / "params"

# Actions that support no resource-level permissions, so "Resource": "*" is their only form.
UNSCOPED_ACTIONS = frozenset(
    {
        "cloudwatch:PutMetricData",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeRouteTables",
        "ec2:DescribeVpcAttribute",
    }
)
# (template, logical id, Sid) of the one statement allowed a wildcard action: the KMS key policy's
# root statement that delegates the key to IAM (AWS's default key policy; a key without it can
# become unmanageable).
WILDCARD_ACTION_ALLOWED = frozenset({("security", "DataKey", "DelegateToAccountIam")})
POLICY_RESOURCE_TYPES = {
    "AWS::IAM::Role": "identity",
    "AWS::IAM::ManagedPolicy": "identity",
    "AWS::IAM::Policy": "identity",
    "AWS::S3::BucketPolicy": "resource",
    "AWS::SNS::TopicPolicy": "resource",
    "AWS::SQS::QueuePolicy": "resource",
    "AWS::KMS::Key": "resource",
}
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}
SERVICE_WIDE = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:[^:]*:\*$|^arn:[^:]+:s3:::\*")
# Glue 5.x logs in real time; this flag is documented for Glue <= 4.0 only, so it is rejected.
FORBIDDEN_GLUE5_ARGUMENTS = ("--enable-continuous-cloudwatch-log", "--continuous-log-logGroup")


def load_all() -> dict[str, dict]:
    """Stack name -> parsed template, in deploy order."""
    return {stack: load_template(TEMPLATES_DIR / file) for stack, file in STACKS}


def resources(template: dict, resource_type: str) -> dict[str, dict]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == resource_type}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def render(value: Any, params: dict[str, str] | None = None) -> Any:
    """Resolve Ref/Sub/Join/ImportValue far enough to read names ("import:<name>" for imports)."""
    params = {**PSEUDO, **(params or {})}
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return params.get(arg, f"ref:{arg}")
        if key == "Fn::Sub":
            text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            scope = {**params, **{k: render(v, params) for k, v in local.items()}}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: str(scope.get(m.group(1), m.group(0))), text)
        if key == "Fn::ImportValue":
            return f"import:{render(arg, params)}"
        if key == "Fn::Join":
            return str(arg[0]).join(str(render(v, params)) for v in as_list(render(arg[1], params)))
        if key == "Fn::Split":
            return str(render(arg[1], params)).split(arg[0])
        if key == "Fn::GetAtt":
            return f"getatt:{'.'.join(arg)}"
    if isinstance(value, list):
        return [render(v, params) for v in value]
    return value


def job_short_name(job: dict) -> str:
    """``lakehouse-${Env}-bronze_to_silver`` -> ``bronze_to_silver``."""
    return render(job["Properties"]["Name"], {"Env": "ENV"}).removeprefix("lakehouse-ENV-")


# ---------------------------------------------------------------- workflow and triggers
def workflow_chain(glue: dict, on_demand: frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """(job names in the order the triggers run them, problems); ``on_demand`` jobs are
    started by hand, outside the triggers."""
    problems: list[str] = []
    jobs = resources(glue, "AWS::Glue::Job")
    workflows = resources(glue, "AWS::Glue::Workflow")
    if len(workflows) != 1:
        problems.append(f"expected one workflow, found {len(workflows)}")
    for name, wf in workflows.items():
        if wf["Properties"].get("MaxConcurrentRuns") != 1:
            problems.append(f"{name}: MaxConcurrentRuns must be 1")

    def job_of(ref: Any) -> str | None:
        logical = ref.get("Ref") if isinstance(ref, dict) else None
        return job_short_name(jobs[logical]) if logical in jobs else None

    start: list[str] = []
    edges: dict[str, list[str]] = {}
    for name, trigger in resources(glue, "AWS::Glue::Trigger").items():
        props = trigger["Properties"]
        kind = props.get("Type")
        targets = [job_of(a.get("JobName")) for a in props.get("Actions", [])]
        if None in targets:
            problems.append(f"{name}: an action does not Ref a job of this template")
        if not (
            isinstance(props.get("WorkflowName"), dict) and props["WorkflowName"].get("Ref") in workflows
        ):
            problems.append(f"{name}: not in the workflow")
        if kind in ("SCHEDULED", "CONDITIONAL") and props.get("StartOnCreation") is not True:
            problems.append(f"{name}: {kind} trigger without StartOnCreation: true never fires")
        if kind == "SCHEDULED":
            if not str(props.get("Schedule", "")).startswith("cron(") and not isinstance(
                props.get("Schedule"), dict
            ):
                problems.append(f"{name}: SCHEDULED trigger without a Schedule")
            start.extend(t for t in targets if t)
        elif kind == "CONDITIONAL":
            predicate = props.get("Predicate") or {}
            conditions = predicate.get("Conditions") or []
            if predicate.get("Logical") not in ("AND", "ANY") or not conditions:
                problems.append(f"{name}: CONDITIONAL trigger needs Predicate.Logical and Conditions")
            for cond in conditions:
                if cond.get("LogicalOperator") != "EQUALS" or cond.get("State") != "SUCCEEDED":
                    problems.append(f"{name}: each condition must be LogicalOperator EQUALS, State SUCCEEDED")
                source = job_of(cond.get("JobName"))
                if source is None:
                    problems.append(f"{name}: a condition does not Ref a job of this template")
                    continue
                for t in targets:
                    if t == source:
                        problems.append(f"{name}: {t} restarts itself")
                    elif t:
                        edges.setdefault(source, []).append(t)
        else:
            problems.append(f"{name}: unexpected trigger type {kind}")
    if len(start) != 1:
        problems.append(f"expected one scheduled start job, found {start}")
        return [], problems
    order = [start[0]]
    while edges.get(order[-1]):
        nxt = edges[order[-1]]
        if len(nxt) != 1 or nxt[0] in order:
            problems.append(f"after {order[-1]} the chain branches or loops: {nxt}")
            break
        order.append(nxt[0])
    unreached = sorted({job_short_name(j) for j in jobs.values()} - set(order) - on_demand)
    if unreached:
        problems.append(f"jobs not reached by the workflow: {unreached}")
    return order, problems


def workflow_graph_problems(graph, glue: dict, analytics: dict) -> list[str]:
    """The Glue workflow, its triggers and the SPICE refresh rule against the workflow graph
    (``workflows/<name>.yaml``): same start, same edges, same conditions, same data sets."""
    problems: list[str] = []
    jobs = resources(glue, "AWS::Glue::Job")
    by_logical = {logical: job_short_name(job) for logical, job in jobs.items()}
    graph_jobs = {s.name for s in graph.steps if s.kind == "job"}
    on_demand = {s.name for s in graph.on_demand}
    for short in sorted(set(by_logical.values()) - graph_jobs - on_demand):
        problems.append(f"template job {short} is not in workflows/{graph.name}.yaml")
    for short in sorted(graph_jobs - set(by_logical.values())):
        problems.append(f"graph job {short} has no AWS::Glue::Job in the template")

    def job_of(ref: Any) -> str | None:
        return by_logical.get(ref.get("Ref")) if isinstance(ref, dict) else None

    scheduled: dict[str, Any] = {}
    waits: dict[str, set[str]] = {}
    for name, trigger in resources(glue, "AWS::Glue::Trigger").items():
        props = trigger["Properties"]
        targets = [job_of(a.get("JobName")) for a in props.get("Actions", [])]
        if props.get("Type") == "SCHEDULED":
            for t in targets:
                scheduled[t or "?"] = props.get("Schedule")
        elif props.get("Type") == "CONDITIONAL":
            predicate = props.get("Predicate") or {}
            if predicate.get("Logical") != "AND":
                problems.append(f"{name}: the graph's `after` means all of them (Logical AND)")
            sources = {job_of(c.get("JobName")) or "?" for c in predicate.get("Conditions") or []}
            for t in targets:
                if t in waits:
                    problems.append(f"{t} is started by more than one conditional trigger")
                waits[t or "?"] = sources
    start = graph.start_step()
    if set(scheduled) != {start.name}:
        problems.append(f"the schedule starts {sorted(scheduled)}, the graph starts {start.name}")
    elif scheduled[start.name] != {"Ref": graph.schedule_parameter}:
        problems.append(f"the SCHEDULED trigger's Schedule is not Ref {graph.schedule_parameter}")
    for step in graph.steps:
        if step.kind != "job" or step.start:
            continue
        if step.name not in waits:
            problems.append(f"{step.name}: no conditional trigger starts it")
        elif waits[step.name] != set(step.after):
            problems.append(
                f"{step.name}: its trigger waits on {sorted(waits[step.name])}, graph says {list(step.after)}"
            )
    for extra in sorted(set(waits) - graph_jobs):
        problems.append(f"a trigger starts {extra}, which the graph does not schedule")
    for job in sorted(on_demand & (set(waits) | set(scheduled))):
        problems.append(f"{job} is on demand in the graph but a trigger starts it")

    for step in (s for s in graph.steps if s.kind == "bi_refresh"):
        rules = resources(analytics, "AWS::Events::Rule")
        functions = resources(analytics, "AWS::Lambda::Function")
        expected_names = [f"lakehouse-ENV-{a}" for a in step.after]
        matching = []
        for rule_name, rule in rules.items():
            pattern = rule["Properties"].get("EventPattern") or {}
            detail = pattern.get("detail") or {}
            names = [render(n, {"Env": "ENV"}) for n in detail.get("jobName", [])]
            if names == expected_names and detail.get("state") == ["SUCCEEDED"]:
                matching.append(rule_name)
        if len(matching) != 1:
            problems.append(f"{step.name}: expected one rule on {step.after} SUCCEEDED, found {matching}")
            continue
        targets = rules[matching[0]]["Properties"].get("Targets", [])
        fn_names = [t["Arn"]["Fn::GetAtt"][0] for t in targets if "Fn::GetAtt" in t.get("Arn", {})]
        if len(fn_names) != 1 or fn_names[0] not in functions:
            problems.append(f"{step.name}: the rule {matching[0]} does not invoke one Lambda of the template")
            continue
        variables = functions[fn_names[0]]["Properties"].get("Environment", {}).get("Variables", {})
        if variables.get("DATASET_IDS") != {"Ref": step.datasets_parameter}:
            problems.append(f"{step.name}: the Lambda's DATASET_IDS is not Ref {step.datasets_parameter}")
        if [render(variables.get("EXPECTED_JOB_NAME"), {"Env": "ENV"})] != expected_names:
            problems.append(f"{step.name}: the Lambda's EXPECTED_JOB_NAME is not {expected_names}")
    return problems


# ---------------------------------------------------------------- S3
def _is_tls_deny(statement: dict, bucket: str) -> bool:
    if statement.get("Effect") != "Deny" or statement.get("Principal") not in ("*", {"AWS": "*"}):
        return False
    if "s3:*" not in as_list(statement.get("Action")):
        return False
    if str(statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower() != "false":
        return False
    arn = {"Fn::GetAtt": [bucket, "Arn"]}
    objects = {"Fn::Join": ["", [arn, "/*"]]}
    res = as_list(statement.get("Resource"))
    return arn in res and objects in res


def bucket_problems(template: dict) -> list[str]:
    problems = []
    policies = resources(template, "AWS::S3::BucketPolicy").values()
    for name, bucket in resources(template, "AWS::S3::Bucket").items():
        props = bucket.get("Properties", {})
        rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        sse = rules[0].get("ServerSideEncryptionByDefault", {}) if rules else {}
        exception = bucket.get("Metadata", {}).get("lakehouse", {}).get("encryption-exception")
        if sse.get("SSEAlgorithm") == "aws:kms":
            if not sse.get("KMSMasterKeyID"):
                problems.append(f"{name}: SSE-KMS without the customer-managed key")
        elif not (exception and sse.get("SSEAlgorithm") == "AES256"):
            problems.append(f"{name}: not SSE-KMS (and no documented encryption-exception)")
        pab = props.get("PublicAccessBlockConfiguration", {})
        for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
            if pab.get(flag) is not True:
                problems.append(f"{name}: public access block {flag} is not true")
        if not props.get("LifecycleConfiguration", {}).get("Rules"):
            problems.append(f"{name}: no lifecycle rules")
        mine = [p for p in policies if p["Properties"].get("Bucket") == {"Ref": name}]
        statements = [s for p in mine for s in as_list(p["Properties"]["PolicyDocument"]["Statement"])]
        if not any(_is_tls_deny(s, name) for s in statements):
            problems.append(f"{name}: no TLS-only Deny on the bucket and bucket/* (long-form GetAtt)")
    return problems


# ---------------------------------------------------------------- IAM
def policy_statements(stack: str, template: dict):
    """(logical id, kind, statement) for every policy statement in the template."""
    for name, res in template.get("Resources", {}).items():
        kind = POLICY_RESOURCE_TYPES.get(res.get("Type"))
        if not kind:
            continue
        props = res.get("Properties", {})
        docs = []
        if res["Type"] == "AWS::IAM::Role":
            docs.append(props.get("AssumeRolePolicyDocument", {}))
            docs.extend(p["PolicyDocument"] for p in props.get("Policies", []))
        elif res["Type"] == "AWS::KMS::Key":
            docs.append(props.get("KeyPolicy", {}))
        else:
            docs.append(props.get("PolicyDocument", {}))
        for doc in docs:
            for statement in as_list(doc.get("Statement", [])):
                yield name, kind, statement


def iam_problems(stack: str, template: dict) -> list[str]:
    problems = []
    for name, kind, st in policy_statements(stack, template):
        if st.get("Effect") != "Allow":
            continue
        sid = st.get("Sid", "?")
        where = f"{stack}/{name}/{sid}"
        if "NotAction" in st or "NotResource" in st:
            problems.append(f"{where}: Allow with NotAction/NotResource")
        actions = [a for a in as_list(st.get("Action", [])) if isinstance(a, str)]
        if any("*" in a for a in actions) and (stack, name, sid) not in WILDCARD_ACTION_ALLOWED:
            problems.append(f"{where}: wildcard action {[a for a in actions if '*' in a]}")
        if kind != "identity":
            continue
        for resource in as_list(st.get("Resource", [])):
            rendered = render(resource, {"Env": "dev"})
            for value in as_list(rendered):
                if value == "*" and not set(actions) <= UNSCOPED_ACTIONS:
                    problems.append(f"{where}: Resource '*' for actions that can be scoped: {actions}")
                elif isinstance(value, str) and SERVICE_WIDE.match(value):
                    problems.append(f"{where}: service-wide resource {value}")
    return problems


# ---------------------------------------------------------------- Glue jobs
def job_problems(glue: dict) -> list[str]:
    problems = []
    params = glue.get("Parameters", {})
    for name, job in resources(glue, "AWS::Glue::Job").items():
        p = job["Properties"]
        args = p.get("DefaultArguments", {})
        for key, value in args.items():
            if not (isinstance(value, str) or (isinstance(value, dict) and len(value) == 1)):
                problems.append(f"{name}: DefaultArguments[{key}] is {type(value).__name__}, not a string")
        if p.get("GlueVersion") != "5.1":
            problems.append(f"{name}: GlueVersion must be the string '5.1'")
        cmd = p.get("Command", {})
        if cmd.get("Name") != "glueetl" or cmd.get("PythonVersion") != "3":
            problems.append(f"{name}: Command must be glueetl with PythonVersion '3'")
        if "MaxCapacity" in p or not p.get("WorkerType") or not p.get("NumberOfWorkers"):
            problems.append(f"{name}: needs WorkerType and NumberOfWorkers, not MaxCapacity")
        for prop in ("Timeout", "MaxRetries", "SecurityConfiguration"):
            if prop not in p:
                problems.append(f"{name}: {prop} missing")
        expected = {
            "--datalake-formats": "delta",
            "--enable-glue-datacatalog": "true",
            "--enable-metrics": "true",
            "--enable-observability-metrics": "true",
        }
        for key, want in expected.items():
            if args.get(key) != want:
                problems.append(f"{name}: {key} must be {want!r}")
        if "--custom-logGroup-prefix" not in args:
            problems.append(f"{name}: no --custom-logGroup-prefix")
        for key in FORBIDDEN_GLUE5_ARGUMENTS:
            if key in args:
                problems.append(f"{name}: {key} is a Glue <= 4.0 flag")
        jars = str(render(args.get("--extra-jars", ""), {"Env": "dev"}))
        if "deequ" not in jars or "dqdl" not in jars:
            problems.append(f"{name}: --extra-jars needs both the deequ and dqdl jars")
        wheel = str(render(args.get("--additional-python-modules", args.get("--extra-py-files", "")), {}))
        if ".whl" not in wheel and "WheelFile" not in wheel:
            problems.append(f"{name}: the library wheel is not on the job's Python path")
        flex = p.get("ExecutionClass")
        if flex == "FLEX" or (isinstance(flex, dict) and "FLEX" in as_list(flex.get("Fn::If", []))):
            wt = p.get("WorkerType")
            allowed = params.get(wt["Ref"], {}).get("AllowedValues") if isinstance(wt, dict) else [wt]
            if not allowed or not set(allowed) <= {"G.1X", "G.2X"}:
                problems.append(f"{name}: FLEX needs WorkerType G.1X or G.2X, allowed {allowed}")
    return problems


def job_argument_problems(
    glue: dict, config_classes: dict[str, type], required: dict[str, list[str]]
) -> list[str]:
    """Template jobs == library jobs; --snake_case arguments are config fields; required ones given."""
    problems = []
    jobs = {job_short_name(j): j for j in resources(glue, "AWS::Glue::Job").values()}
    if set(jobs) != set(config_classes):
        problems.append(f"template jobs {sorted(jobs)} != library jobs {sorted(config_classes)}")
    for short, job in jobs.items():
        if short not in config_classes:
            continue
        fields = set(config_classes[short].__dataclass_fields__)
        names = [k[2:] for k in job["Properties"].get("DefaultArguments", {}) if k.startswith("--")]
        ours = [n for n in names if "-" not in n]
        for n in ours:
            if n == "JOB_NAME":
                problems.append(f"{short}: --JOB_NAME is passed by Glue itself")
            elif n not in fields and n not in GLUE_SYSTEM_ARGUMENTS:
                problems.append(
                    f"{short}: --{n} is not an argument of {config_classes[short].__module__}.Config"
                )
        for n in required[short]:
            if n != "JOB_NAME" and n not in ours:
                problems.append(f"{short}: required argument --{n} not supplied")
    return problems


def glue_argv(job: dict, params: dict[str, str]) -> list[str]:
    """The argv Glue hands the entrypoint: --JOB_NAME plus the rendered DefaultArguments."""
    argv = ["--JOB_NAME", render(job["Properties"]["Name"], params)]
    for key, value in job["Properties"].get("DefaultArguments", {}).items():
        argv += [key, str(render(value, params))]
    return argv


def parse_problems(glue: dict, config_classes: dict[str, type], params: dict[str, str]) -> list[str]:
    """Feed each job's DefaultArguments to the library's own Glue argument parser."""
    problems = []
    for job in resources(glue, "AWS::Glue::Job").values():
        short = job_short_name(job)
        try:
            config = parse_glue_arguments(config_classes[short], glue_argv(job, params))
        except (ConfigError, KeyError) as exc:
            problems.append(f"{short}: the job's parser rejects the template's arguments: {exc}")
            continue
        if config.env != params["Env"] or config.database_prefix != f"{params['Env']}_":
            problems.append(
                f"{short}: env/database_prefix parsed as {config.env!r}/{config.database_prefix!r}"
            )
    return problems


# ---------------------------------------------------------------- parameter files
def parameter_file_problems(templates: dict[str, dict], values: dict[str, str]) -> list[str]:
    problems = []
    declared: dict[str, dict] = {}
    for template in templates.values():
        declared.update(template.get("Parameters", {}))
    for name, spec in declared.items():
        if name in DEPLOY_TIME_PARAMETERS:
            continue
        if name not in values:
            if "Default" not in spec:
                problems.append(f"{name}: no value")
            continue
        value = str(values[name])
        if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
            problems.append(f"{name}={value!r} not in {spec['AllowedValues']}")
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
            problems.append(f"{name}={value!r} does not match {spec['AllowedPattern']}")
        if spec.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                problems.append(f"{name}={value!r} is not a number")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                problems.append(f"{name}={value} < MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                problems.append(f"{name}={value} > MaxValue {spec['MaxValue']}")
    for name in values:
        if name not in declared:
            problems.append(f"{name}: not a parameter of any template")
    if name_in(values, "BronzeInfrequentAccessDays", "BronzeGlacierDays", "BronzeExpirationDays"):
        ia, glacier, expiry = (
            int(values[k])
            for k in ("BronzeInfrequentAccessDays", "BronzeGlacierDays", "BronzeExpirationDays")
        )
        if not ia < glacier < expiry:
            problems.append(
                f"Bronze lifecycle must be IA < Glacier < expiry days, got {ia}/{glacier}/{expiry}"
            )
    if (
        name_in(values, "JobDurationAlarmSeconds", "JobTimeoutMinutes")
        and int(values["JobDurationAlarmSeconds"]) >= int(values["JobTimeoutMinutes"]) * 60
    ):
        problems.append("JobDurationAlarmSeconds must be below the job timeout")
    return problems


def name_in(values: dict, *names: str) -> bool:
    return all(n in values for n in names)


def mutated(template: dict) -> dict:
    return copy.deepcopy(template)
