"""SQL generation shared by every engine: quoting, literals, and the four queries a stream sends.

A stream sends only these statements, all read-only:

- columns: the table's columns and declared types (information_schema, or the engine's catalogue);
- stats: one aggregate over the load window (row count, cursor high-water mark, chunk-column range);
- chunk: the rows of one chunk of the window (`<window> AND <chunk range>`);
- keys: the primary keys of the whole table, for delete reconciliation.

Boundary values are rendered as typed literals (not bind parameters) so the same text works with
every driver, ConnectorX included; literals come from the source's own values, strings are escaped.
Each engine module subclasses `Dialect` for its quoting, literal syntax and type casts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    """A source column as the catalogue declares it (type names lower-case)."""

    name: str
    type: str
    precision: int | None = None
    scale: int | None = None


@dataclass(frozen=True)
class TableName:
    parts: tuple[str, ...]  # e.g. ("public", "users"); the last part is the table

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def schema(self) -> str | None:
        return self.parts[-2] if len(self.parts) > 1 else None

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Window:
    """The rows one load reads: `lower <= cursor <= upper` (either bound may be open).

    With `tie` = (key column, value), rows at exactly `lower` are read only when their key is greater
    than `value`: `cursor > lower OR (cursor = lower AND key > value)`, compared by the database.
    """

    cursor: str | None = None
    lower: Any = None
    upper: Any = None
    include_nulls: bool = False  # the first load also takes rows whose cursor is NULL
    tie: tuple[str, Any] | None = None


@dataclass(frozen=True)
class KeyRange:
    """One chunk: `start <= column < stop`; an open end is None; `nulls` selects `column IS NULL`."""

    column: str
    start: Any = None
    stop: Any = None
    nulls: bool = False


class Dialect:
    name = "ansi"
    quote_char = '"'
    default_schema: str | None = None
    now_sql = "CURRENT_TIMESTAMP"
    null_sql = "NULL"  # an untyped NULL in a SELECT list (some drivers need it typed)
    true_literal = "TRUE"
    false_literal = "FALSE"
    fold_upper = False  # unquoted names are upper case (Oracle, Snowflake): `hr.employees` means HR.EMPLOYEES

    # --- names and literals -----------------------------------------------------------------

    def quote(self, name: str) -> str:
        close = {"[": "]"}.get(self.quote_char, self.quote_char)
        return f"{self.quote_char}{name.replace(close, close + close)}{close}"

    def table(self, table: TableName) -> str:
        return ".".join(self.quote(self.folded(part)) for part in table.parts)

    def folded(self, name: str) -> str:
        """A configured (unquoted) table name as the catalogue stores it."""
        return name.upper() if self.fold_upper and name == name.lower() else name

    def literal(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.true_literal if value else self.false_literal
        if isinstance(value, int | Decimal):
            return str(value)
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, datetime):
            return self.timestamp_literal(value)
        if isinstance(value, date):
            return self.date_literal(value)
        if isinstance(value, str):
            return self.string_literal(value)
        raise TypeError(f"no {self.name} literal for a {type(value).__name__} value")

    def string_literal(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def date_literal(self, value: date) -> str:
        return f"DATE '{value.isoformat()}'"

    def timestamp_literal(self, value: datetime) -> str:
        if value.tzinfo is None:
            return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
        return f"TIMESTAMP WITH TIME ZONE '{value.astimezone(UTC).isoformat(sep=' ')}'"

    # --- columns --------------------------------------------------------------------------

    def expression(self, column: Column) -> str:
        """What the SELECT list reads for `column` (a cast where the driver cannot carry the type)."""
        return self.quote(column.name)

    def arrow_type(self, column: Column, fetched: pa.DataType) -> pa.DataType | None:
        """The Arrow type the column should have in bronze, when the driver's differs; None: keep it."""
        return None

    def columns_sql(self, table: TableName) -> str:
        schema = table.schema or self.default_schema
        where = f"lower(table_name) = lower({self.string_literal(table.name)})"
        if schema:
            where += f" AND lower(table_schema) = lower({self.string_literal(schema)})"
        return (
            "SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns "
            f"WHERE {where} ORDER BY ordinal_position"
        )

    # --- the queries ----------------------------------------------------------------------

    def select_list(self, columns: Sequence[Column]) -> str:
        return ", ".join(self.aliased(column) for column in columns)

    def aliased(self, column: Column) -> str:
        expression = self.expression(column)
        quoted = self.quote(column.name)
        return expression if expression == quoted else f"{expression} AS {quoted}"

    def stats_sql(
        self, table: TableName, window: Window, chunk_column: str | None, where: str | None, *, clock: bool = False
    ) -> str:
        """One row: row count, max(cursor), the server's clock (when `clock`), count/min/max of the chunk column."""
        null = self.null_sql
        cursor = f"MAX({self.quote(window.cursor)})" if window.cursor else null
        chunk = self.quote(chunk_column) if chunk_column else None
        ranges = f"COUNT({chunk}), MIN({chunk}), MAX({chunk})" if chunk else f"0, {null}, {null}"
        now = self.now_sql if clock else null
        filters = self.conditions(window, None, where, upper=False)
        return f"SELECT COUNT(*), {cursor}, {now}, {ranges} FROM {self.table(table)}{filters}"

    def chunk_sql(
        self, table: TableName, columns: Sequence[Column], window: Window, chunk: KeyRange | None, where: str | None
    ) -> str:
        filters = self.conditions(window, chunk, where)
        return f"SELECT {self.select_list(columns)} FROM {self.table(table)}{filters}"

    def keys_sql(self, table: TableName, keys: Sequence[Column], where: str | None) -> str:
        filters = f" WHERE {where}" if where else ""
        return f"SELECT {self.select_list(keys)} FROM {self.table(table)}{filters}"

    def conditions(self, window: Window, chunk: KeyRange | None, where: str | None, *, upper: bool = True) -> str:
        parts = [part for part in (self.window_sql(window, upper=upper), self.range_sql(chunk)) if part]
        if where:
            parts.append(f"({where})")
        return f" WHERE {' AND '.join(parts)}" if parts else ""

    def window_sql(self, window: Window, *, upper: bool = True) -> str | None:
        if window.cursor is None:
            return None
        column = self.quote(window.cursor)
        bounds = []
        if window.lower is not None:
            bounds.append(self.lower_sql(column, window))
        if upper and window.upper is not None:
            bounds.append(f"{column} <= {self.literal(window.upper)}")
        if not bounds:
            return None
        text = " AND ".join(bounds)
        return f"({text} OR {column} IS NULL)" if window.include_nulls else f"({text})"

    def lower_sql(self, column: str, window: Window) -> str:
        lower = self.literal(window.lower)
        if window.tie is None:
            return f"{column} >= {lower}"
        key, value = window.tie
        return f"({column} > {lower} OR ({column} = {lower} AND {self.quote(key)} > {self.literal(value)}))"

    def range_sql(self, chunk: KeyRange | None) -> str | None:
        if chunk is None:
            return None
        column = self.quote(chunk.column)
        if chunk.nulls:
            return f"{column} IS NULL"
        bounds = []
        if chunk.start is not None:
            bounds.append(f"{column} >= {self.literal(chunk.start)}")
        if chunk.stop is not None:
            bounds.append(f"{column} < {self.literal(chunk.stop)}")
        return " AND ".join(bounds) if bounds else f"{column} IS NOT NULL"

    def ping_sql(self) -> str:
        return "SELECT 1"


def parse_table(text: str, where: str) -> TableName:
    """`schema.table` (or `database.schema.table`) into its parts; quoting is the dialect's job."""
    from lakehouse.core.errors import ConfigError

    parts = tuple(part.strip() for part in text.split("."))
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ConfigError(
            f"{where}: {text!r} is not a table name", "write `table`, `schema.table` or `db.schema.table`"
        )
    return TableName(parts)
