"""The generator's second mode: the same company, published into real servers, for the real loaders.

`python -m company` writes every system's data as files; this package puts the batches
of such a folder (the history, then each day, in batch-name order) into the servers the project can
run: PostgreSQL (system `postgres`), MySQL/MariaDB (system `mysql`), MongoDB (system `mongodb`) and
DynamoDB (system `dynamodb`). Tables and collections get the real systems' names (and, in SQL, native
types and the stream's primary key); each batch is an upsert by key plus the day's hard deletes,
recorded in the server's publish log (in the batch's transaction, where the server has one), so
publishing is incremental and idempotent. Each publisher says what the loader's source file for its
tables holds; `sources.py` writes them.

One module per kind of server, each with `connect(...) -> Publisher` (see `base.Publisher`).
Event streams go to streaming servers instead (`streams.py`: one module each for `kafka`, `kinesis`
and `mqtt`, with `connect(address) -> StreamPublisher`), and file drops to an SFTP server (`sftp.py`).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from company.publish.base import Publisher, StreamReport, publish_folder
from company.publish.sources import write_loader_sources
from company.publish.target import ENGINES, Target, parse_target, password_variable

PUBLISHERS = {  # the servers named by a URI with a user and password (`Target`)
    "postgres": "company.publish.postgres",
    "mysql": "company.publish.mysql",
    "mongodb": "company.publish.mongodb",
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
