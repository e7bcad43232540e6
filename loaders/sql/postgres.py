"""PostgreSQL through ADBC (`adbc-driver-postgresql`, libpq): results arrive as Arrow record batches
streamed from `COPY ... TO STDOUT (FORMAT binary)`, never as Python rows.

Types ADBC carries natively (integers, floats, bool, text, date, timestamp[tz], bytea, json/jsonb,
interval, time, arrays of these) are selected as they are; `numeric(p,s)` arrives as text and is cast
to `decimal128(p,s)` (p <= 38; wider or unconstrained numerics stay text, exactly as written); uuid,
inet, enums and other types without an Arrow twin are selected as `::text`.

Connection keys: host, replica_host (when set, every query goes there and `host` is not used), port,
database, user, password, sslmode, sslrootcert, connect_timeout (libpq's, for the whole connection
handshake), statement_timeout (seconds, the server's `statement_timeout`), application_name. TCP
keepalives are on, so a server that disappears mid-result is noticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pyarrow as pa

from loaders.sql.dialect import Column, Dialect
from loaders.sql.engine import ArrowResult, Engine
from loaders.sql.options import ConnectionOptions

# udt names ADBC turns into a matching Arrow type
NATIVE = {
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "numeric",
    "bool",
    "text",
    "varchar",
    "bpchar",
    "date",
    "timestamp",
    "timestamptz",
    "bytea",
    "json",
    "jsonb",
    "interval",
    "time",
}
NATIVE_ARRAYS = {f"_{name}" for name in NATIVE - {"numeric", "json", "jsonb", "interval", "bytea"}}
MAX_DECIMAL_PRECISION = 38


class PostgresOptions(ConnectionOptions):
    application_name: str = "lakehouse-loader"


class PostgresDialect(Dialect):
    name = "postgres"
    default_schema = "public"
    now_sql = "now()"

    def timestamp_literal(self, value: datetime) -> str:
        if value.tzinfo is None:
            return f"'{value.isoformat(sep=' ')}'::timestamp"
        return f"'{value.astimezone(UTC).isoformat(sep=' ')}'::timestamptz"

    def date_literal(self, value: Any) -> str:
        return f"'{value.isoformat()}'::date"

    def columns_sql(self, table: Any) -> str:
        # udt_name ('int8', 'timestamptz', '_int4') is more precise than data_type ('ARRAY', 'USER-DEFINED').
        return super().columns_sql(table).replace("data_type", "udt_name", 1)

    def expression(self, column: Column) -> str:
        quoted = self.quote(column.name)
        if column.type in NATIVE or column.type in NATIVE_ARRAYS:
            return quoted
        if column.type.startswith("_"):
            return f"{quoted}::text[]"
        return f"{quoted}::text"

    def arrow_type(self, column: Column, fetched: pa.DataType) -> pa.DataType | None:
        return numeric_type(column)


def numeric_type(column: Column) -> pa.DataType | None:
    """`numeric(p,s)` with p <= 38 as a decimal; anything else keeps the driver's type."""
    if column.type != "numeric" or column.precision is None or column.scale is None:
        return None
    if column.precision > MAX_DECIMAL_PRECISION:
        return None
    return pa.decimal128(column.precision, column.scale)


class AdbcSession:
    def __init__(self, uri: str) -> None:
        import adbc_driver_postgresql.dbapi as dbapi

        self.connection = dbapi.connect(uri, autocommit=True)

    def arrow(self, sql: str) -> ArrowResult:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            reader = cursor.fetch_record_batch()
        except BaseException:
            cursor.close()
            raise
        return ArrowResult(reader.schema, _batches(reader, cursor))

    def close(self) -> None:
        self.connection.close()


def _batches(reader: pa.RecordBatchReader, cursor: Any) -> Iterator[pa.RecordBatch]:
    try:
        yield from reader
    finally:
        cursor.close()


class PostgresEngine(Engine):
    kind = "postgres"
    dialect = PostgresDialect()

    def __init__(self, options: PostgresOptions) -> None:
        super().__init__(options)
        self.options: PostgresOptions = options

    def connect(self) -> AdbcSession:
        return AdbcSession(self.uri())

    def uri(self) -> str:
        """A libpq URI to the read host: `replica_host` when set (a loader only reads), else `host`."""
        options = self.options
        netloc = _with_port(options.read_host(), options.port or 5432)
        user = quote(options.user or "", safe="")
        secret = quote(options.secret(), safe="")
        credentials = f"{user}:{secret}@" if secret else f"{user}@" if user else ""
        return f"postgresql://{credentials}{netloc}/{quote(options.database or '', safe='')}?{self.query()}"

    def query(self) -> str:
        options = self.options
        params: dict[str, str] = {"connect_timeout": str(options.connect_timeout)}
        params["application_name"] = options.application_name
        if options.sslmode:
            params["sslmode"] = options.sslmode
        if options.sslrootcert:
            params["sslrootcert"] = options.sslrootcert
        # TCP keepalives: a peer that vanishes mid-result (no FIN, no RST) is noticed within about a minute.
        params |= {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10", "keepalives_count": "3"}
        timeout = options.statement_seconds()
        if timeout:
            params["options"] = f"-c statement_timeout={round(timeout * 1000)}"
        return urlencode(params, quote_via=quote)


def _with_port(host: str, port: int) -> str:
    return host if ":" in host else f"{host}:{port}"


Options = PostgresOptions


def engine(options: PostgresOptions) -> PostgresEngine:
    return PostgresEngine(options)
