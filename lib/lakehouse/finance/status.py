"""``lakehouse close status``: the state of each close, its failing checks with their exact
differences, and its open exceptions, in lines a person reads on a terminal.

Example::

    lines, published = close_status_lines(spark, paths, date(2026, 11, 1))
    # close 2026-11-01 (close-2026-11-01-v1): FAILED, 3 open blocking exception(s); failed checks: R10, R11
    #   window 2026-11-01 04:00 .. 2026-11-02 05:00 UTC (America/New_York), ledger export synthetic-16
    #   R10 eur all      difference 30249  1 exception(s)
    #   open  R10 payment pay_000019 eur 30249  missing_in_processor: ...
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.finance import state as S
from lakehouse.lake.paths import LakePaths

SHOWN = 20


def close_status_lines(
    spark: SparkSession, paths: LakePaths, close_date: date | None
) -> tuple[list[str], bool]:
    """The status lines, and whether every close shown is published."""
    attempts = S.close_run_view(spark, paths)
    if close_date is not None:
        attempts = attempts.where(F.col("close_date") == F.lit(close_date))
    latest = {}
    for row in attempts.orderBy("close_date", "run_seq").collect():
        latest[row.close_date] = row.asDict()
    if not latest:
        what = f"of {close_date} " if close_date else ""
        return [f"no close {what}has been attempted in {paths.root}"], False
    lines, all_published = [], True
    for day, a in sorted(latest.items()):
        published = a["state"] in ("published",)
        all_published &= published
        head = f"close {day} ({a['close_run_id']}): {a['state'].upper()}"
        if a.get("reason"):
            head += f", {a['reason']}"
        lines.append(head)
        start, end = a["cutoff_utc_start"], a["cutoff_utc_end"]
        lines.append(
            f"  window {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC ({a['business_tz']}), "
            f"ledger export {a.get('ledger_export_id') or '-'}; checks passed {a.get('checks_passed') or 0}, "
            f"failed {a.get('checks_failed') or 0}, warned {a.get('checks_warned') or 0}; "
            f"exceptions {a.get('exception_count') or 0}, open blocking {a.get('blocking_open') or 0}"
        )
        checks = S.attempt_rows(spark, paths, S.CLOSE_CHECKS, a["attempt_id"])
        if checks is not None:
            for c in (
                checks.where("status IN ('failed', 'warn', 'explained')")
                .orderBy("check_id", "currency")
                .collect()
            ):
                lines.append(
                    f"  {c.status:<9} {c.check_id:<4} {c.currency:<4} {c.finance_category:<9} "
                    f"difference {c.diff_minor:>12}  {c.exception_count} exception(s)"
                )
        exceptions = S.attempt_rows(spark, paths, S.CLOSE_EXCEPTIONS, a["attempt_id"])
        if exceptions is not None:
            shown = (
                exceptions.where("status <> 'allowed'")
                .orderBy("check_id", "entity_id")
                .limit(SHOWN)
                .collect()
            )
            for e in shown:
                diff = "" if e.diff_minor is None else str(e.diff_minor)
                lines.append(
                    f"  {e.status:<9} {e.check_id:<4} {e.entity_type} {e.entity_id} {e.currency or '-'} "
                    f"{diff}  {e.detail}"
                )
            if shown and not published:
                lines.append(
                    f"  resolve one with: lakehouse close resolve --lake-root {paths.root} --date {day} "
                    "--check ID --entity ID --reason TEXT --by NAME"
                )
    return lines, all_published
