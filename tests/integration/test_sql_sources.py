"""The SQL family against real PostgreSQL and MariaDB servers (Debian packages, started here).

The seed's tables (PostgreSQL: users, subscriptions, product_inventory; MySQL: customer_data,
order_history) come from the synthetic company generator (`company`), are loaded into
the servers, then loaded into bronze with `load_source`, changed (update, insert, delete) and loaded
again. Bronze is read back with deltalake and compared with the source, row by row.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig, load_source_config
from loaders.core.delta import read_table
from loaders.core.result import StreamResult
from loaders.pipeline import load_source
from loaders.sql.state import SqlState
from tests.helpers.servers import MariaDbServer, PostgresServer
from tests.helpers.spark import PROJECT_DIR

LOADER_PASSWORD = "l0ader-s3cret"
PG_DATABASE = "company_production"
MY_DATABASE = "legacy_systems"


# --- servers and the company's tables ----------------------------------------------------------


@pytest.fixture(scope="module")
def postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    postgres_server.create_database(PG_DATABASE, owner="loader", owner_password=LOADER_PASSWORD)
    yield postgres_server
    postgres_server.drop_database(PG_DATABASE, owner="loader")


@pytest.fixture(scope="module")
def mariadb(mariadb_server: MariaDbServer) -> Iterator[MariaDbServer]:
    mariadb_server.sql(f"create user 'loader'@'127.0.0.1' identified by '{LOADER_PASSWORD}'")
    mariadb_server.sql("grant all on *.* to 'loader'@'127.0.0.1'")
    yield mariadb_server
    # The tests' databases have fresh names; only the user could clash with another module's.
    mariadb_server.sql("drop user if exists 'loader'@'127.0.0.1'")


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """The synthetic company's PostgreSQL and MySQL tables: the latest version of each row."""
    from company import generate

    out = tmp_path_factory.mktemp("company")
    generate(out, seed=11, scale=0.3, days=20)
    tables = {}
    for system, table, keys, cursor in (
        ("postgres", "users", ["id"], "updated_at"),
        ("postgres", "subscriptions", ["id"], "updated_at"),
        ("postgres", "product_inventory", ["product_id", "warehouse_code"], "updated_at"),
        ("mysql", "customer_data", ["cust_id"], "last_modified"),
        ("mysql", "order_history", ["order_id"], "last_modified"),
    ):
        files = sorted((out / system / table).glob("*.parquet"))
        assert files, f"the company generator wrote no {system}/{table} files under {out}"
        tables[table] = _latest(pa.concat_tables([pq.read_table(f) for f in files]), keys, cursor)
    return tables


def _latest(data: pa.Table, keys: list[str], cursor: str) -> pa.Table:
    ordered = data.sort_by([(cursor, "ascending")])
    numbered = ordered.append_column("_n", pa.array(range(ordered.num_rows)))
    last = numbered.group_by(keys).aggregate([("_n", "max")])["_n_max"]
    return ordered.take(pc.take(last, pc.sort_indices(last)))


PG_DDL = {
    "users": """(id bigint primary key, email text, first_name text, last_name text, phone text,
        country_code char(2), city text, region text, marketing_opt_in boolean,
        created_at timestamptz not null, updated_at timestamptz not null)""",
    "subscriptions": """(id bigint primary key, user_id bigint, plan_code text, status text, quantity integer,
        unit_price numeric(10,2), currency char(3), current_period_start timestamptz, current_period_end timestamptz,
        cancel_at_period_end boolean, canceled_at timestamptz, ended_at timestamptz, stripe_subscription_id text,
        metadata text, created_at timestamptz, updated_at timestamptz not null)""",
    "product_inventory": """(product_id bigint, warehouse_code text, sku text, quantity_on_hand integer,
        quantity_reserved integer, reorder_point integer, updated_at timestamptz not null,
        primary key (product_id, warehouse_code))""",
}
MY_DDL = {
    "customer_data": """(cust_id bigint primary key, customer_name varchar(200), email_address varchar(200),
        phone_number varchar(50), address_city varchar(100), address_country varchar(100), status char(1),
        created_date datetime(6), last_modified datetime(6) not null)""",
    "order_history": """(order_id bigint primary key, cust_id bigint, order_date datetime(6), order_status varchar(20),
        currency_code char(3), order_total decimal(12,2), item_count int, ship_country varchar(100),
        last_modified datetime(6) not null)""",
}


