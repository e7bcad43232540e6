"""Correctness of the SQL family against a real PostgreSQL: deletes as tombstones, the reconcile guard,
the watermark boundary, timeouts.

The module creates its own database (and role) in the session's PostgreSQL server and drops it after.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse.core.errors import ConfigError, SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig, load_source_config
from loaders.core.delta import read_table
from loaders.core.retry import RetryPolicy, TransientSourceError
from loaders.pipeline import load_source
from tests.helpers.servers import PostgresServer

PASSWORD = "c0rrect-s3cret"
DATABASE = "p9_correctness"
OWNER = "p9_loader"


@pytest.fixture(scope="module")
def postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    postgres_server.create_database(DATABASE, owner=OWNER, owner_password=PASSWORD)
    yield postgres_server
    postgres_server.drop_database(DATABASE, owner=OWNER)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LakehouseRoot:
    folder = tmp_path / "root"
    folder.mkdir()
    monkeypatch.setenv("P9_PASSWORD", PASSWORD)
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(folder))  # where `deletes: reconcile` reads bronze's keys
    return LakehouseRoot.parse(str(folder))


def execute(server: PostgresServer, *statements: str) -> None:
    import adbc_driver_postgresql.dbapi as dbapi

    uri = server.uri(DATABASE, OWNER, PASSWORD)
    with dbapi.connect(uri, autocommit=True) as connection, connection.cursor() as cur:
        for statement in statements:
            cur.execute(statement)


def source(folder: Path, server: PostgresServer, streams: list[dict[str, Any]], **options: Any) -> SourceConfig:
    path = folder / "pg.yml"
    connection = {
        "host": "127.0.0.1",
        "port": server.port,
        "database": DATABASE,
        "user": OWNER,
        "password": "${P9_PASSWORD}",
        "parallel": 2,
        **options,
    }
    path.write_text(yaml.safe_dump({"source": "pg", "type": "postgres", "options": connection, "streams": streams}))
    return load_source_config(path)


def bronze(root: LakehouseRoot, stream: str) -> list[dict[str, Any]]:
    """Bronze's rows in load order."""
    return read_table(root.bronze_uri("pg", stream), sql="select * from t order by _loaded_at").to_pylist()


def fresh_schema(server: PostgresServer, prefix: str) -> str:
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    execute(server, f"create schema {schema}")
    return schema


def people_table(server: PostgresServer, schema: str, rows: int) -> None:
    execute(
        server,
        f"create table {schema}.people (id bigint primary key, name text, updated_at timestamptz not null)",
        f"insert into {schema}.people select g, 'person ' || g, timestamptz '2026-01-01' + g * interval '1 minute' "
        f"from generate_series(1, {rows}) g",
    )


def reconciled(schema: str, name: str, mode: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "table": f"{schema}.people",
        "mode": mode,
        "primary_key": ["id"],
        "cursor_field": "updated_at",
        "deletes": "reconcile",
        "reconcile_every_hours": 0,
        **extra,
    }


# --- 1. deletes reach bronze as tombstones ----------------------------------------------------------


def test_a_deleted_source_row_stays_in_merge_bronze_as_a_delete_until_it_comes_back(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_schema(postgres, "tomb")
    people_table(postgres, schema, 6)
    config = source(tmp_path, postgres, [reconciled(schema, "current", "merge"), reconciled(schema, "log", "append")])
    load_source(root, config)

    execute(postgres, f"delete from {schema}.people where id = 2")
    second = {r.stream: r for r in load_source(root, config)}
    rows = {row["id"]: row for row in bronze(root, "current")}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6], "a delete keeps the key in merge bronze"
    assert rows[2]["_op"] == "delete"
    assert rows[2]["name"] == "person 2", "a tombstone keeps the row's last values"
    assert rows[2]["_load_id"] == second["current"].load_id, "the tombstone is the key's latest version"
    assert [row["_op"] for row in rows.values() if row["id"] != 2] == [None] * 5
    log = [row for row in bronze(root, "log") if row["id"] == 2]
    assert [(row["_op"], row["name"]) for row in log] == [(None, "person 2"), ("delete", None)]

    third = {r.stream: r for r in load_source(root, config)}
    assert third["current"].rows == 0 and third["log"].rows == 0, "a key already deleted is not deleted again"

    execute(postgres, f"insert into {schema}.people values (2, 'back again', now())")
    load_source(root, config)
    rows = {row["id"]: row for row in bronze(root, "current")}
    assert rows[2]["_op"] != "delete" and rows[2]["name"] == "back again"
    assert len(bronze(root, "current")) == 6
    log = [(row["_op"], row["name"]) for row in bronze(root, "log") if row["id"] == 2]
    assert log[-1] == (None, "back again") and len(log) == 3


