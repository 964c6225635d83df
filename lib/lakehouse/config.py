"""Typed job configuration and the parsing of Glue-style and CLI-style arguments.

Every job has one frozen dataclass. Its field names are the job's Glue argument
names (``--lake_root``); the CLI spells the same options with dashes
(``--lake-root``). Fields without a default are required. ``help`` metadata is
the option's documentation, shown by ``lakehouse run <job> --help`` and checked
against the CloudFormation job definitions in ``infra/``.

Example::

    config = parse_glue_arguments(BronzeToSilverConfig,
                                  ["--JOB_NAME", "bronze_to_silver", "--lake_root", "/tmp/lake"])
    config.lake_root  # '/tmp/lake'
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import types
import typing
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

C = TypeVar("C", bound="JobConfig")

# Arguments AWS Glue itself passes to every job run; a job accepts and ignores them.
GLUE_SYSTEM_ARGUMENTS = frozenset(
    {"JOB_ID", "JOB_RUN_ID", "WORKFLOW_NAME", "WORKFLOW_RUN_ID", "TempDir", "SECURITY_CONFIGURATION", "conf"}
)
SECRET_ARGUMENT_PATTERN = re.compile(r"(secret|password|token|key_material)", re.IGNORECASE)


class ConfigError(ValueError):
    """A missing or malformed job argument. The CLI prints it on one line and exits 2."""


def option(default: Any = dataclasses.MISSING, *, help: str) -> Any:  # noqa: A002
    """A config field with its documentation."""
    if default is dataclasses.MISSING:
        return field(metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class JobConfig:
    """Arguments every job accepts."""

    JOB_NAME: str = option(help="Job name (Glue passes it; locally the job's own name).")
    lake_root: str = option(help="Root URI of the lake: a local folder or s3://bucket/prefix.")
    env: str = option("local", help="Environment: local, dev, stage or prod.")
    run_id: str = option("", help="Run id; defaults to Glue's JOB_RUN_ID or a new UUID.")
    database_prefix: str = option("", help="Prefix of the catalog databases (e.g. 'dev_' gives dev_silver).")
    log_level: str = option("INFO", help="Log level: DEBUG, INFO, WARNING or ERROR.")

    def __post_init__(self) -> None:
        if not self.run_id:
            object.__setattr__(self, "run_id", uuid.uuid4().hex)
        if self.env not in {"local", "dev", "stage", "prod"}:
            raise ConfigError(f"argument --env: expected one of local, dev, stage, prod; got {self.env!r}")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(
                f"argument --log_level: expected DEBUG, INFO, WARNING or ERROR; got {self.log_level!r}"
            )
        if not self.lake_root:
            raise ConfigError("argument --lake_root: must not be empty")
        root = self.lake_root if "://" in self.lake_root else os.path.abspath(self.lake_root)
        object.__setattr__(self, "lake_root", root.rstrip("/") or "/")

    def database(self, layer: str) -> str:
        """Catalog database name of a layer (``silver`` or ``gold``) in this environment."""
        return f"{self.database_prefix}{layer}"

    def masked_arguments(self) -> dict[str, str]:
        """Arguments as strings for the run log, secrets masked."""
        return {
            f.name: "****"
            if SECRET_ARGUMENT_PATTERN.search(f.name) and getattr(self, f.name)
            else str(getattr(self, f.name))
            for f in dataclasses.fields(self)
        }


def argument_specs(config_class: type[JobConfig]) -> list[dataclasses.Field]:
    """The fields of a config class, in declaration order."""
    return list(dataclasses.fields(config_class))


def required_arguments(config_class: type[JobConfig]) -> list[str]:
    """Names of the arguments a run must be given."""
    return [
        f.name
        for f in dataclasses.fields(config_class)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


def _base_type(annotation: Any) -> type:
    hint = annotation
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0]
    return hint


def _coerce(name: str, raw: str, annotation: Any) -> Any:
    target = _base_type(annotation)
    try:
        if target is bool:
            lowered = raw.strip().lower()
            if lowered in {"true", "1", "yes"}:
                return True
            if lowered in {"false", "0", "no"}:
                return False
            raise ValueError
        if target is int:
            return int(raw)
        if target is date:
            return date.fromisoformat(raw)
    except ValueError:
        kind = {bool: "true or false", int: "an integer", date: "a date YYYY-MM-DD"}[target]
        raise ConfigError(f"argument --{name}: expected {kind}, got {raw!r}") from None
    return raw


def build_config(config_class: type[C], values: dict[str, str]) -> C:
    """Make a config from raw string values (keyed by Glue argument name)."""
    hints = typing.get_type_hints(config_class)
    missing = [name for name in required_arguments(config_class) if name not in values]
    if missing:
        raise ConfigError("missing required argument(s): " + ", ".join(f"--{m}" for m in missing))
    kwargs = {name: _coerce(name, raw, hints[name]) for name, raw in values.items()}
    return config_class(**kwargs)


def _glue_pairs(argv: list[str]) -> dict[str, str]:
    """Every ``--name value`` or ``--name=value`` pair, as awsglue's getResolvedOptions reads them."""
    pairs: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--"):
            raise ConfigError(f"unexpected argument {token!r}: arguments are --name value pairs")
        name, eq, inline = token[2:].partition("=")
        if eq:
            value, i = inline, i + 1
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            value, i = argv[i + 1], i + 2
        else:
            value, i = "", i + 1
        pairs[name] = value
    return pairs


