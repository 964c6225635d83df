import psycopg
import pytest
from lakehouse.finance.ledger.migrate import Migration, MigrationError, load_migrations, migrate


def schema_snapshot(conn):
    return conn.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema IN ('ledger', 'public') ORDER BY 1, 2, 3"
    ).fetchall()


def post(conn, lines, lbg_id="lbg_1"):
    entry_id = conn.execute(
        "INSERT INTO ledger.journal_entry (posted_at, lbg_id, source_kind, source_id)"
        " VALUES ('2026-11-30 12:00+00', %s, 'payment', 'pay_1') RETURNING entry_id",
        (lbg_id,),
    ).fetchone()[0]
    for no, (account, amount, currency) in enumerate(lines, start=1):
        conn.execute(
            "INSERT INTO ledger.journal_line VALUES (%s, %s, %s, %s, %s)",
            (entry_id, no, account, amount, currency),
        )
    return entry_id


@pytest.fixture
def ledger(ledger_db):
    with psycopg.connect(ledger_db) as conn:
        migrate(conn)
        conn.autocommit = True
        conn.execute(
            "INSERT INTO ledger.account VALUES ('cash', 'Stripe balance', 'asset'),"
            " ('revenue', 'Booking revenue', 'revenue'), ('tax', 'Tax payable', 'liability')"
        )
        conn.autocommit = False
        yield conn


def test_migrating_twice_is_migrating_once(ledger_db):
    with psycopg.connect(ledger_db, autocommit=True) as conn:
        first = migrate(conn)
        once = schema_snapshot(conn)
        second = migrate(conn)
        history = conn.execute("SELECT version, name FROM ledger_schema_migrations ORDER BY 1").fetchall()
        assert [m.version for m in first] == [m.version for m in load_migrations()] == [1, 2]
        assert second == []
        assert schema_snapshot(conn) == once
        assert history == [(1, "ledger"), (2, "double_entry")]


def test_a_failing_migration_leaves_nothing_behind(ledger_db):
    broken = [*load_migrations(), Migration(3, "broken", "CREATE TABLE ledger.half (x int); SELECT 1/0;")]
    with psycopg.connect(ledger_db, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            migrate(conn, broken)
        assert conn.execute("SELECT to_regclass('ledger.half')").fetchone()[0] is None
        assert conn.execute("SELECT max(version) FROM ledger_schema_migrations").fetchone()[0] == 2


def test_migrate_refuses_a_connection_inside_a_transaction(ledger_db):
    with psycopg.connect(ledger_db) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(MigrationError, match="outside any transaction"):
            migrate(conn)


def test_an_applied_migration_that_changed_is_refused(ledger_db):
    original = load_migrations()
    edited = [original[0], Migration(2, original[1].name, original[1].sql + "\n-- edited\n")]
    with psycopg.connect(ledger_db) as conn:
        migrate(conn, original)
        with pytest.raises(MigrationError, match="0002_double_entry was changed after it was applied"):
            migrate(conn, edited)


def test_balanced_entries_commit_per_currency(ledger):
    entry = post(ledger, [("cash", 10_500, "usd"), ("revenue", -10_000, "usd"), ("tax", -500, "usd")])
    post(ledger, [("cash", 5_000, "jpy"), ("revenue", -5_000, "jpy")])
    ledger.commit()
    total = ledger.execute("SELECT sum(amount_minor) FROM ledger.journal_line WHERE entry_id = %s", (entry,))
    assert total.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([("cash", 10_000, "usd"), ("revenue", -9_999, "usd")], "does not balance: lines sum to usd 1"),
        # zero in total, but not per currency
        (
            [("cash", 100, "usd"), ("revenue", -100, "eur")],
            "does not balance: lines sum to eur -100, usd 100",
        ),
        ([("cash", 100, "usd")], "has 1 line"),
    ],
)
def test_the_database_rejects_unbalanced_entries(ledger, lines, message):
    post(ledger, lines)
    with pytest.raises(psycopg.errors.CheckViolation, match=message):
        ledger.commit()
    assert ledger.execute("SELECT count(*) FROM ledger.journal_entry").fetchone()[0] == 0


def test_an_entry_without_lines_is_rejected(ledger):
    post(ledger, [])
    with pytest.raises(psycopg.errors.CheckViolation, match="has 0 line"):
        ledger.commit()


def test_the_journal_is_append_only(ledger):
    entry = post(ledger, [("cash", 100, "usd"), ("revenue", -100, "usd")])
    ledger.commit()
    with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
        ledger.execute("UPDATE ledger.journal_line SET amount_minor = 1 WHERE entry_id = %s", (entry,))
    ledger.rollback()
    with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
        ledger.execute("DELETE FROM ledger.journal_entry")


def test_currency_codes_are_lowercase_iso_shaped(ledger):
    with pytest.raises(psycopg.errors.CheckViolation):
        post(ledger, [("cash", 100, "USD"), ("revenue", -100, "USD")])
