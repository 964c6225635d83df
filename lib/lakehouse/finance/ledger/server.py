"""A throwaway PostgreSQL server on 127.0.0.1: a fresh cluster in a temporary folder.

Used by the tests and by local runs that want the ledger in a real database. It runs the
server binaries of Debian's ``postgresql`` package (``make postgres`` installs them); it
never downloads a server. As root, the cluster is owned by and run as the ``postgres``
system user, since PostgreSQL refuses to run as root.

Example::

    with throwaway_server() as server:
        server.dsn("postgres")    # 'host=127.0.0.1 port=54321 user=lakehouse dbname=postgres'
        server.jdbc_url("ledger")  # 'jdbc:postgresql://127.0.0.1:54321/ledger'
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "lakehouse"
_DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_START_ATTEMPTS = 3


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server did not start."""


@dataclass(frozen=True)
class Server:
    """A running server: where to reach it and as whom."""

    host: str
    port: int
    user: str
    data_dir: Path

    def dsn(self, database: str) -> str:
        """libpq connection string for ``database``."""
        return f"host={self.host} port={self.port} user={self.user} dbname={database}"

    def jdbc_url(self, database: str) -> str:
        """JDBC URL for ``database`` (the user goes in the connection properties)."""
        return f"jdbc:postgresql://{self.host}:{self.port}/{database}"


def server_bin_dir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres`` (newest Debian version first)."""
    candidates = sorted(Path("/").glob(_DEBIAN_BIN_GLOB.lstrip("/")), key=_major_version, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package "
        "(`make postgres`, or apt-get install postgresql)"
    )


def _major_version(folder: Path) -> int:
    name = folder.parent.name
    return int(name) if name.isdigit() else -1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as() -> pwd.struct_passwd | None:
    """The account the server runs as: ``postgres`` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root but there is no 'postgres' system user to run the server as "
            "(Debian's postgresql package creates it)"
        ) from None


def _command(account: pwd.struct_passwd | None, args: list[str]) -> list[str]:
    if account is None:
        return args
    return ["runuser", "-u", account.pw_name, "--", *args]


def _check(args: list[str], what: str, log: Path | None = None) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        if log is not None and log.is_file():
            detail += "\n" + log.read_text(errors="replace")[-2000:]
        raise PostgresUnavailable(f"{what} failed (exit {result.returncode}): {detail}")


@contextlib.contextmanager
def throwaway_server(base_dir: str | os.PathLike | None = None) -> Iterator[Server]:
    """Start a fresh cluster on 127.0.0.1 at a free port; stop it and delete it on exit.

    Raises PostgresUnavailable with the server's own words when it cannot start.
    """
    bin_dir = server_bin_dir()
    account = _run_as()
    root = Path(tempfile.mkdtemp(prefix="lakehouse-pg-", dir=base_dir))
    data_dir, log = root / "data", root / "server.log"
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
    started = False
    try:
        _check(
            _command(
                account,
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            ),
            "initdb",
        )
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = _free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off"
            try:
                _check(
                    _command(
                        account,
                        [
                            str(bin_dir / "pg_ctl"),
                            "-D",
                            str(data_dir),
                            "-l",
                            str(log),
                            "-o",
                            options,
                            "-w",
                            "-t",
                            "60",
                            "start",
                        ],
                    ),
                    "pg_ctl start",
                    log,
                )
                started = True
                break
            except PostgresUnavailable:
                if attempt == _START_ATTEMPTS:
                    raise
        yield Server(host="127.0.0.1", port=port, user=SUPERUSER, data_dir=data_dir)
    finally:
        if started:
            subprocess.run(
                _command(account, [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
