"""finance_close's typed options, the close it requests, and a close that cannot read its ledger."""

from datetime import UTC, date, datetime

import pytest
from lakehouse.config import ConfigError, parse_glue_arguments
from lakehouse.finance import state as S
from lakehouse.finance.close import CloseError
from lakehouse.jobs.finance_close import Config, close_request, run
from lakehouse.lake.paths import LakePaths


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


def test_the_request_closes_yesterday_in_the_business_time_zone_by_default():
    # 03:30 UTC on 2026-11-02 is still 2026-11-01 in New York: yesterday there is 2026-10-31.
    now = datetime(2026, 11, 2, 3, 30, tzinfo=UTC)
    request = close_request(config(business_timezone="America/New_York"), now=now)
    assert request.close_date == date(2026, 10, 31)
    assert close_request(config(business_timezone="Asia/Tokyo"), now=now).close_date == date(2026, 11, 1)
    given = close_request(config(business_date="2026-11-01", restate=True, run_id="r1"))
    assert (given.close_date, given.restate, given.attempt_id) == (date(2026, 11, 1), True, "r1")
    assert given.ledger.kind == "snapshot" and given.ledger.exports_root == "/tmp/lake/ledger/exports"


def test_a_close_without_a_ledger_export_fails_with_the_reason_and_records_it(spark, lake):
    with pytest.raises(CloseError, match=r"no complete ledger export under .*/ledger/exports"):
        run(spark, Config(JOB_NAME="finance_close", lake_root=lake, business_date="2026-11-01", run_id="r1"))
    (attempt,) = S.close_run_view(spark, LakePaths(lake)).collect()
    assert (attempt.state, attempt.close_run_id) == ("failed", "close-2026-11-01-v1")
    assert attempt.reason.startswith("no complete ledger export")
