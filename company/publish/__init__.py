"""The generator's second mode: the same company, published into real servers, for the real loaders.

`python -m company` writes every system's data as files; this package puts the batches
of such a folder (the history, then each day, in batch-name order) into the servers the project can
run: PostgreSQL (system `postgres`) and MySQL/MariaDB (system `mysql`). Tables get the real systems'
names and native types and the stream's primary key; each batch is an upsert by key plus the day's
hard deletes, committed with its line in the server's publish log, so publishing is incremental and
idempotent. `sources.py` writes the SQL loader's source files for the published tables.

One module per kind of server, each with `connect(target) -> Publisher` (see `base.Publisher`).
Event streams go to streaming servers instead (`streams.py`: one module each for `kafka`, `kinesis`
and `mqtt`, with `connect(address) -> StreamPublisher`).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from company.publish.base import Publisher, StreamReport, publish_folder
from company.publish.sources import write_loader_sources
from company.publish.target import ENGINES, Target, parse_target, password_variable

PUBLISHERS = {
    "postgres": "company.publish.postgres",
    "mysql": "company.publish.mysql",
}

__all__ = [
    "ENGINES",
    "PUBLISHERS",
    "Publisher",
    "StreamReport",
    "Target",
    "connect",
    "parse_target",
    "password_variable",
    "publish",
    "write_loader_sources",
]


def connect(target: Target) -> Publisher:
    """A connected publisher for the target's system; an unreachable server is a cause + fix."""
    return importlib.import_module(PUBLISHERS[target.system]).connect(target)


def publish(folder: Path, target: Target, *, replace: bool = False) -> list[StreamReport]:
    """Publish the target's system from a generated folder: every batch the server does not have yet."""
    publisher = connect(target)
    try:
        return publish_folder(folder, publisher, target.system, replace=replace)
    finally:
        publisher.close()