def pg_connect(server: PostgresServer) -> Any:
    import adbc_driver_postgresql.dbapi as dbapi

    return dbapi.connect(server.uri(PG_DATABASE, "loader", LOADER_PASSWORD), autocommit=True)


def pg_execute(server: PostgresServer, *statements: str) -> None:
    with pg_connect(server) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def pg_rows(server: PostgresServer, sql: str) -> pa.Table:
    with pg_connect(server) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetch_arrow_table()


def seed_postgres(server: PostgresServer, schema: str, company: dict[str, pa.Table]) -> None:
    pg_execute(server, f"create schema {schema}", *(f"create table {schema}.{t} {ddl}" for t, ddl in PG_DDL.items()))
    with pg_connect(server) as connection, connection.cursor() as cursor:
        for table in PG_DDL:
            cursor.adbc_ingest(table, company[table], mode="append", db_schema_name=schema)
    # Binary COPY cannot write jsonb from Arrow text; the column becomes jsonb once loaded.
    pg_execute(server, f"alter table {schema}.subscriptions alter column metadata type jsonb using metadata::jsonb")


def my_connect(server: MariaDbServer, database: str) -> Any:
    import pymysql

    return pymysql.connect(
        host="127.0.0.1", port=server.port, user="loader", password=LOADER_PASSWORD, database=database, autocommit=True
    )


def my_execute(server: MariaDbServer, database: str, *statements: str) -> None:
    with my_connect(server, database) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def seed_mariadb(server: MariaDbServer, database: str, company: dict[str, pa.Table]) -> None:
    server.sql(f"create database {database} character set utf8mb4")
    my_execute(server, database, *(f"create table {t} {ddl}" for t, ddl in MY_DDL.items()))
    with my_connect(server, database) as connection, connection.cursor() as cursor:
        for table in MY_DDL:
            data = company[table]
            marks = ", ".join(["%s"] * data.num_columns)
            rows = [tuple(row.values()) for row in data.to_pylist()]
            cursor.executemany(f"insert into {table} ({', '.join(data.column_names)}) values ({marks})", rows)


# --- source files and bronze ----------------------------------------------------------------------


def source_file(folder: Path, kind: str, options: dict[str, Any], streams: list[dict[str, Any]]) -> SourceConfig:
    path = folder / f"{kind}.yml"
    document = {"source": f"{kind}_src", "type": kind, "options": options, "streams": streams}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_source_config(path)


def pg_options(server: PostgresServer, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "database": PG_DATABASE,
        "user": "loader",
        "password": "${SQL_TEST_PASSWORD}",
        "sslmode": "verify-ca",
        "sslrootcert": str(server.ca_file),
        "parallel": 3,
        **extra,
    }


def my_options(server: MariaDbServer, database: str, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "database": database,
        "user": "loader",
        "password": "${SQL_TEST_PASSWORD}",
        "statement_timeout": 600,  # the loader finds that this is MariaDB (flavor: auto)
        "parallel": 2,
        **extra,
    }


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LakehouseRoot:
    folder = tmp_path / "root"
    folder.mkdir()
    monkeypatch.setenv("SQL_TEST_PASSWORD", LOADER_PASSWORD)
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(folder))  # where `deletes: reconcile` reads bronze's keys
    return LakehouseRoot.parse(str(folder))


def bronze(root: LakehouseRoot, config: SourceConfig, stream: str) -> pa.Table:
    return read_table(root.bronze_uri(config.source, stream))


def by_name(results: list[StreamResult]) -> dict[str, StreamResult]:
    return {result.stream: result for result in results}


def keys_of(table: pa.Table, keys: list[str]) -> list[tuple[Any, ...]]:
    columns = [table[key].to_pylist() for key in keys]
    return sorted(zip(*columns, strict=True))


def rows_by_key(table: pa.Table, key: str, columns: list[str]) -> dict[Any, dict[str, Any]]:
    return {row[key]: {c: row[c] for c in columns} for row in table.select([key, *columns]).to_pylist()}


