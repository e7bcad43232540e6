"""Snowflake through the Snowflake connector, fetching Arrow (`fetch_arrow_batches`): the result chunks
Snowflake produces in Arrow format are handed over as Arrow tables, never as Python rows.

Verified against `fakesnow`'s server (a local HTTP endpoint speaking Snowflake's REST protocol over
DuckDB), with the real connector: the connector's own Arrow conversion runs in the tests.

NUMBER(p,s) arrives as an integer or decimal128(p,s); TIMESTAMP_TZ / TIMESTAMP_LTZ as UTC timestamps,
TIMESTAMP_NTZ naive, all at microsecond precision (`force_microsecond_precision`: Delta keeps
microseconds); VARIANT, OBJECT and ARRAY as JSON text. Unquoted names are upper case, as in Snowflake.

Connection keys: account, user, password (or private_key_file + private_key_file_pwd, or
authenticator), warehouse, database, schema, role, connect_timeout (login), statement_timeout
(STATEMENT_TIMEOUT_IN_SECONDS, and the connector's network_timeout = statement_timeout + connect_timeout),
and host/port/protocol for PrivateLink or a local endpoint.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, Literal

import pyarrow as pa
from pydantic import ConfigDict, Field, SecretStr

from loaders.sql.dialect import Dialect
from loaders.sql.engine import ArrowResult, Engine
from loaders.sql.options import ConnectionOptions


class SnowflakeOptions(ConnectionOptions):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    account: str
    warehouse: str | None = None
    role: str | None = None
    db_schema: str | None = Field(default=None, alias="schema")
    authenticator: str | None = None
    private_key_file: str | None = None
    private_key_file_pwd: SecretStr | None = None
    protocol: Literal["https", "http"] = "https"


class SnowflakeDialect(Dialect):
    name = "snowflake"
    fold_upper = True
    now_sql = "CURRENT_TIMESTAMP()"

    def __init__(self, schema: str | None = None) -> None:
        self.default_schema = schema or "PUBLIC"

    def timestamp_literal(self, value: datetime) -> str:
        if value.tzinfo is None:
            return f"'{value.isoformat(sep=' ', timespec='microseconds')}'::TIMESTAMP_NTZ"
        return f"'{value.astimezone(UTC).isoformat(sep=' ', timespec='microseconds')}'::TIMESTAMP_TZ"

    def date_literal(self, value: date) -> str:
        return f"'{value.isoformat()}'::DATE"


class SnowflakeSession:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def arrow(self, sql: str) -> ArrowResult:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return ArrowResult(None, _batches(cursor))

    def close(self) -> None:
        self.connection.close()


def _batches(cursor: Any) -> Iterator[pa.RecordBatch]:
    try:
        for table in cursor.fetch_arrow_batches(force_microsecond_precision=True):
            yield from table.to_batches()
    finally:
        cursor.close()


class SnowflakeEngine(Engine):
    kind = "snowflake"

    def __init__(self, options: SnowflakeOptions) -> None:
        super().__init__(options)
        self.options: SnowflakeOptions = options
        self.dialect = SnowflakeDialect(options.db_schema)

    def connect(self) -> SnowflakeSession:
        import snowflake.connector

        return SnowflakeSession(snowflake.connector.connect(**self.connect_arguments()))

    def connect_arguments(self) -> dict[str, Any]:
        options = self.options
        arguments: dict[str, Any] = {"account": options.account, "user": options.user}
        optional = {
            "warehouse": options.warehouse,
            "database": options.database,
            "schema": options.db_schema,
            "role": options.role,
            "authenticator": options.authenticator,
            "private_key_file": options.private_key_file,
            "host": options.read_host() if options.host or options.replica_host else None,
            "port": options.port,
        }
        arguments |= {key: value for key, value in optional.items() if value is not None}
        if options.password is not None:
            arguments["password"] = options.secret()
        if options.private_key_file_pwd is not None:
            arguments["private_key_file_pwd"] = options.private_key_file_pwd.get_secret_value()
        arguments |= {"protocol": options.protocol, "login_timeout": options.connect_timeout}
        parameters: dict[str, Any] = {"TIMEZONE": "UTC", "QUERY_TAG": "lakehouse-loader"}
        timeout = options.statement_seconds()
        if timeout:
            parameters["STATEMENT_TIMEOUT_IN_SECONDS"] = math.ceil(timeout)
            # the client's own bound, in case the server never ends the query (or never answers)
            arguments["network_timeout"] = math.ceil(timeout) + options.connect_timeout
        arguments["session_parameters"] = parameters
        return arguments

    def where(self) -> str:
        return f"snowflake account {self.options.account} ({self.options.database or ''})"

    def secrets(self) -> list[str]:
        key = self.options.private_key_file_pwd.get_secret_value() if self.options.private_key_file_pwd else ""
        return [s for s in (self.options.secret(), key) if s]


Options = SnowflakeOptions


def engine(options: SnowflakeOptions) -> SnowflakeEngine:
    return SnowflakeEngine(options)
