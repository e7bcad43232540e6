"""MySQL and MariaDB: the legacy system's tables (`legacy_systems.customer_data`, `order_history`),
through PyMySQL.

Columns get MySQL's types for the generator's Arrow types (BIGINT, INT, DECIMAL(p,s), DATETIME(6),
TEXT, ...; a string key is VARCHAR(255), since MySQL cannot index TEXT whole). The session runs in
UTC. A batch's rows are sent as multi-row `insert ... on duplicate key update` statements (PyMySQL's
`executemany` packs thousands of rows into one statement), its deleted keys as `delete ... where
(key) in (...)` in chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

import pyarrow as pa

from company.publish.sql import SqlPublisher
from company.publish.target import Target
from company.spec import StreamDef
from lakehouse.core.errors import ConfigError

ROWS_PER_CALL = 5_000
KEYS_PER_DELETE = 1_000
UNKNOWN_DATABASE = 1049
_TYPES = (
    (pa.types.is_int64, "bigint"),
    (pa.types.is_int32, "int"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_float64, "double"),
    (pa.types.is_float32, "float"),
    (pa.types.is_date32, "date"),
)


def native_type(kind: pa.DataType, *, key: bool) -> str:
    if pa.types.is_decimal(kind):
        return f"decimal({kind.precision},{kind.scale})"
    if pa.types.is_timestamp(kind):
        return "timestamp(6)" if kind.tz else "datetime(6)"  # TIMESTAMP is an instant, DATETIME a wall time
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "varchar(255)" if key else "text"
    if pa.types.is_binary(kind):
        return "varbinary(255)" if key else "longblob"
    for matches, name in _TYPES:
        if matches(kind):
            return name
    raise ConfigError(f"no MySQL type is set for Arrow {kind}", "add one to _TYPES in this module")


class MySqlPublisher(SqlPublisher):
    schema_sql = "database()"
    table_options = " engine=InnoDB default charset=utf8mb4"
    log_types: ClassVar[dict[str, str]] = {
        "stream": "varchar(255)",
        "batch": "varchar(255)",
        "company": "text",
        "upserted": "bigint",
        "deletes": "bigint",
        "published_at": "timestamp(6) default current_timestamp(6)",
    }

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def param(self, position: int) -> str:
        return "%s"

    def native_type(self, field: pa.Field, *, key: bool) -> str:
        return native_type(field.type, key=key)

    def on_conflict(self, keys: Sequence[str], columns: Sequence[str]) -> str:
        updates = [f"{self.quote(c)} = values({self.quote(c)})" for c in columns if c not in keys]
        first = self.quote(keys[0])
        return f"on duplicate key update {', '.join(updates) or f'{first} = {first}'}"

    def upsert(self, cursor: Any, spec: StreamDef, rows: pa.Table) -> None:
        names = rows.column_names
        marks = ", ".join(["%s"] * len(names))
        columns = ", ".join(self.quote(name) for name in names)
        upsert = self.on_conflict(spec.primary_key, names)
        sql = f"insert into {self.qualified(spec)} ({columns}) values ({marks}) {upsert}"
        for chunk in _wall_time_utc(rows).to_batches(max_chunksize=ROWS_PER_CALL):
            cursor.executemany(sql, list(zip(*(column.to_pylist() for column in chunk.columns), strict=True)))

    def delete(self, cursor: Any, spec: StreamDef, keys: pa.Table) -> None:
        key = f"({', '.join(self.quote(k) for k in keys.column_names)})"
        one = f"({', '.join(['%s'] * keys.num_columns)})"
        for chunk in keys.to_batches(max_chunksize=KEYS_PER_DELETE):
            rows = list(zip(*(column.to_pylist() for column in chunk.columns), strict=True))
            values = [value for row in rows for value in row]
            cursor.execute(
                f"delete from {self.qualified(spec)} where {key} in ({', '.join([one] * len(rows))})", values
            )


def _wall_time_utc(rows: pa.Table) -> pa.Table:
    """Instants as their UTC wall time: the session's time zone is UTC, and PyMySQL sends naive values."""
    for index, field in enumerate(rows.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz:
            rows = rows.set_column(index, field.name, rows[field.name].cast(pa.timestamp(field.type.unit)))
    return rows


def connect(target: Target) -> MySqlPublisher:
    import pymysql

    if target.params:
        raise ConfigError(
            f"--mysql: URI parameters ({', '.join(sorted(target.params))}) are not supported",
            "leave them out: the MySQL publisher connects without TLS options",
        )
    connection = None
    try:
        connection = pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password,
            charset="utf8mb4",
            connect_timeout=10,
            autocommit=False,
            init_command="set time_zone = '+00:00'",
        )
        _use_database(connection, target.database)
        if "mariadb" in connection.get_server_info().lower():
            # A MariaDB behind mysql://: the loader source then sets MariaDB's statement timeout, not MySQL's.
            target = replace(target, scheme="mariadb")
        return MySqlPublisher(target, connection)
    except Exception as exc:
        failure = target.connection_error(exc)
    if connection is not None:
        connection.close()
    raise failure


def _use_database(connection: Any, database: str) -> None:
    """Select the database, creating it on first publish."""
    import pymysql

    try:
        connection.select_db(database)
    except pymysql.err.OperationalError as exc:
        if exc.args[0] != UNKNOWN_DATABASE:
            raise
        with connection.cursor() as cursor:
            cursor.execute(f"create database `{database.replace('`', '``')}` character set utf8mb4")
        connection.select_db(database)
