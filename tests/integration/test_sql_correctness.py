"""Correctness of the SQL family against a real PostgreSQL: deletes as tombstones, the reconcile guard,
the watermark boundary, timeouts.

The module creates its own database (and role) in the session's PostgreSQL server and drops it after.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig, load_source_config
from loaders.core.delta import read_table
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
