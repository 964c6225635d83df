"""Data-quality failure counts reach CloudWatch in the shape the alarms query (moto)."""

import boto3
from lakehouse.dq.engine import RuleOutcome
from lakehouse.dq.metrics import NAMESPACE, publish_outcome_metrics
from moto import mock_aws


def outcome(severity, result):
    return RuleOutcome("silver.events", "events", f"rule-{severity}-{result}", severity, result, None, {})


@mock_aws
def test_failed_rules_are_counted_by_severity():
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    outcomes = [
        outcome("blocking", "Failed"),
        outcome("blocking", "Failed"),
        outcome("blocking", "Passed"),
        outcome("warn", "Failed"),
    ]
    publish_outcome_metrics(outcomes, job="bronze_to_silver", env="dev", cloudwatch=cloudwatch)
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in listed} == {"BlockingRulesFailed", "WarnRulesFailed"}
    dims = [{"Name": "Job", "Value": "bronze_to_silver"}, {"Name": "Env", "Value": "dev"}]
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    stats = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="BlockingRulesFailed",
        Dimensions=dims,
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Sum"],
    )
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 2.0
