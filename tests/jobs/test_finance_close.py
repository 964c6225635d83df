"""finance_close's typed options (the close itself is not in this build)."""

import pytest
from lakehouse.config import ConfigError, parse_glue_arguments
from lakehouse.jobs.finance_close import Config, run


def config(**kw):
    return Config(JOB_NAME="finance_close", lake_root="/tmp/lake", **kw)


def test_defaults_read_the_snapshot_under_the_lake():
    c = config()
    assert c.ledger_source == "snapshot"
    assert c.ledger_exports == "/tmp/lake/ledger/exports"
    assert config(ledger_export_root="s3://b/exports").ledger_exports == "s3://b/exports"


def test_glue_arguments_of_the_aws_job_are_accepted():
    c = parse_glue_arguments(
        Config,
        ["--JOB_NAME", "finance_close", "--lake_root", "s3://lake", "--ledger_source", "jdbc",
         "--jdbc_connection_name", "lakehouse-dev-ledger", "--business_timezone", "Europe/London",
         "--jdbc_fetch_size", "5000"],
    )  # fmt: skip
    assert (c.ledger_source, c.jdbc_connection_name, c.jdbc_fetch_size) == (
        "jdbc",
        "lakehouse-dev-ledger",
        5000,
    )


def test_local_jdbc_settings():
    jdbc = config(ledger_source="jdbc", jdbc_url="jdbc:postgresql://127.0.0.1:5432/ledger", jdbc_user="ro")
    settings = jdbc.ledger_jdbc()
    assert settings.properties() == {"driver": "org.postgresql.Driver", "fetchsize": "10000", "user": "ro"}
    with pytest.raises(ConfigError, match="come from --jdbc_url"):
        config(ledger_source="jdbc", jdbc_connection_name="conn").ledger_jdbc()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"ledger_source": "parquet"}, "expected one of snapshot, jdbc; got 'parquet'"),
        ({"ledger_source": "jdbc"}, "needs --jdbc_url or --jdbc_connection_name"),
        ({"business_timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"business_date": "2026-13-01"}, "expected a date YYYY-MM-DD"),
        ({"jdbc_fetch_size": 0}, "must be positive"),
    ],
)
def test_bad_options_are_clear_errors(kw, message):
    with pytest.raises(ConfigError, match=message):
        config(**kw)


def test_the_close_says_it_is_not_in_this_build():
    with pytest.raises(
        NotImplementedError,
        match=r"^finance_close: the daily close is not available in this build: it reconciles nothing",
    ):
        run(None, config())
