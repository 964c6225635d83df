"""Data-quality outcomes as CloudWatch metrics, for the alarms in ``infra/``.

Namespace ``Lakehouse/DataQuality``; metrics ``BlockingRulesFailed`` and
``WarnRulesFailed`` (counts per evaluation) with dimensions ``Job`` and ``Env``.
The CloudWatch client is passed in (a boto3 client in AWS, moto in tests).
"""

from __future__ import annotations

from lakehouse.dq.engine import RuleOutcome

NAMESPACE = "Lakehouse/DataQuality"


def outcome_metrics(outcomes: list[RuleOutcome], *, job: str, env: str) -> list[dict]:
    """The ``MetricData`` entries describing one evaluation."""
    dimensions = [{"Name": "Job", "Value": job}, {"Name": "Env", "Value": env}]
    failed = [o for o in outcomes if not o.passed]
    return [
        {
            "MetricName": name,
            "Dimensions": dimensions,
            "Value": float(sum(1 for o in failed if o.severity == severity)),
            "Unit": "Count",
        }
        for name, severity in (("BlockingRulesFailed", "blocking"), ("WarnRulesFailed", "warn"))
    ]


def publish_outcome_metrics(outcomes: list[RuleOutcome], *, job: str, env: str, cloudwatch) -> None:
    """Put the evaluation's failure counts to CloudWatch."""
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=outcome_metrics(outcomes, job=job, env=env))
