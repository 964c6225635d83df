"""bronze_to_silver end to end on real Spark, Delta and Deequ, with generated Bronze data.

The generator knows what every record it wrote should become (new row, duplicate,
conflict, or quarantine with a reason); the job's tables and accounting must agree.
"""

import json
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from pathlib import Path

import pytest
from lakehouse.jobs.bronze_to_silver import Config, run
from lakehouse.lake.paths import LakePaths
from lakehouse.privacy import EMAIL_PATTERN, PHONE_PATTERN
from lakehouse.synthetic.bronze import GeneratorSpec, generate_bronze, write_bronze_file
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

START = datetime(2026, 11, 20, 6, tzinfo=UTC)


def events(spark, lake):
    return spark.read.format("delta").load(LakePaths(lake).silver("events"))


def quarantine(spark, lake):
    return spark.read.format("delta").load(LakePaths(lake).quarantine("records"))


def accounting(spark, lake, run_id):
    rows = (
        spark.read.format("delta")
        .load(LakePaths(lake).system("ingest_batches"))
        .where(F.col("run_id") == run_id)
    )
    return rows.groupBy("channel").agg(*[F.sum(c).alias(c) for c in (
        "records_read", "written", "duplicates", "conflicts", "quarantined")])  # fmt: skip


@pytest.fixture(scope="module")
def loaded(spark, tmp_path_factory):
    """A lake with faulty generated Bronze data, after one run."""
    lake = str(tmp_path_factory.mktemp("b2s") / "lake")
    report = generate_bronze(lake, GeneratorSpec(events=1500, start=START, hours=3).with_faults())
    result = run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="first"))
    return lake, report, result


def test_every_record_is_accounted_for_as_the_generator_expects(spark, loaded):
    lake, report, result = loaded
    by_channel = {r.channel: r for r in accounting(spark, lake, "first").collect()}
    assert set(by_channel) == set(report.channels)
    for channel, expected in report.channels.items():
        got = by_channel[channel]
        assert got.records_read == expected.lines, channel
        assert got.written == expected.expected_valid_unique, channel
        assert got.duplicates == expected.expected_duplicates, channel
        assert got.conflicts == expected.expected_conflicts, channel
        assert got.quarantined == expected.expected_quarantined_total, channel
        assert got.records_read == got.written + got.duplicates + got.conflicts + got.quarantined
    assert result.rows_in == report.lines
    reasons = {r[0]: r[1] for r in quarantine(spark, lake).groupBy("error_type").count().collect()}
    assert reasons == {k: v for k, v in report.expected_quarantined.items() if v}


def test_quarantine_rows_carry_reason_raw_record_file_and_line(spark, loaded):
    lake, _, _ = loaded
    rows = quarantine(spark, lake)
    assert rows.where("error_message is null or raw_record is null or bronze_file is null").count() == 0
    assert rows.where("bronze_line < 1").count() == 0
    assert {r[0] for r in rows.select("error_type").distinct().collect()} <= {
        "parse_error", "schema_violation", "unknown_event", "size_violation", "adapter_failure"}  # fmt: skip


def test_silver_events_are_unique_and_partitioned_by_utc_event_date(spark, loaded):
    lake, report, _ = loaded
    rows = events(spark, lake)
    assert rows.count() == rows.select("event_id").distinct().count() == report.total("expected_valid_unique")
    assert rows.where(F.col("event_date") != F.to_date("occurred_at")).count() == 0
    conflicts = spark.read.format("delta").load(LakePaths(lake).quarantine("conflicts"))
    assert conflicts.count() == report.total("expected_conflicts")
    assert conflicts.where("kept_payload_hash = conflicting_payload_hash").count() == 0


def test_tables_are_registered_with_descriptions(spark, loaded):
    names = {t.name for t in spark.catalog.listTables("silver")}
    assert {"events", "stg_client_events", "stg_stripe_charges"} <= names
    assert spark.table("silver.events").count() > 0


def test_no_email_or_phone_survives_in_any_silver_string_column(spark, loaded):
    lake, _, _ = loaded
    root = LakePaths(lake).silver("")
    from pathlib import Path

    for table in sorted(p.name for p in Path(root).iterdir()):
        df = spark.read.format("delta").load(LakePaths(lake).silver(table))
        strings = [f.name for f in df.schema.fields if f.dataType.simpleString() == "string"]
        matches = [F.col(c).rlike(p) for c in strings for p in (EMAIL_PATTERN, PHONE_PATTERN)]
        leaks = df.where(reduce(lambda a, b: a | b, [F.coalesce(m, F.lit(False)) for m in matches]))
        assert leaks.count() == 0, table


def test_stripe_objects_hold_one_row_per_object(spark, loaded):
    lake, _, _ = loaded
    charges = spark.read.format("delta").load(LakePaths(lake).silver("stg_stripe_charges"))
    assert charges.count() == charges.select("charge_id").distinct().count() > 0


