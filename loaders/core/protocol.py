"""The small protocol every source family implements.

A `Source` has a name and a list of `Stream`s. A stream carries its `config` (the one typed
`StreamConfig` resolved from the source file: name, sync mode, keys, cursor, schema policy, and the
family's own keys, which the family validates once into its own options model with
`config.family_options(Model)`). A stream's `read(cursor)` yields `Batch`es: Arrow data plus the
cursor *after* that batch. The pipeline commits each batch with its cursor in the
same Delta commit, and on the next run hands the last committed cursor back to `read`, so a stream
only has to know how to resume from a cursor it produced itself.

Message streams may also have `follows = True` (then `read(cursor, stop=event)` reads on until the
event is set, for `lakehouse stream`) and `committed(batch)` (called after the batch's bronze commit,
e.g. to acknowledge its messages). Outside a full refresh the pipeline asks for the next batch only
after the last one is committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from loaders.core.batch import Batch, SyncMode
from loaders.core.config import StreamConfig

__all__ = ["Batch", "Source", "Stream", "SyncMode"]


class Stream(Protocol):
    config: StreamConfig

    def read(self, cursor: str | None) -> Iterator[Batch]:
        """Yield batches after `cursor` (None: from the beginning)."""
        ...


class Source(Protocol):
    name: str

    def streams(self) -> list[Stream]: ...

    def check(self) -> None:
        """Raise a SourceError naming the cause and the fix when the source cannot be read."""
        ...
