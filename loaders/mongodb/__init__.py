"""MongoDB sources (`type: mongodb`, pymongo): full loads over parallel `_id` ranges, then changes.

A stream is one collection. Its cursor (in the Delta commit, like every stream's) is a small JSON
document with a `phase`:

- `full`: the first load (and every full refresh) reads the collection in `parallel` ranges of
  `_id` (boundaries from the sorted `_id`s), each range in `_id` order, `batch_rows` documents per
  batch; the cursor records how far every range got, so a killed load resumes each range where its
  last committed batch ended. Before reading, it notes where changes start from: the change
  stream's resume token, or the largest `cursor_field` value.
- `changes`: a change stream (`watch`, full documents looked up), resumed from its token; every
  event becomes a row with `_op` (insert, update, delete). Used when `change_stream` is `auto`
  (default) and the server supports change streams (a replica set or sharded cluster); otherwise
- `field`: documents whose `cursor_field` (an update time) is greater than the last one loaded,
  in (`cursor_field`, `_id`) order so that equal values never split a page, or, without a
  `cursor_field`, documents with a greater `_id` (new documents only).

A server without change streams (a standalone mongod, FerretDB) is detected when the stream is
opened, and the fallback is logged (`mongodb.change_stream.unsupported`).

Source options: `uri` (mongodb://USER@HOST:PORT/?...), `password` (`${ENV}` only), `database`.
Stream keys: `collection` (default: the stream's name), `batch_rows` (default 10,000),
`parallel` (ranges of a full load, default 4), `change_stream` (auto | off), `filter` (a query
document every read is restricted to).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

import pyarrow as pa
import structlog
from bson import json_util
from pydantic import BaseModel, ConfigDict, Field

from lakehouse.core.errors import ConfigError, SourceError
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.protocol import Batch
from loaders.core.retry import TransientSourceError
from loaders.mongodb.arrow import documents_to_arrow, event_to_document

log = structlog.get_logger(__name__)
BATCH_ROWS = 10_000


class MongoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uri: str
    password: str | None = None
    database: str
    timeout_s: float = 20.0


class MongoStreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collection: str | None = None
    batch_rows: int = Field(default=BATCH_ROWS, gt=0)
    parallel: int = Field(default=4, ge=1, le=32)
    change_stream: Literal["auto", "off"] = "auto"
    filter: dict[str, Any] = Field(default_factory=dict)


def _dump(value: Any) -> str:
    return json_util.dumps(value, json_options=json_util.CANONICAL_JSON_OPTIONS)


def _load(text: str) -> Any:
    return json_util.loads(text)


class MongoStream:
    def __init__(self, source: MongoSource, config: StreamConfig) -> None:
        self.source = source
        self.config = config
        self.options = config.family_options(MongoStreamOptions)
        self.field = config.cursor_field
        self.filter = json_util.loads(json.dumps(self.options.filter))  # Extended JSON in YAML: {"$date": ...}

    @property
    def collection(self) -> Any:
        name = self.options.collection or self.config.name
        return self.source.database()[name]

    def read(self, cursor: str | None) -> Iterator[Batch]:
        state = json.loads(cursor) if cursor else None
        try:
            if state is None or state["phase"] == "full":
                yield from self._full(state)
                return
            if state["phase"] == "changes":
                yield from self._changes(state)
            else:
                yield from self._by_field(state)
        except SourceError:
            raise
        except Exception as exc:
            raise _source_error(exc) from None

    # --- full load ------------------------------------------------------------------------------

    def _full(self, state: dict[str, Any] | None) -> Iterator[Batch]:
        if state is None:
            state = {"phase": "full", "ranges": self._ranges(), "next": self._change_start()}
        ranges = state["ranges"]  # [[low, high, last_id_or_null, done]] as Extended JSON texts
        pending = [i for i, r in enumerate(ranges) if not r[3]]
        for index, documents, done in self._parallel_pages(ranges, pending):
            if documents:
                ranges[index][2] = _dump(documents[-1]["_id"])
            ranges[index][3] = done
            yield Batch(documents_to_arrow(documents), json.dumps(state))
        yield Batch(pa.table({}), json.dumps(state["next"]))  # done: the next load reads changes

    def _ranges(self) -> list[list[Any]]:
        """`parallel` ranges of `_id` with about as many documents each: [low, high) as Extended JSON."""
        count = self.collection.count_documents(self.filter)
        parts = max(1, min(self.options.parallel, count // max(1, self.options.batch_rows) + 1))
        bounds: list[Any] = []
        for part in range(1, parts):
            found = list(
                self.collection.find(self.filter, {"_id": 1}).sort("_id", 1).skip(part * count // parts).limit(1)
            )
            if found and (not bounds or found[0]["_id"] != bounds[-1]):
                bounds.append(found[0]["_id"])
        edges = [None, *bounds, None]
        return [[_dump(edges[i]), _dump(edges[i + 1]), None, False] for i in range(len(edges) - 1)]

    def _change_start(self) -> dict[str, Any]:
        """Where the changes after this full load start: a change-stream token, or the field's maximum."""
        token = self._change_stream_token()
        if token is not None:
            return {"phase": "changes", "token": _dump(token)}
        value = None
        if self.field:
            top = list(
                self.collection.find(self.filter, {self.field: 1, "_id": 1})
                .sort([(self.field, -1), ("_id", -1)])
                .limit(1)
            )
            value = [_dump(top[0].get(self.field)), _dump(top[0]["_id"])] if top else None
        elif top := list(self.collection.find(self.filter, {"_id": 1}).sort("_id", -1).limit(1)):
            value = [None, _dump(top[0]["_id"])]
        return {"phase": "field", "field": self.field, "after": value}

    def _change_stream_token(self) -> Any:
        if self.options.change_stream == "off":
            return None
        from pymongo.errors import OperationFailure

        try:
            with self.collection.watch(full_document="updateLookup") as stream:
                stream.try_next()
                return stream.resume_token
        except OperationFailure as exc:
            log.info(
                "mongodb.change_stream.unsupported",
                stream=self.config.name,
                server=self.source.where,
                reason=str(exc.details.get("errmsg", exc)) if exc.details else str(exc),
                fallback=f"cursor_field {self.field}" if self.field else "_id (new documents only)",
            )
            return None

    def _parallel_pages(self, ranges: list[list[Any]], pending: list[int]) -> Iterator[tuple[int, list[Any], bool]]:
        """Pages of every pending range, read by one thread per range, handed out as they arrive."""
        pages: queue.Queue[tuple[int, list[Any], bool] | BaseException] = queue.Queue(maxsize=2 * len(pending) or 1)
        stop = threading.Event()

        def worker(index: int) -> None:
            try:
                for documents, done in self._range_pages(*ranges[index][:3]):
                    if stop.is_set():
                        return
                    pages.put((index, documents, done))
            except BaseException as exc:  # handed to the reading thread
                pages.put(exc)

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in pending]
        for thread in threads:
            thread.start()
        remaining = len(pending)
        try:
            while remaining:
                item = pages.get()
                if isinstance(item, BaseException):
                    raise item
                remaining -= item[2]
                yield item
        finally:
            stop.set()
            while not pages.empty():
                pages.get_nowait()

    def _range_pages(self, low: str, high: str, last: str | None) -> Iterator[tuple[list[Any], bool]]:
        query = dict(self.filter)
        bounds: dict[str, Any] = {}
        if last is not None:
            bounds["$gt"] = _load(last)
        elif _load(low) is not None:
            bounds["$gte"] = _load(low)
        if _load(high) is not None:
            bounds["$lt"] = _load(high)
        while True:
            id_query = {**query, "_id": bounds} if bounds else query
            page = list(self.collection.find(id_query).sort("_id", 1).limit(self.options.batch_rows))
            done = len(page) < self.options.batch_rows
            yield page, done
            if done:
                return
            bounds = {**bounds, "$gt": page[-1]["_id"]}
            bounds.pop("$gte", None)

    # --- changes --------------------------------------------------------------------------------

    def _by_field(self, state: dict[str, Any]) -> Iterator[Batch]:
        after = state.get("after")
        while True:
            query = dict(self.filter)
            if after is not None and self.field:
                value, last_id = _load(after[0]), _load(after[1])
                query = {
                    "$and": [
                        query,
                        {"$or": [{self.field: {"$gt": value}}, {self.field: value, "_id": {"$gt": last_id}}]},
                    ]
                }
                order = [(self.field, 1), ("_id", 1)]
            elif after is not None:
                query = {**query, "_id": {"$gt": _load(after[1])}}
                order = [("_id", 1)]
            else:
                order = [(self.field, 1), ("_id", 1)] if self.field else [("_id", 1)]
            page = list(self.collection.find(query).sort(order).limit(self.options.batch_rows))
            if not page:
                return
            last = page[-1]
            after = [_dump(last.get(self.field)) if self.field else None, _dump(last["_id"])]
            yield Batch(documents_to_arrow(page), json.dumps({**state, "after": after}))
            if len(page) < self.options.batch_rows:
                return

    def _changes(self, state: dict[str, Any]) -> Iterator[Batch]:
        token = _load(state["token"])
        with self.collection.watch(full_document="updateLookup", resume_after=token) as stream:
            while True:
                documents = []
                while len(documents) < self.options.batch_rows:
                    event = stream.try_next()
                    if event is None:
                        break
                    document = event_to_document(event)
                    if document is not None:
                        documents.append(document)
                if stream.resume_token is not None:
                    state = {**state, "token": _dump(stream.resume_token)}
                if not documents:
                    yield Batch(pa.table({}), json.dumps(state))
                    return
                yield Batch(documents_to_arrow(documents), json.dumps(state))


