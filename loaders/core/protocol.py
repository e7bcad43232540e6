"""The small protocol every source family implements.

A `Source` has a name and a list of `Stream`s. A stream's `read(cursor)` yields `Batch`es: Arrow
data plus the cursor *after* that batch. The pipeline commits each batch with its cursor in the
same Delta commit, and on the next run hands the last committed cursor back to `read`, so a stream
only has to know how to resume from a cursor it produced itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import pyarrow as pa


class SyncMode(StrEnum):
    FULL_REFRESH = "full_refresh"  # every load replaces the table
    APPEND = "append"  # incremental by cursor; bronze keeps every version of a row
    MERGE = "merge"  # incremental, upserted on the primary key
    CDC = "cdc"  # inserts, updates and deletes, marked in `_op`


@dataclass(frozen=True)
class Batch:
    data: pa.RecordBatch | pa.Table
    cursor: str | None  # the stream's position after this batch, opaque to everyone but the stream


@dataclass
class StreamSpec:
    """What the pipeline needs to know about a stream besides its data."""

    name: str
    mode: SyncMode = SyncMode.APPEND
    primary_key: list[str] = field(default_factory=list)
    cursor_field: str | None = None


class Stream(Protocol):
    spec: StreamSpec

    def read(self, cursor: str | None) -> Iterator[Batch]:
        """Yield batches after `cursor` (None: from the beginning)."""
        ...


class Source(Protocol):
    name: str

    def streams(self) -> list[Stream]: ...

    def check(self) -> None:
        """Raise a SourceError naming the cause and the fix when the source cannot be read."""
        ...
