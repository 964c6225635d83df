"""Shared fixtures: one Spark session for the whole test session (real Delta and Deequ jars)."""

import os

os.environ.setdefault("SPARK_VERSION", "3.5")  # before anything imports pydeequ

import pytest


@pytest.fixture(scope="session")
def session_lake(tmp_path_factory):
    """The lake root whose _system folder holds the session's catalog (metastore)."""
    return tmp_path_factory.mktemp("session_lake")


@pytest.fixture(scope="session")
def spark(session_lake):
    from lakehouse.runtime import local_spark_session, shutdown_callback_server

    # One JVM serves every test of the session: a heap of 4 GiB (of 24) and cached frames released
    # after each module (below) keep the hundreds of small lakes from exhausting it.
    session = local_spark_session(
        str(session_lake), app_name="lakehouse-tests", shuffle_partitions=2, driver_memory="4g"
    )
    yield session
    shutdown_callback_server(session)
    session.stop()


@pytest.fixture(scope="module", autouse=True)
def release_cached_frames():
    """After each test module, drop whatever it left cached in the session's JVM."""
    yield
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.catalog.clearCache()


@pytest.fixture
def lake(tmp_path):
    """A fresh, empty lake root for one test."""
    root = tmp_path / "lake"
    root.mkdir()
    return str(root)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL on 127.0.0.1: a throwaway cluster in a temp folder for the test session.

    Never skipped: when the server cannot start, every test that needs it fails with the reason.
    """
    from lakehouse.finance.ledger.server import PostgresUnavailable, throwaway_server

    server_cm = throwaway_server()
    try:
        server = server_cm.__enter__()
    except PostgresUnavailable as exc:
        pytest.fail(f"the test PostgreSQL server could not start: {exc}", pytrace=False)
    yield server
    server_cm.__exit__(None, None, None)


@pytest.fixture
def ledger_db(postgres):
    """A new, empty database on the session's PostgreSQL; its libpq connection string."""
    import uuid

    import psycopg

    name = f"ledger_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.dsn(name)
