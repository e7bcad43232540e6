"""Run a source's streams into bronze, batch by batch, resuming from the table's own state."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from loaders.core.bronze import BronzeTable, new_load_id
from loaders.core.config import SourceConfig
from loaders.core.protocol import Batch, Stream, SyncMode
from loaders.core.storage import LakehouseRoot
from loaders.registry import build_source


@dataclass
class StreamResult:
    source: str
    stream: str
    load_id: str
    mode: str
    rows: int = 0
    bytes: int = 0
    batches: int = 0
    seconds: float = 0.0
    cursor_before: str | None = None
    cursor_after: str | None = None
    status: str = "running"
    error: str | None = None


ProgressHook = Callable[[StreamResult], None]


def load_source(
    root: LakehouseRoot,
    config: SourceConfig,
    *,
    streams: list[str] | None = None,
    full_refresh: bool = False,
    pipeline: str = "default",
    on_batch: ProgressHook | None = None,
) -> list[StreamResult]:
    """Load the named streams (all when None) of one source; one result per stream."""
    source = build_source(config)
    source.check()
    wanted = [config.stream(name).name for name in streams] if streams else None
    return [
        load_stream(root, source.name, stream, full_refresh=full_refresh, pipeline=pipeline, on_batch=on_batch)
        for stream in source.streams()
        if wanted is None or stream.spec.name in wanted
    ]


def load_stream(
    root: LakehouseRoot,
    source_name: str,
    stream: Stream,
    *,
    full_refresh: bool = False,
    pipeline: str = "default",
    on_batch: ProgressHook | None = None,
) -> StreamResult:
    table = BronzeTable(root, source_name, stream.spec.name)
    app_id = f"{pipeline}/{source_name}/{stream.spec.name}"
    state = table.state(app_id)
    replace = full_refresh or stream.spec.mode == SyncMode.FULL_REFRESH
    result = StreamResult(
        source_name, stream.spec.name, new_load_id(), "full_refresh" if replace else stream.spec.mode.value
    )
    result.cursor_before = state.cursor
    started = time.monotonic()
    version = state.version
    first = True
    for batch in stream.read(None if replace else state.cursor):
        version += 1
        _commit(table, batch, app_id, version, result.load_id, overwrite=replace and first)
        first = False
        result.rows += batch.data.num_rows
        result.bytes += batch.data.nbytes
        result.batches += 1
        result.cursor_after = batch.cursor
        result.seconds = time.monotonic() - started
        if on_batch is not None:
            on_batch(result)
    result.seconds = time.monotonic() - started
    if result.batches == 0:
        result.cursor_after = state.cursor
    result.status = "success"
    return result


def _commit(table: BronzeTable, batch: Batch, app_id: str, version: int, load_id: str, *, overwrite: bool) -> None:
    table.commit(batch.data, app_id=app_id, version=version, cursor=batch.cursor, load_id=load_id, overwrite=overwrite)