def _resolve_with_awsglue(argv: list[str], names: list[str]) -> dict[str, str] | None:
    """Ask awsglue's getResolvedOptions, where it is importable; None when it is not."""
    try:
        from awsglue.utils import GlueArgumentError, getResolvedOptions
    except Exception:  # noqa: BLE001 - awsglue absent or broken: the pairs above are its equivalent
        return None
    try:
        resolved = getResolvedOptions(["job", *argv], names)
    except (GlueArgumentError, SystemExit) as exc:
        raise ConfigError(str(exc) or "invalid arguments") from None
    return {name: resolved[name] for name in names}


def parse_glue_arguments(config_class: type[C], argv: list[str]) -> C:
    """Parse Glue-style arguments (``--JOB_NAME x --lake_root y``) into a config.

    One path from argv to the frozen config: the pairs are read once; where awsglue can be
    imported (Glue, the Glue Docker image, ``awsglue-dev``) its ``getResolvedOptions`` resolves
    the names present, and ``build_config`` checks what is missing. Glue's own system arguments
    are ignored (``JOB_RUN_ID`` is the default ``run_id``); an unknown argument of ours is an error.
    """
    known = {f.name for f in dataclasses.fields(config_class)}
    pairs = _glue_pairs(argv)
    for name in pairs:
        # Glue's own arguments (--JOB_RUN_ID, --job-bookmark-option, --enable-metrics, ...) are not ours.
        if name not in known and name not in GLUE_SYSTEM_ARGUMENTS and "-" not in name:
            raise ConfigError(f"unknown argument --{name}")
    values = {name: value for name, value in pairs.items() if name in known}
    resolved = _resolve_with_awsglue(argv, sorted(values)) if values else None
    if resolved is not None:
        values = resolved
    if "run_id" not in values and "JOB_RUN_ID" in pairs:
        values["run_id"] = pairs["JOB_RUN_ID"]
    return build_config(config_class, values)


def add_cli_options(parser: argparse.ArgumentParser, config_class: type[JobConfig]) -> None:
    """Add one dashed CLI option per config field (``lake_root`` -> ``--lake-root``)."""
    for f in dataclasses.fields(config_class):
        if f.name == "JOB_NAME":
            continue
        required = f.default is dataclasses.MISSING
        default_note = "" if required else f" (default: {f.default!r})"
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            required=required,
            metavar=f.name.upper(),
            help=f.metadata.get("help", "") + default_note,
        )


def config_from_cli(config_class: type[C], job_name: str, namespace: argparse.Namespace) -> C:
    """Build the config from parsed CLI options (unset optional options keep their defaults)."""
    values = {
        name: value
        for name, value in vars(namespace).items()
        if value is not None and name in {f.name for f in dataclasses.fields(config_class)}
    }
    values.setdefault("JOB_NAME", job_name)
    return build_config(config_class, values)
