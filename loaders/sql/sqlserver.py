"""SQL Server through ConnectorX (Rust TDS client, no ODBC driver needed): Arrow record batches
streamed with `return_type="arrow_stream"`.

Not verified against a live server (none can be installed here): tests check the generated SQL, the
connection URL and the driver calls with ConnectorX mocked at its boundary.

DECIMAL/NUMERIC and MONEY are selected as text and cast back to `decimal128(p,s)`; UNIQUEIDENTIFIER as
its canonical text; DATETIMEOFFSET is shifted to UTC (`SWITCHOFFSET`) and marked UTC; XML, SQL_VARIANT,
HIERARCHYID and the spatial types as NVARCHAR(MAX). Strings are written as N'...' literals.

Connection keys: host, replica_host (e.g. an Always On readable secondary listener), port (1433),
database, user, password, trusted_connection (Windows/Kerberos authentication instead of a password),
encrypt (default true), trust_server_certificate (default false), sslrootcert (CA file),
connect_timeout, statement_timeout. ConnectorX's SQL Server client has neither a connect nor a query
timeout and SQL Server no session statement timeout, so both are enforced by the loader around the
driver call (`engine.guarded`): the answer must come within connect_timeout + statement_timeout and
each further batch within statement_timeout, or the query is abandoned and the load fails naming the
option. The abandoned query is not cancelled on the server (Resource Governor can bound it there).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pyarrow as pa
from pydantic import Field

from loaders.sql.dialect import Column, Dialect
from loaders.sql.engine import Engine
from loaders.sql.mysql import ConnectorXSession, is_panic
from loaders.sql.options import ConnectionOptions
from loaders.sql.postgres import MAX_DECIMAL_PRECISION

AS_TEXT = {"xml", "sql_variant", "hierarchyid", "geography", "geometry", "image"}
MONEY = {"money": pa.decimal128(19, 4), "smallmoney": pa.decimal128(10, 4)}


class SqlServerOptions(ConnectionOptions):
    port: int | None = Field(default=1433, gt=0, lt=65536)
    trusted_connection: bool = False
    encrypt: bool = True
    trust_server_certificate: bool = False


class SqlServerDialect(Dialect):
    name = "sqlserver"
    quote_char = "["
    default_schema = "dbo"
    now_sql = "SYSUTCDATETIME()"
    null_sql = "CAST(NULL AS NVARCHAR(1))"
    true_literal = "1"
    false_literal = "0"

    def string_literal(self, value: str) -> str:
        return "N'" + value.replace("'", "''") + "'"

    def timestamp_literal(self, value: datetime) -> str:
        if value.tzinfo is None:
            return f"CAST('{value.isoformat(timespec='microseconds')}' AS DATETIME2(7))"
        text = value.astimezone(UTC).isoformat(timespec="microseconds")
        return f"CAST('{text}' AS DATETIMEOFFSET(7))"

    def date_literal(self, value: date) -> str:
        return f"CAST('{value.isoformat()}' AS DATE)"

    def expression(self, column: Column) -> str:
        quoted = self.quote(column.name)
        if column.type in ("decimal", "numeric", *MONEY):
            return f"CAST({quoted} AS VARCHAR(60))"
        if column.type == "uniqueidentifier":
            return f"LOWER(CAST({quoted} AS CHAR(36)))"
        if column.type == "datetimeoffset":
            return f"CAST(SWITCHOFFSET({quoted}, '+00:00') AS DATETIME2(6))"
        if column.type in AS_TEXT:
            return f"CAST({quoted} AS NVARCHAR(MAX))"
        return quoted

    def arrow_type(self, column: Column, fetched: pa.DataType) -> pa.DataType | None:
        if column.type in MONEY:
            return MONEY[column.type]
        if column.type in ("decimal", "numeric") and column.precision is not None and column.scale is not None:
            return pa.decimal128(column.precision, column.scale) if column.precision <= MAX_DECIMAL_PRECISION else None
        if column.type == "datetimeoffset":
            return pa.timestamp("us", "UTC")
        return None


class SqlServerEngine(Engine):
    kind = "sqlserver"
    dialect = SqlServerDialect()

    def __init__(self, options: SqlServerOptions) -> None:
        super().__init__(options)
        self.options: SqlServerOptions = options

    def connect(self) -> ConnectorXSession:
        return ConnectorXSession(self.url(), [], self.options.batch_rows, self.options)

    def url(self) -> str:
        options = self.options
        if options.trusted_connection:
            credentials = ""
        else:
            credentials = f"{quote(options.user or '', safe='')}:{quote(options.secret(), safe='')}@"
        host = f"{options.read_host()}:{options.port}"
        return f"mssql://{credentials}{host}/{quote(options.database or '', safe='')}?{self.query()}"

    def query(self) -> str:
        options = self.options
        params: dict[str, Any] = {"encrypt": str(options.encrypt).lower()}
        params["trust_server_certificate"] = str(options.trust_server_certificate).lower()
        if options.sslrootcert:
            params["trust_server_certificate_ca"] = options.sslrootcert
        if options.trusted_connection:
            params["trusted_connection"] = "true"
        return urlencode(params, quote_via=quote)

    def failure(self, exc: BaseException, doing: str) -> Any:
        return super().failure(RuntimeError(str(exc).split("\n")[0]) if is_panic(exc) else exc, doing)


Options = SqlServerOptions


def engine(options: SqlServerOptions) -> SqlServerEngine:
    return SqlServerEngine(options)
