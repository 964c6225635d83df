"""The pre-commit configuration runs only tools the project pins and installs (nothing fetched)."""

import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_every_hook_is_local_and_its_tool_is_installed_by_setup():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    assert {"ruff-check", "ruff-format", "check-yaml", "end-of-file-fixer"} <= {h["id"] for h in hooks}
    for hook in hooks:
        tool = shlex.split(hook["entry"])[0]
        assert tool.startswith(".venv/bin/"), hook["id"]
        assert (ROOT / tool).exists(), f"{hook['id']}: {tool} is not installed by make setup"
