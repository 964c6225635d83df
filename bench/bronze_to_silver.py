"""Benchmark of the bronze_to_silver job against the Spark floor, in one process.

Measures (see bench/README.md):

a. full load: the job over ~30 days of Bronze vs. the floor, a plain
   ``spark.read.schema(S).json(<all bronze>)`` written as Parquet partitioned by event date;
b. incremental: one new hour on top of the 30 loaded days vs. that hour alone into an empty lake;
c. peak memory: RSS of this Python process and its JVM, PSS of the other children (psutil).

Usage::

    python -m bench.bronze_to_silver                          # 2,000,000 events
    python -m bench.bronze_to_silver --events 10000000 --driver-memory 2g
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from lakehouse.synthetic import CHANNELS, GeneratorSpec, generate_bronze

BENCH_DIR = Path(__file__).resolve().parent
HOURS_LOADED = 30 * 24  # the "30 loaded days"
START = datetime(2025, 3, 1, tzinfo=UTC)


# --------------------------------------------------------------------------------------------- memory


def _pss(proc: psutil.Process) -> int:
    """PSS where the kernel reports it, else RSS.

    PSS shares each shared page among the processes mapping it. RSS counts it in full in
    every one: a process the JVM forks (Hadoop's local file system spawns helpers) briefly
    shows the JVM's whole RSS, and the PySpark daemon's forked workers each show the
    daemon's pages, so an RSS sum over them counts memory several times. (PSS is read only
    for these small processes: reading it for the JVM takes ~50 ms.)
    """
    try:
        return proc.memory_full_info().pss
    except (AttributeError, psutil.AccessDenied):
        return proc.memory_info().rss


class MemorySampler(threading.Thread):
    """Samples memory of this process and its children every ``interval`` seconds: RSS of this
    Python process and the Spark JVM, PSS of the other children (PySpark daemon, helpers);
    keeps the peaks and the names of the other children."""

    def __init__(self, interval: float = 0.2):
        super().__init__(daemon=True)
        self.interval = interval
        self.proc = psutil.Process(os.getpid())
        self.stop_event = threading.Event()
        self.peak = {"total": 0, "python": 0, "jvm": 0}
        self.phase = "startup"
        self.phase_peak: dict[str, int] = {}
        self.other_names: set[str] = set()

    def sample(self) -> None:
        python = jvm = other = 0
        try:
            python = self.proc.memory_info().rss
            for child in self.proc.children(recursive=True):
                try:
                    if "java" in child.name():
                        jvm += child.memory_info().rss
                    else:
                        other += _pss(child)
                        self.other_names.add(child.name())
                except psutil.Error:
                    continue
        except psutil.Error:
            return
        total = python + jvm + other
        for key, value in (("total", total), ("python", python), ("jvm", jvm)):
            self.peak[key] = max(self.peak[key], value)
        self.phase_peak[self.phase] = max(self.phase_peak.get(self.phase, 0), total)

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            time.sleep(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        self.join()
        self.sample()


# --------------------------------------------------------------------------------------------- floor


def floor_schema():
    from pyspark.sql import types as T

    s = T.StringType()
    detail = T.StructType(
        [
            T.StructField(n, s)
            for n in (
                "event_id",
                "event_name",
                "event_version",
                "occurred_at",
                "user_id",
                "lbg_id",
                "leg_id",
                "payload",
            )
        ]
    )
    fields = [
        T.StructField(n, s)
        for n in (
            "event_id",
            "event_name",
            "event_version",
            "occurred_at",
            "sent_at",
            "received_at",
            "anon_id",
            "user_id",
            "session_id",
            "lbg_id",
            "leg_id",
            "context",
            "payload",
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "provider",
            "signature_verified",
        )
    ]
    return T.StructType([*fields, T.StructField("detail", detail), T.StructField("_corrupt_record", s)])


def floor_load(spark, bronze_root: Path, out: Path) -> int:
    """The Spark floor: read every Bronze line with one explicit schema, write Parquet by event date."""
    from pyspark.sql import functions as F

    paths = [str(bronze_root / ch) for ch in CHANNELS if (bronze_root / ch).is_dir()]
    df = spark.read.schema(floor_schema()).option("recursiveFileLookup", "true").json(paths)
    ts = F.coalesce(
        F.try_to_timestamp(F.col("occurred_at")),
        F.try_to_timestamp(F.col("detail.occurred_at")),
        F.try_to_timestamp(F.col("received_at")),
        F.try_to_timestamp(F.col("time")),
    )
    df.withColumn("event_date", F.to_date(ts)).write.mode("overwrite").partitionBy("event_date").parquet(
        str(out)
    )
    return spark.read.parquet(str(out)).count()


# --------------------------------------------------------------------------------------------- job


def run_job(spark, lake_root: Path, prefix: str) -> tuple[str, float | None, dict | None]:
    """Run bronze_to_silver: ('ok', seconds, counts), ('pending', None, why) while the job is not
    implemented, or ('failed', None, why) when it raises (the floor figures are still reported)."""
    started = time.monotonic()
    try:
        from lakehouse.jobs.bronze_to_silver import Config, run

        config = Config(JOB_NAME="bronze_to_silver", lake_root=str(lake_root), database_prefix=prefix)
        result = run(spark, config)
    except NotImplementedError as exc:
        return "pending", None, {"reason": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a failing job is a benchmark result, not a crash
        return "failed", None, {"reason": f"{type(exc).__name__}: {exc}"[:500]}
    seconds = time.monotonic() - started
    details = {k: getattr(result, k, None) for k in ("rows_in", "rows_out", "rows_quarantined")}
    return "ok", seconds, details


# --------------------------------------------------------------------------------------------- data


def hour_dirs(bronze_root: Path, hour: datetime) -> list[Path]:
    return [bronze_root / ch / f"{hour:%Y/%m/%d/%H}" for ch in CHANNELS]


def prepare_data(work: Path, events: int, seed: int, reuse: bool) -> tuple[dict, Path, Path]:
    """Generate 30 days + 1 hour of Bronze; hold the last hour back in ``new_hour``."""
    spec = GeneratorSpec(events=events, start=START, hours=HOURS_LOADED + 1, seed=seed)
    marker = work / "generation.json"
    lake_full, new_hour = work / "lake_full", work / "new_hour"
    if reuse and marker.is_file() and json.loads(marker.read_text())["spec"] == spec.to_dict():
        generation = json.loads(marker.read_text())
        generation["reused"] = True
    else:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        report = generate_bronze(lake_full, spec)
        generation = report.to_dict()
        marker.write_text(json.dumps(generation, indent=1))
        generation["reused"] = False
    # Restore the pristine state: only the first 720 hours in lake_full, no job output.
    last = START + timedelta(hours=HOURS_LOADED)
    for src, dst in zip(
        hour_dirs(new_hour / "bronze", last), hour_dirs(lake_full / "bronze", last), strict=True
    ):
        if src.is_dir() and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dst))
    for child in lake_full.iterdir():
        if child.name != "bronze":
            shutil.rmtree(child)
    for path in (new_hour, work / "lake_hour", work / "floor", work / "session"):
        shutil.rmtree(path, ignore_errors=True)
    for src, dst in zip(
        hour_dirs(lake_full / "bronze", last), hour_dirs(new_hour / "bronze", last), strict=True
    ):
        if src.is_dir():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dst))
    return generation, lake_full, new_hour


def count_lines(root: Path) -> int:
    import gzip

    n = 0
    for p in root.rglob("*.json*"):
        data = gzip.decompress(p.read_bytes()) if p.name.endswith(".gz") else p.read_bytes()
        n += data.count(b"\n")
    return n


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
    }


# --------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bronze_to_silver", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--events", type=int, default=2_000_000, help="source events over 30 days + 1 hour")
    parser.add_argument("--out", default=str(BENCH_DIR / "out"), help="work and results folder (bench/out)")
    parser.add_argument("--driver-memory", default=None, help="Spark driver memory, e.g. 2g")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--floor-only", action="store_true", help="measure generation and the floor, not the job"
    )
    parser.add_argument(
        "--full-load-only",
        action="store_true",
        help="measure the job's full load and memory only (no floor, no incremental run)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="reuse generated Bronze when the spec is unchanged"
    )
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    work = out / f"work-{args.events}"
    figures: dict = {
        "benchmark": "bronze_to_silver",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "events": args.events,
        "driver_memory": args.driver_memory or "default",
    }

    t = time.monotonic()
    generation, lake_full, new_hour = prepare_data(work, args.events, args.seed, args.reuse)
    gen_seconds = time.monotonic() - t
    totals = generation["totals"]
    figures["generation"] = {
        "reused": generation["reused"],
        "seconds": generation["seconds"],
        "lines": totals["lines"],
        "bytes": totals["bytes"],
        "files": totals["files"],
        "lines_per_second": round(totals["lines"] / generation["seconds"]) if generation["seconds"] else None,
        "prepare_seconds": round(gen_seconds, 2),
    }
    hour_lines = count_lines(new_hour)
    print(
        f"generation: {totals['lines']:,} lines in {generation['seconds']:.1f} s; new hour: {hour_lines:,}",
        flush=True,
    )
    figures["new_hour_lines"] = hour_lines

    # The job's JSON log lines (per-batch step timings) go to a file beside the data.
    from lakehouse.logs import configure_logging

    job_log = (work / "job-log.jsonl").open("w", encoding="utf-8", buffering=1)
    configure_logging("bench-bronze_to_silver", "bench", stream=job_log)
    figures["job_log"] = str(job_log.name)

    sampler = MemorySampler()
    sampler.start()
    from lakehouse.runtime import local_spark_session

    spark = local_spark_session(
        str(work / "session"), app_name="bench-bronze_to_silver", driver_memory=args.driver_memory
    )

    floor_full = floor_hour = None
    floor_rows = 0
    if not args.full_load_only:
        # Warm up the JVM (JIT, class loading) on the small hour, untimed.
        sampler.phase = "warmup"
        floor_load(spark, new_hour / "bronze", work / "floor" / "warmup")

        sampler.phase = "floor_full"
        t = time.monotonic()
        floor_rows = floor_load(spark, lake_full / "bronze", work / "floor" / "full")
        floor_full = time.monotonic() - t
        print(f"floor, 30 days: {floor_full:.1f} s, {floor_rows:,} rows", flush=True)

        sampler.phase = "floor_hour"
        t = time.monotonic()
        floor_load(spark, new_hour / "bronze", work / "floor" / "hour")
        floor_hour = time.monotonic() - t
        print(f"floor, new hour alone: {floor_hour:.1f} s", flush=True)

    sampler.phase = "job_full"
    if args.floor_only:
        status, job_full, details_full = "skipped", None, {"reason": "--floor-only"}
    else:
        status, job_full, details_full = run_job(spark, lake_full, "bench_full_")
    print(f"job, 30 days: {status} {job_full or ''}", flush=True)
    figures["full_load"] = {
        "lines": totals["lines"] - hour_lines,
        "floor_seconds": round(floor_full, 2) if floor_full else None,
        "floor_rows": floor_rows,
        "job_status": status,
        "job_seconds": round(job_full, 2) if job_full else None,
        "job_details": details_full,
        "ratio_job_to_floor": round(job_full / floor_full, 2) if job_full and floor_full else None,
    }

    floor_hour_seconds = round(floor_hour, 2) if floor_hour else None
    incr = {"lines": hour_lines, "floor_hour_alone_seconds": floor_hour_seconds, "job_status": status}
    if args.full_load_only:
        incr["job_status"] = "skipped"
    elif status == "ok":
        sampler.phase = "job_incremental"
        last = START + timedelta(hours=HOURS_LOADED)
        for src, dst in zip(
            hour_dirs(new_hour / "bronze", last), hour_dirs(lake_full / "bronze", last), strict=True
        ):
            if src.is_dir():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(src, dst)
        _, job_incr, details_incr = run_job(spark, lake_full, "bench_full_")
        sampler.phase = "job_hour_alone"
        lake_hour = work / "lake_hour"
        shutil.copytree(new_hour / "bronze", lake_hour / "bronze")
        _, job_alone, details_alone = run_job(spark, lake_hour, "bench_hour_")
        incr.update(
            job_incremental_seconds=round(job_incr, 2),
            job_hour_alone_seconds=round(job_alone, 2),
            ratio_incremental_to_alone=round(job_incr / job_alone, 2),
            job_details_incremental=details_incr,
            job_details_alone=details_alone,
        )
    figures["incremental"] = incr

    sampler.stop()
    spark.stop()
    figures["memory"] = {
        "peak_total_mib": round(sampler.peak["total"] / 2**20),
        "peak_python_mib": round(sampler.peak["python"] / 2**20),
        "peak_jvm_mib": round(sampler.peak["jvm"] / 2**20),
        "peak_total_mib_by_phase": {k: round(v / 2**20) for k, v in sampler.phase_peak.items()},
        "other_processes": sorted(sampler.other_names),
    }

    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result_file = out / f"bronze_to_silver-{args.events}-{stamp}.json"
    result_file.write_text(json.dumps(figures, indent=2))
    print_table(figures)
    print(f"\nfigures written to {result_file}")
    return 0


def print_table(f: dict) -> None:
    g, full, incr, mem = f["generation"], f["full_load"], f["incremental"], f["memory"]

    def fmt(v, unit="s"):
        return "pending" if v is None else f"{v:,.2f} {unit}" if isinstance(v, float) else f"{v:,} {unit}"

    rows = [
        (
            "machine",
            f"{f['machine']['cpus']} cpus, {f['machine']['memory_gib']} GiB, {f['machine']['cpu_model']}",
        ),
        ("driver memory", f["driver_memory"]),
        (
            "generation",
            f"{g['lines']:,} lines, {g['bytes'] / 1e6:,.0f} MB, {g['files']:,} files in "
            f"{g['seconds']:.1f} s ({g['lines_per_second'] or 0:,} lines/s)"
            + (" [reused]" if g["reused"] else ""),
        ),
        ("(a) floor, 30 days", fmt(full["floor_seconds"]) + f" ({full['floor_rows']:,} rows)"),
        (
            "(a) job, 30 days",
            fmt(full["job_seconds"])
            + (
                ""
                if full["job_status"] == "ok"
                else f" [{full['job_status']}: {(full['job_details'] or {}).get('reason', '')[:80]}]"
            ),
        ),
        ("(a) ratio job / floor", fmt(full["ratio_job_to_floor"], "x")),
        ("(b) new hour lines", f"{incr['lines']:,}"),
        ("(b) job, hour on 30 days", fmt(incr.get("job_incremental_seconds"))),
        ("(b) job, hour alone", fmt(incr.get("job_hour_alone_seconds"))),
        ("(b) ratio incremental / alone", fmt(incr.get("ratio_incremental_to_alone"), "x")),
        ("(b) floor, hour alone", fmt(incr["floor_hour_alone_seconds"])),
        (
            "(c) peak memory, process tree",
            f"{mem['peak_total_mib']:,} MiB (python {mem['peak_python_mib']:,}, JVM {mem['peak_jvm_mib']:,})",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