def test_a_later_run_dedupes_across_runs_and_files_late_events_by_event_date(spark, loaded):
    lake, _, _ = loaded
    before = events(spark, lake).count()
    sample = events(spark, lake).where("channel = 'collect'").orderBy("event_id").limit(3).collect()
    # Redeliver three events verbatim (from their Bronze lines) a day later, plus one late event.
    originals = []
    for row in sample:
        path = row.bronze_file.removeprefix("file:")
        opener = __import__("gzip").open if path.endswith(".gz") else open
        with opener(path, "rb") as fh:
            originals.append(fh.read().split(b"\n")[row.bronze_line - 1])
    late = json.loads(originals[0])
    late["event_id"] = "00000000-0000-4000-8000-00000000abcd"
    late["occurred_at"] = (START - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    arrival = START + timedelta(days=1)
    write_bronze_file(lake, "collect", arrival, [*originals, json.dumps(late)], gzip=True)
    write_bronze_file(lake, "collect", arrival, [])  # an empty file is no record
    write_bronze_file(
        lake, "collect", arrival, [b'{"event_id": "x", \xff\xfe}', "{" + '"k": "' + "a" * 300_000 + '"}']
    )

    run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="second"))

    (got,) = accounting(spark, lake, "second").collect()
    assert (got.records_read, got.written, got.duplicates, got.conflicts, got.quarantined) == (6, 1, 3, 0, 2)
    assert events(spark, lake).count() == before + 1
    (late_row,) = events(spark, lake).where(F.col("event_id") == late["event_id"]).collect()
    assert late_row.event_date == date(2026, 11, 16)
    reasons = quarantine(spark, lake).where("run_id = 'second'").select("error_type", "bronze_line").collect()
    assert sorted((r.error_type, r.bronze_line) for r in reasons) == [
        ("parse_error", 1),
        ("size_violation", 2),
    ]


def test_a_run_with_no_new_files_changes_nothing(spark, loaded):
    lake, _, _ = loaded
    before = events(spark, lake).count()
    result = run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="idle"))
    assert (result.rows_in, result.rows_out) == (0, 0)
    assert events(spark, lake).count() == before


def test_a_webhook_folder_of_a_provider_without_adapter_is_read_and_quarantined(spark, lake):
    delivery = {"provider": "acme", "received_at": "2026-11-20T06:01:00Z", "signature_verified": True,
                "payload": {"id": "acme_1", "type": "thing.happened"}}  # fmt: skip
    folder = Path(lake) / "bronze" / "webhooks" / "acme" / "2026" / "11" / "20" / "06"
    folder.mkdir(parents=True)
    (folder / "acme-1.json").write_text(json.dumps(delivery) + "\n")

    result = run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="acme"))

    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (1, 0, 1)
    (row,) = quarantine(spark, lake).collect()
    assert (row.channel, row.error_type, row.bronze_line) == ("webhooks/acme", "adapter_failure", 1)
    assert "acme" in row.error_message
    (got,) = accounting(spark, lake, "acme").collect()
    assert (got.channel, got.records_read, got.quarantined) == ("webhooks/acme", 1, 1)


def test_stripe_objects_are_caught_up_from_events_after_a_crash_and_follow_its_change_feed(spark, lake):
    from chispa import assert_df_equality
    from lakehouse.events import STRIPE_TABLES, stripe_objects
    from lakehouse.jobs import bronze_to_silver as b2s
    from lakehouse.lake import delta
    from lakehouse.silver import tables

    paths = LakePaths(lake)
    mix = {"webhooks/stripe": 0.6, "collect": 0.4}
    generate_bronze(lake, GeneratorSpec(events=300, start=START, hours=2, mix=mix))
    ctx = b2s.batch_context(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="dies"))
    tables.ensure_system_tables(spark, ctx.paths)
    b2s.ingest_bronze(ctx)  # the run dies after its micro-batches, before the Stripe MERGEs
    assert not delta.table_exists(spark, paths.silver("stg_stripe_charges"))

    def sortable(df):  # map columns (Stripe metadata) cannot be sorted: compare their sorted entries
        maps = [f.name for f in df.schema.fields if isinstance(f.dataType, MapType)]
        return df.withColumns({m: F.to_json(F.array_sort(F.map_entries(m))) for m in maps})

    def assert_objects_match_a_recompute_from_all_events():
        version = delta.current_version(spark, paths.silver("events"))
        for object_type, table in STRIPE_TABLES.items():
            path = paths.silver(table)
            assert delta.applied_txn_version(spark, path, b2s.STRIPE_PROGRESS_APP) == version, table
            expected = stripe_objects(events(spark, lake), object_type).transform(sortable)
            stored = spark.read.format("delta").load(path).select(*expected.columns).transform(sortable)
            assert_df_equality(stored, expected, ignore_row_order=True, ignore_nullable=True)

    result = run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="catch-up"))
    assert result.rows_in == 0  # no new Bronze: the objects come from Silver events
    assert spark.read.format("delta").load(paths.silver("stg_stripe_charges")).count() > 0
    assert_objects_match_a_recompute_from_all_events()

    # Later Stripe events (updates of the same objects and new ones) arrive through the change feed.
    later = GeneratorSpec(events=200, start=START + timedelta(hours=5), hours=1, mix=mix, seed=11)
    generate_bronze(lake, later)
    run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=lake, run_id="later"))
    assert_objects_match_a_recompute_from_all_events()
