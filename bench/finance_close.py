"""Benchmark of finance_close: how the close of one day grows with that day's volume and with
the history before it, in one process.

Three lakes from the synthetic finance world (``lakehouse.synthetic.finance``, no planted
discrepancies), each: Stripe webhooks through bronze_to_silver, the ledger as a snapshot
export. Untimed set-up; then the close of the last business day is timed:

- base: ``--days`` days of ``--bookings`` bookings a day;
- 4x volume: the same history, the last day with 4x the bookings;
- 4x history: 4x the days, the same volume per day.

The goal: the close grows with the day's volume, not with the history (4x history / base
near 1). A warm-up close of an earlier day comes first in each lake (JIT, class loading).

Usage::

    python -m bench.finance_close                          # 30 days x 1,500 bookings (~6 % of the
                                                           # bronze_to_silver bench's 2M events)
    python -m bench.finance_close --days 10 --bookings 100 # a quick run
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bronze_to_silver import BENCH_DIR, machine

PREFIX = "bench_close_"


def build_lake(spark, root: Path, spec) -> dict:
    """Generate, load into Silver, export the ledger; the lake's size."""
    from lakehouse.jobs.bronze_to_silver import Config, run
    from lakehouse.synthetic.finance import write_finance_lake

    shutil.rmtree(root, ignore_errors=True)
    started = time.monotonic()
    world = write_finance_lake(spark, str(root), spec)
    run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=str(root), database_prefix=PREFIX))
    return {
        "stripe_events": len(world.stripe_events),
        "ledger_rows": sum(len(rows) for rows in world.ledger.values()),
        "setup_s": round(time.monotonic() - started, 1),
    }


def close(spark, root: Path, spec, day_index: int, attempt: str) -> float:
    from lakehouse.finance.close import CloseRequest, LedgerSource, close_day
    from lakehouse.lake.paths import LakePaths

    request = CloseRequest(
        close_date=spec.first_date + timedelta(days=day_index),
        business_tz=spec.business_tz,
        ledger=LedgerSource("snapshot", f"{root}/ledger/exports"),
        attempt_id=attempt,
        database=f"{PREFIX}gold",
    )
    started = time.monotonic()
    outcome = close_day(spark, LakePaths(str(root)), request)
    elapsed = time.monotonic() - started
    if not outcome.published:
        raise RuntimeError(f"the close of {request.close_date} did not publish: {outcome.reason}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    from lakehouse.runtime import local_spark_session
    from lakehouse.synthetic.finance import FinanceSpec

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--bookings", type=int, default=1500, help="bookings per business day")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args(argv)
    work = args.out / f"finance_close-{args.days}x{args.bookings}"
    work.mkdir(parents=True, exist_ok=True)
    spark = local_spark_session(
        str(work / "base"), app_name="bench-finance-close", driver_memory=args.driver_memory
    )
    scenarios = {
        "base": FinanceSpec(days=args.days, bookings_per_day=args.bookings, plant_discrepancies=False),
        "4x_volume": FinanceSpec(
            days=args.days,
            bookings_per_day=args.bookings,
            plant_discrepancies=False,
            last_day_bookings=4 * args.bookings,
        ),
        "4x_history": FinanceSpec(
            days=4 * args.days, bookings_per_day=args.bookings, plant_discrepancies=False
        ),
    }
    results = {}
    for name, spec in scenarios.items():
        root = work / name
        size = build_lake(spark, root, spec)
        warm = close(spark, root, spec, spec.days - 2, f"{name}-warm-up")
        timed = close(spark, root, spec, spec.days - 1, f"{name}-timed")
        results[name] = {**size, "warm_up_close_s": round(warm, 1), "close_s": round(timed, 1)}
        print(
            f"{name:<11} {size['stripe_events']:>9,} Stripe events  {size['ledger_rows']:>9,} ledger rows  "
            f"close of the last day {timed:6.1f} s"
        )
    base = results["base"]["close_s"]
    ratios = {
        "4x_volume_over_base": round(results["4x_volume"]["close_s"] / base, 2),
        "4x_history_over_base": round(results["4x_history"]["close_s"] / base, 2),
    }
    print(
        f"4x the day's volume: {ratios['4x_volume_over_base']} x base; "
        f"4x the history: {ratios['4x_history_over_base']} x base"
    )
    report = {
        "machine": machine(),
        "args": {"days": args.days, "bookings": args.bookings},
        "results": results,
        "ratios": ratios,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (args.out / f"finance_close-{args.days}x{args.bookings}-{stamp}.json").write_text(
        json.dumps(report, indent=2)
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
