"""`lakehouse stream SOURCE` run as a user runs it: a child process that follows its source until SIGTERM.

The Kafka, Kinesis and MQTT suites each feed their server while the command runs, wait for bronze
to catch up (`wait_for_bronze_rows`), then stop it with SIGTERM and check it exits 0 having
committed every batch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lakehouse.core.storage import LakehouseRoot
from tests.helpers.loader_io import PROJECT_DIR, bronze_exists, bronze_rows


@dataclass
class FollowedStream:
    """How the command ended, filled in once the `with` block has stopped it."""

    returncode: int | None = None
    output: str = ""


@contextmanager
def following(
    source: str, sources: Path, root: LakehouseRoot, *, batch_size: int, interval: float
) -> Iterator[FollowedStream]:
    """Run `lakehouse stream` on `source` (defined in the folder `sources`) for the `with` block, then
    SIGTERM it and wait for it to finish its batch and exit; killed if the block fails or it hangs."""
    env = {**os.environ, "LAKEHOUSE_ROOT": root.uri, "LAKEHOUSE_SOURCES": str(sources)}
    command = [sys.executable, "-c", "from lakehouse.cli import app; app()", "stream", source]
    child = subprocess.Popen(
        [*command, "--batch-size", str(batch_size), "--interval", str(interval)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ended = FollowedStream()
    try:
        yield ended
        child.send_signal(signal.SIGTERM)
        ended.output, _ = child.communicate(timeout=60)
        ended.returncode = child.returncode
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def wait_for_bronze_rows(root: LakehouseRoot, source: str, stream: str, rows: int, timeout_s: float = 60) -> None:
    """Until the stream's bronze table holds at least `rows` rows."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if bronze_exists(root, source, stream) and len(bronze_rows(root, source, stream)) >= rows:
            return
        time.sleep(0.3)
    raise AssertionError(f"bronze {source}.{stream} did not reach {rows} rows within {timeout_s:.0f}s")
