"""What every engine provides (connections that return Arrow), a small connection pool, and the
default chunk planner (key ranges in SQL).

An engine module defines a `Dialect` (SQL text) and an `Engine` (driver calls). A `Planner` splits a
load window into numbered chunks and reads one chunk as a sequence of `Piece`s. A piece whose
`position` is set is a resume point inside its chunk (BigQuery stream offsets, UNLOAD files); the
key-range planner's pieces have none, so a key-range chunk is committed whole or re-read.

Timeouts: every engine connects within `connect_timeout` and bounds each query by `statement_timeout`
(server-side where the engine has the setting; `guarded` bounds a driver that has no read timeout from
the client). `Engine.failure` names the option that ran out: a statement timeout is not retried (the
same query would run out again), a connect timeout is (the network may come back).
"""

from __future__ import annotations

import contextlib
import math
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import pyarrow as pa

from lakehouse.core.errors import LakehouseError, SourceError
from loaders.core.retry import TransientSourceError
from loaders.sql.arrow import normalize
from loaders.sql.dialect import Column, Dialect, KeyRange, TableName, Window
from loaders.sql.options import ConnectionOptions, SqlStreamOptions

EPOCH = datetime(1970, 1, 1)
# How engines report a query ended by their statement timeout (PostgreSQL/Redshift, MariaDB, MySQL,
# python-oracledb's call_timeout, Snowflake, BigQuery's job_timeout_ms).
_STATEMENT_TIMEOUT = (
    "statement timeout",
    "max_statement_time exceeded",
    "maximum statement execution time exceeded",
    "dpy-4024",
    "statement reached its statement or warehouse timeout",
    "job timed out",
)
_CONNECT_STEPS = ("connecting", "checking the connection")
_URL_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]*@")
_TRANSIENT = (
    "timeout",
    "timed out",
    "connection refused",
    "connection reset",
    "could not connect",
    "server closed the connection",
    "too many connections",
    "temporarily unavailable",
    "broken pipe",
)


