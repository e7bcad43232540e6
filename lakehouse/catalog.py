"""The metastore side of the lakehouse: layer databases and bronze tables, registered idempotently.

Spark (and so dbt) sees bronze as external Delta tables `bronze_<source>.<stream>`, pointing at the
folders the loaders wrote. Silver, snapshots, reference data and the marts are databases whose
location is under the root, so every table dbt creates lands in `<root>/silver` or `<root>/gold/...`.
On AWS the same databases exist in Glue (defined in `infra/`); locally, in the embedded metastore.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lakehouse.core.errors import PlatformError
from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.spark import ThriftEndpoint
from loaders.core.bronze import BronzeTable
from loaders.core.config import SourceConfig

# database -> folder under the root
LAYER_DATABASES: dict[str, str] = {
    "staging": "staging",
    "silver": "silver",
    "snapshots": "silver/_snapshots",
    "reference": "silver/_reference",
    "sales": "gold/sales",
    "marketing": "gold/marketing",
    "finance": "gold/finance",
    "hr": "gold/hr",
    "observability": "observability",
}


@contextmanager
def thrift_cursor(endpoint: ThriftEndpoint) -> Iterator:
    """A PyHive cursor on the Thrift server, as dbt and BI tools connect."""
    from pyhive import hive

    endpoint.require_reachable()
    connection = hive.connect(host=endpoint.host, port=endpoint.port, username="lakehouse")
    try:
        cursor = connection.cursor()
        yield cursor
        cursor.close()
    finally:
        connection.close()


def bronze_database(source: str) -> str:
    return f"bronze_{source}"


def ensure_layer_databases(cursor, root: LakehouseRoot) -> None:
    for database, folder in LAYER_DATABASES.items():
        cursor.execute(f"create database if not exists {database} location '{root.spark_uri}/{folder}'")


def register_bronze(cursor, root: LakehouseRoot, configs: list[SourceConfig]) -> list[str]:
    """Register every bronze table that exists on storage; returns the qualified names."""
    registered = []
    for config in configs:
        database = bronze_database(config.source)
        created_database = False
        for stream in config.streams:
            if not BronzeTable(root, config.source, stream.name).exists():
                continue
            if not created_database:
                location = f"{root.spark_uri}/bronze/{config.source}"
                cursor.execute(f"create database if not exists {database} location '{location}'")
                created_database = True
            uri = root.bronze_uri(config.source, stream.name, spark=True)
            try:
                cursor.execute(f"create table if not exists {database}.{stream.name} using delta location '{uri}'")
            except Exception as exc:  # PyHive raises its own OperationalError with Spark's whole trace
                raise PlatformError(
                    f"Spark could not register {database}.{stream.name} from {uri}: {spark_message(exc)}",
                    "check the table with `deltalake` (protocol and schema) and the Thrift server's log",
                ) from None
            registered.append(f"{database}.{stream.name}")
    return registered


def spark_message(exc: Exception) -> str:
    """The Spark error class and message inside a PyHive exception, without the Java stack."""
    text = str(exc)
    start = text.find("errorMessage=")
    return text[start + len("errorMessage=") :].strip("'\")")[:500] if start >= 0 else text[:500]


def count_rows(cursor, table: str) -> int:
    cursor.execute(f"select count(*) from {table}")
    return int(cursor.fetchone()[0])
