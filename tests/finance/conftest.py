"""A real PostgreSQL for the finance tests: one throwaway server per test session.

Nothing is skipped: when the server cannot start, every test that needs it fails with the reason.
"""

import uuid

import pytest
from lakehouse.finance.ledger.server import PostgresUnavailable, throwaway_server


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server on 127.0.0.1 (a fresh cluster in a temp folder)."""
    server_cm = throwaway_server()
    try:
        server = server_cm.__enter__()
    except PostgresUnavailable as exc:
        pytest.fail(f"the test PostgreSQL server could not start: {exc}", pytrace=False)
    yield server
    server_cm.__exit__(None, None, None)


@pytest.fixture
def ledger_db(postgres):
    """A new, empty database on the session server; its libpq connection string."""
    import psycopg

    name = f"ledger_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.dsn(name)
