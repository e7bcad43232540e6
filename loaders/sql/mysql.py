"""MySQL and MariaDB through ConnectorX (Rust, MySQL binary protocol): Arrow record batches streamed
with `return_type="arrow_stream"`.

ConnectorX reads DECIMAL as decimal(38,10) and fails on other scales, so DECIMAL columns are selected
as text and cast back to their declared `decimal128(p,s)` (p <= 38; wider ones stay text). TIMESTAMP
columns are read in a UTC session and marked UTC; DATETIME has no zone and stays naive. JSON arrives
as text, unsigned BIGINT as decimal(20,0) in bronze.

Connection keys: host, replica_host (read there instead of `host`), port, database, user, password,
sslmode (disable | require | verify-ca | verify-full), sslrootcert, connect_timeout, statement_timeout
(seconds; `max_statement_time` on MariaDB, `max_execution_time` on MySQL, and on the client: a query
whose next batch does not arrive within it is abandoned, see `engine.guarded`), flavor (auto | mysql |
mariadb: which of the two timeout settings the server knows; `auto`, the default, asks the server's
`VERSION()` once per load when a statement timeout is set). ConnectorX opens its own connections per
query, so there is no pool to tune.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

import pyarrow as pa

from loaders.sql.dialect import Column, Dialect
from loaders.sql.engine import ArrowResult, Engine, guarded
from loaders.sql.options import ConnectionOptions
from loaders.sql.postgres import MAX_DECIMAL_PRECISION

SSL_MODES = {
    "disable": "DISABLED",
    "allow": "PREFERRED",
    "prefer": "PREFERRED",
    "require": "REQUIRED",
    "verify-ca": "VERIFY_CA",
    "verify-full": "VERIFY_IDENTITY",
}


class MySqlOptions(ConnectionOptions):
    # Which statement-timeout setting the server knows; `auto` asks the server.
    flavor: Literal["auto", "mariadb", "mysql"] = "auto"


class MySqlDialect(Dialect):
    name = "mysql"
    quote_char = "`"
    now_sql = "UTC_TIMESTAMP(6)"
    null_sql = "CAST(NULL AS CHAR)"  # ConnectorX cannot read an untyped NULL column

    def __init__(self, database: str | None = None) -> None:
        self.default_schema = database

    def string_literal(self, value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

    def timestamp_literal(self, value: datetime) -> str:
        # The session runs in UTC, so an instant is written as its UTC wall time.
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return f"TIMESTAMP '{naive.isoformat(sep=' ', timespec='microseconds')}'"

    def expression(self, column: Column) -> str:
        quoted = self.quote(column.name)
        if column.type == "decimal":
            return f"CAST({quoted} AS CHAR)"
        return quoted

    def arrow_type(self, column: Column, fetched: pa.DataType) -> pa.DataType | None:
        if column.type == "decimal" and column.precision is not None and column.scale is not None:
            return pa.decimal128(column.precision, column.scale) if column.precision <= MAX_DECIMAL_PRECISION else None
        if column.type == "timestamp" and pa.types.is_timestamp(fetched):
            return pa.timestamp("us", "UTC")
        return None


class ConnectorXSession:
    """ConnectorX has no connection object: each query connects, streams and disconnects."""

    def __init__(self, url: str, setup: list[str], batch_rows: int, options: ConnectionOptions) -> None:
        self.url = url
        self.setup = setup
        self.batch_rows = batch_rows
        self.options = options

    def arrow(self, sql: str) -> ArrowResult:
        import connectorx

        def open_reader() -> pa.RecordBatchReader:
            return connectorx.read_sql(
                self.url,
                sql,
                return_type="arrow_stream",
                batch_size=self.batch_rows,
                pre_execution_query=self.setup or None,
            )

        # ConnectorX has no read timeout: the client bounds the wait for the answer and for each batch.
        return guarded(open_reader, self.options.connect_timeout, self.options.statement_seconds())

    def close(self) -> None:
        return None


class MySqlEngine(Engine):
    kind = "mysql"

    def __init__(self, options: MySqlOptions) -> None:
        super().__init__(options)
        self.options: MySqlOptions = options
        self.dialect = MySqlDialect(options.database)
        self._detected_flavor: str | None = None

    def connect(self) -> ConnectorXSession:
        return ConnectorXSession(self.url(), self.setup(), self.options.batch_rows, self.options)

    def setup(self) -> list[str]:
        statements = ["SET time_zone = '+00:00'"]
        timeout = self.options.statement_seconds()
        if timeout:
            if self.flavor() == "mariadb":
                statements.append(f"SET SESSION max_statement_time = {timeout:g}")
            else:
                statements.append(f"SET SESSION max_execution_time = {round(timeout * 1000)}")
        return statements

    def flavor(self) -> str:
        """`mariadb` or `mysql`: as configured, else from the server's VERSION() (asked once)."""
        if self.options.flavor != "auto":
            return self.options.flavor
        if self._detected_flavor is None:
            import connectorx

            url, sql = self.url(), "SELECT VERSION() AS version"
            answer = guarded(
                lambda: connectorx.read_sql(url, sql, return_type="arrow_stream"),
                self.options.connect_timeout,
                self.options.statement_seconds(),
            )
            version = " ".join(str(value) for batch in answer.batches for value in batch.column(0).to_pylist())
            self._detected_flavor = "mariadb" if "mariadb" in version.lower() else "mysql"
        return self._detected_flavor

    def url(self) -> str:
        options = self.options
        host = options.read_host()
        user = quote(options.user or "", safe="")
        secret = quote(options.secret(), safe="")
        credentials = f"{user}:{secret}@" if secret else f"{user}@"
        return f"mysql://{credentials}{host}:{options.port or 3306}/{quote(options.database or '')}?{self.query()}"

    def query(self) -> str:
        options = self.options
        params: dict[str, Any] = {"tcp_connect_timeout_ms": options.connect_timeout * 1000}
        if options.sslmode:
            params["ssl-mode"] = SSL_MODES[options.sslmode]
        if options.sslrootcert:
            params["ssl-ca"] = options.sslrootcert
        return urlencode(params, quote_via=quote)

    def failure(self, exc: BaseException, doing: str) -> Any:
        # ConnectorX reports some driver failures as a Rust panic (pyo3 PanicException, a BaseException).
        return super().failure(RuntimeError(str(exc).split("\n")[0]) if is_panic(exc) else exc, doing)


def is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException"


Options = MySqlOptions


def engine(options: MySqlOptions) -> MySqlEngine:
    return MySqlEngine(options)
