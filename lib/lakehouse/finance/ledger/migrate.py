"""Apply the ledger's SQL migrations, in order, each once, each in its own transaction.

Migrations are the files ``migrations/NNNN_name.sql`` beside this module. Applied versions
are recorded in ``public.ledger_schema_migrations`` with the file's SHA-256, so a second run
is a no-op, a migration edited after it was applied is an error, and two runners at once
serialize on an advisory lock.

Example::

    with psycopg.connect(dsn) as conn:
        migrate(conn)  # [Migration(version=1, name='ledger', ...), ...] newly applied
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "ledger_schema_migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x1ED6E5  # pg_advisory_xact_lock key shared by every runner of these migrations


class MigrationError(RuntimeError):
    """The migration files or the recorded history are inconsistent."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``folder``, by version; versions must run 1, 2, 3, ... without gaps."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration versions must be 1..{len(found)} without gaps, found {versions}")
    return found


def migrate(conn, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply the migrations not yet applied on ``conn`` (a psycopg connection); the ones applied."""
    migrations = load_migrations() if migrations is None else migrations
    if conn.info.transaction_status != conn.info.transaction_status.IDLE:
        raise MigrationError("migrate needs a connection outside any transaction (commit or roll back first)")
    was_autocommit, conn.autocommit = conn.autocommit, True
    try:
        return _apply(conn, migrations)
    finally:
        conn.autocommit = was_autocommit


def _apply(conn, migrations: list[Migration]) -> list[Migration]:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS public.{VERSION_TABLE} ("
        " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied = []
    for migration in migrations:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            row = conn.execute(
                f"SELECT name, checksum FROM public.{VERSION_TABLE} WHERE version = %s", (migration.version,)
            ).fetchone()
            if row is not None:
                if row[1] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{row[0]} was changed after it was applied; "
                        "add a new migration instead"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                f"INSERT INTO public.{VERSION_TABLE} (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
        log.info(
            "ledger migration applied", extra={"event": "ledger_migration", "version": migration.version}
        )
        applied.append(migration)
    return applied