class MongoSource:
    def __init__(self, config: SourceConfig) -> None:
        if isinstance(config.options.get("password"), str) and "${" not in config.options["password"]:
            raise ConfigError(
                f"{config.path}: key `options.password` holds a literal secret",
                "reference it instead, e.g. `password: ${MONGODB_PASSWORD}`, and set that variable",
            )
        options = config.family_options(MongoOptions)
        parts = urlsplit(options.uri)
        if parts.scheme not in ("mongodb", "mongodb+srv"):
            raise ConfigError(
                f"{config.path}: key `options.uri` must start with mongodb://", "use mongodb://USER@HOST:PORT/"
            )
        if parts.password:
            raise ConfigError(
                f"{config.path}: key `options.uri` holds a password", "remove it and set `password: ${SOME_VARIABLE}`"
            )
        self.name = config.source
        self.options = options
        self.where = urlunsplit((parts.scheme, parts.hostname or "", "", "", "")) + (
            f":{parts.port}" if parts.port else ""
        )
        self._uri = options.uri
        if parts.username and options.password:
            netloc = (
                f"{quote(parts.username, safe='')}:{quote(options.password, safe='')}@{parts.netloc.split('@')[-1]}"
            )
            self._uri = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        self._client: Any = None
        self._streams = [MongoStream(self, stream) for stream in config.streams]

    def database(self) -> Any:
        if self._client is None:
            import pymongo

            timeout = int(self.options.timeout_s * 1000)
            self._client = pymongo.MongoClient(
                self._uri, serverSelectionTimeoutMS=timeout, connectTimeoutMS=timeout, tz_aware=True
            )
        return self._client[self.options.database]

    def streams(self) -> list[MongoStream]:
        return self._streams

    def check(self) -> None:
        try:
            self.database().command("ping")
        except Exception as exc:
            raise _source_error(exc, self.where) from None


def _source_error(exc: BaseException, where: str = "the MongoDB server") -> SourceError:
    from pymongo.errors import AutoReconnect, OperationFailure, ServerSelectionTimeoutError

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OperationFailure) and exc.code in (13, 18):
        return SourceError(
            f"MongoDB refused the login: {text}", "check the user in options.uri and the password variable"
        )
    if isinstance(exc, AutoReconnect | ServerSelectionTimeoutError):
        return TransientSourceError(f"cannot reach {where}: {text}")
    return SourceError(f"MongoDB read failed: {text}", "check the collection, the filter and the server's log")


def build(config: SourceConfig) -> MongoSource:
    return MongoSource(config)
