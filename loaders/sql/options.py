"""The SQL family's keys in a source file: connection options and per-stream options.

    source: app_db
    type: postgres            # postgres | mysql | sqlserver | oracle | snowflake | redshift | bigquery
    options:
      host: company-prod-db.company.com
      replica_host: company-prod-db-ro.company.com   # optional: read from the replica
      port: 5432
      database: company_production
      user: loader
      password: ${APP_DB_PASSWORD}                  # or ${secretsmanager:prod/app-db#password}
      sslmode: verify-full                          # disable | require | verify-ca | verify-full
      sslrootcert: /etc/ssl/certs/rds-ca.pem
      connect_timeout: 10                           # seconds (default 10)
      statement_timeout: 1800                       # seconds per query (default 1800; 0: no limit)
      parallel: 4                                   # chunks read at once (one connection each)
    streams:
      - name: users
        table: public.users        # default: the stream name in the dialect's default schema
        mode: merge
        primary_key: [id]
        cursor_field: updated_at
        chunk_rows: 200000         # rows per chunk (the unit of commit and resume)
        lag_seconds: 0             # read only rows whose cursor is older than this
        deletes: reconcile         # none (default) | reconcile: emit `_op='delete'` for vanished keys
        reconcile_every_hours: 24
        max_delete_share: 0.5      # refuse to mark more than this share of bronze's keys deleted at once

Engine-specific keys (Snowflake `account`/`warehouse`, BigQuery `project`/`credentials_json`, Redshift
`unload`, ...) are documented in each engine's module and in loaders/sql/README.md.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from lakehouse.core.errors import ConfigError
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.protocol import SyncMode

M = TypeVar("M", bound=BaseModel)
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class ConnectionOptions(BaseModel):
    """Keys every engine understands; engines extend this model with their own."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = None
    replica_host: str | None = None
    port: int | None = Field(default=None, gt=0, lt=65536)
    database: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    sslmode: SslMode | None = None
    sslrootcert: str | None = None
    connect_timeout: int = Field(default=10, gt=0)
    # Seconds a query may run (server-side where the engine has such a setting, else bounded by the client).
    statement_timeout: float = Field(default=1800, ge=0)
    parallel: int = Field(default=4, ge=1, le=32)
    batch_rows: int = Field(default=65_536, gt=0)
    timezone: str = "UTC"  # the zone naive timestamps are written in (used only with `lag_seconds`)

    def secret(self) -> str:
        return self.password.get_secret_value() if self.password is not None else ""

    def statement_seconds(self) -> float | None:
        """The statement timeout in seconds, None when there is none (`statement_timeout: 0`)."""
        return self.statement_timeout or None

    def read_host(self) -> str:
        return self.replica_host or self.host or "127.0.0.1"


class SqlStreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str | None = None
    columns: list[str] | None = None
    where: str | None = None  # a SQL predicate the source file's author vouches for
    chunk_column: str | None = None
    chunk_rows: int = Field(default=200_000, gt=0)
    lag_seconds: float = Field(default=0, ge=0)
    deletes: Literal["none", "reconcile"] = "none"
    reconcile_every_hours: float = Field(default=24, ge=0)
    max_boundary_keys: int = Field(default=10_000, ge=0)
    # Reconciliation refuses to mark more than this share of bronze's live keys deleted in one load.
    max_delete_share: float = Field(default=0.5, ge=0, le=1)
    unload: bool = False  # Redshift: extract through UNLOAD to S3


def parse_options(model: type[M], config: SourceConfig) -> M:
    """The source's `options:` validated against `model`; errors name the file, the key and the fix."""
    return config.family_options(model)


def parse_stream_options(stream: StreamConfig, config: SourceConfig) -> SqlStreamOptions:
    options = stream.family_options(SqlStreamOptions)
    if stream.mode == SyncMode.CDC:
        raise ConfigError(
            f"{config.path}: stream {stream.name!r}: `mode: cdc` needs a change log, which the SQL family "
            "does not read yet",
            "use `mode: merge` with `cursor_field`, and `deletes: reconcile` or `soft_delete_field` for deletes",
        )
    if options.deletes == "reconcile" and not stream.primary_key:
        raise ConfigError(
            f"{config.path}: stream {stream.name!r}: `deletes: reconcile` compares primary keys, "
            "but `primary_key` is empty",
            "set `primary_key: [<column>, ...]` or remove `deletes: reconcile`",
        )
    if options.deletes == "reconcile" and stream.mode == SyncMode.FULL_REFRESH:
        raise ConfigError(
            f"{config.path}: stream {stream.name!r}: `deletes: reconcile` has nothing to do in `mode: full_refresh` "
            "(every load replaces the table)",
            "remove `deletes: reconcile`, or use `mode: merge`",
        )
    return options