def chunk_rows(table: pa.Table) -> int:
    """About five chunks per table, whatever volume the company generator produces."""
    return max(10, table.num_rows // 5)


def fresh_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# --- PostgreSQL: the seed's tables, incrementally ------------------------------------------------


def test_postgres_seed_tables_load_incrementally(
    postgres: PostgresServer, company: dict[str, pa.Table], root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_name("app")
    seed_postgres(postgres, schema, company)
    users_chunk, subscriptions_chunk, stock_chunk = (
        chunk_rows(company[t]) for t in ("users", "subscriptions", "product_inventory")
    )
    config = source_file(
        tmp_path,
        "postgres",
        pg_options(postgres),
        [
            {"name": "users", "table": f"{schema}.users", "mode": "merge", "primary_key": ["id"]}
            | {
                "cursor_field": "updated_at",
                "chunk_rows": users_chunk,
                "deletes": "reconcile",
                "reconcile_every_hours": 0,
            },
            {"name": "subscriptions", "table": f"{schema}.subscriptions", "mode": "append", "primary_key": ["id"]}
            | {"cursor_field": "updated_at", "chunk_rows": subscriptions_chunk},
            {"name": "product_inventory", "table": f"{schema}.product_inventory", "mode": "merge"}
            | {"primary_key": ["product_id", "warehouse_code"], "cursor_field": "updated_at", "chunk_rows": stock_chunk}
            | {"deletes": "reconcile", "reconcile_every_hours": 0},
        ],
    )
    first = by_name(load_source(root, config))
    for table, keys in (("users", ["id"]), ("subscriptions", ["id"]), ("product_inventory", ["product_id"])):
        assert first[table].status == "success"
        assert first[table].batches > 1, f"{table} should be read in several chunks"
        loaded = bronze(root, config, table)
        assert loaded.num_rows == company[table].num_rows
        assert keys_of(loaded, keys) == keys_of(company[table], keys)
    users = company["users"].to_pylist()
    assert rows_by_key(bronze(root, config, "users"), "id", ["email", "updated_at"])[users[0]["id"]] == {
        "email": users[0]["email"],
        "updated_at": users[0]["updated_at"],
    }

    # An update, an insert and a delete in each table between the loads.
    changed_user, deleted_user = users[1]["id"], users[2]["id"]
    new_user = max(row["id"] for row in users) + 1
    subscription = company["subscriptions"]["id"][0].as_py()
    stock = company["product_inventory"].to_pylist()
    pg_execute(
        postgres,
        f"update {schema}.users set city = 'Lisbon', updated_at = now() where id = {changed_user}",
        f"insert into {schema}.users (id, email, created_at, updated_at) values ({new_user}, 'new@x.io', now(), now())",
        f"delete from {schema}.users where id = {deleted_user}",
        f"update {schema}.subscriptions set status = 'canceled', updated_at = now() where id = {subscription}",
        f"update {schema}.product_inventory set quantity_on_hand = 999, updated_at = now() "
        f"where product_id = {stock[0]['product_id']} and warehouse_code = '{stock[0]['warehouse_code']}'",
        f"delete from {schema}.product_inventory where product_id = {stock[1]['product_id']} "
        f"and warehouse_code = '{stock[1]['warehouse_code']}'",
    )
    second = by_name(load_source(root, config))
    assert second["users"].rows_read == 2 + 1, "the changed and the new user, then one delete marker"
    assert second["subscriptions"].rows_read == 1, "only the canceled subscription is new"

    users_now = rows_by_key(bronze(root, config, "users"), "id", ["city", "_op"])
    assert users_now[changed_user] == {"city": "Lisbon", "_op": None}
    assert new_user in users_now
    assert users_now[deleted_user]["_op"] == "delete", "a deleted row stays in merge bronze as a tombstone"
    assert len(users_now) == company["users"].num_rows + 1  # one in, one marked deleted

    subscriptions = bronze(root, config, "subscriptions")
    assert subscriptions.num_rows == company["subscriptions"].num_rows + 1  # append keeps both versions
    versions = [r["status"] for r in subscriptions.to_pylist() if r["id"] == subscription]
    assert len(versions) == 2 and "canceled" in versions

    inventory = bronze(root, config, "product_inventory")
    deleted = [(r["product_id"], r["warehouse_code"]) for r in inventory.to_pylist() if r["_op"] == "delete"]
    assert deleted == [(stock[1]["product_id"], stock[1]["warehouse_code"])]
    assert inventory.num_rows == company["product_inventory"].num_rows
    updated = [
        r for r in inventory.to_pylist() if (r["product_id"], r["warehouse_code"]) == tuple(stock[0].values())[:2]
    ]
    assert updated[0]["quantity_on_hand"] == 999

    third = by_name(load_source(root, config))
    assert third["subscriptions"].rows == 0, "nothing changed: nothing appended twice at the watermark"
    assert bronze(root, config, "subscriptions").num_rows == subscriptions.num_rows


# --- MariaDB: the seed's MySQL tables, incrementally ---------------------------------------------


def test_mariadb_seed_tables_load_incrementally(
    mariadb: MariaDbServer, company: dict[str, pa.Table], root: LakehouseRoot, tmp_path: Path
) -> None:
    database = fresh_name("legacy")
    seed_mariadb(mariadb, database, company)
    config = source_file(
        tmp_path,
        "mysql",
        my_options(mariadb, database),
        [
            {"name": "customer_data", "mode": "merge", "primary_key": ["cust_id"], "cursor_field": "last_modified"}
            | {"chunk_rows": chunk_rows(company["customer_data"]), "deletes": "reconcile", "reconcile_every_hours": 0},
            {"name": "order_history", "mode": "append", "primary_key": ["order_id"], "cursor_field": "last_modified"}
            | {"chunk_rows": chunk_rows(company["order_history"])},
        ],
    )
    first = by_name(load_source(root, config))
    for table, key in (("customer_data", "cust_id"), ("order_history", "order_id")):
        assert first[table].status == "success" and first[table].batches > 1
        loaded = bronze(root, config, table)
        assert keys_of(loaded, [key]) == keys_of(company[table], [key])
    orders = bronze(root, config, "order_history")
    source_totals = rows_by_key(company["order_history"], "order_id", ["order_total", "last_modified"])
    assert rows_by_key(orders, "order_id", ["order_total", "last_modified"]) == source_totals
    assert orders.schema.field("order_total").type == pa.decimal128(12, 2)

    customers = company["customer_data"].to_pylist()
    changed, deleted = customers[0]["cust_id"], customers[1]["cust_id"]
    new_customer = max(row["cust_id"] for row in customers) + 1
    order = company["order_history"]["order_id"][0].as_py()
    my_execute(
        mariadb,
        database,
        f"update customer_data set address_city = 'Porto', last_modified = utc_timestamp(6) where cust_id = {changed}",
        "insert into customer_data (cust_id, customer_name, status, created_date, last_modified) "
        f"values ({new_customer}, 'NEW CUSTOMER', 'A', utc_timestamp(6), utc_timestamp(6))",
        f"delete from customer_data where cust_id = {deleted}",
        "update order_history set order_status = 'REFUNDED', last_modified = utc_timestamp(6) "
        f"where order_id = {order}",
    )
    second = by_name(load_source(root, config))
    assert second["customer_data"].rows_read == 3 and second["order_history"].rows_read == 1

    now = rows_by_key(bronze(root, config, "customer_data"), "cust_id", ["address_city", "_op"])
    assert now[changed] == {"address_city": "Porto", "_op": None} and new_customer in now
    assert now[deleted]["_op"] == "delete"
    statuses = [r["order_status"] for r in bronze(root, config, "order_history").to_pylist() if r["order_id"] == order]
    assert len(statuses) == 2 and "REFUNDED" in statuses


# --- resume after an interrupted load -----------------------------------------------------------


class Interrupted(Exception):
    pass


def chunk_queries(server: PostgresServer, table: str) -> int:
    """Chunk reads of `table` the server has executed (pg_stat_statements), stats and catalogue excluded."""
    text = server.psql(
        "select coalesce(sum(calls), 0) from pg_stat_statements "
        f"where toplevel and query like 'COPY (SELECT %FROM %{table}%' "
        "and query not like '%COUNT(*)%' and query not like '%information_schema%'"
    )
    return int(text)


def make_big_table(server: PostgresServer, schema: str, rows: int) -> None:
    pg_execute(
        server,
        f"create schema {schema}",
        f"create table {schema}.events (id bigint primary key, amount numeric(12,2), note text, "
        "updated_at timestamptz not null)",
        f"insert into {schema}.events select g, (g % 1000) / 10.0, 'event ' || g, "
        f"timestamptz '2026-01-01' + g * interval '1 second' from generate_series(1, {rows}) g",
    )


def committed_chunks(config: SourceConfig, root: LakehouseRoot) -> int:
    from loaders.core.bronze import BronzeTable

    state = BronzeTable(root, config.source, "events").state(f"default/{config.source}/events")
    run = SqlState.load(state.cursor, "events").run
    assert run is not None, "the interrupted load should have left a run in progress"
    return sum(last - first + 1 for first, last in run.done)


def test_interrupted_load_resumes_without_rereading_finished_chunks(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_name("big")
    make_big_table(postgres, schema, 24_000)
    stream = {"name": "events", "table": f"{schema}.events", "mode": "append", "primary_key": ["id"]}
    config = source_file(tmp_path, "postgres", pg_options(postgres, parallel=2), [stream | {"chunk_rows": 1000}])

    def stop_after_five(result: StreamResult) -> None:
        if result.batches == 5:
            raise Interrupted("injected after 5 committed chunks")

    postgres.psql("select pg_stat_statements_reset()")
    with pytest.raises(SourceError, match="injected after 5"):
        load_source(root, config, on_batch=stop_after_five)
    done = committed_chunks(config, root)
    assert done == 5
    assert bronze(root, config, "events").num_rows == 5 * 1000

    postgres.psql("select pg_stat_statements_reset()")
    resumed = load_source(root, config)[0]
    assert chunk_queries(postgres, f"{schema}") == 24 - done, "finished chunks must not be read again"
    assert resumed.rows == 24_000 - 5 * 1000
    ids = bronze(root, config, "events")["id"].to_pylist()
    assert len(ids) == len(set(ids)) == 24_000


def test_killed_load_resumes_without_duplicates(postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path) -> None:
    """SIGKILL of a load in a child process, after a few commits; the next run completes the table."""
    schema = fresh_name("kill")
    make_big_table(postgres, schema, 30_000)
    stream = {"name": "events", "table": f"{schema}.events", "mode": "append", "primary_key": ["id"]}
    config = source_file(tmp_path, "postgres", pg_options(postgres, parallel=2), [stream | {"chunk_rows": 1000}])
    child = textwrap.dedent(
        f"""
        import sys, time
        from loaders.core.config import load_source_config
        from lakehouse.core.storage import LakehouseRoot
        from loaders.pipeline import load_source
        def tick(result):
            print(result.batches, flush=True)
            time.sleep(0.05)
        from pathlib import Path
        config = load_source_config(Path({str(config.path)!r}))
        load_source(LakehouseRoot.parse({str(root)!r}), config, on_batch=tick)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip().isdigit() and int(line) >= 7:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = committed_chunks(config, root)
    assert 7 <= done < 30
    postgres.psql("select pg_stat_statements_reset()")
    load_source(root, config)
    assert chunk_queries(postgres, schema) == 30 - done
    ids = bronze(root, config, "events")["id"].to_pylist()
    assert len(ids) == len(set(ids)) == 30_000


# --- type fidelity ---------------------------------------------------------------------------------

PG_FIDELITY_DDL = """(id bigint primary key, price numeric(12,2), big numeric(38,10), huge numeric(50,5),
    free numeric, at timestamptz, local_at timestamp, day date, doc json, docb jsonb, tags text[], counts int[],
    uid uuid, raw bytea, span interval, clock time, flag boolean, ratio double precision, small smallint,
    label varchar(20), code char(3), updated_at timestamptz not null)"""
PG_FIDELITY_ROW = """(1, 12345.67, 1234567890123456789012345678.0123456789,
    123456789012345678901234567890123456789012345.12345,
    3.14159265358979323846264338327950288, '2026-03-01 12:34:56.789012+05:30', '2026-03-01 12:34:56.789012',
    '2026-03-01', '{"a": [1, 2]}', '{"b": {"c": null}}', '{"x","y z"}', '{1,NULL,3}',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\xdeadbeef', '1 year 2 mons 3 days 04:05:06.789', '04:05:06.789',
    true, 1.5e-7, -7, 'héllo', 'ab', now())"""
PG_EXPECTED = {
    "price": Decimal("12345.67"),
    "big": Decimal("1234567890123456789012345678.0123456789"),
    "huge": "123456789012345678901234567890123456789012345.12345",
    "free": "3.14159265358979323846264338327950288",
    "at": datetime(2026, 3, 1, 7, 4, 56, 789012, tzinfo=UTC),
    "local_at": datetime(2026, 3, 1, 12, 34, 56, 789012),
    "day": date(2026, 3, 1),
    "tags": ["x", "y z"],
    "counts": [1, None, 3],
    "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    "raw": b"\xde\xad\xbe\xef",
    "span": "P1Y2M3DT4H5M6.789S",
    "clock": "04:05:06.789000",
    "flag": True,
    "ratio": 1.5e-7,
    "small": -7,
    "label": "héllo",
    "code": "ab ",
}


def test_postgres_type_fidelity(postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path) -> None:
    schema = fresh_name("types")
    pg_execute(
        postgres,
        f"create schema {schema}",
        f"create table {schema}.kinds {PG_FIDELITY_DDL}",
        f"insert into {schema}.kinds values {PG_FIDELITY_ROW}",
        f"insert into {schema}.kinds (id, updated_at) values (2, now())",
    )
    stream = {"name": "kinds", "table": f"{schema}.kinds", "mode": "merge", "primary_key": ["id"]}
    config = source_file(tmp_path, "postgres", pg_options(postgres), [stream | {"cursor_field": "updated_at"}])
    load_source(root, config)
    rows = {row["id"]: row for row in bronze(root, config, "kinds").to_pylist()}
    full, empty = rows[1], rows[2]
    for column, expected in PG_EXPECTED.items():
        assert full[column] == expected, column
    assert json.loads(full["doc"]) == {"a": [1, 2]} and json.loads(full["docb"]) == {"b": {"c": None}}
    assert all(empty[column] is None for column in [*PG_EXPECTED, "doc", "docb"])
    types = bronze(root, config, "kinds").schema
    assert types.field("price").type == pa.decimal128(12, 2)
    assert types.field("big").type == pa.decimal128(38, 10)
    assert types.field("at").type == pa.timestamp("us", tz="UTC")
    assert types.field("local_at").type == pa.timestamp("us")


MY_FIDELITY_DDL = """(id bigint primary key, price decimal(12,2), big decimal(38,10), huge decimal(65,5),
    at timestamp(6) null, local_at datetime(6), day date, doc json, uid char(36), raw varbinary(16), clock time(3),
    flag boolean, ratio double, small smallint, label varchar(20), choice enum('a','b'), yr year, unsigned_big bigint
    unsigned, updated_at datetime(6) not null)"""
MY_FIDELITY_ROW = """(1, 12345.67, 1234567890123456789012345678.0123456789,
    123456789012345678901234567890123456789012345.12345,
    '2026-03-01 07:04:56.789012', '2026-03-01 12:34:56.789012', '2026-03-01', '{"a": [1, 2]}',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', x'deadbeef', '04:05:06.789', true, 1.5e-7, -7, 'héllo', 'b', 2026,
    18446744073709551615, utc_timestamp(6))"""
MY_EXPECTED = {
    "price": Decimal("12345.67"),
    "big": Decimal("1234567890123456789012345678.0123456789"),
    "huge": "123456789012345678901234567890123456789012345.12345",
    "at": datetime(2026, 3, 1, 7, 4, 56, 789012, tzinfo=UTC),
    "local_at": datetime(2026, 3, 1, 12, 34, 56, 789012),
    "day": date(2026, 3, 1),
    "uid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    "raw": b"\xde\xad\xbe\xef",
    "clock": "04:05:06.789000",
    "flag": 1,
    "ratio": 1.5e-7,
    "small": -7,
    "label": "héllo",
    "choice": "b",
    "yr": 2026,
    "unsigned_big": Decimal("18446744073709551615"),
}


def test_mariadb_type_fidelity(mariadb: MariaDbServer, root: LakehouseRoot, tmp_path: Path) -> None:
    database = fresh_name("types")
    mariadb.sql(f"create database {database} character set utf8mb4")
    my_execute(
        mariadb,
        database,
        "set time_zone = '+00:00'",
        f"create table kinds {MY_FIDELITY_DDL}",
        f"insert into kinds values {MY_FIDELITY_ROW}",
        "insert into kinds (id, updated_at) values (2, utc_timestamp(6))",
    )
    stream = {"name": "kinds", "mode": "merge", "primary_key": ["id"], "cursor_field": "updated_at"}
    config = source_file(tmp_path, "mysql", my_options(mariadb, database), [stream])
    load_source(root, config)
    rows = {row["id"]: row for row in bronze(root, config, "kinds").to_pylist()}
    full, empty = rows[1], rows[2]
    for column, expected in MY_EXPECTED.items():
        assert full[column] == expected, column
    assert json.loads(full["doc"]) == {"a": [1, 2]}
    assert all(empty[column] is None for column in [*MY_EXPECTED, "doc"])
    types = bronze(root, config, "kinds").schema
    assert types.field("price").type == pa.decimal128(12, 2)
    assert types.field("at").type == pa.timestamp("us", tz="UTC")
    assert types.field("local_at").type == pa.timestamp("us")


# --- connection options, errors and secrets -----------------------------------------------------


def test_wrong_password_fails_with_a_clear_error_and_no_secret(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQL_TEST_PASSWORD", "not-the-password-42")
    stream = {"name": "users", "mode": "full_refresh"}
    config = source_file(tmp_path, "postgres", pg_options(postgres), [stream])
    with pytest.raises(SourceError) as failure:
        load_source(root, config)
    message = str(failure.value)
    assert "not-the-password-42" not in message
    assert "password" in message.lower() and "options.password" in failure.value.fix


def test_replica_host_and_tls_options_reach_the_server(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    """Reads go to `replica_host` (the primary's name does not even resolve), with the certificate checked
    against the CA (`verify-full`)."""
    schema = fresh_name("replica")
    make_big_table(postgres, schema, 50)
    options = pg_options(postgres, host="primary.invalid", replica_host="127.0.0.1", sslmode="verify-full")
    stream = {"name": "events", "table": f"{schema}.events", "mode": "full_refresh"}
    config = source_file(tmp_path, "postgres", options, [stream])
    assert load_source(root, config)[0].rows == 50


def test_the_loader_connects_over_tls_to_a_server_that_accepts_nothing_else(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    """The loader's own user may connect over TLS only (pg_hba.conf): `sslmode: require` loads, and
    `sslmode: disable` is refused, with the fix."""
    schema = fresh_name("tls")
    make_big_table(postgres, schema, 20)
    stream = {"name": "events", "table": f"{schema}.events", "mode": "full_refresh"}
    secure = pg_options(postgres, sslmode="require")
    secure.pop("sslrootcert")
    with postgres.tls_only("loader", LOADER_PASSWORD):
        assert load_source(root, source_file(tmp_path, "postgres", secure, [stream]))[0].rows == 20
        plain = source_file(tmp_path, "postgres", secure | {"sslmode": "disable"}, [stream])
        with pytest.raises(SourceError) as refused:
            load_source(root, plain)
    assert "no encryption" in str(refused.value)
    assert "options.sslmode" in refused.value.fix and "require" in refused.value.fix


# --- Redshift: the Postgres wire protocol --------------------------------------------------------


def test_redshift_dialect_reads_over_the_postgres_wire_protocol(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_name("rs")
    make_big_table(postgres, schema, 3_000)
    options = pg_options(postgres, sslmode="require")
    options.pop("sslrootcert")
    stream = {"name": "events", "table": f"{schema}.events", "mode": "merge", "primary_key": ["id"]}
    config = source_file(tmp_path, "redshift", options, [stream | {"cursor_field": "updated_at", "chunk_rows": 1000}])
    assert load_source(root, config)[0].rows == 3_000
    pg_execute(postgres, f"update {schema}.events set note = 'changed', updated_at = now() where id = 7")
    assert load_source(root, config)[0].rows == 1
    notes = rows_by_key(bronze(root, config, "events"), "id", ["note"])
    assert notes[7] == {"note": "changed"} and len(notes) == 3_000
