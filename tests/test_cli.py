"""The lakehouse command and the Glue entrypoint scripts: help, and one-line usage errors."""

import subprocess
import sys
from pathlib import Path

import pytest
from lakehouse.cli import build_parser, main
from lakehouse.jobs import JOB_NAMES, get_job

REPO = Path(__file__).resolve().parents[1]


def test_help_describes_every_option_of_every_job(capsys):
    for job in JOB_NAMES:
        with pytest.raises(SystemExit) as done:
            main(["run", job, "--help"])
        assert done.value.code == 0
        text = capsys.readouterr().out
        for field in get_job(job).config_class.__dataclass_fields__.values():
            if field.name != "JOB_NAME":
                assert "--" + field.name.replace("_", "-") in text
                assert field.metadata["help"].split()[0] in text


@pytest.mark.parametrize("command", ["run", "demo", "replay-quarantine", "deploy"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage: lakehouse" in capsys.readouterr().out


def test_missing_option_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["run", "bronze_to_silver"])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        err[-1] == "lakehouse run bronze_to_silver: error: the following arguments are required: --lake-root"
    )


def test_malformed_option_value_is_one_line_and_exit_2(capsys):
    assert main(["run", "bronze_to_silver", "--lake-root", "/tmp/x", "--max-record-bytes", "lots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "lakehouse run bronze_to_silver: error: argument --max_record_bytes: expected an integer, got 'lots'"
    ]


@pytest.mark.parametrize("job", JOB_NAMES)
def test_glue_entrypoint_rejects_bad_arguments_with_exit_2(job):
    script = REPO / "jobs" / job / f"{job}.py"
    done = subprocess.run(
        [sys.executable, str(script), "--JOB_NAME", job], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"{job}: error: missing required argument(s): --lake_root"
    assert "Traceback" not in done.stderr
