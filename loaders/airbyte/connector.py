"""`type: airbyte`: an Airbyte source connector from PyPI, run locally, its records straight into bronze.

    source: faker
    type: airbyte
    options:
      connector: airbyte-source-faker==7.2.1     # pinned; installed in its own venv (venv.py)
      config: {count: 500, seed: 7}              # the connector's config; values may be ${ENV} references
    streams:
      - name: users                              # bronze table name; `airbyte_stream` if the connector's differs
        primary_key: [id]
        batch_rows: 5000                         # at most this many records per commit (default 10,000)

Each bronze stream runs the connector's `read` with a configured catalog holding that one stream
(incremental when the stream supports it and the stream's `mode` is not `full_refresh`) and the
stream's last committed state. Records are batched until the connector emits a STATE message for the
stream; the batch is then committed with that state message as its cursor, in one Delta commit. A
batch cut at `batch_rows` before any STATE carries the last state plus how many records after it are
committed (`skip`); a resumed read starts from that state and drops those records again, which is
exactly once as long as the connector replays the same records after a state (Airbyte's own
checkpointing rests on the same assumption). Every row also gets `_airbyte_extracted_at`, the
record's `emitted_at`.

Airbyte's cursors are inclusive: a connector resumed from a state whose cursor is `updated_at >= T`
sends the records at `T` again, which the last load already committed. So each cursor also holds
fingerprints (primary key and cursor value) of the last `REPLAY_KEYS` records committed up to its
state; a resumed read drops the records it *starts* with whose fingerprint is among them, before
counting `skip`. This needs a primary key and a cursor field (declared or the connector's defaults) on
an incremental stream; without them the boundary records of a resumed read land again (at least once).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from lakehouse.core.errors import ConfigError, SourceError
from loaders.airbyte.protocol import MAX_SECONDS_BETWEEN_MESSAGES, ConnectorProcess
from loaders.airbyte.venv import Connector
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.protocol import Batch, SyncMode
from loaders.core.quarantine import BatchWithRejects, Rejected
from loaders.files import json_records

BATCH_ROWS = 10_000
EXTRACTED_AT = "_airbyte_extracted_at"
REPLAY_KEYS = 128  # fingerprints of the last records committed up to a state, to recognize boundary replays


class ConnectorOptions(BaseModel):
    """`options:` of an `airbyte` source."""

    model_config = ConfigDict(extra="forbid")

    connector: str | None = None  # airbyte-source-<name>==<version>, installed in its venv
    executable: str | None = None  # or a connector executable of your own (a path), speaking the protocol
    config: dict[str, Any] = Field(default_factory=dict)
    # a connector that prints nothing for this long is taken for hung, stopped, and the load fails
    max_seconds_between_messages: float = Field(default=MAX_SECONDS_BETWEEN_MESSAGES, gt=0)


class ConnectorStreamOptions(BaseModel):
    """The family's own stream keys."""

    model_config = ConfigDict(extra="forbid")

    airbyte_stream: str | None = None  # the connector's stream name, when it is not the bronze name
    namespace: str | None = None
    batch_rows: int = Field(default=BATCH_ROWS, gt=0)
    sync_mode: Literal["incremental", "full_refresh"] | None = None  # default: from `mode` and the catalog


@dataclass(frozen=True)
class ConnectorCursor:
    """The stream's last STATE message, how many records after it are already in bronze, and the
    fingerprints of the last records committed up to that state (see the module's docstring)."""

    state: dict[str, Any] | None = None
    skip: int = 0
    committed: tuple[str, ...] = ()

    def dump(self) -> str:
        data: dict[str, Any] = {"state": self.state, "skip": self.skip}
        if self.committed:
            data["committed"] = list(self.committed)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def load(cls, raw: str | None) -> ConnectorCursor:
        if raw is None:
            return cls()
        data = json.loads(raw)
        return cls(data.get("state"), int(data.get("skip", 0)), tuple(data.get("committed") or ()))


@dataclass
class _Pending:
    lines: list[bytes] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> None:
        data = record.get("data")
        row = {**data, EXTRACTED_AT: record.get("emitted_at")} if isinstance(data, dict) else data
        self.lines.append(json.dumps(row, separators=(",", ":")).encode())


