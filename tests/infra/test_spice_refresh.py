"""The SPICE refresh Lambda (infra/lambdas/spice_refresh/app.py): moto for the QuickSight API,
botocore's Stubber where moto has no implementation (ListIngestions)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

APP = Path(__file__).resolve().parents[2] / "infra" / "lambdas" / "spice_refresh" / "app.py"
ACCOUNT = "123456789012"
NOW = datetime(2025, 3, 4, 6, 30, tzinfo=UTC)
CONTEXT = SimpleNamespace(
    invoked_function_arn=f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:lakehouse-dev-spice-refresh"
)


def _load_app():
    spec = importlib.util.spec_from_file_location("spice_refresh_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = _load_app()


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch):
    monkeypatch.setenv("DATASET_IDS", "finance-close, kpis")
    monkeypatch.setenv("DAILY_INGESTION_QUOTA", "8")
    monkeypatch.setenv("EXPECTED_JOB_NAME", "lakehouse-dev-finance_close")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


def event(state="SUCCEEDED", job="lakehouse-dev-finance_close", run="jr_0123abcd"):
    return {
        "source": "aws.glue",
        "detail-type": "Glue Job State Change",
        "detail": {"jobName": job, "state": state, "jobRunId": run},
    }


def recorder(client):
    calls = []
    client.meta.events.register(
        "before-parameter-build.quicksight.*",
        lambda model, params, **_: calls.append((model.name, dict(params))),
    )
    return calls


@mock_aws
def test_success_event_starts_one_ingestion_per_data_set(monkeypatch):
    client = boto3.client("quicksight", region_name="eu-west-1")
    calls = recorder(client)
    monkeypatch.setattr(app, "recent_ingestion_count", lambda *a: 0)
    result = app.handler(event(), CONTEXT, client=client, now=NOW)
    assert result == {"status": "done", "datasets": {"finance-close": "started", "kpis": "started"}}
    created = [params for name, params in calls if name == "CreateIngestion"]
    assert [p["DataSetId"] for p in created] == ["finance-close", "kpis"]
    assert {p["IngestionId"] for p in created} == {"close-20250304-jr_0123abcd"}
    assert all(p["AwsAccountId"] == ACCOUNT and p["IngestionType"] == "FULL_REFRESH" for p in created)


@mock_aws
@pytest.mark.parametrize(
    "evt",
    [
        event(state="FAILED"),
        event(job="lakehouse-dev-silver_to_gold"),
        event(job="lakehouse-prod-finance_close"),
    ],
)
def test_other_events_are_ignored(evt):
    client = boto3.client("quicksight", region_name="eu-west-1")
    calls = recorder(client)
    assert app.handler(evt, CONTEXT, client=client, now=NOW) == {"status": "ignored"}
    assert calls == []


def _ingestions(*ages_hours):
    return [
        {
            "Arn": f"arn:i{n}",
            "IngestionId": f"i{n}",
            "IngestionStatus": "COMPLETED",
            "CreatedTime": NOW - timedelta(hours=h),
        }
        for n, h in enumerate(ages_hours)
    ]


def test_quota_counts_the_last_24_hours_across_pages():
    client = boto3.client("quicksight", region_name="eu-west-1")
    with Stubber(client) as stub:
        base = {"AwsAccountId": ACCOUNT, "DataSetId": "kpis", "MaxResults": 100}
        stub.add_response("list_ingestions", {"Ingestions": _ingestions(1, 5, 30), "NextToken": "t"}, base)
        stub.add_response("list_ingestions", {"Ingestions": _ingestions(23, 25)}, {**base, "NextToken": "t"})
        assert app.recent_ingestion_count(client, ACCOUNT, "kpis", NOW) == 3
        stub.assert_no_pending_responses()


def test_a_data_set_at_its_quota_is_skipped_the_others_refresh(monkeypatch):
    monkeypatch.setenv("DAILY_INGESTION_QUOTA", "2")
    client = boto3.client("quicksight", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_response(
            "list_ingestions",
            {"Ingestions": _ingestions(2, 3)},
            {"AwsAccountId": ACCOUNT, "DataSetId": "finance-close", "MaxResults": 100},
        )
        stub.add_response(
            "list_ingestions",
            {"Ingestions": _ingestions(2, 26)},
            {"AwsAccountId": ACCOUNT, "DataSetId": "kpis", "MaxResults": 100},
        )
        stub.add_response(
            "create_ingestion",
            {"Arn": "arn:x", "IngestionId": "close-20250304-jr_0123abcd", "IngestionStatus": "INITIALIZED"},
            {
                "AwsAccountId": ACCOUNT,
                "DataSetId": "kpis",
                "IngestionId": "close-20250304-jr_0123abcd",
                "IngestionType": "FULL_REFRESH",
            },
        )
        result = app.handler(event(), CONTEXT, client=client, now=NOW)
        stub.assert_no_pending_responses()
    assert result["datasets"] == {"finance-close": "skipped-quota", "kpis": "started"}


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("ResourceExistsException", "already-started"), ("LimitExceededException", "skipped-limit")],
)
def test_redelivered_events_and_service_limits_do_not_fail(code, outcome):
    client = boto3.client("quicksight", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_client_error("create_ingestion", service_error_code=code, http_status_code=409)
        result = app.refresh(client, ACCOUNT, ["kpis"], 8, "jr_1", NOW, count_recent=lambda *a: 0)
    assert result == {"kpis": outcome}


def test_other_errors_fail_the_invocation_so_it_is_retried():
    client = boto3.client("quicksight", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "create_ingestion", service_error_code="AccessDeniedException", http_status_code=403
        )
        with pytest.raises(app.ClientError):
            app.refresh(client, ACCOUNT, ["kpis"], 8, "jr_1", NOW, count_recent=lambda *a: 0)


def test_ingestion_id_is_safe_and_bounded():
    assert app.ingestion_id("jr_ab/cd:ef", NOW) == "close-20250304-jr_ab-cd-ef"
    assert len(app.ingestion_id("x" * 300, NOW)) == 128
