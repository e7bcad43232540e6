"""`lakehouse company publish`: the generated company in real PostgreSQL and MariaDB servers.

The command generates the company (as `lakehouse demo` does), publishes it, and writes source files
for the SQL loaders; `lakehouse load` then reads the tables into bronze. Bronze must hold exactly the
rows the generator's files describe (every batch applied in order: upserts by key, then the day's
deletes), before and after a further day is published, with no key twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import lakehouse.cli.errors
from lakehouse.core.storage import LakehouseRoot
from loaders.core.delta import read_table
from loaders.core.ledger import Ledger
from tests.helpers.servers import MariaDbServer, PostgresServer
from tests.helpers.spark import free_port

APP_PASSWORD = "app-Publish-s3cret"
WRONG_PASSWORD = "not-the-Password-42"
SCALE = "0.2"  # ~1,000 rows in the two systems; big enough that a day updates and deletes rows in both
SYSTEMS = ("postgres", "mysql")


@pytest.fixture(scope="module")
def postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    postgres_server.create_database("company_production", owner="app", owner_password=APP_PASSWORD)
    yield postgres_server
    postgres_server.drop_database("company_production", owner="app")


@pytest.fixture(scope="module")
def mariadb(mariadb_server: MariaDbServer) -> Iterator[MariaDbServer]:
    mariadb_server.sql(f"create user 'app'@'127.0.0.1' identified by '{APP_PASSWORD}'")
    mariadb_server.sql("grant all on legacy_systems.* to 'app'@'127.0.0.1'")  # the publisher creates the database
    yield mariadb_server
    mariadb_server.drop_database("legacy_systems", owner="app")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh LAKEHOUSE_HOME (the company is generated there) and root; no password in the environment."""
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("LAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path / "home" / "sources" / "local"))
    for variable in ("LAKEHOUSE_POSTGRES_PASSWORD", "LAKEHOUSE_MYSQL_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 250)
    return tmp_path / "home"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(lakehouse.cli.app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def uri(system: str, port: int, password: str | None = APP_PASSWORD) -> str:
    """The app user's URI; `password=None` leaves it to LAKEHOUSE_<SYSTEM>_PASSWORD."""
    secret = f":{password}" if password else ""
    if system == "postgres":
        return f"postgresql://app{secret}@127.0.0.1:{port}/company_production"
    return f"mysql://app{secret}@127.0.0.1:{port}"  # the database defaults to legacy_systems


# --- what the generator's files say each table holds --------------------------------------------


def manifest(home: Path) -> dict[str, Any]:
    return json.loads((home / "samples" / "company" / "manifest.json").read_text())


def streams(home: Path) -> list[tuple[str, str, list[str]]]:
    """(system, stream, primary key) of every published stream, from the generator's manifest."""
    systems = manifest(home)["systems"]
    return [(s, name, st["primary_key"]) for s in SYSTEMS for name, st in systems[s]["streams"].items()]


def key_of(row: dict[str, Any], keys: list[str]) -> tuple[Any, ...]:
    return tuple(row[k] for k in keys)


def batch_rows(home: Path, system: str, stream: str, batch: str) -> list[dict[str, Any]]:
    path = home / "samples" / "company" / system / stream / f"{batch}.parquet"
    return pq.read_table(path).to_pylist() if path.exists() else []


def batch_deletes(home: Path, system: str, stream: str, batch: str) -> list[dict[str, Any]]:
    path = home / "samples" / "company" / system / stream / "deletes" / f"{batch}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def replayed(home: Path, system: str, stream: str, keys: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The table after every batch, in order: each row replaces its key's, each delete removes it."""
    state: dict[tuple[Any, ...], dict[str, Any]] = {}
    for batch in manifest(home)["batches"]:
        for row in batch_rows(home, system, stream, batch):
            state[key_of(row, keys)] = row
        for deleted in batch_deletes(home, system, stream, batch):
            state.pop(key_of(deleted, keys), None)
    return {key: comparable(row) for key, row in state.items()}


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    # Subscription metadata is jsonb in PostgreSQL, which orders an object's keys its own way.
    return {name: json.loads(v) if name == "metadata" and v is not None else v for name, v in row.items()}


def bronze(home: Path, system: str, stream: str, keys: list[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
    root = LakehouseRoot.parse(str(home.parent / "root"))
    table = read_table(root.bronze_uri(system, stream))
    data = table.select([name for name in table.column_names if not name.startswith("_")])
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row, op in zip(data.to_pylist(), table.column("_op").to_pylist(), strict=True):
        if op == "delete":
            continue  # a tombstone: the source deleted the row, so the generator's replay has no such key
        assert key_of(row, keys) not in rows, f"{system}.{stream}: key {key_of(row, keys)} is in bronze twice"
        rows[key_of(row, keys)] = comparable(row)
    return rows


def types_of(schema: pa.Schema) -> dict[str, pa.DataType]:
    # delta-rs's reader returns text as string_view: the same Delta `string` column.
    views = {pa.string_view(): pa.string(), pa.large_string(): pa.string()}
    return {field.name: views.get(field.type, field.type) for field in schema if not field.name.startswith("_")}


def bronze_types(home: Path, system: str, stream: str) -> dict[str, pa.DataType]:
    root = LakehouseRoot.parse(str(home.parent / "root"))
    return types_of(read_table(root.bronze_uri(system, stream), sql="select * from t limit 0").schema)


def assert_bronze_matches_the_generator(home: Path) -> None:
    for system, stream, keys in streams(home):
        expected = replayed(home, system, stream, keys)
        assert expected, f"the generator wrote no {system}.{stream} rows"
        assert bronze(home, system, stream, keys) == expected, f"{system}.{stream} differs from the generator's"


def load_everything(home: Path) -> dict[str, int]:
    """`lakehouse load` of both systems; the rows each stream read."""
    for system in SYSTEMS:
        code, output = run("load", system)
        assert code == 0, output
    entries = Ledger(LakehouseRoot.parse(str(home.parent / "root"))).read().to_pylist()
    latest = sorted(entries, key=lambda entry: entry["started_at"])
    return {f"{entry['source']}.{entry['stream']}": entry["rows_read"] for entry in latest}


def server_tables(postgres: PostgresServer, mariadb: MariaDbServer) -> list[str]:
    """What a client of the servers sees: every published table, ordered by key."""
    return [
        postgres.psql("select * from public.users order by id", "company_production"),
        postgres.psql("select * from public.subscriptions order by id", "company_production"),
        postgres.psql("select * from public.product_inventory order by 1, 2", "company_production"),
        mariadb.sql("select * from customer_data order by cust_id", "legacy_systems"),
        mariadb.sql("select * from order_history order by order_id", "legacy_systems"),
    ]


# --- the end-to-end path ------------------------------------------------------------------------


def test_published_company_loads_into_bronze_as_the_generator_wrote_it(
    home: Path, postgres: PostgresServer, mariadb: MariaDbServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = {"postgres": postgres.port, "mysql": mariadb.port}
    with_passwords = [arg for system, port in servers.items() for arg in (f"--{system}", uri(system, port))]
    code, output = run("company", "publish", *with_passwords, "--scale", SCALE)
    assert code == 0, output
    assert APP_PASSWORD not in output
    written = {path.name: path.read_text() for path in (home / "sources" / "local").glob("*.yml")}
    assert sorted(written) == ["mysql.yml", "postgres.yml"]
    assert all(APP_PASSWORD not in text for text in written.values()), "a source file holds the password"
    assert "${LAKEHOUSE_POSTGRES_PASSWORD}" in written["postgres.yml"]

    monkeypatch.setenv("LAKEHOUSE_POSTGRES_PASSWORD", APP_PASSWORD)
    monkeypatch.setenv("LAKEHOUSE_MYSQL_PASSWORD", APP_PASSWORD)
    load_everything(home)
    assert_bronze_matches_the_generator(home)
    for system, stream, _ in streams(home):
        history = pq.read_schema(next((home / "samples" / "company" / system / stream).glob("*.parquet")))
        assert bronze_types(home, system, stream) == types_of(history), (
            f"{system}.{stream}: types differ from the files'"
        )

    # Publishing the same batches again changes nothing on the servers, nor in bronze.
    tables = server_tables(postgres, mariadb)
    code, output = run("company", "publish", *with_passwords)
    assert code == 0, output
    assert server_tables(postgres, mariadb) == tables
    assert set(load_everything(home).values()) == {0}, "a second publish must not make rows look changed"
    assert_bronze_matches_the_generator(home)

    # One more day, published with the passwords from the environment, loaded incrementally.
    before = {(system, stream): bronze(home, system, stream, keys) for system, stream, keys in streams(home)}
    from_environment = [arg for system, port in servers.items() for arg in (f"--{system}", uri(system, port, None))]
    code, output = run("company", "publish", *from_environment, "--days", "1")
    assert code == 0, output
    day = manifest(home)["batches"][-1]
    assert not day.endswith("-history")
    load_everything(home)
    assert_bronze_matches_the_generator(home)

    updated = deleted = 0
    for system, stream, keys in streams(home):
        now = bronze(home, system, stream, keys)
        for row in batch_rows(home, system, stream, day):
            old = before[(system, stream)].get(key_of(row, keys))
            if old is not None and old != comparable(row):
                updated += 1
                assert now[key_of(row, keys)] == comparable(row)
        for gone in batch_deletes(home, system, stream, day):
            deleted += key_of(gone, keys) in before[(system, stream)]
            assert key_of(gone, keys) not in now
    assert updated > 0 and deleted > 0, "the published day should update and delete rows loaded before"

    # --replace drops the tables and publishes every batch again: the servers show the same company.
    tables = server_tables(postgres, mariadb)
    code, output = run("company", "publish", *from_environment, "--replace")
    assert code == 0, output
    assert server_tables(postgres, mariadb) == tables


# --- errors a user can act on ------------------------------------------------------------------


@pytest.mark.parametrize("system", SYSTEMS)
def test_wrong_password_is_named_without_the_password(
    system: str, home: Path, postgres: PostgresServer, mariadb: MariaDbServer
) -> None:
    port = postgres.port if system == "postgres" else mariadb.port
    code, output = run("company", "publish", f"--{system}", uri(system, port, WRONG_PASSWORD), "--scale", SCALE)
    assert code == 2, output
    assert "error:" in output and "fix:" in output
    assert "password" in output.split("fix:")[1]
    assert WRONG_PASSWORD not in output
    assert not (home / "samples" / "company").exists(), "nothing is generated before the servers answer"


@pytest.mark.parametrize("system", SYSTEMS)
def test_unreachable_server_is_named_with_its_address(system: str, home: Path) -> None:
    port = free_port()  # nothing listens there
    code, output = run("company", "publish", f"--{system}", uri(system, port), "--scale", SCALE)
    assert code == 2, output
    assert "error:" in output and f"127.0.0.1:{port}" in output
    assert "server runs" in output.split("fix:")[1]
    assert APP_PASSWORD not in output