class ConnectorStream:
    def __init__(self, source: ConnectorSource, config: StreamConfig) -> None:
        self.config = config
        self.options = config.family_options(ConnectorStreamOptions)
        self.source = source
        self.airbyte_name = self.options.airbyte_stream or config.name

    def read(self, cursor: str | None) -> Iterator[Batch]:
        position = ConnectorCursor.load(cursor)
        catalog = self.configured_catalog()
        fingerprint = _fingerprinter(catalog["streams"][0])
        state = [position.state] if position.state is not None else None
        last_state, seen, skip = position.state, 0, position.skip
        replayed, replaying = set(position.committed), bool(position.committed)
        tail: deque[str] = deque(position.committed, maxlen=REPLAY_KEYS)  # committed up to `last_state`
        since_state: list[str] = []  # fingerprints of the records after `last_state`
        pending = _Pending()
        for message in self.source.process.read(catalog, state):
            kind = message.get("type")
            if kind == "RECORD" and self._mine(message.get("record") or {}):
                key = fingerprint(message["record"]) if fingerprint else None
                if replaying and key is not None and key in replayed:
                    continue  # at the state's (inclusive) cursor: committed before the state
                replaying = False
                seen += 1
                if key is not None:
                    since_state.append(key)
                if seen <= skip:
                    continue  # committed by an earlier load, after the same state
                pending.add(message["record"])
                if len(pending.lines) >= self.options.batch_rows:
                    cut = ConnectorCursor(last_state, seen, tuple(tail))
                    yield from self._batches(pending, last_state, seen, cut)
                    pending = _Pending()
            elif kind == "STATE" and self._state_is_mine(message.get("state") or {}):
                new_state = _without_stats(message["state"])
                before = tuple(tail)
                tail.extend(since_state)
                if pending.lines or new_state != last_state:
                    final = ConnectorCursor(new_state, 0, tuple(tail))
                    yield from self._batches(pending, last_state, seen, final, before)
                pending, last_state, seen, skip, since_state = _Pending(), new_state, 0, 0, []
        if pending.lines:
            yield from self._batches(pending, last_state, seen, ConnectorCursor(last_state, seen, tuple(tail)))

    def _batches(
        self,
        pending: _Pending,
        state: dict[str, Any] | None,
        seen: int,
        final: ConnectorCursor,
        committed: tuple[str, ...] | None = None,
    ) -> Iterator[Batch]:
        """The pending records (the last of the `seen` after `state`) as Arrow; the last piece carries `final`.

        JSON whose types clash parses into several tables: the earlier ones carry a cursor counting the
        records after `state` up to their end (with `committed`, the fingerprints up to `state`), so
        each piece is a position a resumed read can skip to."""
        committed = final.committed if committed is None else committed
        tables, rejects = json_records(pending.lines, f"{self.source.name}.{self.config.name}")
        if not tables:
            yield BatchWithRejects(pa.table({}), final.dump(), tuple(rejects))
            return
        done = seen - len(pending.lines) + len(rejects)
        for index, table in enumerate(tables):
            done += table.num_rows
            position = final if index == len(tables) - 1 else ConnectorCursor(state, done, committed)
            attached: tuple[Rejected, ...] = tuple(rejects) if index == 0 else ()
            yield BatchWithRejects(_typed(table), position.dump(), attached)

    def _mine(self, record: dict[str, Any]) -> bool:
        return record.get("stream") == self.airbyte_name and record.get("namespace") == self.options.namespace

    def _state_is_mine(self, state: dict[str, Any]) -> bool:
        """Per-stream states name their stream; a GLOBAL or LEGACY state covers every stream."""
        if state.get("type") != "STREAM":
            return True
        descriptor = (state.get("stream") or {}).get("stream_descriptor") or {}
        return descriptor.get("name") == self.airbyte_name and descriptor.get("namespace") == self.options.namespace

    def configured_catalog(self) -> dict[str, Any]:
        stream = self.source.discovered(self.airbyte_name, self.options.namespace)
        supported = stream.get("supported_sync_modes") or ["full_refresh"]
        sync_mode = self.options.sync_mode or (
            "incremental"
            if "incremental" in supported and self.config.mode != SyncMode.FULL_REFRESH
            else "full_refresh"
        )
        if sync_mode not in supported:
            raise ConfigError(
                f"{self.config.source_file}: stream {self.config.name!r}: the connector's stream "
                f"{self.airbyte_name!r} supports {supported}, not {sync_mode}",
                "set `mode: full_refresh` (or `sync_mode: full_refresh`) for this stream",
            )
        if sync_mode == "full_refresh" and self.config.mode != SyncMode.FULL_REFRESH:
            raise ConfigError(
                f"{self.config.source_file}: stream {self.config.name!r} reads the whole stream every time "
                f"(full_refresh), but its mode is {self.config.mode.value}: every load would append it all again",
                "set `mode: full_refresh` for this stream",
            )
        configured: dict[str, Any] = {
            "stream": stream,
            "sync_mode": sync_mode,
            "destination_sync_mode": "overwrite" if sync_mode == "full_refresh" else "append",
        }
        if self.config.cursor_field and sync_mode == "incremental":
            configured["cursor_field"] = self.config.cursor_field.split(".")
        elif stream.get("default_cursor_field"):
            configured["cursor_field"] = stream["default_cursor_field"]
        if self.config.primary_key:
            configured["primary_key"] = [[key] for key in self.config.primary_key]
        return {"streams": [configured]}


