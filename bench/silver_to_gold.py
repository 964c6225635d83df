"""Benchmark of the silver_to_gold job against a Spark floor, in one process.

Measures (see bench/README.md), on the 30-day lake of ``bench.bronze_to_silver``:

a. full build of every mart vs. the floor: one scan of ``silver.events`` grouped by event
   date and family, written as one small Parquet table (the least any Gold build must do);
b. incremental: one new hour of events loaded into Silver, then silver_to_gold again, vs.
   the full build (cost follows the touched dates, not the history);
c. peak memory: RSS of this Python process and its JVM, PSS of the other children (psutil).

Usage::

    python -m bench.silver_to_gold                       # 2,000,000 events, 2 GB driver
    python -m bench.silver_to_gold --events 200000 --reuse
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bronze_to_silver import (
    BENCH_DIR,
    HOURS_LOADED,
    START,
    MemorySampler,
    count_lines,
    hour_dirs,
    machine,
    prepare_data,
)
from bench.bronze_to_silver import run_job as run_bronze_to_silver

PREFIX = "bench_gold_"


def floor_build(spark, lake_root: Path, out: Path) -> int:
    """The floor: one scan of silver.events grouped by event date and family, one small Parquet table."""
    from lakehouse.lake.paths import LakePaths

    events = spark.read.format("delta").load(LakePaths(str(lake_root)).silver("events"))
    events.groupBy("event_date", "family").count().coalesce(1).write.mode("overwrite").parquet(str(out))
    return spark.read.parquet(str(out)).count()


def run_gold(spark, lake_root: Path, as_of: datetime) -> tuple[str, float | None, dict]:
    """Run silver_to_gold: ('ok', seconds, per-mart statuses) or ('failed', None, why)."""
    from lakehouse.jobs.silver_to_gold import Config, run

    started = time.monotonic()
    try:
        config = Config(JOB_NAME="silver_to_gold", lake_root=str(lake_root), database_prefix=PREFIX)
        result = run(spark, config, as_of=as_of)
    except Exception as exc:  # noqa: BLE001 - a failing job is a benchmark result, not a crash
        return "failed", None, {"reason": f"{type(exc).__name__}: {exc}"[:500]}
    seconds = time.monotonic() - started
    marts = result.details["marts"]
    return "ok", seconds, {
        "rows_out": result.rows_out,
        "marts": {m: {"status": s["status"], "full": s.get("full"), "dates": s.get("dates")}
                  for m, s in marts.items()},
    }  # fmt: skip


def load_silver(spark, lake: Path) -> float:
    """bronze_to_silver over the bench lake's Bronze; returns its seconds."""
    status, seconds, details = run_bronze_to_silver(spark, lake, PREFIX)
    if status != "ok":
        raise RuntimeError(f"bronze_to_silver did not load the bench lake: {details}")
    return round(seconds or 0, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.silver_to_gold", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--events", type=int, default=2_000_000, help="source events over 30 days + 1 hour")
    parser.add_argument("--out", default=str(BENCH_DIR / "out"), help="work and results folder (bench/out)")
    parser.add_argument("--driver-memory", default="2g", help="Spark driver memory (default 2g)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse", action="store_true", help="reuse the generated Bronze when the spec is unchanged"
    )
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    work = out / f"work-{args.events}"
    figures: dict = {
        "benchmark": "silver_to_gold",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "events": args.events,
        "driver_memory": args.driver_memory,
    }
    # 30 days of Bronze (generated, or reused with --reuse), the new hour held back
    generation, lake, new_hour = prepare_data(work, args.events, args.seed, args.reuse)
    for path in (work / "gold-session", work / "gold-floor"):
        shutil.rmtree(path, ignore_errors=True)
    from lakehouse.logs import configure_logging

    job_log = (work / "gold-job-log.jsonl").open("w", encoding="utf-8", buffering=1)
    configure_logging("bench-silver_to_gold", "bench", stream=job_log)
    figures["job_log"] = job_log.name

    sampler = MemorySampler()
    sampler.start()
    from lakehouse.runtime import local_spark_session

    spark = local_spark_session(
        str(work / "gold-session"), app_name="bench-silver_to_gold", driver_memory=args.driver_memory
    )
    sampler.phase = "silver_load"
    silver_seconds = load_silver(spark, lake)
    figures["silver"] = {
        "lines": generation["totals"]["lines"],
        "bronze_reused": generation["reused"],
        "load_seconds": silver_seconds,
    }
    print(f"silver: {generation['totals']['lines']:,} Bronze lines in {silver_seconds} s", flush=True)

    sampler.phase = "warmup"  # JIT and class loading, untimed
    floor_build(spark, lake, work / "gold-floor" / "warmup")
    sampler.phase = "floor"
    t = time.monotonic()
    floor_rows = floor_build(spark, lake, work / "gold-floor" / "full")
    floor = time.monotonic() - t
    print(f"floor: {floor:.1f} s ({floor_rows:,} rows)", flush=True)

    end = START + timedelta(hours=HOURS_LOADED)
    sampler.phase = "gold_full"
    status, full, details_full = run_gold(spark, lake, as_of=end)
    print(f"gold, full build: {status} {full or ''}", flush=True)
    figures["full_build"] = {
        "floor_seconds": round(floor, 2),
        "floor_rows": floor_rows,
        "job_status": status,
        "job_seconds": round(full, 2) if full else None,
        "ratio_job_to_floor": round(full / floor, 2) if full else None,
        "details": details_full,
    }

    incr: dict = {"job_status": "skipped"}
    if status == "ok":
        sampler.phase = "silver_new_hour"
        for src, dst in zip(
            hour_dirs(new_hour / "bronze", end), hour_dirs(lake / "bronze", end), strict=True
        ):
            if src.is_dir() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(src, dst)
        incr["new_hour_lines"] = count_lines(new_hour)
        incr["silver_seconds"] = load_silver(spark, lake)
        sampler.phase = "gold_incremental"
        status_incr, seconds_incr, details_incr = run_gold(spark, lake, as_of=end + timedelta(hours=1))
        incr.update(
            job_status=status_incr,
            job_seconds=round(seconds_incr, 2) if seconds_incr else None,
            ratio_incremental_to_full=round(seconds_incr / full, 3) if seconds_incr else None,
            details=details_incr,
        )
        print(f"gold, incremental after one hour: {status_incr} {seconds_incr or ''}", flush=True)
    figures["incremental"] = incr

    sampler.stop()
    spark.stop()
    figures["memory"] = {
        "peak_total_mib": round(sampler.peak["total"] / 2**20),
        "peak_python_mib": round(sampler.peak["python"] / 2**20),
        "peak_jvm_mib": round(sampler.peak["jvm"] / 2**20),
        "peak_total_mib_by_phase": {k: round(v / 2**20) for k, v in sampler.phase_peak.items()},
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result_file = out / f"silver_to_gold-{args.events}-{stamp}.json"
    result_file.write_text(json.dumps(figures, indent=2))
    print_table(figures)
    print(f"\nfigures written to {result_file}")
    return 0


def print_table(f: dict) -> None:
    full, incr, mem = f["full_build"], f["incremental"], f["memory"]

    def fmt(v, unit="s"):
        return "n/a" if v is None else f"{v:,.3f} {unit}" if unit == "x" else f"{v:,.1f} {unit}"

    machine = f["machine"]
    rows = [
        ("machine", f"{machine['cpus']} cpus, {machine['memory_gib']} GiB, {machine['cpu_model']}"),
        ("driver memory", f["driver_memory"]),
        ("bronze lines", f"{f['silver']['lines']:,}"),
        ("(a) floor: events by date, family", fmt(full["floor_seconds"]) + f" ({full['floor_rows']:,} rows)"),
        ("(a) silver_to_gold, full build", fmt(full["job_seconds"]) + f" [{full['job_status']}]"),
        ("(a) ratio full build / floor", fmt(full["ratio_job_to_floor"], "x")),
        ("(b) silver_to_gold after one new hour", fmt(incr.get("job_seconds")) + f" [{incr['job_status']}]"),
        ("(b) ratio incremental / full build", fmt(incr.get("ratio_incremental_to_full"), "x")),
        (
            "(c) peak memory, process tree",
            f"{mem['peak_total_mib']:,} MiB (python {mem['peak_python_mib']:,}, JVM {mem['peak_jvm_mib']:,})",
        ),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
