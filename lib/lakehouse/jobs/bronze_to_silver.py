"""bronze_to_silver: type every Bronze record into Silver or quarantine it, exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from lakehouse.config import JobConfig, option
from lakehouse.jobs import JobResult


@dataclass(frozen=True)
class Config(JobConfig):
    max_record_bytes: int = option(262144, help="Largest Bronze record accepted; larger ones are quarantined.")
    dedupe_lookback_days: int = option(7, help="How far back (days of event date) duplicates are looked for.")
    max_files_per_trigger: int = option(1000, help="Bronze files per micro-batch of the incremental read.")
    pii_key_file: str = option("", help="Local JSON file with the versioned PII hashing keys (development).")
    pii_secret_id: str = option("", help="Secrets Manager secret holding the PII hashing keys (AWS).")


def run(spark: SparkSession, config: Config) -> JobResult:
    raise NotImplementedError("bronze_to_silver is built in issue 3")
