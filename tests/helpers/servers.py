"""Database servers for the tests, started from Debian packages into a temporary folder.

One section per server. Each server starts on a free loopback port, keeps all its state in a fresh
folder, and is stopped (and the folder removed) by `stop()`. Nothing here skips: a missing binary
fails with the Debian package that provides it.

PostgreSQL and MariaDB refuse to run as root; when the tests run as root, the server runs as the
package's own OS user (`postgres`, `mysql`), which the Debian packages create.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.spark import free_port

START_TIMEOUT_S = 60.0


class ServerError(RuntimeError):
    """A test server is missing or could not start; the message names the fix."""


def find_binary(name: str, package: str, search: tuple[str, ...] = ()) -> str:
    """The path of `name` on PATH or in one of the `search` globs (newest version first)."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in search:
        matches = sorted(glob.glob(pattern), reverse=True)
        if matches:
            return matches[0]
    raise ServerError(f"`{name}` is not installed; install the Debian package: apt-get install -y {package}")


def _as_user(user: str) -> list[str]:
    """The command prefix that runs a server as `user` when we are root (servers refuse root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(user)
    except KeyError:
        raise ServerError(
            f"running as root, but the OS user {user!r} the server runs as does not exist",
            # The Debian packages create the user; a hand-built server needs `useradd --system <user>`.
        ) from None
    # setpriv execs the server in its own process (runuser forks and waits, and does not pass on the
    # SIGINT of a fast shutdown: every stop then waited out its whole grace).
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


def _private_folder(prefix: str, owner: str) -> Path:
    """A fresh folder the server's OS user owns (pytest's tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    return folder


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServerError(f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


def _wait_until(ready: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise ServerError(f"{what} did not accept connections within {START_TIMEOUT_S:.0f}s; log tail:\n{tail}")


# --- PostgreSQL ---------------------------------------------------------------------------------

PG_PACKAGE = "postgresql postgresql-contrib"
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin/"


@dataclass
class PostgresServer:
    """A PostgreSQL cluster with TLS on (a self-signed certificate, also its own CA) and
    `pg_stat_statements` loaded, so tests can count the queries a load sends."""

    port: int = field(default_factory=free_port)
    superuser: str = "postgres"
    password: str = "pg-test-secret"
    folder: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "server.crt"

    def start(self) -> PostgresServer:
        initdb = find_binary("initdb", PG_PACKAGE, (PG_BIN_GLOB + "initdb",))
        postgres = find_binary("postgres", PG_PACKAGE, (PG_BIN_GLOB + "postgres",))
        prefix = _as_user("postgres")
        self.folder = _private_folder("lakehouse-pg-", "postgres")
        password_file = self.folder / "pw"
        password_file.write_text(self.password)
        self._own(password_file)
        _run(
            [
                *prefix,
                *(initdb, "-D", str(self.data_dir), "-U", self.superuser, "-E", "UTF8", "--locale=C.UTF-8"),
                *("--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={password_file}"),
            ],
            "initdb",
        )
        self._make_certificate()
        log = self.folder / "server.log"
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.folder),
            "shared_preload_libraries": "pg_stat_statements",
            "pg_stat_statements.track": "all",
            "ssl": "on",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "60",
            "shared_buffers": "256MB",
            "wal_level": "logical",
            "timezone": "UTC",
        }
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        with log.open("wb") as out:
            self._process = subprocess.Popen(
                [*prefix, postgres, "-D", str(self.data_dir), *options], stdout=out, stderr=out
            )
        _wait_until(self._ready, "PostgreSQL", log)
        self.psql("create extension if not exists pg_stat_statements")
        return self

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _make_certificate(self) -> None:
        openssl = find_binary("openssl", "openssl")
        key = self.data_dir / "server.key"
        _run(
            [
                *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
                *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(self.ca_file)),
            ],
            "openssl (server certificate)",
        )
        key.chmod(0o600)
        self._own(key)
        self._own(self.ca_file)

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"PostgreSQL exited with {self._process.returncode}; see {self.folder}/server.log")
        return self._psql_status("select 1") == 0

    def _psql_status(self, sql: str) -> int:
        psql = find_binary("psql", "postgresql-client", (PG_BIN_GLOB + "psql",))
        command = [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.superuser, "-d", "postgres", "-c", sql]
        env = {**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "2"}
        return subprocess.run(command, capture_output=True, env=env, check=False).returncode

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser; returns psql's unaligned output."""
        psql = find_binary("psql", "postgresql-client", (PG_BIN_GLOB + "psql",))
        command = [psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port)]
        command += ["-U", self.superuser, "-d", database, "-c", sql]
        env = {**os.environ, "PGPASSWORD": self.password}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise ServerError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def uri(self, database: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        who = user or self.superuser
        secret = password if password is not None else self.password
        return f"postgresql://{who}:{secret}@127.0.0.1:{self.port}/{database}"

    @contextmanager
    def tls_only(self, role: str, password: str) -> Iterator[None]:
        """While open, `role` may connect over TLS only: pg_hba.conf gets `hostssl` for it, then `reject`."""
        hba = self.data_dir / "pg_hba.conf"
        original = hba.read_text()
        hba.write_text(
            f"hostssl all {role} 127.0.0.1/32 scram-sha-256\nhost all {role} 127.0.0.1/32 reject\n{original}"
        )
        self.psql("select pg_reload_conf()")
        try:
            _wait_until(lambda: not self._plain_login(role, password), "pg_hba.conf reload", self.data_dir / "..")
            yield
        finally:
            hba.write_text(original)
            self.psql("select pg_reload_conf()")
            _wait_until(lambda: self._plain_login(role, password), "pg_hba.conf reload", self.data_dir / "..")

    def _plain_login(self, role: str, password: str) -> bool:
        psql = find_binary("psql", "postgresql-client", (PG_BIN_GLOB + "psql",))
        command = [psql, "-X", "-h", "127.0.0.1", "-p", str(self.port), "-U", role, "-d", "postgres", "-c", "select 1"]
        env = {**os.environ, "PGPASSWORD": password, "PGSSLMODE": "disable", "PGCONNECT_TIMEOUT": "2"}
        return subprocess.run(command, capture_output=True, env=env, check=False).returncode == 0

    def create_database(self, name: str, *, owner: str, owner_password: str) -> None:
        self.psql(f"create role {owner} login password '{owner_password}'")
        self.psql(f"create database {name} owner {owner}")
        self.psql(f"grant pg_read_all_stats to {owner}")

    def drop_database(self, name: str, *, owner: str) -> None:
        """Undo `create_database`, so that the next module sharing this server starts clean."""
        self.psql(f"drop database if exists {name} with (force)")
        self.psql(f"drop role if exists {owner}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            # SIGINT: PostgreSQL's fast shutdown. SIGTERM's smart shutdown waits for every client to
            # disconnect, up to the grace below when a test process still holds a connection.
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=10)  # the folder is deleted next: a short grace, then the kill
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


# --- MariaDB ------------------------------------------------------------------------------------

MARIADB_PACKAGE = "mariadb-server"


@dataclass
class MariaDbServer:
    port: int = field(default_factory=free_port)
    root_password: str = "maria-test-secret"
    folder: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        assert self.folder is not None
        return self.folder / "mysqld.sock"

    def start(self) -> MariaDbServer:
        install = find_binary("mariadb-install-db", MARIADB_PACKAGE)
        server = find_binary("mariadbd", MARIADB_PACKAGE, ("/usr/sbin/mariadbd",))
        self.folder = _private_folder("lakehouse-maria-", "mysql")
        data = self.folder / "data"
        user = ["--user=mysql"] if os.geteuid() == 0 else []
        setup = ["--auth-root-authentication-method=normal", "--skip-test-db", *user]
        _run(
            [install, "--no-defaults", f"--datadir={data}", *setup],
            "mariadb-install-db",
        )
        log = self.folder / "server.log"
        arguments = [server, "--no-defaults", f"--datadir={data}", f"--port={self.port}", "--bind-address=127.0.0.1"]
        arguments += [f"--socket={self.socket}", f"--pid-file={self.folder}/mysqld.pid", f"--log-error={log}"]
        arguments += ["--skip-name-resolve", "--innodb-flush-log-at-trx-commit=0", "--default-time-zone=+00:00"]
        arguments += ["--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci", *user]
        self._process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_until(self._ready, "MariaDB", log)
        self.sql(f"alter user 'root'@'localhost' identified by '{self.root_password}'", root_password="")
        return self

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"MariaDB exited with {self._process.returncode}; see {self.folder}/server.log")
        return self.socket.exists()

    def sql(self, statement: str, database: str = "", root_password: str | None = None) -> str:
        """Run SQL as root over the socket; returns the client's tab-separated output."""
        client = find_binary("mariadb", "mariadb-client")
        secret = self.root_password if root_password is None else root_password
        command = [client, "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-B", "-e", statement]
        if database:
            command.append(database)
        env = {**os.environ, "MYSQL_PWD": secret}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise ServerError(f"mariadb client failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def create_database(self, name: str, *, owner: str, owner_password: str) -> None:
        self.sql(f"create database {name} character set utf8mb4")
        self.sql(f"create user '{owner}'@'127.0.0.1' identified by '{owner_password}'")
        self.sql(f"grant all on {name}.* to '{owner}'@'127.0.0.1'")

    def drop_database(self, name: str, *, owner: str) -> None:
        """Undo `create_database` (or a user and database a test made), for the next module."""
        self.sql(f"drop database if exists {name}")
        self.sql(f"drop user if exists '{owner}'@'127.0.0.1'")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)  # the folder is deleted next: a short grace, then the kill
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
