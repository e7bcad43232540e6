"""Crash safety: loads killed with SIGKILL at random points, then re-run, leave bronze exact.

A load runs in a child process (`tests/helpers/loader_driver.py`) that prints `started` once its ledger
row is written and a line per committed batch. The test waits for a random number of those lines, waits
a random few milliseconds more (so kills land inside a commit, between the quarantine and the bronze
commit, while writing Parquet...) and SIGKILLs the child. Every attempt runs with a batch size drawn
anew, so a resumed load's batches do not line up with the killed one's. After the kill rounds the
load is run to completion and the root is compared with the source: bronze holds every key exactly
once, the quarantine every bad record exactly once, and the ledger one row per attempt (`killed` or
`success`, none left `running`), each ended load's counts reconciling with what it read.

Sources: CSV files with malformed rows, and PostgreSQL and MariaDB tables with rows whose key is NULL
(quarantined), in append and merge modes; 43 kills in all. The random choices come from fixed
seeds; nothing asserts on time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from lakehouse.core.storage import LakehouseRoot
from tests.helpers.loader_io import (
    DRIVER_COMMAND,
    PROJECT_DIR,
    bronze_rows,
    lakehouse_root,
    ledger_rows,
    quarantine_rows,
    write_csv,
    write_source,
)
from tests.helpers.servers import MariaDbServer, PostgresServer

FILES = 6
ROWS_PER_FILE = 1_500
BATCH_SIZES = (70, 100, 130)  # drawn anew for every attempt
MALFORMED_EVERY = 400  # a row with an extra field every 400 rows
SQL_ROWS = 600
SQL_NULL_KEYS = 12  # rows whose key is NULL: quarantined
SQL_CHUNK_SIZES = (40, 55, 70)
PASSWORD = "cr4sh-s3cret"


@dataclass
class CrashSource:
    path: Path
    keys: set[int]
    latest: dict[int, int]  # key -> the value of its last version in the source
    malformed: int  # records the quarantine must hold, each once
    streams: list[dict[str, object]] = field(default_factory=list)
    document: dict[str, object] = field(default_factory=dict)
    batch_key: str = "batch_rows"

    def with_batch_size(self, size: int) -> None:
        """Rewrite the source file with another batch size (the next attempt reads with it)."""
        streams = [{**stream, self.batch_key: size} for stream in self.streams]
        self.path.write_text(yaml.safe_dump({**self.document, "streams": streams}, sort_keys=False))


def make_source(folder: Path, mode: str) -> CrashSource:
    """CSV files; in merge mode each file also updates keys of the previous one."""
    keys: set[int] = set()
    latest: dict[int, int] = {}
    malformed = 0
    for number in range(FILES):
        first = number * ROWS_PER_FILE
        rows = [(key, number * 10 + key % 7, f"name-{key}") for key in range(first, first + ROWS_PER_FILE)]
        if mode == "merge" and number > 0:
            rows += [(key, 1_000 + number, f"updated-{key}") for key in range(first - 50, first)]
        bad = {i: f"{900_000 + number * 1_000 + i},1,too,many,fields" for i in range(0, len(rows), MALFORMED_EVERY)}
        malformed += len(bad)
        write_csv(folder / "data" / "items" / f"{number:03d}.csv", ["item_id", "value", "name"], rows, raw_lines=bad)
        for key, value, _ in rows:
            keys.add(key)
            latest[key] = value
    stream = {"name": "items", "format": "csv", "primary_key": ["item_id"], "batch_rows": 100, "mode": mode}
    document = {"source": "src", "type": "files", "options": {"path": "data"}}
    return CrashSource(write_source(folder, [stream]), keys, latest, malformed, [stream], document)


def sql_rows() -> list[tuple[int | None, int, str]]:
    rows: list[tuple[int | None, int, str]] = [(key, key % 11, f"name-{key}") for key in range(1, SQL_ROWS + 1)]
    rows += [(None, 1_000 + n, f"no-key-{n}") for n in range(SQL_NULL_KEYS)]
    return rows


def sql_source(folder: Path, kind: str, options: dict[str, object], table: str, mode: str) -> CrashSource:
    """A table of SQL_ROWS keys plus SQL_NULL_KEYS rows with a NULL key, read in small chunks."""
    stream = {"name": "items", "table": table, "mode": mode, "primary_key": ["item_id"]}
    stream |= {"cursor_field": "updated_at", "chunk_rows": 40}
    document = {"source": "src", "type": kind, "options": options}
    path = folder / f"{kind}-{mode}.yml"
    source = CrashSource(path, set(range(1, SQL_ROWS + 1)), {}, SQL_NULL_KEYS, [stream], document, "chunk_rows")
    source.latest = {key: key % 11 for key in source.keys}
    source.with_batch_size(40)
    return source


@dataclass
class Attempts:
    """What the test did in one root: every attempt must have exactly one ledger row."""

    started: int = 0
    killed: int = 0


def run_driver(
    root: LakehouseRoot, source: CrashSource, attempts: Attempts, *, kill_after: int | None, extra_delay: float
) -> bool:
    """Run a load; with `kill_after`, SIGKILL it after that many committed batches. True if it was killed.

    A kill lands only once the attempt has said `started` (its ledger row is written).
    """
    command = [*DRIVER_COMMAND, "--root", root.uri, "--source-file", str(source.path)]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(), cwd=PROJECT_DIR
    )
    assert child.stdout is not None
    if kill_after is None:
        output = child.stdout.read()
        assert child.wait() == 0, output
        attempts.started += 1
        return False
    committed, started, output = 0, False, []
    while not started or committed < kill_after:
        line = child.stdout.readline()
        if not line:  # the load finished before the kill point
            assert child.wait() == 0, "".join(output)
            attempts.started += 1
            return False
        output.append(line)
        started = started or line.startswith("started")
        committed += line.startswith("batch ")
    attempts.started += 1
    time.sleep(extra_delay)  # lands the kill at a random point of the next batch
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    killed = child.returncode == -signal.SIGKILL
    attempts.killed += killed
    return killed


def assert_exact(root: LakehouseRoot, source: CrashSource, mode: str, attempts: Attempts) -> None:
    rows = bronze_rows(root, "src", "items")
    counts = Counter(row["item_id"] for row in rows)
    duplicates = {key: n for key, n in counts.items() if n > 1}
    assert not duplicates, f"duplicated keys after crashes: {list(duplicates)[:10]}"
    assert set(counts) == source.keys, f"lost keys: {sorted(source.keys - set(counts))[:10]}"
    assert len(rows) == len(source.keys)
    if mode == "merge":
        assert {row["item_id"]: row["value"] for row in rows} == source.latest
    if mode != "full_refresh":  # a full refresh re-reads (and re-quarantines) on purpose
        quarantined = [row for row in quarantine_rows(root) if row["stream"] == "items"]
        assert len(quarantined) == source.malformed
        assert len({row["raw_payload"] for row in quarantined}) == source.malformed
    assert_ledger(root, source, mode, attempts)


def assert_ledger(root: LakehouseRoot, source: CrashSource, mode: str, attempts: Attempts) -> None:
    """One row per attempt, none left `running`; the last load's counts match an independent count."""
    ledger = sorted(ledger_rows(root), key=lambda row: row["started_at"])
    assert len(ledger) == attempts.started, [row["status"] for row in ledger]
    assert len({row["load_id"] for row in ledger}) == len(ledger)
    statuses = Counter(row["status"] for row in ledger)
    assert set(statuses) <= {"killed", "success"} and statuses["success"] >= 1, statuses
    assert statuses["killed"] <= attempts.killed  # a kill may land after the load recorded its success
    last = ledger[-1]
    assert last["status"] == "success"
    ended = [row for row in ledger if row["status"] == "success"]
    for row in ended:
        assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"]
    bronze = bronze_rows(root, "src", "items")
    if mode == "append":  # every row in bronze was loaded by exactly one ended or killed load
        assert sum(row["rows_loaded"] for row in ended) <= len(bronze)
        for row in ended:
            assert row["rows_loaded"] == sum(1 for r in bronze if r["_load_id"] == row["load_id"])
    if mode != "full_refresh":
        quarantined = [row for row in quarantine_rows(root) if row["stream"] == "items"]
        for row in ended:  # each load quarantines only records no earlier attempt did
            assert row["rows_quarantined"] >= sum(1 for q in quarantined if q["load_id"] == row["load_id"])
        assert sum(row["rows_quarantined"] for row in ended) <= source.malformed * len(ended)