# --- 2. reconciliation cannot wipe a table ----------------------------------------------------------


def test_reconcile_refuses_to_delete_most_of_bronze_and_writes_no_delete(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_schema(postgres, "wipe")
    people_table(postgres, schema, 10)
    config = source(tmp_path, postgres, [reconciled(schema, "current", "merge")])
    load_source(root, config)
    execute(postgres, f"delete from {schema}.people where id <= 3")
    load_source(root, config)
    assert sorted(row["id"] for row in bronze(root, "current") if row["_op"] == "delete") == [1, 2, 3]

    execute(postgres, f"delete from {schema}.people where id <= 9")  # 6 of the 7 live keys gone at once
    with pytest.raises(SourceError) as refused:
        load_source(root, config)
    message = str(refused.value)
    assert "'current'" in message and "6 of 7" in message
    assert "max_delete_share" in refused.value.fix and "--full-refresh" in refused.value.fix
    assert sorted(row["id"] for row in bronze(root, "current") if row["_op"] == "delete") == [1, 2, 3]

    allowed = source(tmp_path, postgres, [reconciled(schema, "current", "merge", max_delete_share=1.0)])
    load_source(root, allowed)
    assert sorted(row["id"] for row in bronze(root, "current") if row["_op"] != "delete") == [10]


def test_reconcile_with_an_empty_source_table_deletes_nothing_by_default(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_schema(postgres, "empty")
    people_table(postgres, schema, 40)
    config = source(tmp_path, postgres, [reconciled(schema, "log", "append", chunk_rows=7)])
    load_source(root, config)
    execute(postgres, f"truncate {schema}.people")
    [result] = load_source(root, config, raise_on_error=False)
    assert result.status == "failed" and "40 of 40" in (result.error or "")
    assert [row for row in bronze(root, "log") if row["_op"] == "delete"] == []


# --- 3. rows sharing the watermark are loaded once ---------------------------------------------------

AT = "timestamptz '2026-03-01 12:00:00+00'"


def events_table(server: PostgresServer, schema: str, key_type: str = "bigint") -> None:
    execute(server, f"create table {schema}.events (id {key_type} primary key, note text, at timestamptz not null)")


def add_events(server: PostgresServer, schema: str, first: int, last: int, at: str = AT) -> None:
    rows = f"select g, 'event ' || g, {at} from generate_series({first}, {last}) g"
    execute(server, f"insert into {schema}.events {rows}")


def appended(schema: str, **extra: Any) -> dict[str, Any]:
    stream = {"name": "events", "table": f"{schema}.events", "mode": "append", "primary_key": ["id"]}
    return {**stream, "cursor_field": "at", **extra}


def loaded_ids(root: LakehouseRoot) -> list[Any]:
    return sorted(row["id"] for row in bronze(root, "events"))


def test_more_rows_at_the_watermark_than_max_boundary_keys_are_appended_once(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_schema(postgres, "tie")
    events_table(postgres, schema)
    add_events(postgres, schema, 1, 30)  # 30 rows share one cursor value; only 5 keys are remembered
    config = source(tmp_path, postgres, [appended(schema, max_boundary_keys=5, chunk_rows=7)])
    [first] = load_source(root, config)
    assert first.rows == 30 and first.batches > 1, "the window is read in chunks"

    add_events(postgres, schema, 31, 40)  # committed later with the watermark's own value
    add_events(postgres, schema, 41, 45, at="timestamptz '2026-03-01 12:00:01+00'")
    [second] = load_source(root, config)
    assert second.rows == 15
    assert loaded_ids(root) == list(range(1, 46)), "no row at the watermark is loaded twice or lost"

    add_events(postgres, schema, 46, 52, at="timestamptz '2026-03-01 12:00:01+00'")
    [third] = load_source(root, config)
    [fourth] = load_source(root, config)
    assert (third.rows, fourth.rows) == (7, 0)
    assert loaded_ids(root) == list(range(1, 53))


def test_rows_arriving_at_the_same_watermark_over_several_loads_are_appended_once(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_schema(postgres, "late")
    events_table(postgres, schema)
    add_events(postgres, schema, 1, 5)
    config = source(tmp_path, postgres, [appended(schema)])
    load_source(root, config)
    add_events(postgres, schema, 6, 7)
    [second] = load_source(root, config)
    [third] = load_source(root, config)
    assert (second.rows, third.rows) == (2, 0)
    assert loaded_ids(root) == list(range(1, 8))


def test_an_overflowing_watermark_with_a_text_key_is_refused_before_anything_is_duplicated(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_schema(postgres, "text")
    events_table(postgres, schema, key_type="text")
    add_events(postgres, schema, 1, 12)
    config = source(tmp_path, postgres, [appended(schema, max_boundary_keys=5)])
    [result] = load_source(root, config, raise_on_error=False)
    assert result.status == "failed"
    error = result.exception
    assert isinstance(error, ConfigError)
    assert "'events'" in str(error) and "12" in str(error) and "max_boundary_keys" in str(error)
    assert "max_boundary_keys" in error.fix and "cursor_field" in error.fix

    raised = source(tmp_path, postgres, [appended(schema, max_boundary_keys=50)])
    load_source(root, raised)
    add_events(postgres, schema, 13, 14)
    load_source(root, raised)
    assert sorted(int(i) for i in loaded_ids(root)) == list(range(1, 15))


# --- 4. a stalled source ends the load -----------------------------------------------------------------


def test_a_query_longer_than_statement_timeout_ends_the_load_with_the_option_named(
    postgres: PostgresServer, root: LakehouseRoot, tmp_path: Path
) -> None:
    schema = fresh_schema(postgres, "slow")
    people_table(postgres, schema, 3)
    execute(postgres, f"create view {schema}.slow as select p.* from {schema}.people p, pg_sleep(3) s")
    stream = {"name": "slow", "table": f"{schema}.slow", "mode": "full_refresh"}
    config = source(tmp_path, postgres, [stream], statement_timeout=1)
    with pytest.raises(SourceError) as failure:
        load_source(root, config, retry=RetryPolicy(max_attempts=1))
    assert "statement_timeout" in str(failure.value) and "1 s" in str(failure.value)
    assert "statement_timeout" in failure.value.fix
    assert not isinstance(failure.value, TransientSourceError), "the same query would time out again"


def test_a_server_that_accepts_but_never_answers_ends_the_load_by_connect_timeout(
    root: LakehouseRoot, tmp_path: Path
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes the handshake; nothing ever answers
        port = listener.getsockname()[1]
        path = tmp_path / "pg.yml"
        options = {"host": "127.0.0.1", "port": port, "database": "db", "user": "u", "connect_timeout": 2}
        streams = [{"name": "people", "mode": "full_refresh"}]
        path.write_text(yaml.safe_dump({"source": "pg", "type": "postgres", "options": options, "streams": streams}))
        outcome: list[BaseException | None] = []

        def load() -> None:
            try:
                load_source(root, load_source_config(path), retry=RetryPolicy(max_attempts=1))
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=load, daemon=True)
        worker.start()
        worker.join(60)
    assert not worker.is_alive(), "the load hangs on a server that never answers"
    [error] = outcome
    assert isinstance(error, SourceError)
    assert "connect_timeout" in str(error) and "2 s" in str(error) and f"127.0.0.1:{port}" in str(error)
    assert "connect_timeout" in error.fix
