"""Crash safety: loads killed with SIGKILL at random points, then re-run, leave bronze exact.

A load runs in a child process (`tests/helpers/loader_driver.py`) that prints a line per committed batch.
The test waits for a random number of those lines, waits a random few milliseconds more (so kills
land inside a commit, between the quarantine and the bronze commit, while writing Parquet...) and
SIGKILLs the child. After every kill round the load is run to completion and bronze is compared with
the source files: every primary key exactly once, nothing lost, every malformed row quarantined once.
The random delays come from a fixed seed; nothing asserts on time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakehouse.core.storage import LakehouseRoot
from tests.helpers.loaders import (
    DRIVER_COMMAND,
    PROJECT_DIR,
    bronze_rows,
    lakehouse_root,
    quarantine_rows,
    write_csv,
    write_source,
)

FILES = 6
ROWS_PER_FILE = 1_500
BATCH_ROWS = 100
MALFORMED_EVERY = 400  # a row with an extra field every 400 rows


@dataclass
class CrashSource:
    path: Path
    keys: set[int]
    latest: dict[int, int]  # key -> the value of its last version in the files
    malformed: int


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
    stream = {"name": "items", "format": "csv", "primary_key": ["item_id"], "batch_rows": BATCH_ROWS, "mode": mode}
    return CrashSource(write_source(folder, [stream]), keys, latest, malformed)


def run_driver(root: LakehouseRoot, source: CrashSource, *, kill_after: int | None, extra_delay: float) -> bool:
    """Run a load; with `kill_after`, SIGKILL it after that many committed batches. True if it was killed."""
    command = [*DRIVER_COMMAND, "--root", root.uri, "--source-file", str(source.path)]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(), cwd=PROJECT_DIR
    )
    assert child.stdout is not None
    if kill_after is None:
        output = child.stdout.read()
        assert child.wait() == 0, output
        return False
    committed, output = 0, []
    while committed < kill_after:
        line = child.stdout.readline()
        if not line:  # the load finished before the kill point
            assert child.wait() == 0, "".join(output)
            return False
        output.append(line)
        committed += line.startswith("batch ")
    time.sleep(extra_delay)  # lands the kill at a random point of the next batch
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    return child.returncode == -signal.SIGKILL


def assert_exact(root: LakehouseRoot, source: CrashSource, mode: str) -> None:
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


def crash_and_recover(
    new_root: Callable[[], LakehouseRoot], source: CrashSource, mode: str, kills: int, seed: int
) -> int:
    """Kill loads until `kills` kills landed mid-load, then run to completion and compare with the source.

    When a load slips through to the end before its kill point, bronze is checked and the rounds go
    on in a fresh root (an incremental load with nothing new to read cannot be killed mid-load).
    """
    rng = random.Random(seed)
    root, landed = new_root(), 0
    while landed < kills:
        if run_driver(root, source, kill_after=rng.randint(0, 12), extra_delay=rng.uniform(0, 0.04)):
            landed += 1
            continue
        assert_exact(root, source, mode)
        root = new_root()
    run_driver(root, source, kill_after=None, extra_delay=0)
    assert_exact(root, source, mode)
    return landed


def roots(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> Callable[[], LakehouseRoot]:
    made = iter(range(1_000))

    def new_root() -> LakehouseRoot:
        folder = tmp_path / f"round-{next(made)}"
        folder.mkdir()
        return lakehouse_root(request, folder, kind)

    return new_root


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
