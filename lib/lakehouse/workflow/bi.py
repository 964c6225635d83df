"""The BI refresh step, run locally: record which QuickSight SPICE data sets would be refreshed.

In AWS, a successful finance_close fires the EventBridge rule that invokes the
``spice_refresh`` Lambda with the data sets of the ``QuickSightDataSetIds`` parameter
(infra/templates/analytics.yaml). Locally there is no QuickSight: the step reads the same
parameter from ``infra/params/<env>.json`` and records, in ``_system/bi_refreshes``, the data
sets and the ingestion id the Lambda would use, and only for a close that was published
and not refreshed before.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.assets import repo_root
from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths

log = logging.getLogger(__name__)

BI_REFRESHES_SCHEMA = T.StructType(
    [
        T.StructField("workflow_run_id", T.StringType(), False),
        T.StructField("env", T.StringType(), False),
        T.StructField("datasets", T.ArrayType(T.StringType()), False),
        T.StructField("ingestion_id", T.StringType(), False),
        T.StructField("close_business_date", T.StringType(), False),
        T.StructField("close_publication_id", T.StringType(), False),
        T.StructField("recorded_at", T.TimestampType(), False),
    ]
)


class BiRefreshError(RuntimeError):
    """The data sets to refresh cannot be known (no parameter file for the environment)."""


@dataclass(frozen=True)
class PublishedClose:
    business_date: str
    publication_id: str


@dataclass(frozen=True)
class BiOutcome:
    refreshed: bool
    datasets: tuple[str, ...]
    summary: str
    close: PublishedClose | None = None


def dataset_ids(env: str, parameter: str) -> tuple[str, ...]:
    """The data set ids the SPICE Lambda of ``env`` receives (``infra/params/<env>.json``)."""
    from lakehouse.deploy.stacks import load_env_parameters

    root = repo_root()
    if root is None or not (root / "infra" / "params").is_dir():
        raise BiRefreshError("infra/params is not available (run from a checkout of the repository)")
    values = load_env_parameters(root / "infra" / "params", env).parameters
    if parameter not in values:
        raise BiRefreshError(f"infra/params/{env}.json has no {parameter}")
    return tuple(d.strip() for d in values[parameter].split(",") if d.strip())


def latest_published_close(spark: SparkSession, lake_root: str) -> PublishedClose | None:
    """The last close finance_close published (its state in ``_system/close_runs``), or None."""
    from lakehouse.finance.state import latest_published_close as latest

    found = latest(spark, lake_root)
    if found is None:
        return None
    return PublishedClose(str(found.business_date), str(found.publication_id))


def lambda_ingestion_id(run_id: str, now: datetime) -> str:
    """The CreateIngestion id the Lambda would use (its own function, read from infra/)."""
    root = repo_root()
    app = root / "infra" / "lambdas" / "spice_refresh" / "app.py" if root else None
    if app is None or not app.is_file():
        return f"close-{now:%Y%m%d}-{run_id}"
    spec = importlib.util.spec_from_file_location("spice_refresh_app", app)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.ingestion_id(run_id, now)


def already_refreshed(spark: SparkSession, lake_root: str, publication_id: str) -> bool:
    path = LakePaths(lake_root).system("bi_refreshes")
    if not delta.table_exists(spark, path):
        return False
    rows = spark.read.format("delta").load(path).where(F.col("close_publication_id") == publication_id)
    return bool(rows.limit(1).count())


def refresh(
    spark: SparkSession, lake_root: str, *, env: str, parameter: str, workflow_run_id: str
) -> BiOutcome:
    """Record the refresh the Lambda would start, if a close was published and not yet refreshed."""
    datasets = dataset_ids(env, parameter)
    close = latest_published_close(spark, lake_root)
    if close is None:
        return BiOutcome(False, datasets, "nothing to refresh: no close has been published")
    if already_refreshed(spark, lake_root, close.publication_id):
        return BiOutcome(
            False, datasets, f"close of {close.business_date} was already refreshed", close=close
        )
    now = datetime.now(UTC)
    row = (
        workflow_run_id,
        env,
        list(datasets),
        lambda_ingestion_id(workflow_run_id, now),
        close.business_date,
        close.publication_id,
        now.replace(tzinfo=None),
    )
    delta.append(
        spark.createDataFrame([row], BI_REFRESHES_SCHEMA),
        LakePaths(lake_root).system("bi_refreshes"),
        txn=(f"bi_refresh:{close.publication_id}", 0),
    )
    log.info(
        "bi refresh recorded",
        extra={"datasets": list(datasets), "env": env, "close_business_date": close.business_date},
    )
    names = ", ".join(datasets)
    return BiOutcome(True, datasets, f"would refresh {names} ({env}), close of {close.business_date}", close)
