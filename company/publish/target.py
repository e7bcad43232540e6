"""Where a system is published: a server named by a URI, its password kept out of every message.

    postgresql://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=...&sslrootcert=...]
    mysql://USER[:PASSWORD]@HOST[:PORT][/DATABASE]          (mariadb:// too)
    mongodb://[USER[:PASSWORD]@]HOST[:PORT][/DATABASE][?authSource=admin&...]

A password left out of the URI is read from `LAKEHOUSE_<SYSTEM>_PASSWORD`, the variable the written
source files reference, so it need not appear on a command line. The database defaults to the real
system's own (`company_production`, `legacy_systems`, `company_analytics`). A MongoDB URI may name no
user: a server without authentication.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from company.systems import SYSTEMS
from lakehouse.core.errors import ConfigError, LakehouseError, SourceError
from loaders.core.redact import Redactor


@dataclass(frozen=True)
class Engine:
    system: str  # the generator's system this kind of server receives
    label: str
    schemes: tuple[str, ...]
    default_port: int
    default_user: str
    option: str  # the command-line option that names it


ENGINES = {
    "postgres": Engine("postgres", "PostgreSQL", ("postgresql", "postgres"), 5432, "postgres", "--postgres"),
    "mysql": Engine("mysql", "MySQL/MariaDB", ("mysql", "mariadb"), 3306, "root", "--mysql"),
    "mongodb": Engine("mongodb", "MongoDB", ("mongodb",), 27017, "", "--mongodb"),
}


def password_variable(system: str) -> str:
    return f"LAKEHOUSE_{system.upper()}_PASSWORD"


def native_database(system: str) -> str:
    """The database the real system's tables live in: the first part of a stream's native name."""
    return SYSTEMS[system].streams[0].native_name.split(".")[0]


@dataclass(frozen=True)
class Target:
    engine: Engine
    scheme: str
    host: str
    port: int
    user: str
    database: str
    params: dict[str, str] = field(default_factory=dict)
    password: str = field(default="", repr=False)

    @property
    def system(self) -> str:
        return self.engine.system

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"{host}:{self.port}"

    def display(self) -> str:
        """The URI without the password: safe to print and to write into files."""
        user = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{user}{self.netloc}/{self.database}"

    def redactor(self) -> Redactor:
        return Redactor([self.password] if self.password else [])

    def connection_error(self, exc: BaseException) -> LakehouseError:
        """A driver's connection failure as cause + fix, scrubbed of the password.

        Raise the result outside the `except` block that caught `exc`, so the driver's exception
        (which may quote the connection string) is not chained to it.
        """
        message = "; ".join(_distinct_lines(self.redactor().scrub(str(exc))))
        cause = f"cannot connect to {self.engine.label} at {self.display()}: {message}"
        return SourceError(cause, self._fix_for(message.lower()))

    def _fix_for(self, message: str) -> str:
        option, variable = self.engine.option, password_variable(self.system)
        if "to database" in message or "permission denied" in message or "not authorized" in message:
            return (
                f"grant {self.user!r} the right to use (and, for MySQL, create) the database {self.database!r}, "
                f"or name a database it may use in {option}"
            )
        if any(word in message for word in ("password", "authentication", "access denied")):
            where = " (a MongoDB user defined in another database needs ?authSource=THAT_DATABASE)"
            return (
                f"check the user and password: give them in {option} "
                f"({self.scheme}://USER:PASSWORD@HOST:PORT/DATABASE) or set {variable}"
                f"{where if self.system == 'mongodb' else ''}"
            )
        if "database" in message and ("does not exist" in message or "unknown" in message):
            return f"create the database {self.database!r} on the server, or name an existing one in {option}"
        return (
            f"check that the {self.engine.label} server runs and listens on {self.netloc}, "
            f"or correct the host and port in {option}"
        )


def _distinct_lines(text: str) -> list[str]:
    """The message's lines, each once: libpq repeats its reason for every address and TLS attempt."""
    kept: list[str] = []
    for line in (" ".join(raw.split()) for raw in text.splitlines()):
        if line and not any(line in earlier for earlier in kept):
            kept.append(line)
    return kept


def parse_target(system: str, uri: str) -> Target:
    """The server `uri` names for `system`; errors never repeat the URI's password."""
    engine = ENGINES[system]
    usage = f"use {engine.schemes[0]}://USER:PASSWORD@HOST:PORT/DATABASE"
    try:
        parts = urlsplit(uri.strip())
        port = parts.port or engine.default_port
    except ValueError:
        raise ConfigError(
            f"{engine.option}: the URI's HOST:PORT cannot be read (the port is not a number)",
            f"{usage}; URL-encode `:`, `/`, `@` in the password (%3A, %2F, %40) or set {password_variable(system)}",
        ) from None
    if parts.scheme not in engine.schemes:
        scheme = parts.scheme or "(none)"
        raise ConfigError(
            f"{engine.option}: a {engine.label} URI starts with {engine.schemes[0]}://, not {scheme}", usage
        )
    password = unquote(parts.password) if parts.password is not None else os.environ.get(password_variable(system), "")
    return Target(
        engine=engine,
        scheme=parts.scheme,
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username) if parts.username else engine.default_user,
        database=unquote(parts.path.lstrip("/")) or native_database(system),
        params=dict(parse_qsl(parts.query)),
        password=password,
    )
