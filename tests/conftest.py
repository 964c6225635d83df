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

    session = local_spark_session(str(session_lake), app_name="lakehouse-tests", shuffle_partitions=2)
    yield session
    shutdown_callback_server(session)
    session.stop()


@pytest.fixture
def lake(tmp_path):
    """A fresh, empty lake root for one test."""
    root = tmp_path / "lake"
    root.mkdir()
    return str(root)
