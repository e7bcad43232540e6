"""Oracle through python-oracledb in thin mode (pure Python, no Instant Client): result sets fetched as
Arrow with `Connection.fetch_df_batches` (the driver's own Arrow data frames, no Python rows).

Not verified against a live server (none can be installed here): tests check the generated SQL, the
connection parameters and the driver calls with the connection object mocked at its boundary.

NUMBER(p,s) arrives as decimal128(p,s) (`fetch_decimals`); NUMBER without a precision (common for
keys) is selected as `TO_CHAR(col, 'TM9')`, so no digit is lost to a float; TIMESTAMP WITH (LOCAL)
TIME ZONE is converted to UTC (`SYS_EXTRACT_UTC`) and marked UTC; DATE (which has a time of day)
arrives as a naive timestamp; INTERVAL DAY TO SECOND as an ISO 8601 duration.

Connection keys: host, replica_host (an Active Data Guard standby), port (1521), service_name or sid,
or `dsn` (a TNS alias, resolved with `config_dir`, or an Easy Connect string), user, password,
protocol (tcp | tcps), wallet_location + wallet_password (Oracle Wallet for TCPS), ssl_server_dn_match,
connect_timeout, statement_timeout (the driver's `call_timeout`, per round trip).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field, SecretStr

from loaders.sql.dialect import Column, Dialect, TableName
from loaders.sql.engine import ArrowResult, Engine
from loaders.sql.options import ConnectionOptions


class OracleOptions(ConnectionOptions):
    port: int | None = Field(default=1521, gt=0, lt=65536)
    service_name: str | None = None
    sid: str | None = None
    dsn: str | None = None
    config_dir: str | None = None
    protocol: Literal["tcp", "tcps"] = "tcp"
    wallet_location: str | None = None
    wallet_password: SecretStr | None = None
    ssl_server_dn_match: bool = True


class OracleDialect(Dialect):
    name = "oracle"
    fold_upper = True
    now_sql = "SYS_EXTRACT_UTC(SYSTIMESTAMP)"
    null_sql = "CAST(NULL AS VARCHAR2(1))"
    true_literal = "1"
    false_literal = "0"

    def __init__(self, user: str | None = None) -> None:
        self.user = user

    def timestamp_literal(self, value: datetime) -> str:
        if value.tzinfo is None:
            return f"TIMESTAMP '{value.isoformat(sep=' ', timespec='microseconds')}'"
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"TO_TIMESTAMP_TZ('{text} +00:00', 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM')"

    def date_literal(self, value: date) -> str:
        return f"DATE '{value.isoformat()}'"

    def columns_sql(self, table: TableName) -> str:
        owner = self.string_literal(self.folded(table.schema or self.user or ""))
        name = self.string_literal(self.folded(table.name))
        return (
            "SELECT column_name, LOWER(data_type), data_precision, data_scale FROM all_tab_columns "
            f"WHERE owner = {owner} AND table_name = {name} ORDER BY column_id"
        )

    def expression(self, column: Column) -> str:
        quoted = self.quote(column.name)
        if column.type == "number" and column.precision is None:
            return f"TO_CHAR({quoted}, 'TM9')"
        if "with time zone" in column.type or "with local time zone" in column.type:
            return f"SYS_EXTRACT_UTC({quoted})"
        if column.type in ("rowid", "urowid"):
            return f"ROWIDTOCHAR({quoted})"
        return quoted

    def arrow_type(self, column: Column, fetched: pa.DataType) -> pa.DataType | None:
        if "with time zone" in column.type or "with local time zone" in column.type:
            return pa.timestamp("us", "UTC")
        return None

    def ping_sql(self) -> str:
        return "SELECT 1 FROM DUAL"


class OracleSession:
    def __init__(self, connect: Any, batch_rows: int, call_timeout_ms: int | None) -> None:
        self.connection = connect()
        if call_timeout_ms:
            self.connection.call_timeout = call_timeout_ms
        self.batch_rows = batch_rows

    def arrow(self, sql: str) -> ArrowResult:
        frames = self.connection.fetch_df_batches(statement=sql, size=self.batch_rows, fetch_decimals=True)
        return ArrowResult(None, _batches(frames))

    def close(self) -> None:
        self.connection.close()


def _batches(frames: Any) -> Iterator[pa.RecordBatch]:
    for frame in frames:
        yield from pa.table(frame).to_batches()  # the data frame speaks the Arrow PyCapsule interface


class OracleEngine(Engine):
    kind = "oracle"

    def __init__(self, options: OracleOptions) -> None:
        super().__init__(options)
        self.options: OracleOptions = options
        self.dialect = OracleDialect(options.user)

    def connect(self) -> OracleSession:
        seconds = self.options.statement_seconds()
        timeout = round(seconds * 1000) if seconds else None
        return OracleSession(self._connect, self.options.batch_rows, timeout)

    def _connect(self) -> Any:
        import oracledb

        return oracledb.connect(**self.connect_arguments())

    def connect_arguments(self) -> dict[str, Any]:
        """oracledb.connect keyword arguments (thin mode); the password is only ever passed here."""
        options = self.options
        arguments: dict[str, Any] = {"user": options.user, "password": options.secret()}
        arguments["tcp_connect_timeout"] = float(options.connect_timeout)
        if options.dsn:
            arguments["dsn"] = options.dsn
        else:
            arguments |= {"host": options.read_host(), "port": options.port, "protocol": options.protocol}
            arguments |= {"service_name": options.service_name} if options.service_name else {"sid": options.sid}
        if options.config_dir:
            arguments["config_dir"] = options.config_dir
        if options.wallet_location:
            arguments["wallet_location"] = options.wallet_location
            if options.wallet_password is not None:
                arguments["wallet_password"] = options.wallet_password.get_secret_value()
        if options.protocol == "tcps":
            arguments["ssl_server_dn_match"] = options.ssl_server_dn_match
        return arguments

    def where(self) -> str:
        service = self.options.dsn or self.options.service_name or self.options.sid or ""
        return f"oracle at {self.options.read_host()}:{self.options.port}/{service}"

    def secrets(self) -> list[str]:
        wallet = self.options.wallet_password.get_secret_value() if self.options.wallet_password else ""
        return [s for s in (self.options.secret(), wallet) if s]


Options = OracleOptions


def engine(options: OracleOptions) -> OracleEngine:
    return OracleEngine(options)
