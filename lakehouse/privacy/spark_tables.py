"""The Delta tables of the layers dbt builds, through a Thrift cursor: listing, columns, counting, deleting.

Shared by the erasure and the retention, which both delete rows from silver, snapshots and the marts
with Spark `DELETE` (Spark alone writes those tables).
"""

from __future__ import annotations

from lakehouse.catalog import spark_message
from lakehouse.core.errors import PlatformError


def spark_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def delta_tables(cursor, database: str) -> list[str]:
    """The tables (not views, not temporary) of `database`; none when the database does not exist."""
    cursor.execute(f"show databases like '{database}'")
    if not cursor.fetchall():
        return []
    cursor.execute(f"show tables in {database}")
    tables = [row[1] for row in cursor.fetchall() if not row[2]]
    cursor.execute(f"show views in {database}")
    views = {row[1] for row in cursor.fetchall()}
    return [table for table in tables if table not in views]


def table_columns(cursor, table: str) -> dict[str, str]:
    """Column name -> Spark type (lowercase) of `database.table`."""
    cursor.execute(f"describe table {table}")
    columns = {}
    for name, data_type, *_ in cursor.fetchall():
        if not name or name.startswith("#"):
            break  # partitioning and detail sections follow the columns
        columns[name] = (data_type or "").lower()
    return columns


def count_rows(cursor, predicates: dict[str, str]) -> dict[str, int]:
    """Rows matching each table's predicate, in one query (`{database.table: predicate}`)."""
    if not predicates:
        return {}
    cursor.execute(
        " union all ".join(
            f"select {spark_string(table)}, count(*) from {table} where {predicate}"
            for table, predicate in predicates.items()
        )
    )
    return {table: int(count) for table, count in cursor.fetchall()}


def spark_delete(cursor, table: str, predicate: str, *, what: str, fix: str) -> int:
    """`DELETE FROM table WHERE predicate` (one Delta transaction); the number of rows it deleted."""
    try:
        cursor.execute(f"delete from {table} where {predicate}")
        rows = cursor.fetchall()
    except Exception as exc:  # PyHive's OperationalError carries Spark's whole trace
        raise PlatformError(f"Spark could not delete {what} from {table}: {spark_message(exc)}", fix) from None
    return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0
