"""What a deploy uploads: job scripts, the library wheel, the JVM jars, DQDL rulesets, the
SPICE refresh Lambda and the templates, all under ``s3://<artifacts bucket>/<version>/``.

Layout (the templates reference these keys; ``tests/infra`` checks they agree)::

    <version>/jobs/<job>/<job>.py          Glue entrypoints (ScriptLocation)
    <version>/python/<wheel file>          --additional-python-modules
    <version>/jars/{deequ,dqdl,postgresql}.jar   --extra-jars
    <version>/rulesets/<job>/.../*.dqdl    DQDL rulesets (also inside the wheel)
    <version>/lambdas/spice_refresh.zip    the SPICE refresh Lambda
    <version>/templates/<stack>.yaml       the templates deployed, for the record
    <version>/manifest.json                every key above with its sha256
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.jobs import JOB_NAMES

LOG = logging.getLogger(__name__)

# Stable key name in S3 -> file-name pattern in the jars folder (versions come from pom.xml).
JARS = {"deequ": "deequ-*.jar", "dqdl": "dqdl-*.jar", "postgresql": "postgresql-*.jar"}
LAMBDAS = ("spice_refresh",)


class DeployError(RuntimeError):
    """A deploy cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Artifact:
    key: str  # relative to the version prefix
    body: bytes
    source: str  # where it came from, for the manifest

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass
class ArtifactPlan:
    version: str
    wheel_file: str
    artifacts: list[Artifact] = field(default_factory=list)

    def object_keys(self) -> list[str]:
        return [f"{self.version}/{a.key}" for a in self.artifacts]

    def manifest(self, env: str) -> bytes:
        doc = {
            "version": self.version,
            "env": env,
            "wheel_file": self.wheel_file,
            "artifacts": [
                {
                    "key": f"{self.version}/{a.key}",
                    "sha256": a.sha256,
                    "size": len(a.body),
                    "source": a.source,
                }
                for a in self.artifacts
            ],
        }
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def build_wheel(root: Path, outdir: Path) -> Path:
    """Build the lakehouse wheel with ``python -m build`` into ``outdir``; return its path."""
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir), str(root)]
    LOG.info("building the wheel: %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DeployError(f"wheel build failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    wheels = sorted(outdir.glob("lakehouse-*.whl"))
    if len(wheels) != 1:
        raise DeployError(f"expected one lakehouse wheel in {outdir}, found {[w.name for w in wheels]}")
    return wheels[0]


def find_jars(jars_dir: Path) -> dict[str, Path]:
    """The one jar per JARS entry in ``jars_dir``; a clear error when missing or ambiguous."""
    found: dict[str, Path] = {}
    for name, pattern in JARS.items():
        matches = sorted(jars_dir.glob(pattern)) if jars_dir.is_dir() else []
        if not matches:
            raise DeployError(
                f"no {pattern} in {jars_dir}: resolve the JVM jars first with `make jars` (Maven, pom.xml)"
            )
        if len(matches) > 1:
            raise DeployError(
                f"several {pattern} in {jars_dir}: {[m.name for m in matches]}; run `make jars` afresh"
            )
        found[name] = matches[0]
    return found


def zip_lambda(source_dir: Path) -> bytes:
    """A reproducible zip of a Lambda folder's Python files (fixed timestamps, sorted)."""
    files = sorted(p for p in source_dir.rglob("*.py") if "__pycache__" not in p.parts)
    if not files:
        raise DeployError(f"no Python files in {source_dir}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source_dir).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def plan_artifacts(
    root: Path,
    version: str,
    jars_dir: Path,
    wheel: Path | None = None,
    builder: Callable[[Path, Path], Path] = build_wheel,
) -> ArtifactPlan:
    """Collect everything to upload; builds the wheel unless one is given."""
    jars = find_jars(jars_dir)  # fail fast, before the slow wheel build
    artifacts: list[Artifact] = []
    for job in JOB_NAMES:
        script = root / "jobs" / job / f"{job}.py"
        if not script.is_file():
            raise DeployError(f"job entrypoint missing: {script}")
        artifacts.append(Artifact(f"jobs/{job}/{job}.py", script.read_bytes(), str(script.relative_to(root))))
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = wheel or builder(root, Path(tmp))
        wheel_file = wheel_path.name
        artifacts.append(Artifact(f"python/{wheel_file}", wheel_path.read_bytes(), wheel_file))
    for name, path in jars.items():
        artifacts.append(Artifact(f"jars/{name}.jar", path.read_bytes(), path.name))
    for ruleset in sorted((root / "jobs").rglob("*.dqdl")):
        rel = ruleset.relative_to(root / "jobs").as_posix()
        artifacts.append(Artifact(f"rulesets/{rel}", ruleset.read_bytes(), str(ruleset.relative_to(root))))
    for name in LAMBDAS:
        folder = root / "infra" / "lambdas" / name
        artifacts.append(Artifact(f"lambdas/{name}.zip", zip_lambda(folder), str(folder.relative_to(root))))
    for template in sorted((root / "infra" / "templates").glob("*.yaml")):
        artifacts.append(
            Artifact(f"templates/{template.name}", template.read_bytes(), str(template.relative_to(root)))
        )
    return ArtifactPlan(version=version, wheel_file=wheel_file, artifacts=artifacts)


def upload(s3: Any, bucket: str, plan: ArtifactPlan, env: str) -> list[str]:
    """Upload every artifact and the manifest (last, so its presence means a complete upload)."""
    keys = []
    for artifact in plan.artifacts:
        key = f"{plan.version}/{artifact.key}"
        s3.put_object(Bucket=bucket, Key=key, Body=artifact.body, Metadata={"sha256": artifact.sha256})
        LOG.info("uploaded s3://%s/%s (%d bytes)", bucket, key, len(artifact.body))
        keys.append(key)
    manifest_key = f"{plan.version}/manifest.json"
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=plan.manifest(env), ContentType="application/json")
    keys.append(manifest_key)
    return keys
