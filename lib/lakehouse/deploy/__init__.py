"""``lakehouse deploy``: build, upload and deploy the platform to one environment.

Steps: build the wheel and collect the job scripts, jars, DQDL rulesets and the SPICE refresh
Lambda; deploy the security and storage stacks (change sets); upload the artifacts to
``s3://<artifacts bucket>/<version>/``; deploy the glue, analytics, observability and cost
stacks with that version. boto3 clients come from one session, so tests run it against moto.

Example::

    lakehouse deploy --env dev --dry-run
    python -m lakehouse.deploy --env dev --region eu-west-1
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakehouse.deploy.artifacts import DeployError, plan_artifacts, upload
from lakehouse.deploy.cfn_yaml import load_template
from lakehouse.deploy.stacks import (
    BOOTSTRAP_STACKS,
    ENVIRONMENTS,
    STACKS,
    change_set_name,
    deploy_stack,
    load_env_parameters,
    physical_id,
    placeholders,
    stack_name,
    stack_parameters,
)

__all__ = ["DeployError", "DeployResult", "add_arguments", "command", "default_version", "deploy", "main"]

LOG = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[3]


def default_version(root: Path = REPO_ROOT, now: datetime | None = None) -> str:
    """The git short sha (plus ``-dirty-<timestamp>`` for uncommitted changes), else a UTC timestamp."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        except OSError:
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    sha = git("rev-parse", "--short=12", "HEAD")
    if not sha:
        return stamp
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{sha}-dirty-{stamp}" if dirty else sha


@dataclass
class DeployResult:
    env: str
    version: str
    uploaded: list[str] = field(default_factory=list)
    stacks: dict[str, str] = field(default_factory=dict)


def deploy(
    session: Any,
    env: str,
    version: str,
    root: Path = REPO_ROOT,
    jars_dir: Path | None = None,
    wheel: Path | None = None,
    only: list[str] | None = None,
    dry_run: bool = False,
    allow_placeholders: bool = False,
    builder: Callable | None = None,
    waiter_delay: int = 10,
    out: Callable[[str], None] = print,
) -> DeployResult:
    """Deploy ``env``; see the module docstring. ``session`` is a boto3 Session."""
    params = load_env_parameters(root / "infra" / "params", env)
    left = placeholders(params)
    if left and not (dry_run or allow_placeholders):
        raise DeployError(
            f"infra/params/{env}.json still holds placeholder values for {', '.join(left)}: "
            "set this account's real values (see infra/README.md)"
        )
    jars_dir = jars_dir or Path(os.environ.get("LAKEHOUSE_JARS_DIR", root / ".jars"))
    kwargs = {"builder": builder} if builder else {}
    plan = plan_artifacts(root, version, jars_dir, wheel=wheel, **kwargs)
    result = DeployResult(env=env, version=version)
    selected = [s for s, _ in STACKS if not only or s in only]
    available = {**params.parameters, "ArtifactsVersion": version, "WheelFile": plan.wheel_file}
    tags = {**params.tags, "lakehouse:version": version}
    templates = {s: (root / "infra" / "templates" / f) for s, f in STACKS}

    if dry_run:
        out(f"dry run: env {env}, version {version}")
        for key in plan.object_keys():
            out(f"  would upload {key}")
        for stack in selected:
            template = load_template(templates[stack])
            names = [p["ParameterKey"] for p in stack_parameters(template, available)]
            out(f"  would deploy {stack_name(env, stack)} with {', '.join(names)}")
        return result

    cfn = session.client("cloudformation")
    s3 = session.client("s3")
    cs_name = change_set_name(version)

    def run_stack(stack: str) -> None:
        body = templates[stack].read_text(encoding="utf-8")
        parameters = stack_parameters(load_template(templates[stack]), available)
        name = stack_name(env, stack)
        outcome = deploy_stack(cfn, name, body, parameters, tags, cs_name, waiter_delay=waiter_delay)
        result.stacks[stack] = outcome
        out(f"{name}: {outcome}")

    for stack in BOOTSTRAP_STACKS:
        if stack in selected:
            run_stack(stack)
    bucket = physical_id(cfn, stack_name(env, "storage"), "ArtifactsBucket")
    result.uploaded = upload(s3, bucket, plan, env)
    out(f"uploaded {len(result.uploaded)} objects to s3://{bucket}/{version}/")
    for stack, _ in STACKS:
        if stack in selected and stack not in BOOTSTRAP_STACKS:
            run_stack(stack)
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``lakehouse deploy``."""
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS, help="Environment to deploy.")
    parser.add_argument("--region", default=None, help="AWS region (default: the profile's or AWS_REGION).")
    parser.add_argument("--profile", default=None, help="AWS named profile for the boto3 session.")
    parser.add_argument(
        "--version",
        default=None,
        help="Artifact version prefix (default: git short sha, '-dirty-<timestamp>' if uncommitted, "
        "or a UTC timestamp outside git).",
    )
    parser.add_argument(
        "--stacks",
        nargs="+",
        choices=[s for s, _ in STACKS],
        default=None,
        metavar="STACK",
        help=f"Deploy only these stacks ({', '.join(s for s, _ in STACKS)}); artifacts are always uploaded.",
    )
    parser.add_argument(
        "--wheel", type=Path, default=None, help="Use this prebuilt lakehouse wheel instead of building one."
    )
    parser.add_argument(
        "--jars-dir",
        type=Path,
        default=None,
        help="Folder with the resolved jars (default: $LAKEHOUSE_JARS_DIR or .jars; `make jars` fills it).",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="Build and list what would be uploaded and deployed; no AWS calls.",
    )
    parser.add_argument(
        "--allow-placeholders",
        action="store_true",
        help="Deploy even though the parameter file still holds placeholder VPC/Aurora values.",
    )


def command(args: argparse.Namespace) -> int:
    """Run ``lakehouse deploy``; returns the exit code."""
    version = args.version or default_version()
    session = None
    if not args.dry_run:
        import boto3

        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    try:
        result = deploy(
            session,
            args.env,
            version,
            jars_dir=args.jars_dir,
            wheel=args.wheel,
            only=args.stacks,
            dry_run=args.dry_run,
            allow_placeholders=args.allow_placeholders,
        )
    except DeployError as exc:
        sys.stderr.write(f"lakehouse deploy: {exc}\n")
        return 1
    if not args.dry_run:
        LOG.info("deployed %s version %s: %s", result.env, result.version, result.stacks)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lakehouse deploy", description=__doc__.splitlines()[0])
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return command(parser.parse_args(argv))