class QueryTimeout(Exception):
    """A query whose answer (or next batch) did not come within the time the client allows it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer from the server within {seconds:g} s (statement timeout, enforced by the loader)")
        self.seconds = seconds


@dataclass
class ArrowResult:
    schema: pa.Schema | None  # None when the driver only knows the schema once a batch arrives
    batches: Iterator[pa.RecordBatch]


class Session(Protocol):
    def arrow(self, sql: str) -> ArrowResult: ...

    def close(self) -> None: ...


@dataclass
class Piece:
    data: pa.Table
    position: Any = None  # where this chunk resumes after this piece; None: not a resume point


@dataclass(frozen=True)
class Stats:
    rows: int
    cursor_max: Any
    now: datetime | None
    chunk_rows: int
    chunk_min: Any
    chunk_max: Any


class Engine:
    """Driver-specific half of an engine: connect, and turn driver errors into SourceErrors."""

    dialect: Dialect
    kind = "sql"

    def __init__(self, options: ConnectionOptions) -> None:
        self.options = options

    def connect(self) -> Session:
        raise NotImplementedError

    def where(self) -> str:
        """The server as error messages name it (never credentials)."""
        port = f":{self.options.port}" if self.options.port else ""
        return f"{self.kind} at {self.options.read_host()}{port}/{self.options.database or ''}"

    def secrets(self) -> list[str]:
        return [s for s in (self.options.secret(),) if s]

    def failure(self, exc: BaseException, doing: str) -> LakehouseError:
        """A driver error as a SourceError (transient ones retried by the pipeline), scrubbed of secrets."""
        if isinstance(exc, LakehouseError):
            return exc
        message = scrub(f"{type(exc).__name__}: {exc}", self.secrets())
        cause = f"{self.where()}: {doing} failed: {message}"
        lowered = message.lower()
        if isinstance(exc, QueryTimeout) or any(marker in lowered for marker in _STATEMENT_TIMEOUT):
            return self._statement_timeout(doing, message)
        if doing in _CONNECT_STEPS and ("timeout" in lowered or "timed out" in lowered):
            return self._connect_timeout(doing, message)
        if any(marker in lowered for marker in _TRANSIENT):
            return TransientSourceError(cause)
        return SourceError(cause, self.fix_for(message))

    def _statement_timeout(self, doing: str, message: str) -> SourceError:
        seconds = self.options.statement_timeout
        return SourceError(
            f"{self.where()}: {doing} ran longer than statement_timeout ({seconds:g} s) and was ended: {message}",
            "raise options.statement_timeout (seconds; 0: no limit), or make each query cheaper: a smaller "
            "`chunk_rows`, an index on the cursor and chunk columns",
        )

    def _connect_timeout(self, doing: str, message: str) -> TransientSourceError:
        seconds = self.options.connect_timeout
        return TransientSourceError(
            f"{self.where()}: {doing} failed: no answer within connect_timeout ({seconds:g} s): {message}",
            "check that the host and port are the database's and reachable from here (security group, firewall, "
            "VPN) and that the server is up; raise options.connect_timeout if the network is slow",
        )

    def fix_for(self, message: str) -> str:
        lowered = message.lower()
        # PostgreSQL's `hostssl`-only pg_hba.conf, MySQL's require_secure_transport
        if "no encryption" in lowered or "secure transport" in lowered:
            return (
                "the server accepts this user over TLS only: set options.sslmode to require, verify-ca or "
                "verify-full (with options.sslrootcert, the CA file)"
            )
        if "password" in lowered or "authentication" in lowered or "access denied" in lowered:
            return "check the user and password (options.user / options.password) and the user's grants"
        if "does not exist" in lowered or "doesn't exist" in lowered or "not found" in lowered:
            return "check the stream's `table` (schema.table) and that the loader's user can see it"
        if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
            return "check options.sslmode and options.sslrootcert (the CA file the server's certificate chains to)"
        return "check the source's options (host, port, database) and that the server is reachable"

    def columns(self, session: Session, table: TableName) -> list[Column]:
        found = read_all(session, self.dialect.columns_sql(table))
        rows = zip(*(column.to_pylist() for column in found.columns), strict=True)
        return [_column(list(row)) for row in rows]

    def planner(self, table: TableName, columns: Sequence[Column], options: SqlStreamOptions) -> Planner:
        return RangePlanner(self.dialect, table, columns, options.where)


def _column(values: list[Any]) -> Column:
    name, kind, precision, scale = values[:4]
    return Column(str(name), str(kind).lower(), _int_or_none(precision), _int_or_none(scale))


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def read_all(session: Session, sql: str) -> pa.Table:
    """A small result (catalogue rows, one stats row) as one table."""
    result = session.arrow(sql)
    batches = [normalize(batch, [], Dialect()) for batch in result.batches]
    if batches:
        return pa.Table.from_batches(batches)
    return (result.schema or pa.schema([])).empty_table()


def guarded(open_reader: Any, connect_seconds: float, statement_seconds: float | None) -> ArrowResult:
    """Run a blocking driver call (`open_reader()` -> RecordBatchReader) and its batches on a helper
    thread, for drivers with no read timeout of their own: the reader must arrive within
    connect_seconds + statement_seconds and each batch within statement_seconds, else QueryTimeout.

    A stalled call is abandoned on its (daemon) thread, which ends when the driver gives up or the
    process exits; the caller's thread is free to fail the load. No limit: the call runs inline.
    """
    if not statement_seconds:
        reader = open_reader()
        return ArrowResult(reader.schema, iter(reader))
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=2)
    stop = threading.Event()
    thread = threading.Thread(target=_produce, args=(open_reader, handoff, stop), daemon=True, name="sql-query")
    thread.start()
    reader = _take(handoff, stop, connect_seconds + statement_seconds, statement_seconds)
    return ArrowResult(reader.schema, _guarded_batches(handoff, stop, statement_seconds))


def _produce(open_reader: Any, handoff: queue.Queue[tuple[str, Any]], stop: threading.Event) -> None:
    def put(kind: str, value: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        reader = open_reader()
        if not put("value", reader):
            return
        for batch in reader:
            if not put("value", batch):
                return
        put("end", None)
    except BaseException as exc:  # handed to the caller's thread (ConnectorX panics are BaseExceptions)
        put("error", exc)


def _take(handoff: queue.Queue[tuple[str, Any]], stop: threading.Event, wait: float, statement: float) -> Any:
    try:
        kind, value = handoff.get(timeout=wait)
    except queue.Empty:
        stop.set()
        raise QueryTimeout(statement) from None
    if kind == "error":
        stop.set()
        raise value
    return StopIteration if kind == "end" else value


def _guarded_batches(
    handoff: queue.Queue[tuple[str, Any]], stop: threading.Event, statement: float
) -> Iterator[pa.RecordBatch]:
    try:
        while (batch := _take(handoff, stop, statement, statement)) is not StopIteration:
            yield batch
    finally:
        stop.set()


def first_row(table: pa.Table) -> list[Any]:
    """The first row's values by position (aggregate columns may share a name)."""
    return [column[0].as_py() for column in table.columns]