def _fingerprinter(configured: dict[str, Any]) -> Callable[[dict[str, Any]], str] | None:
    """A record's primary key and cursor value, hashed; None unless the stream is incremental with both."""
    stream = configured.get("stream") or {}
    keys = configured.get("primary_key") or stream.get("source_defined_primary_key")
    cursor = configured.get("cursor_field")
    if configured.get("sync_mode") != "incremental" or not keys or not cursor:
        return None

    def fingerprint(record: dict[str, Any]) -> str:
        data = record.get("data") or {}
        value = [_at(data, path) for path in keys] + [_at(data, cursor)]
        return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]

    return fingerprint


def _at(data: Any, path: list[str]) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _without_stats(state: dict[str, Any]) -> dict[str, Any]:
    """The state without the per-message record counts the platform adds: they are not position."""
    return {key: value for key, value in state.items() if key not in ("sourceStats", "destinationStats")}


def _typed(table: pa.Table) -> pa.Table:
    """`_airbyte_extracted_at` (epoch milliseconds) as a UTC timestamp."""
    index = table.schema.get_field_index(EXTRACTED_AT)
    if index < 0 or not pa.types.is_integer(table.schema.field(index).type):
        return table
    column = table[EXTRACTED_AT].cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    return table.set_column(index, EXTRACTED_AT, column)


class ConnectorSource:
    """A connector in its venv, its config resolved; the catalog discovered once per source object."""

    def __init__(self, config: SourceConfig) -> None:
        options = config.family_options(ConnectorOptions)
        self.name = config.source
        self.path = config.path
        if (options.connector is None) == (options.executable is None):
            raise ConfigError(
                f"{config.path}: key `options.connector`: set exactly one of `connector` and `executable`",
                "use connector: airbyte-source-<name>==<version> (or executable: <path> for your own connector)",
            )
        self.connector = Connector.parse(options.connector) if options.connector else None
        self.executable = config.relative_path(options.executable) if options.executable else None
        self.label = self.connector.pin if self.connector else str(self.executable)
        self._config = options.config
        self._max_silence = options.max_seconds_between_messages
        self._process: ConnectorProcess | None = None
        self._catalog: list[dict[str, Any]] | None = None
        self._streams = [ConnectorStream(self, stream) for stream in config.streams]

    @property
    def process(self) -> ConnectorProcess:
        if self._process is None:
            executable = self.connector.require() if self.connector else self.executable
            assert executable is not None
            self._process = ConnectorProcess(
                executable, self._config, name=self.label, max_seconds_between_messages=self._max_silence
            )
        return self._process

    def streams(self) -> list[ConnectorStream]:
        return self._streams

    def check(self) -> None:
        """The connector is installed and discovers its catalog with this config (which is what every
        connector's `discover` needs the credentials for); `lakehouse airbyte check` runs `check` itself."""
        self.discovered_catalog()

    def discovered_catalog(self) -> list[dict[str, Any]]:
        if self._catalog is None:
            self._catalog = self.process.discover()
        return self._catalog

    def discovered(self, name: str, namespace: str | None) -> dict[str, Any]:
        catalog = self.discovered_catalog()
        for stream in catalog:
            if stream.get("name") == name and stream.get("namespace") == namespace:
                return stream
        known = ", ".join(sorted(str(s.get("name")) for s in catalog))
        raise SourceError(
            f"{self.path}: connector {self.label} has no stream {name!r}",
            f"use one of: {known} (set `airbyte_stream:` when the bronze name differs)",
        )


def build(config: SourceConfig) -> ConnectorSource:
    return ConnectorSource(config)
