"""PostgreSQL: the app database's tables (`company_production.public.users`, `subscriptions`,
`product_inventory`), through ADBC (libpq), the driver the SQL loader reads them back with.

Columns get PostgreSQL's types for the generator's Arrow types (bigint, integer, numeric(p,s),
timestamptz, text, boolean, ...), and subscription metadata is jsonb, as in the application.
A batch's rows are copied into a temporary table with binary COPY (ADBC bulk ingest) and merged with
`insert ... on conflict (key) do update`; its deleted keys are copied the same way and removed with
`delete ... using`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import pyarrow as pa

from company.publish.sql import SqlPublisher
from company.publish.target import Target
from company.spec import StreamDef
from lakehouse.core.errors import ConfigError

# What an Arrow schema cannot say: the column's type in the real application database.
NATIVE_OVERRIDES = {("subscriptions", "metadata"): "jsonb"}
_TYPES = (
    (pa.types.is_int64, "bigint"),
    (pa.types.is_int32, "integer"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_float64, "double precision"),
    (pa.types.is_float32, "real"),
    (pa.types.is_string, "text"),
    (pa.types.is_large_string, "text"),
    (pa.types.is_date32, "date"),
    (pa.types.is_binary, "bytea"),
)


def native_type(kind: pa.DataType) -> str:
    if pa.types.is_decimal(kind):
        return f"numeric({kind.precision},{kind.scale})"
    if pa.types.is_timestamp(kind):
        return "timestamptz" if kind.tz else "timestamp"
    for matches, name in _TYPES:
        if matches(kind):
            return name
    raise ConfigError(f"no PostgreSQL type is set for Arrow {kind}", "add one to _TYPES in this module")


class PostgresPublisher(SqlPublisher):
    log_types: ClassVar[dict[str, str]] = {
        "stream": "text",
        "batch": "text",
        "company": "text",
        "upserted": "bigint",
        "deletes": "bigint",
        "published_at": "timestamptz default now()",
    }

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def param(self, position: int) -> str:
        return f"${position}"

    def native_type(self, field: pa.Field, *, key: bool) -> str:
        return native_type(field.type)

    def columns(self, spec: StreamDef) -> list[tuple[str, str]]:
        return [(name, NATIVE_OVERRIDES.get((spec.stream, name), kind)) for name, kind in super().columns(spec)]

    def on_conflict(self, keys: Sequence[str], columns: Sequence[str]) -> str:
        updates = [f"{self.quote(c)} = excluded.{self.quote(c)}" for c in columns if c not in keys]
        action = f"do update set {', '.join(updates)}" if updates else "do nothing"
        return f"on conflict ({', '.join(self.quote(k) for k in keys)}) {action}"

    def create_namespace(self, cursor: Any) -> None:
        for schema in self.namespace:
            cursor.execute(f"create schema if not exists {self.quote(schema)}")

    def upsert(self, cursor: Any, spec: StreamDef, rows: pa.Table) -> None:
        stage = self._stage(cursor, f"_publish_{spec.stream}", rows)
        columns = self.columns(spec)
        names = ", ".join(self.quote(name) for name, _ in columns)
        values = ", ".join(f"{self.quote(name)}::{kind}" for name, kind in columns)  # text -> jsonb, ...
        conflict = self.on_conflict(spec.primary_key, [name for name, _ in columns])
        cursor.execute(f"insert into {self.qualified(spec)} ({names}) select {values} from {stage} {conflict}")
        cursor.execute(f"drop table {stage}")

    def delete(self, cursor: Any, spec: StreamDef, keys: pa.Table) -> None:
        stage = self._stage(cursor, f"_publish_{spec.stream}_deletes", keys)
        match = " and ".join(f"t.{self.quote(k)} = d.{self.quote(k)}" for k in spec.primary_key)
        cursor.execute(f"delete from {self.qualified(spec)} as t using {stage} as d where {match}")
        cursor.execute(f"drop table {stage}")

    def _stage(self, cursor: Any, name: str, data: pa.Table) -> str:
        """A temporary table holding `data`, written with binary COPY."""
        cursor.adbc_ingest(name, data, mode="create", temporary=True)
        return self.quote(name)


def connect(target: Target) -> PostgresPublisher:
    import adbc_driver_postgresql.dbapi as dbapi

    try:
        return PostgresPublisher(target, dbapi.connect(libpq_uri(target)))
    except Exception as exc:
        failure = target.connection_error(exc)
    raise failure


def libpq_uri(target: Target) -> str:
    params = {"connect_timeout": "10", "application_name": "lakehouse-publish", **target.params}
    user = quote(target.user, safe="")
    credentials = f"{user}:{quote(target.password, safe='')}" if target.password else user
    database = quote(target.database, safe="")
    return f"postgresql://{credentials}@{target.netloc}/{database}?{urlencode(params, quote_via=quote)}"