def scrub(text: str, secrets: Sequence[str]) -> str:
    text = _URL_CREDENTIALS.sub(r"\1***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class Pool:
    """Up to `size` open sessions, reused across the chunks of a load (connecting costs a round trip
    and a TLS handshake per chunk otherwise)."""

    def __init__(self, engine: Engine, size: int) -> None:
        self.engine = engine
        self.size = size
        self._idle: list[Session] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._take() or self._connect()
        try:
            yield session
        except BaseException:
            _close_quietly(session)  # a failed session may be mid-result: never reuse it
            raise
        self._give_back(session)

    def _connect(self) -> Session:
        try:
            return self.engine.connect()
        except Exception as exc:
            raise self.engine.failure(exc, "connecting") from None

    def _take(self) -> Session | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _give_back(self, session: Session) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.size:
                self._idle.append(session)
                return
        _close_quietly(session)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for session in idle:
            _close_quietly(session)


def _close_quietly(session: Session) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection may fail; nothing is left to do
        session.close()


class Planner(Protocol):
    def plan(
        self, session: Session, stats: Stats, window: Window, chunk_rows: int, chunk_column: str | None
    ) -> dict[str, Any]:
        """A JSON plan of the window's chunks; `plan["chunks"]` is how many there are."""
        ...

    def read(self, session: Session, plan: dict[str, Any], window: Window, chunk: int, start: Any) -> Iterator[Piece]:
        """The rows of chunk `chunk` (from `start` when it was left part way), as pieces."""
        ...


class RangePlanner:
    """Chunks are ranges of one column (integer, date or timestamp): `start <= column < stop`.

    The column need not be unique; the first and last ranges are open-ended, so rows inserted
    after planning are not lost, and NULLs get a chunk of their own.
    """

    def __init__(self, dialect: Dialect, table: TableName, columns: Sequence[Column], where: str | None) -> None:
        self.dialect = dialect
        self.table = table
        self.columns = list(columns)
        self.where = where

    def plan(
        self, session: Session, stats: Stats, window: Window, chunk_rows: int, chunk_column: str | None
    ) -> dict[str, Any]:
        kind = _scalar_kind(stats.chunk_min)
        if chunk_column is None or kind is None or stats.chunk_max is None:
            return {"kind": "single", "chunks": 1}
        low, high = _as_number(stats.chunk_min), _as_number(stats.chunk_max)
        wanted = max(1, math.ceil(stats.rows / chunk_rows))
        width = max(1, math.ceil((high - low + 1) / wanted))
        count = max(1, math.ceil((high - low + 1) / width))
        nulls = stats.chunk_rows < stats.rows
        plan = {"kind": "ranges", "column": chunk_column, "type": kind, "start": low, "width": width}
        return {**plan, "ranges": count, "nulls": nulls, "chunks": count + int(nulls)}

    def key_range(self, plan: dict[str, Any], chunk: int) -> KeyRange | None:
        if plan["kind"] == "single":
            return None
        if chunk == plan["ranges"]:
            return KeyRange(plan["column"], nulls=True)
        start = plan["start"] + chunk * plan["width"]
        first, last = chunk == 0, chunk == plan["ranges"] - 1
        low = None if first else _from_number(start, plan["type"])
        high = None if last else _from_number(start + plan["width"], plan["type"])
        return KeyRange(plan["column"], low, high)

    def sql(self, plan: dict[str, Any], window: Window, chunk: int) -> str:
        return self.dialect.chunk_sql(self.table, self.columns, window, self.key_range(plan, chunk), self.where)

    def read(self, session: Session, plan: dict[str, Any], window: Window, chunk: int, start: Any) -> Iterator[Piece]:
        result = session.arrow(self.sql(plan, window, chunk))
        empty = True
        for batch in result.batches:
            empty = False
            yield Piece(pa.Table.from_batches([normalize(batch, self.columns, self.dialect)]))
        if empty and result.schema is not None:
            yield Piece(self._empty(result.schema))

    def _empty(self, schema: pa.Schema) -> pa.Table:
        batch = pa.RecordBatch.from_pylist([], schema=schema)
        return pa.Table.from_batches([normalize(batch, self.columns, self.dialect)])


def _scalar_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value()):
        return "int"
    if isinstance(value, datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, date):
        return "date"
    return None


def _as_number(value: Any) -> int:
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return (naive - EPOCH) // timedelta(microseconds=1)
    if isinstance(value, date):
        return value.toordinal()
    return int(value)


def _from_number(number: int, kind: str) -> Any:
    if kind == "int":
        return number
    if kind == "date":
        return date.fromordinal(number)
    moment = EPOCH + timedelta(microseconds=number)
    return moment.replace(tzinfo=UTC) if kind == "timestamptz" else moment
