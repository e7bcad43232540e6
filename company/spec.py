"""What a projection produces: stream specs, the window it renders, and the batch it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from company.clock import day_of
from company.model import World

Record = dict[str, Any]

KINDS = ("sql", "warehouse", "nosql", "stream", "saas", "files", "iot")


@dataclass(frozen=True)
class StreamDef:
    """One stream of one system, described the way a loader needs it.

    `primary_key` and `cursor_field` are dotted paths into a record (``properties.time``); for
    DynamoDB items they name the attribute, whose value is wrapped in a type descriptor.
    """

    stream: str
    fmt: str  # parquet | jsonl | csv
    primary_key: tuple[str, ...]
    cursor_field: str | None
    frequency: str
    native_name: str
    schema: pa.Schema | None = None  # parquet only: the exact Arrow types an extractor returns
    columns: tuple[str, ...] = ()  # csv only: the header, in order
    csv_dialect: str = "unix"  # csv only: "unix" (LF) or "excel" (CRLF)


@dataclass
class ChangeSet:
    rows: list[Record] = field(default_factory=list)
    deletes: list[Record] = field(default_factory=list)


@dataclass(frozen=True)
class View:
    """The part of the world one batch shows.

    The history (`initial`) shows everything that exists at the end of its last day; an increment
    shows only what was created, changed, deleted or arrived on its one day.
    """

    world: World
    first: int
    last: int
    initial: bool

    @property
    def seed(self) -> int:
        return self.world.seed

    def day(self, ts: int) -> int:
        return day_of(self.world.start, ts)

    def shows(self, ts: int | None) -> bool:
        return ts is not None and self.first <= day_of(self.world.start, ts) <= self.last

    def arrived(self, day: int) -> bool:
        return self.first <= day <= self.last

    def changed(self, updated_ts: int) -> bool:
        """A row in the state table: the history shows every row, an increment the ones touched."""
        return self.initial or self.shows(updated_ts)


@dataclass(frozen=True)
class SystemDef:
    name: str
    kind: str
    streams: tuple[StreamDef, ...]
    project: Callable[[View], dict[str, ChangeSet]]
