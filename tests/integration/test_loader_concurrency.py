"""Two loads of the same stream at once, on a local folder and on S3: no batch is ever committed twice.

The first test makes the race certain: both loads read the stream's state, then wait for each other
before committing their first batch, so both try to commit batch 1. Exactly one wins; the other stops
with a LoadConflictError and says so in the ledger. The second test races two whole processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from lakehouse.core.storage import LakehouseRoot
from loaders.core.delta import LoadConflictError
from loaders.core.protocol import Batch, Stream
from loaders.core.result import StreamResult
from loaders.pipeline import load_source, load_stream
from loaders.registry import build_source
from tests.helpers.loader_io import (
    DRIVER_COMMAND,
    PROJECT_DIR,
    bronze_rows,
    ledger_rows,
    source_config,
    write_csv,
    write_source,
)

ROWS = 3_000


def items(tmp_path: Path, batch_rows: int) -> Path:
    rows = [(i, f"v{i}") for i in range(ROWS)]
    for part in range(3):
        chunk = rows[part * ROWS // 3 : (part + 1) * ROWS // 3]
        write_csv(tmp_path / "data" / "items" / f"{part}.csv", ["item_id", "value"], chunk)
    return write_source(tmp_path, [{"name": "items", "primary_key": ["item_id"], "batch_rows": batch_rows}])


class Rendezvous:
    """A stream that waits for the other load before handing over its first batch."""

    def __init__(self, inner: Stream, barrier: threading.Barrier) -> None:
        self.inner, self.config, self.barrier = inner, inner.config, barrier

    def read(self, cursor: str | None) -> Iterator[Batch]:
        for index, batch in enumerate(self.inner.read(cursor)):
            if index == 0:
                self.barrier.wait(timeout=60)
            yield batch


def assert_exactly_once(root: LakehouseRoot) -> None:
    counts = Counter(row["item_id"] for row in bronze_rows(root, "src", "items"))
    assert [key for key, n in counts.items() if n > 1] == []
    assert sorted(counts) == list(range(ROWS))


def test_two_loads_racing_for_the_same_batch(root: LakehouseRoot, tmp_path: Path) -> None:
    config = source_config(items(tmp_path, batch_rows=200))
    barrier = threading.Barrier(2)
    outcomes: list[StreamResult | Exception] = []

    def load() -> None:
        stream = Rendezvous(build_source(config).streams()[0], barrier)
        try:
            outcomes.append(load_stream(root, "src", stream))
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if isinstance(o, StreamResult)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], LoadConflictError)
    assert re.search(
        r"another load .* committed batch \d+ while this load .* was about to commit batch 1", losers[0].cause
    )
    assert "one load per stream" in losers[0].fix
    assert winners[0].rows == ROWS
    assert_exactly_once(root)
    statuses = sorted(e["status"] for e in ledger_rows(root))
    assert statuses == ["failed", "success"]
    [again] = load_source(root, config)  # and the stream's state is intact
    assert again.rows_read == 0


def test_two_processes_loading_the_same_stream(root: LakehouseRoot, tmp_path: Path) -> None:
    path = items(tmp_path, batch_rows=50)
    command = [*DRIVER_COMMAND, "--root", root.uri, "--source-file", str(path)]
    children = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(), cwd=PROJECT_DIR
        )
        for _ in range(2)
    ]
    outputs = [child.communicate()[0] for child in children]
    finished = [out.strip().splitlines()[-1] for out in outputs]
    assert all(last == "done" or last.startswith("error LoadConflictError") for last in finished), outputs
    subprocess.run(command, check=True, capture_output=True, env=os.environ.copy())  # completes whatever stopped
    assert_exactly_once(root)
