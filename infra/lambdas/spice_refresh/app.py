"""Refresh QuickSight SPICE data sets after a successful finance_close.

EventBridge invokes ``handler`` with a "Glue Job State Change" event. For each configured data
set the function counts the ingestions created in the last 24 hours and, while that count is
below the daily quota, calls CreateIngestion with an id derived from the Glue run id, so a
redelivered event never starts a second refresh for the same close.

Environment:
    DATASET_IDS             comma-separated SPICE data set ids
    DAILY_INGESTION_QUOTA   refreshes allowed per data set per rolling 24 hours
    EXPECTED_JOB_NAME       the finance_close Glue job name (other jobs' events are ignored)
    LOG_LEVEL               optional, default INFO

Standard library and boto3 only (both are in the Lambda Python runtime).
"""

from __future__ import annotations

import logging
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger(__name__)
LOG.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

WINDOW = timedelta(hours=24)
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def ingestion_id(job_run_id: str, now: datetime) -> str:
    """A CreateIngestion id unique per close run: ``close-<yyyymmdd>-<run id>`` (max 128, [\\w-])."""
    run = _ID_UNSAFE.sub("-", job_run_id) or "unknown"
    return f"close-{now:%Y%m%d}-{run}"[:128]


def recent_ingestion_count(client: Any, account_id: str, dataset_id: str, now: datetime) -> int:
    """Ingestions of a data set created within the last 24 hours (all types count toward the quota)."""
    since = now - WINDOW
    count = 0
    kwargs = {"AwsAccountId": account_id, "DataSetId": dataset_id, "MaxResults": 100}
    while True:
        page = client.list_ingestions(**kwargs)
        for ingestion in page.get("Ingestions", []):
            created = ingestion.get("CreatedTime")
            if created is not None and created >= since:
                count += 1
        token = page.get("NextToken")
        if not token:
            return count
        kwargs["NextToken"] = token


def refresh(
    client: Any,
    account_id: str,
    dataset_ids: list[str],
    quota: int,
    job_run_id: str,
    now: datetime,
    count_recent: Any = None,
) -> dict[str, str]:
    """Start one SPICE ingestion per data set within the quota; returns data set id -> outcome."""
    count_recent = count_recent or recent_ingestion_count
    outcomes: dict[str, str] = {}
    ingest_id = ingestion_id(job_run_id, now)
    for dataset_id in dataset_ids:
        used = count_recent(client, account_id, dataset_id, now)
        if used >= quota:
            LOG.warning("skip %s: %d ingestions in the last 24h, quota %d", dataset_id, used, quota)
            outcomes[dataset_id] = "skipped-quota"
            continue
        try:
            client.create_ingestion(
                AwsAccountId=account_id,
                DataSetId=dataset_id,
                IngestionId=ingest_id,
                IngestionType="FULL_REFRESH",
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceExistsException":
                LOG.info("ingestion %s of %s already exists (event redelivered)", ingest_id, dataset_id)
                outcomes[dataset_id] = "already-started"
                continue
            if code in {"LimitExceededException", "ThrottlingException"}:
                LOG.warning("skip %s: QuickSight refused the ingestion (%s)", dataset_id, code)
                outcomes[dataset_id] = "skipped-limit"
                continue
            raise
        LOG.info("started ingestion %s of %s", ingest_id, dataset_id)
        outcomes[dataset_id] = "started"
    return outcomes


def _account_id(context: Any) -> str:
    arn = getattr(context, "invoked_function_arn", "") or ""
    parts = arn.split(":")
    if len(parts) > 4 and parts[4]:
        return parts[4]
    return boto3.client("sts").get_caller_identity()["Account"]


def handler(event: dict, context: Any = None, client: Any = None, now: datetime | None = None) -> dict:
    """EventBridge entry point."""
    detail = event.get("detail") or {}
    expected = os.environ["EXPECTED_JOB_NAME"]
    if event.get("detail-type") != "Glue Job State Change" or detail.get("jobName") != expected:
        LOG.info("ignored event for job %r", detail.get("jobName"))
        return {"status": "ignored"}
    if detail.get("state") != "SUCCEEDED":
        LOG.info("ignored %s run of %s", detail.get("state"), expected)
        return {"status": "ignored"}
    dataset_ids = [d.strip() for d in os.environ.get("DATASET_IDS", "").split(",") if d.strip()]
    quota = int(os.environ["DAILY_INGESTION_QUOTA"])
    client = client or boto3.client("quicksight")
    outcomes = refresh(
        client,
        _account_id(context),
        dataset_ids,
        quota,
        str(detail.get("jobRunId", "")),
        now or datetime.now(UTC),
    )
    return {"status": "done", "datasets": outcomes}
