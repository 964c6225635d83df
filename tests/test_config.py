"""Job configuration: Glue-form and CLI-form arguments give the same typed config."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lakehouse.cli import build_parser
from lakehouse.config import ConfigError, config_from_cli, parse_glue_arguments, required_arguments
from lakehouse.jobs import JOB_NAMES, get_job
from lakehouse.jobs.bronze_to_silver import Config as BronzeToSilverConfig


def cli_config(job, *options):
    args = build_parser().parse_args(["run", job, *options])
    return config_from_cli(get_job(job).config_class, job, args)


def test_glue_and_cli_forms_give_the_same_config():
    glue = parse_glue_arguments(
        BronzeToSilverConfig,
        [
            "--JOB_NAME", "bronze_to_silver",
            "--lake_root", "/tmp/lake/",
            "--max_record_bytes", "1024",
            "--run_id", "r1",
            # Glue adds its own arguments to every run; they are not ours and are ignored.
            "--job-bookmark-option", "job-bookmark-disable",
            "--TempDir", "s3://tmp/",
            "--enable-metrics", "true",
        ],
    )  # fmt: skip
    cli = cli_config(
        "bronze_to_silver", "--lake-root", "/tmp/lake/", "--max-record-bytes", "1024", "--run-id", "r1"
    )
    assert glue == cli
    assert glue.lake_root == "/tmp/lake"
    assert glue.max_record_bytes == 1024
    assert glue.dedupe_lookback_days == 7  # optional keys get their defaults


def test_glue_run_id_defaults_to_the_glue_job_run_id():
    config = parse_glue_arguments(
        BronzeToSilverConfig, ["--JOB_NAME", "b", "--lake_root", "s3://x", "--JOB_RUN_ID", "jr_123"]
    )
    assert config.run_id == "jr_123"


def test_config_is_frozen():
    config = parse_glue_arguments(BronzeToSilverConfig, ["--JOB_NAME", "b", "--lake_root", "/l"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lake_root = "/other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--JOB_NAME", "b"], "missing required argument(s): --lake_root"),
        (["--lake_root", "/l"], "missing required argument(s): --JOB_NAME"),
        (["--JOB_NAME", "b", "--lake_root", "/l", "--max_record_bytes", "big"], "expected an integer"),
        (
            ["--JOB_NAME", "b", "--lake_root", "/l", "--max_recrod_bytes", "5"],
            "unknown argument --max_recrod_bytes",
        ),
        (["--JOB_NAME", "b", "--lake_root", "/l", "--env", "qa"], "argument --env"),
        (["--JOB_NAME", "b", "stray"], "unexpected argument 'stray'"),
    ],
)
def test_bad_arguments_give_a_clear_error(argv, message):
    with pytest.raises(ConfigError) as error:
        parse_glue_arguments(BronzeToSilverConfig, argv)
    assert message in str(error.value)


@pytest.mark.parametrize("job", JOB_NAMES)
def test_every_job_requires_only_the_job_name_and_lake_root(job):
    assert required_arguments(get_job(job).config_class) == ["JOB_NAME", "lake_root"]


@given(
    lake_root=st.from_regex(r"(/|s3://)[a-z0-9][a-z0-9/_-]{0,30}", fullmatch=True),
    max_bytes=st.integers(min_value=1, max_value=2**40),
    lookback=st.integers(min_value=0, max_value=400),
)
def test_both_forms_agree_for_any_values(lake_root, max_bytes, lookback):
    glue = parse_glue_arguments(
        BronzeToSilverConfig,
        ["--JOB_NAME", "bronze_to_silver", f"--lake_root={lake_root}", "--max_record_bytes", str(max_bytes),
         "--dedupe_lookback_days", str(lookback), "--run_id", "same"],
    )  # fmt: skip
    cli = cli_config(
        "bronze_to_silver", "--lake-root", lake_root, "--max-record-bytes", str(max_bytes),
        "--dedupe-lookback-days", str(lookback), "--run-id", "same",
    )  # fmt: skip
    assert glue == cli


def test_secrets_are_masked_in_the_recorded_arguments():
    config = parse_glue_arguments(
        BronzeToSilverConfig, ["--JOB_NAME", "b", "--lake_root", "/l", "--pii_secret_id", "prod/pii-key"]
    )
    assert config.masked_arguments()["pii_secret_id"] == "****"
    assert config.masked_arguments()["lake_root"] == "/l"


@given(
    lake_root=st.from_regex(r"(/|s3://)[a-z0-9][a-z0-9/_=.-]{0,30}", fullmatch=True),
    run_id=st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True),
    inline=st.booleans(),
)
def test_the_equivalent_parser_reads_what_awsglue_resolves(lake_root, run_id, inline):
    from lakehouse.config import _glue_pairs, _resolve_with_awsglue

    pairs = [("JOB_NAME", "bronze_to_silver"), ("lake_root", lake_root), ("run_id", run_id)]
    argv = [f"--{k}={v}" for k, v in pairs] if inline else [t for k, v in pairs for t in (f"--{k}", v)]
    argv += ["--JOB_RUN_ID", "jr_1", "--enable-metrics", "true"]
    names = [k for k, _ in pairs]
    resolved = _resolve_with_awsglue(argv, names)
    assert resolved is not None, "awsglue (awsglue-dev) is a dev dependency and must be importable"
    assert resolved == {name: _glue_pairs(argv)[name] for name in names}
