"""One table as a stream: a load window, chunked, read in parallel, committed chunk by chunk.

A load:

1. fixes its window: rows with `watermark <= cursor <= upper`, where `upper` is the cursor column's
   maximum when the load starts (less `lag_seconds` from the server's clock, when set). The lower bound
   is inclusive, so rows committed late with the watermark's own value are not missed; the keys already
   loaded at exactly the watermark are remembered and filtered out, so they are not loaded twice.
   When more than `max_boundary_keys` rows share the watermark, the greatest key loaded there is
   remembered instead and the window becomes `cursor > watermark OR (cursor = watermark AND key >
   top_key)`, compared by the database; that needs a single integer, decimal, date or timestamp key
   (ordered alike in Python and in SQL). An append stream whose key is anything else refuses to load
   rather than load those rows twice; a merge stream re-reads them (merging them again is harmless).
2. plans chunks (key ranges of `chunk_column`, sized by `chunk_rows`) and stores the plan in the cursor;
3. reads up to `parallel` chunks at once, each on its own pooled connection, and hands each finished
   chunk to the pipeline as one batch whose cursor lists every committed chunk. A load that stops
   half way resumes with the same window and plan and reads only the chunks not committed;
4. once every chunk is committed, `upper` becomes the watermark; with `deletes: reconcile`, a last
   batch marks the keys bronze has and the source no longer has as `_op = 'delete'`.

Full-refresh streams read the whole table (no window); incremental streams read everything on their
first load (rows with a NULL cursor included).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import structlog

from lakehouse.core.errors import ConfigError, SourceError
from loaders.core.config import StreamConfig
from loaders.core.protocol import Batch, SyncMode
from loaders.sql.arrow import normalize
from loaders.sql.dialect import Column, Dialect, Window, parse_table
from loaders.sql.engine import Engine, Piece, Planner, Pool, Stats, first_row, read_all
from loaders.sql.options import SqlStreamOptions
from loaders.sql.reconcile import BronzeKeys, check_delete_share, delete_rows, missing_keys
from loaders.sql.state import Run, SqlState

log = structlog.get_logger("loaders.sql")
OVERSIZE_FACTOR = 4  # a chunk that is not resumable part way is cut when it holds this many times chunk_rows


@dataclass
class _Event:
    chunk: int
    data: pa.Table | None = None
    position: Any = None
    final: bool = False
    keys: list[str] = field(default_factory=list)
    top: Any = None  # the greatest key at the window's upper bound in this piece (tie-break keys only)
    error: BaseException | None = None


@dataclass
class ReadStats:
    """What one stream instance sent, for tests and progress: chunk queries and rows."""

    chunks_read: int = 0
    rows_read: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, rows: int, *, chunk_done: bool) -> None:
        with self.lock:
            self.rows_read += rows
            self.chunks_read += int(chunk_done)


class SqlStream:
    def __init__(
        self,
        engine: Engine,
        config: StreamConfig,
        options: SqlStreamOptions,
        *,
        parallel: int,
        bronze_keys: BronzeKeys | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.options = options
        self.parallel = parallel
        self.table = parse_table(options.table or config.name, f"stream {config.name!r}: key `table`")
        self.bronze_keys = bronze_keys
        self.stats = ReadStats()
        self._columns: list[Column] | None = None

    # --- the protocol -----------------------------------------------------------------------

    def read(self, cursor: str | None) -> Iterator[Batch]:
        state = SqlState.load(cursor, self.config.name)
        pool = Pool(self.engine, self.parallel)
        try:
            columns = self._load_columns(pool)
            planner = self.engine.planner(self.table, columns, self.options)
            run = state.run or self._new_run(pool, state, planner)
            if run is not None:
                yield from self._read_run(pool, planner, state, run)
                state = state.finished(run)
            yield from self._maybe_reconcile(pool, state, first_load=cursor is None)
        finally:
            pool.close()

    # --- planning ---------------------------------------------------------------------------

    def _load_columns(self, pool: Pool) -> list[Column]:
        if self._columns is None:
            with pool.session() as session:
                found = self._call(lambda: self.engine.columns(session, self.table), "reading the table's columns")
            self._columns = self._selected(found)
        return self._columns

    def _selected(self, found: list[Column]) -> list[Column]:
        if not found:
            raise SourceError(
                f"{self.engine.where()}: table {self.table} not found, or the loader's user sees no columns in it",
                f"check stream {self.config.name!r}'s `table` (schema.table) and the user's SELECT grant",
            )
        if not self.options.columns:
            return found
        by_name = {column.name.lower(): column for column in found}
        missing = [name for name in self.options.columns if name.lower() not in by_name]
        if missing:
            raise ConfigError(
                f"stream {self.config.name!r}: `columns` names {', '.join(missing)}, which {self.table} does not have",
                f"use columns of {self.table}: {', '.join(c.name for c in found)}",
            )
        return [by_name[name.lower()] for name in self.options.columns]

    def column(self, name: str | None) -> str | None:
        """A configured column name as the source spells it (catalogue names may differ in case)."""
        if name is None:
            return None
        for column in self._columns or []:
            if column.name.lower() == name.lower():
                return column.name
        raise ConfigError(
            f"stream {self.config.name!r}: column {name!r} is not in {self.table}",
            f"use one of: {', '.join(c.name for c in self._columns or [])}",
        )

    @property
    def _cursor_column(self) -> str | None:
        return self.column(self.config.cursor_field) if self.config.mode != SyncMode.FULL_REFRESH else None

    def _chunk_column(self) -> str | None:
        if self.options.chunk_column:
            return self.column(self.options.chunk_column)
        if self.config.primary_key:
            return self.column(self.config.primary_key[0])
        return self._cursor_column

    def _new_run(self, pool: Pool, state: SqlState, planner: Planner) -> Run | None:
        cursor = self._cursor_column
        lower = state.watermark if cursor else None
        lower_key = state.top_key if cursor and state.tie else None
        tie = self._tie(lower_key)
        probe = Window(cursor, lower, None, include_nulls=lower is None, tie=tie)
        chunk_column = self._chunk_column()
        stats = self._stats(pool, probe, chunk_column)
        upper = self._upper(stats) if cursor else None
        if stats.rows == 0 or self._nothing_new(state, stats, upper):
            return None
        window = Window(cursor, lower, upper, include_nulls=lower is None and cursor is not None, tie=tie)
        with pool.session() as session:
            plan = self._call(
                lambda: planner.plan(session, stats, window, self.options.chunk_rows, chunk_column), "planning chunks"
            )
        run = Run(lower, upper, window.include_nulls, plan, lower_key=lower_key if tie else None)
        run.overflow = state.tie and state.same_watermark(run)  # still past the boundary's capacity
        log.info("sql.plan", stream=self.config.name, table=str(self.table), rows=stats.rows, chunks=plan["chunks"])
        return run

    def _stats(self, pool: Pool, window: Window, chunk_column: str | None) -> Stats:
        clock = bool(self.options.lag_seconds)
        sql = self.engine.dialect.stats_sql(self.table, window, chunk_column, self.options.where, clock=clock)
        with pool.session() as session:
            row = self._call(lambda: first_row(read_all(session, sql)), "planning the load")
        rows, cursor_max, now, chunk_rows, chunk_min, chunk_max = row
        return Stats(int(rows or 0), cursor_max, now, int(chunk_rows or 0), chunk_min, chunk_max)

    def _upper(self, stats: Stats) -> Any:
        upper = stats.cursor_max
        if not self.options.lag_seconds or upper is None:
            return upper
        if not isinstance(upper, datetime) or stats.now is None:
            raise ConfigError(
                f"stream {self.config.name!r}: `lag_seconds` needs a timestamp `cursor_field`, "
                f"and {self.config.cursor_field!r} holds {type(upper).__name__} values",
                "remove `lag_seconds`, or use a timestamp column as `cursor_field`",
            )
        latest = self._server_now(stats.now, naive=upper.tzinfo is None) - timedelta(seconds=self.options.lag_seconds)
        return min(upper, latest)

    def _server_now(self, now: datetime, *, naive: bool) -> datetime:
        aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        if not naive:
            return aware
        zone = ZoneInfo(getattr(self.engine.options, "timezone", "UTC"))
        return aware.astimezone(zone).replace(tzinfo=None)

    def _nothing_new(self, state: SqlState, stats: Stats, upper: Any) -> bool:
        if state.watermark is None or upper is None:
            return False
        if upper < state.watermark:
            return True
        return upper == state.watermark and stats.rows <= len(state.boundary)

    # --- reading ----------------------------------------------------------------------------

    def _read_run(self, pool: Pool, planner: Planner, state: SqlState, run: Run) -> Iterator[Batch]:
        window = Window(self._cursor_column, run.lower, run.upper, run.include_nulls, tie=self._tie(run.lower_key))
        pending = [chunk for chunk in range(run.plan["chunks"]) if not run.is_done(chunk)]
        for event in self._parallel(pool, planner, run, window, pending, state):
            self._record(run, event, state)
            complete = all(run.is_done(chunk) for chunk in range(run.plan["chunks"]))
            if not complete and (event.data is None or event.data.num_rows == 0):
                continue  # an empty chunk is marked done by the next batch's cursor
            data = event.data if event.data is not None else pa.table({})
            after = state.finished(run) if complete else replace(state, run=run)
            if complete and self.options.deletes == "reconcile" and state.reconciled_at is None:
                after.reconciled_at = _now_text()  # the first load is complete by definition
            yield Batch(data, after.dump())

    def _record(self, run: Run, event: _Event, state: SqlState) -> None:
        if event.final:
            run.mark_done(event.chunk)
        elif event.position is not None:
            run.partial[str(event.chunk)] = event.position
        if event.top is not None:
            run.top_key = event.top if run.top_key is None else max(run.top_key, event.top)
        if run.overflow:
            return
        carried = len(state.boundary) if state.same_watermark(run) else 0
        at_upper = carried + len(run.boundary) + len(event.keys)
        if at_upper <= self.options.max_boundary_keys:
            run.boundary.extend(event.keys)
            return
        if event.top is None and self.config.mode == SyncMode.APPEND:
            raise self._overflow_refused(run, at_upper)
        log.warning(
            "sql.boundary_overflow",
            stream=self.config.name,
            rows_at_watermark=at_upper,
            max_boundary_keys=self.options.max_boundary_keys,
            then="tie-break on the key" if event.top is not None else "rows at the watermark are merged again",
        )
        run.boundary = []
        run.overflow = True

    def _overflow_refused(self, run: Run, rows: int) -> ConfigError:
        keys = ", ".join(self.config.primary_key) or "every column (no primary_key)"
        return ConfigError(
            f"stream {self.config.name!r}: at least {rows} rows share the cursor value {run.upper} of "
            f"{self.config.cursor_field!r}, more than max_boundary_keys ({self.options.max_boundary_keys}); "
            f"past that the stream tells loaded rows apart by its key, and its key ({keys}) is not a single "
            "integer, decimal, date or timestamp column, so this append stream would load them twice",
            "raise the stream's `max_boundary_keys` above the most rows that share one cursor value, "
            "or use a `cursor_field` that is unique per row (or a single integer `primary_key`)",
        )

    def _parallel(
        self, pool: Pool, planner: Planner, run: Run, window: Window, chunks: Sequence[int], state: SqlState
    ) -> Iterator[_Event]:
        """Read `chunks`, `parallel` at a time; events arrive as pieces finish, in any chunk order."""
        events: queue.Queue[_Event] = queue.Queue(maxsize=self.parallel)
        stop = threading.Event()
        todo = deque(chunks)
        running: dict[int, Future[None]] = {}
        with ThreadPoolExecutor(self.parallel, thread_name_prefix=f"sql-{self.config.name}") as executor:
            try:
                while todo or running:
                    while todo and len(running) < self.parallel:
                        chunk = todo.popleft()
                        job = (pool, planner, run, window, chunk, state, events, stop)
                        running[chunk] = executor.submit(self._work, *job)
                    event = events.get()
                    if event.error is not None:
                        raise event.error
                    if event.final:
                        running.pop(event.chunk, None)
                    yield event
            finally:
                stop.set()
                _drain(events, running.values())

    def _work(
        self,
        pool: Pool,
        planner: Planner,
        run: Run,
        window: Window,
        chunk: int,
        state: SqlState,
        events: queue.Queue[_Event],
        stop: threading.Event,
    ) -> None:
        try:
            self._read_chunk(pool, planner, run, window, chunk, state, events, stop)
        except BaseException as exc:  # handed to the consumer, which raises it in the load's thread
            failure = self.engine.failure(exc, f"reading chunk {chunk} of {self.table}")
            events.put(_Event(chunk, error=failure))

    def _read_chunk(
        self,
        pool: Pool,
        planner: Planner,
        run: Run,
        window: Window,
        chunk: int,
        state: SqlState,
        events: queue.Queue[_Event],
        stop: threading.Event,
    ) -> None:
        held: list[pa.Table] = []
        keys: list[str] = []
        top: Any = None
        start = run.partial.get(str(chunk))
        with pool.session() as session:
            for piece in planner.read(session, run.plan, window, chunk, start):
                if stop.is_set():
                    return
                data = self._without_loaded(piece.data, run, state)
                keys += self._boundary_keys(data, run)
                top = _greatest(top, self._top_key(piece.data, run))  # rows already loaded count too
                held.append(data)
                if self._should_flush(held, piece):
                    events.put(_Event(chunk, _concat(held), piece.position, keys=keys, top=top))
                    self.stats.add(sum(t.num_rows for t in held), chunk_done=False)
                    held, keys, top = [], [], None
        rows = sum(t.num_rows for t in held)
        self.stats.add(rows, chunk_done=True)
        events.put(_Event(chunk, _concat(held) if held else None, final=True, keys=keys, top=top))

    def _should_flush(self, held: list[pa.Table], piece: Piece) -> bool:
        rows = sum(t.num_rows for t in held)
        if piece.position is not None:
            return rows >= self.options.chunk_rows
        if rows >= OVERSIZE_FACTOR * self.options.chunk_rows:
            log.warning(
                "sql.chunk_oversized",
                stream=self.config.name,
                rows=rows,
                hint="the chunk column is skewed; set `chunk_column` to an evenly spread column",
            )
            return True
        return False

    # --- the watermark's boundary -------------------------------------------------------------

    def _key_columns(self, data: pa.Table) -> list[str]:
        keys = [self.column(k) or k for k in self.config.primary_key]
        return keys or [name for name in data.column_names if not name.startswith("_")]

    def _at(self, data: pa.Table, value: Any) -> pa.ChunkedArray | None:
        cursor = self._cursor_column
        if cursor is None or value is None or cursor not in data.column_names or data.num_rows == 0:
            return None
        column = data[cursor]
        try:
            return pc.fill_null(pc.equal(column, pa.scalar(value, type=column.type)), False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None

    def _without_loaded(self, data: pa.Table, run: Run, state: SqlState) -> pa.Table:
        """Rows at the old watermark whose keys the previous load already committed are dropped."""
        at_lower = self._at(data, run.lower) if state.boundary else None
        if at_lower is None or not pc.any(at_lower).as_py():
            return data
        loaded = set(state.boundary)
        candidates = data.filter(at_lower)
        seen = pa.array([_key_hash(row) in loaded for row in _key_rows(candidates, self._key_columns(data))])
        drop = pa.array([False] * data.num_rows)
        drop = pc.replace_with_mask(drop, at_lower.combine_chunks(), seen)
        return data.filter(pc.invert(drop))

    def _boundary_keys(self, data: pa.Table, run: Run) -> list[str]:
        at_upper = self._at(data, run.upper)
        if at_upper is None or not pc.any(at_upper).as_py():
            return []
        return [_key_hash(row) for row in _key_rows(data.filter(at_upper), self._key_columns(data))]

    def _tie(self, key: Any) -> tuple[str, Any] | None:
        """The window's tie-break at its lower bound: (key column, greatest key loaded there)."""
        if key is None or len(self.config.primary_key) != 1:
            return None
        return self.column(self.config.primary_key[0]) or self.config.primary_key[0], key

    def _top_key(self, data: pa.Table, run: Run) -> Any:
        """The greatest key among `data`'s rows at the window's upper bound, when the key can be tie-broken."""
        if len(self.config.primary_key) != 1:
            return None
        key = self.column(self.config.primary_key[0]) or self.config.primary_key[0]
        if key not in data.column_names or not _orders_alike(data[key].type):
            return None
        at_upper = self._at(data, run.upper)
        if at_upper is None or not pc.any(at_upper).as_py():
            return None
        return pc.max(data[key].filter(at_upper)).as_py()

    # --- deletes ------------------------------------------------------------------------------

    def _maybe_reconcile(self, pool: Pool, state: SqlState, *, first_load: bool) -> Iterator[Batch]:
        if self.options.deletes != "reconcile" or first_load or not self._reconcile_due(state):
            return
        if self.bronze_keys is None:
            raise ConfigError(
                f"stream {self.config.name!r}: `deletes: reconcile` needs the bronze table's keys, and no lakehouse "
                "root is known to this source",
                "set LAKEHOUSE_ROOT (or options.lakehouse_root) to the root the pipeline loads into",
            )
        keys = [self.column(k) or k for k in self.config.primary_key]
        bronze, schema = self.bronze_keys.read(keys, append=self.config.mode == SyncMode.APPEND)
        key_columns = [c for c in self._columns or [] if c.name in keys]
        sql = self.engine.dialect.keys_sql(self.table, key_columns, self.options.where)
        with pool.session() as session:
            result = self._call(lambda: session.arrow(sql), "reading the table's keys")
            batches = (pa.Table.from_batches([normalize(b, [], Dialect())]) for b in result.batches)
            gone = self._call(lambda: missing_keys(bronze, batches, keys), "reading the table's keys")
        check_delete_share(self.config.name, gone.num_rows, bronze.num_rows, self.options.max_delete_share)
        log.info("sql.reconciled", stream=self.config.name, bronze_keys=bronze.num_rows, deleted=gone.num_rows)
        state = replace(state, reconciled_at=_now_text())
        yield Batch(delete_rows(gone, schema), state.dump())

    def _reconcile_due(self, state: SqlState) -> bool:
        if state.reconciled_at is None or self.options.reconcile_every_hours == 0:
            return True
        last = datetime.fromisoformat(state.reconciled_at)
        return datetime.now(UTC) - last >= timedelta(hours=self.options.reconcile_every_hours)

    def _call(self, action: Any, doing: str) -> Any:
        try:
            return action()
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # BaseException: ConnectorX reports some errors as a Rust panic
            raise self.engine.failure(exc, doing) from None


def _key_rows(data: pa.Table, keys: list[str]) -> list[list[Any]]:
    columns = [data[key].to_pylist() for key in keys if key in data.column_names]
    return [list(values) for values in zip(*columns, strict=True)]


def _key_hash(values: list[Any]) -> str:
    text = json.dumps(values, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _orders_alike(kind: pa.DataType) -> bool:
    """Types Python and every database order the same way (text is not: collations differ)."""
    return (
        pa.types.is_integer(kind) or pa.types.is_decimal(kind) or pa.types.is_date(kind) or pa.types.is_timestamp(kind)
    )


def _greatest(first: Any, second: Any) -> Any:
    if first is None:
        return second
    return first if second is None else max(first, second)


def _concat(tables: list[pa.Table]) -> pa.Table:
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")


def _drain(events: queue.Queue[_Event], jobs: Any) -> None:
    """Unblock workers waiting to hand over a piece, until every one has stopped."""
    pending = list(jobs)
    while any(not job.done() for job in pending):
        try:
            events.get(timeout=0.05)
        except queue.Empty:
            continue


def _now_text() -> str:
    return datetime.now(UTC).isoformat()
