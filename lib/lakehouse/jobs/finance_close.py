"""finance_close: reconcile the ledger against Stripe and publish the daily close.

The flow is :mod:`lakehouse.finance.close`; this module is its typed config and entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pyspark.sql import SparkSession

from lakehouse.config import ConfigError, JobConfig, option
from lakehouse.finance.calendar import previous_business_date
from lakehouse.finance.close import CloseOutcome, CloseRequest, LedgerSource, close_day
from lakehouse.finance.ledger.extract import LedgerJdbc
from lakehouse.jobs import JobResult
from lakehouse.lake.paths import LakePaths

LEDGER_SOURCES = ("snapshot", "jdbc")


@dataclass(frozen=True)
class Config(JobConfig):
    business_date: str = option("", help="Business day to close (YYYY-MM-DD); defaults to yesterday.")
    business_timezone: str = option("UTC", help="IANA time zone that defines the finance business day.")
    ledger_source: str = option(
        "snapshot",
        help="Where the ledger comes from: snapshot (an Aurora-export-style Parquet snapshot in the lake) "
        "or jdbc (the live database, read from one exported snapshot and kept as such an export).",
    )
    ledger_export_root: str = option(
        "", help="Folder of the ledger exports; defaults to <lake_root>/ledger/exports."
    )
    ledger_export_id: str = option(
        "", help="Export the close reads (ledger_source=snapshot); defaults to the newest complete one."
    )
    jdbc_connection_name: str = option(
        "", help="Glue connection to Aurora PostgreSQL (ledger_source=jdbc, AWS)."
    )
    jdbc_url: str = option("", help="JDBC URL of the ledger database (ledger_source=jdbc, local).")
    jdbc_user: str = option("", help="Database user for jdbc_url (read-only role).")
    jdbc_fetch_size: int = option(10_000, help="Rows per JDBC round trip when reading the ledger.")
    ledger_secret_id: str = option("", help="Secrets Manager secret with the ledger database credentials.")
    restate: bool = option(
        False, help="Republish an already published business day as its next close version."
    )
    expect_livemode: bool = option(True, help="Stripe livemode every object of the day must have (R19).")
    late_lookback_days: int = option(
        7, help="Business days before the close date searched for late items to forward-post."
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ledger_source not in LEDGER_SOURCES:
            raise ConfigError(
                f"argument --ledger_source: expected one of {', '.join(LEDGER_SOURCES)}; "
                f"got {self.ledger_source!r}"
            )
        if self.ledger_source == "jdbc" and not (self.jdbc_url or self.jdbc_connection_name):
            raise ConfigError("ledger_source=jdbc needs --jdbc_url or --jdbc_connection_name")
        if self.late_lookback_days < 1:
            raise ConfigError(
                f"argument --late_lookback_days: must be positive; got {self.late_lookback_days}"
            )
        if self.jdbc_fetch_size < 1:
            raise ConfigError(f"argument --jdbc_fetch_size: must be positive; got {self.jdbc_fetch_size}")
        try:
            ZoneInfo(self.business_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"argument --business_timezone: not an IANA time zone: {self.business_timezone!r}"
            ) from None
        if self.business_date:
            try:
                date.fromisoformat(self.business_date)
            except ValueError:
                raise ConfigError(
                    f"argument --business_date: expected a date YYYY-MM-DD, got {self.business_date!r}"
                ) from None

    @property
    def ledger_exports(self) -> str:
        """Where ledger exports live (one folder per export)."""
        return self.ledger_export_root or f"{self.lake_root}/ledger/exports"

    def ledger_jdbc(self) -> LedgerJdbc:
        """JDBC settings of the ledger from --jdbc_url (locally; in AWS the Glue connection supplies them)."""
        if not self.jdbc_url:
            raise ConfigError("the ledger's JDBC settings come from --jdbc_url here; none was given")
        return LedgerJdbc(self.jdbc_url, user=self.jdbc_user, fetch_size=self.jdbc_fetch_size)


def _ledger_jdbc(config: Config) -> LedgerJdbc:
    """The ledger's JDBC settings: --jdbc_url locally, the Glue connection in AWS."""
    if config.jdbc_url:
        return config.ledger_jdbc()
    from lakehouse.runtime import glue_connection_jdbc

    conf = glue_connection_jdbc(config.jdbc_connection_name)
    return LedgerJdbc(
        conf["url"], user=conf["user"], password=conf["password"], fetch_size=config.jdbc_fetch_size
    )


def close_request(config: Config, *, now: datetime | None = None) -> CloseRequest:
    """The close this run performs, from its typed config."""
    close_date = (
        date.fromisoformat(config.business_date)
        if config.business_date
        else previous_business_date(now or datetime.now(UTC), config.business_timezone)
    )
    jdbc = _ledger_jdbc(config) if config.ledger_source == "jdbc" else None
    ledger = LedgerSource(config.ledger_source, config.ledger_exports, config.ledger_export_id, jdbc)
    return CloseRequest(
        close_date=close_date,
        business_tz=config.business_timezone,
        ledger=ledger,
        attempt_id=config.run_id,
        restate=config.restate,
        expect_livemode=config.expect_livemode,
        late_lookback_days=config.late_lookback_days,
        database=config.database("gold"),
    )


def run(spark: SparkSession, config: Config) -> JobResult:
    """Close one business day; a close that fails its gate raises after recording its exceptions."""
    outcome = close_day(spark, LakePaths(config.lake_root), close_request(config))
    details = {
        "close_date": str(outcome.close_date),
        "close_run_id": outcome.close_run_id,
        "state": outcome.state,
        "checks_passed": outcome.checks_passed,
        "checks_failed": outcome.checks_failed,
        "exception_count": outcome.exception_count,
        "blocking_open": outcome.blocking_open,
        "summary": f"close of {outcome.close_date}: {outcome.state}"
        + (f" ({outcome.reason})" if outcome.reason else ""),
    }
    if not outcome.published:
        raise CloseFailed(outcome)
    return JobResult(rows_out=outcome.exception_count, details=details)


class CloseFailed(RuntimeError):
    """The close's gate failed: nothing was published; the exceptions are recorded."""

    def __init__(self, outcome: CloseOutcome):
        self.outcome = outcome
        super().__init__(
            f"close of {outcome.close_date} ({outcome.close_run_id}) not published: {outcome.reason}; "
            f"see `lakehouse close status --date {outcome.close_date}`"
        )
