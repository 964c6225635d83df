"""The ledger into the lake: JDBC from one exported snapshot, or an Aurora-style export; same frames."""

import json
from pathlib import Path

import psycopg
import pytest
from chispa import assert_df_equality
from lakehouse.finance.ledger.extract import (
    LEDGER_TABLES,
    LedgerExtractError,
    LedgerJdbc,
    export_info_path,
    export_ledger_jdbc,
    jdbc_snapshot,
    read_ledger_export,
)
from lakehouse.finance.ledger.migrate import migrate
from lakehouse.synthetic.finance import FinanceSpec, generate_finance, load_ledger, write_ledger_snapshot
from pyspark.sql import types as T

WORLD = generate_finance(FinanceSpec(bookings_per_day=6))
PG_TYPES = {"text": T.StringType(), "bigint": T.LongType(), "smallint": T.IntegerType(),
            "timestamp with time zone": T.TimestampType(), "date": T.DateType()}  # fmt: skip


@pytest.fixture(scope="module")
def ledger(postgres):
    """The synthetic ledger in a migrated database of the session's server; its JDBC settings."""
    name = "ledger_extract"
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(postgres.dsn(name), autocommit=True) as conn:
        migrate(conn)
        load_ledger(conn, WORLD)
    return postgres.dsn(name), LedgerJdbc(postgres.jdbc_url(name), user=postgres.user)


def sorted_frame(frame, table):
    return frame.orderBy(*[f.name for f in LEDGER_TABLES[table].fields])


def test_the_lake_schema_mirrors_the_migrated_database(ledger):
    dsn, _ = ledger
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type, domain_name, is_nullable"
            " FROM information_schema.columns WHERE table_schema = 'ledger'"
            " ORDER BY table_name, ordinal_position"
        ).fetchall()
    database = {}
    for table, column, data_type, domain, nullable in rows:
        kind = T.StringType() if domain == "currency_code" else PG_TYPES[data_type]
        database.setdefault(table, []).append(T.StructField(column, kind, nullable == "YES"))
    assert {t: T.StructType(f) for t, f in database.items()} == LEDGER_TABLES


def test_jdbc_and_snapshot_sources_give_the_same_ledger(spark, ledger, tmp_path):
    _, jdbc = ledger
    watermark = export_ledger_jdbc(spark, jdbc, str(tmp_path / "exports"), "close-1")
    from_jdbc = read_ledger_export(spark, str(tmp_path / "exports" / "close-1"))
    from_snapshot = read_ledger_export(spark, write_ledger_snapshot(spark, str(tmp_path / "aurora"), WORLD))

    assert from_jdbc.watermark == watermark
    assert watermark.source == "jdbc" and watermark.snapshot_id and watermark.wal_lsn
    assert from_snapshot.watermark.source == "snapshot"
    assert from_jdbc.row_counts == from_snapshot.row_counts == {t: len(r) for t, r in WORLD.ledger.items()}
    for table in LEDGER_TABLES:
        assert_df_equality(
            sorted_frame(from_jdbc.tables[table], table),
            sorted_frame(from_snapshot.tables[table], table),
            ignore_nullable=True,
        )
    totals = {
        (r.currency, r.total)
        for r in from_jdbc.tables["payment"].groupBy("currency").agg({"amount_minor": "sum"})
        .withColumnRenamed("sum(amount_minor)", "total").collect()
    }  # fmt: skip
    expected = {}
    for p in WORLD.ledger["payment"]:
        expected[p["currency"]] = expected.get(p["currency"], 0) + p["amount_minor"]
    assert totals == set(expected.items())


def test_every_table_is_read_as_of_one_snapshot(spark, ledger, postgres):
    dsn, jdbc = ledger
    with jdbc_snapshot(spark, jdbc) as snapshot:
        before = snapshot.read("payout").count(), snapshot.read("journal_entry").count()
        with psycopg.connect(dsn) as conn:  # a payout posted by the product after the snapshot
            entry = conn.execute(
                "INSERT INTO ledger.journal_entry (posted_at, source_kind, source_id)"
                " VALUES (now(), 'payout', 'po_late') RETURNING entry_id"
            ).fetchone()[0]
            conn.execute("INSERT INTO ledger.journal_line VALUES (%s, 1, 'bank', 5, 'usd'),"
                         " (%s, 2, 'stripe_balance', -5, 'usd')", (entry, entry))  # fmt: skip
            conn.execute(
                "INSERT INTO ledger.payout"
                " VALUES ('pout_late', 'po_late', 5, 'usd', 'paid', now(), current_date, %s)",
                (entry,),
            )
        during = snapshot.read("payout").count(), snapshot.read("journal_entry").count()
        live = spark.read.jdbc(jdbc.url, "ledger.payout", properties=jdbc.properties()).count()
    assert before == during == (len(WORLD.ledger["payout"]), len(WORLD.ledger["journal_entry"]))
    assert live == len(WORLD.ledger["payout"]) + 1
    assert snapshot.watermark.snapshot_time.tzinfo is not None


def test_an_incomplete_or_inconsistent_export_is_refused(spark, tmp_path):
    export_dir = write_ledger_snapshot(spark, str(tmp_path), WORLD, "broken")
    info_path = Path(export_info_path(export_dir))
    info = json.loads(info_path.read_text())

    info["tables"][4]["rowCount"] += 1
    info_path.write_text(json.dumps(info))
    with pytest.raises(LedgerExtractError, match=r"ledger.payment has \d+ rows, its export info says"):
        read_ledger_export(spark, export_dir)

    info_path.unlink()
    with pytest.raises(LedgerExtractError, match="no complete ledger export"):
        read_ledger_export(spark, export_dir)
    with pytest.raises(LedgerExtractError, match="already exists"):
        write_ledger_snapshot(spark, str(tmp_path), WORLD, "again")
        export_ledger_jdbc(spark, LedgerJdbc("jdbc:postgresql://127.0.0.1:1/x"), str(tmp_path), "again")


def test_an_aurora_made_export_info_gives_a_snapshot_watermark(spark, tmp_path):
    export_dir = write_ledger_snapshot(spark, str(tmp_path), WORLD, "aurora-1")
    info_path = Path(export_info_path(export_dir))
    info = json.loads(info_path.read_text())
    del info["ledgerWatermark"]
    info["snapshotTime"] = "2026-11-03T10:00:00Z"
    info_path.write_text(json.dumps(info))
    snapshot = read_ledger_export(spark, export_dir)
    assert snapshot.watermark.source == "snapshot" and snapshot.watermark.export_id == "aurora-1"
    assert snapshot.watermark.snapshot_time.isoformat() == "2026-11-03T10:00:00+00:00"


def test_an_unreachable_ledger_is_a_clear_error(spark, tmp_path):
    with pytest.raises(
        LedgerExtractError, match=r"cannot connect to the ledger at jdbc:postgresql://127\.0\.0\.1:1/x"
    ):
        export_ledger_jdbc(spark, LedgerJdbc("jdbc:postgresql://127.0.0.1:1/x"), str(tmp_path), "nowhere")
