"""Business days: one configured IANA time zone, half-open UTC windows per close date.

A close date ``d`` covers ``[start_utc(d), end_utc(d))``, from local midnight to the next local
midnight, so a daylight-saving day lasts 23 or 25 hours; a capture at 23:59 local time belongs
to ``d`` even when its UTC date is ``d + 1``.

Example::

    business_window(date(2026, 11, 1), "America/New_York")
    # (2026-11-01 04:00 UTC, 2026-11-02 05:00 UTC): 25 hours
    df.withColumn("close_date", business_date("captured_at", "America/New_York"))
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pyspark.sql import Column
from pyspark.sql import functions as F


def business_window(close_date: date, tz: str) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of the local day ``close_date`` in ``tz`` (23 or 25 hours on DST days)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(close_date, time(0), zone).astimezone(UTC)
    end = datetime.combine(close_date + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def naive_utc(moment: datetime) -> datetime:
    """A UTC instant as Spark's session (UTC) reads a naive datetime."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def previous_business_date(now: datetime, tz: str) -> date:
    """Yesterday in ``tz`` as of ``now`` (UTC): the day a scheduled close closes."""
    return (now.astimezone(ZoneInfo(tz)).date()) - timedelta(days=1)


def business_date(timestamp: str | Column, tz: str) -> Column:
    """The business day of a UTC timestamp column (the session time zone is UTC)."""
    column = F.col(timestamp) if isinstance(timestamp, str) else timestamp
    return F.to_date(F.from_utc_timestamp(column, tz))


def within(timestamp: str | Column, start: datetime, end: datetime) -> Column:
    """``start <= timestamp < end`` (UTC instants)."""
    column = F.col(timestamp) if isinstance(timestamp, str) else timestamp
    return (column >= F.lit(naive_utc(start))) & (column < F.lit(naive_utc(end)))
