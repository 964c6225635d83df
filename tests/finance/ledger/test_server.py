import psycopg
import pytest
from lakehouse.finance.ledger import server


def test_server_is_a_real_postgres_on_loopback(postgres, ledger_db):
    with psycopg.connect(ledger_db) as conn:
        version, address = conn.execute(
            "SELECT current_setting('server_version_num')::int, inet_server_addr()"
        ).fetchone()
    assert version >= 150000
    assert str(address) == "127.0.0.1"
    assert postgres.jdbc_url("x") == f"jdbc:postgresql://127.0.0.1:{postgres.port}/x"


def test_missing_server_binaries_are_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(server, "_DEBIAN_BIN_GLOB", str(tmp_path / "none" / "*" / "bin"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(server.PostgresUnavailable, match="install Debian's postgresql package"):
        server.server_bin_dir()