def crash_and_recover(
    new_root: Callable[[], LakehouseRoot], source: CrashSource, mode: str, kills: int, seed: int, most: int = 12
) -> int:
    """Kill loads until `kills` kills landed mid-load, then run to completion and compare with the source.

    When a load slips through to the end before its kill point, the root is checked and the rounds go
    on in a fresh root (an incremental load with nothing new to read cannot be killed mid-load).
    """
    rng = random.Random(seed)
    sizes = SQL_CHUNK_SIZES if source.batch_key == "chunk_rows" else BATCH_SIZES
    root, attempts, landed = new_root(), Attempts(), 0
    while landed < kills:
        source.with_batch_size(rng.choice(sizes))
        if run_driver(root, source, attempts, kill_after=rng.randint(0, most), extra_delay=rng.uniform(0, 0.04)):
            landed += 1
            continue
        assert_exact(root, source, mode, attempts)
        root, attempts = new_root(), Attempts()
    source.with_batch_size(rng.choice(sizes))
    run_driver(root, source, attempts, kill_after=None, extra_delay=0)
    assert_exact(root, source, mode, attempts)
    return landed


def roots(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> Callable[[], LakehouseRoot]:
    made = iter(range(1_000))

    def new_root() -> LakehouseRoot:
        folder = tmp_path / f"round-{next(made)}"
        folder.mkdir()
        return lakehouse_root(request, folder, kind)

    return new_root


# --- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "kills", "seed"), [("append", 12, 11), ("merge", 6, 12), ("full_refresh", 6, 13)])
def test_sigkilled_local_loads_leave_bronze_exact(
    request: pytest.FixtureRequest, tmp_path: Path, mode: str, kills: int, seed: int
) -> None:
    """24 kills in all on a local root, across append, merge and full refresh."""
    source = make_source(tmp_path, mode)
    assert crash_and_recover(roots(request, tmp_path, "local"), source, mode, kills, seed) == kills


@pytest.mark.s3
def test_sigkilled_s3_loads_leave_bronze_exact(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source = make_source(tmp_path, "append")
    assert crash_and_recover(roots(request, tmp_path, "s3"), source, "append", 6, 21) == 6


# --- PostgreSQL and MariaDB ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crash_postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    postgres_server.create_database("crash_db", owner="crash_loader", owner_password=PASSWORD)
    yield postgres_server
    postgres_server.drop_database("crash_db", owner="crash_loader")


@pytest.fixture(scope="module")
def crash_mariadb(mariadb_server: MariaDbServer) -> Iterator[MariaDbServer]:
    mariadb_server.create_database("crash_db", owner="crash_loader", owner_password=PASSWORD)
    yield mariadb_server
    mariadb_server.drop_database("crash_db", owner="crash_loader")


def postgres_items(server: PostgresServer) -> str:
    import adbc_driver_postgresql.dbapi as dbapi

    table = f"items_{uuid.uuid4().hex[:8]}"
    uri = server.uri("crash_db", "crash_loader", PASSWORD)
    with dbapi.connect(uri, autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute(f"create table {table} (item_id bigint, value int, name text, updated_at timestamptz)")
        for key, value, name in sql_rows():
            when = f"timestamptz '2026-01-01' + {value if key is None else key} * interval '1 second'"
            cursor.execute(f"insert into {table} values ({'null' if key is None else key}, {value}, '{name}', {when})")
    return f"public.{table}"


def mariadb_items(server: MariaDbServer) -> str:
    import pymysql

    table = f"items_{uuid.uuid4().hex[:8]}"
    with pymysql.connect(
        host="127.0.0.1", port=server.port, user="crash_loader", password=PASSWORD, database="crash_db"
    ) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                f"create table {table} (item_id bigint, value int, name varchar(40), updated_at datetime(6))"
            )
            start = datetime(2026, 1, 1)
            rows = [(key, value, name, start + timedelta(seconds=key or value)) for key, value, name in sql_rows()]
            cursor.executemany(f"insert into {table} values (%s, %s, %s, %s)", rows)
        connection.commit()
    return table


@pytest.mark.parametrize(("mode", "kills", "seed"), [("append", 4, 31), ("merge", 3, 32)])
def test_sigkilled_postgres_loads_leave_bronze_quarantine_and_ledger_exact(
    request: pytest.FixtureRequest, tmp_path: Path, crash_postgres: PostgresServer, mode: str, kills: int, seed: int
) -> None:
    options = {"host": "127.0.0.1", "port": crash_postgres.port, "database": "crash_db", "user": "crash_loader"}
    options |= {"password": PASSWORD, "parallel": 2}
    source = sql_source(tmp_path, "postgres", options, postgres_items(crash_postgres), mode)
    assert crash_and_recover(roots(request, tmp_path, "local"), source, mode, kills, seed, most=10) == kills


@pytest.mark.parametrize(("mode", "kills", "seed"), [("append", 3, 41), ("merge", 3, 42)])
def test_sigkilled_mariadb_loads_leave_bronze_quarantine_and_ledger_exact(
    request: pytest.FixtureRequest, tmp_path: Path, crash_mariadb: MariaDbServer, mode: str, kills: int, seed: int
) -> None:
    options = {"host": "127.0.0.1", "port": crash_mariadb.port, "database": "crash_db", "user": "crash_loader"}
    options |= {"password": PASSWORD, "flavor": "mariadb", "parallel": 2}
    source = sql_source(tmp_path, "mysql", options, mariadb_items(crash_mariadb), mode)
    assert crash_and_recover(roots(request, tmp_path, "local"), source, mode, kills, seed, most=10) == kills
